#!/usr/bin/env python3
"""A Markdown fragment that a checker printed (tables and prose) as results blocks and rows.

    python3 Benchmarks/md_tables.py FRAGMENT.md

For the benchmark scripts whose figures come from a Python checker that prints Markdown
(trec_eval_check.py, xmc_parity.py): they write their results file through results.py add-row,
and this gives them the pieces. Prints one line per block and per table row, tab-separated:

  block<TAB>BLOCK_JSON          the fragment's blocks in order: prose, and tables with their
                                columns but no rows (ids: the first column's label as a slug,
                                made unique within the fragment)
  row<TAB>TABLE_ID<TAB>ROW_JSON each table row, in order, for `results.py add-row`

The tables are read by results.py's converter: a cell that is a plain number becomes a JSON number
and each column gets the format that writes its numbers back. Exits 1, printing nothing, when the
blocks with their rows would not render the fragment back byte for byte, or when it has no table.
"""
import importlib.util
import json
import os
import sys


def load_results():
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results.py")
    spec = importlib.util.spec_from_file_location("results", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__.split("\n\n")[1])
    r = load_results()
    with open(sys.argv[1], encoding="utf-8", newline="") as f:
        text = f.read()
    warnings = []
    title, blocks = r.parse_markdown(text, warnings.append)
    if title is not None:  # a fragment has no title: put its first line back as prose
        blocks.insert(0, {"markdown": [f"# {title}"]})
    for w in warnings:
        print(f"md_tables: {sys.argv[1]}: {w}", file=sys.stderr)
    try:
        if r.render_doc({"blocks": blocks}) != text:
            sys.exit(f"md_tables: {sys.argv[1]}: the blocks do not render the fragment back")
    except r.ResultsError as e:
        sys.exit(f"md_tables: {sys.argv[1]}: {e}")
    if not any("table" in b for b in blocks):
        sys.exit(f"md_tables: {sys.argv[1]}: no table")
    lines = []
    for block in blocks:
        if "table" in block:
            table = dict(block["table"])
            rows, table["rows"] = table["rows"], []
            lines.append("block\t" + json.dumps({"table": table}, ensure_ascii=False))
            lines += [f"row\t{table['id']}\t" + json.dumps(row, ensure_ascii=False) for row in rows]
        else:
            lines.append("block\t" + json.dumps(block, ensure_ascii=False))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
