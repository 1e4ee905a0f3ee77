//! What a traced packet records in `tunnel`.

/// Note: encap, the destination port key looked up.
pub(crate) const DESTINATION: &str = "tunnel: destination port key";
/// Note: encap, the index (in the config's `chassis`) of the chassis a copy goes to.
pub(crate) const TO_CHASSIS: &str = "tunnel: to chassis";
/// Note: the VNI of a frame encapsulated or decapsulated.
pub(crate) const VNI: &str = "tunnel: vni";
/// Note: encap, the UDP source port chosen from the inner flow (ECMP entropy).
pub(crate) const SOURCE_PORT: &str = "tunnel: udp source port";
/// Note: encap of a flood key, the copies made (one per remote chassis).
pub(crate) const FLOOD_COPIES: &str = "tunnel: flood copies";
/// Note: decap, the network the inner frame enters.
pub(crate) const NETWORK: &str = "tunnel: network key";
/// Note: decap, a VNI no network has (Geneve 0, VXLAN 2^24 added).
pub(crate) const NO_NETWORK_FOR_VNI: &str = "tunnel: no network for vni (vxlan: + 2^24)";
/// Note: decap, an ARP request for the local tunnel IP answered (the asker's IP).
pub(crate) const ARP_REPLY: &str = "tunnel: arp reply to";
