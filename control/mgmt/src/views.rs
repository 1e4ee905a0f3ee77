//! The result shapes of the daemon's show and trace requests: what a
//! [`crate::Handler`] returns (via `serde_json::to_value`) and what `dfctl`
//! reads back and prints.
//!
//! Why typed here rather than free-form JSON: the daemon and `dfctl` are
//! written apart, and these types are the one description of what each
//! answer holds. Every struct is `#[serde(default)]`, so a daemon may leave
//! out what it does not know yet and a newer daemon may add fields: `dfctl`
//! prints what it understands and `--json` shows the whole answer.
//!
//! | request | result |
//! |---|---|
//! | `status` | [`StatusView`] |
//! | `ports` | [`PortsView`] |
//! | `workers` | [`WorkersView`] |
//! | `graph` | [`GraphView`] |
//! | `tables` | [`TablesView`] |
//! | `counters` | [`CountersView`] |
//! | `trace`, `trace-read` | [`TraceView`] |
//! | `trace-live` | [`TraceArmedView`] |

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// `status`: the daemon at a glance.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct StatusView {
    /// This chassis' id (host name).
    pub chassis: String,
    /// dfswitchd's version.
    pub version: String,
    /// dfswitchd's process id.
    pub pid: u32,
    /// Seconds since start.
    pub uptime_secs: f64,
    /// The NB store URL (`etcd://...` or `file:///...`).
    pub store: String,
    /// The datapath layout file.
    pub layout: String,
    /// Number of workers.
    pub workers: u32,
    /// Number of switch ports.
    pub ports: u32,
    /// The local controller's status: `df_controller::ControllerStatus`
    /// serialised (`connected`, `revision`, `events`, `objects`,
    /// `last_error`, `parked`, `errors`, ...).
    pub controller: Value,
}

/// `ports`: every switch port.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct PortsView {
    /// In switch-port id order.
    pub ports: Vec<PortView>,
}

/// One switch port and its counters (summed over queues).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct PortView {
    /// Switch port id (index in the daemon's port list).
    pub id: u16,
    /// Name, as in `dfswitchd.toml`.
    pub name: String,
    /// `dpdk`, `pcap`, `af_packet`, `mem`, ...
    pub driver: String,
    /// The lport id it carries (`iface_id` in `dfswitchd.toml`), if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub iface_id: Option<String>,
    /// The physical network it is the uplink of (`physical_network` in
    /// `dfswitchd.toml`), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub physical_network: Option<String>,
    /// That lport's unique key, once the controller knows it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub port_key: Option<u32>,
    /// The port's MAC, if it has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mac: Option<String>,
    /// Link state, if the driver knows it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub link_up: Option<bool>,
    /// Packets received.
    pub rx_packets: u64,
    /// Bytes received.
    pub rx_bytes: u64,
    /// Packets the port dropped on receive (queue full, no buffer).
    pub rx_dropped: u64,
    /// Packets transmitted.
    pub tx_packets: u64,
    /// Bytes transmitted.
    pub tx_bytes: u64,
    /// Packets the port refused on transmit.
    pub tx_dropped: u64,
}

/// `workers`: the poll-mode threads.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct WorkersView {
    /// TSC frequency, to turn cycles into time.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tsc_hz: Option<u64>,
    /// In worker id order.
    pub workers: Vec<WorkerView>,
}

/// One worker.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct WorkerView {
    /// Worker id.
    pub id: u32,
    /// The core it was asked to run on.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub core: Option<u32>,
    /// Whether pinning to that core worked.
    pub pinned: bool,
    /// The rx queues it polls.
    pub rx_queues: Vec<RxQueueView>,
    /// Packets received.
    pub rx_packets: u64,
    /// Packets transmitted.
    pub tx_packets: u64,
    /// Cycles of loop iterations that received packets.
    pub busy_cycles: u64,
    /// Cycles of loop iterations that received nothing.
    pub idle_cycles: u64,
}

/// One rx queue of a worker.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct RxQueueView {
    /// Switch port name.
    pub port: String,
    /// Queue index on that port.
    pub queue: u16,
}

/// `graph`: the compiled datapath graph.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct GraphView {
    /// The layout file it was compiled from.
    pub layout: String,
    /// `df_dp::Graph::describe()`.
    pub text: String,
    /// `df_dp::Graph::describe_json()`.
    pub json: Value,
}

/// `tables`: what each vertex's tables hold.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct TablesView {
    /// One entry per vertex (only the asked one with `vertex`).
    pub vertices: Vec<VertexTablesView>,
}

/// One vertex's tables.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct VertexTablesView {
    /// Vertex name.
    pub vertex: String,
    /// App type.
    #[serde(rename = "type")]
    pub app_type: String,
    /// The app's `describe()` of its current tables.
    pub tables: Value,
}

/// `counters`: per-vertex and framework counters, summed over workers, and
/// port stats.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct CountersView {
    /// Packets received from ports.
    pub rx: u64,
    /// Packets accepted by ports for transmission.
    pub tx: u64,
    /// In graph order.
    pub vertices: Vec<VertexCountersView>,
    /// Framework drops by name (`hop-limit`, `frame-full`, ...).
    pub framework_drops: BTreeMap<String, u64>,
    /// Port stats, as in [`PortsView`].
    pub ports: Vec<PortView>,
}

/// One vertex's counters.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct VertexCountersView {
    /// Vertex name.
    pub vertex: String,
    /// App type.
    #[serde(rename = "type")]
    pub app_type: String,
    /// Stage invocations.
    pub calls: u64,
    /// Packets handed to the vertex's stages.
    pub packets: u64,
    /// TSC cycles spent in them.
    pub cycles: u64,
    /// Drops by the app's reasons.
    pub drops: BTreeMap<String, u64>,
    /// Packets that left by an unwired exit, by exit name.
    pub unwired: BTreeMap<String, u64>,
}

/// `trace` and `trace-read`: trace lines, one per decision.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct TraceView {
    /// `df_dp::Graph::describe_trace()` lines, oldest first.
    pub lines: Vec<String>,
}

/// `trace-live`: tracing is armed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct TraceArmedView {
    /// How many of the next received packets will be traced.
    pub armed: u32,
}
