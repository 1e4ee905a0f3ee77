//! What a traced packet records in `l2`.

/// Note: the FDB hit's port key.
pub(crate) const FDB_HIT: &str = "fdb hit: port key";
/// Note: an unknown unicast destination sent to the network's uplink.
pub(crate) const TO_UPLINK: &str = "unknown unicast to uplink: port key";
/// Note: the number of flood copies made.
pub(crate) const FLOOD_COPIES: &str = "flood: copies";
/// Note: an ARP request answered; the owner's port key.
pub(crate) const ARP_REPLY: &str = "arp responder: reply for port key";
/// Note: an ARP request not answered: 1 gratuitous ARP or probe, 2 not a
/// request, 3 multicast destination, 4 no port has the target IP.
pub(crate) const ARP_PASS: &str = "arp responder: not answered (1 gratuitous/probe, 2 not a request, 3 multicast dst, 4 unknown target)";
/// Note: a Neighbour Solicitation answered; the owner's port key.
pub(crate) const ND_REPLY: &str = "nd responder: advert for port key";
/// Note: a Neighbour Solicitation not answered: 1 invalid (hop limit,
/// checksum, options, addresses), 2 no port has the target, 3 DAD for the
/// sender's own address, 4 no room to grow the frame.
pub(crate) const ND_PASS: &str =
    "nd responder: not answered (1 invalid, 2 unknown target, 3 own DAD, 4 no room)";

/// Note: a DHCPv4 or DHCPv6 client message or a Router Solicitation handed
/// to the dhcp app.
pub(crate) const DHCP_CLIENT: &str = "dhcp client message";
