//! `firewall`'s drop reasons. A rejected packet is counted under `rejected`
//! whether or not its reply could be sent (the trace says: sent, suppressed
//! because the packet is itself a reset / an ICMP error / a later fragment
//! / not unicast, or no buffer), except when the reply was held back by the
//! port's rate limit: then `reject-rate-limited`.

use df_dp::contract::DropSpec;
use df_dp::DropId;

/// The drop reasons, indexed by `DropId`.
pub(crate) static DROPS: &[DropSpec] = &[
    DropSpec {
        name: "denied",
        doc: "a deny rule, or no rule (FWaaS's implicit deny at the end of a policy), of the \
              firewall group on the router port, and no cached flow it answers: the trace \
              names the direction, the port and the rule position; check the group's policy \
              with `dfctl show tables`",
    },
    DropSpec {
        name: "rejected",
        doc: "a reject rule matched and no cached flow it answers: the packet is dropped and a \
              TCP reset or ICMP administratively prohibited goes back to the sender (see the \
              trace for a suppressed reply)",
    },
    DropSpec {
        name: "reject-rate-limited",
        doc: "a reject rule matched and the reply was held back by the router port's \
              `reject_rate` (per worker): a scan or a flood hitting a reject rule; raise the \
              rate or use deny",
    },
    DropSpec {
        name: "malformed",
        doc: "an IPv4/IPv6 packet whose IP or L4 header is truncated or inconsistent, a bad \
              IPv6 extension chain, or a first fragment too short to hold its ports: the \
              sender's stack or a crafted frame",
    },
];

/// See [`DROPS`].
pub(crate) const DENIED: DropId = DropId(0);
/// See [`DROPS`].
pub(crate) const REJECTED: DropId = DropId(1);
/// See [`DROPS`].
pub(crate) const REJECT_RATE_LIMITED: DropId = DropId(2);
/// See [`DROPS`].
pub(crate) const MALFORMED: DropId = DropId(3);
