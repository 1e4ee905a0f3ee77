#!/usr/bin/env bash
# Installs what building and testing Dragonflow-RS needs, and nothing that is
# already there (idempotent). Run as root on Debian 12; safe to run again.
#
# Today: the Rust toolchain (must already be on the machine: cargo/rustc) and
# the Debian packages below. Later issues add DPDK, etcd and the test clients
# here, in the same way.
set -euo pipefail

log() { printf 'install-deps: %s\n' "$*"; }

# Debian packages the build and tests need (binary name:package).
APT_NEEDS=(
  "pkg-config:pkg-config"
  "cc:build-essential"
  "python3:python3"
)

missing=()
for pair in "${APT_NEEDS[@]}"; do
  bin=${pair%%:*}
  pkg=${pair#*:}
  if ! command -v "$bin" >/dev/null 2>&1; then
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
