//! What control hands `sg`: the local ports with their security groups,
//! every group their rules refer to (with its rules and its members' IPs),
//! and the connection-tracking limits.
//!
//! It follows the NB model (Dragonflow's `secgroup` with embedded
//! `SecurityGroupRule`s, Neutron's field names), with two changes made by
//! control when it compiles the model: groups and remote groups are named
//! by their unique keys (what the datapath carries), and each group lists
//! the IPs of all its member ports, local and remote, so that a rule's
//! `remote_group` is resolved without the lport table. Addresses, prefixes
//! and protocols stay text here and are checked in `tables.rs`, so that an
//! error names its place (`groups[2].rules[0].remote_ip_prefix: ...`).

use serde::Deserialize;

/// The whole configuration of an `sg` vertex.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SgConfig {
    /// TSC frequency used to turn timeouts into cycles; measured with
    /// `df_dp::sys::tsc_hz()` when absent.
    pub tsc_hz: Option<u64>,
    /// Connection tracking: table size and timeouts.
    pub conntrack: ConntrackConfig,
    /// The ports whose traffic reaches this vertex.
    pub ports: Vec<SgPort>,
    /// Every group a port or a rule's `remote_group` names.
    pub groups: Vec<SgGroup>,
}

impl SgConfig {
    /// A config with Neutron's default security group under `group_key`:
    /// egress allowed to anywhere (IPv4 and IPv6), ingress allowed from
    /// members of the same group. No ports and no members: add them.
    pub fn neutron_default(group_key: u32) -> SgConfig {
        let rule = |id: &str, direction, ethertype, remote_group| SgRule {
            id: id.to_string(),
            direction,
            ethertype,
            protocol: None,
            port_range_min: None,
            port_range_max: None,
            remote_ip_prefix: None,
            remote_group,
        };
        SgConfig {
            groups: vec![SgGroup {
                group_key,
                member_ips: Vec::new(),
                rules: vec![
                    rule("egress-ipv4", Direction::Egress, EtherType::Ipv4, None),
                    rule("egress-ipv6", Direction::Egress, EtherType::Ipv6, None),
                    rule(
                        "ingress-ipv4",
                        Direction::Ingress,
                        EtherType::Ipv4,
                        Some(group_key),
                    ),
                    rule(
                        "ingress-ipv6",
                        Direction::Ingress,
                        EtherType::Ipv6,
                        Some(group_key),
                    ),
                ],
            }],
            ..SgConfig::default()
        }
    }
}

/// Conntrack table size and timeouts (seconds). The defaults are Linux's
/// where they are realistic for VMs, and shorter for established TCP
/// (Linux keeps 5 days; 2 hours is the usual keepalive horizon).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ConntrackConfig {
    /// Connections each worker can track (its table is sized once for this).
    pub capacity: u32,
    /// TCP after the handshake.
    pub tcp_established_secs: u32,
    /// TCP during the handshake and the close (SYN_SENT, SYN_RECV,
    /// FIN_WAIT, CLOSE_WAIT, TIME_WAIT).
    pub tcp_transitional_secs: u32,
    /// TCP after a RST.
    pub tcp_closed_secs: u32,
    /// UDP (and other port protocols) seen in one direction only.
    pub udp_secs: u32,
    /// UDP once a reply was seen.
    pub udp_replied_secs: u32,
    /// ICMP queries (echo, timestamp, ...).
    pub icmp_secs: u32,
    /// Other IP protocols (GRE, ESP, ...).
    pub other_secs: u32,
    /// How long the non-first fragments of an accepted first fragment pass.
    pub fragment_secs: u32,
}

impl Default for ConntrackConfig {
    fn default() -> Self {
        ConntrackConfig {
            capacity: 1 << 20,
            tcp_established_secs: 7200,
            tcp_transitional_secs: 120,
            tcp_closed_secs: 10,
            udp_secs: 30,
            udp_replied_secs: 180,
            icmp_secs: 30,
            other_secs: 600,
            fragment_secs: 30,
        }
    }
}

/// One port.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SgPort {
    /// The logical port's unique key (non-zero): `source_port_key` at
    /// `in.egress`, `destination_port_key` at `in.ingress`.
    pub port_key: u32,
    /// `false`: the port's traffic passes untracked (Neutron's
    /// `port_security_enabled`, default `true`).
    #[serde(default = "enabled")]
    pub port_security_enabled: bool,
    /// Keys of the port's groups. Empty with port security on: every IP
    /// packet is dropped (only ARP, ND, MLD and DHCP client/server
    /// exchanges pass, as in Neutron).
    #[serde(default)]
    pub security_groups: Vec<u32>,
}

fn enabled() -> bool {
    true
}

/// One security group.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SgGroup {
    /// The group's unique key (non-zero).
    pub group_key: u32,
    /// IPs (IPv4 and IPv6 hosts) of every port in the group, local and
    /// remote, allowed address pairs included: what `remote_group` rules
    /// naming this group match.
    #[serde(default)]
    pub member_ips: Vec<String>,
    /// The rules (an allow-list).
    #[serde(default)]
    pub rules: Vec<SgRule>,
}

/// One rule: allow new connections matching all set fields.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SgRule {
    /// Neutron rule id, unique in its group.
    pub id: String,
    /// `ingress` (to the port) or `egress` (from the port).
    pub direction: Direction,
    /// `IPv4` or `IPv6`.
    pub ethertype: EtherType,
    /// A protocol name (`tcp`, `udp`, `icmp`, `icmpv6`, `sctp`, ...) or
    /// number; absent: any protocol.
    #[serde(default)]
    pub protocol: Option<Protocol>,
    /// Lowest destination port (TCP, UDP, SCTP, DCCP, UDP-Lite) or the
    /// ICMP type.
    #[serde(default)]
    pub port_range_min: Option<u32>,
    /// Highest destination port, or the ICMP code.
    #[serde(default)]
    pub port_range_max: Option<u32>,
    /// The remote side is in this prefix (`10.0.0.0/8`, `::/0`).
    #[serde(default)]
    pub remote_ip_prefix: Option<String>,
    /// The remote side is a member of the group with this key.
    #[serde(default)]
    pub remote_group: Option<u32>,
}

/// A rule's direction, seen from the port.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    /// Traffic to the port.
    Ingress,
    /// Traffic from the port.
    Egress,
}

/// A rule's IP version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
pub enum EtherType {
    /// IPv4.
    #[serde(rename = "IPv4")]
    Ipv4,
    /// IPv6.
    #[serde(rename = "IPv6")]
    Ipv6,
}

/// A protocol as Neutron accepts it: a name or a number (possibly in a
/// string), checked in `tables.rs`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
pub enum Protocol {
    /// An IANA protocol number.
    Number(u64),
    /// A name (`tcp`) or a number in a string (`"6"`).
    Name(String),
}
