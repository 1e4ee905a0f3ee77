//! Pipeline tests: frames go into in-memory ports, through the compiled
//! default layout (input -> l2 -> output) with real apps, and the frames out
//! of each port, the counters and the trace are checked.
#![allow(clippy::unwrap_used)] // test code: a panic is the failure report

type Ports = Vec<Option<Box<dyn Port>>>;

use std::sync::Arc;
use std::time::{Duration, Instant};

use df_dp::counters::FrameworkDrop;
use df_dp::port::pcap::{PcapFrames, PcapPort, PcapWriter};
use df_dp::port::Port;
use df_dp::worker::{WorkerSpec, Workers};
use df_dp::{Batch, ExecConfig, Executor, Graph, RcuReader, BURST};
use df_tests::{frame, vm_mac, Topology, BROADCAST};

fn counter(g: &Graph, ex: &Executor, vertex: &str, drop: Option<&str>) -> u64 {
    let vi = g.vertices().iter().position(|v| v.name == vertex).unwrap();
    let vc = &ex.counters().vertices[vi];
    match drop {
        None => vc.packets.get(),
        Some(d) => {
            let di = g.vertices()[vi].contract.drop_reason(d).unwrap();
            vc.drops[di.0 as usize].get()
        }
    }
}

/// Polls every port once, running what arrived through the graph.
fn pump(ex: &mut Executor, ports: &mut [Option<Box<dyn Port>>], reader: &mut RcuReader) {
    let mut b = Batch::with_capacity(BURST);
    loop {
        let mut got = 0;
        for i in 0..ports.len() {
            let Some(p) = ports[i].as_mut() else { continue };
            let n = p.rx_burst(ex.pool_mut(), &mut b);
            if n > 0 {
                got += n;
                ex.process(i as u16, &mut b, reader);
                ex.flush(ports);
            }
        }
        reader.quiescent();
        if got == 0 {
            break;
        }
    }
}

fn setup(n: u8) -> (Topology, Executor, Ports, RcuReader) {
    let mut t = Topology::new(df_catalog::DEFAULT_LAYOUT, n, n as usize + 1);
    let ex = Executor::new(
        t.graph.clone(),
        &ExecConfig {
            ports: n as usize + 1,
            ..ExecConfig::default()
        },
    );
    let ports: Ports = t
        .ports
        .drain(..)
        .map(|p| Some(Box::new(p) as Box<dyn Port>))
        .collect();
    let reader = t.graph.rcu().register();
    (t, ex, ports, reader)
}

#[test]
fn default_layout_forwards_unicast_and_floods_broadcast() {
    let (t, mut ex, mut ports, mut reader) = setup(3);
    let h = &t.handles;
    // VM1 (port 0) -> VM2 (port 1), unicast.
    let uni = frame(vm_mac(2), vm_mac(1), 7, 64);
    h[0].inject(&uni);
    // VM1 broadcast: to VM2 and VM3, not back to VM1.
    let bc = frame(BROADCAST, vm_mac(1), 9, 60);
    h[0].inject(&bc);
    // Unknown unicast: dropped by l2.
    h[0].inject(&frame(vm_mac(99), vm_mac(1), 1, 64));
    // A runt: dropped by l2.
    h[0].inject(&[0u8; 10]);
    // From an unbound switch port (3): dropped by input.
    h[3].inject(&uni);
    pump(&mut ex, &mut ports, &mut reader);

    assert_eq!(
        h[0].take_tx(),
        Vec::<Vec<u8>>::new(),
        "nothing back to the source"
    );
    assert_eq!(h[1].take_tx(), vec![uni.clone(), bc.clone()]);
    assert_eq!(h[2].take_tx(), vec![bc.clone()]);
    assert_eq!(h[3].take_tx(), Vec::<Vec<u8>>::new());

    let g = &t.graph;
    assert_eq!(counter(g, &ex, "input", None), 5);
    assert_eq!(counter(g, &ex, "input", Some("unbound-port")), 1);
    assert_eq!(counter(g, &ex, "l2", None), 4);
    assert_eq!(counter(g, &ex, "l2", Some("unknown-unicast")), 1);
    assert_eq!(counter(g, &ex, "l2", Some("runt")), 1);
    assert_eq!(
        counter(g, &ex, "output", None),
        3,
        "one unicast + two flood copies"
    );
    assert_eq!(ex.counters().rx.get(), 5);
    assert_eq!(ex.counters().tx.get(), 3);
    assert_eq!(h[1].stats().tx_packets, 2);
    for d in FrameworkDrop::ALL {
        assert_eq!(ex.counters().framework_drops(d), 0, "{}", d.name());
    }
    // Every buffer went back to the pool.
    assert_eq!(ex.pool().available(), ex.pool().capacity());
}

#[test]
fn trace_names_every_stage_the_packet_crossed() {
    let (t, mut ex, mut ports, mut reader) = setup(2);
    t.handles[0].inject(&frame(vm_mac(2), vm_mac(1), 0, 64));
    t.handles[0].inject_traced(&frame(vm_mac(2), vm_mac(1), 0, 64));
    t.handles[1].inject_traced(&frame(BROADCAST, vm_mac(2), 0, 60));
    pump(&mut ex, &mut ports, &mut reader);
    let lines = t.graph.describe_trace(&ex.trace_records());
    let want = [
        "#1 port: received on port 0 [source_port_key=0 network_key=0 destination_port_key=0] len=64",
        "#1 input.in.default: source port key 1 [source_port_key=1 network_key=1 destination_port_key=0] len=64",
        "#1 input.in.default: exit vm-egress -> l2.in.default [source_port_key=1 network_key=1 destination_port_key=0] len=64",
        "#1 l2.in.default: fdb hit: port key 2 [source_port_key=1 network_key=1 destination_port_key=2] len=64",
        "#1 l2.in.default: exit unicast -> output.in.default [source_port_key=1 network_key=1 destination_port_key=2] len=64",
        "#1 output.in.default: destination port key 2 [source_port_key=1 network_key=1 destination_port_key=2] len=64",
        "#1 output.in.default: transmit on port 1 [source_port_key=1 network_key=1 destination_port_key=2] len=64",
        "#2 port: received on port 1 [source_port_key=0 network_key=0 destination_port_key=0] len=60",
        "#2 input.in.default: source port key 2 [source_port_key=2 network_key=1 destination_port_key=0] len=60",
        "#2 input.in.default: exit vm-egress -> l2.in.default [source_port_key=2 network_key=1 destination_port_key=0] len=60",
        "#2 l2.in.default: flood: copies 1 [source_port_key=2 network_key=1 destination_port_key=0] len=60",
        "#2 l2.in.default: exit flood -> output.in.default [source_port_key=2 network_key=1 destination_port_key=1] len=60",
        "#2 output.in.default: destination port key 1 [source_port_key=2 network_key=1 destination_port_key=1] len=60",
        "#2 output.in.default: transmit on port 0 [source_port_key=2 network_key=1 destination_port_key=1] len=60",
    ];
    assert_eq!(lines, want);
}

#[test]
fn trace_budget_traces_the_next_n_live_packets() {
    let (t, mut ex, mut ports, mut reader) = setup(2);
    ex.trace_budget()
        .store(2, std::sync::atomic::Ordering::Relaxed);
    for i in 0..5 {
        t.handles[0].inject(&frame(vm_mac(2), vm_mac(1), i, 64));
    }
    pump(&mut ex, &mut ports, &mut reader);
    let recs = ex.trace_records();
    let ids: std::collections::BTreeSet<u32> = recs.iter().map(|r| r.trace_id).collect();
    assert_eq!(ids.into_iter().collect::<Vec<_>>(), vec![1, 2]);
    assert_eq!(
        ex.trace_budget().load(std::sync::atomic::Ordering::Relaxed),
        0
    );
}

#[test]
fn reconfiguration_applies_atomically_between_batches() {
    let (t, mut ex, mut ports, mut reader) = setup(3);
    let to_vm2 = frame(vm_mac(2), vm_mac(1), 0, 64);
    t.handles[0].inject(&to_vm2);
    pump(&mut ex, &mut ports, &mut reader);
    assert_eq!(t.handles[1].take_tx().len(), 1);
    // Move VM2's MAC to port key 3 (switch port 2).
    let (_, mut l2, _) = df_tests::one_network(3);
    l2.networks[0].ports[1].mac = df_wire::EthernetAddress([2, 0, 0, 0, 0, 0x42]);
    l2.networks[0].ports[2].mac = df_wire::EthernetAddress(vm_mac(2));
    // This thread is both worker and control here: a publisher waits for
    // every online reader, so step out of the read side while publishing.
    reader.offline();
    t.graph.configure("l2", l2).unwrap();
    reader.online();
    t.handles[0].inject(&to_vm2);
    pump(&mut ex, &mut ports, &mut reader);
    assert_eq!(t.handles[1].take_tx().len(), 0);
    assert_eq!(t.handles[2].take_tx(), vec![to_vm2]);
    // A bad config is refused whole, naming the entry; the live one stays.
    let (_, mut bad, _) = df_tests::one_network(3);
    bad.networks[0].ports[1].mac = df_wire::EthernetAddress(vm_mac(1));
    reader.offline();
    let e = t.graph.configure("l2", bad).unwrap_err().to_string();
    assert_eq!(
        e,
        "vertex `l2` (type l2): networks[0].ports[1]: MAC 02:00:00:00:00:01 is used twice in network 1 (port keys 1 and 2)"
    );
    let e = t.graph.configure("l2", 5u32).unwrap_err().to_string();
    assert!(
        e.starts_with("vertex `l2` (type l2): expects a l2 config"),
        "{e}"
    );
    let e = t
        .graph
        .configure_json("l2", &serde_json::json!({"networks": [], "extra": 1}))
        .unwrap_err()
        .to_string();
    assert!(e.contains("unknown field `extra`"), "{e}");
    reader.online();
    t.handles[0].inject(&frame(vm_mac(2), vm_mac(1), 0, 64));
    pump(&mut ex, &mut ports, &mut reader);
    assert_eq!(
        t.handles[2].take_tx().len(),
        1,
        "the previous tables stayed live"
    );
}

#[test]
fn pcap_in_pcap_out() {
    let dir = std::env::temp_dir().join(format!("df-pipe-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let input = dir.join("in.pcap");
    let output = dir.join("out.pcap");
    let frames: Vec<Vec<u8>> = (0..10u8)
        .map(|i| frame(vm_mac(2 + i % 2), vm_mac(1), i, 60 + i as usize))
        .collect();
    let mut w = PcapWriter::create(&input).unwrap();
    for f in &frames {
        w.write(f).unwrap();
    }
    w.flush().unwrap();
    drop(w);

    let t = Topology::new(df_catalog::DEFAULT_LAYOUT, 3, 0);
    let mut ex = Executor::new(
        t.graph.clone(),
        &ExecConfig {
            ports: 3,
            ..ExecConfig::default()
        },
    );
    let mut reader = t.graph.rcu().register();
    let mut ports: Vec<Option<Box<dyn Port>>> = vec![
        Some(Box::new(
            PcapPort::open("in", Some(&input), false, None).unwrap(),
        )),
        Some(Box::new(
            PcapPort::open("vm2", None, false, Some(&output)).unwrap(),
        )),
        None,
    ];
    pump(&mut ex, &mut ports, &mut reader);
    drop(ports); // flushes the output file
    let got = PcapFrames::load(&output).unwrap();
    let want: Vec<Vec<u8>> = frames.iter().step_by(2).cloned().collect();
    assert_eq!(got.to_vecs(), want, "VM2's frames, in order");
    // VM3's frames went to switch port 2, which this worker has no port for.
    assert_eq!(ex.counters().framework_drops(FrameworkDrop::BadTxPort), 5);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn workers_forward_on_their_own_threads() {
    // Two workers, each owning the rx queue of one port and a tx queue on
    // both, as DPDK workers own queue pairs.
    let t = Topology::new(df_catalog::DEFAULT_LAYOUT, 2, 0);
    let (a0, h0) = df_dp::port::mem::MemPort::new("w0p0");
    let (a1, h1) = df_dp::port::mem::MemPort::new("w0p1");
    let (b0, g0) = df_dp::port::mem::MemPort::new("w1p0");
    let (b1, g1) = df_dp::port::mem::MemPort::new("w1p1");
    let specs = vec![
        WorkerSpec {
            core: Some(0),
            ports: vec![(0, Box::new(a0)), (1, Box::new(a1))],
            rx: vec![0],
            bindings: vec![],
        },
        WorkerSpec {
            core: Some(1),
            ports: vec![(0, Box::new(b0)), (1, Box::new(b1))],
            rx: vec![1],
            bindings: vec![],
        },
    ];
    let cfg = ExecConfig {
        ports: 2,
        ..ExecConfig::default()
    };
    let w = Workers::start(&t.graph, specs, &cfg).unwrap();
    let n = 500;
    for i in 0..n {
        h0.inject(&frame(vm_mac(2), vm_mac(1), i as u8, 64));
        g1.inject(&frame(vm_mac(1), vm_mac(2), i as u8, 64));
    }
    // Bounded wait for the workers to drain (not a timing assertion).
    let deadline = Instant::now() + Duration::from_secs(20);
    while (h1.stats().tx_packets < n || g0.stats().tx_packets < n) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(5));
    }
    // Live tracing: arm worker 0 for 2 packets, send 5, read 2 traces.
    w.live_traces()[0].arm(2);
    for i in 0..5 {
        h0.inject(&frame(vm_mac(2), vm_mac(1), i as u8, 64));
    }
    let deadline = Instant::now() + Duration::from_secs(20);
    while h1.stats().tx_packets < n + 5 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(5));
    }
    std::thread::sleep(Duration::from_millis(50));
    let recs = w.live_traces()[0].take();
    let ids: std::collections::BTreeSet<u32> = recs.iter().map(|r| r.trace_id).collect();
    assert_eq!(ids.len(), 2, "two packets traced: {recs:?}");
    let lines = t.graph.describe_trace(&recs);
    assert!(
        lines
            .iter()
            .any(|l| l.contains("output.in.default: transmit on port 1")),
        "{lines:?}"
    );
    // Publishing while the workers run must not disturb them.
    let (_, l2, _) = df_tests::one_network(2);
    for _ in 0..50 {
        t.graph.configure("l2", l2.clone()).unwrap();
    }
    let counters: Vec<_> = w.counters().to_vec();
    let reports = w.stop();
    assert_eq!(reports.len(), 2);
    assert_eq!(h1.stats().tx_packets, n + 5, "worker 0: port 0 -> port 1");
    assert_eq!(g0.stats().tx_packets, n, "worker 1: port 1 -> port 0");
    assert_eq!(h0.stats().tx_packets + g1.stats().tx_packets, 0);
    for (i, (c, r)) in counters.iter().zip(&reports).enumerate() {
        let extra = if i == 0 { 5 } else { 0 };
        assert_eq!(c.rx.get(), n + extra);
        assert_eq!(c.tx.get(), n + extra);
        assert_eq!(r.pool_available, r.pool_capacity, "no buffer leaked");
    }
}

#[test]
fn default_graph_is_pinned() {
    let t = Topology::new(df_catalog::DEFAULT_LAYOUT, 1, 0);
    let want = "\
registers: r0=source_port_key r1=network_key r2=destination_port_key
port entries: input.in.default, provider.in.default, tunnel.in.decap
drain order: input.in.default -> tunnel.in.decap -> provider.in.default -> l2.in.default -> dhcp.in.default -> l2.in.lookup -> output.in.default -> tunnel.in.encap -> nat.in.ingress
vertex input (type input)
  in.default <- ports reads []
  out.vm-egress -> l2.in.default writes [source_port_key, network_key]
  out.provider -> provider.in.default (default) writes []
vertex l2 (type l2)
  in.default reads [network_key, source_port_key]
  in.lookup reads [network_key, source_port_key]
  out.unicast -> output.in.default writes [destination_port_key]
  out.flood -> output.in.default writes [destination_port_key]
  out.reply -> output.in.default writes [destination_port_key]
  out.dhcp -> dhcp.in.default writes []
vertex dhcp (type dhcp)
  in.default reads [source_port_key, network_key]
  out.reply -> output.in.default writes [destination_port_key]
  out.pass -> l2.in.lookup writes []
vertex output (type output)
  in.default reads [destination_port_key]
  out.remote -> tunnel.in.encap (default) writes []
  out.nat -> nat.in.ingress (default) writes []
vertex provider (type provider) (implicit)
  in.default <- ports reads []
  out.default -> l2.in.default (default) writes [source_port_key, network_key]
vertex tunnel (type tunnel) (implicit)
  in.encap reads [destination_port_key, network_key]
  in.decap <- ports reads []
  out.decap -> l2.in.default (default) writes [source_port_key, network_key]
vertex nat (type nat) (implicit)
  in.egress (unreached) reads [source_port_key, network_key]
  in.ingress reads [destination_port_key]
  out.external -> l2.in.default (default) (progress) writes [network_key, source_port_key]
  out.internal -> l2.in.lookup (default) (progress) writes [network_key, source_port_key, destination_port_key]
";
    assert_eq!(t.graph.describe(), want);
    let j = t.graph.describe_json();
    assert_eq!(
        j["vertices"][1]["tables"]["fdb"][0]["mac"],
        "02:00:00:00:00:01"
    );
}

#[test]
fn seed_layout_compiles_with_every_app_type() {
    let layout = df_dp::Layout::parse(df_catalog::SEED_LAYOUT).unwrap();
    assert_eq!(layout.vertices.len(), 7);
    assert_eq!(layout.edges.len(), 9);
    let g = df_catalog::compile_layout(df_catalog::SEED_LAYOUT, &df_dp::RcuDomain::new()).unwrap();
    let text = g.describe();
    println!("{text}");
    // The seed's nine edges, unchanged.
    for edge in [
        "out.default -> l2.in.default",
        "out.vm-egress -> portsec.in.default",
        "out.accept -> secgroup.in.egress",
        "out.egress-accept -> l2.in.default",
        "out.unicast -> l3.in.ingress-filter",
        "out.ingress-match -> firewall.in.egress",
        "out.egress-accept -> l3.in.route",
        "out.post-route -> firewall.in.ingress (progress)",
        "out.ingress-accept -> l2.in.default",
    ] {
        assert!(text.contains(edge), "missing `{edge}` in\n{text}");
    }
    // The egress path Dragonflow kept in fixed tables joins by default edges.
    assert!(
        text.contains("vertex output (type output) (implicit)"),
        "{text}"
    );
    assert!(
        text.contains("out.flood -> secgroup.in.ingress (default)"),
        "{text}"
    );
    assert!(
        text.contains("out.forward -> secgroup.in.ingress (default)"),
        "{text}"
    );
    assert!(
        text.contains("out.reject-route -> l3.in.route (default)"),
        "{text}"
    );
    assert!(g.port_queue("provider.in.default").is_some());
}

#[test]
fn io_layout_patches_ports() {
    let t = Topology::new(df_catalog::IO_LAYOUT, 2, 2);
    t.graph
        .configure(
            "xconnect",
            df_app_xconnect::XconnectConfig {
                pairs: vec![
                    df_app_xconnect::XconnectPair { from: 1, to: 2 },
                    df_app_xconnect::XconnectPair { from: 2, to: 1 },
                ],
            },
        )
        .unwrap();
    let mut ex = Executor::new(
        t.graph.clone(),
        &ExecConfig {
            ports: 2,
            ..ExecConfig::default()
        },
    );
    let mut reader = t.graph.rcu().register();
    let mut ports: Vec<Option<Box<dyn Port>>> = t
        .ports
        .into_iter()
        .map(|p| Some(Box::new(p) as Box<dyn Port>))
        .collect();
    // Any destination MAC: xconnect does not look.
    t.handles[0].inject(&frame(BROADCAST, vm_mac(7), 0, 64));
    t.handles[1].inject(&frame(vm_mac(9), vm_mac(8), 0, 64));
    pump(&mut ex, &mut ports, &mut reader);
    assert_eq!(t.handles[1].take_tx().len(), 1);
    assert_eq!(t.handles[0].take_tx().len(), 1);
    let _ = Arc::clone(&t.graph);
}

/// A vertex's packet count, or one of its drop counters, on a running worker.
fn worker_counter(
    g: &Graph,
    c: &df_dp::counters::WorkerCounters,
    vertex: &str,
    drop: Option<&str>,
) -> u64 {
    let vi = g.vertices().iter().position(|v| v.name == vertex).unwrap();
    let vc = &c.vertices[vi];
    match drop {
        None => vc.packets.get(),
        Some(d) => vc.drops[g.vertices()[vi].contract.drop_reason(d).unwrap().0 as usize].get(),
    }
}

/// Waits (bounded; not a timing assertion) until `done` holds.
fn wait_until(done: impl Fn() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !done() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(5));
    }
}

#[test]
fn patched_ports_are_wired_and_the_wire_follows_reconfiguration() {
    let t = Topology::new(df_catalog::IO_LAYOUT, 2, 0);
    let pair = |from, to| df_app_xconnect::XconnectPair { from, to };
    t.graph
        .configure(
            "xconnect",
            df_app_xconnect::XconnectConfig {
                pairs: vec![pair(1, 2), pair(2, 1)],
            },
        )
        .unwrap();
    let (p0, h0) = df_dp::port::mem::MemPort::new("p0");
    let (p1, h1) = df_dp::port::mem::MemPort::new("p1");
    let specs = vec![WorkerSpec {
        core: None,
        ports: vec![(0, Box::new(p0)), (1, Box::new(p1))],
        rx: vec![0, 1],
        bindings: vec![],
    }];
    let cfg = ExecConfig {
        ports: 2,
        ..ExecConfig::default()
    };
    let w = Workers::start(&t.graph, specs, &cfg).unwrap();
    let c = w.counters()[0].clone();
    let n = 100u64;
    let sent: Vec<Vec<u8>> = (0..n)
        .map(|i| frame(BROADCAST, vm_mac(7), i as u8, 64 + i as usize))
        .collect();
    for f in &sent {
        h0.inject(f);
        h1.inject(&frame(vm_mac(9), vm_mac(8), 0, 64));
    }
    wait_until(|| h1.stats().tx_packets >= n && h0.stats().tx_packets >= n);
    assert_eq!(
        h1.take_tx(),
        sent,
        "port 0's frames reach port 1 unchanged, in order"
    );
    assert_eq!(h0.take_tx().len() as u64, n);
    assert_eq!(c.wired.get(), 2 * n, "every packet took the wire");
    assert_eq!((c.rx.get(), c.tx.get()), (2 * n, 2 * n));
    for v in ["input", "xconnect", "output"] {
        assert_eq!(
            worker_counter(&t.graph, &c, v, None),
            2 * n,
            "{v} counts the wired packets"
        );
    }
    // Unpatch port 2 (switch port 1): its packets leave the wire and are
    // dropped by xconnect; port 1's still flow.
    t.graph
        .configure(
            "xconnect",
            df_app_xconnect::XconnectConfig {
                pairs: vec![pair(1, 2)],
            },
        )
        .unwrap();
    for i in 0..10 {
        h0.inject(&frame(BROADCAST, vm_mac(7), i, 64));
        h1.inject(&frame(vm_mac(9), vm_mac(8), i, 64));
    }
    wait_until(|| {
        h1.stats().tx_packets >= n + 10
            && worker_counter(&t.graph, &c, "xconnect", Some("no-peer")) >= 10
    });
    let reports = w.stop();
    assert_eq!(
        worker_counter(&t.graph, &c, "xconnect", Some("no-peer")),
        10
    );
    assert_eq!(h1.stats().tx_packets, n + 10);
    assert_eq!(
        h0.stats().tx_packets,
        n,
        "nothing more from the unpatched port"
    );
    assert_eq!(
        c.wired.get(),
        2 * n + 10,
        "only the patched port is still wired"
    );
    assert_eq!(
        reports[0].pool_available, reports[0].pool_capacity,
        "no buffer leaked"
    );
}

#[test]
fn a_vm_ports_input_stage_is_applied_at_receive() {
    // On the default layout, `input` knows every VM port's keys before its
    // packets arrive: the worker writes them as it receives, counts input,
    // and l2 gets the packets with the right source (it floods a broadcast
    // to the other VMs only, never back: the source key is right).
    let t = Topology::new(df_catalog::DEFAULT_LAYOUT, 3, 0);
    let ports: Vec<_> = (0..3)
        .map(|i| df_dp::port::mem::MemPort::new(&format!("p{i}")))
        .collect();
    let handles: Vec<_> = ports.iter().map(|(_, h)| h.clone()).collect();
    let specs = vec![WorkerSpec {
        core: None,
        ports: ports
            .into_iter()
            .enumerate()
            .map(|(i, (p, _))| (i as u16, Box::new(p) as Box<dyn Port>))
            .collect(),
        rx: vec![0, 1, 2],
        bindings: vec![],
    }];
    let cfg = ExecConfig {
        ports: 3,
        ..ExecConfig::default()
    };
    let w = Workers::start(&t.graph, specs, &cfg).unwrap();
    let c = w.counters()[0].clone();
    for i in 0..20 {
        handles[0].inject(&frame(BROADCAST, vm_mac(1), i, 64));
        handles[1].inject(&frame(vm_mac(3), vm_mac(2), i, 64));
    }
    wait_until(|| handles[2].stats().tx_packets >= 40 && handles[1].stats().tx_packets >= 20);
    let _ = w.stop();
    assert_eq!(
        handles[0].stats().tx_packets,
        0,
        "no flood back to the sender"
    );
    assert_eq!(handles[1].stats().tx_packets, 20);
    assert_eq!(handles[2].stats().tx_packets, 40);
    assert_eq!(worker_counter(&t.graph, &c, "input", None), 40);
    assert_eq!(worker_counter(&t.graph, &c, "l2", None), 40);
    assert_eq!(c.wired.get(), 0, "l2 reads the packets: no wire");
}
