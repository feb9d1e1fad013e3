"""Probe: netx conv layers (and flatten -> dense) in lava_run.py against
reference.py, exactly, including the C,H,W neuron order of the npz.

Run: $PY probe_conv.py [WORKDIR]
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


def out_hw(h, k, s, p, d):
    return (h + 2 * p - d * (k - 1) - 1) // s + 1


def main(wd):
    rng = np.random.default_rng(3)
    T = 15
    configs = [dict(k=3, s=1, p=0, d=1, g=1), dict(k=3, s=2, p=1, d=1, g=1),
               dict(k=2, s=1, p=1, d=2, g=2), dict(k=(3, 2), s=(1, 2), p=(1, 0), d=1, g=1)]
    for j, c in enumerate(configs):
        C, H, W = 2, 7, 6
        Co = 4
        kh, kw = c['k'] if isinstance(c['k'], tuple) else (c['k'], c['k'])
        sh, sw = c['s'] if isinstance(c['s'], tuple) else (c['s'], c['s'])
        ph, pw = c['p'] if isinstance(c['p'], tuple) else (c['p'], c['p'])
        Ho, Wo = out_hw(H, kh, sh, ph, c['d']), out_hw(W, kw, sw, pw, c['d'])
        w = rng.integers(-120, 120, size=(Co, C // c['g'], kh, kw))
        wd2 = rng.integers(-100, 100, size=(3, Co * Ho * Wo))
        net = os.path.join(wd, f'conv{j}.net')
        mk.write_net(net, [
            {'type': 'input', 'shape': (C, H, W), 'neuron': mk.cuba(4096, 0, 60)},
            {'type': 'conv', 'shape': (Co, Ho, Wo), 'weight': w,
             'stride': [sh, sw], 'padding': [ph, pw], 'dilation': [c['d'], c['d']],
             'groups': c['g'], 'bias': rng.integers(-20, 20, size=Co),
             'neuron': mk.cuba(1024, 256, 150)},
            {'type': 'flatten'},
            {'type': 'dense', 'weight': wd2, 'neuron': mk.cuba(2048, 128, 200)},
        ])
        x = rng.integers(0, 50, size=(T, C * H * W))
        xp = os.path.join(wd, f'conv{j}.in.npy')
        np.save(xp, x)
        outp = os.path.join(wd, f'conv{j}.npz')
        subprocess.run([sys.executable, os.path.join(HERE, 'lava_run.py'), net, xp,
                        '-o', outp, '-q'], check=True, stderr=subprocess.DEVNULL)
        d = np.load(outp)
        u, v, s = ref.simulate(net, x)
        for i in range(3):
            for q, r in (('u', u), ('v', v), ('s', s)):
                assert np.array_equal(d[f'layer{i}_{q}'], r[i]), (j, i, q)
        print(f'  conv cfg {c}: out (C,H,W)=({Co},{Ho},{Wo}); Lava shape '
              f'{d["layer1_shape_whc"].tolist()}; spikes per layer '
              f'{[int(d[f"layer{i}_s"].sum()) for i in range(3)]}: identical to reference')
    # --batch on the last conv net (Conv's buffer is a_buf, Dense's a_buff)
    xb = rng.integers(0, 50, size=(3, T, C * H * W))
    xp = os.path.join(wd, 'convb.in.npy')
    np.save(xp, xb)
    outp = os.path.join(wd, 'convb.npz')
    subprocess.run([sys.executable, os.path.join(HERE, 'lava_run.py'), net, xp,
                    '-o', outp, '-q', '--batch'], check=True, stderr=subprocess.DEVNULL)
    d = np.load(outp)
    for smp in range(3):
        u, v, s = ref.simulate(net, xb[smp])
        for i in range(3):
            for q, r in (('u', u), ('v', v), ('s', s)):
                assert np.array_equal(d[f'layer{i}_{q}'][smp], r[i]), (smp, i, q)
    print('  --batch (3 samples, per-step input) on a conv net: identical to reference')
    # the CUBA/LOIHI nets lava-dl 0.6.0 ships with its tests
    import lava.lib.dl.netx as netx_pkg
    tdir = os.path.join(os.path.dirname(netx_pkg.__file__), '..', '..', '..', '..',
                        'tests', 'lava', 'lib', 'dl', 'netx')
    for name, T, hi in (('mnist.net', 20, 40), ('tiny.net', 20, 40)):
        net = os.path.normpath(os.path.join(tdir, name))
        if not os.path.exists(net):
            print('  (missing)', net)
            continue
        import h5py
        n_in = int(np.prod(h5py.File(net)['layer/0/shape'][()]))
        x = rng.integers(0, hi, size=n_in)
        xp = os.path.join(wd, name + '.in.npy')
        np.save(xp, x)
        outp = os.path.join(wd, name + '.npz')
        subprocess.run([sys.executable, os.path.join(HERE, 'lava_run.py'), net, xp,
                        '-o', outp, '-q', '--steps', str(T)], check=True,
                       stderr=subprocess.DEVNULL)
        d = np.load(outp)
        u, v, s = ref.simulate(net, np.repeat(x[None], T, 0))
        nl = int(d['n_layers'])
        for i in range(nl):
            for q, r in (('u', u), ('v', v), ('s', s)):
                assert np.array_equal(d[f'layer{i}_{q}'], r[i]), (name, i, q)
        print(f'  lava-dl test net {name}: {nl} layers, spikes per layer '
              f'{[int(d[f"layer{i}_s"].sum()) for i in range(nl)]}: identical to reference')
    print('OK')


if __name__ == '__main__':
    wd = sys.argv[1] if len(sys.argv) > 1 else tempfile.mkdtemp(prefix='lava-probe-')
    os.makedirs(wd, exist_ok=True)
    main(wd)
