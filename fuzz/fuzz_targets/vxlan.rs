//! VXLAN: view, repr, emit → parse agreement.
#![no_main]

use df_wire::{VxlanPacket, VxlanRepr};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(packet) = VxlanPacket::new_checked(data) else {
        return;
    };
    let _ = (packet.payload(), packet.flags());
    let Ok(repr) = VxlanRepr::parse(&packet) else {
        return;
    };
    let mut buf = [0u8; 8];
    repr.emit(&mut VxlanPacket::new_unchecked(&mut buf[..]));
    assert_eq!(
        VxlanRepr::parse(&VxlanPacket::new_checked(&buf[..]).expect("8 bytes")),
        Ok(repr)
    );
});
