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
# vectors, and LMDB write throughput against a plain C put loop.
set -euo pipefail
corpus="$(realpath "${1:?usage: $0 PATH/TO/debian-pkg [RESULT.md]}")"
result="${2:-Benchmarks/results/index-$(date +%Y-%m-%d).md}"
threads=2
source "$(dirname "$0")/common.sh"
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
mkdir -p "$(dirname "$result")"
cat > "$result" <<MD
# Index, search and store on debian-pkg (59,783 passages, 2,000 dev queries)

- date: $(date -u +%Y-%m-%dT%H:%MZ)
- machine: $machine
- load average before / after: $load_before / $load_after
- command: \`Benchmarks/index.sh $corpus\` (index folder: $index)

## Quality (all-MiniLM-L6-v2 zero-shot, FAISS Flat inner product, top 100)
| system | MRR@10 | R@10 | R@100 | nDCG@10 |
|---|---|---|---|---|
| densekit | $(j "$quality" '["metrics"]["MRR@10"]') | $(j "$quality" '["metrics"]["R@10"]') | $(j "$quality" '["metrics"]["R@100"]') | $(j "$quality" '["metrics"]["nDCG@10"]') |
| sentence-transformers + FAISS Flat (anchors.md) | 0.5599 | 0.7703 | 0.9133 | 0.6104 |

## Build and rebuild
- \`index build\`: $build_line
- \`index rebuild --factory Flat\` (from the store, no re-encoding): $rebuild_line
- batch search of the 2,000 dev queries, top 100 (encoding included): $search_seconds s

## Search speed on the same vectors ($threads threads, k 10, 2,000 queries)
densekit: $(j "$system_line" '["cpu"]'), BLAS core $(j "$system_line" '["blas_core"]'), FAISS distances $(j "$dk_hnsw" '["distances"]'); faiss-cpu $(j "$py_hnsw" '["faiss"]') SIMD level $(j "$py_hnsw" '["simd"]').

| index | densekit q/s | faiss-cpu (Python) q/s | ratio | recall@10 vs Flat (densekit / faiss) | build s (densekit / faiss) | build ratio |
|---|---|---|---|---|---|---|
| Flat | $(j "$dk_flat" '["queries_per_second"]') | $(j "$py_flat" '["queries_per_second"]') | $(ratio "$(j "$dk_flat" '["queries_per_second"]')" "$(j "$py_flat" '["queries_per_second"]')") | $(j "$dk_flat" '["recall_at_k_vs_flat"]') / $(j "$py_flat" '["recall_at_k_vs_flat"]') | | |
| HNSW32, efSearch 256 | $(j "$dk_hnsw" '["queries_per_second"]') | $(j "$py_hnsw" '["queries_per_second"]') | $(ratio "$(j "$dk_hnsw" '["queries_per_second"]')" "$(j "$py_hnsw" '["queries_per_second"]')") | $(j "$dk_hnsw" '["recall_at_k_vs_flat"]') / $(j "$py_hnsw" '["recall_at_k_vs_flat"]') | $(j "$dk_hnsw" '["build_seconds"]') / $(j "$py_hnsw" '["build_seconds"]') | $(ratio "$(j "$py_hnsw" '["build_seconds"]')" "$(j "$dk_hnsw" '["build_seconds"]')") |
| HNSW32, efSearch 256, densekit with FAISS's own distances | $(j "$dk_hnsw_scalar" '["queries_per_second"]') | | $(ratio "$(j "$dk_hnsw_scalar" '["queries_per_second"]')" "$(j "$py_hnsw" '["queries_per_second"]')") | $(j "$dk_hnsw_scalar" '["recall_at_k_vs_flat"]') | $(j "$dk_hnsw_scalar" '["build_seconds"]') | $(ratio "$(j "$py_hnsw" '["build_seconds"]')" "$(j "$dk_hnsw_scalar" '["build_seconds"]')") |

## LMDB writes (60,000 records, 1,024 per transaction)
| writer | records/s | puts/s |
|---|---|---|
| densekit store (text + 384-d vector + both id maps: 4 puts a passage) | $(j "$dk_store" '["passages_per_second"]') | $(j "$dk_store" '["puts_per_second"]') |
| plain C loop (1,536-byte vector puts, MDB_APPEND) | $(j "$c_store" '["puts_per_second"]') | $(j "$c_store" '["puts_per_second"]') |

Raw: quality \`$quality\`; densekit Flat \`$dk_flat\`; faiss Flat \`$py_flat\`; densekit HNSW \`$dk_hnsw\`; densekit HNSW, FAISS distances \`$dk_hnsw_scalar\`; faiss HNSW \`$py_hnsw\`; system \`$system_line\`; store \`$dk_store\`; C \`$c_store\`.
MD
cat "$result"
