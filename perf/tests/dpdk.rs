//! dfperf's scenarios over real DPDK virtual devices, end to end: net_null
//! rx -> the io graph -> net_null tx, and net_pcap -> the default (l2)
//! layout -> net_null, through the real executor and workers, with no
//! hugepages (`--no-huge`). Needs root (EAL) and a build with
//! `--features dpdk`; EAL starts once per process, so this file holds ONE
//! test function. Asserts flow, no drops, no steady-state allocation, and
//! every mbuf back in its mempool after teardown; never timings.
#![cfg(feature = "dpdk")]

use df_perf::dpdk::DpdkEnv;
use df_perf::{Params, PortsKind, Scenario};

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
        // Every vertex of the layout saw traffic (the graph really ran),
        // but the DHCP server, which sees only DHCP client messages.
        assert!(
            m.stages
                .iter()
                .filter(|s| s.vertex != "dhcp")
                .all(|s| s.packets > 0),
            "{what}"
        );
        if workers == 2 {
            assert!(
                d.rxq_table.contains("1       net_pcap0  1"),
                "{}",
                d.rxq_table
            );
        }
    }
    env.finish().unwrap();
}
