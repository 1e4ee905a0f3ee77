//! The DHCPv6 server (RFC 8415) in `dhcp`'s hot path: stateful (IA_NA with
//! the port's fixed addresses, no lease state) and stateless (DNS servers
//! and the domain search list).
//!
//! Per message, after the same gates as DHCPv4 (a network with DHCPv6 here,
//! a known port, its rate limit): one walk over the options validates the
//! message (RFC 8415 §16: Client and Server Identifier presence, option and
//! IA lengths) and keeps borrowed slices of what the answer echoes; the
//! answer is then written on the stack with a bounded writer and copied
//! over the request. The UDP checksum of the request is not verified (a
//! guest's checksum offload can leave it unfinished); the reply's is always
//! computed (mandatory in IPv6).
//!
//! | request | answer |
//! |---|---|
//! | SOLICIT | ADVERTISE (preference 255), or REPLY with Rapid Commit if asked; top-level NoAddrsAvail when no address can be given |
//! | REQUEST, RENEW, REBIND | REPLY: the first IA_NA gets the port's addresses, others NoAddrsAvail; RENEW/REBIND also return other listed addresses with lifetime 0 |
//! | CONFIRM | REPLY with Success or NotOnLink (no reply without addresses) |
//! | RELEASE, DECLINE | REPLY with Success |
//! | INFORMATION-REQUEST | REPLY with DNS servers and domain search list |

use std::net::Ipv6Addr;

use df_dp::{Packet, StageIo};
use df_wire::{
    EthernetAddress, EthernetFrame, FixedVec, IpProtocol, Ipv6Packet, PseudoHeader, UdpPacket,
    UdpRepr, ETHERNET_HEADER_LEN, IPV6_HEADER_LEN, UDP_HEADER_LEN,
};

use super::ipv6::{headers, send_reply, HEADERS6, MAX_FRAME};
use super::{PortStates, Regs, PASS};
use crate::counters::{
    DHCPV6_EMPTY_CONFIRM, DHCPV6_MALFORMED, DHCPV6_OTHER_SERVER, DHCPV6_UNKNOWN_MESSAGE, NO_PORT,
    NO_ROOM, NO_SERVER, RATE_LIMITED,
};
use crate::dhcpv6::{
    ipv6_at, msg, opt, status, Options, Writer, ALL_SERVERS, CLIENT_PORT, HEADER_LEN,
    IAADDR_FIXED_LEN, IA_NA_FIXED_LEN, SERVER_PORT,
};
use crate::tables::ipv6::{Net6, Port6, Server6};
use crate::tables::DhcpTables;
use crate::trace::{
    BLOCKED_UNTIL, PASS as PASS_NOTE, V6_ADDRESS, V6_ADDRESSES, V6_MESSAGE_TYPE, V6_REPLY_TYPE,
    V6_STATUS,
};
use df_dp::DropId;

/// IA_NA options of a request that are answered; more are ignored.
const MAX_IAS: usize = 4;
/// Addresses of one IA returned with lifetime 0 on RENEW/REBIND.
const MAX_STALE: usize = 4;
/// Shortest and longest DUID with its type (RFC 8415 §11.1).
const DUID_LEN: std::ops::RangeInclusive<usize> = 3..=130;
/// The server's preference in an ADVERTISE: the highest, so the client
/// need not wait for other offers.
const PREFERENCE: u8 = 255;

const NO_ADDRS_TEXT: &[u8] = b"no address for this port";
const NOT_ON_LINK_TEXT: &[u8] = b"address not on this link";
const SUCCESS_TEXT: &[u8] = b"ok";

/// What the answer needs from a request: borrowed from its buffer.
#[derive(Debug)]
struct Request<'a> {
    eth_src: EthernetAddress,
    ip_src: Ipv6Addr,
    msg: u8,
    xid: [u8; 3],
    client_id: Option<&'a [u8]>,
    server_id: Option<&'a [u8]>,
    rapid_commit: bool,
    oro: Option<&'a [u8]>,
    /// The data of the IA_NA options (IAID, T1, T2, options).
    ias: FixedVec<&'a [u8], MAX_IAS>,
    /// IA_TA or IA_PD options (not served).
    other_ia: bool,
}

impl Request<'_> {
    fn wants(&self, code: u16) -> bool {
        self.oro
            .is_none_or(|o| o.chunks_exact(2).any(|c| c == code.to_be_bytes()))
    }
}

/// A finished answer: its frame length and what the trace records.
#[derive(Debug, Clone, Copy)]
struct Answer {
    len: usize,
    reply_type: u8,
    status: Option<u16>,
    addrs: usize,
    first: Option<Ipv6Addr>,
}

/// Handles a UDP 546 -> 547 datagram to `dst`.
pub(super) fn handle(
    regs: Regs,
    t: &DhcpTables,
    states: &mut PortStates,
    dst: Ipv6Addr,
    pkt: Packet,
    io: &mut StageIo<'_>,
) {
    let net_key = pkt.reg(regs.net);
    let Some(net) =
        t.v6.net(net_key)
            .filter(|n| n.dhcp && (dst == ALL_SERVERS || n.server.is_some_and(|s| s.ip == dst)))
    else {
        io.note(&pkt, PASS_NOTE, 0);
        return io.send(PASS, pkt);
    };
    let Some(port) = t.v6.port(pkt.reg(regs.src), net_key) else {
        return io.drop(pkt, NO_PORT);
    };
    let Some(server) = net.server else {
        return io.drop(pkt, NO_SERVER);
    };
    if let Err(until) = states.admit(port.bucket as usize, io.now(), port.limit) {
        io.note(&pkt, BLOCKED_UNTIL, until);
        return io.drop(pkt, RATE_LIMITED);
    }
    let mut buf = [0u8; MAX_FRAME];
    let (msg_type, answer) = match parse(pkt.data()) {
        Some(req) => (req.msg, answer(&req, net, port, &server, &mut buf)),
        None => (0, Err(DHCPV6_MALFORMED)),
    };
    io.note(&pkt, V6_MESSAGE_TYPE, u64::from(msg_type));
    let a = match answer {
        Ok(a) => a,
        Err(reason) => return io.drop(pkt, reason),
    };
    send_reply(regs, port.key, &buf[..a.len], pkt, io, |pkt, io| {
        io.note(pkt, V6_REPLY_TYPE, u64::from(a.reply_type));
        if let Some(s) = a.status {
            io.note(pkt, V6_STATUS, u64::from(s));
        }
        io.note(pkt, V6_ADDRESSES, a.addrs as u64);
        if let Some(ip) = a.first {
            io.note(pkt, V6_ADDRESS, u128::from(ip) as u64);
        }
    });
}

/// Reads and validates a client message; `None` if malformed.
fn parse(data: &[u8]) -> Option<Request<'_>> {
    let eth = EthernetFrame::new_checked(data).ok()?;
    let eth_src = eth.src_addr();
    let l3 = data.get(ETHERNET_HEADER_LEN..)?;
    let ip = Ipv6Packet::new_checked(l3).ok()?;
    if ip.next_header() != IpProtocol::Udp {
        return None;
    }
    let ip_src = ip.src_addr();
    if ip_src.is_unspecified() || ip_src.is_multicast() {
        return None;
    }
    // Slices of `data` itself (not of the views), so the request can
    // borrow from them.
    let l4 = l3.get(IPV6_HEADER_LEN..IPV6_HEADER_LEN + usize::from(ip.payload_len()))?;
    let udp = UdpPacket::new_checked(l4).ok()?;
    if udp.src_port() != CLIENT_PORT || udp.dst_port() != SERVER_PORT {
        return None;
    }
    let body = l4.get(UDP_HEADER_LEN..usize::from(udp.len()))?;
    let [m, x0, x1, x2] = *body.first_chunk::<4>()?;
    let options = body.get(HEADER_LEN..)?;
    let mut req = Request {
        eth_src,
        ip_src,
        msg: m,
        xid: [x0, x1, x2],
        client_id: None,
        server_id: None,
        rapid_commit: false,
        oro: None,
        ias: FixedVec::new(),
        other_ia: false,
    };
    for o in Options::new(options) {
        let (code, d) = o.ok()?;
        match code {
            opt::CLIENTID if DUID_LEN.contains(&d.len()) => req.client_id = Some(d),
            opt::SERVERID if DUID_LEN.contains(&d.len()) => req.server_id = Some(d),
            opt::CLIENTID | opt::SERVERID => return None,
            opt::RAPID_COMMIT if d.is_empty() => req.rapid_commit = true,
            opt::ORO if d.len() % 2 == 0 => req.oro = Some(d),
            opt::RAPID_COMMIT | opt::ORO => return None,
            opt::IA_NA => {
                check_ia(d)?;
                // Past MAX_IAS, IA_NAs go unanswered (a client sends one).
                let _ = req.ias.push(d);
            }
            opt::IA_TA | opt::IA_PD => req.other_ia = true,
            _ => {}
        }
    }
    Some(req)
}

/// Checks an IA_NA's fixed part and its options' lengths.
fn check_ia(d: &[u8]) -> Option<()> {
    for o in Options::new(d.get(IA_NA_FIXED_LEN..)?) {
        let (code, a) = o.ok()?;
        if code == opt::IAADDR && a.len() < IAADDR_FIXED_LEN {
            return None;
        }
    }
    Some(())
}

/// The addresses listed in an IA_NA (validated by [`check_ia`]).
fn ia_addrs(ia: &[u8]) -> impl Iterator<Item = Ipv6Addr> + '_ {
    Options::new(ia.get(IA_NA_FIXED_LEN..).unwrap_or_default())
        .filter_map(Result::ok)
        .filter(|(code, _)| *code == opt::IAADDR)
        .map(|(_, a)| ipv6_at(a, 0))
}

/// Checks the identifiers RFC 8415 §16 asks for, then writes the answer.
fn answer(
    req: &Request<'_>,
    net: &Net6,
    port: &Port6,
    server: &Server6,
    buf: &mut [u8; MAX_FRAME],
) -> Result<Answer, DropId> {
    let ours = req.server_id.map(|s| s == server.duid);
    let has_client = req.client_id.is_some();
    match req.msg {
        msg::SOLICIT | msg::REBIND | msg::CONFIRM if !has_client || ours.is_some() => {
            return Err(DHCPV6_MALFORMED)
        }
        msg::REQUEST | msg::RENEW | msg::RELEASE | msg::DECLINE if !has_client => {
            return Err(DHCPV6_MALFORMED)
        }
        msg::REQUEST | msg::RENEW | msg::RELEASE | msg::DECLINE => match ours {
            None => return Err(DHCPV6_MALFORMED),
            Some(false) => return Err(DHCPV6_OTHER_SERVER),
            Some(true) => {}
        },
        msg::INFORMATION_REQUEST if !req.ias.is_empty() || req.other_ia => {
            return Err(DHCPV6_MALFORMED)
        }
        msg::INFORMATION_REQUEST if ours == Some(false) => return Err(DHCPV6_OTHER_SERVER),
        msg::SOLICIT | msg::REBIND | msg::CONFIRM | msg::INFORMATION_REQUEST => {}
        _ => return Err(DHCPV6_UNKNOWN_MESSAGE),
    }
    let advertise = req.msg == msg::SOLICIT && !req.rapid_commit;
    let reply_type = if advertise {
        msg::ADVERTISE
    } else {
        msg::REPLY
    };
    let (head, rest) = buf.split_at_mut(HEADERS6);
    let (_, payload) = rest.split_at_mut(UDP_HEADER_LEN);
    let mut w = Writer::new(payload);
    w.put(&[reply_type, req.xid[0], req.xid[1], req.xid[2]]);
    if let Some(c) = req.client_id {
        w.option(opt::CLIENTID, c);
    }
    w.option(opt::SERVERID, &server.duid);
    let mut a = Answer {
        len: 0,
        reply_type,
        status: None,
        addrs: 0,
        first: None,
    };
    match req.msg {
        msg::SOLICIT | msg::REQUEST | msg::RENEW | msg::REBIND => {
            if req.ias.is_empty() || (advertise && port.addrs.is_empty()) {
                // RFC 8415 §18.3.9: only the status, with the identifiers.
                w.status(status::NO_ADDRS_AVAIL, NO_ADDRS_TEXT);
                a.status = Some(status::NO_ADDRS_AVAIL);
            } else {
                if advertise {
                    w.option(opt::PREFERENCE, &[PREFERENCE]);
                }
                let stale = matches!(req.msg, msg::RENEW | msg::REBIND);
                for (i, ia) in req.ias.iter().enumerate() {
                    let given = if i == 0 {
                        &port.addrs
                    } else {
                        &FixedVec::new()
                    };
                    ia_na(&mut w, ia, given, net.lease, stale);
                }
                a.addrs = port.addrs.len();
                a.first = port.addrs.get(0);
                config(&mut w, req, net);
                if req.rapid_commit && req.msg == msg::SOLICIT {
                    w.option(opt::RAPID_COMMIT, &[]);
                }
            }
        }
        msg::CONFIRM => {
            let mut listed = req.ias.iter().flat_map(ia_addrs).peekable();
            if listed.peek().is_none() {
                return Err(DHCPV6_EMPTY_CONFIRM);
            }
            let on_link = listed.all(|ip| net.on_link.iter().any(|c| c.contains(ip)));
            let (code, text) = if on_link {
                (status::SUCCESS, SUCCESS_TEXT)
            } else {
                (status::NOT_ON_LINK, NOT_ON_LINK_TEXT)
            };
            w.status(code, text);
            a.status = Some(code);
        }
        msg::RELEASE | msg::DECLINE => {
            w.status(status::SUCCESS, SUCCESS_TEXT);
            a.status = Some(status::SUCCESS);
            a.first = req.ias.iter().flat_map(ia_addrs).next();
        }
        _ => config(&mut w, req, net),
    }
    if w.overflowed() {
        return Err(NO_ROOM);
    }
    let dhcp_len = w.written();
    let udp_len = UDP_HEADER_LEN + dhcp_len;
    {
        // `rest` holds the header and `payload`, so it has udp_len bytes.
        let Some(datagram) = rest.get_mut(..udp_len) else {
            return Err(NO_ROOM);
        };
        UdpRepr {
            src_port: SERVER_PORT,
            dst_port: CLIENT_PORT,
            payload_len: dhcp_len,
        }
        .emit(
            &mut UdpPacket::new_unchecked(datagram),
            &PseudoHeader::V6 {
                src: server.ip,
                dst: req.ip_src,
            },
        );
    }
    headers(
        head,
        (server.mac, req.eth_src),
        (server.ip, req.ip_src),
        IpProtocol::Udp,
        udp_len,
        64,
    );
    a.len = HEADERS6 + udp_len;
    Ok(a)
}

/// Writes one IA_NA answer: `given` with the lease's lifetimes (or the
/// NoAddrsAvail status when empty) and, if `stale`, the other addresses
/// the client listed with lifetime 0 (RFC 8415 §18.3.4).
fn ia_na(
    w: &mut Writer<'_>,
    ia: &[u8],
    given: &FixedVec<Ipv6Addr, { crate::tables::MAX_PORT_ADDRS6 }>,
    lease: u32,
    stale: bool,
) {
    let at = w.begin(opt::IA_NA);
    w.put(ia.get(..4).unwrap_or(&[0; 4]));
    if given.is_empty() {
        w.put(&[0; 8]);
        w.status(status::NO_ADDRS_AVAIL, NO_ADDRS_TEXT);
        return w.end(at);
    }
    let (t1, t2) = if lease == u32::MAX {
        (u32::MAX, u32::MAX)
    } else {
        (lease / 2, (u64::from(lease) * 4 / 5) as u32)
    };
    w.put(&t1.to_be_bytes());
    w.put(&t2.to_be_bytes());
    for ip in given.iter() {
        iaaddr(w, ip, lease);
    }
    if stale {
        ia_addrs(ia)
            .filter(|ip| !given.iter().any(|g| g == *ip))
            .take(MAX_STALE)
            .for_each(|ip| iaaddr(w, ip, 0));
    }
    w.end(at);
}

fn iaaddr(w: &mut Writer<'_>, ip: Ipv6Addr, lifetime: u32) {
    let at = w.begin(opt::IAADDR);
    w.put(&ip.octets());
    w.put(&lifetime.to_be_bytes());
    w.put(&lifetime.to_be_bytes());
    w.end(at);
}

/// DNS servers and the domain search list, when configured and wanted.
fn config(w: &mut Writer<'_>, req: &Request<'_>, net: &Net6) {
    if !net.dns.is_empty() && req.wants(opt::DNS_SERVERS) {
        let at = w.begin(opt::DNS_SERVERS);
        for d in net.dns.iter() {
            w.put(&d.octets());
        }
        w.end(at);
    }
    if let Some(d) = net
        .domain
        .as_deref()
        .filter(|_| req.wants(opt::DOMAIN_LIST))
    {
        w.option(opt::DOMAIN_LIST, d);
    }
}
