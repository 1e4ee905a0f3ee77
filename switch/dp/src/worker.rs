//! Workers: pinned poll-mode threads, each running rx bursts on the ports
//! assigned to it, the graph over everything received, and tx bursts, in a
//! loop.
//!
//! A worker owns its executor and its queue pair on each port, so the loop
//! takes no lock. It passes an RCU quiescent point once per iteration (so
//! control can free old tables) and checks a stop flag (Relaxed) once per
//! iteration. Busy and idle cycles are counted per iteration (one TSC read
//! each: an iteration's end is the next one's start).
//!
//! Whenever control has published (`RcuDomain::changes` moved), the worker
//! has its executor re-derive what the stages know in advance
//! (`Executor::refresh`): a port whose whole path is known down to a
//! transmit port is a wire, and its bursts go straight to that port
//! (`Port::forward`) without the graph; other ports' packets enter the
//! graph past the stages their port's plan skips. While packets are being
//! traced, everything takes the graph.
//!
//! A worker's packet pool and per-thread setup can be chosen with
//! [`WorkerEnv`] ([`Workers::start_with`]): a DPDK worker draws mbufs from a
//! mempool and registers its thread with EAL so the mempool's per-lcore
//! cache serves it. [`RxqAssignment`] spreads (port, rx queue) pairs over
//! workers round-robin.

mod assign;

pub use assign::RxqAssignment;

use std::any::Any;
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::sync::Arc;
use std::thread::JoinHandle;

use crate::batch::{Batch, BURST};
use crate::counters::WorkerCounters;
use crate::exec::{ExecConfig, Executor, Wire};
use crate::graph::Graph;
use crate::packet::PacketPool;
use crate::port::Port;
use crate::sys::tsc;

/// What one worker runs.
pub struct WorkerSpec {
    /// The core to pin to (`None`: not pinned).
    pub core: Option<usize>,
    /// This worker's queue pair on each port it uses, by switch port id.
    pub ports: Vec<(u16, Box<dyn Port>)>,
    /// Ports it polls for received packets (by id); each port's rx queue
    /// belongs to exactly one worker.
    pub rx: Vec<u16>,
    /// Port id -> port entry queue, for ports not delivered to the default.
    pub bindings: Vec<(u16, u16)>,
}

impl std::fmt::Debug for WorkerSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WorkerSpec")
            .field("core", &self.core)
            .field(
                "ports",
                &self
                    .ports
                    .iter()
                    .map(|(i, p)| (*i, p.name().to_string()))
                    .collect::<Vec<_>>(),
            )
            .field("rx", &self.rx)
            .finish()
    }
}

/// Setup run first on a worker's thread (after pinning); what it returns is
/// kept alive until the thread's loop has ended and its executor is gone.
pub type ThreadInit = Box<dyn FnOnce() -> Box<dyn Any> + Send>;

/// What a worker needs besides its ports.
#[derive(Default)]
pub struct WorkerEnv {
    /// The worker's packet pool (`None`: a heap pool of
    /// `ExecConfig::pool_size` buffers).
    pub pool: Option<PacketPool>,
    /// Run on the worker thread before the loop; e.g. registering with
    /// DPDK's EAL, whose guard must be dropped on the same thread.
    pub thread_init: Option<ThreadInit>,
}

impl std::fmt::Debug for WorkerEnv {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WorkerEnv")
            .field("pool", &self.pool)
            .field("thread_init", &self.thread_init.is_some())
            .finish()
    }
}

/// What a worker hands back when it stops.
pub struct WorkerReport {
    /// Whether pinning to the requested core worked.
    pub pinned: bool,
    /// The ports, returned to the caller (to read stats, flush files).
    pub ports: Vec<(u16, Box<dyn Port>)>,
    /// The worker's packet pool at stop.
    pub pool_available: usize,
    /// Pool size.
    pub pool_capacity: usize,
    /// Allocs that found the pool empty.
    pub pool_exhausted: u64,
    /// The worker's trace records at stop, oldest first.
    pub trace: Vec<crate::trace::TraceRecord>,
}

impl std::fmt::Debug for WorkerReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WorkerReport")
            .field("pinned", &self.pinned)
            .field("pool_available", &self.pool_available)
            .finish()
    }
}

/// Live tracing of one worker: how many of the next received packets to
/// trace, and where the worker copies their records.
///
/// # Thread-safety
/// Control sets the budget (Relaxed store); the worker decrements it as it
/// marks packets. The worker appends records to the sink with `try_lock`
/// after a graph run that wrote trace records, so it never waits for
/// control; control drains the sink. The sink is bounded
/// ([`LIVE_TRACE_MAX`] records; older ones are dropped first).
#[derive(Debug, Clone)]
pub struct LiveTrace {
    budget: Arc<std::sync::atomic::AtomicU32>,
    sink: Arc<std::sync::Mutex<Vec<crate::trace::TraceRecord>>>,
}

/// Most records a live-trace sink keeps.
pub const LIVE_TRACE_MAX: usize = 4096;

impl LiveTrace {
    /// Traces the next `n` packets this worker receives.
    pub fn arm(&self, n: u32) {
        self.budget.store(n, Relaxed);
    }

    /// Takes the records gathered so far, oldest first.
    pub fn take(&self) -> Vec<crate::trace::TraceRecord> {
        match self.sink.lock() {
            Ok(mut s) => std::mem::take(&mut *s),
            Err(e) => std::mem::take(&mut *e.into_inner()),
        }
    }
}

/// Running workers.
#[derive(Debug)]
pub struct Workers {
    stop: Arc<AtomicBool>,
    handles: Vec<JoinHandle<WorkerReport>>,
    counters: Vec<Arc<WorkerCounters>>,
    traces: Vec<LiveTrace>,
}

impl Workers {
    /// Starts one thread per spec, each with a heap packet pool.
    ///
    /// # Errors
    /// A thread could not be spawned (the ones already started are stopped).
    pub fn start(
        graph: &Arc<Graph>,
        specs: Vec<WorkerSpec>,
        cfg: &ExecConfig,
    ) -> std::io::Result<Workers> {
        let specs = specs
            .into_iter()
            .map(|s| (s, WorkerEnv::default()))
            .collect();
        Workers::start_with(graph, specs, cfg)
    }

    /// Starts one thread per spec, each with its [`WorkerEnv`].
    ///
    /// # Errors
    /// A thread could not be spawned (the ones already started are stopped).
    pub fn start_with(
        graph: &Arc<Graph>,
        specs: Vec<(WorkerSpec, WorkerEnv)>,
        cfg: &ExecConfig,
    ) -> std::io::Result<Workers> {
        let stop = Arc::new(AtomicBool::new(false));
        let mut w = Workers {
            stop: stop.clone(),
            handles: Vec::new(),
            counters: Vec::new(),
            traces: Vec::new(),
        };
        for (i, (spec, env)) in specs.into_iter().enumerate() {
            let mut exec = match env.pool {
                Some(pool) => Executor::with_pool(graph.clone(), cfg, pool),
                None => Executor::new(graph.clone(), cfg),
            };
            let init = env.thread_init;
            for &(port, q) in &spec.bindings {
                exec.bind_port(port, q);
            }
            w.counters.push(exec.counters().clone());
            let live = LiveTrace {
                budget: exec.trace_budget().clone(),
                sink: Arc::new(std::sync::Mutex::new(Vec::with_capacity(LIVE_TRACE_MAX))),
            };
            w.traces.push(live.clone());
            let stop = stop.clone();
            let nports = cfg.ports;
            let h = std::thread::Builder::new()
                .name(format!("df-worker-{i}"))
                .spawn(move || run(exec, spec, init, nports, &stop, &live));
            match h {
                Ok(h) => w.handles.push(h),
                Err(e) => {
                    w.stop();
                    return Err(e);
                }
            }
        }
        Ok(w)
    }

    /// Each worker's counters.
    pub fn counters(&self) -> &[Arc<WorkerCounters>] {
        &self.counters
    }

    /// Each worker's live-trace handle.
    pub fn live_traces(&self) -> &[LiveTrace] {
        &self.traces
    }

    /// Stops every worker and returns their reports (a worker that panicked
    /// has none).
    pub fn stop(self) -> Vec<WorkerReport> {
        self.stop.store(true, Relaxed);
        self.handles
            .into_iter()
            .filter_map(|h| h.join().ok())
            .collect()
    }
}

/// Copies the records written since `before` into the live-trace sink,
/// unless control holds it right now (the worker never waits).
#[cold]
fn copy_trace(exec: &Executor, before: u64, live: &LiveTrace) {
    if let Ok(mut sink) = live.sink.try_lock() {
        let room = LIVE_TRACE_MAX.saturating_sub(sink.len());
        let start = sink.len();
        exec.trace_since(before, &mut sink);
        if sink.len() - start > room {
            let excess = sink.len() - LIVE_TRACE_MAX;
            sink.drain(..excess);
        }
    }
}

/// One wire burst from port `from` to port `to` (both present: the wire
/// was checked against this worker's ports); (received, sent).
#[inline]
fn forward(
    ports: &mut [Option<Box<dyn Port>>],
    from: u16,
    to: u16,
    scratch: &mut Batch,
    pool: &mut PacketPool,
) -> (usize, usize) {
    let (from, to) = (from as usize, to as usize);
    if from == to {
        return match ports.get_mut(from).and_then(Option::as_mut) {
            Some(p) => p.forward(None, scratch, pool),
            None => (0, 0),
        };
    }
    let (a, b) = if from < to {
        let (lo, hi) = ports.split_at_mut(to);
        (lo.get_mut(from), hi.first_mut())
    } else {
        let (lo, hi) = ports.split_at_mut(from);
        (hi.first_mut(), lo.get_mut(to))
    };
    match (a.and_then(Option::as_mut), b.and_then(Option::as_mut)) {
        (Some(a), Some(b)) => a.forward(Some(b.as_mut()), scratch, pool),
        _ => (0, 0),
    }
}

fn run(
    mut exec: Executor,
    spec: WorkerSpec,
    init: Option<ThreadInit>,
    nports: usize,
    stop: &AtomicBool,
    live: &LiveTrace,
) -> WorkerReport {
    let pinned = spec
        .core
        .is_some_and(|c| core_affinity::set_for_current(core_affinity::CoreId { id: c }));
    let guard = init.map(|f| f());
    let mut ports: Vec<Option<Box<dyn Port>>> = (0..nports).map(|_| None).collect();
    for (id, p) in spec.ports {
        if let Some(slot) = ports.get_mut(id as usize) {
            *slot = Some(p);
        }
    }
    let rx: Vec<u16> = spec
        .rx
        .into_iter()
        .filter(|&p| ports.get(p as usize).is_some_and(Option::is_some))
        .collect();
    let mut reader = exec.graph().rcu().register();
    let domain = exec.graph().rcu().clone();
    let mut batch = Batch::with_capacity(BURST);
    let mut scratch = Batch::with_capacity(crate::batch::BATCH_MAX);
    let counters = exec.counters().clone();
    // Each rx port's wire, derived again whenever control publishes.
    let mut wires: Vec<Option<Wire>> = vec![None; rx.len()];
    let mut wired_at = None;
    // One TSC read per iteration: an iteration's end is the next one's
    // start; its cycles count as busy if it received anything.
    let mut t0 = tsc();
    while !stop.load(Relaxed) {
        let changes = domain.changes();
        if wired_at != Some(changes) {
            exec.refresh(&reader);
            for (w, &p) in wires.iter_mut().zip(&rx) {
                *w = exec
                    .wire(p)
                    .filter(|w| ports.get(w.tx as usize).is_some_and(Option::is_some));
            }
            wired_at = Some(changes);
        }
        // Packets to trace take the graph, where the stages record them.
        let tracing = exec.trace_budget().load(Relaxed) != 0;
        let mut got = 0;
        let mut queued = 0;
        for (&p, wire) in rx.iter().zip(&wires) {
            if let (Some(w), false) = (wire, tracing) {
                let (n, sent) = forward(&mut ports, p, w.tx, &mut scratch, exec.pool_mut());
                if n > 0 {
                    got += n;
                    exec.count_wire(w, n, sent);
                }
                continue;
            }
            let Some(port) = ports[p as usize].as_mut() else {
                continue;
            };
            let n = port.rx_burst(exec.pool_mut(), &mut batch);
            if n > 0 {
                queued += n;
                exec.enqueue(p, &mut batch);
            }
        }
        // Every port's burst crosses the graph together: one vector per
        // stage call, one transmit burst per port.
        if queued > 0 {
            let traced = exec.trace_written();
            exec.run(&reader);
            exec.flush(&mut ports);
            if exec.trace_written() != traced {
                copy_trace(&exec, traced, live);
            }
        }
        got += queued;
        reader.quiescent();
        let t1 = tsc();
        let dt = t1.wrapping_sub(t0);
        t0 = t1;
        if got > 0 {
            counters.busy_cycles.add(dt);
        } else {
            counters.idle_cycles.add(dt);
        }
    }
    reader.offline();
    drop(reader);
    exec.pool_mut().flush_frees();
    let pool: &PacketPool = exec.pool();
    let report = WorkerReport {
        pinned,
        pool_available: pool.available(),
        pool_capacity: pool.capacity(),
        pool_exhausted: pool.exhausted(),
        trace: exec.trace_records(),
        ports: ports
            .into_iter()
            .enumerate()
            .filter_map(|(i, p)| p.map(|p| (i as u16, p)))
            .collect(),
    };
    // The executor (and its pool) goes before the thread setup's guard, so
    // its last frees still use this thread's registration.
    drop(exec);
    drop(guard);
    report
}
