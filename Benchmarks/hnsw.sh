#!/usr/bin/env bash
# HNSW32 search and build: densekit against the faiss-cpu wheel on the same vectors, in one run.
#
#   Benchmarks/hnsw.sh INDEX_FOLDER QUERIES.npy [RESULT.md]
#
# Writes the table as JSON to RESULT.json (default Benchmarks/results/hnsw-DATE.json; a RESULT.md
# argument means the .json beside it), from which Benchmarks/results.py renders RESULT.md.
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
result="$(result_json "$result")"
"$dk" index export --index "$index" --output "$out/hnsw-vectors.npy" >&2

load_before="$(cut -d' ' -f1-3 /proc/loadavg)"
system_line="$("$dk" system --json)"
rows=()
raw=()
for ef in 128 256; do
    base=(bench search --index "$index" --query-vectors "$queries" --factory HNSW32 --ef-search $ef -k 10 --threads $threads)
    dk_simd="$("$dk" "${base[@]}")"
    dk_faiss_search="$("$dk" "${base[@]}" --hnsw faiss)"
    dk_scalar="$("$dk" "${base[@]}" --distances faiss)"
    py="$("$venv/bin/python" Benchmarks/faiss_search.py --vectors "$out/hnsw-vectors.npy" --queries "$queries" --factory HNSW32 --ef-search $ef -k 10 --threads $threads)"
    # One row of table efsearch a line (JSON), figures rounded as shown.
    python3 - "$ef" "$dk_simd" "$dk_faiss_search" "$dk_scalar" "$py" > "$out/hnsw.rows.json" <<'PY'
import json, sys
ef = int(sys.argv[1])
simd, fsearch, scalar, py = (json.loads(x) for x in sys.argv[2:6])
ref = py["queries_per_second"]; refb = py["build_seconds"]
for name, r in [("densekit (SIMD storage, densekit HNSW search and build)", simd), ("densekit, FAISS's IndexHNSW::search and ::add on SIMD storage", fsearch),
                ("densekit, FAISS's own distances (Debian build)", scalar), (f"faiss-cpu {py['faiss']} ({py['simd']})", py)]:
    print(json.dumps({"efsearch": ef, "system": name, "queries_s": round(r["queries_per_second"]), "ratio_to_faiss_cpu": round(r["queries_per_second"] / ref, 2),
                      "recall_10": round(r["recall_at_k_vs_flat"], 4), "build_s": round(r["build_seconds"], 2), "build_speed_ratio": round(refb / r["build_seconds"], 2)}))
PY
    while read -r row; do rows+=(efsearch "$row"); done < "$out/hnsw.rows.json"
    raw+=("efSearch $ef: densekit \`$dk_simd\`; densekit/faiss search \`$dk_faiss_search\`; densekit/faiss distances \`$dk_scalar\`; faiss-cpu \`$py\`" "")
done
load_after="$(cut -d' ' -f1-3 /proc/loadavg)"
machine_line="$machine; $(python3 -c "import json,sys; s=json.loads(sys.argv[1]); print(f\"BLAS core {s['blas_core']}; FAISS distances: {s['faiss_distance_kernels']}\")" "$system_line")" || true
init="$(result_init "$result" "HNSW32 search and build: densekit vs faiss-cpu" "$machine_line" "$(json_strings "Benchmarks/hnsw.sh $index $queries")" \
    "$(result_markdown "" "- date: $(date -u +%Y-%m-%dT%H:%MZ)" "- machine: $machine_line" "- load average before / after: $load_before / $load_after" \
        "- command: \`Benchmarks/hnsw.sh $index $queries\`; $threads threads, k 10, recall@10 against exact search" "")" \
    "$(result_table efsearch efsearch=efSearch system=system queries_s:.0f=queries/s ratio_to_faiss_cpu:.2f="ratio to faiss-cpu" \
        recall_10:.4f=recall@10 build_s:.2f="build s" build_speed_ratio:.2f="build speed ratio (faiss-cpu s / this)")" \
    "$(result_markdown "" "Raw:" "" "${raw[@]}" "")")"
result_doc "$result" "$init" "${rows[@]}"
cat "$(result_md "$result")"
