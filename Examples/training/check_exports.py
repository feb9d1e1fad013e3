"""Runs `python -m snnc_train export` (and `onnx`) on the committed example networks and on
torchvision's untrained resnet18, each with its check mode, and prints what each check says:

    python check_exports.py [--snnc PATH] [--only NAME…] [--check N]

The committed examples keep their weights only in snnc's files (model.safetensors), so the
PyTorch module is rebuilt from them first: the exporter is run once on a probe copy of the
module whose every parameter element holds its own index (exact in float32 below 2^24), which
shows where each PyTorch element lands in the exported tensors (the exporter only renames,
permutes and copies); the committed values are then gathered back into a state dict. That state
dict, saved with torch.save, is what the command line is given. Check inputs are the first N
test images of each example (or seeded random inputs for resnet18); the re-exported tensors must
equal the committed ones bit for bit. Writes under build/exports/.
"""
import argparse
import copy
import gzip
import os
import subprocess
import sys
import tempfile

import numpy as np
import torch
from safetensors.numpy import load_file
from torch import nn

HERE = os.path.dirname(os.path.abspath(__file__))
EXAMPLES = os.path.dirname(HERE)
sys.path.insert(0, HERE)

from snnc_train import ASNParams, export_module  # noqa: E402


# Zero-argument factories for MODULE:FACTORY (`check_exports:mnist` …): the examples' networks.
def _p(theta0=0.1):
    return ASNParams(theta0=theta0, m_f=theta0)


def mnist():
    from train import paper_mnist_net
    return paper_mnist_net(_p())


def fashion_mnist():
    return mnist()


def mnist_relu():
    from train import relu_cnn
    return relu_cnn(_p())


def fashion_mnist_relu():
    return mnist_relu()


def _asn_mlp(features, hidden, classes):
    from snnc_train import ASNActivation
    layers, n = [nn.BatchNorm1d(features), ASNActivation(_p())], features
    for h in hidden:
        layers += [nn.Linear(n, h), nn.BatchNorm1d(h), ASNActivation(_p())]
        n = h
    return nn.Sequential(*layers, nn.Linear(n, classes))


def iris():
    return _asn_mlp(4, [60, 60], 3)


def wine():
    return _asn_mlp(13, [60, 60], 3)


def sonar():
    return _asn_mlp(60, [50, 50], 2)


def iris_relu():
    return nn.Sequential(nn.Linear(4, 60), nn.BatchNorm1d(60), nn.ReLU(), nn.Linear(60, 60), nn.BatchNorm1d(60),
                         nn.ReLU(), nn.Linear(60, 3))


def resnet8():
    from resnet import resnet8 as r8
    return r8()


def weights_from_export(net, shape, model_dir):
    """The state dict of `net` that exports to model_dir/model.safetensors (see the docstring)."""
    probe = copy.deepcopy(net)
    state = probe.state_dict()
    floats = [k for k, t in state.items() if t.dtype.is_floating_point]
    total = sum(state[k].numel() for k in floats)
    if total + 1 >= 1 << 24:
        raise SystemExit(f"{model_dir}: {total} parameters are too many for the float32 index probe")
    start = 1
    for k in floats:
        t = state[k]
        t.copy_(torch.arange(start, start + t.numel(), dtype=torch.float64).reshape(t.shape))
        start += t.numel()
    flat = np.full(total + 1, np.nan)
    with tempfile.TemporaryDirectory() as tmp:
        export_module(probe, shape, tmp, "probe", _p().to_json())
        ids = load_file(os.path.join(tmp, "model.safetensors"))
    values = load_file(os.path.join(model_dir, "model.safetensors"))
    if set(ids) != set(values):
        raise SystemExit(f"{model_dir}: tensors {sorted(set(ids) ^ set(values))} differ between the probe and the example")
    for name, idx in ids.items():
        i = idx.reshape(-1).astype(np.int64)
        if not np.array_equal(i.astype(np.float64), idx.reshape(-1).astype(np.float64)) or i.min() < 1:
            raise SystemExit(f"{model_dir}: tensor '{name}' is not a copy of parameters (the probe found arithmetic)")
        flat[i] = values[name].reshape(-1)
    if np.isnan(flat[1:]).any():
        raise SystemExit(f"{model_dir}: {int(np.isnan(flat[1:]).sum())} parameter elements are in no exported tensor")
    out, start = net.state_dict(), 1
    for k in floats:
        n = out[k].numel()
        out[k] = torch.from_numpy(flat[start:start + n].reshape(tuple(out[k].shape))).to(out[k].dtype)
        start += n
    return out


def idx_images(path, n, scale=1 / 256):
    with gzip.open(path, "rb") as f:
        b = f.read()
    return (np.frombuffer(b, dtype=np.uint8, offset=16)[: n * 784].reshape(n, 1, 28, 28) * scale).astype(np.float32)


def csv_features(path, n):
    return np.loadtxt(path, delimiter=",", skiprows=1, max_rows=n, dtype=np.float64)[:, :-1].astype(np.float32)


# name → (factory, input shape, check data or None, the ONNX export too)
CASES = {
    "mnist": ("mnist", (1, 28, 28), lambda n: idx_images(f"{EXAMPLES}/mnist/t10k-images-idx3-ubyte.gz", n), False),
    "fashion-mnist": ("fashion_mnist", (1, 28, 28), lambda n: idx_images(f"{EXAMPLES}/fashion-mnist/t10k-images-idx3-ubyte.gz", n), False),
    "mnist-relu": ("mnist_relu", (1, 28, 28), lambda n: idx_images(f"{EXAMPLES}/mnist/t10k-images-idx3-ubyte.gz", n), False),
    "fashion-mnist-relu": ("fashion_mnist_relu", (1, 28, 28), lambda n: idx_images(f"{EXAMPLES}/fashion-mnist/t10k-images-idx3-ubyte.gz", n), False),
    "iris": ("iris", (4,), lambda n: csv_features(f"{EXAMPLES}/iris/test.csv", n), False),
    "wine": ("wine", (13,), lambda n: csv_features(f"{EXAMPLES}/wine/test.csv", n), False),
    "sonar": ("sonar", (60,), lambda n: csv_features(f"{EXAMPLES}/sonar/test.csv", n), False),
    "iris-relu": ("iris_relu", (4,), lambda n: csv_features(f"{EXAMPLES}/iris-relu/test.csv", n), False),
    "resnet8-fashion": ("resnet8", (1, 28, 28), lambda n: idx_images(f"{EXAMPLES}/fashion-mnist/t10k-images-idx3-ubyte.gz", n), True),
    "torchvision-resnet18": ("torchvision.models:resnet18", (3, 224, 224), None, True),
}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--snnc", default="snnc")
    ap.add_argument("--only", nargs="*")
    ap.add_argument("--check", type=int, default=64, help="check inputs per example (resnet18: 4)")
    a = ap.parse_args()
    env = dict(os.environ, PYTHONPATH=HERE + os.pathsep + os.environ.get("PYTHONPATH", ""))
    failed = []
    for name, (factory, shape, data, onnx) in CASES.items():
        if a.only and name not in a.only:
            continue
        work = os.path.join(HERE, "build", "exports", name)
        os.makedirs(work, exist_ok=True)
        spec = factory if ":" in factory else f"check_exports:{factory}"
        weights = "-"
        if name in os.listdir(EXAMPLES):
            torch.manual_seed(0)
            net = globals()[factory]().eval()
            weights = os.path.join(work, "weights.pt")
            torch.save(weights_from_export(net, shape, os.path.join(EXAMPLES, name)), weights)
        else:
            torch.manual_seed(0)  # torchvision's own initialisation, seeded
        n = a.check if data else 4
        extra = ["--check", str(n)]
        if data:
            np.savez(os.path.join(work, "check.npz"), x=data(n))
            extra += ["--check-data", os.path.join(work, "check.npz")]
        commands = [["export", spec, weights, "-o", os.path.join(work, "snnc")]]
        if onnx:
            commands.append(["onnx", spec, weights, "-o", os.path.join(work, "onnx", "model.onnx")])
        for c in commands:
            cmd = [sys.executable, "-m", "snnc_train", *c, "--input-shape", ",".join(map(str, shape)), "--snnc", a.snnc, *extra]
            r = subprocess.run(cmd, capture_output=True, text=True, cwd=HERE, env=env)
            lines = [l for l in r.stdout.splitlines() if l.startswith("check")]
            for l in lines:
                print(f"{name} [{c[0]}] {l}", flush=True)
            if r.returncode != 0 or not lines:
                failed.append(f"{name} [{c[0]}]")
                sys.stderr.write(r.stderr[-2000:])
                print(f"{name} [{c[0]}] FAILED (exit {r.returncode})", flush=True)
        if weights != "-":
            ours = load_file(os.path.join(work, "snnc", "model.safetensors"))
            theirs = load_file(os.path.join(EXAMPLES, name, "model.safetensors"))
            same = set(ours) == set(theirs) and all(np.array_equal(ours[k], theirs[k]) for k in ours)
            print(f"{name}: re-exported tensors {'identical to' if same else 'DIFFER from'} the committed model.safetensors")
            if not same:
                failed.append(f"{name} [tensors]")
    if failed:
        print("failed: " + ", ".join(failed))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
