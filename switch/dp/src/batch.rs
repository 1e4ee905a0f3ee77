//! Fixed-capacity, reused packet containers: the [`Batch`] a port fills and a
//! stage processes, and the [`Frame`] queue in front of each graph entry.
//!
//! Both are built once with their final capacity and never grow: a push into
//! a full one hands the packet back, so the caller counts the drop instead of
//! the container allocating (STYLE.md rule 5).

use std::collections::VecDeque;

use crate::packet::Packet;

/// Packets received in one `rx_burst`.
pub const BURST: usize = 32;
/// Largest batch a stage is handed at once.
pub const BATCH_MAX: usize = 64;
/// Capacity of the frame queue in front of each graph entry.
pub const FRAME_CAP: usize = 1024;

/// Up to `capacity` packets, processed together.
#[derive(Debug)]
pub struct Batch {
    pkts: Vec<Packet>,
    cap: usize,
}

impl Batch {
    /// An empty batch that holds at most `capacity` packets.
    pub fn with_capacity(capacity: usize) -> Batch {
        Batch {
            pkts: Vec::with_capacity(capacity),
            cap: capacity,
        }
    }

    /// An empty batch of [`BATCH_MAX`] packets.
    pub fn new() -> Batch {
        Batch::with_capacity(BATCH_MAX)
    }

    /// Adds a packet; hands it back if the batch is full.
    #[inline]
    pub fn push(&mut self, pkt: Packet) -> Result<(), Packet> {
        if self.pkts.len() < self.cap {
            self.pkts.push(pkt);
            Ok(())
        } else {
            Err(pkt)
        }
    }

    /// Removes the last packet.
    #[inline]
    pub fn pop(&mut self) -> Option<Packet> {
        self.pkts.pop()
    }

    /// Packets held.
    #[inline]
    pub fn len(&self) -> usize {
        self.pkts.len()
    }

    /// True when empty.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.pkts.is_empty()
    }

    /// True when full.
    #[inline]
    pub fn is_full(&self) -> bool {
        self.pkts.len() >= self.cap
    }

    /// The fixed capacity.
    #[inline]
    pub fn capacity(&self) -> usize {
        self.cap
    }

    /// Room left.
    #[inline]
    pub fn room(&self) -> usize {
        self.cap - self.pkts.len()
    }

    /// The packets, in arrival order.
    #[inline]
    pub fn as_slice(&self) -> &[Packet] {
        &self.pkts
    }

    /// The packets, writable in place.
    #[inline]
    pub fn as_mut_slice(&mut self) -> &mut [Packet] {
        &mut self.pkts
    }

    /// Takes every packet out, in arrival order; the batch keeps its storage.
    #[inline]
    pub fn drain(&mut self) -> std::vec::Drain<'_, Packet> {
        self.pkts.drain(..)
    }

    /// Takes the first `n` packets out (fewer if the batch is shorter),
    /// keeping the rest in order.
    #[inline]
    pub fn drain_front(&mut self, n: usize) -> std::vec::Drain<'_, Packet> {
        let n = n.min(self.pkts.len());
        self.pkts.drain(..n)
    }

    /// Keeps the first `n` packets and drains the rest (e.g. the packets a
    /// port could not send).
    #[inline]
    pub fn drain_from(&mut self, n: usize) -> std::vec::Drain<'_, Packet> {
        let n = n.min(self.pkts.len());
        self.pkts.drain(n..)
    }
}

impl Default for Batch {
    fn default() -> Self {
        Batch::new()
    }
}

/// A FIFO of packets waiting at one graph entry, of fixed capacity.
#[derive(Debug)]
pub struct Frame {
    q: VecDeque<Packet>,
    cap: usize,
}

impl Frame {
    /// An empty frame queue holding at most `capacity` packets.
    pub fn with_capacity(capacity: usize) -> Frame {
        Frame {
            q: VecDeque::with_capacity(capacity),
            cap: capacity,
        }
    }

    /// Appends a packet; hands it back if the queue is full.
    #[inline]
    pub fn push(&mut self, pkt: Packet) -> Result<(), Packet> {
        if self.q.len() < self.cap {
            self.q.push_back(pkt);
            Ok(())
        } else {
            Err(pkt)
        }
    }

    /// Moves up to `batch.room()` packets from the front into `batch`.
    #[inline]
    pub fn take_into(&mut self, batch: &mut Batch) -> usize {
        let n = batch.room().min(self.q.len());
        for p in self.q.drain(..n) {
            // Cannot fail: n <= room.
            let _ = batch.push(p);
        }
        n
    }

    /// Packets waiting.
    #[inline]
    pub fn len(&self) -> usize {
        self.q.len()
    }

    /// True when nothing waits.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.q.is_empty()
    }

    /// Removes every packet (shutdown, reconfiguration).
    pub fn drain(&mut self) -> std::collections::vec_deque::Drain<'_, Packet> {
        self.q.drain(..)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::packet::PacketPool;

    #[test]
    fn batch_is_bounded_and_keeps_order() {
        let mut pool = PacketPool::new(4);
        let mut b = Batch::with_capacity(2);
        for i in 0..2u8 {
            let mut p = pool.alloc().unwrap();
            p.set_data(&[i]);
            b.push(p).unwrap();
        }
        let extra = pool.alloc().unwrap();
        assert!(b.push(extra).is_err());
        assert!(b.is_full());
        let got: Vec<u8> = b.drain().map(|p| p.data()[0]).collect();
        assert_eq!(got, vec![0, 1]);
        assert_eq!(b.capacity(), 2);
    }

    #[test]
    fn frame_fifo_and_take_into() {
        let mut pool = PacketPool::new(8);
        let mut f = Frame::with_capacity(5);
        for i in 0..5u8 {
            let mut p = pool.alloc().unwrap();
            p.set_data(&[i]);
            f.push(p).unwrap();
        }
        assert!(f.push(pool.alloc().unwrap()).is_err());
        let mut b = Batch::with_capacity(3);
        assert_eq!(f.take_into(&mut b), 3);
        let got: Vec<u8> = b.as_slice().iter().map(|p| p.data()[0]).collect();
        assert_eq!(got, vec![0, 1, 2]);
        assert_eq!(f.len(), 2);
    }
}
