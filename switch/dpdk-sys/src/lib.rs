//! Raw FFI bindings to the system's DPDK (libdpdk 22.11 LTS, as Debian 12
//! ships it) for Dragonflow-RS.
//!
//! # What this crate owns
//! * The bindgen output for the EAL, ethdev, mbuf, mempool, lcore, cycles,
//!   errno, vdev/dev hotplug and version APIs (items named `rte_*`, `RTE_*`),
//!   generated at build time from the installed headers, so the layouts
//!   always match the installed library.
//! * A small C shim (`src/shim.c`) exporting `df_*` functions for the fast
//!   path DPDK provides only as `static inline` code or macros:
//!   `df_eth_rx_burst`, `df_eth_tx_burst`, `df_pktmbuf_alloc[_bulk]`,
//!   `df_pktmbuf_free`, `df_pktmbuf_mtod`, prepend/adj/append/trim,
//!   head/tailroom, `df_mbuf_to_priv`, refcounts, `df_rte_errno`,
//!   `df_lcore_id`, `df_rdtsc`. Functions libdpdk exports itself
//!   (`rte_pktmbuf_free_bulk`, `rte_pktmbuf_pool_create`, `rte_get_tsc_hz`,
//!   ...) are bound directly.
//! * Linking: libdpdk's shared libraries from `pkg-config --libs libdpdk`.
//!   PMD drivers (net_null, net_ring, net_pcap, ...) are not linked; EAL
//!   loads them from its plugin directory during `rte_eal_init`.
//!
//! # What it does not own
//! Safety. Every item is the raw C API, `unsafe` to call, with DPDK's own
//! contracts (see the DPDK 22.11 API docs and `src/shim.h`). The safe layer
//! (EAL lifetime, pools, owned mbufs, ports) lives in df-dp's `dpdk` module;
//! no other crate should depend on this one. There are deliberately no safe
//! wrappers or conveniences here.
//!
//! # Quirks worth knowing
//! * Macro constants: the `RTE_BIT64(n)` flags (`RTE_MBUF_F_*`,
//!   `RTE_ETH_{RX,TX}_OFFLOAD_*`, `RTE_ETH_RSS_*`, `RTE_ETH_DEV_CAPA_*`) are
//!   `u64`; `RTE_MBUF_DEFAULT_BUF_SIZE`, `RTE_MBUF_DEFAULT_DATAROOM` and
//!   `RTE_PKTMBUF_HEADROOM` are `u16` (the pool API's type). Every other
//!   macro gets the smallest type that holds it (usually `u32`).
//! * `rte_flow`, `rte_mtr`, `rte_tm` and DPDK's protocol-header structs
//!   (`rte_ipv4_hdr`, ...) are left out on purpose (see build.rs); packet
//!   formats are df-wire's job.
//! * `rte_errno` is a C thread-local: read it with [`df_rte_errno`] on the
//!   thread that made the failing call.
//! * `struct rte_mbuf` fields `data_off`, `data_len`, `pkt_len`, `nb_segs`,
//!   `port`, `ol_flags`, `buf_addr`, `pool`, `next` are plain fields; the
//!   packet-type bitfields and the hash/tx-offload unions sit behind
//!   `__bindgen_anon_N` members.

// Generated code: bindgen's names follow C, its derives and bitfield
// accessors are not written to this workspace's lint rules.
#[allow(
    non_upper_case_globals,
    non_camel_case_types,
    non_snake_case,
    dead_code,
    unsafe_code,
    unsafe_op_in_unsafe_fn,
    missing_debug_implementations,
    rustdoc::all,
    clippy::all,
    clippy::pedantic,
    clippy::undocumented_unsafe_blocks,
    clippy::multiple_unsafe_ops_per_block,
    clippy::missing_safety_doc,
    clippy::ptr_offset_with_cast
)]
mod bindings {
    include!(concat!(env!("OUT_DIR"), "/bindings.rs"));
}

pub use bindings::*;
