//! VLAN: tag stack walk, tag view, repr, emit → parse agreement.
#![no_main]

use df_wire::{walk_tags, VlanRepr, VlanTag};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(stack) = walk_tags(data) {
        assert!(stack.l3_offset <= data.len());
        assert_eq!(stack.len(), stack.iter().count());
    }
    let Ok(tag) = VlanTag::new_checked(data) else {
        return;
    };
    let _ = tag.payload();
    let Ok(repr) = VlanRepr::parse(&tag) else {
        return;
    };
    let mut buf = [0u8; 4];
    repr.emit(&mut VlanTag::new_unchecked(&mut buf[..]));
    assert_eq!(
        VlanRepr::parse(&VlanTag::new_checked(&buf[..]).expect("emitted tag checks")),
        Ok(repr)
    );
});
