//! Ports: where packets enter and leave the switch.
//!
//! A [`Port`] value is one worker's queue pair on a switch port (as a DPDK
//! worker owns one rx and one tx queue of each port), so it needs no locking
//! on the hot path. Implementations here need no hardware: an in-memory port
//! for tests ([`mem`]), lock-free ring pairs that move packets between threads
//! without a copy ([`ring`]), a generator and a sink for benchmarks ([`gen`]),
//! and pcap file replay and capture ([`pcap`]). With the `dpdk` feature,
//! `crate::dpdk::DpdkQueue` puts DPDK ethdev queues behind the same trait.

pub mod gen;
pub mod mem;
pub mod pcap;
pub mod ring;

use crate::batch::Batch;
use crate::packet::PacketPool;

/// Counters a port keeps.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct PortStats {
    /// Packets received.
    pub rx_packets: u64,
    /// Bytes received.
    pub rx_bytes: u64,
    /// Packets the port could not receive (no buffer, oversized frame).
    pub rx_dropped: u64,
    /// Packets transmitted.
    pub tx_packets: u64,
    /// Bytes transmitted.
    pub tx_bytes: u64,
}

/// One worker's receive and transmit queue on a switch port.
pub trait Port: Send {
    /// The port's name (for counters and errors).
    fn name(&self) -> &str;

    /// Receives up to `batch.room()` packets into `batch`, taking buffers
    /// from `pool`; returns how many arrived.
    fn rx_burst(&mut self, pool: &mut PacketPool, batch: &mut Batch) -> usize;

    /// Transmits packets from the front of `batch`, returning sent buffers
    /// to `pool` (or keeping them, for ports that own their buffers). On
    /// return the batch holds exactly the packets not sent, in order; the
    /// caller drops and counts them. Returns how many were sent.
    fn tx_burst(&mut self, batch: &mut Batch, pool: &mut PacketPool) -> usize;

    /// Counters so far.
    fn stats(&self) -> PortStats;
}
