"""Import-time-only stand-in for ``torch`` / ``torchvision`` (snnc Lava peer).

Why this exists: ``lava.lib.dl.netx.hdf5`` imports
``lava.lib.dl.slayer.neuron.rf`` (for RF neurons only), which executes
``lava/lib/dl/slayer/__init__.py`` and thereby ~70 modules that do
``import torch`` / ``class X(torch.nn.Module)`` / ``@torch.jit.script`` /
``torch.cuda.is_available()`` at import time; ``netx/sequential_modules.py``
imports torch too.  None of that torch code runs when netx builds and
simulates a dense/conv CUBA network on CPU with Loihi2SimCfg (lava-nc 0.10.0
even hard-disables torch in ``lava/proc/conv/utils.py``:
``TORCH_IS_AVAILABLE = False``).  PyPI's torch 2.3.x x86_64 wheel needs
~2.5 GB of nvidia-* wheels to even import, so setup.sh installs this stub
instead.

Semantics: every attribute of a stub module, and every attribute of a stub
object, is a fresh stub *class* (so it can be subclassed, used in type
hints, used as a default value, or called).  Calling a raw stub class with a
single callable argument returns that callable unchanged (decorator use:
``@torch.jit.script``, ``@torch.no_grad()``); any other call returns another
stub class.  Stub classes are falsy (``if torch.cuda.is_available():`` is
skipped).  Any *real* tensor work is therefore silently meaningless, so the
stub marks itself: ``torch.SNNC_TORCH_STUB is True`` and
``torch.__version__`` ends in ``+snnc.stub``.  lava_run.py refuses to run
RF / sequential-module paths that would need real torch.
"""
import importlib.abc
import importlib.machinery
import sys
import types

STUB_ROOTS = ("torch", "torchvision")


class _StubMeta(type):
    def __getattr__(cls, name):
        if name.startswith("__") and name.endswith("__"):
            raise AttributeError(name)
        return _new_stub(f"{cls.__qualname__}.{name}")

    def __call__(cls, *args, **kwargs):
        if not cls.__dict__.get("_snnc_raw_stub", False):
            # A user class derived from a stub (e.g. class X(torch.nn.Module))
            return type.__call__(cls, *args, **kwargs)
        if len(args) == 1 and not kwargs and callable(args[0]) \
                and not isinstance(args[0], _StubMeta):
            return args[0]  # decorator
        return _new_stub(f"{cls.__qualname__}()")

    def __bool__(cls):
        return False

    def __iter__(cls):
        return iter(())

    def __len__(cls):
        return 0

    def __getitem__(cls, item):
        return _new_stub(f"{cls.__qualname__}[]")

    def __repr__(cls):
        return f"<snnc torch stub {cls.__qualname__}>"


def _new_stub(qualname):
    name = qualname.rsplit(".", 1)[-1] or "stub"
    cls = _StubMeta(name, (object,), {"_snnc_raw_stub": True,
                                      "__module__": "torch"})
    cls.__qualname__ = qualname
    return cls


class StubModule(types.ModuleType):
    def __getattr__(self, name):
        if name.startswith("__") and name.endswith("__"):
            raise AttributeError(name)
        value = _new_stub(f"{self.__name__}.{name}")
        setattr(self, name, value)
        return value


class _StubFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Serves every ``torch.*`` / ``torchvision.*`` submodule as a stub."""

    def find_spec(self, fullname, path=None, target=None):
        root = fullname.split(".", 1)[0]
        if root in STUB_ROOTS and "." in fullname:
            return importlib.machinery.ModuleSpec(fullname, self,
                                                  is_package=True)
        return None

    def create_module(self, spec):
        module = StubModule(spec.name)
        module.__path__ = []
        module.SNNC_TORCH_STUB = True
        return module

    def exec_module(self, module):
        return None


def install_finder():
    if not any(isinstance(f, _StubFinder) for f in sys.meta_path):
        sys.meta_path.insert(0, _StubFinder())


def make_root(module_name):
    """Turn an already-imported top-level package into a stub module."""
    install_finder()
    module = sys.modules[module_name]
    module.__class__ = StubModule
    module.__version__ = "0.0.0+snnc.stub"
    module.SNNC_TORCH_STUB = True
    return module
