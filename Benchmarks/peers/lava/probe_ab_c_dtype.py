"""Probe 3(a), 3(b), 3(c): what dtype the LIF's a_in really has, how
left_shift(a_in, 6) wraps, and whether an unconnected a_in runs.

Run: $PY probe_ab_c_dtype.py      (PY = venv python from setup.sh)

(a) Dense (PyDenseModelBitAcc, a_out int32) -> LIF (PyLifModelBitAcc, a_in
    declared LavaPyType(np.int16)): 200 inputs spiking every step, weight 255
    -> dense sum 51000 > 32767. With du = 4095 (u multiplier 0) u[t] =
    wrap24(int32(a_in << 6)), so u shows what a_in was. A side sink process
    whose InPort is declared np.int16 exactly like LIF.a_in records the dtype
    and values recv() returns.
(b) int32 values sent straight into LIF.a_in (ArraySource) around 2^25, where
    a_in << 6 leaves int32; and a Dense with weight_exp=7 producing > 2^25.
(c) LIF with nothing connected to a_in, bias only.
"""
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lava_common import ArraySource, record, monitor_data, as_int  # noqa

from lava.magma.core.run_conditions import RunSteps
from lava.magma.core.run_configs import Loihi2SimCfg
from lava.proc.dense.process import Dense
from lava.proc.lif.process import LIF
from snnc_lava_procs.int16_sink import Int16Sink

CFG = Loihi2SimCfg(select_tag='fixed_pt')
T = 3


def wrap24_lava(dc):
    """The wrap of AbstractPyLifModelFixed.subthr_dynamics (models.py:161-170)."""
    m = 2 ** 23
    w = np.where(dc > m, dc - 2 * m, dc)
    return np.where(w <= -m, dc + 2 * m, w)


def case_a():
    n = 200
    spikes = np.ones((T, n), np.int32)
    src = ArraySource(spikes)
    dense = Dense(weights=np.full((1, n), 255), num_weight_bits=8, weight_exp=0)
    lif = LIF(shape=(1,), du=4095, dv=0, vth=(1 << 17) - 1, bias_mant=0, bias_exp=0)
    sink = Int16Sink(1, T)
    src.out.connect(dense.s_in)
    dense.a_out.connect(lif.a_in)
    dense.a_out.connect(sink.a_in)
    mons = record({'u': lif.u}, T)
    lif.run(condition=RunSteps(num_steps=T), run_cfg=CFG)
    u = as_int(monitor_data(mons['u']))[:, 0]
    itemsize = sink.itemsize.get().astype(int)
    seen = sink.seen.get().astype(int)[:, 0]
    lif.stop()
    print('(a) dense sum 200*255 = 51000 into LIF a_in (declared int16)')
    print('    a_in recv() itemsize per step:', itemsize.tolist(),
          ' values:', seen.tolist())
    print('    LIF u per step:', u.tolist(),
          ' [int32 kept -> 51000<<6 = 3264000; int16 wrap would give',
          int(np.int16(np.int32(51000).astype(np.int16))) * 64, ']')
    assert u[1] == 51000 << 6, u


def case_b():
    vals = np.array([(1 << 25) - 1, (1 << 25) + 5, -(1 << 25) - 3, 1 << 17, -(1 << 17)],
                    np.int64)
    src = ArraySource(np.repeat(vals[None].astype(np.int32), T, axis=0))
    lif = LIF(shape=(len(vals),), du=4095, dv=0, vth=(1 << 17) - 1, bias_mant=0,
              bias_exp=0)
    src.out.connect(lif.a_in)
    mons = record({'u': lif.u}, T)
    lif.run(condition=RunSteps(num_steps=T), run_cfg=CFG)
    u = as_int(monitor_data(mons['u']))
    lif.stop()
    exp32 = wrap24_lava(np.left_shift(vals.astype(np.int32), 6).astype(np.int64))
    exp64 = wrap24_lava(vals << 6)
    print('(b) a_in values          :', vals.tolist())
    print('    Lava u (step 1)       :', u[0].tolist())
    print('    int32 <<6 then wrap24 :', exp32.tolist())
    print('    int64 <<6 then wrap24 :', exp64.tolist())
    assert np.array_equal(u[0], exp32)

    # via a Dense whose output exceeds 2^25: 1100 inputs * 255 << 7
    n = 1100
    src2 = ArraySource(np.ones((T, n), np.int32))
    dense = Dense(weights=np.full((1, n), 255), num_weight_bits=8, weight_exp=7)
    lif2 = LIF(shape=(1,), du=4095, dv=0, vth=(1 << 17) - 1, bias_mant=0, bias_exp=0)
    src2.out.connect(dense.s_in)
    dense.a_out.connect(lif2.a_in)
    mons = record({'u': lif2.u}, T)
    lif2.run(condition=RunSteps(num_steps=T), run_cfg=CFG)
    u2 = as_int(monitor_data(mons['u']))[:, 0]
    lif2.stop()
    a = 255 * n * 128
    e = int(wrap24_lava(np.left_shift(np.array([a], np.int32), 6)
                        .astype(np.int64))[0])
    print(f'    Dense 1100*255<<7 = {a} (> 2^25) -> Lava u:', u2.tolist(),
          ' int32-wrapped expectation:', e, ' int64 would be:',
          int(wrap24_lava(np.array([a << 6]))[0]))
    assert u2[1] == e

    # Dense output itself beyond int32: a_accum is int64 inside the model
    # (numpy sum of int32 -> int64), a_buff = a_accum << weight_exp is
    # int64, and the int32 channel buffer wraps it on send.
    sink = Int16Sink(1, T)
    src3 = ArraySource(np.ones((T, n), np.int32))
    dense3 = Dense(weights=np.full((1, n), 255), num_weight_bits=8, weight_exp=13)
    src3.out.connect(dense3.s_in)
    dense3.a_out.connect(sink.a_in)
    sink.run(condition=RunSteps(num_steps=T), run_cfg=CFG)
    seen = sink.seen.get().astype(np.int64)[:, 0]
    sink.stop()
    a3 = 255 * n << 13
    print(f'    Dense 1100*255<<13 = {a3} (> 2^31) -> received a_in:',
          seen.tolist(), ' int32 wrap:', int(np.array([a3]).astype(np.int32)[0]))
    assert seen[1] == int(np.array([a3]).astype(np.int32)[0])


def case_c():
    lif = LIF(shape=(2,), du=0, dv=0, vth=1000, bias_mant=np.array([5, -7]),
              bias_exp=6)
    sink = Int16Sink(2, T)  # also unconnected
    mons = record({'u': lif.u, 'v': lif.v}, T)
    lif.run(condition=RunSteps(num_steps=T), run_cfg=CFG)
    u = as_int(monitor_data(mons['u']))
    v = as_int(monitor_data(mons['v']))
    lif.stop()
    print('(c) unconnected a_in: runs; u =', u.tolist(), ' v =', v.tolist())
    assert not u.any() and v[-1].tolist() == [3 * 5 * 64, -3 * 7 * 64]
    _ = sink


if __name__ == '__main__':
    case_a()
    case_b()
    case_c()
    # unconnected InPort recv() -> np.zeros(shape, declared d_type)
    # (lava/magma/core/model/py/ports.py PyInPortVectorDense.recv: reduce
    # starting from np.zeros(self._shape, self._d_type)), so an unconnected
    # LIF a_in is int16 zeros; a connected one is int16 zeros + int32 = int32.
    print('OK')
