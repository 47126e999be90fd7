#!/usr/bin/env bash
# Training throughput: densekit against sentence-transformers in one run on one machine.
#
#   Benchmarks/train.sh PATH/TO/debian-pkg [RESULT.md]
#
# Batch 32 training pairs plus one hard negative each, max length 256, AdamW, 2 threads; peak
# memory at batch 128 with GradCache (chunk 16) and without (one chunk per worker).
# The hard negative of a query is a fixed non-relevant passage (speed does not depend on how
# it was mined); Benchmarks/out/negatives.speed.tsv records them.
set -euo pipefail
corpus="$(realpath "${1:?usage: $0 PATH/TO/debian-pkg [RESULT.md]}")"
result="${2:-Benchmarks/results/train-$(date +%Y-%m-%d).md}"
source "$(dirname "$0")/common.sh"

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
mkdir -p "$(dirname "$result")"
cat > "$result" <<MD
# Training throughput: densekit vs sentence-transformers

- date: $(date -u +%Y-%m-%dT%H:%MZ)
- machine: $machine
- load average before / after: $load_before / $load_after
- command: \`Benchmarks/train.sh $corpus\`; all-MiniLM-L6-v2, max length 256, AdamW, clipping 1.0, 2 threads

| measure | densekit | sentence-transformers (MNRL) | ratio |
|---|---|---|---|
| batch 32 + 1 hard negative: s/step | $(j "$dk32" seconds_per_step) | $(j "$st32" seconds_per_step) | |
| pairs/s | $(j "$dk32" pairs_per_second) | $(j "$st32" pairs_per_second) | **${ratio}x** |
| peak memory (MB), batch 32 | $(j "$dk32" peak_rss_mb) | $(j "$st32" peak_rss_mb) | |

| densekit, batch 128 + 1 hard negative | s/step | peak memory (MB) |
|---|---|---|
| GradCache, chunks of 16 | $(j "$dk128gc" seconds_per_step) | $(j "$dk128gc" peak_rss_mb) |
| without (one chunk per worker) | $(j "$dk128plain" seconds_per_step) | $(j "$dk128plain" peak_rss_mb) |
| one chunk per worker, gradient checkpointing (layers recomputed) | $(j "$dk128ckpt" seconds_per_step) | $(j "$dk128ckpt" peak_rss_mb) |
| GradCache chunks of 16 and gradient checkpointing | $(j "$dk128both" seconds_per_step) | $(j "$dk128both" peak_rss_mb) |

Raw: densekit \`$dk32\`; sentence-transformers \`$st32\`; GradCache \`$dk128gc\`; plain \`$dk128plain\`;
checkpointing \`$dk128ckpt\`; both \`$dk128both\`.
MD
cat "$result"
