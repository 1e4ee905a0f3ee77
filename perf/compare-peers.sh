#!/bin/bash
# Measures Dragonflow-RS's datapath beside its peers, in one run on this
# machine, and prints one table (Mpps and ratio to the peer):
#   * testpmd io-fwd, 2 x net_null, 1 forwarding lcore   (shared/peers/testpmd-null.sh)
#   * OVS-DPDK 3.1, L2 1000 MACs, EMC on, 1 PMD, net_pcap -> net_null
#                                                         (shared/peers/ovs-dpdk-null.sh)
#   * dfperf --ports-kind dpdk: io over the same 2 x net_null, l2 over the
#     same net_pcap (same frames) -> net_null, with 1 and 2 workers.
# Everything uses hugepages (the scripts reserve 1024 x 2 MiB and restore the
# count). Run as root on an otherwise idle machine: the figures are ratios
# measured side by side (shared/DESIGN.md, "Performance method"); other load
# on the cores skews them.
# Usage: perf/compare-peers.sh [seconds-per-sample]   (default 5; ~3 minutes)
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
PEERS="${PEERS_DIR:-$ROOT/../shared/peers}"
S=${1:-5}
[ -d "$PEERS" ] || { echo "compare-peers: no peer scripts at $PEERS (set PEERS_DIR)" >&2; exit 2; }
[ "$(id -u)" = 0 ] || { echo "compare-peers: run as root (DPDK, hugepages)" >&2; exit 2; }

LOG="$(mktemp -d /tmp/compare-peers.XXXXXX)"
trap 'rm -rf "$LOG"' EXIT

# The peers' scripts install package `dpdk`; Debian 12 ships dpdk-testpmd in
# `dpdk-dev`.
if ! command -v dpdk-testpmd >/dev/null; then
  echo "compare-peers: installing dpdk-dev (for dpdk-testpmd)" >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q dpdk-dev >"$LOG/apt.log" 2>&1
fi

echo "compare-peers: building dfperf (release, --features dpdk)" >&2
(cd "$ROOT" && cargo build --release -p df-perf --features dpdk >"$LOG/build.log" 2>&1) \
  || { tail -20 "$LOG/build.log" >&2; exit 1; }
DFPERF="${CARGO_TARGET_DIR:-$ROOT/target}/release/dfperf"

echo "compare-peers: testpmd (~$((6 * S + 10)) s)" >&2
bash "$PEERS/testpmd-null.sh" "$S" >"$LOG/testpmd.txt" 2>"$LOG/testpmd.err"
echo "compare-peers: OVS-DPDK (~$((6 * (S + 2) + 20)) s)" >&2
bash "$PEERS/ovs-dpdk-null.sh" "$S" >"$LOG/ovs.txt" 2>"$LOG/ovs.err"
for w in 1 2; do
  echo "compare-peers: dfperf, $w worker(s)" >&2
  "$DFPERF" --ports-kind dpdk --scenario io,l2 --workers "$w" --seconds "$S" --warmup 2 --json \
    >"$LOG/dfperf-$w.json" 2>"$LOG/dfperf-$w.err" || { cat "$LOG/dfperf-$w.err" >&2; exit 1; }
done

python3 - "$LOG" "$S" <<'PY'
import json, re, sys
log, secs = sys.argv[1], sys.argv[2]
def grab(path, label):
    for line in open(path):
        if line.startswith(label):
            m = re.search(r":\s*([0-9.]+) Mpps", line)
            if m:
                return float(m.group(1))
    return None
testpmd = grab(log + "/testpmd.txt", "testpmd io-fwd net_null (hugepages)")
ovs = grab(log + "/ovs.txt", "ovs-dpdk l2-1000mac (EMC on)")
base = grab(log + "/ovs.txt", "testpmd io-fwd net_pcap")
rows = [
    ("testpmd io-fwd, 2 x net_null (1 lcore)", testpmd, None, None),
    ("testpmd io-fwd, net_pcap -> net_null (OVS ports, no switching)", base, None, None),
    ("OVS-DPDK l2 1000 MACs, EMC on (1 PMD)", ovs, None, None),
]
for w in (1, 2):
    res = {r["params"]["scenario"]: r for r in json.load(open("%s/dfperf-%d.json" % (log, w)))["results"]}
    for sc, peer, pname in (("io", testpmd, "testpmd io-fwd"), ("l2", ovs, "OVS EMC on")):
        r = res[sc]
        ports = " -> ".join(p.split(",")[0] for p in r["dpdk"]["ports"])
        what = "dfperf %s, %s (%d worker%s)" % (sc, ports, w, "s" if w > 1 else "")
        rows.append((what, r["mpps"], peer, pname, r))
print("Dragonflow-RS vs peers, 64 B frames, hugepages, %s s samples, this machine, one run" % secs)
print("%-66s %9s  %s" % ("what", "Mpps", "ratio"))
for row in rows:
    what, mpps, peer = row[0], row[1], row[2]
    ratio = ""
    if peer and mpps is not None:
        ratio = "%.2f x %s" % (mpps / peer, row[3])
    extra = ""
    if len(row) > 4:
        r = row[4]
        extra = "  [%.0f cyc/pkt, allocs %d, drops %d, leaked mbufs %d]" % (
            r["cycles_per_packet"], r["allocations"], sum(d[1] for d in r["drops"]),
            r["dpdk"]["mbufs_leaked"])
    print("%-66s %9s  %s%s" % (what, "%.2f" % mpps if mpps is not None else "n/a", ratio, extra))
PY
