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

# start_serve LOG SERVE_ARGS...: starts `densekit serve SERVE_ARGS --port 0` in the background
# with its stderr in LOG, waits until it listens, and sets `server` (its PID) and `port`.
start_serve() {
    local log="$1"; shift
    "$dk" serve "$@" --port 0 2> "$log" &
    server=$!
    port=""
    for _ in $(seq 1 600); do
        port="$(grep -oE 'on http://127\.0\.0\.1:[0-9]+' "$log" | grep -oE '[0-9]+$' || true)"
        [ -n "$port" ] && return 0
        kill -0 "$server" 2> /dev/null || break
        sleep 0.1
    done
    cat "$log" >&2
    kill "$server" 2> /dev/null || true
    return 1
}

# Results as JSON through Benchmarks/results.py (result_json, result_row, result_doc, json_object,
# ...): see Benchmarks/result_json.sh.
source Benchmarks/result_json.sh
