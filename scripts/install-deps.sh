#!/usr/bin/env bash
# Installs what building and testing Dragonflow-RS needs, and nothing that is
# already there (idempotent). Run as root on Debian 12; safe to run again.
#
# The Rust toolchain must already be on the machine (cargo/rustc); the Debian
# packages below are installed if missing: DPDK 22.11 (headers and tools),
# libclang for the bindings of switch/dpdk-sys, etcd and protoc (the etcd
# client's build), and the clients the end-to-end tests drive in network
# namespaces (iproute2, ping, arping, rdisc6, curl, iperf3, ethtool, dhclient, scapy).
set -euo pipefail

log() { printf 'install-deps: %s\n' "$*"; }

# Debian packages the build and tests need (binary name:package).
APT_CMDS=(
  "pkg-config:pkg-config"
  "cc:build-essential"
  "python3:python3"
  "ip:iproute2"
  "ping:iputils-ping"
  "arping:iputils-arping"
  "rdisc6:ndisc6"
  "curl:curl"
  "iperf3:iperf3"
  "ethtool:ethtool"
  "dhclient:isc-dhcp-client"
  "etcd:etcd-server"
  "protoc:protobuf-compiler"
)
# Debian packages that provide libraries and headers rather than a command.
APT_PKGS=(libdpdk-dev dpdk dpdk-dev libclang-dev libprotobuf-dev python3-scapy)

missing=()
for pair in "${APT_CMDS[@]}"; do
  if ! command -v "${pair%%:*}" >/dev/null 2>&1; then
    missing+=("${pair#*:}")
  fi
done
for pkg in "${APT_PKGS[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$pkg")
  fi
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    log "need root to install: ${missing[*]}" >&2
    exit 1
  fi
  log "apt-get install ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

if ! command -v cargo >/dev/null 2>&1; then
  for d in "$HOME/.cargo/bin" /usr/local/cargo/bin; do
    [ -x "$d/cargo" ] && export PATH="$d:$PATH"
  done
fi
if ! command -v cargo >/dev/null 2>&1; then
  log "no Rust toolchain (cargo) found: install Rust >= 1.80 with rustup, then run this again" >&2
  exit 1
fi
log "ok: $(cargo --version)"
