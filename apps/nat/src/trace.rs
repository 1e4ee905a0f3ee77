//! What a traced packet records in `nat`.

/// Note: egress, the source IP looked up with the source port key.
pub(crate) const SOURCE_IP: &str = "nat: source ip";
/// Note: egress, the network key the packet arrived in (the tenant network).
pub(crate) const FROM_NETWORK: &str = "nat: from network key";
/// Note: ingress, the floating port key looked up.
pub(crate) const FLOATING_PORT: &str = "nat: floating port key";
/// Note: the floating IP found (egress: the new source; ingress: the
/// destination).
pub(crate) const FLOATING_IP: &str = "nat: floating ip";
/// Note: the TTL of a packet dropped as expired.
pub(crate) const TTL_EXPIRED: &str = "nat: ttl expired";
/// Note: egress, the next hop on the external network (the destination or
/// the gateway).
pub(crate) const NEXT_HOP: &str = "nat: next hop";
/// Note: egress, the next hop's MAC from the neighbour cache.
pub(crate) const NEXT_HOP_MAC: &str = "nat: next hop mac";
/// Note: egress, an ARP request sent for the (unresolved) next hop.
pub(crate) const ARP_REQUEST: &str = "nat: arp request for";
/// Note: egress, no ARP request: one was sent for this next hop less than
/// 100 ms ago.
pub(crate) const ARP_RATE_LIMITED: &str = "nat: arp request rate-limited for";
/// Note: ingress, an ARP sender learned (its IP; the MAC follows).
pub(crate) const LEARNED_IP: &str = "nat: learned neighbour ip";
/// Note: ingress, the MAC learned.
pub(crate) const LEARNED_MAC: &str = "nat: learned neighbour mac";
/// Note: ingress, an ARP sender not learned (off-link, zero IP, non-unicast
/// MAC, or a racing write to the same cache slot): its IP.
pub(crate) const NOT_LEARNED: &str = "nat: arp sender not learned";
/// Note: ingress, the fixed IP the packet is translated to.
pub(crate) const FIXED_IP: &str = "nat: fixed ip";
/// Note: SNAT, the chassis' external address (egress: the new source;
/// ingress: the destination).
pub(crate) const SNAT_IP: &str = "nat: snat external ip";
/// Note: SNAT, the external port (ICMP: identifier) of the connection
/// (egress: claimed or reused; ingress: looked up).
pub(crate) const SNAT_PORT: &str = "nat: snat external port";
/// Note: SNAT ingress, the VM address the reply is translated to.
pub(crate) const SNAT_VM_IP: &str = "nat: snat vm ip";
/// Note: ingress ICMP error, the quoted packet's source (must be the
/// floating IP or the SNAT address: the quote is a packet a VM sent).
pub(crate) const QUOTED_SRC: &str = "nat: icmp error quoted source";
/// Note: egress ICMP error, the quoted packet's destination (must be the
/// VM's address: the quote is a packet it received).
pub(crate) const QUOTED_DST: &str = "nat: icmp error quoted destination";
/// Note: SNAT ICMP error, the quoted port (identifier) on our side
/// (ingress: the external port looked up; egress: the VM's port).
pub(crate) const QUOTED_PORT: &str = "nat: icmp error quoted port";
/// Note: an ICMP error translated, outer and quoted packet: its ICMP
/// type << 8 | code.
pub(crate) const ICMP_ERROR_TRANSLATED: &str = "nat: icmp error translated";
/// Note: a time exceeded sent from the floating IP, to this address (on
/// the expired packet and on the reply).
pub(crate) const TIME_EXCEEDED_SENT: &str = "nat: time exceeded sent to";
/// Note: no time exceeded, over the stage's 3/s: the sender.
pub(crate) const TIME_EXCEEDED_RATE_LIMITED: &str = "nat: time exceeded rate-limited for";
/// Note: no time exceeded about an ICMP error, a non-first fragment or a
/// non-unicast sender: the sender.
pub(crate) const TIME_EXCEEDED_SUPPRESSED: &str = "nat: no time exceeded about";
/// Note: no time exceeded, no buffer: the sender.
pub(crate) const TIME_EXCEEDED_NO_BUFFER: &str = "nat: no buffer for time exceeded to";
