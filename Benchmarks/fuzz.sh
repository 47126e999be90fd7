#!/usr/bin/env bash
# Runs the test suite's mutation fuzz loops (Tests/Support/InputMutator.swift: safetensors
# headers, config.json, tokenizer.json, corpus lines, qrels, run files) for far more mutants than
# the suite's 300 per reader, within a time bound, and writes what happened to
# Benchmarks/results/fuzz-DATE.json (rendered to fuzz-DATE.md by Benchmarks/results.py). A crash
# (trap, abort, signal) fails the run and is reported with the test and mutant number that
# reproduces it (the mutators are seeded).
#
#   Benchmarks/fuzz.sh [ITERATIONS] [MINUTES]      (defaults: 20000 mutants per reader, 30 minutes)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source Benchmarks/result_json.sh
iterations="${1:-20000}"
minutes="${2:-30}"
result="Benchmarks/results/fuzz-$(date +%Y-%m-%d).json"
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
mapfile -t log_lines < <(grep -E "✔ Test|✘|recorded an issue|crashed|Fatal|signal" "$log" | sed 's/^/  /' | head -60)
machine="$(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')" || true
init="$(result_init "$result" "Mutation fuzzing of densekit's file readers" "$machine" "$(json_strings "Benchmarks/fuzz.sh $iterations $minutes")" \
    "$(result_markdown "" "- date: $(date -u +%Y-%m-%dT%H:%MZ)" "- machine: $machine" \
        "- commit: $(git rev-parse --short HEAD)$(git diff --quiet || echo ' (with uncommitted changes)')" \
        "- command: \`Benchmarks/fuzz.sh $iterations $minutes\` (DENSEKIT_FUZZ_ITERATIONS=$iterations; tokenizer.json gets a fifth of them)" \
        "- readers: safetensors header and config.json (through SentenceEncoder.load), tokenizer.json, MS MARCO and BEIR corpus lines under both bad-line policies, qrels, TREC and MS MARCO runs" "")" \
    "$(result_table run mutants="mutants per reader" bound="time bound (min)" seconds="time (s)" exit="exit status" result=result)" \
    "$(result_markdown "" '```' "${log_lines[@]}" '```')")"
result_doc "$result" "$init" run "$(json_object n:mutants "$iterations" n:bound "$minutes" n:seconds "$seconds" n:exit "$status" result "$verdict")"
cat "$(result_md "$result")"
exit "$status"
