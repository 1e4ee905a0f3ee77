//! ARP: view (any address lengths), repr, emit → parse agreement.
#![no_main]

use df_wire::{ArpPacket, ArpRepr};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(packet) = ArpPacket::new_checked(data) else {
        return;
    };
    let _ = (
        packet.source_hardware_addr(),
        packet.source_protocol_addr(),
        packet.target_hardware_addr(),
        packet.target_protocol_addr(),
    );
    let Ok(repr) = ArpRepr::parse(&packet) else {
        return;
    };
    let mut buf = vec![0u8; repr.buffer_len()];
    repr.emit(&mut ArpPacket::new_unchecked(&mut buf[..]));
    assert_eq!(
        ArpRepr::parse(&ArpPacket::new_checked(&buf[..]).expect("emitted ARP checks")),
        Ok(repr)
    );
});
