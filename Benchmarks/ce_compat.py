"""sentence-transformers side of Benchmarks/ce_compat.sh: cross-encoder folders shared between
densekit and sentence-transformers 6.2 give the same scores.

    ce_compat.py make --base DIR --out DIR [--seed 42] [--max-length 256] [--classifier-std 1.0]
        A CrossEncoder made by sentence-transformers from a sentence encoder or BERT folder
        (num_labels 1; the checkpoint's pooler, a seeded classifier drawn with std
        --classifier-std so that the scores spread), saved with CrossEncoder.save: the folder
        densekit must read.
    ce_compat.py compare --model DIR --run RUN --queries Q.tsv --collection C.tsv --densekit OUT
        Loads DIR in CrossEncoder unchanged, scores the run's (query, passage) pairs with
        predict() (batch 32, the model's own max length and activation) and compares with the
        scores in OUT (densekit rerank --format trec on the same run). Prints one JSON line:
        max and mean absolute difference, queries whose order differs, the activation and max
        length sentence-transformers read from the folder.
    ce_compat.py max-length --model DIR
        Prints the max length sentence-transformers reads from DIR (to pass to densekit).
"""
import argparse
import json

import numpy as np
import torch
from sentence_transformers import CrossEncoder

from st_data import read_tsv


def read_run(path):
    """(qid, pid) pairs in file order, from an MS MARCO (qid pid rank [score]) or TREC run
    (qid Q0 pid rank score tag); the TREC score, when there is one, by pair."""
    pairs, scores = [], {}
    with open(path) as f:
        for line in f:
            cols = line.split()
            if not cols:
                continue
            if len(cols) == 6:
                qid, pid, score = cols[0], cols[2], float(cols[4])
                scores[(qid, pid)] = score
            else:
                qid, pid = cols[0], cols[1]
            pairs.append((qid, pid))
    return pairs, scores


def activation_name(model):
    f = model.activation_fn
    return f"{type(f).__module__}.{type(f).__name__}"


def make(a):
    torch.manual_seed(a.seed)
    model = CrossEncoder(a.base, num_labels=1, max_length=a.max_length, device="cpu")
    with torch.no_grad():
        g = torch.Generator().manual_seed(a.seed)
        classifier = model.model.classifier
        classifier.weight.copy_(a.classifier_std * torch.randn(classifier.weight.shape, generator=g))
        classifier.bias.zero_()
    model.save(a.out)
    print(json.dumps({"saved": a.out, "base": a.base, "seed": a.seed, "max_length": model.max_seq_length,
                      "activation": activation_name(model), "classifier_std": a.classifier_std}))


def compare(a):
    run, _ = read_run(a.run)
    _, theirs_by_pair = read_run(a.densekit)
    queries, passages = read_tsv(a.queries), read_tsv(a.collection)
    model = CrossEncoder(a.model, device="cpu")
    texts = [[queries[q], passages[p]] for q, p in run]
    ours = model.predict(texts, batch_size=32, show_progress_bar=False)
    missing = [pair for pair in run if pair not in theirs_by_pair]
    if missing:
        raise SystemExit(f"densekit's output lacks {len(missing)} of the {len(run)} pairs, e.g. {missing[:3]}")
    theirs = np.array([theirs_by_pair[pair] for pair in run], dtype=np.float64)
    diff = np.abs(ours.astype(np.float64) - theirs)
    # Per query, does densekit order the passages as sentence-transformers does?
    by_query = {}
    for (q, p), s, t in zip(run, ours, theirs):
        by_query.setdefault(q, []).append((p, float(s), float(t)))

    def order(rows, column):
        return [row[0] for row in sorted(rows, key=lambda row: -row[column])]

    reordered = sum(order(rows, 1) != order(rows, 2) for rows in by_query.values())
    print(json.dumps({
        "pairs": len(run), "queries": len(by_query),
        "max_abs_difference": float(diff.max()), "mean_abs_difference": float(diff.mean()),
        "queries_ordered_differently": reordered,
        "score_range": [float(ours.min()), float(ours.max())],
        "activation": activation_name(model), "max_length": model.max_seq_length,
        "within_1e-4": bool(diff.max() <= 1e-4),
    }))


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="command", required=True)
    m = sub.add_parser("make")
    m.add_argument("--base", required=True)
    m.add_argument("--out", required=True)
    m.add_argument("--seed", type=int, default=42)
    m.add_argument("--max-length", type=int, default=256)
    m.add_argument("--classifier-std", type=float, default=1.0)
    c = sub.add_parser("compare")
    c.add_argument("--model", required=True)
    c.add_argument("--run", required=True, help="the pairs: an MS MARCO or TREC run")
    c.add_argument("--queries", required=True)
    c.add_argument("--collection", required=True)
    c.add_argument("--densekit", required=True, help="densekit rerank --format trec output for the same run")
    ml = sub.add_parser("max-length")
    ml.add_argument("--model", required=True)
    a = p.parse_args()
    torch.set_num_threads(2)
    if a.command == "make":
        make(a)
    elif a.command == "compare":
        compare(a)
    else:
        print(CrossEncoder(a.model, device="cpu").max_seq_length)


if __name__ == "__main__":
    main()
