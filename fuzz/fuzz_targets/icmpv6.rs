//! ICMPv6 and Neighbor Discovery: view, ND options iterator, embedded
//! header, repr, emit → parse agreement.
#![no_main]

use std::net::Ipv6Addr;

use df_wire::{ChecksumPolicy, Icmpv6Packet, Icmpv6Repr};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let (src, dst) = (
        Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 1),
        Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 1),
    );
    let Ok(packet) = Icmpv6Packet::new_checked(data) else {
        return;
    };
    let _ = (packet.embedded_ipv6(), packet.verify_checksum(&src, &dst));
    if packet.check_ndisc_len().is_ok() {
        let _ = (
            packet.target_addr(),
            packet.router_lifetime(),
            packet.neighbor_flags(),
        );
    }
    for option in packet.ndisc_options() {
        let _ = option;
    }
    let Ok(repr) = Icmpv6Repr::parse(&packet, &src, &dst, ChecksumPolicy::Ignore) else {
        return;
    };
    let mut buf = vec![0u8; repr.buffer_len()];
    repr.emit(&mut Icmpv6Packet::new_unchecked(&mut buf[..]), &src, &dst);
    let emitted = Icmpv6Packet::new_checked(&buf[..]).expect("emitted ICMPv6 checks");
    assert_eq!(
        Icmpv6Repr::parse(&emitted, &src, &dst, ChecksumPolicy::Verify),
        Ok(repr)
    );
});
