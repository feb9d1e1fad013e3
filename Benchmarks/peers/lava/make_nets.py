"""Seeded random IF-family networks that exercise every Loihi rule (Docs/lava.md).

    python make_nets.py --kind if|lif|cuba_lif|conv --seed N -o DIR

writes DIR/model.json (snnc's model format) and DIR/data.csv (10 samples). Python's standard
library only, so any interpreter runs it. Each net: 16 inputs → A (16) → B (640) → C (16) →
D (4) → readout, all of one kind with Loihi's zero reset (a CubaLIF net's input layer A is a
LIF: netx feeds an input layer through its bias). It is built so that
- biases are not multiples of 64 state LSBs and decays are not powers of two;
- every layer fires (B's shared bias makes most of its 640 neurons fire in the same steps);
- C's neuron 0 reads all of B through the largest weights: when most of B fires in one step its
  current passes 2^23 and wraps (a CubaLIF's current also wraps by integrating);
- C's neuron 1 gets a strong negative bias and no decay reaches it fast: its voltage clips
  at −(2^23 − 1) (IF: it never decays; LIF/CubaLIF: C's membrane decays slowly).
"""
import argparse
import json
import os
import random


def layer(kind, name, inp, rng, threshold):
    n = {"name": name, "op": kind, "inputs": [inp], "v_threshold": threshold, "reset": "value", "v_reset": 0.0}
    if kind in ("lif", "cuba_lif"):
        n["tau_mem"] = round(rng.uniform(3.3, 40.0), 3)
        n["r"] = 1.0 * n["tau_mem"]  # memGain r/τ = 1: the drive is the input as given
    if kind == "cuba_lif":
        n["tau_syn"] = round(rng.uniform(2.2, 12.0), 3)
        n["w_in"] = 1.0 * n["tau_syn"]
    return n


def dense(name, inp, rows, rng, scale, bias):
    return {"name": name, "op": "dense", "inputs": [inp], "weight": rows, "bias": bias}


def make_conv(seed):
    """A conv net: 2×8×8 inputs → A (IF, 8×8×2) → conv 3×3 pad 1 → B (IF, 8×8×6) → conv 3×3
    stride 2 pad 1 → C (LIF, 4×4×8) → flatten → dense → D (IF, 4) → readout (channels-last)."""
    rng = random.Random(seed * 7919 + 4)
    nodes = [{"name": "x", "op": "input", "shape": [8, 8, 2]}, layer("if", "A", "x", rng, 1.0)]
    def conv(name, inp, cin, cout, stride, lo, hi, blo, bhi):
        w = [[[[rng.uniform(lo, hi) for _ in range(3)] for _ in range(3)] for _ in range(cin)] for _ in range(cout)]
        return {"name": name, "op": "conv2d", "inputs": [inp], "weight": w, "bias": [rng.uniform(blo, bhi) for _ in range(cout)],
                "stride": [stride, stride], "padding": [1, 1], "dilation": [1, 1]}
    nodes.append(conv("wB", "A", 2, 6, 1, -0.2, 0.4, -0.05, 0.1))
    nodes.append(layer("if", "B", "wB", rng, 1.0))
    nodes.append(conv("wC", "B", 6, 8, 2, -0.15, 0.25, -0.05, 0.05))
    nodes.append(layer("lif", "C", "wC", rng, 0.5))
    nodes.append({"name": "flat", "op": "flatten", "inputs": ["C"]})
    nodes.append(dense("wD", "flat", [[rng.uniform(-0.1, 0.2) for _ in range(128)] for _ in range(4)], rng, 1, [rng.uniform(0, 0.05) for _ in range(4)]))
    nodes.append(layer("if", "D", "wD", rng, 0.8))
    nodes.append({"name": "out", "op": "readout", "inputs": ["D"], "tau_phi": 50})
    model = {"format": "snnc-model", "version": 1, "name": f"lava-rules-conv-{seed}",
             "comment": f"Seeded random conv IF/LIF network for the Lava parity harness (Benchmarks/peers/lava/make_nets.py, seed {seed}).",
             "layouts": {"activations": "channels_last", "dense": "out_in", "conv_kernel": "OIHW"}, "nodes": nodes}
    rows = [[round(rng.uniform(0.0, 1.0), 4) for _ in range(128)] + [s % 4] for s in range(10)]
    return model, rows


def make(kind, seed):
    if kind == "conv":
        return make_conv(seed)
    rng = random.Random(seed * 7919 + {"if": 1, "lif": 2, "cuba_lif": 3}[kind])
    sizes = [16, 16, 640, 16, 4]
    nodes = [{"name": "x", "op": "input", "shape": [sizes[0]]}]
    # The input layer takes the host current through its bias (netx's input block), so a CubaLIF
    # net starts with a LIF layer: a CubaLIF input layer filters its input in u, which netx cannot feed.
    nodes.append(layer("lif" if kind == "cuba_lif" else kind, "A", "x", rng, 1.0))
    prev = "A"
    for i, (name, n_in, n_out) in enumerate([("B", 16, 640), ("C", 640, 16), ("D", 16, 4)]):
        if name == "B":
            # One shared bias and small input weights: most of B crosses threshold in the same
            # steps, so C's neuron 0 sees ~600 spikes at once.
            rows = [[rng.uniform(-0.004, 0.008) for _ in range(n_in)] for _ in range(n_out)]
            bias = [0.3 + (rng.uniform(-0.1, 0.1) if rng.random() < 0.1 else 0.0) for _ in range(n_out)]
            th = 1.0
        elif name == "C":
            rows = [[rng.uniform(-0.004, 0.006) for _ in range(n_in)] for _ in range(n_out)]
            # The wrapping neuron: every source at the largest weight, 254/8192, which the weight
            # exponent 2^-13 holds exactly as Loihi's largest mixed-sign integer, 254.
            rows[0] = [254 / 8192 for _ in range(n_in)]
            bias = [rng.uniform(-0.05, 0.08) for _ in range(n_out)]
            bias[1] = -1.0  # the clipping neuron
            th = 0.35
        else:
            rows = [[rng.uniform(-0.4, 0.8) for _ in range(n_in)] for _ in range(n_out)]
            bias = [rng.uniform(0.0, 0.1) for _ in range(n_out)]
            th = 0.6
        nodes.append(dense("w" + name, prev, rows, rng, 1, bias))
        nodes.append(layer(kind, name, "w" + name, rng, th))
        if name == "C" and kind != "if":
            # A slow membrane, so the negative bias drives C's neuron 1 to the clip.
            nodes[-1]["tau_mem"] = round(rng.uniform(300.0, 900.0), 3)
            nodes[-1]["r"] = nodes[-1]["tau_mem"]
        prev = name
    nodes.append({"name": "out", "op": "readout", "inputs": [prev], "tau_phi": 50})
    model = {"format": "snnc-model", "version": 1, "name": f"lava-rules-{kind}-{seed}",
             "comment": f"Seeded random {kind} network for the Lava parity harness (Benchmarks/peers/lava/make_nets.py, seed {seed}).",
             "layouts": {"activations": "channels_last", "dense": "out_in", "conv_kernel": "OIHW"}, "nodes": nodes}
    rows = []
    for s in range(10):
        rows.append([round(rng.uniform(0.0, 1.0), 4) for _ in range(sizes[0])] + [s % 4])
    return model, rows


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--kind", choices=["if", "lif", "cuba_lif", "conv"], required=True)
    ap.add_argument("--seed", type=int, required=True)
    ap.add_argument("-o", "--out", required=True)
    a = ap.parse_args()
    model, rows = make(a.kind, a.seed)
    os.makedirs(a.out, exist_ok=True)
    with open(os.path.join(a.out, "model.json"), "w") as f:
        json.dump(model, f, indent=1)
        f.write("\n")
    with open(os.path.join(a.out, "data.csv"), "w") as f:
        f.write(",".join([f"x{i}" for i in range(len(rows[0]) - 1)] + ["label"]) + "\n")
        for r in rows:
            f.write(",".join(str(v) for v in r[:-1]) + f",{r[-1]}\n")


if __name__ == "__main__":
    main()
