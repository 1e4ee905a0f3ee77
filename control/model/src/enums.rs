//! The closed vocabularies of the model (network types, directions, ...), the
//! open IP-protocol enum, and the well-known `device_owner` strings.
//!
//! Why enums: Dragonflow declared these as `EnumField`s and checked them on
//! write; a Rust enum checks them once at decode time and lets the compiler
//! find every `match` to update when one is added. `device_owner` stays a
//! string (Neutron lets any service invent one, e.g. `compute:nova`), with the
//! values the apps care about as constants.

use std::fmt;
use std::net::IpAddr;

use serde::{de, Deserialize, Deserializer, Serialize, Serializer};

/// Declares a string enum: serde names, `as_str`, `Display`, `ALL`.
macro_rules! string_enum {
    ($(#[$m:meta])* $name:ident { $($(#[$vm:meta])* $variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        pub enum $name {
            $($(#[$vm])* #[serde(rename = $text)] $variant),+
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The serialised name.
            pub const fn as_str(&self) -> &'static str {
                match self {
                    $($name::$variant => $text),+
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

string_enum! {
    /// `lswitch.network_type` (Neutron `provider:network_type`).
    NetworkType {
        /// Host-local, never leaves the chassis.
        Local = "local",
        /// Untagged on a physical network.
        Flat = "flat",
        /// 802.1Q-tagged on a physical network.
        Vlan = "vlan",
        /// VXLAN overlay.
        Vxlan = "vxlan",
        /// Geneve overlay.
        Geneve = "geneve",
        /// GRE overlay.
        Gre = "gre",
    }
}

impl NetworkType {
    /// An overlay type (the segmentation id is a tunnel key).
    pub const fn is_tunnel(&self) -> bool {
        matches!(
            self,
            NetworkType::Vxlan | NetworkType::Geneve | NetworkType::Gre
        )
    }
}

string_enum! {
    /// `lsubnet.ipv6_ra_mode` and `ipv6_address_mode` (Neutron's values).
    Ipv6Mode {
        /// Stateless address autoconfiguration from the advertised prefix.
        Slaac = "slaac",
        /// Addresses (and other configuration) from DHCPv6.
        Dhcpv6Stateful = "dhcpv6-stateful",
        /// SLAAC addresses, other configuration (DNS) from DHCPv6.
        Dhcpv6Stateless = "dhcpv6-stateless",
    }
}

string_enum! {
    /// `chassis.tunnel_types`.
    TunnelType {
        /// VXLAN.
        Vxlan = "vxlan",
        /// Geneve.
        Geneve = "geneve",
        /// GRE.
        Gre = "gre",
    }
}

string_enum! {
    /// Traffic direction, seen from the VM.
    Direction {
        /// Towards the port.
        Ingress = "ingress",
        /// From the port.
        Egress = "egress",
    }
}

string_enum! {
    /// `ethertype` of a security-group rule, `ether_type` of a classifier.
    EtherType {
        /// IPv4.
        Ipv4 = "IPv4",
        /// IPv6.
        Ipv6 = "IPv6",
    }
}

impl EtherType {
    /// The family of `ip`.
    pub const fn of(ip: IpAddr) -> EtherType {
        match ip {
            IpAddr::V4(_) => EtherType::Ipv4,
            IpAddr::V6(_) => EtherType::Ipv6,
        }
    }

    /// `ip` is of this family.
    pub const fn matches(&self, ip: IpAddr) -> bool {
        matches!(
            (self, ip),
            (EtherType::Ipv4, IpAddr::V4(_)) | (EtherType::Ipv6, IpAddr::V6(_))
        )
    }
}

string_enum! {
    /// `lport.binding.type`.
    BindingType {
        /// Bound to a chassis running our switch.
        Chassis = "chassis",
        /// Behind a hardware VTEP at `vtep_address`.
        Vtep = "vtep",
    }
}

string_enum! {
    /// `child_port_segmentation.segmentation_type` (trunk sub-ports).
    SegmentationType {
        /// 802.1Q tag inside the parent port.
        Vlan = "vlan",
        /// Own MAC behind the parent (port behind port).
        Macvlan = "macvlan",
        /// Parent's MAC, own IP (port behind port).
        Ipvlan = "ipvlan",
    }
}

string_enum! {
    /// `migration.status` (live migration).
    MigrationStatus {
        /// The port was plugged on the destination chassis.
        DestPlug = "dest_plug",
        /// The port was unplugged from the source chassis.
        SrcUnplug = "src_unplug",
        /// Neutron rebound the port to the destination.
        Rebound = "rebound",
    }
}

string_enum! {
    /// `switch_port.admin_state`.
    AdminState {
        /// Up.
        Up = "up",
        /// Down.
        Down = "down",
    }
}

string_enum! {
    /// `switch_port.type`: what the local interface is.
    SwitchPortType {
        /// The bridge's own port.
        Bridge = "bridge",
        /// A patch to another bridge.
        Patch = "patch",
        /// A VM/container interface.
        Compute = "compute",
        /// A tunnel endpoint.
        Tunnel = "tunnel",
        /// Anything else.
        Unknown = "unknown",
    }
}

/// An IP protocol: the four names the apps match on, or any other number.
///
/// Open, because Neutron accepts any protocol number (and ~20 names) in
/// security-group and firewall rules. Serialised as the name for the four
/// named variants and as the number otherwise; decoding takes a name, a
/// number, or a number in a string (`"132"`), and maps numbers of named
/// protocols to the named variant, so `6` and `"tcp"` decode equal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Protocol {
    /// 6.
    Tcp,
    /// 17.
    Udp,
    /// 1.
    Icmp,
    /// 58 (`icmpv6`, also spelled `ipv6-icmp`).
    Icmpv6,
    /// Any other protocol number.
    Other(u8),
}

/// Protocol names Neutron accepts, with their numbers.
const PROTOCOL_NAMES: &[(&str, u8)] = &[
    ("tcp", 6),
    ("udp", 17),
    ("icmp", 1),
    ("icmpv6", 58),
    ("ipv6-icmp", 58),
    ("ah", 51),
    ("dccp", 33),
    ("egp", 8),
    ("esp", 50),
    ("gre", 47),
    ("igmp", 2),
    ("ipip", 4),
    ("ipv6-encap", 41),
    ("ipv6-frag", 44),
    ("ipv6-nonxt", 59),
    ("ipv6-opts", 60),
    ("ipv6-route", 43),
    ("ospf", 89),
    ("pgm", 113),
    ("rsvp", 46),
    ("sctp", 132),
    ("udplite", 136),
    ("vrrp", 112),
];

impl Protocol {
    /// The protocol with IANA number `n`.
    pub const fn from_number(n: u8) -> Protocol {
        match n {
            6 => Protocol::Tcp,
            17 => Protocol::Udp,
            1 => Protocol::Icmp,
            58 => Protocol::Icmpv6,
            n => Protocol::Other(n),
        }
    }

    /// The IANA number.
    pub const fn number(&self) -> u8 {
        match self {
            Protocol::Tcp => 6,
            Protocol::Udp => 17,
            Protocol::Icmp => 1,
            Protocol::Icmpv6 => 58,
            Protocol::Other(n) => *n,
        }
    }

    /// The protocol has L4 ports (tcp, udp, sctp, dccp, udplite).
    pub const fn has_ports(&self) -> bool {
        matches!(self.number(), 6 | 17 | 33 | 132 | 136)
    }

    /// icmp or icmpv6.
    pub const fn is_icmp(&self) -> bool {
        matches!(self, Protocol::Icmp | Protocol::Icmpv6)
    }

    /// Parses a name (any case) or a decimal number.
    pub fn parse(s: &str) -> Option<Protocol> {
        if let Ok(n) = s.parse::<u8>() {
            return Some(Protocol::from_number(n));
        }
        let lower = s.to_ascii_lowercase();
        PROTOCOL_NAMES
            .iter()
            .find(|(name, _)| *name == lower)
            .map(|(_, n)| Protocol::from_number(*n))
    }
}

impl fmt::Display for Protocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Protocol::Tcp => f.write_str("tcp"),
            Protocol::Udp => f.write_str("udp"),
            Protocol::Icmp => f.write_str("icmp"),
            Protocol::Icmpv6 => f.write_str("icmpv6"),
            Protocol::Other(n) => write!(f, "{n}"),
        }
    }
}

impl Serialize for Protocol {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Protocol::Other(n) => s.serialize_u8(*n),
            named => s.collect_str(named),
        }
    }
}

const PROTOCOL_EXPECTED: &str =
    "expected 0..=255 or a protocol name such as tcp, udp, icmp, icmpv6, sctp";

struct ProtocolVisitor;

impl de::Visitor<'_> for ProtocolVisitor {
    type Value = Protocol;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an IP protocol name or number")
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Protocol, E> {
        u8::try_from(v)
            .map(Protocol::from_number)
            .map_err(|_| E::custom(format!("{v} is not an IP protocol ({PROTOCOL_EXPECTED})")))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Protocol, E> {
        Err(E::custom(format!(
            "{v} is not an IP protocol ({PROTOCOL_EXPECTED})"
        )))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Protocol, E> {
        Protocol::parse(v)
            .ok_or_else(|| E::custom(format!("`{v}` is not an IP protocol ({PROTOCOL_EXPECTED})")))
    }
}

impl<'de> Deserialize<'de> for Protocol {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(ProtocolVisitor)
    }
}

/// IP version 4 or 6, serialised as the number (`bgp_speaker.ip_version`,
/// `firewall_rule.ip_version`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum IpVersion {
    /// 4.
    V4,
    /// 6.
    V6,
}

impl IpVersion {
    /// The family of `ip`.
    pub const fn of(ip: IpAddr) -> IpVersion {
        match ip {
            IpAddr::V4(_) => IpVersion::V4,
            IpAddr::V6(_) => IpVersion::V6,
        }
    }

    /// `ip` is of this version.
    pub const fn matches(&self, ip: IpAddr) -> bool {
        matches!(
            (self, ip),
            (IpVersion::V4, IpAddr::V4(_)) | (IpVersion::V6, IpAddr::V6(_))
        )
    }

    /// 4 or 6.
    pub const fn number(&self) -> u8 {
        match self {
            IpVersion::V4 => 4,
            IpVersion::V6 => 6,
        }
    }
}

impl fmt::Display for IpVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.number())
    }
}

impl Serialize for IpVersion {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u8(self.number())
    }
}

struct IpVersionVisitor;

impl de::Visitor<'_> for IpVersionVisitor {
    type Value = IpVersion;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("4 or 6")
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<IpVersion, E> {
        match v {
            4 => Ok(IpVersion::V4),
            6 => Ok(IpVersion::V6),
            _ => Err(E::custom(format!(
                "{v} is not an IP version (expected 4 or 6)"
            ))),
        }
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<IpVersion, E> {
        Err(E::custom(format!(
            "{v} is not an IP version (expected 4 or 6)"
        )))
    }
}

impl<'de> Deserialize<'de> for IpVersion {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_u64(IpVersionVisitor)
    }
}

/// Well-known `lport.device_owner` values (Neutron's).
pub mod device_owner {
    /// The network's DHCP port (one per network with DHCP).
    pub const DHCP: &str = "network:dhcp";
    /// A router interface on a tenant network.
    pub const ROUTER_INTERFACE: &str = "network:router_interface";
    /// A router's gateway on an external network.
    pub const ROUTER_GATEWAY: &str = "network:router_gateway";
    /// The port Neutron creates for a floating IP.
    pub const FLOATINGIP: &str = "network:floatingip";
    /// Prefix of VM ports: `compute:<availability zone>`, e.g. `compute:nova`.
    pub const COMPUTE_PREFIX: &str = "compute:";

    /// A VM's port (`compute:*`).
    pub fn is_compute(owner: &str) -> bool {
        owner.starts_with(COMPUTE_PREFIX)
    }

    /// A port owned by a Neutron network service (`network:*`).
    pub fn is_network_service(owner: &str) -> bool {
        owner.starts_with("network:")
    }
}

/// Neutron's `binding:vnic_type` values accepted in `lport.binding_vnic_type`.
pub const VNIC_TYPES: &[&str] = &[
    "normal",
    "direct",
    "macvtap",
    "baremetal",
    "direct-physical",
    "virtio-forwarder",
    "smart-nic",
    "vdpa",
    "accelerator-direct",
    "accelerator-direct-physical",
    "remote-managed",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn protocol_names_numbers_and_canonical_form() {
        let p: Protocol = serde_json::from_str("6").unwrap();
        assert_eq!(p, Protocol::Tcp);
        assert_eq!(
            serde_json::from_str::<Protocol>("\"TCP\"").unwrap(),
            Protocol::Tcp
        );
        assert_eq!(
            serde_json::from_str::<Protocol>("\"ipv6-icmp\"").unwrap(),
            Protocol::Icmpv6
        );
        assert_eq!(
            serde_json::from_str::<Protocol>("\"132\"").unwrap(),
            Protocol::Other(132)
        );
        assert_eq!(
            serde_json::from_str::<Protocol>("\"sctp\"").unwrap(),
            Protocol::Other(132)
        );
        assert_eq!(serde_json::to_string(&Protocol::Other(132)).unwrap(), "132");
        assert_eq!(serde_json::to_string(&Protocol::Udp).unwrap(), "\"udp\"");
        let e = serde_json::from_str::<Protocol>("300")
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("300 is not an IP protocol (expected 0..=255"),
            "{e}"
        );
        assert!(serde_json::from_str::<Protocol>("\"bogus\"").is_err());
        assert!(Protocol::Other(132).has_ports() && !Protocol::Icmp.has_ports());
    }

    #[test]
    fn string_enums_use_dragonflow_spellings() {
        assert_eq!(serde_json::to_string(&EtherType::Ipv4).unwrap(), "\"IPv4\"");
        assert_eq!(
            serde_json::to_string(&MigrationStatus::SrcUnplug).unwrap(),
            "\"src_unplug\""
        );
        assert_eq!(NetworkType::ALL.len(), 6);
        assert!(NetworkType::Geneve.is_tunnel() && !NetworkType::Vlan.is_tunnel());
        assert_eq!(
            serde_json::from_str::<IpVersion>("6").unwrap(),
            IpVersion::V6
        );
        assert!(serde_json::from_str::<IpVersion>("5").is_err());
        assert!(device_owner::is_compute("compute:nova"));
    }
}
