//! `dhcp`'s hot path: recognise a DHCP client message for a server here,
//! rate-limit it per port, and turn the request buffer into the reply.
//!
//! Per packet: a few header reads decide "not ours" (`pass`) without
//! parsing anything else; only then the port lookup, the token bucket and a
//! single walk over the request's options, which copies what the reply needs
//! onto the stack. The reply is then written over the request in the same
//! buffer (reset to the default headroom, metadata and registers kept) with
//! df-wire's Reprs: Ethernet, IPv4, UDP with its checksum, and the DHCP
//! message. Optional options are added in priority order only while the
//! reply stays within the client's maximum message size.
//!
//! Rate-limit state is per worker: a vector of token buckets indexed by the
//! tables' dense bucket index (the IPv4 ports' dense index, then the ports
//! only the IPv6 side has), rebuilt (carrying each port's bucket over by
//! key) only when a new tables generation is seen.
//!
//! IPv6 frames that are not DHCPv4 are looked at only after the DHCPv4
//! check fails: Router Solicitations ([`ipv6`]) and DHCPv6 ([`dhcpv6`]).

use std::net::Ipv4Addr;
use std::sync::Arc;

use df_dp::packet::RegSlot;
use df_dp::{Batch, EntryId, ExitId, Packet, RcuCell, Stage, StageIo};
use df_wire::{
    DhcpMessageType, DhcpOpCode, DhcpOption, DhcpOptionCode, DhcpPacket, DhcpRepr, EtherType,
    EthernetAddress, EthernetFrame, EthernetRepr, IpProtocol, Ipv4OptionBytes, Ipv4Packet,
    Ipv4Repr, PseudoHeader, UdpPacket, UdpRepr, DHCP_CLIENT_PORT, DHCP_HEADER_LEN,
    DHCP_MAGIC_COOKIE, DHCP_SERVER_PORT, ETHERNET_HEADER_LEN, IPV4_HEADER_LEN, UDP_HEADER_LEN,
};

use crate::counters::{
    DECLINE, DHCP_DISABLED, MALFORMED, NO_PORT, NO_ROOM, NO_SERVER, OTHER_SERVER, RATE_LIMITED,
    RELEASE, UNKNOWN_MESSAGE,
};
use df_dp::ratelimit::{carry_over, Rate, TokenBucket};

use crate::tables::{DhcpTables, Limit, PortEntry, Server};
use crate::trace::{
    BLOCKED_UNTIL, DECLINED, MESSAGE_TYPE, NAK_REQUESTED, OPTION_SKIPPED, PASS as PASS_NOTE,
    RELEASED, REPLY_IP_DST, REPLY_TYPE, YIADDR,
};

const REPLY: ExitId = ExitId(0);
const PASS: ExitId = ExitId(1);

/// Smallest maximum message size a client must accept (RFC 2131 §2).
const MIN_MAX_MESSAGE: usize = 576;
/// Largest reply we build: one untagged Ethernet MTU.
const MAX_MAX_MESSAGE: usize = 1500;
/// Bytes in front of the DHCP message.
const HEADERS: usize = ETHERNET_HEADER_LEN + IPV4_HEADER_LEN + UDP_HEADER_LEN;
/// Offset of the BOOTP `file` field in the DHCP message.
const FILE_AT: usize = 108;
/// Text of option 56 in a NAK.
const NAK_MESSAGE: &[u8] = b"requested address is not this port's address";

const _: () = assert!(ETHERNET_HEADER_LEN + MAX_MAX_MESSAGE <= df_dp::packet::DATA_ROOM);

#[derive(Debug, Clone, Copy)]
pub(crate) struct Regs {
    pub(crate) src: RegSlot,
    pub(crate) net: RegSlot,
    pub(crate) dst: RegSlot,
}

/// One port's token bucket, and until when it is blocked after exceeding it.
#[derive(Debug, Clone, Copy, Default)]
struct Bucket {
    bucket: TokenBucket,
    blocked_until: u64,
}

/// Per-port rate-limit state of one worker, indexed like `DhcpTables::ports`.
#[derive(Debug, Default)]
struct PortStates {
    generation: u64,
    keys: Vec<u32>,
    buckets: Vec<Bucket>,
}

impl PortStates {
    /// Follows a new tables generation: re-index the buckets, keeping each
    /// port's bucket by key. Allocates, but only when the tables changed.
    #[cold]
    fn resync(&mut self, t: &DhcpTables) {
        self.buckets = carry_over(&self.keys, &self.buckets, t.bucket_keys.len(), |k| {
            t.bucket(k)
        });
        self.keys.clone_from(&t.bucket_keys);
        self.generation = t.generation;
    }

    /// Takes a token for port `idx`; `Err(until)` if the port is over its
    /// limit (it is then blocked until TSC `until`).
    #[inline]
    /// A port blocked for flooding: `Err(until)`. Takes no token (Router
    /// Solicitations: a host sends a few at link up, answered cheaply; they
    /// must not use up the budget of its DHCPv6 exchange that follows).
    fn check_blocked(&self, idx: usize, now: u64, lim: Limit) -> Result<(), u64> {
        match self.buckets.get(idx) {
            Some(b) if lim.per_token != 0 && now < b.blocked_until => Err(b.blocked_until),
            _ => Ok(()),
        }
    }

    fn admit(&mut self, idx: usize, now: u64, lim: Limit) -> Result<(), u64> {
        if lim.per_token == 0 {
            return Ok(());
        }
        let Some(b) = self.buckets.get_mut(idx) else {
            return Ok(());
        };
        if now < b.blocked_until {
            return Err(b.blocked_until);
        }
        let rate = Rate {
            per_token: lim.per_token,
            capacity: lim.capacity,
        };
        if b.bucket.admit(now, rate) {
            Ok(())
        } else {
            b.blocked_until = now.saturating_add(lim.block);
            Err(b.blocked_until)
        }
    }
}

/// The option 55 list as a bitmap; absent means "send everything"
/// (as dnsmasq does for clients without a list).
#[derive(Debug, Clone, Copy)]
struct Prl(Option<[u64; 4]>);

impl Prl {
    fn wants(&self, tag: u8) -> bool {
        match &self.0 {
            None => true,
            Some(bits) => bits[usize::from(tag >> 6)] & (1 << (tag & 63)) != 0,
        }
    }
}

/// What the reply needs from a request, copied out of the packet so the
/// buffer can be overwritten.
#[derive(Debug, Clone, Copy)]
struct Request {
    eth_src: EthernetAddress,
    xid: u32,
    broadcast: bool,
    chaddr: EthernetAddress,
    ciaddr: Ipv4Addr,
    giaddr: Ipv4Addr,
    msg: DhcpMessageType,
    requested_ip: Option<Ipv4Addr>,
    server_id: Option<Ipv4Addr>,
    max_message: usize,
    prl: Prl,
    client_id_len: usize,
    client_id: [u8; 255],
}

impl Request {
    fn client_id(&self) -> Option<&[u8]> {
        self.client_id
            .get(..self.client_id_len)
            .filter(|c| !c.is_empty())
    }
}

/// The answer to a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Offer,
    Ack,
    InformAck,
    Nak,
}

/// The `dhcp` stage of one worker.
#[derive(Debug)]
pub struct DhcpStage {
    regs: Regs,
    tables: Arc<RcuCell<DhcpTables>>,
    states: PortStates,
}

impl DhcpStage {
    pub(crate) fn new(regs: Regs, tables: Arc<RcuCell<DhcpTables>>) -> Self {
        DhcpStage {
            regs,
            tables,
            states: PortStates::default(),
        }
    }
}

impl Stage for DhcpStage {
    fn process(&mut self, _entry: EntryId, batch: &mut Batch, io: &mut StageIo<'_>) {
        let DhcpStage {
            regs,
            tables,
            states,
        } = self;
        let t = tables.read(io.rcu());
        if states.generation != t.generation {
            states.resync(t);
        }
        for pkt in batch.drain() {
            handle(*regs, t, states, pkt, io);
        }
    }
}

fn handle(regs: Regs, t: &DhcpTables, states: &mut PortStates, pkt: Packet, io: &mut StageIo<'_>) {
    let net = pkt.reg(regs.net);
    let ours = client_message(pkt.data()).filter(|dst| {
        t.nets
            .get(net)
            .and_then(|i| t.net_list.get(i as usize))
            .is_some_and(|n| *dst == Ipv4Addr::BROADCAST || n.servers.contains(dst))
    });
    if ours.is_none() {
        if let Some(kind) = ipv6::classify(pkt.data()) {
            return ipv6::handle(regs, t, states, kind, pkt, io);
        }
        io.note(&pkt, PASS_NOTE, 0);
        return io.send(PASS, pkt);
    }
    let Some((idx, port)) = t
        .port(pkt.reg(regs.src))
        .and_then(|i| t.ports.get(i).map(|p| (i, p)))
        .filter(|(_, p)| p.network_key == net)
    else {
        return io.drop(pkt, NO_PORT);
    };
    if let Err(until) = states.admit(idx, io.now(), port.limit) {
        io.note(&pkt, BLOCKED_UNTIL, until);
        return io.drop(pkt, RATE_LIMITED);
    }
    let Some(req) = dhcp_payload(pkt.data()).and_then(|(src, d)| parse_request(src, d)) else {
        return io.drop(pkt, MALFORMED);
    };
    io.note(&pkt, MESSAGE_TYPE, u64::from(u8::from(req.msg)));
    if !port.enable_dhcp {
        return io.drop(pkt, DHCP_DISABLED);
    }
    let Some(server) = port.server else {
        return io.drop(pkt, NO_SERVER);
    };
    let other_server = req.server_id.is_some_and(|s| s != server.ip);
    let kind = match req.msg {
        DhcpMessageType::Discover => Kind::Offer,
        DhcpMessageType::Request if other_server => return io.drop(pkt, OTHER_SERVER),
        DhcpMessageType::Request => {
            let wanted = req
                .requested_ip
                .or((!req.ciaddr.is_unspecified()).then_some(req.ciaddr));
            match wanted {
                Some(ip) if ip != port.ip => {
                    io.note(&pkt, NAK_REQUESTED, u64::from(u32::from(ip)));
                    Kind::Nak
                }
                _ => Kind::Ack,
            }
        }
        DhcpMessageType::Inform => Kind::InformAck,
        DhcpMessageType::Release => {
            io.note(&pkt, RELEASED, u64::from(u32::from(req.ciaddr)));
            return io.drop(pkt, RELEASE);
        }
        DhcpMessageType::Decline if other_server => return io.drop(pkt, OTHER_SERVER),
        DhcpMessageType::Decline => {
            let ip = req.requested_ip.unwrap_or(Ipv4Addr::UNSPECIFIED);
            io.note(&pkt, DECLINED, u64::from(u32::from(ip)));
            return io.drop(pkt, DECLINE);
        }
        _ => return io.drop(pkt, UNKNOWN_MESSAGE),
    };
    reply(regs, port, server, &req, kind, pkt, io);
}

/// The IPv4 destination of a UDP 68 -> 67 datagram, read from the fixed
/// headers only; `None` for anything else (which passes untouched).
#[inline]
fn client_message(data: &[u8]) -> Option<Ipv4Addr> {
    let eth = EthernetFrame::new_checked(data).ok()?;
    if eth.ethertype() != EtherType::Ipv4 {
        return None;
    }
    let l3 = eth.payload();
    if l3.len() < IPV4_HEADER_LEN {
        return None;
    }
    let ip = Ipv4Packet::new_unchecked(l3);
    if ip.version() != 4 || ip.protocol() != IpProtocol::Udp || ip.frag_offset() != 0 {
        return None;
    }
    let l4 = l3.get(usize::from(ip.header_len())..)?;
    if l4.len() < UDP_HEADER_LEN {
        return None;
    }
    let udp = UdpPacket::new_unchecked(l4);
    (udp.src_port() == DHCP_CLIENT_PORT && udp.dst_port() == DHCP_SERVER_PORT)
        .then(|| ip.dst_addr())
}

/// The source MAC and the DHCP message of a client datagram, with every
/// length checked; `None` (malformed) for a bad IPv4 or UDP length or a
/// first fragment.
fn dhcp_payload(data: &[u8]) -> Option<(EthernetAddress, &[u8])> {
    let eth = EthernetFrame::new_checked(data).ok()?;
    let ip = Ipv4Packet::new_checked(eth.payload()).ok()?;
    if ip.more_frags() {
        return None;
    }
    let udp = UdpPacket::new_checked(ip.payload()).ok()?;
    let l4 = ETHERNET_HEADER_LEN + usize::from(ip.header_len());
    let dhcp = data.get(l4 + UDP_HEADER_LEN..l4 + usize::from(udp.len()))?;
    Some((eth.src_addr(), dhcp))
}

/// Reads a BOOTREQUEST: the fixed part and the options the server uses.
fn parse_request(eth_src: EthernetAddress, data: &[u8]) -> Option<Request> {
    let p = DhcpPacket::new_checked(data).ok()?;
    if p.op() != DhcpOpCode::BootRequest
        || p.hardware_type() != 1
        || p.hardware_len() != 6
        || p.magic_number() != DHCP_MAGIC_COOKIE
    {
        return None;
    }
    let mut req = Request {
        eth_src,
        xid: p.transaction_id(),
        broadcast: p.broadcast_flag(),
        chaddr: p.client_hardware_addr(),
        ciaddr: p.client_ip(),
        giaddr: p.relay_agent_ip(),
        msg: DhcpMessageType::Unknown(0),
        requested_ip: None,
        server_id: None,
        max_message: MIN_MAX_MESSAGE,
        prl: Prl(None),
        client_id_len: 0,
        client_id: [0; 255],
    };
    let mut msg = None;
    for o in p.options_iter() {
        let o = o.ok()?;
        match (o.code, o.data) {
            (DhcpOptionCode::MessageType, [m]) => msg = Some(DhcpMessageType::from(*m)),
            (DhcpOptionCode::RequestedIp, &[a, b, c, d]) => {
                req.requested_ip = Some(Ipv4Addr::new(a, b, c, d));
            }
            (DhcpOptionCode::ServerIdentifier, &[a, b, c, d]) => {
                req.server_id = Some(Ipv4Addr::new(a, b, c, d));
            }
            (DhcpOptionCode::MaxMessageSize, &[hi, lo]) => {
                req.max_message = usize::from(u16::from_be_bytes([hi, lo]));
            }
            (DhcpOptionCode::ParameterRequestList, list) => {
                let mut bits = req.prl.0.unwrap_or([0; 4]);
                for &tag in list {
                    bits[usize::from(tag >> 6)] |= 1 << (tag & 63);
                }
                req.prl = Prl(Some(bits));
            }
            (DhcpOptionCode::ClientIdentifier, id) => {
                let n = id.len().min(req.client_id.len());
                req.client_id[..n].copy_from_slice(&id[..n]);
                req.client_id_len = n;
            }
            (
                DhcpOptionCode::MessageType
                | DhcpOptionCode::RequestedIp
                | DhcpOptionCode::ServerIdentifier
                | DhcpOptionCode::MaxMessageSize,
                _,
            ) => return None,
            _ => {}
        }
    }
    req.msg = msg?;
    Some(req)
}

/// A running count of the reply's DHCP length against the client's limit.
struct Room {
    len: usize,
    limit: usize,
    skipped: [u8; 16],
    nskipped: usize,
}

impl Room {
    /// Reserves `need` bytes for option `tag` if they fit.
    fn take(&mut self, tag: u8, need: usize) -> bool {
        if self.len + need <= self.limit {
            self.len += need;
            return true;
        }
        if let Some(s) = self.skipped.get_mut(self.nskipped) {
            *s = tag;
            self.nskipped += 1;
        }
        false
    }
}

/// Builds the reply over the request's buffer and sends it by `reply`.
fn reply(
    regs: Regs,
    port: &PortEntry,
    server: Server,
    req: &Request,
    kind: Kind,
    mut pkt: Packet,
    io: &mut StageIo<'_>,
) {
    let msg = match kind {
        Kind::Offer => DhcpMessageType::Offer,
        Kind::Ack | Kind::InformAck => DhcpMessageType::Ack,
        Kind::Nak => DhcpMessageType::Nak,
    };
    let mut r = DhcpRepr::new(DhcpOpCode::BootReply, msg, req.xid, req.chaddr);
    r.broadcast = req.broadcast;
    r.relay_agent_ip = req.giaddr;
    r.server_identifier = Some(server.ip);
    let mut room = Room {
        // Fixed part, End, message type, server identifier.
        len: DHCP_HEADER_LEN + 1 + 3 + 6,
        limit: req.max_message.clamp(MIN_MAX_MESSAGE, MAX_MAX_MESSAGE)
            - IPV4_HEADER_LEN
            - UDP_HEADER_LEN,
        skipped: [0; 16],
        nskipped: 0,
    };
    let full = kind != Kind::Nak;
    if full {
        r.server_ip = port.siaddr;
    }
    match kind {
        Kind::Offer => r.your_ip = port.ip,
        Kind::Ack => {
            r.client_ip = req.ciaddr;
            r.your_ip = port.ip;
        }
        Kind::InformAck => r.client_ip = req.ciaddr,
        Kind::Nak => {}
    }
    let lease = port.lease;
    let t1 = (lease / 2).to_be_bytes();
    let t2 = ((u64::from(lease) * 7 / 8) as u32).to_be_bytes();
    if matches!(kind, Kind::Offer | Kind::Ack) {
        r.lease_duration = Some(lease);
        room.len += 6;
        if lease != u32::MAX {
            // Cannot fail: a fresh repr has every extra slot free.
            let _ = r.extra_options.push(option(58, &t1));
            let _ = r.extra_options.push(option(59, &t2));
            room.len += 12;
        }
    }
    if full {
        r.subnet_mask = Some(port.mask);
        room.len += 6;
        if let Some(gw) = port.router {
            r.router = Some(gw);
            room.len += 6;
        }
        if !port.dns.is_empty() {
            r.dns_servers = port.dns;
            room.len += 2 + 4 * port.dns.len();
        }
    }
    // Optional options, most important first, while they fit.
    if let Some(id) = req.client_id() {
        if room.take(61, 2 + id.len()) {
            r.client_identifier = Some(id);
        }
    }
    if full {
        let want = |tag: u8| req.prl.wants(tag);
        if let Some(mtu) = port.mtu.filter(|_| kind == Kind::Ack || want(26)) {
            if room.take(26, 4) {
                r.interface_mtu = Some(mtu);
            }
        }
        if !port.routes.is_empty() && want(121) {
            let need = 2 + port.routes.iter().map(|x| x.encoded_len()).sum::<usize>();
            if room.take(121, need) {
                r.classless_routes = port.routes;
            }
        }
        if let Some(d) = port.domain.as_deref().filter(|_| want(15)) {
            if room.take(15, 2 + d.len()) {
                r.domain_name = Some(d);
            }
        }
        for (tag, data) in port.extras.iter() {
            if want(*tag) && room.take(*tag, 2 + data.len()) {
                // Cannot fail: tables cap a port's extras at the free slots.
                let _ = r.extra_options.push(option(*tag, data));
            }
        }
    } else if room.take(56, 2 + NAK_MESSAGE.len()) {
        let _ = r.extra_options.push(option(56, NAK_MESSAGE));
    }

    let ip_dst = if kind == Kind::Nak || req.broadcast || req.ciaddr.is_unspecified() {
        Ipv4Addr::BROADCAST
    } else {
        req.ciaddr
    };
    let dhcp_len = r.buffer_len();
    debug_assert_eq!(dhcp_len, room.len.max(df_wire::DHCP_MIN_MESSAGE_LEN));
    let total = HEADERS + dhcp_len;
    let boot_file = port.boot_file.as_deref().filter(|_| full);

    // Start the frame afresh at the default headroom, keeping metadata and
    // registers: everything the reply needs is in `req` and the tables.
    let meta = *pkt.meta();
    let saved = *pkt.regs();
    pkt.reset();
    *pkt.meta_mut() = meta;
    for (i, v) in saved.iter().enumerate() {
        if let Some(s) = RegSlot::new(i) {
            pkt.set_reg(s, *v);
        }
    }
    let Some(buf) = pkt.append(total) else {
        return io.drop(pkt, NO_ROOM);
    };
    // `buf` is exactly `HEADERS + dhcp_len` bytes, so the splits below and
    // each emit's length requirement hold by construction.
    let (eth, l3) = buf.split_at_mut(ETHERNET_HEADER_LEN);
    let (iph, l4) = l3.split_at_mut(IPV4_HEADER_LEN);
    EthernetRepr {
        src_addr: server.mac,
        dst_addr: req.eth_src,
        ethertype: EtherType::Ipv4,
    }
    .emit(&mut EthernetFrame::new_unchecked(eth));
    Ipv4Repr {
        src_addr: server.ip,
        dst_addr: ip_dst,
        protocol: IpProtocol::Udp,
        payload_len: UDP_HEADER_LEN + dhcp_len,
        ttl: 64,
        dscp: 0,
        ecn: 0,
        ident: 0,
        dont_frag: false,
        more_frags: false,
        frag_offset: 0,
        options: Ipv4OptionBytes::default(),
    }
    .emit(&mut Ipv4Packet::new_unchecked(iph));
    {
        let (_, dhcp) = l4.split_at_mut(UDP_HEADER_LEN);
        r.emit(&mut DhcpPacket::new_unchecked(&mut *dhcp));
        if let Some(b) = boot_file {
            if let Some(f) = dhcp.get_mut(FILE_AT..FILE_AT + b.len()) {
                f.copy_from_slice(b);
            }
        }
    }
    UdpRepr {
        src_port: DHCP_SERVER_PORT,
        dst_port: DHCP_CLIENT_PORT,
        payload_len: dhcp_len,
    }
    .emit(
        &mut UdpPacket::new_unchecked(l4),
        &PseudoHeader::V4 {
            src: server.ip,
            dst: ip_dst,
        },
    );

    pkt.set_reg(regs.dst, port.key);
    io.note(&pkt, REPLY_TYPE, u64::from(u8::from(msg)));
    io.note(&pkt, YIADDR, u64::from(u32::from(r.your_ip)));
    io.note(&pkt, REPLY_IP_DST, u64::from(u32::from(ip_dst)));
    for tag in room.skipped.iter().take(room.nskipped) {
        io.note(&pkt, OPTION_SKIPPED, u64::from(*tag));
    }
    io.send(REPLY, pkt);
}

fn option(tag: u8, data: &[u8]) -> DhcpOption<'_> {
    DhcpOption {
        code: DhcpOptionCode::from(tag),
        data,
    }
}

mod dhcpv6;
mod ipv6;
#[cfg(test)]
mod ipv6_tests;
#[cfg(test)]
mod tests;
