#!/usr/bin/env bash
# Extract the portal's translatable text and merge it into the catalogs (zh_CN, en).
# New messages arrive untranslated in zh_CN; the catalog test fails until they are translated.
set -euo pipefail
cd "$(dirname "$0")/.."
pot="$(mktemp --suffix=.pot)"
trap 'rm -f "$pot"' EXIT
pybabel extract -F babel.cfg --no-default-keywords -k t -k N_ --no-location --sort-output \
    --omit-header -o "$pot" .
pybabel update -i "$pot" -d open_portal/locale -D messages --no-fuzzy-matching \
    --ignore-obsolete --no-wrap --ignore-pot-creation-date
