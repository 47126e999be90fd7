#!/usr/bin/env bash
# `densekit eval` gives trec_eval's values (trec_eval's own C code, through pytrec_eval) on every
# metric (MRR@10, MRR@1000, MRR, R@10/100/1000, nDCG@10/100, nDCG, MAP, P@1, P@10), mean and per
# query, to 1e-6, on real runs and on variants built from them: tied scores, a rank column that
# disagrees with the scores, shuffled lines, judged queries missing from the run and unjudged extra
# ones, repeated documents, graded judgments (Benchmarks/trec_eval_check.py lists them). Prints
# one table row per variant and metric; exits 1 on any disagreement. Writes
# Benchmarks/results/trec-eval-check-DATE.json (or RESULT.json; a RESULT.md argument means the
# .json beside it), from which Benchmarks/results.py renders the .md.
#
#   Benchmarks/trec_eval_check.sh [QRELS | PATH/TO/debian-pkg] [RESULT.md]
#
# QRELS defaults to /work/shared/corpora/debian-pkg/qrels.dev.tsv (a folder means its
# qrels.dev.tsv). The runs: $TREC_EVAL_RUNS (space-separated paths), by default what the other
# benchmarks left in Benchmarks/out: run.dev.tsv and run.infonce.tsv (MS MARCO, from index.sh and
# train.sh) and ce-quality.*.trec (TREC with scores, from rerank-quality.sh). Missing files are
# skipped with a message; with no qrels or no run the check is skipped (exit 0).
# DENSEKIT_BIN: a densekit binary to use as it is (otherwise: swift build -c release).
# BENCH_VENV: the Python environment (default Benchmarks/.venv); pytrec_eval is installed into it
# when missing (pytrec_eval, or pytrec-eval-terrier when pytrec_eval's source build fails: it
# downloads trec_eval from GitHub).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source Benchmarks/result_json.sh
qrels="${1:-/work/shared/corpora/debian-pkg}"
[ -d "$qrels" ] && qrels="$qrels/qrels.dev.tsv"
result="$(result_json "${2:-Benchmarks/results/trec-eval-check-$(date +%Y-%m-%d).json}")"
out=Benchmarks/out
work="$out/trec-eval-check"

if [ ! -f "$qrels" ]; then
    echo "trec_eval_check: skipped: no qrels at $qrels (give QRELS or PATH/TO/debian-pkg as the first argument)" >&2
    exit 0
fi
runs=()
for run in ${TREC_EVAL_RUNS:-$out/run.dev.tsv $out/run.infonce.tsv $out/ce-quality.*.trec}; do
    if [ -f "$run" ]; then runs+=("$run"); else echo "trec_eval_check: skipping missing run $run" >&2; fi
done
if [ ${#runs[@]} -eq 0 ]; then
    echo "trec_eval_check: skipped: no run file (set TREC_EVAL_RUNS, or run Benchmarks/index.sh / rerank-quality.sh first)" >&2
    exit 0
fi

# DENSEKIT_BIN: a densekit binary to use as it is (e.g. a copy, while the tree is rebuilt).
if [ -n "${DENSEKIT_BIN:-}" ]; then
    dk="$DENSEKIT_BIN"
else
    swift build -c release --product densekit >&2
    dk="$(swift build -c release --show-bin-path)/densekit"
fi

# A light environment is enough here (no torch): reuse the benchmarks' one, or make a bare one.
venv="${BENCH_VENV:-$PWD/Benchmarks/.venv}"
[ -x "$venv/bin/python" ] || python3 -m venv "$venv" >&2
if ! "$venv/bin/python" -c "import pytrec_eval" 2>/dev/null; then
    echo "trec_eval_check: installing pytrec_eval into $venv" >&2
    "$venv/bin/pip" install --quiet "$(grep -m1 '^pytrec-eval-terrier==' Benchmarks/requirements.txt)" >&2
fi
pytrec_version="$("$venv/bin/python" -c '
import importlib.metadata as m
for name in ("pytrec_eval", "pytrec-eval-terrier"):
    try:
        print(name, m.version(name)); break
    except m.PackageNotFoundError:
        pass')"
machine="$(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(free -g | awk '/Mem:/ {print $2}') GiB"

mkdir -p "$work"
py=("$venv/bin/python" Benchmarks/trec_eval_check.py --densekit "$dk" --qrels "$qrels" --work "$work" --markdown "$work/tables.md" "${runs[@]}")
status=0
"${py[@]}" > /dev/null || status=$?
[ -s "$work/tables.md" ] || { echo "trec_eval_check: the check did not run (exit status $status)" >&2; exit "$status"; }

# The tables as data: blocks (prose, tables without rows) and rows, from the checker's Markdown.
python3 Benchmarks/md_tables.py "$work/tables.md" > "$work/tables.tsv"
blocks=() rows=()
while IFS=$'\t' read -r kind a b; do
    case "$kind" in block) blocks+=("$a") ;; row) rows+=("$a" "$b") ;; esac
done < "$work/tables.tsv"
command="${DENSEKIT_BIN:+DENSEKIT_BIN=$DENSEKIT_BIN }${TREC_EVAL_RUNS:+TREC_EVAL_RUNS='$TREC_EVAL_RUNS' }Benchmarks/trec_eval_check.sh${1:+ $1}${2:+ $2}"
init="$(result_init "$result" "densekit eval against trec_eval (pytrec_eval)" "$machine" "$(json_strings "$command" "${py[*]}")" \
    "$(result_markdown "" "- date: $(date -u +%Y-%m-%dT%H:%MZ)" "- machine: $machine" \
        "- reference: trec_eval through $pytrec_version (Python $("$venv/bin/python" -c 'import platform; print(platform.python_version())'))" \
        "- densekit: \`$dk\` ($("$dk" --version 2>/dev/null || echo "version unknown"))" "- qrels: \`$qrels\`" "- command: \`$command\`" \
        "- runs: ${runs[*]}" "- check: \`${py[*]}\`" \
        "- result: $([ "$status" -eq 0 ] && echo "densekit equals trec_eval on every variant and metric" || echo "DISAGREEMENT (exit status $status), see below")" \
        "")" \
    "${blocks[@]}")"
result_doc "$result" "$init" "${rows[@]}"
cat "$(result_md "$result")"
exit "$status"
