"""bm25s reference for Benchmarks/bm25.sh: index a collection, retrieve the top k for queries,
write an MS MARCO run, print timings as JSON. Lucene's BM25 (method "lucene"), lowercase,
tokens of two or more word characters, bm25s's English stop words, no stemmer."""
import argparse, json, time

import bm25s


def read_tsv(path):
    ids, texts = [], []
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\n")
            if not line:
                continue
            pid, _, text = line.partition("\t")
            ids.append(pid)
            texts.append(text)
    return ids, texts


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--collection", required=True)
    p.add_argument("--queries", required=True)
    p.add_argument("--run", required=True)
    p.add_argument("-k", type=int, default=100)
    p.add_argument("--k1", type=float, default=1.5)
    p.add_argument("--b", type=float, default=0.75)
    p.add_argument("--threads", type=int, default=2)
    a = p.parse_args()

    pids, passages = read_tsv(a.collection)
    qids, queries = read_tsv(a.queries)
    start = time.perf_counter()
    corpus_tokens = bm25s.tokenize(passages, stopwords="en", show_progress=False)
    retriever = bm25s.BM25(method="lucene", k1=a.k1, b=a.b)
    retriever.index(corpus_tokens, show_progress=False)
    index_seconds = time.perf_counter() - start

    start = time.perf_counter()
    query_tokens = bm25s.tokenize(queries, stopwords="en", show_progress=False)
    results, scores = retriever.retrieve(query_tokens, k=a.k, n_threads=a.threads, show_progress=False)
    search_seconds = time.perf_counter() - start

    with open(a.run, "w", encoding="utf-8") as out:
        for qi, qid in enumerate(qids):
            rank = 0
            for doc, score in zip(results[qi], scores[qi]):
                if score <= 0:
                    continue  # bm25s pads with zero-score documents when fewer match
                rank += 1
                out.write(f"{qid}\t{pids[doc]}\t{rank}\n")
    print(json.dumps({"bm25s": bm25s.__version__, "passages": len(pids), "queries": len(qids),
                      "index_seconds": index_seconds, "search_seconds": search_seconds,
                      "queries_per_second": len(qids) / search_seconds, "threads": a.threads}))


if __name__ == "__main__":
    main()
