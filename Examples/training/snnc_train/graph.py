"""Export any traceable PyTorch network of supported ops to snnc model format v1
(Docs/model-format.md), by tracing it with torch.fx.

Supported (module, functional or method form):
- Linear; Conv2d (stride, padding, dilation; groups refused); BatchNorm1d/2d (left unfolded:
  folding is the compiler's job);
- ReLU (nn.ReLU, F.relu, torch.relu, x.relu()), ASNActivation;
- MaxPool2d and AvgPool2d (no padding, no ceil_mode), AdaptiveAvgPool2d(1) and
  F.adaptive_avg_pool2d(x, 1), x.mean((2, 3)) (global average pooling);
- Flatten, torch.flatten(x, 1), x.view(N, -1) / x.reshape(N, -1) / x.flatten(1) to 1-D;
- `+`, torch.add (residual connections);
- Dropout, Identity (dropped).
Anything else is refused with an ExportError naming the node and its op. A readout node is
appended after the network's output.

Layouts: dense "out_in" and kernels "OIHW", as PyTorch stores them. snnc's activations are
channels-last, so a channel-major flatten of a (C, H, W) value with H·W > 1 is undone by
permuting the columns of the Linear that reads it.
"""
import json
import operator
import os
import re

import numpy as np
import torch
import torch.nn.functional as F
from torch import fx, nn
from torch.fx.passes.shape_prop import ShapeProp
from safetensors.numpy import save_file

from .asn import ASNActivation


class ExportError(ValueError):
    """A network that cannot be written as an snnc model; the message names the node and op."""


def _t(x):
    return x.detach().cpu().to(torch.float32).numpy().copy()


def _pair(v):
    return (int(v), int(v)) if isinstance(v, int) else (int(v[0]), int(v[1]))


class _Value:
    """An exported value: its snnc node name, PyTorch shape (without the batch) and, for a
    flattened (C, H, W), that shape (the next Linear's columns are permuted from it)."""

    def __init__(self, name, shape, flat_from=None):
        self.name, self.shape, self.flat_from = name, tuple(shape), flat_from


class _Tracer(fx.Tracer):
    """Keeps ASNActivation as a leaf (its forward has data-dependent where/clamp)."""

    def is_leaf_module(self, m, qualname):
        return isinstance(m, ASNActivation) or super().is_leaf_module(m, qualname)


def export_module(model: nn.Module, input_shape, out_dir, name, asn_defaults, readout_tau_phi=50.0,
                  metadata=None):
    """input_shape: (features,) or (C, H, W) as PyTorch sees it. Returns the model dict."""
    model = model.eval()
    graph = _Tracer().trace(model)
    gm = fx.GraphModule(model, graph)
    with torch.no_grad():
        ShapeProp(gm).propagate(torch.zeros(1, *input_shape))
    modules = dict(model.named_modules())
    tensors, nodes, counts = {}, [], {}
    values = {}
    skipped = set()  # fx nodes that only compute sizes (x.size(0)) for a view

    def fresh(kind, qualname=None):
        if qualname and re.search(r"[A-Za-z]", qualname):
            n = re.sub(r"[^A-Za-z0-9_]", "_", qualname)
            if n not in counts:
                counts[n] = 1
                return n
        counts[kind] = counts.get(kind, 0) + 1
        return f"{kind}{counts[kind]}"

    def shape_of(node):
        meta = node.meta.get("tensor_meta")
        if meta is None or not hasattr(meta, "shape"):
            raise ExportError(f"node '{node.name}' ({_describe(node)}): its output is not a tensor")
        return tuple(int(d) for d in meta.shape[1:])

    def arg(node, i=0):
        a = node.args[i]
        if not isinstance(a, fx.Node) or a not in values:
            raise ExportError(f"node '{node.name}' ({_describe(node)}): input {i} is not a tensor of the network")
        return values[a]

    def emit(node, value_in, op, kind, qualname=None, **attrs):
        n = fresh(kind, qualname)
        entry = {"name": n, "op": op, "inputs": [v.name for v in (value_in if isinstance(value_in, list) else [value_in])]}
        entry.update(attrs)
        nodes.append(entry)
        return n

    def flat_check(node, v, what):
        if v.flat_from is not None:
            raise ExportError(f"node '{node.name}' ({_describe(node)}): {what} on a channel-major flattened "
                              f"{v.flat_from} value is not supported (only a Linear may read it)")

    def linear(node, m, v, qual):
        if len(v.shape) != 1:
            raise ExportError(f"node '{node.name}' (Linear): input has shape {v.shape}; flatten it to 1-D first")
        w = _t(m.weight)
        if v.flat_from is not None:
            c, h, wd = v.flat_from
            w = w.reshape(w.shape[0], c, h, wd).transpose(0, 2, 3, 1).reshape(w.shape[0], -1)
        n = fresh("fc", qual)
        tensors[f"{n}.weight"] = np.ascontiguousarray(w)
        entry = {"name": n, "op": "dense", "inputs": [v.name], "weight": {"ref": f"{n}.weight"}}
        if m.bias is not None:
            tensors[f"{n}.bias"] = _t(m.bias)
            entry["bias"] = {"ref": f"{n}.bias"}
        nodes.append(entry)
        return _Value(n, (m.out_features,))

    def conv(node, m, v, qual):
        if m.groups != 1:
            raise ExportError(f"node '{node.name}' (Conv2d): groups={m.groups}; grouped and depthwise "
                              f"convolutions are not in model format v1")
        if m.padding_mode != "zeros":
            raise ExportError(f"node '{node.name}' (Conv2d): padding_mode='{m.padding_mode}'; only zero padding")
        if len(v.shape) != 3:
            raise ExportError(f"node '{node.name}' (Conv2d): input has shape {v.shape}, not (C, H, W)")
        n = fresh("conv", qual)
        tensors[f"{n}.weight"] = _t(m.weight)
        pad = m.padding
        padding = pad if isinstance(pad, str) else [int(pad[0]), int(pad[1])]
        entry = {"name": n, "op": "conv2d", "inputs": [v.name], "weight": {"ref": f"{n}.weight"},
                 "stride": list(_pair(m.stride)), "padding": padding, "dilation": list(_pair(m.dilation))}
        if m.bias is not None:
            tensors[f"{n}.bias"] = _t(m.bias)
            entry["bias"] = {"ref": f"{n}.bias"}
        nodes.append(entry)
        return _Value(n, shape_of(node))

    def batchnorm(node, m, v, qual):
        flat_check(node, v, "a batch-norm")
        if not m.track_running_stats or m.running_mean is None:
            raise ExportError(f"node '{node.name}' ({type(m).__name__}): no running statistics to export")
        n = fresh("bn", qual)
        gamma = m.weight if m.weight is not None else torch.ones_like(m.running_mean)
        beta = m.bias if m.bias is not None else torch.zeros_like(m.running_mean)
        for k, t in (("gamma", gamma), ("beta", beta), ("mean", m.running_mean), ("var", m.running_var)):
            tensors[f"{n}.{k}"] = _t(t)
        nodes.append({"name": n, "op": "batchnorm", "inputs": [v.name], "eps": float(m.eps),
                      **{k: {"ref": f"{n}.{k}"} for k in ("gamma", "beta", "mean", "var")}})
        return _Value(n, v.shape)

    def pool(node, v, kind, size, stride, padding, ceil_mode, qual, dilation=1):
        flat_check(node, v, "pooling")
        if len(v.shape) != 3:
            raise ExportError(f"node '{node.name}' ({kind}): input has shape {v.shape}, not (C, H, W)")
        pad = _pair(padding)
        if pad != (0, 0) and kind != "max":
            raise ExportError(f"node '{node.name}' ({kind}): padding={padding}; padded average pooling is not exported "
                              f"(snnc's windows are clipped to the input; PyTorch counts the padding)")
        if ceil_mode:
            raise ExportError(f"node '{node.name}' ({kind}): ceil_mode=True is not supported")
        if _pair(dilation) != (1, 1):
            raise ExportError(f"node '{node.name}' ({kind}): dilation={dilation} is not supported")
        k = _pair(size)
        s = _pair(stride if stride is not None else size)
        op = "maxpool2d" if kind == "max" else "avgpool2d"
        extra = {"padding": [pad[0], pad[1]]} if pad != (0, 0) else {}
        n = emit(node, v, op, "pool", qual, size=k[0] if k[0] == k[1] else list(k), stride=s[0] if s[0] == s[1] else list(s), **extra)
        return _Value(n, shape_of(node))

    def global_avg(node, v, qual):
        flat_check(node, v, "global average pooling")
        if len(v.shape) != 3:
            raise ExportError(f"node '{node.name}' ({_describe(node)}): input has shape {v.shape}, not (C, H, W)")
        c, h, w = v.shape
        n = emit(node, v, "avgpool2d", "pool", qual, size=[h, w], stride=[h, w])
        return _Value(n, shape_of(node) if len(shape_of(node)) == 3 else (c, 1, 1)), shape_of(node)

    def flatten(node, v, qual):
        out = shape_of(node)
        if len(out) != 1:
            raise ExportError(f"node '{node.name}' ({_describe(node)}): result has shape {out}; only a flatten to 1-D is supported")
        if len(v.shape) == 1:
            return v
        n = emit(node, v, "flatten", "flatten", qual)
        c, h, w = v.shape
        return _Value(n, out, flat_from=(c, h, w) if h * w > 1 else None)

    def relu(node, v, qual):
        # Elementwise, so a flattened value stays flattened the same way.
        n = emit(node, v, "relu", "relu", qual)
        return _Value(n, v.shape, v.flat_from)

    def add(node, qual):
        ins = [a for a in node.args if isinstance(a, fx.Node)]
        if len(ins) != 2 or len(node.args) != 2 or node.kwargs.get("alpha", 1) != 1:
            raise ExportError(f"node '{node.name}' ({_describe(node)}): only the sum of two tensors of the network is supported")
        a, b = (values.get(x) for x in ins)
        if a is None or b is None:
            raise ExportError(f"node '{node.name}' ({_describe(node)}): an operand is not a tensor of the network")
        if a.shape != b.shape:
            raise ExportError(f"node '{node.name}' (add): operand shapes {a.shape} and {b.shape} differ (no broadcasting)")
        if a.flat_from != b.flat_from:
            raise ExportError(f"node '{node.name}' (add): operands flattened from different shapes")
        n = emit(node, [a, b], "add", "add", qual)
        return _Value(n, a.shape, a.flat_from)

    output = None
    for node in gm.graph.nodes:
        qual = node.target if node.op == "call_module" else None
        if node.op == "placeholder":
            if values:
                raise ExportError(f"node '{node.name}': the network takes more than one input")
            shape = tuple(int(d) for d in input_shape)
            snnc_shape = [shape[1], shape[2], shape[0]] if len(shape) == 3 else list(shape)
            nodes.append({"name": "input", "op": "input", "shape": snnc_shape})
            values[node] = _Value("input", shape)
        elif node.op == "call_module":
            m = modules[node.target]
            v = arg(node)
            if isinstance(m, nn.Linear):
                values[node] = linear(node, m, v, qual)
            elif isinstance(m, nn.Conv2d):
                values[node] = conv(node, m, v, qual)
            elif isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)):
                values[node] = batchnorm(node, m, v, qual)
            elif isinstance(m, ASNActivation):
                n = fresh("asn", qual)
                entry = {"name": n, "op": "asn", "inputs": [v.name]}
                for k, val in m.params.to_json().items():
                    if asn_defaults.get(k) != val:
                        entry[k] = val
                nodes.append(entry)
                values[node] = _Value(n, v.shape, v.flat_from)
            elif isinstance(m, nn.ReLU):
                values[node] = relu(node, v, qual)
            elif isinstance(m, nn.MaxPool2d):
                values[node] = pool(node, v, "max", m.kernel_size, m.stride, m.padding, m.ceil_mode, qual, m.dilation)
            elif isinstance(m, nn.AvgPool2d):
                values[node] = pool(node, v, "avg", m.kernel_size, m.stride, m.padding, m.ceil_mode, qual)
            elif isinstance(m, nn.AdaptiveAvgPool2d):
                if _pair(m.output_size) != (1, 1):
                    raise ExportError(f"node '{node.name}' (AdaptiveAvgPool2d): output_size={m.output_size}; only 1 (global average pooling)")
                values[node] = global_avg(node, v, qual)[0]
            elif isinstance(m, nn.Flatten):
                if m.start_dim != 1 or m.end_dim != -1:
                    raise ExportError(f"node '{node.name}' (Flatten): start_dim={m.start_dim}, end_dim={m.end_dim}; only Flatten(1, -1)")
                values[node] = flatten(node, v, qual)
            elif isinstance(m, (nn.Dropout, nn.Identity)):
                values[node] = v
            else:
                raise ExportError(f"node '{node.name}' (module {type(m).__name__} '{node.target}'): not supported")
        elif node.op == "call_function":
            f = node.target
            if f in (operator.add, operator.iadd, torch.add):
                values[node] = add(node, None)
            elif f in (F.relu, torch.relu):
                values[node] = relu(node, arg(node), None)
            elif f is torch.flatten:
                start = node.args[1] if len(node.args) > 1 else node.kwargs.get("start_dim", 0)
                end = node.args[2] if len(node.args) > 2 else node.kwargs.get("end_dim", -1)
                if start != 1 or end != -1:
                    raise ExportError(f"node '{node.name}' (torch.flatten): start_dim={start}, end_dim={end}; only flatten(x, 1)")
                values[node] = flatten(node, arg(node), None)
            elif f is F.adaptive_avg_pool2d:
                size = node.args[1] if len(node.args) > 1 else node.kwargs.get("output_size")
                if _pair(size) != (1, 1):
                    raise ExportError(f"node '{node.name}' (adaptive_avg_pool2d): output_size={size}; only 1")
                values[node] = global_avg(node, arg(node), None)[0]
            elif f in (F.max_pool2d, F.avg_pool2d):
                a = list(node.args[1:]) + [None] * 5
                kw = node.kwargs
                size = a[0] if a[0] is not None else kw.get("kernel_size")
                stride = a[1] if a[1] is not None else kw.get("stride")
                padding = a[2] if a[2] is not None else kw.get("padding", 0)
                if f is F.max_pool2d:
                    dilation = a[3] if a[3] is not None else kw.get("dilation", 1)
                    ceil = a[4] if a[4] is not None else kw.get("ceil_mode", False)
                    values[node] = pool(node, arg(node), "max", size, stride or None, padding, ceil, None, dilation)
                else:
                    ceil = a[3] if a[3] is not None else kw.get("ceil_mode", False)
                    values[node] = pool(node, arg(node), "avg", size, stride or None, padding, ceil, None)
            elif f is F.dropout:
                values[node] = arg(node)
            elif f is getattr and node.args[1] == "shape":
                skipped.add(node)
            elif f is operator.getitem and node.args[0] in skipped:
                skipped.add(node)
            else:
                raise ExportError(f"node '{node.name}' (function {_describe(node)}): not supported")
        elif node.op == "call_method":
            m = node.target
            if m == "size":
                skipped.add(node)
            elif m in ("view", "reshape", "flatten"):
                values[node] = flatten(node, arg(node), None)
            elif m in ("relu", "relu_"):
                values[node] = relu(node, arg(node), None)
            elif m == "mean":
                dims = node.args[1] if len(node.args) > 1 else node.kwargs.get("dim")
                dims = tuple(sorted(d % 4 for d in (dims if isinstance(dims, (tuple, list)) else (dims,))))
                if dims != (2, 3):
                    raise ExportError(f"node '{node.name}' (mean): dim={dims}; only the mean over (2, 3)")
                v = arg(node)
                c = v.shape[0]
                n = emit(node, v, "avgpool2d", "pool", None, size=[v.shape[1], v.shape[2]], stride=[v.shape[1], v.shape[2]])
                out = shape_of(node)
                if len(out) == 1:
                    n2 = emit(node, _Value(n, (c, 1, 1)), "flatten", "flatten", None)
                    values[node] = _Value(n2, out)
                else:
                    values[node] = _Value(n, out)
            elif m in ("contiguous",):
                values[node] = arg(node)
            else:
                raise ExportError(f"node '{node.name}' (method .{m}()): not supported")
        elif node.op == "get_attr":
            raise ExportError(f"node '{node.name}' (attribute '{node.target}'): tensors used outside modules are not supported")
        elif node.op == "output":
            out = node.args[0]
            if not isinstance(out, fx.Node) or out not in values:
                raise ExportError("the network's output is not a single tensor")
            output = values[out]
    if output is None:
        raise ExportError("the network has no output")
    if len(output.shape) != 1:
        raise ExportError(f"the network's output has shape {output.shape}; the readout needs logits (1-D)")
    if output.flat_from is not None:
        raise ExportError("the network's output is a channel-major flattened value; end with a Linear")
    nodes.append({"name": "readout", "op": "readout", "inputs": [output.name]})
    model_json = {
        "format": "snnc-model", "version": 1, "name": name,
        "layouts": {"activations": "channels_last", "dense": "out_in", "conv_kernel": "OIHW"},
        "weights": "model.safetensors",
        "defaults": {"asn": asn_defaults, "readout": {"tau_phi": readout_tau_phi}},
        "nodes": nodes,
    }
    if metadata:
        model_json["metadata"] = metadata
    os.makedirs(out_dir, exist_ok=True)
    save_file({k: np.ascontiguousarray(v, dtype=np.float32) for k, v in tensors.items()},
              os.path.join(out_dir, "model.safetensors"), metadata={"generator": "snnc_train"})
    with open(os.path.join(out_dir, "model.json"), "w") as f:
        json.dump(model_json, f, indent=1)
        f.write("\n")
    return model_json


def _describe(node):
    t = node.target
    if callable(t):
        return getattr(t, "__name__", repr(t))
    return str(t)
