"""Training and export helpers for snnc (PyTorch): the ASN activation, and exporters to snnc's
model format v1 — any torch.fx-traceable network of supported ops (`export_module`, also
`python -m snnc_train export`), of which an nn.Sequential is one case (`export_sequential`)."""
from .asn import ASNActivation, ASNParams, normalized_h
from .export import export_sequential
from .graph import ExportError, export_module

__version__ = "0.2.0"
