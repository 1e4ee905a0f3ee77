#!/usr/bin/env bash
# Runs every df-wire fuzz target for SECONDS each, one after the other, on
# one job (the build machine is shared), seeded with fuzz/seeds/<target>.
# Logs go to fuzz/logs/<target>.log; a summary table is printed at the end.
#
# Usage: fuzz/run-all.sh SECONDS
set -euo pipefail

if [[ $# -ne 1 ]]; then
    echo "usage: $0 SECONDS" >&2
    exit 2
fi
seconds="$1"
cd "$(dirname "$0")"
mkdir -p logs

# cargo-fuzz from crates.io if missing.
if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "installing cargo-fuzz (crates.io)"
    cargo install cargo-fuzz --locked
fi
# A nightly toolchain if the machine has one; otherwise the stable one with
# its unstable flags unlocked (libFuzzer's instrumentation needs them), and
# no sanitizer (its runtime may be absent): panics are still caught.
fuzz=(cargo +nightly fuzz run)
if ! rustup toolchain list 2>/dev/null | grep -q '^nightly'; then
    echo "no nightly toolchain: fuzzing with stable (RUSTC_BOOTSTRAP=1, no sanitizer)"
    export RUSTC_BOOTSTRAP=1
    fuzz=(cargo fuzz run --sanitizer none)
fi

targets=(ethernet vlan arp ipv4 ipv6 icmpv4 icmpv6 udp tcp dhcpv4 vxlan geneve mpls frame)
summary=()
for target in "${targets[@]}"; do
    echo "=== ${target} (${seconds}s)"
    mkdir -p "corpus/${target}" "seeds/${target}"
    rm -f fuzz-0.log
    # -jobs=1 runs one worker process whose output libFuzzer writes to
    # fuzz-0.log; set -e stops the script on the first crash.
    "${fuzz[@]}" "${target}" "corpus/${target}" "seeds/${target}" -- \
        -max_total_time="${seconds}" -jobs=1 -workers=1
    mv fuzz-0.log "logs/${target}.log"
    runs=$(grep -Eo 'Done [0-9]+ runs' "logs/${target}.log" | grep -Eo '[0-9]+' || echo "?")
    cov=$(grep -Eo 'DONE +cov: [0-9]+' "logs/${target}.log" | grep -Eo '[0-9]+$' || echo "?")
    summary+=("${target} ${runs} ${cov}")
done

printf '\n%-10s %14s %6s  %s\n' target executions cov result
for line in "${summary[@]}"; do
    read -r target runs cov <<<"${line}"
    printf '%-10s %14s %6s  %s\n' "${target}" "${runs}" "${cov}" "no crash"
done
