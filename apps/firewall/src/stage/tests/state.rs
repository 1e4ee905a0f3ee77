//! Statefulness: replies, related ICMP errors and later fragments of
//! accepted flows; expiry, eviction, policy changes.

use df_wire::IpProtocol;

use super::frames::{
    self, echo, fragment4, fragment6, frame, l4_of, syn, syn_ack, udp, L4, MAC_A, MAC_R10,
};
use super::*;

/// A may open TCP to B's port 80 and ping; everything else is refused in
/// both directions at both ports.
fn stateful() -> H {
    let g7e = r#"[{"id": "web", "action": "allow", "ip_version": 4, "protocol": "tcp",
                   "destination_port": [80, 80]},
                  {"id": "ping", "action": "allow", "ip_version": 4, "protocol": "icmp"},
                  {"id": "udp", "action": "allow", "ip_version": 4, "protocol": "udp",
                   "destination_port": [53, 53]}]"#;
    let deny = r#"[{"id": "deny", "action": "deny", "ip_version": 4}]"#;
    harness(&groups(g7e, deny, deny, ALLOW_ALL))
}

#[test]
fn replies_of_accepted_flows_pass() {
    let mut h = stateful();
    // The SYN: accepted at A's egress and B's ingress, both cached.
    let p = a_out(&mut h, syn(40000, 80));
    expect(&mut h, "egress", p, "egress-accept");
    let p = b_in(&mut h, syn(40000, 80));
    expect(&mut h, "ingress", p, "ingress-accept");
    // The SYN-ACK: B's egress policy and A's ingress policy deny it; it
    // passes both as a reply.
    let p = b_out(&mut h, syn_ack(80, 40000));
    let out = expect(&mut h, "egress", p, "egress-accept");
    assert_eq!(notes(&out, trace::RULE_DENY), vec![0]);
    assert_eq!(notes(&out, trace::CT_REPLY), vec![200]);
    let p = a_in(&mut h, syn_ack(80, 40000));
    let out = expect(&mut h, "ingress", p, "ingress-accept");
    assert_eq!(notes(&out, trace::CT_REPLY), vec![100]);
    // Unrelated inbound traffic is denied: another port, another peer.
    let p = a_in(&mut h, syn(80, 40001));
    expect(&mut h, "ingress", p, "denied");
    let p = b_out(&mut h, syn(40000, 80));
    expect(&mut h, "egress", p, "denied");
    let f = frame(MAC_R10, MAC_A, "10.0.2.8", A, syn_ack(80, 40000));
    let p = ingress_a(&mut h, &f);
    expect(&mut h, "ingress", p, "denied");
    // No TCP state machine: a packet with the reply's tuple passes even
    // as a SYN.
    let p = a_in(&mut h, syn(80, 40000));
    let out = expect(&mut h, "ingress", p, "ingress-accept");
    assert_eq!(notes(&out, trace::CT_REPLY), vec![100]);
}

#[test]
fn replies_expire_after_the_idle_timeout() {
    let mut h = stateful();
    let p = a_out(&mut h, udp(5353, 53));
    expect(&mut h, "egress", p, "egress-accept");
    h.set_now(1_000 + 300_000);
    let p = a_in(&mut h, udp(53, 5353));
    expect(&mut h, "ingress", p, "ingress-accept");
    // The reply refreshed the flow.
    h.set_now(1_000 + 600_000);
    let p = a_in(&mut h, udp(53, 5353));
    expect(&mut h, "ingress", p, "ingress-accept");
    h.set_now(1_000 + 900_001);
    let p = a_in(&mut h, udp(53, 5353));
    expect(&mut h, "ingress", p, "denied");
}

#[test]
fn echo_replies_and_related_icmp_errors_pass() {
    let mut h = stateful();
    let p = a_out(&mut h, echo(8, 77));
    expect(&mut h, "egress", p, "egress-accept");
    let p = a_in(&mut h, echo(0, 77));
    let out = expect(&mut h, "ingress", p, "ingress-accept");
    assert_eq!(notes(&out, trace::CT_REPLY), vec![100]);
    let p = a_in(&mut h, echo(0, 78));
    expect(&mut h, "ingress", p, "denied");
    // An ICMP error (from a router on the way) quoting A's TCP SYN.
    let p = a_out(&mut h, syn(40000, 80));
    expect(&mut h, "egress", p, "egress-accept");
    let quoted = &frames::ip_packet(A, B, syn(40000, 80))[..28];
    let err = L4::Icmp {
        ty: 3,
        code: 4,
        rest: [0, 0, 5, 0xdc],
        data: quoted,
    };
    let f = frame(MAC_R10, MAC_A, "10.0.9.1", A, err);
    let p = ingress_a(&mut h, &f);
    let out = expect(&mut h, "ingress", p, "ingress-accept");
    assert_eq!(notes(&out, trace::CT_RELATED), vec![100]);
    // An error quoting a flow A never sent is denied.
    let quoted = &frames::ip_packet(A, B, syn(40000, 81))[..28];
    let err = L4::Icmp {
        ty: 3,
        code: 4,
        rest: [0; 4],
        data: quoted,
    };
    let f = frame(MAC_R10, MAC_A, "10.0.9.1", A, err);
    let p = ingress_a(&mut h, &f);
    expect(&mut h, "ingress", p, "denied");
}

#[test]
fn later_fragments_follow_their_first() {
    let mut h = stateful();
    let l4 = l4_of(
        A,
        B,
        L4::Udp {
            sport: 5000,
            dport: 53,
            len: 40,
        },
    );
    let first = fragment4(MAC_A, MAC_R10, (A, B), IpProtocol::Udp, 0, true, &l4[..16]);
    let later = fragment4(
        MAC_A,
        MAC_R10,
        (A, B),
        IpProtocol::Udp,
        16,
        false,
        &l4[16..],
    );
    let p = egress_a(&mut h, &first);
    expect(&mut h, "egress", p, "egress-accept");
    let p = egress_a(&mut h, &later);
    let out = expect(&mut h, "egress", p, "egress-accept");
    assert_eq!(notes(&out, trace::CT_FRAGMENT), vec![0x1234]);
    // A later fragment of a datagram never seen: ports unknown, denied.
    let mut other = later.clone();
    other[ETH + 5] = 0x35; // identification 0x1235
    fix_ipv4_checksum(&mut other);
    let p = egress_a(&mut h, &other);
    expect(&mut h, "egress", p, "denied");
    // The same for IPv6 (its policy denies everything but allows replies).
    let mut h = harness(&groups(ALLOW_ALL, "[]", "null", "null"));
    let l4 = l4_of(B6, A6, udp(53, 5000));
    let first6 = fragment6(MAC_R10, MAC_A, (B6, A6), IpProtocol::Udp, 0, true, &l4[..8]);
    let later6 = fragment6(
        MAC_R10,
        MAC_A,
        (B6, A6),
        IpProtocol::Udp,
        8,
        false,
        &l4[8..],
    );
    let p = ingress_a(&mut h, &later6);
    expect(&mut h, "ingress", p, "denied");
    let f = frame(MAC_A, MAC_R10, A6, B6, udp(5000, 53));
    let p = egress_a(&mut h, &f);
    expect(&mut h, "egress", p, "egress-accept");
    let p = ingress_a(&mut h, &first6);
    let out = expect(&mut h, "ingress", p, "ingress-accept");
    assert_eq!(notes(&out, trace::CT_REPLY), vec![100]);
    let p = ingress_a(&mut h, &later6);
    let out = expect(&mut h, "ingress", p, "ingress-accept");
    assert_eq!(notes(&out, trace::CT_FRAGMENT), vec![0xdead_beef]);
}

#[test]
fn a_changed_policy_cuts_cached_flows() {
    let allow_web = r#"[{"id": "web", "action": "allow", "ip_version": 4, "protocol": "tcp",
                         "destination_port": [80, 80]}]"#;
    let mut h = harness(&groups(allow_web, "[]", "null", "null"));
    let p = a_out(&mut h, syn(40000, 80));
    expect(&mut h, "egress", p, "egress-accept");
    // New tables, same rule: the reply re-checks and passes.
    h.configure_json(&config(&groups(allow_web, "[]", "null", "null")))
        .unwrap();
    let p = a_in(&mut h, syn_ack(80, 40000));
    let out = expect(&mut h, "ingress", p, "ingress-accept");
    assert_eq!(notes(&out, trace::CT_REPLY), vec![100]);
    // The rule is gone: the cached flow is forgotten at its next reply.
    h.configure_json(&config(&groups("[]", "[]", "null", "null")))
        .unwrap();
    let p = a_in(&mut h, syn_ack(80, 40000));
    let out = expect(&mut h, "ingress", p, "denied");
    assert_eq!(notes(&out, trace::CT_STALE), vec![100]);
    // A group without an egress policy accepts everything: flows survive.
    h.configure_json(&config(&groups(allow_web, "[]", "null", "null")))
        .unwrap();
    let p = a_out(&mut h, syn(40000, 80));
    expect(&mut h, "egress", p, "egress-accept");
    h.configure_json(&config(&groups("null", "[]", "null", "null")))
        .unwrap();
    let p = a_in(&mut h, syn_ack(80, 40000));
    expect(&mut h, "ingress", p, "ingress-accept");
}

#[test]
fn a_full_cache_evicts_the_oldest_flow() {
    let cfg = config(&groups(ALLOW_ALL, "[]", "null", "null"))
        .replace(r#""capacity": 64"#, r#""capacity": 4"#);
    let mut h = H::new("").unwrap();
    h.configure_json(&cfg).unwrap();
    // Four ways, one set: the fifth flow evicts the first.
    for (i, sport) in (1..=5).enumerate() {
        h.set_now(1_000 + i as u64);
        let p = a_out(&mut h, udp(sport, 53));
        let out = expect(&mut h, "egress", p, "egress-accept");
        assert_eq!(
            notes(&out, trace::CT_EVICTED).len(),
            usize::from(sport == 5)
        );
    }
    let p = a_in(&mut h, udp(53, 1));
    expect(&mut h, "ingress", p, "denied");
    let p = a_in(&mut h, udp(53, 2));
    expect(&mut h, "ingress", p, "ingress-accept");
}
