#!/bin/bash
# Open vSwitch 3.1 userspace (netdev) datapath with DPDK 22.11, one PMD on
# CPU1, doing what dfperf's `encap`, `decap` and `nat` scenarios do, over the
# same virtual ports and the same frames (written by `dfperf --write-pcaps`):
#
#   encap geneve|vxlan  br-int: p-src = net_pcap(encap-1000.pcap: 64 B VM
#        frames, 1000 dst MACs) -> 1000 (dl_dst) flows -> output to one of 4
#        tunnel ports (type geneve or vxlan, key 5001, remote_ip
#        172.16.0.2..5). OVS's userspace tunnel push: route lookup in its
#        own table (ovs/route/add 172.16.0.0/24 br-phy), neighbour from
#        tnl/arp/set (no ARP), out of br-phy (IP 172.16.0.1 on its tap,
#        MAC 02:00:00:ac:10:01) to phy-null = net_null (the sink).
#   decap geneve|vxlan  br-phy: p-src = net_pcap(decap-<t>-1000.pcap: the
#        same frames encapsulated by 172.16.0.2, 110 B) -> LOCAL -> tunnel
#        pop -> br-int tunnel port -> 1000 (dl_dst) flows -> int-null =
#        net_null (the sink).
#   nat fip   br-int: p-src = net_pcap(nat-1000.pcap: 64 B VM frames to the
#        router MAC) -> stateless floating IP: mod_nw_src:203.0.113.100,
#        mod_dl_src (floating MAC), mod_dl_dst (gateway MAC), dec_ttl ->
#        int-null (the uplink).
#   nat snat  the same frames -> ct(commit,zone=1,nat(src=203.0.113.200:
#        32768-60999)), MAC rewrite, dec_ttl -> int-null. One conntrack
#        entry (and port mapping) per flow, made in the warm-up; every
#        measured packet is one conntrack lookup on an existing entry.
#
# No port security or security group on either side (dfperf's VM ports have
# port security off). The EMC inserts every flow (emc-insert-inv-prob=1).
# Rate = "packets received" by the PMD (pmd-stats-show) per second: the
# median of S one-second samples. Sanity per mode: the sink's tx counter
# must grow over the window (else FORWARDS NOTHING).
# Everything runs from a private temp dir (ovsdb-server, ovs-vswitchd,
# started here, killed by PID at the end); the bridges (and br-phy's tap
# with its IP) are deleted before vswitchd exits.
# Usage: perf/peers/ovs-dpdk-overlay.sh [seconds-per-mode] [modes...]
#   modes: encap-geneve encap-vxlan decap-geneve decap-vxlan nat-fip nat-snat
#   (default all; ~6 x (S + 3) + 15 s). DFPERF=path/to/dfperf (default
#   target/release/dfperf of this tree) writes the pcaps.
PEERS_SHARED="${PEERS_SHARED:-$(cd "$(dirname "$0")/../../.." && pwd)/shared/peers}"
source "$PEERS_SHARED/lib/common.sh"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
peer_apt openvswitch-switch-dpdk dpdk
peer_hugepages 1024 || exit 1
S=${1:-3}
shift || true
MODES=("$@")
[ ${#MODES[@]} -gt 0 ] || MODES=(encap-geneve encap-vxlan decap-geneve decap-vxlan nat-fip nat-snat)
D="$PEER_LOGDIR/ovs"; mkdir -p "$D"
VSWITCHD=/usr/lib/openvswitch-switch-dpdk/ovs-vswitchd-dpdk
DFPERF="${DFPERF:-${CARGO_TARGET_DIR:-$ROOT/target}/release/dfperf}"
N=1000
"$DFPERF" --write-pcaps "$D" --flows "$N" || { echo "dfperf --write-pcaps failed ($DFPERF)" >&2; exit 1; }

export OVS_RUNDIR="$D" OVS_LOGDIR="$D" OVS_DBDIR="$D"
VS="ovs-vsctl --db=unix:$D/db.sock --timeout=30"
OF="ovs-ofctl -O OpenFlow13"
AP="ovs-appctl -t $D/ovs-vswitchd.ctl"

ovsdb-tool create "$D/conf.db" /usr/share/openvswitch/vswitch.ovsschema
peer_bg "$D/ovsdb-server.out" ovsdb-server "$D/conf.db" --remote=punix:"$D/db.sock" \
    --pidfile="$D/ovsdb-server.pid" --unixctl="$D/ovsdb-server.ctl" --log-file="$D/ovsdb-server.log"
for i in $(seq 50); do [ -S "$D/db.sock" ] && break; sleep 0.1; done
$VS --no-wait init
$VS --no-wait set Open_vSwitch . other_config:dpdk-init=true \
    other_config:dpdk-lcore-mask=0x1 other_config:pmd-cpu-mask=0x2 \
    other_config:dpdk-socket-mem=1024 other_config:emc-insert-inv-prob=1 \
    "other_config:dpdk-extra=--no-pci --file-prefix peer-ovsoverlay"
peer_bg "$D/ovs-vswitchd.out" $VSWITCHD unix:"$D/db.sock" --pidfile="$D/ovs-vswitchd.pid" \
    --unixctl="$D/ovs-vswitchd.ctl" --log-file="$D/ovs-vswitchd.log"
VSWITCHD_PID=$PEER_BG_PID
for i in $(seq 150); do [ -S "$D/ovs-vswitchd.ctl" ] && break; sleep 0.1; done
teardown() {  # bridges first (their taps), then vswitchd
  $VS --if-exists del-br br-int -- --if-exists del-br br-phy >/dev/null 2>&1
  $AP exit >/dev/null 2>&1
  peer_stop "$VSWITCHD_PID" TERM
  ip link del br-phy 2>/dev/null
  ip link del br-int 2>/dev/null
  peer_cleanup
}
trap teardown EXIT

port_ok() { local e; e=$($VS get Interface "$1" error); [ "$e" = "[]" ] || { echo "port $1: $e" >&2; tail -5 "$D/ovs-vswitchd.log" >&2; exit 1; }; }
LOCAL_MAC=02:00:00:ac:10:01
$VS add-br br-int -- set bridge br-int datapath_type=netdev protocols=OpenFlow13 \
  -- add-br br-phy -- set bridge br-phy datapath_type=netdev protocols=OpenFlow13 \
     other_config:hwaddr=$LOCAL_MAC || { tail -20 "$D/ovs-vswitchd.log"; exit 1; }
$VS add-port br-phy phy-null -- set Interface phy-null type=dpdk ofport_request=2 \
    "options:dpdk-devargs=\"net_null1,no-rx=1\""
port_ok phy-null
$VS add-port br-int int-null -- set Interface int-null type=dpdk ofport_request=2 \
    "options:dpdk-devargs=\"net_null2,no-rx=1\""
port_ok int-null
for c in 0 1 2 3; do
  $VS add-port br-int tun-g$c -- set Interface tun-g$c type=geneve ofport_request=$((10 + c)) \
      options:remote_ip=172.16.0.$((2 + c)) options:key=5001
  $VS add-port br-int tun-v$c -- set Interface tun-v$c type=vxlan ofport_request=$((20 + c)) \
      options:remote_ip=172.16.0.$((2 + c)) options:key=5001
done
# The underlay: br-phy's tap holds the tunnel IP (the source OVS's route
# lookup picks); routes and neighbours in OVS's own tables.
ip link set br-phy up
ip addr add 172.16.0.1/24 dev br-phy
$AP ovs/route/add 172.16.0.0/24 br-phy >/dev/null 2>&1 || true
for c in 0 1 2 3; do
  $AP tnl/arp/set br-phy 172.16.0.$((2 + c)) 02:00:00:ac:10:0$((2 + c)) >/dev/null
done
$OF add-flow br-phy "priority=10,in_port=LOCAL,actions=output:2"
$OF add-flow br-phy "priority=10,in_port=1,actions=LOCAL"
python3 - "$D" "$N" <<'PY'
import sys
d, n = sys.argv[1], int(sys.argv[2])
for base, name in ((10, "geneve"), (20, "vxlan")):
    with open("%s/encap-%s.flows" % (d, name), "w") as f:
        f.write("priority=0,actions=drop\n")
        for k in range(1000):
            f.write("priority=100,in_port=1,dl_dst=02:00:00:00:%02x:%02x,actions=output:%d\n"
                    % (k >> 8, k & 255, base + k % 4))
    with open("%s/decap-%s.flows" % (d, name), "w") as f:
        f.write("priority=0,actions=drop\n")
        for k in range(1000):
            f.write("priority=100,in_port=%d,dl_dst=02:00:00:00:%02x:%02x,actions=output:2\n"
                    % (base, k >> 8, k & 255))
rw = "mod_dl_src:%s,mod_dl_dst:02:00:00:ee:00:01,dec_ttl,output:2"
with open(d + "/nat-fip.flows", "w") as f:
    f.write("priority=0,actions=drop\n")
    f.write("priority=100,in_port=1,ip,dl_dst=02:00:00:00:00:00,nw_src=198.18.0.1,"
            "actions=mod_nw_src:203.0.113.100," + rw % "02:00:00:0f:00:01" + "\n")
with open(d + "/nat-snat.flows", "w") as f:
    f.write("priority=0,actions=drop\n")
    f.write("priority=100,in_port=1,ip,dl_dst=02:00:00:00:00:00,nw_src=198.18.0.0/24,"
            "actions=ct(commit,zone=1,nat(src=203.0.113.200:32768-60999)),"
            + rw % "02:92:cb:00:71:c8" + "\n")
PY

VDEV=10
now() { date +%s.%N; }
sink_tx() {  # sink_tx BRIDGE -> "<port 2 tx packets> <time>"
  local a b n
  a=$(now); n=$($OF dump-ports "$1" 2 | sed -n 's/.*tx pkts=\([0-9]*\).*/\1/p' | head -1); b=$(now)
  echo "${n:-0} $(echo "$a $b" | awk '{printf "%.6f", ($1 + $2) / 2}')"
}
pmd_sample() {  # -> "<seconds> <rx> <recirc> <emc> <megaflow> <busy cycles>" over ~1 s
  local a b c d st
  a=$(now); $AP dpif-netdev/pmd-stats-clear >/dev/null; b=$(now)
  sleep 1
  c=$(now); st=$($AP dpif-netdev/pmd-stats-show); d=$(now)
  echo "$st" >> "$D/pmdstats.txt"
  echo "$st" | awk -v t="$(echo "$a $b $c $d" | awk '{printf "%.6f", ($3 + $4 - $1 - $2) / 2}')" '
    /^main thread/ { exit }
    /packets received:/ { rx = $3 } /packet recirculations:/ { rc = $3 } /emc hits:/ { e = $3 }
    /megaflow hits:/ { m = $3 } /processing cycles:/ { c = $3 }
    END { printf "%s %.0f %.0f %.0f %.0f %.0f\n", t, rx, rc, e, m, c }'
}
measure() {  # measure LABEL SINK-BRIDGE
  local label=$1 tx0 tx1 samples="" i
  sleep 3
  tx0=$(sink_tx "$2")
  for i in $(seq "$S"); do samples+="$(pmd_sample)"$'\n'; done
  tx1=$(sink_tx "$2")
  printf '%s' "$samples" | awk -v l="$label" -v tx0="$tx0" -v tx1="$tx1" '
    function median(v, n,   i, j, t) {
      for (i = 2; i <= n; i++) for (j = i; j > 1 && v[j - 1] > v[j]; j--) { t = v[j]; v[j] = v[j - 1]; v[j - 1] = t }
      return n % 2 ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2 }
    NF == 6 { n++; T += $1; RX += $2; RC += $3; E += $4; M += $5
              mpps[n] = ($1 > 0 ? $2 / $1 / 1e6 : 0); cyc[n] = ($2 > 0 ? $6 / $2 : 0) }
    END {
      split(tx0, x, " "); split(tx1, y, " "); tx = y[1] - x[1]; p = RX + RC
      rxr = (T > 0 ? RX / T : 0); txr = (y[2] > x[2] ? tx / (y[2] - x[2]) : 0)
      if (n == 0) { printf "ovs-dpdk overlay %s: ERROR (no pmd-stats-show samples)\n", l; exit }
      if (tx <= 0) { printf "ovs-dpdk overlay %s: FORWARDS NOTHING (PMD rx %.0f pkts in %.1f s, sink tx 0)\n", l, RX, T; exit }
      printf "ovs-dpdk overlay %s: %.2f Mpps (1 PMD; %.0f cycles/pkt, %.2f passes/pkt; EMC hits %.0f%%, megaflow %.0f%%; sink tx %.0f%% of rx)\n",
        l, median(mpps, n), median(cyc, n), (RX > 0 ? p / RX : 0), (p > 0 ? 100 * E / p : 0),
        (p > 0 ? 100 * M / p : 0), (rxr > 0 ? 100 * txr / rxr : 0) }'
}
src_on() {  # src_on BRIDGE PCAP : the source port (ofport 1), a fresh vdev name each time
  $VS --if-exists del-port p-src
  $VS add-port "$1" p-src -- set Interface p-src type=dpdk ofport_request=1 \
      "options:dpdk-devargs=\"net_pcap$VDEV,rx_pcap=$2,infinite_rx=1\""
  VDEV=$((VDEV + 1))
  port_ok p-src
}
for m in "${MODES[@]}"; do
  $OF del-flows br-int
  $AP dpctl/flush-conntrack >/dev/null 2>&1
  case "$m" in
    encap-geneve|encap-vxlan)
      $OF add-flows br-int "$D/$m.flows"; src_on br-int "$D/encap-$N.pcap"
      measure "$m, $N flows, 1000 dst MACs on 4 remote chassis (EMC on)" br-phy ;;
    decap-geneve|decap-vxlan)
      $OF add-flows br-int "$D/$m.flows"; src_on br-phy "$D/$m-$N.pcap"
      measure "$m, $N flows, 1000 local MACs (EMC on)" br-int ;;
    nat-fip|nat-snat)
      $OF add-flows br-int "$D/$m.flows"; src_on br-int "$D/nat-$N.pcap"
      measure "$m, $N flows (EMC on)" br-int
      [ "$m" = nat-snat ] && echo "ovs-dpdk overlay nat-snat: conntrack $($AP dpctl/ct-get-nconns 2>/dev/null | tr -dc 0-9) entries" >&2 ;;
    *) echo "unknown mode $m" >&2; exit 2 ;;
  esac
  $AP dpctl/dump-flows > "$D/megaflows-$m.txt" 2>&1
  echo "ovs-dpdk overlay $m: datapath flows $(grep -c . "$D/megaflows-$m.txt"); e.g. $(grep -m1 -o 'actions:.*' "$D/megaflows-$m.txt" | cut -c1-200)" >&2
done
