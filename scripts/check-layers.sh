#!/usr/bin/env bash
# Lists every project include that crosses a layer the wrong way (docs/design.md "Layers") and
# exits 1 when there is one; prints nothing and exits 0 when the layering holds. Run by .ci/run.
#   domain/  <-  files/, rules/  <-  inbox/, outbox/  <-  engine/  <-  engine/app/
set -euo pipefail
cd "$(dirname "$0")/.."

# folder: the project folders its sources may include (besides itself)
declare -A allowed=(
  [domain]=""
  [files]="domain"
  [rules]="domain"
  [inbox]="domain files"
  [outbox]="domain files"
  [engine]="domain files rules inbox outbox"
  [engine/app]="domain files rules inbox outbox engine"
)
layer_of() {  # the layer of a path inside the project (engine/app/x.hpp -> engine/app)
  case "$1" in
    engine/app/*) echo engine/app ;;
    */*) echo "${1%%/*}" ;;
    *) echo "" ;;
  esac
}

status=0
for folder in domain files rules inbox outbox engine engine/app; do
  while IFS= read -r -d '' source; do
    [ "$(layer_of "$source")" = "$folder" ] || continue
    while IFS= read -r line; do
      target=$(sed -E 's/^#include "([^"]+)".*/\1/' <<<"$line")
      layer=$(layer_of "$target")
      [ -n "$layer" ] && [ -n "${allowed[$layer]+x}" ] || continue  # not one of our folders
      [ "$layer" = "$folder" ] && continue
      if ! grep -qw -- "$layer" <<<"${allowed[$folder]}"; then
        echo "$source: $folder may not include $target ($layer)"
        status=1
      fi
    done < <(grep -E '^#include "' "$source" || true)
  done < <(find "$folder" -maxdepth 2 -type f \( -name '*.cpp' -o -name '*.hpp' \) -print0)
done
exit $status
