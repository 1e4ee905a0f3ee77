//! What a traced packet records in `firewall`: one note per decision.
//! Values are numbers: keys as they are, a rule as its position in the
//! policy (0-based, as configured, disabled rules counted), ICMP as
//! `type << 8 | code`.

/// The router port whose group applies; value: its port key.
pub(crate) const PORT: &str = "firewall: router port key";
/// `(router, network)` is no router port of the config; passes; value:
/// the network key.
pub(crate) const UNKNOWN_PORT: &str =
    "firewall: no router port for (router, network), passes; network key";
/// The port has no firewall group; passes; value: the port key.
pub(crate) const NO_GROUP: &str = "firewall: port has no firewall group, passes; port key";
/// The group has no policy for this direction; passes; value: group key.
pub(crate) const NO_POLICY: &str =
    "firewall: group has no policy for this direction, passes; group key";
/// Not IP (ARP cannot cross a router; VLAN-tagged frames are not routed);
/// passes unchanged; value: the EtherType.
pub(crate) const NOT_IP: &str = "firewall: not IP, passes; ethertype";

/// An allow rule matched; value: its position.
pub(crate) const RULE_ALLOW: &str = "firewall: allow rule at position";
/// A deny rule matched; value: its position.
pub(crate) const RULE_DENY: &str = "firewall: deny rule at position";
/// A reject rule matched; value: its position.
pub(crate) const RULE_REJECT: &str = "firewall: reject rule at position";
/// No rule matched; value: the group key.
pub(crate) const DEFAULT_DENY: &str = "firewall: no rule matched (implicit deny); group key";

/// Passes as the reply of a flow accepted in the other direction; value:
/// the port key.
pub(crate) const CT_REPLY: &str =
    "firewall: reply of a flow accepted in the other direction; port key";
/// An ICMP error about a flow accepted in the other direction; value:
/// the port key.
pub(crate) const CT_RELATED: &str =
    "firewall: ICMP error about a flow accepted in the other direction; port key";
/// A later fragment of a datagram whose first fragment was accepted;
/// value: the identification.
pub(crate) const CT_FRAGMENT: &str = "firewall: later fragment of an accepted datagram; ident";
/// A cached flow from older tables that the current policy no longer
/// allows: forgotten; value: the port key.
pub(crate) const CT_STALE: &str =
    "firewall: cached flow not allowed by the changed policy, forgotten; port key";
/// Caching this flow evicted the least recently seen flow of its set;
/// value: the port key.
pub(crate) const CT_EVICTED: &str =
    "firewall: connection cache set full, oldest flow evicted; port key";

/// The reject reply sent: a TCP reset; value: the reply's destination
/// port (the sender's source port).
pub(crate) const REPLY_RST: &str = "firewall: reject reply sent, TCP reset to port";
/// The reject reply sent: ICMP(v6) administratively prohibited; value:
/// `type << 8 | code`.
pub(crate) const REPLY_ICMP: &str = "firewall: reject reply sent, ICMP type {hi8} code {lo8}";
/// No reply for this packet (a reset, an ICMP error, a later fragment, or
/// an address that is not unicast); value: the IP protocol.
pub(crate) const REPLY_SUPPRESSED: &str = "firewall: no reject reply for this packet; protocol";
/// The port's reject rate is exhausted; value: the port key.
pub(crate) const REPLY_RATE_LIMITED: &str = "firewall: reject reply rate-limited; port key";
/// No buffer for the reply (counted as `no-buffer` too); value: 0.
pub(crate) const REPLY_NO_BUFFER: &str = "firewall: no buffer for the reject reply";

/// Shorter than an Ethernet header.
pub(crate) const MALFORMED_ETHERNET: &str = "firewall: malformed Ethernet header";
/// A bad IPv4/IPv6 header, extension chain, or L4 header parse_frame checks.
pub(crate) const MALFORMED_IP: &str = "firewall: malformed IP packet";
/// An L4 header too short for its ports / ICMP fields.
pub(crate) const MALFORMED_L4: &str = "firewall: malformed L4 header";

/// Note: no firewall group is bound anywhere; the packet passes unchecked.
pub(crate) const NO_GROUPS: &str = "firewall: no firewall groups, passes";
