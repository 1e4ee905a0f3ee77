//! DHCPv6 stage tests: every message type, the identifiers RFC 8415 §16
//! asks for, every DHCPv6 drop reason and what passes.

use std::net::Ipv6Addr;

use super::*;

#[test]
fn solicit_gets_an_advertise_with_the_ports_address_and_dns() {
    let mut h = harness();
    let ia1 = ia(0x0102_0304, &[]);
    let f = request(
        msg::SOLICIT,
        &[
            (opt::CLIENTID, CLIENT_DUID),
            (opt::IA_NA, &ia1),
            (opt::ORO, &[0, 23, 0, 24]),
            (8, &[0, 0]),
        ],
    );
    let out = run(&mut h, &[f], 5, 1);
    let p = one_reply(&out);
    assert_eq!(p.reg(h.reg(DESTINATION_PORT_KEY)), 5);
    let (eth, ip6, t, o) = open6(p);
    assert_eq!((eth.src_addr, eth.dst_addr), (SERVER_MAC, CLIENT));
    assert_eq!((ip6.src_addr, ip6.dst_addr), (server_ll(), client_ll()));
    assert_eq!(t, msg::ADVERTISE);
    assert_eq!(
        codes(&o),
        vec![
            opt::CLIENTID,
            opt::SERVERID,
            opt::PREFERENCE,
            opt::IA_NA,
            23,
            24
        ]
    );
    assert_eq!(get(&o, opt::CLIENTID).unwrap(), CLIENT_DUID);
    assert_eq!(get(&o, opt::SERVERID).unwrap(), SERVER_DUID);
    assert_eq!(get(&o, opt::PREFERENCE).unwrap(), vec![255]);
    let (iaid, t1, t2, addrs, st) = read_ia(&get(&o, opt::IA_NA).unwrap());
    assert_eq!((iaid, t1, t2, st), (0x0102_0304, 1800, 2880, None));
    assert_eq!(
        addrs,
        vec![(ip("2001:db8:2::5"), 3600, 3600)],
        "stateful subnet only"
    );
    assert_eq!(get(&o, 23).unwrap(), ip("2001:db8::53").octets().to_vec());
    assert_eq!(get(&o, 24).unwrap(), b"\x0eopenstacklocal\x00".to_vec());
}

#[test]
fn solicit_with_rapid_commit_gets_a_reply() {
    let mut h = harness();
    let ia1 = ia(7, &[]);
    let f = request(
        msg::SOLICIT,
        &[
            (opt::CLIENTID, CLIENT_DUID),
            (opt::IA_NA, &ia1),
            (opt::RAPID_COMMIT, &[]),
        ],
    );
    let out = run(&mut h, &[f], 5, 1);
    let (_, _, t, o) = open6(one_reply(&out));
    assert_eq!(t, msg::REPLY);
    assert_eq!(get(&o, opt::RAPID_COMMIT), Some(vec![]));
    assert_eq!(get(&o, opt::PREFERENCE), None);
    assert_eq!(read_ia(&get(&o, opt::IA_NA).unwrap()).3.len(), 1);
}

#[test]
fn solicit_without_an_address_to_give_gets_no_addrs_avail() {
    let mut h = harness();
    let ia1 = ia(7, &[]);
    let f = request(
        msg::SOLICIT,
        &[(opt::CLIENTID, CLIENT_DUID), (opt::IA_NA, &ia1)],
    );
    let out = run(&mut h, std::slice::from_ref(&f), 9, 1);
    let (_, _, t, o) = open6(one_reply(&out));
    assert_eq!(t, msg::ADVERTISE);
    assert_eq!(
        codes(&o),
        vec![opt::CLIENTID, opt::SERVERID, opt::STATUS_CODE]
    );
    assert_eq!(status_of(&o), Some(status::NO_ADDRS_AVAIL));
    // An IPv4-only port of the network is a client too.
    let out = run(&mut h, &[f], 6, 1);
    assert_eq!(
        status_of(&open6(one_reply(&out)).3),
        Some(status::NO_ADDRS_AVAIL)
    );
    // No IA_NA at all (only IA_PD): the same.
    let f = request(
        msg::SOLICIT,
        &[(opt::CLIENTID, CLIENT_DUID), (opt::IA_PD, &[0; 12])],
    );
    let out = run(&mut h, &[f], 5, 1);
    assert_eq!(
        status_of(&open6(one_reply(&out)).3),
        Some(status::NO_ADDRS_AVAIL)
    );
}

#[test]
fn request_gets_a_reply_and_extra_ias_get_no_addrs_avail() {
    let mut h = harness();
    let (ia1, ia2) = (ia(1, &["2001:db8:2::5"]), ia(2, &[]));
    let f = request(
        msg::REQUEST,
        &[
            (opt::CLIENTID, CLIENT_DUID),
            (opt::SERVERID, SERVER_DUID),
            (opt::IA_NA, &ia1),
            (opt::IA_NA, &ia2),
            (opt::ORO, &[0, 23]),
        ],
    );
    let out = run(&mut h, std::slice::from_ref(&f), 5, 1);
    let (_, _, t, o) = open6(one_reply(&out));
    assert_eq!(t, msg::REPLY);
    assert_eq!(
        codes(&o),
        vec![opt::CLIENTID, opt::SERVERID, opt::IA_NA, opt::IA_NA, 23],
        "ORO without 24: no domain list"
    );
    let ias: Vec<_> = o
        .iter()
        .filter(|(c, _)| *c == opt::IA_NA)
        .map(|(_, d)| read_ia(d))
        .collect();
    assert_eq!(ias[0].3, vec![(ip("2001:db8:2::5"), 3600, 3600)]);
    assert_eq!(
        (ias[1].0, ias[1].1, ias[1].4),
        (2, 0, Some(status::NO_ADDRS_AVAIL))
    );
    // A port without a stateful address: the IA carries NoAddrsAvail.
    let out = run(&mut h, &[f], 9, 1);
    let (_, _, _, o) = open6(one_reply(&out));
    let (_, _, _, addrs, st) = read_ia(&get(&o, opt::IA_NA).unwrap());
    assert_eq!((addrs.len(), st), (0, Some(status::NO_ADDRS_AVAIL)));
}

#[test]
fn renew_and_rebind_return_stale_addresses_with_lifetime_zero() {
    let mut h = harness();
    let ia1 = ia(1, &["2001:db8:2::5", "2001:db8:2::99"]);
    let renew = request(
        msg::RENEW,
        &[
            (opt::CLIENTID, CLIENT_DUID),
            (opt::SERVERID, SERVER_DUID),
            (opt::IA_NA, &ia1),
        ],
    );
    let rebind = request(
        msg::REBIND,
        &[(opt::CLIENTID, CLIENT_DUID), (opt::IA_NA, &ia1)],
    );
    let out = run(&mut h, &[renew, rebind], 5, 1);
    let r = out.by_exit("reply");
    assert_eq!(r.len(), 2, "{:?}", out.drops);
    for p in r {
        let (_, _, t, o) = open6(p);
        assert_eq!(t, msg::REPLY);
        let (_, t1, t2, addrs, _) = read_ia(&get(&o, opt::IA_NA).unwrap());
        assert_eq!((t1, t2), (1800, 2880));
        assert_eq!(
            addrs,
            vec![
                (ip("2001:db8:2::5"), 3600, 3600),
                (ip("2001:db8:2::99"), 0, 0)
            ]
        );
    }
}

#[test]
fn confirm_says_whether_the_addresses_are_on_link() {
    let mut h = harness();
    let confirm = |addrs: &[&str]| {
        let i = ia(1, addrs);
        request(
            msg::CONFIRM,
            &[(opt::CLIENTID, CLIENT_DUID), (opt::IA_NA, &i)],
        )
    };
    let frames = [
        confirm(&["2001:db8:2::5", "2001:db8:1::77"]),
        confirm(&["2001:db8:2::5", "2001:db8:99::5"]),
        confirm(&[]),
    ];
    let out = run(&mut h, &frames, 5, 1);
    let r = out.by_exit("reply");
    assert_eq!(r.len(), 2);
    let (_, _, t, o) = open6(r[0]);
    assert_eq!((t, status_of(&o)), (msg::REPLY, Some(status::SUCCESS)));
    assert_eq!(get(&o, opt::IA_NA), None);
    assert_eq!(status_of(&open6(r[1]).3), Some(status::NOT_ON_LINK));
    assert_eq!(out.dropped("dhcpv6-empty-confirm"), 1);
}

#[test]
fn release_and_decline_get_success() {
    let mut h = harness();
    let ia1 = ia(1, &["2001:db8:2::5"]);
    let frames: Vec<_> = [msg::RELEASE, msg::DECLINE]
        .iter()
        .map(|&m| {
            request(
                m,
                &[
                    (opt::CLIENTID, CLIENT_DUID),
                    (opt::SERVERID, SERVER_DUID),
                    (opt::IA_NA, &ia1),
                ],
            )
        })
        .collect();
    let out = run(&mut h, &frames, 5, 1);
    let r = out.by_exit("reply");
    assert_eq!(r.len(), 2);
    for p in r {
        let (_, _, t, o) = open6(p);
        assert_eq!(t, msg::REPLY);
        assert_eq!(
            codes(&o),
            vec![opt::CLIENTID, opt::SERVERID, opt::STATUS_CODE]
        );
        assert_eq!(status_of(&o), Some(status::SUCCESS));
    }
}

#[test]
fn information_request_gets_dns_and_the_domain_list() {
    let mut h = harness();
    // Stateless network 3: the router answers DHCPv6 (no server_mac).
    let f = request(msg::INFORMATION_REQUEST, &[(opt::CLIENTID, CLIENT_DUID)]);
    let out = run(&mut h, &[f], 30, 3);
    let (eth, ip6, t, o) = open6(one_reply(&out));
    assert_eq!((eth.src_addr.0[5], ip6.src_addr), (0x12, ip("fe80::12")));
    assert_eq!(t, msg::REPLY);
    assert_eq!(codes(&o), vec![opt::CLIENTID, opt::SERVERID, 23, 24]);
    assert_eq!(
        get(&o, opt::SERVERID).unwrap(),
        vec![0, 3, 0, 1, 0xfa, 0x16, 0x3e, 0, 0, 0x12]
    );
    // Without a Client Identifier, unicast to the server: still answered.
    let f = dhcp_frame(
        client_ll(),
        server_ll(),
        &message(msg::INFORMATION_REQUEST, &[(opt::ORO, &[0, 24])]),
    );
    let out = run(&mut h, &[f], 5, 1);
    let (_, _, _, o) = open6(one_reply(&out));
    assert_eq!(codes(&o), vec![opt::SERVERID, 24]);
}

#[test]
fn bad_messages_are_counted_drops() {
    let mut h = harness();
    let other = [0, 3, 0, 1, 2, 0, 0, 0, 0, 9];
    let ia1 = ia(1, &[]);
    let cid = (opt::CLIENTID, CLIENT_DUID);
    let sid = (opt::SERVERID, SERVER_DUID);
    let malformed = [
        request(msg::SOLICIT, &[(opt::IA_NA, &ia1)]),
        request(msg::SOLICIT, &[cid, sid]),
        request(msg::REQUEST, &[cid]),
        request(msg::RENEW, &[sid]),
        request(msg::REBIND, &[cid, sid]),
        request(msg::CONFIRM, &[cid, sid]),
        request(msg::INFORMATION_REQUEST, &[cid, (opt::IA_NA, &ia1)]),
        request(msg::SOLICIT, &[(opt::CLIENTID, &[0, 1])]),
        request(msg::SOLICIT, &[cid, (opt::IA_NA, &[0; 8])]),
        request(msg::SOLICIT, &[cid, (opt::ORO, &[0])]),
        request(msg::SOLICIT, &[cid, (opt::RAPID_COMMIT, &[1])]),
        {
            let mut bad_ia = ia(1, &[]);
            bad_ia.extend_from_slice(&[0, 5, 0, 8, 0, 0, 0, 0, 0, 0, 0, 0]);
            request(msg::SOLICIT, &[cid, (opt::IA_NA, &bad_ia)])
        },
        {
            let mut m = message(msg::SOLICIT, &[cid]);
            m.extend_from_slice(&[0, 8, 0, 9]);
            dhcp_frame(client_ll(), ip("ff02::1:2"), &m)
        },
        dhcp_frame(client_ll(), ip("ff02::1:2"), &[msg::SOLICIT, 0]),
        dhcp_frame(
            Ipv6Addr::UNSPECIFIED,
            ip("ff02::1:2"),
            &message(msg::SOLICIT, &[cid]),
        ),
        request(msg::SOLICIT, &[cid])[..60].to_vec(),
    ];
    let out = run(&mut h, &malformed, 5, 1);
    assert_eq!(
        out.dropped("dhcpv6-malformed"),
        malformed.len() as u64,
        "{:?}",
        out.drops
    );

    let others = [
        request(msg::REQUEST, &[cid, (opt::SERVERID, &other)]),
        request(msg::INFORMATION_REQUEST, &[(opt::SERVERID, &other)]),
    ];
    let out = run(&mut h, &others, 5, 1);
    assert_eq!(out.dropped("dhcpv6-other-server"), 2);

    let unknown = [
        request(msg::ADVERTISE, &[cid]),
        request(msg::REPLY, &[cid]),
        request(12, &[]),
    ];
    let out = run(&mut h, &unknown, 5, 1);
    assert_eq!(out.dropped("dhcpv6-unknown-message"), 3);

    let f = request(msg::SOLICIT, &[cid, (opt::IA_NA, &ia1)]);
    let out = run(&mut h, std::slice::from_ref(&f), 77, 1);
    assert_eq!(out.dropped("no-port"), 1);
    let out = run(&mut h, std::slice::from_ref(&f), 40, 4);
    assert_eq!(
        out.dropped("no-server"),
        1,
        "stateless subnet, nobody to answer"
    );
}

#[test]
fn dhcpv6_not_for_a_server_here_passes() {
    let mut h = harness();
    let cid = (opt::CLIENTID, CLIENT_DUID);
    let f = request(msg::SOLICIT, &[cid]);
    // Network 2 is SLAAC only; network 5 has no DHCPv6 subnet; 7 is unknown.
    for (port, net) in [(20, 2), (50, 5), (5, 7)] {
        let out = run(&mut h, std::slice::from_ref(&f), port, net);
        assert_eq!(out.by_exit("pass").len(), 1, "network {net}");
    }
    // To some other unicast address.
    let g = dhcp_frame(
        client_ll(),
        ip("fe80::1234"),
        &message(msg::SOLICIT, &[cid]),
    );
    let out = run(&mut h, std::slice::from_ref(&g), 5, 1);
    assert_eq!(out.by_exit("pass").len(), 1);
    assert_eq!(out.by_exit("pass")[0].data(), &g[..], "unchanged");
}
