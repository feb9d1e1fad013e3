"""ArraySource: sends data[(t-1) % T] as int32 on its OutPort at Lava step t."""
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


class ArraySource(AbstractProcess):
    """Sends data[(t-1) % T] as int32 at Lava step t (data: [T, *shape])."""

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
