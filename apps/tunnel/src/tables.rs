//! `tunnel`'s tables: destination port key -> where to tunnel it (one remote
//! chassis, or every remote chassis of a network), (encapsulation, VNI) ->
//! network, and per remote chassis the outer headers precomputed.
//!
//! Why templates: the 50 outer bytes (Ethernet, IPv4, UDP, Geneve or VXLAN)
//! are the same for every frame to one chassis over one encapsulation except
//! the IPv4 total length and checksum, the UDP source port and length, and
//! the VNI. They are emitted here once with df-wire's Reprs (IPv4 checksum
//! over a zero-length payload); the stage copies 50 bytes and patches five
//! fields, the IPv4 checksum incrementally (RFC 1624), as OVS's tunnel push
//! does with its header template.

use std::net::Ipv4Addr;

use df_wire::{
    EtherType, EthernetAddress, EthernetFrame, EthernetRepr, GenevePacket, GeneveRepr, IpProtocol,
    Ipv4Packet, Ipv4Repr, UdpPacket, VxlanPacket, VxlanRepr, ETHERNET_HEADER_LEN, GENEVE_UDP_PORT,
    IPV4_HEADER_LEN, UDP_HEADER_LEN, VXLAN_UDP_PORT,
};
use hashbrown::HashMap;

use crate::config::{TunnelConfig, TunnelKind};

/// Bytes of outer headers: Ethernet 14 + IPv4 20 + UDP 8 + Geneve/VXLAN 8.
pub const ENCAP_LEN: usize = 50;
/// Offset of the outer IPv4 header in the template.
pub(crate) const IP_OFF: usize = ETHERNET_HEADER_LEN;
/// Offset of the outer UDP header in the template.
pub(crate) const UDP_OFF: usize = IP_OFF + IPV4_HEADER_LEN;
/// Offset of the Geneve or VXLAN header in the template.
pub(crate) const TUN_OFF: usize = UDP_OFF + UDP_HEADER_LEN;
const _: () = assert!(TUN_OFF + 8 == ENCAP_LEN);

/// Largest VNI + 1 (24 bits).
pub(crate) const VNI_LIMIT: u32 = 1 << 24;

/// The UDP destination port of an encapsulation.
pub(crate) const fn udp_port(kind: TunnelKind) -> u16 {
    match kind {
        TunnelKind::Geneve => GENEVE_UDP_PORT,
        TunnelKind::Vxlan => VXLAN_UDP_PORT,
    }
}

/// The key of the VNI table: encapsulation in bit 24, VNI below.
#[inline]
pub(crate) fn vni_key(kind: TunnelKind, vni: u32) -> u32 {
    let k = match kind {
        TunnelKind::Geneve => 0,
        TunnelKind::Vxlan => VNI_LIMIT,
    };
    k | (vni & (VNI_LIMIT - 1))
}

/// This chassis' end, as the stage needs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Local {
    pub(crate) port: u16,
    pub(crate) ip: Ipv4Addr,
    pub(crate) mac: EthernetAddress,
}

/// A tunnelled network.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Network {
    pub(crate) key: u32,
    pub(crate) vni: u32,
    pub(crate) kind: TunnelKind,
    /// Indexes into [`TunnelTables::chassis`], distinct.
    pub(crate) chassis: Box<[u32]>,
}

/// A remote chassis: its outer headers, one template per encapsulation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Chassis {
    pub(crate) id: String,
    pub(crate) ip: Ipv4Addr,
    /// Indexed by [`TunnelKind`] (`as usize`). IPv4 total length 20 and
    /// its checksum, UDP source port, length and checksum 0, VNI 0.
    pub(crate) templates: [[u8; ENCAP_LEN]; 2],
}

/// What a destination port key means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Dest {
    /// A remote port: one chassis, over its network's tunnel.
    Port { chassis: u32, network: u32 },
    /// A network's flood key: every remote chassis of the network.
    Flood { network: u32 },
}

/// Lookup-ready overlay state.
#[derive(Debug, Clone, Default)]
pub struct TunnelTables {
    pub(crate) local: Option<Local>,
    pub(crate) networks: Vec<Network>,
    pub(crate) chassis: Vec<Chassis>,
    /// Destination port key -> destination (indexes into the vectors).
    pub(crate) dests: HashMap<u32, Dest>,
    /// [`vni_key`] -> (network key, the network's flood key).
    pub(crate) vnis: HashMap<u32, (u32, u32)>,
    ttl: u8,
}

fn unicast_ip(ip: Ipv4Addr) -> bool {
    !(ip.is_unspecified() || ip.is_multicast() || ip.is_broadcast())
}

fn unicast_mac(mac: EthernetAddress) -> bool {
    mac.is_unicast() && mac != EthernetAddress::default()
}

/// The outer headers from `local` to a chassis at (`ip`, `mac`).
fn template(
    local: &Local,
    ttl: u8,
    ip: Ipv4Addr,
    mac: EthernetAddress,
    kind: TunnelKind,
) -> [u8; ENCAP_LEN] {
    let mut t = [0u8; ENCAP_LEN];
    EthernetRepr {
        src_addr: local.mac,
        dst_addr: mac,
        ethertype: EtherType::Ipv4,
    }
    .emit(&mut EthernetFrame::new_unchecked(&mut t[..IP_OFF]));
    Ipv4Repr {
        src_addr: local.ip,
        dst_addr: ip,
        protocol: IpProtocol::Udp,
        payload_len: 0,
        ttl,
        dscp: 0,
        ecn: 0,
        ident: 0,
        dont_frag: true,
        more_frags: false,
        frag_offset: 0,
        options: Default::default(),
    }
    .emit(&mut Ipv4Packet::new_unchecked(&mut t[IP_OFF..UDP_OFF]));
    // UDP by setters: its checksum stays 0 (none, allowed over IPv4 and
    // what RFC 8926 / 7348 senders do); source port and length per frame.
    let mut udp = UdpPacket::new_unchecked(&mut t[UDP_OFF..TUN_OFF]);
    udp.set_dst_port(udp_port(kind));
    match kind {
        TunnelKind::Geneve => GeneveRepr {
            oam: false,
            critical: false,
            protocol_type: EtherType::TransEtherBridging,
            vni: 0,
            options: &[],
        }
        .emit(&mut GenevePacket::new_unchecked(&mut t[TUN_OFF..])),
        TunnelKind::Vxlan => {
            VxlanRepr { vni: 0 }.emit(&mut VxlanPacket::new_unchecked(&mut t[TUN_OFF..]))
        }
    }
    t
}

impl TunnelTables {
    /// Builds the tables.
    ///
    /// # Errors
    /// A bad local endpoint (TTL 0, a multicast or zero MAC, an IP that is
    /// not unicast), a chassis without id, with a repeated id or IP, the
    /// local IP or a bad MAC; a network with a zero or repeated key, a VNI
    /// of 24 bits or more or repeated within its encapsulation, a zero or
    /// repeated flood key, a chassis index out of range or repeated; a port
    /// with a zero or repeated key, a key that is a flood key, an unknown
    /// network or a chassis index out of range. Each names the field.
    pub fn build(cfg: &TunnelConfig) -> Result<TunnelTables, String> {
        let mut t = TunnelTables::default();
        if let Some(l) = &cfg.local {
            if l.ttl == 0 {
                return Err("local.ttl: 0 is not a TTL (1..=255; 64 when omitted)".into());
            }
            if !unicast_mac(l.mac) {
                return Err(format!("local.mac: {} is not a unicast MAC address", l.mac));
            }
            if !unicast_ip(l.ip) {
                return Err(format!("local.ip: {} is not a unicast IPv4 address", l.ip));
            }
            t.local = Some(Local {
                port: l.port,
                ip: l.ip,
                mac: l.mac,
            });
            t.ttl = l.ttl;
        }
        for (i, c) in cfg.chassis.iter().enumerate() {
            let at = format!("chassis[{i}]");
            if c.id.is_empty() {
                return Err(format!("{at}.id: must not be empty"));
            }
            if let Some(j) = cfg.chassis[..i].iter().position(|o| o.id == c.id) {
                return Err(format!(
                    "{at}.id: `{}` is listed twice (chassis[{j}] and {at})",
                    c.id
                ));
            }
            if !unicast_ip(c.ip) {
                return Err(format!("{at}.ip: {} is not a unicast IPv4 address", c.ip));
            }
            if let Some(o) = cfg.chassis[..i].iter().find(|o| o.ip == c.ip) {
                return Err(format!(
                    "{at}.ip: {} is also chassis `{}`'s; each chassis has its own tunnel IP",
                    c.ip, o.id
                ));
            }
            if cfg.local.is_some_and(|l| l.ip == c.ip) {
                return Err(format!(
                    "{at}.ip: {} is the local tunnel IP (local.ip); list only other chassis",
                    c.ip
                ));
            }
            if !unicast_mac(c.mac) {
                return Err(format!("{at}.mac: {} is not a unicast MAC address", c.mac));
            }
            let templates = match &t.local {
                Some(l) => [
                    template(l, t.ttl, c.ip, c.mac, TunnelKind::Geneve),
                    template(l, t.ttl, c.ip, c.mac, TunnelKind::Vxlan),
                ],
                None => [[0; ENCAP_LEN]; 2],
            };
            t.chassis.push(Chassis {
                id: c.id.clone(),
                ip: c.ip,
                templates,
            });
        }
        let nchassis = cfg.chassis.len();
        // network key -> index into t.networks.
        let mut by_key: HashMap<u32, u32> = HashMap::new();
        for (i, n) in cfg.networks.iter().enumerate() {
            let at = format!("networks[{i}]");
            if n.network_key == 0 {
                return Err(format!("{at}.network_key: must be non-zero"));
            }
            if let Some(j) = by_key.insert(n.network_key, i as u32) {
                return Err(format!(
                    "{at}.network_key: {} is listed twice (networks[{j}] and {at})",
                    n.network_key
                ));
            }
            if n.vni >= VNI_LIMIT {
                return Err(format!("{at}.vni: {} is not a VNI (< 2^24)", n.vni));
            }
            if let Some((other, _)) = t
                .vnis
                .insert(vni_key(n.kind, n.vni), (n.network_key, n.flood_key))
            {
                return Err(format!(
                    "{at}.vni: {} VNI {} is used twice (networks {other} and {}); a VNI names one network per encapsulation",
                    kind_name(n.kind),
                    n.vni,
                    n.network_key
                ));
            }
            if n.flood_key == 0 {
                return Err(format!("{at}.flood_key: must be non-zero"));
            }
            let dest = Dest::Flood { network: i as u32 };
            if t.dests.insert(n.flood_key, dest).is_some() {
                let other = cfg.networks[..i]
                    .iter()
                    .find(|o| o.flood_key == n.flood_key)
                    .map_or(0, |o| o.network_key);
                return Err(format!(
                    "{at}.flood_key: {} is used twice (networks {other} and {})",
                    n.flood_key, n.network_key
                ));
            }
            for (k, &c) in n.chassis.iter().enumerate() {
                if c as usize >= nchassis {
                    return Err(format!(
                        "{at}.chassis[{k}]: {c} is out of range ({nchassis} chassis)"
                    ));
                }
                if n.chassis[..k].contains(&c) {
                    return Err(format!(
                        "{at}.chassis[{k}]: chassis {c} (`{}`) is listed twice; a flood sends one copy per chassis",
                        cfg.chassis[c as usize].id
                    ));
                }
            }
            t.networks.push(Network {
                key: n.network_key,
                vni: n.vni,
                kind: n.kind,
                chassis: n.chassis.clone().into_boxed_slice(),
            });
        }
        for (i, p) in cfg.ports.iter().enumerate() {
            let at = format!("ports[{i}]");
            if p.port_key == 0 {
                return Err(format!("{at}.port_key: must be non-zero"));
            }
            let Some(&network) = by_key.get(&p.network_key) else {
                return Err(format!(
                    "{at}.network_key: {} is not one of `networks`",
                    p.network_key
                ));
            };
            if p.chassis as usize >= nchassis {
                return Err(format!(
                    "{at}.chassis: {} is out of range ({nchassis} chassis)",
                    p.chassis
                ));
            }
            let dest = Dest::Port {
                chassis: p.chassis,
                network,
            };
            match t.dests.insert(p.port_key, dest) {
                None => {}
                Some(Dest::Flood { network: n }) => {
                    let key = t.networks.get(n as usize).map_or(0, |n| n.key);
                    return Err(format!(
                        "{at}.port_key: {} is network {key}'s flood_key; port keys and flood keys must differ",
                        p.port_key
                    ));
                }
                Some(Dest::Port { .. }) => {
                    let j = cfg.ports[..i]
                        .iter()
                        .position(|o| o.port_key == p.port_key)
                        .unwrap_or(0);
                    return Err(format!(
                        "{at}.port_key: {} is listed twice (ports[{j}] and {at})",
                        p.port_key
                    ));
                }
            }
        }
        Ok(t)
    }

    /// The network of a tunnelled frame, by encapsulation and VNI.
    pub fn network(&self, kind: TunnelKind, vni: u32) -> Option<u32> {
        if vni >= VNI_LIMIT {
            return None;
        }
        self.vnis.get(&vni_key(kind, vni)).map(|&(n, _)| n)
    }

    /// Where a destination port key goes: `(network key, chassis ids)`.
    pub fn destination(&self, port_key: u32) -> Option<(u32, Vec<&str>)> {
        let (net, chassis): (u32, Vec<u32>) = match *self.dests.get(&port_key)? {
            Dest::Port { chassis, network } => (network, vec![chassis]),
            Dest::Flood { network } => {
                let n = self.networks.get(network as usize)?;
                (network, n.chassis.to_vec())
            }
        };
        let key = self.networks.get(net as usize)?.key;
        let ids = chassis
            .iter()
            .filter_map(|&c| self.chassis.get(c as usize).map(|c| c.id.as_str()))
            .collect();
        Some((key, ids))
    }

    /// JSON summary.
    pub fn describe(&self) -> serde_json::Value {
        let local = self.local.map(|l| {
            serde_json::json!({
                "port": l.port, "ip": l.ip.to_string(), "mac": l.mac.to_string(), "ttl": self.ttl,
            })
        });
        let chassis: Vec<serde_json::Value> = self
            .chassis
            .iter()
            .map(|c| serde_json::json!({"id": c.id, "ip": c.ip.to_string()}))
            .collect();
        let networks: Vec<serde_json::Value> = self
            .networks
            .iter()
            .map(|n| {
                let ids: Vec<&str> = n
                    .chassis
                    .iter()
                    .filter_map(|&c| self.chassis.get(c as usize).map(|c| c.id.as_str()))
                    .collect();
                serde_json::json!({
                    "network_key": n.key, "vni": n.vni, "type": kind_name(n.kind), "flood_to": ids,
                })
            })
            .collect();
        let mut ports: Vec<(u32, u32, &str)> = self
            .dests
            .iter()
            .filter_map(|(k, d)| match *d {
                Dest::Port { chassis, network } => Some((
                    *k,
                    self.networks.get(network as usize).map_or(0, |n| n.key),
                    self.chassis
                        .get(chassis as usize)
                        .map_or("", |c| c.id.as_str()),
                )),
                Dest::Flood { .. } => None,
            })
            .collect();
        ports.sort();
        let ports: Vec<serde_json::Value> = ports
            .iter()
            .map(|(k, n, c)| serde_json::json!({"port_key": k, "network_key": n, "chassis": c}))
            .collect();
        serde_json::json!({
            "local": local, "chassis": chassis, "networks": networks, "ports": ports,
        })
    }
}

/// The config spelling of an encapsulation.
pub(crate) fn kind_name(kind: TunnelKind) -> &'static str {
    match kind {
        TunnelKind::Geneve => "geneve",
        TunnelKind::Vxlan => "vxlan",
    }
}

#[cfg(test)]
mod tests;
