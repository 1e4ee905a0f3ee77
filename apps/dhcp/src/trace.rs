//! What a traced packet records in `dhcp` (values are numbers: addresses
//! as their `u32`, message types as their code).

/// Note: the request's DHCP message type (option 53).
pub(crate) const MESSAGE_TYPE: &str = "dhcp: request message type";
/// Note: the reply's message type (2 OFFER, 5 ACK, 6 NAK).
pub(crate) const REPLY_TYPE: &str = "dhcp: reply message type";
/// Note: the address offered or acknowledged (yiaddr).
pub(crate) const YIADDR: &str = "dhcp: yiaddr";
/// Note: the address a NAKed REQUEST asked for.
pub(crate) const NAK_REQUESTED: &str = "dhcp: nak, requested address";
/// Note: the reply's IP destination.
pub(crate) const REPLY_IP_DST: &str = "dhcp: reply ip dst";
/// Note: an optional option left out because the reply would exceed the
/// client's maximum message size.
pub(crate) const OPTION_SKIPPED: &str = "dhcp: option skipped (no room), tag";
/// Note: TSC until which the port's DHCP stays blocked.
pub(crate) const BLOCKED_UNTIL: &str = "dhcp: rate limit, blocked until tsc";
/// Note: a RELEASE was accepted (the released address).
pub(crate) const RELEASED: &str = "dhcp: release of";
/// Note: a DECLINE was received (the declined address).
pub(crate) const DECLINED: &str = "dhcp: decline of";
/// Note: the packet is not a DHCP client message for this network's server
/// (nor a Router Solicitation this network answers).
pub(crate) const PASS: &str = "dhcp: not for the server, pass";
/// Note: a Router Solicitation answered; the number of prefixes advertised.
pub(crate) const RA_PREFIXES: &str = "dhcp: router advertisement, prefixes";
/// Note: where the RA went: 1 to ff02::1 (the solicitation came from ::),
/// 0 to the soliciting host.
pub(crate) const RA_TO_ALL_NODES: &str =
    "dhcp: router advertisement to all nodes (1) or the host (0):";
/// Note: the DHCPv6 request's message type (0: unreadable).
pub(crate) const V6_MESSAGE_TYPE: &str = "dhcpv6: request message type";
/// Note: the reply's message type (2 ADVERTISE, 7 REPLY).
pub(crate) const V6_REPLY_TYPE: &str = "dhcpv6: reply message type";
/// Note: the reply's top-level status code (0 Success, 2 NoAddrsAvail,
/// 4 NotOnLink).
pub(crate) const V6_STATUS: &str = "dhcpv6: status code";
/// Note: addresses handed out in IA_NA.
pub(crate) const V6_ADDRESSES: &str = "dhcpv6: addresses given";
/// Note: the first address given, released or declined (its low 64 bits).
pub(crate) const V6_ADDRESS: &str = "dhcpv6: address, interface id {hex}";
