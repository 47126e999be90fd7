"""Python side of Benchmarks/scale.sh (run with the benchmark venv's python: numpy, faiss-cpu).

Subcommands (each prints one JSON object on stdout, progress on stderr):

  synth-check --out DIR --n N --sigma S --seed SEED
        exit 0 when DIR holds a complete synthetic collection made with these settings
        (DIR/synth.json, written last, names them), else 1.
  synth --base BASE.npy --ids BASE.ids --collection COLLECTION.tsv --n N --sigma S --seed SEED --out DIR
        DIR/vectors.npy (float32 N x d): row i = normalize(base[i mod B] + sigma * N(0, 1)^d),
        in chunks of 100,000 rows with a seeded generator; DIR/collection.tsv: line i is
        `s{i}<TAB>text of base row i mod B` (the text of the base row's passage id in
        COLLECTION); both written under temporary names, then renamed; DIR/synth.json last.
  exact --vectors V.npy --queries Q.npy --out TOP.npy [--k 10] [--base-rows B]
        exact inner-product top k of each query over every row (numpy, chunks of 50,000 rows
        read from the file), saved as an int64 [queries, k] matrix, best first.
  build --vectors V.npy --factory F --out INDEX [--threads T]
        faiss.index_factory(d, F, inner product) with polysemous training off (as densekit builds
        it: no polysemous search reads it), trained on the sample densekit trains on
        (min(N, S) evenly spaced rows j * N // S, S = min(1,000,000, max(100,000, 256 * nlist))),
        rows added in chunks of 16,384 with their row numbers as ids, written to INDEX.
  search --index INDEX --queries Q.npy --truth TOP.npy --nprobe P [--mmap] [--k 10] [--threads 2]
        read INDEX (with faiss.IO_FLAG_MMAP under --mmap), search every query at nprobe P.
  recall --run RUN.tsv --queries QUERIES.tsv --truth TOP.npy [--k 10]
        recall@k of a densekit run (qid<TAB>pid<TAB>rank, pid `s{i}` = row i) against TOP.
  peakmem --pid PID [--interval 0.2]
        until PID exits, samples the memory of its descendants (PID is /usr/bin/time) every
        --interval seconds; prints the peak anonymous and file-backed resident sets (GB) as
        two words: the first is the memory a process needs, the second the pages of mapped
        files (LMDB, --mmap lists) that the kernel may drop under pressure.
  timeinfo FILE
        wall seconds and peak RSS (GB, 10^9 bytes) from a `/usr/bin/time -v -o FILE` report,
        printed as two words.
  summary FILE
        the figures of `densekit index import`'s summary line (read vectors, store, FAISS and
        FAISS training seconds), as JSON.

Vectors are read with ordinary file reads, not a memory map: pages of a mapped file count in a
process's resident set, and a sequential pass over an 8.8M-row file would make faiss-cpu's peak
RSS the file's size.
"""
import argparse
import json
import os
import re
import sys
import time

CHUNK = 100_000
EXACT_CHUNK = 50_000  # rows scored at a time: a [queries, rows] score matrix and its argpartition
ADD_CHUNK = 16_384


def log(message):
    print(f"scale.py: {message}", file=sys.stderr, flush=True)


def npy_layout(path):
    """(rows, dimension, offset of the data) of a float32 C-order 2-D .npy file."""
    import numpy as np
    m = np.load(path, mmap_mode="r")
    if m.dtype != np.float32 or m.ndim != 2 or not m.flags.c_contiguous:
        sys.exit(f"{path}: a C-order float32 matrix expected, got {m.dtype} {m.shape}")
    rows, dim, offset = m.shape[0], m.shape[1], m.offset
    del m
    return rows, dim, offset


def read_rows(f, offset, dim, start, count, out=None):
    """Rows start..<start+count of the matrix at offset in the open file f (one read)."""
    import numpy as np
    if out is None:
        out = np.empty((count, dim), dtype=np.float32)
    view = out[:count]
    f.seek(offset + start * dim * 4)
    got = f.readinto(memoryview(view).cast("B"))
    if got != count * dim * 4:
        sys.exit(f"short read: {got} of {count * dim * 4} bytes at row {start}")
    return view


def chunks(path, size):
    """(start, rows) for consecutive chunks of `size` rows, reusing one buffer."""
    import numpy as np
    n, dim, offset = npy_layout(path)
    buf = np.empty((min(size, n), dim), dtype=np.float32)
    with open(path, "rb", buffering=0) as f:
        for start in range(0, n, size):
            count = min(size, n - start)
            yield start, read_rows(f, offset, dim, start, count, buf)


def synth_meta(args):
    return {"n": args.n, "sigma": args.sigma, "seed": args.seed}


def cmd_synth_check(args):
    try:
        with open(os.path.join(args.out, "synth.json")) as f:
            meta = json.load(f)
    except (OSError, ValueError):
        return 1
    if any(meta.get(k) != v for k, v in synth_meta(args).items()):
        held = ", ".join(f"{k} {meta.get(k)}" for k in synth_meta(args))
        log(f"{args.out} holds data made with {held}, not {', '.join(f'{k} {v}' for k, v in synth_meta(args).items())}: made anew")
        return 1
    vectors = os.path.join(args.out, "vectors.npy")
    collection = os.path.join(args.out, "collection.tsv")
    if not (os.path.isfile(vectors) and os.path.isfile(collection)):
        return 1
    if os.path.getsize(vectors) != meta.get("vectors_bytes") or os.path.getsize(collection) != meta.get("collection_bytes"):
        log(f"{args.out}: file sizes differ from synth.json's: made anew")
        return 1
    print(json.dumps(meta))
    return 0


def cmd_synth(args):
    import numpy as np
    base = np.load(args.base)
    if base.dtype != np.float32 or base.ndim != 2:
        sys.exit(f"{args.base}: float32 matrix expected")
    b, dim = base.shape
    with open(args.ids, encoding="utf-8") as f:
        ids = [line.rstrip("\n") for line in f]
    if len(ids) != b:
        sys.exit(f"{args.ids}: {len(ids)} ids for {b} rows")
    texts = {}
    with open(args.collection, encoding="utf-8") as f:
        for line in f:
            pid, sep, text = line.rstrip("\n").partition("\t")
            if sep:
                texts[pid] = text
    missing = [i for i in ids if i not in texts]
    if missing:
        sys.exit(f"{args.collection}: {len(missing)} exported ids have no passage (first {missing[0]!r})")
    base_texts = [texts[i] for i in ids]
    del texts
    os.makedirs(args.out, exist_ok=True)
    for name in ("synth.json", "vectors.npy", "collection.tsv"):
        if os.path.exists(os.path.join(args.out, name)):
            os.remove(os.path.join(args.out, name))
    vectors = os.path.join(args.out, "vectors.npy")
    collection = os.path.join(args.out, "collection.tsv")
    tmp_vectors, tmp_collection = vectors + ".tmp", collection + ".tmp"
    rng = np.random.default_rng(args.seed)
    cosine_sum = 0.0
    start_time = time.perf_counter()
    with open(tmp_vectors, "wb") as fv, open(tmp_collection, "w", encoding="utf-8", newline="\n") as fc:
        np.lib.format.write_array_header_1_0(fv, {"descr": "<f4", "fortran_order": False, "shape": (args.n, dim)})
        for start in range(0, args.n, CHUNK):
            end = min(start + CHUNK, args.n)
            rows = np.arange(start, end) % b
            origin = base[rows]
            x = rng.standard_normal((end - start, dim), dtype=np.float32)
            x *= np.float32(args.sigma)
            x += origin
            x /= np.linalg.norm(x, axis=1, keepdims=True)
            cosine_sum += float(np.einsum("ij,ij->i", x, origin).sum(dtype=np.float64))
            fv.write(x.tobytes())
            fc.write("".join(f"s{i}\t{base_texts[i % b]}\n" for i in range(start, end)))
            if (start // CHUNK) % 10 == 9 or end == args.n:
                log(f"synth: {end:,} of {args.n:,} rows ({time.perf_counter() - start_time:.0f} s)")
    # The base rows are unit length (a normalizing model), so the dot product is the cosine.
    meta = synth_meta(args) | {
        "base_rows": b, "dimension": dim,
        "mean_cosine_to_base": cosine_sum / args.n,
        "description": f"real debian-pkg all-MiniLM-L6-v2 embeddings + Gaussian noise sigma={args.sigma} (seed {args.seed}), normalised",
        "seconds": time.perf_counter() - start_time,
    }
    os.replace(tmp_vectors, vectors)
    os.replace(tmp_collection, collection)
    meta["vectors_bytes"] = os.path.getsize(vectors)
    meta["collection_bytes"] = os.path.getsize(collection)
    with open(os.path.join(args.out, "synth.json.tmp"), "w") as f:
        json.dump(meta, f)
    os.replace(os.path.join(args.out, "synth.json.tmp"), os.path.join(args.out, "synth.json"))
    log(f"synth: mean cosine between a row and its base vector {meta['mean_cosine_to_base']:.4f}")
    print(json.dumps(meta))
    return 0


def cmd_exact(args):
    import numpy as np
    q = np.load(args.queries).astype(np.float32)
    n, dim, _ = npy_layout(args.vectors)
    if q.shape[1] != dim:
        sys.exit(f"queries of dimension {q.shape[1]}, vectors of {dim}")
    k = args.k
    best_scores = np.full((len(q), k), -np.inf, dtype=np.float32)
    best_ids = np.full((len(q), k), -1, dtype=np.int64)
    start_time = time.perf_counter()
    for start, x in chunks(args.vectors, EXACT_CHUNK):
        scores = q @ x.T
        kk = min(k, scores.shape[1])
        part = np.argpartition(scores, scores.shape[1] - kk, axis=1)[:, -kk:]
        cand_scores = np.concatenate([best_scores, np.take_along_axis(scores, part, axis=1)], axis=1)
        cand_ids = np.concatenate([best_ids, part + start], axis=1)
        top = np.argpartition(-cand_scores, k - 1, axis=1)[:, :k]
        best_scores = np.take_along_axis(cand_scores, top, axis=1)
        best_ids = np.take_along_axis(cand_ids, top, axis=1)
        end = start + len(x)
        if (start // EXACT_CHUNK) % 20 == 19 or end == n:
            log(f"exact: {end:,} of {n:,} rows ({time.perf_counter() - start_time:.0f} s)")
    order = np.argsort(-best_scores, axis=1, kind="stable")
    best_ids = np.take_along_axis(best_ids, order, axis=1)
    seconds = time.perf_counter() - start_time
    np.save(args.out, best_ids)
    distinct = float(np.mean([len(set((row % args.base_rows).tolist())) for row in best_ids]))
    print(json.dumps({"seconds": seconds, "queries": len(q), "rows": n, "k": k,
                      "distinct_base_in_top": distinct}))
    return 0


def default_train_sample(factory):
    m = re.search(r"IVF([0-9]+)", factory)
    lists = int(m.group(1)) if m else 0
    return min(1_000_000, max(100_000, 256 * lists))


def no_polysemous_training(index):
    """The build densekit makes: FAISS's factory turns on polysemous training for PQ codes
    (reordering each sub-quantizer's centroids for Hamming-distance filtering, which only
    polysemous search reads); densekit never runs that search and switches it off."""
    import faiss
    ivf = faiss.try_extract_index_ivf(index)  # an IndexIVF proxy: downcast to reach IVF-PQ's fields
    for inner in (faiss.downcast_index(ivf) if ivf is not None else None, index):
        if inner is not None and hasattr(inner, "do_polysemous_training"):
            inner.do_polysemous_training = False


def cmd_build(args):
    import faiss
    import numpy as np
    faiss.omp_set_num_threads(args.threads)
    n, dim, offset = npy_layout(args.vectors)
    index = faiss.index_factory(dim, args.factory, faiss.METRIC_INNER_PRODUCT)
    no_polysemous_training(index)
    read_s = train_s = add_s = 0.0
    sample = 0
    total_start = time.perf_counter()
    with open(args.vectors, "rb", buffering=0) as f:
        if not index.is_trained:
            size = min(n, default_train_sample(args.factory))
            sample = size
            t = time.perf_counter()
            if size == n:
                x = read_rows(f, offset, dim, 0, n)
            else:
                x = np.empty((size, dim), dtype=np.float32)
                row_bytes = dim * 4
                fd = f.fileno()
                for j in range(size):
                    x[j] = np.frombuffer(os.pread(fd, row_bytes, offset + (j * n // size) * row_bytes), dtype=np.float32)
            read_s = time.perf_counter() - t
            log(f"build: training \"{args.factory}\" on {size:,} of {n:,} rows (read in {read_s:.1f} s)")
            t = time.perf_counter()
            index.train(x)
            train_s = time.perf_counter() - t
            del x
            log(f"build: trained in {train_s:.1f} s")
    with_ids = faiss.try_extract_index_ivf(index) is not None
    t = time.perf_counter()
    for start, x in chunks(args.vectors, ADD_CHUNK):
        if with_ids:
            index.add_with_ids(x, np.arange(start, start + len(x), dtype=np.int64))
        else:
            index.add(x)  # the ids are the row numbers all the same
        end = start + len(x)
        if (start // ADD_CHUNK) % 64 == 63 or end == n:
            log(f"build: added {end:,} of {n:,} rows ({time.perf_counter() - t:.0f} s)")
    add_s = time.perf_counter() - t
    t = time.perf_counter()
    tmp = args.out + ".tmp"
    faiss.write_index(index, tmp)
    os.replace(tmp, args.out)
    write_s = time.perf_counter() - t
    print(json.dumps({"rows": n, "train_rows": sample, "read_sample_s": read_s, "train_s": train_s, "add_s": add_s,
                      "write_s": write_s, "faiss_s": time.perf_counter() - total_start,
                      "bytes": os.path.getsize(args.out), "threads": args.threads}))
    return 0


def recall_at(found, truth, k):
    """Mean over queries of |found[q] & truth[q]| / k (found: one list of row ids per query)."""
    return sum(len(set(f[:k]) & set(t[:k].tolist())) / k for f, t in zip(found, truth)) / len(truth)


def cmd_search(args):
    import faiss
    import numpy as np
    faiss.omp_set_num_threads(args.threads)
    q = np.load(args.queries).astype(np.float32)
    truth = np.load(args.truth)
    t = time.perf_counter()
    index = faiss.read_index(args.index, faiss.IO_FLAG_MMAP) if args.mmap else faiss.read_index(args.index)
    load_s = time.perf_counter() - t
    ivf = faiss.try_extract_index_ivf(index)
    if ivf is None:
        sys.exit(f"{args.index}: not an IVF index: --nprobe does not apply")
    ivf.nprobe = args.nprobe
    t = time.perf_counter()
    _, found = index.search(q, args.k)
    search_s = time.perf_counter() - t
    print(json.dumps({"nprobe": args.nprobe, "nlist": ivf.nlist, "mmap": args.mmap, "load_s": load_s, "search_s": search_s,
                      "queries": len(q), "queries_per_s": len(q) / search_s,
                      "recall": recall_at([r.tolist() for r in found], truth, args.k), "threads": args.threads}))
    return 0


def cmd_recall(args):
    import numpy as np
    truth = np.load(args.truth)
    with open(args.queries, encoding="utf-8") as f:
        qids = [line.split("\t", 1)[0] for line in f if line.strip()]
    if len(qids) != len(truth):
        sys.exit(f"{args.queries}: {len(qids)} queries, {args.truth}: {len(truth)}")
    ranked = {}
    with open(args.run, encoding="utf-8") as f:
        for line in f:
            qid, pid, rank = line.rstrip("\n").split("\t")[:3]
            if not pid.startswith("s"):
                sys.exit(f"{args.run}: passage id {pid!r} is not s<row>")
            ranked.setdefault(qid, []).append((int(rank), int(pid[1:])))
    found = [[row for _, row in sorted(ranked.get(qid, []))] for qid in qids]
    unknown = set(ranked) - set(qids)
    if unknown:
        sys.exit(f"{args.run}: {len(unknown)} query ids not in {args.queries}")
    print(json.dumps({"recall": recall_at(found, truth, args.k), "queries": len(qids),
                      "answered": sum(1 for f in found if f)}))
    return 0


def tree_memory(pid):
    """(VmRSS, RssAnon, RssFile) in kB, summed over the descendants of pid (not pid itself)."""
    total = [0, 0, 0]
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            children = [int(c) for c in f.read().split()]
    except OSError:
        return total
    for child in children:
        try:
            with open(f"/proc/{child}/status") as f:
                for line in f:
                    for i, key in enumerate(("VmRSS:", "RssAnon:", "RssFile:")):
                        if line.startswith(key):
                            total[i] += int(line.split()[1])
        except OSError:
            continue
        for i, v in enumerate(tree_memory(child)):
            total[i] += v
    return total


def cmd_peakmem(args):
    peak = [0, 0, 0]
    while os.path.exists(f"/proc/{args.pid}"):
        for i, v in enumerate(tree_memory(args.pid)):
            peak[i] = max(peak[i], v)
        time.sleep(args.interval)
    print(f"{peak[1] * 1024 / 1e9:.3f} {peak[2] * 1024 / 1e9:.3f}")
    return 0


def cmd_timeinfo(args):
    wall = rss_kb = None
    with open(args.file) as f:
        for line in f:
            line = line.strip()
            if line.startswith("Elapsed (wall clock) time"):
                parts = line.rsplit(" ", 1)[1].split(":")
                wall = sum(float(p) * 60 ** i for i, p in enumerate(reversed(parts)))
            elif line.startswith("Maximum resident set size (kbytes):"):
                rss_kb = int(line.rsplit(" ", 1)[1])
    if wall is None or rss_kb is None:
        sys.exit(f"{args.file}: no wall clock time or maximum resident set size (not a `/usr/bin/time -v` report?)")
    print(f"{wall:.2f} {rss_kb * 1024 / 1e9:.3f}")
    return 0


def cmd_summary(args):
    with open(args.file, encoding="utf-8") as f:
        text = f.read()
    m = re.search(r"(\d+) passages .*; read vectors ([0-9.]+) s, store ([0-9.]+) s, FAISS \"([^\"]*)\" ([0-9.]+) s(?: \(training ([0-9.]+) s\))?", text)
    if not m:
        sys.exit(f"{args.file}: no `index import` summary line in {text!r}")
    faiss_s, train_s = float(m.group(5)), float(m.group(6) or 0)
    # FAISS seconds less training: adding the vectors and writing the index file.
    print(json.dumps({"passages": int(m.group(1)), "read_s": float(m.group(2)), "store_s": float(m.group(3)),
                      "factory": m.group(4), "faiss_s": faiss_s, "train_s": train_s, "add_s": round(faiss_s - train_s, 1)}))
    return 0


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="command", required=True)
    s = sub.add_parser("synth-check")
    s.add_argument("--out", required=True)
    s.add_argument("--n", type=int, required=True)
    s.add_argument("--sigma", type=float, required=True)
    s.add_argument("--seed", type=int, required=True)
    s = sub.add_parser("synth")
    for name in ("--base", "--ids", "--collection", "--out"):
        s.add_argument(name, required=True)
    s.add_argument("--n", type=int, required=True)
    s.add_argument("--sigma", type=float, required=True)
    s.add_argument("--seed", type=int, required=True)
    s = sub.add_parser("exact")
    for name in ("--vectors", "--queries", "--out"):
        s.add_argument(name, required=True)
    s.add_argument("--k", type=int, default=10)
    s.add_argument("--base-rows", type=int, default=59_783)
    s = sub.add_parser("build")
    for name in ("--vectors", "--factory", "--out"):
        s.add_argument(name, required=True)
    s.add_argument("--threads", type=int, default=os.cpu_count())
    s = sub.add_parser("search")
    for name in ("--index", "--queries", "--truth"):
        s.add_argument(name, required=True)
    s.add_argument("--nprobe", type=int, required=True)
    s.add_argument("--mmap", action="store_true")
    s.add_argument("--k", type=int, default=10)
    s.add_argument("--threads", type=int, default=2)
    s = sub.add_parser("recall")
    for name in ("--run", "--queries", "--truth"):
        s.add_argument(name, required=True)
    s.add_argument("--k", type=int, default=10)
    s = sub.add_parser("peakmem")
    s.add_argument("--pid", type=int, required=True)
    s.add_argument("--interval", type=float, default=0.2)
    s = sub.add_parser("timeinfo")
    s.add_argument("file")
    s = sub.add_parser("summary")
    s.add_argument("file")
    args = p.parse_args()
    return globals()["cmd_" + args.command.replace("-", "_")](args)


if __name__ == "__main__":
    sys.exit(main())
