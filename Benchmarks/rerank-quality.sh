#!/usr/bin/env bash
# Reranking quality: a cross-encoder trained by densekit against one trained by
# sentence-transformers for the same wall-clock budget, from the same starting model, on the same
# data, negatives and loss; each reranks the top 20 of two first stages for the dev queries.
#
#   Benchmarks/rerank-quality.sh PATH/TO/debian-pkg NEGATIVES RUN_ZERO_SHOT RUN_DUAL [MINUTES] [RESULT.md]
#
# NEGATIVES: qid<TAB>pid,... for the training queries, mined by densekit from its own index
# (`densekit mine --index ... -k 30 --keep 15`). RUN_ZERO_SHOT / RUN_DUAL: dev runs of
# all-MiniLM-L6-v2 and of the best densekit dual encoder over the full collection. Both trainers:
# listwise loss, 16 queries x 8 passages per step, max length 256, lr 2e-5, 10% warm-up then
# linear decay over the steps each plans for the budget (from its own measured seconds per
# step: DK_STEPS, ST_STEPS), clipping 1, 2 threads, seed 42; stopped by the budget. Both models
# rerank with `densekit rerank` (the two agree with sentence-transformers' predict to 5e-7:
# ce_compat.sh). Metrics: MRR@10, R@10, nDCG@10 (`densekit eval`). Writes RESULT.json (default
# Benchmarks/results/rerank-quality-DATE.json; a RESULT.md argument means the .json beside it),
# from which Benchmarks/results.py renders the .md.
set -euo pipefail
usage="usage: $0 PATH/TO/debian-pkg NEGATIVES RUN_ZERO_SHOT RUN_DUAL [MINUTES] [RESULT.md]"
corpus="$(realpath "${1:?$usage}")"; negatives="$(realpath "${2:?$usage}")"
run_zero="$(realpath "${3:?$usage}")"; run_dual="$(realpath "${4:?$usage}")"
minutes="${5:-30}"
result="${6:-Benchmarks/results/rerank-quality-$(date +%Y-%m-%d).json}"
dk_steps="${DK_STEPS:-340}" st_steps="${ST_STEPS:-73}"
source "$(dirname "$0")/common.sh"
result="$(result_json "$result")"
dk_out="$out/ce-quality-densekit" st_out="$out/ce-quality-st"
rm -rf "$dk_out" "$st_out"
train=(--collection "$corpus/collection.tsv" --queries "$corpus/queries.train.tsv" --qrels "$corpus/qrels.train.tsv"
       --negatives "$negatives" --loss listwise --group-size 8 --batch-size 16 --max-length 256 --lr 2e-5 --seed 42)
load_before="$(cut -d' ' -f1-3 /proc/loadavg)"
dk_cmd=("$dk" train cross --model "$DENSEKIT_MODEL" "${train[@]}" --steps "$dk_steps" --warmup $((dk_steps / 10))
        --time-budget "$minutes" --threads 2 --out "$dk_out")
echo "densekit: ${dk_cmd[*]}" >&2
"${dk_cmd[@]}" 2> "$out/ce-quality-densekit.log" | tee "$out/ce-quality-densekit.out"
st_cmd=("$venv/bin/python" Benchmarks/st_train_cross.py --model "$DENSEKIT_MODEL" "${train[@]}" --steps "$st_steps"
        --time-budget "$minutes" --threads 2 --out "$st_out")
echo "sentence-transformers: ${st_cmd[*]}" >&2
st_json="$("${st_cmd[@]}" 2> "$out/ce-quality-st.log" | tail -n 1)"
echo "$st_json" > "$out/ce-quality-st.json"
load_after="$(cut -d' ' -f1-3 /proc/loadavg)"

metrics="MRR@10,R@10,nDCG@10"
# evaluate RUN FIRST_STAGE CROSS_ENCODER: a row of table first_stage (JSON; metrics rounded as shown).
evaluate() { "$dk" eval --qrels "$corpus/qrels.dev.tsv" --run "$1" --metrics "$metrics" --json | python3 -c '
import json, sys
m = json.load(sys.stdin)["metrics"]
print(json.dumps({"first_stage": sys.argv[1], "cross_encoder": sys.argv[2] or None,
                  "mrr_10": round(m["MRR@10"], 4), "r_10": round(m["R@10"], 4), "ndcg_10": round(m["nDCG@10"], 4)}))' "$2" "$3"; }
rows=()
for stage in zero dual; do
    [ "$stage" = zero ] && first="$run_zero" label="all-MiniLM-L6-v2 zero-shot" || { first="$run_dual"; label="best densekit dual encoder"; }
    top="$out/ce-quality.$stage.top20.tsv"
    awk '{ if (NF == 6) { q = $1; p = $3; r = $4 } else { q = $1; p = $2; r = $3 } } r <= 20 { print q "\t" p "\t" r }' "$first" > "$top"
    rows+=(first_stage "$(evaluate "$top" "$label, top 20 (before)" "")")
    for who in densekit st; do
        model="$out/ce-quality-$who"
        reranked="$out/ce-quality.$stage.$who.trec"
        "$dk" rerank --model "$model" --run "$top" --queries "$corpus/queries.dev.tsv" --collection "$corpus/collection.tsv" \
            --depth 20 --format trec --output "$reranked" --batch-size 32 --max-length 256 --threads 2 2> "$out/ce-quality.rerank.$stage.$who.log"
        rows+=(first_stage "$(evaluate "$reranked" "$label, top 20 reranked" "$who")")
    done
done
dk_steps_done="$(grep -o 'after [0-9]* of' "$out/ce-quality-densekit.out" | awk '{print $2}')"
dk_seconds="$(grep -o '([0-9]* s)' "$out/ce-quality-densekit.out" | tr -d '(s )')"
field() { python3 -c "import json,sys; print(json.loads(sys.argv[1])[sys.argv[2]])" "$st_json" "$1"; }
st_steps_done="$(field steps)" st_seconds="$(field seconds)"
dk_pps="$(python3 -c "print(round($dk_steps_done * 128 / $dk_seconds, 2))")"
st_pps="$(python3 -c "print(round($st_steps_done * 128 / $st_seconds, 2))")"
ratio="$(python3 -c "print(round($dk_pps / $st_pps, 2))")"
steps_id="steps_in_${minutes//[^A-Za-z0-9]/_}_min"
machine_line="$machine; densekit BLAS core $("$dk" system --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["blas_core"])'); $("$venv/bin/python" -c 'import torch, sentence_transformers as s; print("torch", torch.__version__, "sentence-transformers", s.__version__)')" || true
init="$(result_init "$result" "Reranking quality: cross-encoders trained $minutes minutes by densekit and by sentence-transformers" "$machine_line" \
    "$(json_strings "${dk_cmd[*]}" "${st_cmd[*]}")" \
    "$(result_markdown "" "- date: $(date -u +%Y-%m-%dT%H:%MZ)" "- machine: $machine_line" "- load average before / after training: $load_before / $load_after" \
        "- densekit: \`${dk_cmd[*]}\`" "- sentence-transformers: \`${st_cmd[*]}\`" \
        "- reranking: \`$dk rerank --model MODEL --run TOP20 --queries $corpus/queries.dev.tsv --collection $corpus/collection.tsv --depth 20 --format trec ...\`; metrics by \`densekit eval\` over the 2,000 dev queries" "")" \
    "$(result_table training training=training "$steps_id=steps in $minutes min" pairs_s=pairs/s ratio=ratio)" \
    "$(result_markdown "")" \
    "$(result_table first_stage first_stage="first stage" cross_encoder=cross-encoder mrr_10:.4f=MRR@10 r_10:.4f=R@10 ndcg_10:.4f=nDCG@10)" \
    "$(result_markdown "" "Raw: sentence-transformers \`$st_json\`; densekit's training log in \`$out/ce-quality-densekit.log\`.")")"
result_doc "$result" "$init" \
    training "$(json_object training densekit "f:$steps_id" "$dk_steps_done of $dk_steps planned" n:pairs_s "$dk_pps" f:ratio "**${ratio}x**")" \
    training "$(json_object training sentence-transformers "f:$steps_id" "$st_steps_done of $st_steps planned" n:pairs_s "$st_pps" n:ratio 1)" \
    "${rows[@]}"
cat "$(result_md "$result")"
