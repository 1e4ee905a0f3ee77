//! End to end, as root: network namespaces as VMs, each attached by a veth
//! whose host end is a dfswitchd DPDK port (net_af_packet). The topology is
//! written into the daemon's embedded store through its management socket;
//! then real clients (ping, iperf3) talk through the switch.
//!
//! Skips, loudly, only when the facility is truly absent (not root, no
//! network namespaces, no iperf3); `DF_REQUIRE_E2E=1` turns a skip into a
//! failure (CI sets it).
#![allow(clippy::unwrap_used, clippy::print_stdout)] // test code

mod common;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{base_config, can_run, mgmt, out, port, put, wait_for_objects, Env};
use df_mgmt::Request;

/// One network, two VMs: ping and a 2 s iperf3 TCP transfer; every packet
/// the switch received is accounted for as sent or dropped by a named
/// reason, and /metrics agrees.
#[test]
fn two_vms_ping_and_transfer_through_dfswitchd() {
    if !can_run() {
        return;
    }
    let mut env = Env::new("n");
    let tag = env.tag.clone();
    let macs = [
        env.vm("a", "203.0.113.1/24", None),
        env.vm("b", "203.0.113.2/24", None),
    ];
    let mport = 20000 + std::process::id() % 20000;
    // The plain input -> l2 -> output graph: forwarding alone, no security.
    let plain = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../etc/layouts/default.yaml"
    );
    let cfg = format!(
        "{}{}{}",
        base_config(&env.dir, &tag, &format!("layout = \"{plain}\"")),
        port(&tag, "a", 0),
        port(&tag, "b", 1)
    )
    .replace(
        "[management]\n",
        &format!("[management]\nmetrics = \"127.0.0.1:{mport}\"\n"),
    );
    let sock = env.start_daemon(&cfg);
    put(
        &sock,
        "lswitch",
        serde_json::json!({"id": "net1", "topic": "e2e", "version": 1}),
    );
    for (id, mac, ip) in [
        ("vma", &macs[0], "203.0.113.1"),
        ("vmb", &macs[1], "203.0.113.2"),
    ] {
        put(
            &sock,
            "lport",
            serde_json::json!({"id": id, "topic": "e2e", "version": 1, "lswitch": "net1", "macs": [mac], "ips": [ip]}),
        );
    }
    wait_for_objects(&sock, 3);
    let ping = out(&format!(
        "ip netns exec {tag}a ping -c 5 -i 0.2 -W 2 203.0.113.2; echo rc=$?"
    ));
    assert!(
        ping.ends_with("rc=0"),
        "ping through dfswitchd failed:\n{ping}"
    );
    // TCP: iperf3 for 2 s.
    let bytes = common::iperf3(&tag, "b", "203.0.113.2", "a");
    // Counters: every packet received was sent or dropped for a counted
    // reason (ARP/ND answered by the switch go back to the port they came
    // from). Read once the counters are still.
    let mut last = serde_json::Value::Null;
    let deadline = Instant::now() + Duration::from_secs(10);
    let c = loop {
        std::thread::sleep(Duration::from_millis(300));
        let c = mgmt(&sock, Request::Counters);
        if c == last || Instant::now() > deadline {
            break c;
        }
        last = c;
    };
    let (rx, tx) = (c["rx"].as_u64().unwrap(), c["tx"].as_u64().unwrap());
    let mut dropped = 0;
    for v in c["vertices"].as_array().unwrap() {
        for n in v["drops"]
            .as_object()
            .unwrap()
            .values()
            .chain(v["unwired"].as_object().unwrap().values())
        {
            dropped += n.as_u64().unwrap();
        }
    }
    for n in c["framework_drops"].as_object().unwrap().values() {
        dropped += n.as_u64().unwrap();
    }
    let p = c["ports"].as_array().unwrap();
    let port_rx: u64 = p.iter().map(|p| p["rx_packets"].as_u64().unwrap()).sum();
    let port_tx: u64 = p.iter().map(|p| p["tx_packets"].as_u64().unwrap()).sum();
    println!("switch rx {rx} tx {tx} dropped {dropped}; ports rx {port_rx} tx {port_tx}; iperf3 {bytes} bytes");
    assert!(rx > 1000, "{c}");
    assert_eq!(
        rx,
        tx + dropped,
        "every packet received is sent or counted as dropped: {c}"
    );
    assert_eq!(
        port_rx, rx,
        "the ports' rx counters match the switch's: {c}"
    );
    assert_eq!(
        port_tx, tx,
        "the ports' tx counters match the switch's: {c}"
    );
}

/// VM a (203.0.113.10, network n1) and VM b (198.51.100.10, network n2)
/// joined by router r1 (interfaces .1), a security group `all` allowing
/// every IPv4 packet, on the seed's graph; returns the management socket.
fn two_subnets_with_a_router(env: &mut Env) -> (std::path::PathBuf, String) {
    let tag = env.tag.clone();
    let ma = env.vm("a", "203.0.113.10/24", Some("203.0.113.1"));
    let mb = env.vm("b", "198.51.100.10/24", Some("198.51.100.1"));
    let seed = concat!(env!("CARGO_MANIFEST_DIR"), "/../../etc/layouts/seed.yaml");
    let cfg = format!(
        "{}{}{}",
        base_config(&env.dir, &tag, &format!("layout = \"{seed}\"")),
        port(&tag, "a", 0),
        port(&tag, "b", 1)
    );
    let sock = env.start_daemon(&cfg);

    let none = serde_json::json!({});
    common::network(
        &sock,
        "n1",
        none.clone(),
        "203.0.113.0/24",
        Some("203.0.113.1"),
    );
    common::network(&sock, "n2", none, "198.51.100.0/24", Some("198.51.100.1"));
    common::allow_all_group(&sock);
    for (id, net, mac, ip) in [
        ("vma", "n1", &ma, "203.0.113.10"),
        ("vmb", "n2", &mb, "198.51.100.10"),
    ] {
        put(
            &sock,
            "lport",
            serde_json::json!({"id": id, "topic": "e2e", "version": 1, "lswitch": net, "macs": [mac], "ips": [ip], "security_groups": ["all"]}),
        );
    }
    let mut rports = Vec::new();
    for (id, net, mac, ip) in [
        ("rp1", "n1", "fa:16:3e:00:01:01", "203.0.113.1"),
        ("rp2", "n2", "fa:16:3e:00:02:01", "198.51.100.1"),
    ] {
        let key = put(
            &sock,
            "lport",
            serde_json::json!({"id": id, "topic": "e2e", "version": 1, "lswitch": net, "macs": [mac], "ips": [ip],
                "device_owner": "network:router_interface", "port_security_enabled": false}),
        );
        let prefix = if net == "n1" {
            "203.0.113.1/24"
        } else {
            "198.51.100.1/24"
        };
        rports.push(serde_json::json!({"id": id, "topic": "e2e", "mac": mac, "lswitch": net, "network": prefix, "unique_key": key}));
    }
    put(
        &sock,
        "lrouter",
        serde_json::json!({"id": "r1", "topic": "e2e", "version": 1, "ports": rports, "routes": []}),
    );
    wait_for_objects(&sock, 10);
    (sock, ma)
}

/// Two networks joined by a distributed router, on the seed's datapath graph
/// (input -> portsec -> sg -> l2 -> l3-proactive -> firewall -> ... ->
/// output), configured by the controller from the model: ping crosses the
/// router both ways, and a TTL-1 ping gets the router's ICMP time exceeded.
#[test]
fn two_subnets_ping_across_the_router_in_the_seed_graph() {
    if !can_run() {
        return;
    }
    let mut env = Env::new("r");
    let tag = env.tag.clone();
    let (sock, ma) = two_subnets_with_a_router(&mut env);
    let st = mgmt(&sock, Request::Status);
    assert!(
        st["layout"]
            .as_str()
            .unwrap()
            .ends_with("etc/layouts/seed.yaml"),
        "status names the layout file: {st}"
    );
    assert_eq!(st["controller"]["store"], st["store"], "{st}");
    assert_eq!(
        st["controller"]["config_errors"],
        serde_json::json!([]),
        "{st}"
    );
    let ping = out(&format!(
        "ip netns exec {tag}a ping -c 5 -i 0.2 -W 2 198.51.100.10; echo rc=$?"
    ));
    if !ping.ends_with("rc=0") {
        let c = mgmt(&sock, Request::Counters);
        let t = mgmt(&sock, Request::Tables { vertex: None });
        panic!("ping across the router failed:\n{ping}\ncounters: {c}\ntables: {t}");
    }
    let ping = out(&format!(
        "ip netns exec {tag}b ping -c 3 -i 0.2 -W 2 203.0.113.10; echo rc=$?"
    ));
    assert!(
        ping.ends_with("rc=0"),
        "ping back across the router failed:\n{ping}"
    );
    let ttl1 = out(&format!(
        "ip netns exec {tag}a ping -c 1 -t 1 -W 2 198.51.100.10; echo rc=$?"
    ));
    assert!(
        ttl1.contains("Time to live exceeded") && ttl1.contains("From 203.0.113.1"),
        "a TTL-1 ping gets ICMP time exceeded from the router interface:\n{ttl1}"
    );
    // The router's own IPs answer ping, near and far interface; arping
    // gets the router interface's MAC.
    for ip in ["203.0.113.1", "198.51.100.1"] {
        let ping = out(&format!(
            "ip netns exec {tag}a ping -c 2 -i 0.2 -W 2 {ip}; echo rc=$?"
        ));
        assert!(ping.ends_with("rc=0"), "ping the router at {ip}:\n{ping}");
    }
    let arping = out(&format!(
        "ip netns exec {tag}a arping -c 2 -w 3 -I {tag}av 203.0.113.1; echo rc=$?"
    ));
    assert!(
        arping.ends_with("rc=0") && arping.to_lowercase().contains("fa:16:3e:00:01:01"),
        "arping the router interface:\n{arping}"
    );
    // TCP across the router, through the security groups, both ways of
    // the connection tracked.
    let bytes = common::iperf3(&tag, "b", "198.51.100.10", "a");
    println!("iperf3 across the router: {bytes} bytes");
    let l3 = common::vertex_counters(&sock, "l3");
    assert!(l3["packets"].as_u64().unwrap() >= 16, "{l3}");
    println!("l3 handled {} packets", l3["packets"]);

    // What `dfctl trace` shows for a ping from VM a to VM b: every stage
    // of the seed's graph it crosses, with the decisions.
    let frame = common::icmp_echo_frame(
        &ma,
        "fa:16:3e:00:01:01",
        [203, 0, 113, 10],
        [198, 51, 100, 10],
    );
    let hex: String = frame.iter().map(|b| format!("{b:02x}")).collect();
    let t = mgmt(
        &sock,
        Request::Trace {
            port: "vma".into(),
            frame_hex: hex,
        },
    );
    let lines: Vec<&str> = t["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l.as_str().unwrap())
        .collect();
    let text = lines.join("\n");
    println!("{text}");
    let mut at = 0;
    for want in [
        "input.in.default",
        "portsec.in.default",
        "secgroup.in.egress",
        "l2.in.default",
        "l3.in.ingress-filter",
        "firewall.in.egress",
        "l3.in.route",
        "firewall.in.ingress",
        "l2.in.default",
        "l3.in.ingress-filter",
        "secgroup.in.ingress",
        "output.in.default",
    ] {
        let Some(i) = lines[at..]
            .iter()
            .position(|l| l.contains(&format!(" {want}: ")))
        else {
            panic!("the trace does not cross `{want}` after line {at}:\n{text}");
        };
        at += i + 1;
    }
    for decision in [
        "sg: new connection allowed by group",
        "l3: next hop port key 2",
        "l3: ttl after 63",
        "transmit on port 1",
    ] {
        assert!(
            text.contains(decision),
            "the trace shows `{decision}`:\n{text}"
        );
    }
}

/// A VM gets its address, router, DNS server, MTU and static routes by DHCP
/// from the switch's distributed DHCP server (the built-in default graph: the seed's), with the
/// real ISC dhclient.
#[test]
fn dhclient_gets_a_lease_from_the_switch() {
    if !can_run() {
        return;
    }
    if !common::sh("command -v dhclient")
        && common::skip("dhclient is not installed (apt-get install isc-dhcp-client)")
    {
        return;
    }
    let mut env = Env::new("d");
    let tag = env.tag.clone();
    // The VM end starts without an address: DHCP gives it one.
    let ma = env.vm("a", "169.254.77.1/32", None);
    let cfg = format!("{}{}", base_config(&env.dir, &tag, ""), port(&tag, "a", 0));
    let sock = env.start_daemon(&cfg);
    put(
        &sock,
        "lswitch",
        serde_json::json!({"id": "n1", "topic": "e2e", "version": 1, "mtu": 1450}),
    );
    put(
        &sock,
        "lsubnet",
        serde_json::json!({"id": "s1", "topic": "e2e", "version": 1, "lswitch": "n1",
            "cidr": "203.0.113.0/24", "gateway_ip": "203.0.113.1", "enable_dhcp": true,
            "dhcp_ip": "203.0.113.2", "dns_nameservers": ["203.0.113.53"],
            "host_routes": [{"destination": "10.10.0.0/16", "nexthop": "203.0.113.254"}]}),
    );
    put(
        &sock,
        "lport",
        serde_json::json!({"id": "dhcp-n1", "topic": "e2e", "version": 1, "lswitch": "n1",
            "macs": ["fa:16:3e:00:00:02"], "ips": ["203.0.113.2"], "subnets": ["s1"],
            "device_owner": "network:dhcp", "port_security_enabled": false}),
    );
    put(
        &sock,
        "lport",
        serde_json::json!({"id": "vma", "topic": "e2e", "version": 1, "lswitch": "n1",
            "macs": [ma], "ips": ["203.0.113.10"], "subnets": ["s1"]}),
    );
    wait_for_objects(&sock, 4);
    let d = env.dir.display().to_string();
    std::fs::write(env.dir.join("dhclient.conf"), "timeout 15; retry 1;\nrequest subnet-mask, routers, domain-name-servers, interface-mtu, rfc3442-classless-static-routes;\n").unwrap();
    let res = out(&format!(
        "ip netns exec {tag}a dhclient -4 -1 -v -cf {d}/dhclient.conf -pf {d}/dhc.pid -lf {d}/dhc.leases -sf /bin/true {tag}av 2>&1; echo rc=$?"
    ));
    common::sh(&format!("kill $(cat {d}/dhc.pid) 2>/dev/null"));
    assert!(res.ends_with("rc=0"), "dhclient got no lease:\n{res}");
    let lease = std::fs::read_to_string(env.dir.join("dhc.leases")).unwrap();
    println!("{lease}");
    for want in [
        "fixed-address 203.0.113.10;",
        "option subnet-mask 255.255.255.0;",
        "option routers 203.0.113.1;",
        "option domain-name-servers 203.0.113.53;",
        "option interface-mtu 1450;",
        "option dhcp-server-identifier 203.0.113.2;",
    ] {
        assert!(lease.contains(want), "lease lacks `{want}`:\n{lease}");
    }
    // Option 121 (RFC 3442), as dhclient prints an option it has no name
    // for: 10.10.0.0/16 via 203.0.113.254, then the default route via the
    // gateway (clients that take 121 ignore option 3).
    assert!(
        lease.contains("option unknown-121 10:a:a:cb:0:71:fe:0:cb:0:71:1;"),
        "static routes (option 121) missing or wrong:\n{lease}"
    );
}

/// VMs a (203.0.113.10) and b (203.0.113.20) on network `n1`, dfswitchd
/// running the seed's graph; returns the socket and the VMs' MACs.
fn one_network_on_the_seed_graph(env: &mut Env) -> (std::path::PathBuf, String, String) {
    let tag = env.tag.clone();
    let ma = env.vm("a", "203.0.113.10/24", None);
    let mb = env.vm("b", "203.0.113.20/24", None);
    let seed = concat!(env!("CARGO_MANIFEST_DIR"), "/../../etc/layouts/seed.yaml");
    let cfg = format!(
        "{}{}{}",
        base_config(&env.dir, &tag, &format!("layout = \"{seed}\"")),
        port(&tag, "a", 0),
        port(&tag, "b", 1)
    );
    let sock = env.start_daemon(&cfg);
    put(
        &sock,
        "lswitch",
        serde_json::json!({"id": "n1", "topic": "e2e", "version": 1}),
    );
    (sock, ma, mb)
}

/// Serves a page from VM b on TCP `open` and `closed` (bound to `ip`),
/// fetches both from VM a with curl, and returns curl's two outputs, each
/// ending in `rc=<exit code>`.
fn http_allowed_and_blocked(env: &Env, ip: &str, open: u16, closed: u16) -> (String, String) {
    let tag = &env.tag;
    let www = env.dir.join("www");
    std::fs::create_dir_all(&www).unwrap();
    std::fs::write(www.join("index.html"), "hello from vm b\n").unwrap();
    let mut servers = Vec::new();
    for p in [open, closed] {
        servers.push(
            Command::new("ip")
                .args([
                    "netns",
                    "exec",
                    &format!("{tag}b"),
                    "python3",
                    "-m",
                    "http.server",
                ])
                .arg(p.to_string())
                .args(["--bind", ip, "--directory"])
                .arg(&www)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap(),
        );
        common::wait_listening(tag, "b", p);
    }
    let ok = out(&format!(
        "ip netns exec {tag}a curl -sS --max-time 5 http://{ip}:{open}/; echo rc=$?"
    ));
    let blocked = out(&format!(
        "ip netns exec {tag}a curl -sS --max-time 3 http://{ip}:{closed}/ 2>&1; echo rc=$?"
    ));
    for mut s in servers {
        let _ = s.kill();
        let _ = s.wait();
    }
    (ok, blocked)
}

/// Security groups end to end on the seed's graph: VM b allows ingress
/// TCP/80 only; curl from VM a to b:80 works (the reply passes as part of
/// the tracked connection), TCP/22 is blocked and counted as `no-rule`.
#[test]
fn security_groups_allow_http_and_block_ssh_on_the_seed_graph() {
    if !can_run() {
        return;
    }
    for tool in ["curl", "python3"] {
        if !common::sh(&format!("command -v {tool}"))
            && common::skip(&format!("{tool} is not installed"))
        {
            return;
        }
    }
    let mut env = Env::new("s");
    let (sock, ma, mb) = one_network_on_the_seed_graph(&mut env);
    put(
        &sock,
        "secgroup",
        serde_json::json!({"id": "client", "topic": "e2e", "version": 1, "rules": [
            {"id": "ce", "direction": "egress", "ethertype": "IPv4", "security_group_id": "client", "topic": "e2e"}]}),
    );
    put(
        &sock,
        "secgroup",
        serde_json::json!({"id": "web", "topic": "e2e", "version": 1, "rules": [
            {"id": "we", "direction": "egress", "ethertype": "IPv4", "security_group_id": "web", "topic": "e2e"},
            {"id": "w80", "direction": "ingress", "ethertype": "IPv4", "protocol": "tcp",
             "port_range_min": 80, "port_range_max": 80, "security_group_id": "web", "topic": "e2e"},
            {"id": "wicmp", "direction": "ingress", "ethertype": "IPv4", "protocol": "icmp",
             "security_group_id": "web", "topic": "e2e"}]}),
    );
    for (id, mac, ip, sg) in [
        ("vma", &ma, "203.0.113.10", "client"),
        ("vmb", &mb, "203.0.113.20", "web"),
    ] {
        put(
            &sock,
            "lport",
            serde_json::json!({"id": id, "topic": "e2e", "version": 1, "lswitch": "n1", "macs": [mac], "ips": [ip], "security_groups": [sg]}),
        );
    }
    wait_for_objects(&sock, 5);
    let (ok, blocked) = http_allowed_and_blocked(&env, "203.0.113.20", 80, 22);
    assert!(
        ok.contains("hello from vm b") && ok.ends_with("rc=0"),
        "TCP/80 must pass:\n{ok}"
    );
    assert!(
        !blocked.ends_with("rc=0"),
        "TCP/22 must be blocked:\n{blocked}"
    );
    // The HTTP response above was return traffic into VM a, whose group
    // allows nothing in: it passed as part of the tracked connection.
    // ICMP in is allowed for VM b only.
    let tag = env.tag.clone();
    let ping = out(&format!(
        "ip netns exec {tag}a ping -c 2 -i 0.2 -W 2 203.0.113.20; echo rc=$?"
    ));
    assert!(
        ping.ends_with("rc=0"),
        "ICMP to the web VM is allowed:\n{ping}"
    );
    let ping = out(&format!(
        "ip netns exec {tag}b ping -c 2 -i 0.2 -W 1 203.0.113.10; echo rc=$?"
    ));
    assert!(
        !ping.ends_with("rc=0"),
        "an unsolicited ping into the client VM is dropped:\n{ping}"
    );
    // An unsolicited inbound SYN: VM b connects to a server in VM a.
    std::fs::write(env.dir.join("a.txt"), "client side\n").unwrap();
    let (page, _) = common::fetch(
        &tag,
        &env.dir,
        "a",
        "203.0.113.10",
        8080,
        "b",
        "http://203.0.113.10:8080/a.txt",
    );
    assert!(
        !page.ends_with("rc=0"),
        "an unsolicited inbound TCP SYN into the client VM is dropped:\n{page}"
    );
    let sg = common::vertex_counters(&sock, "secgroup");
    assert!(sg["drops"]["no-rule"].as_u64().unwrap() >= 3, "{sg}");
    println!("sg drops: {}", sg["drops"]);
}

/// Anti-spoofing end to end on the seed's graph: a VM sends, with scapy, a
/// spoofed source MAC, a spoofed source IP, an ARP with a foreign sender, a
/// router advertisement and a DHCP offer; portsec drops each and counts it
/// by reason.
#[test]
fn portsec_drops_spoofed_frames_sent_with_scapy() {
    if !can_run() {
        return;
    }
    if !common::sh("/usr/bin/python3 -c 'import scapy'")
        && common::skip(
            "scapy is not installed for /usr/bin/python3 (apt-get install python3-scapy)",
        )
    {
        return;
    }
    let mut env = Env::new("p");
    let tag = env.tag.clone();
    let (sock, ma, mb) = one_network_on_the_seed_graph(&mut env);
    common::allow_all_group(&sock);
    for (id, mac, ip) in [("vma", &ma, "203.0.113.10"), ("vmb", &mb, "203.0.113.20")] {
        put(
            &sock,
            "lport",
            serde_json::json!({"id": id, "topic": "e2e", "version": 1, "lswitch": "n1", "macs": [mac], "ips": [ip], "security_groups": ["all"]}),
        );
    }
    wait_for_objects(&sock, 4);
    let script = format!(
        r#"
from scapy.all import Ether, IP, UDP, ARP, IPv6, ICMPv6ND_RA, BOOTP, DHCP, sendp, conf
conf.verb = 0
i = "{tag}av"; me = "{ma}"; peer = "{mb}"
sendp(Ether(src="02:de:ad:be:ef:01", dst=peer)/IP(src="203.0.113.10", dst="203.0.113.20")/UDP(dport=9), iface=i)
sendp(Ether(src=me, dst=peer)/IP(src="203.0.113.99", dst="203.0.113.20")/UDP(dport=9), iface=i)
sendp(Ether(src=me, dst="ff:ff:ff:ff:ff:ff")/ARP(op=1, hwsrc=me, psrc="203.0.113.77", pdst="203.0.113.20"), iface=i)
sendp(Ether(src=me, dst="33:33:00:00:00:01")/IPv6(src="fe80::1", dst="ff02::1")/ICMPv6ND_RA(), iface=i)
sendp(Ether(src=me, dst="ff:ff:ff:ff:ff:ff")/IP(src="203.0.113.10", dst="255.255.255.255")/UDP(sport=67, dport=68)/BOOTP(op=2, yiaddr="203.0.113.50")/DHCP(options=[("message-type", "offer"), "end"]), iface=i)
"#
    );
    std::fs::write(env.dir.join("spoof.py"), script).unwrap();
    let r = out(&format!(
        "ip netns exec {tag}a /usr/bin/python3 {}/spoof.py 2>&1; echo rc=$?",
        env.dir.display()
    ));
    assert!(r.ends_with("rc=0"), "scapy failed:\n{r}");
    // Wait (bounded) for the worker to have counted all five.
    let reasons = [
        "spoofed-mac",
        "spoofed-ipv4",
        "spoofed-arp",
        "router-advertisement",
        "dhcp-server",
    ];
    let deadline = Instant::now() + Duration::from_secs(10);
    let ps = loop {
        let ps = common::vertex_counters(&sock, "portsec");
        let all = reasons
            .iter()
            .all(|r| ps["drops"][*r].as_u64().unwrap_or(0) >= 1);
        if all || Instant::now() > deadline {
            break ps;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    println!("portsec drops: {}", ps["drops"]);
    for reason in [
        "spoofed-mac",
        "spoofed-ipv4",
        "spoofed-arp",
        "router-advertisement",
        "dhcp-server",
    ] {
        assert!(
            ps["drops"][reason].as_u64().unwrap_or(0) >= 1,
            "no `{reason}` drop: {}",
            ps["drops"]
        );
    }
}

/// Removing a security-group rule cuts the connections it allowed: a TCP
/// connection from VM a to VM b's port 7000 (allowed by b's ingress rule)
/// echoes; the rule is deleted from the model; within a second the same
/// connection gets no more answers.
#[test]
fn removing_a_rule_cuts_the_connection_it_allowed() {
    if !can_run() {
        return;
    }
    let mut env = Env::new("c");
    let tag = env.tag.clone();
    let (sock, ma, mb) = one_network_on_the_seed_graph(&mut env);
    let rules = |with_7000: bool| {
        let mut r = vec![
            serde_json::json!({"id": "e", "direction": "egress", "ethertype": "IPv4", "security_group_id": "sg", "topic": "e2e"}),
        ];
        if with_7000 {
            r.push(serde_json::json!({"id": "t7000", "direction": "ingress", "ethertype": "IPv4", "protocol": "tcp",
                "port_range_min": 7000, "port_range_max": 7000, "security_group_id": "sg", "topic": "e2e"}));
        }
        serde_json::json!({"id": "sg", "topic": "e2e", "version": if with_7000 { 1 } else { 2 }, "rules": r, "unique_key": 1})
    };
    put(&sock, "secgroup", rules(true));
    for (id, mac, ip) in [("vma", &ma, "203.0.113.10"), ("vmb", &mb, "203.0.113.20")] {
        put(
            &sock,
            "lport",
            serde_json::json!({"id": id, "topic": "e2e", "version": 1, "lswitch": "n1", "macs": [mac], "ips": [ip], "security_groups": ["sg"]}),
        );
    }
    wait_for_objects(&sock, 4);
    let d = env.dir.display().to_string();
    std::fs::write(
        env.dir.join("echo_server.py"),
        "import socket\ns=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\ns.bind(('203.0.113.20', 7000)); s.listen(1)\nc,_=s.accept()\nwhile True:\n    b=c.recv(100)\n    if not b: break\n    c.sendall(b)\n",
    )
    .unwrap();
    // The client echoes once, signals, waits for the rule to go, then tries again.
    std::fs::write(
        env.dir.join("echo_client.py"),
        format!("import socket, os, time\nc=socket.create_connection(('203.0.113.20', 7000), timeout=3)\nc.sendall(b'one'); assert c.recv(100)==b'one'\nopen('{d}/first-ok','w').close()\nwhile not os.path.exists('{d}/rule-gone'): time.sleep(0.05)\ntime.sleep(1.0)\nc.settimeout(2)\ntry:\n    c.sendall(b'two'); r=c.recv(100); print('second', r)\nexcept Exception as e:\n    print('cut', type(e).__name__)\n"),
    )
    .unwrap();
    let mut server = Command::new("ip")
        .args(["netns", "exec", &format!("{tag}b"), "python3"])
        .arg(env.dir.join("echo_server.py"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    common::wait_listening(&tag, "b", 7000);
    let client = Command::new("ip")
        .args(["netns", "exec", &format!("{tag}a"), "python3"])
        .arg(env.dir.join("echo_client.py"))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while !env.dir.join("first-ok").exists() {
        assert!(Instant::now() < deadline, "the first echo never came back");
        std::thread::sleep(Duration::from_millis(50));
    }
    // Delete the rule that allowed the connection.
    put(&sock, "secgroup", rules(false));
    std::fs::write(env.dir.join("rule-gone"), "").unwrap();
    let res = client.wait_with_output().unwrap();
    let _ = server.kill();
    let _ = server.wait();
    let stdout = String::from_utf8_lossy(&res.stdout);
    assert!(
        stdout.contains("cut"),
        "the connection survived the rule's removal: {stdout} {}",
        String::from_utf8_lossy(&res.stderr)
    );
}

/// A firewall group on the router's interface to network n1 (egress policy:
/// deny TCP to port 7001, allow the rest): from VM a, HTTP to VM b on port
/// 7000 crosses the router, port 7001 does not.
#[test]
fn firewall_group_blocks_one_tcp_port_between_subnets() {
    if !can_run() {
        return;
    }
    let mut env = Env::new("f");
    let (sock, _) = two_subnets_with_a_router(&mut env);
    for (id, action, port) in [("deny7001", "deny", Some(7001)), ("allow", "allow", None)] {
        let mut r = serde_json::json!({"id": id, "topic": "e2e", "version": 1, "action": action, "ip_version": 4, "enabled": true});
        if let Some(p) = port {
            r["protocol"] = serde_json::json!("tcp");
            r["destination_port"] = serde_json::json!([p, p]);
        }
        put(&sock, "firewall_rule", r);
    }
    put(
        &sock,
        "firewall_policy",
        serde_json::json!({"id": "pol", "topic": "e2e", "version": 1, "firewall_rules": ["deny7001", "allow"]}),
    );
    put(
        &sock,
        "firewall_group",
        serde_json::json!({"id": "fwg", "topic": "e2e", "version": 1, "egress_firewall_policy": "pol", "ports": ["rp1"], "enabled": true}),
    );
    wait_for_objects(&sock, 14);
    let st = mgmt(&sock, Request::Status);
    assert_eq!(
        st["controller"]["config_errors"],
        serde_json::json!([]),
        "{st}"
    );
    let (ok, blocked) = http_allowed_and_blocked(&env, "198.51.100.10", 7000, 7001);
    assert!(
        ok.contains("hello from vm b") && ok.ends_with("rc=0"),
        "TCP/7000 must cross the router:\n{ok}"
    );
    assert!(
        !blocked.ends_with("rc=0"),
        "TCP/7001 must be blocked by the firewall group:\n{blocked}"
    );
    let fw = common::vertex_counters(&sock, "firewall");
    assert!(fw["drops"]["denied"].as_u64().unwrap() >= 1, "{fw}");
    println!("firewall drops: {}", fw["drops"]);
}

/// Provider networks (Dragonflow's bridge mappings): a host on the
/// physical network `physnet1` (namespace `h`) sits behind the switch port
/// that is physnet1's uplink. VM a is on the flat network: it and the
/// physical host ping each other (ARP flooded out of the uplink and
/// answered back in). VM b is on VLAN 100 of the same physical network:
/// the physical host (scapy, as this kernel has no 802.1Q module) sends it
/// an 802.1Q-tagged ping; the tag is popped on the way in, and the reply
/// comes back out of the uplink tagged with VLAN 100.
#[test]
fn vms_on_flat_and_vlan_provider_networks_reach_a_physical_host() {
    if !can_run() {
        return;
    }
    let scapy = common::sh("/usr/bin/python3 -c 'import scapy'");
    if !scapy
        && common::skip(
            "scapy is not installed for /usr/bin/python3 (apt-get install python3-scapy)",
        )
    {
        return;
    }
    let mut env = Env::new("u");
    let tag = env.tag.clone();
    let ma = env.vm("a", "203.0.113.10/24", None);
    let mb = env.vm("b", "198.51.100.10/24", None);
    let mh = env.vm("h", "203.0.113.50/24", None);
    let seed = concat!(env!("CARGO_MANIFEST_DIR"), "/../../etc/layouts/seed.yaml");
    let cfg = format!(
        "{}{}{}[[port]]\nname = \"uplink\"\ndevice = \"net_af_packet2,iface={tag}hh,qdisc_bypass=1\"\nphysical_network = \"physnet1\"\n",
        base_config(&env.dir, &tag, &format!("layout = \"{seed}\"")),
        port(&tag, "a", 0),
        port(&tag, "b", 1)
    );
    let sock = env.start_daemon(&cfg);
    common::network(
        &sock,
        "ext",
        serde_json::json!({"network_type": "flat", "physical_network": "physnet1"}),
        "203.0.113.0/24",
        None,
    );
    common::network(
        &sock,
        "v100",
        serde_json::json!({"network_type": "vlan", "physical_network": "physnet1", "segmentation_id": 100}),
        "198.51.100.0/24",
        None,
    );
    common::allow_all_group(&sock);
    for (id, net, mac, ip) in [
        ("vma", "ext", &ma, "203.0.113.10"),
        ("vmb", "v100", &mb, "198.51.100.10"),
    ] {
        put(
            &sock,
            "lport",
            serde_json::json!({"id": id, "topic": "e2e", "version": 1, "lswitch": net,
                "macs": [mac], "ips": [ip], "security_groups": ["all"]}),
        );
    }
    wait_for_objects(&sock, 7);
    let st = mgmt(&sock, Request::Status);
    assert_eq!(st["controller"]["warnings"], serde_json::json!([]), "{st}");
    let fail = |what: &str, text: &str| -> ! {
        let c = mgmt(&sock, Request::Counters);
        let t = mgmt(&sock, Request::Tables { vertex: None });
        panic!("{what}:\n{text}\ncounters: {c}\ntables: {t}");
    };

    // Flat: plain ping both ways, ARP included.
    for (ns, to) in [("a", "203.0.113.50"), ("h", "203.0.113.10")] {
        let ping = out(&format!(
            "ip netns exec {tag}{ns} ping -c 3 -i 0.2 -W 2 {to}; echo rc=$?"
        ));
        if !ping.ends_with("rc=0") {
            fail(
                &format!("ping {ns} -> {to} over the flat provider network"),
                &ping,
            );
        }
    }
    let neigh = out(&format!("ip netns exec {tag}h ip neigh show"));
    assert!(
        neigh.contains(&format!("203.0.113.10 dev {tag}hv lladdr {ma}")),
        "the physical host resolved VM a through the uplink: {neigh}"
    );

    // VLAN 100: VM b knows the physical host's MAC (static neighbour, as
    // the host has no VLAN interface to answer ARP on); the host sends a
    // tagged echo request and waits for the tagged reply.
    assert!(common::sh(&format!(
        "ip netns exec {tag}b ip neigh replace 198.51.100.50 lladdr {mh} dev {tag}bv"
    )));
    let script = format!(
        r#"
import time
from scapy.all import Ether, Dot1Q, IP, ICMP, AsyncSniffer, sendp, conf
conf.verb = 0
req = (Ether(src="{mh}", dst="{mb}") / Dot1Q(vlan=100) /
       IP(src="198.51.100.50", dst="198.51.100.10") / ICMP(id=7, seq=1) / b"provider-vlan")
sn = AsyncSniffer(iface="{tag}hv", count=1, timeout=5,
                  lfilter=lambda p: ICMP in p and p[ICMP].type == 0 and p[ICMP].id == 7)
sn.start()
time.sleep(0.5)
sendp(req, iface="{tag}hv")
sn.join()
got = sn.results or []
if not got:
    print("no reply")
else:
    ans = got[0]
    print("reply vlan=%s src=%s payload=%s" % (ans[Dot1Q].vlan if Dot1Q in ans else "none",
          ans[IP].src, bytes(ans[ICMP].payload)))
"#
    );
    let got = out(&format!(
        "ip netns exec {tag}h /usr/bin/python3 -c '{script}' 2>&1"
    ));
    if !got.contains("reply vlan=100 src=198.51.100.10 payload=b'provider-vlan'") {
        fail(
            "a tagged ping from the physical host to VM b on VLAN 100",
            &got,
        );
    }
    let provider = common::vertex_counters(&sock, "provider");
    assert!(provider["packets"].as_u64().unwrap() >= 4, "{provider}");
}

/// Trunk ports (VLAN-aware VMs): VM a's port is a trunk parent on network
/// n1 with a child port on network n2 under VLAN 100. From inside VM a,
/// scapy (this kernel has no 802.1Q module) sends an 802.1Q-tagged ping as
/// the child to VM b on n2 (untagged): the tag is popped on the way in,
/// the child's portsec and security group apply, and b's reply comes back
/// to VM a tagged with VLAN 100. A tag no child has is dropped and counted.
#[test]
fn trunk_child_port_talks_by_vlan_id() {
    if !can_run() {
        return;
    }
    if !common::sh("/usr/bin/python3 -c 'import scapy'")
        && common::skip(
            "scapy is not installed for /usr/bin/python3 (apt-get install python3-scapy)",
        )
    {
        return;
    }
    let mut env = Env::new("t");
    let tag = env.tag.clone();
    let ma = env.vm("a", "203.0.113.10/24", None);
    let mb = env.vm("b", "198.51.100.10/24", None);
    let child_mac = "02:00:00:00:01:64";
    let seed = concat!(env!("CARGO_MANIFEST_DIR"), "/../../etc/layouts/seed.yaml");
    let cfg = format!(
        "{}{}{}",
        base_config(&env.dir, &tag, &format!("layout = \"{seed}\"")),
        port(&tag, "a", 0),
        port(&tag, "b", 1)
    );
    let sock = env.start_daemon(&cfg);
    let none = serde_json::json!({});
    common::network(&sock, "n1", none.clone(), "203.0.113.0/24", None);
    common::network(&sock, "n2", none, "198.51.100.0/24", None);
    common::allow_all_group(&sock);
    for (id, net, mac, ip) in [
        ("vma", "n1", ma.as_str(), "203.0.113.10"),
        ("vmac", "n2", child_mac, "198.51.100.20"),
        ("vmb", "n2", mb.as_str(), "198.51.100.10"),
    ] {
        put(
            &sock,
            "lport",
            serde_json::json!({"id": id, "topic": "e2e", "version": 1, "lswitch": net, "macs": [mac], "ips": [ip], "security_groups": ["all"]}),
        );
    }
    put(
        &sock,
        "child_port_segmentation",
        serde_json::json!({"id": "vma-vmac", "topic": "e2e", "parent": "vma", "port": "vmac",
            "segmentation_type": "vlan", "segmentation_id": 100}),
    );
    wait_for_objects(&sock, 8);
    let st = mgmt(&sock, Request::Status);
    assert_eq!(st["controller"]["warnings"], serde_json::json!([]), "{st}");
    let script = format!(
        r#"
import time
from scapy.all import Ether, Dot1Q, IP, ICMP, AsyncSniffer, sendp, conf
conf.verb = 0
def ping(vid, ident):
    req = (Ether(src="{child_mac}", dst="{mb}") / Dot1Q(vlan=vid) /
           IP(src="198.51.100.20", dst="198.51.100.10") / ICMP(id=ident, seq=1) / b"trunk-child")
    sn = AsyncSniffer(iface="{tag}av", count=1, timeout=4,
                      lfilter=lambda p: ICMP in p and p[ICMP].type == 0 and p[ICMP].id == ident)
    sn.start()
    time.sleep(0.5)
    sendp(req, iface="{tag}av")
    sn.join()
    got = sn.results or []
    if not got:
        return "vlan %d: no reply" % vid
    ans = got[0]
    return "vlan %d: reply tagged %s from %s" % (vid, ans[Dot1Q].vlan if Dot1Q in ans else "none", ans[IP].src)
print(ping(100, 11))
print(ping(200, 12))
"#
    );
    let got = out(&format!(
        "ip netns exec {tag}a /usr/bin/python3 -c '{script}' 2>&1"
    ));
    let dump = || {
        format!(
            "counters: {}\ntables: {}",
            mgmt(&sock, Request::Counters),
            mgmt(
                &sock,
                Request::Tables {
                    vertex: Some("input".into())
                }
            )
        )
    };
    assert!(
        got.contains("vlan 100: reply tagged 100 from 198.51.100.10"),
        "the child (VLAN 100) pings VM b and the reply comes back tagged:\n{got}\n{}",
        dump()
    );
    assert!(
        got.contains("vlan 200: no reply"),
        "VLAN 200 names no child:\n{got}"
    );
    let input = common::vertex_counters(&sock, "input");
    assert!(
        input["drops"]["unknown-vlan"].as_u64().unwrap() >= 1,
        "{input}"
    );
}

/// Floating IPs (Dragonflow's distributed DNAT): VM a (203.0.113.10 on a
/// tenant network behind router r1) has floating IP 198.18.0.100 on the
/// flat external network `ext` (physnet1, its uplink a switch port). A host
/// on the physical network (namespace `h`, 198.18.0.50) pings the floating
/// IP and fetches a page from VM a through it; VM a pings the host, leaving
/// as 198.18.0.100 (the switch resolves the host's MAC by ARP itself).
#[test]
fn floating_ip_reaches_a_vm_from_the_external_network_and_back() {
    if !can_run() {
        return;
    }
    let mut env = Env::new("x");
    let tag = env.tag.clone();
    let ma = env.vm("a", "203.0.113.10/24", Some("203.0.113.1"));
    let mb = env.vm("b", "203.0.113.20/24", Some("203.0.113.1"));
    env.vm("h", "198.18.0.50/24", Some("198.18.0.1"));
    let seed = concat!(env!("CARGO_MANIFEST_DIR"), "/../../etc/layouts/seed.yaml");
    let cfg = format!(
        "{}{}{}[[port]]\nname = \"uplink\"\ndevice = \"net_af_packet2,iface={tag}hh,qdisc_bypass=1\"\nphysical_network = \"physnet1\"\n",
        base_config(&env.dir, &tag, &format!("layout = \"{seed}\""))
            .replace("id = \"e2e\"\n", "id = \"e2e\"\nexternal_ip = \"198.18.0.200\"\n"),
        port(&tag, "a", 0),
        port(&tag, "b", 1),
    );
    let sock = env.start_daemon(&cfg);
    common::network(
        &sock,
        "n1",
        serde_json::json!({}),
        "203.0.113.0/24",
        Some("203.0.113.1"),
    );
    common::network(
        &sock,
        "ext",
        serde_json::json!({"network_type": "flat", "physical_network": "physnet1", "is_external": true}),
        "198.18.0.0/24",
        Some("198.18.0.1"),
    );
    common::allow_all_group(&sock);
    for (id, mac, ip) in [("vma", &ma, "203.0.113.10"), ("vmb", &mb, "203.0.113.20")] {
        put(
            &sock,
            "lport",
            serde_json::json!({"id": id, "topic": "e2e", "version": 1, "lswitch": "n1", "macs": [mac],
                "ips": [ip], "security_groups": ["all"]}),
        );
    }
    let rkey = put(
        &sock,
        "lport",
        serde_json::json!({"id": "rp1", "topic": "e2e", "version": 1, "lswitch": "n1", "macs": ["fa:16:3e:00:01:01"],
            "ips": ["203.0.113.1"], "device_owner": "network:router_interface", "port_security_enabled": false}),
    );
    put(
        &sock,
        "lrouter",
        serde_json::json!({"id": "r1", "topic": "e2e", "version": 1, "routes": [],
            "external_gateway": {"network": "ext", "enable_snat": true}, "ports": [
            {"id": "rp1", "topic": "e2e", "mac": "fa:16:3e:00:01:01", "lswitch": "n1", "network": "203.0.113.1/24", "unique_key": rkey}]}),
    );
    put(
        &sock,
        "lport",
        serde_json::json!({"id": "fip1-port", "topic": "e2e", "version": 1, "lswitch": "ext", "macs": ["fa:16:3e:00:0f:01"],
            "ips": ["198.18.0.100"], "device_owner": "network:floatingip", "port_security_enabled": false}),
    );
    put(
        &sock,
        "floatingip",
        serde_json::json!({"id": "fip1", "topic": "e2e", "version": 1, "floating_ip_address": "198.18.0.100",
            "fixed_ip_address": "203.0.113.10", "lport": "vma", "floating_lport": "fip1-port", "lrouter": "r1"}),
    );
    wait_for_objects(&sock, 10);
    let st = mgmt(&sock, Request::Status);
    assert_eq!(st["controller"]["warnings"], serde_json::json!([]), "{st}");
    let fail = |what: &str, text: &str| -> ! {
        let c = mgmt(&sock, Request::Counters);
        let t = mgmt(&sock, Request::Tables { vertex: None });
        panic!("{what}:\n{text}\ncounters: {c}\ntables: {t}");
    };
    // The host reaches the VM by its floating IP (the first reply may be
    // lost while the switch resolves the host's MAC).
    let p = out(&format!(
        "ip netns exec {tag}h ping -c 4 -i 0.3 -W 2 198.18.0.100; echo rc=$?"
    ));
    if !p.ends_with("rc=0") {
        fail("ping the floating IP from the external host", &p);
    }
    // The VM reaches the host, leaving as its floating IP.
    let p = out(&format!(
        "ip netns exec {tag}a ping -c 3 -i 0.2 -W 2 198.18.0.50; echo rc=$?"
    ));
    if !p.ends_with("rc=0") || !p.contains("3 received") {
        fail("ping the external host from the VM", &p);
    }
    // TCP through the floating IP: the host fetches a page from VM a, and
    // the VM's web server sees the host's own address.
    std::fs::write(env.dir.join("fip.txt"), "through the floating IP\n").unwrap();
    let (page, log) = common::fetch(
        &tag,
        &env.dir,
        "a",
        "203.0.113.10",
        8080,
        "h",
        "http://198.18.0.100:8080/fip.txt",
    );
    if !(page.starts_with("through the floating IP") && page.ends_with("rc=0")) {
        fail("curl the VM through its floating IP", &page);
    }
    assert!(
        log.contains("198.18.0.50"),
        "the server saw the external host's address: {log}"
    );

    // SNAT: VM b has no floating IP; it reaches the host as the chassis'
    // external address 198.18.0.200.
    let p = out(&format!(
        "ip netns exec {tag}b ping -c 3 -i 0.2 -W 2 198.18.0.50; echo rc=$?"
    ));
    if !p.ends_with("rc=0") {
        fail("ping the external host from VM b through SNAT", &p);
    }
    std::fs::write(env.dir.join("snat.txt"), "from the outside\n").unwrap();
    let (page, log) = common::fetch(
        &tag,
        &env.dir,
        "h",
        "198.18.0.50",
        8081,
        "b",
        "http://198.18.0.50:8081/snat.txt",
    );
    if !(page.starts_with("from the outside") && page.ends_with("rc=0")) {
        fail("curl from VM b to the external host through SNAT", &page);
    }
    assert!(
        log.contains("198.18.0.200"),
        "the external host saw the chassis' SNAT address: {log}"
    );
    let nat = common::vertex_counters(&sock, "nat");
    assert!(nat["packets"].as_u64().unwrap() >= 10, "{nat}");
}

/// The EUI-64 interface identifier of `mac` appended to the /64 `prefix`
/// (what SLAAC makes, and what Neutron records as the port's address).
fn eui64(prefix: &str, mac: &str) -> String {
    let m: Vec<u8> = mac
        .split(':')
        .map(|h| u8::from_str_radix(h, 16).unwrap())
        .collect();
    let p: std::net::Ipv6Addr = prefix.parse().unwrap();
    let mut b = p.octets();
    b[8..16].copy_from_slice(&[m[0] ^ 2, m[1], m[2], 0xff, 0xfe, m[3], m[4], m[5]]);
    std::net::Ipv6Addr::from(b).to_string()
}

/// IPv6: network n1 (2001:db8:1::/64) is SLAAC, network n2
/// (2001:db8:2::/64) DHCPv6 stateful, router r1 joins them. rdisc6 in each
/// VM sees the router's advertisement (prefix, flags, MTU); VM a configures
/// its SLAAC address and default route from it; dhclient -6 in VM b gets
/// its fixed address from the switch's DHCPv6 server; VM a pings VM b
/// across the router over IPv6.
#[test]
fn ipv6_router_advertisements_dhcpv6_and_routing() {
    if !can_run() {
        return;
    }
    for (cmd, pkg) in [("rdisc6", "ndisc6"), ("dhclient", "isc-dhcp-client")] {
        if !common::sh(&format!("command -v {cmd}"))
            && common::skip(&format!("{cmd} is not installed (apt-get install {pkg})"))
        {
            return;
        }
    }
    let mut env = Env::new("6");
    let tag = env.tag.clone();
    // IPv6-only VMs (a placeholder IPv4 address keeps the helper happy).
    let ma = env.vm("a", "169.254.77.1/32", None);
    let mb = env.vm("b", "169.254.77.2/32", None);
    let seed = concat!(env!("CARGO_MANIFEST_DIR"), "/../../etc/layouts/seed.yaml");
    let cfg = format!(
        "{}{}{}",
        base_config(&env.dir, &tag, &format!("layout = \"{seed}\"")),
        port(&tag, "a", 0),
        port(&tag, "b", 1)
    );
    let sock = env.start_daemon(&cfg);
    let a6 = eui64("2001:db8:1::", &ma);
    let b6 = "2001:db8:2::10";
    for (n, cidr, gw, mode) in [
        ("n1", "2001:db8:1::/64", "2001:db8:1::1", "slaac"),
        ("n2", "2001:db8:2::/64", "2001:db8:2::1", "dhcpv6-stateful"),
    ] {
        put(
            &sock,
            "lswitch",
            serde_json::json!({"id": n, "topic": "e2e", "version": 1, "mtu": 1450}),
        );
        put(
            &sock,
            "lsubnet",
            serde_json::json!({"id": format!("{n}-sub"), "topic": "e2e", "version": 1, "lswitch": n,
                "cidr": cidr, "gateway_ip": gw, "enable_dhcp": true, "dns_nameservers": ["2001:db8::53"],
                "ipv6_ra_mode": mode, "ipv6_address_mode": mode}),
        );
    }
    put(
        &sock,
        "lport",
        serde_json::json!({"id": "dhcp-n2", "topic": "e2e", "version": 1, "lswitch": "n2",
            "macs": ["fa:16:3e:00:00:02"], "ips": ["2001:db8:2::2"], "device_owner": "network:dhcp",
            "port_security_enabled": false}),
    );
    put(
        &sock,
        "secgroup",
        serde_json::json!({"id": "all6", "topic": "e2e", "version": 1, "rules": [
            {"id": "e6", "direction": "egress", "ethertype": "IPv6", "security_group_id": "all6", "topic": "e2e"},
            {"id": "i6", "direction": "ingress", "ethertype": "IPv6", "security_group_id": "all6", "topic": "e2e"}]}),
    );
    for (id, net, mac, ip) in [("vma", "n1", &ma, a6.as_str()), ("vmb", "n2", &mb, b6)] {
        put(
            &sock,
            "lport",
            serde_json::json!({"id": id, "topic": "e2e", "version": 1, "lswitch": net, "macs": [mac],
                "ips": [ip], "security_groups": ["all6"]}),
        );
    }
    let mut rports = Vec::new();
    for (id, net, mac, ip, prefix) in [
        (
            "rp1",
            "n1",
            "fa:16:3e:00:01:01",
            "2001:db8:1::1",
            "2001:db8:1::1/64",
        ),
        (
            "rp2",
            "n2",
            "fa:16:3e:00:02:01",
            "2001:db8:2::1",
            "2001:db8:2::1/64",
        ),
    ] {
        let key = put(
            &sock,
            "lport",
            serde_json::json!({"id": id, "topic": "e2e", "version": 1, "lswitch": net, "macs": [mac], "ips": [ip],
                "device_owner": "network:router_interface", "port_security_enabled": false}),
        );
        rports.push(serde_json::json!({"id": id, "topic": "e2e", "mac": mac, "lswitch": net, "network": prefix, "unique_key": key}));
    }
    put(
        &sock,
        "lrouter",
        serde_json::json!({"id": "r1", "topic": "e2e", "version": 1, "ports": rports, "routes": []}),
    );
    wait_for_objects(&sock, 11);
    let st = mgmt(&sock, Request::Status);
    assert_eq!(st["controller"]["warnings"], serde_json::json!([]), "{st}");
    let fail = |what: &str, text: &str| -> ! {
        let c = mgmt(&sock, Request::Counters);
        let t = mgmt(
            &sock,
            Request::Tables {
                vertex: Some("dhcp".into()),
            },
        );
        panic!("{what}:\n{text}\ncounters: {c}\ntables: {t}");
    };

    // The VMs' link-local addresses finish duplicate address detection
    // before anything can be sent from them.
    for vm in ["a", "b"] {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        loop {
            let a = out(&format!(
                "ip netns exec {tag}{vm} ip -6 addr show dev {tag}{vm}v scope link"
            ));
            if a.contains("fe80::") && !a.contains("tentative") {
                break;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "no link-local address in VM {vm}: {a}"
            );
            std::thread::sleep(std::time::Duration::from_millis(200));
        }
    }
    // Router advertisements, as rdisc6 sees them.
    let ra = out(&format!(
        "ip netns exec {tag}a rdisc6 -1 -w 2000 {tag}av 2>&1; echo rc=$?"
    ));
    for want in [
        "Stateful address conf.    :           No",
        "MTU                      :         1450 bytes",
        " Prefix                   : 2001:db8:1::/64",
        "from fe80::f816:3eff:fe00:101",
    ] {
        if !ra.contains(want) {
            fail(&format!("VM a's RA lacks `{want}`"), &ra);
        }
    }
    let ra = out(&format!(
        "ip netns exec {tag}b rdisc6 -1 -w 2000 {tag}bv 2>&1; echo rc=$?"
    ));
    if !ra.contains("Stateful address conf.    :          Yes") {
        fail("VM b's RA has the M flag", &ra);
    }
    // SLAAC: the kernel configures the advertised prefix and default route.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    loop {
        let addrs = out(&format!("ip netns exec {tag}a ip -6 addr show dev {tag}av"));
        let routes = out(&format!("ip netns exec {tag}a ip -6 route show default"));
        // Usable once duplicate address detection is over (until then the
        // kernel would send from the link-local address).
        let ready = addrs
            .lines()
            .any(|l| l.contains(&a6) && !l.contains("tentative"));
        if ready && routes.contains("via fe80::f816:3eff:fe00:101") {
            break;
        }
        if std::time::Instant::now() > deadline {
            fail(
                "VM a never configured its SLAAC address and default route",
                &format!("{addrs}\n{routes}"),
            );
        }
        std::thread::sleep(std::time::Duration::from_millis(300));
    }
    // DHCPv6 stateful: dhclient -6 gets the port's fixed address.
    let d = env.dir.display().to_string();
    let res = out(&format!(
        "ip netns exec {tag}b timeout 20 dhclient -6 -1 -v -pf {d}/dhc6.pid -lf {d}/dhc6.leases -sf /bin/true {tag}bv 2>&1; echo rc=$?"
    ));
    common::sh(&format!("kill $(cat {d}/dhc6.pid) 2>/dev/null"));
    let lease = std::fs::read_to_string(env.dir.join("dhc6.leases")).unwrap_or_default();
    if !res.ends_with("rc=0") || !lease.contains(&format!("iaaddr {b6}")) {
        fail(
            "dhclient -6 got no lease with the fixed address",
            &format!("{res}\n{lease}"),
        );
    }
    assert!(
        lease.contains("option dhcp6.name-servers 2001:db8::53;"),
        "{lease}"
    );
    // dhclient ran with a no-op script: put the leased address on as the
    // Debian script would, and route by the advertisement.
    assert!(common::sh(&format!(
        "ip netns exec {tag}b ip -6 addr add {b6}/64 dev {tag}bv nodad"
    )));
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    while !out(&format!("ip netns exec {tag}b ip -6 route show default")).contains("via fe80::") {
        if std::time::Instant::now() > deadline {
            fail("VM b never got a default route from the RA", "");
        }
        std::thread::sleep(std::time::Duration::from_millis(300));
    }
    // Routing between the subnets.
    let p = out(&format!(
        "ip netns exec {tag}a ping -6 -c 3 -i 0.2 -W 2 {b6}; echo rc=$?"
    ));
    if !p.ends_with("rc=0") {
        fail("ping -6 across the router", &p);
    }
}
