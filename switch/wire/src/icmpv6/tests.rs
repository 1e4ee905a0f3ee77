//! Tests for ICMPv6, Neighbor Discovery messages included.

use super::*;
use crate::fixtures::{arb_ipv6, arb_mac, ICMPV6_NS, ICMPV6_RA};
use crate::ndopt::{NdOptionsRepr, PrefixInfo};
use crate::{EthernetAddress, FixedVec};
use proptest::prelude::*;

const NS: &[u8] = ICMPV6_NS.split_at(54).1;
const RA: &[u8] = ICMPV6_RA.split_at(54).1;
const MAC1: EthernetAddress = EthernetAddress([2, 0, 0, 0, 0, 1]);

fn addr(s: &str) -> Ipv6Addr {
    s.parse().unwrap()
}

#[test]
fn deconstruct_ns() {
    let (src, dst) = (addr("fe80::1"), addr("ff02::1:ff00:2"));
    let packet = Packet::new_checked(NS).unwrap();
    assert_eq!(packet.msg_type(), Icmpv6Message::NeighborSolicit);
    assert!(packet.verify_checksum(&src, &dst));
    assert_eq!(packet.target_addr(), addr("fe80::2"));
    let repr = Repr::parse(&packet, &src, &dst, ChecksumPolicy::Verify).unwrap();
    let options = NdOptionsRepr {
        source_lladdr: Some(MAC1),
        ..NdOptionsRepr::default()
    };
    assert_eq!(
        repr,
        Repr::Ndisc(NdiscRepr::NeighborSolicit {
            target: addr("fe80::2"),
            options
        })
    );
}

#[test]
fn construct_ns() {
    let (src, dst) = (addr("fe80::1"), addr("ff02::1:ff00:2"));
    let options = NdOptionsRepr {
        source_lladdr: Some(MAC1),
        ..NdOptionsRepr::default()
    };
    let repr = Repr::Ndisc(NdiscRepr::NeighborSolicit {
        target: addr("fe80::2"),
        options,
    });
    let mut buf = vec![0xffu8; repr.buffer_len()];
    repr.emit(&mut Packet::new_unchecked(&mut buf[..]), &src, &dst);
    assert_eq!(&buf[..], NS);
}

#[test]
fn deconstruct_ra() {
    let (src, dst) = (addr("fe80::1"), addr("ff02::1"));
    let packet = Packet::new_checked(RA).unwrap();
    assert_eq!(packet.cur_hop_limit(), 64);
    assert!(packet.managed_flag() && !packet.other_config_flag());
    assert_eq!(packet.router_lifetime(), 1800);
    assert_eq!(
        (packet.reachable_time(), packet.retrans_time()),
        (30000, 1000)
    );
    assert_eq!(packet.ndisc_options().count(), 3);
    let Repr::Ndisc(NdiscRepr::RouterAdvert {
        hop_limit, options, ..
    }) = Repr::parse(&packet, &src, &dst, ChecksumPolicy::Verify).unwrap()
    else {
        panic!("not an RA");
    };
    assert_eq!(hop_limit, 64);
    assert_eq!(options.source_lladdr, Some(MAC1));
    assert_eq!(options.mtu, Some(1500));
    assert_eq!(
        options.prefixes.get(0).map(|p| p.prefix),
        Some(addr("2001:db8:1::"))
    );
}

#[test]
fn construct_na_reply_to_ns() {
    let (src, dst) = (addr("fe80::2"), addr("fe80::1"));
    let options = NdOptionsRepr {
        target_lladdr: Some(MAC1),
        ..NdOptionsRepr::default()
    };
    let repr = Repr::Ndisc(NdiscRepr::NeighborAdvert {
        router: true,
        solicited: true,
        override_cache: false,
        target: addr("fe80::2"),
        options,
    });
    let mut buf = vec![0u8; repr.buffer_len()];
    repr.emit(&mut Packet::new_unchecked(&mut buf[..]), &src, &dst);
    assert_eq!(buf.len(), 32);
    assert_eq!(&buf[..2], &[136, 0]);
    assert_eq!(buf[4], 0xc0);
    let packet = Packet::new_checked(&buf[..]).unwrap();
    assert_eq!(packet.neighbor_flags(), (true, true, false));
    assert_eq!(
        Repr::parse(&packet, &src, &dst, ChecksumPolicy::Verify),
        Ok(repr)
    );
}

#[test]
fn error_embeds_ipv6_header() {
    let (src, dst) = (addr("2001:db8::1"), addr("2001:db8::2"));
    let quoted = &ICMPV6_NS[14..62];
    let repr = Repr::PktTooBig {
        mtu: 1280,
        data: quoted,
    };
    let mut buf = vec![0u8; repr.buffer_len()];
    repr.emit(&mut Packet::new_unchecked(&mut buf[..]), &src, &dst);
    let packet = Packet::new_checked(&buf[..]).unwrap();
    let (header, rest) = packet.embedded_ipv6().unwrap();
    assert_eq!(header, &ICMPV6_NS[14..54]);
    assert_eq!(rest.len(), 8);
    assert_eq!(
        Packet::new_checked(NS).unwrap().embedded_ipv6(),
        Err(Error::Unsupported)
    );
}

#[test]
fn malformed() {
    let (src, dst) = (addr("fe80::1"), addr("ff02::1:ff00:2"));
    assert_eq!(Packet::new_checked(&NS[..7]).err(), Some(Error::Truncated));
    // Checksum depends on the pseudo-header.
    let packet = Packet::new_checked(NS).unwrap();
    let other = addr("fe80::3");
    assert_eq!(
        Repr::parse(&packet, &other, &dst, ChecksumPolicy::Verify),
        Err(Error::Checksum)
    );
    // NS cut inside the target address.
    let packet = Packet::new_checked(&NS[..20]).unwrap();
    assert_eq!(
        Repr::parse(&packet, &src, &dst, ChecksumPolicy::Ignore),
        Err(Error::Truncated)
    );
    // Option length overrun.
    let mut bad = NS.to_vec();
    bad[25] = 2;
    let packet = Packet::new_checked(&bad[..]).unwrap();
    assert_eq!(
        Repr::parse(&packet, &src, &dst, ChecksumPolicy::Ignore),
        Err(Error::Malformed)
    );
    // Non-zero code on an ND message.
    bad[25] = 1;
    bad[1] = 1;
    let packet = Packet::new_checked(&bad[..]).unwrap();
    assert_eq!(
        Repr::parse(&packet, &src, &dst, ChecksumPolicy::Ignore),
        Err(Error::Malformed)
    );
    let short: &[u8] = &NS[..2];
    assert_eq!(
        NdiscRepr::parse(&Packet::new_unchecked(short)),
        Err(Error::Truncated)
    );
}

/// Fuzz regression (icmpv6 target, crash-9780bfab): a 16-byte Router
/// Solicitation passed `check_len`; `target_addr()` read bytes 8..24 and
/// panicked. ND getters now read missing fields as zero.
#[test]
fn fuzz_regression_nd_getter_on_short_message() {
    let input = [
        0x85, 0x00, 0x7a, 0x2c, 0, 0, 0, 0, 0x01, 0x01, 0x02, 0, 0, 0, 0, 0x01,
    ];
    let packet = Packet::new_checked(&input[..]).unwrap();
    assert_eq!(packet.target_addr(), Ipv6Addr::UNSPECIFIED);
    assert_eq!(
        (
            packet.router_lifetime(),
            packet.reachable_time(),
            packet.retrans_time()
        ),
        (0, 0x0101_0200, 1)
    );
    let echo = Packet::new_checked(&NS[..8]).unwrap();
    assert_eq!(
        (echo.cur_hop_limit(), echo.neighbor_flags()),
        (0, (false, false, false))
    );
}

/// Every ND getter on every prefix of the ND fixtures: none panics.
#[test]
fn nd_getters_never_panic_on_prefixes() {
    for message in [NS, RA] {
        for len in HEADER_LEN..message.len() {
            let packet = Packet::new_checked(&message[..len]).unwrap();
            let _ = (
                packet.target_addr(),
                packet.cur_hop_limit(),
                packet.managed_flag(),
            );
            let _ = (
                packet.other_config_flag(),
                packet.router_lifetime(),
                packet.reachable_time(),
            );
            let _ = (
                packet.retrans_time(),
                packet.neighbor_flags(),
                packet.check_ndisc_len(),
            );
            for _ in packet.ndisc_options() {}
        }
    }
}

prop_compose! {
    fn arb_options()(sll in proptest::option::of(arb_mac()), tll in proptest::option::of(arb_mac()),
                     mtu in proptest::option::of(any::<u32>()),
                     prefix in proptest::option::of((any::<u8>(), any::<bool>(), any::<u32>(), arb_ipv6())))
                     -> NdOptionsRepr<'static> {
        let prefixes = prefix.map(|(prefix_len, flag, lifetime, prefix)| PrefixInfo {
            prefix_len, on_link: flag, autonomous: !flag, valid_lifetime: lifetime,
            preferred_lifetime: lifetime / 2, prefix,
        });
        NdOptionsRepr {
            source_lladdr: sll, target_lladdr: tll, mtu,
            prefixes: FixedVec::from_slice(prefixes.as_slice()).unwrap(),
            others: FixedVec::new(),
        }
    }
}

prop_compose! {
    fn arb_ndisc()(kind in 0u8..4, flags in any::<[bool; 3]>(), hop_limit in any::<u8>(),
                   lifetime in any::<u16>(), reachable in any::<u32>(), retrans in any::<u32>(),
                   target in arb_ipv6(), options in arb_options()) -> NdiscRepr<'static> {
        match kind {
            0 => NdiscRepr::RouterSolicit { options },
            1 => NdiscRepr::RouterAdvert {
                hop_limit, managed: flags[0], other_config: flags[1], router_lifetime: lifetime,
                reachable_time: reachable, retrans_time: retrans, options,
            },
            2 => NdiscRepr::NeighborSolicit { target, options },
            _ => NdiscRepr::NeighborAdvert {
                router: flags[0], solicited: flags[1], override_cache: flags[2], target, options,
            },
        }
    }
}

/// One of the non-ND shapes, from owned random fields.
fn build(kind: u8, a: u16, b: u32, code: u8, data: &[u8]) -> Repr<'_> {
    match kind {
        0 => Repr::EchoRequest {
            ident: a,
            seq_no: b as u16,
            data,
        },
        1 => Repr::EchoReply {
            ident: a,
            seq_no: b as u16,
            data,
        },
        2 => Repr::DstUnreachable { code, data },
        3 => Repr::PktTooBig { mtu: b, data },
        4 => Repr::TimeExceeded { code, data },
        5 => Repr::ParamProblem {
            code,
            pointer: b,
            data,
        },
        _ => {
            let msg_type = Icmpv6Message::from([130, 131, 137, 143, 255][usize::from(code % 5)]);
            Repr::Other {
                msg_type,
                code,
                rest: b.to_be_bytes(),
                data,
            }
        }
    }
}

proptest! {
    #[test]
    fn round_trip(kind in 0u8..7, a in any::<u16>(), b in any::<u32>(), code in any::<u8>(),
                  data in proptest::collection::vec(any::<u8>(), 0..64),
                  src in arb_ipv6(), dst in arb_ipv6()) {
        let repr = build(kind, a, b, code, &data);
        let mut buf = vec![0u8; repr.buffer_len()];
        repr.emit(&mut Packet::new_unchecked(&mut buf[..]), &src, &dst);
        let packet = Packet::new_checked(&buf[..]).unwrap();
        prop_assert_eq!(Repr::parse(&packet, &src, &dst, ChecksumPolicy::Verify), Ok(repr));
    }

    #[test]
    fn ndisc_round_trip(ndisc in arb_ndisc(), src in arb_ipv6(), dst in arb_ipv6()) {
        let repr = Repr::Ndisc(ndisc);
        let mut buf = vec![0xa5u8; repr.buffer_len()];
        repr.emit(&mut Packet::new_unchecked(&mut buf[..]), &src, &dst);
        let packet = Packet::new_checked(&buf[..]).unwrap();
        prop_assert_eq!(Repr::parse(&packet, &src, &dst, ChecksumPolicy::Verify), Ok(repr));
    }

    #[test]
    fn checked_view_never_panics(data in proptest::collection::vec(any::<u8>(), 0..96)) {
        let a = Ipv6Addr::LOCALHOST;
        if let Ok(packet) = Packet::new_checked(&data[..]) {
            let _ = (packet.embedded_ipv6(), packet.verify_checksum(&a, &a));
            for _ in packet.ndisc_options() {}
            let _ = Repr::parse(&packet, &a, &a, ChecksumPolicy::Ignore);
        }
    }
}
