#!/usr/bin/env bash
# Create (once, cached) the Python venv for the Lava parity peer.
#
#   Benchmarks/peers/lava/setup.sh            # create if missing, print python path
#   Benchmarks/peers/lava/setup.sh --force    # rebuild from scratch
#   Benchmarks/peers/lava/setup.sh --check    # exit 0 iff the venv is ready (no install)
#
# Venv: ${SNNC_PEER_CACHE:-$HOME/.cache/snnc-peers}/lava-0.10.0 (never in the repo).
# Contents: lava-nc==0.10.0, numpy<2, h5py, lava-dl==0.6.0 (--no-deps) plus
# the non-torch deps its import chain needs, and an import-only torch /
# torchvision stub from ./torch_stub (see README.md for why: PyPI's torch
# 2.3.x wheel drags ~2.5 GB of nvidia-* wheels and won't import without them).
# Python 3.10 is required (lava-nc 0.10.0: >=3.10,<3.11). Override the
# interpreter with SNNC_PYTHON310=/path/to/python3.10.
# Last line of stdout is the venv's python path.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
CACHE="${SNNC_PEER_CACHE:-$HOME/.cache/snnc-peers}"
VENV="$CACHE/lava-0.10.0"
VPY="$VENV/bin/python"
MARKER="$VENV/.snnc-ready"

# Pinned set. Bump STAMP (or edit any pin / the stub) to force a rebuild.
PKGS=(
  "lava-nc==0.10.0"
  "numpy>=1.24.4,<2"
  "h5py>=3.7,<4"
  "scipy>=1.10.1,<2"
  # imported at module level by lava.lib.dl.slayer (pulled in by netx.hdf5):
  "matplotlib>=3.5.2,<4"
  "pillow>=10.0.1,<11"
  "opencv-python-headless>=4.8.1.78,<5"
)
DL_PKG="lava-dl==0.6.0"
STAMP="v1 ${PKGS[*]} $DL_PKG $(cat "$HERE"/torch_stub/_snnc_stub_core.py "$HERE"/torch_stub/*/__init__.py | cksum)"

is_ready() {
  [[ -x "$VPY" && -f "$MARKER" ]] && [[ "$(cat "$MARKER")" == "$STAMP" ]]
}

mode="${1:-}"
if [[ "$mode" == "--check" ]]; then
  is_ready && { echo "$VPY"; exit 0; }
  echo "lava venv not ready at $VENV (run $0)" >&2; exit 1
fi

mkdir -p "$CACHE"
exec 9>"$CACHE/.lava-0.10.0.lock"
flock 9   # serialise concurrent setups

if [[ "$mode" != "--force" ]] && is_ready; then
  echo "$VPY"; exit 0
fi

find_python() {
  if [[ -n "${SNNC_PYTHON310:-}" ]]; then echo "$SNNC_PYTHON310"; return; fi
  if command -v pyenv >/dev/null 2>&1; then
    local p; p="$(pyenv root)/versions/3.10.13/bin/python"
    [[ -x "$p" ]] && { echo "$p"; return; }
    for p in "$(pyenv root)"/versions/3.10.*/bin/python; do
      [[ -x "$p" ]] && { echo "$p"; return; }
    done
  fi
  # pyenv's versions even when pyenv is not on PATH (CI runs with a plain environment).
  for p in "${PYENV_ROOT:-$HOME/.pyenv}"/versions/3.10.*/bin/python /root/.pyenv/versions/3.10.*/bin/python; do
    [[ -x "$p" ]] && { echo "$p"; return; }
  done
  for p in python3.10 /usr/bin/python3.10; do
    if command -v "$p" >/dev/null 2>&1 && "$p" -c 'import sys; assert sys.version_info[:2]==(3,10)' 2>/dev/null; then
      command -v "$p"; return
    fi
  done
  return 1
}

BASEPY="$(find_python)" || { echo "error: need Python 3.10 (set SNNC_PYTHON310)" >&2; exit 2; }
"$BASEPY" -c 'import sys; assert sys.version_info[:2]==(3,10), sys.version' \
  || { echo "error: $BASEPY is not Python 3.10" >&2; exit 2; }

t0=$(date +%s)
echo "[lava-setup] building $VENV with $BASEPY" >&2
rm -rf "$VENV"
"$BASEPY" -m venv "$VENV"
PIP=("$VPY" -m pip --disable-pip-version-check --no-input -q)
"${PIP[@]}" install "${PKGS[@]}" >&2
# lava-dl 0.6.0 pins torch 2.3.x / torchvision 0.18 (CUDA wheels, GBs); take
# it without deps, everything it needs is listed above.
"${PIP[@]}" install --no-deps "$DL_PKG" >&2

SITE="$("$VPY" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
for d in torch torchvision; do
  if [[ -e "$SITE/$d" && ! -f "$SITE/$d/.snnc-stub" ]]; then
    echo "error: a real $d is installed in $SITE; refusing to overwrite" >&2; exit 3
  fi
  rm -rf "$SITE/$d"
  cp -r "$HERE/torch_stub/$d" "$SITE/$d"
  touch "$SITE/$d/.snnc-stub"
done
cp "$HERE/torch_stub/_snnc_stub_core.py" "$SITE/_snnc_stub_core.py"

# Smoke test: the import chain netx needs, with the stub.
"$VPY" - >&2 <<'EOF'
import torch, lava.lib.dl.netx as netx
from lava.magma.core.run_configs import Loihi2SimCfg
from lava.proc.lif.models import PyLifModelBitAcc
from lava.proc.dense.models import PyDenseModelBitAcc
assert getattr(torch, "SNNC_TORCH_STUB", False)
import lava, importlib.metadata as md
print("[lava-setup] ok: lava-nc", md.version("lava-nc"), "lava-dl", md.version("lava-dl"),
      "numpy", md.version("numpy"), "torch", torch.__version__)
EOF
echo "$STAMP" > "$MARKER"
t1=$(date +%s)
echo "[lava-setup] done in $((t1 - t0)) s; venv size $(du -sh "$VENV" | cut -f1)" >&2
echo "$VPY"
