#!/usr/bin/env bash
# Two hosts on one machine: network namespaces snnc-a (10.77.0.1) and snnc-b (10.77.0.2) joined by
# a veth pair, an sshd in snnc-b; mpirun in snnc-a with a hostfile starts one rank on each "host"
# (over ssh, TCP transport only) and the JSON report is compared with a single-process run of
# the same artefact. Needs root, Open MPI, openssh-server (Debian: openssh-server), and a built
# snnc / snnc-mpi. Not run by the tests (it changes the machine's network namespaces while it runs).
#
#   Benchmarks/mpi-two-hosts.sh ARTEFACT DATA [--limit N] [--distribute chips|images]
set -euo pipefail
cd "$(dirname "$0")/.."
[[ $# -ge 2 ]] || { echo "usage: $0 ARTEFACT DATA [emulate options]" >&2; exit 2; }
art=$(realpath "$1"); data=$(realpath "$2"); shift 2
bin=$(realpath .build/release)
tmp=$(mktemp -d)
cleanup() {
  [[ -f $tmp/sshd.pid ]] && kill "$(cat "$tmp/sshd.pid")" 2>/dev/null || true
  ip netns del snnc-a 2>/dev/null || true
  ip netns del snnc-b 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT

ip netns add snnc-a
ip netns add snnc-b
ip link add veth-snnc-a type veth peer name veth-snnc-b
ip link set veth-snnc-a netns snnc-a
ip link set veth-snnc-b netns snnc-b
ip -n snnc-a addr add 10.77.0.1/24 dev veth-snnc-a
ip -n snnc-b addr add 10.77.0.2/24 dev veth-snnc-b
for n in a b; do ip -n snnc-$n link set lo up; ip -n snnc-$n link set veth-snnc-$n up; done

ssh-keygen -q -t ed25519 -N "" -f "$tmp/key"
ssh-keygen -q -t ed25519 -N "" -f "$tmp/hostkey"
cp "$tmp/key.pub" "$tmp/authorized_keys"
chmod 600 "$tmp/authorized_keys"
cat > "$tmp/sshd_config" <<EOT
Port 2222
ListenAddress 10.77.0.2
HostKey $tmp/hostkey
AuthorizedKeysFile $tmp/authorized_keys
PermitRootLogin prohibit-password
PasswordAuthentication no
UsePAM no
StrictModes no
PidFile $tmp/sshd.pid
EOT
mkdir -p /run/sshd
ip netns exec snnc-b /usr/sbin/sshd -f "$tmp/sshd_config"
printf '10.77.0.1 slots=1\n10.77.0.2 slots=1\n' > "$tmp/hosts"

# One process: the same options without --distribute.
single=(); skip=0
for a in "$@"; do
  if (( skip )); then skip=0; continue; fi
  if [[ $a == --distribute ]]; then skip=1; continue; fi
  single+=("$a")
done
"$bin/snnc" emulate "$art" --data "$data" --json "${single[@]}" > "$tmp/single.json" 2> /dev/null || true
agent="ssh -p 2222 -i $tmp/key -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR"
t0=$(date +%s.%N)
ip netns exec snnc-a mpirun --allow-run-as-root --hostfile "$tmp/hosts" -np 2 \
  --mca plm_rsh_agent "$agent" --mca btl tcp,self --mca btl_tcp_if_include 10.77.0.0/24 --mca oob_tcp_if_include 10.77.0.0/24 \
  "$bin/snnc-mpi" emulate "$art" --data "$data" --json "$@" > "$tmp/two-hosts.json" || { echo "mpirun failed" >&2; exit 1; }
t1=$(date +%s.%N)
# The report without its distribution field (the last one) must equal the single-process one.
strip() { awk '/^  "distribution": /{exit} {print}' "$1" | sed '$ s/,$//'; echo "}"; }
grep -A6 '"distribution"' "$tmp/two-hosts.json" | head -8
cmp <(strip "$tmp/two-hosts.json") "$tmp/single.json" || { echo "two-host run: DIFFERENT from one process" >&2; exit 1; }
echo "two-host run (10.77.0.1 + 10.77.0.2, TCP): same JSON as one process; $(echo "$t1 - $t0" | bc) s"
