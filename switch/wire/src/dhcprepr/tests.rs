//! Tests for the DHCP repr: the DISCOVER → OFFER exchange and round trips.

use super::*;
use crate::fixtures::{arb_ipv4, arb_mac, DHCP_DISCOVER, DHCP_OFFER};
use proptest::prelude::*;

const DISCOVER: &[u8] = DHCP_DISCOVER.split_at(42).1;
const MAC1: EthernetAddress = EthernetAddress([2, 0, 0, 0, 0, 1]);

#[test]
fn deconstruct_discover() {
    let repr = DhcpRepr::parse(&Packet::new_checked(DISCOVER).unwrap()).unwrap();
    assert_eq!(repr.op, DhcpOpCode::BootRequest);
    assert_eq!(repr.message_type, DhcpMessageType::Discover);
    assert_eq!(repr.transaction_id, 0x3903_f326);
    assert!(repr.broadcast);
    assert_eq!(repr.client_hardware_addr, MAC1);
    assert_eq!(repr.client_identifier, Some(&[1, 2, 0, 0, 0, 0, 1][..]));
    assert_eq!(
        repr.parameter_request_list,
        Some(&[1, 3, 6, 15, 26, 121][..])
    );
    assert!(repr.extra_options.is_empty());
}

fn offer<'a>(discover: &DhcpRepr<'_>) -> DhcpRepr<'a> {
    let mut offer = DhcpRepr::reply_to(discover, DhcpMessageType::Offer);
    offer.your_ip = Ipv4Addr::new(10, 0, 0, 50);
    offer.server_identifier = Some(Ipv4Addr::new(10, 0, 0, 1));
    offer.lease_duration = Some(3600);
    offer.subnet_mask = Some(Ipv4Addr::new(255, 255, 255, 0));
    offer.router = Some(Ipv4Addr::new(10, 0, 0, 1));
    offer.dns_servers =
        FixedVec::from_slice(&[Ipv4Addr::new(10, 0, 0, 1), Ipv4Addr::new(8, 8, 8, 8)]).unwrap();
    offer.domain_name = Some(b"example.org");
    offer.interface_mtu = Some(1450);
    offer.classless_routes = FixedVec::from_slice(&[
        StaticRoute {
            destination: Ipv4Addr::new(169, 254, 169, 254),
            prefix_len: 32,
            gateway: Ipv4Addr::new(10, 0, 0, 2),
        },
        StaticRoute {
            destination: Ipv4Addr::UNSPECIFIED,
            prefix_len: 0,
            gateway: Ipv4Addr::new(10, 0, 0, 1),
        },
    ])
    .unwrap();
    offer
}

#[test]
fn construct_offer() {
    let discover = DhcpRepr::parse(&Packet::new_checked(DISCOVER).unwrap()).unwrap();
    let offer = offer(&discover);
    assert_eq!(offer.buffer_len(), DHCP_OFFER.len());
    let mut buf = [0xeeu8; 400];
    offer.emit(&mut Packet::new_unchecked(&mut buf[..]));
    assert_eq!(&buf[..offer.buffer_len()], &DHCP_OFFER[..]);
    assert_eq!(
        DhcpRepr::parse(&Packet::new_checked(&DHCP_OFFER[..]).unwrap()),
        Ok(offer)
    );
}

#[test]
fn short_reply_is_padded_to_300() {
    let nak = DhcpRepr::new(DhcpOpCode::BootReply, DhcpMessageType::Nak, 7, MAC1);
    assert_eq!(nak.buffer_len(), MIN_MESSAGE_LEN);
    let mut buf = [0xeeu8; MIN_MESSAGE_LEN];
    nak.emit(&mut Packet::new_unchecked(&mut buf[..]));
    assert_eq!(&buf[240..244], &[53, 1, 6, 255]);
    assert!(buf[244..].iter().all(|&b| b == 0));
    assert_eq!(
        DhcpRepr::parse(&Packet::new_checked(&buf[..]).unwrap()),
        Ok(nak)
    );
}

#[test]
fn malformed() {
    let mut bad = DISCOVER.to_vec();
    bad[236] = 0; // magic cookie
    assert_eq!(
        DhcpRepr::parse(&Packet::new_checked(&bad[..]).unwrap()),
        Err(Error::Malformed)
    );
    bad[236] = 0x63;
    bad[1] = 6; // token ring
    assert_eq!(
        DhcpRepr::parse(&Packet::new_checked(&bad[..]).unwrap()),
        Err(Error::Unsupported)
    );
    bad[1] = 1;
    bad[241] = 200; // message type option overruns
    assert_eq!(
        DhcpRepr::parse(&Packet::new_checked(&bad[..]).unwrap()),
        Err(Error::Malformed)
    );
    bad[241] = 1;
    bad[240] = 12; // no message type left (now a host name option)
    assert_eq!(
        DhcpRepr::parse(&Packet::new_checked(&bad[..]).unwrap()),
        Err(Error::Malformed)
    );
    let short: &[u8] = &DISCOVER[..100];
    assert_eq!(
        DhcpRepr::parse(&Packet::new_unchecked(short)),
        Err(Error::Truncated)
    );
    // A subnet mask of 3 bytes.
    let mut opts = DISCOVER[..240].to_vec();
    opts.extend_from_slice(&[53, 1, 1, 1, 3, 255, 255, 255, 255]);
    assert_eq!(
        DhcpRepr::parse(&Packet::new_checked(&opts[..]).unwrap()),
        Err(Error::Malformed)
    );
    // Nine DNS servers exceed the capacity.
    let mut opts = DISCOVER[..240].to_vec();
    opts.extend_from_slice(&[53, 1, 1, 6, 36]);
    opts.extend_from_slice(&[8; 36]);
    assert_eq!(
        DhcpRepr::parse(&Packet::new_checked(&opts[..]).unwrap()),
        Err(Error::Unsupported)
    );
}

/// Codes the repr does not type, for the extras.
const EXTRA_CODES: [u8; 6] = [12, 57, 58, 60, 82, 250];

prop_compose! {
    fn arb_fixed()(op in 1u8..=2, mt in 1u8..=8, xid in any::<u32>(), secs in any::<u16>(),
                   broadcast in any::<bool>(), hops in any::<u8>(), mac in arb_mac(),
                   ips in proptest::array::uniform4(arb_ipv4())) -> DhcpRepr<'static> {
        let mut repr = DhcpRepr::new(DhcpOpCode::from(op), DhcpMessageType::from(mt), xid, mac);
        repr.secs = secs;
        repr.broadcast = broadcast;
        repr.hops = hops;
        [repr.client_ip, repr.your_ip, repr.server_ip, repr.relay_agent_ip] = ips;
        repr
    }
}

proptest! {
    #[test]
    fn round_trip(base in arb_fixed(),
                  singles in proptest::array::uniform5(proptest::option::of(arb_ipv4())),
                  lease in proptest::option::of(any::<u32>()), mtu in proptest::option::of(any::<u16>()),
                  dns in proptest::collection::vec(arb_ipv4(), 0..=MAX_DNS_SERVERS),
                  routes in proptest::collection::vec((any::<u32>(), 0u8..=32, arb_ipv4()), 0..=MAX_STATIC_ROUTES),
                  blobs in proptest::array::uniform3(proptest::option::of(proptest::collection::vec(any::<u8>(), 0..40))),
                  extras in proptest::collection::vec((0usize..EXTRA_CODES.len(), proptest::collection::vec(any::<u8>(), 0..20)), 0..=MAX_EXTRA_OPTIONS)) {
        let mut repr = base;
        [repr.server_identifier, repr.requested_ip, repr.subnet_mask, repr.router, _] = singles;
        repr.lease_duration = lease;
        repr.interface_mtu = mtu;
        repr.dns_servers = FixedVec::from_slice(&dns).unwrap();
        let routes: Vec<_> = routes.into_iter().map(|(d, prefix_len, gateway)| StaticRoute {
            destination: Ipv4Addr::from(if prefix_len == 0 { 0 } else { d & (u32::MAX << (32 - prefix_len)) }),
            prefix_len,
            gateway,
        }).collect();
        repr.classless_routes = FixedVec::from_slice(&routes).unwrap();
        repr.domain_name = blobs[0].as_deref();
        repr.parameter_request_list = blobs[1].as_deref();
        repr.client_identifier = blobs[2].as_deref();
        let extras: Vec<_> = extras.iter().map(|(i, data)| DhcpOption {
            code: DhcpOptionCode::from(EXTRA_CODES[*i]),
            data,
        }).collect();
        repr.extra_options = FixedVec::from_slice(&extras).unwrap();

        let mut buf = vec![0u8; repr.buffer_len()];
        repr.emit(&mut Packet::new_unchecked(&mut buf[..]));
        prop_assert_eq!(DhcpRepr::parse(&Packet::new_checked(&buf[..]).unwrap()), Ok(repr));
    }
}
