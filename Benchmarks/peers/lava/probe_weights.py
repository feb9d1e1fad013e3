"""Probe: the effective dense weight netx + Lava use for a file weight W.

Pipeline: netx/utils.py optimize_weight_bits (W << scale_bits,
num_weight_bits, weight_exp = -scale_bits) -> Lava Dense builder int32 ->
PyDenseModelBitAcc first step: sign mode from weights, clip_weights(8 bits),
truncate_weights(num_weight_bits) -> per step (sum w*s) >> -weight_exp.
Effective weight = w >> -weight_exp. Checks reference.netx_weights against
Lava's own functions and lists where effective != W.

Run: $PY probe_weights.py
"""
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import reference as ref  # noqa: E402
from lava.lib.dl.netx.utils import optimize_weight_bits  # noqa: E402
from lava.utils.weightutils import (determine_sign_mode, clip_weights,  # noqa: E402
                                    truncate_weights)


def lava_eff(w):
    w2, nwb, wexp, _ = optimize_weight_bits(np.asarray(w).astype(int))
    w2 = w2.astype(np.int32)
    sm = determine_sign_mode(w2)
    w2 = truncate_weights(clip_weights(w2, sm, num_bits=8), sm, nwb)
    return w2, wexp, nwb, sm


def eff(w2, wexp):
    return (w2 << wexp) if wexp > 0 else (w2 >> -wexp)


def main():
    rng = np.random.default_rng(1)
    n_ok = 0
    bad = []
    for trial in range(3000):
        kind = trial % 4
        lo, hi = [(-256, 255), (0, 256), (-255, 1), (-8, 9)][kind]
        w = rng.integers(lo, hi, size=(rng.integers(1, 6), rng.integers(1, 6)))
        w *= int(rng.choice([1, 2, 4, 8])) if kind == 3 else 1
        if not w.any():
            continue
        a, ae, anwb, _ = lava_eff(w)
        b, be = ref.netx_weights(w)
        assert np.array_equal(a, b) and ae == be, (w, a, b)
        if np.array_equal(eff(a, ae), w):
            n_ok += 1
        else:
            bad.append((w, eff(a, ae)))
    print(f'{n_ok + len(bad)} random W (mixed in [-256,254], [0,255], [-255,0], '
          'small*2^k): reference.netx_weights == Lava for all;')
    print(f'  effective == W for {n_ok}; differs for {len(bad)}:')
    cls = {'min<0<max': 0, 'min>=0': 0, 'max==0>min': 0, 'max<0': 0}
    for w, _ in bad:
        cls['min<0<max' if w.min() < 0 < w.max() else 'min>=0' if w.min() >= 0
            else 'max==0>min' if w.max() == 0 else 'max<0'] += 1
    print('   by sign class of W:', cls)
    for w, e in bad[:3]:
        print('   e.g. W', w.tolist(), '-> effective', e.tolist())

    edges = {
        'mixed max 255': [[255, -1]],
        'mixed max 300': [[300, -1]],
        'mixed min -256': [[-256, 1]],
        'mixed min -300': [[-300, 1]],
        'inhibitory -256': [[-256, -1]],
        'excitatory 255': [[255, 1]],
        'excitatory 300': [[300, 1]],
        'excitatory 1000,3': [[1000, 3]],
        'single 1': [[1]],
        'single -1': [[-1]],
        'non-positive w/ 0': [[-8, 0, -32]],
        'non-positive no 0': [[-8, -1, -32]],
    }
    for name, w in edges.items():
        try:
            a, ae, anwb, sm = lava_eff(w)
            print(f'  {name:18s} W={w[0]} -> model w={a.tolist()[0]} '
                  f'weight_exp={ae} num_weight_bits={anwb} {sm.name} '
                  f'-> effective {eff(a, ae).tolist()[0]}')
        except Exception as e:  # noqa: BLE001
            print(f'  {name:18s} W={w[0]} -> {type(e).__name__}: {e}')
    try:
        lava_eff([[0, 0]])
        print('  all-zero W: ok')
    except Exception as e:  # noqa: BLE001
        print(f'  all-zero W          -> {type(e).__name__}: {e}')
    print('OK')


if __name__ == '__main__':
    main()
