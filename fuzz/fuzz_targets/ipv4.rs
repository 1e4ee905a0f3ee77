//! IPv4: view, options iterator, repr, emit → parse agreement (checksum
//! ignored on the fuzzed input, verified on the emitted one).
#![no_main]

use df_wire::{ChecksumPolicy, Ipv4Packet, Ipv4Repr};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(packet) = Ipv4Packet::new_checked(data) else {
        return;
    };
    for option in packet.options_iter() {
        let _ = option;
    }
    let _ = (
        packet.payload(),
        packet.verify_checksum(),
        packet.is_fragment(),
    );
    let Ok(repr) = Ipv4Repr::parse(&packet, ChecksumPolicy::Ignore) else {
        return;
    };
    let mut buf = vec![0u8; repr.buffer_len()];
    repr.emit(&mut Ipv4Packet::new_unchecked(&mut buf[..]));
    let emitted = Ipv4Packet::new_checked(&buf[..]).expect("emitted IPv4 checks");
    assert_eq!(Ipv4Repr::parse(&emitted, ChecksumPolicy::Verify), Ok(repr));
});
