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
