#!/usr/bin/env bash
# XMC quality at a fixed CPU budget: all-MiniLM-L6-v2 fine-tuned on debtags-xmc train with one
# of densekit's XMC losses, then dev P@1/3/5, nDCG@5, PSP@1/5, R@10 from the label scores alone
# and fused with kNN votes of the 20 nearest training documents (and the kNN vote alone).
#
#   Benchmarks/xmc_quality.sh PATH/TO/debtags-xmc LOSS [MINUTES]
#
# LOSS: decoupled-softmax | soft-topk | infonce. MINUTES: wall-clock budget of the training
# (default 60); STEPS plans the schedule (default 330: a little more than the budget allows at
# batch 128, so the linear decay is nearly over when it stops); STOP_AFTER=N repeats a budgeted
# run's step count exactly on a machine that is not quiet. EXTRA: more train xmc flags.
# BATCH (128), LR (5e-5), KNN_WEIGHT (0.5). Appends one row per scoring to
# Benchmarks/results/xmc-runs-DATE.json (rendered to its .md by Benchmarks/results.py).
set -euo pipefail
data="$(realpath "${1:?usage: $0 PATH/TO/debtags-xmc LOSS [MINUTES]}")"
loss="${2:?usage: $0 PATH/TO/debtags-xmc LOSS [MINUTES]}"
minutes="${3:-60}"
source "$(dirname "$0")/common.sh"
steps="${STEPS:-330}"
batch="${BATCH:-128}"
lr="${LR:-5e-5}"
model="$out/xmc-${RUN_NAME:-$loss}"
result="Benchmarks/results/xmc-runs-$(date +%Y-%m-%d).json"
rm -rf "$model"
budget=(--time-budget "$minutes")
[ -n "${STOP_AFTER:-}" ] && budget=(--stop-after "$STOP_AFTER")
extra=()
[ -n "${EXTRA:-}" ] && read -r -a extra <<< "$EXTRA"
cmd=("$dk" train xmc --train "$data/train.jsonl" --labels "$data/labels.tsv" --loss "$loss" --batch-size "$batch"
     --lr "$lr" --steps "$steps" --warmup $((steps / 10)) --seed 42 "${budget[@]}" "${extra[@]}" --out "$model" --quiet)
load_before="$(cut -d' ' -f1-3 /proc/loadavg)"
start=$(date +%s)
"${cmd[@]}" 2>&1 | tee "$model.log" >&2
trained=$(( $(date +%s) - start ))
done_steps="$(grep -oE 'after [0-9]+ of' "$model.log" | grep -oE '[0-9]+' | head -1)"
init="$(result_init "$result" "XMC on debtags-xmc: all-MiniLM-L6-v2 fine-tuned at a fixed CPU budget" "$machine" '[]' \
    "$(result_markdown "" "Machine: $machine. Train: 23,533 documents, 593 labels (all scored every step), documents at" \
        "128 tokens, labels as \"name: text\" at 32, cosine scale 20, AdamW, 10% warm-up then linear" \
        "decay, seed 42. Dev: 2,941 documents, top 10 predicted; eval --xmc with propensities A 0.55," \
        "B 1.5 from train. \"kNN\" rows: the 20 nearest training documents (same fine-tuned encoder) vote," \
        "fused as (1 - w) label score + w vote." "")" \
    "$(result_table loss loss=loss scoring=scoring budget=budget trained=trained steps=steps p_1:.4f=P@1 p_3:.4f=P@3 p_5:.4f=P@5 \
        ndcg_5:.4f=nDCG@5 psp_1:.4f=PSP@1 psp_5:.4f=PSP@5 r_10:.4f=R@10 predict_docs_s:.1f="predict docs/s" \
        load_before="load before" command=command)")"
budget_label="$minutes min"
[ -n "${STOP_AFTER:-}" ] && budget_label="$STOP_AFTER steps"
score() {  # LABEL PREDICT_FLAGS...
    local label="$1"; shift
    local t0=$(date +%s.%N)
    "$dk" xmc predict --model "$model" --labels "$data/labels.tsv" --docs "$data/dev.jsonl" -k 10 --label-index "$model.labels.index" \
        "$@" -o "$model.dev.tsv" --quiet
    local rate=$(python3 -c "print('%.1f' % (2941 / ($(date +%s.%N) - $t0)))")
    local json="$("$dk" eval --xmc --truth "$data/dev.jsonl" --predictions "$model.dev.tsv" --train "$data/train.jsonl" \
        --metrics P@1,P@3,P@5,nDCG@5,PSP@1,PSP@5,R@10 --json)"
    m() { python3 -c "import json,sys; print('%.4f' % json.loads(sys.argv[1])['metrics'][sys.argv[2]])" "$json" "$1"; }
    result_row "$result" loss "$init" "$(json_object loss "$loss ${EXTRA:-}" scoring "$label" f:budget "$budget_label" f:trained "${trained} s" \
        n:steps "$done_steps" n:p_1 "$(m P@1)" n:p_3 "$(m P@3)" n:p_5 "$(m P@5)" n:ndcg_5 "$(m nDCG@5)" n:psp_1 "$(m PSP@1)" \
        n:psp_5 "$(m PSP@5)" n:r_10 "$(m R@10)" n:predict_docs_s "$rate" load_before "$load_before" command "\`${cmd[*]}\`")"
}
score "label scores"
# The first kNN call embeds the training documents into $model.knn.index (its docs/s includes that).
score "kNN-20 + labels, w ${KNN_WEIGHT:-0.5}" --knn-train "$data/train.jsonl" --knn-k 20 --knn-weight "${KNN_WEIGHT:-0.5}" --knn-index "$model.knn.index"
score "kNN-20 alone" --knn-train "$data/train.jsonl" --knn-k 20 --knn-weight 1 --knn-index "$model.knn.index"
