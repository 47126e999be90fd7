#!/usr/bin/env bash
# The main job, end to end, on the bundled sample corpus (corpora/debian-pkg-sample: 3,006
# Debian package descriptions, 200 dev queries with qrels): install what is missing, fetch the
# model, build densekit, build an index, search it, and score the dev queries (MRR@10).
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh
export DENSEKIT_MODEL="${DENSEKIT_MODEL:-${DENSEKIT_CACHE:-$HOME/.cache/densekit}/models/all-MiniLM-L6-v2}"
scripts/fetch-model.sh "$DENSEKIT_MODEL"
swift build -c release --product densekit >&2
densekit="$(swift build -c release --show-bin-path)/densekit"
sample=corpora/debian-pkg-sample
work="${DENSEKIT_QUICKSTART_DIR:-.build/quickstart}"
mkdir -p "$work"

# 1. Index: encode every passage into the LMDB store, then build a FAISS Flat index.
#    (Run again after an interruption and it resumes; run again when complete and it is a no-op.)
"$densekit" index build --index "$work/index" --collection "$sample/collection.tsv"

# 2. Search from the command line.
"$densekit" search --index "$work/index" -k 5 "Library for accessing the Akismet API"

# 3. Retrieve the top 100 for every dev query, and score the run against the qrels.
"$densekit" search --index "$work/index" --queries "$sample/queries.dev.tsv" -k 100 --output "$work/run.dev.tsv"
"$densekit" eval --qrels "$sample/qrels.dev.tsv" --run "$work/run.dev.tsv" --metrics MRR@10,R@10,R@100,nDCG@10
