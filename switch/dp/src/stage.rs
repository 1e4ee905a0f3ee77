//! The stage: the compiled hot-path code of an app, run over a batch, and the
//! [`StageIo`] through which it hands each packet on.
//!
//! A stage sees one batch that arrived at one of its entries and disposes of
//! every packet in it: `send` by an exit, `tx` to a switch port, or `drop` for
//! a reason. The executor has already resolved each exit to the frame queue of
//! the next vertex, so `send` is an index and a push; hop limit, trace and
//! counting happen here so that no app can forget them. The hop limit
//! counts progress exits only (every loop a layout allows crosses one). A
//! stage that finds its whole batch going one way hands it on with
//! `send_all` / `tx_all` (a storage swap instead of a push per packet);
//! while packets are traced those go one by one, so each is recorded.

use crate::batch::{Batch, Frame};
use crate::contract::{DropId, EntryId, ExitId};
use crate::counters::{FrameworkDrop, VertexCounters, WorkerCounters};
use crate::packet::{Meta, Packet, PacketPool, RegSlot, REG_COUNT};
use crate::rcu::RcuReader;
use crate::trace::{TraceEvent, TraceRing};

/// The hot-path code of one vertex, one instance per worker.
pub trait Stage: Send {
    /// Processes `batch`, which arrived at `entry`. Must leave the batch
    /// empty: every packet is sent, transmitted or dropped through `io`.
    fn process(&mut self, entry: EntryId, batch: &mut Batch, io: &mut StageIo<'_>);

    /// Partial evaluation, for port wires: where every packet that arrives
    /// at `entry` with what `known` says of it (its receive port, the
    /// registers set so far) goes, when that does not depend on anything
    /// else. Return `Some` only if `process` would send every such packet by
    /// that exit, or transmit it on that port, **unmodified** (same bytes,
    /// no reply, no table or counter touched beyond packet counts); record
    /// the registers this stage would write in `known`. When a port's chain
    /// of routes ends in a transmit, the worker forwards that port's bursts
    /// whole, without calling `process` (see `exec::Wire`). Tables are read
    /// through `rcu`; the worker asks again after control publishes.
    ///
    /// The default, `None`: it depends on the packet.
    fn route(&self, _entry: EntryId, _known: &mut Known, _rcu: &RcuReader) -> Option<Route> {
        None
    }
}

/// Where every packet of one port goes from a stage entry (see [`Stage::route`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    /// Sent by this exit.
    Exit(ExitId),
    /// Transmitted on this switch port.
    Tx(u16),
}

/// What is known of all the packets of one port at a stage entry: the port
/// they arrived on and the registers set along the way (see [`Stage::route`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Known {
    in_port: Option<u16>,
    regs: [Option<u32>; REG_COUNT],
}

impl Known {
    /// Packets received on `in_port`, no register set yet.
    pub fn new(in_port: u16) -> Known {
        Known {
            in_port: Some(in_port),
            regs: [None; REG_COUNT],
        }
    }

    /// Any packet at all: nothing known (for a stage that passes every
    /// packet of an entry the same way, e.g. a firewall with no groups).
    pub fn any() -> Known {
        Known {
            in_port: None,
            regs: [None; REG_COUNT],
        }
    }

    /// The switch port the packets arrived on, if known.
    #[inline]
    pub fn in_port(&self) -> Option<u16> {
        self.in_port
    }

    /// A register's value, if an earlier stage set it to a known constant.
    #[inline]
    pub fn reg(&self, slot: RegSlot) -> Option<u32> {
        self.regs[slot.index()]
    }

    /// The registers set so far, with their values.
    pub fn writes(&self) -> impl Iterator<Item = (RegSlot, u32)> + '_ {
        self.regs
            .iter()
            .enumerate()
            .filter_map(|(i, v)| Some((RegSlot(i as u8), (*v)?)))
    }

    /// Records that this stage sets `slot` to `value` for every packet.
    #[inline]
    pub fn set_reg(&mut self, slot: RegSlot, value: u32) {
        self.regs[slot.index()] = Some(value);
    }
}

/// Where an exit leads, resolved by the compiler.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// The frame queue of another vertex's entry.
    Queue(u16),
    /// The same, by a progress exit: the packet's hop count goes up (every
    /// loop a layout allows crosses one, so the hop limit bounds loops).
    Progress(u16),
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
    /// A traced packet is in flight in this run.
    pub(crate) tracing: bool,
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
        match self.targets.get(exit.0 as usize) {
            Some(&Target::Queue(q)) if !pkt.traced() => {
                if let Some(f) = self.frames.get_mut(q as usize) {
                    if let Err(p) = f.push(pkt) {
                        self.fw_drop(p, FrameworkDrop::FrameFull);
                    }
                    return;
                }
            }
            Some(&Target::Progress(q)) => {
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
            _ => {}
        }
        self.send_slow(exit, pkt);
    }

    /// Whether packets are being traced in this run (then `send_all` and
    /// `tx_all` hand packets on one by one, so each is recorded).
    #[inline]
    pub fn tracing(&self) -> bool {
        self.tracing
    }

    /// Hands every packet of `batch` on by `exit`, in order, as `send` each
    /// would: a stage that found they all go the same way (the common case)
    /// moves them in one go (a storage swap when the next queue is empty).
    /// The batch is left empty.
    #[inline]
    pub fn send_all(&mut self, exit: ExitId, batch: &mut Batch) {
        if !self.tracing {
            if let Some(&Target::Queue(q)) = self.targets.get(exit.0 as usize) {
                if let Some(f) = self.frames.get_mut(q as usize) {
                    f.fill_from(batch);
                    for p in batch.drain() {
                        self.wc.framework_drop(FrameworkDrop::FrameFull);
                        self.pool.free(p);
                    }
                    return;
                }
            }
        }
        for p in batch.drain() {
            self.send(exit, p);
        }
    }

    /// Queues every packet of `batch` for transmission on `port`, in order,
    /// as `tx` each would. The batch is left empty.
    #[inline]
    pub fn tx_all(&mut self, port: u16, batch: &mut Batch) {
        if !self.tracing {
            if let Some(b) = self.tx.get_mut(port as usize) {
                b.append_from(batch);
                for p in batch.drain() {
                    self.wc.framework_drop(FrameworkDrop::TxFull);
                    self.pool.free(p);
                }
                return;
            }
        }
        for p in batch.drain() {
            self.tx(port, p);
        }
    }

    #[cold]
    #[inline(never)]
    fn send_slow(&mut self, exit: ExitId, mut pkt: Packet) {
        let x = exit.0 as usize;
        match self.targets.get(x) {
            Some(&(Target::Queue(q) | Target::Progress(q))) => {
                if let Some(Target::Progress(_)) = self.targets.get(x) {
                    let m = pkt.meta_mut();
                    if m.hops >= self.hop_limit {
                        return self.fw_drop(pkt, FrameworkDrop::HopLimit);
                    }
                    m.hops += 1;
                }
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
