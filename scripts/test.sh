#!/usr/bin/env bash
# The whole test suite, as CI runs it: format, lints, unit + pipeline +
# store + controller + CLI tests, the DPDK and network-namespace end-to-end
# tests (as root: real DPDK virtual devices, real etcd on loopback, real
# ping/iperf3 in namespaces), the RCU model check (loom), a dfperf smoke run
# (no allocations in steady state), and a short run of every fuzz target.
#
#   ./scripts/test.sh                   everything
#   FUZZ_SECONDS=0 ./scripts/test.sh    skip the fuzz smoke run
#   LOOM=0 ./scripts/test.sh            skip the loom model check
#
# Tests that need root, etcd or network namespaces skip with a loud
# "SKIPPED" line when the facility is absent; under CI (CI=true) they are
# required instead (DF_REQUIRE_ETCD=1, DF_REQUIRE_E2E=1).
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==> %s (%s)\n' "$*" "$(date +%T)"; }

./scripts/install-deps.sh

if [ "${CI:-}" = true ]; then
  export DF_REQUIRE_ETCD=1 DF_REQUIRE_E2E=1
fi

step "cargo fmt --check"
cargo fmt --all -- --check

step "cargo clippy (workspace lints, warnings are errors; DPDK features on)"
cargo clippy --workspace --all-targets --locked --features df-perf/dpdk -- -D warnings

step "cargo test --workspace (DPDK virtual devices, etcd, netns end to end)"
cargo test --workspace --locked --features df-perf/dpdk

if [ "${LOOM:-1}" != 0 ]; then
  step "loom model check of the RCU cell"
  RUSTFLAGS="--cfg loom" CARGO_TARGET_DIR=target/loom \
    cargo test --release --locked -p df-dp --lib loom_
fi

step "dfperf smoke run (must not allocate in steady state)"
cargo build --release --locked -p df-perf
./target/release/dfperf --scenario io,l2 --warmup 0.2 --seconds 1 --max-allocs 0
./target/release/dfperf --scenario pipeline --pipeline-mode l2-new,l2-est,l3-est --warmup 0.4 --seconds 1 --max-allocs 0 --max-drops 0
./target/release/dfperf --scenario encap,decap --tunnel geneve,vxlan --scenario nat --nat fip,snat --warmup 0.4 --seconds 1 --max-allocs 0 --max-drops 0

FUZZ_SECONDS=${FUZZ_SECONDS:-5}
if [ "$FUZZ_SECONDS" != 0 ]; then
  step "fuzz smoke run: every target for ${FUZZ_SECONDS}s"
  ./fuzz/run-all.sh "$FUZZ_SECONDS"
fi

printf '\ntest.sh: all steps passed (%s)\n' "$(date +%T)"
