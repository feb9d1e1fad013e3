"""Training and export helpers for snnc (PyTorch): the ASN activation, and the model-format-v1 exporter."""
from .asn import ASNActivation, ASNParams, normalized_h
from .export import export_sequential
