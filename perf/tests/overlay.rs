//! The overlay and NAT scenarios over in-memory ports, end to end through
//! the real executor and workers: Geneve and VXLAN encapsulation to remote
//! chassis, decapsulation from the underlay port, floating-IP and SNAT
//! egress through the uplink (neighbour primed by the gateway's ARP reply
//! during the warm-up). Asserts that packets reach the sink through the
//! vertex doing the work, no drop in the window and no allocation in
//! steady state; never timings.
#![allow(clippy::unwrap_used)] // test code: a panic is the failure report

use df_dp::sys::CountingAlloc;
use df_perf::{run, NatMode, Params, Scenario, Tunnel};

#[global_allocator]
static ALLOC: CountingAlloc = CountingAlloc;

#[test]
fn overlay_and_nat_reach_the_sink_without_drops() {
    let runs = [
        (Scenario::Encap, Tunnel::Geneve, NatMode::Fip, "tunnel"),
        (Scenario::Encap, Tunnel::Vxlan, NatMode::Fip, "tunnel"),
        (Scenario::Decap, Tunnel::Geneve, NatMode::Fip, "tunnel"),
        (Scenario::Decap, Tunnel::Vxlan, NatMode::Fip, "tunnel"),
        (Scenario::Nat, Tunnel::Geneve, NatMode::Fip, "nat"),
        (Scenario::Nat, Tunnel::Geneve, NatMode::Snat, "nat"),
    ];
    for (scenario, tunnel, nat, vertex) in runs {
        let p = Params {
            scenario,
            tunnel,
            nat,
            flows: 1000,
            warmup: 0.4,
            seconds: 0.3,
            cores: Vec::new(),
            ..Params::default()
        };
        let m = run(&p).unwrap();
        let what = format!("{}: {m:?}", p.label());
        assert!(m.tx_packets > 0, "{what}");
        assert!(m.drops.is_empty(), "{what}");
        assert_eq!(m.allocations, 0, "{what}");
        let stage = |name: &str| m.stages.iter().find(|s| s.vertex == name).unwrap().packets;
        // Every transmitted packet crossed the vertex under test (counters
        // are read stage by stage while packets are in flight: some slack).
        assert!(stage(vertex) >= m.tx_packets.saturating_sub(256), "{what}");
    }
}
