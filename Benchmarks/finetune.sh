#!/usr/bin/env bash
# Fine-tuning quality at a fixed CPU budget, densekit's losses beside sentence-transformers.
#
#   Benchmarks/finetune.sh PATH/TO/debian-pkg SYSTEM [MINUTES]
#
# SYSTEM: infonce | dcl | decoupled-softmax | infonce-128 (batch 128, GradCache) | st-mnrl |
# st-cmnrl-128. Each trains all-MiniLM-L6-v2 on debian-pkg train (1 mined hard negative per
# query, from the zero-shot model's top 30 minus positives) for MINUTES (default 30) of wall
# clock, then indexes the full collection with the trained model (max length 256), retrieves
# the top 100 for the 2,000 dev queries and evaluates. Appends one row to
# Benchmarks/results/finetune-DATE.md. sentence-transformers models are evaluated through
# densekit too (identical embeddings, see st-compat), so both sides are scored the same way.
set -euo pipefail
corpus="$(realpath "${1:?usage: $0 PATH/TO/debian-pkg SYSTEM [MINUTES]}")"
system="${2:?usage: $0 PATH/TO/debian-pkg SYSTEM [MINUTES]}"
minutes="${3:-30}"
source "$(dirname "$0")/common.sh"
result="Benchmarks/results/finetune-$(date +%Y-%m-%d).md"

# Hard negatives from the zero-shot model, once.
zero="$out/debian-pkg.index"
"$dk" index build --index "$zero" --collection "$corpus/collection.tsv" --quiet >&2
[ -s "$out/negatives.train.tsv" ] || "$dk" mine --index "$zero" --queries "$corpus/queries.train.tsv" \
    --qrels "$corpus/qrels.train.tsv" -k 30 --keep 10 -o "$out/negatives.train.tsv"

model="$out/ft-$system"
rm -rf "$model" "$model.index"
train=(--collection "$corpus/collection.tsv" --queries "$corpus/queries.train.tsv" --qrels "$corpus/qrels.train.tsv" --negatives "$out/negatives.train.tsv")
# Planned steps ~ what the budget allows, so the linear decay ends near the budget (seconds per
# step measured on 2 cores at max length 128: densekit 1.7 s and sentence-transformers 2.7 s with
# in-batch negatives only; a hard negative per query adds roughly half).
case "$system" in
    infonce|dcl|decoupled-softmax)
        steps=$(python3 -c "print(int($minutes * 60 / 2.5))")
        cmd=("$dk" train dual "${train[@]}" --loss "$system" --batch-size 32 --chunk-size 16 --lr 2e-5 --steps "$steps" --warmup $((steps / 10)) --time-budget "$minutes" --out "$model" --quiet) ;;
    infonce-128)
        steps=$(python3 -c "print(int($minutes * 60 / 10))")
        cmd=("$dk" train dual "${train[@]}" --loss infonce --batch-size 128 --chunk-size 16 --lr 2e-5 --steps "$steps" --warmup $((steps / 10)) --time-budget "$minutes" --out "$model" --quiet) ;;
    st-mnrl)
        steps=$(python3 -c "print(int($minutes * 60 / 4))")
        cmd=("$venv/bin/python" Benchmarks/st_finetune.py --model "$DENSEKIT_MODEL" "${train[@]}" --batch-size 32 --steps "$steps" --minutes "$minutes" --out "$model") ;;
    st-cmnrl-128)
        steps=$(python3 -c "print(int($minutes * 60 / 16))")
        cmd=("$venv/bin/python" Benchmarks/st_finetune.py --model "$DENSEKIT_MODEL" "${train[@]}" --batch-size 128 --mini-batch 16 --steps "$steps" --minutes "$minutes" --out "$model") ;;
    *) echo "unknown system $system" >&2; exit 2 ;;
esac
load_before="$(cut -d' ' -f1-3 /proc/loadavg)"
start=$(date +%s)
"${cmd[@]}" >&2
trained=$(( $(date +%s) - start ))
"$dk" index build --model "$model" --index "$model.index" --collection "$corpus/collection.tsv" --quiet >&2
"$dk" search --index "$model.index" --queries "$corpus/queries.dev.tsv" -k 100 -o "$out/run.$system.tsv" --quiet
scores="$("$dk" eval --qrels "$corpus/qrels.dev.tsv" --run "$out/run.$system.tsv" --metrics MRR@10,R@10,R@100,nDCG@10 --json)"
j() { python3 -c "import json,sys; print('%.4f' % json.loads(sys.argv[1])['metrics'][sys.argv[2]])" "$scores" "$1"; }
if [ ! -f "$result" ]; then
    cat > "$result" <<MD
# Fine-tuning all-MiniLM-L6-v2 on debian-pkg at a fixed CPU budget

Machine: $machine. Train queries with 1 mined hard negative each (zero-shot top 30 minus
positives), AdamW lr 2e-5, 10% warm-up, linear decay, clipping 1.0; evaluation on the 2,000 dev
queries over the full collection (top 100, max length 256). Zero-shot: MRR@10 0.5599; BM25 0.6148.

| system | budget | trained | MRR@10 | R@10 | R@100 | nDCG@10 | load before | command |
|---|---|---|---|---|---|---|---|---|
MD
fi
echo "| $system | $minutes min | ${trained} s | $(j MRR@10) | $(j R@10) | $(j R@100) | $(j nDCG@10) | $load_before | \`${cmd[*]}\` |" >> "$result"
tail -n 1 "$result"
