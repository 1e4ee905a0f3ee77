//! What a traced packet records in `portsec`: one note per decision, with
//! the value that decided it (a port key, a MAC or IPv4 address as an
//! integer, the low 64 bits of an IPv6 address, a protocol number).

/// Accepted by `out.accept`; value: the port key.
pub(crate) const ACCEPT: &str = "portsec: accept";
/// Accepted as service traffic (ARP, ND, MLD, DHCP client), by
/// `out.services` when the vertex has `services_exit: true`, else by
/// `out.accept`; value: the port key.
pub(crate) const ACCEPT_SERVICE: &str = "portsec: accept service traffic (ARP/ND/MLD/DHCP client)";
/// Port security disabled: accepted unchecked; value: the port key.
pub(crate) const BYPASS: &str = "portsec: port security disabled, accept";
/// No entry; value: the source port key.
pub(crate) const UNKNOWN_PORT: &str = "portsec: no entry for the source port key";

/// Value: the source MAC.
pub(crate) const SPOOFED_MAC: &str = "spoofed source MAC";
/// Value: the IPv4 source.
pub(crate) const SPOOFED_IPV4: &str = "spoofed IPv4 source";
/// Value: the ARP sender hardware address.
pub(crate) const ARP_SHA: &str = "ARP sender MAC is not the Ethernet source";
/// Value: the ARP sender protocol address.
pub(crate) const ARP_SPA: &str = "ARP sender IP not allowed for this MAC";
/// Value: the ARP hardware type.
pub(crate) const ARP_NOT_IPV4: &str = "ARP not Ethernet/IPv4";
/// Value: the low 64 bits of the IPv6 source.
pub(crate) const SPOOFED_IPV6: &str = "spoofed IPv6 source (low 64 bits)";
/// Value: the MAC in the option.
pub(crate) const ND_LLADDR: &str = "ND link-layer address option is not the Ethernet source";
/// Value: the low 64 bits of the target.
pub(crate) const ND_TARGET: &str =
    "neighbour advertisement for an address the port does not own (low 64 bits)";
/// Value: the ICMPv6 type.
pub(crate) const ND_LLADDR_FROM_UNSPECIFIED: &str =
    "ND from :: carries a source link-layer address";
/// Value: the ICMPv6 type.
pub(crate) const ND_FRAGMENT: &str = "fragmented ND message";
/// Value: the ICMPv6 type (134 RA, 137 redirect).
pub(crate) const ROUTER_ADVERTISEMENT: &str = "router advertisement or redirect from a VM";
/// Value: UDP source port << 16 | destination port.
pub(crate) const DHCPV4_SERVER: &str = "DHCPv4 server message from a VM (ports)";
/// Value: UDP source port << 16 | destination port.
pub(crate) const DHCPV6_SERVER: &str = "DHCPv6 server message from a VM (ports)";
/// Value: the EtherType.
pub(crate) const ETHERTYPE: &str = "EtherType not IPv4/IPv6/ARP";
/// Value: the TPID.
pub(crate) const VLAN_TAGGED: &str = "VLAN-tagged frame from a port that is not a trunk";

/// Malformed notes; value: 0.
pub(crate) const MALFORMED_ETHERNET: &str = "malformed: Ethernet header truncated";
/// See [`MALFORMED_ETHERNET`].
pub(crate) const MALFORMED_IPV4: &str = "malformed: IPv4 header truncated or inconsistent";
/// See [`MALFORMED_ETHERNET`].
pub(crate) const MALFORMED_IPV6: &str = "malformed: IPv6 header or extension chain truncated";
/// See [`MALFORMED_ETHERNET`].
pub(crate) const MALFORMED_ARP: &str = "malformed: ARP truncated";
/// See [`MALFORMED_ETHERNET`].
pub(crate) const MALFORMED_UDP: &str = "malformed: UDP header truncated or inconsistent";
/// See [`MALFORMED_ETHERNET`].
pub(crate) const MALFORMED_ICMPV6: &str = "malformed: ICMPv6/ND message truncated or bad options";
/// See [`MALFORMED_ETHERNET`].
pub(crate) const MALFORMED_DHCP: &str = "malformed: DHCP message truncated";
