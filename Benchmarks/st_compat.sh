#!/usr/bin/env bash
# A model trained and saved by densekit loads unchanged in sentence-transformers and gives the
# same embeddings (max absolute difference, min cosine over 200 dev queries and 200 passages).
#
#   Benchmarks/st_compat.sh MODEL_DIR PATH/TO/debian-pkg
set -euo pipefail
cd "$(dirname "$0")/.."
model="${1:?usage: $0 MODEL_DIR PATH/TO/debian-pkg}"
corpus="${2:?usage: $0 MODEL_DIR PATH/TO/debian-pkg}"
out=Benchmarks/out
mkdir -p "$out"
venv="$(Benchmarks/python-env.sh)"
swift build -c release --product densekit >&2
dk="$(swift build -c release --show-bin-path)/densekit"
{ head -n 200 "$corpus/queries.dev.tsv" | cut -f2; head -n 200 "$corpus/collection.tsv" | cut -f2; } > "$out/compat.texts.txt"
"$dk" embed --model "$model" "$out/compat.texts.txt" --format npy -o "$out/compat.densekit.npy" --quiet
"$venv/bin/python" Benchmarks/st_compat.py --model "$model" --texts "$out/compat.texts.txt" --densekit "$out/compat.densekit.npy"
