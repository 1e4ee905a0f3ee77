//! What control hands `nat`: the floating IPs whose fixed port is bound on
//! this chassis, and the external (provider) networks they live on.
//!
//! A floating IP names its external network by key; the network is listed
//! once in `external_networks` with its CIDR (which destinations are on-link)
//! and its gateway (the next hop for everything else).

use std::net::Ipv4Addr;

use df_wire::EthernetAddress;
use serde::{Deserialize, Deserializer};

/// The floating IPs of this chassis.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NatConfig {
    /// TSC frequency in Hz, for the ARP request rate limit; `None`: measured
    /// once (`df_dp::sys::tsc_hz`, about 20 ms) when the tables are built.
    #[serde(default)]
    pub tsc_hz: Option<u64>,
    /// One entry per floating IP associated with a port bound here.
    #[serde(default)]
    pub floating_ips: Vec<FloatingIp>,
    /// The external networks the floating IPs (and `snat`) are on.
    #[serde(default)]
    pub external_networks: Vec<ExternalNetwork>,
    /// Distributed SNAT through this chassis' own external address, for VMs
    /// without a floating IP; `None`: such VMs' traffic drops
    /// `no-floating-ip`.
    #[serde(default)]
    pub snat: Option<SnatConfig>,
}

/// This chassis' address on an external network E, shared by every VM of
/// the networks in `snat_networks` that has no floating IP (Dragonflow's
/// `chassis_snat`, `external_host_ip`): connections get an external port
/// (ICMP echo: identifier) from `port_min..=port_max`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SnatConfig {
    /// The chassis' address on E, e.g. `"198.18.0.2"`; must differ from
    /// every floating IP.
    pub external_ip: Ipv4Addr,
    /// Its MAC on E (source MAC of translated egress packets and of ARP
    /// requests).
    #[serde(deserialize_with = "mac")]
    pub mac: EthernetAddress,
    /// The unique key of that address's pseudo-port on E (non-zero, not a
    /// floating port key): translated egress leaves as if from it, and l2
    /// must deliver frames to it (ARP replies, returning traffic) to
    /// `nat.in.ingress`.
    pub port_key: u32,
    /// E's key (non-zero); must be in `external_networks`.
    pub external_network_key: u32,
    /// The tenant networks (keys of the VMs' networks) whose router has
    /// SNAT enabled; a source in another network drops `no-floating-ip`.
    #[serde(default)]
    pub snat_networks: Vec<u32>,
    /// The lowest external port (and ICMP identifier) handed out.
    #[serde(default = "default_port_min")]
    pub port_min: u16,
    /// The highest, inclusive (`port_min..=port_max`, per protocol: TCP,
    /// UDP and ICMP each have the whole range).
    #[serde(default = "default_port_max")]
    pub port_max: u16,
    /// Seconds a UDP mapping lives without traffic.
    #[serde(default = "default_udp_timeout")]
    pub udp_timeout_secs: u32,
    /// Seconds a TCP mapping lives without traffic (no TCP state machine:
    /// an idle timeout, also after FIN or RST).
    #[serde(default = "default_tcp_timeout")]
    pub tcp_timeout_secs: u32,
    /// Seconds an ICMP echo mapping lives without traffic.
    #[serde(default = "default_icmp_timeout")]
    pub icmp_timeout_secs: u32,
}

impl SnatConfig {
    /// A config with the default port range and timeouts.
    pub fn new(
        external_ip: Ipv4Addr,
        mac: EthernetAddress,
        port_key: u32,
        external_network_key: u32,
        snat_networks: Vec<u32>,
    ) -> SnatConfig {
        SnatConfig {
            external_ip,
            mac,
            port_key,
            external_network_key,
            snat_networks,
            port_min: default_port_min(),
            port_max: default_port_max(),
            udp_timeout_secs: default_udp_timeout(),
            tcp_timeout_secs: default_tcp_timeout(),
            icmp_timeout_secs: default_icmp_timeout(),
        }
    }
}

fn default_port_min() -> u16 {
    32768
}

fn default_port_max() -> u16 {
    60999
}

fn default_udp_timeout() -> u32 {
    60
}

fn default_tcp_timeout() -> u32 {
    600
}

fn default_icmp_timeout() -> u32 {
    30
}

/// A floating IP `floating_ip` (P) on external network E, translated to and
/// from the fixed IP `fixed_ip` (F) of a VM port in tenant network T.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FloatingIp {
    /// P, the public address, e.g. `"198.18.0.10"`.
    pub floating_ip: Ipv4Addr,
    /// F, the VM's address in its tenant network.
    pub fixed_ip: Ipv4Addr,
    /// The VM port's unique key (non-zero).
    pub port_key: u32,
    /// T, the VM port's network key (non-zero).
    pub network_key: u32,
    /// Mv, the VM port's MAC.
    #[serde(deserialize_with = "mac")]
    pub mac: EthernetAddress,
    /// Mr, the MAC of the router interface on T (source MAC of translated
    /// ingress packets).
    #[serde(deserialize_with = "mac")]
    pub router_mac: EthernetAddress,
    /// Kf, the unique key of the floating IP's own port on E (non-zero).
    pub floating_port_key: u32,
    /// Mf, the MAC of that port (source MAC of translated egress packets and
    /// of ARP requests).
    #[serde(deserialize_with = "mac")]
    pub floating_mac: EthernetAddress,
    /// E, the external network's key; must be in `external_networks`.
    pub external_network_key: u32,
}

/// An external (flat or VLAN provider) network.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExternalNetwork {
    /// Its network key (non-zero, unique).
    pub network_key: u32,
    /// Its IPv4 subnet, e.g. `"198.18.0.0/24"`: destinations inside it are
    /// reached directly, the others through `gateway`.
    pub cidr: String,
    /// The subnet's gateway (inside `cidr`); `None`: only on-link
    /// destinations are reachable (others drop `no-gateway`).
    #[serde(default)]
    pub gateway: Option<Ipv4Addr>,
}

fn mac<'de, D: Deserializer<'de>>(d: D) -> Result<EthernetAddress, D::Error> {
    let s = String::deserialize(d)?;
    s.parse().map_err(|_| {
        serde::de::Error::custom(format!(
            "`{s}` is not a MAC address (expected six hex bytes, e.g. fa:16:3e:00:00:01)"
        ))
    })
}
