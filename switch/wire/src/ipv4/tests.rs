//! Tests for the IPv4 view and repr.

use super::*;
use crate::fixtures::{arb_ipv4, ICMP_ECHO, IPV4_OPTIONS};
use proptest::prelude::*;

const ECHO_IP: &[u8] = ICMP_ECHO.split_at(14).1;
const OPTS_IP: &[u8] = IPV4_OPTIONS.split_at(14).1;

#[test]
fn deconstruct() {
    let packet = Packet::new_checked(ECHO_IP).unwrap();
    assert_eq!(packet.version(), 4);
    assert_eq!(packet.header_len(), 20);
    assert_eq!(packet.total_len(), 36);
    assert_eq!(packet.ident(), 0x1234);
    assert!(packet.dont_frag() && !packet.more_frags() && !packet.is_fragment());
    assert_eq!(packet.ttl(), 64);
    assert_eq!(packet.protocol(), IpProtocol::Icmp);
    assert_eq!(packet.src_addr(), Ipv4Addr::new(10, 0, 0, 1));
    assert_eq!(packet.dst_addr(), Ipv4Addr::new(10, 0, 0, 2));
    assert!(packet.verify_checksum());
    assert_eq!(packet.payload().len(), 16);
    assert_eq!(packet.options_iter().count(), 0);
}

#[test]
fn deconstruct_options() {
    let packet = Packet::new_checked(OPTS_IP).unwrap();
    assert_eq!(packet.header_len(), 28);
    let options: Vec<_> = packet.options_iter().collect::<Result<_>>().unwrap();
    assert_eq!(options.len(), 2);
    assert_eq!(options[0].kind, Ipv4OptionType::RecordRoute);
    assert_eq!(options[0].data, &[4, 1, 2, 3, 4]);
    assert_eq!(options[1].kind, Ipv4OptionType::Nop);
    let repr = Repr::parse(&packet, ChecksumPolicy::Verify).unwrap();
    assert_eq!(repr.options.as_slice(), &OPTS_IP[20..28]);
    assert_eq!(repr.payload_len, 8);
    assert_eq!(repr.ttl, 1);
}

#[test]
fn construct() {
    let repr = Repr::parse(
        &Packet::new_checked(ECHO_IP).unwrap(),
        ChecksumPolicy::Verify,
    )
    .unwrap();
    let mut buf = [0u8; 36];
    buf[20..].copy_from_slice(&ECHO_IP[20..]);
    repr.emit(&mut Packet::new_unchecked(&mut buf[..]));
    assert_eq!(&buf[..], ECHO_IP);

    let repr = Repr::parse(
        &Packet::new_checked(OPTS_IP).unwrap(),
        ChecksumPolicy::Verify,
    )
    .unwrap();
    let mut buf = [0xaau8; 36];
    repr.emit(&mut Packet::new_unchecked(&mut buf[..]));
    assert_eq!(&buf[..28], &OPTS_IP[..28]);
}

#[test]
fn padding_is_not_payload() {
    let mut padded = ECHO_IP.to_vec();
    padded.extend_from_slice(&[0; 10]);
    let packet = Packet::new_checked(&padded[..]).unwrap();
    assert_eq!(packet.payload().len(), 16);
}

#[test]
fn malformed() {
    assert_eq!(
        Packet::new_checked(&ECHO_IP[..19]).err(),
        Some(Error::Truncated)
    );
    assert_eq!(
        Packet::new_checked(&ECHO_IP[..35]).err(),
        Some(Error::Truncated)
    );
    let mut bad = ECHO_IP.to_vec();
    bad[0] = 0x44; // IHL 4
    assert_eq!(Packet::new_checked(&bad[..]).err(), Some(Error::Malformed));
    bad[0] = 0x4f; // IHL 15 = 60 bytes > 36
    assert_eq!(Packet::new_checked(&bad[..]).err(), Some(Error::Truncated));
    bad[0] = 0x45;
    bad[2..4].copy_from_slice(&19u16.to_be_bytes()); // total_len < header
    assert_eq!(Packet::new_checked(&bad[..]).err(), Some(Error::Malformed));
    bad[2..4].copy_from_slice(&36u16.to_be_bytes());
    bad[0] = 0x65; // version 6
    let packet = Packet::new_checked(&bad[..]).unwrap();
    assert_eq!(
        Repr::parse(&packet, ChecksumPolicy::Ignore),
        Err(Error::Malformed)
    );
    bad[0] = 0x45;
    bad[8] = 63; // TTL changed, checksum stale
    let packet = Packet::new_checked(&bad[..]).unwrap();
    assert_eq!(
        Repr::parse(&packet, ChecksumPolicy::Verify),
        Err(Error::Checksum)
    );
    assert!(Repr::parse(&packet, ChecksumPolicy::Ignore).is_ok());
    let short = Packet::new_unchecked(&ECHO_IP[..4]);
    assert_eq!(
        Repr::parse(&short, ChecksumPolicy::Ignore),
        Err(Error::Truncated)
    );
}

#[test]
fn option_length_overrun() {
    let mut bad = OPTS_IP.to_vec();
    bad[21] = 9; // record route claims 9 bytes, only 8 of options
    let packet = Packet::new_checked(&bad[..]).unwrap();
    let items: Vec<_> = packet.options_iter().collect();
    assert_eq!(items, vec![Err(Error::Malformed)]);
    assert_eq!(
        Repr::parse(&packet, ChecksumPolicy::Ignore),
        Err(Error::Malformed)
    );
    bad[21] = 1; // length below 2
    let packet = Packet::new_checked(&bad[..]).unwrap();
    assert_eq!(packet.options_iter().next(), Some(Err(Error::Malformed)));
    // End of list stops the walk; what follows is padding.
    let items: Vec<_> = Ipv4Options::new(&[1, 0, 7, 200]).collect();
    assert_eq!(items.len(), 1);
}

#[test]
fn fragment_fields() {
    let mut buf = [0u8; 20];
    let mut packet = Packet::new_unchecked(&mut buf[..]);
    packet.set_fragment(false, true, 1480);
    assert!(packet.is_fragment() && packet.more_frags());
    assert_eq!(packet.frag_offset(), 1480);
    packet.set_fragment(true, false, 8);
    assert!(packet.is_fragment() && packet.dont_frag());
    packet.set_fragment(true, false, 0);
    assert!(!packet.is_fragment());
}

/// Valid options: NOPs and TLVs of unknown-ish types, padded to 4 bytes.
fn arb_options() -> impl Strategy<Value = OptionBytes> {
    let one = prop_oneof![
        Just(vec![1u8]),
        (2u8..=255, proptest::collection::vec(any::<u8>(), 0..6)).prop_map(|(kind, data)| {
            let mut v = vec![kind, data.len() as u8 + 2];
            v.extend(data);
            v
        }),
    ];
    proptest::collection::vec(one, 0..6).prop_map(|opts| {
        let mut bytes = Vec::new();
        for opt in opts {
            if bytes.len() + opt.len() <= MAX_OPTIONS_LEN {
                bytes.extend(opt);
            }
        }
        while bytes.len() % 4 != 0 {
            bytes.push(0);
        }
        OptionBytes::new(&bytes).unwrap()
    })
}

prop_compose! {
    fn arb_repr()(src_addr in arb_ipv4(), dst_addr in arb_ipv4(), protocol in any::<u8>(),
                  payload_len in 0usize..64, ttl in any::<u8>(), dscp in 0u8..64, ecn in 0u8..4,
                  ident in any::<u16>(), dont_frag in any::<bool>(), more_frags in any::<bool>(),
                  frag in 0u16..0x2000, options in arb_options()) -> Repr {
        Repr {
            src_addr, dst_addr, protocol: IpProtocol::from(protocol), payload_len, ttl, dscp, ecn,
            ident, dont_frag, more_frags, frag_offset: frag * 8, options,
        }
    }
}

proptest! {
    #[test]
    fn round_trip(repr in arb_repr()) {
        let mut buf = vec![0u8; repr.buffer_len()];
        repr.emit(&mut Packet::new_unchecked(&mut buf[..]));
        let packet = Packet::new_checked(&buf[..]).unwrap();
        prop_assert_eq!(Repr::parse(&packet, ChecksumPolicy::Verify), Ok(repr));
    }

    #[test]
    fn checked_view_never_panics(data in proptest::collection::vec(any::<u8>(), 0..80)) {
        if let Ok(packet) = Packet::new_checked(&data[..]) {
            let _ = (packet.payload(), packet.options(), packet.verify_checksum());
            for _ in packet.options_iter() {}
            let _ = Repr::parse(&packet, ChecksumPolicy::Verify);
        }
    }
}
