"""Pure-numpy restatement of what netx + Lava 0.10.0 (fixed_pt) compute for a
feed-forward netx .net of Input / Dense / Conv / Flatten layers with CUBA
neurons, input driven through the input layer's bias (lava_run.py --drive
bias) or its a_in (--drive ain). Neurons are indexed in C,H,W order.

It exists to pin the semantics documented in README.md down to the bit:
probe_de_order.py checks that lava_run.py's recording of real Lava equals
this, step by step, on random networks. Needs only numpy + h5py.

    u, v, s = simulate(net_path, x[, drive])  # x: [T, n_in]; lists of [T, n]
"""
import h5py
import numpy as np

M23 = 1 << 23


def _str(d):
    v = d[()]
    if isinstance(v, np.ndarray):
        v = v.reshape(-1)[0]
    return v.decode('ascii') if isinstance(v, bytes) else str(v)


def netx_weights(w):
    """netx/utils.py optimize_weight_bits + Lava Dense bit-acc preparation
    (lava/proc/dense/models.py:82-91, lava/utils/weightutils.py).
    Returns (weights as the model holds them, weight_exp)."""
    w = np.asarray(w).astype(int)  # NetDict copy_keys: .astype(int)
    mx, mn = w.max(), w.min()
    if mx > 254 and mn < 0:
        w = np.clip(w, -256, 254)
        mx = w.max()
    if mn < -256 and mx > 0:
        w = np.clip(w, -256, 254)
        mn = w.min()
    if mx < 0:
        signed, scale = 0, -256 / mn
    elif mn >= 0:
        signed, scale = 0, 255 / mx
    else:
        signed, scale = 1, min(127 / mx, -128 / mn)
    scale_bits = int(np.floor(np.log2(scale))) + signed
    n = 8
    while n > 0 and np.sum(np.abs(w / 2 ** n - np.round(w / 2 ** n))) != 0:
        n -= 1
    n -= signed
    nwb = 8 - scale_bits - n
    wexp = -scale_bits
    w = np.left_shift(w.astype(np.int32), scale_bits)
    # Lava: sign mode from the weights, clip to 8 bits, truncate to nwb bits
    if w.min() >= 0:
        mode = 'EXC'
    elif w.max() <= 0:
        mode = 'INH'
    else:
        mode = 'MIX'
    w = w.astype(np.int32)
    if mode == 'INH':
        w = -w
    w = np.clip(w, -256 if mode == 'MIX' else 0, 255)
    t = 8 - nwb + (mode == 'MIX')
    w = (w >> t) << t
    if mode == 'INH':
        w = -w
    return w.astype(np.int32), wexp


def _pair(x):
    x = np.asarray(x).reshape(-1)
    return (int(x[0]), int(x[0])) if x.size == 1 else (int(x[0]), int(x[1]))


def load(net_path):
    layers = []
    prev_shape = None
    with h5py.File(net_path, 'r') as f:
        for k in sorted(f['layer'].keys(), key=int):
            g = f['layer'][k]
            kind = _str(g['type'])
            if kind == 'flatten':
                continue  # netx: next dense gets out.transpose([2,1,0]).flatten()
            if 'neuron' in g:
                nr = g['neuron']
                assert _str(nr['type']) in ('CUBA', 'LOIHI')
                nr = {q: int(np.asarray(nr[q][()]).reshape(-1)[0])
                      for q in ('iDecay', 'vDecay', 'vThMant')}
            else:  # dense without neuron: hdf5.py:352-357 ('1 << 18 - 1' = 2^17)
                assert kind == 'dense', kind
                nr = {'iDecay': 0, 'vDecay': 4096, 'vThMant': 1 << 18 - 1}
            L = {'kind': kind,
                 'du': nr['iDecay'] - 1,   # hdf5.py:156
                 'dv': nr['vDecay'],       # hdf5.py:157
                 'vth': nr['vThMant']}     # hdf5.py:155
            if kind == 'input':
                L['shape'] = tuple(int(v) for v in g['shape'][()])  # (C,H,W)|(n,)
                L['n'] = int(np.prod(L['shape']))
                L['bias'] = np.zeros(L['n'], np.int64)  # file 'bias' unused
            elif kind == 'dense':
                w, wexp = netx_weights(g['weight'][()])
                L['w'], L['wexp'], L['n'] = w, wexp, w.shape[0]
                L['shape'] = (L['n'],)
                b = g['bias'][()].astype(int) if 'bias' in g else np.zeros(L['n'], int)
                L['bias'] = b.astype(np.int32).astype(np.int16).astype(np.int64)
            elif kind == 'conv':
                w = g['weight'][()].astype(int)       # [Co, Ci/g, kH, kW(, 1)]
                L['w'] = w.reshape(w.shape[:4]).astype(np.int64)
                L['stride'], L['padding'], L['dilation'] = (
                    _pair(g[q][()]) for q in ('stride', 'padding', 'dilation'))
                L['groups'] = int(np.asarray(g['groups'][()]).reshape(-1)[0])
                L['in_shape'] = prev_shape
                L['shape'] = tuple(int(v) for v in g['shape'][()])  # (C,H,W)
                L['n'] = int(np.prod(L['shape']))
                if 'bias' in g:   # channel-wise (blocks/process.py:62-64)
                    b = g['bias'][()].astype(int).astype(np.int32)
                    b = np.repeat(b, L['n'] // L['shape'][0])
                else:
                    b = np.zeros(L['n'], int)
                L['bias'] = b.astype(np.int16).astype(np.int64)
            else:
                raise NotImplementedError(kind)
            prev_shape = L['shape']
            layers.append(L)
    return layers


def _conv(L, s_flat):
    """torch-style conv2d (correlation) of C,H,W spikes, exact ints, then the
    PyConvModelFixed signed 24-bit wrap (utils.signed_clamp is modular)."""
    ci, hi, wi = L['in_shape']
    co, ho, wo = L['shape']
    x = s_flat.reshape(ci, hi, wi).astype(np.int64)
    (sh, sw), (ph, pw), (dh, dw) = L['stride'], L['padding'], L['dilation']
    x = np.pad(x, ((0, 0), (ph, ph), (pw, pw)))
    w = L['w']
    kh, kw = w.shape[2:]
    cig, cog = ci // L['groups'], co // L['groups']
    out = np.zeros((co, ho, wo), np.int64)
    for o in range(co):
        gi = (o // cog) * cig
        for c in range(cig):
            for a in range(kh):
                for b in range(kw):
                    patch = x[gi + c, a * dh: a * dh + sh * (ho - 1) + 1: sh,
                              b * dw: b * dw + sw * (wo - 1) + 1: sw]
                    out[o] += w[o, c, a, b] * patch
    out = (out + (1 << 23)) % (1 << 24) - (1 << 23)
    return out.reshape(-1).astype(np.int32)


def _decay(x, d):
    p = x.astype(np.int64) * (4096 - d)
    return (np.sign(p) * (np.abs(p) >> 12)).astype(np.int32)


def simulate(net_path, x, drive='bias'):
    layers = load(net_path)
    x = np.asarray(x, np.int64)
    T = x.shape[0]
    n = [L['n'] for L in layers]
    u = [np.zeros(k, np.int32) for k in n]
    v = [np.zeros(k, np.int32) for k in n]
    s_prev = [np.zeros(k, bool) for k in n]
    rec = {q: [np.zeros((T, k), np.int64) for k in n] for q in 'uvs'}
    for t in range(T):
        s_now = []
        for i, L in enumerate(layers):
            if L['kind'] == 'input':
                if drive == 'bias':
                    a_in = np.zeros(L['n'], np.int32)   # a_in unconnected
                    bias = x[t].astype(np.int16)        # bias_mant (int16)
                else:  # lava_run.py --drive ain
                    a_in = x[t].astype(np.int32)
                    bias = np.zeros(L['n'], np.int16)
            else:
                # Dense/Conv: a_buff computed at step t-1 from the spikes the
                # previous layer sent at t-1, sent at t (one step per synapse)
                if L['kind'] == 'conv':
                    a_in = _conv(L, s_prev[i - 1])
                else:
                    acc = L['w'][:, s_prev[i - 1]].sum(axis=1)   # int64
                    nb = acc << L['wexp'] if L['wexp'] > 0 else acc >> -L['wexp']
                    a_in = nb.astype(np.int32)      # int32 channel on send
                bias = L['bias'].astype(np.int16)
            eb = bias.astype(np.int32) << 6         # bias_exp = 6
            cu = _decay(u[i], L['du'] + 1)          # ds_offset = 1
            cu = cu + np.left_shift(a_in.astype(np.int32), 6)   # int32 wrap
            cu = np.where(cu > M23, cu - 2 * M23, cu)
            cu = np.where(cu <= -M23, cu + 2 * M23, cu).astype(np.int32)
            u[i] = cu
            nv = _decay(v[i], L['dv']) + u[i] + eb  # int32 wrap
            nv = np.clip(nv, -M23 + 1, M23 - 1).astype(np.int32)
            s = nv > (L['vth'] << 6)
            nv[s] = 0
            v[i] = nv
            s_now.append(s)
            rec['u'][i][t], rec['v'][i][t], rec['s'][i][t] = u[i], v[i], s
        s_prev = s_now
    return rec['u'], rec['v'], rec['s']
