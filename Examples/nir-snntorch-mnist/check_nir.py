#!/usr/bin/env python3
"""Re-run model.nir without torch or snnTorch and compare with framework-accuracy.json.

Reads model.nir with h5py alone (the layout a C reader sees), reads the test images from the
project's IDX files (Examples/mnist, scaled by 1/256), and simulates the Affine -> LIF chain in
numpy float32 under three readings of the LIF node:

  snntorch   snnTorch Leaky as trained (reset_delay=True, subtract):
             U[t] = beta*U[t-1] + I[t] - thr*S[t-1];  S[t] = (U[t] > thr)
  immediate  subtract at once:  U[t] = beta*U[t-1] + I[t];  S[t] = (U[t] > thr);  U[t] -= thr*S[t]
  nir-spec   NIR's LIF text and snnTorch's import_nir (reset_mechanism "zero", reset_delay False):
             U[t] = beta*U[t-1] + I[t];  S[t] = (U[t] > thr);  U[t] = v_reset where S[t]

with beta = 1 - dt/tau, dt = 1e-4 (snnTorch's hard-coded export convention; the file has no dt),
and input gain r*dt/tau (= 1.0000000156 here, used as 1). U[-1] = 0, S[-1] = 0; each step runs
every layer in order (no delay between layers). Class = argmax of output spike counts.

    python check_nir.py [-n 10000]
"""
import argparse
import gzip
import json
import os

import h5py
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
MNIST = os.path.join(os.path.dirname(HERE), "mnist")
DT = 1e-4


def read_idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    ndim = data[3]
    dims = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(data, np.uint8, offset=4 + 4 * ndim).reshape(dims)


def read_chain(path):
    """The node list in edge order, from input to output, straight from HDF5."""
    with h5py.File(path, "r") as f:
        g = f["node"]
        assert g["type"][()] == b"NIRGraph"
        edges = [(a.decode(), b.decode()) for a, b in g["edges"][()]]
        nodes = {k: {p: v[()] for p, v in g["nodes"][k].items() if isinstance(v, h5py.Dataset)}
                 for k in g["nodes"]}
    nxt = dict(edges)
    chain, k = [], "input"
    while k != "output":
        k = nxt[k]
        if k != "output":
            chain.append((k, nodes[k]))
    return chain


def simulate(chain, x, T, mode):
    counts = None
    trains = []
    state = {}
    layer_spikes_1k = {}
    for t in range(T):
        h = x
        for k, n in chain:
            typ = n["type"].decode()
            if typ == "Affine":
                h = h @ n["weight"].T + n["bias"]
            elif typ == "LIF":
                beta = (np.float32(1) - np.float32(DT) / n["tau"]).astype(np.float32)
                thr = n["v_threshold"]
                u, s = state.get(k, (np.zeros_like(h), np.zeros_like(h)))
                if mode == "snntorch":
                    u = beta * u + h - thr * s
                    s = (u > thr).astype(np.float32)
                else:
                    u = beta * u + h
                    s = (u > thr).astype(np.float32)
                    if mode == "immediate":
                        u = u - thr * s
                    else:
                        u = np.where(s > 0, n["v_reset"], u)
                state[k] = (u, s)
                layer_spikes_1k[k] = layer_spikes_1k.get(k, 0) + int(s[:1000].sum())
                h = s
            else:
                raise ValueError(typ)
        trains.append(h)
        counts = h if counts is None else counts + h
    return counts, np.stack(trains), layer_spikes_1k


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("-n", type=int, default=10000)
    args = ap.parse_args()
    ref = json.load(open(os.path.join(HERE, "framework-accuracy.json")))
    T = ref["T"]
    chain = read_chain(os.path.join(HERE, "model.nir"))
    x = read_idx(os.path.join(MNIST, "t10k-images-idx3-ubyte.gz"))[:args.n]
    x = x.reshape(len(x), 784).astype(np.float32) * np.float32(0.00390625)
    y = read_idx(os.path.join(MNIST, "t10k-labels-idx1-ubyte.gz"))[:args.n].astype(np.int64)
    report = {}
    for mode in ("snntorch", "immediate", "nir-spec"):
        counts, trains, layer_spikes = simulate(chain, x, T, mode)
        pred = counts.argmax(1)
        r = {"accuracy_first_1000": float((pred[:1000] == y[:1000]).mean()),
             f"accuracy_first_{len(y)}": float((pred == y).mean()),
             "predictions_differing_from_snntorch_first_1000":
                 int((pred[:1000] != np.array(ref["predicted_first_1000"])).sum())}
        if mode == "snntorch":
            r["output_counts_first_10_equal"] = counts[:10].astype(int).tolist() == \
                ref["output_spike_counts_first_10"]
            r["output_trains_first_3_equal"] = all(
                trains[:, k, :].astype(int).tolist() == ref["output_spike_trains_first_3"][k]
                for k in range(3))
            r["spikes_per_lif_node_first_1000"] = layer_spikes
            r["snntorch_spikes_first_1000"] = ref["total_spikes_first_1000"]
        report[mode] = r
        print(mode, r, flush=True)
    return report


if __name__ == "__main__":
    main()
