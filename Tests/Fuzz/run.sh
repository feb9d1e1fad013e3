#!/usr/bin/env bash
# Builds snnc-fuzz with libFuzzer and AddressSanitizer and runs each target for a while
# (Docs/fuzzing.md). Exit 0 when no target crashed, hung, leaked or ran out of memory.
#
#   Tests/Fuzz/run.sh [-t SECONDS] [-p] [TARGET…]
#     -t SECONDS  time per target (default 30)
#     -p          build with the planted trap (SNNC_PLANTED_TRAP) and expect the fuzzer to find it
#     TARGET      model, safetensors, profile, data, artefact, onnx, nir (default: all)
#
# Findings land in .build-fuzz/findings/TARGET/ (crash-*, timeout-*, leak-*, oom-*); add each,
# minimised (snnc-fuzz -minimize_crash=1), to Tests/SNNCFuzzTests/Corpus/TARGET/ with the
# diagnostic it must give once fixed.
set -euo pipefail
cd "$(dirname "$0")/../.."

secs=30
planted=0
while getopts "t:p" o; do
  case $o in
    t) secs=$OPTARG ;;
    p) planted=1 ;;
    *) sed -n 2,12p "$0"; exit 2 ;;
  esac
done
shift $((OPTIND - 1))
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(model safetensors profile data artefact onnx nir)

scratch=.build-fuzz
flags=(-Xswiftc -sanitize=fuzzer,address -Xswiftc -DSNNC_FUZZ)
if [ $planted = 1 ]; then scratch=.build-fuzz-planted; flags+=(-Xswiftc -DSNNC_PLANTED_TRAP); fi
echo "fuzz: building snnc-fuzz (libFuzzer + ASan) in $scratch"
swift build -c release --scratch-path "$scratch" --product snnc-fuzz "${flags[@]}" 2>&1 | tail -1
bin=$scratch/release/snnc-fuzz

# Seeds: the examples, the test corpora and compiled artefacts (built with the normal snnc).
seeds=$scratch/seeds
rm -rf "$seeds"; mkdir -p "$seeds"/{model,safetensors,profile,data,artefact,onnx,nir}
container() {  # NAME=FILE … → one input holding several files
  for a in "$@"; do printf '\0\0FILE:%s\n' "${a%%=*}"; cat "${a#*=}"; done
}
for f in Examples/handwritten/model.json Tests/SNNCIRTests/Corpus/bad-models/*.json Tests/SNNCFuzzTests/Corpus/model/*.json; do
  [ -f "$f" ] && cp "$f" "$seeds/model/$(echo "$f" | tr / _)"
done
i=0
for d in Examples/iris Examples/iris-relu Examples/sonar; do
  container model.json="$d/model.json" model.safetensors="$d/model.safetensors" > "$seeds/model/example-$((i++))"
  cp "$d/model.safetensors" "$seeds/safetensors/$(basename "$d").safetensors"
done
for f in Tests/SNNCIRTests/Corpus/bad-models/*.safetensors; do [ -f "$f" ] && cp "$f" "$seeds/safetensors/"; done
for f in Tests/SNNCImportTests/Corpus/*.onnx; do cp "$f" "$seeds/onnx/"; done
container model.onnx=Tests/SNNCImportTests/Corpus/mlp-external.onnx mlp-external.bin=Tests/SNNCImportTests/Corpus/mlp-external.bin > "$seeds/onnx/external.container"
for f in Examples/nir-handmade/*.nir; do cp "$f" "$seeds/nir/"; done
cp HardwareProfiles/*.json "$seeds/profile/"
for f in Tests/SNNCHardwareTests/Corpus/*.json; do [ -f "$f" ] && cp "$f" "$seeds/profile/corpus-$(basename "$f")"; done
head -40 Examples/iris/all.csv > "$seeds/data/iris.csv"
head -20 Examples/sonar/all.csv > "$seeds/data/sonar.csv"
for f in Tests/SNNCReferenceTests/Fixtures/*; do
  case "$f" in
    *authors-neuron-traces.json) ;;  # not a data set
    *.json) # a manifest with the files it names
      args=("data.json=$f")
      for m in $(grep -o '"[A-Za-z0-9_.-]*\.\(idx[0-9]*\|npy\|npz\|gz\|csv\|ubyte\)"' "$f" | tr -d '"' | sort -u); do
        [ -f "$(dirname "$f")/$m" ] && args+=("$m=$(dirname "$f")/$m")
      done
      container "${args[@]}" > "$seeds/data/$(basename "$f").container" ;;
    *.csv) cp "$f" "$seeds/data/" ;;
  esac
done
for f in Tests/SNNCReferenceTests/Fixtures/npz/*.npz; do  # an .npz behind a manifest
  printf '{"format": "snnc-data", "version": 1, "kind": "npz", "file": "d.npz"}' > "$seeds/manifest.tmp"
  container data.json="$seeds/manifest.tmp" d.npz="$f" > "$seeds/data/$(basename "$f").container"
done
printf '{"format": "snnc-data", "version": 1, "kind": "idx", "images": "i.gz", "labels": "l.gz"}' > "$seeds/manifest.tmp"
# The first 20 MNIST test images and labels as gzip'd IDX (headers rewritten for 20 items).
{ printf '\x00\x00\x08\x03\x00\x00\x00\x14\x00\x00\x00\x1c\x00\x00\x00\x1c'
  gunzip -c Examples/mnist/t10k-images-idx3-ubyte.gz | tail -c +17 | head -c 15680 || true; } | gzip -n > "$seeds/i.gz"
{ printf '\x00\x00\x08\x01\x00\x00\x00\x14'
  gunzip -c Examples/mnist/t10k-labels-idx1-ubyte.gz | tail -c +9 | head -c 20 || true; } | gzip -n > "$seeds/l.gz"
container data.json="$seeds/manifest.tmp" i.gz="$seeds/i.gz" l.gz="$seeds/l.gz" > "$seeds/data/mnist-idx.container"
rm -f "$seeds/manifest.tmp" "$seeds/i.gz" "$seeds/l.gz"
snnc=.build/release/snnc
[ -x $snnc ] || swift build -c release --product snnc 2>&1 | tail -1
art=$scratch/artefacts
rm -rf "$art"; mkdir -p "$art"
seed_artefact() {  # NAME MODEL PROFILE [compile flags…]
  local name=$1 model=$2 prof=$3; shift 3
  $snnc compile "$model" --profile "$prof" -o "$art/$name" "$@" > /dev/null 2>&1 || return 0
  local args=()
  for f in layers.json cores.json weights.bin axon-tables.bin host.bin; do
    [ -f "$art/$name/$f" ] && args+=("$f=$art/$name/$f")
  done
  container "${args[@]}" > "$seeds/artefact/$name"
}
for spec in iris:loihi iris-relu:loihi2 handwritten:generic sonar:spinnaker; do
  seed_artefact "${spec%%:*}.${spec#*:}" "Examples/${spec%%:*}/model.json" "${spec#*:}"
done
# IF-family layers (their neuron records, the integrating readout).
seed_artefact three-lif.generic Tests/SNNCDriverTests/Models/three-lif-neurons.json generic
seed_artefact cuba-nir.loihi2 Examples/nir-handmade/cuba-net-uniform.nir loihi2 --nir-convention nir --nir-dt 1e-3
seed_artefact conv-nir.loihi2 Examples/nir-handmade/conv-net-uniform.nir loihi2 --nir-convention nir --nir-dt 1e-3
for t in model safetensors profile data artefact onnx nir; do
  for f in Tests/SNNCFuzzTests/Corpus/$t/*; do
    case "$f" in *.tsv|*'*') ;; *) cp "$f" "$seeds/$t/crash-corpus-$(basename "$f")" ;; esac
  done
done

status=0
summary=()
for t in "${targets[@]}"; do
  work=$scratch/corpus/$t findings=$scratch/findings/$t
  mkdir -p "$work" "$findings"
  echo "fuzz: $t for ${secs} s"
  set +e
  SNNC_FUZZ_TARGET=$t ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=1 \
    "$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -malloc_limit_mb=2048 -max_len=65536 \
    -print_final_stats=1 -artifact_prefix="$findings/" "$work" "$seeds/$t" > "$scratch/$t.log" 2>&1
  rc=$?
  set -e
  execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$scratch/$t.log" | grep -o '[0-9]*$' || echo 0)
  cov=$(grep -o 'cov: [0-9]*' "$scratch/$t.log" | tail -1 | grep -o '[0-9]*' || echo 0)
  ft=$(grep -o 'ft: [0-9]*' "$scratch/$t.log" | tail -1 | grep -o '[0-9]*' || echo 0)
  if [ $rc -ne 0 ]; then
    status=1
    summary+=("$t: FAILED (exit $rc) after ${execs:-?} runs; see $scratch/$t.log and $findings/")
    grep -m3 -E 'ERROR|Fatal error|SUMMARY|deadly signal|timeout|out-of-memory' "$scratch/$t.log" || true
  else
    summary+=("$t: ok, ${execs} runs in ${secs} s, coverage ${cov} edges, ${ft} features")
  fi
done
printf 'fuzz: %s\n' "${summary[@]}"
if [ $planted = 1 ]; then
  if [ $status -ne 0 ] && grep -q "planted trap" "$scratch"/*.log; then echo "fuzz: the planted trap was found"; exit 0; fi
  echo "fuzz: the planted trap was NOT found"; exit 1
fi
exit $status
