#!/usr/bin/env bash
# A model trained and saved by densekit loads unchanged in sentence-transformers and gives the
# same embeddings (max absolute difference, min cosine over 200 dev queries and 200 passages).
#
#   Benchmarks/st_compat.sh MODEL_DIR PATH/TO/debian-pkg
set -euo pipefail
model="$(realpath "${1:?usage: $0 MODEL_DIR PATH/TO/debian-pkg}")"
corpus="$(realpath "${2:?usage: $0 MODEL_DIR PATH/TO/debian-pkg}")"
source "$(dirname "$0")/common.sh"
{ head -n 200 "$corpus/queries.dev.tsv" | cut -f2; head -n 200 "$corpus/collection.tsv" | cut -f2; } > "$out/compat.texts.txt"
"$dk" embed --model "$model" "$out/compat.texts.txt" --format npy -o "$out/compat.densekit.npy" --quiet
"$venv/bin/python" Benchmarks/st_compat.py --model "$model" --texts "$out/compat.texts.txt" --densekit "$out/compat.densekit.npy"
