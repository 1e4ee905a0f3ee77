//! dfperf: builds a benchmark topology in process, feeds generated frames
//! through the compiled graph on pinned workers, and measures rate, cycles per
//! packet per stage, drops and steady-state allocations.
//!
//! The generator ports copy a template frame into a fresh buffer per packet
//! and sink what is sent to them, as DPDK's `net_pcap` (infinite rx) and
//! `net_null` do for the peers' scripts, so the figures are comparable in
//! kind. With the Cargo feature `dpdk` and `--ports-kind dpdk`, the same
//! scenarios run over DPDK virtual devices, exactly the ports the peers'
//! scripts use (see [`dpdk`]), so the figures stand side by side.
#![forbid(unsafe_code)]

#[cfg(feature = "dpdk")]
pub mod dpdk;
pub mod frames;
pub mod measure;
pub mod overlay;
pub mod pipeline;
pub mod report;
pub mod scenario;

pub use measure::{run, Measurement};
pub use overlay::{NatMode, Tunnel};
pub use pipeline::PipelineMode;
pub use scenario::{FrameMix, OverlayLayout, Params, PortsKind, Scenario};
