"""Int16Sink: an InPort declared exactly like PyLifModelBitAcc.a_in
(LavaPyType(PyInPort.VEC_DENSE, np.int16, precision=16)); records, per step,
the itemsize of the array recv() returns and its values (probe 3(a))."""
import numpy as np

from lava.magma.core.decorator import implements, requires, tag
from lava.magma.core.model.py.model import PyLoihiProcessModel
from lava.magma.core.model.py.ports import PyInPort
from lava.magma.core.model.py.type import LavaPyType
from lava.magma.core.process.ports.ports import InPort
from lava.magma.core.process.process import AbstractProcess
from lava.magma.core.process.variable import Var
from lava.magma.core.resources import CPU
from lava.magma.core.sync.protocols.loihi_protocol import LoihiProtocol


class Int16Sink(AbstractProcess):
    def __init__(self, n, steps):
        super().__init__()
        self.a_in = InPort(shape=(n,))
        self.itemsize = Var(shape=(steps,), init=0)
        self.seen = Var(shape=(steps, n), init=0)


@implements(proc=Int16Sink, protocol=LoihiProtocol)
@requires(CPU)
@tag('fixed_pt')
class PyInt16SinkModel(PyLoihiProcessModel):
    a_in: PyInPort = LavaPyType(PyInPort.VEC_DENSE, np.int16, precision=16)
    itemsize: np.ndarray = LavaPyType(np.ndarray, np.int32)
    seen: np.ndarray = LavaPyType(np.ndarray, np.int32)

    def run_spk(self):
        x = self.a_in.recv()
        self.itemsize[self.time_step - 1] = x.dtype.itemsize
        self.seen[self.time_step - 1] = x.astype(np.int32)
