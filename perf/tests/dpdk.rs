//! dfperf's scenarios over real DPDK virtual devices, end to end: net_null
//! rx -> the io graph -> net_null tx, and net_pcap -> the default (l2)
//! layout -> net_null, and the pipeline scenario (net_pcap -> the seed's
//! graph -> net_null, replies through a second net_pcap), through the
//! real executor and workers, with no hugepages (`--no-huge`). Needs root
//! (EAL) and a build with `--features dpdk`; EAL starts once per process,
//! so this file holds ONE test function. Asserts flow, no drops, no steady-state allocation, and
//! every mbuf back in its mempool after teardown; never timings.
#![cfg(feature = "dpdk")]

use df_perf::dpdk::DpdkEnv;
use df_perf::{NatMode, Params, PipelineMode, PortsKind, Scenario, Tunnel};

#[test]
fn io_and_l2_over_dpdk_ports() {
    let mut env = DpdkEnv::start(false, 0).unwrap();
    for (scenario, workers) in [(Scenario::Io, 1), (Scenario::L2, 1), (Scenario::L2, 2)] {
        let p = Params {
            scenario,
            workers,
            warmup: 0.2,
            seconds: 0.3,
            ports_kind: PortsKind::Dpdk,
            hugepages: false,
            ..Params::default()
        };
        let m = env.run(&p).unwrap();
        let what = format!("{scenario:?} x{workers}: {m:?}");
        assert!(m.tx_packets > 0, "{what}");
        assert!(m.drops.is_empty(), "{what}");
        assert_eq!(m.allocations, 0, "{what}");
        let d = m.dpdk.as_ref().unwrap();
        assert_eq!(d.mbufs_leaked, 0, "{what}");
        // Every vertex on the packets' path saw traffic (the graph really
        // ran); the implicit ones (dhcp, provider, tunnel) see none here.
        let path: &[&str] = match scenario {
            Scenario::Io => &["input", "xconnect", "output"],
            _ => &["input", "l2", "output"],
        };
        // io's path (input -> xconnect -> output) is known down to the
        // transmit port: a wire, every packet; l2 reads the packets.
        match scenario {
            Scenario::Io => assert_eq!(m.wired_packets, m.rx_packets, "{what}"),
            _ => assert_eq!(m.wired_packets, 0, "{what}"),
        }
        for v in path {
            assert!(
                m.stages.iter().any(|s| s.vertex == *v && s.packets > 0),
                "{v}: {what}"
            );
        }
        if workers == 2 {
            assert!(
                d.rxq_table.contains("1       net_pcap0  1"),
                "{}",
                d.rxq_table
            );
        }
    }
    // The pipeline (ct=est): the VM's flows through the seed's graph to
    // net_null, the replies through a third net_pcap during the warm-up.
    let p = Params {
        scenario: Scenario::Pipeline,
        pipeline_mode: PipelineMode::L2Est,
        warmup: 0.4,
        seconds: 0.3,
        ports_kind: PortsKind::Dpdk,
        hugepages: false,
        ..Params::default()
    };
    let m = env.run(&p).unwrap();
    let what = format!("pipeline: {m:?}");
    assert!(m.tx_packets > 0, "{what}");
    assert!(m.drops.is_empty(), "{what}");
    assert_eq!(m.allocations, 0, "{what}");
    let d = m.dpdk.as_ref().unwrap();
    assert_eq!(d.mbufs_leaked, 0, "{what}");
    assert_eq!(d.port_stats.len(), 3, "{what}");
    assert!(d.port_stats[1].2 > 0, "the sink sent: {what}");
    assert!(d.port_stats[2].1 > 0, "the replies were received: {what}");
    // The overlay and NAT scenarios: the source net_pcap -> net_null (and
    // the NAT uplink's ARP reply through a third net_pcap, warm-up only).
    for (scenario, nat) in [
        (Scenario::Encap, NatMode::Fip),
        (Scenario::Decap, NatMode::Fip),
        (Scenario::Nat, NatMode::Fip),
        (Scenario::Nat, NatMode::Snat),
    ] {
        let p = Params {
            scenario,
            nat,
            tunnel: Tunnel::Vxlan,
            warmup: 0.4,
            seconds: 0.3,
            ports_kind: PortsKind::Dpdk,
            hugepages: false,
            ..Params::default()
        };
        let m = env.run(&p).unwrap();
        let what = format!("{}: {m:?}", p.label());
        assert!(m.tx_packets > 0, "{what}");
        assert!(m.drops.is_empty(), "{what}");
        assert_eq!(m.allocations, 0, "{what}");
        let d = m.dpdk.as_ref().unwrap();
        assert_eq!(d.mbufs_leaked, 0, "{what}");
        assert!(d.port_stats[1].2 > 0, "the sink sent: {what}");
    }
    env.finish().unwrap();
}
