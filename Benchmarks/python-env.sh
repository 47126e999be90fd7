#!/usr/bin/env bash
# Prints the path of a Python virtual environment holding the reference tools that the
# benchmarks compare densekit against (the pinned versions of Benchmarks/requirements.txt),
# creating it on first use and updating it when the pins change (several GB: torch).
#   BENCH_VENV=/path reuses an existing environment.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
venv="${BENCH_VENV:-$here/.venv}"
pins="$here/requirements.txt"
stamp="$venv/.densekit-requirements.sha256"
want="$(sha256sum "$pins" | cut -d' ' -f1)"
if [ ! -x "$venv/bin/python" ] || [ "$(cat "$stamp" 2> /dev/null)" != "$want" ]; then
    echo "python-env: installing the pinned reference tools of $pins into $venv" >&2
    [ -x "$venv/bin/python" ] || python3 -m venv "$venv" >&2
    "$venv/bin/pip" install --quiet -r "$pins" >&2
    echo "$want" > "$stamp"
fi
echo "$venv"
