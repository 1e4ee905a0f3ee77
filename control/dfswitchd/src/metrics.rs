//! The Prometheus text endpoint (`[management] metrics = "ADDR:PORT"`):
//! `GET /metrics` answers the workers', vertices', ports' and controller's
//! counters in the text exposition format (version 0.0.4). Anything else is
//! a 404. One small task per connection; it never touches the workers.

use std::fmt::Write as _;
use std::sync::Arc;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::handler::Shared;

fn esc(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// The metrics text for the daemon's current counters.
pub fn render(shared: &Shared) -> String {
    let c = shared.counters_view();
    let mut s = String::new();
    let family = |name: &str, kind: &str, help: &str, s: &mut String| {
        let _ = writeln!(s, "# HELP {name} {help}\n# TYPE {name} {kind}");
    };
    family(
        "df_rx_packets_total",
        "counter",
        "Packets received from ports by the workers.",
        &mut s,
    );
    let _ = writeln!(s, "df_rx_packets_total {}", c.rx);
    family(
        "df_tx_packets_total",
        "counter",
        "Packets the ports accepted for transmission.",
        &mut s,
    );
    let _ = writeln!(s, "df_tx_packets_total {}", c.tx);
    family(
        "df_vertex_packets_total",
        "counter",
        "Packets handed to each vertex's stage.",
        &mut s,
    );
    for v in &c.vertices {
        let _ = writeln!(
            s,
            "df_vertex_packets_total{{vertex=\"{}\",type=\"{}\"}} {}",
            esc(&v.vertex),
            esc(&v.app_type),
            v.packets
        );
    }
    family(
        "df_vertex_cycles_total",
        "counter",
        "TSC cycles spent in each vertex's stage.",
        &mut s,
    );
    for v in &c.vertices {
        let _ = writeln!(
            s,
            "df_vertex_cycles_total{{vertex=\"{}\"}} {}",
            esc(&v.vertex),
            v.cycles
        );
    }
    family(
        "df_drops_total",
        "counter",
        "Packets dropped by an app, by vertex and reason.",
        &mut s,
    );
    for v in &c.vertices {
        for (r, n) in v.drops.iter().chain(v.unwired.iter()) {
            let _ = writeln!(
                s,
                "df_drops_total{{vertex=\"{}\",reason=\"{}\"}} {n}",
                esc(&v.vertex),
                esc(r)
            );
        }
    }
    family(
        "df_framework_drops_total",
        "counter",
        "Packets dropped by the framework, by reason.",
        &mut s,
    );
    for (r, n) in &c.framework_drops {
        let _ = writeln!(s, "df_framework_drops_total{{reason=\"{}\"}} {n}", esc(r));
    }
    family(
        "df_port_rx_packets_total",
        "counter",
        "Packets received, per switch port.",
        &mut s,
    );
    for p in &c.ports {
        let _ = writeln!(
            s,
            "df_port_rx_packets_total{{port=\"{}\"}} {}",
            esc(&p.name),
            p.rx_packets
        );
    }
    family(
        "df_port_tx_packets_total",
        "counter",
        "Packets transmitted, per switch port.",
        &mut s,
    );
    for p in &c.ports {
        let _ = writeln!(
            s,
            "df_port_tx_packets_total{{port=\"{}\"}} {}",
            esc(&p.name),
            p.tx_packets
        );
    }
    family(
        "df_worker_busy_cycles_total",
        "counter",
        "TSC cycles of worker loop iterations that found packets.",
        &mut s,
    );
    for (w, wc) in shared.counters.iter().enumerate() {
        let _ = writeln!(
            s,
            "df_worker_busy_cycles_total{{worker=\"{w}\"}} {}",
            wc.busy_cycles.get()
        );
    }
    family(
        "df_worker_idle_cycles_total",
        "counter",
        "TSC cycles of worker loop iterations that found none.",
        &mut s,
    );
    for (w, wc) in shared.counters.iter().enumerate() {
        let _ = writeln!(
            s,
            "df_worker_idle_cycles_total{{worker=\"{w}\"}} {}",
            wc.idle_cycles.get()
        );
    }
    let ctl = shared.controller_status();
    family(
        "df_controller_connected",
        "gauge",
        "1 while the controller's store watch is live.",
        &mut s,
    );
    let _ = writeln!(
        s,
        "df_controller_connected {}",
        u8::from(ctl["connected"] == true)
    );
    family(
        "df_controller_revision",
        "gauge",
        "The last NB store revision applied.",
        &mut s,
    );
    let _ = writeln!(
        s,
        "df_controller_revision {}",
        ctl["revision"].as_i64().unwrap_or(0)
    );
    family(
        "df_controller_record_errors",
        "gauge",
        "NB records that could not be decoded.",
        &mut s,
    );
    let _ = writeln!(
        s,
        "df_controller_record_errors {}",
        ctl["errors"].as_array().map_or(0, Vec::len)
    );
    s
}

/// Serves `/metrics` on `addr` until `stop`.
///
/// # Errors
/// The address cannot be bound.
pub async fn serve(
    addr: &str,
    shared: Arc<Shared>,
    mut stop: watch::Receiver<bool>,
) -> std::io::Result<()> {
    let listener = TcpListener::bind(addr).await?;
    loop {
        let (mut conn, _) = tokio::select! {
            _ = stop.changed() => return Ok(()),
            c = listener.accept() => c?,
        };
        let shared = shared.clone();
        tokio::spawn(async move {
            let mut buf = [0u8; 2048];
            let n = conn.read(&mut buf).await.unwrap_or(0);
            let head = String::from_utf8_lossy(&buf[..n]);
            let ok = head.starts_with("GET /metrics ") || head.starts_with("GET /metrics?");
            let reply = if ok {
                let body = render(&shared);
                format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                )
            } else {
                "HTTP/1.1 404 Not Found\r\nContent-Length: 22\r\nConnection: close\r\n\r\ntry GET /metrics here\n".to_string()
            };
            let _ = conn.write_all(reply.as_bytes()).await;
            let _ = conn.shutdown().await;
        });
    }
}
