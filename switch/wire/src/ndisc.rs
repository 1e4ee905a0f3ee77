//! Neighbor Discovery messages (RFC 4861 §4): RS, RA, NS and NA.
//!
//! These are ICMPv6 messages, so they reuse the ICMPv6 [`Packet`] view; this
//! module adds the ND body accessors to it and the owned [`NdiscRepr`] the
//! switch uses to answer solicitations (NS → NA for router addresses,
//! RS → RA for SLAAC). The options are in [`ndopt`](crate::ndopt).
//!
//! Validation follows RFC 4861 §6.1 / §7.1 as far as the message alone
//! allows: code 0 and the minimum length. The IP hop limit of 255 is the
//! caller's check (it is not in the ICMPv6 message).

use std::net::Ipv6Addr;

use crate::bytes::{array_or_zero, clamped, set_u16, set_u32};
use crate::icmpv6::{Icmpv6Message, Packet};
use crate::ndopt::{NdOptions, NdOptionsRepr};
use crate::{Error, Result};

mod field {
    use core::ops::Range;

    pub const CUR_HOP_LIMIT: usize = 4;
    pub const ROUTER_FLAGS: usize = 5;
    pub const ROUTER_LIFETIME: Range<usize> = 6..8;
    pub const REACHABLE_TIME: Range<usize> = 8..12;
    pub const RETRANS_TIME: Range<usize> = 12..16;
    pub const NEIGHBOR_FLAGS: usize = 4;
    pub const TARGET: Range<usize> = 8..24;
}

/// Body length (ICMPv6 header included) before the options, per message.
fn options_offset(msg_type: Icmpv6Message) -> Option<usize> {
    match msg_type {
        Icmpv6Message::RouterSolicit => Some(8),
        Icmpv6Message::RouterAdvert => Some(16),
        Icmpv6Message::NeighborSolicit | Icmpv6Message::NeighborAdvert => Some(24),
        Icmpv6Message::Redirect => Some(40),
        _ => None,
    }
}

const RA_MANAGED: u8 = 0x80;
const RA_OTHER: u8 = 0x40;
const NA_ROUTER: u8 = 0x80;
const NA_SOLICITED: u8 = 0x40;
const NA_OVERRIDE: u8 = 0x20;

/// ND accessors. The ICMPv6 view only guarantees the 8-byte common header,
/// and each ND message has its own body length, so these getters never
/// index past the buffer: a field the message is too short for reads as
/// zero (or `::`). Call [`check_ndisc_len`](Packet::check_ndisc_len) first
/// to know the body is there.
impl<T: AsRef<[u8]>> Packet<T> {
    /// Checks that the fixed ND body of this message type is present.
    ///
    /// # Errors
    /// [`Error::Truncated`] if it is not; [`Error::Unsupported`] for a type
    /// that is not an ND message.
    pub fn check_ndisc_len(&self) -> Result<()> {
        let offset = options_offset(self.msg_type()).ok_or(Error::Unsupported)?;
        if self.buffer.as_ref().len() < offset {
            return Err(Error::Truncated);
        }
        Ok(())
    }

    fn byte(&self, at: usize) -> u8 {
        self.buffer.as_ref().get(at).copied().unwrap_or(0)
    }

    /// RA: current hop limit.
    pub fn cur_hop_limit(&self) -> u8 {
        self.byte(field::CUR_HOP_LIMIT)
    }

    /// RA: the M (managed address configuration) flag.
    pub fn managed_flag(&self) -> bool {
        self.byte(field::ROUTER_FLAGS) & RA_MANAGED != 0
    }

    /// RA: the O (other configuration) flag.
    pub fn other_config_flag(&self) -> bool {
        self.byte(field::ROUTER_FLAGS) & RA_OTHER != 0
    }

    /// RA: router lifetime, seconds.
    pub fn router_lifetime(&self) -> u16 {
        u16::from_be_bytes(array_or_zero(
            self.buffer.as_ref(),
            field::ROUTER_LIFETIME.start,
        ))
    }

    /// RA: reachable time, milliseconds.
    pub fn reachable_time(&self) -> u32 {
        u32::from_be_bytes(array_or_zero(
            self.buffer.as_ref(),
            field::REACHABLE_TIME.start,
        ))
    }

    /// RA: retransmission timer, milliseconds.
    pub fn retrans_time(&self) -> u32 {
        u32::from_be_bytes(array_or_zero(
            self.buffer.as_ref(),
            field::RETRANS_TIME.start,
        ))
    }

    /// NA: the R, S and O flags.
    pub fn neighbor_flags(&self) -> (bool, bool, bool) {
        let flags = self.byte(field::NEIGHBOR_FLAGS);
        (
            flags & NA_ROUTER != 0,
            flags & NA_SOLICITED != 0,
            flags & NA_OVERRIDE != 0,
        )
    }

    /// NS, NA, Redirect: target address.
    pub fn target_addr(&self) -> Ipv6Addr {
        Ipv6Addr::from(array_or_zero::<16>(
            self.buffer.as_ref(),
            field::TARGET.start,
        ))
    }

    /// The option bytes of an ND message (empty for other types).
    pub fn ndisc_options(&self) -> NdOptions<'_> {
        let data = self.buffer.as_ref();
        match options_offset(self.msg_type()) {
            Some(offset) => NdOptions::new(clamped(data, offset, data.len())),
            None => NdOptions::new(&[]),
        }
    }
}

/// An owned Neighbor Discovery message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NdiscRepr<'a> {
    /// Router solicitation.
    RouterSolicit {
        /// Options (typically the source link-layer address).
        options: NdOptionsRepr<'a>,
    },
    /// Router advertisement.
    RouterAdvert {
        /// Hop limit hosts should use (0: unspecified).
        hop_limit: u8,
        /// M flag: addresses via DHCPv6.
        managed: bool,
        /// O flag: other configuration via DHCPv6.
        other_config: bool,
        /// Router lifetime, seconds (0: not a default router).
        router_lifetime: u16,
        /// Reachable time, milliseconds.
        reachable_time: u32,
        /// Retransmission timer, milliseconds.
        retrans_time: u32,
        /// Options (SLLA, MTU, prefixes, ...).
        options: NdOptionsRepr<'a>,
    },
    /// Neighbor solicitation.
    NeighborSolicit {
        /// Address being resolved.
        target: Ipv6Addr,
        /// Options (SLLA unless DAD).
        options: NdOptionsRepr<'a>,
    },
    /// Neighbor advertisement.
    NeighborAdvert {
        /// R flag: sender is a router.
        router: bool,
        /// S flag: reply to a solicitation.
        solicited: bool,
        /// O flag: override cached link-layer address.
        override_cache: bool,
        /// Address advertised.
        target: Ipv6Addr,
        /// Options (TLLA).
        options: NdOptionsRepr<'a>,
    },
}

impl<'a> NdiscRepr<'a> {
    /// Parses the ND body of an ICMPv6 message (checksum not checked here;
    /// [`Icmpv6Repr::parse`](crate::Icmpv6Repr::parse) does).
    ///
    /// # Errors
    /// [`Error::Truncated`] if the fixed body is cut short;
    /// [`Error::Malformed`] for a non-zero code or bad options;
    /// [`Error::Unsupported`] for a non-ND type or options beyond capacity.
    pub fn parse<T: AsRef<[u8]> + ?Sized>(packet: &Packet<&'a T>) -> Result<NdiscRepr<'a>> {
        packet.check_len()?;
        packet.check_ndisc_len()?;
        if packet.msg_code() != 0 {
            return Err(Error::Malformed);
        }
        let buffer: &'a [u8] = AsRef::<[u8]>::as_ref(packet.buffer);
        let msg_type = packet.msg_type();
        let offset = options_offset(msg_type).ok_or(Error::Unsupported)?;
        let options = NdOptionsRepr::parse(clamped(buffer, offset, buffer.len()))?;
        Ok(match msg_type {
            Icmpv6Message::RouterSolicit => NdiscRepr::RouterSolicit { options },
            Icmpv6Message::RouterAdvert => NdiscRepr::RouterAdvert {
                hop_limit: packet.cur_hop_limit(),
                managed: packet.managed_flag(),
                other_config: packet.other_config_flag(),
                router_lifetime: packet.router_lifetime(),
                reachable_time: packet.reachable_time(),
                retrans_time: packet.retrans_time(),
                options,
            },
            Icmpv6Message::NeighborSolicit => NdiscRepr::NeighborSolicit {
                target: packet.target_addr(),
                options,
            },
            Icmpv6Message::NeighborAdvert => {
                let (router, solicited, override_cache) = packet.neighbor_flags();
                NdiscRepr::NeighborAdvert {
                    router,
                    solicited,
                    override_cache,
                    target: packet.target_addr(),
                    options,
                }
            }
            _ => return Err(Error::Unsupported),
        })
    }

    fn msg_type(&self) -> Icmpv6Message {
        match self {
            NdiscRepr::RouterSolicit { .. } => Icmpv6Message::RouterSolicit,
            NdiscRepr::RouterAdvert { .. } => Icmpv6Message::RouterAdvert,
            NdiscRepr::NeighborSolicit { .. } => Icmpv6Message::NeighborSolicit,
            NdiscRepr::NeighborAdvert { .. } => Icmpv6Message::NeighborAdvert,
        }
    }

    /// The option set.
    pub fn options(&self) -> &NdOptionsRepr<'a> {
        match self {
            NdiscRepr::RouterSolicit { options }
            | NdiscRepr::RouterAdvert { options, .. }
            | NdiscRepr::NeighborSolicit { options, .. }
            | NdiscRepr::NeighborAdvert { options, .. } => options,
        }
    }

    /// Whole ICMPv6 message length (header, body, options).
    pub fn buffer_len(&self) -> usize {
        options_offset(self.msg_type()).unwrap_or(0) + self.options().buffer_len()
    }

    /// Writes header fields, body and options; the caller fills the
    /// checksum ([`Icmpv6Repr::emit`](crate::Icmpv6Repr::emit) does).
    ///
    /// # Panics
    /// If the buffer is shorter than [`buffer_len`](Self::buffer_len).
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(&self, packet: &mut Packet<T>) {
        let msg_type = self.msg_type();
        let offset = options_offset(msg_type).unwrap_or(0);
        let data = packet.buffer.as_mut();
        data[..offset].fill(0);
        data[0] = msg_type.into();
        match *self {
            NdiscRepr::RouterSolicit { .. } => {}
            NdiscRepr::RouterAdvert {
                hop_limit,
                managed,
                other_config,
                router_lifetime,
                reachable_time,
                retrans_time,
                ..
            } => {
                data[field::CUR_HOP_LIMIT] = hop_limit;
                data[field::ROUTER_FLAGS] =
                    if managed { RA_MANAGED } else { 0 } | if other_config { RA_OTHER } else { 0 };
                set_u16(data, field::ROUTER_LIFETIME.start, router_lifetime);
                set_u32(data, field::REACHABLE_TIME.start, reachable_time);
                set_u32(data, field::RETRANS_TIME.start, retrans_time);
            }
            NdiscRepr::NeighborSolicit { target, .. } => {
                data[field::TARGET].copy_from_slice(&target.octets());
            }
            NdiscRepr::NeighborAdvert {
                router,
                solicited,
                override_cache,
                target,
                ..
            } => {
                data[field::NEIGHBOR_FLAGS] = if router { NA_ROUTER } else { 0 }
                    | if solicited { NA_SOLICITED } else { 0 }
                    | if override_cache { NA_OVERRIDE } else { 0 };
                data[field::TARGET].copy_from_slice(&target.octets());
            }
        }
        self.options().emit(&mut data[offset..]);
    }
}
