#!/usr/bin/env bash
# Runs the whole test suite, installing what it needs first (Debian packages, the model).
#   scripts/test.sh [extra swift test arguments]
#
# Tests build in release mode: the parity and end-to-end tests run the real model, which in a
# debug build spends minutes in unoptimised SIMD loops; optimised they take seconds.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh
# Benchmark results are JSON; their Markdown and the README's benchmark tables are rendered from
# it, never edited by hand: fail first (in a fraction of a second) when they differ.
python3 Benchmarks/results.py check
export DENSEKIT_MODEL="${DENSEKIT_MODEL:-${DENSEKIT_CACHE:-$HOME/.cache/densekit}/models/all-MiniLM-L6-v2}"
scripts/fetch-model.sh "$DENSEKIT_MODEL"

# FAISS's OpenMP threads spin-wait; with tests running in parallel on two cores, one thread
# each keeps them from starving one another (see the README's threading note).
export OMP_NUM_THREADS="${OMP_NUM_THREADS:-1}"
swift build -c release --build-tests
# OpenBLAS picks its kernels when a process loads it and takes CPUs newer than itself for
# generic ones; the densekit binary restarts itself with the right OPENBLAS_CORETYPE, and this
# gives the test process (which links OpenBLAS too) the same kernels. Prints nothing when
# OpenBLAS's own choice stands or OPENBLAS_CORETYPE is already set.
eval "$("$(swift build -c release --show-bin-path)/densekit" system --shell)"
swift test -c release --skip-build "$@"
