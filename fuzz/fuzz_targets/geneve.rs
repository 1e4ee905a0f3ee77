//! Geneve: view, options iterator, repr, emit → parse agreement.
#![no_main]

use df_wire::{GenevePacket, GeneveRepr};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(packet) = GenevePacket::new_checked(data) else {
        return;
    };
    for option in packet.options_iter() {
        let _ = option.map(|o| o.is_critical());
    }
    let _ = packet.payload();
    let Ok(repr) = GeneveRepr::parse(&packet) else {
        return;
    };
    let mut buf = vec![0u8; repr.buffer_len()];
    repr.emit(&mut GenevePacket::new_unchecked(&mut buf[..]));
    assert_eq!(
        GeneveRepr::parse(&GenevePacket::new_checked(&buf[..]).expect("emitted Geneve checks")),
        Ok(repr)
    );
});
