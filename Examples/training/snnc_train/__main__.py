"""snnc_train's command line.

    python -m snnc_train export MODULE:FACTORY WEIGHTS -o DIR --input-shape C,H,W
        [--name NAME] [--theta0 T] [--readout-tau-phi MS] [--check N] [--check-data NPZ]
        [--snnc PATH] [--tolerance R]

MODULE:FACTORY names a callable that returns the nn.Module (e.g. `torchvision.models:resnet18`
or `mynets:ResNet8`; MODULE is imported from the current directory or the Python path);
WEIGHTS is a state dict saved with torch.save (`-` keeps the factory's own initialisation).
The network is traced with torch.fx and written to DIR/model.json + DIR/model.safetensors
(snnc_train.graph). With --check N (default 8; 0 skips it) the exporter also writes N inputs
(random, seeded, or the first N of --check-data, an .npz with `x` in PyTorch's NCHW), runs
`snnc simulate DIR/model.json --data … --ann-only --logits …` and compares snnc's logits with
PyTorch's: the command exits 1 if max |Δ| > R · max |logit| (R 1e-4), 2 on bad usage.

    python -m snnc_train onnx MODULE:FACTORY WEIGHTS -o FILE.onnx --input-shape C,H,W
        [--opset N] [--check N] [--check-data NPZ] [--snnc PATH] [--tolerance R]

writes the same network with torch.onnx.export (weights in FILE.onnx.data) and, with --check N,
compares onnxruntime's logits with PyTorch's and snnc's (`snnc simulate FILE.onnx --ann-only`)
with onnxruntime's, each within R · max |logit|.
"""
import argparse
import importlib
import json
import os
import subprocess
import sys

import numpy as np
import torch

from .asn import ASNParams
from .graph import ExportError, export_module


def _factory(spec):
    if ":" not in spec:
        raise SystemExit(f"snnc_train: error: '{spec}' is not MODULE:FACTORY")
    mod, name = spec.split(":", 1)
    sys.path.insert(0, os.getcwd())
    try:
        f = getattr(importlib.import_module(mod), name)
    except (ImportError, AttributeError) as e:
        raise SystemExit(f"snnc_train: error: cannot load {spec}: {e}")
    return f


def snnc_logits(model_path, inputs, snnc, workdir):
    """Writes the inputs (PyTorch's NCHW or N×F) as an snnc npz data set in workdir, runs
    `snnc simulate MODEL --ann-only --logits` on them and returns snnc's logits."""
    x = inputs.transpose(0, 2, 3, 1) if inputs.ndim == 4 else inputs  # channels-last for snnc
    os.makedirs(workdir, exist_ok=True)
    np.savez(os.path.join(workdir, "inputs.npz"), x=np.ascontiguousarray(x, dtype=np.float32),
             y=np.zeros(len(x), dtype=np.int64))
    with open(os.path.join(workdir, "data.json"), "w") as f:
        json.dump({"format": "snnc-data", "version": 1, "kind": "npz", "file": "inputs.npz",
                   "shape": list(x.shape[1:])}, f)
    logits_path = os.path.join(workdir, "snnc-logits.csv")
    cmd = [snnc, "simulate", model_path, "--data", os.path.join(workdir, "data.json"),
           "--ann-only", "--logits", logits_path]
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        sys.stderr.write(r.stderr)
        raise SystemExit(f"snnc_train: error: {' '.join(cmd)} exited {r.returncode}")
    return np.loadtxt(logits_path, delimiter=",", ndmin=2)


def compare(ours, ref, tolerance, what):
    """(ok, max |Δ|, max |logit|) of two logit arrays; exits when their shapes differ."""
    if ours.shape != ref.shape:
        raise SystemExit(f"snnc_train: error: {what} gives logits of shape {ours.shape}, the reference {ref.shape}")
    delta = float(np.abs(ours - ref).max())
    scale = float(np.abs(ref).max())
    return delta <= tolerance * scale, delta, scale


def check(model, model_dir, inputs, snnc, tolerance):
    """Runs snnc's ANN from DIR/model.json on the inputs and compares its logits with PyTorch's.
    Returns (ok, max |Δ|, max |logit|)."""
    with torch.no_grad():
        ref = model.eval()(torch.from_numpy(inputs)).numpy().astype(np.float64)
    ours = snnc_logits(os.path.join(model_dir, "model.json"), inputs, snnc, os.path.join(model_dir, "check"))
    return compare(ours, ref, tolerance, "snnc")


def report(what, n, ok, delta, scale, tolerance):
    print(f"check ({what}): {n} inputs, max |Δ logit| {delta:.3g}, max |logit| {scale:.3g}, "
          f"ratio {delta / max(scale, 1e-30):.3g} (tolerance {tolerance:g}): {'ok' if ok else 'FAILED'}")


def export_onnx(a, model, shape, inputs):
    """`onnx`: torch.onnx.export (the dynamo exporter) to a.output, weights beside it as
    external data; onnxruntime's logits against PyTorch's, and snnc's against onnxruntime's."""
    out = os.path.abspath(a.output)
    os.makedirs(os.path.dirname(out), exist_ok=True)
    kwargs = {"opset_version": a.opset} if a.opset else {}
    torch.onnx.export(model.eval(), (torch.zeros(1, *shape),), out, input_names=["input"],
                      output_names=["logits"], dynamo=True, external_data=True, **kwargs)
    print(f"wrote {out}")
    if inputs is None:
        return 0
    try:
        import onnxruntime as ort
    except ImportError:
        raise SystemExit("snnc_train: error: the ONNX check needs onnxruntime (pip install 'snnc-train[onnx]')")
    with torch.no_grad():
        ref = model(torch.from_numpy(inputs)).numpy().astype(np.float64)
    sess = ort.InferenceSession(out, providers=["CPUExecutionProvider"])
    name = sess.get_inputs()[0].name
    rt = np.concatenate([sess.run(None, {name: inputs[i:i + 1]})[0] for i in range(len(inputs))]).astype(np.float64)
    ok_rt, d, s = compare(rt, ref, a.tolerance, "onnxruntime")
    report("onnxruntime vs PyTorch", len(inputs), ok_rt, d, s, a.tolerance)
    ours = snnc_logits(out, inputs, a.snnc, out + ".check")
    ok, d, s = compare(ours, rt, a.tolerance, "snnc")
    report("snnc vs onnxruntime", len(inputs), ok, d, s, a.tolerance)
    return 0 if ok and ok_rt else 1


def _common(sp):
    sp.add_argument("factory", help="MODULE:FACTORY returning the nn.Module")
    sp.add_argument("weights", help="state dict (torch.save), or - for the factory's initialisation")
    sp.add_argument("--input-shape", required=True, help="C,H,W or F (PyTorch's layout, no batch)")
    sp.add_argument("--check", type=int, default=8, metavar="N", help="compare logits on N inputs (0: skip)")
    sp.add_argument("--check-data", help=".npz whose `x` (NCHW or N×F) gives the check inputs")
    sp.add_argument("--snnc", default="snnc", help="the snnc executable")
    sp.add_argument("--tolerance", type=float, default=1e-4, help="allowed max |Δ| / max |logit|")


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m snnc_train")
    sub = p.add_subparsers(dest="command", required=True)
    e = sub.add_parser("export", help="trace a PyTorch network and write an snnc model")
    _common(e)
    e.add_argument("-o", "--output", required=True, help="output directory")
    e.add_argument("--name", help="model name (default: the factory's name)")
    e.add_argument("--theta0", type=float, default=ASNParams().theta0, help="ϑ0 = m_f of the ASNs relu nodes run as")
    e.add_argument("--readout-tau-phi", type=float, default=50.0, help="readout τ_φ (ms)")
    x = sub.add_parser("onnx", help="export a PyTorch network to ONNX with torch.onnx.export and check it")
    _common(x)
    x.add_argument("-o", "--output", required=True, help="the .onnx file (its weights go beside it, FILE.data)")
    x.add_argument("--opset", type=int, help="ONNX opset (default: the exporter's)")
    a = p.parse_args(argv)
    try:
        shape = tuple(int(s) for s in a.input_shape.split(","))
    except ValueError:
        p.error(f"--input-shape '{a.input_shape}' is not a list of integers")
    if len(shape) not in (1, 3) or min(shape) < 1:
        p.error("--input-shape takes F or C,H,W")
    if a.check < 0:
        p.error("--check takes a count ≥ 0")
    model = _factory(a.factory)()
    if a.weights != "-":
        state = torch.load(a.weights, map_location="cpu", weights_only=True)
        if isinstance(state, dict) and "state_dict" in state:
            state = state["state_dict"]
        model.load_state_dict(state)
    model = model.eval()
    inputs = None
    if a.check > 0:
        if a.check_data:
            inputs = np.load(a.check_data)["x"][: a.check].astype(np.float32)
        else:
            inputs = np.random.default_rng(0).random((a.check, *shape), dtype=np.float32)
    if a.command == "onnx":
        return export_onnx(a, model, shape, inputs)
    params = ASNParams(theta0=a.theta0, m_f=a.theta0)
    name = a.name or a.factory.split(":")[1]
    try:
        export_module(model, shape, a.output, name, params.to_json(), readout_tau_phi=a.readout_tau_phi,
                      metadata={"exported_by": "snnc_train", "factory": a.factory})
    except ExportError as err:
        print(f"snnc_train: error: {err}", file=sys.stderr)
        return 1
    print(f"wrote {os.path.join(a.output, 'model.json')}")
    if inputs is None:
        return 0
    ok, delta, scale = check(model, a.output, inputs, a.snnc, a.tolerance)
    report("snnc vs PyTorch", len(inputs), ok, delta, scale, a.tolerance)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
