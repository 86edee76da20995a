#!/usr/bin/env bash
# The man pages cannot drift (issue 19; ctest man_pages_check, docs/CMakeLists.txt):
#  1. each built page renders with `man --warnings` and no warning at all;
#  2. raccord(1) names every command, subcommand and option that `raccord ... --help` lists;
#  3. raccord.ini(5) names every configuration key that engine/config.cpp knows (known_keys).
# Usage: check_man_pages.sh MAN_DIR RACCORD_BINARY CONFIG_CPP. Exit 0 all good, 1 a finding, 77 no man.
set -uo pipefail
man_dir=$1 raccord=$2 config_cpp=$3
command -v man >/dev/null || { echo "man is not installed: skipped"; exit 77; }
status=0
fail() { echo "FAIL: $*"; status=1; }

render() {  # the page as plain text (man strips the formatting in a pipe), lines wide enough that no
  # word is hyphenated
  MANWIDTH=1000 man -l "$1" 2>/dev/null
}

for page in raccord.1 raccord.ini.5 raccord-depot.5; do
  [ -s "$man_dir/$page" ] || { fail "$page was not built in $man_dir"; continue; }
  warnings=$(MANWIDTH=80 man --warnings=all -l "$man_dir/$page" 2>&1 >/dev/null)
  [ -z "$warnings" ] || fail "$page: man --warnings: $warnings"
done

# 2. Commands and options of --help, recursively (trust audit, trust refresh).
page1=$(render "$man_dir/raccord.1")
subcommands() {  # the subcommands listed by `raccord $* --help`
  "$raccord" "$@" --help 2>/dev/null | awk '/^Subcommands:/{on=1; next} on && /^  [a-z]/{print $1} on && /^$/{on=0}'
}
options() {  # the long options listed by `raccord $* --help`
  "$raccord" "$@" --help 2>/dev/null | grep -oE '^ +(-[a-zA-Z], )?--[a-z][a-z-]*' | grep -oE -- '--[a-z][a-z-]*'
}
check_command() {
  local opt sub
  for opt in $(options "$@"); do
    grep -qF -- "$opt" <<<"$page1" || fail "raccord.1 does not name the option $opt of 'raccord $* --help'"
  done
  for sub in $(subcommands "$@"); do
    grep -qE "(^|[^a-z-])$sub([^a-z-]|$)" <<<"$page1" || fail "raccord.1 does not name the command '$* $sub'"
    check_command "$@" "$sub"
  done
}
[ -n "$(subcommands)" ] || fail "'$raccord --help' lists no command"
check_command

# 3. Every configuration key of engine/config.cpp (the known_keys set).
page5=$(render "$man_dir/raccord.ini.5")
keys=$(sed -n '/known_keys()/,/return keys;/p' "$config_cpp" | grep -oE '"[a-z0-9_]+\.[a-z0-9_]+"' | tr -d '"' | sort -u)
[ -n "$keys" ] || fail "no configuration key found in $config_cpp"
for key in $keys; do
  grep -qF -- "$key" <<<"$page5" || fail "raccord.ini.5 does not name the key $key"
done
[ $status -eq 0 ] && echo "man pages: no warning; every command, option and key named"
exit $status
