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
///
/// # Thread-safety
/// `Send`, not `Sync`: owned by one worker at a time, which alone bursts on
/// its queues (taken exclusively from the [`super::EthPort`]).
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
        // Two passes: check and reset every mbuf (keeping the good ones at
        // the front of `bufs`), then append them to the batch in one go, so
        // the batch's length is not reloaded after each private-area write.
        let mut bytes = 0u64;
        let mut k = 0;
        for i in 0..n {
            let m = self.bufs[i];
            // SAFETY: rx_burst returned `m` to us: a live mbuf we now own;
            // `ours` is the queue's pool.
            if let Some(len) = unsafe { Mbuf::prepare_rx(m, ours) } {
                bytes += len as u64;
                self.bufs[k] = m;
                k += 1;
            }
        }
        batch.extend_within(self.bufs[..k].iter().map(|&m| {
            // SAFETY: m passed prepare_rx above and is wrapped once, here.
            Packet::from_mbuf(unsafe { Mbuf::from_prepared(m) })
        }));
        self.stats.rx_packets += k as u64;
        self.stats.rx_bytes += bytes;
        self.stats.rx_dropped += (n - k) as u64;
        k
    }

    /// A wire's burst (see `exec::Wire`): receives up to [`BATCH_MAX`] mbufs
    /// from the next of our rx queues and hands them, untouched, to `to`'s tx
    /// queue (`None`: our own); frees what the driver does not take. No
    /// packet is wrapped, checked or reset: the mbufs go from one driver to
    /// another (chained ones and foreign pools included) as testpmd's io
    /// forwarding moves them. Returns (received, sent).
    fn forward_raw(&mut self, to: Option<&mut DpdkQueue>) -> (usize, usize) {
        let nq = self.rxqs.len();
        if nq == 0 {
            return (0, 0);
        }
        let q = self.rxqs[self.next_rxq];
        self.next_rxq = if self.next_rxq + 1 == nq {
            0
        } else {
            self.next_rxq + 1
        };
        // SAFETY: the port is started (PortInner lives), rx queue `q` is
        // ours alone (taken in `new`), and bufs has room for BATCH_MAX.
        let n = unsafe {
            sys::df_eth_rx_burst(self.port.id, q, self.bufs.as_mut_ptr(), BATCH_MAX as u16)
        };
        let n = usize::from(n).min(BATCH_MAX);
        if n == 0 {
            return (0, 0);
        }
        let mut bytes = 0u64;
        for &m in &self.bufs[..n] {
            // SAFETY: rx_burst returned these live mbufs to us; a read of
            // the first header line, which the driver has just written.
            bytes += u64::from(unsafe { (*m).pkt_len });
        }
        let (id, txq, out) = match to {
            Some(t) => (t.port.id, t.txq, &mut t.stats),
            None => (self.port.id, self.txq, &mut self.stats),
        };
        // SAFETY: that port is started and its tx queue `txq` belongs to the
        // queue value we borrow mutably (taken in its `new`); bufs[..n] are
        // mbufs we own.
        let sent = unsafe { sys::df_eth_tx_burst(id, txq, self.bufs.as_mut_ptr(), n as u16) };
        let sent = usize::from(sent).min(n);
        let mut unsent_bytes = 0u64;
        for &m in &self.bufs[sent..n] {
            // SAFETY: not taken by the driver: still ours.
            unsent_bytes += u64::from(unsafe { (*m).pkt_len });
        }
        out.tx_packets += sent as u64;
        out.tx_bytes += bytes - unsent_bytes;
        if sent < n {
            // SAFETY: bufs[sent..n] are owned mbufs the driver refused; none
            // is used after this.
            unsafe {
                sys::rte_pktmbuf_free_bulk(self.bufs[sent..].as_mut_ptr(), (n - sent) as u32)
            };
        }
        self.stats.rx_packets += n as u64;
        self.stats.rx_bytes += bytes;
        (n, sent)
    }

    /// Offers up to [`BATCH_MAX`] packets from the front of `batch` to the
    /// driver; returns (offered, sent). Sent packets leave the batch.
    #[inline]
    fn tx_chunk(&mut self, batch: &mut Batch, pool: &mut PacketPool) -> (usize, usize) {
        let n = batch.len().min(BATCH_MAX);
        let mut k = 0;
        let mut bytes = 0u64;
        for p in &mut batch.as_mut_slice()[..n] {
            if !p.is_mbuf() && !self.copy_to_mbuf(p, pool) {
                break; // no mbuf free: this one and the rest stay unsent
            }
            let Some(m) = p.as_mbuf() else { break };
            bytes += m.len() as u64;
            self.bufs[k] = m.as_ptr();
            k += 1;
        }
        if k == 0 {
            return (0, 0);
        }
        // SAFETY: the port is started, tx queue `txq` is ours alone (taken
        // in `new`), and bufs[..k] are the mbufs of the batch's first k
        // packets, which own them.
        let sent = unsafe {
            sys::df_eth_tx_burst(self.port.id, self.txq, self.bufs.as_mut_ptr(), k as u16)
        };
        let sent = usize::from(sent).min(k);
        // The sent mbufs are the driver's now (it may have freed them
        // already): count bytes from the unsent ones, still ours.
        for p in &batch.as_slice()[sent..k] {
            bytes -= p.len() as u64;
        }
        for p in batch.drain_front(sent) {
            // Give up ownership without a free.
            if let Ok(m) = p.into_mbuf() {
                let _ = m.into_raw();
            }
        }
        self.stats.tx_packets += sent as u64;
        self.stats.tx_bytes += bytes;
        (k, sent)
    }

    /// Replaces heap packet `p` by a copy in an mbuf of this port's pool,
    /// freeing the heap buffer into `pool`; false if no mbuf is free.
    #[cold]
    fn copy_to_mbuf(&mut self, p: &mut Packet, pool: &mut PacketPool) -> bool {
        let Some(m) = self.port.pool.alloc() else {
            return false;
        };
        let mut mp = Packet::from_mbuf(m);
        p.copy_into(&mut mp);
        pool.free(std::mem::replace(p, mp));
        self.heap_copies += 1;
        true
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
        // In chunks of the pointer array's size, until the batch is empty or
        // the driver takes less than it is offered (its ring is full).
        let mut total = 0;
        while !batch.is_empty() {
            let (offered, sent) = self.tx_chunk(batch, pool);
            total += sent;
            if sent < offered || offered == 0 {
                break;
            }
        }
        total
    }

    fn stats(&self) -> PortStats {
        self.stats
    }

    #[inline]
    fn forward(
        &mut self,
        to: Option<&mut dyn Port>,
        scratch: &mut Batch,
        pool: &mut PacketPool,
    ) -> (usize, usize) {
        match to {
            None => self.forward_raw(None),
            Some(t) => match t.as_dpdk() {
                Some(d) => self.forward_raw(Some(d)),
                None => crate::port::forward_batch(self, Some(t), scratch, pool),
            },
        }
    }

    fn as_dpdk(&mut self) -> Option<&mut DpdkQueue> {
        Some(self)
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
