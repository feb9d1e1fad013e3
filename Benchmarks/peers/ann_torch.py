"""The ANN of an snnc model in PyTorch (CPU, float32, no_grad), timed side by side with
`snnc simulate --ann-only` on the same model, images and thread count, in one run.

    python Benchmarks/peers/ann_torch.py --model Examples/mnist/model.json --threads 2 \
        [--snnc .build/release/snnc] [--limit N] [--batch 200] [--json]

The network is rebuilt from the model file itself (model.json + model.safetensors): conv2d
(OIHW), dense (out_in, on channels-last flattened input), batchnorm (eval), ASN f(S) (the
training package's ASNActivation), relu, max/avg pooling, flatten, readout. Data: the model's
folder `test-data.json` (IDX, scaled). Never run by tests or CI (needs torch).
"""
import argparse
import gzip
import json
import os
import struct
import subprocess
import sys
import time

import numpy as np
import torch
from torch import nn

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "Examples", "training"))
from snnc_train.asn import ASNActivation, ASNParams  # noqa: E402


def read_safetensors(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    dtypes = {"F32": np.float32, "F64": np.float64}
    out = {}
    for k, v in header.items():
        if k == "__metadata__":
            continue
        a, b = v["data_offsets"]
        out[k] = np.frombuffer(data[a:b], dtype=dtypes[v["dtype"]]).reshape(v["shape"])
    return out


def read_idx_gz(path):
    with gzip.open(path, "rb") as f:
        raw = f.read()
    dims = raw[3]
    shape = struct.unpack(">" + "I" * dims, raw[4:4 + 4 * dims])
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)


class Net(nn.Module):
    """The model graph in node order; activations NCHW, flattened channels-last like snnc."""

    def __init__(self, model, tensors):
        super().__init__()
        self.nodes = model["nodes"]
        defaults = model.get("defaults", {}).get("asn", {})
        self.mods = nn.ModuleDict()
        t = lambda ref: torch.tensor(np.array(tensors[ref["ref"]], dtype=np.float32))
        for n in self.nodes:
            op, name = n["op"], n["name"]
            if op == "conv2d":
                w = t(n["weight"])
                pad = n.get("padding", [0, 0])
                m = nn.Conv2d(w.shape[1], w.shape[0], (w.shape[2], w.shape[3]), stride=tuple(n.get("stride", [1, 1])),
                              padding=(pad[0], pad[-1]), dilation=tuple(n.get("dilation", [1, 1])), bias="bias" in n)
                m.weight.data = w
                if "bias" in n:
                    m.bias.data = t(n["bias"])
            elif op == "dense":
                w = t(n["weight"])
                m = nn.Linear(w.shape[1], w.shape[0], bias="bias" in n)
                m.weight.data = w
                if "bias" in n:
                    m.bias.data = t(n["bias"])
            elif op == "batchnorm":
                g = t(n["gamma"])
                m = nn.BatchNorm1d(g.shape[0], eps=n.get("eps", 1e-5))
                m.weight.data, m.bias.data = g, t(n["beta"])
                m.running_mean.data, m.running_var.data = t(n["mean"]), t(n["var"])
            elif op == "asn":
                p = dict(defaults, **{k: v for k, v in n.items() if k in ("theta0", "m_f", "tau_gamma", "tau_eta", "tau_beta", "tau_phi")})
                m = ASNActivation(ASNParams(**{k: p[k] for k in ("tau_gamma", "tau_eta", "tau_beta", "tau_phi", "theta0", "m_f")}))
            elif op in ("maxpool2d", "avgpool2d"):
                k, s = n["size"], n.get("stride", n["size"])
                m = nn.MaxPool2d(k, s) if op == "maxpool2d" else nn.AvgPool2d(k, s)
            elif op in ("relu",):
                m = nn.ReLU()
            elif op in ("input", "flatten", "readout"):
                continue
            else:
                raise SystemExit(f"ann_torch.py: op '{op}' of node '{name}' is not rebuilt here")
            self.mods[name] = m

    def forward(self, x):
        values = {}
        for n in self.nodes:
            op, name = n["op"], n["name"]
            if op == "input":
                y = x
            else:
                a = values[n["inputs"][0]]
                if op == "flatten":
                    y = a.permute(0, 2, 3, 1).reshape(a.shape[0], -1) if a.dim() == 4 else a
                elif op == "readout":
                    y = a
                elif op == "batchnorm" and a.dim() == 4:
                    bn = self.mods[name]
                    y = nn.functional.batch_norm(a, bn.running_mean, bn.running_var, bn.weight, bn.bias, False, 0.0, bn.eps)
                else:
                    y = self.mods[name](a)
            values[name] = y
        return values[self.nodes[-1]["name"]]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default="Examples/mnist/model.json")
    ap.add_argument("--snnc", default=".build/release/snnc")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--batch", type=int, default=200)
    ap.add_argument("--limit", type=int, default=None)
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args()

    model = json.load(open(a.model))
    folder = os.path.dirname(os.path.abspath(a.model))
    data_path = os.path.join(folder, "test-data.json")
    data = json.load(open(data_path))
    images = read_idx_gz(os.path.join(folder, data["images"])).astype(np.float32) * np.float32(data.get("scale", 1.0))
    labels = read_idx_gz(os.path.join(folder, data["labels"])).astype(np.int64)
    if a.limit:
        images, labels = images[:a.limit], labels[:a.limit]
    n = len(labels)

    # snnc first, on the same images and threads.
    cmd = [a.snnc, "simulate", a.model, "--data", data_path, "--ann-only", "--json", "--threads", str(a.threads)]
    if a.limit:
        cmd += ["--limit", str(a.limit)]
    t0 = time.perf_counter()
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    snnc_s = time.perf_counter() - t0
    snnc_acc = json.loads(out)["ann_accuracy"]

    torch.set_num_threads(a.threads)
    net = Net(model, read_safetensors(os.path.join(folder, model["weights"]))).eval()
    x = torch.from_numpy(images.reshape(n, 1, images.shape[1], images.shape[2]).copy())
    t0 = time.perf_counter()
    correct = 0
    with torch.no_grad():
        for i in range(0, n, a.batch):
            correct += int((net(x[i:i + a.batch]).argmax(1) == torch.from_numpy(labels[i:i + a.batch])).sum())
    torch_s = time.perf_counter() - t0
    r = {"model": model["name"], "images": n, "threads": a.threads, "batch": a.batch,
         "snnc_seconds": round(snnc_s, 3), "snnc_ann_accuracy": snnc_acc,
         "torch_seconds": round(torch_s, 3), "torch_ann_accuracy": correct / n,
         "ratio_snnc_over_torch": round(snnc_s / torch_s, 3), "torch": torch.__version__}
    if a.json:
        print(json.dumps(r, indent=2))
    else:
        print(f"{r['model']}, {n} images, {a.threads} threads: snnc {snnc_s:.2f} s (ANN {snnc_acc * 100:.2f} %, float64, "
              f"process start and data loading included), PyTorch {torch_s:.2f} s (ANN {correct / n * 100:.2f} %, float32, "
              f"batch {a.batch}, forward passes only); ratio {r['ratio_snnc_over_torch']:.2f}")


if __name__ == "__main__":
    main()
