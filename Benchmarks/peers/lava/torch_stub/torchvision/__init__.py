"""snnc import-only torchvision stub: see _snnc_stub_core.py."""
import _snnc_stub_core

_snnc_stub_core.make_root(__name__)
