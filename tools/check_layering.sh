#!/usr/bin/env bash
# Layering check: every module (src/<module>/, one static library) may include and link only the
# modules its row in ARCHITECTURE.md's module table lists under "May depend on" ("everything" for
# app). Fails naming file, line and the forbidden edge. Test code may include anything: tests/
# and the unit tests inside src/<module>/ (*_test.cc, not part of the library; they use e.g.
# http::Server as a fake peer).
#
# tools/layering_exceptions.txt lists known violations ("<file> -> <module>  # why"): each is
# debt to remove, and a listed edge that no longer occurs fails too, so the list stays current.
#
#   tools/check_layering.sh [ROOT]   ROOT defaults to the repository; tools/check_layering_test.sh
#                                    runs it on temporary trees.
# Checks two things: `#include "<module>/..."` in src/<module>/**.{h,cc}, and the keybridge_<module>
# libraries named in target_link_libraries(keybridge_<module> ...) of src/<module>/CMakeLists.txt.
set -euo pipefail
root=${1:-$(cd "$(dirname "$0")/.." && pwd)}
table="$root/ARCHITECTURE.md"
[ -f "$table" ] || { echo "check_layering: no $table" >&2; exit 2; }

# "module: allowed allowed ..." per table row; the first column is `module`, the last the list.
# An entry's first word counts if it names a module ("http (for the compiled Asio)" -> http).
rules=$(awk -F'|' '
  /^## Modules/ { in_section = 1; next }
  in_section && /^## / { in_section = 0 }
  in_section && /^\| *`[a-z0-9_]+` *\|/ {
    module = $2; gsub(/[ `]/, "", module)
    deps = $(NF - 1)
    n = split(deps, parts, ",")
    line = module ":"
    for (i = 1; i <= n; i++) {
      word = parts[i]; gsub(/`/, "", word); sub(/^ +/, "", word); sub(/[ (].*$/, "", word)
      line = line " " word
    }
    print line
  }' "$table")
if [ -z "$rules" ]; then
  echo "check_layering: found no module table (| \`module\` | purpose | may depend on |) in $table" >&2
  exit 2
fi
modules=$(printf '%s\n' "$rules" | cut -d: -f1 | tr '\n' ' ')

allowed() {  # allowed FROM TO
  local from=$1 to=$2 line
  [ "$from" = "$to" ] && return 0
  line=$(printf '%s\n' "$rules" | awk -F: -v m="$from" '$1 == m { print $2 }')
  case " $line " in
    *" everything "*|*" $to "*) return 0 ;;
  esac
  return 1
}
is_module() { case " $modules " in *" $1 "*) return 0 ;; esac; return 1; }

exceptions_file="$root/tools/layering_exceptions.txt"
exceptions=""
if [ -f "$exceptions_file" ]; then
  exceptions=$(sed -e 's/#.*//' -e 's/[[:space:]]*$//' -e '/^[[:space:]]*$/d' "$exceptions_file" \
                 | awk '{ print $1 " -> " $3 }')
fi
used_exceptions=""

failures=0
report() { echo "$1"; failures=$((failures + 1)); }

for dir in "$root"/src/*/; do
  dir=${dir%/}
  from=$(basename "$dir")
  if ! is_module "$from"; then
    report "src/$from/: not a row of the module table in ARCHITECTURE.md (add it, with what it may depend on)"
    continue
  fi
  # file:line:header of every project include ("dir/...").
  while IFS=: read -r file line header; do
    to=${header%%/*}
    is_module "$to" || continue  # support/, fakes/ (tests), third-party headers in quotes
    case "$file" in *_test.cc) continue ;; esac
    if ! allowed "$from" "$to"; then
      edge="${file#"$root"/} -> $to"
      if printf '%s\n' "$exceptions" | grep -qxF "$edge"; then
        used_exceptions+="$edge"$'\n'
        continue
      fi
      report "${file#"$root"/}:$line: #include \"$header\": $from may not depend on $to (ARCHITECTURE.md module table)"
    fi
  done < <(grep -rn --include='*.h' --include='*.cc' -E '^[[:space:]]*#[[:space:]]*include[[:space:]]+"[^"/]+/' "$dir" \
             | sed -E 's/^([^:]+):([0-9]+):[[:space:]]*#[[:space:]]*include[[:space:]]+"([^"]+)".*/\1:\2:\3/')

  # Link edges: keybridge_<module> in the library's own target_link_libraries(...) block (test
  # executables, keybridge_add_test, are not checked: they may link test support).
  cmake="$dir/CMakeLists.txt"
  [ -f "$cmake" ] || continue
  while IFS=: read -r line to; do
    is_module "$to" || continue
    if ! allowed "$from" "$to"; then
      report "${cmake#"$root"/}:$line: links keybridge_$to: $from may not depend on $to (ARCHITECTURE.md module table)"
    fi
  done < <(awk -v lib="keybridge_$from" '
    $0 ~ "target_link_libraries\\(" lib "([ )]|$)" { inside = 1; sub(".*target_link_libraries\\(" lib, "") }
    inside {
      text = $0; sub(/#.*/, "", text)
      while (match(text, /keybridge_[a-z0-9_]+/)) {
        print NR ":" substr(text, RSTART + 10, RLENGTH - 10)
        text = substr(text, RSTART + RLENGTH)
      }
      if ($0 ~ /\)/) inside = 0
    }' "$cmake")
done

while IFS= read -r edge; do
  [ -n "$edge" ] || continue
  if ! printf '%s' "$used_exceptions" | grep -qxF "$edge"; then
    report "tools/layering_exceptions.txt: '$edge' no longer occurs: remove the line"
  fi
done <<< "$exceptions"

if [ "$failures" -gt 0 ]; then
  echo "check_layering: $failures problem(s); fix the include or link, or change the table in ARCHITECTURE.md" >&2
  exit 1
fi
echo "check_layering: OK ($(printf '%s\n' "$rules" | wc -l) modules, includes and library links follow ARCHITECTURE.md)"
