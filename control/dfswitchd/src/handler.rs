//! The management socket's answers: status, ports, workers, graph, tables,
//! counters, synthetic traces, and the daemon's own store for `dfctl`.
//!
//! A synthetic trace (`dfctl trace`) runs the frame through a private
//! executor of the live graph on the control thread: the same compiled
//! stages and the same live tables as the workers, but its own queues,
//! counters and buffers, and nothing is transmitted (as OVS's
//! `ofproto/trace`). The worker counters are not touched.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use df_controller::StatusHandle;
use df_dp::counters::{FrameworkDrop, WorkerCounters};
use df_dp::worker::RxqAssignment;
use df_dp::{Batch, ExecConfig, Executor, Graph};
use df_mgmt::views::{
    CountersView, GraphView, PortView, PortsView, RxQueueView, StatusView, TablesView, TraceView,
    VertexCountersView, VertexTablesView, WorkerView, WorkersView,
};
use df_mgmt::{ErrorKind, Failure, HandlerFuture, Request};
use df_store::Store;
use serde_json::Value;

use crate::ports::OpenPort;

/// What the handler reads.
#[derive(Debug)]
pub struct Shared {
    /// Chassis id.
    pub chassis: String,
    /// Store URL.
    pub store_url: String,
    /// The layout file, or what the built-in default is.
    pub layout: String,
    /// Start time.
    pub started: Instant,
    /// The live graph.
    pub graph: Arc<Graph>,
    /// The switch ports.
    pub ports: Vec<OpenPort>,
    /// Receive-queue assignment.
    pub assign: RxqAssignment,
    /// Worker cores.
    pub cores: Vec<usize>,
    /// Worker counters.
    pub counters: Vec<Arc<WorkerCounters>>,
    /// Worker live-trace handles.
    pub traces: Vec<df_dp::worker::LiveTrace>,
    /// The controller's status, once the store is open.
    pub controller: Mutex<Option<StatusHandle>>,
    /// The store, once open.
    pub store: Mutex<Option<Arc<dyn Store>>>,
}

/// The daemon's `df_mgmt::Handler`.
#[derive(Debug)]
pub struct Handler {
    shared: Arc<Shared>,
}

impl Handler {
    /// A handler over the daemon's shared state.
    pub fn new(shared: Arc<Shared>) -> Self {
        Handler { shared }
    }
}

fn to_value<T: serde::Serialize>(v: &T) -> Result<Value, Failure> {
    serde_json::to_value(v).map_err(|e| Failure::new(ErrorKind::Failed, e.to_string()))
}

impl Shared {
    fn port_views(&self) -> Vec<PortView> {
        self.ports
            .iter()
            .map(|p| {
                let (st, driver, link) = match &p.eth {
                    Some(e) => (e.stats(), e.driver().to_string(), Some(e.link().up)),
                    None => (df_dp::PortStats::default(), p.device.clone(), None),
                };
                PortView {
                    id: p.id,
                    name: p.name.clone(),
                    driver,
                    iface_id: p.iface_id.clone(),
                    physical_network: p.physical_network.clone(),
                    port_key: None,
                    mac: None,
                    link_up: link,
                    rx_packets: st.rx_packets,
                    rx_bytes: st.rx_bytes,
                    rx_dropped: st.rx_dropped,
                    tx_packets: st.tx_packets,
                    tx_bytes: st.tx_bytes,
                    tx_dropped: 0,
                }
            })
            .collect()
    }

    pub(crate) fn controller_status(&self) -> Value {
        let c = self.controller.lock().ok().and_then(|c| c.clone());
        match c {
            Some(h) => {
                let s = h.lock().map(|s| s.clone()).ok();
                serde_json::to_value(s).unwrap_or(Value::Null)
            }
            None => serde_json::json!({"connected": false, "note": "the store is not open yet"}),
        }
    }

    pub(crate) fn counters_view(&self) -> CountersView {
        let g = &self.graph;
        let mut vertices: Vec<VertexCountersView> = g
            .vertices()
            .iter()
            .map(|v| VertexCountersView {
                vertex: v.name.clone(),
                app_type: v.contract.type_name.to_string(),
                calls: 0,
                packets: 0,
                cycles: 0,
                drops: BTreeMap::new(),
                unwired: BTreeMap::new(),
            })
            .collect();
        let mut fw: BTreeMap<String, u64> = BTreeMap::new();
        let (mut rx, mut tx) = (0, 0);
        for c in &self.counters {
            rx += c.rx.get();
            tx += c.tx.get();
            for (i, vc) in c.vertices.iter().enumerate() {
                let (Some(out), Some(v)) = (vertices.get_mut(i), g.vertices().get(i)) else {
                    continue;
                };
                out.calls += vc.calls.get();
                out.packets += vc.packets.get();
                out.cycles += vc.cycles.get();
                for (d, spec) in vc.drops.iter().zip(v.contract.drops) {
                    *out.drops.entry(spec.name.to_string()).or_default() += d.get();
                }
                for (d, x) in vc.unwired.iter().zip(v.contract.exits) {
                    *out.unwired.entry(x.name.to_string()).or_default() += d.get();
                }
            }
            for d in FrameworkDrop::ALL {
                *fw.entry(d.name().to_string()).or_default() += c.framework_drops(d);
            }
        }
        CountersView {
            rx,
            tx,
            vertices,
            framework_drops: fw,
            ports: self.port_views(),
        }
    }

    /// Runs `frame` received on `port` through a private executor.
    fn trace(&self, port: &str, frame_hex: &str) -> Result<TraceView, Failure> {
        let Some(p) = self.ports.iter().find(|p| p.name == port) else {
            let names: Vec<&str> = self.ports.iter().map(|p| p.name.as_str()).collect();
            return Err(Failure::new(
                ErrorKind::NotFound,
                format!(
                    "no switch port named `{port}` (ports: {})",
                    names.join(", ")
                ),
            ));
        };
        let bytes = hex(frame_hex).ok_or_else(|| {
            Failure::new(
                ErrorKind::BadRequest,
                "frame_hex is not an even-length hex string",
            )
        })?;
        let mut ex = Executor::new(
            self.graph.clone(),
            &ExecConfig {
                ports: self.ports.len(),
                pool_size: 64,
                trace_capacity: 1024,
                ..ExecConfig::default()
            },
        );
        let mut pkt = ex
            .pool_mut()
            .alloc()
            .ok_or_else(|| Failure::new(ErrorKind::Failed, "no buffer"))?;
        if !pkt.set_data(&bytes) {
            return Err(Failure::new(ErrorKind::BadRequest, "frame too large"));
        }
        pkt.meta_mut().flags = df_dp::packet::Meta::TRACE;
        let mut b = Batch::new();
        let _ = b.push(pkt);
        // Online only while the frame runs, so control can keep publishing.
        let mut reader = self.graph.rcu().register();
        ex.process(p.id, &mut b, &reader);
        reader.quiescent();
        drop(reader);
        Ok(TraceView {
            lines: self.graph.describe_trace(&ex.trace_records()),
        })
    }
}

fn hex(s: &str) -> Option<Vec<u8>> {
    let s: String = s
        .chars()
        .filter(|c| !c.is_whitespace() && *c != ':')
        .collect();
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

impl df_mgmt::Handler for Handler {
    fn handle(&self, req: Request) -> HandlerFuture<'_> {
        Box::pin(async move {
            let s = &self.shared;
            match req {
                Request::Status => to_value(&StatusView {
                    chassis: s.chassis.clone(),
                    version: env!("CARGO_PKG_VERSION").to_string(),
                    pid: std::process::id(),
                    uptime_secs: s.started.elapsed().as_secs_f64(),
                    store: s.store_url.clone(),
                    layout: s.layout.clone(),
                    workers: s.cores.len() as u32,
                    ports: s.ports.len() as u32,
                    controller: s.controller_status(),
                }),
                Request::Ports => to_value(&PortsView {
                    ports: s.port_views(),
                }),
                Request::Workers => {
                    let workers = s
                        .counters
                        .iter()
                        .enumerate()
                        .map(|(w, c)| WorkerView {
                            id: w as u32,
                            core: s.cores.get(w).map(|&c| c as u32),
                            pinned: true,
                            rx_queues: s
                                .assign
                                .of_worker(w)
                                .iter()
                                .map(|&(p, q)| RxQueueView {
                                    port: s
                                        .ports
                                        .get(p as usize)
                                        .map_or(p.to_string(), |p| p.name.clone()),
                                    queue: q,
                                })
                                .collect(),
                            rx_packets: c.rx.get(),
                            tx_packets: c.tx.get(),
                            busy_cycles: c.busy_cycles.get(),
                            idle_cycles: c.idle_cycles.get(),
                        })
                        .collect();
                    to_value(&WorkersView {
                        tsc_hz: Some(df_dp::sys::tsc_hz()),
                        workers,
                    })
                }
                Request::Graph => to_value(&GraphView {
                    layout: s.layout.clone(),
                    text: s.graph.describe(),
                    json: s.graph.describe_json(),
                }),
                Request::Tables { vertex } => {
                    let vertices: Vec<VertexTablesView> = s
                        .graph
                        .vertices()
                        .iter()
                        .filter(|v| vertex.as_deref().is_none_or(|n| n == v.name))
                        .map(|v| VertexTablesView {
                            vertex: v.name.clone(),
                            app_type: v.contract.type_name.to_string(),
                            tables: v.instance.describe(),
                        })
                        .collect();
                    if vertices.is_empty() {
                        return Err(Failure::new(
                            ErrorKind::NotFound,
                            format!(
                                "no vertex named `{}` (see `dfctl show graph`)",
                                vertex.unwrap_or_default()
                            ),
                        ));
                    }
                    to_value(&TablesView { vertices })
                }
                Request::Counters => to_value(&s.counters_view()),
                Request::Trace { port, frame_hex } => {
                    let sh = s.clone();
                    let v = tokio::task::spawn_blocking(move || sh.trace(&port, &frame_hex))
                        .await
                        .map_err(|e| Failure::new(ErrorKind::Failed, e.to_string()))??;
                    to_value(&v)
                }
                Request::Store(r) => {
                    let store = s.store.lock().ok().and_then(|g| g.clone());
                    match store {
                        Some(st) => df_mgmt::handle_store(&*st, r).await,
                        None => Err(Failure::new(
                            ErrorKind::Unavailable,
                            format!(
                                "the store {} is not open yet (is it reachable?)",
                                s.store_url
                            ),
                        )),
                    }
                }
                Request::TraceLive { count } => {
                    for t in &s.traces {
                        t.arm(count);
                    }
                    to_value(&df_mgmt::views::TraceArmedView { armed: count })
                }
                Request::TraceRead => {
                    let mut recs = Vec::new();
                    for t in &s.traces {
                        recs.extend(t.take());
                    }
                    // One packet's records together, in the order they happened.
                    recs.sort_by_key(|r| r.trace_id);
                    to_value(&TraceView {
                        lines: s.graph.describe_trace(&recs),
                    })
                }
            }
        })
    }
}
