"""Shared helpers for the snnc <-> Lava parity peer (run with the venv python).

- ArraySource: a tiny Lava process that sends data[t-1] (int32) on its OutPort
  at step t (1-based). Used to inject an exact int32 vector into a port.
- record(): attach one lava Monitor per probed target (Lava 0.10.0's Monitor
  only supports one probe per Monitor instance: PyMonitorModel declares only
  var_read_0 / out_read_0, lava/proc/monitor/models.py:22-29).
"""
import numpy as np

from lava.magma.core.decorator import implements, requires, tag
from lava.magma.core.model.py.model import PyLoihiProcessModel
from lava.magma.core.model.py.ports import PyOutPort
from lava.magma.core.model.py.type import LavaPyType
from lava.magma.core.process.ports.ports import OutPort
from lava.magma.core.process.process import AbstractProcess
from lava.magma.core.process.variable import Var
from lava.magma.core.resources import CPU
from lava.magma.core.sync.protocols.loihi_protocol import LoihiProtocol
from lava.proc.monitor.process import Monitor


class ArraySource(AbstractProcess):
    """Sends data[(t-1) % T] as int32 at Lava step t."""

    def __init__(self, data: np.ndarray, **kwargs):
        data = np.asarray(data)
        super().__init__(data=data, **kwargs)
        self.data = Var(shape=data.shape, init=data)
        self.out = OutPort(shape=data.shape[1:])


@implements(proc=ArraySource, protocol=LoihiProtocol)
@requires(CPU)
@tag("fixed_pt")
class PyArraySourceModel(PyLoihiProcessModel):
    data: np.ndarray = LavaPyType(np.ndarray, np.int32, precision=32)
    out: PyOutPort = LavaPyType(PyOutPort.VEC_DENSE, np.int32, precision=32)

    def run_spk(self):
        self.out.send(self.data[(self.time_step - 1) % self.data.shape[0]])


def record(targets: dict, num_steps: int) -> dict:
    """targets: name -> Var or OutPort. Returns name -> Monitor."""
    mons = {}
    for name, target in targets.items():
        m = Monitor()
        m.probe(target, num_steps)
        mons[name] = m
    return mons


def monitor_data(mon: Monitor) -> np.ndarray:
    """[T, *shape] float64 array of one Monitor's single probe."""
    data = mon.get_data()
    (proc_name, d), = data.items()
    (var_name, arr), = d.items()
    return np.asarray(arr)


def as_int(arr: np.ndarray) -> np.ndarray:
    """Monitor stores float64; values are integers < 2^31 so this is exact."""
    out = np.rint(arr).astype(np.int64)
    assert np.array_equal(out, arr), "non-integer value recorded"
    return out
