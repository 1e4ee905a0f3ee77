//! The stage: the compiled hot-path code of an app, run over a batch, and the
//! [`StageIo`] through which it hands each packet on.
//!
//! A stage sees one batch that arrived at one of its entries and disposes of
//! every packet in it: `send` by an exit, `tx` to a switch port, or `drop` for
//! a reason. The executor has already resolved each exit to the frame queue of
//! the next vertex, so `send` is an index and a push; hop limit, trace and
//! counting happen here so that no app can forget them.

use crate::batch::{Batch, Frame};
use crate::contract::{DropId, EntryId, ExitId};
use crate::counters::{FrameworkDrop, VertexCounters, WorkerCounters};
use crate::packet::{Meta, Packet, PacketPool};
use crate::rcu::RcuReader;
use crate::trace::{TraceEvent, TraceRing};

/// The hot-path code of one vertex, one instance per worker.
pub trait Stage: Send {
    /// Processes `batch`, which arrived at `entry`. Must leave the batch
    /// empty: every packet is sent, transmitted or dropped through `io`.
    fn process(&mut self, entry: EntryId, batch: &mut Batch, io: &mut StageIo<'_>);
}

/// Where an exit leads, resolved by the compiler.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// The frame queue of another vertex's entry.
    Queue(u16),
    /// Not wired in the layout: packets are dropped and counted.
    Unwired,
}

/// A stage's view of the executor while it processes one batch.
#[derive(Debug)]
pub struct StageIo<'a> {
    pub(crate) frames: &'a mut [Frame],
    pub(crate) targets: &'a [Target],
    pub(crate) vc: &'a VertexCounters,
    pub(crate) wc: &'a WorkerCounters,
    pub(crate) tx: &'a mut [Batch],
    pub(crate) pool: &'a mut PacketPool,
    pub(crate) trace: &'a mut TraceRing,
    pub(crate) rcu: &'a RcuReader,
    pub(crate) vertex: u16,
    pub(crate) entry: EntryId,
    pub(crate) hop_limit: u8,
    pub(crate) now: u64,
}

impl<'a> StageIo<'a> {
    /// The worker's RCU reader: pass it to `RcuCell::read` to get this
    /// batch's snapshot of a table.
    #[inline]
    pub fn rcu(&self) -> &'a RcuReader {
        self.rcu
    }

    /// TSC at the start of this batch (for rate limits and ageing).
    #[inline]
    pub fn now(&self) -> u64 {
        self.now
    }

    /// Hands `pkt` on by `exit`.
    ///
    /// The common case (a wired exit, an untraced packet under the hop
    /// limit, room in the next queue) is inlined into the stage; everything
    /// else (traces, drops, unwired exits) is out of line.
    #[inline(always)]
    pub fn send(&mut self, exit: ExitId, mut pkt: Packet) {
        if let Some(&Target::Queue(q)) = self.targets.get(exit.0 as usize) {
            let m = pkt.meta_mut();
            if m.hops < self.hop_limit && m.flags & Meta::TRACE == 0 {
                if let Some(f) = self.frames.get_mut(q as usize) {
                    m.hops += 1;
                    if let Err(p) = f.push(pkt) {
                        self.fw_drop(p, FrameworkDrop::FrameFull);
                    }
                    return;
                }
            }
        }
        self.send_slow(exit, pkt);
    }

    #[cold]
    #[inline(never)]
    fn send_slow(&mut self, exit: ExitId, mut pkt: Packet) {
        let x = exit.0 as usize;
        match self.targets.get(x) {
            Some(&Target::Queue(q)) => {
                let m = pkt.meta_mut();
                if m.hops >= self.hop_limit {
                    return self.fw_drop(pkt, FrameworkDrop::HopLimit);
                }
                m.hops += 1;
                if pkt.traced() {
                    self.trace
                        .record(&pkt, self.vertex, self.entry, TraceEvent::Exit(exit));
                }
                match self.frames.get_mut(q as usize) {
                    Some(f) => {
                        if let Err(p) = f.push(pkt) {
                            self.fw_drop(p, FrameworkDrop::FrameFull);
                        }
                    }
                    None => self.fw_drop(pkt, FrameworkDrop::FrameFull),
                }
            }
            Some(Target::Unwired) => {
                if let Some(c) = self.vc.unwired.get(x) {
                    c.add(1);
                }
                if pkt.traced() {
                    self.trace
                        .record(&pkt, self.vertex, self.entry, TraceEvent::Unwired(exit));
                }
                self.pool.free(pkt);
            }
            None => self.fw_drop(pkt, FrameworkDrop::BadExit),
        }
    }

    /// Queues `pkt` for transmission on switch port `port`.
    #[inline(always)]
    pub fn tx(&mut self, port: u16, pkt: Packet) {
        if !pkt.traced() {
            if let Some(b) = self.tx.get_mut(port as usize) {
                if let Err(p) = b.push(pkt) {
                    self.fw_drop(p, FrameworkDrop::TxFull);
                }
                return;
            }
        }
        self.tx_slow(port, pkt);
    }

    #[cold]
    #[inline(never)]
    fn tx_slow(&mut self, port: u16, pkt: Packet) {
        if pkt.traced() {
            self.trace
                .record(&pkt, self.vertex, self.entry, TraceEvent::Tx(port));
        }
        match self.tx.get_mut(port as usize) {
            Some(b) => {
                if let Err(p) = b.push(pkt) {
                    self.fw_drop(p, FrameworkDrop::TxFull);
                }
            }
            None => self.fw_drop(pkt, FrameworkDrop::BadTxPort),
        }
    }

    /// Drops `pkt` for one of the app's reasons.
    #[inline]
    pub fn drop(&mut self, pkt: Packet, reason: DropId) {
        if let Some(c) = self.vc.drops.get(reason.0 as usize) {
            c.add(1);
        }
        if pkt.traced() {
            self.trace
                .record(&pkt, self.vertex, self.entry, TraceEvent::Drop(reason));
        }
        self.pool.free(pkt);
    }

    /// Adds an app note to a traced packet's trace (no-op otherwise).
    #[inline(always)]
    pub fn note(&mut self, pkt: &Packet, what: &'static str, value: u64) {
        if pkt.traced() {
            self.note_traced(pkt, what, value);
        }
    }

    #[cold]
    #[inline(never)]
    fn note_traced(&mut self, pkt: &Packet, what: &'static str, value: u64) {
        self.trace
            .record(pkt, self.vertex, self.entry, TraceEvent::Note(what, value));
    }

    /// A fresh packet buffer for a reply; `None` (counted as `no-buffer`)
    /// when the pool is empty.
    #[inline]
    pub fn alloc(&mut self) -> Option<Packet> {
        let p = self.pool.alloc();
        if p.is_none() {
            self.wc.framework_drop(FrameworkDrop::NoBuffer);
        }
        p
    }

    /// A copy of `pkt` (frame, metadata, registers) for replication; `None`
    /// (counted as `no-buffer`) when the pool is empty.
    #[inline]
    pub fn clone_packet(&mut self, pkt: &Packet) -> Option<Packet> {
        let mut p = self.alloc()?;
        pkt.copy_into(&mut p);
        Some(p)
    }

    #[cold]
    #[inline(never)]
    fn fw_drop(&mut self, pkt: Packet, d: FrameworkDrop) {
        self.wc.framework_drop(d);
        if pkt.traced() {
            self.trace
                .record(&pkt, self.vertex, self.entry, TraceEvent::FrameworkDrop(d));
        }
        self.pool.free(pkt);
    }
}
