#!/usr/bin/env bash
# The main job, for a newcomer: start the switch on its embedded store, build
# a topology with dfctl (two networks, two VM ports, a router), look at it
# with `dfctl show`, follow packets through the datapath graph with
# `dfctl trace`, then measure the datapath with dfperf. Cleans up after
# itself.
#
# The datapath is the seed's graph (etc/layouts/seed.yaml: input, portsec,
# sg, l2, l3-proactive, firewall, and the implicit output).
# The ports here are in-process (`null`), so the demo needs neither DPDK
# devices nor root; `control/dfswitchd/tests/netns.rs` runs the same switch
# on DPDK ports with VMs in network namespaces (ping, iperf3).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
cargo build --release --locked -p df-dfswitchd -p df-dfctl -p df-perf
BIN=./target/release
WORK=$(mktemp -d /tmp/dragonflow-rs-demo.XXXXXX)
sed -e "s#/tmp/dragonflow-rs/#$WORK/#g" -e "s#\"layouts/#\"$PWD/etc/layouts/#" etc/dfswitchd.toml > "$WORK/dfswitchd.toml"
export DF_SOCKET="$WORK/dfswitchd.sock"
"$BIN/dfswitchd" --config "$WORK/dfswitchd.toml" > "$WORK/dfswitchd.log" 2>&1 &
PID=$!
cleanup() { kill "$PID" 2>/dev/null || true; wait "$PID" 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT
for _ in $(seq 100); do [ -S "$DF_SOCKET" ] && break; sleep 0.1; done
run() { printf '\n$ dfctl %s\n' "$*"; "$BIN/dfctl" "$@"; }

run network create net1
run subnet create sub1 --network net1 --cidr 10.0.0.0/24
run network create net2
run subnet create sub2 --network net2 --cidr 10.0.1.0/24
run security-group create web
run security-group rule add web --direction egress
run security-group rule add web --direction ingress --protocol icmp
run port create vm1 --id vm1 --network net1 --ip 10.0.0.11 --mac fa:16:3e:00:00:11 --security-group web
run port create vm2 --id vm2 --network net2 --ip 10.0.1.12 --mac fa:16:3e:00:00:12 --security-group web
run router create r1
run router add-interface r1 --subnet sub1
run router add-interface r1 --subnet sub2
sleep 0.5
run port list
run show status
run show graph
run show tables l2
run trace --port vm1 --src-mac fa:16:3e:00:00:11 --dst-mac ff:ff:ff:ff:ff:ff --proto arp --src-ip 10.0.0.11 --dst-ip 10.0.0.2
# A ping from vm1 to vm2 on the other subnet, through the router: every
# stage of the seed's graph it crosses, with the security-group and routing
# decisions.
RMAC=$("$BIN/dfctl" port list --json | python3 -c 'import json,sys; print([p["macs"][0] for p in json.load(sys.stdin) if "10.0.0.1" in p.get("ips", [])][0])')
run trace --port vm1 --src-mac fa:16:3e:00:00:11 --dst-mac "$RMAC" --proto icmp --src-ip 10.0.0.11 --dst-ip 10.0.1.12
# A spoofed source address: dropped by portsec, counted by reason.
run trace --port vm1 --src-mac fa:16:3e:00:00:11 --dst-mac "$RMAC" --proto icmp --src-ip 10.0.0.66 --dst-ip 10.0.1.12
run show counters

# Stop the switch first: its worker polls core 1, where dfperf's will run.
kill "$PID" 2>/dev/null || true
wait "$PID" 2>/dev/null || true
printf '\n== the datapath alone, in process: dfperf (io and l2 scenarios, 1 pinned worker)\n'
"$BIN/dfperf" --scenario io,l2 --warmup 0.5 --seconds 2
