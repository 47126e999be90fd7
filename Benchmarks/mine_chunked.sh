#!/usr/bin/env bash
# `densekit mine` over a large query file in chunks, each chunk's negatives kept as it lands, so
# a long cross-encoder rescoring run survives being stopped (a session's end) and continues
# where it stopped when started again; the chunks are joined into OUTPUT at the end.
#
#   Benchmarks/mine_chunked.sh QUERIES OUTPUT CHUNK_LINES -- MINE_ARGS...
#
# MINE_ARGS are `densekit mine`'s other options (--index, --qrels, --retriever, --rescore, ...).
# DENSEKIT_BIN: the binary (default: the release build). Chunks live in OUTPUT.chunks/.
set -euo pipefail
queries="${1:?usage: $0 QUERIES OUTPUT CHUNK_LINES -- MINE_ARGS...}"
output="${2:?}"
lines="${3:?}"
shift 3
[ "${1:-}" = "--" ] && shift
dk="${DENSEKIT_BIN:-$(cd "$(dirname "$0")/.." && swift build -c release --show-bin-path)/densekit}"
chunks="$output.chunks"
mkdir -p "$chunks"
[ -f "$chunks/queries.00000.tsv" ] || split -l "$lines" -d -a 5 --additional-suffix=.tsv "$queries" "$chunks/queries."
for part in "$chunks"/queries.*.tsv; do
    done_file="$chunks/negatives.${part##*/queries.}"
    [ -s "$done_file" ] && continue
    echo "mine_chunked: $(date -u +%H:%M:%S) $part" >&2
    "$dk" mine --queries "$part" "$@" -o "$done_file.partial"
    # The recipe sidecar (`mine` writes FILE.mining.json) follows its file.
    [ -f "$done_file.partial.mining.json" ] && mv "$done_file.partial.mining.json" "$done_file.mining.json"
    mv "$done_file.partial" "$done_file"
done
cat "$chunks"/negatives.*.tsv > "$output.partial"
cp "$chunks/negatives.00000.tsv.mining.json" "$output.mining.json" 2>/dev/null || true
mv "$output.partial" "$output"
echo "mine_chunked: $(wc -l < "$output") queries with negatives in $output" >&2
