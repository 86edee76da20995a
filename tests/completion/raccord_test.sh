#!/usr/bin/env bash
# Test of completion/raccord.bash (ctest completion_raccord): runs the completion function in bash as
# the shell does on <TAB>, with bash-completion loaded when installed and without it (the fallback),
# and checks that it offers every command and every option that `raccord --help` and
# `raccord COMMAND --help` list (and nothing they do not), every state code of domain/sheet_state.hpp
# after --etat, and file names for the file arguments.
# Usage: raccord_test.sh RACCORD_BINARY SOURCE_DIR
set -euo pipefail
if [[ ${1:-} == --cases ]]; then  # the cases, in a shell of one mode (below)
  mode=$2 binary=$3 source_dir=$4 work=$5
else
  binary=$(realpath "$1")
  source_dir=$(realpath "$2")
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  touch "$work/depot_a.xml" "$work/depot_b.xml" "$work/raccord.ini" "$work/bundle.p7b"
  modes=(without)
  if [[ -f /usr/share/bash-completion/bash_completion ]]; then modes+=(with); else
    echo "bash-completion absent : seulement le mode sans bash-completion"
  fi
  status=0
  # One shell per mode, which loads bash-completion (or not) and the completion once.
  for mode in "${modes[@]}"; do bash "$0" --cases "$mode" "$binary" "$source_dir" "$work" || status=1; done
  exit $status
fi
completion=$source_dir/completion/raccord.bash
failures=0
# shellcheck disable=SC1091
if [[ $mode == with ]]; then source /usr/share/bash-completion/bash_completion; fi
# shellcheck disable=SC1090
source "$completion"
cd "$work"

# The words offered for the command line $1 (the cursor at its end; a trailing space starts a new
# word), sorted, one per line.
offers() {
  local line=$1
  (
    read -r -a COMP_WORDS <<<"$line"
    if [[ $line == *" " ]]; then COMP_WORDS+=(""); fi
    COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
    COMP_LINE=$line
    COMP_POINT=${#line}
    COMPREPLY=()
    _raccord raccord "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}"
    printf '%s\n' "${COMPREPLY[@]}" | sed '/^$/d' | sort -u
  )
}

expect() {  # expect MODE LINE EXPECTED-WORDS...
  local line=$1
  shift
  local got want
  got=$(offers "$line")
  want=$(printf '%s\n' "$@" | sed '/^$/d' | sort -u)
  if [[ $got != "$want" ]]; then
    echo "ÉCHEC ($mode bash-completion) « $line<TAB> » : attendu [${want//$'\n'/ }], obtenu [${got//$'\n'/ }]"
    failures=$((failures + 1))
  fi
}

# Commands of a --help text (the "Subcommands:" section) and its long options.
help_commands() { sed -n '/^Subcommands:/,$p' | sed -n 's/^  \([a-z][a-z-]*\) .*/\1/p'; }
help_options() { sed -n '/^Options:/,/^Subcommands:/p' | sed -n 's/^  \(-h,\)\{0,1\}\(--[a-z-]*\).*/\2/p'; }
# `raccord ARGS --help`, run once (kept in a file of the work directory, shared by the modes).
help_of() {
  local file="$work/.help-$*.txt"
  [[ -f $file ]] || "$binary" "$@" --help >"$file"
  cat "$file"
}

states=$(sed -n 's/.*{SheetState::[A-Za-z]*, "\([A-Z_]*\)".*/\1/p' "$source_dir/domain/sheet_state.hpp")
[[ -n $states ]] || { echo "aucun état lu dans domain/sheet_state.hpp"; exit 1; }

# The brief's cases.
expect "raccord pro" process
# shellcheck disable=SC2086
expect "raccord search --etat " $states
# shellcheck disable=SC2046
expect "raccord search --etat ENV" $(grep '^ENV' <<<"$states")
expect "raccord search --demandeur support.n1 --etat ACT" ACTIVEE
# Commands: every one of --help, and trust's two.
# shellcheck disable=SC2046
expect "raccord " $(help_of | help_commands)
# shellcheck disable=SC2046
expect "raccord --config raccord.ini " $(help_of | help_commands)
# shellcheck disable=SC2046
expect "raccord trust " $(help_of trust | help_commands)
# Options: exactly those of each command's --help.
# shellcheck disable=SC2046
expect "raccord -" $(help_of | help_options)
for command in $(help_of | help_commands); do
  [[ $command == trust ]] && continue
  # shellcheck disable=SC2046
  expect "raccord $command -" $(help_of "$command" | help_options)
done
for sub in $(help_of trust | help_commands); do
  # shellcheck disable=SC2046
  expect "raccord trust $sub -" $(help_of trust "$sub" | help_options)
done
# Values and files.
expect "raccord search --format " table csv xml
expect "raccord show VFE001 --format " text xml
expect "raccord trust audit --format x" xml
expect "raccord search --type " EDI API
expect "raccord cert bundle.p7b --protocole " PESIT SFTP AS2 API
expect "raccord check depot_" depot_a.xml depot_b.xml
expect "raccord check depot_a.xml depot_b" depot_b.xml
expect "raccord cert bun" bundle.p7b
expect "raccord --config racc" raccord.ini
expect "raccord --now 2026-" ""
expect "raccord nightly --date " ""
expect "raccord search --demandeur " ""
expect "raccord check --compte " ""
expect "raccord check --compte acme depot_" depot_a.xml depot_b.xml

if ((failures)); then
  echo "$failures cas en échec"
  exit 1
fi
echo "complétion : tous les cas passent ($mode bash-completion)"
