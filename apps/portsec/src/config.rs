//! What control hands `portsec`: every local port's addresses, as the NB
//! model spells them (Dragonflow's `lport`: `macs`, `ips`,
//! `allowed_address_pairs`, `port_security_enabled`), and the vertex params.
//!
//! Addresses stay text here and are parsed in `tables.rs`, so that an error
//! names its place (`ports[3].ipv4[0]: ...`); serde alone could only name
//! the value. Fixed IPs come in two lists, one per family, so control
//! splits the model's `ips` once and a misplaced address is caught here.

use serde::Deserialize;

/// The port-security table: one entry per local port.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PortsecConfig {
    /// The local ports.
    pub ports: Vec<PortsecPort>,
}

/// One local port.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PortsecPort {
    /// The logical port's unique key (non-zero), as `source_port_key` carries it.
    pub port_key: u32,
    /// `false` lets everything from the port through (Neutron's
    /// `port_security_enabled`, default `true`).
    #[serde(default = "enabled")]
    pub port_security_enabled: bool,
    /// The port's MACs (unicast, `fa:16:3e:00:00:01`); at least one when
    /// port security is enabled. Each also allows the IPv6 link-local
    /// address derived from it (EUI-64).
    #[serde(default)]
    pub macs: Vec<String>,
    /// Fixed IPv4 addresses, allowed from every MAC of the port.
    #[serde(default)]
    pub ipv4: Vec<String>,
    /// Fixed IPv6 addresses, allowed from every MAC of the port.
    #[serde(default)]
    pub ipv6: Vec<String>,
    /// Extra (IP, MAC) pairs the port may send from (VRRP, keepalived, ...).
    #[serde(default)]
    pub allowed_address_pairs: Vec<AllowedAddressPair>,
}

/// One allowed address pair (Dragonflow: a host address, no CIDR).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AllowedAddressPair {
    /// An IPv4 or IPv6 host address.
    pub ip: String,
    /// The MAC it is used with; the port's first MAC when absent.
    #[serde(default)]
    pub mac: Option<String>,
}

fn enabled() -> bool {
    true
}

/// The vertex params (`params:` in the layout).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PortsecParams {
    /// Send the traffic Dragonflow let bypass security groups (ARP, ND and
    /// MLD, DHCPv4/DHCPv6 client messages) by `out.services` instead of
    /// `out.accept`. Default `false`: a layout that does not wire
    /// `services` loses nothing.
    #[serde(default)]
    pub services_exit: bool,
}
