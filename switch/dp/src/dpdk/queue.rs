//! [`DpdkQueue`]: one worker's receive and transmit queues on an
//! [`super::EthPort`], as a df-dp [`Port`].
//!
//! Why it is shaped so: a poll-mode worker owns its queues outright, so
//! bursts need no lock; the queue ids are handed out once by the port, so no
//! two threads ever burst on one queue. Received mbufs become packets in
//! place (no copy; private area reset); transmitted packets hand their
//! mbufs to the driver, except heap packets (from a heap pool, e.g. a reply
//! built by an app), which are copied into an mbuf first and counted in
//! [`DpdkQueue::heap_copies`]. The pointer array a burst needs is a fixed
//! field, so the hot path never allocates.
//!
//! # Thread-safety
//! `Send`, not `Sync`: one worker uses it at a time. Its counters are plain
//! fields; read them through the `Port` trait after the worker stops (or
//! read the device's own counters with `EthPort::stats` at any time).

use std::sync::Arc;

use df_dpdk_sys as sys;

use super::ethdev::PortInner;
use super::{DpdkError, Mbuf};
use crate::batch::{Batch, BATCH_MAX};
use crate::packet::{Packet, PacketPool};
use crate::port::{Port, PortStats};

/// A worker's rx queues and tx queue on one port.
pub struct DpdkQueue {
    port: Arc<PortInner>,
    name: String,
    rxqs: Box<[u16]>,
    next_rxq: usize,
    txq: u16,
    /// Burst scratch: mbuf pointers between a driver call and the batch.
    /// Holds no ownership between calls.
    bufs: [*mut sys::rte_mbuf; BATCH_MAX],
    stats: PortStats,
    heap_copies: u64,
}

// SAFETY: `bufs` holds pointers only within one rx_burst/tx_burst call,
// never across calls, so it owns nothing when the queue moves; the queue ids
// are this value's alone (taken from the port), and DPDK allows a queue to
// be used from any thread as long as it is one thread at a time, which
// ownership of this value (not Sync) guarantees.
unsafe impl Send for DpdkQueue {}

impl std::fmt::Debug for DpdkQueue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DpdkQueue")
            .field("name", &self.name)
            .field("rxqs", &self.rxqs)
            .field("txq", &self.txq)
            .finish()
    }
}

impl DpdkQueue {
    pub(super) fn new(port: Arc<PortInner>, rxqs: &[u16], txq: u16) -> Result<Self, DpdkError> {
        {
            let mut taken = port.taken.lock().unwrap_or_else(|e| e.into_inner());
            let (rx, tx) = &mut *taken;
            let bad_rx = rxqs
                .iter()
                .find(|&&q| rx.get(usize::from(q)) != Some(&false));
            if let Some(q) = bad_rx {
                return Err(port.err(format!(
                    "rx queue {q} is already taken or past the {} configured",
                    port.rx_queues
                )));
            }
            let mut sorted = rxqs.to_vec();
            sorted.sort_unstable();
            sorted.dedup();
            if sorted.len() != rxqs.len() {
                return Err(port.err(format!("rx queues {rxqs:?} name one twice")));
            }
            if tx.get(usize::from(txq)) != Some(&false) {
                return Err(port.err(format!(
                    "tx queue {txq} is already taken or past the {} configured",
                    port.tx_queues
                )));
            }
            for &q in rxqs {
                rx[usize::from(q)] = true;
            }
            tx[usize::from(txq)] = true;
        }
        let name = if rxqs.is_empty() {
            format!("{}/tx{txq}", port.name)
        } else {
            let qs: Vec<String> = rxqs.iter().map(u16::to_string).collect();
            format!("{}/rx{}/tx{txq}", port.name, qs.join("+"))
        };
        Ok(DpdkQueue {
            port,
            name,
            rxqs: rxqs.into(),
            next_rxq: 0,
            txq,
            bufs: [std::ptr::null_mut(); BATCH_MAX],
            stats: PortStats::default(),
            heap_copies: 0,
        })
    }

    /// Heap packets copied into mbufs for transmission so far.
    pub fn heap_copies(&self) -> u64 {
        self.heap_copies
    }

    /// The DPDK port id.
    pub fn port_id(&self) -> u16 {
        self.port.id
    }

    /// Receives from one rx queue into `batch` (at most `room` packets).
    #[inline]
    fn rx_queue(&mut self, q: u16, room: usize, batch: &mut Batch) -> usize {
        let ours = self.port.pool.as_ptr().cast_const();
        // SAFETY: the port is started (PortInner lives), rx queue `q` is
        // ours alone (taken in `new`), and bufs has room for `room` <=
        // BATCH_MAX pointers.
        let n =
            unsafe { sys::df_eth_rx_burst(self.port.id, q, self.bufs.as_mut_ptr(), room as u16) };
        let n = usize::from(n).min(room);
        let mut bytes = 0u64;
        let mut bad = 0u64;
        for &m in &self.bufs[..n] {
            // SAFETY: rx_burst returned `m` to us: a live mbuf we now own,
            // passed on exactly once; `ours` is the queue's pool.
            match unsafe { Mbuf::from_rx(m, ours) } {
                Some(mb) => {
                    bytes += mb.len() as u64;
                    // Cannot fail: n <= room; if it did, the drop frees it.
                    let _ = batch.push(Packet::from_mbuf(mb));
                }
                None => bad += 1,
            }
        }
        self.stats.rx_packets += (n as u64) - bad;
        self.stats.rx_bytes += bytes;
        self.stats.rx_dropped += bad;
        n
    }
}

impl Port for DpdkQueue {
    fn name(&self) -> &str {
        &self.name
    }

    #[inline]
    fn rx_burst(&mut self, _pool: &mut PacketPool, batch: &mut Batch) -> usize {
        let mut room = batch.room().min(BATCH_MAX);
        let nq = self.rxqs.len();
        let mut got = 0;
        // Each of our rx queues at most once, starting after the last one
        // served, so several queues share the worker fairly.
        for _ in 0..nq {
            if room == 0 {
                break;
            }
            let q = self.rxqs[self.next_rxq];
            self.next_rxq = if self.next_rxq + 1 == nq {
                0
            } else {
                self.next_rxq + 1
            };
            let n = self.rx_queue(q, room, batch);
            got += n;
            room -= n;
        }
        got
    }

    #[inline]
    fn tx_burst(&mut self, batch: &mut Batch, pool: &mut PacketPool) -> usize {
        let n = batch.len().min(BATCH_MAX);
        let mut k = 0;
        for p in &mut batch.as_mut_slice()[..n] {
            let ptr = match p.as_mbuf() {
                Some(m) => m.as_ptr(),
                None => {
                    // A heap packet: copy it into an mbuf of this port's
                    // pool; it stays unsent (in the batch) if none is free.
                    let Some(m) = self.port.pool.alloc() else {
                        break;
                    };
                    let mut mp = Packet::from_mbuf(m);
                    p.copy_into(&mut mp);
                    let heap = std::mem::replace(p, mp);
                    pool.free(heap);
                    self.heap_copies += 1;
                    match p.as_mbuf() {
                        Some(m) => m.as_ptr(),
                        None => break,
                    }
                }
            };
            self.bufs[k] = ptr;
            k += 1;
        }
        if k == 0 {
            return 0;
        }
        // SAFETY: the port is started, tx queue `txq` is ours alone (taken
        // in `new`), and bufs[..k] are the mbufs of the batch's first k
        // packets, which own them.
        let sent = unsafe {
            sys::df_eth_tx_burst(self.port.id, self.txq, self.bufs.as_mut_ptr(), k as u16)
        };
        let sent = usize::from(sent).min(k);
        let mut bytes = 0u64;
        for p in batch.drain_front(sent) {
            bytes += p.len() as u64;
            // The driver owns these mbufs now: give up ownership without a free.
            if let Ok(m) = p.into_mbuf() {
                let _ = m.into_raw();
            }
        }
        self.stats.tx_packets += sent as u64;
        self.stats.tx_bytes += bytes;
        sent
    }

    fn stats(&self) -> PortStats {
        self.stats
    }
}

impl Drop for DpdkQueue {
    fn drop(&mut self) {
        let mut taken = self.port.taken.lock().unwrap_or_else(|e| e.into_inner());
        let (rx, tx) = &mut *taken;
        for &q in self.rxqs.iter() {
            if let Some(t) = rx.get_mut(usize::from(q)) {
                *t = false;
            }
        }
        if let Some(t) = tx.get_mut(usize::from(self.txq)) {
            *t = false;
        }
    }
}
