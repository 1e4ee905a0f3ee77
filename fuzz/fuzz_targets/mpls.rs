//! MPLS: label stack walk, entry view, repr, emit → parse agreement.
#![no_main]

use df_wire::{walk_label_stack, MplsPacket, MplsRepr, MplsStack};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok((depth, offset)) = walk_label_stack(data) {
        assert!(offset <= data.len() && depth * 4 == offset);
    }
    for entry in MplsStack::new(data).flatten() {
        let mut buf = [0u8; 4];
        entry.emit(&mut MplsPacket::new_unchecked(&mut buf[..]));
        assert_eq!(
            MplsRepr::parse(&MplsPacket::new_checked(&buf[..]).expect("4 bytes")),
            Ok(entry)
        );
    }
});
