#!/usr/bin/env bash
# Encoding speed, densekit against sentence-transformers, in one run on one machine.
#
#   Benchmarks/encode.sh PATH/TO/debian-pkg [RESULT.md]
#
# Both encode the first 5,000 passages of collection.tsv (batch 64, max length 256, 2 threads)
# and 200 dev queries one at a time. Writes the machine, load, commands, figures and the ratio
# as JSON to RESULT.json (default Benchmarks/results/encode-DATE.json; a RESULT.md argument means
# the .json beside it), from which Benchmarks/results.py renders RESULT.md.
set -euo pipefail
corpus="$(realpath "${1:?usage: $0 PATH/TO/debian-pkg [RESULT.md]}")"
result="${2:-Benchmarks/results/encode-$(date +%Y-%m-%d).md}"
threads=2
source "$(dirname "$0")/common.sh"
result="$(result_json "$result")"
densekit="$dk"

load_before="$(cut -d' ' -f1-3 /proc/loadavg)"
system_line="$("$densekit" system --json)"
sgemm1="$("$densekit" bench sgemm --threads 1)"
sgemm2="$("$densekit" bench sgemm --threads $threads)"
dk_cmd=("$densekit" bench encode --passages "$corpus/collection.tsv" --limit 5000 --queries "$corpus/queries.dev.tsv" --query-count 200 --batch-size 64 --max-length 256 --threads $threads)
st_cmd=("$venv/bin/python" Benchmarks/st_encode.py --model "$DENSEKIT_MODEL" --passages "$corpus/collection.tsv" --limit 5000 --queries "$corpus/queries.dev.tsv" --query-count 200 --batch-size 64 --max-length 256 --threads $threads)
dk="$("${dk_cmd[@]}")"
st="$("${st_cmd[@]}")"
load_after="$(cut -d' ' -f1-3 /proc/loadavg)"

field() { python3 -c "import json,sys; print(round(json.loads(sys.argv[1])[sys.argv[2]], 2))" "$1" "$2"; }
dk_pps="$(field "$dk" passages_per_second)"; st_pps="$(field "$st" passages_per_second)"
dk_p50="$(field "$dk" query_latency_ms_p50)"; st_p50="$(field "$st" query_latency_ms_p50)"
dk_gf="$(field "$dk" gflops_per_second)"; sg2="$(field "$sgemm2" gflops_per_second)"; sg1="$(field "$sgemm1" gflops_per_second)"
ratio="$(python3 -c "print(round($dk_pps / $st_pps, 2))")"
lat_ratio="$(python3 -c "print(round($st_p50 / $dk_p50, 2))")"
share="$(python3 -c "print(round(100 * $dk_gf / $sg2))")"

kernels="$(python3 -c "import json,sys; s=json.loads(sys.argv[1]); print(f\"{s['blas_core']} ({s['blas_core_reason']}); FAISS distances {s['faiss_distance_kernels']}\")" "$system_line")" || true
torch="$(python3 -c "import json,sys; print(json.loads(sys.argv[1]).get('torch', '?'))" "$st")" || true
init="$(result_init "$result" "Encoding speed: densekit vs sentence-transformers" "$machine" "$(json_strings "${dk_cmd[*]}" "${st_cmd[*]}")" \
    "$(result_markdown "" "- date: $(date -u +%Y-%m-%dT%H:%MZ)" "- machine: $machine" "- densekit kernels: BLAS core $kernels" "- torch: $torch" \
        "- load average before / after: $load_before / $load_after" \
        "- data: first 5,000 passages of debian-pkg collection.tsv ($(field "$dk" mean_tokens) tokens on average), 200 dev queries" \
        "- densekit: \`${dk_cmd[*]}\`" "- sentence-transformers: \`${st_cmd[*]}\`" "")" \
    "$(result_table measure measure=measure densekit=densekit sentence_transformers=sentence-transformers ratio=ratio)" \
    "$(result_markdown "" "Raw: densekit \`$dk\`; sentence-transformers \`$st\`; sgemm \`$sgemm1\` \`$sgemm2\`; system \`$system_line\`.")")"
result_doc "$result" "$init" \
    measure "$(json_object measure "passages/s (batch 64, max length 256, $threads threads)" n:densekit "$dk_pps" n:sentence_transformers "$st_pps" f:ratio "**${ratio}x**")" \
    measure "$(json_object measure "single-query latency p50 (ms)" n:densekit "$dk_p50" n:sentence_transformers "$st_p50" f:ratio "${lat_ratio}x faster")" \
    measure "$(json_object measure "achieved GFLOP/s while encoding" n:densekit "$dk_gf" f:ratio "${share}% of sgemm")" \
    measure "$(json_object measure "cblas_sgemm 2048^3 GFLOP/s (1 / $threads threads)" densekit "$sg1 / $sg2")"
cat "$(result_md "$result")"
