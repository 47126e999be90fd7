#!/usr/bin/env bash
# Prints the path of a Python virtual environment holding the reference tools that the
# benchmarks compare densekit against, creating it on first use (several GB: torch).
#   BENCH_VENV=/path reuses an existing environment.
set -euo pipefail
venv="${BENCH_VENV:-$(cd "$(dirname "$0")" && pwd)/.venv}"
if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c "import sentence_transformers, faiss" 2>/dev/null; then
    echo "python-env: creating $venv (torch 2.15, sentence-transformers 6.2, faiss-cpu)" >&2
    python3 -m venv "$venv" >&2
    "$venv/bin/pip" install --quiet torch==2.15.0 sentence-transformers==6.2.0 faiss-cpu >&2
fi
echo "$venv"
