//! [`PacketPool`]: where a worker gets packet buffers and returns them.
//!
//! Why it is shaped so: the steady state must not allocate (STYLE.md rule
//! 5), so a heap pool is a free list filled once at start whose capacity
//! never changes. With the `dpdk` feature a pool may instead draw from a DPDK
//! mempool (`rte_pktmbuf_alloc`); mbufs returned to any pool, heap or DPDK,
//! are gathered in a fixed array and given back to their own mempools with
//! one `rte_pktmbuf_free_bulk` per flush (or when the array fills), so a
//! batch of drops costs one call, not one per packet.

use super::{Packet, Repr};

#[cfg(feature = "dpdk")]
use crate::dpdk::{FreeBulk, Mempool};
#[cfg(feature = "dpdk")]
use std::sync::Arc;

/// A per-worker source and sink of packet buffers.
///
/// A heap pool (`new`) hands out heap packets from a free list filled at
/// construction; a DPDK pool (`with_mempool`, feature `dpdk`) hands out
/// mbufs from its mempool, with their private area reset. Either accepts
/// both kinds back: a heap packet goes to the free list (or, when the list is
/// full, e.g. a DPDK pool's empty one, is released and counted in
/// [`PacketPool::overflow`]); an mbuf goes back to its own mempool in bulk.
/// A pool that runs dry returns `None` (the caller counts a drop).
#[derive(Debug)]
pub struct PacketPool {
    free: Vec<Packet>,
    capacity: usize,
    overflow: u64,
    exhausted: u64,
    #[cfg(feature = "dpdk")]
    mempool: Option<Arc<Mempool>>,
    #[cfg(feature = "dpdk")]
    pending: FreeBulk,
}

impl PacketPool {
    /// A heap pool holding `capacity` buffers (about 2.2 KiB each).
    pub fn new(capacity: usize) -> PacketPool {
        let mut free = Vec::with_capacity(capacity);
        free.extend((0..capacity).map(|_| Packet::new_buf()));
        PacketPool {
            free,
            capacity,
            overflow: 0,
            exhausted: 0,
            #[cfg(feature = "dpdk")]
            mempool: None,
            #[cfg(feature = "dpdk")]
            pending: FreeBulk::new(),
        }
    }

    /// A pool that allocates mbufs from `mempool` (no heap buffers).
    #[cfg(feature = "dpdk")]
    pub fn with_mempool(mempool: Arc<Mempool>) -> PacketPool {
        PacketPool {
            mempool: Some(mempool),
            ..PacketPool::new(0)
        }
    }

    /// The mempool this pool allocates from, if it is a DPDK pool.
    #[cfg(feature = "dpdk")]
    pub fn mempool(&self) -> Option<&Arc<Mempool>> {
        self.mempool.as_ref()
    }

    /// Takes a buffer, reset; `None` when the pool is empty.
    #[inline]
    pub fn alloc(&mut self) -> Option<Packet> {
        #[cfg(feature = "dpdk")]
        if let Some(mp) = &self.mempool {
            return match mp.alloc() {
                Some(m) => Some(Packet::from_mbuf(m)),
                None => {
                    self.exhausted += 1;
                    None
                }
            };
        }
        match self.free.pop() {
            Some(mut p) => {
                p.reset();
                Some(p)
            }
            None => {
                self.exhausted += 1;
                None
            }
        }
    }

    /// Returns a buffer: a heap packet to the free list, an mbuf to its
    /// mempool (at the next [`PacketPool::flush_frees`] at the latest).
    #[inline]
    pub fn free(&mut self, pkt: Packet) {
        match pkt.0 {
            Repr::Heap(_) => {
                if self.free.len() < self.capacity {
                    self.free.push(pkt);
                } else {
                    self.overflow += 1;
                }
            }
            #[cfg(feature = "dpdk")]
            Repr::Mbuf(m) => self.pending.push(m),
        }
    }

    /// Gives the mbufs freed so far back to their mempools (one bulk call).
    /// The executor calls it once per flush; a no-op for heap packets.
    #[inline]
    pub fn flush_frees(&mut self) {
        #[cfg(feature = "dpdk")]
        self.pending.flush();
    }

    /// Buffers currently free (for a DPDK pool: in its mempool, including
    /// other threads' caches).
    pub fn available(&self) -> usize {
        #[cfg(feature = "dpdk")]
        if let Some(mp) = &self.mempool {
            return mp.available() as usize;
        }
        self.free.len()
    }

    /// The pool's fixed size (for a DPDK pool: its mempool's).
    pub fn capacity(&self) -> usize {
        #[cfg(feature = "dpdk")]
        if let Some(mp) = &self.mempool {
            return mp.size() as usize;
        }
        self.capacity
    }

    /// How many `alloc` calls found the pool empty.
    pub fn exhausted(&self) -> u64 {
        self.exhausted
    }

    /// How many heap frees found the free list full (buffers released to the
    /// allocator).
    pub fn overflow(&self) -> u64 {
        self.overflow
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::packet::{Meta, RegSlot};

    #[test]
    fn pool_recycles_and_counts() {
        let mut pool = PacketPool::new(1);
        let mut p = pool.alloc().unwrap();
        p.set_reg(RegSlot::new(3).unwrap(), 7);
        p.meta_mut().flags = Meta::TRACE;
        assert!(pool.alloc().is_none());
        assert_eq!(pool.exhausted(), 1);
        pool.free(p);
        let p = pool.alloc().unwrap();
        assert_eq!(p.reg(RegSlot::new(3).unwrap()), 0, "alloc resets registers");
        assert!(!p.traced());
        let extra = Packet::new_buf();
        pool.free(p);
        pool.free(extra);
        pool.flush_frees();
        assert_eq!(pool.overflow(), 1);
        assert_eq!(pool.available(), 1);
    }
}
