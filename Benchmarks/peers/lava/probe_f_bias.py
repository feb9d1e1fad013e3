"""Probe 3(f): how netx maps a file's `bias` to Lava's LIF bias_mant/bias_exp,
and what the input layer does with its own `bias` / `weight` fields.

Run: $PY probe_f_bias.py [WORKDIR]
"""
import os
import sys
import tempfile

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import make_net as mk  # noqa: E402
from lava_common import record, monitor_data, as_int  # noqa: E402

from lava.lib.dl import netx  # noqa: E402
from lava.magma.core.run_conditions import RunSteps  # noqa: E402
from lava.magma.core.run_configs import Loihi2SimCfg  # noqa: E402

def main():
    wd = sys.argv[1] if len(sys.argv) > 1 else tempfile.mkdtemp(prefix='lava-probe-')
    os.makedirs(wd, exist_ok=True)
    net_path = os.path.join(wd, 'bias.net')
    file_bias = np.array([1.7, -1.7, 2.5, 40000, 5000, -40000])
    mk.write_net(net_path, [
        {'type': 'input', 'shape': (2,), 'weight': 3, 'bias': 5,
         'neuron': mk.cuba(4096, 0, 100)},
        {'type': 'dense', 'weight': np.array([[1, -1]] * 6), 'bias': file_bias,
         'neuron': mk.cuba(4096, 4096, (1 << 17) - 1)},   # v = u + bias each step
    ])
    net = netx.hdf5.Network(net_config=net_path)
    inp, dense = net.layers
    print('input layer: neuron bias_mant init =', np.asarray(inp.neuron.bias_mant.init).tolist(),
          ' bias_exp init =', np.asarray(inp.neuron.bias_exp.init).tolist(),
          ' Input.transform (file weight/bias, never applied) =', inp.transform)
    print('input block inp port connected to neuron a_in?',
          inp.neuron.a_in.in_connections != [] or inp.neuron.a_in.get_src_ports() != [])
    print('dense: file bias', file_bias.tolist())
    print('       LIF(bias_mant=...) init =', np.asarray(dense.neuron.bias_mant.init).tolist(),
          np.asarray(dense.neuron.bias_mant.init).dtype,
          ' bias_exp =', dense.neuron.bias_exp.init)
    T = 2
    mons = record({'v': dense.neuron.v}, T)
    net.run(condition=RunSteps(num_steps=T), run_cfg=Loihi2SimCfg(select_tag='fixed_pt'))
    bm = dense.neuron.bias_mant.get().astype(int)
    be = dense.neuron.bias_exp.get().astype(int)
    v = as_int(monitor_data(mons['v']))
    net.stop()
    print('       running model bias_mant.get() =', bm.tolist(), ' bias_exp.get() =', be.tolist())
    print('       v after step 1 (= bias_mant << 6, nothing spikes/arrives yet) =',
          v[0].tolist())
    exp = file_bias.astype(int).astype(np.int32).astype(np.int16).astype(int)
    assert bm.tolist() == exp.tolist() and (be == 6).all()
    assert v[0].tolist() == (exp << 6).tolist()
    # Feeding data through Network.inp instead: the Input block's InPort is
    # not connected to anything inside (blocks/process.py:103-106), and
    # Lava refuses to compile it.
    from snnc_lava_procs.array_source import ArraySource
    net2 = netx.hdf5.Network(net_config=net_path)
    src = ArraySource(np.full((2, 2), 100, np.int32))
    src.out.connect(net2.inp)
    try:
        net2.run(condition=RunSteps(num_steps=2),
                 run_cfg=Loihi2SimCfg(select_tag='fixed_pt'))
        print('net.inp: ran (unexpected)')
    except Exception as e:  # noqa: BLE001
        print(f'net.inp <- source: {type(e).__name__}: {e}')
    finally:
        try:
            net2.stop()
        except Exception:  # noqa: BLE001
            pass
    print('OK')


if __name__ == '__main__':
    main()
