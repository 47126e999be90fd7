#!/usr/bin/env bash
# Reranking speed, densekit against sentence-transformers, in one run on one machine.
#
#   Benchmarks/rerank-speed.sh PATH/TO/debian-pkg RUN [CE_MODEL] [RESULT.md]
#
# Pairs: the top 20 passages of the first 200 queries of RUN (an MS MARCO or TREC run of the
# dev queries, e.g. `densekit search ... -o Benchmarks/out/run.dev.tsv`), 4,000 pairs. Both
# score them with a cross-encoder (CE_MODEL; default: all-MiniLM-L6-v2 with a seeded
# classifier, made by sentence-transformers: the weights do not change the cost) at batch 32,
# max length 256, 2 threads: `densekit rerank` timed from start to end (loading the model and
# the collection included), CrossEncoder.predict timed alone (Benchmarks/st_rerank.py; loading
# and a warm-up batch excluded), so the ratio does not favour densekit. Also counts the queries
# whose reranked order is the same in both. Writes the machine, load, commands, figures and the
# ratio as JSON to RESULT.json (default Benchmarks/results/rerank-speed-DATE.json; a RESULT.md
# argument means the .json beside it), from which Benchmarks/results.py renders RESULT.md.
set -euo pipefail
usage="usage: $0 PATH/TO/debian-pkg RUN [CE_MODEL] [RESULT.md]"
corpus="$(realpath "${1:?$usage}")"
run="$(realpath "${2:?$usage}")"
model="${3:-}"
[ -n "$model" ] && model="$(realpath "$model")"
result="${4:-Benchmarks/results/rerank-speed-$(date +%Y-%m-%d).md}"
threads=2 depth=20 query_count=200
source "$(dirname "$0")/common.sh"
result="$(result_json "$result")"

if [ -z "$model" ]; then
    model="$out/ce-st-minilm"
    [ -f "$model/model.safetensors" ] || "$venv/bin/python" Benchmarks/ce_compat.py make --base "$DENSEKIT_MODEL" \
        --out "$model" --seed 42 --max-length 256 >&2
fi
# The pair set: top $depth of the first $query_count queries, as an MS MARCO run.
pairs_run="$out/rerank-speed.run.tsv"
awk -v depth=$depth -v nq=$query_count '
    { if (NF == 6) { q = $1; p = $3; r = $4 } else { q = $1; p = $2; r = $3 } }
    !(q in seen) { if (count == nq) next; seen[q] = 1; count++ }
    r <= depth { print q "\t" p "\t" r }' "$run" > "$pairs_run"
pairs=$(wc -l < "$pairs_run")

load_before="$(cut -d' ' -f1-3 /proc/loadavg)"
dk_cmd=("$dk" rerank --model "$model" --run "$pairs_run" --queries "$corpus/queries.dev.tsv" --collection "$corpus/collection.tsv"
        --depth $depth --output "$out/rerank-speed.densekit.trec" --format trec --batch-size 32 --max-length 256 --threads $threads)
st_cmd=("$venv/bin/python" Benchmarks/st_rerank.py --model "$model" --run "$pairs_run" --queries "$corpus/queries.dev.tsv"
        --collection "$corpus/collection.tsv" --depth $depth --batch-size 32 --max-length 256 --threads $threads
        --output "$out/rerank-speed.st.trec" --format trec)
start=$(date +%s.%N)
"${dk_cmd[@]}" 2> "$out/rerank-speed.densekit.log"
dk_seconds="$(python3 -c "import sys; print(round($(date +%s.%N) - $start, 2))")"
start=$(date +%s.%N)
st="$("${st_cmd[@]}" 2> "$out/rerank-speed.st.log" | tail -n 1)"
st_wall="$(python3 -c "import sys; print(round($(date +%s.%N) - $start, 2))")"
load_after="$(cut -d' ' -f1-3 /proc/loadavg)"

field() { python3 -c "import json,sys; print(round(json.loads(sys.argv[1])[sys.argv[2]], 2))" "$1" "$2"; }
dk_pps="$(python3 -c "print(round($pairs / $dk_seconds, 2))")"
st_pps="$(field "$st" pairs_per_second)"
st_wall_pps="$(python3 -c "print(round($pairs / $st_wall, 2))")"
ratio="$(python3 -c "print(round($dk_pps / $st_pps, 2))")"
wall_ratio="$(python3 -c "print(round($dk_pps / $st_wall_pps, 2))")"
# Queries whose reranked order (pids by rank) is the same in both outputs.
same="$(python3 - "$out/rerank-speed.densekit.trec" "$out/rerank-speed.st.trec" <<'PY'
import sys
def order(path):
    rows = {}
    for line in open(path):
        c = line.split()
        rows.setdefault(c[0], []).append((int(c[3]), c[2]))
    return {q: [p for _, p in sorted(r)] for q, r in rows.items()}
a, b = order(sys.argv[1]), order(sys.argv[2])
print(f"{sum(a.get(q) == b[q] for q in b)} of {len(b)}")
PY
)"

st_field() { python3 -c "import json,sys; print(json.loads(sys.argv[1])[sys.argv[2]])" "$st" "$1"; }
init="$(result_init "$result" "Reranking speed: densekit vs sentence-transformers" "$machine" "$(json_strings "${dk_cmd[*]}" "${st_cmd[*]}")" \
    "$(result_markdown "" "- date: $(date -u +%Y-%m-%dT%H:%MZ)" "- machine: $machine" "- load average before / after: $load_before / $load_after" \
        "- model: \`$model\`; torch $(st_field torch), sentence-transformers $(st_field sentence_transformers)" \
        "- pairs: top $depth of the first $query_count queries of \`$run\`: $pairs pairs, $(field "$st" mean_tokens) tokens on average after truncation at 256" \
        "- densekit: \`${dk_cmd[*]}\`" "- sentence-transformers: \`${st_cmd[*]}\`" "")" \
    "$(result_table measure measure=measure densekit=densekit sentence_transformers=sentence-transformers ratio=ratio)" \
    "$(result_markdown "" "Raw: sentence-transformers \`$st\`; densekit's stderr in \`$out/rerank-speed.densekit.log\`.")")"
result_doc "$result" "$init" \
    measure "$(json_object measure "pairs/s (batch 32, max length 256, $threads threads): densekit whole command, sentence-transformers predict() only" \
        n:densekit "$dk_pps" n:sentence_transformers "$st_pps" f:ratio "**${ratio}x**")" \
    measure "$(json_object measure seconds n:densekit "$dk_seconds" n:sentence_transformers "$(field "$st" seconds)")" \
    measure "$(json_object measure "pairs/s, whole process both" n:densekit "$dk_pps" n:sentence_transformers "$st_wall_pps" f:ratio "${wall_ratio}x")" \
    measure "$(json_object measure "queries reranked in the same order" f:densekit "$same")"
cat "$(result_md "$result")"
