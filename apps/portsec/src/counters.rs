//! `portsec`'s drop reasons. Each says what the VM did and what to check
//! in the model when the VM is not at fault.

use df_dp::contract::DropSpec;
use df_dp::DropId;

/// The drop reasons, indexed by `DropId`.
pub(crate) static DROPS: &[DropSpec] = &[
    DropSpec {
        name: "unknown-port",
        doc: "source_port_key has no entry in the portsec table: the port is not local, or control has not configured it yet (check the lport's binding and `dfctl show tables portsec`)",
    },
    DropSpec {
        name: "malformed",
        doc: "a header is truncated or inconsistent (Ethernet, IPv4, IPv6 extension chain, ARP, UDP, ICMPv6/ND, DHCP); the VM's stack or a crafted frame",
    },
    DropSpec {
        name: "spoofed-mac",
        doc: "Ethernet source MAC is neither one of the port's MACs nor an allowed-address-pair MAC (check the lport's macs / allowed_address_pairs)",
    },
    DropSpec {
        name: "spoofed-ipv4",
        doc: "IPv4 source is not a fixed IP or allowed pair IP bound to the source MAC (0.0.0.0 only for a DHCP client from the port's own MAC); check the lport's ips",
    },
    DropSpec {
        name: "spoofed-arp",
        doc: "ARP sender MAC differs from the Ethernet source, the sender IP is not allowed for that MAC (0.0.0.0 only in a request: RFC 5227 probe), or the ARP is not Ethernet/IPv4",
    },
    DropSpec {
        name: "spoofed-ipv6",
        doc: "IPv6 source is not a fixed IP, allowed pair IP or the EUI-64 link-local of the source MAC (:: only for DAD neighbour solicitations and MLD reports)",
    },
    DropSpec {
        name: "spoofed-nd",
        doc: "neighbour discovery that lies: a source/target link-layer address option that is not the Ethernet source, a neighbour advertisement for an address the port does not own, an SLLA from ::, or a fragmented ND message (RFC 6980)",
    },
    DropSpec {
        name: "router-advertisement",
        doc: "a VM sent an ICMPv6 Router Advertisement or Redirect (RA guard); VMs that must route need port security disabled",
    },
    DropSpec {
        name: "dhcp-server",
        doc: "a VM sent a DHCPv4 server message (UDP 67 -> 68, BOOTREPLY, OFFER/ACK/NAK) or a DHCPv6 server message (UDP 547 -> 546, ADVERTISE/REPLY/RECONFIGURE); a VM that serves DHCP needs port security disabled",
    },
    DropSpec {
        name: "unknown-ethertype",
        doc: "not IPv4, IPv6 or ARP: other EtherTypes, and VLAN-tagged frames (trunk ports are not supported by portsec yet)",
    },
];

/// See [`DROPS`].
pub(crate) const UNKNOWN_PORT: DropId = DropId(0);
/// See [`DROPS`].
pub(crate) const MALFORMED: DropId = DropId(1);
/// See [`DROPS`].
pub(crate) const SPOOFED_MAC: DropId = DropId(2);
/// See [`DROPS`].
pub(crate) const SPOOFED_IPV4: DropId = DropId(3);
/// See [`DROPS`].
pub(crate) const SPOOFED_ARP: DropId = DropId(4);
/// See [`DROPS`].
pub(crate) const SPOOFED_IPV6: DropId = DropId(5);
/// See [`DROPS`].
pub(crate) const SPOOFED_ND: DropId = DropId(6);
/// See [`DROPS`].
pub(crate) const ROUTER_ADVERTISEMENT: DropId = DropId(7);
/// See [`DROPS`].
pub(crate) const DHCP_SERVER: DropId = DropId(8);
/// See [`DROPS`].
pub(crate) const UNKNOWN_ETHERTYPE: DropId = DropId(9);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_match_names() {
        let ids = [
            (UNKNOWN_PORT, "unknown-port"),
            (MALFORMED, "malformed"),
            (SPOOFED_MAC, "spoofed-mac"),
            (SPOOFED_IPV4, "spoofed-ipv4"),
            (SPOOFED_ARP, "spoofed-arp"),
            (SPOOFED_IPV6, "spoofed-ipv6"),
            (SPOOFED_ND, "spoofed-nd"),
            (ROUTER_ADVERTISEMENT, "router-advertisement"),
            (DHCP_SERVER, "dhcp-server"),
            (UNKNOWN_ETHERTYPE, "unknown-ethertype"),
        ];
        assert_eq!(ids.len(), DROPS.len());
        for (id, name) in ids {
            assert_eq!(DROPS[id.0 as usize].name, name);
        }
    }
}
