"""sentence-transformers side of Benchmarks/finetune.sh: MultipleNegativesRankingLoss (or its
GradCache form, CachedMultipleNegativesRankingLoss, for large batches) on the same training
triples, AdamW lr 2e-5 with 10% linear warm-up then linear decay, clipping 1.0, for a fixed
wall-clock budget; saves the model folder."""
import argparse
import json
import random
import time

import torch
from st_data import read_training_data
from sentence_transformers import SentenceTransformer
from sentence_transformers.losses import CachedMultipleNegativesRankingLoss, MultipleNegativesRankingLoss
from transformers import get_linear_schedule_with_warmup


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--model", required=True)
    p.add_argument("--collection", required=True)
    p.add_argument("--queries", required=True)
    p.add_argument("--qrels", required=True)
    p.add_argument("--negatives")
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--mini-batch", type=int, default=0, help="> 0: CachedMNRL with this mini-batch size")
    p.add_argument("--steps", type=int, required=True, help="planned steps (for the schedule)")
    p.add_argument("--minutes", type=float, default=30)
    p.add_argument("--max-length", type=int, default=128)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--out", required=True)
    a = p.parse_args()

    torch.set_num_threads(a.threads)
    torch.manual_seed(42)
    passages, queries, relevant, negatives = read_training_data(a.collection, a.queries, a.qrels, a.negatives)
    rng = random.Random(42)
    all_pids = sorted(passages)
    qids = sorted(relevant)
    rng.shuffle(qids)

    model = SentenceTransformer(a.model, device="cpu")
    model.max_seq_length = a.max_length
    model.train()
    loss = (CachedMultipleNegativesRankingLoss(model, mini_batch_size=a.mini_batch) if a.mini_batch > 0
            else MultipleNegativesRankingLoss(model))
    params = [(n, p) for n, p in model.named_parameters()]
    no_decay = ["bias", "LayerNorm"]
    optimizer = torch.optim.AdamW([
        {"params": [p for n, p in params if not any(x in n for x in no_decay)], "weight_decay": 0.01},
        {"params": [p for n, p in params if any(x in n for x in no_decay)], "weight_decay": 0.0},
    ], lr=2e-5)
    schedule = get_linear_schedule_with_warmup(optimizer, int(0.1 * a.steps), a.steps)
    start = time.perf_counter()
    step = 0
    while step < a.steps and time.perf_counter() - start < a.minutes * 60:
        batch = [qids[(step * a.batch_size + i) % len(qids)] for i in range(a.batch_size)]
        columns = [[queries[q] for q in batch], [passages[rng.choice(relevant[q])] for q in batch]]
        if negatives:
            # A query without mined negatives gets a random passage (as densekit's sampler would
            # have none; it is rare: mining keeps up to 10 for nearly every query).
            columns.append([passages[rng.choice(negatives[q])] if negatives.get(q) else passages[rng.choice(all_pids)] for q in batch])
        features = [model.tokenize(c) for c in columns]
        value = loss(features, None)
        value.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        schedule.step()
        optimizer.zero_grad()
        step += 1
    model.save(a.out)
    print(json.dumps({"steps": step, "seconds": time.perf_counter() - start, "batch_size": a.batch_size}))


if __name__ == "__main__":
    main()
