#!/usr/bin/env bash
# Training throughput: densekit against sentence-transformers in one run on one machine.
#
#   Benchmarks/train.sh PATH/TO/debian-pkg [RESULT.md]
#
# Batch 32 training pairs plus one hard negative each, max length 256, AdamW, 2 threads; peak
# memory at batch 128 with GradCache (chunk 16) and without (one chunk per worker).
# The hard negative of a query is a fixed non-relevant passage (speed does not depend on how
# it was mined); Benchmarks/out/negatives.speed.tsv records them. Writes RESULT.json (default
# Benchmarks/results/train-DATE.json; a RESULT.md argument means the .json beside it), from which
# Benchmarks/results.py renders RESULT.md.
set -euo pipefail
corpus="$(realpath "${1:?usage: $0 PATH/TO/debian-pkg [RESULT.md]}")"
result="${2:-Benchmarks/results/train-$(date +%Y-%m-%d).md}"
source "$(dirname "$0")/common.sh"
result="$(result_json "$result")"

# A deterministic non-relevant passage per training query.
awk -F'\t' 'NR == FNR { n++; pid[n] = $1; next } { print $1 "\t" pid[($1 * 7919) % n + 1] }' \
    "$corpus/collection.tsv" "$corpus/queries.train.tsv" > "$out/negatives.speed.tsv"
load_before="$(cut -d' ' -f1-3 /proc/loadavg)"
common=(--collection "$corpus/collection.tsv" --queries "$corpus/queries.train.tsv" --qrels "$corpus/qrels.train.tsv" --negatives "$out/negatives.speed.tsv")
dk32="$("$dk" bench train "${common[@]}" --batch-size 32 --steps 5 --threads 2)"
st32="$("$venv/bin/python" Benchmarks/st_train.py --model "$DENSEKIT_MODEL" "${common[@]}" --batch-size 32 --steps 3 --threads 2)"
dk128gc="$("$dk" bench train "${common[@]}" --batch-size 128 --chunk-size 16 --steps 2 --threads 2)"
dk128plain="$("$dk" bench train "${common[@]}" --batch-size 128 --chunk-size 192 --steps 2 --threads 2)"
dk128ckpt="$("$dk" bench train "${common[@]}" --batch-size 128 --chunk-size 192 --steps 2 --threads 2 --gradient-checkpointing)"
dk128both="$("$dk" bench train "${common[@]}" --batch-size 128 --chunk-size 16 --steps 2 --threads 2 --gradient-checkpointing)"
load_after="$(cut -d' ' -f1-3 /proc/loadavg)"

j() { python3 -c "import json,sys; print(round(json.loads(sys.argv[1])[sys.argv[2]], 2))" "$1" "$2"; }
ratio="$(python3 -c "print(round($(j "$dk32" pairs_per_second) / $(j "$st32" pairs_per_second), 2))")"
init="$(result_init "$result" "Training throughput: densekit vs sentence-transformers" "$machine" "$(json_strings "Benchmarks/train.sh $corpus")" \
    "$(result_markdown "" "- date: $(date -u +%Y-%m-%dT%H:%MZ)" "- machine: $machine" "- load average before / after: $load_before / $load_after" \
        "- command: \`Benchmarks/train.sh $corpus\`; all-MiniLM-L6-v2, max length 256, AdamW, clipping 1.0, 2 threads" "")" \
    "$(result_table measure measure=measure densekit=densekit sentence_transformers="sentence-transformers (MNRL)" ratio=ratio)" \
    "$(result_markdown "")" \
    "$(result_table densekit_batch_128_1_hard_negative "densekit_batch_128_1_hard_negative=densekit, batch 128 + 1 hard negative" \
        s_step=s/step peak_memory="peak memory (MB)")" \
    "$(result_markdown "" "Raw: densekit \`$dk32\`; sentence-transformers \`$st32\`; GradCache \`$dk128gc\`; plain \`$dk128plain\`;" \
        "checkpointing \`$dk128ckpt\`; both \`$dk128both\`.")")"
b128() { json_object densekit_batch_128_1_hard_negative "$1" n:s_step "$(j "$2" seconds_per_step)" n:peak_memory "$(j "$2" peak_rss_mb)"; }
result_doc "$result" "$init" \
    measure "$(json_object measure "batch 32 + 1 hard negative: s/step" n:densekit "$(j "$dk32" seconds_per_step)" n:sentence_transformers "$(j "$st32" seconds_per_step)")" \
    measure "$(json_object measure pairs/s n:densekit "$(j "$dk32" pairs_per_second)" n:sentence_transformers "$(j "$st32" pairs_per_second)" f:ratio "**${ratio}x**")" \
    measure "$(json_object measure "peak memory (MB), batch 32" n:densekit "$(j "$dk32" peak_rss_mb)" n:sentence_transformers "$(j "$st32" peak_rss_mb)")" \
    densekit_batch_128_1_hard_negative "$(b128 "GradCache, chunks of 16" "$dk128gc")" \
    densekit_batch_128_1_hard_negative "$(b128 "without (one chunk per worker)" "$dk128plain")" \
    densekit_batch_128_1_hard_negative "$(b128 "one chunk per worker, gradient checkpointing (layers recomputed)" "$dk128ckpt")" \
    densekit_batch_128_1_hard_negative "$(b128 "GradCache chunks of 16 and gradient checkpointing" "$dk128both")"
cat "$(result_md "$result")"
