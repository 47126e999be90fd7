"""Training data for the sentence-transformers sides of the benchmarks, read the way densekit
reads it: passages and queries by id, relevant passages per query, optional hard negatives."""


def read_tsv(path):
    """id<TAB>text lines as a dict."""
    with open(path, encoding="utf-8") as f:
        return dict(line.rstrip("\n").split("\t", 1) for line in f if "\t" in line)


def read_training_data(collection, queries, qrels, negatives=None):
    """(passages, queries, relevant, negatives): relevant maps a query to its relevant pids that
    are in the collection (relevance > 0); negatives maps a query to its hard-negative pids."""
    passages, query_texts = read_tsv(collection), read_tsv(queries)
    relevant = {}
    with open(qrels) as f:
        for line in f:
            qid, _, pid, rel = line.split()
            if int(rel) > 0 and pid in passages and qid in query_texts:
                relevant.setdefault(qid, []).append(pid)
    mined = {}
    if negatives:
        with open(negatives) as f:
            for line in f:
                qid, pids = line.rstrip("\n").split("\t")
                mined[qid] = [x for x in pids.split(",") if x in passages]
    return passages, query_texts, relevant, mined
