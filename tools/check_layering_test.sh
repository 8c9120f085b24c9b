#!/usr/bin/env bash
# Self-test of tools/check_layering.sh on temporary trees: a clean tree passes; a forbidden
# include, a forbidden link, a directory missing from the table and a stale exception each fail,
# naming file, line and edge.
set -euo pipefail
check="$(cd "$(dirname "$0")" && pwd)/check_layering.sh"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failed=0

make_tree() {
  rm -rf "$work/tree"
  mkdir -p "$work/tree/src/low" "$work/tree/src/high" "$work/tree/tools"
  cat > "$work/tree/ARCHITECTURE.md" <<'MD'
# Test
## Modules (one directory = one static library)

| Module | Purpose | May depend on |
|---|---|---|
| `low` | the bottom | C++ standard library only |
| `high` | on top | low (for a reason), spdlog |

## Next section
| `ignored` | not a module row | everything |
MD
  printf '#pragma once\n' > "$work/tree/src/low/a.h"
  printf '#include "low/a.h"\n\n#include <string>\n' > "$work/tree/src/high/b.cc"
  printf '#pragma once\n' > "$work/tree/src/high/b.h"
  # Unit tests may include anything.
  printf '#include "high/b.h"\n' > "$work/tree/src/low/a_test.cc"
  printf 'add_library(keybridge_high STATIC b.cc)\ntarget_link_libraries(keybridge_high\n  PRIVATE keybridge_low)\n' \
    > "$work/tree/src/high/CMakeLists.txt"
  printf 'add_library(keybridge_low STATIC a.cc)\ntarget_link_libraries(keybridge_low PUBLIC Threads::Threads)\nkeybridge_add_test(NAME t LINK keybridge_high)\n' \
    > "$work/tree/src/low/CMakeLists.txt"
}

expect() {  # expect NAME STATUS PATTERN...: runs the check on the tree
  local name=$1 status=$2 out rc=0
  shift 2
  out=$("$check" "$work/tree" 2>&1) || rc=$?
  if [ "$rc" -ne "$status" ]; then
    echo "FAIL $name: exit $rc, expected $status; output:"; echo "$out"; failed=1; return
  fi
  for pattern in "$@"; do
    if ! grep -qF -- "$pattern" <<< "$out"; then
      echo "FAIL $name: output lacks '$pattern'; output:"; echo "$out"; failed=1; return
    fi
  done
  echo "ok   $name"
}

make_tree
expect "clean tree passes" 0 "check_layering: OK (2 modules"

make_tree
printf '#include <vector>\n\n#include "high/b.h"\n' > "$work/tree/src/low/c.cc"
expect "upward include fails" 1 'src/low/c.cc:3: #include "high/b.h": low may not depend on high'

make_tree
printf '#include "high/b.h"\n' > "$work/tree/src/low/c.cc"
printf 'src/low/c.cc -> high  # known debt\n' > "$work/tree/tools/layering_exceptions.txt"
expect "listed exception passes" 0 "check_layering: OK"

make_tree
printf 'src/low/c.cc -> high  # fixed long ago\n' > "$work/tree/tools/layering_exceptions.txt"
expect "stale exception fails" 1 "'src/low/c.cc -> high' no longer occurs"

make_tree
printf 'add_library(keybridge_low STATIC a.cc)\ntarget_link_libraries(keybridge_low\n  PUBLIC Threads::Threads\n  PRIVATE keybridge_high)\n' \
  > "$work/tree/src/low/CMakeLists.txt"
expect "upward link fails" 1 "src/low/CMakeLists.txt:4: links keybridge_high: low may not depend on high"

make_tree
mkdir -p "$work/tree/src/extra"
expect "module missing from the table fails" 1 "src/extra/: not a row of the module table"

make_tree
sed -i 's/| low (for a reason), spdlog |/| everything |/' "$work/tree/ARCHITECTURE.md"
printf '#include "high/b.h"\n' > "$work/tree/src/high/d.cc"
expect "everything allows all" 0 "check_layering: OK"

exit "$failed"
