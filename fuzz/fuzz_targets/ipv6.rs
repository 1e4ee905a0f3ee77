//! IPv6: fixed header, extension-header walk (and HBH/DO options),
//! Fragment header, emit → parse agreement.
#![no_main]

use df_wire::{
    walk_ext_headers, Ipv6ExtHeaders, Ipv6FragmentHeader, Ipv6FragmentRepr, Ipv6Packet, Ipv6Repr,
};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(packet) = Ipv6Packet::new_checked(data) else {
        return;
    };
    let payload = packet.payload();
    if let Ok(walk) = walk_ext_headers(packet.next_header(), payload) {
        assert!(walk.offset <= payload.len());
    }
    for header in Ipv6ExtHeaders::new(packet.next_header(), payload).flatten() {
        for option in header.options() {
            let _ = option;
        }
        if let Ok(frag) = Ipv6FragmentHeader::new_checked(header.data) {
            if let Ok(repr) = Ipv6FragmentRepr::parse(&frag) {
                let mut buf = [0u8; 8];
                repr.emit(&mut Ipv6FragmentHeader::new_unchecked(&mut buf[..]));
                let again = Ipv6FragmentRepr::parse(
                    &Ipv6FragmentHeader::new_checked(&buf[..]).expect("8 bytes"),
                );
                assert_eq!(again, Ok(repr));
            }
        }
    }
    let Ok(repr) = Ipv6Repr::parse(&packet) else {
        return;
    };
    let mut buf = vec![0u8; repr.buffer_len()];
    repr.emit(&mut Ipv6Packet::new_unchecked(&mut buf[..]));
    assert_eq!(
        Ipv6Repr::parse(&Ipv6Packet::new_checked(&buf[..]).expect("emitted IPv6 checks")),
        Ok(repr)
    );
});
