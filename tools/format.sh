#!/usr/bin/env bash
# Formats (or with --check, verifies) every tracked C++ source with clang-format-14.
set -euo pipefail
cd "$(dirname "$0")/.."
# Tracked files in a clone; every project source where there is no git metadata (a copied tree).
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  mapfile -t files < <(git ls-files '*.h' '*.cc')
else
  mapfile -t files < <(find src tests bench fuzz -name '*.h' -o -name '*.cc' | sort)
fi
if [ ${#files[@]} -eq 0 ]; then
  echo "format: no C++ sources found" >&2
  exit 1
fi
if [ "${1:-}" = "--check" ]; then
  clang-format --dry-run --Werror "${files[@]}"
else
  clang-format -i "${files[@]}"
fi
