#!/usr/bin/env bash
# The search page in a real browser: headless Chromium (Debian's package) opens
# http://127.0.0.1:PORT/?q=QUERY, which runs the search, and saves a screenshot
# (docs/serve-page.png, shown in the README). The page must have drawn hits: the script checks
# the DOM Chromium dumps for them.
#
#   Benchmarks/serve_page.sh PATH/TO/INDEX [QUERY]
set -euo pipefail
index="$(realpath "${1:?usage: $0 PATH/TO/INDEX [QUERY]}")"
query="${2:-image viewer for gnome}"
source "$(dirname "$0")/common.sh"
command -v chromium > /dev/null || apt-get install -y -q chromium >&2
start_serve "$out/serve-page.log" --index "$index"
trap 'kill -TERM $server 2> /dev/null || true' EXIT
url="http://127.0.0.1:$port/?q=$(python3 -c 'import sys, urllib.parse; print(urllib.parse.quote_plus(sys.argv[1]))' "$query")&k=5"
flags=(--headless --no-sandbox --disable-gpu --hide-scrollbars --window-size=1100,1250 --virtual-time-budget=10000)
chromium "${flags[@]}" --dump-dom "$url" 2> /dev/null > "$out/serve-page.dom.html"
# Drawn hits and marks (the script's own source, also in the dump, has placeholders instead).
hits="$(grep -oE '<b>[0-9]+\.</b>' "$out/serve-page.dom.html" | wc -l)"
marks="$(grep -oE '<mark>[[:alnum:]]' "$out/serve-page.dom.html" | wc -l)"
echo "serve_page: the page drew $hits hits with $marks highlighted words" >&2
[ "$hits" -gt 0 ] && [ "$marks" -gt 0 ]
chromium "${flags[@]}" --screenshot="$PWD/docs/serve-page.png" "$url" 2> /dev/null
echo "serve_page: docs/serve-page.png ($(chromium --version))" >&2
