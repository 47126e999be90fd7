#!/usr/bin/env python3
"""Benchmark results as data: JSON files in Benchmarks/results/, rendered to Markdown.

Every benchmark result is one JSON file, Benchmarks/results/NAME-DATE.json. Its sibling
NAME-DATE.md is generated from it, and so are the tables of README.md's benchmark section, which
name their figures by reference (Benchmarks/results/readme.json). No figure is copied by hand.

Subcommands (python3, standard library only):

  results.py render            rewrite every results/*.md from its .json, and every README.md
                               block between `<!-- results:NAME -->` and `<!-- /results:NAME -->`
                               lines from readme.json. Files are written only when they change.
                               A .md modified after its .json (a script still appending Markdown
                               rows) is not overwritten unless --force is given.
  results.py check             exit 1, listing the files, when a results/*.md or a README block
                               differs from what render would write, when a results/*.md has no
                               .json, or when a figure's value and text disagree. Fast; writes
                               nothing.
  results.py add-row FILE.json --table ID --row '{"col": value, ...}' [--init '{...}']
                               append one row (an object keyed by column id; missing columns are
                               empty) to table ID of FILE.json, then render FILE.md. When FILE.json
                               does not exist it is created from --init (a document as below,
                               without rows; "schema" may be left out, and when "blocks" is left
                               out the file gets a list of date, machine and commands and one
                               table ID with the init's "columns", [{"id": ..., "label": ...}],
                               or else the row's keys as columns).
  results.py convert [--force] [FILE.md ...]
                               one-off converter: parse Markdown results (by default every
                               results/*.md without a .json) into JSON, and write the .json only
                               if rendering it gives the .md back byte for byte.

  Global option: --root DIR, the repository root (default: the folder above this script).

Format of a results file (written with indent 2, keys in the order below, one table row or
column per line):

  {
    "schema": 1,
    "title": "Encoding speed: densekit vs sentence-transformers",  # rendered as "# title"
    "date": "2026-11-30",              # YYYY-MM-DD of the run (the file name's date)
    "machine": "2 cores, AMD EPYC, 23 GiB",   # as the file records it; null when it does not
    "commands": ["densekit bench encode ..."], # optional: commands the document names
    "blocks": [                        # the document after the title, in order
      {"markdown": ["", "- date: 2026-11-30T09:20Z", ...]},   # prose, verbatim, one string a
                                       # line (each rendered followed by a newline); a single
                                       # string is rendered exactly as it is
      {"table": {
        "id": "measure",               # unique in the file: add-row's --table, readme refs
        "indent": "    ",              # optional: the table sits in an indented code block
        "columns": [
          {"id": "measure", "label": "measure"},
          {"id": "densekit", "label": "densekit", "format": ".2f"}, ...],
        "rows": [
          {"measure": "passages/s", "densekit": 79.55, "ratio": {"value": 1.75, "text": "**1.75x**"}},
          ...]}}]
  }

  "title", "date", "machine" and "commands" are the run's header data; only the title is
  rendered, everything else the .md shows comes from "blocks" (converted files keep their
  header lines as prose, so the .md is unchanged).

Table cells (a row's value for a column id; a missing key is the same as null):
  null               an empty cell, rendered "| |"
  "text"             a string, rendered verbatim ("" is rendered "|  |")
  number             a figure: a JSON number, rendered with the column's "format", a Python
                     format spec applied to the number's decimal value, rounding half up
                     (".4f" 0.771 -> 0.7710, "," 1069 -> 1,069, "+.4f", ".1e" -> 2.8e-17,
                     exponents with at least two digits as in C); without "format", an integer
                     as is and a fraction as Python's repr (81.1)
  {"value": number, "text": "..."}
                     a figure whose text is not the column format's rendering of it (another
                     number of decimals, or decorated: "**0.7225**", "1.61x"); rendered as
                     "text", and `check` verifies that the number in the text equals "value"
The converter stores a cell as a number when its text is a plain number ("0.7499", "1,069",
"-0.0005", "2.8e-17"), picks each column's "format" as the one that renders most of its numbers
back exactly, and keeps "text" for the others.

README blocks (Benchmarks/results/readme.json):

  {"schema": 1, "kind": "readme", "file": "README.md",
   "blocks": [{"name": "encode", "source": "encode-2026-11-30.json",
               "columns": ["measure", "densekit", ...],
               "rows": [[cell, cell, ...], ...]}]}

  Each block is the Markdown table written between the block's marker lines, with one empty
  line on either side of it. A cell is null (empty), a literal string, a reference, or a list
  of literal strings and references that are concatenated. A reference:
    {"ref": "FILE.json", "table": "ID", "row": {"COL": match, ...} or N, "col": "COL"}
      the cell of table ID in FILE.json (default: the block's "source") whose row matches every
      given column (a string equals the cell's rendered text, a number its value; exactly one
      row must match) or is row N (0-based); it renders as the cell's text in the .md, or
      with "format" (a format spec as above, decimal rounding half up: 79.55 ".1f" -> 79.6) as
      the figure so formatted ("short_exponent": true writes 4.7e-8 for 4.7e-08)
    {"ref": "FILE.json", "match": "REGEX"}
      a figure that the document records only in prose: the regex's first group (or the whole
      match) in the rendered .md, which must match exactly once; "format" as above
    "match" may also be given with "table": the regex then applies to the cell's text
    {"div": [A, B], "format": SPEC}
      A / B computed from two references (or plain numbers) as decimals, then formatted with
      SPEC, rounding half up ("%" specs multiply by 100); used only where it gives the
      README's text exactly
"""

import argparse
import json
import os
import re
import sys
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation, localcontext

SCHEMA = 1
README_SPEC = "readme.json"
BEGIN_RE = re.compile(r"^<!-- results:([A-Za-z0-9_.-]+) -->$")
END_FMT = "<!-- /results:{} -->"


class ResultsError(Exception):
    pass


# ---------------------------------------------------------------------------------------------
# Numbers


NUMBER_RE = re.compile(r"[+-]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?(?:[eE][+-]?\d+)?")
DECORATED_RE = re.compile(
    r"(?P<open>\*\*)?(?P<num>[+-]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?(?:[eE][+-]?\d+)?)"
    r"(?P<unit>x)?(?P<close>\*\*)?")


def parse_number(text):
    """The number a plain-number text stands for (int or float), or None."""
    if not NUMBER_RE.fullmatch(text):
        return None
    plain = text.replace(",", "")
    if re.fullmatch(r"[+-]?\d+", plain):
        return int(plain)
    return float(plain)


def is_number(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def to_decimal(v):
    if isinstance(v, Decimal):
        return v
    if isinstance(v, int):
        return Decimal(v)
    if isinstance(v, float):
        return Decimal(repr(v))
    if isinstance(v, str):
        try:
            return Decimal(v.replace(",", ""))
        except InvalidOperation:
            raise ResultsError(f"not a number: {v!r}")
    raise ResultsError(f"not a number: {v!r}")


def fmt_number(v, spec=None):
    """A figure as text: `spec` is a Python format spec applied to the decimal value, rounding
    half up; exponents get at least two digits. Without a spec: int as is, float as repr."""
    if not spec:
        if isinstance(v, Decimal):
            return str(v)
        return str(v) if isinstance(v, int) else repr(v)
    d = to_decimal(v)
    with localcontext() as ctx:
        ctx.prec = 60
        ctx.rounding = ROUND_HALF_UP
        s = format(d, spec)
    if spec[-1:] in ("e", "E"):
        s = re.sub(r"([eE][+-])(\d)$", r"\g<1>0\2", s)
    return s


def infer_spec(text):
    """The format spec that writes a plain-number text (may still fail to reproduce it)."""
    sign = "+" if text.startswith("+") else ""
    comma = "," if "," in text else ""
    m = re.fullmatch(r"[+-]?[\d,]+(?:\.(\d+))?(?:[eE][+-]?\d+)?", text)
    decimals = len(m.group(1) or "") if m else 0
    if "e" in text.lower():
        return f"{sign}.{decimals}e"
    if "." in text:
        return f"{sign}{comma}.{decimals}f"
    return (sign + comma) or None


# ---------------------------------------------------------------------------------------------
# Rendering results documents


def cell_text(value, column):
    """The text of a cell (None for an empty cell)."""
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if is_number(value):
        return fmt_number(value, column.get("format"))
    if isinstance(value, dict) and "text" in value:
        return value["text"]
    if isinstance(value, dict) and "value" in value:
        return fmt_number(value["value"], column.get("format"))
    raise ResultsError(f"cell of column {column.get('id')!r}: cannot render {value!r}")


def table_row_line(texts, indent=""):
    return indent + "|" + "|".join(" " if t is None else f" {t} " for t in texts) + "|\n"


def render_table(table):
    indent = table.get("indent", "")
    columns = table["columns"]
    ids = [c["id"] for c in columns]
    out = [table_row_line([c["label"] for c in columns], indent)]
    out.append(indent + "|" + "|".join(c.get("separator", "---") for c in columns) + "|\n")
    for i, row in enumerate(table.get("rows", [])):
        unknown = [k for k in row if k not in ids]
        if unknown:
            raise ResultsError(f"table {table.get('id')!r} row {i}: unknown columns {unknown}")
        out.append(table_row_line([cell_text(row.get(c["id"]), c) for c in columns], indent))
    return "".join(out)


def render_markdown_block(md):
    if isinstance(md, str):
        return md
    return "".join(line + "\n" for line in md)


def render_doc(doc):
    out = []
    if doc.get("title") is not None:
        out.append(f"# {doc['title']}\n")
    for block in doc.get("blocks", []):
        if "markdown" in block:
            out.append(render_markdown_block(block["markdown"]))
        elif "table" in block:
            out.append(render_table(block["table"]))
        else:
            raise ResultsError(f"block with neither markdown nor table: {sorted(block)}")
    return "".join(out)


def find_table(doc, table_id, name="?"):
    for block in doc.get("blocks", []):
        if "table" in block and block["table"].get("id") == table_id:
            return block["table"]
    ids = [b["table"].get("id") for b in doc.get("blocks", []) if "table" in b]
    raise ResultsError(f"{name}: no table {table_id!r} (tables: {', '.join(map(str, ids))})")


def validate_doc(doc, name):
    """Problems that render would not notice: schema, duplicate ids, value/text disagreement."""
    problems = []
    if doc.get("schema") != SCHEMA:
        problems.append(f"{name}: schema is {doc.get('schema')!r}, expected {SCHEMA}")
    if doc.get("date") is not None and not re.fullmatch(r"\d{4}-\d{2}-\d{2}", str(doc["date"])):
        problems.append(f"{name}: date {doc['date']!r} is not YYYY-MM-DD")
    seen = set()
    for block in doc.get("blocks", []):
        if "table" not in block:
            continue
        table = block["table"]
        tid = table.get("id")
        if tid in seen:
            problems.append(f"{name}: two tables with id {tid!r}")
        seen.add(tid)
        col_ids = [c["id"] for c in table["columns"]]
        if len(set(col_ids)) != len(col_ids):
            problems.append(f"{name}: table {tid!r} has duplicate column ids")
        for i, row in enumerate(table.get("rows", [])):
            for key, value in row.items():
                if isinstance(value, dict):
                    if "value" in value and "text" in value:
                        m = DECORATED_RE.search(value["text"])
                        if not is_number(value["value"]) or not m or \
                                to_decimal(m.group("num")) != to_decimal(value["value"]):
                            problems.append(f"{name}: table {tid!r} row {i} column {key!r}: "
                                            f"value {value['value']!r} but text {value['text']!r}")
    return problems


# ---------------------------------------------------------------------------------------------
# JSON layout


def dumps(obj, compact, path=(), level=0):
    """JSON with indent 2, except values for which compact(path, value) holds: one line."""
    pad = "  " * level
    if compact(path, obj) or not isinstance(obj, (dict, list)) or not obj:
        return json.dumps(obj, ensure_ascii=False)
    inner = "  " * (level + 1)
    if isinstance(obj, dict):
        items = [f"{inner}{json.dumps(k, ensure_ascii=False)}: "
                 f"{dumps(v, compact, path + (k,), level + 1)}" for k, v in obj.items()]
        return "{\n" + ",\n".join(items) + "\n" + pad + "}"
    items = [inner + dumps(v, compact, path + (i,), level + 1) for i, v in enumerate(obj)]
    return "[\n" + ",\n".join(items) + "\n" + pad + "]"


def results_compact(path, obj):
    return len(path) >= 2 and path[-2] in ("rows", "columns") and isinstance(path[-1], int)


def readme_compact(path, obj):
    if len(path) >= 2 and path[-2] == "columns" and isinstance(path[-1], int):
        return True
    if len(path) >= 4 and path[-4] == "rows":      # a part of a cell
        return True
    # a cell: on one line unless it is a list of parts (then one part a line)
    return len(path) >= 3 and path[-3] == "rows" and not isinstance(obj, list)


DOC_KEYS = ["schema", "title", "date", "machine", "commands", "blocks"]
TABLE_KEYS = ["id", "indent", "columns", "rows"]
COLUMN_KEYS = ["id", "label", "format", "separator"]


def ordered(d, keys):
    out = {k: d[k] for k in keys if k in d}
    out.update((k, v) for k, v in d.items() if k not in out)
    return out


def normalize_doc(doc):
    doc = ordered(doc, DOC_KEYS)
    blocks = []
    for block in doc.get("blocks", []):
        if "table" in block:
            table = ordered(block["table"], TABLE_KEYS)
            table["columns"] = [ordered(c, COLUMN_KEYS) for c in table["columns"]]
            ids = [c["id"] for c in table["columns"]]
            table["rows"] = [{k: row.get(k) for k in ids} | {k: v for k, v in row.items()
                                                              if k not in ids}
                             for row in table.get("rows", [])]
            block = {"table": table}
        blocks.append(block)
    doc["blocks"] = blocks
    return doc


def dump_doc(doc):
    return dumps(normalize_doc(doc), results_compact) + "\n"


def load_json(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def write_if_changed(path, text):
    try:
        with open(path, encoding="utf-8", newline="") as f:
            if f.read() == text:
                return False
    except FileNotFoundError:
        pass
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8", newline="") as f:
        f.write(text)
    os.replace(tmp, path)
    return True


def read_text(path):
    with open(path, encoding="utf-8", newline="") as f:
        return f.read()


# ---------------------------------------------------------------------------------------------
# Markdown -> JSON (the one-off converter)


SEPARATOR_RE = re.compile(r"\|(?:\s*:?-+:?\s*\|)+")


def split_cells(content):
    """Cells between the outer pipes of a row (content starts and ends with '|')."""
    inner = content[1:-1]
    return re.split(r"(?<!\\)\|", inner)


def raw_cell_text(raw):
    """The text of a raw cell (None: empty '| |'); ValueError when the padding is irregular."""
    if raw == " ":
        return None
    if len(raw) >= 2 and raw[0] == " " and raw[-1] == " ":
        return raw[1:-1]
    raise ValueError(f"cell {raw!r} is not padded with one space")


def slug(label):
    s = label.lower().replace("<=", " le ").replace(">=", " ge ")
    s = re.sub(r"[^a-z0-9]+", "_", s).strip("_")
    return s or "column"


def column_ids(labels):
    ids = []
    for i, label in enumerate(labels):
        short = slug(re.sub(r"\s*\([^)]*\)", "", label))
        full = slug(label)
        for candidate in (short, full):
            if candidate not in ids:
                ids.append(candidate)
                break
        else:
            n = 2
            while f"{full}_{n}" in ids:
                n += 1
            ids.append(f"{full}_{n}")
    return ids


def convert_cells(texts_by_row, columns):
    """Rows of cell texts -> rows of values; sets each column's "format"."""
    rows = [dict() for _ in texts_by_row]
    for ci, col in enumerate(columns):
        texts = [r[ci] for r in texts_by_row]
        numbers = {}
        for ri, t in enumerate(texts):
            if t is not None:
                n = parse_number(t)
                if n is not None:
                    numbers[ri] = n
        inferred = [infer_spec(texts[ri]) for ri in numbers]
        candidates = set(inferred) | {None}

        def score(spec):
            return sum(1 for ri, n in numbers.items() if fmt_number(n, spec) == texts[ri])
        # most numbers written back exactly; then the spec most of the texts suggest (a column
        # of 0.7111, 0.5051 gets ".4f", so that rows added later keep four decimals)
        best = sorted(candidates, key=lambda s: (-score(s), -inferred.count(s), s or ""))[0]
        if best is not None:
            col["format"] = best
        for ri, t in enumerate(texts):
            if t is None:
                value = None
            elif ri in numbers:
                n = numbers[ri]
                value = n if fmt_number(n, best) == t else {"value": n, "text": t}
            else:
                m = DECORATED_RE.fullmatch(t)
                if m and (m.group("open") or m.group("unit")) and \
                        bool(m.group("open")) == bool(m.group("close")):
                    value = {"value": parse_number(m.group("num")), "text": t}
                else:
                    value = t
            rows[ri][col["id"]] = value
    return rows


def parse_table(lines, indent):
    """A table from its lines (indent removed on the fly); ValueError when irregular."""
    body = [line[len(indent):] for line in lines]
    labels = [raw_cell_text(c) for c in split_cells(body[0])]
    if any(label is None for label in labels):
        raise ValueError("empty header cell")
    seps = [c for c in split_cells(body[1])]
    if len(seps) != len(labels):
        raise ValueError("separator and header differ in width")
    ids = column_ids(labels)
    columns = [{"id": i, "label": label} for i, label in zip(ids, labels)]
    for col, sep in zip(columns, seps):
        if sep != "---":
            col["separator"] = sep
    texts_by_row = []
    for line in body[2:]:
        cells = [raw_cell_text(c) for c in split_cells(line)]
        if len(cells) != len(columns):
            raise ValueError(f"row of {len(cells)} cells in a table of {len(columns)}: {line!r}")
        texts_by_row.append(cells)
    table = {"id": None}
    if indent:
        table["indent"] = indent
    table["columns"] = columns
    table["rows"] = convert_cells(texts_by_row, columns)
    return table


def parse_markdown(text, warn=lambda msg: None):
    """(title, blocks) of a Markdown results document."""
    final_newline = text.endswith("\n")
    lines = text.split("\n")
    if final_newline:
        lines = lines[:-1]
    title = None
    start = 0
    if lines and lines[0].startswith("# "):
        title = lines[0][2:]
        start = 1
    blocks, prose, table_ids = [], [], []
    i = start
    while i < len(lines):
        line = lines[i]
        m = re.match(r"( *)\|.*\|$", line)
        if m and i + 1 < len(lines):
            indent = m.group(1)
            nxt = lines[i + 1]
            if nxt.startswith(indent) and SEPARATOR_RE.fullmatch(nxt[len(indent):]):
                j = i + 2
                while j < len(lines) and lines[j].startswith(indent + "|") and lines[j].endswith("|"):
                    j += 1
                original = "".join(l + "\n" for l in lines[i:j])
                try:
                    table = parse_table(lines[i:j], indent)
                    tid = slug(re.sub(r"\s*\([^)]*\)", "", table["columns"][0]["label"]))
                    n, base = 2, tid
                    while tid in table_ids:
                        tid = f"{base}_{n}"
                        n += 1
                    table["id"] = tid
                    if render_table(table) != original:
                        raise ValueError("does not render back exactly")
                except ValueError as e:
                    warn(f"line {i + 1}: table kept as Markdown ({e})")
                    prose.extend(lines[i:j])
                    i = j
                    continue
                table_ids.append(table["id"])
                if prose:
                    blocks.append({"markdown": prose})
                    prose = []
                blocks.append({"table": table})
                i = j
                continue
        prose.append(line)
        i += 1
    if prose:
        blocks.append({"markdown": prose})
    if not final_newline:
        last = blocks[-1] if blocks else None
        if last and "markdown" in last:
            last["markdown"] = render_markdown_block(last["markdown"])[:-1]
        else:
            raise ValueError("document ends in a table without a newline")
    return title, blocks


COMMAND_KEYS = ("command", "commands", "densekit", "sentence-transformers", "bm25s", "check",
                "script", "reranking")


def extract_machine(lines):
    for line in lines:
        m = re.match(r"- (?:date: [^;]*; )?machine: (.*)$", line)
        if m:
            return m.group(1).strip()
    for line in lines:
        m = re.match(r"Machine: (.+?)\.(?: |$)", line)
        if m:
            return m.group(1).strip()
    return None


def extract_commands(lines):
    commands = []

    def add(c):
        c = c.strip()
        if c and c not in commands:
            commands.append(c)
    i = 0
    while i < len(lines):
        line = lines[i]
        m = re.match(r"- ([A-Za-z-]+)\b[^:`]*:(.*)$", line)
        if m and m.group(1).lower() in COMMAND_KEYS:
            item = m.group(2)
            j = i + 1
            while j < len(lines) and lines[j].startswith("  ") and not lines[j].strip().startswith("- ") \
                    and lines[j].strip():
                item += " " + lines[j].strip()
                j += 1
            for span in re.findall(r"`([^`]+)`", item):
                if " " in span:
                    add(span)
        if re.search(r"(?i)commands?:\s*$", line):
            j = i + 1
            while j < len(lines) and not lines[j].strip():
                j += 1
            indent = re.match(r" *", lines[j]).group(0) if j < len(lines) else ""
            if len(indent) >= 4 and not (m and m.group(1).lower() in COMMAND_KEYS and
                                         re.search(r"`", m.group(2) or "")):
                pending = ""
                while j < len(lines) and (lines[j].startswith(indent) or not lines[j].strip()):
                    text = lines[j].strip()
                    if text:
                        if text.endswith("\\"):
                            pending += text[:-1].rstrip() + " "
                        else:
                            add(re.sub(r"\s+#.*$", "", pending + text))
                            pending = ""
                    j += 1
        i += 1
    return commands


def convert_text(text, name, warn=lambda msg: None):
    title, blocks = parse_markdown(text, warn)
    lines = text.split("\n")
    m = re.search(r"(\d{4}-\d{2}-\d{2})", name)
    date = m.group(1) if m else None
    if date is None:
        dm = re.search(r"date: (\d{4}-\d{2}-\d{2})", text)
        date = dm.group(1) if dm else None
    doc = {"schema": SCHEMA, "title": title, "date": date, "machine": extract_machine(lines)}
    commands = extract_commands(lines)
    if commands:
        doc["commands"] = commands
    doc["blocks"] = blocks
    return doc


# ---------------------------------------------------------------------------------------------
# README blocks


class Repo:
    def __init__(self, root):
        self.root = root
        self.results = os.path.join(root, "Benchmarks", "results")
        self._docs = {}
        self._rendered = {}

    def result_jsons(self):
        names = sorted(n for n in os.listdir(self.results)
                       if n.endswith(".json") and n != README_SPEC)
        return [os.path.join(self.results, n) for n in names]

    def doc(self, name):
        if name not in self._docs:
            path = os.path.join(self.results, name)
            if not os.path.exists(path):
                raise ResultsError(f"reference to {name}: no such file in Benchmarks/results")
            self._docs[name] = load_json(path)
        return self._docs[name]

    def rendered(self, name):
        if name not in self._rendered:
            self._rendered[name] = render_doc(self.doc(name))
        return self._rendered[name]


def regex_pick(pattern, text, what, unique):
    found = list(re.finditer(pattern, text))
    if not found:
        raise ResultsError(f"{what}: {pattern!r} does not match")
    if unique and len(found) > 1:
        raise ResultsError(f"{what}: {pattern!r} matches {len(found)} times")
    m = found[0]
    return m.group(1) if m.groups() else m.group(0)


def resolve_ref(repo, ref, source):
    name = ref.get("ref", source)
    if name is None:
        raise ResultsError(f"reference without a file: {ref}")
    what = f"{name}"
    if "table" not in ref:
        if "match" not in ref:
            raise ResultsError(f"{what}: a reference needs \"table\" or \"match\": {ref}")
        text = regex_pick(ref["match"], repo.rendered(name), what, unique=True)
        return text, text
    doc = repo.doc(name)
    table = find_table(doc, ref["table"], name)
    what = f"{name} table {ref['table']!r}"
    columns = {c["id"]: c for c in table["columns"]}
    rows = table.get("rows", [])
    sel = ref.get("row")
    if isinstance(sel, int):
        if not 0 <= sel < len(rows):
            raise ResultsError(f"{what}: no row {sel}")
        row = rows[sel]
    elif isinstance(sel, dict):
        for key in sel:
            if key not in columns:
                raise ResultsError(f"{what}: no column {key!r}")

        def matches(r):
            for key, want in sel.items():
                v = r.get(key)
                if is_number(want):
                    got = v["value"] if isinstance(v, dict) else v
                    if not is_number(got) or to_decimal(got) != to_decimal(want):
                        return False
                elif cell_text(v, columns[key]) != want:
                    return False
            return True
        found = [r for r in rows if matches(r)]
        if len(found) != 1:
            raise ResultsError(f"{what}: {len(found)} rows match {sel}")
        row = found[0]
    else:
        raise ResultsError(f"{what}: \"row\" must be an object or an index: {ref}")
    col = ref.get("col")
    if col not in columns:
        raise ResultsError(f"{what}: no column {col!r}")
    value = row.get(col)
    text = cell_text(value, columns[col])
    if "match" in ref:
        text = regex_pick(ref["match"], text or "", f"{what} column {col!r}", unique=False)
        return text, text
    number = value["value"] if isinstance(value, dict) and "value" in value else value
    return text, number


def figure(repo, part, source):
    """The numeric value of a reference (or plain number), as a Decimal."""
    if is_number(part):
        return to_decimal(part)
    text, number = resolve_ref(repo, part, source)
    if number is None or (isinstance(number, str) and parse_number(number) is None):
        raise ResultsError(f"reference {part} is not a figure: {text!r}")
    return to_decimal(number)


def render_part(repo, part, source):
    if part is None:
        return ""
    if isinstance(part, str):
        return part
    if isinstance(part, list):
        return "".join(render_part(repo, p, source) for p in part)
    if not isinstance(part, dict):
        raise ResultsError(f"cannot render README cell part {part!r}")
    if "div" in part:
        a, b = (figure(repo, p, source) for p in part["div"])
        with localcontext() as ctx:
            ctx.prec = 40
            q = a / b
        text = fmt_number(q, part.get("format"))
    else:
        text, number = resolve_ref(repo, part, source)
        if part.get("format"):
            if number is None or (isinstance(number, str) and parse_number(number) is None):
                raise ResultsError(f"reference {part} has no number to format: {text!r}")
            text = fmt_number(to_decimal(number), part["format"])
        text = "" if text is None else text
    if part.get("short_exponent"):
        text = re.sub(r"([eE][+-])0+(\d)", r"\1\2", text)
    return text


def render_readme_block(repo, block):
    source = block.get("source")
    columns = block["columns"]
    out = ["\n", table_row_line(columns), "|" + "|".join("---" for _ in columns) + "|\n"]
    for i, row in enumerate(block["rows"]):
        if len(row) != len(columns):
            raise ResultsError(f"README block {block['name']!r} row {i}: {len(row)} cells, "
                               f"{len(columns)} columns")
        out.append(table_row_line([None if c is None else render_part(repo, c, source)
                                   for c in row]))
    out.append("\n")
    return "".join(out)


def render_readme(repo, text, spec):
    """README text with every marked block regenerated; (new text, problems)."""
    defs = {b["name"]: b for b in spec.get("blocks", [])}
    problems = []
    lines = text.split("\n")
    keep_final = text.endswith("\n")
    if keep_final:
        lines = lines[:-1]
    out, seen = [], []
    i = 0
    while i < len(lines):
        line = lines[i]
        m = BEGIN_RE.match(line)
        if not m:
            out.append(line + "\n")
            i += 1
            continue
        name = m.group(1)
        end = END_FMT.format(name)
        j = i + 1
        while j < len(lines) and lines[j] != end:
            j += 1
        if j == len(lines):
            problems.append(f"README: block {name!r} has no end marker {end!r}")
            out.append(line + "\n")
            i += 1
            continue
        seen.append(name)
        out.append(line + "\n")
        if name in defs:
            try:
                out.append(render_readme_block(repo, defs[name]))
            except ResultsError as e:
                problems.append(f"README block {name!r}: {e}")
                out.extend(l + "\n" for l in lines[i + 1:j])
        else:
            problems.append(f"README: block {name!r} is not defined in {README_SPEC}")
            out.extend(l + "\n" for l in lines[i + 1:j])
        out.append(end + "\n")
        i = j + 1
    for name in defs:
        if name not in seen:
            problems.append(f"README: {README_SPEC} defines block {name!r}, README has no markers for it")
    new = "".join(out)
    if not keep_final:
        new = new[:-1]
    return new, problems


def readme_paths(repo):
    spec_path = os.path.join(repo.results, README_SPEC)
    if not os.path.exists(spec_path):
        return None, None
    spec = load_json(spec_path)
    return spec, os.path.join(repo.root, spec.get("file", "README.md"))


# ---------------------------------------------------------------------------------------------
# Commands


def md_path(json_path):
    return json_path[:-len(".json")] + ".md"


def cmd_render(repo, args):
    status = 0
    for jp in repo.result_jsons():
        mp = md_path(jp)
        text = render_doc(load_json(jp))
        if os.path.exists(mp) and not args.force and read_text(mp) != text and \
                os.path.getmtime(mp) > os.path.getmtime(jp):
            print(f"not overwritten (changed after its .json; convert it again with "
                  f"`convert --force`, or render --force): {os.path.relpath(mp, repo.root)}",
                  file=sys.stderr)
            status = 1
            continue
        if write_if_changed(mp, text):
            print(f"wrote {os.path.relpath(mp, repo.root)}")
    spec, readme = readme_paths(repo)
    if spec is not None:
        text = read_text(readme)
        new, problems = render_readme(repo, text, spec)
        for p in problems:
            print(p, file=sys.stderr)
            status = 1
        # re-read right before writing: never write over an edit made meanwhile
        if new != text:
            if read_text(readme) == text:
                write_if_changed(readme, new)
                print(f"wrote {os.path.relpath(readme, repo.root)}")
            else:
                print(f"{os.path.relpath(readme, repo.root)} changed while rendering; not "
                      f"written, run render again", file=sys.stderr)
                status = 1
    return status


def cmd_check(repo, args):
    problems = []
    jsons = repo.result_jsons()
    have = {md_path(j) for j in jsons}
    for name in sorted(os.listdir(repo.results)):
        path = os.path.join(repo.results, name)
        if name.endswith(".md") and path not in have:
            problems.append(f"{os.path.relpath(path, repo.root)}: no .json "
                            f"(Benchmarks/results.py convert)")
    for jp in jsons:
        rel = os.path.relpath(jp, repo.root)
        try:
            doc = load_json(jp)
            problems.extend(validate_doc(doc, rel))
            text = render_doc(doc)
        except (ResultsError, ValueError, KeyError, TypeError) as e:
            problems.append(f"{rel}: {e}")
            continue
        mp = md_path(jp)
        if not os.path.exists(mp):
            problems.append(f"{os.path.relpath(mp, repo.root)}: missing (Benchmarks/results.py render)")
        elif read_text(mp) != text:
            problems.append(f"{os.path.relpath(mp, repo.root)}: differs from its .json")
    spec, readme = readme_paths(repo)
    if spec is not None:
        try:
            text = read_text(readme)
            new, readme_problems = render_readme(repo, text, spec)
            problems.extend(readme_problems)
            if new != text:
                problems.append(f"{os.path.relpath(readme, repo.root)}: a results block differs "
                                f"from {README_SPEC}")
        except (ResultsError, OSError) as e:
            problems.append(f"README: {e}")
    for p in problems:
        print(p)
    return 1 if problems else 0


def parse_json_arg(text, what):
    try:
        return json.loads(text)
    except json.JSONDecodeError as e:
        raise ResultsError(f"{what} is not JSON: {e}")


def default_doc(init, table_id, row):
    doc = {"schema": SCHEMA}
    doc.update(init)
    doc.setdefault("title", "Benchmark results")
    doc.setdefault("date", None)
    doc.setdefault("machine", None)
    if "blocks" not in doc:
        header = [""]
        if doc.get("date"):
            header.append(f"- date: {doc['date']}")
        if doc.get("machine"):
            header.append(f"- machine: {doc['machine']}")
        for c in doc.get("commands", []):
            header.append(f"- command: `{c}`")
        header.append("")
        columns = doc.pop("columns", None) or [{"id": k, "label": k} for k in row]
        doc["blocks"] = [{"markdown": header},
                         {"table": {"id": table_id, "columns": columns, "rows": []}}]
    doc["schema"] = SCHEMA
    return doc


def cmd_add_row(repo, args):
    path = args.file
    row = parse_json_arg(args.row, "--row")
    if not isinstance(row, dict):
        raise ResultsError("--row must be a JSON object keyed by column id")
    if os.path.exists(path):
        doc = load_json(path)
    elif args.init is not None:
        init = parse_json_arg(args.init, "--init")
        if not isinstance(init, dict):
            raise ResultsError("--init must be a JSON object")
        doc = default_doc(init, args.table, row)
    else:
        raise ResultsError(f"{path} does not exist; give --init with its header data")
    table = find_table(doc, args.table, path)
    ids = [c["id"] for c in table["columns"]]
    unknown = [k for k in row if k not in ids]
    if unknown:
        raise ResultsError(f"{path} table {args.table!r}: unknown columns {unknown} "
                           f"(columns: {', '.join(ids)})")
    for k, v in row.items():
        if not (v is None or isinstance(v, str) or is_number(v) or
                (isinstance(v, dict) and "value" in v)):
            raise ResultsError(f"column {k!r}: a cell is null, a string, a number or "
                               f"{{\"value\": n, \"text\": \"...\"}}, not {v!r}")
    table.setdefault("rows", []).append({k: row.get(k) for k in ids})
    problems = validate_doc(doc, path)
    if problems:
        raise ResultsError("; ".join(problems))
    text = render_doc(doc)
    write_if_changed(path, dump_doc(doc))
    write_if_changed(md_path(path), text)
    return 0


def cmd_convert(repo, args):
    status = 0
    if args.files:
        mds = [os.path.abspath(f) for f in args.files]
    else:
        mds = [os.path.join(repo.results, n) for n in sorted(os.listdir(repo.results))
               if n.endswith(".md")
               and not os.path.exists(os.path.join(repo.results, n[:-3] + ".json"))]
    for mp in mds:
        jp = mp[:-3] + ".json"
        rel = os.path.relpath(mp, repo.root)
        if os.path.exists(jp) and not args.force:
            print(f"{rel}: has a .json already (--force to convert again)", file=sys.stderr)
            status = 1
            continue
        text = read_text(mp)
        warnings = []
        doc = convert_text(text, os.path.basename(mp), warnings.append)
        for w in warnings:
            print(f"{rel}: {w}", file=sys.stderr)
        dumped = dump_doc(doc)
        back = json.loads(dumped)
        if render_doc(back) != text or validate_doc(back, rel):
            print(f"{rel}: conversion does not render back exactly; not written", file=sys.stderr)
            status = 1
            continue
        write_if_changed(jp, dumped)
        ntables = sum(1 for b in doc["blocks"] if "table" in b)
        print(f"converted {rel}: {ntables} tables")
    return status


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--root", default=os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                    help="repository root (default: the folder above this script)")
    sub = ap.add_subparsers(dest="command", required=True)
    p = sub.add_parser("render", help="write the .md files and README blocks from the JSON")
    p.add_argument("--force", action="store_true",
                   help="overwrite .md files changed after their .json")
    sub.add_parser("check", help="exit 1 when anything differs from what render would write")
    p = sub.add_parser("add-row", help="append a row to a table of a results file")
    p.add_argument("file")
    p.add_argument("--table", required=True)
    p.add_argument("--row", required=True)
    p.add_argument("--init")
    p = sub.add_parser("convert", help="convert Markdown results to JSON (one-off)")
    p.add_argument("--force", action="store_true")
    p.add_argument("files", nargs="*")
    args = ap.parse_args(argv)
    repo = Repo(os.path.abspath(args.root))
    handlers = {"render": cmd_render, "check": cmd_check, "add-row": cmd_add_row,
                "convert": cmd_convert}
    try:
        return handlers[args.command](repo, args)
    except (ResultsError, OSError, json.JSONDecodeError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
