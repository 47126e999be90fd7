"""sentence-transformers side of Benchmarks/train.sh: seconds per MultipleNegativesRankingLoss
step (AdamW, lr 2e-5) on the same kind of batches as `densekit bench train`, and peak memory."""
import argparse
import json
import random
import resource
import time

import torch
from st_data import read_training_data
from sentence_transformers import SentenceTransformer
from sentence_transformers.losses import MultipleNegativesRankingLoss


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--model", required=True)
    p.add_argument("--collection", required=True)
    p.add_argument("--queries", required=True)
    p.add_argument("--qrels", required=True)
    p.add_argument("--negatives")
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--steps", type=int, default=5)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--max-length", type=int, default=256)
    a = p.parse_args()

    torch.set_num_threads(a.threads)
    passages, queries, relevant, negatives = read_training_data(a.collection, a.queries, a.qrels, a.negatives)
    rng = random.Random(42)
    qids = sorted(relevant)
    rng.shuffle(qids)

    model = SentenceTransformer(a.model, device="cpu")
    model.max_seq_length = a.max_length
    model.train()
    loss = MultipleNegativesRankingLoss(model)
    optimizer = torch.optim.AdamW(model.parameters(), lr=2e-5)
    times = []
    for step in range(a.steps + 1):
        batch = qids[step * a.batch_size:(step + 1) * a.batch_size]
        columns = [[queries[q] for q in batch], [passages[rng.choice(relevant[q])] for q in batch]]
        if a.negatives:
            columns.append([passages[negatives[q][0]] for q in batch])
        start = time.perf_counter()
        features = [model.tokenize(c) for c in columns]
        value = loss(features, None)
        value.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        optimizer.zero_grad()
        if step > 0:
            times.append(time.perf_counter() - start)
    mean = sum(times) / len(times)
    print(json.dumps({
        "batch_size": a.batch_size, "negatives_per_query": 1 if a.negatives else 0, "steps": len(times),
        "seconds_per_step": mean, "pairs_per_second": a.batch_size / mean,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, "threads": a.threads,
        "torch": torch.__version__,
    }, sort_keys=True))


if __name__ == "__main__":
    main()
