#!/usr/bin/env bash
# BM25 parity and speed against bm25s 0.3.16 (lucene method, k1 1.5, b 0.75, English stop
# words, no stemmer), in the same run: dev MRR@10, R@10, R@100 of both (goal: within 0.005),
# BM25 index build time (densekit: `index rebuild --bm25` from the stored passages; bm25s:
# tokenize + index from the collection file) and query throughput (2 threads each, top 100).
# Writes Benchmarks/results/bm25-DATE.json (rendered to bm25-DATE.md by Benchmarks/results.py).
#
#   Benchmarks/bm25.sh PATH/TO/debian-pkg INDEX_DIR
#
# INDEX_DIR: an index folder of that collection (e.g. from Benchmarks/index.sh); its BM25 index
# is rebuilt in place.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
data="${1:?PATH/TO/debian-pkg}"
index="${2:?INDEX_DIR}"
result="Benchmarks/results/bm25-$(date +%Y-%m-%d).json"
load_before="$(cut -d' ' -f1-3 /proc/loadavg)"

start=$(date +%s.%N)
"$dk" index rebuild --index "$index" --bm25 >"$out/bm25.rebuild.txt" 2>/dev/null
dk_index=$(echo "$(date +%s.%N) - $start" | bc)
start=$(date +%s.%N)
"$dk" search --index "$index" --retriever bm25 --queries "$data/queries.dev.tsv" -k 100 --threads 2 -o "$out/bm25.densekit.tsv" --quiet
dk_search=$(echo "$(date +%s.%N) - $start" | bc)
ref_json="$("$venv/bin/python" Benchmarks/bm25_ref.py --collection "$data/collection.tsv" --queries "$data/queries.dev.tsv" --run "$out/bm25.bm25s.tsv" -k 100 --threads 2)"
load_after="$(cut -d' ' -f1-3 /proc/loadavg)"
queries=$(wc -l <"$data/queries.dev.tsv")

metrics() { "$dk" eval --qrels "$data/qrels.dev.tsv" --run "$1" --metrics MRR@10,R@10,R@100,nDCG@10 --json 2>/dev/null; }
dk_metrics="$(metrics "$out/bm25.densekit.tsv")"
ref_metrics="$(metrics "$out/bm25.bm25s.tsv")"
# The rows, one a line: TABLE<TAB>ROW_JSON.
python3 - "$dk_metrics" "$ref_metrics" "$ref_json" "$dk_index" "$dk_search" "$queries" >"$out/bm25.rows.tsv" <<'PY'
import json, sys
dk, ref, r = json.loads(sys.argv[1]), json.loads(sys.argv[2]), json.loads(sys.argv[3])
dk_index, dk_search, queries = float(sys.argv[4]), float(sys.argv[5]), int(sys.argv[6])
def means(m): return m["metrics"]
def row(table, **cells): print(table + "\t" + json.dumps(cells))
def figure(value, spec, text):  # a figure with words around it: {"value": as shown, "text": ...}
    shown = f"{value:{spec}}"
    return {"value": float(shown) if "." in shown else int(shown), "text": text.format(shown)}
a, b = means(dk), means(ref)
for name in ["MRR@10", "R@10", "R@100", "nDCG@10"]:
    row("metric", metric=name, densekit=round(a[name], 4), bm25s=round(b[name], 4), difference=round(a[name] - b[name], 4))
row("speed", speed=f"BM25 index build, {r['passages']} passages", densekit=figure(dk_index, ".1f", "{} s (whole command)"),
    bm25s=figure(r["index_seconds"], ".1f", "{} s (tokenize + index)"), ratio=figure(r["index_seconds"] / dk_index, ".2f", "**{}x**"))
row("speed", speed=f"search, {queries} queries, top 100, 2 threads",
    densekit=figure(queries / dk_search, ".0f", "{} queries/s (whole command, with loading)"),
    bm25s=figure(r["queries_per_second"], ".0f", "{} queries/s (tokenize + retrieve)"),
    ratio=figure((queries / dk_search) / r["queries_per_second"], ".2f", "**{}x**"))
PY
rows=()
while IFS=$'\t' read -r table row; do rows+=("$table" "$row"); done <"$out/bm25.rows.tsv"
machine_line="$machine; densekit BLAS core $("$dk" system --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["blas_core"])') (BM25 uses no BLAS)" || true
dk_cmds=("$dk index rebuild --index $index --bm25" "$dk search --index $index --retriever bm25 --queries $data/queries.dev.tsv -k 100 --threads 2 -o $out/bm25.densekit.tsv")
ref_cmd="$venv/bin/python Benchmarks/bm25_ref.py --collection $data/collection.tsv --queries $data/queries.dev.tsv --run $out/bm25.bm25s.tsv -k 100 --threads 2"
init="$(result_init "$result" "BM25: densekit against bm25s" "$machine_line" "$(json_strings "${dk_cmds[@]}" "$ref_cmd")" \
    "$(result_markdown "" "- date: $(date -u +%Y-%m-%dT%H:%MZ)" "- machine: $machine_line" "- reference: $ref_json" \
        "- load average before / after: $load_before / $load_after" \
        "- densekit: \`${dk_cmds[0]}\`, then \`${dk_cmds[1]}\`" "- bm25s: \`$ref_cmd\`" \
        "- metrics: \`densekit eval\` on both runs, $queries dev queries" "")" \
    "$(result_table metric metric=metric densekit:.4f=densekit bm25s:.4f=bm25s difference:+.4f=difference)" \
    "$(result_markdown "")" \
    "$(result_table speed speed=speed densekit=densekit bm25s=bm25s ratio=ratio)")"
result_doc "$result" "$init" "${rows[@]}"
cat "$(result_md "$result")"
