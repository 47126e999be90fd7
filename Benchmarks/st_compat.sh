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
json="$("$venv/bin/python" Benchmarks/st_compat.py --model "$model" --texts "$out/compat.texts.txt" --densekit "$out/compat.densekit.npy")"
echo "$json"
get() { python3 -c "import json,sys; print(json.loads(sys.argv[1])[sys.argv[2]])" "$json" "$1"; }
# One row a run in Benchmarks/results/st-compat-DATE.json (rendered to its .md).
result="Benchmarks/results/st-compat-$(date +%Y-%m-%d).json"
st_version="$("$venv/bin/python" -c 'import sentence_transformers as s, torch as t; print(f"sentence-transformers {s.__version__}, torch {t.__version__}")')"
init="$(result_init "$result" "A densekit-trained model in sentence-transformers" "$machine" \
    "$(json_strings "Benchmarks/st_compat.sh MODEL_DIR PATH/TO/debian-pkg")" \
    "$(result_markdown "" "- machine: $machine" "- texts: the first 200 dev queries and the first 200 passages of debian-pkg" \
        "- densekit embeds them (\`densekit embed --format npy\`); $st_version loads the model folder and embeds them too" "")" \
    "$(result_table texts date=date model=model texts=texts max_absolute_difference:.2e="max absolute difference" min_cosine:.8f="min cosine" modules=modules)")"
result_row "$result" texts "$init" "$(json_object date "$(date -u +%Y-%m-%dT%H:%MZ)" model "$model" n:texts "$(get texts)" n:max_absolute_difference "$(get max_abs_difference)" \
    n:min_cosine "$(get min_cosine)" modules "$(python3 -c "import json,sys; print(', '.join(json.loads(sys.argv[1])['modules']))" "$json")")" > /dev/null
