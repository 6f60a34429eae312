#!/usr/bin/env bash
# System packages the project needs beside Python: Pango/HarfBuzz and fonts for WeasyPrint
# (invoice PDFs), poppler-utils (tests read the PDFs' text), Chromium + its driver (admin tests
# in a real browser), wrk (the load client of `make bench` and its smoke test). Checks for each
# and, where we may (root with apt-get), installs what is missing; otherwise says exactly what
# to install. Chromium and wrk are optional: without them the browser tests and the bench smoke
# test skip and say why.
set -euo pipefail
# Read each listing once: `cmd | grep -q` under pipefail fails when grep stops reading early.
libraries=$(ldconfig -p 2>/dev/null || true)
fonts=$(fc-list 2>/dev/null || true)
missing=()
grep -q 'libpango-1.0.so' <<<"$libraries" || missing+=(libpango-1.0-0)
grep -q 'libpangoft2-1.0.so' <<<"$libraries" || missing+=(libpangoft2-1.0-0)
grep -q 'libharfbuzz.so' <<<"$libraries" || missing+=(libharfbuzz0b)
[ -n "$fonts" ] || missing+=(fonts-dejavu-core fontconfig)
command -v pdftotext >/dev/null || missing+=(poppler-utils)
optional=()
[ -x /usr/bin/chromium ] || optional+=(chromium chromium-driver)
command -v wrk >/dev/null || optional+=(wrk)

if [ ${#missing[@]} -eq 0 ] && [ ${#optional[@]} -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null; then
  echo "system-deps: installing ${missing[*]} ${optional[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" "${optional[@]}" >/dev/null
elif [ ${#missing[@]} -gt 0 ]; then
  echo "system-deps: missing $(printf '%s ' "${missing[@]}"); install with: sudo apt-get install ${missing[*]}" >&2
  exit 1
else
  echo "system-deps: no $(printf '%s ' "${optional[@]}")- the browser or bench smoke tests will skip (sudo apt-get install ${optional[*]})" >&2
fi
