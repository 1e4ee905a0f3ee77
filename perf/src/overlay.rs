//! The overlay and NAT scenarios: `encap` (Geneve or VXLAN encapsulation
//! to ports on remote chassis), `decap` (the same encapsulated frames
//! received on the underlay port, delivered to local MACs) and `nat`
//! (floating IP or distributed SNAT egress out of the uplink), on the
//! seed's graph with the implicit `tunnel` and `nat` vertices, tables built
//! the way production builds them: NB model objects (JSON, as the store
//! delivers them) -> `df_controller::compile` -> `Publisher`.
//!
//! Switch ports (all three scenarios): 0 = the source (the VM in `encap`
//! and `nat`, the underlay port in `decap`), 1 = the sink (the underlay
//! port in `encap`, the local port owning the 1000 MACs in `decap`, the
//! uplink in `nat`). In `nat` the uplink also receives, during the middle
//! half of the warm-up only, the ARP reply of the external gateway, so the
//! neighbour cache is primed and no measured packet waits for ARP.
//!
//! Every VM port has port security off and no security group (the OVS
//! peer, `perf/peers/ovs-dpdk-overlay.sh`, filters nothing either).
//!
//! The model:
//! * `encap`: network 42 (`geneve` or `vxlan`, VNI 5001, 198.18.0.0/24);
//!   VM `vm` (key 1, 02:00:01:00:00:01, 198.18.0.1) on switch port 0;
//!   1000 lports `r-K` (keys 3000 + K, MAC 02:00:00:00:HH:LL) bound on the 4
//!   remote chassis `remote-(K % 4)` (172.16.0.(2 + K % 4), underlay MAC
//!   02:00:00:ac:10:(2 + K % 4)); this chassis' underlay: switch port 1,
//!   172.16.0.1, 02:00:00:ac:10:01. Frames: `mkpcap_flows.py OUT N 1000`.
//! * `decap`: the same network; lport `sink` (key 1000, the 1000 MACs)
//!   on switch port 1; the remote VM `rvm` (key 3000, 02:00:01:00:00:01)
//!   on `remote-0`; the underlay is switch port 0. Frames: those of `encap`
//!   wrapped in the outer headers `remote-0`'s tunnel app would write.
//! * `nat`: tenant network 42 (198.18.0.0/24), VM `vm` as above; router
//!   `r1` (interface 02:00:00:00:00:00, 198.18.0.254/24) with external
//!   gateway `ext` (flat, physnet1, 203.0.113.0/24, gateway 203.0.113.1 at
//!   02:00:00:ee:00:01) on the uplink (switch port 1). `fip`: floating IP
//!   203.0.113.100 (port `fip-port`, key 900, 02:00:00:0f:00:01) of `vm`;
//!   `snat`: no floating IP, router SNAT on, this chassis'
//!   `external_host_ip` 203.0.113.200. Frames: `mkpcap_flows.py OUT N 1`
//!   (every frame to the router MAC, 198.18.0.1 -> 198.19.x.y, off-link
//!   of `ext`: next hop the gateway).

use std::net::Ipv4Addr;
use std::sync::Arc;

use anyhow::{anyhow, Result};
use df_controller::{Local, SwitchPortBinding, UnderlayBinding, UplinkBinding};
use df_dp::port::{Port, PortStats};
use df_dp::{Batch, Graph, PacketPool};
use serde_json::json;

use crate::pipeline::flow_frames;

/// Switch port of the source (VM, or the underlay in `decap`).
pub const SRC_PORT: u16 = 0;
/// Switch port of the sink (underlay in `encap`, local port in `decap`,
/// uplink in `nat`).
pub const SINK_PORT: u16 = 1;
/// Switch ports the scenarios use.
pub const PORTS: u16 = 2;
/// The tenant network's key.
pub const NETWORK: u32 = 42;
/// Its VNI.
pub const VNI: u32 = 5001;
/// Destination MACs (remote ports in `encap`, local MACs in `decap`).
pub const MACS: u32 = 1000;
/// Remote chassis in `encap`.
pub const REMOTE_CHASSIS: u32 = 4;
/// This chassis' tunnel IP and underlay MAC.
pub const LOCAL_IP: [u8; 4] = [172, 16, 0, 1];
/// This chassis' underlay MAC.
pub const LOCAL_MAC: [u8; 6] = [2, 0, 0, 0xac, 0x10, 1];
/// The external gateway (the NAT next hop) and its MAC.
pub const GW_IP: [u8; 4] = [203, 0, 113, 1];
/// The external gateway's MAC.
pub const GW_MAC: [u8; 6] = [2, 0, 0, 0xee, 0, 1];
/// The floating IP (`nat fip`) and its port's MAC.
pub const FIP: [u8; 4] = [203, 0, 113, 100];
/// The floating port's MAC.
pub const FIP_MAC: [u8; 6] = [2, 0, 0, 0x0f, 0, 1];
/// This chassis' external address (`nat snat`).
pub const SNAT_IP: [u8; 4] = [203, 0, 113, 200];

/// The encapsulation of `encap` and `decap`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Tunnel {
    /// Geneve (UDP 6081), no options.
    Geneve,
    /// VXLAN (UDP 4789).
    Vxlan,
}

impl Tunnel {
    /// The model's `network_type`.
    pub fn name(self) -> &'static str {
        match self {
            Tunnel::Geneve => "geneve",
            Tunnel::Vxlan => "vxlan",
        }
    }
}

/// What `nat` translates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum NatMode {
    /// The VM's floating IP (stateless 1:1 source rewrite).
    Fip,
    /// Distributed SNAT: the chassis' external address, one port mapping
    /// per flow (made during the warm-up; the window sees established
    /// mappings).
    Snat,
}

impl NatMode {
    /// The mode's name.
    pub fn name(self) -> &'static str {
        match self {
            NatMode::Fip => "fip",
            NatMode::Snat => "snat",
        }
    }
}

/// The overlay scenario a run measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// VM -> remote ports, encapsulated on the underlay.
    Encap(Tunnel),
    /// Underlay -> local MACs.
    Decap(Tunnel),
    /// VM -> external network through the floating IP or SNAT.
    Nat(NatMode),
}

fn mac(m: [u8; 6]) -> String {
    m.iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(":")
}

fn ip(a: [u8; 4]) -> String {
    Ipv4Addr::from(a).to_string()
}

/// MAC of destination K (02:00:00:00:HH:LL).
fn dst_mac(k: u32) -> [u8; 6] {
    [2, 0, 0, 0, (k >> 8) as u8, k as u8]
}

/// Remote chassis `c`'s (tunnel IP, underlay MAC).
pub fn remote(c: u32) -> ([u8; 4], [u8; 6]) {
    let h = 2 + c as u8;
    ([172, 16, 0, h], [2, 0, 0, 0xac, 0x10, h])
}

/// The NB model of `kind`, as (table, JSON object) pairs.
pub fn model(kind: Kind) -> Vec<(&'static str, serde_json::Value)> {
    let t = "bench";
    let mut o: Vec<(&str, serde_json::Value)> = Vec::new();
    let mut net = json!({"id": "net42", "topic": t, "version": 1, "unique_key": NETWORK});
    if let Kind::Encap(k) | Kind::Decap(k) = kind {
        net["network_type"] = json!(k.name());
        net["segmentation_id"] = json!(VNI);
    }
    o.push(("lswitch", net));
    o.push((
        "lsubnet",
        json!({"id": "sub42", "topic": t, "version": 1, "lswitch": "net42",
               "cidr": "198.18.0.0/24", "gateway_ip": "198.18.0.254", "enable_dhcp": false}),
    ));
    let chassis = |c: u32| {
        let (a, m) = remote(c);
        json!({"id": format!("remote-{c}"), "ip": ip(a), "tunnel_mac": mac(m),
               "tunnel_types": ["geneve", "vxlan"]})
    };
    let bound = |c: u32| json!({"type": "chassis", "chassis": format!("remote-{c}")});
    match kind {
        Kind::Encap(_) => {
            o.push(("lport", vm_port()));
            for c in 0..REMOTE_CHASSIS {
                o.push(("chassis", chassis(c)));
            }
            for k in 0..MACS {
                o.push((
                    "lport",
                    json!({"id": format!("r-{k}"), "topic": t, "version": 1,
                           "unique_key": 3000 + k, "lswitch": "net42",
                           "macs": [mac(dst_mac(k))], "port_security_enabled": false,
                           "binding": bound(k % REMOTE_CHASSIS)}),
                ));
            }
        }
        Kind::Decap(_) => {
            o.push(("chassis", chassis(0)));
            o.push((
                "lport",
                json!({"id": "rvm", "topic": t, "version": 1, "unique_key": 3000,
                       "lswitch": "net42", "macs": ["02:00:01:00:00:01"],
                       "ips": ["198.18.0.1"], "port_security_enabled": false,
                       "binding": bound(0)}),
            ));
            o.push((
                "lport",
                json!({"id": "sink", "topic": t, "version": 1, "unique_key": 1000,
                       "lswitch": "net42", "port_security_enabled": false,
                       "macs": (0..MACS).map(|k| mac(dst_mac(k))).collect::<Vec<_>>()}),
            ));
        }
        Kind::Nat(mode) => {
            o.push(("lport", vm_port()));
            o.push((
                "lswitch",
                json!({"id": "ext", "topic": t, "version": 1, "unique_key": 50,
                       "network_type": "flat", "physical_network": "physnet1",
                       "is_external": true}),
            ));
            o.push((
                "lsubnet",
                json!({"id": "ext-sub", "topic": t, "version": 1, "lswitch": "ext",
                       "cidr": "203.0.113.0/24", "gateway_ip": ip(GW_IP), "enable_dhcp": false}),
            ));
            o.push((
                "lport",
                json!({"id": "rif42", "topic": t, "version": 1, "unique_key": 2000,
                       "lswitch": "net42", "macs": ["02:00:00:00:00:00"], "ips": ["198.18.0.254"],
                       "device_owner": "network:router_interface",
                       "port_security_enabled": false}),
            ));
            o.push((
                "lrouter",
                json!({"id": "r1", "topic": t, "version": 1, "unique_key": 70, "routes": [],
                       "external_gateway": {"network": "ext",
                                            "enable_snat": mode == NatMode::Snat},
                       "ports": [{"id": "rif42", "topic": t, "unique_key": 2000,
                                  "mac": "02:00:00:00:00:00", "lswitch": "net42",
                                  "network": "198.18.0.254/24"}]}),
            ));
            match mode {
                NatMode::Fip => {
                    o.push((
                        "lport",
                        json!({"id": "fip-port", "topic": t, "version": 1, "unique_key": 900,
                               "lswitch": "ext", "macs": [mac(FIP_MAC)], "ips": [ip(FIP)],
                               "device_owner": "network:floatingip",
                               "port_security_enabled": false}),
                    ));
                    o.push((
                        "floatingip",
                        json!({"id": "fip", "topic": t, "version": 1,
                               "floating_ip_address": ip(FIP), "fixed_ip_address": "198.18.0.1",
                               "lport": "vm", "floating_lport": "fip-port", "lrouter": "r1"}),
                    ));
                }
                NatMode::Snat => {
                    o.push((
                        "chassis",
                        json!({"id": "bench", "ip": ip(LOCAL_IP), "external_host_ip": ip(SNAT_IP),
                               "tunnel_types": ["geneve"]}),
                    ));
                }
            }
        }
    }
    o
}

fn vm_port() -> serde_json::Value {
    json!({"id": "vm", "topic": "bench", "version": 1, "unique_key": 1, "lswitch": "net42",
           "macs": ["02:00:01:00:00:01"], "ips": ["198.18.0.1"],
           "port_security_enabled": false})
}

/// This chassis: its switch ports, underlay and uplink in `kind`.
pub fn local(kind: Kind) -> Local {
    let mut l = Local::default();
    l.chassis.push_str("bench");
    let bind = |port: u16, iface: &str| SwitchPortBinding {
        port,
        name: format!("sp{port}"),
        iface_id: iface.to_string(),
    };
    match kind {
        Kind::Encap(_) => {
            l.ports.push(bind(SRC_PORT, "vm"));
            l.underlay = Some(UnderlayBinding {
                port: SINK_PORT,
                ip: Ipv4Addr::from(LOCAL_IP),
                mac: LOCAL_MAC,
            });
        }
        Kind::Decap(_) => {
            l.ports.push(bind(SINK_PORT, "sink"));
            l.underlay = Some(UnderlayBinding {
                port: SRC_PORT,
                ip: Ipv4Addr::from(LOCAL_IP),
                mac: LOCAL_MAC,
            });
        }
        Kind::Nat(_) => {
            l.ports.push(bind(SRC_PORT, "vm"));
            l.uplinks.push(UplinkBinding {
                port: SINK_PORT,
                name: "uplink".into(),
                physical_network: "physnet1".into(),
            });
        }
    }
    l
}

/// Compiles the model of `kind` and publishes every app's tables into
/// `graph` (the seed layout's, with its implicit `tunnel` and `nat`).
///
/// # Errors
/// A model object the cache refuses, a compile warning, or a vertex that
/// refuses its config.
pub fn configure(graph: &Arc<Graph>, kind: Kind) -> Result<df_controller::TableConfigs> {
    crate::pipeline::publish_model(graph, &format!("{kind:?}"), model(kind), &local(kind))
}

/// The queue of `tunnel.in.decap`, which the underlay port's frames enter.
///
/// # Errors
/// The graph has no `tunnel` vertex.
pub fn decap_queue(graph: &Graph) -> Result<u16> {
    graph
        .vertices_of_type("tunnel")
        .next()
        .and_then(|v| graph.port_queue(&format!("{v}.in.decap")))
        .ok_or_else(|| anyhow!("the layout has no tunnel vertex"))
}

/// The 60-byte frames the source sends in `kind` (without outer headers
/// for `decap`: see [`decap_frames`]).
pub fn source_frames(kind: Kind, flows: u32) -> Vec<Vec<u8>> {
    match kind {
        Kind::Encap(_) => flow_frames(flows, MACS, false),
        Kind::Decap(t) => decap_frames(t, flows),
        Kind::Nat(_) => flow_frames(flows, 1, false),
    }
}

/// The `encap` frames as `remote-0` sends them to this chassis: outer
/// Ethernet (02:00:00:ac:10:02 -> 02:00:00:ac:10:01), IPv4 172.16.0.2 ->
/// 172.16.0.1 (DF, TTL 64, id 0), UDP 49152 + (k mod 16384) -> 6081 or
/// 4789 with checksum 0, Geneve (no options, protocol 0x6558) or VXLAN
/// (flag I), VNI 5001; the inner frame is `encap`'s frame k (60 bytes), so
/// each is 110 bytes (114 on the wire). These are the fields the tunnel
/// app writes (its source port hashes the inner flow instead).
pub fn decap_frames(t: Tunnel, flows: u32) -> Vec<Vec<u8>> {
    let (rip, rmac) = remote(0);
    flow_frames(flows, MACS, false)
        .into_iter()
        .enumerate()
        .map(|(k, inner)| {
            let mut f = Vec::with_capacity(50 + inner.len());
            f.extend_from_slice(&LOCAL_MAC);
            f.extend_from_slice(&rmac);
            f.extend_from_slice(&[0x08, 0x00]);
            let mut h = [0u8; 20];
            h[0] = 0x45;
            h[2..4].copy_from_slice(&((20 + 8 + 8 + inner.len()) as u16).to_be_bytes());
            h[6] = 0x40; // DF
            h[8] = 64;
            h[9] = 17;
            h[12..16].copy_from_slice(&rip);
            h[16..20].copy_from_slice(&LOCAL_IP);
            let c = df_wire::checksum::checksum(&h);
            h[10..12].copy_from_slice(&c.to_be_bytes());
            f.extend_from_slice(&h);
            let sport = 49152 + (k as u16 & 0x3fff);
            let dport: u16 = match t {
                Tunnel::Geneve => 6081,
                Tunnel::Vxlan => 4789,
            };
            f.extend_from_slice(&sport.to_be_bytes());
            f.extend_from_slice(&dport.to_be_bytes());
            f.extend_from_slice(&((8 + 8 + inner.len()) as u16).to_be_bytes());
            f.extend_from_slice(&[0, 0]);
            let v = VNI.to_be_bytes();
            match t {
                Tunnel::Geneve => f.extend_from_slice(&[0, 0, 0x65, 0x58, v[1], v[2], v[3], 0]),
                Tunnel::Vxlan => f.extend_from_slice(&[0x08, 0, 0, 0, v[1], v[2], v[3], 0]),
            }
            f.extend_from_slice(&inner);
            f
        })
        .collect()
}

/// The external gateway's ARP reply to the translated source's ARP
/// request (to the floating port in `fip`, the chassis' SNAT address in
/// `snat`), 60 bytes: what primes the neighbour cache.
pub fn arp_reply(mode: NatMode) -> Vec<u8> {
    let (tip, tmac) = match mode {
        NatMode::Fip => (FIP, FIP_MAC),
        // The controller's SNAT MAC: 02:92 + the address.
        NatMode::Snat => (
            SNAT_IP,
            [2, 0x92, SNAT_IP[0], SNAT_IP[1], SNAT_IP[2], SNAT_IP[3]],
        ),
    };
    let mut f = vec![0u8; 60];
    f[0..6].copy_from_slice(&tmac);
    f[6..12].copy_from_slice(&GW_MAC);
    f[12..14].copy_from_slice(&[0x08, 0x06]);
    f[14..22].copy_from_slice(&[0, 1, 8, 0, 6, 4, 0, 2]);
    f[22..28].copy_from_slice(&GW_MAC);
    f[28..32].copy_from_slice(&GW_IP);
    f[32..38].copy_from_slice(&tmac);
    f[38..42].copy_from_slice(&tip);
    f
}

/// Writes the pcaps of the overlay scenarios (`flows` frames each) into
/// `dir`: `encap-N.pcap` (the VM's frames), `decap-geneve-N.pcap`,
/// `decap-vxlan-N.pcap` (the same encapsulated by `remote-0`), `nat-N.pcap`
/// (the VM's frames to the router MAC), `arp-fip.pcap` and `arp-snat.pcap`.
///
/// # Errors
/// The directory or a file cannot be written.
pub fn write_pcaps(dir: &std::path::Path, flows: u32) -> Result<()> {
    std::fs::create_dir_all(dir)?;
    let n = flows.max(1);
    let sets: Vec<(String, Vec<Vec<u8>>)> = vec![
        (format!("encap-{n}.pcap"), flow_frames(n, MACS, false)),
        (
            format!("decap-geneve-{n}.pcap"),
            decap_frames(Tunnel::Geneve, n),
        ),
        (
            format!("decap-vxlan-{n}.pcap"),
            decap_frames(Tunnel::Vxlan, n),
        ),
        (format!("nat-{n}.pcap"), flow_frames(n, 1, false)),
        ("arp-fip.pcap".into(), vec![arp_reply(NatMode::Fip)]),
        ("arp-snat.pcap".into(), vec![arp_reply(NatMode::Snat)]),
    ];
    for (name, frames) in sets {
        let mut w = df_dp::port::pcap::PcapWriter::create(&dir.join(name))?;
        for f in &frames {
            w.write(f)?;
        }
        w.flush()?;
    }
    Ok(())
}

/// One switch port made of two: receives from `rx`, transmits to `tx`
/// (the NAT uplink: the gated ARP reply in, net_null / the sink out).
#[derive(Debug)]
pub struct Split<R: Port, T: Port> {
    rx: R,
    tx: T,
}

impl<R: Port, T: Port> Split<R, T> {
    /// Joins `rx` and `tx` into one port.
    pub fn new(rx: R, tx: T) -> Self {
        Split { rx, tx }
    }
}

impl<R: Port, T: Port> Port for Split<R, T> {
    fn name(&self) -> &str {
        self.tx.name()
    }

    fn rx_burst(&mut self, pool: &mut PacketPool, batch: &mut Batch) -> usize {
        self.rx.rx_burst(pool, batch)
    }

    fn tx_burst(&mut self, batch: &mut Batch, pool: &mut PacketPool) -> usize {
        self.tx.tx_burst(batch, pool)
    }

    fn stats(&self) -> PortStats {
        let (r, t) = (self.rx.stats(), self.tx.stats());
        PortStats {
            tx_packets: t.tx_packets,
            tx_bytes: t.tx_bytes,
            ..r
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn graph() -> Arc<Graph> {
        Arc::new(
            df_catalog::compile_layout(df_catalog::SEED_LAYOUT, &df_dp::RcuDomain::new()).unwrap(),
        )
    }

    #[test]
    fn models_compile_without_warnings() {
        for kind in [
            Kind::Encap(Tunnel::Geneve),
            Kind::Encap(Tunnel::Vxlan),
            Kind::Decap(Tunnel::Geneve),
            Kind::Decap(Tunnel::Vxlan),
            Kind::Nat(NatMode::Fip),
            Kind::Nat(NatMode::Snat),
        ] {
            let c = configure(&graph(), kind).unwrap();
            match kind {
                Kind::Encap(_) => {
                    assert_eq!(c.tunnel.ports.len(), MACS as usize, "{kind:?}");
                    assert_eq!(c.tunnel.chassis.len(), REMOTE_CHASSIS as usize);
                }
                Kind::Decap(_) => {
                    assert_eq!(c.tunnel.networks.len(), 1);
                    assert_eq!(c.tunnel.networks[0].vni, VNI);
                }
                Kind::Nat(NatMode::Fip) => assert_eq!(c.nat.floating_ips.len(), 1),
                Kind::Nat(NatMode::Snat) => assert!(c.nat.snat.is_some()),
            }
        }
    }

    #[test]
    fn decap_frames_are_well_formed() {
        let f = decap_frames(Tunnel::Geneve, 2);
        assert_eq!(f[0].len(), 110);
        assert_eq!(&f[0][36..38], &6081u16.to_be_bytes());
        assert_eq!(&f[0][42..50], &[0, 0, 0x65, 0x58, 0, 0x13, 0x89, 0]);
        assert_eq!(&f[0][50..], &flow_frames(1, MACS, false)[0][..]);
        let ip = &f[1][14..34];
        assert_eq!(df_wire::checksum::checksum(ip), 0);
        let v = decap_frames(Tunnel::Vxlan, 1);
        assert_eq!(&v[0][42..50], &[8, 0, 0, 0, 0, 0x13, 0x89, 0]);
    }
}
