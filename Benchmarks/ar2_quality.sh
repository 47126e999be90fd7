#!/usr/bin/env bash
# AR2 on debian-pkg at a CPU budget, beside the same CPU time of plain continued fine-tuning.
#
#   Benchmarks/ar2_quality.sh PATH/TO/debian-pkg ar2
#   Benchmarks/ar2_quality.sh PATH/TO/debian-pkg continue MINUTES
#
# ar2: `densekit train ar2` from RETRIEVER (default: issue 11's best retriever,
# $out/ft-infonce-denseneg) and RANKER (default: the densekit cross-encoder $out/ce-ftneg), with
# the dev set evaluated before training and after each cycle (retriever MRR@10, R@10, R@50,
# R@100 over the full collection; ranker reranking the retriever's top 20); then the starting
# ranker reranks the final retriever's top 20 too, so both rankers are compared on one first
# stage. Scaled down from the paper to finish within 2 hours on 2 cores: CYCLES (2) cycles of
# RANKER_STEPS (60) ranker and RETRIEVER_STEPS (300) retriever steps, BATCH (8) queries x
# CANDIDATES (8) passages from the top DEPTH (100), RETRIEVER_LR (5e-6), RANKER_LR (2e-6: the
# starting ranker had 360 steps at 2e-5 and is not converged, so a tenth of that rather than
# the paper's 5e-7), passages at 128 tokens (training, the cycles' indexes and evaluation).
#
# continue: the plain alternative for MINUTES of training (the ar2 run's, from its row): InfoNCE
# from RETRIEVER with one negative per query from NEGATIVES (default
# $out/negatives.dense.train.tsv, which RETRIEVER was trained on), refreshed every REFRESH_EVERY
# (150) steps, batch 32, lr 5e-6; evaluated the same way (index at 128 tokens, dev top 100).
#
# Appends rows to Benchmarks/results/ar2-runs-DATE.json (or RESULT; RESULT=NAME.md means the .json
# beside it), from which Benchmarks/results.py renders the .md. DENSEKIT_BIN: the binary to use.
set -euo pipefail
corpus="$(realpath "${1:?usage: $0 PATH/TO/debian-pkg ar2|continue [MINUTES]}")"
system="${2:?usage: $0 PATH/TO/debian-pkg ar2|continue [MINUTES]}"
source "$(dirname "$0")/common.sh"
result="$(result_json "${RESULT:-Benchmarks/results/ar2-runs-$(date +%Y-%m-%d).json}")"
retriever="${RETRIEVER:-$out/ft-infonce-denseneg}"
ranker="${RANKER:-$out/ce-ftneg}"
name="${RUN_NAME:-ar2-$system}"
model="$out/$name"
dev=(--queries "$corpus/queries.dev.tsv")
train=(--collection "$corpus/collection.tsv" --queries "$corpus/queries.train.tsv" --qrels "$corpus/qrels.train.tsv")
load_before="$(cut -d' ' -f1-3 /proc/loadavg)"
init="$(result_init "$result" "AR2 on debian-pkg at a CPU budget" "$machine" '[]' \
    "$(result_markdown "" "Machine: $machine. Dev: 2,000 queries over the full collection (59,783 passages at 128 tokens," \
        "exact inner product), top 100; the ranker reranks the retriever's top 20. Commands in each row." "")" \
    "$(result_table system system=system point=point trained=trained mrr_10:.4f=MRR@10 r_10:.4f=R@10 r_50:.4f=R@50 r_100:.4f=R@100 \
        ranker_mrr_10:.4f="ranker MRR@10 (top 20)" load_before="load before" command=command)")"
# row SYSTEM POINT TRAINED MRR@10 R@10 R@50 R@100 RANKER_MRR@10 COMMAND: one row of table system
# (created with the header above on the first row of the day); "-" where there is no figure.
row() {
    result_row "$result" system "$init" "$(json_object system "$1" point "$2" f:trained "$3" n:mrr_10 "$4" n:r_10 "$5" n:r_50 "$6" \
        n:r_100 "$7" n:ranker_mrr_10 "$8" load_before "$load_before" command "\`$9\`")"
}
f() { python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print('%.4f' % d[sys.argv[2]][sys.argv[3]])" "$@"; }

case "$system" in
ar2)
    rm -rf "$model"
    cmd=("$dk" train ar2 --retriever "$retriever" --ranker "$ranker" "${train[@]}"
         --cycles "${CYCLES:-2}" --ranker-steps "${RANKER_STEPS:-60}" --retriever-steps "${RETRIEVER_STEPS:-300}"
         --candidates "${CANDIDATES:-8}" --candidate-depth "${DEPTH:-100}" --batch-size "${BATCH:-8}"
         --retriever-lr "${RETRIEVER_LR:-5e-6}" --ranker-lr "${RANKER_LR:-2e-6}" --adv-lambda 0.5 --temperature 1
         --passage-max-length 128 --eval-queries "$corpus/queries.dev.tsv" --eval-qrels "$corpus/qrels.dev.tsv"
         --eval-rerank-depth 20 --seed 42 --out "$model")
    start=$(date +%s)
    "${cmd[@]}" 2>&1 | tee "$model.log" >&2
    trained=$(( $(date +%s) - start ))
    cycle=0
    for file in "$model"/cycles/step-*.evaluation.json; do
        step="$(basename "$file" .evaluation.json)"
        point="before (step ${step#step-})"
        [ "$cycle" -gt 0 ] && point="after cycle $cycle (step ${step#step-})"
        cycle=$((cycle + 1))
        row "AR2" "$point" "$trained s" "$(f "$file" retriever MRR@10)" "$(f "$file" retriever R@10)" "$(f "$file" retriever R@50)" \
            "$(f "$file" retriever R@100)" "$(f "$file" ranker MRR@10)" "${cmd[*]}"
    done
    # The starting ranker on the final retriever's top 20: the AR2 ranker's last row read the same list.
    final="$(ls -d "$model"/cycles/step-*/ | tail -n 1)"
    final="${final%/}"
    "$dk" search --index "$final/index" "${dev[@]}" -k 20 --rerank "$ranker" --rerank-depth 20 -o "$model.start-ranker.tsv" --quiet
    scores="$("$dk" eval --qrels "$corpus/qrels.dev.tsv" --run "$model.start-ranker.tsv" --metrics MRR@10 --json)"
    row "starting ranker" "final top 20" "-" "-" "-" "-" "-" "$(python3 -c "import json,sys; print('%.4f' % json.loads(sys.argv[1])['metrics']['MRR@10'])" "$scores")" \
        "densekit search --index $final/index -k 20 --rerank $ranker --rerank-depth 20" ;;
continue)
    minutes="${3:?continue needs MINUTES (the training time of the ar2 run)}"
    rm -rf "$model" "$model.index"
    cmd=("$dk" train dual --model "$retriever" "${train[@]}" --negatives "${NEGATIVES:-$out/negatives.dense.train.tsv}"
         --refresh-every "${REFRESH_EVERY:-150}" --loss infonce --batch-size 32 --lr "${LR:-5e-6}" --steps "${STEPS:-2000}"
         --warmup 0 --passage-max-length 128 --seed 42 --time-budget "$minutes" --out "$model" --quiet)
    start=$(date +%s)
    "${cmd[@]}" 2>&1 | tee "$model.log" >&2
    trained=$(( $(date +%s) - start ))
    "$dk" index build --model "$model" --index "$model.index" --collection "$corpus/collection.tsv" --max-length 128 --quiet >&2
    "$dk" search --index "$model.index" "${dev[@]}" -k 100 -o "$model.run.tsv" --quiet
    scores="$("$dk" eval --qrels "$corpus/qrels.dev.tsv" --run "$model.run.tsv" --metrics MRR@10,R@10,R@50,R@100 --json)"
    j() { python3 -c "import json,sys; print('%.4f' % json.loads(sys.argv[1])['metrics'][sys.argv[2]])" "$scores" "$1"; }
    row "continued InfoNCE, refreshed negatives" "end ($minutes min)" "$trained s" "$(j MRR@10)" "$(j R@10)" "$(j R@50)" "$(j R@100)" "-" "${cmd[*]}" ;;
*) echo "unknown system $system (ar2 or continue)" >&2; exit 2 ;;
esac
