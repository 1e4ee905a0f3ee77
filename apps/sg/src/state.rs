//! Connection states and their timeouts: a simplified TCP tracker in the
//! manner of Linux's `nf_conntrack_proto_tcp` (flag combinations and
//! state transitions, no sequence-window tracking), and the two-state
//! (new, replied) tracking of UDP, ICMP queries and other protocols.
//!
//! TCP: a new connection starts only with a SYN (no ACK, RST or FIN);
//! the responder's SYN-ACK moves SYN_SENT to SYN_RECV, the originator's
//! ACK to ESTABLISHED; a FIN moves to FIN_WAIT, the other side's ACK to
//! CLOSE_WAIT (half closed), the second FIN to TIME_WAIT; a RST from
//! either side closes. A SYN on a TIME_WAIT or CLOSED connection reopens
//! it (the stage forgets the old one and checks the SYN as new). Packets
//! a state does not expect (an ACK before the SYN-ACK, a SYN on an open
//! connection, anything but a SYN after a RST) are `invalid`.

use crate::ct::{Entry, FIN_ORIG, FIN_REPLY, ORIG_LO, REPLIED};
use crate::tables::Timeouts;

/// TCP states (`Entry::state`).
pub(crate) mod tcp {
    /// SYN seen from the originator.
    pub(crate) const SYN_SENT: u8 = 1;
    /// SYN-ACK seen from the responder.
    pub(crate) const SYN_RECV: u8 = 2;
    /// Handshake done.
    pub(crate) const ESTABLISHED: u8 = 3;
    /// One side sent FIN.
    pub(crate) const FIN_WAIT: u8 = 4;
    /// The FIN was acknowledged; the other side may still send.
    pub(crate) const CLOSE_WAIT: u8 = 5;
    /// Both sides sent FIN.
    pub(crate) const TIME_WAIT: u8 = 6;
    /// Reset.
    pub(crate) const CLOSED: u8 = 7;
}

const FIN: u8 = 0x01;
const SYN: u8 = 0x02;
const RST: u8 = 0x04;
const PSH: u8 = 0x08;
const ACK: u8 = 0x10;
const URG: u8 = 0x20;

/// What a packet does to a tracked connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Step {
    /// Accepted (the entry was updated).
    Accept,
    /// Not valid in the connection's state.
    Invalid,
    /// A SYN on a finished connection: forget it and check the SYN as new.
    Reopen,
}

/// RFC 793-consistent flag combinations (ECE and CWR ignored), as Linux's
/// `tcp_valid_flags`.
pub(crate) fn tcp_flags_valid(flags: u8) -> bool {
    const SYN_ACK: u8 = SYN | ACK;
    const RST_ACK: u8 = RST | ACK;
    const RST_ACK_PSH: u8 = RST | ACK | PSH;
    const FIN_ACK: u8 = FIN | ACK;
    const SYN_URG: u8 = SYN | URG;
    let f = flags & (FIN | SYN | RST | PSH | ACK | URG);
    match f {
        SYN | SYN_URG | SYN_ACK | RST | RST_ACK | RST_ACK_PSH => true,
        // FIN|ACK and ACK, each with any of PSH and URG.
        _ => matches!(f & !(PSH | URG), FIN_ACK | ACK),
    }
}

/// A TCP packet that may open a connection: a bare SYN.
pub(crate) fn tcp_opens(flags: u8) -> bool {
    flags & (SYN | ACK | RST | FIN) == SYN
}

/// Applies a TCP packet (valid flags) in direction `orig` to `e`.
pub(crate) fn tcp_step(e: &mut Entry, orig: bool, flags: u8) -> Step {
    use tcp::*;
    let s = e.state;
    if flags & RST != 0 {
        e.state = CLOSED;
        return Step::Accept;
    }
    let (syn, ack, fin) = (flags & SYN != 0, flags & ACK != 0, flags & FIN != 0);
    let next = match (syn, ack, fin) {
        // SYN
        (true, false, _) => match s {
            SYN_SENT if orig => SYN_SENT,
            SYN_SENT => SYN_RECV, // simultaneous open
            TIME_WAIT | CLOSED => return Step::Reopen,
            _ => return Step::Invalid,
        },
        // SYN-ACK: from the responder (or either side of a simultaneous open)
        (true, true, _) => match s {
            SYN_SENT if !orig => SYN_RECV,
            SYN_RECV => SYN_RECV,
            ESTABLISHED if !orig => ESTABLISHED,
            _ => return Step::Invalid,
        },
        // FIN (with ACK)
        (false, _, true) => {
            let bit = if orig { FIN_ORIG } else { FIN_REPLY };
            let other = if orig { FIN_REPLY } else { FIN_ORIG };
            match s {
                SYN_RECV | ESTABLISHED => {
                    e.flags |= bit;
                    FIN_WAIT
                }
                FIN_WAIT | CLOSE_WAIT | TIME_WAIT if e.flags & other != 0 => {
                    e.flags |= bit;
                    TIME_WAIT
                }
                FIN_WAIT | CLOSE_WAIT => s, // retransmitted FIN
                _ => return Step::Invalid,
            }
        }
        // ACK (with data)
        (false, _, false) => match s {
            SYN_RECV if orig => ESTABLISHED,
            SYN_RECV | ESTABLISHED | CLOSE_WAIT | TIME_WAIT => s,
            FIN_WAIT => {
                // The side that did not send the FIN acknowledges it.
                let sent_fin = if orig { FIN_ORIG } else { FIN_REPLY };
                if e.flags & sent_fin == 0 {
                    CLOSE_WAIT
                } else {
                    FIN_WAIT
                }
            }
            _ => return Step::Invalid,
        },
    };
    e.state = next;
    if !orig {
        e.flags |= REPLIED;
    }
    Step::Accept
}

/// Applies a non-TCP packet in direction `orig` to `e`.
pub(crate) fn other_step(e: &mut Entry, orig: bool) {
    if !orig {
        e.flags |= REPLIED;
    }
}

/// The idle time after which `e` expires, in TSC cycles.
#[inline]
pub(crate) fn timeout(e: &Entry, t: &Timeouts) -> u64 {
    let replied = e.flags & REPLIED != 0;
    match e.proto {
        6 => match e.state {
            tcp::ESTABLISHED => t.tcp_established,
            tcp::CLOSED => t.tcp_closed,
            _ => t.tcp_transitional,
        },
        17 | 33 | 132 | 136 if replied => t.udp_replied,
        17 | 33 | 132 | 136 => t.udp,
        1 | 58 => t.icmp,
        _ => t.other,
    }
}

/// Whether `e` has been idle past its timeout at TSC `now`.
#[inline]
pub(crate) fn expired(e: &Entry, now: u64, t: &Timeouts) -> bool {
    now.saturating_sub(e.last_seen) > timeout(e, t)
}

/// Whether a packet from `(src, sport)` goes in `e`'s original direction.
#[inline]
pub(crate) fn is_orig(e: &Entry, src_is_lo: bool) -> bool {
    (e.flags & ORIG_LO != 0) == src_is_lo
}

#[cfg(test)]
mod tests {
    use super::tcp::*;
    use super::*;
    use crate::ct::CtKey;

    fn entry() -> Entry {
        Entry::new(&CtKey::default(), ORIG_LO, SYN_SENT, 0, 1, 0)
    }

    #[test]
    fn flag_combinations() {
        for ok in [
            SYN,
            SYN | ACK,
            ACK,
            ACK | PSH,
            FIN | ACK,
            RST,
            RST | ACK,
            ACK | URG,
        ] {
            assert!(tcp_flags_valid(ok), "{ok:#x}");
        }
        for bad in [
            0,
            FIN,
            SYN | FIN,
            SYN | RST,
            FIN | RST | ACK,
            SYN | PSH,
            PSH,
            URG,
        ] {
            assert!(!tcp_flags_valid(bad), "{bad:#x}");
        }
        assert!(tcp_flags_valid(SYN | 0xc0), "ECE and CWR are ignored");
        assert!(tcp_opens(SYN) && !tcp_opens(SYN | ACK) && !tcp_opens(ACK));
    }

    #[test]
    fn handshake_data_and_close() {
        let mut e = entry();
        assert_eq!(tcp_step(&mut e, true, SYN), Step::Accept);
        assert_eq!(e.state, SYN_SENT);
        assert_eq!(
            tcp_step(&mut e, true, ACK),
            Step::Invalid,
            "ACK before SYN-ACK"
        );
        assert_eq!(tcp_step(&mut e, false, SYN | ACK), Step::Accept);
        assert_eq!(e.state, SYN_RECV);
        assert_eq!(tcp_step(&mut e, true, ACK), Step::Accept);
        assert_eq!(e.state, ESTABLISHED);
        assert_eq!(tcp_step(&mut e, true, SYN), Step::Invalid, "SYN when open");
        assert_eq!(tcp_step(&mut e, false, ACK | PSH), Step::Accept);
        assert_eq!(tcp_step(&mut e, true, FIN | ACK), Step::Accept);
        assert_eq!(e.state, FIN_WAIT);
        assert_eq!(tcp_step(&mut e, true, ACK), Step::Accept);
        assert_eq!(e.state, FIN_WAIT, "the FIN's sender's own ACK");
        assert_eq!(tcp_step(&mut e, false, ACK), Step::Accept);
        assert_eq!(e.state, CLOSE_WAIT);
        assert_eq!(tcp_step(&mut e, false, FIN | ACK), Step::Accept);
        assert_eq!(e.state, TIME_WAIT);
        assert_eq!(tcp_step(&mut e, true, ACK), Step::Accept);
        assert_eq!(tcp_step(&mut e, true, SYN), Step::Reopen);
    }

    #[test]
    fn reset_closes_and_only_a_syn_reopens() {
        let mut e = entry();
        assert_eq!(tcp_step(&mut e, false, RST | ACK), Step::Accept);
        assert_eq!(e.state, CLOSED);
        assert_eq!(tcp_step(&mut e, true, ACK), Step::Invalid);
        assert_eq!(tcp_step(&mut e, true, FIN | ACK), Step::Invalid);
        assert_eq!(tcp_step(&mut e, true, SYN), Step::Reopen);
    }

    #[test]
    fn timeouts_follow_state_and_replies() {
        let t = Timeouts {
            tcp_established: 1,
            tcp_transitional: 2,
            tcp_closed: 3,
            udp: 4,
            udp_replied: 5,
            icmp: 6,
            other: 7,
            fragment: 8,
        };
        let mut e = entry();
        e.proto = 6;
        assert_eq!(timeout(&e, &t), 2);
        e.state = ESTABLISHED;
        assert_eq!(timeout(&e, &t), 1);
        e.state = CLOSED;
        assert_eq!(timeout(&e, &t), 3);
        e.proto = 17;
        e.state = 0;
        assert_eq!(timeout(&e, &t), 4);
        other_step(&mut e, true);
        assert_eq!(timeout(&e, &t), 4);
        other_step(&mut e, false);
        assert_eq!(timeout(&e, &t), 5);
        e.proto = 58;
        assert_eq!(timeout(&e, &t), 6);
        e.proto = 47;
        assert_eq!(timeout(&e, &t), 7);
        e.last_seen = 10;
        assert!(!expired(&e, 17, &t) && expired(&e, 18, &t));
        assert!(
            !expired(&e, 5, &t),
            "a clock behind last_seen is not expiry"
        );
    }
}
