//! Fixed-capacity, reused packet containers: the [`Batch`] a port fills and a
//! stage processes, and the [`Frame`] queue in front of each graph entry.
//!
//! Both are built once with their final capacity and never grow: a push into
//! a full one hands the packet back, so the caller counts the drop instead of
//! the container allocating (STYLE.md rule 5).
//!
//! Both keep their packets in a `Vec` whose real capacity is at least
//! [`FRAME_CAP`], whatever their logical capacity, so that the executor can
//! hand a whole queue to a stage (or a whole received burst to a queue) by
//! swapping storage, O(1), instead of moving packets one by one; no swap can
//! ever leave a container with less room than its logical capacity. A frame
//! is a `Vec` used from index 0, not a ring: its live packets stay in the
//! first cache lines of the buffer instead of wandering through all of it.

use crate::packet::Packet;

/// Packets received in one `rx_burst`.
pub const BURST: usize = 32;
/// Largest batch a stage is handed at once.
pub const BATCH_MAX: usize = 64;
/// Capacity of the frame queue in front of each graph entry.
pub const FRAME_CAP: usize = 1024;

/// Storage for `cap` packets: never less than [`FRAME_CAP`] (see the module doc).
fn storage(cap: usize) -> Vec<Packet> {
    Vec::with_capacity(cap.max(FRAME_CAP))
}

/// Up to `capacity` packets, processed together.
#[derive(Debug)]
pub struct Batch {
    pkts: Vec<Packet>,
    cap: usize,
}

impl Batch {
    /// Moves as many packets of `from` as there is room for to the back
    /// of this batch, in order (a storage swap when this one is empty and
    /// takes them all); returns how many moved.
    #[inline]
    pub fn append_from(&mut self, from: &mut Batch) -> usize {
        let n = self.room().min(from.len());
        if self.pkts.is_empty() && n == from.len() {
            std::mem::swap(&mut self.pkts, &mut from.pkts);
        } else {
            self.pkts.extend(from.pkts.drain(..n));
        }
        n
    }

    /// An empty batch that holds at most `capacity` packets.
    pub fn with_capacity(capacity: usize) -> Batch {
        Batch {
            pkts: storage(capacity),
            cap: capacity,
        }
    }

    /// An empty batch of [`BATCH_MAX`] packets.
    pub fn new() -> Batch {
        Batch::with_capacity(BATCH_MAX)
    }

    /// Adds a packet; hands it back if the batch is full.
    #[inline(always)]
    pub fn push(&mut self, pkt: Packet) -> Result<(), Packet> {
        if self.pkts.len() < self.cap {
            self.pkts.push(pkt);
            Ok(())
        } else {
            Err(pkt)
        }
    }

    /// Appends the packets of `iter`, at most [`Batch::room`] of them; the
    /// caller makes sure `iter` has no more (what is left is not consumed).
    /// Cheaper than a `push` loop for exact-size iterators: one capacity
    /// check, the length kept in a register.
    #[inline]
    pub fn extend_within<I: IntoIterator<Item = Packet>>(&mut self, iter: I) {
        let room = self.room();
        self.pkts.extend(iter.into_iter().take(room));
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
    q: Vec<Packet>,
    cap: usize,
}

impl Frame {
    /// An empty frame queue holding at most `capacity` packets.
    pub fn with_capacity(capacity: usize) -> Frame {
        Frame {
            q: storage(capacity),
            cap: capacity,
        }
    }

    /// Appends a packet; hands it back if the queue is full.
    #[inline(always)]
    pub fn push(&mut self, pkt: Packet) -> Result<(), Packet> {
        if self.q.len() < self.cap {
            self.q.push(pkt);
            Ok(())
        } else {
            Err(pkt)
        }
    }

    /// Moves up to `batch.room()` packets from the front into `batch`: by
    /// swapping storage when the batch is empty and takes them all.
    #[inline]
    pub fn take_into(&mut self, batch: &mut Batch) -> usize {
        let n = batch.room().min(self.q.len());
        if n == self.q.len() && batch.is_empty() {
            std::mem::swap(&mut self.q, &mut batch.pkts);
        } else {
            batch.pkts.extend(self.q.drain(..n));
        }
        n
    }

    /// Moves as many packets of `batch` as fit to the back of the queue (by
    /// swapping storage when the queue is empty), in order; the rest stay
    /// in `batch`. Returns how many moved.
    /// Moves as many packets as `to` has room for to its back, in order
    /// (a storage swap when `to` is empty and takes them all); returns how
    /// many moved.
    #[inline]
    pub fn move_into(&mut self, to: &mut Frame) -> usize {
        let n = (to.cap - to.q.len().min(to.cap)).min(self.q.len());
        if to.q.is_empty() && n == self.q.len() {
            std::mem::swap(&mut self.q, &mut to.q);
        } else {
            to.q.extend(self.q.drain(..n));
        }
        n
    }

    #[inline]
    pub fn fill_from(&mut self, batch: &mut Batch) -> usize {
        let n = (self.cap - self.q.len().min(self.cap)).min(batch.len());
        if self.q.is_empty() && n == batch.len() {
            std::mem::swap(&mut self.q, &mut batch.pkts);
        } else {
            self.q.extend(batch.pkts.drain(..n));
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
    pub fn drain(&mut self) -> std::vec::Drain<'_, Packet> {
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
        // All of it into an empty batch: storage swapped, order kept.
        let mut all = Batch::with_capacity(3);
        assert_eq!(f.take_into(&mut all), 2);
        let got: Vec<u8> = all.as_slice().iter().map(|p| p.data()[0]).collect();
        assert_eq!(got, vec![3, 4]);
        assert!(f.is_empty());
        // A batch into a frame: swap when empty, append (as far as it fits) otherwise.
        assert_eq!(f.fill_from(&mut all), 2);
        assert_eq!(f.fill_from(&mut b), 3);
        let mut small = Frame::with_capacity(1);
        let mut two = Batch::with_capacity(2);
        two.push(pool.alloc().unwrap()).unwrap();
        two.push(pool.alloc().unwrap()).unwrap();
        assert_eq!(small.fill_from(&mut two), 1);
        assert_eq!((small.len(), two.len()), (1, 1));
        let got: Vec<u8> = f.drain().map(|p| p.data()[0]).collect();
        assert_eq!(got, vec![3, 4, 0, 1, 2]);
    }
}
