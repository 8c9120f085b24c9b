#!/usr/bin/env bash
# clang-tidy (checks in .clang-tidy) on every project .cc file of a configured build, 2 in
# parallel; any finding fails. Results of clean files are cached under build/<preset>/tidy-cache/,
# keyed by the file, the project headers it includes (from the last build's dependency
# information, else from the compiler's -MM), its compile command, .clang-tidy and the clang-tidy
# version, so a second run only re-checks what changed. Best run after building (./dev test does):
# then the header lists come from ninja for free.
#
#   tools/tidy.sh [--preset dev] [--jobs 2] [--no-cache] [--shipped] [FILE...]
#     FILE: limit to these .cc files; --shipped: only the code that ships in the binary (not the
#     tests, test support or benchmarks: what ./dev test checks, to keep a cold CI run short)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
preset=dev
jobs=2
use_cache=1
shipped=0
only=()
while [ $# -gt 0 ]; do
  case "$1" in
    --preset) preset=$2; shift 2 ;;
    --jobs) jobs=$2; shift 2 ;;
    --no-cache) use_cache=0; shift ;;
    --shipped) shipped=1; shift ;;
    -h|--help) sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) only+=("$(realpath "$1")"); shift ;;
  esac
done
build="build/$preset"
db="$build/compile_commands.json"
tidy=$(command -v clang-tidy-14 || command -v clang-tidy || true)
if [ -z "$tidy" ]; then
  echo "tidy: clang-tidy-14 is not installed (apt-get install clang-tidy-14)" >&2
  exit 2
fi
if [ ! -f "$db" ]; then
  echo "tidy: no $db; configure and build first: cmake --preset $preset && cmake --build --preset $preset" >&2
  exit 2
fi
cache="$build/tidy-cache"
mkdir -p "$cache"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# "file<TAB>object<TAB>command" for project sources: src/, tests/, bench/ (not the generated
# sources in build/, not src/asio/, which only compiles Boost's own implementation files).
awk -v root="$root/" -v shipped="$shipped" '
  /"command":/ { command = $0; sub(/^ *"command": *"/, "", command); sub(/",? *$/, "", command) }
  /"file":/ {
    file = $0; sub(/^ *"file": *"/, "", file); sub(/",? *$/, "", file)
    object = command; sub(/.* -o /, "", object); sub(/ .*/, "", object)
    rel = substr(file, length(root) + 1)
    if (index(file, root) != 1 || rel !~ /^(src|tests|bench)\// || rel ~ /^src\/asio\//) next
    if (shipped && (rel ~ /^(tests|bench)\// || rel ~ /_test\.cc$/)) next
    print file "\t" object "\t" command
  }' "$db" | sort > "$work/units"
if [ ${#only[@]} -gt 0 ]; then
  printf '%s\n' "${only[@]}" | sort > "$work/only"
  awk -F'\t' 'NR == FNR { keep[$1] = 1; next } keep[$1]' "$work/only" "$work/units" > "$work/units.only"
  mv "$work/units.only" "$work/units"
fi
total=$(wc -l < "$work/units")
if [ "$total" -eq 0 ]; then
  echo "tidy: no project files in $db" >&2
  exit 2
fi

# Project headers each object included at the last build (ninja's dependency log).
(cd "$build" && ninja -t deps 2>/dev/null) | awk -v build="$root/$build/" -v root="$root/" '
  /^[^ ]/ { object = $1; sub(/:$/, "", object); next }
  /^    / {
    path = $1
    if (path !~ /^\//) path = build path
    if (index(path, root) == 1 && path ~ /\.(h|hpp|inc)$/) print object "\t" path
  }' > "$work/deps" || true

global_key=$( { "$tidy" --version; cat .clang-tidy; } | sha256sum | cut -c1-64)
export root tidy cache use_cache work global_key

check_one() {
  local file=$1 object=$2 command=$3 key headers
  headers=$(awk -F'\t' -v o="$object" '$1 == o { print $2 }' "$work/deps" | sort -u)
  if [ -z "$headers" ]; then
    # Not built yet: ask the compiler which project headers the file includes (-MM: no system
    # headers), from the file's own compile command without its outputs.
    headers=$(cd "$root/build/${PRESET:-dev}" \
      && eval "$(sed -E -e 's/ -(o|MF|MT) [^ ]+/ /g' -e 's/ -MD / /' -e 's/ -c / /' <<< "$command") -MM" 2>/dev/null \
      | tr ' \\' '\n\n' | grep -E "^$root/.*\.(h|hpp|inc)$" | sort -u) || headers=""
    [ -n "$headers" ] || headers="$file"  # a file without project headers is its own key
  fi
  key=$( {
    echo "$global_key"
    echo "$command"
    sha256sum "$file"
    # shellcheck disable=SC2086
    sha256sum $headers 2>/dev/null || echo "missing header: $(date +%s%N)"  # never cached
  } | sha256sum | cut -c1-64)
  local rel=${file#"$root"/}
  if [ "$use_cache" = 1 ] && [ -f "$cache/$key" ]; then
    echo "cached $rel" > "$work/status.$key"
    return 0
  fi
  local out rc=0
  # Compiler warnings are the compiler's business (GCC, -Werror): clang-tidy parses with clang,
  # which does not know some GCC warning flags.
  out=$("$tidy" -p "$root/build/${PRESET:-dev}" --quiet \
          --extra-arg=-Wno-unknown-warning-option --extra-arg=-Wno-error \
          "$file" 2>&1) || rc=$?
  if [ "$rc" -eq 0 ] && ! grep -qE '(warning|error):' <<< "$out"; then
    : > "$cache/$key"
    echo "clean $rel" > "$work/status.$key"
    return 0
  fi
  printf '%s\n' "$out" | grep -vE '^[0-9]+ warnings?( and [0-9]+ errors?)? generated\.$|^Suppressed [0-9]+ warnings|^Use -header-filter|^Error while processing' \
    > "$work/findings.$key" || true
  echo "FINDINGS $rel" > "$work/status.$key"
  return 0
}
export -f check_one
export PRESET=$preset

start=$(date +%s)
echo "tidy: $total files, $jobs in parallel ($(basename "$tidy"), cache $cache)"
while IFS=$'\t' read -r file object command; do
  printf '%s\0%s\0%s\0' "$file" "$object" "$command"
done < "$work/units" | xargs -0 -n 3 -P "$jobs" bash -c 'check_one "$@"' _

cached=$(cat "$work"/status.* 2>/dev/null | grep -c '^cached' || true)
bad=$(cat "$work"/status.* 2>/dev/null | grep '^FINDINGS' | sort || true)
elapsed=$(( $(date +%s) - start ))
if [ -n "$bad" ]; then
  # A header's finding shows once per file that includes it: print each distinct finding once.
  cat "$work"/findings.* | awk '/(warning|error):/ { if (seen[$0]++) { skip = 1; next } skip = 0 } !skip' 
  echo
  echo "$bad"
  echo "tidy: findings in $(grep -c . <<< "$bad") of $total files (${elapsed}s, $cached cached)" >&2
  exit 1
fi
echo "tidy: OK, $total files clean (${elapsed}s, $cached from cache)"
