#!/usr/bin/env bash
# BM25 parity and speed against bm25s 0.3.16 (lucene method, k1 1.5, b 0.75, English stop
# words, no stemmer), in the same run: dev MRR@10, R@10, R@100 of both (goal: within 0.005),
# BM25 index build time (densekit: `index rebuild --bm25` from the stored passages; bm25s:
# tokenize + index from the collection file) and query throughput (2 threads each, top 100).
# Writes Benchmarks/results/bm25-DATE.md.
#
#   Benchmarks/bm25.sh PATH/TO/debian-pkg INDEX_DIR
#
# INDEX_DIR: an index folder of that collection (e.g. from Benchmarks/index.sh); its BM25 index
# is rebuilt in place.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
data="${1:?PATH/TO/debian-pkg}"
index="${2:?INDEX_DIR}"
result="Benchmarks/results/bm25-$(date +%Y-%m-%d).md"
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
python3 - "$dk_metrics" "$ref_metrics" "$ref_json" "$dk_index" "$dk_search" "$queries" >"$out/bm25.table.md" <<'PY'
import json, sys
dk, ref, r = json.loads(sys.argv[1]), json.loads(sys.argv[2]), json.loads(sys.argv[3])
dk_index, dk_search, queries = float(sys.argv[4]), float(sys.argv[5]), int(sys.argv[6])
def means(m): return m["metrics"]
a, b = means(dk), means(ref)
print("| metric | densekit | bm25s | difference |\n|---|---|---|---|")
for name in ["MRR@10", "R@10", "R@100", "nDCG@10"]:
    print(f"| {name} | {a[name]:.4f} | {b[name]:.4f} | {a[name]-b[name]:+.4f} |")
print()
print("| speed | densekit | bm25s | ratio |\n|---|---|---|---|")
print(f"| BM25 index build, {r['passages']} passages | {dk_index:.1f} s (whole command) | {r['index_seconds']:.1f} s (tokenize + index) | **{r['index_seconds']/dk_index:.2f}x** |")
print(f"| search, {queries} queries, top 100, 2 threads | {queries/dk_search:.0f} queries/s (whole command, with loading) | {r['queries_per_second']:.0f} queries/s (tokenize + retrieve) | **{(queries/dk_search)/r['queries_per_second']:.2f}x** |")
PY
{
    echo "# BM25: densekit against bm25s"
    echo
    echo "- date: $(date -u +%Y-%m-%dT%H:%MZ)"
    echo "- machine: $machine; densekit BLAS core $("$dk" system --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["blas_core"])') (BM25 uses no BLAS)"
    echo "- reference: $ref_json"
    echo "- load average before / after: $load_before / $load_after"
    echo "- densekit: \`$dk index rebuild --index $index --bm25\`, then \`$dk search --index $index --retriever bm25 --queries $data/queries.dev.tsv -k 100 --threads 2 -o $out/bm25.densekit.tsv\`"
    echo "- bm25s: \`$venv/bin/python Benchmarks/bm25_ref.py --collection $data/collection.tsv --queries $data/queries.dev.tsv --run $out/bm25.bm25s.tsv -k 100 --threads 2\`"
    echo "- metrics: \`densekit eval\` on both runs, $queries dev queries"
    echo
    cat "$out/bm25.table.md"
} >"$result"
cat "$result"
