"""Train and export snnc's example networks on real data (Examples/<name>/).

    python train.py iris sonar mnist fashion-mnist      (default: all)

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


def train_mlp(name, x, y, hidden, theta0, epochs, lr, split_seed, test_fraction, classes):
    t0 = time.time()
    seed(1)
    train, test = stratified_split(y, test_fraction, split_seed)
    p = ASNParams(theta0=theta0, m_f=theta0)
    layers = [nn.BatchNorm1d(x.shape[1]), ASNActivation(p)]
    n_in = x.shape[1]
    for h in hidden:
        layers += [nn.Linear(n_in, h), nn.BatchNorm1d(h), ASNActivation(p)]
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
           "split": f"stratified, seed {split_seed}, {int(test_fraction * 100)} % test per class",
           "train_samples": int(len(train)), "test_samples": int(len(test)),
           "pytorch_accuracy_train": float(accuracy(net, x[train], y[train])),
           "pytorch_accuracy_test": float(accuracy(net, x[test], y[test])),
           "pytorch_accuracy_all": float(accuracy(net, x, y)),
           "train_seconds": round(time.time() - t0, 1)}
    export_sequential(net, (x.shape[1],), out, name, p.to_json(),
                      metadata={"trained_by": "Examples/training/train.py", "data": name})
    write_csv(os.path.join(out, "all.csv"), x, y)
    write_csv(os.path.join(out, "test.csv"), x[test], y[test])
    with open(os.path.join(out, "train-log.json"), "w") as f:
        json.dump(log, f, indent=1)
    print(json.dumps(log))


def iris():
    from sklearn.datasets import load_iris  # the csv bundled with scikit-learn
    d = load_iris()
    train_mlp("iris", d.data.astype(np.float64), d.target.astype(np.int64), [60, 60], theta0=0.1,
              epochs=1500, lr=0.01, split_seed=0, test_fraction=0.2, classes=3)


def sonar():
    import pyreadr
    r = pyreadr.read_r(os.path.join(DATA, "mlbench", "usr", "lib", "R", "site-library", "mlbench", "data", "Sonar.rda"))
    df = r["Sonar"]
    x = df.iloc[:, :60].to_numpy(dtype=np.float64)
    y = (df["Class"].astype(str).to_numpy() == "R").astype(np.int64)  # M (mine) = 0, R (rock) = 1
    train_mlp("sonar", x, y, [50, 50], theta0=0.1, epochs=1500, lr=0.01, split_seed=0, test_fraction=0.2, classes=2)


if __name__ == "__main__":
    which = sys.argv[1:] or ["iris", "sonar", "mnist", "fashion-mnist"]
    for w in which:
        {"iris": iris, "sonar": sonar}[w]()
