#!/usr/bin/env bash
# The Lava parity suite (Docs/lava.md): seeded IF, LIF, CubaLIF and conv nets (make_nets.py) compiled
# for loihi and loihi2, each run through run.sh (Lava's bit-accurate models against snnc's
# emulator, every u, v and spike of every step), then one LSB planted in a weight, a threshold
# and a decay of an export, each of which must be reported as a divergence.
#
#   Benchmarks/peers/lava/parity_suite.sh [--quick] [--out DIR]
#
# Full: 4 kinds × 3 seeds × 2 profiles, 10 inputs × 200 steps each (about 45 min on 2 cores).
# --quick (CI): 4 kinds × seed 1 × loihi, 3 inputs × 100 steps, and the three plants.
# Exit 0 when every net is identical and every plant is caught.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../../.." && pwd)"
snnc="${SNNC:-$root/.build/release/snnc}"
seeds="1 2 3"; profiles="loihi loihi2"; limit=10; steps=200
out=""
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) seeds="1"; profiles="loihi"; limit=3; steps=100; shift ;;
    --out) out="${2:?}"; shift 2 ;;
    *) echo "usage: $0 [--quick] [--out DIR]" >&2; exit 2 ;;
  esac
done
work="${out:-$(mktemp -d)}"
[ -n "$out" ] || trap 'rm -rf "$work"' EXIT
mkdir -p "$work"
py="$("$here/setup.sh")"
fail=0
printf '%-22s %-7s %-10s %s\n' net profile verdict "wraps / clips (Lava), first divergence"
for kind in if lif cuba_lif conv; do
  for seed in $seeds; do
    net="$work/$kind-$seed"
    "$py" "$here/make_nets.py" --kind "$kind" --seed "$seed" -o "$net"
    for profile in $profiles; do
      art="$net.$profile.snnc"
      "$snnc" compile "$net/model.json" --profile "$profile" -o "$art" > "$art.compile.log" 2>&1
      status=0
      SNNC="$snnc" "$here/run.sh" "$art" --data "$net/data.csv" --limit "$limit" --steps "$steps" --json > "$art.parity.json" 2> "$art.parity.log" || status=$?
      line=$("$py" -c '
import json, sys
r = json.load(open(sys.argv[1]))
w = sum(l["current_wraps"] for l in r["layers"]); c = sum(l["voltage_clips"] for l in r["layers"])
d = r["first_divergence"]
print(("identical" if r["identical"] else "DIFFERS"), f"{w} / {c}", "" if d is None else json.dumps(d))' "$art.parity.json" 2>/dev/null || echo "FAILED (see $art.parity.log)")
      printf '%-22s %-7s %s\n' "$kind-$seed" "$profile" "$line"
      [ "$status" -eq 0 ] || fail=1
    done
  done
done
# The planted LSBs: each must be reported.
art="$work/cuba_lif-1.loihi.snnc"
[ -d "$art" ] || { "$snnc" compile "$work/cuba_lif-1/model.json" --profile loihi -o "$art" > /dev/null 2>&1; }
for plant in weight threshold decay; do
  status=0
  SNNC="$snnc" "$here/run.sh" "$art" --data "$work/cuba_lif-1/data.csv" --limit "$limit" --steps "$steps" --plant "$plant" > "$art.plant-$plant.txt" 2> "$art.plant-$plant.log" || status=$?
  if [ "$status" -eq 1 ] && grep -q "^first divergence" "$art.plant-$plant.txt"; then
    echo "plant $plant: caught — $(grep '^first divergence' "$art.plant-$plant.txt")"
  else
    echo "plant $plant: NOT caught (exit $status)"; fail=1
  fi
done
[ "$fail" -eq 0 ] && echo "lava parity: all identical, every plant caught" || echo "lava parity: FAILED"
exit $fail
