//! DPDK ports and mbuf-backed packets (Cargo feature `dpdk`): the safe layer
//! over `df-dpdk-sys`.
//!
//! Why it exists: DPDK's poll-mode drivers move frames between a NIC (or a
//! virtual device: `net_null`, `net_pcap`, `net_ring`, `net_af_packet`,
//! `net_af_xdp`, `net_tap`, `net_memif`, `net_vhost`) and mbufs without a
//! system call or a copy. This module turns the raw C API into owned Rust
//! values whose lifetimes make the C contracts hold, so that the rest of
//! df-dp (and every app) stays safe code:
//!
//! * [`Eal`]: the environment abstraction layer, initialised once per
//!   process; its cleanup runs when the last handle (held by every mempool
//!   and port) is gone.
//! * [`Mempool`]: a pktmbuf pool whose private area holds a packet's
//!   [`crate::packet::PrivArea`] (metadata and registers).
//! * [`Mbuf`]: one owned, single-segment mbuf; backs [`crate::Packet`].
//! * [`EthPort`]: an ethdev (PCI address or vdev string), configured,
//!   started, closed on drop; [`DpdkQueue`]: one worker's rx/tx queues on it,
//!   implementing [`crate::Port`].
//! * [`register_thread`]: gives a worker thread an lcore id so the mempool's
//!   per-lcore cache works for it.
//!
//! This is one of df-dp's fenced unsafe modules (STYLE.md rule 4, with `rcu`
//! and `sys`): every `unsafe` block names its invariant and where it is
//! established, every `unsafe fn` has a `# Safety` section.
//!
//! # Recommended EAL arguments
//! * Benchmarks and production: hugepages plus `--in-memory` (no files in
//!   `/dev/hugepages` or `/var/run/dpdk`, nothing to leak) and a unique
//!   `--file-prefix`; `-l <core>` for the main lcore; `--no-pci` when only
//!   virtual devices are used; `--no-telemetry`.
//! * Tests and CI without hugepages: `--no-huge -m 512 --no-shconf` (EAL
//!   rejects `--in-memory` with `--no-huge`) and a per-process
//!   `--file-prefix`; throughput is about half (TLB misses), fine for tests.
//!
//! Ports are best opened by spec with [`EthPort::open`] (hot-plugged with
//! `rte_dev_probe`), not with `--vdev`, so they are removed again on drop.

#![allow(unsafe_code)]

mod eal;
mod ethdev;
mod mbuf;
mod mempool;
mod queue;
#[cfg(test)]
mod tests;

use std::ffi::CStr;

pub use eal::{register_thread, Eal, LcoreGuard};
pub use ethdev::{EthPort, LinkStatus, PortConfig};
pub(crate) use mbuf::FreeBulk;
pub use mbuf::Mbuf;
pub use mempool::{Mempool, PRIV_SIZE};
pub use queue::DpdkQueue;

/// Why a DPDK call failed. Every variant names the object (EAL, mempool,
/// port spec) and DPDK's own error text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DpdkError {
    /// `Eal::init` was called a second time in this process.
    #[error(
        "DPDK's EAL is already initialised in this process; it can be initialised only once: \
         keep the first `Eal` and pass it around"
    )]
    AlreadyInitialised,
    /// The EAL refused to start or stop.
    #[error("EAL: {0}")]
    Eal(String),
    /// A mempool could not be created.
    #[error("mempool `{name}`: {text}")]
    Mempool {
        /// The pool's name.
        name: String,
        /// What went wrong and how to fix it.
        text: String,
    },
    /// A port could not be opened, configured, started or queried.
    #[error("port `{spec}`: {text}")]
    Port {
        /// The device spec as given (`net_null0`, `0000:00:04.0`, ...).
        spec: String,
        /// What went wrong and how to fix it.
        text: String,
    },
}

/// DPDK's text for error number `errnum` (positive: an `errno` or
/// `rte_errno` value; DPDK functions return it negated).
pub fn error_text(errnum: i32) -> String {
    // SAFETY: rte_strerror accepts any integer and returns a pointer to a
    // static or thread-local NUL-terminated string (it needs no EAL).
    let p = unsafe { df_dpdk_sys::rte_strerror(errnum.abs()) };
    if p.is_null() {
        return format!("error {errnum}");
    }
    // SAFETY: non-null, NUL-terminated (rte_strerror's contract, above); we
    // copy it out before this thread calls rte_strerror again.
    let s = unsafe { CStr::from_ptr(p) };
    format!("{} (errno {})", s.to_string_lossy(), errnum.abs())
}

/// This thread's `rte_errno`, as text.
pub(crate) fn rte_errno_text() -> String {
    // SAFETY: reads a thread-local int; no preconditions.
    let e = unsafe { df_dpdk_sys::df_rte_errno() };
    error_text(e)
}
