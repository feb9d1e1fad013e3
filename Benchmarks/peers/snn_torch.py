"""The trained example's adaptive spiking network simulated time-stepped in PyTorch, the way
snnTorch or SpikingJelly users would run it, timed side by side with snnc's event-driven float
reference (`snnc-bench simulate --example E --json`) on the same net and images, in one run.

    python Benchmarks/peers/snn_torch.py [--example mnist] [--images 20] [--duration 500] \
        [--threads 2] [--batch 200] [--bench .build/release/snnc-bench] [--json]

PyTorch side: float32, `no_grad`, CPU, `--batch` images at once, `--threads` threads, every
layer dense every step (conv2d / linear on the whole spike tensor), hop delay 0 (all layers in
order within a step, as the authors' code and snnc's default). The network is the snnc model
file itself (model.json + model.safetensors), lowered by the same rules as snnc's simulator
(Docs/neuron-model.md, "Network conversion"):
- the first ASN takes the analog input through its batch-norm as a current (I = input);
- every later ASN receives Σ w · payload through its conv/dense layer with the batch-norm
  scale folded into the weights; the constant part (conv/dense bias, BN shift) is added to S
  after the membrane filter; binary spikes carry h, graded ones (relu) the threshold ϑ(t_s);
- an ASN followed by a max-pool fires on the max of S over each window;
- the readout filters with its own τ_φ (τ_β of the layer feeding it) and classifies by argmax.
The neuron is the paper's (Neuron.swift in float32): I ← α_β I + input; S ← (1 − α_φ) I + α_φ S;
Ŝ ← α_η Ŝ; spike if S − Ŝ > ϑ/2; then Ŝ += ϑ, ϑ_dyn += m_f ϑ; ϑ_dyn ← α_γ ϑ_dyn; ϑ = ϑ0 + ϑ_dyn.

snnc side: the 2-thread run of `snnc-bench simulate` (float64, event-driven). The ratio printed
is snnc's ms per image over PyTorch's. Never run by tests or CI (needs torch).
"""
import argparse
import json
import math
import os
import subprocess
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "..", "Examples", "training"))
from ann_torch import read_idx_gz, read_safetensors  # noqa: E402
from snnc_train.asn import ASNParams, normalized_h  # noqa: E402

ASN_KEYS = ("tau_gamma", "tau_eta", "tau_beta", "tau_phi", "theta0", "m_f")


class Layer:
    """One spiking (or readout) layer: where its current comes from and its constants."""

    def __init__(self, name, params, graded, h):
        self.name, self.graded, self.h = name, graded, h
        self.a_beta = math.exp(-1 / params["tau_beta"])
        self.a_phi = math.exp(-1 / params["tau_phi"])
        self.a_eta = math.exp(-1 / params.get("tau_eta", 1.0))
        self.a_gamma = math.exp(-1 / params.get("tau_gamma", 1.0))
        self.theta0 = params.get("theta0", 1.0)
        self.m_f = params.get("m_f", 0.0)
        self.injected = None   # callable: images → current (the analog chain), first layer only
        self.weight = None     # folded conv/linear weight
        self.kind = None       # "conv" | "dense"
        self.conv = {}
        self.bias = None       # added to S after the filter
        self.flatten = False   # source is NCHW, flattened channels-last before a dense layer
        self.pool = None       # (size, stride) of a max-pool merged into this layer
        self.readout = False


def lower(model, tensors):
    defaults = model.get("defaults", {})
    asn_defaults = defaults.get("asn", {})
    t = lambda ref: torch.tensor(np.array(tensors[ref["ref"]], dtype=np.float32))
    nodes = model["nodes"]
    layers, chain = [], []  # chain: the linear nodes since the last spiking layer (or the input)
    for i, n in enumerate(nodes):
        op = n["op"]
        if op == "input":
            continue
        if op in ("batchnorm", "conv2d", "dense", "flatten"):
            chain.append(n)
            continue
        if op == "maxpool2d":
            layers[-1].pool = (n["size"], n.get("stride", n["size"]))
            continue
        if op not in ("asn", "relu", "readout"):
            raise SystemExit(f"snn_torch.py: op '{op}' of node '{n['name']}' is not simulated here")
        if op == "readout":
            src = layers[-1]
            layer = Layer(n["name"], {"tau_beta": -1 / math.log(src.a_beta), "tau_phi": n.get("tau_phi", defaults.get("readout", {}).get("tau_phi", 50.0))}, False, 0)
            layer.readout = True
        else:
            p = dict(asn_defaults, **{k: v for k, v in n.items() if k in ASN_KEYS})
            graded = op == "relu" or p.get("spike") == "graded"
            h = p.get("h", "normalize")
            if h == "normalize":
                h = normalized_h(ASNParams(**{k: p[k] for k in ASN_KEYS}))
            layer = Layer(n["name"], p, graded, float(h))
        weighted = [c for c in chain if c["op"] in ("conv2d", "dense")]
        if not layers:
            bns = list(chain)

            def injected(x, bns=bns):
                for c in bns:
                    if c["op"] != "batchnorm":
                        raise SystemExit("snn_torch.py: only batch-norm between the input and the first ASN")
                    x = F.batch_norm(x, t(c["mean"]), t(c["var"]), t(c["gamma"]), t(c["beta"]), False, 0.0, c.get("eps", 1e-5))
                return x
            layer.injected = injected
        else:
            if len(weighted) != 1:
                raise SystemExit(f"snn_torch.py: layer '{n['name']}' needs exactly one conv/dense layer before it")
            w_node = weighted[0]
            w = t(w_node["weight"])
            out_c = w.shape[0]
            scale = torch.ones(out_c)
            shift = t(w_node["bias"]) if "bias" in w_node else torch.zeros(out_c)
            for c in chain[chain.index(w_node) + 1:]:
                if c["op"] == "batchnorm":
                    s = t(c["gamma"]) / torch.sqrt(t(c["var"]) + c.get("eps", 1e-5))
                    shift = (shift - t(c["mean"])) * s + t(c["beta"])
                    scale = scale * s
            layer.flatten = any(c["op"] == "flatten" for c in chain[:chain.index(w_node)])
            if w_node["op"] == "conv2d":
                layer.kind = "conv"
                layer.weight = w * scale.view(-1, 1, 1, 1)
                pad = w_node.get("padding", [0, 0])
                layer.conv = dict(stride=tuple(w_node.get("stride", [1, 1])), padding=(pad[0], pad[-1]),
                                  dilation=tuple(w_node.get("dilation", [1, 1])))
                layer.bias = shift.view(1, -1, 1, 1)
            else:
                layer.kind = "dense"
                layer.weight = w * scale.view(-1, 1)
                layer.bias = shift.view(1, -1)
        layers.append(layer)
        chain = []
    return layers


def simulate(layers, x, steps):
    """Final-step classes of a batch x (N, 1, H, W) after `steps` 1 ms steps."""
    n = x.shape[0]
    state = [dict() for _ in layers]
    spikes = [0] * len(layers)
    inj = layers[0].injected(x)
    prev = None  # the payload-weighted spikes of the previous layer, this step
    out = None
    for _ in range(steps):
        for li, L in enumerate(layers):
            st = state[li]
            if L.injected is not None:
                inp = inj
            else:
                src = prev.permute(0, 2, 3, 1).reshape(n, -1) if L.flatten and prev.dim() == 4 else prev
                inp = F.conv2d(src, L.weight, None, **L.conv) if L.kind == "conv" else F.linear(src, L.weight)
            if "I" not in st:
                st["I"] = torch.zeros_like(inp)
                st["S"] = torch.zeros_like(inp)
            st["I"] = inp if L.injected is not None else L.a_beta * st["I"] + inp
            st["S"] = (1 - L.a_phi) * st["I"] + L.a_phi * st["S"]
            s = st["S"] if L.bias is None else st["S"] + L.bias
            if L.readout:
                out = s
                continue
            if L.pool is not None:
                s = F.max_pool2d(s, L.pool[0], L.pool[1])
            if "theta" not in st:
                st["theta"] = torch.full_like(s, L.theta0)
                st["theta_dyn"] = torch.zeros_like(s)
                st["s_hat"] = torch.zeros_like(s)
            th = st["theta"]
            st["s_hat"] = st["s_hat"] * L.a_eta
            spike = ((s - st["s_hat"]) > th / 2).to(s.dtype)
            st["s_hat"] = st["s_hat"] + spike * th
            st["theta_dyn"] = (st["theta_dyn"] + spike * (L.m_f * th)) * L.a_gamma
            st["theta"] = L.theta0 + st["theta_dyn"]
            spikes[li] += int(spike.sum())
            prev = spike * th if L.graded else spike * L.h
    return out.argmax(1), spikes


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--example", default="mnist")
    ap.add_argument("--images", type=int, default=20)
    ap.add_argument("--duration", type=int, default=500)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--batch", type=int, default=200)
    ap.add_argument("--bench", default=".build/release/snnc-bench")
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args()

    folder = os.path.join("Examples", a.example)
    model = json.load(open(os.path.join(folder, "model.json")))
    data = json.load(open(os.path.join(folder, "test-data.json")))
    images = read_idx_gz(os.path.join(folder, data["images"])).astype(np.float32) * np.float32(data.get("scale", 1.0))
    labels = read_idx_gz(os.path.join(folder, data["labels"])).astype(np.int64)
    images, labels = images[:a.images], labels[:a.images]
    n = len(labels)

    # snnc first: the same example, images and duration.
    cmd = [a.bench, "simulate", "--example", a.example, "--images", str(n), "--duration", str(a.duration), "--json"]
    ours = json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout)
    run2 = next(r for r in ours["runs"] if r["threads"] == a.threads)
    snnc_ms = run2["seconds"] * 1000 / n

    torch.set_num_threads(a.threads)
    layers = lower(model, read_safetensors(os.path.join(folder, model["weights"])))
    x = torch.from_numpy(images.reshape(n, 1, images.shape[1], images.shape[2]).copy())
    correct, spikes = 0, 0
    t0 = time.perf_counter()
    with torch.no_grad():
        for i in range(0, n, a.batch):
            classes, s = simulate(layers, x[i:i + a.batch], a.duration)
            correct += int((classes == torch.from_numpy(labels[i:i + a.batch])).sum())
            spikes += sum(s)
    torch_s = time.perf_counter() - t0
    torch_ms = torch_s * 1000 / n
    r = {"example": a.example, "images": n, "duration_ms": a.duration, "threads": a.threads, "batch": min(a.batch, n),
         "snnc_ms_per_image": round(snnc_ms, 2), "snnc_events_per_s_per_thread": run2["events_per_s_per_thread"],
         "snnc_spikes_per_image": run2["spikes_per_image"],
         "torch_ms_per_image": round(torch_ms, 2), "torch_accuracy": correct / n, "torch_spikes_per_image": spikes / n,
         "ratio_snnc_over_torch": round(snnc_ms / torch_ms, 3), "torch": torch.__version__}
    if a.json:
        print(json.dumps(r, indent=2))
    else:
        print(f"{a.example}, {n} images × {a.duration} ms, {a.threads} threads: snnc {snnc_ms:.1f} ms/image "
              f"(event-driven, float64, {run2['spikes_per_image']:.4g} spikes/image), PyTorch {torch_ms:.1f} ms/image "
              f"(time-stepped, float32, batch {min(a.batch, n)}, accuracy {correct / n * 100:.2f} %, "
              f"{spikes / n:.4g} spikes/image); ratio {r['ratio_snnc_over_torch']:.3f}")


if __name__ == "__main__":
    main()
