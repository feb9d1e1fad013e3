"""Shared helpers for the snnc <-> Lava parity peer (run with the venv python).

record(): attach one lava Monitor per probed target (Lava 0.10.0's Monitor
only supports one probe per Monitor instance: PyMonitorModel declares only
var_read_0 / out_read_0, lava/proc/monitor/models.py:22-29).
Custom processes (ArraySource, Int16Sink) live in snnc_lava_procs/, see there
for why.
"""
import numpy as np

from lava.proc.monitor.process import Monitor
from snnc_lava_procs.array_source import ArraySource  # noqa: F401  (re-export)


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
