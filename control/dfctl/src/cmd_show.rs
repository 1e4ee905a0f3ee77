//! `dfctl show` and `dfctl trace`: what the local dfswitchd is doing.
//!
//! Why only through the daemon: these are the datapath's live counters,
//! tables and traces, which exist only inside dfswitchd. Answers are read
//! into df-mgmt's [`df_mgmt::views`] types and printed as text; `--json`
//! prints the daemon's answer as it came.

use anyhow::Result;
use df_mgmt::views::{
    CountersView, GraphView, PortView, PortsView, StatusView, TablesView, TraceArmedView,
    TraceView, WorkersView,
};
use df_mgmt::{Client, Request};
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::cli::{Global, ShowCommand, TraceArgs};
use crate::cmd_network::opt;
use crate::error::CliError;
use crate::frame;
use crate::out;

async fn call(client: &Client, req: &Request) -> Result<Value> {
    client.call(req).await.map_err(|e| {
        if e.is_unreachable() {
            CliError::Unreachable(e.to_string()).into()
        } else {
            CliError::Failed(e.to_string()).into()
        }
    })
}

fn view<T: DeserializeOwned>(client: &Client, op: &str, v: Value) -> Result<T> {
    serde_json::from_value(v).map_err(|e| {
        CliError::Failed(format!(
            "dfswitchd at {} answered `{op}` in a shape dfctl does not know ({e}); \
             are dfctl and dfswitchd of the same version? (--json prints the raw answer)",
            client.path().display()
        ))
        .into()
    })
}

/// Runs a `show` subcommand.
///
/// # Errors
/// The daemon is unreachable or refused; an answer of an unknown shape.
pub async fn show(g: &Global, cmd: ShowCommand) -> Result<()> {
    let client = crate::db::connect(g).await?;
    let (req, op) = match &cmd {
        ShowCommand::Status => (Request::Status, "status"),
        ShowCommand::Ports => (Request::Ports, "ports"),
        ShowCommand::Workers => (Request::Workers, "workers"),
        ShowCommand::Graph => (Request::Graph, "graph"),
        ShowCommand::Tables { vertex } => (
            Request::Tables {
                vertex: vertex.clone(),
            },
            "tables",
        ),
        ShowCommand::Counters | ShowCommand::Drops => (Request::Counters, "counters"),
    };
    let v = call(&client, &req).await?;
    if g.json && !matches!(cmd, ShowCommand::Drops) {
        out::print_json(&v);
        return Ok(());
    }
    match cmd {
        ShowCommand::Status => out::print(&status_text(&view(&client, op, v)?)),
        ShowCommand::Ports => {
            let p: PortsView = view(&client, op, v)?;
            out::print(&ports_text(&p.ports));
        }
        ShowCommand::Workers => out::print(&workers_text(&view(&client, op, v)?)),
        ShowCommand::Graph => {
            let gv: GraphView = view(&client, op, v)?;
            if !gv.layout.is_empty() {
                out::print(&format!("layout: {}", gv.layout));
            }
            out::print(&gv.text);
        }
        ShowCommand::Tables { .. } => {
            let t: TablesView = view(&client, op, v)?;
            let mut s = String::new();
            for vt in &t.vertices {
                s.push_str(&format!("vertex {} (type {})\n", vt.vertex, vt.app_type));
                let body = serde_json::to_string_pretty(&vt.tables).unwrap_or_default();
                for line in body.lines() {
                    s.push_str(&format!("  {line}\n"));
                }
            }
            out::print(&s);
        }
        ShowCommand::Counters => out::print(&counters_text(&view(&client, op, v)?)),
        ShowCommand::Drops => {
            let c: CountersView = view(&client, op, v)?;
            let drops = drops(&c);
            if g.json {
                let list: Vec<Value> = drops
                    .iter()
                    .map(|(at, reason, n)| serde_json::json!({"at": at, "reason": reason, "packets": n}))
                    .collect();
                out::print_json(&Value::Array(list));
            } else if drops.is_empty() {
                out::print("no drops");
            } else {
                let rows: Vec<Vec<String>> = drops
                    .into_iter()
                    .map(|(at, reason, n)| vec![at, reason, n.to_string()])
                    .collect();
                out::print(&out::table(&["AT", "REASON", "PACKETS"], &rows));
            }
        }
    }
    Ok(())
}

fn status_text(s: &StatusView) -> String {
    let c = &s.controller;
    let field = |k: &str| c.get(k).map_or("-".to_string(), out::scalar);
    let count = |k: &str| c.get(k).and_then(Value::as_array).map_or(0, Vec::len);
    let mut t = String::new();
    t.push_str(&format!("chassis:    {}\n", s.chassis));
    t.push_str(&format!("version:    {} (pid {})\n", s.version, s.pid));
    t.push_str(&format!("uptime:     {}\n", duration(s.uptime_secs)));
    t.push_str(&format!("store:      {}\n", s.store));
    t.push_str(&format!("layout:     {}\n", s.layout));
    t.push_str(&format!("workers:    {}   ports: {}\n", s.workers, s.ports));
    t.push_str(&format!(
        "controller: connected={} revision={} events={} objects={} relists={}\n",
        field("connected"),
        field("revision"),
        field("events"),
        field("objects"),
        field("relists")
    ));
    t.push_str(&format!(
        "            parked={} decode errors={} warnings={} config errors={}\n",
        count("parked"),
        count("errors"),
        count("warnings"),
        count("config_errors")
    ));
    if let Some(e) = c.get("last_error").filter(|e| !e.is_null()) {
        t.push_str(&format!("last error: {}\n", out::scalar(e)));
    }
    t
}

fn duration(secs: f64) -> String {
    let s = secs.max(0.0) as u64;
    let (d, h, m, sec) = (s / 86_400, s / 3600 % 24, s / 60 % 60, s % 60);
    if d > 0 {
        format!("{d}d {h}h {m}m {sec}s")
    } else if h > 0 {
        format!("{h}h {m}m {sec}s")
    } else {
        format!("{m}m {sec}s")
    }
}

fn ports_text(ports: &[PortView]) -> String {
    let rows: Vec<Vec<String>> = ports
        .iter()
        .map(|p| {
            vec![
                p.id.to_string(),
                p.name.clone(),
                p.driver.clone(),
                match (&p.iface_id, &p.physical_network) {
                    (None, Some(net)) => format!("uplink:{net}"),
                    (id, _) => opt(id.as_deref()),
                },
                opt(p.port_key),
                p.link_up
                    .map_or("-".into(), |u| if u { "up" } else { "down" }.into()),
                p.rx_packets.to_string(),
                p.tx_packets.to_string(),
                p.rx_dropped.to_string(),
                p.tx_dropped.to_string(),
            ]
        })
        .collect();
    out::table(
        &[
            "ID", "NAME", "DRIVER", "IFACE-ID", "KEY", "LINK", "RX", "TX", "RX-DROP", "TX-DROP",
        ],
        &rows,
    )
}

fn workers_text(w: &WorkersView) -> String {
    let rows: Vec<Vec<String>> = w
        .workers
        .iter()
        .map(|x| {
            let total = x.busy_cycles + x.idle_cycles;
            let busy = if total == 0 {
                "-".to_string()
            } else {
                format!("{:.1}%", 100.0 * x.busy_cycles as f64 / total as f64)
            };
            let queues: Vec<String> = x
                .rx_queues
                .iter()
                .map(|q| format!("{}/{}", q.port, q.queue))
                .collect();
            vec![
                x.id.to_string(),
                opt(x.core),
                if x.pinned { "yes" } else { "no" }.into(),
                if queues.is_empty() {
                    "-".into()
                } else {
                    queues.join(",")
                },
                x.rx_packets.to_string(),
                x.tx_packets.to_string(),
                busy,
            ]
        })
        .collect();
    let mut s = out::table(
        &["WORKER", "CORE", "PINNED", "RX-QUEUES", "RX", "TX", "BUSY"],
        &rows,
    );
    if let Some(hz) = w.tsc_hz {
        s.push_str(&format!("TSC: {:.3} GHz\n", hz as f64 / 1e9));
    }
    s
}

fn counters_text(c: &CountersView) -> String {
    let rows: Vec<Vec<String>> = c
        .vertices
        .iter()
        .map(|v| {
            let per = if v.packets == 0 {
                "-".to_string()
            } else {
                format!("{:.1}", v.cycles as f64 / v.packets as f64)
            };
            let dropped: u64 = v.drops.values().sum::<u64>() + v.unwired.values().sum::<u64>();
            vec![
                v.vertex.clone(),
                v.app_type.clone(),
                v.calls.to_string(),
                v.packets.to_string(),
                v.cycles.to_string(),
                per,
                dropped.to_string(),
            ]
        })
        .collect();
    let mut s = format!("rx {}  tx {}\n", c.rx, c.tx);
    s.push_str(&out::table(
        &[
            "VERTEX",
            "TYPE",
            "CALLS",
            "PACKETS",
            "CYCLES",
            "CYCLES/PKT",
            "DROPS",
        ],
        &rows,
    ));
    let d = drops(c);
    if !d.is_empty() {
        s.push_str("\ndrops:\n");
        let rows: Vec<Vec<String>> = d
            .into_iter()
            .map(|(at, reason, n)| vec![at, reason, n.to_string()])
            .collect();
        s.push_str(&out::table(&["AT", "REASON", "PACKETS"], &rows));
    }
    if !c.ports.is_empty() {
        s.push_str("\nports:\n");
        s.push_str(&ports_text(&c.ports));
    }
    s
}

/// Every non-zero drop counter: (where, reason, packets).
fn drops(c: &CountersView) -> Vec<(String, String, u64)> {
    let mut d = Vec::new();
    for v in &c.vertices {
        for (reason, n) in v.drops.iter().filter(|(_, n)| **n > 0) {
            d.push((v.vertex.clone(), reason.clone(), *n));
        }
        for (exit, n) in v.unwired.iter().filter(|(_, n)| **n > 0) {
            d.push((v.vertex.clone(), format!("unwired exit {exit}"), *n));
        }
    }
    for (reason, n) in c.framework_drops.iter().filter(|(_, n)| **n > 0) {
        d.push(("framework".into(), reason.clone(), *n));
    }
    for p in &c.ports {
        if p.rx_dropped > 0 {
            d.push((
                format!("port {}", p.name),
                "rx dropped".into(),
                p.rx_dropped,
            ));
        }
        if p.tx_dropped > 0 {
            d.push((
                format!("port {}", p.name),
                "tx dropped".into(),
                p.tx_dropped,
            ));
        }
    }
    d
}

/// Runs `trace`.
///
/// # Errors
/// A bad frame description, the daemon unreachable or refusing.
pub async fn trace(g: &Global, a: TraceArgs) -> Result<()> {
    let req = if let Some(n) = a.live {
        Request::TraceLive { count: n }
    } else if a.read {
        Request::TraceRead
    } else {
        let Some(port) = a.port.clone() else {
            return Err(CliError::Usage("give --port NAME, --live N or --read".into()).into());
        };
        let bytes = match &a.frame_hex {
            Some(h) => frame::parse_hex(h).map_err(CliError::Usage)?,
            None => frame::build(&a.frame).map_err(CliError::Usage)?,
        };
        if !g.json {
            out::print(&format!("frame: {}", frame::describe(&bytes)));
        }
        Request::Trace {
            port,
            frame_hex: frame::to_hex(&bytes),
        }
    };
    let client = crate::db::connect(g).await?;
    let v = call(&client, &req).await?;
    if g.json {
        out::print_json(&v);
        return Ok(());
    }
    if let Request::TraceLive { .. } = req {
        let armed: TraceArmedView = view(&client, "trace-live", v)?;
        out::print(&format!(
            "tracing the next {} received packets; read them with `dfctl trace --read`",
            armed.armed
        ));
        return Ok(());
    }
    let t: TraceView = view(&client, req.op(), v)?;
    if t.lines.is_empty() {
        out::print("no trace records");
    } else {
        out::print(&t.lines.join("\n"));
    }
    Ok(())
}
