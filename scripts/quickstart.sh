#!/usr/bin/env bash
# The main job, end to end, on the bundled sample corpus: install what is missing, fetch the
# model, build densekit, embed 3,006 Debian package descriptions and show the nearest ones
# to a few queries.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh
export DENSEKIT_MODEL="${DENSEKIT_MODEL:-${DENSEKIT_CACHE:-$HOME/.cache/densekit}/models/all-MiniLM-L6-v2}"
scripts/fetch-model.sh "$DENSEKIT_MODEL"
swift build -c release --product densekit >&2
densekit="$(swift build -c release --show-bin-path)/densekit"

"$densekit" model info
"$densekit" nearest corpora/debian-pkg-sample/collection.tsv --tsv -k 3 \
    -q "Library for accessing the Akismet API" \
    -q "memcache client - development libraries" \
    -q "tool to convert images between formats"
