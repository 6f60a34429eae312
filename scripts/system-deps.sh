#!/usr/bin/env bash
# WeasyPrint needs Pango (and its fonts) from the system. Check for them and, where we may
# (root with apt-get), install what is missing; otherwise say exactly what to install.
set -euo pipefail
missing=()
ldconfig -p 2>/dev/null | grep -q 'libpango-1.0.so' || missing+=(libpango-1.0-0)
ldconfig -p 2>/dev/null | grep -q 'libpangoft2-1.0.so' || missing+=(libpangoft2-1.0-0)
ldconfig -p 2>/dev/null | grep -q 'libharfbuzz.so' || missing+=(libharfbuzz0b)
fc-list 2>/dev/null | grep -qi . || missing+=(fonts-dejavu-core fontconfig)
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
echo "system-deps: missing for WeasyPrint: ${missing[*]}"
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
else
  echo "system-deps: install them with: sudo apt-get install ${missing[*]}" >&2
  exit 1
fi
