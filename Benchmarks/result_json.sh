# Benchmark results as JSON: Benchmarks/results/NAME-DATE.json, whose NAME-DATE.md is rendered by
# Benchmarks/results.py (read its docstring for the format). Shell helpers for the benchmark
# scripts, sourced by common.sh and by the scripts that do not source common.sh; they run from the
# repository root. No value is ever spliced into JSON text: every value goes to Python as an
# argument.
#
#   result_json PATH                      the results file for PATH: NAME.md (a script's RESULT.md
#                                         argument, as before) -> NAME.json; NAME.json as is
#   json_object [KIND:]KEY VALUE ...      a JSON object; KIND of each value:
#                                           s: (or none)  a string
#                                           n:            a figure: a JSON number ("" -> null; a text
#                                                         that is no number stays a string, with a
#                                                         warning on stderr unless it is "-")
#                                           f:            a figure whose text is kept as given:
#                                                         {"value": N, "text": VALUE} with N the
#                                                         first number in VALUE ("**1.75x**", "2.44x
#                                                         faster", "1.9 s (whole command)", "4.50");
#                                                         the plain number where it renders as VALUE
#                                                         ("12", "4.5"); "" -> null; no number -> a
#                                                         string
#                                           j:            JSON text as is (from json_object,
#                                                         json_strings)
#   json_strings VALUE ...                a JSON list of strings
#   result_markdown LINE ...              a prose block: {"markdown": [LINE, ...]}, each line
#                                         rendered followed by a newline (a LINE holding newlines
#                                         is split into its lines)
#   result_table ID COLUMN ...            a table block without rows; COLUMN is ID=LABEL or
#                                         ID:FORMAT=LABEL (FORMAT: a Python format spec such as
#                                         .4f, +.4f, .1e or ",", see results.py)
#   result_init FILE TITLE MACHINE COMMANDS_JSON [BLOCK_JSON ...]
#                                         the --init document of FILE: title, date (FILE's
#                                         YYYY-MM-DD, else today), machine, commands, blocks
#   result_row FILE TABLE INIT_JSON ROW_JSON
#                                         appends ROW_JSON (an object keyed by column id) to table
#                                         TABLE of FILE through `results.py add-row`, which creates
#                                         FILE from INIT_JSON when it does not exist (the first row
#                                         of the day) and renders FILE's .md; prints the row as
#                                         rendered (what `tail -n 1 RESULT.md` printed before).
#                                         A FILE.md without FILE.json (rows appended as Markdown
#                                         earlier that day) is converted first (`results.py convert`)
#   result_doc FILE INIT_JSON TABLE ROW_JSON [TABLE ROW_JSON ...]
#                                         FILE written anew (a script that wrote its whole
#                                         RESULT.md each run): FILE and its .md removed, then
#                                         created from INIT_JSON and the rows added in order
#   result_md FILE                        the .md rendered from FILE

result_json() {
    case "$1" in
        *.json) printf '%s\n' "$1" ;;
        *.md) printf '%s\n' "${1%.md}.json" ;;
        *) printf '%s\n' "$1.json" ;;
    esac
}

result_md() { printf '%s\n' "${1%.json}.md"; }

json_object() {
    python3 -c '
import json, re, sys
NUMBER = re.compile(r"[+-]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?(?:[eE][+-]?\d+)?")
def number(text):
    t = text.strip()
    if not re.fullmatch(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?", t):
        return None
    return int(t) if re.fullmatch(r"[+-]?\d+", t) else float(t)
args = sys.argv[1:]
if len(args) % 2:
    sys.exit(f"json_object: KEY VALUE pairs expected, got {len(args)} arguments: {args}")
out = {}
for key, value in zip(args[::2], args[1::2]):
    kind, name = (key[0], key[2:]) if re.match(r"[snfj]:", key) else ("s", key)
    if kind == "s":
        out[name] = value
    elif kind == "j":
        out[name] = json.loads(value)
    elif value.strip() == "":
        out[name] = None
    elif number(value) is not None:
        n = number(value)
        shown = str(n) if isinstance(n, int) else repr(n)
        out[name] = n if kind == "n" or shown == value else {"value": n, "text": value}
    elif kind == "f" and NUMBER.search(value):
        n = NUMBER.search(value).group(0).replace(",", "")
        out[name] = {"value": int(n) if re.fullmatch(r"[+-]?\d+", n) else float(n), "text": value}
    else:
        if kind == "n" and value.strip() != "-":
            print(f"json_object: {name}: {value!r} is not a number; kept as text", file=sys.stderr)
        out[name] = value
print(json.dumps(out, ensure_ascii=False))
' "$@"
}

json_strings() { python3 -c 'import json, sys; print(json.dumps(sys.argv[1:], ensure_ascii=False))' "$@"; }

result_markdown() {
    python3 -c 'import json, sys; print(json.dumps({"markdown": [l for a in sys.argv[1:] for l in a.split("\n")]}, ensure_ascii=False))' "$@"
}

result_table() {
    python3 -c '
import json, sys
columns = []
for spec in sys.argv[2:]:
    ident, sep, label = spec.partition("=")
    if not sep:
        sys.exit(f"result_table: column {spec!r} is not ID=LABEL or ID:FORMAT=LABEL")
    ident, _, fmt = ident.partition(":")
    columns.append({"id": ident, "label": label} | ({"format": fmt} if fmt else {}))
print(json.dumps({"table": {"id": sys.argv[1], "columns": columns, "rows": []}}, ensure_ascii=False))
' "$@"
}

result_init() {
    python3 -c '
import datetime, json, os, re, sys
path, title, machine, commands, *blocks = sys.argv[1:]
m = re.search(r"(\d{4}-\d{2}-\d{2})\.json$", os.path.basename(path))
doc = {"title": title, "date": m.group(1) if m else datetime.date.today().isoformat(),
       "machine": machine or None, "commands": json.loads(commands or "[]")}
if blocks:
    doc["blocks"] = [json.loads(b) for b in blocks]
print(json.dumps(doc, ensure_ascii=False))
' "$@"
}

result_row() {
    local file="$1" table="$2" init="$3" row="$4"
    mkdir -p "$(dirname "$file")"
    # Rows a script wrote as Markdown before it wrote JSON (the same day): kept, converted first.
    if [ ! -f "$file" ] && [ -f "$(result_md "$file")" ]; then
        python3 Benchmarks/results.py convert "$(result_md "$file")" >&2 || {
            echo "result_row: $(result_md "$file") has no .json and does not convert; not touched" >&2
            return 1
        }
    fi
    python3 Benchmarks/results.py add-row "$file" --table "$table" --init "$init" --row "$row" || return
    python3 -c '
import importlib.util, sys
spec = importlib.util.spec_from_file_location("results", "Benchmarks/results.py")
r = importlib.util.module_from_spec(spec)
spec.loader.exec_module(r)
table = r.find_table(r.load_json(sys.argv[1]), sys.argv[2], sys.argv[1])
row = table["rows"][-1]
print(r.table_row_line([r.cell_text(row.get(c["id"]), c) for c in table["columns"]], table.get("indent", "")), end="")
' "$file" "$table"
}

result_doc() {
    local file="$1"
    if [ $# -lt 4 ] || [ $(($# % 2)) -ne 0 ]; then
        echo "result_doc: FILE INIT_JSON, then TABLE ROW_JSON pairs" >&2
        return 2
    fi
    mkdir -p "$(dirname "$file")"
    rm -f "$file" "$(result_md "$file")"
    # `results.py add-row` for each row, in one process (a checker's table may have hundreds).
    python3 -c '
import importlib.util, sys
spec = importlib.util.spec_from_file_location("results", "Benchmarks/results.py")
r = importlib.util.module_from_spec(spec)
spec.loader.exec_module(r)
file, init, *pairs = sys.argv[1:]
for table, row in zip(pairs[::2], pairs[1::2]):
    status = r.main(["add-row", file, "--table", table, "--init", init, "--row", row])
    if status:
        sys.exit(status)
' "$@"
}
