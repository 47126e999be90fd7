"""sentence-transformers side of cross-encoder training, the counterpart of `densekit train
cross`: a CrossEncoder made from --model (all-MiniLM-L6-v2: num_labels 1, the checkpoint's pooler,
a new classifier, seeded) trained on the same queries, qrels and negatives file with the same
loss, group size, batch size, learning rate and max length; AdamW (weight decay 0.01 except
biases and LayerNorm), 10% linear warm-up then linear decay over the planned steps, clipping
1.0, torch threads 2, dropout on (train mode, as sentence-transformers trains); stops when the
planned steps are done or the wall-clock budget is spent, then saves the model with
CrossEncoder.save (sentence-transformers 6.x layout). Prints one JSON line (steps, seconds,
pairs/s, last losses).

Losses, over each query's group [positive, group-size - 1 negatives]:
  listwise  softmax cross-entropy over the group's raw logits, the positive first (Tevatron's
            reranker loss). sentence-transformers has it only as its cross-encoder
            MultipleNegativesRankingLoss with scale 1, no activation and no in-batch negatives
            (GroupSoftmaxLoss below). Its CrossEntropyLoss is something else (per pair,
            classification over num_labels classes), and MNRL as it stands is not this either:
            by default it scores sigmoid(logit) * 10 and adds 4 sampled in-batch negatives
            (num_negatives=None adds all of them; 0 fails in torch.multinomial).
  bce       BinaryCrossEntropyLoss (BCE on logits, optional --pos-weight): label 1 for the
            positive and 0 for each negative, mean over the batch's batch-size x group-size pairs.
Batches: batch-size queries per step in a seeded shuffled order (a new order each epoch, the
last partial batch dropped); positive: one of the query's relevant passages at random;
negatives: group-size - 1 drawn without replacement from the query's line of the negatives
file (minus relevant passages and pids not in the collection), topped up with random
collection passages when the line has fewer.
"""
import argparse
import json
import random
import time

import torch
from sentence_transformers import CrossEncoder
from sentence_transformers.cross_encoder.losses import BinaryCrossEntropyLoss, MultipleNegativesRankingLoss
from st_data import read_training_data
from transformers import get_linear_schedule_with_warmup


class GroupSoftmaxLoss(MultipleNegativesRankingLoss):
    """Softmax cross-entropy over [positive, negative_1, ..., negative_n] per query, on raw
    logits: MultipleNegativesRankingLoss without activation, scale or in-batch negatives.
    Inputs: columns [queries, positives, negatives_1, ..., negatives_n]."""

    def __init__(self, model):
        super().__init__(model, num_negatives=None, scale=1.0, activation_fn=None)

    def get_in_batch_negatives(self, anchors, candidates):
        return iter(())


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--model", required=True, help="base model folder (e.g. all-MiniLM-L6-v2)")
    p.add_argument("--collection", required=True)
    p.add_argument("--queries", required=True)
    p.add_argument("--qrels", required=True)
    p.add_argument("--negatives", required=True, help="qid<TAB>pid,pid,... (best first)")
    p.add_argument("--loss", choices=["listwise", "bce"], default="listwise")
    p.add_argument("--group-size", type=int, default=8, help="1 positive + group-size - 1 negatives per query")
    p.add_argument("--batch-size", type=int, default=16, help="queries per step")
    p.add_argument("--max-length", type=int, default=256)
    p.add_argument("--lr", type=float, default=2e-5)
    length = p.add_mutually_exclusive_group(required=True)
    length.add_argument("--steps", type=int, help="planned steps (for the schedule)")
    length.add_argument("--epochs", type=float, help="planned epochs over the training queries")
    p.add_argument("--time-budget", type=float, default=0, help="minutes of wall clock; 0: no limit")
    p.add_argument("--pos-weight", type=float, help="bce: weight of the positive pairs")
    p.add_argument("--warmup-ratio", type=float, default=0.1)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--out", required=True)
    a = p.parse_args()
    if a.group_size < 2:
        p.error("--group-size must be at least 2")

    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    passages, queries, relevant, negatives = read_training_data(a.collection, a.queries, a.qrels, a.negatives)
    rng = random.Random(a.seed)
    all_pids = sorted(passages)
    qids = sorted(relevant)
    steps_per_epoch = max(1, len(qids) // a.batch_size)
    planned = a.steps if a.steps is not None else max(1, round(a.epochs * steps_per_epoch))

    model = CrossEncoder(a.model, num_labels=1, max_length=a.max_length, device="cpu")
    model.train()
    if a.loss == "listwise":
        loss = GroupSoftmaxLoss(model)
    else:
        pos_weight = torch.tensor(a.pos_weight) if a.pos_weight is not None else None
        loss = BinaryCrossEntropyLoss(model, pos_weight=pos_weight)
    params = list(model.named_parameters())
    no_decay = ["bias", "LayerNorm"]
    optimizer = torch.optim.AdamW([
        {"params": [p for n, p in params if not any(x in n for x in no_decay)], "weight_decay": 0.01},
        {"params": [p for n, p in params if any(x in n for x in no_decay)], "weight_decay": 0.0},
    ], lr=a.lr)
    schedule = get_linear_schedule_with_warmup(optimizer, int(a.warmup_ratio * planned), planned)

    def group(qid):
        """[positive, negatives...] pids of one query."""
        positive = rng.choice(relevant[qid])
        exclude = set(relevant[qid])
        pool = [pid for pid in dict.fromkeys(negatives.get(qid, [])) if pid not in exclude]
        chosen = rng.sample(pool, min(len(pool), a.group_size - 1))
        while len(chosen) < a.group_size - 1:
            pid = rng.choice(all_pids)
            if pid not in exclude and pid not in chosen:
                chosen.append(pid)
        return [positive] + chosen

    order, position, epoch = [], 0, 0
    losses = []
    start = time.perf_counter()
    stopped_by = "steps"
    step = 0
    while step < planned:
        if a.time_budget and time.perf_counter() - start >= a.time_budget * 60:
            stopped_by = "time_budget"
            break
        if position + a.batch_size > len(order):
            if order:
                epoch += 1
            order = qids[:]
            rng.shuffle(order)
            position = 0
        batch = order[position:position + a.batch_size]
        position += a.batch_size
        groups = [group(q) for q in batch]
        if a.loss == "listwise":
            columns = [[queries[q] for q in batch]]
            columns += [[passages[g[k]] for g in groups] for k in range(a.group_size)]
            value = loss(columns, None)
        else:
            anchors = [queries[q] for q, g in zip(batch, groups) for _ in g]
            candidates = [passages[pid] for g in groups for pid in g]
            labels = torch.tensor([1.0 if k == 0 else 0.0 for _ in groups for k in range(a.group_size)])
            value = loss([anchors, candidates], labels)
        value.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        schedule.step()
        optimizer.zero_grad()
        losses.append(value.item())
        step += 1
    seconds = time.perf_counter() - start
    model.save(a.out)
    print(json.dumps({
        "steps": step, "planned_steps": planned, "epochs": epoch + position / (steps_per_epoch * a.batch_size),
        "seconds": seconds, "pairs_per_second": step * a.batch_size * a.group_size / seconds if seconds else 0,
        "seconds_per_step": seconds / step if step else None, "stopped_by": stopped_by,
        "loss": a.loss, "first_loss": losses[0] if losses else None,
        "last_loss_mean10": sum(losses[-10:]) / len(losses[-10:]) if losses else None,
        "batch_size": a.batch_size, "group_size": a.group_size, "max_length": a.max_length, "lr": a.lr,
        "pos_weight": a.pos_weight, "threads": torch.get_num_threads(), "torch": torch.__version__, "out": a.out,
    }, sort_keys=True))


if __name__ == "__main__":
    main()
