//! DHCPv4: view, options iterator, static-route decoder, repr, emit → parse
//! agreement.
#![no_main]

use df_wire::{DhcpOptionCode, DhcpPacket, DhcpRepr, StaticRoutes};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(packet) = DhcpPacket::new_checked(data) else {
        return;
    };
    for option in packet.options_iter().flatten() {
        if option.code == DhcpOptionCode::ClasslessStaticRoute {
            for route in StaticRoutes::new(option.data) {
                let _ = route;
            }
        }
    }
    let Ok(repr) = DhcpRepr::parse(&packet) else {
        return;
    };
    let mut buf = vec![0u8; repr.buffer_len()];
    repr.emit(&mut DhcpPacket::new_unchecked(&mut buf[..]));
    assert_eq!(
        DhcpRepr::parse(&DhcpPacket::new_checked(&buf[..]).expect("emitted DHCP checks")),
        Ok(repr)
    );
});
