#!/usr/bin/env bash
# densekit eval --xmc against pyxclib's xc_metrics, every metric to 1e-6, on real predictions:
# all-MiniLM-L6-v2 zero-shot on the debtags-xmc dev set (and, with PREDICTIONS=FILE, any
# predictions file of that set).
#
#   Benchmarks/xmc_parity.sh PATH/TO/debtags-xmc
#
# PYXCLIB: what pip installs as pyxclib (not on PyPI): default its GitHub repository at the
# commit the results were made with (5d13086, 2025-04-04), or a local checkout's path.
# Writes Benchmarks/results/xmc-parity-DATE.json (rendered to its .md by Benchmarks/results.py).
set -euo pipefail
data="$(realpath "${1:?usage: $0 PATH/TO/debtags-xmc}")"
source "$(dirname "$0")/common.sh"
# pyxclib's setup.py wants Cython at build time and lists nmslib and fasttext (unused by its
# metrics, and slow to build): its metrics' own dependencies come pinned with the environment
# (Benchmarks/requirements.txt), then it alone.
pyxclib="${PYXCLIB:-git+https://github.com/kunaldahiya/pyxclib@5d130862df91a06d03b296ad264c89b037c33db7}"
if ! "$venv/bin/python" -c "import xclib.evaluation.xc_metrics" 2>/dev/null; then
    "$venv/bin/pip" install --quiet --no-build-isolation --no-deps "$pyxclib" >&2
fi
predictions="${PREDICTIONS:-$out/xmc-zero-shot.dev.tsv}"
if [ -z "${PREDICTIONS:-}" ]; then
    "$dk" xmc predict --labels "$data/labels.tsv" --docs "$data/dev.jsonl" --label-text text -k 10 -o "$predictions" --quiet
fi
result="Benchmarks/results/xmc-parity-$(date +%Y-%m-%d).json"
check=("$venv/bin/python" Benchmarks/xmc_parity.py --densekit "$dk" --truth "$data/dev.jsonl" --train "$data/train.jsonl"
       --labels "$data/labels.tsv" --predictions "$predictions")
# The comparison prints a Markdown table (metric, pyxclib, densekit, abs. difference) and a summary
# line; exit 1 when any metric differs by more than 1e-6. Its table becomes rows of the results file.
status=0
"${check[@]}" > "$out/xmc-parity.md" || status=$?
python3 Benchmarks/md_tables.py "$out/xmc-parity.md" > "$out/xmc-parity.tsv" || { cat "$out/xmc-parity.md"; exit "$((status ? status : 1))"; }
blocks=() rows=()
while IFS=$'\t' read -r kind a b; do
    case "$kind" in block) blocks+=("$a") ;; row) rows+=("$a" "$b") ;; esac
done < "$out/xmc-parity.tsv"
init="$(result_init "$result" "eval --xmc against pyxclib's xc_metrics" "$machine" "$(json_strings "Benchmarks/xmc_parity.sh $data" "${check[*]}")" \
    "$(result_markdown "" "- date: $(date -u +%Y-%m-%dT%H:%MZ); machine: $machine" \
        "- pyxclib: $("$venv/bin/pip" show xclib 2>/dev/null | awk '/^Version/ {print $2}') ($pyxclib)" \
        "- predictions: \`$predictions\` (top 10 per document; default: all-MiniLM-L6-v2 zero-shot, label text only)" \
        "- command: \`Benchmarks/xmc_parity.sh $data\`; propensities A 0.55, B 1.5 from train.jsonl" "")" \
    "${blocks[@]}")"
result_doc "$result" "$init" "${rows[@]}"
cat "$(result_md "$result")"
exit "$status"
