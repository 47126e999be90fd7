"""`densekit eval` against trec_eval (pytrec_eval, which runs trec_eval's own C code) on real runs.

For every run given and every variant built from it (Python, below), both tools evaluate the same
file: densekit with `densekit eval --json --per-query`, trec_eval through pytrec_eval on that file
read the way trec_eval reads it (TREC: score column; MS MARCO qid<TAB>pid<TAB>rank: score = -rank).
Every metric's mean and every query's value must agree to --tolerance.

Variants:
  as is                       the run file unchanged
  lines shuffled              MS MARCO, lines in a random order (the rank column decides)
  1/rank to 1 decimal         MS MARCO run written as TREC with score 1/rank printed to 1 decimal:
                              large tie groups, which trec_eval orders by docid, descending
  scores to 2 (1) decimals    TREC, scores rounded: many ties
  rank column reversed        TREC, rank column = n + 1 - rank (trec_eval never reads it)
  2 decimals, rank reversed,  both of the above, and all lines in a random order
    lines shuffled
  queries dropped + extra     every 4th judged query left out (scores 0, as trec_eval -c) and 30
                              queries added that have no judgments (ignored)
  duplicate docs              a document repeated in a ranking: trec_eval refuses the file
                              ("duplicate docs"); pytrec_eval (a dict) cannot even hold it, so the
                              reference is trec_eval on the run with each document kept once, at its
                              best position (highest score / lowest rank), which is what densekit
                              documents
  graded qrels                synthetic judgments made from the real ones: grades 1-3, judged
                              non-relevant documents in the run, queries whose judgments are all 0
                              and judged queries absent from the run

Means follow densekit's documented convention: over the qrels queries with a relevant document,
queries absent from the run counting 0 (trec_eval -c, except that -c also counts queries whose
judgments are all non-relevant; the "graded qrels" variant shows that mean too, as a note).

trec_eval has no cut-off for recip_rank: densekit's MRR@k is compared with recip_rank on the run
cut to its top k in trec_eval's order (score descending, then docid descending, strcmp); that the
cut keeps exactly trec_eval's top k is checked (P_10, recall_10, ndcg_cut_10 unchanged by the cut).

  python trec_eval_check.py --densekit BIN --qrels QRELS --work DIR [--markdown OUT.md] RUN...

Exit status 1 when any value disagrees (or a tool fails), 0 otherwise.
"""
import argparse
import json
import math
import os
import random
import shlex
import struct
import subprocess
import sys

import pytrec_eval

# densekit metric, trec_eval measure, cut of the run handed to trec_eval (None: the whole run).
METRICS = [
    ("MRR@10", "recip_rank", 10),
    ("MRR@1000", "recip_rank", 1000),
    ("MRR", "recip_rank", None),
    ("R@10", "recall_10", None),
    ("R@100", "recall_100", None),
    ("R@1000", "recall_1000", None),
    ("nDCG@10", "ndcg_cut_10", None),
    ("nDCG@100", "ndcg_cut_100", None),
    ("nDCG", "ndcg", None),
    ("MAP", "map", None),
    ("P@1", "P_1", None),
    ("P@10", "P_10", None),
]
MEASURES = {"recip_rank", "recall.10,100,1000", "ndcg_cut.10,100", "ndcg", "map", "P.1,10"}
SEED = 20261130


# ---------------------------------------------------------------------------------------------
# Files


def read_qrels(path):
    """qid -> {docid: relevance}; TREC/MS MARCO 'qid 0 docid rel' or BEIR with its header."""
    qrels = {}
    with open(path) as f:
        for n, line in enumerate(f):
            p = line.split()
            if not p:
                continue
            if len(p) == 3:
                if n == 0 and not p[2].lstrip("-").isdigit():
                    continue  # BEIR header
                qid, doc, rel = p
            else:
                qid, _, doc, rel = p[:4]
            qrels.setdefault(qid, {})[doc] = int(rel)
    return qrels


def write_qrels(path, qrels):
    with open(path, "w") as f:
        for qid in qrels:
            for doc, rel in qrels[qid].items():
                f.write(f"{qid}\t0\t{doc}\t{rel}\n")


def read_run(path):
    """(format, rows): rows (qid, docid, rank, score string or None, tag) in file order."""
    rows, fmt = [], None
    with open(path) as f:
        for line in f:
            p = line.split()
            if not p:
                continue
            if fmt is None:
                fmt = "trec" if len(p) >= 6 else "msmarco"
            if fmt == "trec":
                rows.append((p[0], p[2], int(p[3]), p[4], p[5]))
            else:
                rows.append((p[0], p[1], int(p[2]), None, None))
    return fmt, rows


def write_run(path, fmt, rows):
    with open(path, "w") as f:
        for qid, doc, rank, score, tag in rows:
            if fmt == "trec":
                f.write(f"{qid} Q0 {doc} {rank} {score} {tag or 'run'}\n")
            else:
                f.write(f"{qid}\t{doc}\t{rank}\n")


def reference_run(path):
    """The file as trec_eval reads it, for pytrec_eval: qid -> {docid: score}, plus the number of
    repeated documents (kept once, with their highest score = best position)."""
    fmt, rows = read_run(path)
    run, repeated = {}, 0
    for qid, doc, rank, score, _ in rows:
        value = float(score) if fmt == "trec" else -float(rank)
        d = run.setdefault(qid, {})
        if doc in d:
            repeated += 1
            d[doc] = max(d[doc], value)
        else:
            d[doc] = value
    return fmt, run, repeated


def f32(x):
    """x as trec_eval keeps it: get_trec_results.c stores atof(score) in TEXT_RESULTS.sim, a C float."""
    try:
        return struct.unpack("f", struct.pack("f", x))[0]
    except OverflowError:
        return math.copysign(math.inf, x)


def trec_order(docs):
    """trec_eval's ranking (form_res_rels.c comp_sim_docno): score (as a float32) descending, then
    docid descending by strcmp (bytes)."""
    return sorted(docs.items(), key=lambda kv: (f32(kv[1]), kv[0].encode()), reverse=True)


def cut_run(run, k):
    return {q: dict(trec_order(d)[:k]) for q, d in run.items()}


def by_query(rows):
    out = {}
    for r in rows:
        out.setdefault(r[0], []).append(r)
    return out


# ---------------------------------------------------------------------------------------------
# Variants: (name, format, rows, qrels or None for the real qrels)


def ranked(rows):
    """Rows of one query in their order by the rank column (MS MARCO) or trec_eval order (TREC)."""
    if rows and rows[0][3] is not None:
        return sorted(rows, key=lambda r: (f32(float(r[3])), r[1].encode()), reverse=True)
    return sorted(rows, key=lambda r: r[2])


def shuffled(rows, seed):
    rows = list(rows)
    random.Random(seed).shuffle(rows)
    return rows


def rounded(rows, digits):
    return [(q, d, k, f"{float(s):.{digits}f}", t) for q, d, k, s, t in rows]


def as_float32(rows):
    return [(q, d, k, repr(f32(float(s))), t) for q, d, k, s, t in rows]


def rank_reversed(rows):
    out = []
    for q, rs in by_query(rows).items():
        n = len(rs)
        out += [(q, d, n + 1 - k, s, t) for q, d, k, s, t in rs]
    return out


def msmarco_as_trec_ties(rows):
    return [(q, d, k, f"{1.0 / k:.1f}", "ties") for q, d, k, _, _ in rows]


def dropped_and_extra(rows, qrels):
    judged = sorted(q for q in qrels if any(r > 0 for r in qrels[q].values()))
    drop = set(judged[::4])
    groups = by_query(rows)
    out = [r for r in rows if r[0] not in drop]
    donors = [q for q in judged if q in groups][:30]
    for i, donor in enumerate(donors):
        extra = f"extra-{i}" if i % 2 else str(900000 + i)
        assert extra not in qrels
        out += [(extra,) + r[1:] for r in groups[donor]]
    return out


def with_duplicates(fmt, rows):
    """Per query (i = its index): i % 3 == 0: the 5th document repeated above the top (TREC: score
    above the maximum; MS MARCO: inserted at rank 2, ranks renumbered); i % 3 == 1: the top document
    repeated low (TREC: score below the minimum; MS MARCO: at rank 8); i % 3 == 2: the 3rd line
    repeated as is (TREC) / the 3rd document appended last (MS MARCO)."""
    out = []
    for i, (q, rs) in enumerate(by_query(rows).items()):
        rs = ranked(rs)
        if len(rs) < 5:
            out += rs
            continue
        if fmt == "trec":
            hi = max(float(r[3]) for r in rs) + 1.0
            lo = min(float(r[3]) for r in rs) - 1.0
            n = len(rs)
            if i % 3 == 0:
                extra = (q, rs[4][1], n + 1, repr(hi), rs[4][4])
            elif i % 3 == 1:
                extra = (q, rs[0][1], n + 1, repr(lo), rs[0][4])
            else:
                extra = rs[2]
            out += rs + [extra]
        else:
            docs = [r[1] for r in rs]
            if i % 3 == 0:
                docs.insert(1, docs[4])
            elif i % 3 == 1:
                docs.insert(7, docs[0])
            else:
                docs.append(docs[2])
            out += [(q, d, k + 1, None, None) for k, d in enumerate(docs)]
    return out


def graded_qrels(qrels, rows):
    """Grades 1-3 for the relevant documents; for every 4th query, judgments added for run
    documents (2nd: grade 2, 4th: grade 0, 6th: grade 3); every 10th query has only grade-0
    judgments (skipped by densekit); 5 judged queries that no run has."""
    groups = by_query(rows)
    out = {}
    for i, q in enumerate(sorted(qrels)):
        j = {d: (1 + i % 3 if r > 0 else r) for d, r in qrels[q].items()}
        docs = [r[1] for r in ranked(groups.get(q, []))]
        if i % 4 == 1 and len(docs) >= 6:
            for pos, grade in ((1, 2), (3, 0), (5, 3)):
                j.setdefault(docs[pos], grade)
        if i % 10 == 0:
            j = {d: 0 for d in j}
        out[q] = j
    for i in range(5):
        out[f"unretrieved-{i}"] = {f"doc-{i}": 1 + i % 3}
    return out


def variants(path, fmt, rows, qrels, first_msmarco, first_trec):
    yield "as is", fmt, rows, None
    if fmt == "msmarco":
        yield "lines shuffled", fmt, shuffled(rows, SEED), None
        if first_msmarco:
            yield "TREC, score 1/rank to 1 decimal (ties)", "trec", msmarco_as_trec_ties(rows), None
            yield "queries dropped + extra", fmt, dropped_and_extra(rows, qrels), None
            yield "duplicate docs", fmt, with_duplicates(fmt, rows), None
            yield "graded qrels", fmt, rows, graded_qrels(qrels, rows)
    else:
        yield "scores rounded to float32", fmt, as_float32(rows), None
        yield "2 decimals, rank reversed, lines shuffled", fmt, shuffled(rank_reversed(rounded(rows, 2)), SEED), None
        if first_trec:
            yield "scores to 2 decimals", fmt, rounded(rows, 2), None
            yield "scores to 1 decimal", fmt, rounded(rows, 1), None
            yield "rank column reversed", fmt, rank_reversed(rows), None
            yield "queries dropped + extra", fmt, dropped_and_extra(rows, qrels), None
            yield "duplicate docs", fmt, with_duplicates(fmt, rows), None


# ---------------------------------------------------------------------------------------------
# Evaluation


def tie_stats(path):
    """(queries whose trec_eval order differs from the rank column, documents sharing their score
    with another document of the query, documents that tie only once the score is a float32,
    queries ordered differently by float64 and by float32 scores); TREC only."""
    fmt, rows = read_run(path)
    if fmt != "trec":
        return None
    reordered = tied = tied32 = order32 = 0
    for q, rs in by_query(rows).items():
        by_rank = [r[1] for r in sorted(rs, key=lambda r: r[2])]
        order = [r[1] for r in ranked(rs)]
        if by_rank != order:
            reordered += 1
        if order != [r[1] for r in sorted(rs, key=lambda r: (float(r[3]), r[1].encode()), reverse=True)]:
            order32 += 1
        c64, c32 = {}, {}
        for r in rs:
            s = float(r[3])
            c64[s] = c64.get(s, 0) + 1
            c32[f32(s)] = c32.get(f32(s), 0) + 1
        tied += sum(c for c in c64.values() if c > 1)
        tied32 += sum(c for c in c32.values() if c > 1)
    return reordered, tied, tied32 - tied, order32


def run_densekit(dk, qrels_path, run_path):
    cmd = [dk, "eval", "--qrels", qrels_path, "--run", run_path,
           "--metrics", ",".join(m for m, _, _ in METRICS), "--json", "--per-query"]
    p = subprocess.run(cmd, capture_output=True, text=True)
    notes = [l.removeprefix("eval: ") for l in p.stderr.splitlines() if l.strip() and "run format" not in l]
    if p.returncode != 0:
        return cmd, None, notes + [f"exit status {p.returncode}"]
    return cmd, json.loads(p.stdout), notes


def run_reference(qrels, run):
    """Per-query values of every densekit metric from pytrec_eval, over the judged queries with a
    relevant document (absent from the run: 0); also the mean over every qrels query (-c)."""
    evaluator = pytrec_eval.RelevanceEvaluator(qrels, MEASURES)
    full = evaluator.evaluate(run)
    cuts = {k: evaluator.evaluate(cut_run(run, k)) for k in sorted({c for _, _, c in METRICS if c})}
    # The cut must be trec_eval's own top k: measures within k must not change.
    problems = []
    for k, res in cuts.items():
        for measure in (f"P_{k}", f"recall_{k}", f"ndcg_cut_{k}"):
            for q, vals in res.items():
                if measure in vals and abs(vals[measure] - full[q][measure]) > 1e-12:
                    problems.append(f"cut {k}: {measure} of query {q} changed")
    judged = [q for q in qrels if any(r > 0 for r in qrels[q].values())]
    per_query, mean_c = {}, {}
    for name, measure, cut in METRICS:
        res = cuts[cut] if cut else full
        per_query[name] = {q: res[q][measure] if q in res else 0.0 for q in judged}
        mean_c[name] = sum(res[q][measure] if q in res else 0.0 for q in qrels) / len(qrels)
    return judged, per_query, mean_c, problems


def fmt_value(v):
    return "-" if v is None else f"{v:.6f}"


def fmt_diff(v):
    return "-" if v is None else ("0" if v == 0 else f"{v:.1e}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--densekit", required=True)
    ap.add_argument("--qrels", required=True)
    ap.add_argument("--work", required=True, help="folder for the variant files")
    ap.add_argument("--markdown", help="write the tables here (markdown)")
    ap.add_argument("--tolerance", type=float, default=1e-6)
    ap.add_argument("runs", nargs="+")
    args = ap.parse_args()
    os.makedirs(args.work, exist_ok=True)

    # pytrec_eval must order ties as trec_eval does: docid descending, as strings ("9" > "10").
    probe = pytrec_eval.RelevanceEvaluator({"q": {"b": 1, "10": 1}}, {"recip_rank", "map"}).evaluate(
        {"q": {"a": 1.0, "b": 1.0, "c": 1.0, "9": 0.5, "10": 0.5}})["q"]
    # order: c, b, a, 9, 10 -> relevant at 2 and 5
    assert abs(probe["recip_rank"] - 0.5) < 1e-12 and abs(probe["map"] - (1 / 2 + 2 / 5) / 2) < 1e-12, probe
    tie_probe = "pytrec_eval breaks score ties by docid descending, string order (checked: c > b > a, \"9\" > \"10\")"
    print(tie_probe, file=sys.stderr)

    qrels = read_qrels(args.qrels)
    rows_out, summary, commands, failures, notes_c = [], [], [], [], []
    seen_msmarco = seen_trec = False
    for path in args.runs:
        fmt, rows = read_run(path)
        first_msmarco = fmt == "msmarco" and not seen_msmarco
        first_trec = fmt == "trec" and not seen_trec
        seen_msmarco |= fmt == "msmarco"
        seen_trec |= fmt == "trec"
        base = os.path.basename(path)
        for name, vfmt, vrows, vqrels in variants(path, fmt, rows, qrels, first_msmarco, first_trec):
            if name == "as is":
                vpath = path
            else:
                slug = "".join(c if c.isalnum() else "-" for c in name).strip("-")
                vpath = os.path.join(args.work, f"{base}.{slug}.{'trec' if vfmt == 'trec' else 'tsv'}")
                write_run(vpath, vfmt, vrows)
            qpath, q = args.qrels, qrels
            if vqrels is not None:
                qpath, q = os.path.join(args.work, f"qrels.graded.{base}.tsv"), vqrels
                write_qrels(qpath, vqrels)
            cmd, dk, dk_notes = run_densekit(args.densekit, qpath, vpath)
            commands.append(shlex.join(cmd))
            _, ref_run, repeated = reference_run(vpath)
            judged, ref, mean_c, problems = run_reference(q, ref_run)
            label = f"{base}: {name}"
            bad = list(problems)
            if dk is None:
                bad.append("densekit failed: " + "; ".join(dk_notes))
            else:
                if set(dk["per_query"]) != set(judged):
                    bad.append(f"per-query queries: densekit {len(dk['per_query'])}, trec_eval {len(judged)}")
                missing = sum(1 for x in judged if x not in ref_run)
                if dk["queries"] != len(judged) or dk["queries_missing_from_run"] != missing:
                    bad.append(f"query counts: densekit {dk['queries']}/{dk['queries_missing_from_run']} missing, "
                               f"trec_eval {len(judged)}/{missing}")
            worst = 0.0
            for metric, measure, cut in METRICS:
                ref_mean = sum(ref[metric].values()) / len(judged)
                dk_mean = dk["metrics"].get(metric) if dk else None
                if dk is not None:
                    diffs = [abs(dk["per_query"].get(x, {}).get(metric, math.inf) - v) for x, v in ref[metric].items()]
                    pq = max(diffs) if diffs else 0.0
                    differing = sum(1 for d in diffs if d > args.tolerance)
                    mean_diff = abs(dk_mean - ref_mean)
                    ok = pq <= args.tolerance and mean_diff <= args.tolerance
                    worst = max(worst, pq, mean_diff)
                    if not ok:
                        x = max(ref[metric], key=lambda x: abs(dk["per_query"].get(x, {}).get(metric, math.inf) - ref[metric][x]))
                        bad.append(f"{metric}: {differing} queries differ, mean densekit {dk_mean:.6f} trec_eval {ref_mean:.6f}; "
                                   f"largest: query {x}, densekit {dk['per_query'].get(x, {}).get(metric)}, trec_eval {ref[metric][x]}")
                else:
                    pq = mean_diff = differing = None
                    ok = False
                te_name = measure + (f" (run cut at {cut})" if cut else "")
                rows_out.append((label, metric, te_name, dk_mean, ref_mean, mean_diff, pq, differing, ok))
                if vqrels is not None and abs(mean_c[metric] - ref_mean) > args.tolerance:
                    notes_c.append((label, metric, ref_mean, mean_c[metric]))
            ties = tie_stats(vpath)
            extra_notes = list(dk_notes)
            if repeated:
                extra_notes.append(f"{repeated} repeated lines: trec_eval itself stops with \"duplicate docs\"; "
                                   "reference = trec_eval on the run with each doc kept once at its best position")
            status = "ok" if not bad else "MISMATCH"
            summary.append((label, vpath, len(judged), dk["queries_missing_from_run"] if dk else "-",
                            ties or ("-",) * 4, worst, status, "; ".join(extra_notes)))
            if bad and ties and ties[3] and dk is not None:
                # Diagnosis: is the difference exactly trec_eval's float32 scores? trec_eval on the
                # same ranking ordered with float64 scores (made explicit as distinct scores).
                run64 = {x: {d: -float(i) for i, (d, _) in enumerate(
                    sorted(docs.items(), key=lambda kv: (kv[1], kv[0].encode()), reverse=True))}
                    for x, docs in ref_run.items()}
                _, ref64, _, _ = run_reference(q, run64)
                d64 = max(abs(dk["per_query"][x][m] - v) for m, _, _ in METRICS for x, v in ref64[m].items())
                bad.append(f"cause: {ties[3]} queries rank differently once the scores are C floats, as trec_eval keeps them "
                           f"(get_trec_results.c: TEXT_RESULTS.sim is a float; scores closer than float32 precision tie and "
                           f"fall back to docid order); densekit orders by the float64 scores: against trec_eval on the "
                           f"float64 order its max per-query abs diff is {d64:.1e}")
            if bad:
                failures.append((label, bad))
            print(f"{status:8} {label}  (max |diff| {worst:.1e})", file=sys.stderr)

    md = []
    md.append(f"{tie_probe}.")
    md.append("")
    md.append("Per variant (TREC files: *reordered*: queries whose trec_eval order differs from the rank column; "
              "*tied*: documents sharing their score with another of the query; *float32 ties*: documents tied "
              "only once the score is a C float, as trec_eval stores it; *float32 reorders*: queries that rank "
              "differently by float32 and by float64 scores):")
    md.append("")
    md.append("| run: variant | file | judged queries | missing from run | reordered | tied | float32 ties | float32 reorders | max abs diff | result | densekit notes |")
    md.append("|---|---|---|---|---|---|---|---|---|---|---|")
    for label, vpath, nq, miss, ties, worst, status, notes in summary:
        md.append(f"| {label} | `{vpath}` | {nq} | {miss} | {' | '.join(map(str, ties))} | {fmt_diff(worst)} | {status} | {notes} |")
    md.append("")
    md.append(f"Every metric (tolerance {args.tolerance:g} on the mean and on every query):")
    md.append("")
    md.append("| run: variant | densekit | trec_eval measure | densekit mean | pytrec_eval mean | abs diff of means | max per-query abs diff | queries differing | ok |")
    md.append("|---|---|---|---|---|---|---|---|---|")
    for label, metric, te, dkm, refm, md_, pq, nd, ok in rows_out:
        md.append(f"| {label} | {metric} | {te} | {fmt_value(dkm)} | {fmt_value(refm)} | {fmt_diff(md_)} | {fmt_diff(pq)} | "
                  f"{'-' if nd is None else nd} | {'yes' if ok else 'NO'} |")
    if notes_c:
        md.append("")
        md.append("Convention note (not a mismatch): trec_eval -c divides by every qrels query, also those whose "
                  "judgments are all non-relevant; densekit (as documented) skips those queries. Means on the graded qrels:")
        md.append("")
        md.append("| run: variant | metric | densekit / mean over queries with a relevant doc | trec_eval -c mean over all qrels queries |")
        md.append("|---|---|---|---|")
        for label, metric, a, b in notes_c:
            md.append(f"| {label} | {metric} | {a:.6f} | {b:.6f} |")
    md.append("")
    if failures:
        md.append("Mismatches:")
        md.append("")
        for label, bad in failures:
            for b in bad:
                md.append(f"- {label}: {b}")
    else:
        md.append(f"All {len(summary)} variants, {len(rows_out)} metric rows: densekit equals trec_eval.")
    md.append("")
    md.append("densekit commands:")
    md.append("")
    md += [f"    {c}" for c in commands]
    text = "\n".join(md) + "\n"
    if args.markdown:
        with open(args.markdown, "w") as f:
            f.write(text)
    print(text)
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
