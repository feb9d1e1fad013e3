"""A torchvision-style residual network (ResNet-8: BasicBlocks with `out += identity` and
functional ReLUs), trained on Fashion-MNIST with PyTorch and exported both ways snnc reads:

    python resnet.py [--epochs 3] [--out ../resnet8-fashion]

- `python -m snnc_train export resnet:resnet8 weights.pt -o OUT --input-shape 1,28,28` (traced
  with torch.fx; its check mode compares snnc's ANN logits with PyTorch's), and
- `torch.onnx.export` (OUT/model.onnx; BN folded into the convs by the exporter), checked
  against onnxruntime on the first 200 test images.

The network is a plain ReLU network: snnc runs every ReLU as a graded-spike ASN (the second
seed's ASNN), no retraining. Test images are Examples/fashion-mnist's.
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

HERE = os.path.dirname(os.path.abspath(__file__))
EXAMPLES = os.path.dirname(HERE)


class BasicBlock(nn.Module):
    """torchvision's BasicBlock: conv-bn-relu-conv-bn, plus the input (or its 1×1 projection)."""

    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.downsample = None
        if stride != 1 or cin != cout:
            self.downsample = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        identity = x if self.downsample is None else self.downsample(x)
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        out += identity
        return F.relu(out)


class ResNet8(nn.Module):
    """Stem conv 3×3 (16) and three stages of one BasicBlock (16, 32, 64 channels; stride 1, 2,
    2), global average pooling, a linear classifier: 8 weighted layers on the main path."""

    def __init__(self, channels=1, classes=10, width=16):
        super().__init__()
        self.conv1 = nn.Conv2d(channels, width, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.layer1 = BasicBlock(width, width, 1)
        self.layer2 = BasicBlock(width, 2 * width, 2)
        self.layer3 = BasicBlock(2 * width, 4 * width, 2)
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(4 * width, classes)

    def forward(self, x):
        x = F.relu(self.bn1(self.conv1(x)))
        x = self.layer3(self.layer2(self.layer1(x)))
        x = torch.flatten(self.avgpool(x), 1)
        return self.fc(x)


def resnet8():
    return ResNet8()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--out", default=os.path.join(EXAMPLES, "resnet8-fashion"))
    ap.add_argument("--snnc", default="snnc")
    ap.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    a = ap.parse_args()
    sys.path.insert(0, HERE)
    from train import load_fashion  # the same data files as the fashion-mnist example

    t0 = time.time()
    torch.manual_seed(1)
    torch.set_num_threads(max(1, a.threads))
    x_train, y_train, x_test, y_test = load_fashion()
    xt = torch.as_tensor(x_train, dtype=torch.float32).unsqueeze(1) / 256
    yt = torch.as_tensor(y_train)
    xe = torch.as_tensor(x_test, dtype=torch.float32).unsqueeze(1) / 256
    net = resnet8()
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    steps = (len(xt) + 127) // 128
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=3e-3, total_steps=a.epochs * steps)
    g = torch.Generator().manual_seed(1)
    accs = []
    for epoch in range(a.epochs):
        net.train()
        perm = torch.randperm(len(xt), generator=g)
        for b in range(steps):
            idx = perm[b * 128:(b + 1) * 128]
            opt.zero_grad()
            loss = F.cross_entropy(net(xt[idx]), yt[idx])
            loss.backward()
            opt.step()
            sched.step()
            if b % 100 == 0:
                print(f"epoch {epoch + 1} batch {b}/{steps} loss {loss.item():.4f} ({time.time() - t0:.0f} s)", flush=True)
        net.eval()
        with torch.no_grad():
            acc = float(np.mean([(net(xe[i:i + 1000]).argmax(1).numpy() == y_test[i:i + 1000]).mean() for i in range(0, len(xe), 1000)]))
        accs.append(acc)
        print(f"epoch {epoch + 1}/{a.epochs}: test accuracy {acc:.4f} ({time.time() - t0:.0f} s)", flush=True)
    train_seconds = time.time() - t0
    os.makedirs(a.out, exist_ok=True)
    weights = os.path.join(a.out, "weights.pt")
    torch.save(net.state_dict(), weights)
    # The check inputs: the first 16 test images (NCHW), so the exporter's comparison uses real data.
    check = os.path.join(a.out, "check-inputs.npz")
    np.savez(check, x=xe[:16].numpy())
    env = dict(os.environ, PYTHONPATH=HERE + os.pathsep + os.environ.get("PYTHONPATH", ""))
    subprocess.run([sys.executable, "-m", "snnc_train", "export", "resnet:resnet8", weights, "-o", a.out,
                    "--input-shape", "1,28,28", "--name", "resnet8-fashion", "--check", "16", "--check-data", check,
                    "--snnc", a.snnc], check=True, cwd=HERE, env=env)
    os.remove(weights)
    os.remove(check)
    # ONNX: torch.onnx.export at its default opset, then onnxruntime on the first 200 test images.
    onnx_path = os.path.join(a.out, "model.onnx")
    torch.onnx.export(net, (torch.zeros(1, 1, 28, 28),), onnx_path, input_names=["image"], output_names=["logits"])
    import onnxruntime as ort
    sess = ort.InferenceSession(onnx_path, providers=["CPUExecutionProvider"])
    with torch.no_grad():
        ref = net(xe[:200]).numpy()
    got = np.concatenate([sess.run(None, {"image": xe[i:i + 1].numpy()})[0] for i in range(200)])
    np.savetxt(os.path.join(a.out, "onnxruntime-logits-200.csv"), got, delimiter=",", fmt="%.9g")
    shutil.rmtree(os.path.join(a.out, "check"), ignore_errors=True)
    log = {"example": "resnet8-fashion", "network": "ResNet-8 (torchvision BasicBlocks), ReLU + BN, no ASN-aware training",
           "epochs": a.epochs, "optimizer": "Adam, one-cycle max lr 3e-3, batch 128",
           "data": "Fashion-MNIST official 60k train / 10k test (Debian dataset-fashion-mnist), pixels / 256",
           "pytorch_accuracy_test_per_epoch": accs, "train_seconds": round(train_seconds, 1),
           "torch": torch.__version__, "onnxruntime": ort.__version__,
           "onnxruntime_vs_pytorch_max_abs_logit_diff_200": float(np.abs(got - ref).max()),
           "pytorch_max_abs_logit_200": float(np.abs(ref).max())}
    with open(os.path.join(a.out, "train-log.json"), "w") as f:
        json.dump(log, f, indent=1)
        f.write("\n")
    with open(os.path.join(a.out, "test-data.json"), "w") as f:
        json.dump({"format": "snnc-data", "version": 1, "kind": "idx",
                   "images": "../fashion-mnist/t10k-images-idx3-ubyte.gz", "labels": "../fashion-mnist/t10k-labels-idx1-ubyte.gz",
                   "scale": 1 / 256, "shape": [28, 28, 1], "comment": "Fashion-MNIST official 10k test set, pixels scaled by 1/256"},
                  f, indent=1)
        f.write("\n")
    print(json.dumps(log))


if __name__ == "__main__":
    main()
