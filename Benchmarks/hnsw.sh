#!/usr/bin/env bash
# HNSW32 search and build: densekit against the faiss-cpu wheel on the same vectors, in one run.
#
#   Benchmarks/hnsw.sh INDEX_FOLDER QUERIES.npy [RESULT.md]
#
# INDEX_FOLDER: a densekit index (e.g. Benchmarks/out/debian-pkg.index from Benchmarks/index.sh);
# QUERIES.npy: query vectors from `densekit embed --format npy` (index.sh writes
# Benchmarks/out/queries.npy). Rows: densekit as shipped (SIMD storage + its HNSW search),
# densekit with FAISS's own IndexHNSW::search and ::add over the SIMD storage, densekit with FAISS's own
# distances (Debian's scalar build), and faiss-cpu, at efSearch 128 and 256, 2 threads, k 10.
set -euo pipefail
index="$(realpath "${1:?usage: $0 INDEX_FOLDER QUERIES.npy [RESULT.md]}")"
queries="$(realpath "${2:?usage: $0 INDEX_FOLDER QUERIES.npy [RESULT.md]}")"
result="${3:-Benchmarks/results/hnsw-$(date +%Y-%m-%d).md}"
threads=2
source "$(dirname "$0")/common.sh"
"$dk" index export --index "$index" --output "$out/hnsw-vectors.npy" >&2

load_before="$(cut -d' ' -f1-3 /proc/loadavg)"
system_line="$("$dk" system --json)"
rows=""
raw=""
for ef in 128 256; do
    base=(bench search --index "$index" --query-vectors "$queries" --factory HNSW32 --ef-search $ef -k 10 --threads $threads)
    dk_simd="$("$dk" "${base[@]}")"
    dk_faiss_search="$("$dk" "${base[@]}" --hnsw faiss)"
    dk_scalar="$("$dk" "${base[@]}" --distances faiss)"
    py="$("$venv/bin/python" Benchmarks/faiss_search.py --vectors "$out/hnsw-vectors.npy" --queries "$queries" --factory HNSW32 --ef-search $ef -k 10 --threads $threads)"
    rows+="$(python3 - "$ef" "$dk_simd" "$dk_faiss_search" "$dk_scalar" "$py" <<'PY'
import json, sys
ef = sys.argv[1]
simd, fsearch, scalar, py = (json.loads(x) for x in sys.argv[2:6])
ref = py["queries_per_second"]; refb = py["build_seconds"]
for name, r in [("densekit (SIMD storage, densekit HNSW search and build)", simd), ("densekit, FAISS's IndexHNSW::search and ::add on SIMD storage", fsearch),
                ("densekit, FAISS's own distances (Debian build)", scalar), (f"faiss-cpu {py['faiss']} ({py['simd']})", py)]:
    print(f"| {ef} | {name} | {r['queries_per_second']:.0f} | {r['queries_per_second'] / ref:.2f} | {r['recall_at_k_vs_flat']:.4f} | {r['build_seconds']:.2f} | {refb / r['build_seconds']:.2f} |")
PY
)"$'\n'
    raw+="efSearch $ef: densekit \`$dk_simd\`; densekit/faiss search \`$dk_faiss_search\`; densekit/faiss distances \`$dk_scalar\`; faiss-cpu \`$py\`"$'\n\n'
done
load_after="$(cut -d' ' -f1-3 /proc/loadavg)"
mkdir -p "$(dirname "$result")"
cat > "$result" <<MD
# HNSW32 search and build: densekit vs faiss-cpu

- date: $(date -u +%Y-%m-%dT%H:%MZ)
- machine: $machine; $(python3 -c "import json,sys; s=json.loads(sys.argv[1]); print(f\"BLAS core {s['blas_core']}; FAISS distances: {s['faiss_distance_kernels']}\")" "$system_line")
- load average before / after: $load_before / $load_after
- command: \`Benchmarks/hnsw.sh $index $queries\`; $threads threads, k 10, recall@10 against exact search

| efSearch | system | queries/s | ratio to faiss-cpu | recall@10 | build s | build speed ratio (faiss-cpu s / this) |
|---|---|---|---|---|---|---|
$rows
Raw:

$raw
MD
cat "$result"
