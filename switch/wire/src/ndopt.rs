//! Neighbor Discovery options (RFC 4861 §4.6).
//!
//! ND messages end with a list of TLV options whose length is counted in
//! 8-byte units. [`NdOptions`] walks them and stops with
//! [`Error::Malformed`] on a zero length or one that overruns the message,
//! the classic ND parsing bug. [`NdOptionsRepr`] is the owned, allocation-free
//! set the switch reads from solicitations and writes into advertisements:
//! the options it acts on are typed; any other option is kept as a borrowed
//! raw TLV so nothing is lost.

use std::net::Ipv6Addr;

use crate::bytes::{get_ipv6, get_u32, set_u32};
use crate::{Error, EthernetAddress, FixedVec, Result};

enum_with_unknown! {
    /// ND option types.
    pub enum NdOptionType(u8) {
        /// Source link-layer address.
        SourceLinkLayerAddr = 1,
        /// Target link-layer address.
        TargetLinkLayerAddr = 2,
        /// Prefix information.
        PrefixInformation = 3,
        /// Redirected header.
        RedirectedHeader = 4,
        /// MTU.
        Mtu = 5,
        /// Route information (RFC 4191).
        RouteInformation = 24,
        /// Recursive DNS server (RFC 8106).
        RecursiveDnsServer = 25,
        /// DNS search list (RFC 8106).
        DnsSearchList = 31,
    }
}

/// Length of the link-layer address and MTU options.
const SHORT_OPTION_LEN: usize = 8;
/// Length of the prefix information option.
const PREFIX_OPTION_LEN: usize = 32;

const FLAG_ON_LINK: u8 = 0x80;
const FLAG_AUTONOMOUS: u8 = 0x40;

/// Most prefix information options [`NdOptionsRepr`] holds.
pub const MAX_PREFIXES: usize = 4;
/// Most untyped options [`NdOptionsRepr`] holds.
pub const MAX_OTHER_OPTIONS: usize = 4;

/// The Prefix Information option (RFC 4861 §4.6.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PrefixInfo {
    /// Prefix length in bits.
    pub prefix_len: u8,
    /// L flag: the prefix is on-link.
    pub on_link: bool,
    /// A flag: usable for SLAAC.
    pub autonomous: bool,
    /// Valid lifetime, seconds (`u32::MAX` = infinite).
    pub valid_lifetime: u32,
    /// Preferred lifetime, seconds.
    pub preferred_lifetime: u32,
    /// The prefix.
    pub prefix: Ipv6Addr,
}

/// One ND option.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NdOption<'a> {
    /// Source link-layer address (Ethernet).
    SourceLinkLayerAddr(EthernetAddress),
    /// Target link-layer address (Ethernet).
    TargetLinkLayerAddr(EthernetAddress),
    /// Prefix information.
    PrefixInformation(PrefixInfo),
    /// Link MTU.
    Mtu(u32),
    /// Any other option, kept whole (type and length bytes included).
    Other {
        /// Option type.
        kind: NdOptionType,
        /// The whole TLV.
        data: &'a [u8],
    },
}

impl NdOption<'_> {
    /// Bytes the option takes on the wire.
    pub fn buffer_len(&self) -> usize {
        match self {
            NdOption::SourceLinkLayerAddr(_)
            | NdOption::TargetLinkLayerAddr(_)
            | NdOption::Mtu(_) => SHORT_OPTION_LEN,
            NdOption::PrefixInformation(_) => PREFIX_OPTION_LEN,
            NdOption::Other { data, .. } => data.len(),
        }
    }

    /// Writes the option at the start of `buffer`.
    ///
    /// # Panics
    /// If `buffer` is shorter than [`buffer_len`](Self::buffer_len).
    pub fn emit(&self, buffer: &mut [u8]) {
        let out = &mut buffer[..self.buffer_len()];
        out.fill(0);
        let (kind, units) = match *self {
            NdOption::SourceLinkLayerAddr(addr) | NdOption::TargetLinkLayerAddr(addr) => {
                out[2..8].copy_from_slice(&addr.0);
                let kind = match self {
                    NdOption::SourceLinkLayerAddr(_) => NdOptionType::SourceLinkLayerAddr,
                    _ => NdOptionType::TargetLinkLayerAddr,
                };
                (kind, 1)
            }
            NdOption::Mtu(mtu) => {
                set_u32(out, 4, mtu);
                (NdOptionType::Mtu, 1)
            }
            NdOption::PrefixInformation(info) => {
                out[2] = info.prefix_len;
                out[3] = if info.on_link { FLAG_ON_LINK } else { 0 }
                    | if info.autonomous { FLAG_AUTONOMOUS } else { 0 };
                set_u32(out, 4, info.valid_lifetime);
                set_u32(out, 8, info.preferred_lifetime);
                out[16..32].copy_from_slice(&info.prefix.octets());
                (NdOptionType::PrefixInformation, 4)
            }
            NdOption::Other { data, .. } => {
                out.copy_from_slice(data);
                return;
            }
        };
        out[0] = kind.into();
        out[1] = units;
    }
}

/// Iterator over ND options. Yields `Err(Malformed)` once and stops on a
/// zero length, a length past the end, or a typed option with the wrong
/// length.
#[derive(Debug, Clone)]
pub struct NdOptions<'a> {
    rest: &'a [u8],
}

impl<'a> NdOptions<'a> {
    /// Walks the option bytes of an ND message.
    pub fn new(options: &'a [u8]) -> NdOptions<'a> {
        NdOptions { rest: options }
    }

    fn parse_one(tlv: &'a [u8]) -> Result<NdOption<'a>> {
        let kind = NdOptionType::from(tlv[0]);
        Ok(match (kind, tlv.len()) {
            (NdOptionType::SourceLinkLayerAddr, SHORT_OPTION_LEN) => {
                NdOption::SourceLinkLayerAddr(EthernetAddress::from_bytes(&tlv[2..])?)
            }
            (NdOptionType::TargetLinkLayerAddr, SHORT_OPTION_LEN) => {
                NdOption::TargetLinkLayerAddr(EthernetAddress::from_bytes(&tlv[2..])?)
            }
            (NdOptionType::Mtu, SHORT_OPTION_LEN) => NdOption::Mtu(get_u32(tlv, 4)),
            (NdOptionType::PrefixInformation, PREFIX_OPTION_LEN) => {
                NdOption::PrefixInformation(PrefixInfo {
                    prefix_len: tlv[2],
                    on_link: tlv[3] & FLAG_ON_LINK != 0,
                    autonomous: tlv[3] & FLAG_AUTONOMOUS != 0,
                    valid_lifetime: get_u32(tlv, 4),
                    preferred_lifetime: get_u32(tlv, 8),
                    prefix: get_ipv6(tlv, 16),
                })
            }
            (NdOptionType::Mtu | NdOptionType::PrefixInformation, _) => {
                return Err(Error::Malformed)
            }
            _ => NdOption::Other { kind, data: tlv },
        })
    }
}

impl<'a> Iterator for NdOptions<'a> {
    type Item = Result<NdOption<'a>>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.rest.is_empty() {
            return None;
        }
        let len = self.rest.get(1).map_or(0, |&units| usize::from(units) * 8);
        let result = match self.rest.get(..len) {
            Some(tlv) if len > 0 => {
                self.rest = &self.rest[len..];
                Self::parse_one(tlv)
            }
            _ => Err(Error::Malformed),
        };
        if result.is_err() {
            self.rest = &[];
        }
        Some(result)
    }
}

/// The owned option set of an ND message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct NdOptionsRepr<'a> {
    /// Source link-layer address.
    pub source_lladdr: Option<EthernetAddress>,
    /// Target link-layer address.
    pub target_lladdr: Option<EthernetAddress>,
    /// Prefix information options.
    pub prefixes: FixedVec<PrefixInfo, MAX_PREFIXES>,
    /// Link MTU.
    pub mtu: Option<u32>,
    /// Other options as whole TLVs (their length byte must match the slice
    /// length / 8 for the result to parse back).
    pub others: FixedVec<&'a [u8], MAX_OTHER_OPTIONS>,
}

impl<'a> NdOptionsRepr<'a> {
    /// Collects the options of an ND message. A repeated single-valued
    /// option keeps the last value.
    ///
    /// # Errors
    /// [`Error::Malformed`] from [`NdOptions`]; [`Error::Unsupported`] when
    /// there are more prefixes or other options than the fixed capacity.
    pub fn parse(options: &'a [u8]) -> Result<NdOptionsRepr<'a>> {
        let mut repr = NdOptionsRepr::default();
        for option in NdOptions::new(options) {
            match option? {
                NdOption::SourceLinkLayerAddr(addr) => repr.source_lladdr = Some(addr),
                NdOption::TargetLinkLayerAddr(addr) => repr.target_lladdr = Some(addr),
                NdOption::PrefixInformation(info) => repr.prefixes.push(info)?,
                NdOption::Mtu(mtu) => repr.mtu = Some(mtu),
                NdOption::Other { data, .. } => repr.others.push(data)?,
            }
        }
        Ok(repr)
    }

    fn for_each(&self, mut f: impl FnMut(NdOption<'a>)) {
        if let Some(addr) = self.source_lladdr {
            f(NdOption::SourceLinkLayerAddr(addr));
        }
        if let Some(addr) = self.target_lladdr {
            f(NdOption::TargetLinkLayerAddr(addr));
        }
        self.prefixes
            .iter()
            .map(NdOption::PrefixInformation)
            .for_each(&mut f);
        if let Some(mtu) = self.mtu {
            f(NdOption::Mtu(mtu));
        }
        let others = self.others.iter().map(|data| NdOption::Other {
            kind: NdOptionType::from(data.first().copied().unwrap_or(0)),
            data,
        });
        others.for_each(&mut f);
    }

    /// Bytes the options take.
    pub fn buffer_len(&self) -> usize {
        let mut len = 0;
        self.for_each(|option| len += option.buffer_len());
        len
    }

    /// Writes the options (addresses, prefixes, MTU, others) at the start
    /// of `buffer`.
    ///
    /// # Panics
    /// If `buffer` is shorter than [`buffer_len`](Self::buffer_len).
    pub fn emit(&self, buffer: &mut [u8]) {
        let mut at = 0;
        self.for_each(|option| {
            option.emit(&mut buffer[at..]);
            at += option.buffer_len();
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::{arb_ipv6, arb_mac, ICMPV6_RA};
    use proptest::prelude::*;

    /// Options of the RA fixture: SLLA, MTU, prefix information.
    const RA_OPTIONS: &[u8] = ICMPV6_RA.split_at(14 + 40 + 16).1;

    #[test]
    fn deconstruct_ra_options() {
        let options: Vec<_> = NdOptions::new(RA_OPTIONS).collect::<Result<_>>().unwrap();
        assert_eq!(
            options[0],
            NdOption::SourceLinkLayerAddr(EthernetAddress([2, 0, 0, 0, 0, 1]))
        );
        assert_eq!(options[1], NdOption::Mtu(1500));
        let NdOption::PrefixInformation(info) = options[2] else {
            panic!("{options:?}")
        };
        assert_eq!(info.prefix, "2001:db8:1::".parse::<Ipv6Addr>().unwrap());
        assert_eq!(
            (info.prefix_len, info.on_link, info.autonomous),
            (64, true, true)
        );
        assert_eq!(
            (info.valid_lifetime, info.preferred_lifetime),
            (86400, 14400)
        );
        let repr = NdOptionsRepr::parse(RA_OPTIONS).unwrap();
        assert_eq!(repr.mtu, Some(1500));
        assert_eq!(repr.prefixes.len(), 1);
    }

    #[test]
    fn construct_in_canonical_order() {
        let repr = NdOptionsRepr::parse(RA_OPTIONS).unwrap();
        let mut buf = vec![0u8; repr.buffer_len()];
        repr.emit(&mut buf);
        // Emit order is SLLA, prefix, MTU: same options, prefix moved up.
        assert_eq!(&buf[..8], &RA_OPTIONS[..8]);
        assert_eq!(&buf[8..40], &RA_OPTIONS[16..48]);
        assert_eq!(&buf[40..48], &RA_OPTIONS[8..16]);
    }

    #[test]
    fn malformed() {
        let mut bad = RA_OPTIONS.to_vec();
        bad[1] = 0; // zero length
        assert_eq!(
            NdOptions::new(&bad).collect::<Vec<_>>(),
            vec![Err(Error::Malformed)]
        );
        bad[1] = 7; // overrun
        assert_eq!(
            NdOptions::new(&bad).collect::<Vec<_>>(),
            vec![Err(Error::Malformed)]
        );
        bad[1] = 1;
        bad[8 + 1] = 2; // MTU of length 16
        assert_eq!(NdOptionsRepr::parse(&bad), Err(Error::Malformed));
        assert_eq!(NdOptions::new(&[1]).next(), Some(Err(Error::Malformed)));
        let many = [200u8, 1, 0, 0, 0, 0, 0, 0].repeat(MAX_OTHER_OPTIONS + 1);
        assert_eq!(NdOptionsRepr::parse(&many), Err(Error::Unsupported));
    }

    fn arb_prefix() -> impl Strategy<Value = PrefixInfo> {
        (
            any::<u8>(),
            any::<bool>(),
            any::<bool>(),
            any::<u32>(),
            any::<u32>(),
            arb_ipv6(),
        )
            .prop_map(
                |(prefix_len, on_link, autonomous, valid_lifetime, preferred_lifetime, prefix)| {
                    PrefixInfo {
                        prefix_len,
                        on_link,
                        autonomous,
                        valid_lifetime,
                        preferred_lifetime,
                        prefix,
                    }
                },
            )
    }

    proptest! {
        #[test]
        fn round_trip(sll in proptest::option::of(arb_mac()), tll in proptest::option::of(arb_mac()),
                      prefixes in proptest::collection::vec(arb_prefix(), 0..=MAX_PREFIXES),
                      mtu in proptest::option::of(any::<u32>()),
                      others in proptest::collection::vec((6u8..=255, 1u8..4, any::<u8>()), 0..=MAX_OTHER_OPTIONS)) {
            let raw: Vec<Vec<u8>> = others.iter().map(|&(kind, units, fill)| {
                let mut tlv = vec![fill; usize::from(units) * 8];
                tlv[0] = kind;
                tlv[1] = units;
                tlv
            }).collect();
            let slices: Vec<&[u8]> = raw.iter().map(|v| &v[..]).collect();
            let repr = NdOptionsRepr {
                source_lladdr: sll,
                target_lladdr: tll,
                prefixes: FixedVec::from_slice(&prefixes).unwrap(),
                mtu,
                others: FixedVec::from_slice(&slices).unwrap(),
            };
            let mut buf = vec![0u8; repr.buffer_len()];
            repr.emit(&mut buf);
            prop_assert_eq!(NdOptionsRepr::parse(&buf), Ok(repr));
        }
    }
}
