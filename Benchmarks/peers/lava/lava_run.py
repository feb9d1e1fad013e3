#!/usr/bin/env python
"""Run a lava-dl netx .net network bit-accurately in Lava and record every layer.

Run with the venv python printed by setup.sh:

  PY=$(Benchmarks/peers/lava/setup.sh)
  $PY Benchmarks/peers/lava/lava_run.py NET.net INPUT.npy -o OUT.npz [--steps T]
      [--drive bias|ain] [--batch]

INPUT.npy (integers; stored as int32 after a range check):
  [n_in]        constant per-input-neuron value for all T steps (needs --steps)
  [T, n_in]     per-step values (--steps, if given, must equal T)
  with --batch: [S, n_in] (constant per sample, needs --steps) or [S, T, n_in];
                samples run back to back in ONE compiled network with all
                state (u, v, Dense a_buff / Conv a_buf) zeroed between samples, which is
                identical to S fresh runs (checked by probe_batch.py).
n_in = number of neurons of the netx input layer (layer 0, flattened in
netx/PyTorch C,H,W order for a 3-D input).

--drive bias (default; netx semantics): the value x is the input LIF's
  bias_mant (netx Input blocks have NO synapse and their InPort is not
  connected to the neuron: "The input must be handled through neuron's bias",
  lava/lib/dl/netx/blocks/process.py:101-106). bias_exp is netx's 6, so each
  step v += x << 6. Per-step inputs are applied with bias_mant.set() between
  single-step runs. Lava stores bias_mant as int16 (no 13-bit check); we
  reject |x| outside int16 and warn outside the Loihi 13-bit range.
--drive ain: x is injected as the input LIF's synaptic input a_in (int32):
  u = decay(u) + (x << 6). Not what netx does; for isolating u dynamics.

Output .npz (all integer arrays int64; [S, ...] leading axis only with --batch):
  layer{i}_u, layer{i}_v, layer{i}_s : [T, n]   state AFTER step t (v after
        the reset to 0 of neurons that spiked at t); s = 0/1 spikes sent at t.
        Row t-1 <-> Lava time step t (1-based).
  layer{i}_kind        'Input' | 'Dense' | 'Conv' ...
  layer{i}_shape_whc   Lava's neuron shape (x, y, z)=(W, H, C) or (n,)
  layer{i}_du, _dv, _vth, _bias_mant, _bias_exp   the LIF Vars as Lava holds
        them (du = iDecay-1, i.e. Lava adds ds_offset=1; bias_mant after the
        int16 cast; flattened like u)
  layer{i}_weight, _weight_exp, _num_weight_bits, _sign_mode  (Dense only):
        the synapse weights as PyDenseModelBitAcc uses them (after netx's
        optimize_weight_bits and Lava's clip/truncate), i.e. the dense output
        per step is (sum_j weight[:, j] * s_j) >> -weight_exp
        (<< weight_exp if > 0); layer{i}_weight_eff = weight >> -weight_exp
        (only when exact) is the effective weight in a_in units.
  input        the int32 input as applied, [T, n_in] (or [S, T, n_in])
  steps, drive, n_layers, versions
Neurons of 3-D layers are flattened in C,H,W order (index c*H*W + h*W + w),
the order netx uses for flatten -> dense (netx/hdf5.py:657).
"""
import argparse
import importlib.metadata as md
import os
import sys
import warnings

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import contextlib  # noqa: E402

with contextlib.redirect_stdout(sys.stderr):  # slayer prints a Prophesee notice
    import torch  # noqa: E402  (the snnc stub; see torch_stub/)
    from lava.lib.dl import netx  # noqa: E402
from lava.magma.core.run_conditions import RunSteps  # noqa: E402
from lava.magma.core.run_configs import Loihi2SimCfg  # noqa: E402

from lava_common import ArraySource, record, monitor_data, as_int  # noqa: E402

INT16 = (-(1 << 15), (1 << 15) - 1)
MANT13 = (-(1 << 12), (1 << 12) - 1)


def whc_to_flat(a: np.ndarray, shape_whc) -> np.ndarray:
    """[..., *shape_whc] -> [..., n] in C,H,W order."""
    lead = a.shape[:a.ndim - len(shape_whc)]
    if len(shape_whc) == 3:
        a = np.moveaxis(a, [-3, -2, -1], [-1, -2, -3])  # W,H,C -> C,H,W
    return a.reshape(lead + (-1,))


def flat_to_whc(x: np.ndarray, shape_whc) -> np.ndarray:
    """[n] (C,H,W order) -> Lava shape."""
    if len(shape_whc) == 3:
        w, h, c = shape_whc
        return x.reshape(c, h, w).transpose(2, 1, 0)
    return x.reshape(shape_whc)


def effective_dense(syn):
    """The weights exactly as PyDenseModelBitAcc.run_spk prepares them on its
    first step (lava/proc/dense/models.py:82-91): weights cast to int32 by
    the builder, sign mode from the weights, clip_weights(num_bits=8), then
    truncate_weights(num_weight_bits). Computed here with Lava's own
    functions instead of weights.get() (which streams element by element)."""
    from lava.utils.weightutils import (determine_sign_mode, clip_weights,
                                        truncate_weights)
    w = np.asarray(syn.weights.init).astype(np.int32)
    nwb = int(syn.proc_params.get('num_weight_bits', 8))
    we = int(syn.proc_params.get('weight_exp', 0))
    sm = syn.proc_params.get('sign_mode') or determine_sign_mode(w)
    w = clip_weights(w, sm, num_bits=8)
    w = truncate_weights(w, sm, nwb)
    return w.astype(np.int64), we, nwb, sm


def check_net(path):
    import h5py
    with h5py.File(path, 'r') as f:
        for k in sorted(f['layer'].keys(), key=int):
            g = f['layer'][k]
            if 'neuron' in g:
                t = g['neuron/type'][()]
                t = t.decode() if isinstance(t, bytes) else str(t)
                if 'RF' in t:
                    sys.exit(f'layer {k}: neuron type {t} needs real torch '
                             '(slayer.neuron.rf.neuron_params); not supported '
                             'with the import-only torch stub')


def load_input(path, steps, batch):
    x = np.load(path)
    if not np.issubdtype(x.dtype, np.integer):
        if not np.array_equal(x, np.rint(x)):
            sys.exit('input must be integer valued')
    x = x.astype(np.int64)
    if not batch:
        x = x[None]
    const_ndim = 2  # [S, n]
    if x.ndim == const_ndim:
        if steps is None:
            sys.exit('constant input needs --steps')
        x = np.repeat(x[:, None, :], steps, axis=1)
    elif x.ndim == 3:
        if steps is not None and steps != x.shape[1]:
            sys.exit(f'--steps {steps} != input T {x.shape[1]}')
    else:
        sys.exit(f'bad input shape {np.load(path).shape} (batch={batch})')
    return x  # [S, T, n]


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('net')
    ap.add_argument('input')
    ap.add_argument('-o', '--out', required=True)
    ap.add_argument('--steps', type=int)
    ap.add_argument('--drive', choices=['bias', 'ain'], default='bias')
    ap.add_argument('--batch', action='store_true')
    ap.add_argument('-q', '--quiet', action='store_true')
    a = ap.parse_args(argv)

    check_net(a.net)
    x = load_input(a.input, a.steps, a.batch)
    S, T, n_in = x.shape

    net = netx.hdf5.Network(net_config=a.net)
    layers = list(net.layers)
    inp = layers[0]
    if type(inp).__name__ != 'Input':
        sys.exit('layer 0 is not a netx Input block')
    in_shape = tuple(inp.neuron.a_in.shape)
    if int(np.prod(in_shape)) != n_in:
        sys.exit(f'input has {n_in} neurons, net input layer has '
                 f'{int(np.prod(in_shape))} (Lava shape {in_shape})')
    if not a.quiet:
        print(net, file=sys.stderr)

    lo, hi = (INT16 if a.drive == 'bias' else (-(1 << 31), (1 << 31) - 1))
    if x.min() < lo or x.max() > hi:
        sys.exit(f'input outside [{lo}, {hi}] for --drive {a.drive}')
    if a.drive == 'bias' and (x.min() < MANT13[0] or x.max() > MANT13[1]):
        warnings.warn('input outside the Loihi 13-bit bias_mant range; Lava '
                      'does not check it (int16 storage)')

    # per-step input, [S*T, *in_shape], int32
    x_lava = np.stack([flat_to_whc(r, in_shape) for r in x.reshape(S * T, n_in)]
                      ).astype(np.int32)
    const_per_sample = all((x[s] == x[s, :1]).all() for s in range(S))

    src = None
    if a.drive == 'bias':
        inp.neuron.bias_mant.init = x_lava[0].copy()
    else:
        src = ArraySource(x_lava)
        src.out.connect(inp.neuron.a_in)

    total = S * T
    targets = {}
    for i, L in enumerate(layers):
        targets[f'layer{i}_u'] = L.neuron.u
        targets[f'layer{i}_v'] = L.neuron.v
        targets[f'layer{i}_s'] = L.neuron.s_out
    mons = record(targets, total)

    cfg = Loihi2SimCfg(select_tag='fixed_pt')
    # chunks: bias-driven varying input -> 1 step at a time; otherwise per sample
    step_chunk = T if (a.drive == 'ain' or const_per_sample) else 1
    t_done = 0
    try:
        for s in range(S):
            if s > 0:  # zero all state between samples
                for L in layers:
                    L.neuron.u.set(np.zeros(L.neuron.u.shape, np.int32))
                    L.neuron.v.set(np.zeros(L.neuron.v.shape, np.int32))
                    for buf in ('a_buff', 'a_buf'):  # Dense / Conv names
                        if hasattr(L, 'synapse') and hasattr(L.synapse, buf):
                            var = getattr(L.synapse, buf)
                            var.set(np.zeros(var.shape, np.int32))
            t = 0
            while t < T:
                if a.drive == 'bias' and t_done > 0:
                    inp.neuron.bias_mant.set(x_lava[s * T + t])
                net.run(condition=RunSteps(num_steps=step_chunk), run_cfg=cfg)
                t += step_chunk
                t_done += step_chunk
        out = {k: as_int(monitor_data(m)) for k, m in mons.items()}
        # Parameters as the running models hold them. NOTE: Var.get() of
        # du/dv/vth HANGS for netx-built LIFs: netx passes numpy int64
        # scalars, and PyLoihiProcessModel._get_var only answers for int /
        # np.int32 / ndarray / csr / str (lava/magma/core/model/py/model.py
        # _get_var), so the runtime waits forever. Read the Var inits
        # instead (the builder stores them unchanged for `int` Vars,
        # lava/magma/compiler/builders/py_builder.py Initialize Vars).
        for i, L in enumerate(layers):
            shp = tuple(L.neuron.u.shape)
            out[f'layer{i}_kind'] = np.array(type(L).__name__)
            out[f'layer{i}_shape_whc'] = np.array(shp)
            nrn = L.neuron
            for name in ('du', 'dv', 'vth'):
                out[f'layer{i}_{name}'] = np.array(
                    int(np.asarray(getattr(nrn, name).init).reshape(-1)[0]))
            # ndarray Vars are cast to the model dtype by the builder
            # (bias_mant: np.int16, bias_exp: np.int16)
            for name in ('bias_mant', 'bias_exp'):
                val = np.empty(shp, np.int16)  # the model's dtype for both
                val[:] = np.asarray(getattr(nrn, name).init)
                if name == 'bias_mant' and i == 0 and a.drive == 'bias':
                    val[:] = x_lava[-1]  # the input (see key 'input')
                out[f'layer{i}_{name}'] = whc_to_flat(val, shp).astype(np.int64)
            if type(L).__name__ == 'Dense':
                syn = L.synapse
                w, we, nwb, sm = effective_dense(syn)
                out[f'layer{i}_weight'] = w
                out[f'layer{i}_weight_exp'] = np.array(we)
                out[f'layer{i}_num_weight_bits'] = np.array(nwb)
                out[f'layer{i}_sign_mode'] = np.array(sm.name)
                if we > 0:
                    out[f'layer{i}_weight_eff'] = w << we
                elif not (w % (1 << -we)).any():
                    out[f'layer{i}_weight_eff'] = w >> -we
    finally:
        net.stop()

    for i, L in enumerate(layers):
        shp = tuple(L.neuron.u.shape)
        for k in ('u', 'v', 's'):
            arr = whc_to_flat(out[f'layer{i}_{k}'], shp)  # [S*T, n]
            arr = arr.reshape(S, T, -1)
            out[f'layer{i}_{k}'] = arr if a.batch else arr[0]
    out['input'] = x if a.batch else x[0]
    out['steps'] = np.array(T)
    out['drive'] = np.array(a.drive)
    out['n_layers'] = np.array(len(layers))
    out['versions'] = np.array(
        f"lava-nc {md.version('lava-nc')}; lava-dl {md.version('lava-dl')}; "
        f"numpy {np.__version__}; torch {torch.__version__}")
    np.savez(a.out, **out)
    if not a.quiet:
        for i in range(len(layers)):
            s = out[f'layer{i}_s']
            print(f'layer{i} {out[f"layer{i}_kind"]} n={s.shape[-1]} '
                  f'spikes={int(s.sum())}', file=sys.stderr)
        print(f'wrote {a.out}', file=sys.stderr)


if __name__ == '__main__':
    main()
