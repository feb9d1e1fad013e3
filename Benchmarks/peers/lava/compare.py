"""Compare Lava's run of an export with snnc's emulator traces, value by value (Docs/lava.md).

    python compare.py EXPORT.json LAVA.npz SNNC_TRACE_DIR [--json]

EXPORT.json is what `snnc export-lava` wrote beside the .net (which snnc layer each netx layer
is); LAVA.npz is lava_run.py's output with --batch ([S, T, n] per layer: u, v, s); the trace
directory holds `sample-K.trace`, `snnc emulate --trace … --trace-sample K` for every sample.
It compares every spike, u and v of every netx layer at every step and prints `identical` or
the first divergence (sample, step, layer, neuron, both values); with --json one object whose
boolean `identical` says whether every value agreed. It also counts, from Lava's own values,
the steps at which a current wrapped at 24 bits and a voltage clipped at ±(2^23 − 1), so a test
net shows it exercised both rules. Python's standard library and numpy only.
"""
import argparse
import json
import os
import sys

import numpy as np

MAX_UV = 1 << 23


def read_trace(path, layer_index, sizes, steps):
    """snnc's trace as {layer: (u[T, n], v[T, n], s[T, n])} for the layers in layer_index."""
    out = {li: (np.zeros((steps, n), np.int64), np.zeros((steps, n), np.int64), np.zeros((steps, n), np.int64))
           for li, n in sizes.items()}
    with open(path) as f:
        head = json.loads(f.readline())
        for line in f:
            rec = json.loads(line)
            t = rec["step"]
            if t >= steps:
                continue
            for li, n in rec["spikes"]:
                if li in out:
                    out[li][2][t, n] = 1
            for li, idx, i_reg, s_reg in rec["compartments"]:
                if li in out:
                    out[li][0][t, idx] = i_reg
                    out[li][1][t, idx] = s_reg
    return head, out


def lava_order(shape):
    """For a layer of netx shape [C, H, W]: the snnc (channels-last) index of each neuron in
    Lava's order c·H·W + h·W + w; None for a flat layer."""
    if len(shape) != 3:
        return None
    c, h, w = shape
    cc, hh, ww = np.meshgrid(np.arange(c), np.arange(h), np.arange(w), indexing="ij")
    return ((hh * w + ww) * c + cc).ravel()


def decay(x, mult):
    p = x.astype(np.int64) * mult
    return np.sign(p) * (np.abs(p) >> 12)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("export")
    ap.add_argument("lava")
    ap.add_argument("traces")
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args()
    meta = json.load(open(a.export))
    lava = np.load(a.lava)
    layers = meta["layers"]
    first = lava["layer0_u"]
    samples, steps = first.shape[0], first.shape[1]
    names = None
    report = {"identical": True, "samples": samples, "steps": steps, "layers": [], "first_divergence": None}
    per_layer = {l["netx"]: {"layer": l["snnc_layer"], "neurons": l["neurons"], "spikes_snnc": 0, "spikes_lava": 0,
                             "current_wraps": 0, "voltage_clips": 0, "values_compared": 0} for l in layers}
    for s in range(samples):
        path = os.path.join(a.traces, f"sample-{s}.trace")
        with open(path) as f:
            head = json.loads(f.readline())
        names = head["layers"]
        index = {l["netx"]: names.index(l["snnc_layer"]) for l in layers}
        sizes = {index[l["netx"]]: l["neurons"] for l in layers}
        _, snnc = read_trace(path, index, sizes, steps)
        for l in layers:
            i = l["netx"]
            su, sv, ss = snnc[index[i]]
            perm = lava_order(l.get("shape", [l["neurons"]]))
            if perm is not None:
                su, sv, ss = su[:, perm], sv[:, perm], ss[:, perm]
            lu, lv, ls = (lava[f"layer{i}_{k}"][s].astype(np.int64) for k in "uvs")
            st = per_layer[i]
            st["spikes_snnc"] += int(ss.sum())
            st["spikes_lava"] += int(ls.sum())
            st["values_compared"] += 3 * lu.size
            # Lava's own wraps and clips: u(t) differs from decay(u(t−1)) + a<<6 by 2^24 exactly
            # when it wrapped; recover a from Lava's dense weights and the source's spikes.
            if i > 0 and f"layer{i}_weight" in lava.files and lava[f"layer{i}_weight"].ndim == 2:
                w = lava[f"layer{i}_weight"].astype(np.int64)
                wexp = int(lava[f"layer{i}_weight_exp"])
                src = lava[f"layer{i-1}_s"][s].astype(np.int64)
                du = int(np.asarray(lava[f"layer{i}_du"]).ravel()[0])
                prev_u = np.vstack([np.zeros((1, lu.shape[1]), np.int64), lu[:-1]])
                prev_s = np.vstack([np.zeros((1, src.shape[1]), np.int64), src[:-1]])
                acc = prev_s @ w.T
                a_in = (acc << wexp) if wexp > 0 else (acc >> -wexp)
                pre = decay(prev_u, 4096 - (du + 1)) + (a_in << 6)
                st["current_wraps"] += int(((pre > MAX_UV) | (pre <= -MAX_UV)).sum())
            st["voltage_clips"] += int((np.abs(lv) == MAX_UV - 1).sum())
            if report["first_divergence"] is None:
                for t in range(steps):
                    bad = np.nonzero((su[t] != lu[t]) | (sv[t] != lv[t]) | (ss[t] != ls[t]))[0]
                    if bad.size:
                        n = int(bad[0])
                        report["identical"] = False
                        report["first_divergence"] = {"sample": s, "step": t, "layer": l["snnc_layer"], "netx_layer": i,
                                                      "neuron": n if perm is None else int(perm[n]), "lava_neuron": n,
                                                      "snnc": {"u": int(su[t, n]), "v": int(sv[t, n]), "spike": int(ss[t, n])},
                                                      "lava": {"u": int(lu[t, n]), "v": int(lv[t, n]), "spike": int(ls[t, n])}}
                        break
    report["layers"] = [per_layer[l["netx"]] for l in layers]
    if a.json:
        print(json.dumps(report, indent=1))
    else:
        print(f"{samples} samples × {steps} steps")
        for st in report["layers"]:
            print(f"  {st['layer']:>10}: {st['neurons']:>6} neurons, spikes snnc {st['spikes_snnc']:>9,} lava {st['spikes_lava']:>9,}, "
                  f"current wraps {st['current_wraps']:,}, voltage clips {st['voltage_clips']:,}")
        d = report["first_divergence"]
        if d is None:
            print(f"identical ({sum(x['values_compared'] for x in report['layers']):,} values of u, v and spikes)")
        else:
            print(f"first divergence: sample {d['sample']}, step {d['step']}, layer '{d['layer']}' (netx {d['netx_layer']}), neuron {d['neuron']}: "
                  f"snnc u={d['snnc']['u']} v={d['snnc']['v']} spike={d['snnc']['spike']}, lava u={d['lava']['u']} v={d['lava']['v']} spike={d['lava']['spike']}")
    sys.exit(0 if report["identical"] else 1)


if __name__ == "__main__":
    main()
