//! ICMP error translation (floating IPs and SNAT, both ways) with every
//! checksum recomputed from scratch, time exceeded from a floating IP and
//! its rate limit, and the drops of quotes that match nothing.

use df_dp::reg::{DESTINATION_PORT_KEY, NETWORK_KEY, SOURCE_PORT_KEY};
use df_dp::testing::{Outcome, StageHarness};
use df_wire::{
    EtherType, EthernetFrame, EthernetRepr, Icmpv4DstUnreachable, Icmpv4Message, Icmpv4Packet,
    Icmpv4Repr, IpProtocol, Ipv4Packet, Ipv4Repr, PseudoHeader, TcpPacket, UdpPacket,
};

use super::snat_tests::{self, frame_full, ports, K, MV7, MX, REMOTE, V, X, XPORT};
use super::tests::{self, check_ipv4, eth, ip, learn, mac, notes, F, GW, GW_MAC, MF, MR, MV, P};
use crate::trace;
use crate::NatApp;

/// 3 per second at 1 GHz.
const PER_TOKEN: u64 = 333_333_333;

/// An ICMP error `src` -> `dst` between `esrc` and `edst` with `ttl`:
/// port unreachable, or time exceeded when `te`, quoting `quote`.
#[allow(clippy::too_many_arguments)]
fn error_frame(
    esrc: &str,
    edst: &str,
    src: &str,
    dst: &str,
    ttl: u8,
    te: bool,
    quote: &[u8],
) -> Vec<u8> {
    let icmp = if te {
        Icmpv4Repr::TimeExceeded {
            code: 0,
            data: quote,
        }
    } else {
        Icmpv4Repr::DstUnreachable {
            reason: Icmpv4DstUnreachable::PortUnreachable,
            next_hop_mtu: 0,
            data: quote,
        }
    };
    let mut f = vec![0u8; 34 + icmp.buffer_len()];
    EthernetRepr {
        src_addr: mac(esrc),
        dst_addr: mac(edst),
        ethertype: EtherType::Ipv4,
    }
    .emit(&mut EthernetFrame::new_unchecked(&mut f[..]));
    Ipv4Repr {
        src_addr: ip(src),
        dst_addr: ip(dst),
        protocol: IpProtocol::Icmp,
        payload_len: icmp.buffer_len(),
        ttl,
        dscp: 0,
        ecn: 0,
        ident: 9,
        dont_frag: false,
        more_frags: false,
        frag_offset: 0,
        options: Default::default(),
    }
    .emit(&mut Ipv4Packet::new_unchecked(&mut f[14..34]));
    icmp.emit(&mut Icmpv4Packet::new_unchecked(&mut f[34..]));
    f
}

/// `f` with TTL `ttl` (header checksum refilled).
fn with_ttl(mut f: Vec<u8>, ttl: u8) -> Vec<u8> {
    let mut ipp = Ipv4Packet::new_unchecked(&mut f[14..]);
    ipp.set_ttl(ttl);
    ipp.fill_checksum();
    f
}

/// The quote `q` (an IPv4 packet, whole or cut after 8 transport bytes)
/// with its source or destination address and port rewritten and every
/// checksum it holds recomputed from scratch: what translation must give.
fn expected_quote(q: &[u8], src: Option<(&str, u16)>, dst: Option<(&str, u16)>) -> Vec<u8> {
    let mut q = q.to_vec();
    let mut ipp = Ipv4Packet::new_unchecked(&mut q[..]);
    if let Some((a, _)) = src {
        ipp.set_src_addr(ip(a));
    }
    if let Some((a, _)) = dst {
        ipp.set_dst_addr(ip(a));
    }
    ipp.fill_checksum();
    let ph = PseudoHeader::V4 {
        src: ipp.src_addr(),
        dst: ipp.dst_addr(),
    };
    let total = usize::from(ipp.total_len());
    let proto = ipp.protocol();
    let whole = total == q.len();
    let l4 = &mut q[20..];
    match proto {
        IpProtocol::Udp => {
            let mut u = UdpPacket::new_unchecked(l4);
            if let Some((_, p)) = src {
                u.set_src_port(p);
            }
            if let Some((_, p)) = dst {
                u.set_dst_port(p);
            }
            assert!(whole, "UDP quotes in these tests are whole");
            u.fill_checksum(&ph);
        }
        IpProtocol::Tcp => {
            if let Some((_, p)) = src {
                l4[0..2].copy_from_slice(&p.to_be_bytes());
            }
            if whole {
                TcpPacket::new_unchecked(l4).fill_checksum(&ph);
            }
        }
        IpProtocol::Icmp => {
            if let Some((_, id)) = src.or(dst) {
                let mut i = Icmpv4Packet::new_unchecked(l4);
                let old = i.echo_ident();
                i.set_echo_ident(id);
                if whole {
                    i.fill_checksum();
                } else {
                    // Cut short: only the identifier's share can change
                    // (the callers also compare with the original).
                    let c = df_wire::checksum::update_u16(i.checksum(), old, id);
                    i.set_checksum(c);
                }
            }
        }
        _ => {}
    }
    q
}

/// Checks a translated ICMP error: the ICMP checksum equals one recomputed
/// from scratch; returns the quote.
fn quote_of(d: &[u8]) -> Vec<u8> {
    let ipp = Ipv4Packet::new_checked(&d[14..]).unwrap();
    assert_eq!(ipp.protocol(), IpProtocol::Icmp);
    let mut msg = ipp.payload().to_vec();
    let got = Icmpv4Packet::new_checked(&msg[..]).unwrap().checksum();
    let mut i = Icmpv4Packet::new_unchecked(&mut msg[..]);
    i.fill_checksum();
    assert_eq!(got, i.checksum(), "ICMP: incremental == recomputed");
    let q = msg[8..].to_vec();
    assert!(
        Ipv4Packet::new_unchecked(&q[..]).verify_checksum(),
        "quoted IPv4 header checksum"
    );
    q
}

fn regs(h: &StageHarness<NatApp>, p: &df_dp::Packet) -> (u32, u32, u32) {
    (
        p.reg(h.reg(NETWORK_KEY)),
        p.reg(h.reg(DESTINATION_PORT_KEY)),
        p.reg(h.reg(SOURCE_PORT_KEY)),
    )
}

fn one(out: &Outcome, exit: &str) -> Vec<u8> {
    assert!(out.drops.is_empty(), "{:?}", out.drops);
    let sent = out.by_exit(exit);
    assert_eq!(sent.len(), 1);
    sent[0].data().to_vec()
}

#[test]
fn floating_ip_port_unreachable_from_outside_is_translated_back() {
    let mut h = tests::harness();
    learn(&mut h, GW_MAC, GW);
    let orig = frame_full(MV, MR, F, 5353, "8.8.8.8", 53, K::Udp, 0);
    let t = one(
        &tests::egress(&mut h, std::slice::from_ref(&orig), 5),
        "external",
    );
    let err = error_frame(GW_MAC, MF, "8.8.8.8", P, 57, false, &t[14..]);
    let out = tests::ingress(&mut h, std::slice::from_ref(&err), 50);
    let d = one(&out, "internal");
    assert_eq!(d.len(), err.len());
    assert_eq!(eth(&d), (mac(MR), mac(MV)));
    check_ipv4(&d, "8.8.8.8", F, 56);
    assert_eq!(regs(&h, out.by_exit("internal")[0]), (1, 5, 50));
    let q = quote_of(&d);
    assert_eq!(q, expected_quote(&t[14..], Some((F, 5353)), None));
    // The VM sees its own packet (but for the TTL the far end saw).
    assert_eq!(q[12..], orig[26..], "addresses, ports, UDP checksum, data");
    assert_eq!(
        notes(&out, trace::QUOTED_SRC),
        vec![u64::from(u32::from(ip(P)))]
    );
    assert_eq!(notes(&out, trace::ICMP_ERROR_TRANSLATED), vec![0x0303]);
}

#[test]
fn floating_ip_tcp_quotes_patch_the_checksum_only_when_quoted() {
    let mut h = tests::harness();
    learn(&mut h, GW_MAC, GW);
    let orig = frame_full(MV, MR, F, 40000, "8.8.8.8", 443, K::Tcp, 0);
    let t = one(
        &tests::egress(&mut h, std::slice::from_ref(&orig), 5),
        "external",
    );
    // A whole quote: the TCP checksum is the VM's again.
    let whole = error_frame(GW_MAC, MF, GW, P, 60, true, &t[14..]);
    // RFC 792's minimum, header + 8 bytes: no TCP checksum to patch.
    let cut = error_frame(GW_MAC, MF, GW, P, 60, true, &t[14..42]);
    let out = tests::ingress(&mut h, &[whole, cut], 50);
    assert!(out.drops.is_empty(), "{:?}", out.drops);
    let sent = out.by_exit("internal");
    let q = quote_of(sent[0].data());
    assert_eq!(q, expected_quote(&t[14..], Some((F, 40000)), None));
    assert_eq!(q[12..], orig[26..]);
    let q = quote_of(sent[1].data());
    assert_eq!(q, expected_quote(&t[14..42], Some((F, 40000)), None));
    assert_eq!(q[20..], t[34..42], "the 8 transport bytes unchanged");
    check_ipv4(sent[1].data(), GW, F, 59);
    assert_eq!(notes(&out, trace::ICMP_ERROR_TRANSLATED), vec![0x0b00; 2]);
}

#[test]
fn floating_ip_port_unreachable_from_the_vm_is_translated_out() {
    let mut h = tests::harness();
    learn(&mut h, GW_MAC, GW);
    let inbound = frame_full(GW_MAC, MF, "8.8.8.8", 53, P, 5353, K::Udp, 0);
    let i = one(
        &tests::ingress(&mut h, std::slice::from_ref(&inbound), 50),
        "internal",
    );
    let err = error_frame(MV, MR, F, "8.8.8.8", 64, false, &i[14..]);
    let out = tests::egress(&mut h, &[err], 5);
    let d = one(&out, "external");
    assert_eq!(eth(&d), (mac(MF), mac(GW_MAC)));
    check_ipv4(&d, P, "8.8.8.8", 63);
    let p = out.by_exit("external")[0];
    assert_eq!(
        (p.reg(h.reg(NETWORK_KEY)), p.reg(h.reg(SOURCE_PORT_KEY))),
        (100, 50)
    );
    let q = quote_of(&d);
    assert_eq!(q, expected_quote(&i[14..], None, Some((P, 5353))));
    assert_eq!(q[12..], inbound[26..], "the far end sees its own packet");
    assert_eq!(
        notes(&out, trace::QUOTED_DST),
        vec![u64::from(u32::from(ip(F)))]
    );
    assert_eq!(notes(&out, trace::ICMP_ERROR_TRANSLATED), vec![0x0303]);
}

#[test]
fn snat_port_unreachable_both_ways() {
    let mut h = snat_tests::harness();
    // Out: V:5000 -> REMOTE:53 leaves as X:p.
    let orig = snat_tests::out_frame(V, 5000, REMOTE, 53, K::Udp);
    let t = one(
        &snat_tests::egress(&mut h, std::slice::from_ref(&orig)),
        "external",
    );
    let p = ports(&t).0;
    // The gateway says time exceeded, the remote port unreachable.
    let errs = [
        error_frame(GW_MAC, MX, GW, X, 60, true, &t[14..]),
        error_frame(GW_MAC, MX, REMOTE, X, 60, false, &t[14..]),
    ];
    let out = snat_tests::ingress(&mut h, &errs, XPORT);
    assert!(out.drops.is_empty(), "{:?}", out.drops);
    let sent = out.by_exit("internal");
    assert_eq!(sent.len(), 2);
    for (p, from) in sent.iter().zip([GW, REMOTE]) {
        let d = p.data();
        assert_eq!(eth(d), (mac(MR), mac(MV7)));
        check_ipv4(d, from, V, 59);
        assert_eq!(regs(&h, p), (1, 7, XPORT));
        let q = quote_of(d);
        assert_eq!(q, expected_quote(&t[14..], Some((V, 5000)), None));
        assert_eq!(q[12..], orig[26..], "the VM sees its own packet");
    }
    assert_eq!(notes(&out, trace::QUOTED_PORT), vec![u64::from(p); 2]);
    assert_eq!(
        notes(&out, trace::SNAT_VM_IP)[0],
        u64::from(u32::from(ip(V)))
    );

    // In: a reply REMOTE:53 -> X:p reaches V:5000; V answers port
    // unreachable, which leaves from X about X:p.
    let reply = snat_tests::in_frame(REMOTE, 53, p, K::Udp);
    let i = one(
        &snat_tests::ingress(&mut h, std::slice::from_ref(&reply), XPORT),
        "internal",
    );
    let err = error_frame(MV7, MR, V, REMOTE, 64, false, &i[14..]);
    let out = snat_tests::egress(&mut h, &[err]);
    let d = one(&out, "external");
    assert_eq!(eth(&d), (mac(MX), mac(GW_MAC)));
    check_ipv4(&d, X, REMOTE, 63);
    let e = out.by_exit("external")[0];
    assert_eq!(
        (e.reg(h.reg(NETWORK_KEY)), e.reg(h.reg(SOURCE_PORT_KEY))),
        (100, XPORT)
    );
    let q = quote_of(&d);
    assert_eq!(q, expected_quote(&i[14..], None, Some((X, p))));
    assert_eq!(q[12..], reply[26..], "the far end sees its own packet");
    assert_eq!(notes(&out, trace::SNAT_PORT), vec![u64::from(p)]);
}

#[test]
fn snat_time_exceeded_about_an_echo_request_restores_the_identifier() {
    let mut h = snat_tests::harness();
    let orig = snat_tests::out_frame(V, 77, REMOTE, 0, K::Echo);
    let t = one(
        &snat_tests::egress(&mut h, std::slice::from_ref(&orig)),
        "external",
    );
    let id = ports(&t).0;
    for quote in [&t[14..], &t[14..42]] {
        let err = error_frame(GW_MAC, MX, GW, X, 60, true, quote);
        let d = one(&snat_tests::ingress(&mut h, &[err], XPORT), "internal");
        check_ipv4(&d, GW, V, 59);
        let q = quote_of(&d);
        assert_eq!(q, expected_quote(quote, Some((V, 77)), None));
        // Identifier and echo checksum are the VM's again.
        assert_eq!(q[20..28], orig[34..42]);
    }
    // The VM's error about an echo reply it got leaves with the identifier
    // it had outside.
    let reply = snat_tests::in_frame(REMOTE, id, id, K::EchoReply);
    let i = one(&snat_tests::ingress(&mut h, &[reply], XPORT), "internal");
    let err = error_frame(MV7, MR, V, REMOTE, 64, false, &i[14..]);
    let d = one(&snat_tests::egress(&mut h, &[err]), "external");
    let q = quote_of(&d);
    assert_eq!(q, expected_quote(&i[14..], None, Some((X, id))));
}

/// The time exceeded from P to 8.8.8.8 (frame source `to`) about `orig`,
/// byte by byte.
fn want_time_exceeded(orig: &[u8], to: [u8; 6]) -> Vec<u8> {
    let mut w = to.to_vec();
    w.extend_from_slice(&[0xfa, 0x16, 0x3e, 0, 0, 0x50, 0x08, 0x00]);
    // IPv4: 20 + 8 + 28 = 56 bytes, DSCP CS6, TTL 64, ICMP.
    w.extend_from_slice(&[0x45, 0xc0, 0, 56, 0, 0, 0, 0, 64, 1, 0, 0]);
    w.extend_from_slice(&[198, 18, 0, 10, 8, 8, 8, 8]);
    // ICMP time exceeded, TTL (11, 0), the header and 8 bytes quoted.
    w.extend_from_slice(&[11, 0, 0, 0, 0, 0, 0, 0]);
    w.extend_from_slice(&orig[14..42]);
    Ipv4Packet::new_unchecked(&mut w[14..34]).fill_checksum();
    Icmpv4Packet::new_unchecked(&mut w[34..]).fill_checksum();
    w
}

#[test]
fn ttl_expiry_to_a_floating_ip_is_answered_with_time_exceeded_at_3_per_second() {
    let mut h = tests::harness();
    h.set_now(1_000);
    let src = [2, 0, 0, 0, 0, 0xaa];
    let f = |ttl| {
        with_ttl(
            frame_full("02:00:00:00:00:aa", MF, "8.8.8.8", 53, P, 5353, K::Udp, 0),
            ttl,
        )
    };
    let out = tests::ingress(&mut h, &[f(1)], 50);
    assert_eq!(out.drops, vec![("ttl-expired", 1)]);
    let sent = out.by_exit("external");
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].data(), &want_time_exceeded(&f(1), src)[..]);
    assert_eq!(
        (
            sent[0].reg(h.reg(NETWORK_KEY)),
            sent[0].reg(h.reg(SOURCE_PORT_KEY))
        ),
        (100, 50)
    );
    let to = u64::from(u32::from(ip("8.8.8.8")));
    // Noted on the expired packet and on the reply.
    assert_eq!(notes(&out, trace::TIME_EXCEEDED_SENT), vec![to; 2]);

    // Burst 3: two more now, the rest refused; all counted expired.
    h.set_now(2_000);
    let out = tests::ingress(&mut h, &vec![f(0); 5], 50);
    assert_eq!(out.dropped("ttl-expired"), 5);
    assert_eq!(out.by_exit("external").len(), 2);
    assert_eq!(notes(&out, trace::TIME_EXCEEDED_RATE_LIMITED), vec![to; 3]);
    // A third of a second later, one more.
    h.set_now(2_000 + PER_TOKEN);
    let out = tests::ingress(&mut h, &[f(1), f(1)], 50);
    assert_eq!(out.dropped("ttl-expired"), 2);
    assert_eq!(out.by_exit("external").len(), 1);

    // None about an ICMP error, a non-first fragment, a broadcast source.
    h.set_now(10 * PER_TOKEN);
    let t = frame_full(MF, GW_MAC, P, 5353, "8.8.8.8", 53, K::Udp, 0);
    let err = error_frame(GW_MAC, MF, GW, P, 1, true, &t[14..]);
    let frag = with_ttl(frame_full(GW_MAC, MF, "8.8.8.8", 1, P, 2, K::Udp, 16), 1);
    let bcast = with_ttl(
        frame_full(GW_MAC, MF, "255.255.255.255", 1, P, 2, K::Udp, 0),
        1,
    );
    let out = tests::ingress(&mut h, &[err, frag, bcast], 50);
    assert_eq!(out.dropped("ttl-expired"), 3);
    assert!(out.sent.is_empty());
    assert_eq!(notes(&out, trace::TIME_EXCEEDED_SUPPRESSED).len(), 3);

    // None from the SNAT address.
    let mut h = snat_tests::harness();
    let out = snat_tests::ingress(
        &mut h,
        &[with_ttl(snat_tests::in_frame(REMOTE, 53, 40000, K::Udp), 1)],
        XPORT,
    );
    assert_eq!(out.drops, vec![("ttl-expired", 1)]);
    assert!(out.sent.is_empty());
}

#[test]
fn quotes_that_match_nothing_drop() {
    // Floating IP.
    let mut h = tests::harness();
    learn(&mut h, GW_MAC, GW);
    let from_p = frame_full(MF, GW_MAC, P, 5353, "8.8.8.8", 53, K::Udp, 0);
    let from_other = frame_full(MF, GW_MAC, "198.18.0.11", 5353, "8.8.8.8", 53, K::Udp, 0);
    let to_f = frame_full(MR, MV, "8.8.8.8", 53, F, 5353, K::Udp, 0);
    let to_other = frame_full(MR, MV, "8.8.8.8", 53, "10.0.0.9", 5353, K::Udp, 0);
    let not_ipv4 = [0x60u8; 28];
    let redirect = |src: &str, dst: &str| {
        let mut f = error_frame(GW_MAC, MF, src, dst, 60, true, &from_p[14..]);
        let mut i = Icmpv4Packet::new_unchecked(&mut f[34..]);
        i.set_msg_type(Icmpv4Message::Redirect);
        i.fill_checksum();
        f
    };
    let cases = [
        (
            "not-for-floating-ip",
            error_frame(GW_MAC, MF, GW, P, 60, true, &from_other[14..]),
        ),
        (
            "malformed",
            error_frame(GW_MAC, MF, GW, P, 60, true, &not_ipv4),
        ),
        (
            "malformed",
            error_frame(GW_MAC, MF, GW, P, 60, true, &from_p[14..38]),
        ),
        ("icmp-error", redirect(GW, P)),
    ];
    for (reason, f) in &cases {
        let out = tests::ingress(&mut h, std::slice::from_ref(f), 50);
        assert_eq!(out.drops, vec![(*reason, 1)], "ingress {reason}");
        assert!(out.sent.is_empty());
    }
    let cases = [
        (
            "icmp-error",
            error_frame(MV, MR, F, "8.8.8.8", 64, false, &to_other[14..]),
        ),
        (
            "malformed",
            error_frame(MV, MR, F, "8.8.8.8", 64, false, &to_f[14..30]),
        ),
        ("icmp-error", redirect(F, "8.8.8.8")),
    ];
    for (reason, f) in &cases {
        let out = tests::egress(&mut h, std::slice::from_ref(f), 5);
        assert_eq!(out.drops, vec![(*reason, 1)], "egress {reason}");
        assert!(out.sent.is_empty());
    }

    // SNAT, with one mapping V:5000 -> REMOTE:53 on port p.
    let mut h = snat_tests::harness();
    let p = snat_tests::snat_port(&mut h, snat_tests::out_frame(V, 5000, REMOTE, 53, K::Udp));
    let quote =
        |src: &str, sport: u16, dst: &str, k: K| frame_full(MX, GW_MAC, src, sport, dst, 53, k, 0);
    let cases = [
        ("not X", quote("198.18.0.3", p, REMOTE, K::Udp)),
        ("no mapping", quote(X, p.wrapping_add(1), REMOTE, K::Udp)),
        ("other class", quote(X, p, REMOTE, K::Tcp)),
        ("wrong remote", quote(X, p, "9.9.9.9", K::Udp)),
        ("unmappable", quote(X, p, REMOTE, K::Raw(IpProtocol::Gre))),
    ];
    for (why, q) in &cases {
        let err = error_frame(GW_MAC, MX, GW, X, 60, true, &q[14..]);
        let out = snat_tests::ingress(&mut h, &[err], XPORT);
        assert_eq!(out.drops, vec![("snat-no-mapping", 1)], "ingress {why}");
    }
    let to_v = |sport: u16, dst: &str, vport: u16| {
        frame_full(MR, MV7, REMOTE, sport, dst, vport, K::Udp, 0)
    };
    let cases = [
        ("no mapping", to_v(53, V, 5001)),
        ("other remote port", to_v(54, V, 5000)),
        ("not to V", to_v(53, "10.0.0.8", 5000)),
    ];
    for (why, q) in &cases {
        let err = error_frame(MV7, MR, V, REMOTE, 64, false, &q[14..]);
        let out = snat_tests::egress(&mut h, &[err]);
        assert_eq!(out.drops, vec![("snat-no-mapping", 1)], "egress {why}");
    }
    // The right quote from another VM port is not its connection.
    let err = error_frame(MV7, MR, V, REMOTE, 64, false, &to_v(53, V, 5000)[14..]);
    let out = snat_tests::egress_from(&mut h, std::slice::from_ref(&err), 8, 1);
    assert_eq!(out.drops, vec![("snat-no-mapping", 1)]);
    // From port 7 it is.
    assert_eq!(
        snat_tests::egress(&mut h, &[err]).by_exit("external").len(),
        1
    );
}
