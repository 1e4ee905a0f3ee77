//! Whole frames: `parse_frame` and the one-line printer over any bytes.
#![no_main]

use df_wire::{describe, parse_frame};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(info) = parse_frame(data) {
        for layers in [Some(info.outer), info.inner].into_iter().flatten() {
            assert!(layers.l3 <= data.len());
            for offset in [layers.l4, layers.payload].into_iter().flatten() {
                assert!(offset <= data.len());
            }
        }
    }
    let mut text = String::new();
    describe(data, &mut text).expect("writing to a String cannot fail");
});
