#!/usr/bin/env bash
# clang-tidy (the Debian clang-tidy of the installed clang, 14 on Debian 12; .clang-tidy: every finding
# is an error) on the C++ sources changed since the last tidy-clean commit; run by .ci/run.
#
# What "changed" means, on a clean clone of main as in CI: the sources that differ between the commit
# recorded in scripts/tidy-clean-commit (the last commit at which every source passed) and the working
# tree, i.e. every commit since then, whatever number of merges and commits they came in, plus any
# uncommitted edit. clang-tidy costs 5 to 25 s of CPU per file here (the clang static analyzer is
# most of it), too slow for the whole tree in every run (docs/design.md "CI budget"). A changed .cpp
# is checked itself; a changed .hpp through the .cpp beside it, or, when it has none, through the
# .cpp files that include it. Diagnostics in our headers are shown (.clang-tidy HeaderFilterRegex).
# Files outside the compile database (fuzz/, bench/ without Google Benchmark) are skipped.
# When the recorded commit is not an ancestor of HEAD (a shallow clone, a rewritten history), every
# source is checked.
#
# The compile database: BUILD_DIR (default build-tidy) configured, never built, with clang++ and
# without precompiled headers (GCC's PCH flags mean nothing to clang); nothing in the tree is
# generated at build time, so configuring is enough.
#
# Usage: scripts/check-tidy.sh            the changed sources
#        scripts/check-tidy.sh --all      every source
#        scripts/check-tidy.sh --record   every source; when all pass, writes HEAD into
#                                         scripts/tidy-clean-commit (commit it: CI checks less)
#        scripts/check-tidy.sh FILE...    these files
#        scripts/check-tidy.sh --list [...]   prints the files it would check, checks nothing
# env: BUILD_DIR, JOBS (default nproc), RACCORD_TIDY_BASE (a commit to compare with instead of the
#      recorded one, e.g. origin/main for a branch).
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${BUILD_DIR:-build-tidy}
JOBS=${JOBS:-$(nproc)}
MARK=scripts/tidy-clean-commit

command -v clang-tidy >/dev/null || { echo "clang-tidy manque : lancer scripts/setup.sh" >&2; exit 2; }
CXX=clang++ cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DRACCORD_PCH=OFF >/dev/null

all_sources() { git ls-files '*.cpp'; }
list=0
if [ "${1:-}" = --list ]; then
  list=1
  shift
fi
mode=changed
case "${1:-}" in
  --all) mode=all ;;
  --record)
    mode=record
    git diff --quiet HEAD || { echo "--record : l'arbre a des modifications non commitées" >&2; exit 2; }
    ;;
  "") ;;
  *) mode=files ;;
esac

if [ "$mode" = files ]; then
  files=("$@")
elif [ "$mode" != changed ]; then
  mapfile -t files < <(all_sources)
else
  base=${RACCORD_TIDY_BASE:-$(grep -Eo '^[0-9a-f]{40}' "$MARK" 2>/dev/null || true)}
  if [ -n "$base" ] && git merge-base --is-ancestor "$base" HEAD 2>/dev/null; then
    mapfile -t changed < <({ git diff --name-only --diff-filter=d "$base" -- '*.cpp' '*.hpp'
      git ls-files --others --exclude-standard -- '*.cpp' '*.hpp'; } | sort -u)
    echo "== clang-tidy : sources modifiées depuis ${base:0:12} (${#changed[@]} fichiers .cpp/.hpp)"
  else
    echo "== clang-tidy : commit de référence ${base:-absent} hors de l'historique : toutes les sources"
    mapfile -t changed < <(all_sources)
  fi
  files=()
  for f in ${changed[@]+"${changed[@]}"}; do
    case "$f" in
      *.cpp) files+=("$f") ;;
      *.hpp)
        if [ -f "${f%.hpp}.cpp" ]; then
          files+=("${f%.hpp}.cpp")
        else
          mapfile -t users < <(git grep -l -F "#include \"$f\"" -- '*.cpp' || true)
          files+=(${users[@]+"${users[@]}"})
        fi
        ;;
    esac
  done
fi

# Only the files of the compile database (what CI builds), each once.
mapfile -t files < <(printf '%s\n' ${files[@]+"${files[@]}"} | sort -u | while read -r f; do
  [ -f "$f" ] && grep -qF "\"file\": \"$PWD/$f\"" "$BUILD_DIR/compile_commands.json" && echo "$f"; done || true)
if ((list)); then
  printf '%s\n' ${files[@]+"${files[@]}"}
  exit 0
fi
if ((${#files[@]} == 0)); then
  echo "== clang-tidy : aucune source à vérifier"
  exit 0
fi
echo "== clang-tidy : ${#files[@]} fichiers, $JOBS à la fois"

# -Wno-error: the compile flags carry -Werror for GCC; clang's own warnings are not this check's
# business (the clang-diagnostic-* checks are off in .clang-tidy), only clang-tidy's findings are.
LOG_DIR=$(mktemp -d)
trap 'rm -rf "$LOG_DIR"' EXIT
export BUILD_DIR LOG_DIR
printf '%s\n' "${files[@]}" | xargs -P "$JOBS" -I{} sh -c \
  'clang-tidy -p "$BUILD_DIR" --quiet --extra-arg=-Wno-error "$1" >"$LOG_DIR/$(echo "$1" | tr / _).log" 2>&1 \
     || echo "$1" >>"$LOG_DIR/failed"' _ {}
if [ -s "$LOG_DIR/failed" ]; then
  echo "!! clang-tidy a des remarques sur :"
  sort "$LOG_DIR/failed"
  for f in $(sort "$LOG_DIR/failed"); do cat "$LOG_DIR/$(echo "$f" | tr / _).log"; done | grep -v '^[0-9]* warnings\? generated\.$'
  exit 1
fi
echo "== clang-tidy : aucune remarque"
if [ "$mode" = record ]; then
  git rev-parse HEAD >"$MARK"
  echo "== $MARK : $(cat "$MARK") (à committer)"
fi
