#!/usr/bin/env bash
# Run every Lava fact probe and the tiny 4->3->2 example. Scratch files go to
# a temp dir (never the repo). Usage: Benchmarks/peers/lava/run_probes.sh [WORKDIR]
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
PY="$("$HERE/setup.sh" | tail -n1)"
WD="${1:-$(mktemp -d -t lava-probes.XXXXXX)}"
mkdir -p "$WD"
quiet() { grep -v 'Prophesee\|Only Prophesee\|prophesee-automotive' || true; }
cd "$HERE"
for p in probe_ab_c_dtype.py probe_de_order.py probe_f_bias.py probe_weights.py probe_conv.py; do
  echo "=== $p"
  "$PY" -W ignore "$p" "$WD/${p%.py}" 2>&1 | quiet
done
echo "=== tiny example: input(4) -> dense(3) -> dense(2), constant input, T=10"
"$PY" make_net.py "$WD/tiny.net" >/dev/null
"$PY" -c "import numpy as np; np.save('$WD/tiny_x.npy', np.array([20, 35, 50, 80], np.int32))"
"$PY" lava_run.py "$WD/tiny.net" "$WD/tiny_x.npy" --steps 10 -o "$WD/tiny.npz" 2>&1 | quiet
"$PY" - "$WD/tiny.npz" <<'PY'
import sys, numpy as np
d = np.load(sys.argv[1])
for i in range(int(d['n_layers'])):
    for q in 'uvs':
        print(f'layer{i}_{q}', d[f'layer{i}_{q}'].shape, d[f'layer{i}_{q}'].tolist())
PY
echo "work dir: $WD"
