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

    /// A port wire's burst (see `exec::Wire`): receives a burst and
    /// transmits it unmodified on `to` (`None`: back on this port). Returns
    /// (received, sent); what was not sent is freed (the caller counts it).
    /// The default goes through [`forward_batch`]; ports that can hand their
    /// buffers over directly (DPDK queues) override it.
    fn forward(
        &mut self,
        to: Option<&mut dyn Port>,
        scratch: &mut Batch,
        pool: &mut PacketPool,
    ) -> (usize, usize) {
        forward_batch(self, to, scratch, pool)
    }

    /// This port as a DPDK queue, for a wire between two of them.
    #[cfg(feature = "dpdk")]
    fn as_dpdk(&mut self) -> Option<&mut crate::dpdk::DpdkQueue> {
        None
    }
}

/// [`Port::forward`] by way of a batch: `rx_burst` into `scratch`, then
/// `tx_burst` on `to` (or `from`), freeing what was not sent.
pub fn forward_batch<P: Port + ?Sized>(
    from: &mut P,
    to: Option<&mut dyn Port>,
    scratch: &mut Batch,
    pool: &mut PacketPool,
) -> (usize, usize) {
    let n = from.rx_burst(pool, scratch);
    if n == 0 {
        return (0, 0);
    }
    let sent = match to {
        Some(t) => t.tx_burst(scratch, pool),
        None => from.tx_burst(scratch, pool),
    };
    for p in scratch.drain() {
        pool.free(p);
    }
    (n, sent)
}
