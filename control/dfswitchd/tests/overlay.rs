//! End to end, as root: three chassis (three dfswitchd) and etcd. Each
//! chassis has VMs (network namespaces on `net_af_packet` ports) and an
//! underlay port; the underlay ports are joined by a bridge in a namespace
//! of its own (the fabric). VMs on different chassis talk over Geneve and
//! VXLAN tunnels, on one network and across a distributed router, and the
//! outside world (a physical network bridged to every chassis' uplink)
//! reaches them by floating IP and they it through their chassis' SNAT.
//!
//! The three daemons run in the test's own network namespace (so that they
//! reach etcd on loopback); they share nothing else: each has its own
//! ports, EAL file prefix, management socket and chassis id.
//!
//! Skips, loudly, only when the facility is truly absent (not root, no
//! network namespaces, no etcd); `DF_REQUIRE_E2E=1` / `DF_REQUIRE_ETCD=1`
//! turn a skip into a failure (CI sets them).
#![allow(clippy::unwrap_used, clippy::print_stdout)] // test code

mod common;

use common::{can_run, mgmt, out, sh, wait_listening, Env};
use df_mgmt::Request;
use serde_json::json;

/// The fabric: a bridge in namespace `{tag}ul`, one veth per chassis whose
/// outer end `{tag}u{h}` becomes that chassis' underlay port. MTU 1600, so
/// that 1500-byte VM frames fit with 50 bytes of tunnel headers.
fn fabric(env: &mut Env, chassis: usize) {
    let t = env.tag.clone();
    env.names.push("ul".into());
    assert!(sh(&format!("ip netns add {t}ul")));
    assert!(sh(&format!(
        "ip netns exec {t}ul ip link add br0 type bridge && ip netns exec {t}ul ip link set br0 mtu 1600 up"
    )));
    for h in 1..=chassis {
        let (o, i) = (format!("{t}u{h}"), format!("{t}u{h}p"));
        assert!(sh(&format!(
            "ip link add {o} mtu 1600 type veth peer name {i} mtu 1600"
        )));
        assert!(sh(&format!("ip link set {i} netns {t}ul")));
        assert!(sh(&format!(
            "ip netns exec {t}ul ip link set {i} master br0 && ip netns exec {t}ul ip link set {i} up"
        )));
        // Only the switch uses the outer end: the kernel neither answers
        // ARP nor forwards what arrives on it, nor speaks IPv6 there.
        sh(&format!("sysctl -qw net.ipv6.conf.{o}.disable_ipv6=1"));
        sh(&format!("sysctl -qw net.ipv4.conf.{o}.arp_ignore=8"));
        sh(&format!("sysctl -qw net.ipv4.conf.{o}.forwarding=0"));
        assert!(sh(&format!("ip link set {o} up")));
    }
    // The physical network `physnet1`: bridge br1 in the same namespace,
    // one uplink veth per chassis (`{tag}x{h}`), and an external host in
    // namespace `{tag}eh` at 198.18.0.50.
    assert!(sh(&format!(
        "ip netns exec {t}ul ip link add br1 type bridge && ip netns exec {t}ul ip link set br1 up"
    )));
    for h in 1..=chassis {
        let (o, i) = (format!("{t}x{h}"), format!("{t}x{h}p"));
        assert!(sh(&format!("ip link add {o} type veth peer name {i}")));
        assert!(sh(&format!("ip link set {i} netns {t}ul")));
        assert!(sh(&format!(
            "ip netns exec {t}ul ip link set {i} master br1 && ip netns exec {t}ul ip link set {i} up"
        )));
        sh(&format!("sysctl -qw net.ipv6.conf.{o}.disable_ipv6=1"));
        sh(&format!("sysctl -qw net.ipv4.conf.{o}.arp_ignore=8"));
        sh(&format!("sysctl -qw net.ipv4.conf.{o}.forwarding=0"));
        assert!(sh(&format!("ip link set {o} up")));
    }
    env.names.push("eh".into());
    for cmd in [
        format!("ip netns add {t}eh"),
        format!("ip link add {t}ehv type veth peer name {t}ehp"),
        format!("ip link set {t}ehv netns {t}eh"),
        format!("ip link set {t}ehp netns {t}ul"),
        format!("ip netns exec {t}ul ip link set {t}ehp master br1"),
        format!("ip netns exec {t}ul ip link set {t}ehp up"),
        format!("ip netns exec {t}eh ip link set lo up"),
        format!("ip netns exec {t}eh ip addr add 198.18.0.50/24 dev {t}ehv"),
        format!("ip netns exec {t}eh ip link set {t}ehv up"),
        format!("ip netns exec {t}eh ethtool -K {t}ehv tx off"),
    ] {
        assert!(sh(&cmd), "external host: {cmd}");
    }
}

/// A chassis' config: its VM ports (namespaces `vms`, switch ports 0..),
/// then its underlay port.
fn chassis_config(env: &Env, h: usize, store: &str, vms: &[&str]) -> String {
    let (t, d) = (&env.tag, env.dir.display());
    let mut c = format!(
        r#"[chassis]
id = "{t}-h{h}"
tunnel_ip = "172.16.0.{h}"
external_ip = "198.18.0.20{h}"
[store]
url = "{store}"
[datapath]
workers = [1]
pool = 4096
[dpdk]
hugepages = false
memory_mb = 256
file_prefix = "{t}h{h}"
[management]
socket = "{d}/h{h}.sock"
"#
    );
    for (i, vm) in vms.iter().enumerate() {
        c += &format!(
            "[[port]]\nname = \"{vm}\"\ndevice = \"net_af_packet{i},iface={t}{vm}h,qdisc_bypass=1\"\niface_id = \"{vm}\"\n"
        );
    }
    c += &format!(
        "[[port]]\nname = \"underlay\"\ndevice = \"net_af_packet{},iface={t}u{h},qdisc_bypass=1\"\nunderlay = true\n",
        vms.len()
    );
    c += &format!(
        "[[port]]\nname = \"uplink\"\ndevice = \"net_af_packet{},iface={t}x{h},qdisc_bypass=1\"\nphysical_network = \"physnet1\"\n",
        vms.len() + 1
    );
    c
}

fn ping(tag: &str, from: &str, to: &str, socks: &[std::path::PathBuf]) {
    let p = out(&format!(
        "ip netns exec {tag}{from} ping -c 3 -i 0.2 -W 2 {to}; echo rc=$?"
    ));
    if !p.ends_with("rc=0") {
        let dump: Vec<String> = socks
            .iter()
            .map(|s| {
                let c = mgmt(s, Request::Counters);
                let drops: Vec<String> = c["vertices"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .flat_map(|v| {
                        let name = v["vertex"].as_str().unwrap_or("").to_string();
                        v["drops"]
                            .as_object()
                            .unwrap()
                            .iter()
                            .chain(v["unwired"].as_object().unwrap())
                            .filter(|(_, n)| n.as_u64() != Some(0))
                            .map(move |(r, n)| format!("{name}.{r}={n}"))
                            .collect::<Vec<_>>()
                    })
                    .collect();
                format!(
                    "{}: drops {}\n  tables {}",
                    s.display(),
                    drops.join(" "),
                    mgmt(s, Request::Tables { vertex: None })
                )
            })
            .collect();
        panic!(
            "ping {from} -> {to} across chassis failed:\n{p}\n{}",
            dump.join("\n")
        );
    }
}

/// Three chassis: network `g` (Geneve) has a VM on each, network `v`
/// (VXLAN) one on chassis 1 and 2; router `r` joins them. VMs ping across
/// chassis on one network (both encapsulations) and across the router; a
/// broadcast reaches each VM of the network on the other chassis once;
/// curl fetches a page over the tunnel; a host on the external network
/// reaches VM g2 by its floating IP (served by chassis 2) and VM g3 reaches
/// the host through chassis 3's SNAT address; chassis 3 restarts and its VM
/// is reached again.
#[test]
fn vms_on_three_chassis_talk_over_geneve_and_vxlan() {
    if !can_run() {
        return;
    }
    let Some(etcd) = df_store::testing::Etcd::start_or_skip("overlay e2e") else {
        return;
    };
    let mut env = Env::new("o");
    let tag = env.tag.clone();
    fabric(&mut env, 3);
    let vms = [
        ("g1", 1, "g", "203.0.113.11", "203.0.113.1"),
        ("g2", 2, "g", "203.0.113.12", "203.0.113.1"),
        ("g3", 3, "g", "203.0.113.13", "203.0.113.1"),
        ("v1", 1, "v", "198.51.100.11", "198.51.100.1"),
        ("v2", 2, "v", "198.51.100.12", "198.51.100.1"),
    ];
    let mut macs = std::collections::BTreeMap::new();
    for (vm, _, _, ip, gw) in vms {
        macs.insert(vm, env.vm(vm, &format!("{ip}/24"), Some(gw)));
    }
    let mut socks = Vec::new();
    for h in 1..=3 {
        let mine: Vec<&str> = vms.iter().filter(|v| v.1 == h).map(|v| v.0).collect();
        let cfg = chassis_config(&env, h, &etcd.url(), &mine);
        socks.push(env.start_daemon_named(&format!("h{h}"), &cfg));
    }
    let s1 = socks[0].clone();
    let put = |table: &str, obj: serde_json::Value| common::put(&s1, table, obj);
    for (n, kind, vni, cidr, gw) in [
        ("g", "geneve", 5001, "203.0.113.0/24", "203.0.113.1"),
        ("v", "vxlan", 5002, "198.51.100.0/24", "198.51.100.1"),
    ] {
        let extra = json!({"network_type": kind, "segmentation_id": vni, "mtu": 1450});
        common::network(&s1, n, extra, cidr, Some(gw));
    }
    common::network(
        &s1,
        "ext",
        json!({"network_type": "flat", "physical_network": "physnet1", "is_external": true}),
        "198.18.0.0/24",
        Some("198.18.0.1"),
    );
    common::allow_all_group(&s1);
    for (vm, h, net, ip, _) in vms {
        put(
            "lport",
            json!({"id": vm, "topic": "e2e", "version": 1, "lswitch": net, "macs": [macs[vm]], "ips": [ip],
                "security_groups": ["all"], "binding": {"type": "chassis", "chassis": format!("{tag}-h{h}")}}),
        );
    }
    let mut rports = Vec::new();
    for (id, net, mac, ip, prefix) in [
        (
            "rg",
            "g",
            "fa:16:3e:00:0a:01",
            "203.0.113.1",
            "203.0.113.1/24",
        ),
        (
            "rv",
            "v",
            "fa:16:3e:00:0b:01",
            "198.51.100.1",
            "198.51.100.1/24",
        ),
    ] {
        let key = put(
            "lport",
            json!({"id": id, "topic": "e2e", "version": 1, "lswitch": net, "macs": [mac], "ips": [ip],
                "device_owner": "network:router_interface", "port_security_enabled": false}),
        );
        rports.push(json!({"id": id, "topic": "e2e", "mac": mac, "lswitch": net, "network": prefix, "unique_key": key}));
    }
    put(
        "lrouter",
        json!({"id": "r", "topic": "e2e", "version": 1, "ports": rports, "routes": [],
            "external_gateway": {"network": "ext", "enable_snat": true}}),
    );
    // Floating IP 198.18.0.100 for VM g2 (on chassis 2).
    put(
        "lport",
        json!({"id": "fip-port", "topic": "e2e", "version": 1, "lswitch": "ext", "macs": ["fa:16:3e:00:0f:01"],
            "ips": ["198.18.0.100"], "device_owner": "network:floatingip", "port_security_enabled": false}),
    );
    put(
        "floatingip",
        json!({"id": "fip", "topic": "e2e", "version": 1, "floating_ip_address": "198.18.0.100",
            "fixed_ip_address": "203.0.113.12", "lport": "g2", "floating_lport": "fip-port", "lrouter": "r"}),
    );
    // 3 networks, 3 subnets, 1 group, 8 ports, 1 router, 1 floating IP,
    // 3 chassis.
    for s in &socks {
        common::wait_for_objects(s, 20);
    }
    for s in &socks {
        let st = mgmt(s, Request::Status);
        assert_eq!(st["controller"]["warnings"], json!([]), "{st}");
    }

    // One network, Geneve: every pair of chassis.
    ping(&tag, "g1", "203.0.113.12", &socks);
    ping(&tag, "g1", "203.0.113.13", &socks);
    ping(&tag, "g3", "203.0.113.12", &socks);
    // One network, VXLAN.
    ping(&tag, "v2", "198.51.100.11", &socks);
    // Across the router: routed on the sending chassis, then tunnelled in
    // the destination network.
    ping(&tag, "g1", "198.51.100.12", &socks);
    ping(&tag, "v2", "203.0.113.13", &socks);

    // A broadcast reaches the VMs on the other two chassis (head-end
    // replication): each one's kernel counts the broadcast echo requests.
    // (Their replies are refused by the security group, as Linux conntrack
    // would: a reply from .12 matches no connection to .255.)
    let in_echos = |vm: &str| -> u64 {
        let snmp = out(&format!("ip netns exec {tag}{vm} cat /proc/net/snmp"));
        let mut icmp = snmp.lines().filter(|l| l.starts_with("Icmp:"));
        let (names, values) = (icmp.next().unwrap(), icmp.next().unwrap());
        let i = names
            .split_whitespace()
            .position(|n| n == "InEchos")
            .unwrap();
        values.split_whitespace().nth(i).unwrap().parse().unwrap()
    };
    let before = [in_echos("g2"), in_echos("g3")];
    out(&format!(
        "ip netns exec {tag}g1 ping -b -c 3 -i 0.3 -W 1 203.0.113.255 2>&1"
    ));
    let after = [in_echos("g2"), in_echos("g3")];
    for (k, vm) in ["g2", "g3"].iter().enumerate() {
        assert_eq!(
            after[k] - before[k],
            3,
            "{vm} received each of g1's 3 broadcast echo requests exactly once"
        );
    }

    // TCP over the tunnel: curl from g1 to a web server on g3.
    let mut srv = std::process::Command::new("ip")
        .args([
            "netns",
            "exec",
            &format!("{tag}g3"),
            "python3",
            "-m",
            "http.server",
            "8080",
            "--bind",
            "203.0.113.13",
        ])
        .current_dir(&env.dir)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    std::fs::write(env.dir.join("hello.txt"), "over the overlay\n").unwrap();
    wait_listening(&tag, "g3", 8080);
    let page = out(&format!(
        "ip netns exec {tag}g1 curl -s -m 5 http://203.0.113.13:8080/hello.txt; echo rc=$?"
    ));
    let _ = srv.kill();
    let _ = srv.wait();
    assert!(
        page.starts_with("over the overlay") && page.ends_with("rc=0"),
        "{page}"
    );

    for (h, s) in socks.iter().enumerate() {
        let t = common::vertex_counters(s, "tunnel");
        assert!(
            t["packets"].as_u64().unwrap() > 0,
            "chassis {} tunnel: {t}",
            h + 1
        );
    }

    // The outside world: the external host reaches VM g2 by its floating
    // IP (served by chassis 2 through its uplink; the others leave that
    // address to it), and VM g3, without one, reaches the host through
    // chassis 3's SNAT address.
    // (The first reply may be lost while chassis 2 resolves the host's MAC.)
    ping(&tag, "eh", "198.18.0.100", &socks);
    std::fs::write(env.dir.join("g2.txt"), "vm g2 by its floating IP\n").unwrap();
    let (page, log) = common::fetch(
        &tag,
        &env.dir,
        "g2",
        "203.0.113.12",
        8082,
        "eh",
        "http://198.18.0.100:8082/g2.txt",
    );
    assert!(
        page.starts_with("vm g2 by its floating IP") && page.ends_with("rc=0"),
        "{page}"
    );
    assert!(log.contains("198.18.0.50"), "{log}");
    std::fs::write(env.dir.join("eh.txt"), "the external host\n").unwrap();
    let (page, log) = common::fetch(
        &tag,
        &env.dir,
        "eh",
        "198.18.0.50",
        8083,
        "g3",
        "http://198.18.0.50:8083/eh.txt",
    );
    assert!(
        page.starts_with("the external host") && page.ends_with("rc=0"),
        "{page}"
    );
    assert!(
        log.contains("198.18.0.203"),
        "the host saw chassis 3's SNAT address: {log}"
    );

    // Chassis 3 restarts: it re-registers, re-reads the model, and its VM
    // reaches the others again (and they it).
    let mut d3 = env.daemons.remove(2);
    common::stop(&mut d3);
    let cfg = chassis_config(&env, 3, &etcd.url(), &["g3"]);
    socks[2] = env.start_daemon_named("h3", &cfg);
    common::wait_for_objects(&socks[2], 20);
    ping(&tag, "g3", "203.0.113.11", &socks);
    ping(&tag, "g2", "203.0.113.13", &socks);
    ping(&tag, "g3", "198.51.100.12", &socks);
    drop(etcd);
}
