"""snnc import-only torch stub: see _snnc_stub_core.py. NOT real PyTorch."""
import _snnc_stub_core

_snnc_stub_core.make_root(__name__)
