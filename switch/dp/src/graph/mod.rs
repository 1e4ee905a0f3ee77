//! The datapath graph: the layout format, its compiler, and the compiled
//! [`Graph`] that workers execute and control configures.
//!
//! A compiled graph is shared (`Arc`) by every worker and by control. Workers
//! build their own stages and frame queues from it ([`crate::exec::Executor`]);
//! control configures vertices through it, which publishes new tables by RCU.

mod compile;
mod error;
mod layout;

use std::any::Any;
use std::fmt::Write as _;

pub use compile::{compile, compile_with_defaults, DefaultEdge};
pub use error::{GraphError, GraphErrors};
pub use layout::{EdgeDecl, Layout, VertexDecl};

use crate::app::{AppInstance, ConfigError, RegMap};
use crate::contract::{AppContract, EntryId};
use crate::rcu::RcuDomain;
use crate::stage::Target;
use crate::trace::{TraceEvent, TraceRecord};

/// One instantiated vertex.
pub struct Vertex {
    /// The name in the layout.
    pub name: String,
    /// Its app's contract.
    pub contract: &'static AppContract,
    /// The shared instance (tables, config entry point).
    pub instance: Box<dyn AppInstance>,
    /// Where each exit leads (indexed by `ExitId`).
    pub targets: Vec<Target>,
    /// The frame queue of each entry (indexed by `EntryId`; `None` if no
    /// packet can reach that entry).
    pub entry_queues: Vec<Option<u16>>,
    /// Added by a default edge, not declared in the layout.
    pub implicit: bool,
    /// Exits wired by a default edge (indexed by `ExitId`).
    pub default_exits: Vec<bool>,
}

impl std::fmt::Debug for Vertex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Vertex")
            .field("name", &self.name)
            .field("type", &self.contract.type_name)
            .field("targets", &self.targets)
            .finish()
    }
}

/// A frame queue: the entry it feeds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QueueInfo {
    /// Vertex index.
    pub vertex: u16,
    /// Entry of that vertex.
    pub entry: EntryId,
}

/// A compiled, checked, instantiated datapath graph.
#[derive(Debug)]
pub struct Graph {
    pub(crate) vertices: Vec<Vertex>,
    pub(crate) queues: Vec<QueueInfo>,
    pub(crate) registers: RegMap,
    pub(crate) port_entries: Vec<u16>,
    pub(crate) rcu: RcuDomain,
}

impl Graph {
    /// The vertices, in layout order.
    pub fn vertices(&self) -> &[Vertex] {
        &self.vertices
    }

    /// The frame queues, in drain order.
    pub fn queues(&self) -> &[QueueInfo] {
        &self.queues
    }

    /// Register names by slot.
    pub fn registers(&self) -> &RegMap {
        &self.registers
    }

    /// The RCU domain the graph's tables live in (workers register readers).
    pub fn rcu(&self) -> &RcuDomain {
        &self.rcu
    }

    /// The vertex named `name`.
    pub fn vertex(&self, name: &str) -> Option<&Vertex> {
        self.vertices.iter().find(|v| v.name == name)
    }

    /// The names of the vertices of app type `app_type`.
    pub fn vertices_of_type<'a>(&'a self, app_type: &'a str) -> impl Iterator<Item = &'a str> {
        self.vertices
            .iter()
            .filter(move |v| v.contract.type_name == app_type)
            .map(|v| v.name.as_str())
    }

    /// The queue where packets received on ports enter by default: the first
    /// port entry in layout order.
    pub fn default_port_queue(&self) -> u16 {
        self.port_entries.first().copied().unwrap_or(0)
    }

    /// The queue of a port entry named `<vertex>.in.<entry>`.
    pub fn port_queue(&self, name: &str) -> Option<u16> {
        let (v, e) = name.split_once(".in.")?;
        let vx = self.vertex(v)?;
        let ei = vx.contract.entry(e)?;
        if !vx.contract.entries[ei.0 as usize].from_ports {
            return None;
        }
        vx.entry_queues[ei.0 as usize]
    }

    /// Applies a typed config to vertex `vertex` (build off the workers,
    /// then publish by RCU).
    ///
    /// # Errors
    /// No such vertex, a config of another app's type, or an invalid config;
    /// the previous tables stay live.
    pub fn configure<C: Any + Send>(&self, vertex: &str, config: C) -> Result<(), ConfigError> {
        let v = self.vertex_or_err(vertex)?;
        v.instance
            .configure(Box::new(config))
            .map_err(|m| cfg_err(v, m))
    }

    /// Applies a JSON config to vertex `vertex`.
    ///
    /// # Errors
    /// As [`Graph::configure`].
    pub fn configure_json(
        &self,
        vertex: &str,
        config: &serde_json::Value,
    ) -> Result<(), ConfigError> {
        let v = self.vertex_or_err(vertex)?;
        v.instance.configure_json(config).map_err(|m| cfg_err(v, m))
    }

    fn vertex_or_err(&self, vertex: &str) -> Result<&Vertex, ConfigError> {
        self.vertex(vertex).ok_or_else(|| ConfigError {
            vertex: vertex.to_string(),
            app_type: "?".into(),
            message: format!(
                "no such vertex in the layout (vertices: {})",
                self.vertices
                    .iter()
                    .map(|v| v.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        })
    }

    fn entry_name(&self, q: u16) -> String {
        match self.queues.get(q as usize) {
            Some(qi) => {
                let v = &self.vertices[qi.vertex as usize];
                format!(
                    "{}.in.{}",
                    v.name, v.contract.entries[qi.entry.0 as usize].name
                )
            }
            None => format!("queue#{q}"),
        }
    }

    /// The compiled graph as text, for `dfctl show graph` and golden tests.
    pub fn describe(&self) -> String {
        let mut s = String::new();
        let regs: Vec<String> = self
            .registers
            .names()
            .iter()
            .enumerate()
            .map(|(i, n)| format!("r{i}={n}"))
            .collect();
        let _ = writeln!(s, "registers: {}", regs.join(" "));
        let pe: Vec<String> = self
            .port_entries
            .iter()
            .map(|&q| self.entry_name(q))
            .collect();
        let _ = writeln!(s, "port entries: {}", pe.join(", "));
        let order: Vec<String> = (0..self.queues.len() as u16)
            .map(|q| self.entry_name(q))
            .collect();
        let _ = writeln!(s, "drain order: {}", order.join(" -> "));
        for v in &self.vertices {
            let _ = writeln!(
                s,
                "vertex {} (type {}){}",
                v.name,
                v.contract.type_name,
                if v.implicit { " (implicit)" } else { "" }
            );
            for (i, e) in v.contract.entries.iter().enumerate() {
                let state = if v.entry_queues[i].is_some() {
                    ""
                } else {
                    " (unreached)"
                };
                let _ = writeln!(
                    s,
                    "  in.{}{}{} reads [{}]",
                    e.name,
                    if e.from_ports { " <- ports" } else { "" },
                    state,
                    e.reads.join(", ")
                );
            }
            for (i, x) in v.contract.exits.iter().enumerate() {
                let to = match v.targets[i] {
                    Target::Queue(q) | Target::Progress(q) => self.entry_name(q),
                    Target::Unwired => "(unwired: drop)".into(),
                };
                let _ = writeln!(
                    s,
                    "  out.{} -> {}{}{} writes [{}]",
                    x.name,
                    to,
                    if v.default_exits[i] { " (default)" } else { "" },
                    if x.progress { " (progress)" } else { "" },
                    x.writes.join(", ")
                );
            }
        }
        s
    }

    /// The compiled graph as JSON.
    pub fn describe_json(&self) -> serde_json::Value {
        let vertices: Vec<serde_json::Value> = self
            .vertices
            .iter()
            .map(|v| {
                serde_json::json!({
                    "name": v.name,
                    "type": v.contract.type_name,
                    "entries": v.contract.entries.iter().enumerate().map(|(i, e)| serde_json::json!({
                        "name": e.name, "reads": e.reads, "from_ports": e.from_ports,
                        "reached": v.entry_queues[i].is_some(),
                    })).collect::<Vec<_>>(),
                    "exits": v.contract.exits.iter().enumerate().map(|(i, x)| serde_json::json!({
                        "name": x.name, "writes": x.writes, "progress": x.progress,
                        "to": match v.targets[i] { Target::Queue(q) | Target::Progress(q) => Some(self.entry_name(q)), Target::Unwired => None },
                    })).collect::<Vec<_>>(),
                    "drops": v.contract.drops.iter().map(|d| d.name).collect::<Vec<_>>(),
                    "tables": v.instance.describe(),
                })
            })
            .collect();
        serde_json::json!({
            "registers": self.registers.names(),
            "port_entries": self.port_entries.iter().map(|&q| self.entry_name(q)).collect::<Vec<_>>(),
            "vertices": vertices,
        })
    }

    /// One line per trace record, with the graph's names.
    pub fn describe_trace(&self, records: &[TraceRecord]) -> Vec<String> {
        records
            .iter()
            .map(|r| {
                let regs: Vec<String> = self
                    .registers
                    .names()
                    .iter()
                    .enumerate()
                    .map(|(i, n)| format!("{n}={}", r.regs[i]))
                    .collect();
                let (at, what) = match self.vertices.get(r.vertex as usize) {
                    None => ("port".to_string(), self.event_text(None, r.event)),
                    Some(v) => (
                        format!(
                            "{}.in.{}",
                            v.name,
                            v.contract
                                .entries
                                .get(r.entry.0 as usize)
                                .map_or("?", |e| e.name)
                        ),
                        self.event_text(Some(v), r.event),
                    ),
                };
                format!(
                    "#{} {at}: {what} [{}] len={}",
                    r.trace_id,
                    regs.join(" "),
                    r.len
                )
            })
            .collect()
    }

    fn event_text(&self, v: Option<&Vertex>, ev: TraceEvent) -> String {
        let exit = |x: crate::contract::ExitId| {
            v.and_then(|v| v.contract.exits.get(x.0 as usize))
                .map_or("?", |e| e.name)
        };
        match ev {
            TraceEvent::Rx(p) => format!("received on port {p}"),
            TraceEvent::Exit(x) => {
                let to =
                    v.and_then(|v| v.targets.get(x.0 as usize))
                        .map_or("?".into(), |t| match *t {
                            Target::Queue(q) | Target::Progress(q) => self.entry_name(q),
                            Target::Unwired => "(unwired)".into(),
                        });
                format!("exit {} -> {to}", exit(x))
            }
            TraceEvent::Unwired(x) => format!("exit {} is unwired: dropped", exit(x)),
            TraceEvent::Drop(d) => format!(
                "dropped: {}",
                v.and_then(|v| v.contract.drops.get(d.0 as usize))
                    .map_or("?", |d| d.name)
            ),
            TraceEvent::FrameworkDrop(d) => format!("dropped by the framework: {}", d.name()),
            TraceEvent::Tx(p) => format!("transmit on port {p}"),
            TraceEvent::Note(what, value) => render_note(what, value),
        }
    }
}

fn cfg_err(v: &Vertex, message: String) -> ConfigError {
    ConfigError {
        vertex: v.name.clone(),
        app_type: v.contract.type_name.to_string(),
        message,
    }
}

/// A trace note as text. A note's name may place its value with
/// placeholders, each a view of the 64-bit value: `{ipv4}` (the low 32 bits
/// as an IPv4 address), `{ipv4/len}` (an IPv4 prefix packed as
/// `address << 8 | length`), `{hi32}` / `{lo32}`, `{hi16}` / `{lo16}`
/// (bits 16..32 and 0..16), `{hi8}` / `{lo8}` (bits 8..16 and 0..8),
/// `{hex}` and `{value}`. A name without placeholders is followed by the
/// value in decimal.
pub fn render_note(what: &str, value: u64) -> String {
    if !what.contains('{') {
        return format!("{what} {value}");
    }
    let v4 = |x: u64| std::net::Ipv4Addr::from(x as u32).to_string();
    let mut out = String::with_capacity(what.len() + 16);
    let mut rest = what;
    while let Some(i) = rest.find('{') {
        out.push_str(&rest[..i]);
        let Some(j) = rest[i..].find('}') else {
            out.push_str(&rest[i..]);
            return out;
        };
        let field = match &rest[i + 1..i + j] {
            "ipv4" => v4(value),
            "ipv4/len" => format!("{}/{}", v4(value >> 8), value & 0xff),
            "hi32" => (value >> 32).to_string(),
            "lo32" => (value & 0xffff_ffff).to_string(),
            "hi16" => ((value >> 16) & 0xffff).to_string(),
            "lo16" => (value & 0xffff).to_string(),
            "hi8" => ((value >> 8) & 0xff).to_string(),
            "lo8" => (value & 0xff).to_string(),
            "hex" => format!("{value:#x}"),
            "value" => value.to_string(),
            other => format!("{{{other}}}"),
        };
        out.push_str(&field);
        rest = &rest[i + j + 1..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod note_tests {
    use super::render_note;

    #[test]
    fn notes_place_their_values() {
        assert_eq!(render_note("fdb hit: port key", 7), "fdb hit: port key 7");
        assert_eq!(
            render_note("l3: route {ipv4/len}", (0xc633_6400u64 << 8) | 24),
            "l3: route 198.51.100.0/24"
        );
        assert_eq!(
            render_note("allowed by group {hi32} rule #{lo32}", (5u64 << 32) | 2),
            "allowed by group 5 rule #2"
        );
        assert_eq!(
            render_note("proto {hi16} port {lo16}", (6 << 16) | 22),
            "proto 6 port 22"
        );
        assert_eq!(
            render_note("type {hi8} code {lo8}", (11 << 8) | 1),
            "type 11 code 1"
        );
        assert_eq!(
            render_note("to {ipv4} ({hex})", 0x0a00_0001),
            "to 10.0.0.1 (0xa000001)"
        );
        assert_eq!(render_note("odd {what} {", 1), "odd {what} {");
    }
}
