#!/usr/bin/env bash
# Rebuilds corpora/debian-pkg-sample/ from the full debian-pkg corpus (MS MARCO format).
#
#   corpora/make-debian-pkg-sample.sh PATH/TO/debian-pkg
#
# Takes the first 200 dev queries, every passage relevant to them, and enough other passages
# (every 20th pid) to reach about 3,000 passages, so that the sample is a small but real
# retrieval task. Deterministic: the same input gives the same sample.
set -euo pipefail
src="${1:?usage: $0 PATH/TO/debian-pkg}"
out="$(dirname "$0")/debian-pkg-sample"
mkdir -p "$out"

head -n 200 "$src/queries.dev.tsv" > "$out/queries.dev.tsv"
awk -F'\t' 'NR == FNR { keep[$1] = 1; next } ($1 in keep)' "$out/queries.dev.tsv" "$src/qrels.dev.tsv" > "$out/qrels.dev.tsv"
awk -F'\t' '
    NR == FNR { relevant[$3] = 1; next }
    ($1 in relevant) || ($1 % 20 == 0 && filler < 2800) { if (!($1 in relevant)) filler++; print }
' "$out/qrels.dev.tsv" "$src/collection.tsv" > "$out/collection.tsv"
echo "$(wc -l < "$out/collection.tsv") passages, $(wc -l < "$out/queries.dev.tsv") queries, $(wc -l < "$out/qrels.dev.tsv") qrels" >&2
