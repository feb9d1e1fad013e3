"""Export an nn.Sequential to snnc model format v1: the Sequential case of `export_module`
(snnc_train.graph), kept for the training scripts. Supported layers, layouts and the
channel-major flatten are described there."""
from torch import nn

from .graph import export_module


def export_sequential(net: nn.Sequential, input_shape, out_dir, name, asn_defaults, readout_tau_phi=50.0,
                      metadata=None):
    """input_shape: (features,) or (C, H, W) as PyTorch sees it."""
    return export_module(net, input_shape, out_dir, name, asn_defaults, readout_tau_phi=readout_tau_phi,
                         metadata=metadata)
