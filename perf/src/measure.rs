//! One measured run: start workers on generator ports, warm up, read the
//! counters before and after a fixed window, stop.
//!
//! The main thread only sleeps during the window, and the snapshots it takes
//! are written into vectors allocated beforehand, so every allocation counted
//! in the window was made by a worker.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{anyhow, Result};
use df_dp::counters::{FrameworkDrop, WorkerCounters};
use df_dp::port::gen::{GenPort, SinkPort};
use df_dp::port::Port;
use df_dp::sys::{allocations, tsc_hz};
use df_dp::worker::{WorkerEnv, WorkerReport, WorkerSpec, Workers};
use df_dp::{ExecConfig, Graph};

use crate::overlay::{self, Kind, Split};
use crate::pipeline::{self, Gated, SINK_PORT, UPLINK_PORT, VM_PORT};
use crate::scenario::{build_graph, port_frames, Params, Scenario};

/// Cost of one stage over the window.
#[derive(Debug, Clone, serde::Serialize)]
pub struct StageCost {
    /// Vertex name.
    pub vertex: String,
    /// Packets it handled.
    pub packets: u64,
    /// Mean TSC cycles per packet inside the stage.
    pub cycles_per_packet: f64,
    /// Mean packets per stage call (the vector size).
    pub packets_per_call: f64,
}

/// A run's results.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Measurement {
    /// The parameters.
    pub params: Params,
    /// Packets transmitted in the window, all workers.
    pub tx_packets: u64,
    /// Packets received in the window, all workers.
    pub rx_packets: u64,
    /// Of those, packets forwarded whole-burst by port wires (their path
    /// known down to the transmit port, see df-dp's `exec::Wire`).
    pub wired_packets: u64,
    /// The window's length, seconds.
    pub seconds: f64,
    /// Transmit rate, million packets per second.
    pub mpps: f64,
    /// Busy-loop TSC cycles per transmitted packet, per worker (rx, graph, tx).
    pub cycles_per_packet: f64,
    /// Per-stage cost.
    pub stages: Vec<StageCost>,
    /// Drops in the window by name (`vertex.reason` or framework reason).
    pub drops: Vec<(String, u64)>,
    /// Heap allocations in the window.
    pub allocations: u64,
    /// TSC frequency used for conversions.
    pub tsc_hz: u64,
    /// Whether every worker was pinned to its core.
    pub pinned: bool,
    /// Trace of the first `--trace` packets (worker 0), one line per record.
    pub trace: Vec<String>,
    /// What the DPDK ports did (with `--ports-kind dpdk`).
    pub dpdk: Option<DpdkInfo>,
}

/// DPDK facts of a run over DPDK ports.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct DpdkInfo {
    /// The port specs, in switch port order.
    pub ports: Vec<String>,
    /// Whether EAL ran on hugepages.
    pub hugepages: bool,
    /// Whether workers registered with EAL (lcore cache on).
    pub lcore_registered: bool,
    /// The rx queue assignment table.
    pub rxq_table: String,
    /// Mbufs still out of the mempools after teardown (should be 0).
    pub mbufs_leaked: u64,
    /// Each port's driver counters after the run: (spec, rx, tx, rx dropped).
    pub port_stats: Vec<(String, u64, u64, u64)>,
}

#[derive(Clone, Default)]
struct Snap {
    rx: u64,
    wired: u64,
    tx: u64,
    busy: u64,
    vx: Vec<(u64, u64, u64)>,
    drops: Vec<u64>,
}

fn snap(cs: &[Arc<WorkerCounters>], s: &mut Snap) {
    s.rx = 0;
    s.wired = 0;
    s.tx = 0;
    s.busy = 0;
    s.vx.iter_mut().for_each(|v| *v = (0, 0, 0));
    s.drops.iter_mut().for_each(|d| *d = 0);
    for c in cs {
        s.rx += c.rx.get();
        s.wired += c.wired.get();
        s.tx += c.tx.get();
        s.busy += c.busy_cycles.get();
        let mut d = 0;
        for (i, v) in c.vertices.iter().enumerate() {
            s.vx[i].0 += v.packets.get();
            s.vx[i].1 += v.cycles.get();
            s.vx[i].2 += v.calls.get();
            for x in v.drops.iter().chain(v.unwired.iter()) {
                s.drops[d] += x.get();
                d += 1;
            }
        }
        for f in FrameworkDrop::ALL {
            s.drops[d] += c.framework_drops(f);
            d += 1;
        }
    }
}

/// Runs one benchmark.
///
/// # Errors
/// Bad parameters, a graph that does not compile, or a worker that cannot start.
pub fn run(p: &Params) -> Result<Measurement> {
    if p.workers == 0 {
        return Err(anyhow!("--workers must be at least 1"));
    }
    if p.scenario == Scenario::Pipeline {
        return run_pipeline(p);
    }
    if let Some(kind) = p.overlay_kind() {
        return run_overlay(p, kind);
    }
    let graph = build_graph(p)?;
    let specs = (0..p.workers)
        .map(|w| {
            let ports: Vec<(u16, Box<dyn Port>)> = (0..p.ports)
                .map(|i| {
                    let g = GenPort::new(&format!("gen{i}q{w}"), &port_frames(p, i), None);
                    (i, Box::new(g) as Box<dyn Port>)
                })
                .collect();
            WorkerSpec {
                core: (!p.cores.is_empty()).then(|| p.cores[w % p.cores.len()]),
                ports,
                rx: (0..p.ports).collect(),
                bindings: Vec::new(),
            }
        })
        .map(|s| (s, WorkerEnv::default()))
        .collect();
    let (m, _reports) = measure(p, &graph, specs)?;
    Ok(m)
}

/// The pipeline scenario over in-memory ports: switch port 0 (the VM)
/// replays the frames of `mkpcap_flows.py`, port 1 sinks, port 2 (the
/// uplink) replays every flow's reply during the middle of the warm-up in
/// the `est` modes.
fn run_pipeline(p: &Params) -> Result<Measurement> {
    let mut p = p.clone();
    p.ports = pipeline::PORTS;
    let mode = p.pipeline_mode;
    let graph = build_graph(&p)?;
    let macs = if mode.l3() { 1 } else { pipeline::L2_MACS };
    let fwd = pipeline::flow_frames(p.flows, macs, false);
    let replies = pipeline::flow_frames(p.flows, pipeline::L2_MACS, true);
    let (from, until) = pipeline::reply_window(p.warmup);
    let specs = (0..p.workers)
        .map(|w| {
            let ports: Vec<(u16, Box<dyn Port>)> = vec![
                (
                    VM_PORT,
                    Box::new(GenPort::new(&format!("vm-q{w}"), &fwd, None)),
                ),
                (SINK_PORT, Box::new(SinkPort::new(&format!("sink-q{w}")))),
                (
                    UPLINK_PORT,
                    Box::new(Gated::new(
                        GenPort::new(&format!("uplink-q{w}"), &replies, None),
                        from,
                        until,
                    )),
                ),
            ];
            let rx = if mode.est() {
                vec![VM_PORT, UPLINK_PORT]
            } else {
                vec![VM_PORT]
            };
            (
                WorkerSpec {
                    core: (!p.cores.is_empty()).then(|| p.cores[w % p.cores.len()]),
                    ports,
                    rx,
                    bindings: Vec::new(),
                },
                WorkerEnv::default(),
            )
        })
        .collect();
    let (m, _reports) = measure(&p, &graph, specs)?;
    Ok(m)
}

/// The overlay scenarios over in-memory ports: switch port 0 replays the
/// source frames (the VM's, or the encapsulated ones on the underlay in
/// `decap`, bound to `tunnel.in.decap`), port 1 sinks; in `nat` port 1 (the
/// uplink) also replays the gateway's ARP reply during the middle half of
/// the warm-up.
fn run_overlay(p: &Params, kind: Kind) -> Result<Measurement> {
    let mut p = p.clone();
    p.ports = overlay::PORTS;
    let graph = build_graph(&p)?;
    let frames = overlay::source_frames(kind, p.flows);
    let bindings = match kind {
        Kind::Decap(_) => vec![(overlay::SRC_PORT, overlay::decap_queue(&graph)?)],
        _ => Vec::new(),
    };
    let (from, until) = pipeline::reply_window(p.warmup);
    let specs = (0..p.workers)
        .map(|w| {
            let sink = SinkPort::new(&format!("sink-q{w}"));
            let sink: Box<dyn Port> = match kind {
                Kind::Nat(mode) => Box::new(Split::new(
                    Gated::new(
                        GenPort::new(&format!("arp-q{w}"), &[overlay::arp_reply(mode)], None),
                        from,
                        until,
                    ),
                    sink,
                )),
                _ => Box::new(sink),
            };
            let ports: Vec<(u16, Box<dyn Port>)> = vec![
                (
                    overlay::SRC_PORT,
                    Box::new(GenPort::new(&format!("src-q{w}"), &frames, None)),
                ),
                (overlay::SINK_PORT, sink),
            ];
            let rx = match kind {
                Kind::Nat(_) => vec![overlay::SRC_PORT, overlay::SINK_PORT],
                _ => vec![overlay::SRC_PORT],
            };
            (
                WorkerSpec {
                    core: (!p.cores.is_empty()).then(|| p.cores[w % p.cores.len()]),
                    ports,
                    rx,
                    bindings: bindings.clone(),
                },
                WorkerEnv::default(),
            )
        })
        .collect();
    let (m, _reports) = measure(&p, &graph, specs)?;
    Ok(m)
}

/// Runs `specs` on the compiled `graph` for `p`'s warm-up and window and
/// measures; returns the workers' reports too (their ports, to close or read).
///
/// # Errors
/// A worker thread cannot start.
pub fn measure(
    p: &Params,
    graph: &Arc<Graph>,
    specs: Vec<(WorkerSpec, WorkerEnv)>,
) -> Result<(Measurement, Vec<WorkerReport>)> {
    let hz = tsc_hz();
    let cfg = ExecConfig {
        ports: p.ports as usize,
        pool_size: p.pool,
        hop_limit: 32,
        trace_capacity: 4096,
        trace_first: p.trace,
        shortcuts: p.shortcuts,
    };
    let mut names = Vec::new();
    for v in graph.vertices() {
        for d in v.contract.drops {
            names.push(format!("{}.{}", v.name, d.name));
        }
        for x in v.contract.exits {
            names.push(format!("{}.out.{} (unwired)", v.name, x.name));
        }
    }
    names.extend(FrameworkDrop::ALL.iter().map(|f| f.name().to_string()));
    let empty = Snap {
        vx: vec![(0, 0, 0); graph.vertices().len()],
        drops: vec![0; names.len()],
        ..Snap::default()
    };
    let (mut a, mut b) = (empty.clone(), empty);

    let workers = Workers::start_with(graph, specs, &cfg)?;
    std::thread::sleep(Duration::from_secs_f64(p.warmup));
    let counters = workers.counters().to_vec();
    snap(&counters, &mut a);
    let alloc0 = allocations();
    let t0 = Instant::now();
    std::thread::sleep(Duration::from_secs_f64(p.seconds));
    snap(&counters, &mut b);
    let alloc1 = allocations();
    let secs = t0.elapsed().as_secs_f64();
    let reports = workers.stop();
    let pinned = !p.cores.is_empty() && reports.iter().all(|r| r.pinned);
    let trace = reports
        .first()
        .map(|r| {
            // One packet's records together, in the order they happened.
            let mut recs = r.trace.clone();
            recs.sort_by_key(|t| t.trace_id);
            graph.describe_trace(&recs)
        })
        .unwrap_or_default();

    let tx = b.tx - a.tx;
    let stages = graph
        .vertices()
        .iter()
        .enumerate()
        .map(|(i, v)| {
            let pk = b.vx[i].0 - a.vx[i].0;
            let cy = b.vx[i].1 - a.vx[i].1;
            let calls = b.vx[i].2 - a.vx[i].2;
            StageCost {
                vertex: v.name.clone(),
                packets: pk,
                cycles_per_packet: cy as f64 / pk.max(1) as f64,
                packets_per_call: pk as f64 / calls.max(1) as f64,
            }
        })
        .collect();
    let drops = names
        .into_iter()
        .zip(a.drops.iter().zip(&b.drops))
        .filter_map(|(n, (x, y))| (y > x).then(|| (n, y - x)))
        .collect();
    let m = Measurement {
        params: p.clone(),
        tx_packets: tx,
        rx_packets: b.rx - a.rx,
        wired_packets: b.wired - a.wired,
        seconds: secs,
        mpps: tx as f64 / secs / 1e6,
        cycles_per_packet: (b.busy - a.busy) as f64 / tx.max(1) as f64,
        stages,
        drops,
        allocations: alloc1 - alloc0,
        tsc_hz: hz,
        pinned,
        trace,
        dpdk: None,
    };
    Ok((m, reports))
}
