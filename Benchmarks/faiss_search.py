"""faiss (Python) side of Benchmarks/search.sh: the same measurement as `densekit bench search`
on the same stored vectors and query vectors, printed as one JSON line."""
import argparse
import json
import time

import faiss
import numpy as np


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--vectors", required=True)
    p.add_argument("--queries", required=True)
    p.add_argument("--factory", default="Flat")
    p.add_argument("-k", type=int, default=10)
    p.add_argument("--ef-search", type=int)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--repeats", type=int, default=3)
    a = p.parse_args()

    faiss.omp_set_num_threads(a.threads)
    x = np.load(a.vectors)
    q = np.load(a.queries)
    exact = faiss.index_factory(x.shape[1], "Flat", faiss.METRIC_INNER_PRODUCT)
    exact.add(x)
    _, truth = exact.search(q, a.k)

    start = time.perf_counter()
    index = faiss.index_factory(x.shape[1], a.factory, faiss.METRIC_INNER_PRODUCT)
    if not index.is_trained:
        index.train(x[:100000])
    index.add(x)
    build_seconds = time.perf_counter() - start
    if a.ef_search:
        faiss.ParameterSpace().set_index_parameter(index, "efSearch", a.ef_search)
    best = float("inf")
    for _ in range(max(1, a.repeats)):
        s = time.perf_counter()
        _, found = index.search(q, a.k)
        best = min(best, time.perf_counter() - s)
    hits = sum(len(set(t) & set(f)) for t, f in zip(truth, found))
    print(json.dumps({
        "factory": a.factory, "vectors": int(x.shape[0]), "queries": int(q.shape[0]), "k": a.k,
        "threads": a.threads, "build_seconds": build_seconds, "search_seconds": best,
        "queries_per_second": q.shape[0] / best, "recall_at_k_vs_flat": hits / (q.shape[0] * a.k),
        "ef_search": a.ef_search or 0, "faiss": faiss.__version__,
        "simd": getattr(faiss, "get_compile_options", lambda: "")().strip() or "unknown",
    }, sort_keys=True))


if __name__ == "__main__":
    main()
