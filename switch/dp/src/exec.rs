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
//!
//! What a stage does with every packet of a port, whatever its bytes, is
//! known before any packet arrives when the stage says so ([`Stage::route`];
//! e.g. `input` on a VM port: set the port's keys, leave by `vm-egress`).
//! After each publication the worker asks the stages along each port's path
//! ([`Executor::refresh`]) and keeps a [`Plan`] per port: the received burst
//! enters the first queue whose stage looks at the packet, with the skipped
//! stages' registers written as [`Executor::enqueue`] stamps each packet,
//! and the skipped stages counted as if they had run. A port whose whole
//! path is known down to a transmit port is a [`Wire`]: the worker forwards
//! its bursts port to port, the mbufs untouched (testpmd's io forwarding,
//! e.g. input -> xconnect -> output). Likewise a stage that passes every
//! packet of an entry the same way, whoever sent it, with no register
//! written (e.g. a firewall with no groups), is passed over: its queue moves
//! whole to the next one, counted, without a call. Traced packets take the
//! whole path.

use std::sync::atomic::{AtomicU32, Ordering::Relaxed};
use std::sync::Arc;

use crate::batch::{Batch, Frame, BATCH_MAX, FRAME_CAP};
use crate::counters::{FrameworkDrop, VertexCounters, WorkerCounters};
use crate::graph::Graph;
use crate::packet::{Meta, PacketPool, RegSlot, REG_COUNT};
use crate::port::Port;
use crate::rcu::RcuReader;
use crate::stage::{Known, Route, Stage, StageIo, Target};
use crate::sys::tsc;
use crate::trace::{TraceEvent, TraceRecord, TraceRing};

/// Sizes an executor is built with.
#[derive(Debug, Clone, Copy)]
pub struct ExecConfig {
    /// Number of switch port ids (transmit buffers).
    pub ports: usize,
    /// Packet buffers in this worker's pool.
    pub pool_size: usize,
    /// Most progress exits a packet may take (every loop a layout allows
    /// crosses one, so this bounds loops).
    pub hop_limit: u8,
    /// Trace records kept.
    pub trace_capacity: usize,
    /// Trace the first this many packets received (0: none).
    pub trace_first: u32,
    /// Let the worker use what the stages know in advance (port plans,
    /// wires, pass-overs; see the module doc). Off: every packet crosses
    /// every stage (for measuring the graph's own cost).
    pub shortcuts: bool,
}

impl Default for ExecConfig {
    fn default() -> Self {
        ExecConfig {
            ports: 2,
            pool_size: 4096,
            hop_limit: 32,
            trace_capacity: 4096,
            trace_first: 0,
            shortcuts: true,
        }
    }
}

/// Most vertices a [`Wire`] crosses.
pub const WIRE_MAX: usize = 8;

/// A port wire: every packet received on a port goes, unmodified, to one
/// transmit port across a fixed chain of vertices (see the module doc).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Wire {
    /// The switch port the packets are transmitted on.
    pub tx: u16,
    vertices: [u16; WIRE_MAX],
    len: u8,
}

impl Wire {
    /// The vertices crossed, in order (by vertex index).
    pub fn vertices(&self) -> &[u16] {
        &self.vertices[..self.len as usize]
    }
}

/// Where a port's packets go before any stage looks at them (see the
/// module doc).
#[derive(Debug, Clone, Copy)]
struct Plan {
    /// The queue they enter.
    queue: u16,
    /// The vertices they skip on the way, and the transmit port if the path
    /// ends there (a wire).
    skip: Wire,
    /// Whether the path ends in a transmit (`skip.tx` is meaningful).
    wired: bool,
    /// Registers the skipped stages write.
    writes: [(RegSlot, u32); REG_COUNT],
    nwrites: u8,
}

/// A queue whose stages pass every packet on unchanged (see the module doc).
#[derive(Debug, Clone, Copy)]
struct Pass {
    /// The queue the packets really go to.
    to: u16,
    /// The vertices passed over.
    skip: Wire,
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
    /// Per port; `None` until [`Executor::refresh`].
    plans: Vec<Option<Plan>>,
    /// Per queue; `None` until [`Executor::refresh`].
    passes: Vec<Option<Pass>>,
    /// A traced packet was queued since the last run: no pass-over.
    traced: bool,
    shortcuts: bool,
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
            plans: vec![None; cfg.ports],
            passes: vec![None; graph.queues.len()],
            traced: false,
            shortcuts: cfg.shortcuts,
            graph,
        }
    }

    /// Delivers packets received on `port` to the queue `queue` (a port
    /// entry, see [`Graph::port_queue`]) instead of the default one.
    pub fn bind_port(&mut self, port: u16, queue: u16) {
        if let Some(q) = self.port_queue.get_mut(port as usize) {
            *q = queue;
        }
        if let Some(p) = self.plans.get_mut(port as usize) {
            *p = None;
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

    /// Asks the stages along every port's path again where they send all of
    /// that port's packets (see the module doc). The worker calls it at
    /// start and whenever [`crate::RcuDomain::changes`] moved; an executor
    /// never refreshed runs every packet through every stage.
    pub fn refresh(&mut self, rcu: &RcuReader) {
        if !self.shortcuts {
            return;
        }
        for port in 0..self.plans.len() {
            let plan = self.plan(port as u16, rcu);
            self.plans[port] = plan;
        }
        for q in 0..self.passes.len() {
            let pass = self.pass(q as u16, rcu);
            self.passes[q] = pass;
        }
    }

    /// Queue `q`'s pass-over: follow the routes its stages take for any
    /// packet, writing no register, at most [`WIRE_MAX`] vertices (a longer
    /// chain, e.g. a loop of such stages, gets none).
    fn pass(&self, q0: u16, rcu: &RcuReader) -> Option<Pass> {
        let mut q = q0;
        let mut skip = Wire {
            tx: 0,
            vertices: [0; WIRE_MAX],
            len: 0,
        };
        for i in 0..=WIRE_MAX {
            let info = *self.graph.queues.get(q as usize)?;
            let vi = info.vertex as usize;
            let mut known = Known::any();
            let next = match self.stages.get(vi)?.route(info.entry, &mut known, rcu) {
                Some(Route::Exit(x)) if known.writes().next().is_none() => {
                    match self.graph.vertices[vi].targets.get(x.0 as usize) {
                        Some(Target::Queue(n) | Target::Progress(n)) => Some(*n),
                        _ => None,
                    }
                }
                _ => None,
            };
            let Some(next) = next else {
                return (i > 0).then_some(Pass { to: q, skip });
            };
            if i == WIRE_MAX {
                return None;
            }
            skip.vertices[i] = info.vertex;
            skip.len += 1;
            q = next;
        }
        None
    }

    /// `port`'s plan: follow the routes from its entry while stages know
    /// them, at most [`WIRE_MAX`] vertices and the hop limit.
    fn plan(&self, port: u16, rcu: &RcuReader) -> Option<Plan> {
        let mut q = *self.port_queue.get(port as usize)?;
        let mut known = Known::new(port);
        let mut skip = Wire {
            tx: 0,
            vertices: [0; WIRE_MAX],
            len: 0,
        };
        let mut wired = false;
        let hops = WIRE_MAX.min(usize::from(self.hop_limit));
        for i in 0..hops {
            let info = *self.graph.queues.get(q as usize)?;
            let vi = info.vertex as usize;
            let mut next = known;
            let next_q = match self.stages.get(vi)?.route(info.entry, &mut next, rcu) {
                Some(Route::Tx(p)) if usize::from(p) < self.tx.len() => {
                    skip.tx = p;
                    wired = true;
                    None
                }
                Some(Route::Exit(x)) => match self.graph.vertices[vi].targets.get(x.0 as usize) {
                    Some(Target::Queue(n) | Target::Progress(n)) => Some(*n),
                    _ => break,
                },
                _ => break,
            };
            skip.vertices[i] = info.vertex;
            skip.len += 1;
            known = next;
            match next_q {
                Some(n) => q = n,
                None => break,
            }
        }
        let mut plan = Plan {
            queue: q,
            skip,
            wired,
            writes: [(RegSlot(0), 0); REG_COUNT],
            nwrites: 0,
        };
        for (slot, value) in known.writes() {
            plan.writes[usize::from(plan.nwrites)] = (slot, value);
            plan.nwrites += 1;
        }
        Some(plan)
    }

    /// The wire of packets received on `port`, if its whole path is known
    /// down to a transmit port (as of the last [`Executor::refresh`]).
    pub fn wire(&self, port: u16) -> Option<Wire> {
        let plan = self.plans.get(port as usize).copied().flatten()?;
        plan.wired.then_some(plan.skip)
    }

    /// Counts a burst that `wire` forwarded: `rx` packets received, `sent`
    /// of them accepted by the transmit port (the rest were freed and count
    /// as `tx-rejected`), as packets of every vertex on the wire.
    #[inline]
    pub fn count_wire(&self, wire: &Wire, rx: usize, sent: usize) {
        let c = &self.counters;
        c.rx.add(rx as u64);
        c.wired.add(rx as u64);
        c.tx.add(sent as u64);
        if sent < rx {
            c.framework[FrameworkDrop::TxRejected as usize].add((rx - sent) as u64);
        }
        for &v in wire.vertices() {
            if let Some(vc) = c.vertices.get(v as usize) {
                vc.calls.add(1);
                vc.packets.add(rx as u64);
            }
        }
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
        let mut budget = self.trace_budget.load(Relaxed);
        let budget0 = budget;
        // Tracing: every stage, so that each records the packet.
        let plan = match self.plans.get(port as usize) {
            Some(&Some(p)) if budget == 0 => Some(p),
            _ => None,
        };
        // A wire's plan entered here (the worker did not forward it: its
        // transmit port is not this worker's) runs its last stage.
        let skipped = plan.as_ref().map_or(&[][..], |p| {
            let v = p.skip.vertices();
            &v[..v.len() - usize::from(p.wired)]
        });
        let q = match &plan {
            Some(p) => p.queue,
            None => self
                .port_queue
                .get(port as usize)
                .copied()
                .unwrap_or_else(|| self.graph.default_port_queue()),
        };
        let writes = plan
            .as_ref()
            .map_or(&[][..], |p| &p.writes[..usize::from(p.nwrites)]);
        self.counters.rx.add(rx.len() as u64);
        let mut traced = false;
        for pkt in rx.as_mut_slice() {
            let m = pkt.meta_mut();
            m.in_port = port;
            m.hops = 0;
            if budget > 0 && m.flags & Meta::TRACE == 0 {
                m.flags |= Meta::TRACE;
                budget -= 1;
            }
            traced |= m.flags & Meta::TRACE != 0;
            for &(slot, value) in writes {
                pkt.set_reg(slot, value);
            }
        }
        let q = if traced {
            self.traced = true;
            self.trace_rx(port, rx);
            // Injected traced packets (budget 0): the whole path after all.
            self.port_queue
                .get(port as usize)
                .copied()
                .unwrap_or_else(|| self.graph.default_port_queue())
        } else {
            {
                let n = rx.len() as u64;
                for &v in skipped {
                    if let Some(vc) = self.counters.vertices.get(usize::from(v)) {
                        vc.calls.add(1);
                        vc.packets.add(n);
                    }
                }
            }
            q
        };
        // The whole burst joins the queue (a storage swap when the queue is
        // empty, as it is unless a progress edge leads back to it).
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

    /// Gives traced packets their ids and records their arrival.
    #[cold]
    fn trace_rx(&mut self, port: u16, rx: &mut Batch) {
        for pkt in rx.as_mut_slice() {
            if !pkt.traced() {
                continue;
            }
            let m = pkt.meta_mut();
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
            passes,
            traced,
            ..
        } = self;
        let tracing = *traced;
        let passes: &[Option<Pass>] = if tracing { &[] } else { passes };
        *traced = false;
        // One TSC read per stage call: a stage's end is the next one's start.
        let mut t0 = tsc();
        loop {
            let mut worked = false;
            for qi in 0..frames.len() {
                if let Some(Some(p)) = passes.get(qi) {
                    if !frames[qi].is_empty() {
                        worked = true;
                        pass_over(frames, qi, p, counters, pool);
                    }
                    continue;
                }
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
                        tracing,
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

/// Moves queue `qi` whole to where its pass-over leads, counting the
/// vertices passed over; what does not fit there is dropped (frame-full).
#[inline]
fn pass_over(
    frames: &mut [Frame],
    qi: usize,
    p: &Pass,
    counters: &WorkerCounters,
    pool: &mut PacketPool,
) {
    let to = usize::from(p.to);
    let n = frames[qi].len() as u64;
    let moved = if qi < to {
        let (lo, hi) = frames.split_at_mut(to);
        lo[qi].move_into(&mut hi[0])
    } else if qi > to {
        let (lo, hi) = frames.split_at_mut(qi);
        hi[0].move_into(&mut lo[to])
    } else {
        0
    };
    for &v in p.skip.vertices() {
        if let Some(vc) = counters.vertices.get(usize::from(v)) {
            vc.calls.add(1);
            vc.packets.add(n);
        }
    }
    if (moved as u64) < n {
        for pkt in frames[qi].drain() {
            counters.framework_drop(FrameworkDrop::FrameFull);
            pool.free(pkt);
        }
    }
}
