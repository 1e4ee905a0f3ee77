//! dfperf's text report.

use std::fmt::Write as _;

use crate::measure::Measurement;
use crate::pipeline;
use crate::scenario::{FrameMix, Scenario};

/// A measurement as a few readable lines.
pub fn text(m: &Measurement) -> String {
    let p = &m.params;
    let frame = match p.frame {
        FrameMix::Fixed(s) => format!("{s}B"),
        FrameMix::Imix => "imix".into(),
    };
    let mut s = String::new();
    let name = p.label();
    let _ = writeln!(
        s,
        "scenario {name}{}: {} worker(s){}, {} ports, {} MACs, {} flows/port, {frame} frames, {:.2} s window",
        if p.shortcuts { "" } else { " (no shortcuts)" },
        p.workers,
        if m.pinned { " pinned" } else { " (not pinned)" },
        p.ports,
        p.macs,
        p.flows,
        m.seconds
    );
    let _ = writeln!(
        s,
        "  rate: {:.2} Mpps ({} packets transmitted, {} received)",
        m.mpps, m.tx_packets, m.rx_packets
    );
    let _ = writeln!(
        s,
        "  cost: {:.1} TSC cycles/packet per worker busy loop (TSC {:.2} GHz)",
        m.cycles_per_packet,
        m.tsc_hz as f64 / 1e9
    );
    let stages: Vec<String> = m
        .stages
        .iter()
        .map(|c| {
            format!(
                "{} {:.1} ({:.1} pkts/call)",
                c.vertex, c.cycles_per_packet, c.packets_per_call
            )
        })
        .collect();
    let _ = writeln!(s, "  stages (cycles/packet): {}", stages.join(", "));
    if m.wired_packets > 0 {
        let _ = writeln!(
            s,
            "  wired: {:.1}% of received packets forwarded port to port (path known to the transmit port; stages counted, not run)",
            100.0 * m.wired_packets as f64 / m.rx_packets.max(1) as f64
        );
    }
    if m.drops.is_empty() {
        let _ = writeln!(s, "  drops: none");
    } else {
        let d: Vec<String> = m.drops.iter().map(|(n, c)| format!("{n}={c}")).collect();
        let _ = writeln!(s, "  drops: {}", d.join(", "));
    }
    let _ = writeln!(s, "  allocations in steady state: {}", m.allocations);
    if p.scenario == Scenario::Pipeline {
        let _ = writeln!(s, "  {}", pipeline::describe(p.pipeline_mode));
    }
    if let Some(d) = &m.dpdk {
        let _ = writeln!(
            s,
            "  dpdk: {} ({}, workers {}registered with EAL); mbufs leaked after teardown: {}",
            d.ports.join(" -> "),
            if d.hugepages {
                "hugepages"
            } else {
                "--no-huge"
            },
            if d.lcore_registered { "" } else { "not " },
            d.mbufs_leaked
        );
        for (spec, rx, tx, dropped) in &d.port_stats {
            let _ = writeln!(s, "    {spec}: rx {rx} tx {tx} rx-dropped {dropped}");
        }
        for l in d.rxq_table.lines() {
            let _ = writeln!(s, "    {l}");
        }
    }
    if !m.trace.is_empty() {
        let _ = writeln!(s, "  trace of the first {} packet(s):", p.trace);
        for l in &m.trace {
            let _ = writeln!(s, "    {l}");
        }
    }
    s
}
