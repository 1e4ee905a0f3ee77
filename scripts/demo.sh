#!/usr/bin/env bash
# The main job, for a newcomer: build the switch's datapath, show the compiled
# default graph, push generated traffic through it on a pinned worker with the
# first packets traced, and print rate, per-stage cycles, drops and
# allocations.
#
# Today this runs in process (in-memory generator and sink ports); the demo on
# DPDK ports with VMs in network namespaces and the embedded store arrives with
# the control-plane and core-apps issues.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
cargo build --release --locked -p df-perf
echo
echo "== the compiled default layout (etc/layouts/default.yaml) and a run of each scenario"
./target/release/dfperf --scenario io,l2 --show-graph --trace 1 --warmup 0.5 --seconds 2
