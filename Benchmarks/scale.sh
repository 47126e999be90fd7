#!/usr/bin/env bash
# densekit at 1M and 8.8M vectors (issue 16 item 4), beside faiss-cpu doing the same build on
# the same vectors: import time, peak RSS, disk size, IVF-PQ training and add time, search
# queries/s and recall@10 against exact search, with memory-mapped inverted lists and without.
#
#   Benchmarks/scale.sh PATH/TO/debian-pkg N [FACTORY]      # N: 1000000, 8800000; FACTORY: IVF4096,PQ48
#
# Data (synthetic, say so wherever the figures go): the real all-MiniLM-L6-v2 embeddings of the
# 59,783 debian-pkg passages (exported from $out/debian-pkg.index, built if missing), row i of N =
# normalize(base[i mod 59,783] + SIGMA (0.05) * Gaussian noise), seed SEED (42); passage s{i}
# has the text of base passage i mod 59,783. Made once in $out/scale-N/ (vectors.npy,
# collection.tsv, synth.json) and reused by later runs with the same N, SIGMA and SEED.
# Queries: the first QUERIES (1,000) debian-pkg dev queries, embedded by `densekit embed`.
# Ground truth: exact inner-product top 10 over all N rows (numpy).
# densekit: `index import --factory FACTORY --no-bm25`, then `search --nprobe P [--mmap]` for P
# in NPROBES ("16 64 256"), each a whole command under /usr/bin/time -v, then with --refine R for R
# in REFINES ("10"; densekit only). faiss-cpu
# (Benchmarks/scale.py, pinned venv): the same factory trained on the same sample densekit
# trains on, rows added in chunks of 16,384 with their row numbers as ids, written; then read
# (normally and with IO_FLAG_MMAP) and searched at the same nprobes on 2 threads.
# Rows: Benchmarks/results/scale-DATE.json (or RESULT), rendered to .md by Benchmarks/results.py.
# The indexes are deleted at the end (KEEP_INDEX=1 keeps them in $out/scale-N/).
#
# Disk: about N x (1,536 B vectors.npy + ~390 B collection.tsv) for the data, N x ~2,800 B for
# densekit's store (vectors + texts, no BM25; measured at 20,000 rows), plus the two IVF-PQ files
# and 2 GiB: ~46 GB at 8.8M (~29 GB once the data exists); the script refuses to start with
# less free. Time on 2 cores (estimated, not measured: the test ran at 20,000 rows): each
# build trains IVF4096 on a 1,000,000-row sample (k-means, ~80 TFLOP, against ~200 GFLOP/s of
# sgemm) and PQ48, so ~10-20 minutes a side at either N; with adding, storing, the data and
# the exact ground truth, about 45-60 minutes at 1M and 1.5-2.5 hours at 8.8M.
# Measured (2026-12-02, 2-core AMD EPYC): N 1,000,000 with FACTORY IVF1024,PQ48, 12 minutes in all
# (6 once densekit's k-means was fast and the data existed); N 8,800,000 with IVF4096,PQ48, 38 minutes
# (NPROBES "16 64", REFINES "10"), about 42 GB of disk at the peak (data 16.9, store 24.3, indexes 1.0).
set -euo pipefail
usage="usage: $0 PATH/TO/debian-pkg N [FACTORY]"
corpus="$(realpath "${1:?$usage}")"
n="${2:?$usage}"
factory="${3:-IVF4096,PQ48}"
[[ "$n" =~ ^[1-9][0-9]*$ ]] || { echo "$usage (N: a positive whole number, got '$n')" >&2; exit 2; }
[[ "$factory" =~ IVF[0-9]+ ]] || { echo "$0: FACTORY must be an IVF index (the searches set nprobe), got '$factory'" >&2; exit 2; }
source "$(dirname "$0")/common.sh"
sigma="${SIGMA:-0.05}"
seed="${SEED:-42}"
nq="${QUERIES:-1000}"
[[ "$nq" =~ ^[1-9][0-9]*$ ]] || { echo "$0: QUERIES must be a positive whole number, got '$nq'" >&2; exit 2; }
read -r -a nprobes <<< "${NPROBES:-16 64 256}"
[ ${#nprobes[@]} -gt 0 ] || { echo "$0: NPROBES is empty" >&2; exit 2; }
read -r -a refines <<< "${REFINES-10}"  # REFINES="": no --refine rows
result="$(result_json "${RESULT:-Benchmarks/results/scale-$(date +%Y-%m-%d).json}")"
py="$venv/bin/python"
helper=Benchmarks/scale.py
data="$out/scale-$n"
base_rows=59783
slug="$(printf '%s' "$factory" | tr -c 'A-Za-z0-9_.-' '_')"
dkindex="$data/densekit-$slug.index"
fxindex="$data/faiss-$slug.index"
tmp="$(mktemp -d "$out/scale-run.XXXXXX")"
running=""  # the /usr/bin/time process of the command in progress
cleanup() {
    # A command still running (the script was interrupted): /usr/bin/time's child, then time.
    if [ -n "$running" ]; then
        pkill -TERM -P "$running" 2> /dev/null || true
        kill -TERM "$running" 2> /dev/null || true
        wait "$running" 2> /dev/null || true
    fi
    rm -rf "$tmp"
    [ "${KEEP_INDEX:-0}" = 1 ] || rm -rf "$dkindex" "$fxindex" "$fxindex.tmp"
}
trap cleanup EXIT
say() { echo "scale: $*" >&2; }
mkdir -p "$data"

# Free disk: refused when below what this N needs (the data only when it is not there yet).
need=$(( n * (2900 + 150) + 2 * 1024 * 1024 * 1024 ))
if ! "$py" "$helper" synth-check --out "$data" --n "$n" --sigma "$sigma" --seed "$seed" > /dev/null; then
    need=$(( need + n * (1536 + 390) ))
fi
rm -rf "$dkindex" "$fxindex"
free="$(df -B1 --output=avail "$data" | tail -n 1 | tr -d ' ')"
if [ "$free" -lt "$need" ]; then
    echo "$0: $(df -h --output=target "$data" | tail -n 1) has $((free / 1000000000)) GB free; N=$n needs about $((need / 1000000000)) GB (data, densekit store, two IVF-PQ files). Free some space or use a smaller N." >&2
    exit 1
fi

# timed NAME CMD...: runs CMD under /usr/bin/time -v (its report in $tmp/NAME.time, CMD's output
# as is) while Benchmarks/scale.py peakmem samples its memory; sets wall (seconds), rss (peak
# resident set, GB), anon (peak anonymous resident set, GB, sampled every 0.2 s) and load (the
# load average before).
timed() {
    local name="$1" info sampler
    shift
    load="$(cut -d' ' -f1-3 /proc/loadavg)"
    /usr/bin/time -v -o "$tmp/$name.time" "$@" &
    running=$!
    "$py" "$helper" peakmem --pid "$running" > "$tmp/$name.mem" &
    sampler=$!
    wait "$running"
    running=""
    wait "$sampler"
    info="$("$py" "$helper" timeinfo "$tmp/$name.time")"
    read -r wall rss <<< "$info"
    read -r anon _ < "$tmp/$name.mem"
}
# get JSON KEY [FORMAT]: a value of a JSON object, formatted (default: as is).
get() { python3 -c 'import json,sys; v=json.loads(sys.argv[1])[sys.argv[2]]; print(format(v, sys.argv[3]) if len(sys.argv) > 3 else v)' "$@"; }
# calc EXPRESSION: a Python expression's value.
calc() { python3 -c "print($1)"; }
gb() { calc "'%.3f' % ($1 / 1e9)"; }

# 1-2. Synthetic collection (reused when complete).
if synth="$("$py" "$helper" synth-check --out "$data" --n "$n" --sigma "$sigma" --seed "$seed")"; then
    say "reusing the synthetic collection in $data"
else
    index="$out/debian-pkg.index"
    "$dk" index build --index "$index" --collection "$corpus/collection.tsv" --quiet >&2  # resumes a killed build; a finished one is only checked
    "$dk" index export --index "$index" -o "$tmp/base.npy" --ids "$tmp/base.ids" >&2
    say "making $n synthetic vectors and passages in $data (sigma $sigma, seed $seed)"
    synth="$("$py" "$helper" synth --base "$tmp/base.npy" --ids "$tmp/base.ids" --collection "$corpus/collection.tsv" \
        --n "$n" --sigma "$sigma" --seed "$seed" --out "$data")"
    rm -f "$tmp/base.npy" "$tmp/base.ids"
fi
cosine="$(get "$synth" mean_cosine_to_base .4f)"
say "mean cosine between a row and its base vector: $cosine"

init="$(result_init "$result" "densekit at scale: IVF-PQ import and search beside faiss-cpu (synthetic vectors)" "$machine" '[]' \
    "$(result_markdown "" \
        "Machine: $machine. Both systems run on the same 2 cores, one after the other (densekit: one thread per core;" \
        "faiss-cpu $("$py" -c 'import faiss; print(faiss.__version__)') from Benchmarks/requirements.txt: 2 OpenMP threads). Data (synthetic): the real" \
        "all-MiniLM-L6-v2 embeddings of the 59,783 debian-pkg passages + Gaussian noise, normalised: row i of N =" \
        "normalize(base[i mod 59,783] + sigma * N(0, I)); passage s{i} carries the text of base passage i mod 59,783" \
        "(table data: sigma, seed, mean cosine between a row and its base vector, and how many distinct base passages" \
        "the exact top 10 of a query holds on average). Queries: the first debian-pkg dev queries, embedded by densekit." \
        "recall@10 = |top 10 found & exact top 10| / 10, mean over queries; exact = numpy inner product over every row." \
        "" \
        "densekit rows are whole commands under \`/usr/bin/time -v\`: queries/s = queries / wall seconds of" \
        "\`densekit search\`, model loading and query encoding included (the \`embed\` row times encoding the same" \
        "queries alone). faiss-cpu's queries/s counts its \`index.search\` call only (vectors given, no encoding); its wall" \
        "column is the whole Python process (imports, index read, search). faiss-cpu's train s is \`index.train\` on the" \
        "sample, add s the adds (reading the rows included), FAISS s both plus reading the sample and writing the index." \
        "densekit's train s is FAISS's train call (its summary line's \"training\"), add s the rest of its FAISS seconds" \
        "(adding and writing). ratio (densekit / faiss-cpu throughput): import: faiss-cpu's FAISS seconds / densekit's" \
        "(train + add + write), then the same for the whole wall; search: faiss-cpu's whole-process wall / (densekit's wall - the embed" \
        "row's wall), i.e. both without encoding but with loading the index. Peak RSS: maximum resident set size, GB" \
        "(10^9 bytes), from \`/usr/bin/time\`; it counts the pages of memory-mapped files the process touched (densekit's" \
        "LMDB store, \`--mmap\` lists), which the kernel may drop under pressure; faiss-cpu reads vectors.npy with plain" \
        "reads. Peak anon: the largest anonymous resident set (RssAnon in /proc, the process tree, sampled every 0.2 s):" \
        "the memory the process needs. Disk: bytes on disk (\`du -sb\`)." \
        "" \
        "Goals (issue 16): 8.8M fits (peak RSS < 8 GB for IVF-PQ), recall@10 >= 0.9 at some nprobe," \
        "build and search >= 0.8x faiss-cpu." "")" \
    "$(result_table data n:,=N data=data sigma=sigma seed=seed cosine:.4f="mean cos(row, base)" \
        distinct:.2f="distinct base passages in exact top 10" queries:,=queries)" \
    "$(result_markdown "")" \
    "$(result_table scale system=system step=step n:,=N factory=factory wall_s:.2f="wall s" store_s:.1f="store s" \
        faiss_s:.1f="FAISS s" train_s:.1f="train s" add_s:.1f="add s" queries_s:.1f=queries/s ratio=ratio \
        recall:.4f=recall@10 rss_gb:.3f="peak RSS GB" anon_gb:.3f="peak anon GB" disk_gb:.3f="disk GB" load_before="load before" command=command)")"
# row SYSTEM STEP WALL STORE FAISS TRAIN ADD QUERIES/S RATIO RECALL RSS DISK COMMAND: a row of table scale ("": none),
# with anon and load from the last `timed`.
row() {
    result_row "$result" scale "$init" "$(json_object system "$1" step "$2" n:n "$n" factory "$factory" n:wall_s "$3" \
        n:store_s "$4" n:faiss_s "$5" n:train_s "$6" n:add_s "$7" n:queries_s "$8" f:ratio "$9" n:recall "${10}" \
        n:rss_gb "${11}" n:anon_gb "$anon" f:disk_gb "${12}" load_before "$load" command "\`${13}\`")"
}

# 3. Queries, embedded by densekit (timed: the encoding part of a search command).
queries="$data/queries-$nq.tsv"
head -n "$nq" "$corpus/queries.dev.tsv" > "$queries"
[ "$(wc -l < "$queries")" -eq "$nq" ] || { echo "$0: $corpus/queries.dev.tsv has fewer than $nq queries" >&2; exit 1; }
qvectors="$data/queries-$nq.npy"
say "embedding $nq queries"
timed embed "$dk" embed --tsv --format npy -o "$qvectors" --quiet "$queries"
embed_wall="$wall" embed_rss="$rss" embed_anon="$anon" embed_load="$load"

# 4. Exact ground truth (also warms the page cache with vectors.npy for both builds alike).
truth="$data/exact-$nq.npy"
say "exact top 10 of $nq queries over $n rows"
timed exact "$py" "$helper" exact --vectors "$data/vectors.npy" --queries "$qvectors" --out "$truth" --base-rows "$base_rows" \
    > "$tmp/exact.json"
exact="$(cat "$tmp/exact.json")"
distinct="$(get "$exact" distinct_base_in_top .2f)"
say "exact: $(get "$exact" seconds .1f) s; $distinct distinct base passages in a top 10 on average"
result_row "$result" data "$init" "$(json_object n:n "$n" data "$(get "$synth" description)" n:sigma "$sigma" n:seed "$seed" \
    n:cosine "$cosine" n:distinct "$distinct" n:queries "$nq")"
row "numpy" "exact top 10" "$wall" "" "" "" "" "$(calc "'%.1f' % ($nq / $(get "$exact" seconds))")" "" "1" "$rss" "" \
    "Benchmarks/scale.py exact --vectors V --queries Q (numpy, chunks of 50,000 rows)"
wall="$embed_wall" rss="$embed_rss" anon="$embed_anon" load="$embed_load"
row "densekit" "embed $nq queries" "$wall" "" "" "" "" "$(calc "'%.1f' % ($nq / $wall)")" "" "" "$rss" "" \
    "densekit embed --tsv --format npy -o Q.npy --quiet Q.tsv"

# 5-6. Builds: faiss-cpu, then densekit.
say "faiss-cpu: building \"$factory\" over $n rows"
timed fbuild "$py" "$helper" build --vectors "$data/vectors.npy" --factory "$factory" --out "$fxindex" > "$tmp/fbuild.json"
fbuild="$(cat "$tmp/fbuild.json")"
fbuild_wall="$wall"
f_faiss_s="$(get "$fbuild" faiss_s .2f)"
row "faiss-cpu" "build (train on $(get "$fbuild" train_rows ,) rows, add, write)" "$wall" "" "$f_faiss_s" "$(get "$fbuild" train_s .2f)" \
    "$(get "$fbuild" add_s .2f)" "" "" "" "$rss" "$(gb "$(get "$fbuild" bytes)")" \
    "Benchmarks/scale.py build --vectors V --factory $factory --out I"

say "densekit: importing $n rows (\"$factory\")"
timed import "$dk" index import --collection "$data/collection.tsv" --vectors "$data/vectors.npy" --index "$dkindex" \
    --factory "$factory" --no-bm25 --quiet > "$tmp/import.out"
cat "$tmp/import.out" >&2
summary="$("$py" "$helper" summary "$tmp/import.out")"
[ "$(get "$summary" passages)" -eq "$n" ] || { echo "$0: densekit imported $(get "$summary" passages) passages, not $n" >&2; exit 1; }
store_bytes="$(du -sb "$dkindex/store" | cut -f1)"
faiss_bytes="$(du -sb "$dkindex/faiss.index" | cut -f1)"
d_faiss_s="$(get "$summary" faiss_s)"
ratio="$(calc "'%.2fx FAISS part, %.2fx whole wall' % ($f_faiss_s / $d_faiss_s, $fbuild_wall / $wall) if $d_faiss_s > 0 and $wall > 0 else '-'")"
row "densekit" "import (store, train, add, write)" "$wall" "$(get "$summary" store_s)" "$d_faiss_s" "$(get "$summary" train_s)" "$(get "$summary" add_s)" "" "$ratio" "" "$rss" \
    "$(gb $((store_bytes + faiss_bytes))) (store $(gb "$store_bytes"), FAISS $(gb "$faiss_bytes"))" \
    "densekit index import --collection C --vectors V --index I --factory $factory --no-bm25 --quiet"

# 5-6. Searches at each nprobe, lists read into memory and memory-mapped.
for p in "${nprobes[@]}"; do
    for mode in memory mmap; do
        mflag=()
        step="search nprobe $p"
        if [ "$mode" = mmap ]; then
            mflag=(--mmap)
            step="$step mmap"
        fi
        say "$step: faiss-cpu"
        timed "fsearch-$p-$mode" "$py" "$helper" search --index "$fxindex" --queries "$qvectors" --truth "$truth" --nprobe "$p" \
            ${mflag[@]+"${mflag[@]}"} > "$tmp/fsearch.json"
        fsearch="$(cat "$tmp/fsearch.json")"
        f_wall="$wall"
        row "faiss-cpu" "$step" "$wall" "" "" "" "" "$(get "$fsearch" queries_per_s .1f)" "" "$(get "$fsearch" recall .4f)" "$rss" "" \
            "Benchmarks/scale.py search --index I --queries Q.npy --truth T --nprobe $p${mflag[@]+ ${mflag[*]}}"
        say "$step: densekit"
        timed "dsearch-$p-$mode" "$dk" search --index "$dkindex" --queries "$queries" -k 10 --nprobe "$p" ${mflag[@]+"${mflag[@]}"} \
            --format msmarco -o "$tmp/run.tsv" --quiet
        recall="$("$py" "$helper" recall --run "$tmp/run.tsv" --queries "$queries" --truth "$truth")"
        ratio="$(calc "'%.2fx' % ($f_wall / ($wall - $embed_wall)) if $wall > $embed_wall else '-'")"
        row "densekit" "$step" "$wall" "" "" "" "" "$(calc "'%.1f' % ($nq / $wall)")" "$ratio" "$(get "$recall" recall .4f)" "$rss" "" \
            "densekit search --index I --queries Q.tsv -k 10 --nprobe $p${mflag[@]+ ${mflag[*]}} --format msmarco -o R --quiet"
        rm -f "$tmp/run.tsv"
    done
done

# 7. Exact re-scoring (`--refine R`) at each nprobe: densekit only (faiss-cpu's counterpart,
# IndexRefineFlat, keeps a second copy of every vector in memory; not run here).
for p in "${nprobes[@]}"; do
    for r in "${refines[@]}"; do
        step="search nprobe $p refine $r"
        say "$step: densekit"
        timed "dsearch-$p-refine-$r" "$dk" search --index "$dkindex" --queries "$queries" -k 10 --nprobe "$p" --refine "$r" \
            --format msmarco -o "$tmp/run.tsv" --quiet
        recall="$("$py" "$helper" recall --run "$tmp/run.tsv" --queries "$queries" --truth "$truth")"
        row "densekit" "$step" "$wall" "" "" "" "" "$(calc "'%.1f' % ($nq / $wall)")" "" "$(get "$recall" recall .4f)" "$rss" "" \
            "densekit search --index I --queries Q.tsv -k 10 --nprobe $p --refine $r --format msmarco -o R --quiet"
        rm -f "$tmp/run.tsv"
    done
done
say "done: $result"
