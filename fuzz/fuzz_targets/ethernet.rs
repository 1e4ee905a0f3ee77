//! Ethernet: view, repr, emit → parse agreement.
#![no_main]

use df_wire::{EthernetFrame, EthernetRepr};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(frame) = EthernetFrame::new_checked(data) else {
        return;
    };
    let _ = (frame.dst_addr().is_multicast(), frame.payload().len());
    let Ok(repr) = EthernetRepr::parse(&frame) else {
        return;
    };
    let mut buf = vec![0u8; repr.buffer_len()];
    repr.emit(&mut EthernetFrame::new_unchecked(&mut buf[..]));
    let again =
        EthernetRepr::parse(&EthernetFrame::new_checked(&buf[..]).expect("emitted frame checks"));
    assert_eq!(again, Ok(repr));
    let text = repr.src_addr.to_string();
    assert_eq!(text.parse(), Ok(repr.src_addr));
});
