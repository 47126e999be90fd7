#!/usr/bin/env bash
# Runs the test suite's mutation fuzz loops (Tests/Support/InputMutator.swift: safetensors
# headers, config.json, tokenizer.json, corpus lines, qrels, run files) for far more mutants than
# the suite's 300 per reader, within a time bound, and writes what happened to
# Benchmarks/results/fuzz-DATE.md. A crash (trap, abort, signal) fails the run and is reported
# with the test and mutant number that reproduces it (the mutators are seeded).
#
#   Benchmarks/fuzz.sh [ITERATIONS] [MINUTES]      (defaults: 20000 mutants per reader, 30 minutes)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
iterations="${1:-20000}"
minutes="${2:-30}"
result="Benchmarks/results/fuzz-$(date +%Y-%m-%d).md"
filter='MalformedModelTests|MalformedTokenizerTests|MalformedCorpusTests|MalformedRunTests'
log="Benchmarks/out/fuzz.log"
mkdir -p Benchmarks/out
scripts/install-deps.sh >/dev/null
swift build -c release --build-tests >&2
started=$(date +%s)
status=0
DENSEKIT_FUZZ_ITERATIONS="$iterations" timeout "$((minutes * 60))" \
    swift test -c release --skip-build --filter "$filter" >"$log" 2>&1 || status=$?
seconds=$(( $(date +%s) - started ))
case "$status" in
    0) verdict="every mutant ended in a typed error naming the file, or loaded";;
    124) verdict="stopped by the time bound ($minutes min) before the loops finished; no crash until then";;
    *) verdict="FAILED (exit $status): see the lines below and $log";;
esac
{
    echo "# Mutation fuzzing of densekit's file readers"
    echo
    echo "- date: $(date -u +%Y-%m-%dT%H:%MZ)"
    echo "- machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
    echo "- commit: $(git rev-parse --short HEAD)$(git diff --quiet || echo ' (with uncommitted changes)')"
    echo "- command: \`Benchmarks/fuzz.sh $iterations $minutes\` (DENSEKIT_FUZZ_ITERATIONS=$iterations; tokenizer.json gets a fifth of them)"
    echo "- readers: safetensors header and config.json (through SentenceEncoder.load), tokenizer.json, MS MARCO and BEIR corpus lines under both bad-line policies, qrels, TREC and MS MARCO runs"
    echo "- time: $seconds s"
    echo "- result: $verdict"
    echo
    echo '```'
    grep -E "✔ Test|✘|recorded an issue|crashed|Fatal|signal" "$log" | sed 's/^/  /' | head -60
    echo '```'
} >"$result"
cat "$result"
exit "$status"
