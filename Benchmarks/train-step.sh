#!/usr/bin/env bash
# One training step, batch 32 with in-batch negatives: densekit against sentence-transformers'
# MultipleNegativesRankingLoss in one run, and where densekit's step spends its time.
#
#   Benchmarks/train-step.sh PATH/TO/debian-pkg [RESULT.md]
#
# Both: all-MiniLM-L6-v2, 32 training queries and one relevant passage each (the fine-tuning
# recipe of Benchmarks/finetune.sh), max length 128, AdamW, clipping 1.0, 2 threads, STEPS timed
# steps (default 10) after one untimed warm-up step. densekit also reports its phases (forward,
# loss, backward, gradient sum, clipping, optimizer) and, with PERF=1 where `perf` works, the
# hottest functions of the whole step. Writes RESULT.json (default
# Benchmarks/results/train-step-DATE.json; a RESULT.md argument means the .json beside it), from
# which Benchmarks/results.py renders RESULT.md.
set -euo pipefail
corpus="$(realpath "${1:?usage: $0 PATH/TO/debian-pkg [RESULT.md]}")"
result="${2:-Benchmarks/results/train-step-$(date +%Y-%m-%d).md}"
steps="${STEPS:-10}"
source "$(dirname "$0")/common.sh"
result="$(result_json "$result")"

load_before="$(cut -d' ' -f1-3 /proc/loadavg)"
system_line="$("$dk" system --json)"
common=(--collection "$corpus/collection.tsv" --queries "$corpus/queries.train.tsv" --qrels "$corpus/qrels.train.tsv")
dk_cmd=("$dk" bench train "${common[@]}" --batch-size 32 --query-max-length 128 --passage-max-length 128 --steps "$steps" --threads 2)
st_cmd=("$venv/bin/python" Benchmarks/st_train.py --model "$DENSEKIT_MODEL" "${common[@]}" --batch-size 32 --max-length 128 --steps "$steps" --threads 2)
dk="$("${dk_cmd[@]}")"
dk16="$("${dk_cmd[@]}" --chunk-size 16)"
st="$("${st_cmd[@]}")"
load_after="$(cut -d' ' -f1-3 /proc/loadavg)"
profile=""
if [ "${PERF:-0}" = 1 ] && command -v perf >/dev/null; then
    perf record -q -g -o "$out/train-step.perf" -- "${dk_cmd[@]}" --steps 4 >/dev/null 2>&1 || true
    # perf pads each line with empty columns; Swift symbols are demangled when swift is at hand.
    demangle=(cat); command -v swift >/dev/null && demangle=(swift demangle --simplified)
    profile="$(perf report -i "$out/train-step.perf" --no-children --percent-limit 1.5 --stdio --sort symbol 2>/dev/null | grep -E '^ +[0-9.]+%' \
        | sed -E 's/([[:space:]]+-)*[[:space:]]*$//' | "${demangle[@]}" | head -25 || true)"
fi

profile_section=""
if [ -n "$profile" ]; then
    profile_section="$(printf '## Hottest functions (perf record -g, 4 steps, self time)\n```\n%s\n```\n' "$profile")"
fi
j() { python3 -c "import json,sys; v=json.loads(sys.argv[1])$2; print(round(v, 3) if isinstance(v, float) else v)" "$1"; }
ratio="$(python3 -c "print(round($(j "$st" '["seconds_per_step"]') / $(j "$dk" '["seconds_per_step"]'), 2))")"
ratio16="$(python3 -c "print(round($(j "$st" '["seconds_per_step"]') / $(j "$dk16" '["seconds_per_step"]'), 2))")"
# The phase rows (JSON, one a line): seconds per step as the figure, with its share of the step.
python3 - "$dk" "$dk16" > "$out/train-step.phases.json" <<'PY'
import json, sys
a, b = (json.loads(x) for x in sys.argv[1:3])
def cell(p, step):
    return {"value": round(p, 3), "text": f"{p:.3f} ({100 * p / step:.0f}%)"}
for name in ["tokenize", "forward", "loss", "backward", "gradient_sum", "clipping", "optimizer"]:
    pa, pb = a["phase_seconds_per_step"][name], b["phase_seconds_per_step"][name]
    print(json.dumps({"phase": name, "default_chunking": cell(pa, a["seconds_per_step"]), "chunk_size_16": cell(pb, b["seconds_per_step"])}))
PY
phase_rows=()
while read -r row; do phase_rows+=(phase "$row"); done < "$out/train-step.phases.json"
machine_line="$machine; densekit BLAS core $(j "$system_line" '["blas_core"]') ($(j "$system_line" '["blas_core_reason"]')); torch $(j "$st" '["torch"]')" || true
init="$(result_init "$result" "Training step, batch 32 in-batch: densekit vs sentence-transformers MNRL" "$machine_line" \
    "$(json_strings "${dk_cmd[*]}" "${dk_cmd[*]} --chunk-size 16" "${st_cmd[*]}")" \
    "$(result_markdown "" "- date: $(date -u +%Y-%m-%dT%H:%MZ)" "- machine: $machine_line" "- load average before / after: $load_before / $load_after" \
        "- densekit: \`${dk_cmd[*]}\` (and the same with \`--chunk-size 16\`)" "- sentence-transformers: \`${st_cmd[*]}\`" "")" \
    "$(result_table system system=system s_step=s/step pairs_s=pairs/s ratio="ratio (sentence-transformers s/step / this)" peak_memory="peak memory (MB)")" \
    "$(result_markdown "" "## Where densekit's step goes (seconds per step, share of the step)")" \
    "$(result_table phase phase=phase default_chunking="default chunking" chunk_size_16="--chunk-size 16")" \
    "$(result_markdown "" "$profile_section" "" "Raw: densekit \`$dk\`; densekit chunk 16 \`$dk16\`; sentence-transformers \`$st\`; system \`$system_line\`.")")"
result_doc "$result" "$init" \
    system "$(json_object system "densekit, default chunking (chunk size $(j "$dk" '["chunk_size"]'))" n:s_step "$(j "$dk" '["seconds_per_step"]')" \
        n:pairs_s "$(j "$dk" '["pairs_per_second"]')" f:ratio "**${ratio}x**" n:peak_memory "$(j "$dk" '["peak_rss_mb"]')")" \
    system "$(json_object system "densekit, --chunk-size 16 (GradCache at this batch)" n:s_step "$(j "$dk16" '["seconds_per_step"]')" \
        n:pairs_s "$(j "$dk16" '["pairs_per_second"]')" f:ratio "${ratio16}x" n:peak_memory "$(j "$dk16" '["peak_rss_mb"]')")" \
    system "$(json_object system "sentence-transformers MNRL" n:s_step "$(j "$st" '["seconds_per_step"]')" \
        n:pairs_s "$(j "$st" '["pairs_per_second"]')" n:ratio 1 n:peak_memory "$(j "$st" '["peak_rss_mb"]')")" \
    "${phase_rows[@]}"
cat "$(result_md "$result")"
