"""sentence-transformers side of Benchmarks/encode.sh: the same measurements as
`densekit bench encode`, printed as one JSON line.

Python is used here only as the reference to beat; densekit never runs it.
"""
import argparse
import json
import statistics
import time

import torch
from sentence_transformers import SentenceTransformer


def read_texts(path, limit):
    texts = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            if len(texts) >= limit:
                break
            texts.append(line.rstrip("\n").split("\t", 1)[1])
    return texts


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--model", required=True)
    p.add_argument("--passages", required=True)
    p.add_argument("--limit", type=int, default=5000)
    p.add_argument("--queries")
    p.add_argument("--query-count", type=int, default=200)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--max-length", type=int, default=256)
    p.add_argument("--threads", type=int, default=2)
    a = p.parse_args()

    torch.set_num_threads(a.threads)
    model = SentenceTransformer(a.model, device="cpu")
    model.max_seq_length = a.max_length
    texts = read_texts(a.passages, a.limit)
    model.encode(texts[: a.batch_size], batch_size=a.batch_size)  # warm-up
    start = time.perf_counter()
    model.encode(texts, batch_size=a.batch_size)
    seconds = time.perf_counter() - start
    result = {
        "passages": len(texts),
        "seconds": seconds,
        "passages_per_second": len(texts) / seconds,
        "batch_size": a.batch_size,
        "threads": torch.get_num_threads(),
        "torch": torch.__version__,
    }
    if a.queries:
        queries = read_texts(a.queries, a.query_count)
        model.encode([queries[0]])
        latencies = []
        for q in queries:
            s = time.perf_counter()
            model.encode([q])
            latencies.append((time.perf_counter() - s) * 1000)
        latencies.sort()
        result["queries"] = len(latencies)
        result["query_latency_ms_p50"] = latencies[len(latencies) // 2]
        result["query_latency_ms_p90"] = latencies[len(latencies) * 9 // 10]
    print(json.dumps(result, sort_keys=True))


if __name__ == "__main__":
    main()
