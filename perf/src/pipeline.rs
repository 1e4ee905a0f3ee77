//! The `pipeline` scenario: the seed's full datapath (input -> portsec ->
//! sg (conntrack) -> l2 -> l3-proactive [-> firewall -> l3 route ->
//! firewall -> l2] -> sg ingress -> output) with tables equivalent to the
//! peer `shared/peers/ovs-dpdk-ct.sh`, built the way production builds
//! them: NB model objects (decoded from JSON, as the store delivers them)
//! compiled by `df_controller::compile` and published into the graph.
//!
//! The model (one chassis, this switch):
//! * network 42 (subnet 198.18.0.0/24), VM port `vm` (key 1, MAC
//!   02:00:01:00:00:01, IP 198.18.0.1, port security on, security group
//!   `sg` of the peer's 50 egress rules) on switch port 0: it sends the
//!   frames of `mkpcap_flows.py`;
//! * 100 idle VM ports `idle-P` (P = 3..=102, key P, MAC 02:00:01:00:00:P,
//!   IP 198.18.0.P, port security on, no group) each on its own network
//!   42 + P, on switch ports P (which carry no traffic), as the peer's
//!   in_port 3..102;
//! * `uplink` (key 1001, port security off) on network 42, switch port 2:
//!   in `ct=est` modes it replays the reply of every flow during the
//!   warm-up (as the peer's port 200), which sg's ingress check of `vm`
//!   finds in conntrack and marks replied;
//! * l2 mode: `sink` (key 1000, port security off) on network 42 with the
//!   1000 MACs 02:00:00:00:HH:LL, switch port 1;
//! * l3 mode: router `r1` (key 70) with interface `rif42` (key 2000, MAC
//!   02:00:00:00:00:00, 198.18.0.254/24) on network 42 and `rif43` (key
//!   2001, MAC 02:00:00:aa:ff:ff, 198.18.3.254/23) on transit network 43;
//!   256 extra routes 198.19.K.0/24 via 198.18.2.(K+1) (K = 0..=255); the
//!   next hops are the allowed address pairs (198.18.2.(K+1),
//!   02:00:00:aa:00:KK) of `nexthops` (key 1002, port security off, the 256
//!   MACs) on network 43, switch port 1. Forwarding rewrites both MACs and
//!   decrements the TTL, as the peer's table 3.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{anyhow, Result};
use df_controller::{compile, Cache, Change, Local, Publisher, SwitchPortBinding};
use df_dp::port::{Port, PortStats};
use df_dp::{Batch, Graph, PacketPool};
use serde_json::json;

/// Switch port of the VM that sends the measured traffic.
pub const VM_PORT: u16 = 0;
/// Switch port of the sink (`net_null`).
pub const SINK_PORT: u16 = 1;
/// Switch port of the uplink that replays the replies (ct=est priming).
pub const UPLINK_PORT: u16 = 2;
/// Switch ports the scenario uses (VM, sink, uplink).
pub const PORTS: u16 = 3;
/// The VM's network (= conntrack zone), as the peer's metadata 0x2a.
pub const NETWORK: u32 = 42;
/// FDB MACs in l2 mode (the peer's table 3).
pub const L2_MACS: u32 = 1000;
/// Routes (and next hops) in l3 mode.
pub const ROUTES: u32 = 256;
/// Idle VM ports (the peer's in_port 3..=102).
pub const IDLE_PORTS: u16 = 100;

/// What the pipeline forwards and in which conntrack state it is measured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum PipelineMode {
    /// L2 to 1000 MACs; one-way UDP (no replies).
    L2New,
    /// L2 to 1000 MACs; every flow's reply seen during the warm-up.
    L2Est,
    /// L3: router MAC, 256 /24 routes; replies seen during the warm-up.
    L3Est,
    /// L3, one-way UDP.
    L3New,
}

impl PipelineMode {
    /// The name the peer's lines use.
    pub fn name(self) -> &'static str {
        match self {
            PipelineMode::L2New => "l2-new",
            PipelineMode::L2Est => "l2-est",
            PipelineMode::L3Est => "l3-est",
            PipelineMode::L3New => "l3-new",
        }
    }
    /// Routed (l3) rather than switched.
    pub fn l3(self) -> bool {
        matches!(self, PipelineMode::L3Est | PipelineMode::L3New)
    }
    /// Replies are replayed during the warm-up.
    pub fn est(self) -> bool {
        matches!(self, PipelineMode::L2Est | PipelineMode::L3Est)
    }
}

/// What the mode measures, in one line (for the report): which tables and
/// how conntrack sees the flows.
pub fn describe(mode: PipelineMode) -> String {
    let fwd = if mode.l3() {
        "l3: dst = router MAC 02:00:00:00:00:00, 256 /24 extra routes via next hops \
         02:00:00:aa:00:KK, MAC rewrite + TTL - 1"
    } else {
        "l2: 1000 dst MACs on network 42"
    };
    let ct = if mode.est() {
        "ct=est: each flow's reply was replayed through the uplink during the warm-up, \
         so every measured packet is a conntrack hit on a replied entry"
    } else {
        "ct=new: one-way UDP; sg commits a flow on its FIRST packet (rules checked once, \
         entry unreplied, 30 s UDP timeout) and treats later packets as conntrack hits \
         without rule evaluation (OVS 3.1 keeps one-way UDP +new: rules and ct(commit) \
         on every packet)"
    };
    format!("{fwd}; portsec + sg (50 egress rules, zone = network 42); {ct}")
}

/// The 60-byte frames (64 on the wire) of `shared/peers/lib/mkpcap_flows.py
/// [--reply] OUT flows macs`, byte for byte: frame k from the VM
/// (02:00:01:00:00:01, 198.18.0.1) to MAC 02:00:00:00:HH:LL with HH:LL =
/// k % macs, IPv4 198.19.(k & 255).((k >> 8) & 255), UDP 10000 + (k >> 16)
/// -> 1024 + k % 1000, IP id k & 0xffff, TTL 64, UDP checksum 0; `reply`:
/// the same flows in the other direction (MACs, IPs and ports swapped).
pub fn flow_frames(flows: u32, macs: u32, reply: bool) -> Vec<Vec<u8>> {
    const VM_MAC: [u8; 6] = [2, 0, 1, 0, 0, 1];
    const VM_IP: [u8; 4] = [198, 18, 0, 1];
    let macs = macs.max(1);
    (0..flows.max(1))
        .map(|k| {
            let m = k % macs;
            let mac = [2, 0, 0, 0, (m >> 8) as u8, m as u8];
            let ip = [198, 19, k as u8, (k >> 8) as u8];
            let (sport, dport) = (10000 + (k >> 16) as u16, 1024 + (k % 1000) as u16);
            let mut f = vec![0u8; 60];
            let (dst_mac, src_mac, src, dst, sp, dp) = if reply {
                (VM_MAC, mac, ip, VM_IP, dport, sport)
            } else {
                (mac, VM_MAC, VM_IP, ip, sport, dport)
            };
            f[0..6].copy_from_slice(&dst_mac);
            f[6..12].copy_from_slice(&src_mac);
            f[12..14].copy_from_slice(&[0x08, 0x00]);
            let h = &mut f[14..34];
            h[0] = 0x45;
            h[2..4].copy_from_slice(&46u16.to_be_bytes());
            h[4..6].copy_from_slice(&(k as u16).to_be_bytes());
            h[8] = 64;
            h[9] = 17;
            h[12..16].copy_from_slice(&src);
            h[16..20].copy_from_slice(&dst);
            let c = df_wire::checksum::checksum(h);
            h[10..12].copy_from_slice(&c.to_be_bytes());
            let u = &mut f[34..42];
            u[0..2].copy_from_slice(&sp.to_be_bytes());
            u[2..4].copy_from_slice(&dp.to_be_bytes());
            u[4..6].copy_from_slice(&26u16.to_be_bytes());
            f
        })
        .collect()
}

/// The peer's 50 egress rules: (protocol, remote prefix, port min, port max).
pub fn peer_rules() -> Vec<(&'static str, &'static str, u32, u32)> {
    let mut r: Vec<(&str, &str, u32, u32)> = (0..40)
        .map(|j| ("udp", "198.19.0.0/16", 1024 + 25 * j, 1048 + 25 * j))
        .collect();
    r.extend([
        ("tcp", "10.0.0.0/8", 22, 22),
        ("tcp", "0.0.0.0/0", 80, 80),
        ("tcp", "0.0.0.0/0", 443, 443),
        ("udp", "10.0.0.53/32", 53, 53),
        ("udp", "0.0.0.0/0", 123, 123),
        ("tcp", "10.1.0.0/16", 3306, 3306),
        ("tcp", "10.2.0.0/16", 5432, 5432),
        ("tcp", "172.16.0.0/12", 8000, 8999),
        ("udp", "192.168.0.0/16", 4789, 4789),
        ("icmp", "0.0.0.0/0", 8, 8),
    ]);
    r
}

fn mac(a: u8, b: u8, c: u8, d: u8, e: u8, f: u8) -> String {
    format!("{a:02x}:{b:02x}:{c:02x}:{d:02x}:{e:02x}:{f:02x}")
}

/// The NB model of the scenario in `mode`, as (table, JSON object) pairs.
pub fn model(mode: PipelineMode) -> Vec<(&'static str, serde_json::Value)> {
    let mut o: Vec<(&str, serde_json::Value)> = Vec::new();
    let topic = "bench";
    let net =
        |id: String, key: u32| json!({"id": id, "topic": topic, "version": 1, "unique_key": key});
    let subnet = |id: String, sw: String, cidr: &str, gw: &str| {
        json!({"id": id, "topic": topic, "version": 1, "lswitch": sw, "cidr": cidr,
               "gateway_ip": gw, "enable_dhcp": false})
    };
    o.push(("lswitch", net("net42".into(), NETWORK)));
    o.push((
        "lsubnet",
        subnet(
            "sub42".into(),
            "net42".into(),
            "198.18.0.0/24",
            "198.18.0.254",
        ),
    ));
    let rules: Vec<serde_json::Value> = peer_rules()
        .into_iter()
        .enumerate()
        .map(|(i, (proto, pfx, lo, hi))| {
            let mut r = json!({"id": format!("r{i}"), "topic": topic, "direction": "egress",
                "ethertype": "IPv4", "protocol": proto, "remote_ip_prefix": pfx,
                "security_group_id": "sg", "port_range_min": lo});
            // ICMP: port_range_min is the type, port_range_max the code
            // (absent: any code, as the peer's icmp_type=8).
            if proto != "icmp" {
                r["port_range_max"] = json!(hi);
            }
            r
        })
        .collect();
    o.push((
        "secgroup",
        json!({"id": "sg", "topic": topic, "version": 1, "unique_key": 7, "rules": rules}),
    ));
    o.push((
        "lport",
        json!({"id": "vm", "topic": topic, "version": 1, "unique_key": 1, "lswitch": "net42",
               "macs": ["02:00:01:00:00:01"], "ips": ["198.18.0.1"], "security_groups": ["sg"]}),
    ));
    for p in 3..3 + IDLE_PORTS {
        let (hi, lo) = ((p >> 8) as u8, p as u8);
        let sw = format!("net{}", u32::from(p) + NETWORK);
        o.push(("lswitch", net(sw.clone(), u32::from(p) + NETWORK)));
        o.push((
            "lsubnet",
            subnet(
                format!("sub-{sw}"),
                sw.clone(),
                "198.18.0.0/16",
                "198.18.255.254",
            ),
        ));
        o.push((
            "lport",
            json!({"id": format!("idle-{p}"), "topic": topic, "version": 1,
                   "unique_key": u32::from(p), "lswitch": sw, "macs": [mac(2, 0, 1, 0, hi, lo)],
                   "ips": [format!("198.18.{hi}.{lo}")]}),
        ));
    }
    o.push((
        "lport",
        json!({"id": "uplink", "topic": topic, "version": 1, "unique_key": 1001,
               "lswitch": "net42", "macs": ["02:00:00:ff:ff:fe"], "port_security_enabled": false}),
    ));
    if !mode.l3() {
        let macs: Vec<String> = (0..L2_MACS)
            .map(|k| mac(2, 0, 0, 0, (k >> 8) as u8, k as u8))
            .collect();
        o.push((
            "lport",
            json!({"id": "sink", "topic": topic, "version": 1, "unique_key": 1000,
                   "lswitch": "net42", "macs": macs, "port_security_enabled": false}),
        ));
        return o;
    }
    o.push(("lswitch", net("net43".into(), 43)));
    o.push((
        "lsubnet",
        subnet(
            "sub43".into(),
            "net43".into(),
            "198.18.2.0/23",
            "198.18.3.254",
        ),
    ));
    let hop_ip = |k: u32| {
        let a = 2 * 256 + k + 1;
        format!("198.18.{}.{}", a >> 8, a & 255)
    };
    let hop_mac = |k: u32| mac(2, 0, 0, 0xaa, 0, k as u8);
    o.push((
        "lport",
        json!({"id": "nexthops", "topic": topic, "version": 1, "unique_key": 1002,
               "lswitch": "net43", "port_security_enabled": false,
               "macs": (0..ROUTES).map(hop_mac).collect::<Vec<_>>(),
               "allowed_address_pairs": (0..ROUTES)
                   .map(|k| json!({"ip_address": hop_ip(k), "mac_address": hop_mac(k)}))
                   .collect::<Vec<_>>()}),
    ));
    let rifs = [
        (
            "rif42",
            2000,
            "02:00:00:00:00:00",
            "net42",
            "198.18.0.254",
            24,
        ),
        (
            "rif43",
            2001,
            "02:00:00:aa:ff:ff",
            "net43",
            "198.18.3.254",
            23,
        ),
    ];
    for (id, key, m, sw, ip, _) in rifs {
        o.push((
            "lport",
            json!({"id": id, "topic": topic, "version": 1, "unique_key": key, "lswitch": sw,
                   "macs": [m], "ips": [ip], "device_owner": "network:router_interface",
                   "port_security_enabled": false}),
        ));
    }
    o.push((
        "lrouter",
        json!({"id": "r1", "topic": topic, "version": 1, "unique_key": 70,
               "ports": rifs.iter().map(|(id, key, m, sw, ip, len)| json!({"id": id, "topic": topic,
                   "unique_key": key, "mac": m, "lswitch": sw, "network": format!("{ip}/{len}")}))
                   .collect::<Vec<_>>(),
               "routes": (0..ROUTES).map(|k| json!({"destination": format!("198.19.{k}.0/24"),
                   "nexthop": hop_ip(k)})).collect::<Vec<_>>()}),
    ));
    o
}

/// This chassis' switch ports and the lports they carry in `mode`.
pub fn local(mode: PipelineMode) -> Local {
    let mut ports = vec![
        (VM_PORT, "vm".to_string()),
        (
            SINK_PORT,
            if mode.l3() { "nexthops" } else { "sink" }.to_string(),
        ),
        (UPLINK_PORT, "uplink".to_string()),
    ];
    ports.extend((3..3 + IDLE_PORTS).map(|p| (p, format!("idle-{p}"))));
    // Filled in place: the other fields (uplinks, ...) keep their defaults.
    let mut l = Local::default();
    l.chassis.push_str("bench");
    l.ports
        .extend(ports.into_iter().map(|(port, iface_id)| SwitchPortBinding {
            port,
            name: format!("sp{port}"),
            iface_id,
        }));
    l
}

/// Compiles the model of `mode` and publishes every app's tables into
/// `graph` (the seed layout's). Returns the compiled configs.
///
/// # Errors
/// A model object the cache refuses, a compile warning (the model is
/// meant to be complete), or a vertex that refuses its config.
pub fn configure(graph: &Arc<Graph>, mode: PipelineMode) -> Result<df_controller::TableConfigs> {
    publish_model(graph, "pipeline", model(mode), &local(mode))
}

/// Loads `objects` (table, JSON) into a controller cache as the store
/// would deliver them, compiles them for `local` and publishes the tables
/// into `graph`; `what` names the model in errors.
///
/// # Errors
/// A model object the cache refuses, a compile warning (a benchmark model
/// is meant to be complete), or a vertex that refuses its config.
pub fn publish_model(
    graph: &Arc<Graph>,
    what: &str,
    objects: Vec<(&'static str, serde_json::Value)>,
    local: &df_controller::Local,
) -> Result<df_controller::TableConfigs> {
    let mut cache = Cache::new();
    for (table, v) in objects {
        let id = v["id"].as_str().unwrap_or_default().to_string();
        let ch = cache.put(
            &format!("/dragonflow/{table}/{id}"),
            v.to_string().as_bytes(),
        );
        if !matches!(ch, Change::Stored { .. }) {
            return Err(anyhow!("model object {table}/{id}: {ch:?}"));
        }
    }
    let out = compile(cache.snapshot(), local);
    if !out.warnings.is_empty() {
        return Err(anyhow!(
            "compiling the {what} model: {}",
            out.warnings.join("; ")
        ));
    }
    let mut p = Publisher::new(graph.clone());
    let errors = p.publish(&out.configs);
    if !errors.is_empty() {
        return Err(anyhow!(
            "publishing the {what} tables: {}",
            errors.join("; ")
        ));
    }
    Ok(out.configs)
}

/// A port that receives only during a window of its worker's time: from
/// `from` to `until` after its first poll (the worker's start), nothing
/// before or after. It replays the replies of `ct=est` modes during the
/// warm-up, as the peer attaches its reply port for one second. Sending
/// goes to the inner port at any time.
#[derive(Debug)]
pub struct Gated<P: Port> {
    inner: P,
    from: Duration,
    until: Duration,
    start: Option<Instant>,
    done: bool,
}

impl<P: Port> Gated<P> {
    /// Gates `inner` to `[from, until)` after the first poll.
    pub fn new(inner: P, from: Duration, until: Duration) -> Self {
        Gated {
            inner,
            from,
            until,
            start: None,
            done: false,
        }
    }
}

impl<P: Port> Port for Gated<P> {
    fn name(&self) -> &str {
        self.inner.name()
    }

    fn rx_burst(&mut self, pool: &mut PacketPool, batch: &mut Batch) -> usize {
        if self.done {
            return 0;
        }
        let now = Instant::now();
        let t = now.duration_since(*self.start.get_or_insert(now));
        if t < self.from {
            return 0;
        }
        if t >= self.until {
            self.done = true;
            return 0;
        }
        self.inner.rx_burst(pool, batch)
    }

    fn tx_burst(&mut self, batch: &mut Batch, pool: &mut PacketPool) -> usize {
        self.inner.tx_burst(batch, pool)
    }

    fn stats(&self) -> PortStats {
        self.inner.stats()
    }
}

/// The reply window of a warm-up of `warmup` seconds: its middle half.
pub fn reply_window(warmup: f64) -> (Duration, Duration) {
    (
        Duration::from_secs_f64(warmup * 0.25),
        Duration::from_secs_f64(warmup * 0.75),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(b: &[u8]) -> String {
        b.iter().map(|x| format!("{x:02x}")).collect()
    }

    /// Frames 0 and N-1 of `mkpcap_flows.py` (hex from the script).
    #[test]
    fn frames_match_mkpcap_flows() {
        let f = flow_frames(1000, 1000, false);
        assert_eq!(f.len(), 1000);
        assert_eq!(
            hex(&f[0]),
            "02000000000002000100000108004500002e000000004011ee98c6120001c613000027100400001a\
             0000000000000000000000000000000000000000"
        );
        assert_eq!(
            hex(&f[999]),
            "0200000003e702000100000108004500002e03e70000401103aec6120001c613e703271007e7001a\
             0000000000000000000000000000000000000000"
        );
        // mkpcap_flows.py OUT 100000 1 (l3: every frame to the router MAC)
        let f = flow_frames(100_000, 1, false);
        assert_eq!(f.len(), 100_000);
        assert_eq!(
            hex(&f[99_999]),
            "02000000000002000100000108004500002e869f00004011c872c6120001c6139f86271107e7001a\
             0000000000000000000000000000000000000000"
        );
        // mkpcap_flows.py --reply OUT 100000 1000
        let r = flow_frames(100_000, 1000, true);
        assert_eq!(
            hex(&r[0]),
            "02000100000102000000000008004500002e000000004011ee98c6130000c612000104002710001a\
             0000000000000000000000000000000000000000"
        );
        assert_eq!(
            hex(&r[99_999]),
            "0200010000010200000003e708004500002e869f00004011c872c6139f86c612000107e72711001a\
             0000000000000000000000000000000000000000"
        );
    }

    /// The tables the controller compiles are the peer's: one VM port with
    /// port security and the 50-rule group, 100 idle secured ports on other
    /// networks, the sink (l2) or the router (l3), all published into the
    /// seed's graph without an error.
    #[test]
    fn tables_match_the_peer() {
        for mode in [
            PipelineMode::L2New,
            PipelineMode::L2Est,
            PipelineMode::L3Est,
        ] {
            let g = Arc::new(
                df_catalog::compile_layout(df_catalog::SEED_LAYOUT, &df_dp::RcuDomain::new())
                    .unwrap(),
            );
            let c = configure(&g, mode).unwrap();
            // input: VM, sink/nexthops, uplink, 100 idle ports.
            assert_eq!(c.input.ports.len(), 103, "{mode:?}");
            let vm = c.input.ports.iter().find(|p| p.port == VM_PORT).unwrap();
            assert_eq!((vm.port_key, vm.network_key), (1, NETWORK));
            // portsec: the VM's MAC and IP; the sink and uplink unchecked.
            let ps = c.portsec.ports.iter().find(|p| p.port_key == 1).unwrap();
            assert!(ps.port_security_enabled);
            assert_eq!(ps.macs, vec!["02:00:01:00:00:01"]);
            assert_eq!(ps.ipv4, vec!["198.18.0.1"]);
            let secured = c.portsec.ports.iter().filter(|p| p.port_security_enabled);
            assert_eq!(secured.count(), 101);
            // sg: one group of the peer's 50 egress rules, on the VM only.
            assert_eq!(c.sg.groups.len(), 1);
            let rules = &c.sg.groups[0].rules;
            assert_eq!(rules.len(), 50);
            assert!(rules
                .iter()
                .all(|r| r.direction == df_app_sg::Direction::Egress));
            let udp40 = &rules[40 - 1];
            assert_eq!(
                (udp40.port_range_min, udp40.port_range_max),
                (Some(1024 + 25 * 39), Some(1048 + 25 * 39))
            );
            assert_eq!(udp40.remote_ip_prefix.as_deref(), Some("198.19.0.0/16"));
            let with_groups: Vec<u32> =
                c.sg.ports
                    .iter()
                    .filter(|p| !p.security_groups.is_empty())
                    .map(|p| p.port_key)
                    .collect();
            assert_eq!(with_groups, vec![1]);
            assert!(c.sg.conntrack.capacity >= 200_000, "sized for 100k flows");
            let net42 =
                c.l2.networks
                    .iter()
                    .find(|n| n.network_key == NETWORK)
                    .unwrap();
            if mode.l3() {
                assert_eq!(c.l3.routers.len(), 1);
                assert_eq!(c.l3.routers[0].routes.len(), ROUTES as usize);
                assert_eq!(c.l3.routers[0].routes[7].destination, "198.19.7.0/24");
                assert!(net42
                    .ports
                    .iter()
                    .any(|p| p.mac.0 == [2, 0, 0, 0, 0, 0] && p.port_key == 2000));
                let net43 = c.l2.networks.iter().find(|n| n.network_key == 43).unwrap();
                let hops = net43.ports.iter().filter(|p| p.port_key == 1002).count();
                assert_eq!(hops, ROUTES as usize);
            } else {
                assert!(c.l3.routers.is_empty());
                let sink = net42.ports.iter().filter(|p| p.port_key == 1000).count();
                assert_eq!(sink, L2_MACS as usize);
                assert!(c
                    .output
                    .ports
                    .iter()
                    .any(|o| o.port_key == 1000 && o.port == SINK_PORT));
            }
        }
    }

    #[test]
    fn flows_are_distinct_five_tuples() {
        let f = flow_frames(100_000, 1000, false);
        let mut t: Vec<&[u8]> = f.iter().map(|x| &x[26..38]).collect();
        t.sort_unstable();
        t.dedup();
        assert_eq!(t.len(), 100_000);
    }
}
