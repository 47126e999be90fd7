#!/usr/bin/env bash
# Property-based run of `densekit serve` against its own OpenAPI document (schemathesis): every
# check (no 5xx, responses match the schema, schema-valid requests accepted, invalid ones
# refused, 405 for undeclared methods), on a small IVF index with BM25 and a cross-encoder, so
# that every field the document lists is exercised; then SIGTERM, which must end it with 0.
#
#   Benchmarks/serve_fuzz.sh PATH/TO/debian-pkg [EXAMPLES]
#
# EXAMPLES per operation (default 100). RERANKER: a cross-encoder folder (default $out/ce-ftneg,
# if there; else the model's encoder would need a head, so reranking is left out). Appends a row
# to Benchmarks/results/serve-fuzz-DATE.json (rendered to its .md by Benchmarks/results.py).
set -euo pipefail
corpus="$(realpath "${1:?usage: $0 PATH/TO/debian-pkg [EXAMPLES]}")"
examples="${2:-100}"
source "$(dirname "$0")/common.sh"
index="$out/serve-fuzz.index"
if [ ! -d "$index" ]; then
    head -n 2000 "$corpus/collection.tsv" > "$out/serve-fuzz.collection.tsv"
    "$dk" index build --index "$index" --collection "$out/serve-fuzz.collection.tsv" --factory IVF16,Flat --quiet >&2
fi
reranker="${RERANKER:-$out/ce-ftneg}"
rerank=()
[ -d "$reranker" ] && rerank=(--rerank "$reranker")
# Reranking bounded to 200 pairs a request: schemathesis asks for the most the document allows
# again and again, and each such request should take seconds, not the default bound's ~25 s.
start_serve "$out/serve-fuzz.log" --index "$index" "${rerank[@]}" --max-rerank-pairs 200
report="$out/serve-fuzz.report.txt"
set +e
"$venv/bin/schemathesis" run "http://127.0.0.1:$port/openapi.json" --checks all -n "$examples" --seed 42 --request-timeout 300 > "$report" 2>&1
fuzz=$?
set -e
kill -TERM "$server"
wait "$server"; stopped=$?
tail -n 20 "$report" >&2
cases="$(grep -oE '[0-9]+ generated, [0-9]+ (passed|found[^,]*)' "$report" | tail -n 1)"
result="Benchmarks/results/serve-fuzz-$(date +%Y-%m-%d).json"
init="$(result_init "$result" "densekit serve against its OpenAPI document (schemathesis 4.32.5, all checks)" "$machine" '[]' \
    "$(result_markdown "" "Machine: $machine. Index: the first 2,000 debian-pkg passages, IVF16,Flat with BM25; reranking" \
        "with the densekit cross-encoder where present, at most 200 pairs a request. Exit codes: schemathesis (0: no failure) and" \
        "the server after SIGTERM (0: drained and stopped)." "")" \
    "$(result_table date date=date examples_per_operation="examples per operation" test_cases="test cases" \
        schemathesis_exit="schemathesis exit" server_exit="server exit" command=command)")"
result_row "$result" date "$init" "$(json_object date "$(date -u +%Y-%m-%dT%H:%MZ)" n:examples_per_operation "$examples" f:test_cases "$cases" \
    n:schemathesis_exit "$fuzz" n:server_exit "$stopped" \
    command "\`schemathesis run http://127.0.0.1:PORT/openapi.json --checks all -n $examples --seed 42 --request-timeout 300\`")"
[ "$fuzz" = 0 ] && [ "$stopped" = 0 ]
