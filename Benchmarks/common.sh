# Shared set-up of the benchmark scripts (sourced, not run): installs what is missing, fetches
# the model, prepares the reference tools' Python environment and builds densekit (release).
# Sets: dk (the densekit binary, or $DENSEKIT_BIN), venv (the Python environment), out (scratch folder),
# machine (one line describing this machine), DENSEKIT_MODEL.
cd "$(dirname "${BASH_SOURCE[0]}")/.."
scripts/install-deps.sh
export DENSEKIT_MODEL="${DENSEKIT_MODEL:-${DENSEKIT_CACHE:-$HOME/.cache/densekit}/models/all-MiniLM-L6-v2}"
scripts/fetch-model.sh "$DENSEKIT_MODEL"
venv="$(Benchmarks/python-env.sh)"
# DENSEKIT_BIN: a densekit binary to use as it is (e.g. a copy, while the tree is rebuilt).
if [ -n "${DENSEKIT_BIN:-}" ]; then
    dk="$DENSEKIT_BIN"
else
    swift build -c release --product densekit >&2
    dk="$(swift build -c release --show-bin-path)/densekit"
fi
out=Benchmarks/out
mkdir -p "$out"
machine="$(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(free -g | awk '/Mem:/ {print $2}') GiB"
