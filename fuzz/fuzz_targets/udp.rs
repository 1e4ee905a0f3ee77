//! UDP: view, repr, emit (payload copied) → parse agreement over IPv4 and
//! IPv6 pseudo-headers.
#![no_main]

use std::net::{Ipv4Addr, Ipv6Addr};

use df_wire::{ChecksumPolicy, PseudoHeader, UdpPacket, UdpRepr, UDP_HEADER_LEN};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let v4 = PseudoHeader::V4 {
        src: Ipv4Addr::new(10, 0, 0, 1),
        dst: Ipv4Addr::new(10, 0, 0, 2),
    };
    let v6 = PseudoHeader::V6 {
        src: Ipv6Addr::LOCALHOST,
        dst: Ipv6Addr::UNSPECIFIED,
    };
    let Ok(packet) = UdpPacket::new_checked(data) else {
        return;
    };
    let _ = (packet.verify_checksum(&v4), packet.verify_checksum(&v6));
    let Ok(repr) = UdpRepr::parse(&packet, &v4, ChecksumPolicy::Ignore) else {
        return;
    };
    for ph in [v4, v6] {
        let mut buf = vec![0u8; repr.buffer_len()];
        buf[UDP_HEADER_LEN..].copy_from_slice(packet.payload());
        repr.emit(&mut UdpPacket::new_unchecked(&mut buf[..]), &ph);
        let emitted = UdpPacket::new_checked(&buf[..]).expect("emitted UDP checks");
        assert_eq!(emitted.payload(), packet.payload());
        assert_eq!(
            UdpRepr::parse(&emitted, &ph, ChecksumPolicy::Verify),
            Ok(repr)
        );
    }
});
