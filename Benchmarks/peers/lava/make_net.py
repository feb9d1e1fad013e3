"""Write small lava-dl netx .net (HDF5) files the way slayer's export_hdf5 does.

Layout (lava/lib/dl/slayer/block/base.py export_hdf5, read back by
lava/lib/dl/netx/utils.py NetDict):
  /layer/<i>/type            S10 array of 1 ('input' | 'dense' | 'conv' ...)
  /layer/<i>/shape           int array; input/conv: (C, H, W) or (n,); dense: (n,)
  /layer/<i>/weight          dense: [n_out, n_in] ints; input: scalar (unused by netx)
  /layer/<i>/bias            optional; dense: [n_out]; input: scalar (unused by netx)
  /layer/<i>/neuron/type     'CUBA'
  /layer/<i>/neuron/{iDecay,vDecay,vThMant,refDelay,gradedSpike}

Usable as a module (write_net) or as a script that writes the tiny
4 -> 3 -> 2 example:  python make_net.py OUT.net
"""
import sys

import h5py
import numpy as np


def cuba(i_decay=0, v_decay=0, vth=80, ref_delay=1, graded=False):
    return {'type': 'CUBA', 'iDecay': int(i_decay), 'vDecay': int(v_decay),
            'vThMant': int(vth), 'refDelay': int(ref_delay),
            'gradedSpike': bool(graded)}


def _type(g, name):
    g.create_dataset('type', (1,), 'S10', [name.encode('ascii')])


def _neuron(g, neuron):
    for k, v in neuron.items():
        g.create_dataset(f'neuron/{k}', data=v)


def write_net(path, layers):
    """layers: list of dicts:
    {'type': 'input', 'shape': (n,) or (C,H,W), 'neuron': cuba(...),
     ['weight': int, 'bias': int]}
    {'type': 'dense', 'weight': [n_out, n_in], 'neuron': cuba(...), ['bias': [n_out]]}
    {'type': 'conv', 'shape': (C,H,W), 'weight': [Co, Ci, kH, kW] (slayer
     order, stored as [Co, Ci, kH, kW, 1]), 'stride','padding','dilation','groups',
     'neuron': cuba(...), ['bias': [Co]]}
    {'type': 'flatten'}
    """
    with h5py.File(path, 'w') as f:
        root = f.create_group('layer')
        for i, L in enumerate(layers):
            g = root.create_group(str(i))
            _type(g, L['type'])
            if L['type'] == 'input':
                g.create_dataset('shape', data=np.array(L['shape']))
                if 'weight' in L:
                    g.create_dataset('weight', data=L['weight'])
                if 'bias' in L:
                    g.create_dataset('bias', data=L['bias'])
                _neuron(g, L['neuron'])
            elif L['type'] == 'dense':
                w = np.asarray(L['weight'])
                g.create_dataset('shape', data=np.array([w.shape[0]]))
                g.create_dataset('inFeatures', data=w.shape[1])
                g.create_dataset('outFeatures', data=w.shape[0])
                g.create_dataset('weight', data=w)
                if 'bias' in L:
                    g.create_dataset('bias', data=np.asarray(L['bias']))
                if 'delay' in L:
                    g.create_dataset('delay', data=np.asarray(L['delay']))
                _neuron(g, L['neuron'])
            elif L['type'] == 'conv':
                w = np.asarray(L['weight'])
                g.create_dataset('shape', data=np.array(L['shape']))
                g.create_dataset('inChannels', data=w.shape[1])
                g.create_dataset('outChannels', data=w.shape[0])
                g.create_dataset('weight', data=w.reshape(w.shape + (1,)))
                for k in ('stride', 'padding', 'dilation'):
                    g.create_dataset(k, data=np.array(L.get(k, [1, 1] if k != 'padding' else [0, 0])))
                g.create_dataset('groups', data=L.get('groups', 1))
                if 'bias' in L:
                    g.create_dataset('bias', data=np.asarray(L['bias']))
                _neuron(g, L['neuron'])
            elif L['type'] == 'flatten':
                pass
            else:
                raise ValueError(L['type'])


TINY = [
    {'type': 'input', 'shape': (4,), 'neuron': cuba(i_decay=4096, v_decay=0, vth=100)},
    {'type': 'dense', 'weight': [[60, -20, 35, 10],
                                 [-45, 80, 25, 50],
                                 [30, 30, -70, 90]],
     'bias': [3, 0, -2], 'neuron': cuba(i_decay=1024, v_decay=256, vth=120)},
    {'type': 'dense', 'weight': [[70, -40, 55],
                                 [-30, 65, 45]],
     'neuron': cuba(i_decay=2048, v_decay=128, vth=90)},
]

if __name__ == '__main__':
    out = sys.argv[1] if len(sys.argv) > 1 else 'tiny.net'
    write_net(out, TINY)
    print(out)
