#!/usr/bin/env bash
# Runs the whole test suite, installing what it needs first (Debian packages, the model).
#   scripts/test.sh [extra swift test arguments]
#
# Tests build in release mode: the parity and end-to-end tests run the real model, which in a
# debug build spends minutes in unoptimised SIMD loops; optimised they take seconds.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh
export DENSEKIT_MODEL="${DENSEKIT_MODEL:-${DENSEKIT_CACHE:-$HOME/.cache/densekit}/models/all-MiniLM-L6-v2}"
scripts/fetch-model.sh "$DENSEKIT_MODEL"

# FAISS's OpenMP threads spin-wait; with tests running in parallel on two cores, one thread
# each keeps them from starving one another (see the README's threading note).
export OMP_NUM_THREADS="${OMP_NUM_THREADS:-1}"
swift build -c release --build-tests
swift test -c release --skip-build "$@"
