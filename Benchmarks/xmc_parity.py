"""densekit eval --xmc against pyxclib's xc_metrics on the same predictions.

    python xmc_parity.py --densekit BIN --truth dev.jsonl --train train.jsonl --labels labels.tsv \
        --predictions predictions.tsv

Builds pyxclib's inputs from densekit's files (true and training label matrices over the label
file's order; the predictions as a score matrix whose values keep densekit's ranks: k + 1 - rank,
so pyxclib's top k is the file's ranking whatever the scores' ties), computes P@k, nDCG@k,
PSP@k, PSnDCG@k (k 1..5) and R@10 both ways, prints one table row per metric with the absolute
difference, and exits 1 when any differs by more than 1e-6.
"""
import argparse
import json
import subprocess
import sys

import numpy as np
import scipy.sparse as sp
import xclib.evaluation.xc_metrics as xc_metrics


def read_jsonl(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def matrix(rows, columns):
    data, indices, indptr = [], [], [0]
    for row in rows:
        for column, value in row:
            indices.append(column)
            data.append(value)
        indptr.append(len(indices))
    return sp.csr_matrix((np.array(data, dtype=np.float64), np.array(indices, dtype=np.int64), np.array(indptr)), shape=(len(rows), columns))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--densekit", required=True)
    p.add_argument("--truth", required=True)
    p.add_argument("--train", required=True)
    p.add_argument("--labels", required=True)
    p.add_argument("--predictions", required=True)
    p.add_argument("-A", type=float, default=0.55)
    p.add_argument("-B", type=float, default=1.5)
    a = p.parse_args()

    with open(a.labels, encoding="utf-8") as f:
        names = [line.split("\t", 1)[0] for line in f if line.strip()]
    column = {name: i for i, name in enumerate(names)}
    truth, train = read_jsonl(a.truth), read_jsonl(a.train)
    row = {str(d["id"]): i for i, d in enumerate(truth)}
    true_labels = matrix([[(column[l], 1.0) for l in dict.fromkeys(d["labels"])] for d in truth], len(names))
    train_labels = matrix([[(column[l], 1.0) for l in dict.fromkeys(d["labels"])] for d in train], len(names))
    predicted = [[] for _ in truth]
    depth = 0
    with open(a.predictions, encoding="utf-8") as f:
        lines = [line.rstrip("\n").split("\t") for line in f if line.strip()]
    depth = max(int(fields[2]) for fields in lines)
    for doc, label, rank, _ in lines:
        if doc in row:
            predicted[row[doc]].append((column[label], float(depth + 1 - int(rank))))
    scores = matrix(predicted, len(names))

    inv_psp = xc_metrics.compute_inv_propesity(train_labels, a.A, a.B)
    reference = {}
    for name, values in [("P", xc_metrics.precision(scores, true_labels, k=5)),
                         ("nDCG", xc_metrics.ndcg(scores, true_labels, k=5)),
                         ("PSP", xc_metrics.psprecision(scores, true_labels, inv_psp, k=5)),
                         ("PSnDCG", xc_metrics.psndcg(scores, true_labels, inv_psp, k=5))]:
        for k in range(1, 6):
            reference[f"{name}@{k}"] = float(values[k - 1])
    reference["R@10"] = float(xc_metrics.recall(scores, true_labels, k=10)[9])

    out = subprocess.run([a.densekit, "eval", "--xmc", "--truth", a.truth, "--predictions", a.predictions, "--train", a.train,
                          "--propensity-a", str(a.A), "--propensity-b", str(a.B), "--metrics", ",".join(reference), "--json"],
                         check=True, capture_output=True, text=True)
    densekit = json.loads(out.stdout)["metrics"]
    worst = 0.0
    print("| metric | pyxclib | densekit | abs. difference |")
    print("|---|---|---|---|")
    for name, value in reference.items():
        difference = abs(value - densekit[name])
        worst = max(worst, difference)
        print(f"| {name} | {value:.8f} | {densekit[name]:.8f} | {difference:.1e} |")
    print(f"\nlargest difference {worst:.1e} over {len(reference)} metrics, {len(truth)} documents")
    sys.exit(0 if worst <= 1e-6 else 1)


if __name__ == "__main__":
    main()
