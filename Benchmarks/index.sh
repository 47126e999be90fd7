#!/usr/bin/env bash
# Index, search and store: quality and speed on the full debian-pkg collection, densekit beside
# the reference tools in one run.
#
#   Benchmarks/index.sh PATH/TO/debian-pkg [RESULT.md]
#
# INDEX=DIR reuses (or resumes) an index folder instead of a fresh one under Benchmarks/out.
# Steps: build the index (time split encode / store / FAISS), retrieve the top 100 for the
# 2,000 dev queries and evaluate, rebuild the FAISS index from the store (vs. re-encoding),
# search speed of Flat and HNSW32 through densekit and the faiss Python package on the same
# vectors, and LMDB write throughput against a plain C put loop. Writes the results as JSON to
# RESULT.json (default Benchmarks/results/index-DATE.json; a RESULT.md argument means the .json
# beside it), from which Benchmarks/results.py renders RESULT.md.
set -euo pipefail
corpus="$(realpath "${1:?usage: $0 PATH/TO/debian-pkg [RESULT.md]}")"
result="${2:-Benchmarks/results/index-$(date +%Y-%m-%d).md}"
threads=2
source "$(dirname "$0")/common.sh"
result="$(result_json "$result")"
index="${INDEX:-$out/debian-pkg.index}"
load_before="$(cut -d' ' -f1-3 /proc/loadavg)"

# 1. Build (or resume / confirm) the index.
build_line="$("$dk" index build --index "$index" --collection "$corpus/collection.tsv" --quiet)"
echo "$build_line" >&2

# 2. Quality: top 100 for the dev queries, evaluated against the dev qrels.
search_start=$(date +%s.%N)
"$dk" search --index "$index" --queries "$corpus/queries.dev.tsv" -k 100 --output "$out/run.dev.tsv" --quiet
search_seconds=$(python3 -c "import time; print(round(time.time() - $search_start, 1))")
quality="$("$dk" eval --qrels "$corpus/qrels.dev.tsv" --run "$out/run.dev.tsv" --metrics MRR@10,R@10,R@100,nDCG@10 --json)"

# 3. Rebuild from the store, no re-encoding.
rebuild_line="$("$dk" index rebuild --index "$index" --factory Flat)"

# 4. Search speed on identical vectors: densekit (Debian's FAISS 1.7.3) vs faiss-cpu (Python).
"$dk" index export --index "$index" --output "$out/vectors.npy" >&2
"$dk" embed --tsv "$corpus/queries.dev.tsv" --format npy -o "$out/queries.npy" --quiet
dk_flat="$("$dk" bench search --index "$index" --query-vectors "$out/queries.npy" --factory Flat -k 10 --threads $threads)"
py_flat="$("$venv/bin/python" Benchmarks/faiss_search.py --vectors "$out/vectors.npy" --queries "$out/queries.npy" --factory Flat -k 10 --threads $threads)"
dk_hnsw="$("$dk" bench search --index "$index" --query-vectors "$out/queries.npy" --factory HNSW32 --ef-search 256 -k 10 --threads $threads)"
py_hnsw="$("$venv/bin/python" Benchmarks/faiss_search.py --vectors "$out/vectors.npy" --queries "$out/queries.npy" --factory HNSW32 --ef-search 256 -k 10 --threads $threads)"
# densekit with FAISS's own (Debian: scalar) distance code instead of its SIMD storage.
dk_hnsw_scalar="$("$dk" bench search --index "$index" --query-vectors "$out/queries.npy" --factory HNSW32 --ef-search 256 -k 10 --threads $threads --distances faiss)"
system_line="$("$dk" system --json)"

# 5. LMDB writes: densekit's store (4 puts a passage) vs a plain C loop of vector puts.
cc -O2 -o "$out/lmdb_put" Benchmarks/lmdb_put.c -llmdb
rm -rf "$out/store-bench" "$out/lmdb-bench"
dk_store="$("$dk" bench store --folder "$out/store-bench" --count 60000)"
c_store="$("$out/lmdb_put" "$out/lmdb-bench" 60000 1536 1024)"
load_after="$(cut -d' ' -f1-3 /proc/loadavg)"

j() { python3 -c "import json,sys; v=json.loads(sys.argv[1])$2; print(round(v, 4) if isinstance(v, float) else v)" "$1"; }
ratio() { python3 -c "print(round($1 / $2, 2))"; }
q() { j "$1" "[\"$2\"]"; }
init="$(result_init "$result" "Index, search and store on debian-pkg (59,783 passages, 2,000 dev queries)" "$machine" "$(json_strings "Benchmarks/index.sh $corpus")" \
    "$(result_markdown "" "- date: $(date -u +%Y-%m-%dT%H:%MZ)" "- machine: $machine" "- load average before / after: $load_before / $load_after" \
        "- command: \`Benchmarks/index.sh $corpus\` (index folder: $index)" "" \
        "## Quality (all-MiniLM-L6-v2 zero-shot, FAISS Flat inner product, top 100)")" \
    "$(result_table system system=system mrr_10=MRR@10 r_10=R@10 r_100=R@100 ndcg_10=nDCG@10)" \
    "$(result_markdown "" "## Build and rebuild" "- \`index build\`: $build_line" \
        "- \`index rebuild --factory Flat\` (from the store, no re-encoding): $rebuild_line" \
        "- batch search of the 2,000 dev queries, top 100 (encoding included): $search_seconds s" "" \
        "## Search speed on the same vectors ($threads threads, k 10, 2,000 queries)" \
        "densekit: $(q "$system_line" cpu), BLAS core $(q "$system_line" blas_core), FAISS distances $(q "$dk_hnsw" distances); faiss-cpu $(q "$py_hnsw" faiss) SIMD level $(q "$py_hnsw" simd)." "")" \
    "$(result_table index index=index densekit_q_s="densekit q/s" faiss_cpu_q_s="faiss-cpu (Python) q/s" ratio=ratio \
        recall_10_vs_flat="recall@10 vs Flat (densekit / faiss)" build_s="build s (densekit / faiss)" build_ratio="build ratio")" \
    "$(result_markdown "" "## LMDB writes (60,000 records, 1,024 per transaction)")" \
    "$(result_table writer writer=writer records_s=records/s puts_s=puts/s)" \
    "$(result_markdown "" "Raw: quality \`$quality\`; densekit Flat \`$dk_flat\`; faiss Flat \`$py_flat\`; densekit HNSW \`$dk_hnsw\`; densekit HNSW, FAISS distances \`$dk_hnsw_scalar\`; faiss HNSW \`$py_hnsw\`; system \`$system_line\`; store \`$dk_store\`; C \`$c_store\`.")")"
m() { j "$quality" "[\"metrics\"][\"$1\"]"; }
result_doc "$result" "$init" \
    system "$(json_object system densekit n:mrr_10 "$(m MRR@10)" n:r_10 "$(m R@10)" n:r_100 "$(m R@100)" n:ndcg_10 "$(m nDCG@10)")" \
    system "$(json_object system "sentence-transformers + FAISS Flat (anchors.md)" n:mrr_10 0.5599 n:r_10 0.7703 n:r_100 0.9133 n:ndcg_10 0.6104)" \
    index "$(json_object index Flat n:densekit_q_s "$(q "$dk_flat" queries_per_second)" n:faiss_cpu_q_s "$(q "$py_flat" queries_per_second)" \
        n:ratio "$(ratio "$(q "$dk_flat" queries_per_second)" "$(q "$py_flat" queries_per_second)")" \
        recall_10_vs_flat "$(q "$dk_flat" recall_at_k_vs_flat) / $(q "$py_flat" recall_at_k_vs_flat)")" \
    index "$(json_object index "HNSW32, efSearch 256" n:densekit_q_s "$(q "$dk_hnsw" queries_per_second)" n:faiss_cpu_q_s "$(q "$py_hnsw" queries_per_second)" \
        n:ratio "$(ratio "$(q "$dk_hnsw" queries_per_second)" "$(q "$py_hnsw" queries_per_second)")" \
        recall_10_vs_flat "$(q "$dk_hnsw" recall_at_k_vs_flat) / $(q "$py_hnsw" recall_at_k_vs_flat)" \
        build_s "$(q "$dk_hnsw" build_seconds) / $(q "$py_hnsw" build_seconds)" \
        n:build_ratio "$(ratio "$(q "$py_hnsw" build_seconds)" "$(q "$dk_hnsw" build_seconds)")")" \
    index "$(json_object index "HNSW32, efSearch 256, densekit with FAISS's own distances" n:densekit_q_s "$(q "$dk_hnsw_scalar" queries_per_second)" \
        n:ratio "$(ratio "$(q "$dk_hnsw_scalar" queries_per_second)" "$(q "$py_hnsw" queries_per_second)")" \
        n:recall_10_vs_flat "$(q "$dk_hnsw_scalar" recall_at_k_vs_flat)" n:build_s "$(q "$dk_hnsw_scalar" build_seconds)" \
        n:build_ratio "$(ratio "$(q "$py_hnsw" build_seconds)" "$(q "$dk_hnsw_scalar" build_seconds)")")" \
    writer "$(json_object writer "densekit store (text + 384-d vector + both id maps: 4 puts a passage)" \
        n:records_s "$(q "$dk_store" passages_per_second)" n:puts_s "$(q "$dk_store" puts_per_second)")" \
    writer "$(json_object writer "plain C loop (1,536-byte vector puts, MDB_APPEND)" n:records_s "$(q "$c_store" puts_per_second)" n:puts_s "$(q "$c_store" puts_per_second)")"
cat "$(result_md "$result")"
