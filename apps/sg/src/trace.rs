//! What a traced packet records in `sg`: one note per decision, with the
//! value behind it. Rules are shown as `group key << 32 | rule index` (the
//! index is the rule's position in `dfctl show tables sg`).

/// Port security disabled: passes untracked; value: the port key.
pub(crate) const BYPASS: &str = "sg: port security disabled, accept";
/// ARP passes security groups; value: the port key.
pub(crate) const ARP: &str = "sg: ARP is not filtered by security groups, accept";
/// ND, MLD, router discovery or DHCP client/server traffic Neutron lets
/// through whatever the rules; value: protocol << 16 | ICMP type or UDP
/// destination port.
pub(crate) const SERVICE: &str = "sg: ND/MLD/DHCP service traffic, accept";
/// A packet of a tracked connection; value: TCP state << 8 | original
/// direction (1) or reply (0).
pub(crate) const ESTABLISHED: &str =
    "sg: tracked connection, accept (state {hi8}, original direction {lo8})";
/// A new connection was allowed; value: the rule.
pub(crate) const NEW: &str = "sg: new connection allowed by group {hi32} rule #{lo32}";
/// An ICMP error related to a tracked connection; value: the ICMP type.
pub(crate) const RELATED: &str = "sg: ICMP error related to a tracked connection, accept";
/// A non-first fragment of an accepted datagram; value: the identification.
pub(crate) const FRAGMENT_OK: &str = "sg: later fragment of an accepted datagram, accept";
/// The connection's tables changed and it was checked again; value: the
/// rule that allows it now.
pub(crate) const RECHECKED: &str =
    "sg: rules changed, connection still allowed by group {hi32} rule #{lo32}";
/// The connection's rule is gone: forgotten, the packet is checked as
/// new; value: the rule that had allowed it (in the old tables' indexes).
pub(crate) const CUT: &str =
    "sg: rules changed, no rule allows the connection any more; checked as new";
/// The entry had expired; value: its idle time in TSC cycles.
pub(crate) const EXPIRED: &str = "sg: connection expired, checked as new";
/// A SYN on a finished connection; value: the old TCP state.
pub(crate) const REOPEN: &str = "sg: SYN on a finished connection, checked as new";

/// No port entry; value: the port key.
pub(crate) const UNKNOWN_PORT: &str = "sg: no entry for the port key";
/// Value: the EtherType.
pub(crate) const NOT_IP: &str = "sg: EtherType not IPv4/IPv6/ARP";
/// Value: the port key.
pub(crate) const NO_GROUPS: &str = "sg: port security on and no security groups";
/// Value: protocol << 16 | destination port (ICMP: type << 8 | code).
pub(crate) const NO_RULE: &str =
    "sg: no rule allows the new connection (protocol {hi16}, port {lo16})";
/// Value: TCP state << 8 | TCP flags (state 0: no connection).
pub(crate) const INVALID_TCP: &str =
    "sg: TCP packet invalid in the connection's state (state << 8 | flags)";
/// Value: the ICMP type.
pub(crate) const INVALID_ICMP: &str = "sg: ICMP reply without a tracked request";
/// Value: the ICMP type.
pub(crate) const NOT_RELATED: &str = "sg: ICMP error quotes no tracked connection";
/// Value: the table's capacity.
pub(crate) const CT_FULL: &str = "sg: conntrack table full";
/// Value: the identification.
pub(crate) const FRAGMENT: &str = "sg: later fragment without an accepted first fragment";

/// Malformed notes; value: 0.
pub(crate) const MALFORMED_ETHERNET: &str = "malformed: Ethernet header truncated";
/// See [`MALFORMED_ETHERNET`].
pub(crate) const MALFORMED_IPV4: &str = "malformed: IPv4 header truncated or inconsistent";
/// See [`MALFORMED_ETHERNET`].
pub(crate) const MALFORMED_IPV6: &str = "malformed: IPv6 header or extension chain truncated";
/// See [`MALFORMED_ETHERNET`].
pub(crate) const MALFORMED_TCP: &str = "malformed: TCP header truncated";
/// See [`MALFORMED_ETHERNET`].
pub(crate) const MALFORMED_L4: &str = "malformed: UDP/SCTP/DCCP header truncated";
/// See [`MALFORMED_ETHERNET`].
pub(crate) const MALFORMED_ICMP: &str = "malformed: ICMP header truncated";
/// See [`MALFORMED_ETHERNET`].
pub(crate) const MALFORMED_QUOTED: &str = "malformed: packet quoted in an ICMP error truncated";
