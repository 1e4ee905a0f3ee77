#!/bin/bash
# Measures Dragonflow-RS's datapath beside its peers, in one run on this
# machine, and prints one table (Mpps and ratio to the peer):
#   * testpmd io-fwd, 2 x net_null, 1 forwarding lcore   (shared/peers/testpmd-null.sh)
#   * OVS-DPDK 3.1, L2 1000 MACs, EMC on, 1 PMD, net_pcap -> net_null
#                                                         (shared/peers/ovs-dpdk-null.sh)
#   * dfperf --ports-kind dpdk: io over the same 2 x net_null, l2 over the
#     same net_pcap (same frames) -> net_null, with 1 and 2 workers.
#   * OVS-DPDK 3.1 conntrack pipeline (port security, ct(zone), 50-rule
#     security group, ct(commit), L2 1000 MACs or L3 256 routes), 1 PMD,
#     1k and 100k UDP flows, ct=new / ct=est, EMC on and off
#                                                         (shared/peers/ovs-dpdk-ct.sh)
#   * dfperf --scenario pipeline (the seed's graph with the same tables,
#     built from the NB model by the controller's compiler) over the same
#     net_pcap (same frames, and the replies through a third net_pcap for
#     ct=est) -> net_null, 1 worker, l2-new / l2-est / l3-est, 1k and 100k flows.
#   * OVS-DPDK 3.1 overlay and NAT (userspace Geneve/VXLAN tunnel push and
#     pop, floating-IP rewrite, ct(commit,nat(src)) SNAT), 1 PMD, 1k flows
#                                                         (perf/peers/ovs-dpdk-overlay.sh)
#   * dfperf --scenario encap,decap (geneve, vxlan) and nat (fip, snat) over
#     the same net_pcap (same frames) -> net_null, 1 worker.
# Everything uses hugepages (the scripts reserve 1024 x 2 MiB and restore the
# count). Run as root on an otherwise idle machine: the figures are ratios
# measured side by side (shared/DESIGN.md, "Performance method"); other load
# on the cores skews them.
# Usage: perf/compare-peers.sh [--ct-only|--overlay-only] [seconds-per-sample]
#   (default 5 s; ~8 minutes; --ct-only: only the conntrack pipeline,
#   ~3 minutes; --overlay-only: only the overlay and NAT, ~2.5 minutes)
set -euo pipefail
CT_ONLY=0
OVERLAY_ONLY=0
case "${1:-}" in
  --ct-only) CT_ONLY=1; shift ;;
  --overlay-only) OVERLAY_ONLY=1; shift ;;
esac

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

if [ "$CT_ONLY" = 0 ] && [ "$OVERLAY_ONLY" = 0 ]; then
  echo "compare-peers: testpmd (~$((6 * S + 10)) s)" >&2
  bash "$PEERS/testpmd-null.sh" "$S" >"$LOG/testpmd.txt" 2>"$LOG/testpmd.err"
  echo "compare-peers: OVS-DPDK (~$((6 * (S + 2) + 20)) s)" >&2
  bash "$PEERS/ovs-dpdk-null.sh" "$S" >"$LOG/ovs.txt" 2>"$LOG/ovs.err"
  for w in 1 2; do
    echo "compare-peers: dfperf, $w worker(s)" >&2
    "$DFPERF" --ports-kind dpdk --scenario io,l2 --workers "$w" --seconds "$S" --warmup 2 --json \
      >"$LOG/dfperf-$w.json" 2>"$LOG/dfperf-$w.err" || { cat "$LOG/dfperf-$w.err" >&2; exit 1; }
  done
  # The same io with every packet through every stage (no wire): the
  # graph's own per-packet cost, for the record.
  "$DFPERF" --ports-kind dpdk --scenario io --no-shortcuts --seconds "$S" --warmup 2 --json \
    >"$LOG/dfperf-io-graph.json" 2>"$LOG/dfperf-io-graph.err" || { cat "$LOG/dfperf-io-graph.err" >&2; exit 1; }
fi
if [ "$OVERLAY_ONLY" = 0 ]; then
  echo "compare-peers: OVS-DPDK conntrack pipeline (~$((12 * (S + 2) + 2 * S + 40)) s)" >&2
  bash "$PEERS/ovs-dpdk-ct.sh" "$S" >"$LOG/ovs-ct.txt" 2>"$LOG/ovs-ct.err"
  for n in 1000 100000; do
    echo "compare-peers: dfperf pipeline, $n flows (~$((3 * (S + 2) + 5)) s)" >&2
    "$DFPERF" --ports-kind dpdk --scenario pipeline --pipeline-mode l2-new,l2-est,l3-est \
      --flows "$n" --seconds "$S" --warmup 2 --json \
      >"$LOG/pipeline-$n.json" 2>"$LOG/pipeline-$n.err" || { cat "$LOG/pipeline-$n.err" >&2; exit 1; }
  done
fi
if [ "$CT_ONLY" = 0 ]; then
  echo "compare-peers: OVS-DPDK overlay and NAT (~$((6 * (S + 3) + 15)) s)" >&2
  PEERS_SHARED="$PEERS" DFPERF="$DFPERF" bash "$ROOT/perf/peers/ovs-dpdk-overlay.sh" "$S" \
    >"$LOG/ovs-overlay.txt" 2>"$LOG/ovs-overlay.err"
  echo "compare-peers: dfperf encap, decap, nat (~$((6 * (S + 2) + 5)) s)" >&2
  "$DFPERF" --ports-kind dpdk --scenario encap,decap,nat --tunnel geneve,vxlan --nat fip,snat \
    --flows 1000 --seconds "$S" --warmup 2 --json \
    >"$LOG/overlay.json" 2>"$LOG/overlay.err" || { cat "$LOG/overlay.err" >&2; exit 1; }
  echo "compare-peers: dfperf encap, decap in the default layout (~$((4 * (S + 2) + 5)) s)" >&2
  "$DFPERF" --ports-kind dpdk --scenario encap,decap --tunnel geneve,vxlan --overlay-layout default \
    --flows 1000 --seconds "$S" --warmup 2 --json \
    >"$LOG/overlay-default.json" 2>"$LOG/overlay-default.err" \
    || { cat "$LOG/overlay-default.err" >&2; exit 1; }
fi

python3 - "$LOG" "$S" "$CT_ONLY" "$OVERLAY_ONLY" <<'PY'
import json, os, re, sys
log, secs, ct_only, overlay_only = sys.argv[1], sys.argv[2], sys.argv[3] == "1", sys.argv[4] == "1"
def grab(path, label):
    if not os.path.exists(path):
        return None
    for line in open(path):
        if line.startswith(label):
            m = re.search(r":\s*([0-9.]+) Mpps", line)
            if m:
                return float(m.group(1))
    return None
def extra(r):
    return "  [%.0f cyc/pkt, allocs %d, drops %d, leaked mbufs %d]" % (
        r["cycles_per_packet"], r["allocations"], sum(d[1] for d in r["drops"]),
        r["dpdk"]["mbufs_leaked"])
testpmd = grab(log + "/testpmd.txt", "testpmd io-fwd net_null (hugepages)")
ovs = grab(log + "/ovs.txt", "ovs-dpdk l2-1000mac (EMC on)")
base = grab(log + "/ovs.txt", "testpmd io-fwd net_pcap")
rows = [] if ct_only or overlay_only else [
    ("testpmd io-fwd, 2 x net_null (1 lcore)", testpmd, None, None),
    ("testpmd io-fwd, net_pcap -> net_null (OVS ports, no switching)", base, None, None),
    ("OVS-DPDK l2 1000 MACs, EMC on (1 PMD)", ovs, None, None),
]
for w in () if ct_only or overlay_only else (1, 2):
    res = {r["params"]["scenario"]: r for r in json.load(open("%s/dfperf-%d.json" % (log, w)))["results"]}
    for sc, peer, pname in (("io", testpmd, "testpmd io-fwd"), ("l2", ovs, "OVS EMC on")):
        r = res[sc]
        ports = " -> ".join(p.split(",")[0] for p in r["dpdk"]["ports"])
        what = "dfperf %s, %s (%d worker%s)" % (sc, ports, w, "s" if w > 1 else "")
        if sc == "io":
            what += ", a wire (%.0f%% of packets)" % (100.0 * r["wired_packets"] / max(r["rx_packets"], 1))
        rows.append((what, r["mpps"], peer, pname, extra(r)))
if not (ct_only or overlay_only):
    r = json.load(open(log + "/dfperf-io-graph.json"))["results"][0]
    rows.append(("dfperf io --no-shortcuts (input -> xconnect -> output per packet, 1 worker)",
                 r["mpps"], testpmd, "testpmd io-fwd", extra(r)))
# The conntrack pipeline: OVS (EMC on, and off) beside dfperf's pipeline.
ct = log + "/ovs-ct.txt"
modes = (("l2-new", "l2-1000mac", "ct=new"), ("l2-est", "l2-1000mac", "ct=est"),
         ("l3-est", "l3-256routes", "ct=est"))
for n, k in () if overlay_only else ((1000, "1k"), (100000, "100k")):
    rows.append(("testpmd io-fwd net_pcap(%s flows) -> net_null (ct baseline)" % k,
                 grab(ct, "testpmd io-fwd net_pcap(infinite_rx, %s flows)" % k), None, None))
    res = {r["params"]["pipeline_mode"]: r
           for r in json.load(open("%s/pipeline-%d.json" % (log, n)))["results"]}
    for mode, table, state in modes:
        label = "ovs-dpdk ct-sg %s, %s flows, %s" % (table, k, state)
        on = grab(ct, label + " (EMC on)")
        off = grab(ct, label + " (EMC off, megaflow)")
        rows.append(("OVS-DPDK ct %s %s, %s flows, EMC on (1 PMD)" % (table, state, k), on, None, None))
        rows.append(("OVS-DPDK ct %s %s, %s flows, EMC off (megaflow)" % (table, state, k), off, None, None))
        r = res[mode]
        note = extra(r)
        if off and r["mpps"]:
            note += " (%.2f x EMC off)" % (r["mpps"] / off)
        if mode.endswith("new"):
            note += " (ours: one-way UDP committed on its 1st packet, later ones are ct hits)"
        rows.append(("dfperf pipeline %s, %s flows (1 worker)" % (mode, k), r["mpps"], on,
                     "OVS EMC on", note))
# The overlay and NAT: OVS's userspace tunnels and NAT beside dfperf's.
if not ct_only:
    ov = log + "/ovs-overlay.txt"
    res = {}
    for f, suffix in (("overlay.json", ""), ("overlay-default.json", "/default")):
        for r in json.load(open(log + "/" + f))["results"]:
            sc = r["params"]["scenario"]
            mode = r["params"]["nat"] if sc == "nat" else r["params"]["tunnel"]
            res["%s-%s%s" % (sc, mode, suffix)] = r
    for mode, what in (("encap-geneve", "1000 dst MACs on 4 remote chassis"),
                       ("encap-vxlan", "1000 dst MACs on 4 remote chassis"),
                       ("decap-geneve", "1000 local MACs"), ("decap-vxlan", "1000 local MACs"),
                       ("nat-fip", "floating IP"), ("nat-snat", "SNAT, established mappings")):
        on = grab(ov, "ovs-dpdk overlay %s," % mode)
        rows.append(("OVS-DPDK %s, 1k flows, EMC on (1 PMD)" % mode, on, None, None, "  (%s)" % what))
        r = res[mode]
        rows.append(("dfperf %s, 1k flows, seed layout (1 worker)" % mode, r["mpps"], on,
                     "OVS EMC on", extra(r)))
        r = res.get(mode + "/default")
        if r:
            rows.append(("dfperf %s, 1k flows, default layout (1 worker)" % mode, r["mpps"], on,
                         "OVS EMC on", extra(r)))
print("Dragonflow-RS vs peers, 64 B frames, hugepages, %s s samples, this machine, one run" % secs)
print("%-66s %9s  %s" % ("what", "Mpps", "ratio"))
for row in rows:
    what, mpps, peer = row[0], row[1], row[2]
    ratio = ""
    if peer and mpps is not None:
        ratio = "%.2f x %s" % (mpps / peer, row[3])
    more = row[4] if len(row) > 4 else ""
    print("%-66s %9s  %s%s" % (what, "%.2f" % mpps if mpps is not None else "n/a", ratio, more))
PY
