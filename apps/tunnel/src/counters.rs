//! `tunnel`'s drop reasons.

use df_dp::contract::DropSpec;
use df_dp::DropId;

/// The drop reasons, indexed by `DropId`.
pub(crate) static DROPS: &[DropSpec] = &[
    DropSpec {
        name: "no-underlay",
        doc: "tunnelling is off on this chassis: the tunnel config has no `local` endpoint (check that control found this chassis' tunnel IP and underlay port)",
    },
    DropSpec {
        name: "unknown-destination",
        doc: "encap: the destination_port_key is neither a remote port nor a network's flood key (check the tunnel config's `ports` and `networks[].flood_key`; a port bound on this chassis must not be sent to the tunnel)",
    },
    DropSpec {
        name: "no-remote-chassis",
        doc: "encap: a flood key whose network has no remote chassis (`networks[].chassis` is empty): nothing to replicate to; normal while all of the network's ports are on this chassis",
    },
    DropSpec {
        name: "no-headroom",
        doc: "encap: fewer than 50 bytes of headroom in front of the frame for the outer headers (check the packet pool's or mbuf pool's headroom and any app upstream that prepends)",
    },
    DropSpec {
        name: "unknown-port",
        doc: "decap: received on a switch port other than the underlay port `local.port` (check the daemon's port bindings: only the underlay port belongs at tunnel.in.decap, and the layout order of port entries)",
    },
    DropSpec {
        name: "runt",
        doc: "decap: the underlay frame, or the inner frame after the tunnel headers, is shorter than an Ethernet header",
    },
    DropSpec {
        name: "not-for-us",
        doc: "decap: an underlay frame for someone else: destination MAC neither `local.mac` nor a group address, neither IPv4 nor ARP, IPv4 to another address than `local.ip` or not UDP, a UDP port other than 6081 (Geneve) or 4789 (VXLAN), or ARP other than a request for `local.ip`",
    },
    DropSpec {
        name: "bad-outer",
        doc: "decap: the outer IPv4/UDP headers are broken: truncated, bad version, IHL or total length, bad header checksum, a bad UDP length, or a fragment (fragments are not reassembled: make the underlay MTU at least the overlay MTU + 50)",
    },
    DropSpec {
        name: "bad-geneve",
        doc: "decap: a Geneve header that is truncated, of a version other than 0, an OAM frame (O bit), with critical options (C bit), or carrying something other than Ethernet (protocol 0x6558)",
    },
    DropSpec {
        name: "bad-vxlan",
        doc: "decap: a VXLAN header that is truncated or has the I flag (VNI valid) clear",
    },
    DropSpec {
        name: "unknown-vni",
        doc: "decap: no network has this VNI for this encapsulation (check `networks[].vni` and `type`: a VXLAN frame never matches a Geneve network, and the peer may know a network this chassis does not)",
    },
];

/// See [`DROPS`].
pub(crate) const NO_UNDERLAY: DropId = DropId(0);
/// See [`DROPS`].
pub(crate) const UNKNOWN_DESTINATION: DropId = DropId(1);
/// See [`DROPS`].
pub(crate) const NO_REMOTE_CHASSIS: DropId = DropId(2);
/// See [`DROPS`].
pub(crate) const NO_HEADROOM: DropId = DropId(3);
/// See [`DROPS`].
pub(crate) const UNKNOWN_PORT: DropId = DropId(4);
/// See [`DROPS`].
pub(crate) const RUNT: DropId = DropId(5);
/// See [`DROPS`].
pub(crate) const NOT_FOR_US: DropId = DropId(6);
/// See [`DROPS`].
pub(crate) const BAD_OUTER: DropId = DropId(7);
/// See [`DROPS`].
pub(crate) const BAD_GENEVE: DropId = DropId(8);
/// See [`DROPS`].
pub(crate) const BAD_VXLAN: DropId = DropId(9);
/// See [`DROPS`].
pub(crate) const UNKNOWN_VNI: DropId = DropId(10);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_match_names() {
        let ids = [
            (NO_UNDERLAY, "no-underlay"),
            (UNKNOWN_DESTINATION, "unknown-destination"),
            (NO_REMOTE_CHASSIS, "no-remote-chassis"),
            (NO_HEADROOM, "no-headroom"),
            (UNKNOWN_PORT, "unknown-port"),
            (RUNT, "runt"),
            (NOT_FOR_US, "not-for-us"),
            (BAD_OUTER, "bad-outer"),
            (BAD_GENEVE, "bad-geneve"),
            (BAD_VXLAN, "bad-vxlan"),
            (UNKNOWN_VNI, "unknown-vni"),
        ];
        assert_eq!(ids.len(), DROPS.len());
        for (id, name) in ids {
            assert_eq!(DROPS[id.0 as usize].name, name);
        }
    }
}
