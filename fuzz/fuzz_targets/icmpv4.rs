//! ICMPv4: view, embedded header of errors, repr, emit → parse agreement.
#![no_main]

use df_wire::{ChecksumPolicy, Icmpv4Packet, Icmpv4Repr};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(packet) = Icmpv4Packet::new_checked(data) else {
        return;
    };
    let _ = (
        packet.embedded_ipv4(),
        packet.verify_checksum(),
        packet.rest_of_header(),
    );
    let Ok(repr) = Icmpv4Repr::parse(&packet, ChecksumPolicy::Ignore) else {
        return;
    };
    let mut buf = vec![0u8; repr.buffer_len()];
    repr.emit(&mut Icmpv4Packet::new_unchecked(&mut buf[..]));
    let emitted = Icmpv4Packet::new_checked(&buf[..]).expect("emitted ICMP checks");
    assert_eq!(
        Icmpv4Repr::parse(&emitted, ChecksumPolicy::Verify),
        Ok(repr)
    );
});
