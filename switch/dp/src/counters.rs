//! Counters a worker writes and anyone may read: per-vertex calls, packets,
//! cycles and drops by reason, and per-worker totals.
//!
//! # Thread-safety
//! Each counter block belongs to one worker, the only writer. It adds with a
//! Relaxed load and a Relaxed store (no read-modify-write, so no locked
//! instruction on the hot path); readers on other threads load Relaxed and may
//! see a value one batch old, never a torn one. Stages add to counters once per
//! batch where they can (STYLE.md rule 5).

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

/// A single-writer event counter.
#[derive(Debug, Default)]
pub struct Counter(AtomicU64);

impl Counter {
    /// Adds `n`. Only the owning worker calls this.
    #[inline(always)]
    pub fn add(&self, n: u64) {
        self.0.store(self.0.load(Relaxed).wrapping_add(n), Relaxed);
    }

    /// The current value.
    #[inline]
    pub fn get(&self) -> u64 {
        self.0.load(Relaxed)
    }
}

/// Counters of one vertex on one worker.
#[derive(Debug)]
pub struct VertexCounters {
    /// Stage invocations.
    pub calls: Counter,
    /// Packets handed to the stage.
    pub packets: Counter,
    /// TSC cycles spent in the stage.
    pub cycles: Counter,
    /// Drops by the app's own reasons (indexed by `DropId`).
    pub drops: Box<[Counter]>,
    /// Packets that left by an exit the layout leaves unwired (indexed by `ExitId`).
    pub unwired: Box<[Counter]>,
}

impl VertexCounters {
    pub(crate) fn new(drops: usize, exits: usize) -> VertexCounters {
        VertexCounters {
            calls: Counter::default(),
            packets: Counter::default(),
            cycles: Counter::default(),
            drops: (0..drops).map(|_| Counter::default()).collect(),
            unwired: (0..exits).map(|_| Counter::default()).collect(),
        }
    }
}

/// Drops the framework itself makes, not an app.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FrameworkDrop {
    /// The packet took more progress exits than the hop limit allows.
    HopLimit,
    /// The frame queue in front of a graph entry was full.
    FrameFull,
    /// The per-port transmit buffer was full.
    TxFull,
    /// The port did not accept the packet (its queue was full).
    TxRejected,
    /// The packet pool was empty when a stage asked for a buffer.
    NoBuffer,
    /// A stage sent to a switch port that does not exist.
    BadTxPort,
    /// A stage returned without disposing of a packet (an app bug).
    StageLeftover,
    /// A stage sent by an exit its contract does not declare (an app bug).
    BadExit,
}

impl FrameworkDrop {
    /// Every framework drop, in counter order.
    pub const ALL: [FrameworkDrop; 8] = [
        FrameworkDrop::HopLimit,
        FrameworkDrop::FrameFull,
        FrameworkDrop::TxFull,
        FrameworkDrop::TxRejected,
        FrameworkDrop::NoBuffer,
        FrameworkDrop::BadTxPort,
        FrameworkDrop::StageLeftover,
        FrameworkDrop::BadExit,
    ];

    /// Counter name.
    pub fn name(self) -> &'static str {
        match self {
            FrameworkDrop::HopLimit => "hop-limit",
            FrameworkDrop::FrameFull => "frame-full",
            FrameworkDrop::TxFull => "tx-buffer-full",
            FrameworkDrop::TxRejected => "tx-rejected",
            FrameworkDrop::NoBuffer => "no-buffer",
            FrameworkDrop::BadTxPort => "bad-tx-port",
            FrameworkDrop::StageLeftover => "stage-left-packet",
            FrameworkDrop::BadExit => "bad-exit",
        }
    }
}

/// Counters of one worker: per-vertex blocks plus totals.
#[derive(Debug)]
pub struct WorkerCounters {
    /// Indexed by vertex index of the compiled graph.
    pub vertices: Box<[VertexCounters]>,
    /// Indexed by `FrameworkDrop as usize`.
    pub framework: [Counter; 8],
    /// Packets received from ports.
    pub rx: Counter,
    /// Packets accepted by ports for transmission.
    pub tx: Counter,
    /// Packets received on wired ports (forwarded whole-burst, see
    /// `exec::Wire`); included in `rx`.
    pub wired: Counter,
    /// Loop iterations that found work / found none, and their cycles.
    pub busy_cycles: Counter,
    /// Cycles of loop iterations that received nothing.
    pub idle_cycles: Counter,
}

impl WorkerCounters {
    pub(crate) fn new(vertices: Box<[VertexCounters]>) -> WorkerCounters {
        WorkerCounters {
            vertices,
            framework: Default::default(),
            rx: Counter::default(),
            tx: Counter::default(),
            wired: Counter::default(),
            busy_cycles: Counter::default(),
            idle_cycles: Counter::default(),
        }
    }

    /// Adds one framework drop.
    #[inline]
    pub fn framework_drop(&self, d: FrameworkDrop) {
        self.framework[d as usize].add(1);
    }

    /// The framework drop count for `d`.
    pub fn framework_drops(&self, d: FrameworkDrop) -> u64 {
        self.framework[d as usize].get()
    }
}
