"""Export a trained PyTorch network to snnc model format v1 (Docs/model-format.md).

The network is an nn.Sequential of Linear, Conv2d, BatchNorm1d/2d (left unfolded: folding is
the compiler's job), ASNActivation, ReLU, MaxPool2d, AvgPool2d and Flatten; a readout node is
appended after the last layer. Tensors go to model.safetensors beside model.json.

Layouts: dense "out_in" and kernels "OIHW", as PyTorch stores them. Activations in snnc are
channels-last, so PyTorch's channel-major Flatten is undone here: the columns of the first
Linear after a Flatten are permuted from (c, h, w) to (h, w, c) order.
"""
import json
import os

import numpy as np
import torch
from torch import nn
from safetensors.numpy import save_file

from .asn import ASNActivation


def _t(x):
    return x.detach().cpu().to(torch.float32).numpy().copy()


def export_sequential(net: nn.Sequential, input_shape, out_dir, name, asn_defaults, readout_tau_phi=50.0,
                      graded_relu=False, metadata=None):
    """input_shape: (features,) or (C, H, W) as PyTorch sees it."""
    net = net.eval()
    tensors = {}
    nodes = []
    shape = list(input_shape)  # PyTorch layout of the current activation
    chw = len(shape) == 3
    snnc_shape = [shape[1], shape[2], shape[0]] if chw else shape
    nodes.append({"name": "input", "op": "input", "shape": snnc_shape})
    prev = "input"
    pending_flatten_from = None  # (C, H, W) before a Flatten, to permute the next Linear
    counts = {}

    def fresh(kind):
        counts[kind] = counts.get(kind, 0) + 1
        return f"{kind}{counts[kind]}"

    for m in net:
        if isinstance(m, nn.Linear):
            n = fresh("fc")
            w = _t(m.weight)
            if pending_flatten_from is not None:
                c, h, wd = pending_flatten_from
                w = w.reshape(w.shape[0], c, h, wd).transpose(0, 2, 3, 1).reshape(w.shape[0], -1)
                pending_flatten_from = None
            tensors[f"{n}.weight"] = np.ascontiguousarray(w)
            node = {"name": n, "op": "dense", "inputs": [prev], "weight": {"ref": f"{n}.weight"}}
            if m.bias is not None:
                tensors[f"{n}.bias"] = _t(m.bias)
                node["bias"] = {"ref": f"{n}.bias"}
            shape = [m.out_features]
        elif isinstance(m, nn.Conv2d):
            n = fresh("conv")
            if m.groups != 1:
                raise ValueError("grouped convolutions are not in model format v1")
            tensors[f"{n}.weight"] = _t(m.weight)
            pad = m.padding
            if isinstance(pad, str):
                padding = pad
            else:
                padding = [int(pad[0]), int(pad[1])]
            node = {"name": n, "op": "conv2d", "inputs": [prev], "weight": {"ref": f"{n}.weight"},
                    "stride": list(m.stride), "padding": padding, "dilation": list(m.dilation)}
            if m.bias is not None:
                tensors[f"{n}.bias"] = _t(m.bias)
                node["bias"] = {"ref": f"{n}.bias"}
            c, h, wd = shape
            kh, kw = m.kernel_size
            if isinstance(pad, str) and pad == "same":
                oh, ow = h, wd
            else:
                oh = (h + 2 * pad[0] - m.dilation[0] * (kh - 1) - 1) // m.stride[0] + 1
                ow = (wd + 2 * pad[1] - m.dilation[1] * (kw - 1) - 1) // m.stride[1] + 1
            shape = [m.out_channels, oh, ow]
        elif isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)):
            n = fresh("bn")
            for k, v in (("gamma", m.weight), ("beta", m.bias), ("mean", m.running_mean), ("var", m.running_var)):
                tensors[f"{n}.{k}"] = _t(v)
            node = {"name": n, "op": "batchnorm", "inputs": [prev], "eps": m.eps,
                    **{k: {"ref": f"{n}.{k}"} for k in ("gamma", "beta", "mean", "var")}}
        elif isinstance(m, ASNActivation):
            n = fresh("asn")
            node = {"name": n, "op": "asn", "inputs": [prev]}
            p = m.params.to_json()
            for k, v in p.items():
                if asn_defaults.get(k) != v:
                    node[k] = v
        elif isinstance(m, nn.ReLU):
            n = fresh("relu")
            node = {"name": n, "op": "relu", "inputs": [prev]}
        elif isinstance(m, (nn.MaxPool2d, nn.AvgPool2d)):
            n = fresh("pool")
            k = m.kernel_size if isinstance(m.kernel_size, int) else m.kernel_size[0]
            s = m.stride if isinstance(m.stride, int) else m.stride[0]
            if (m.padding if isinstance(m.padding, int) else m.padding[0]) != 0:
                raise ValueError("padded pooling is not exported")
            node = {"name": n, "op": "maxpool2d" if isinstance(m, nn.MaxPool2d) else "avgpool2d",
                    "inputs": [prev], "size": k, "stride": s}
            c, h, wd = shape
            shape = [c, (h - k) // s + 1, (wd - k) // s + 1]
        elif isinstance(m, nn.Flatten):
            n = fresh("flatten")
            node = {"name": n, "op": "flatten", "inputs": [prev]}
            if len(shape) == 3:
                pending_flatten_from = tuple(shape)
            shape = [int(np.prod(shape))]
        elif isinstance(m, nn.Dropout):
            continue
        else:
            raise ValueError(f"cannot export module {m!r}")
        nodes.append(node)
        prev = node["name"]
    nodes.append({"name": "readout", "op": "readout", "inputs": [prev]})
    model = {
        "format": "snnc-model", "version": 1, "name": name,
        "layouts": {"activations": "channels_last", "dense": "out_in", "conv_kernel": "OIHW"},
        "weights": "model.safetensors",
        "defaults": {"asn": asn_defaults, "readout": {"tau_phi": readout_tau_phi}},
        "nodes": nodes,
    }
    if metadata:
        model["metadata"] = metadata
    os.makedirs(out_dir, exist_ok=True)
    save_file({k: np.ascontiguousarray(v, dtype=np.float32) for k, v in tensors.items()},
              os.path.join(out_dir, "model.safetensors"), metadata={"generator": "snnc_train"})
    with open(os.path.join(out_dir, "model.json"), "w") as f:
        json.dump(model, f, indent=1)
        f.write("\n")
