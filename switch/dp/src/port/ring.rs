//! A pair of ports joined by lock-free rings, like two ends of a veth or
//! DPDK's `net_ring`: what one end transmits, the other receives, moving the
//! packet itself (no copy). Either end may live on any thread.
//!
//! Each end must be used by one thread at a time (it is the only producer
//! of its transmit ring). Packets allocated from one worker's pool may be freed into another's; the
//! pool counts such overflow (see `PacketPool::overflow`).

use std::sync::Arc;

use crossbeam_queue::ArrayQueue;

use super::{Port, PortStats};
use crate::batch::Batch;
use crate::packet::{Packet, PacketPool};

/// One end of a ring pair.
#[derive(Debug)]
pub struct RingPort {
    name: String,
    rx: Arc<ArrayQueue<Packet>>,
    tx: Arc<ArrayQueue<Packet>>,
    stats: PortStats,
}

impl RingPort {
    /// Two ends joined by rings of `capacity` packets each way.
    pub fn pair(name: &str, capacity: usize) -> (RingPort, RingPort) {
        let a = Arc::new(ArrayQueue::new(capacity.max(1)));
        let b = Arc::new(ArrayQueue::new(capacity.max(1)));
        (
            RingPort {
                name: format!("{name}.a"),
                rx: a.clone(),
                tx: b.clone(),
                stats: PortStats::default(),
            },
            RingPort {
                name: format!("{name}.b"),
                rx: b,
                tx: a,
                stats: PortStats::default(),
            },
        )
    }

    /// Queues a packet for this end to receive (for feeding a ring from a
    /// test or generator thread). Hands it back if the ring is full.
    pub fn inject(&self, pkt: Packet) -> Result<(), Packet> {
        self.rx.push(pkt)
    }
}

impl Port for RingPort {
    fn name(&self) -> &str {
        &self.name
    }

    fn rx_burst(&mut self, _pool: &mut PacketPool, batch: &mut Batch) -> usize {
        let mut n = 0;
        while !batch.is_full() {
            let Some(p) = self.rx.pop() else { break };
            self.stats.rx_bytes += p.len() as u64;
            let _ = batch.push(p);
            n += 1;
        }
        self.stats.rx_packets += n as u64;
        n
    }

    fn tx_burst(&mut self, batch: &mut Batch, pool: &mut PacketPool) -> usize {
        // This end is the ring's only producer, so the room seen here can
        // only grow while we push.
        let room = self.tx.capacity() - self.tx.len();
        let n = room.min(batch.len());
        let mut sent = 0;
        for p in batch.drain_front(n) {
            let len = p.len() as u64;
            match self.tx.push(p) {
                Ok(()) => {
                    sent += 1;
                    self.stats.tx_bytes += len;
                }
                // Unreachable with one producer; still never leak a buffer.
                Err(p) => pool.free(p),
            }
        }
        self.stats.tx_packets += sent as u64;
        sent
    }

    fn stats(&self) -> PortStats {
        self.stats
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_one_end_sends_the_other_receives_and_full_rings_hand_back() {
        let mut pool = PacketPool::new(8);
        let (mut a, mut b) = RingPort::pair("r", 2);
        let mut batch = Batch::with_capacity(4);
        for i in 0..3u8 {
            let mut p = pool.alloc().unwrap();
            p.set_data(&[i]);
            batch.push(p).unwrap();
        }
        assert_eq!(a.tx_burst(&mut batch, &mut pool), 2);
        assert_eq!(batch.len(), 1, "the unsent packet stays in the batch");
        assert_eq!(batch.as_slice()[0].data(), &[2]);
        let mut got = Batch::with_capacity(4);
        assert_eq!(b.rx_burst(&mut pool, &mut got), 2);
        let v: Vec<u8> = got.as_slice().iter().map(|p| p.data()[0]).collect();
        assert_eq!(v, vec![0, 1]);
        assert_eq!(b.stats().rx_packets, 2);
    }
}
