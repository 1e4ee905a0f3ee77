//! The vector executor: runs a received batch through the compiled graph to
//! completion, VPP-style.
//!
//! Each graph entry has a fixed-capacity frame queue. Received packets go to
//! their port's entry queue; then queues are drained in the compiler's order
//! (topological over non-progress edges), each in chunks of up to
//! [`BATCH_MAX`] packets handed to the vertex's stage, which scatters them into
//! later queues, the per-port transmit buffers, or drops. Progress edges lead
//! back to earlier queues, so the drain repeats until every queue is empty;
//! the per-packet hop limit bounds it. One executor belongs to one worker: it
//! owns that worker's stages, queues, packet pool, counters and trace ring.
//!
//! Costs are paid per vector, not per packet, where they can be: a worker
//! queues the bursts of all its ports ([`Executor::enqueue`]) before one
//! [`Executor::run`], so each stage call sees up to [`BATCH_MAX`] packets; a
//! whole queue moves to a stage by swapping storage (see `batch`); each
//! stage call reads the TSC once (its end is the next call's start); mbufs
//! dropped during a round are freed in bulk at [`Executor::flush`].

use std::sync::atomic::{AtomicU32, Ordering::Relaxed};
use std::sync::Arc;

use crate::batch::{Batch, Frame, BATCH_MAX, FRAME_CAP};
use crate::counters::{FrameworkDrop, VertexCounters, WorkerCounters};
use crate::graph::Graph;
use crate::packet::{Meta, PacketPool};
use crate::port::Port;
use crate::rcu::RcuReader;
use crate::stage::{Stage, StageIo};
use crate::sys::tsc;
use crate::trace::{TraceEvent, TraceRecord, TraceRing};

/// Sizes an executor is built with.
#[derive(Debug, Clone, Copy)]
pub struct ExecConfig {
    /// Number of switch port ids (transmit buffers).
    pub ports: usize,
    /// Packet buffers in this worker's pool.
    pub pool_size: usize,
    /// Most vertices a packet may cross.
    pub hop_limit: u8,
    /// Trace records kept.
    pub trace_capacity: usize,
    /// Trace the first this many packets received (0: none).
    pub trace_first: u32,
}

impl Default for ExecConfig {
    fn default() -> Self {
        ExecConfig {
            ports: 2,
            pool_size: 4096,
            hop_limit: 32,
            trace_capacity: 4096,
            trace_first: 0,
        }
    }
}

/// One worker's instance of the graph.
pub struct Executor {
    graph: Arc<Graph>,
    stages: Vec<Box<dyn Stage>>,
    frames: Vec<Frame>,
    scratch: Batch,
    tx: Vec<Batch>,
    pool: PacketPool,
    counters: Arc<WorkerCounters>,
    trace: TraceRing,
    trace_budget: Arc<AtomicU32>,
    next_trace_id: u32,
    hop_limit: u8,
    port_queue: Vec<u16>,
}

impl std::fmt::Debug for Executor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Executor")
            .field("stages", &self.stages.len())
            .field("frames", &self.frames.len())
            .field("ports", &self.tx.len())
            .finish()
    }
}

impl Executor {
    /// Builds stages, queues, buffers and counters for one worker, with a
    /// heap packet pool of `cfg.pool_size` buffers.
    pub fn new(graph: Arc<Graph>, cfg: &ExecConfig) -> Executor {
        let pool = PacketPool::new(cfg.pool_size);
        Executor::with_pool(graph, cfg, pool)
    }

    /// As [`Executor::new`], with the given packet pool (e.g. one drawing
    /// from a DPDK mempool); `cfg.pool_size` is not used.
    pub fn with_pool(graph: Arc<Graph>, cfg: &ExecConfig, pool: PacketPool) -> Executor {
        let stages = graph
            .vertices
            .iter()
            .map(|v| v.instance.new_stage())
            .collect();
        let frames = graph
            .queues
            .iter()
            .map(|_| Frame::with_capacity(FRAME_CAP))
            .collect();
        let vcs: Box<[VertexCounters]> = graph
            .vertices
            .iter()
            .map(|v| VertexCounters::new(v.contract.drops.len(), v.contract.exits.len()))
            .collect();
        let default_q = graph.default_port_queue();
        Executor {
            stages,
            frames,
            scratch: Batch::with_capacity(BATCH_MAX),
            tx: (0..cfg.ports)
                .map(|_| Batch::with_capacity(FRAME_CAP))
                .collect(),
            pool,
            counters: Arc::new(WorkerCounters::new(vcs)),
            trace: TraceRing::new(cfg.trace_capacity),
            trace_budget: Arc::new(AtomicU32::new(cfg.trace_first)),
            next_trace_id: 1,
            hop_limit: cfg.hop_limit,
            port_queue: vec![default_q; cfg.ports],
            graph,
        }
    }

    /// Delivers packets received on `port` to the queue `queue` (a port
    /// entry, see [`Graph::port_queue`]) instead of the default one.
    pub fn bind_port(&mut self, port: u16, queue: u16) {
        if let Some(q) = self.port_queue.get_mut(port as usize) {
            *q = queue;
        }
    }

    /// The compiled graph.
    pub fn graph(&self) -> &Arc<Graph> {
        &self.graph
    }

    /// This worker's packet pool.
    pub fn pool_mut(&mut self) -> &mut PacketPool {
        &mut self.pool
    }

    /// This worker's packet pool.
    pub fn pool(&self) -> &PacketPool {
        &self.pool
    }

    /// This worker's counters (shared with readers on other threads).
    pub fn counters(&self) -> &Arc<WorkerCounters> {
        &self.counters
    }

    /// The number of next received packets to trace (set from any thread).
    pub fn trace_budget(&self) -> &Arc<AtomicU32> {
        &self.trace_budget
    }

    /// Trace records written so far (including overwritten ones).
    pub fn trace_written(&self) -> u64 {
        self.trace.written()
    }

    /// Appends the trace records written after `before` to `out`.
    pub fn trace_since(&self, before: u64, out: &mut Vec<TraceRecord>) {
        self.trace.append_since(before, out);
    }

    /// Trace records held, oldest first.
    pub fn trace_records(&self) -> Vec<TraceRecord> {
        self.trace.records()
    }

    /// Forgets trace records.
    pub fn clear_trace(&mut self) {
        self.trace.clear();
    }

    /// Runs `rx` (received on `port`) through the graph to completion. The
    /// batch is left empty; output waits in the transmit buffers until
    /// [`Executor::flush`]. Same as [`Executor::enqueue`] then [`Executor::run`].
    pub fn process(&mut self, port: u16, rx: &mut Batch, rcu: &RcuReader) {
        self.enqueue(port, rx);
        self.run(rcu);
    }

    /// Queues `rx` (received on `port`) at its port entry without running
    /// the graph yet, so that bursts from several ports cross the graph
    /// together in one [`Executor::run`] (bigger vectors: the per-stage-call
    /// costs are shared by more packets). The batch is left empty.
    pub fn enqueue(&mut self, port: u16, rx: &mut Batch) {
        let q = self
            .port_queue
            .get(port as usize)
            .copied()
            .unwrap_or_else(|| self.graph.default_port_queue());
        self.counters.rx.add(rx.len() as u64);
        let mut budget = self.trace_budget.load(Relaxed);
        let budget0 = budget;
        for pkt in rx.as_mut_slice() {
            let m = pkt.meta_mut();
            m.in_port = port;
            m.hops = 0;
            if budget > 0 && m.flags & Meta::TRACE == 0 {
                m.flags |= Meta::TRACE;
                budget -= 1;
            }
            if m.flags & Meta::TRACE != 0 {
                if m.trace_id == 0 {
                    m.trace_id = self.next_trace_id;
                    self.next_trace_id = self.next_trace_id.wrapping_add(1).max(1);
                }
                self.trace.record(
                    pkt,
                    u16::MAX,
                    crate::contract::EntryId(0),
                    TraceEvent::Rx(port),
                );
            }
        }
        // The whole burst joins the port's queue (a storage swap when the
        // queue is empty, as it is unless a progress edge leads back to it).
        if let Some(f) = self.frames.get_mut(q as usize) {
            f.fill_from(rx);
        }
        for p in rx.drain() {
            self.counters.framework_drop(FrameworkDrop::FrameFull);
            self.pool.free(p);
        }
        if budget != budget0 {
            // Only this worker decrements; another thread may have raised it
            // meanwhile, in which case its new value wins.
            let _ = self
                .trace_budget
                .compare_exchange(budget0, budget, Relaxed, Relaxed);
        }
    }

    /// Runs every queued packet through the graph to completion; output
    /// waits in the transmit buffers until [`Executor::flush`].
    pub fn run(&mut self, rcu: &RcuReader) {
        let Executor {
            graph,
            stages,
            frames,
            scratch,
            tx,
            pool,
            counters,
            trace,
            hop_limit,
            ..
        } = self;
        // One TSC read per stage call: a stage's end is the next one's start.
        let mut t0 = tsc();
        loop {
            let mut worked = false;
            for qi in 0..frames.len() {
                while !frames[qi].is_empty() {
                    worked = true;
                    frames[qi].take_into(scratch);
                    let info = graph.queues[qi];
                    let vi = info.vertex as usize;
                    let vertex = &graph.vertices[vi];
                    let vc = &counters.vertices[vi];
                    let n = scratch.len() as u64;
                    let mut io = StageIo {
                        frames,
                        targets: &vertex.targets,
                        vc,
                        wc: counters,
                        tx,
                        pool,
                        trace,
                        rcu,
                        vertex: info.vertex,
                        entry: info.entry,
                        hop_limit: *hop_limit,
                        now: t0,
                    };
                    stages[vi].process(info.entry, scratch, &mut io);
                    let t1 = tsc();
                    vc.calls.add(1);
                    vc.packets.add(n);
                    vc.cycles.add(t1.wrapping_sub(t0));
                    t0 = t1;
                    for p in scratch.drain() {
                        counters.framework_drop(FrameworkDrop::StageLeftover);
                        pool.free(p);
                    }
                }
            }
            if !worked {
                break;
            }
        }
    }

    /// Sends every transmit buffer to its port. `ports[i]` is switch port
    /// `i` (this worker's queue pair on it), `None` where this worker has none.
    pub fn flush(&mut self, ports: &mut [Option<Box<dyn Port>>]) {
        for (i, b) in self.tx.iter_mut().enumerate() {
            if b.is_empty() {
                continue;
            }
            match ports.get_mut(i).and_then(|p| p.as_mut()) {
                Some(port) => {
                    let n = port.tx_burst(b, &mut self.pool);
                    self.counters.tx.add(n as u64);
                    for p in b.drain() {
                        self.counters.framework_drop(FrameworkDrop::TxRejected);
                        self.pool.free(p);
                    }
                }
                None => {
                    for p in b.drain() {
                        self.counters.framework_drop(FrameworkDrop::BadTxPort);
                        self.pool.free(p);
                    }
                }
            }
        }
        // Mbufs dropped during this round go back to DPDK in one call.
        self.pool.flush_frees();
    }
}
