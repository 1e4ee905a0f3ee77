//! TCP: view, options iterator, repr, emit → parse agreement.
#![no_main]

use std::net::Ipv4Addr;

use df_wire::{ChecksumPolicy, PseudoHeader, TcpPacket, TcpRepr};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let ph = PseudoHeader::V4 {
        src: Ipv4Addr::new(192, 168, 1, 10),
        dst: Ipv4Addr::new(192, 168, 1, 20),
    };
    let Ok(packet) = TcpPacket::new_checked(data) else {
        return;
    };
    for option in packet.options_iter() {
        let _ = option;
    }
    let _ = (
        packet.payload(),
        packet.verify_checksum(&ph),
        packet.flags().to_string(),
    );
    let Ok(repr) = TcpRepr::parse(&packet, &ph, ChecksumPolicy::Ignore) else {
        return;
    };
    let mut buf = vec![0u8; repr.buffer_len()];
    let header_len = repr.header_len();
    buf[header_len..].copy_from_slice(packet.payload());
    repr.emit(&mut TcpPacket::new_unchecked(&mut buf[..]), &ph);
    let emitted = TcpPacket::new_checked(&buf[..]).expect("emitted TCP checks");
    assert_eq!(
        TcpRepr::parse(&emitted, &ph, ChecksumPolicy::Verify),
        Ok(repr)
    );
});
