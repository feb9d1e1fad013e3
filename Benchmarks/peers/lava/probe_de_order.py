"""Probe 3(d), 3(e): delay per Dense and per-step order in netx networks,
plus an exact, step-by-step check of lava_run.py against reference.py.

Run: $PY probe_de_order.py [WORKDIR]

Part 1 (d/e): a chain input(1) -> dense(1) -> dense(1) -> dense(1), input
  spiking from step 1, strong weights. Prints the first step at which each
  layer's u is non-zero and each layer spikes, for netx's Network and for the
  same chain built from plain Lava LIF + Dense processes.
Part 2: random nets (mixed / excitatory / inhibitory weights, random decays,
  thresholds, biases), constant and per-step inputs, --drive bias and ain,
  and a --batch run: lava_run.py's npz must equal reference.simulate exactly.
"""
import os
import subprocess
import sys
import tempfile

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import make_net as mk  # noqa: E402
import reference as ref  # noqa: E402


def run_lava(net, x, out, *extra):
    xp = out + '.in.npy'
    np.save(xp, x)
    subprocess.run([sys.executable, os.path.join(HERE, 'lava_run.py'), net, xp,
                    '-o', out, '-q', *extra], check=True,
                   stderr=subprocess.DEVNULL)
    return np.load(out)


def first(arr):
    nz = np.flatnonzero(np.asarray(arr).reshape(arr.shape[0], -1).any(axis=1))
    return int(nz[0]) + 1 if len(nz) else None  # 1-based Lava step


def part1(wd):
    T = 6
    cuba_kw = dict(i_decay=4096, v_decay=4096, vth=10)
    big = cuba_kw
    net = os.path.join(wd, 'chain.net')
    mk.write_net(net, [
        {'type': 'input', 'shape': (1,), 'neuron': mk.cuba(**big)},
        {'type': 'dense', 'weight': [[100]], 'neuron': mk.cuba(**cuba_kw)},
        {'type': 'dense', 'weight': [[100]], 'neuron': mk.cuba(**cuba_kw)},
        {'type': 'dense', 'weight': [[100]], 'neuron': mk.cuba(**cuba_kw)},
    ])
    d = run_lava(net, np.array([100]), os.path.join(wd, 'chain.npz'),
                 '--steps', str(T))
    print('(d/e) netx chain input->dense->dense->dense, input bias 100, vth 10')
    for i in range(4):
        print(f'   layer{i}: first u!=0 at step {first(d[f"layer{i}_u"])}, '
              f'first v!=0 at step {first(d[f"layer{i}_v"])}, '
              f'first spike at step {first(d[f"layer{i}_s"])}; '
              f's = {d[f"layer{i}_s"][:, 0].tolist()}')

    # the same with plain Lava processes
    from lava.magma.core.run_conditions import RunSteps
    from lava.magma.core.run_configs import Loihi2SimCfg
    from lava.proc.dense.process import Dense
    from lava.proc.lif.process import LIF
    from lava_common import record, monitor_data, as_int
    lifs = [LIF(shape=(1,), du=4095, dv=4096, vth=10, bias_mant=100 if k == 0 else 0,
                bias_exp=6) for k in range(4)]
    for k in range(3):
        dn = Dense(weights=np.array([[100]]))
        lifs[k].s_out.connect(dn.s_in)
        dn.a_out.connect(lifs[k + 1].a_in)
    mons = record({f'{k}': lifs[k].s_out for k in range(4)}, T)
    lifs[0].run(condition=RunSteps(num_steps=T),
                run_cfg=Loihi2SimCfg(select_tag='fixed_pt'))
    sp = {k: as_int(monitor_data(m))[:, 0] for k, m in mons.items()}
    lifs[0].stop()
    print('   plain Lava LIF->Dense->LIF chain spikes:',
          {k: v.tolist() for k, v in sp.items()})
    for k in range(4):
        assert sp[str(k)].tolist() == d[f'layer{k}_s'][:, 0].tolist()
        assert first(d[f'layer{k}_s']) == k + 1


def rand_net(rng, path, sizes, mode):
    layers = [{'type': 'input', 'shape': (sizes[0],),
               'neuron': mk.cuba(int(rng.integers(0, 4097)), int(rng.integers(0, 4097)),
                                 int(rng.integers(1, 200)))}]
    for a, b in zip(sizes[:-1], sizes[1:]):
        if mode == 'mixed':
            w = rng.integers(-256, 255, size=(b, a))
        elif mode == 'exc':
            w = rng.integers(0, 256, size=(b, a))
        elif mode == 'inh':
            w = -rng.integers(0, 256, size=(b, a))
        else:  # small, coarse weights exercise weight_exp / num_weight_bits
            w = 4 * rng.integers(-3, 4, size=(b, a))
        layers.append({'type': 'dense', 'weight': w,
                       'bias': rng.integers(-300, 300, size=b),
                       'neuron': mk.cuba(int(rng.integers(0, 4097)),
                                         int(rng.integers(0, 4097)),
                                         int(rng.integers(1, 3000)))})
    mk.write_net(path, layers)


def compare(d, u, v, s, n_layers, tag):
    for i in range(n_layers):
        for q, r in (('u', u), ('v', v), ('s', s)):
            if not np.array_equal(d[f'layer{i}_{q}'], r[i]):
                bad = np.argwhere(d[f'layer{i}_{q}'] != r[i])[0]
                raise SystemExit(f'{tag}: layer{i}_{q} differs first at '
                                 f'(t={bad[0]}, n={bad[1]}): lava '
                                 f'{d[f"layer{i}_{q}"][tuple(bad)]} ref {r[i][tuple(bad)]}')


def part2(wd):
    rng = np.random.default_rng(7)
    T = 25
    cases = 0
    for k, mode in enumerate(['mixed', 'exc', 'inh', 'coarse', 'mixed']):
        sizes = [int(rng.integers(3, 12)), int(rng.integers(3, 12)),
                 int(rng.integers(2, 10))]
        net = os.path.join(wd, f'r{k}.net')
        rand_net(rng, net, sizes, mode)
        # constant input via bias
        xc = rng.integers(-100, 400, size=sizes[0])
        d = run_lava(net, xc, os.path.join(wd, f'r{k}c.npz'), '--steps', str(T))
        u, v, s = ref.simulate(net, np.repeat(xc[None], T, 0))
        compare(d, u, v, s, 3, f'{mode} const')
        w_file = __import__('h5py').File(net)['layer/1/weight'][()]
        if w_file.min() >= 0 or w_file.min() < 0 < w_file.max():
            # effective weight == file weight (see probe_weights.py for the
            # non-positive matrices where it is not)
            assert np.array_equal(d['layer1_weight_eff'], w_file), 'weight_eff != file'
        # per-step input via bias (exercises bias_mant.set between steps)
        xs = rng.integers(-100, 400, size=(T, sizes[0]))
        d = run_lava(net, xs, os.path.join(wd, f'r{k}s.npz'))
        u, v, s = ref.simulate(net, xs)
        compare(d, u, v, s, 3, f'{mode} per-step')
        # per-step input via a_in
        d = run_lava(net, xs, os.path.join(wd, f'r{k}a.npz'), '--drive', 'ain')
        u, v, s = ref.simulate(net, xs, drive='ain')
        compare(d, u, v, s, 3, f'{mode} ain')
        spikes = sum(int(d[f'layer{i}_s'].sum()) for i in range(3))
        print(f'   {mode:6s} sizes={sizes} const/per-step/ain: identical '
              f'(spikes in ain run: {spikes})')
        cases += 3
    # batch: 3 samples back to back == 3 fresh runs
    xb = rng.integers(-50, 300, size=(3, sizes[0]))
    d = run_lava(net, xb, os.path.join(wd, 'batch.npz'), '--batch', '--steps', str(T))
    for smp in range(3):
        u, v, s = ref.simulate(net, np.repeat(xb[smp][None], T, 0))
        for i in range(3):
            for q, r in (('u', u), ('v', v), ('s', s)):
                assert np.array_equal(d[f'layer{i}_{q}'][smp], r[i]), (smp, i, q)
    print(f'   --batch of 3 samples == 3 fresh reference runs; {cases + 1} '
          'lava_run cases identical to reference.py')


if __name__ == '__main__':
    wd = sys.argv[1] if len(sys.argv) > 1 else tempfile.mkdtemp(prefix='lava-probe-')
    os.makedirs(wd, exist_ok=True)
    part1(wd)
    part2(wd)
    print('OK')
