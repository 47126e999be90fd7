"""Loads a model folder that densekit wrote (e.g. `densekit train dual --out DIR`) with
sentence-transformers, unchanged, and compares its embeddings with densekit's for the same
texts (a .npy written by `densekit embed --format npy`). Prints one JSON line."""
import argparse
import json

import numpy as np
from sentence_transformers import SentenceTransformer


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--model", required=True)
    p.add_argument("--texts", required=True, help="one text per line")
    p.add_argument("--densekit", required=True, help="densekit's embeddings of the texts (.npy)")
    a = p.parse_args()
    with open(a.texts, encoding="utf-8") as f:
        texts = [line.rstrip("\n") for line in f]
    model = SentenceTransformer(a.model, device="cpu")
    ours = np.load(a.densekit)
    theirs = model.encode(texts, batch_size=32, convert_to_numpy=True)
    diff = np.abs(ours - theirs)
    cos = (ours * theirs).sum(1) / (np.linalg.norm(ours, axis=1) * np.linalg.norm(theirs, axis=1))
    print(json.dumps({"texts": len(texts), "max_abs_difference": float(diff.max()), "min_cosine": float(cos.min()),
                      "modules": [type(m).__name__ for m in model]}))


if __name__ == "__main__":
    main()
