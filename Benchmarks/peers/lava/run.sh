#!/usr/bin/env bash
# The Lava parity harness (Docs/lava.md): runs a compiled artefact in Lava's bit-accurate models
# and in snnc's emulator on the same inputs and compares every u, v and spike at every step.
#
#   Benchmarks/peers/lava/run.sh ARTEFACT --data FILE [--limit N] [--steps T] [--json] [--plant weight|threshold|decay]
#
# --plant changes one LSB of the export before Lava runs it (plant.py): the harness must then
# report a divergence.
# The Lava side is built only from `snnc export-lava`'s files. The venv is made on first use
# (setup.sh, cached outside the repo). SNNC names the snnc binary (default: .build/release/snnc
# of this checkout). Exit 0 when identical, 1 when a value differs, 2 on bad usage.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../../.." && pwd)"
snnc="${SNNC:-$root/.build/release/snnc}"
usage() { echo "usage: $0 ARTEFACT --data FILE [--limit N] [--steps T] [--json] [--plant weight|threshold|decay]" >&2; exit 2; }
[ $# -ge 1 ] || usage
artefact="$1"; shift
data=""; limit=10; steps=200; json=""; plant=""
while [ $# -gt 0 ]; do
  case "$1" in
    --data) data="${2:?}"; shift 2 ;;
    --limit) limit="${2:?}"; shift 2 ;;
    --steps) steps="${2:?}"; shift 2 ;;
    --json) json="--json"; shift ;;
    --plant) plant="${2:?}"; shift 2; [[ "$plant" =~ ^(weight|threshold|decay)$ ]] || usage ;;
    *) usage ;;
  esac
done
[ -n "$data" ] || usage
[[ "$limit" =~ ^[0-9]+$ && "$limit" -ge 1 ]] || usage
[[ "$steps" =~ ^[0-9]+$ && "$steps" -ge 1 ]] || usage
[ -x "$snnc" ] || { echo "run.sh: no snnc binary at $snnc (swift build -c release, or set SNNC)" >&2; exit 2; }
py="$("$here/setup.sh")"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
t0=$(date +%s.%N)
"$snnc" export-lava "$artefact" -o "$work/model.net" --data "$data" --limit "$limit" >&2
samples=$("$py" -c "import json,sys; print(json.load(open(sys.argv[1]))['inputs']['samples'])" "$work/model.export.json")
cores=$("$py" -c "import json,sys; print(','.join(str(c) for c in range(json.load(open(sys.argv[1]))['cores'])))" "$work/model.export.json")
t1=$(date +%s.%N)
mkdir -p "$work/traces"
for ((s = 0; s < samples; s++)); do
  "$snnc" emulate "$artefact" --data "$data" --limit "$limit" --duration "$steps" --threads 1 \
      --trace "$work/traces/sample-$s.trace" --cores "$cores" --trace-sample "$s" > /dev/null
done
t2=$(date +%s.%N)
[ -z "$plant" ] || "$py" "$here/plant.py" "$work/model.net" "$plant"
"$py" "$here/lava_run.py" "$work/model.net" "$work/model.inputs.npy" -o "$work/lava.npz" --steps "$steps" --batch >&2
t3=$(date +%s.%N)
status=0
"$py" "$here/compare.py" "$work/model.export.json" "$work/lava.npz" "$work/traces" $json || status=$?
echo "run.sh: export $(awk "BEGIN{printf \"%.1f\", $t1 - $t0}") s, snnc traces $(awk "BEGIN{printf \"%.1f\", $t2 - $t1}") s, Lava $(awk "BEGIN{printf \"%.1f\", $t3 - $t2}") s" >&2
exit $status
