#!/usr/bin/env bash
# A report made from real runs, seen as a person sees it: `densekit report` on debian-pkg dev
# (zero-shot against fine-tuned all-MiniLM-L6-v2, and the fine-tuning's train.jsonl when given),
# rendered by headless Chromium (Debian's package) to docs/report.png, shown in the README.
# Before the picture, the script checks what Chromium drew: every chart is in the DOM it
# dumps, and the table's numbers are `densekit eval`'s.
#
#   Benchmarks/report_page.sh PATH/TO/debian-pkg ZERO_SHOT_RUN FINE_TUNED_RUN [MODEL_FOLDER_WITH_train.jsonl]
set -euo pipefail
corpus="$(realpath "${1:?usage: $0 PATH/TO/debian-pkg ZERO_SHOT_RUN FINE_TUNED_RUN [MODEL]}")"
zero="$(realpath "${2:?zero-shot run}")"
tuned="$(realpath "${3:?fine-tuned run}")"
log=()
[ -n "${4:-}" ] && log=(--training-log "fine-tuned=$(realpath "$4")")
source "$(dirname "$0")/common.sh"
command -v chromium > /dev/null || apt-get install -y -q chromium >&2
report="$PWD/$out/report-debian-pkg.html"
"$dk" report --qrels "$corpus/qrels.dev.tsv" --run "zero-shot=$zero" --run "fine-tuned=$tuned" "${log[@]}" \
    --title "debian-pkg dev: all-MiniLM-L6-v2 zero-shot and fine-tuned" -o "$report"
flags=(--headless --no-sandbox --disable-gpu --hide-scrollbars --window-size=900,$([ ${#log[@]} -gt 0 ] && echo 3200 || echo 1750))
chromium "${flags[@]}" --dump-dom "file://$report" 2> /dev/null > "$out/report-debian-pkg.dom.html"
expected=$([ ${#log[@]} -gt 0 ] && echo 5 || echo 2)
drawn="$(grep -o '<svg ' "$out/report-debian-pkg.dom.html" | wc -l)"
echo "report_page: Chromium drew $drawn charts (expected $expected)" >&2
[ "$drawn" -eq "$expected" ]
for name in zero-shot fine-tuned; do
    path="$zero"; [ "$name" = fine-tuned ] && path="$tuned"
    "$dk" eval --qrels "$corpus/qrels.dev.tsv" --run "$path" --metrics MRR@10,R@10,R@100,R@1000,nDCG@10,MAP --json > "$out/report-eval.json"
    python3 - "$out/report-debian-pkg.dom.html" "$name" "$out/report-eval.json" <<'PY'
import json, re, sys
dom, name, scores = open(sys.argv[1]).read(), sys.argv[2], json.load(open(sys.argv[3]))["metrics"]
row = re.search(r'<tr data-run="%s">(.*?)</tr>' % re.escape(name), dom).group(1)
for metric, value in scores.items():
    shown = re.search(r'data-metric="%s"[^>]*>([0-9.]+)<' % re.escape(metric), row).group(1)
    assert shown == "%.4f" % value, (name, metric, shown, value)
print("report_page: %s's table row equals densekit eval's %d metrics" % (name, len(scores)), file=sys.stderr)
PY
done
chromium "${flags[@]}" --screenshot="$PWD/docs/report.png" "file://$report" 2> /dev/null
echo "report_page: docs/report.png ($(chromium --version))" >&2
