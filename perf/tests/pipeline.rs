//! The `pipeline` scenario over in-memory ports, end to end through the
//! real executor and workers: packets from the VM cross portsec, sg
//! (conntrack), l2 or l3 and reach the sink, with no drop in the window
//! and no allocation in steady state. Asserts flow and counters, never
//! timings.
#![allow(clippy::unwrap_used)] // test code: a panic is the failure report

use df_dp::sys::CountingAlloc;
use df_perf::{run, Params, PipelineMode, Scenario};

#[global_allocator]
static ALLOC: CountingAlloc = CountingAlloc;

#[test]
fn pipeline_reaches_the_sink_without_drops() {
    for mode in [
        PipelineMode::L2Est,
        PipelineMode::L3Est,
        PipelineMode::L2New,
    ] {
        let p = Params {
            scenario: Scenario::Pipeline,
            pipeline_mode: mode,
            flows: 1000,
            warmup: 0.4,
            seconds: 0.3,
            cores: Vec::new(),
            ..Params::default()
        };
        let m = run(&p).unwrap();
        let what = format!("{mode:?}: {m:?}");
        assert!(m.tx_packets > 0, "{what}");
        assert!(m.drops.is_empty(), "{what}");
        assert_eq!(m.allocations, 0, "{what}");
        let stage = |name: &str| m.stages.iter().find(|s| s.vertex == name).unwrap().packets;
        // Every transmitted packet crossed portsec and sg (egress, and
        // ingress for the sink); l3 mode also crossed the firewall twice.
        // (Counters are read stage by stage while packets are in flight:
        // allow a few vectors of slack.)
        let tx = m.tx_packets.saturating_sub(256);
        for v in ["input", "portsec", "secgroup", "l2", "l3", "output"] {
            assert!(stage(v) >= tx, "{v}: {what}");
        }
        if mode == PipelineMode::L3Est {
            assert!(stage("firewall") >= 2 * tx, "{what}");
        } else {
            assert_eq!(stage("firewall"), 0, "{what}");
        }
    }
}
