#!/usr/bin/env bash
# The README's report picture from scratch: a short fine-tune of all-MiniLM-L6-v2 on debian-pkg
# train that evaluates at its checkpoints (so train.jsonl holds loss, learning rate and dev
# MRR@10), the zero-shot and fine-tuned models' runs over the whole collection for the 2,000 dev
# queries, then Benchmarks/report_page.sh, which renders the report with Chromium to
# docs/report.png and checks what it drew.
#
#   Benchmarks/report_training.sh PATH/TO/debian-pkg [STEPS]
#
# STEPS (default 300): batch 32, in-batch negatives, lr 2e-5 with 30 warm-up steps, a checkpoint
# every 100 steps. The checkpoints' dev MRR@10 is measured on a slice, to keep each evaluation
# short: the first 500 dev queries over their relevant passages and the collection's first
# 2,000 (so those figures are higher than the whole collection's, which the report's table
# gives). About 35 minutes on 2 cores (2026-12-02, AMD EPYC: training 459 s, encoding the
# collection 681 s with the fine-tuned model, about as long again with the zero-shot one).
set -euo pipefail
corpus="$(realpath "${1:?usage: $0 PATH/TO/debian-pkg [STEPS]}")"
steps="${2:-300}"
source "$(dirname "$0")/common.sh"
work="$out/report-training"
mkdir -p "$work"

# The dev slice the checkpoints are scored on.
head -n 500 "$corpus/queries.dev.tsv" > "$work/eval.queries.tsv"
python3 - "$corpus" "$work" <<'PY'
import sys
corpus, work = sys.argv[1:3]
qids = {line.split("\t", 1)[0] for line in open(f"{work}/eval.queries.tsv")}
wanted = {f[2] for f in (l.split() for l in open(f"{corpus}/qrels.dev.tsv")) if f[0] in qids and int(f[3]) > 0}
kept = 0
with open(f"{corpus}/collection.tsv") as source, open(f"{work}/eval.collection.tsv", "w") as slice_:
    for number, line in enumerate(source):
        pid = line.split("\t", 1)[0]
        if number < 2000 or pid in wanted:
            slice_.write(line)
            kept += 1
print(f"report_training: eval slice of {len(qids)} queries over {kept} passages", file=sys.stderr)
PY

model="$work/model"
rm -rf "$model" "$model.index"
"$dk" train dual --collection "$corpus/collection.tsv" --queries "$corpus/queries.train.tsv" --qrels "$corpus/qrels.train.tsv" \
    --loss infonce --batch-size 32 --lr 2e-5 --steps "$steps" --warmup 30 --checkpoint-every 100 \
    --eval-queries "$work/eval.queries.tsv" --eval-qrels "$corpus/qrels.dev.tsv" --eval-collection "$work/eval.collection.tsv" \
    --out "$model" >&2

# Both models over the whole collection (the zero-shot index is shared with the other scripts).
zero_index="$out/debian-pkg.index"
"$dk" index build --index "$zero_index" --collection "$corpus/collection.tsv" --quiet >&2  # resumes a killed build
"$dk" index build --index "$model.index" --model "$model" --collection "$corpus/collection.tsv" --quiet >&2
"$dk" search --index "$zero_index" --queries "$corpus/queries.dev.tsv" -k 1000 -o "$work/zero-shot.run.tsv" --quiet
"$dk" search --index "$model.index" --queries "$corpus/queries.dev.tsv" -k 1000 -o "$work/fine-tuned.run.tsv" --quiet
Benchmarks/report_page.sh "$corpus" "$work/zero-shot.run.tsv" "$work/fine-tuned.run.tsv" "$model"
