//! The per-packet trace: a fixed ring of records, written only for packets
//! whose trace flag is set.
//!
//! The check is one flag test per packet hand-off; a traced packet writes one
//! small `Copy` record per decision (the stage, the entry, what happened, the
//! registers), so tracing never allocates or formats on the worker. Tools turn
//! records into text with the compiled graph's names (`Graph::describe_trace`).

use crate::contract::{DropId, EntryId, ExitId};
use crate::counters::FrameworkDrop;
use crate::packet::{Packet, REG_COUNT};

/// What a stage decided for a traced packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TraceEvent {
    /// Left by an exit that leads to another vertex's entry.
    Exit(ExitId),
    /// Left by an exit the layout leaves unwired: dropped.
    Unwired(ExitId),
    /// Dropped by the app for a reason of its contract.
    Drop(DropId),
    /// Dropped by the framework.
    FrameworkDrop(FrameworkDrop),
    /// Queued for transmission on a switch port.
    Tx(u16),
    /// A note the app adds (what it looked up, what it found).
    Note(&'static str, u64),
    /// Received on a switch port.
    Rx(u16),
}

/// One trace record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TraceRecord {
    /// The traced packet's id.
    pub trace_id: u32,
    /// Vertex index in the compiled graph (`u16::MAX` for port events).
    pub vertex: u16,
    /// The entry the packet came in by.
    pub entry: EntryId,
    /// What happened.
    pub event: TraceEvent,
    /// The registers at that moment.
    pub regs: [u32; REG_COUNT],
    /// Frame length at that moment.
    pub len: u16,
}

/// A ring of the last `capacity` trace records of one worker.
#[derive(Debug)]
pub struct TraceRing {
    buf: Vec<TraceRecord>,
    cap: usize,
    next: usize,
    written: u64,
}

impl TraceRing {
    /// A ring holding `capacity` records (at least 1).
    pub fn new(capacity: usize) -> TraceRing {
        let cap = capacity.max(1);
        TraceRing {
            buf: Vec::with_capacity(cap),
            cap,
            next: 0,
            written: 0,
        }
    }

    /// Records an event for `pkt` at `vertex`/`entry`.
    #[inline]
    pub fn record(&mut self, pkt: &Packet, vertex: u16, entry: EntryId, event: TraceEvent) {
        let rec = TraceRecord {
            trace_id: pkt.meta().trace_id,
            vertex,
            entry,
            event,
            regs: *pkt.regs(),
            len: pkt.len() as u16,
        };
        if self.buf.len() < self.cap {
            self.buf.push(rec);
        } else {
            self.buf[self.next] = rec;
        }
        self.next = (self.next + 1) % self.cap;
        self.written += 1;
    }

    /// Records ever written (including overwritten ones).
    pub fn written(&self) -> u64 {
        self.written
    }

    /// Appends to `out` the records written after the ring had written
    /// `before` records (at most the ring's capacity: older ones were
    /// overwritten), oldest first.
    pub fn append_since(&self, before: u64, out: &mut Vec<TraceRecord>) {
        let new = (self.written.saturating_sub(before) as usize).min(self.buf.len());
        let n = self.buf.len();
        for i in 0..new {
            // The newest record is at next - 1 (mod len).
            let idx = (self.next + n - new + i) % n;
            if let Some(r) = self.buf.get(idx) {
                out.push(*r);
            }
        }
    }

    /// The records still held, oldest first.
    pub fn records(&self) -> Vec<TraceRecord> {
        if self.buf.len() < self.cap {
            self.buf.clone()
        } else {
            let mut v = Vec::with_capacity(self.cap);
            v.extend_from_slice(&self.buf[self.next..]);
            v.extend_from_slice(&self.buf[..self.next]);
            v
        }
    }

    /// Forgets every record.
    pub fn clear(&mut self) {
        self.buf.clear();
        self.next = 0;
    }
}
