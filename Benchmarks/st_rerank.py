"""sentence-transformers side of Benchmarks/rerank-speed.sh: the time CrossEncoder.predict takes
to score the (query, passage) pairs of a run file (the top --depth of each query, first
--query-count queries), as `densekit rerank` does. Prints one JSON line (pairs/s, seconds,
mean tokens per pair); --output writes the reranked run (MS MARCO or TREC format).

Python is used here only as the reference to beat; densekit never runs it.
"""
import argparse
import json
import time

import numpy as np
import sentence_transformers
import torch
from sentence_transformers import CrossEncoder

from st_data import read_tsv


def read_run(path, depth, query_count):
    """{qid: [pid, ...]} in rank order, the first `query_count` queries of an MS MARCO
    (qid pid rank) or TREC (qid Q0 pid rank score tag) run, `depth` passages each."""
    ranked = {}
    with open(path) as f:
        for line in f:
            cols = line.split()
            if not cols:
                continue
            qid, pid, rank = (cols[0], cols[2], int(cols[3])) if len(cols) == 6 else (cols[0], cols[1], int(cols[2]))
            if qid not in ranked and query_count and len(ranked) >= query_count:
                continue
            ranked.setdefault(qid, []).append((rank, pid))
    return {q: [p for _, p in sorted(rows)[:depth]] for q, rows in ranked.items()}


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--model", required=True, help="a cross-encoder folder")
    p.add_argument("--run", required=True)
    p.add_argument("--queries", required=True)
    p.add_argument("--collection", required=True)
    p.add_argument("--depth", type=int, default=20)
    p.add_argument("--query-count", type=int, default=0, help="first N queries of the run (0: all)")
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--max-length", type=int, default=256)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--output", help="write the reranked run here")
    p.add_argument("--format", choices=["msmarco", "trec"], default="msmarco")
    a = p.parse_args()

    torch.set_num_threads(a.threads)
    queries, passages = read_tsv(a.queries), read_tsv(a.collection)
    run = read_run(a.run, a.depth, a.query_count)
    keys = [(q, pid) for q, pids in run.items() for pid in pids]
    pairs = [[queries[q], passages[pid]] for q, pid in keys]
    model = CrossEncoder(a.model, device="cpu", max_length=a.max_length)
    lengths = [len(ids) for ids in model.tokenizer([x for x, _ in pairs], [y for _, y in pairs], truncation="longest_first",
                                                   max_length=a.max_length)["input_ids"]]
    model.predict(pairs[: a.batch_size], batch_size=a.batch_size, show_progress_bar=False)  # warm-up
    start = time.perf_counter()
    scores = model.predict(pairs, batch_size=a.batch_size, show_progress_bar=False)
    seconds = time.perf_counter() - start
    if a.output:
        by_query = {}
        for (q, pid), s in zip(keys, scores):
            by_query.setdefault(q, []).append((float(s), pid))
        with open(a.output, "w") as f:
            for q, rows in by_query.items():
                for rank, (s, pid) in enumerate(sorted(rows, key=lambda r: -r[0]), 1):
                    f.write(f"{q} Q0 {pid} {rank} {s!r} sentence-transformers\n" if a.format == "trec" else f"{q}\t{pid}\t{rank}\n")
    print(json.dumps({
        "pairs": len(pairs), "queries": len(run), "seconds": seconds, "pairs_per_second": len(pairs) / seconds,
        "mean_tokens": float(np.mean(lengths)), "batch_size": a.batch_size, "max_length": a.max_length,
        "threads": torch.get_num_threads(), "torch": torch.__version__,
        "sentence_transformers": sentence_transformers.__version__,
    }, sort_keys=True))


if __name__ == "__main__":
    main()
