#!/usr/bin/env bash
# `densekit serve` under a bounded load, beside the batch CLI on the same queries in the same
# run: the full debian-pkg index (Flat, exact), the first N dev queries (default 2,000), k 10.
#
#   Benchmarks/serve_load.sh PATH/TO/debian-pkg [N]
#
# Rows: `densekit search --queries` (batch: 256 queries per encoder call) and with
# --batch-size 1 (a lone query's latency inside one process, model loaded once), then the
# server at concurrency 1, 8 and 32 (Benchmarks/serve_load.py: N requests, one query each, own
# keep-alive connection per client thread), and the same concurrencies from wrk (a C client,
# Benchmarks/serve_load.lua, for WRK_SECONDS each, default 20), whose own CPU use is small: both
# clients run on the same 2 cores as the server. Goals (issue 14): at 32, >= 0.8x the batch CLI's queries/s with p99 <= 100 ms; at 1,
# p50 within 1 ms of the one-at-a-time latency. SERVE_ARGS: more `densekit serve` options (for
# A/B runs; named in the rows). Appends to Benchmarks/results/serve-load-DATE.json
# (rendered to its .md by Benchmarks/results.py).
set -euo pipefail
corpus="$(realpath "${1:?usage: $0 PATH/TO/debian-pkg [N]}")"
n="${2:-2000}"
source "$(dirname "$0")/common.sh"
index="$out/debian-pkg.index"
"$dk" index build --index "$index" --collection "$corpus/collection.tsv" --quiet >&2  # resumes a killed build; a finished one is only checked
queries="$out/serve-load.queries.tsv"
head -n "$n" "$corpus/queries.dev.tsv" > "$queries"
result="Benchmarks/results/serve-load-$(date +%Y-%m-%d).json"
init="$(result_init "$result" "densekit serve under load, beside the batch CLI" "$machine" '[]' \
    "$(result_markdown "" "Machine: $machine. Index: debian-pkg, 59,783 passages, Flat (exact inner product); k 10;" \
        "the first $n dev queries; the load client (Python, or wrk in C) shares the 2 cores with the server. CLI rows" \
        "are whole commands (model and index loading included), queries/s = queries / wall seconds; for" \
        "--batch-size 1 the p50 column holds the mean milliseconds per query (loading included)." "")" \
    "$(result_table what what=what concurrency=concurrency requests=requests queries_s=queries/s p50_ms="p50 ms" p99_ms="p99 ms" \
        errors=errors load_before="load before" command=command)")"
# row WHAT CONCURRENCY REQUESTS QUERIES/S P50 P99 ERRORS COMMAND: one row of table what ("-": no figure).
row() {
    result_row "$result" what "$init" "$(json_object what "$1" n:concurrency "$2" n:requests "$3" n:queries_s "$4" f:p50_ms "$5" \
        n:p99_ms "$6" n:errors "$7" load_before "$(cut -d' ' -f1-3 /proc/loadavg)" command "\`$8\`")"
}
for batch in 256 1; do
    start=$(date +%s.%N)
    "$dk" search --index "$index" --queries "$queries" -k 10 --batch-size "$batch" -o /dev/null --quiet
    seconds=$(python3 -c "print($(date +%s.%N) - $start)")
    row "search --queries, --batch-size $batch" - "$n" "$(python3 -c "print('%.1f' % ($n / $seconds))")" \
        "$( [ "$batch" = 1 ] && python3 -c "print('%.2f' % (1000 * $seconds / $n))" || echo -)" - 0 \
        "densekit search --index $index --queries Q -k 10 --batch-size $batch -o /dev/null"
done
read -r -a serve_args <<< "${SERVE_ARGS:-}"
served="serve${SERVE_ARGS:+ $SERVE_ARGS}"
start_serve "$out/serve-load.log" --index "$index" "${serve_args[@]}"
trap 'kill -TERM $server 2> /dev/null || true' EXIT
# A short warm-up, not counted.
python3 Benchmarks/serve_load.py --port "$port" --queries "$queries" --concurrency 4 --requests 200 > /dev/null
for c in 1 8 32; do
    json="$(python3 Benchmarks/serve_load.py --port "$port" --queries "$queries" --concurrency "$c" --requests "$n")"
    get() { python3 -c "import json,sys; print(json.loads(sys.argv[1])[sys.argv[2]])" "$json" "$1"; }
    row "$served" "$c" "$(get requests)" "$(get queries_per_s)" "$(get p50_ms)" "$(get p99_ms)" "$(get errors)" \
        "python3 Benchmarks/serve_load.py --port PORT --queries Q --concurrency $c --requests $n"
done
# wrk: the same requests from a client that costs the server little CPU.
command -v wrk > /dev/null || apt-get install -y -q wrk >&2
for c in 1 8 32; do
    threads=$([ "$c" = 1 ] && echo 1 || echo 2)  # wrk needs a connection per thread
    json="$(wrk -t "$threads" -c "$c" -d "${WRK_SECONDS:-20}s" -s Benchmarks/serve_load.lua "http://127.0.0.1:$port" -- "$queries" | tail -n 1)"
    get() { python3 -c "import json,sys; print(json.loads(sys.argv[1])[sys.argv[2]])" "$json" "$1"; }
    row "$served (wrk client)" "$c" "$(get requests)" "$(get queries_per_second)" "$(get p50_ms)" "$(get p99_ms)" "$(get errors)" \
        "wrk -t$threads -c $c -d ${WRK_SECONDS:-20}s -s Benchmarks/serve_load.lua URL -- Q"
done
