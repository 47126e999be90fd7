#!/usr/bin/env bash
# Cross-encoder folders cross both ways between densekit and sentence-transformers 6.2 and give
# the same scores (goal: max absolute difference <= 1e-4, after the model's activation):
#   (a) a folder densekit wrote (`densekit train cross --out DIR`), loaded unchanged in
#       sentence-transformers' CrossEncoder;
#   (b) a CrossEncoder that sentence-transformers made from all-MiniLM-L6-v2 (num_labels 1,
#       seeded classifier) and saved, read by densekit;
#   (c) the old (sentence-transformers 4.x/5.x) layout, activation Identity in config.json: the
#       tiny test fixture Tests/EncoderTests/Fixtures/cross-encoders/st4.
# Pairs: the first 10 dev queries, each with its first relevant passage and 9 fixed other
# passages (100 pairs). densekit scores them with `densekit rerank --format trec` (score column =
# output after the activation, what CrossEncoder.predict returns), sentence-transformers with
# predict() (Benchmarks/ce_compat.py), both at the max length sentence-transformers reads from
# the folder. Writes Benchmarks/results/ce-compat-DATE.json (or RESULT.json; a RESULT.md argument
# means the .json beside it), from which Benchmarks/results.py renders the .md.
#
#   Benchmarks/ce_compat.sh PATH/TO/debian-pkg [DENSEKIT_CE_DIR] [RESULT.md]
#
# Without DENSEKIT_CE_DIR, densekit first trains one for 2 steps (listwise, batch 2, group 8, max
# length 128) from all-MiniLM-L6-v2 into Benchmarks/out/ce-densekit.
set -euo pipefail
corpus="$(realpath "${1:?usage: $0 PATH/TO/debian-pkg [DENSEKIT_CE_DIR] [RESULT.md]}")"
model_a="${2:-}"
[ -n "$model_a" ] && model_a="$(realpath "$model_a")"
result="${3:-Benchmarks/results/ce-compat-$(date +%Y-%m-%d).md}"
source "$(dirname "$0")/common.sh"
result="$(result_json "$result")"
py=("$venv/bin/python" Benchmarks/ce_compat.py)
commands=()
log() { commands+=("$*"); "$@"; }

# The 100 pairs, as an MS MARCO run (qid, pid, rank).
run="$out/ce-compat.run.tsv"
awk -F'\t' '
    FILENAME == ARGV[1] { n++; pid[n] = $1; next }
    FILENAME == ARGV[2] { split($0, f, /[ \t]+/); if (!(f[1] in rel) && f[4] > 0) rel[f[1]] = f[3]; next }
    FNR <= 10 {
        q = $1; rank = 0; delete seen
        if (q in rel) { print q "\t" rel[q] "\t" ++rank; seen[rel[q]] = 1 }
        for (k = 1; rank < 10; k++) {
            p = pid[(q * 7919 + k * 104729) % n + 1]
            if (!(p in seen)) { seen[p] = 1; print q "\t" p "\t" ++rank }
        }
    }' "$corpus/collection.tsv" "$corpus/qrels.dev.tsv" "$corpus/queries.dev.tsv" > "$run"

# One check: densekit reranks the pairs with MODEL, sentence-transformers compares; the JSON line
# goes into the variable named VAR.
check() {
    local model="$1" name="$2" max_length
    max_length="$("${py[@]}" max-length --model "$model" | tail -n 1)"
    log "$dk" rerank --model "$model" --run "$run" --queries "$corpus/queries.dev.tsv" --collection "$corpus/collection.tsv" \
        --depth 1000 --output "$out/ce-compat.$name.trec" --format trec --batch-size 32 --max-length "$max_length" --threads 2 >&2
    commands+=("${py[*]} compare --model $model --run $run --queries $corpus/queries.dev.tsv --collection $corpus/collection.tsv --densekit $out/ce-compat.$name.trec")
    printf -v "$3" '%s' "$("${py[@]}" compare --model "$model" --run "$run" --queries "$corpus/queries.dev.tsv" \
        --collection "$corpus/collection.tsv" --densekit "$out/ce-compat.$name.trec" | tail -n 1)"
}

load_before="$(cut -d' ' -f1-3 /proc/loadavg)"
# (a) densekit → sentence-transformers.
if [ -z "$model_a" ]; then
    model_a="$out/ce-densekit"
    rm -rf "$model_a"
    # Seven fixed non-relevant passages per training query.
    awk -F'\t' 'NR == FNR { n++; pid[n] = $1; next }
        { s = ""; for (k = 1; k <= 7; k++) s = s (k > 1 ? "," : "") pid[($1 * 7919 + k * 104729) % n + 1]; print $1 "\t" s }' \
        "$corpus/collection.tsv" "$corpus/queries.train.tsv" > "$out/negatives.ce-compat.tsv"
    log "$dk" train cross --model "$DENSEKIT_MODEL" --collection "$corpus/collection.tsv" --queries "$corpus/queries.train.tsv" \
        --qrels "$corpus/qrels.train.tsv" --negatives "$out/negatives.ce-compat.tsv" --loss listwise --group-size 8 \
        --batch-size 2 --max-length 128 --lr 2e-5 --steps 2 --seed 42 --out "$model_a" >&2
fi
check "$model_a" a a
# (b) sentence-transformers → densekit.
model_b="$out/ce-st-minilm"
rm -rf "$model_b"
log "${py[@]}" make --base "$DENSEKIT_MODEL" --out "$model_b" --seed 42 --max-length 256 --classifier-std 1.0 >&2
check "$model_b" b b
# (c) the 4.x/5.x layout.
check "$PWD/Tests/EncoderTests/Fixtures/cross-encoders/st4" c c
load_after="$(cut -d' ' -f1-3 /proc/loadavg)"

# row LABEL FOLDER JSON: a row of table check; floats as %.3g, as the comparison printed them.
row() {
    python3 -c '
import json, sys
label, folder, r = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
def cell(v):
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        return str(v)
    return float("%.3g" % v) if isinstance(v, float) else v
keys = ["activation", "max_length", "pairs", "max_abs_difference", "mean_abs_difference", "queries_ordered_differently", "within_1e-4"]
ids = ["activation", "max_length", "pairs", "max_abs_difference", "mean_abs_difference", "queries_ordered_differently", "le_1e_4"]
print(json.dumps({"check": label, "model_folder": f"`{folder}`"} | {i: cell(r[k]) for i, k in zip(ids, keys)}, ensure_ascii=False))
' "$1" "$2" "$3"
}
st_version="$("$venv/bin/python" -c 'import sentence_transformers as s, torch; print(s.__version__ + ", torch " + torch.__version__)' 2>/dev/null || true)"
command_lines=()
for cmd in "${commands[@]}"; do command_lines+=("    $cmd"); done
init="$(result_init "$result" "Cross-encoder folders: densekit and sentence-transformers give the same scores" "$machine" "$(json_strings "${commands[@]}")" \
    "$(result_markdown "" "- date: $(date -u +%Y-%m-%dT%H:%MZ)" "- machine: $machine" "- load average before / after: $load_before / $load_after" \
        "- command: \`Benchmarks/ce_compat.sh $corpus ${2:-}\`; sentence-transformers $st_version" \
        "- pairs: the first 10 dev queries of debian-pkg, each with its relevant passage and 9 fixed others (\`$run\`)" "")" \
    "$(result_table check check=check model_folder="model folder" activation=activation max_length="max length" pairs=pairs \
        max_abs_difference="max abs difference" mean_abs_difference="mean abs difference" \
        queries_ordered_differently="queries ordered differently" le_1e_4="<= 1e-4")" \
    "$(result_markdown "" "Commands:" "" "${command_lines[@]}" "" "Raw: (a) \`$a\`; (b) \`$b\`; (c) \`$c\`.")")"
result_doc "$result" "$init" \
    check "$(row "(a) densekit → sentence-transformers" "$model_a" "$a")" \
    check "$(row "(b) sentence-transformers → densekit" "$model_b" "$b")" \
    check "$(row "(c) 4.x/5.x layout → densekit" "Tests/EncoderTests/Fixtures/cross-encoders/st4" "$c")"
cat "$(result_md "$result")"
