"""Change one LSB of an export (a weight, a threshold or a decay) before Lava runs it.

    python plant.py NET.net weight|threshold|decay

The harness must then report a divergence (run.sh --plant): a check that cannot see one LSB
guards nothing. Layer 1 (the first dense layer, the most neurons in make_nets.py's nets) is
changed: its first weight, its vThMant, or its vDecay, by +1 (−1 where +1 leaves the register).
"""
import sys

import h5py


def main():
    path, what = sys.argv[1], sys.argv[2]
    key = {"weight": "weight", "threshold": "neuron/vThMant", "decay": "neuron/vDecay"}[what]
    top = {"weight": 254, "threshold": 131071, "decay": 4095}[what]
    with h5py.File(path, "r+") as f:
        d = f[f"layer/1/{key}"]
        if what == "weight":
            w = d[()]
            w[0, 0] += 1 if w[0, 0] < top else -1
            d[...] = w
            print(f"plant: layer 1 weight[0, 0] {w[0, 0]}", file=sys.stderr)
        else:
            v = int(d[()])
            d[...] = v + 1 if v < top else v - 1
            print(f"plant: layer 1 {key} {v} -> {int(d[()])}", file=sys.stderr)


if __name__ == "__main__":
    main()
