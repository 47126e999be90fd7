"""Reads an HNSW index file written by densekit with the faiss Python package and checks it:
the index types FAISS sees, the stored vectors (against an .npy of the same vectors), and its
recall@10 against exact search. Prints one JSON line.

    python Benchmarks/faiss_compat.py --index DIR/faiss.index --vectors vectors.npy --queries queries.npy
"""
import argparse
import json

import faiss
import numpy as np


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--index", required=True)
    p.add_argument("--vectors", required=True)
    p.add_argument("--queries", required=True)
    p.add_argument("--ef-search", type=int, default=256)
    a = p.parse_args()
    index = faiss.read_index(a.index)
    x = np.load(a.vectors)
    q = np.load(a.queries)
    inner = faiss.downcast_index(index.index) if hasattr(index, "index") else index
    storage = faiss.downcast_index(inner.storage) if hasattr(inner, "storage") else None
    faiss.ParameterSpace().set_index_parameter(index, "efSearch", a.ef_search)
    exact = faiss.IndexFlatIP(x.shape[1])
    exact.add(x)
    _, truth = exact.search(q, 10)
    _, found = index.search(q, 10)
    id_map = faiss.vector_to_array(index.id_map) if hasattr(index, "id_map") else np.arange(index.ntotal)
    # The store's ids are the rows of the exported vectors, so the id map must be the identity.
    stored = storage.reconstruct_n(0, storage.ntotal) if storage is not None else None
    print(json.dumps({
        "faiss": faiss.__version__, "types": [type(index).__name__, type(inner).__name__, type(storage).__name__],
        "ntotal": int(index.ntotal), "id_map_is_rows": bool((id_map == np.arange(len(id_map))).all()),
        "stored_vectors_equal": bool(stored is not None and np.array_equal(stored[np.argsort(id_map)], x)),
        "recall_at_10": float(np.mean([len(set(t) & set(f)) / 10 for t, f in zip(truth, found)])),
    }, sort_keys=True))


if __name__ == "__main__":
    main()
