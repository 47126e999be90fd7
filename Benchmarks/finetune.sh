#!/usr/bin/env bash
# Fine-tuning quality at a fixed CPU budget, densekit's losses beside sentence-transformers.
#
#   Benchmarks/finetune.sh PATH/TO/debian-pkg SYSTEM [MINUTES]
#
# SYSTEM: infonce | dcl | decoupled-softmax | infonce-128 (batch 128, GradCache) | st-mnrl |
# st-cmnrl-128. Each trains all-MiniLM-L6-v2 on debian-pkg train with in-batch negatives (and,
# with NEGATIVES=FILE, one negative per query and step drawn from a mined negatives file;
# HARD_NEGATIVES=1 mines the zero-shot model's top 30 minus positives; EXTRA adds densekit
# training flags; RUN_NAME names the output folder) for MINUTES (default 30) of wall clock, then indexes the full collection with the trained model (max length 256), retrieves
# the top 100 for the 2,000 dev queries and evaluates. Appends one row to
# Benchmarks/results/finetune-runs-DATE.json (rendered to its .md by Benchmarks/results.py).
# sentence-transformers models are evaluated through densekit too (identical embeddings, see
# st-compat), so both sides are scored the same way.
set -euo pipefail
corpus="$(realpath "${1:?usage: $0 PATH/TO/debian-pkg SYSTEM [MINUTES]}")"
system="${2:?usage: $0 PATH/TO/debian-pkg SYSTEM [MINUTES]}"
minutes="${3:-30}"
source "$(dirname "$0")/common.sh"
result="Benchmarks/results/finetune-runs-$(date +%Y-%m-%d).json"

model="$out/ft-${RUN_NAME:-$system}"
rm -rf "$model" "$model.index"
train=(--collection "$corpus/collection.tsv" --queries "$corpus/queries.train.tsv" --qrels "$corpus/qrels.train.tsv")
# Seconds per step measured on 2 quiet cores at max length 128, in-batch negatives only:
# densekit 1.2 s at batch 32 (1.7 s before 2026-11-30's speed work) and 9 s at batch 128
# (GradCache), sentence-transformers 2.7 s; a hard negative per query adds roughly half.
per_step=(1.2 9 2.7 11)
if [ "${HARD_NEGATIVES:-0}" = 1 ] && [ -z "${NEGATIVES:-}" ]; then
    # Hard negatives from the zero-shot model, once.
    zero="$out/debian-pkg.index"
    "$dk" index build --index "$zero" --collection "$corpus/collection.tsv" --quiet >&2
    [ -s "$out/negatives.train.tsv" ] || "$dk" mine --index "$zero" --queries "$corpus/queries.train.tsv" \
        --qrels "$corpus/qrels.train.tsv" -k 30 --keep 10 -o "$out/negatives.train.tsv"
    NEGATIVES="$out/negatives.train.tsv"
fi
if [ -n "${NEGATIVES:-}" ]; then
    # NEGATIVES=FILE: a mined negatives file (one of its negatives drawn per query and step);
    # NEGATIVES_LABEL names it in the table.
    train+=(--negatives "$NEGATIVES")
    per_step=(1.9 13 4 16)
    system_label="$system +1 ${NEGATIVES_LABEL:-hard negative}"
fi
# EXTRA: more densekit training flags (e.g. MoCHi's --mix-hardest ...), named in the label.
extra=()
if [ -n "${EXTRA:-}" ]; then
    read -r -a extra <<< "$EXTRA"
    system_label="${system_label:-$system} $EXTRA"
fi
# Planned steps: a little more than the budget allows at the measured speed, so the linear decay
# is nearly over when the budget stops the run. STEPS=N plans N steps instead, and STOP_AFTER=M
# (densekit systems) stops after M of them whatever the clock says: it repeats a time-budgeted
# run's step count exactly on a machine that is not quiet (the loss does not change the cost of
# a step, so the same steps are the same compute).
plan() { if [ -n "${STEPS:-}" ]; then echo "$STEPS"; else python3 -c "print(int($minutes * 60 / $1 * 1.1))"; fi; }
budget=(--time-budget "$minutes")
[ -n "${STOP_AFTER:-}" ] && budget=(--stop-after "$STOP_AFTER")
case "$system" in
    infonce|dcl|decoupled-softmax)
        steps=$(plan "${per_step[0]}")
        cmd=("$dk" train dual "${train[@]}" --loss "$system" --batch-size 32 --lr 2e-5 --steps "$steps" --warmup $((steps / 10)) --seed 42 "${budget[@]}" "${extra[@]}" --out "$model" --quiet) ;;
    infonce-128)
        steps=$(plan "${per_step[1]}")
        cmd=("$dk" train dual "${train[@]}" --loss infonce --batch-size 128 --lr 2e-5 --steps "$steps" --warmup $((steps / 10)) --seed 42 "${budget[@]}" --out "$model" --quiet) ;;
    st-mnrl)
        steps=$(plan "${per_step[2]}")
        cmd=("$venv/bin/python" Benchmarks/st_finetune.py --model "$DENSEKIT_MODEL" "${train[@]}" --batch-size 32 --steps "$steps" --minutes "$minutes" --out "$model") ;;
    st-cmnrl-128)
        steps=$(plan "${per_step[3]}")
        cmd=("$venv/bin/python" Benchmarks/st_finetune.py --model "$DENSEKIT_MODEL" "${train[@]}" --batch-size 128 --mini-batch 16 --steps "$steps" --minutes "$minutes" --out "$model") ;;
    *) echo "unknown system $system" >&2; exit 2 ;;
esac
load_before="$(cut -d' ' -f1-3 /proc/loadavg)"
start=$(date +%s)
"${cmd[@]}" | tee "$model.log" >&2
# Steps done: densekit prints "... after N of M steps", st_finetune.py {"steps": N, ...}.
done_steps="$(grep -oE 'after [0-9]+ of|"steps": [0-9]+' "$model.log" | grep -oE '[0-9]+' | head -1)"
trained=$(( $(date +%s) - start ))
"$dk" index build --model "$model" --index "$model.index" --collection "$corpus/collection.tsv" --quiet >&2
"$dk" search --index "$model.index" --queries "$corpus/queries.dev.tsv" -k 100 -o "$model.run.tsv" --quiet
scores="$("$dk" eval --qrels "$corpus/qrels.dev.tsv" --run "$model.run.tsv" --metrics MRR@10,R@10,R@100,nDCG@10 --json)"
j() { python3 -c "import json,sys; print('%.4f' % json.loads(sys.argv[1])['metrics'][sys.argv[2]])" "$scores" "$1"; }
init="$(result_init "$result" "Fine-tuning all-MiniLM-L6-v2 on debian-pkg at a fixed CPU budget" "$machine" '[]' \
    "$(result_markdown "" "Machine: $machine. Train queries with in-batch negatives (rows marked \"+1 hard negative\": one" \
        "mined from the zero-shot top 30 minus positives per query), AdamW lr 2e-5, 10% warm-up, linear decay, clipping 1.0; evaluation on the 2,000 dev" \
        "queries over the full collection (top 100, max length 256). Zero-shot: MRR@10 0.5599; BM25 0.6148." "")" \
    "$(result_table system system=system budget=budget trained=trained steps=steps mrr_10:.4f=MRR@10 r_10:.4f=R@10 r_100:.4f=R@100 \
        ndcg_10:.4f=nDCG@10 load_before="load before" command=command)")"
budget_label="$minutes min"
[ -n "${STOP_AFTER:-}" ] && budget_label="$STOP_AFTER steps"
result_row "$result" system "$init" "$(json_object system "${system_label:-$system}" f:budget "$budget_label" f:trained "${trained} s" n:steps "$done_steps" \
    n:mrr_10 "$(j MRR@10)" n:r_10 "$(j R@10)" n:r_100 "$(j R@100)" n:ndcg_10 "$(j nDCG@10)" load_before "$load_before" command "\`${cmd[*]}\`")"
