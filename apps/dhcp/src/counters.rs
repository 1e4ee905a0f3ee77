//! `dhcp`'s drop reasons. `release` and `decline` are not errors: the
//! client's message needs no answer, and counting it is how it shows.
//! The IPv6 reasons come last, so the DHCPv4 ids stay as they were.

use df_dp::contract::DropSpec;
use df_dp::DropId;

/// The drop reasons, indexed by `DropId`.
pub(crate) static DROPS: &[DropSpec] = &[
    DropSpec {
        name: "malformed",
        doc:
            "a UDP 68->67 datagram to the network's DHCP server that is not a valid BOOTP request \
              (truncated, op != 1, wrong hardware type, bad magic cookie, bad option lengths, \
              no message type, or an IP fragment): capture it with `dfctl trace`",
    },
    DropSpec {
        name: "no-port",
        doc: "DHCP request (or IPv6 Router Solicitation, DHCPv6 message) from a source port key \
              dhcp has no client port for in this network: check that the port is in the dhcp \
              config of its network (`networks[].ports` or `ipv6_networks[].ports`)",
    },
    DropSpec {
        name: "rate-limited",
        doc: "the client port sent more requests than its rate limit allows, or is blocked for \
              `block_secs` after doing so (Dragonflow's df_dhcp_max_rate_per_sec / \
              df_dhcp_block_time_in_sec): look for a misbehaving DHCP client in the VM",
    },
    DropSpec {
        name: "dhcp-disabled",
        doc: "the client port's subnet has enable_dhcp = false: the request goes unanswered, \
              as on a network without DHCP",
    },
    DropSpec {
        name: "no-server",
        doc: "the client port's subnet has DHCP enabled but the network's DHCP port has no \
              address in it: check the DHCP port's fixed IPs (IPv6: a subnet has address_mode \
              dhcpv6-stateful or -stateless but the network has neither `server_mac` nor \
              `router` to answer from)",
    },
    DropSpec {
        name: "other-server",
        doc: "a REQUEST or DECLINE naming another server in option 54 (the client chose another \
              server's offer): RFC 2131 says stay silent; look for a rogue DHCP server if frequent",
    },
    DropSpec {
        name: "unknown-message",
        doc: "a client message type the server does not answer (not DISCOVER, REQUEST, INFORM, \
              RELEASE or DECLINE)",
    },
    DropSpec {
        name: "release",
        doc: "a DHCPRELEASE: accepted, no reply is due (leases are the ports' fixed addresses)",
    },
    DropSpec {
        name: "decline",
        doc: "a DHCPDECLINE: the client found its address in use; no reply is due, but check \
              for a duplicate address on the network",
    },
    DropSpec {
        name: "no-room",
        doc: "the reply (at most 1514 bytes) did not fit the request's buffer: an mbuf from a \
              mempool with less data room than that; give the mempool 2 KiB buffers (DHCPv6: \
              or the reply would exceed one Ethernet MTU, a request with many IA_NAs and \
              addresses)",
    },
    DropSpec {
        name: "rs-invalid",
        doc: "an IPv6 Router Solicitation to a network with an RA here that RFC 4861 §6.1.1 says \
              to discard: hop limit not 255, bad ICMPv6 checksum or length, code not 0, bad \
              option lengths, a multicast source, or a source link-layer option from `::`",
    },
    DropSpec {
        name: "dhcpv6-malformed",
        doc: "a UDP 546->547 datagram to the network's DHCPv6 server that RFC 8415 §16 says to \
              discard: truncated, bad option or IA_NA lengths, a DUID shorter than 3 or longer \
              than 130 bytes, no Client Identifier (but INFORMATION-REQUEST), a Server \
              Identifier missing (REQUEST, RENEW, RELEASE, DECLINE) or present (SOLICIT, \
              REBIND, CONFIRM), an INFORMATION-REQUEST with IA options, or a `::` source",
    },
    DropSpec {
        name: "dhcpv6-other-server",
        doc: "a DHCPv6 message naming another server's DUID (the client chose another \
              server): RFC 8415 says stay silent; look for a rogue DHCPv6 server if frequent",
    },
    DropSpec {
        name: "dhcpv6-unknown-message",
        doc: "a DHCPv6 message type the server does not answer (ADVERTISE, REPLY, RECONFIGURE, \
              relay messages or an unknown type): a relay or another server on the network",
    },
    DropSpec {
        name: "dhcpv6-empty-confirm",
        doc: "a DHCPv6 CONFIRM listing no address: RFC 8415 §18.3.3 says send no reply",
    },
];

/// See [`DROPS`].
pub(crate) const MALFORMED: DropId = DropId(0);
/// See [`DROPS`].
pub(crate) const NO_PORT: DropId = DropId(1);
/// See [`DROPS`].
pub(crate) const RATE_LIMITED: DropId = DropId(2);
/// See [`DROPS`].
pub(crate) const DHCP_DISABLED: DropId = DropId(3);
/// See [`DROPS`].
pub(crate) const NO_SERVER: DropId = DropId(4);
/// See [`DROPS`].
pub(crate) const OTHER_SERVER: DropId = DropId(5);
/// See [`DROPS`].
pub(crate) const UNKNOWN_MESSAGE: DropId = DropId(6);
/// See [`DROPS`].
pub(crate) const RELEASE: DropId = DropId(7);
/// See [`DROPS`].
pub(crate) const DECLINE: DropId = DropId(8);
/// See [`DROPS`].
pub(crate) const NO_ROOM: DropId = DropId(9);
/// See [`DROPS`].
pub(crate) const RS_INVALID: DropId = DropId(10);
/// See [`DROPS`].
pub(crate) const DHCPV6_MALFORMED: DropId = DropId(11);
/// See [`DROPS`].
pub(crate) const DHCPV6_OTHER_SERVER: DropId = DropId(12);
/// See [`DROPS`].
pub(crate) const DHCPV6_UNKNOWN_MESSAGE: DropId = DropId(13);
/// See [`DROPS`].
pub(crate) const DHCPV6_EMPTY_CONFIRM: DropId = DropId(14);
