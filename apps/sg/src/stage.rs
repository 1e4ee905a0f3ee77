//! `sg`'s hot path: per packet, one port lookup, one parse, one conntrack
//! lookup; rules are consulted only for a new connection.
//!
//! Per packet at `in.egress` (port = `source_port_key`) or `in.ingress`
//! (port = `destination_port_key`): a port without port security passes
//! untracked; ARP passes; other non-IP is `not-ip`; the ND, MLD, router
//! discovery and DHCP client/server exchanges Neutron always admits pass
//! untracked; a port with port security and no groups drops the rest
//! (`no-rule`). An ICMP error passes only if the packet it quotes belongs
//! to a tracked connection of the port (`related-not-tracked`). Anything
//! else is looked up in conntrack: a tracked connection passes after its
//! state machine accepts the packet (`invalid` otherwise); a new one must
//! be able to open a connection (a bare TCP SYN, not an ICMP reply), is
//! checked against the port's rules of the entry's direction (egress:
//! remote = destination; ingress: remote = source) and is tracked if a
//! rule allows it (`no-rule`, `ct-full`).
//!
//! **Whose connection.** A conntrack key is (zone = `network_key`, the
//! protected port's key, normalised 5-tuple). The port's egress and
//! ingress checks share the entry: the SYN a VM sends creates it at
//! egress, the SYN-ACK coming back to it finds it at ingress. When both
//! VMs are local the packet is checked at the sender's egress and at the
//! receiver's ingress with two separate entries (one per protected port),
//! so each check is stateful on its own, and a connection to or from a
//! remote VM is tracked exactly as one between local VMs.
//!
//! **Cutting connections when rules change.** An entry remembers the rule
//! that allowed it and the generation of the tables that rule belonged to.
//! While the generation is current (the common case) the rule exists by
//! construction and nothing is checked. When new tables were published,
//! the next packet of the connection checks it again against the port's
//! current rules (same direction, same remote): still allowed, the entry
//! takes the new generation and rule; not allowed any more (the rule was
//! removed, the port left the group, the remote left the remote group),
//! the entry is forgotten and the packet is checked as new, which a
//! mid-stream TCP packet fails as `invalid`. The cut happens on the first
//! packet after the publish; a connection also allowed by another rule
//! survives, as it does in Neutron, where the deleted conntrack entry is
//! picked up again as new and allowed.
//!
//! Fragments: `sg` does not reassemble. A first fragment is checked with
//! its L4 header; when accepted, its (addresses, protocol, identification)
//! is remembered in a small direct-mapped cache, and later fragments of
//! that datagram pass for `conntrack.fragment_secs` (`fragment` otherwise).
//!
//! Per batch: one tables snapshot, and an incremental sweep of a few
//! conntrack entries to free expired ones. Nothing here allocates, except
//! when new tables change the conntrack capacity (once per such publish).

use std::sync::Arc;

use df_dp::stage::{Known, Route};
use df_dp::{Batch, DropId, EntryId, ExitId, RcuCell, RcuReader, RegSlot, Stage, StageIo};

use crate::counters::{
    CT_FULL, FRAGMENT, INVALID, MALFORMED, NOT_IP, NO_RULE, RELATED_NOT_TRACKED, UNKNOWN_PORT,
};
use crate::ct::{Conntrack, CtKey, Entry, INGRESS, ORIG_LO};
use crate::flow::{self, Frag, Frame, Ip, Tuple, L4};
use crate::rules::{list_index, Query, RuleSet};
use crate::state::{self, Step};
use crate::tables::SgTables;
use crate::trace;

/// `in.egress`.
pub(crate) const EGRESS: EntryId = EntryId(0);
/// `out.egress-accept`.
pub(crate) const EGRESS_ACCEPT: ExitId = ExitId(0);
/// `out.ingress-accept`.
pub(crate) const INGRESS_ACCEPT: ExitId = ExitId(1);

/// Conntrack entries the per-batch sweep looks at.
const SWEEP_PER_BATCH: usize = 8;
/// Entries a full table looks at for an expired one before `ct-full`.
const EVICT_SCAN: usize = 64;
/// Tracked connections from which a batch's lookups are warmed up first
/// (below this the table's used lines stay in the caches, and the warm-up
/// would cost more than it saves).
pub(crate) const WARM_MIN: usize = 4096;
/// Packets of a batch the warm-up covers.
const WARM_MAX: usize = 256;
/// Slots of the fragment cache (a power of two).
pub(crate) const FRAG_SLOTS: usize = 1024;

#[derive(Debug, Clone, Copy)]
pub(crate) struct Regs {
    pub(crate) src: RegSlot,
    pub(crate) dst: RegSlot,
    pub(crate) net: RegSlot,
}

/// A datagram whose first fragment was accepted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct FragSlot {
    key: CtKey,
    /// TSC until which later fragments pass (0: empty).
    until: u64,
}

/// What to do with a packet, and the trace notes saying why.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Verdict {
    pub(crate) drop: Option<DropId>,
    note: &'static str,
    value: u64,
    /// A note recorded before `note` (a re-check, a forgotten entry).
    pre: Option<(&'static str, u64)>,
}

fn accept(note: &'static str, value: u64) -> Verdict {
    Verdict {
        drop: None,
        note,
        value,
        pre: None,
    }
}

fn deny(reason: DropId, note: &'static str, value: u64) -> Verdict {
    Verdict {
        drop: Some(reason),
        note,
        value,
        pre: None,
    }
}

/// What one packet is checked in: the tables, the port and its rules.
#[derive(Clone, Copy)]
struct Ctx<'a> {
    t: &'a SgTables,
    set: &'a RuleSet,
    ingress: bool,
    zone: u32,
    port: u32,
    now: u64,
    /// The conntrack key and hash the batch warm-up computed, if any.
    warm: Option<(CtKey, u64)>,
}

/// The rule query of a connection from `src` to `(dst, dport)` (key ports;
/// for ICMP `dport` is `type << 8 | code`).
fn query(v6: bool, proto: u8, src: u128, dst: u128, dport: u16, ingress: bool) -> Query {
    let icmp = proto == if v6 { 58 } else { 1 };
    Query {
        proto,
        dport: if icmp { 0 } else { dport },
        icmp_type: if icmp { (dport >> 8) as u8 } else { 0 },
        icmp_code: if icmp { dport as u8 } else { 0 },
        remote: if ingress { src } else { dst },
    }
}

/// The rule that allows `e`'s connection under tables `t`, if any.
fn recheck(t: &SgTables, e: &Entry) -> Option<u32> {
    let set = t.rulesets.get(t.port(e.port)?.ruleset? as usize)?;
    let ingress = e.flags & INGRESS != 0;
    let v6 = e.key().v6;
    let ((src, _), (dst, dport)) = e.orig();
    let q = query(v6, e.proto, src, dst, dport, ingress);
    set.lists[list_index(ingress, v6)].first_match(&q, v6, &t.members)
}

/// Traffic Neutron admits whatever the rules say: ND, MLD and router
/// discovery (RS out, RA in), DHCP client requests out and server replies
/// in. Returns the trace value.
fn service(ip: &Ip, ingress: bool) -> Option<u64> {
    let t = &ip.tuple;
    match ip.l4 {
        L4::IcmpOther if ip.v6 => {
            let ty = ip.icmp_type;
            let ok = match ty {
                130 | 131 | 132 | 143 | 135 | 136 => true,
                133 => !ingress,
                134 => ingress,
                _ => false,
            };
            ok.then_some(58 << 16 | u64::from(ty))
        }
        L4::Ports if t.proto == 17 => {
            let (client, server) = if ip.v6 { (546, 547) } else { (68, 67) };
            let ok = if ingress {
                (t.sport, t.dport) == (server, client)
            } else {
                (t.sport, t.dport) == (client, server)
            };
            ok.then_some(17 << 16 | u64::from(t.dport))
        }
        _ => None,
    }
}

/// The per-worker state: conntrack and the fragment cache.
#[derive(Debug)]
pub(crate) struct Tracker {
    pub(crate) ct: Conntrack,
    pub(crate) frags: Box<[FragSlot]>,
}

/// How a lookup that found an entry ended.
enum Found {
    /// Decided.
    Done(Verdict),
    /// The entry was forgotten; check the packet as new (with this note).
    New(&'static str, u64),
}

impl Tracker {
    /// Checks that entry `i` is still current: not expired, its rule still
    /// allowing it. `Ok(note)` if live (with a re-check note), `Err(note)`
    /// once forgotten.
    #[inline]
    fn live(
        &mut self,
        c: &Ctx<'_>,
        i: u32,
    ) -> Result<Option<(&'static str, u64)>, (&'static str, u64)> {
        let t = c.t;
        let Some(e) = self.ct.get_mut(i) else {
            return Err((trace::EXPIRED, 0));
        };
        if state::expired(e, c.now, &t.timeouts) {
            let idle = c.now.saturating_sub(e.last_seen);
            self.ct.remove(i);
            return Err((trace::EXPIRED, idle));
        }
        if e.gen == t.gen32() {
            return Ok(None);
        }
        match recheck(t, e) {
            Some(rule) => {
                e.gen = t.gen32();
                e.rule = rule;
                Ok(Some((trace::RECHECKED, rule_value(t, rule))))
            }
            None => {
                let old = u64::from(e.rule);
                self.ct.remove(i);
                Err((trace::CUT, old))
            }
        }
    }

    /// A packet of tracked connection `i`.
    #[inline]
    fn established(&mut self, c: &Ctx<'_>, i: u32, ip: &Ip, src_lo: bool) -> Found {
        let pre = match self.live(c, i) {
            Ok(pre) => pre,
            Err((note, value)) => return Found::New(note, value),
        };
        let Some(e) = self.ct.get_mut(i) else {
            return Found::New(trace::EXPIRED, 0);
        };
        let orig = state::is_orig(e, src_lo);
        if ip.l4 == L4::Tcp {
            let f = ip.tcp_flags;
            let bad = u64::from(e.state) << 8 | u64::from(f);
            if !state::tcp_flags_valid(f) {
                return Found::Done(deny(INVALID, trace::INVALID_TCP, bad));
            }
            match state::tcp_step(e, orig, f) {
                Step::Accept => {}
                Step::Invalid => return Found::Done(deny(INVALID, trace::INVALID_TCP, bad)),
                Step::Reopen => {
                    let old = u64::from(e.state);
                    self.ct.remove(i);
                    return Found::New(trace::REOPEN, old);
                }
            }
        } else {
            state::other_step(e, orig);
        }
        e.last_seen = c.now;
        let mut v = accept(
            trace::ESTABLISHED,
            u64::from(e.state) << 8 | u64::from(orig),
        );
        v.pre = pre;
        Found::Done(v)
    }

    /// A packet of no tracked connection.
    fn new_connection(
        &mut self,
        c: &Ctx<'_>,
        ip: &Ip,
        key: &CtKey,
        h: u64,
        src_lo: bool,
    ) -> Verdict {
        let tu = &ip.tuple;
        let f = ip.tcp_flags;
        match ip.l4 {
            L4::Tcp if !state::tcp_flags_valid(f) || !state::tcp_opens(f) => {
                return deny(INVALID, trace::INVALID_TCP, u64::from(f));
            }
            L4::IcmpReply => return deny(INVALID, trace::INVALID_ICMP, ip.icmp_type.into()),
            _ => {}
        }
        let q = query(ip.v6, tu.proto, tu.src, tu.dst, tu.dport, c.ingress);
        let list = &c.set.lists[list_index(c.ingress, ip.v6)];
        let Some(rule) = list.first_match(&q, ip.v6, &c.t.members) else {
            let what = u64::from(tu.proto) << 16 | u64::from(tu.dport);
            return deny(NO_RULE, trace::NO_RULE, what);
        };
        let tcp = ip.l4 == L4::Tcp;
        let mut flags = if src_lo { ORIG_LO } else { 0 };
        if c.ingress {
            flags |= INGRESS;
        }
        let st = if tcp { state::tcp::SYN_SENT } else { 0 };
        let entry = Entry::new(key, flags, st, c.now, c.t.gen32(), rule);
        if self.ct.insert(h, entry).is_none() {
            let (now, to) = (c.now, c.t.timeouts);
            let freed = self.ct.sweep(EVICT_SCAN, |e| state::expired(e, now, &to));
            if freed == 0 || self.ct.insert(h, entry).is_none() {
                return deny(CT_FULL, trace::CT_FULL, self.ct.capacity() as u64);
            }
        }
        accept(trace::NEW, rule_value(c.t, rule))
    }

    /// A packet that is not an ICMP error.
    #[inline]
    fn track(&mut self, c: &Ctx<'_>, ip: &Ip) -> Verdict {
        let tu = &ip.tuple;
        let (key, src_lo) = CtKey::new(
            c.zone,
            c.port,
            tu.proto,
            ip.v6,
            (tu.src, tu.sport),
            (tu.dst, tu.dport),
        );
        // The warm-up hashed this packet's key already (the hash is a
        // function of the key alone: reuse it only for the same key).
        let h = match c.warm {
            Some((k, h)) if k == key => h,
            _ => self.ct.hash(&key),
        };
        let mut pre = None;
        if let Some(i) = self.ct.find(&key, h) {
            match self.established(c, i, ip, src_lo) {
                Found::Done(v) => return v,
                Found::New(note, value) => pre = Some((note, value)),
            }
        }
        let mut v = self.new_connection(c, ip, &key, h, src_lo);
        v.pre = pre;
        v
    }

    /// An ICMP error quoting `inner`.
    fn related(&mut self, c: &Ctx<'_>, v6: bool, ty: u8, inner: &Tuple) -> Verdict {
        let (key, _) = CtKey::new(
            c.zone,
            c.port,
            inner.proto,
            v6,
            (inner.src, inner.sport),
            (inner.dst, inner.dport),
        );
        let h = self.ct.hash(&key);
        let not_related = |pre| Verdict {
            pre,
            ..deny(RELATED_NOT_TRACKED, trace::NOT_RELATED, u64::from(ty))
        };
        let Some(i) = self.ct.find(&key, h) else {
            return not_related(None);
        };
        match self.live(c, i) {
            Ok(pre) => Verdict {
                pre,
                ..accept(trace::RELATED, u64::from(ty))
            },
            Err(note) => not_related(Some(note)),
        }
    }

    /// The fragment-cache key and slot of a fragment of `ip`.
    fn frag_slot(&self, c: &Ctx<'_>, ip: &Ip) -> (CtKey, usize) {
        let (tu, ident) = (&ip.tuple, ip.frag_ident);
        let key = CtKey {
            lo: tu.src,
            hi: tu.dst,
            zone: c.zone,
            port: c.port,
            lo_port: (ident >> 16) as u16,
            hi_port: ident as u16,
            proto: tu.proto,
            v6: ip.v6,
        };
        let slot = self.ct.hash(&key) as usize & (FRAG_SLOTS - 1);
        (key, slot)
    }

    fn remember_fragment(&mut self, c: &Ctx<'_>, ip: &Ip) {
        let (key, slot) = self.frag_slot(c, ip);
        if let Some(s) = self.frags.get_mut(slot) {
            *s = FragSlot {
                key,
                until: c.now.saturating_add(c.t.timeouts.fragment),
            };
        }
    }

    fn later_fragment(&self, c: &Ctx<'_>, ip: &Ip) -> Verdict {
        let (key, slot) = self.frag_slot(c, ip);
        let ident = ip.frag_ident;
        match self.frags.get(slot) {
            Some(s) if s.key == key && c.now <= s.until => {
                accept(trace::FRAGMENT_OK, u64::from(ident))
            }
            _ => deny(FRAGMENT, trace::FRAGMENT, u64::from(ident)),
        }
    }

    /// Decides one packet.
    #[inline]
    pub(crate) fn decide(
        &mut self,
        t: &SgTables,
        ingress: bool,
        (zone, port_key): (u32, u32),
        data: &[u8],
        now: u64,
        warm: Option<(CtKey, u64)>,
    ) -> Verdict {
        let key = u64::from(port_key);
        let Some(port) = t.port(port_key) else {
            return deny(UNKNOWN_PORT, trace::UNKNOWN_PORT, key);
        };
        if !port.secured {
            return accept(trace::BYPASS, key);
        }
        let mut ip = Ip::default();
        match flow::parse(data, &mut ip) {
            Err(note) => return deny(MALFORMED, note, 0),
            Ok(Frame::Arp) => return accept(trace::ARP, key),
            Ok(Frame::NotIp(et)) => return deny(NOT_IP, trace::NOT_IP, u64::from(et)),
            Ok(Frame::Ip) => {}
        }
        if let Some(v) = service(&ip, ingress) {
            return accept(trace::SERVICE, v);
        }
        let Some(set) = port.ruleset.and_then(|s| t.rulesets.get(s as usize)) else {
            return deny(NO_RULE, trace::NO_GROUPS, key);
        };
        let c = Ctx {
            t,
            set,
            ingress,
            zone,
            port: port_key,
            now,
            warm,
        };
        let v = match (ip.frag, ip.l4) {
            (Frag::Later, _) => return self.later_fragment(&c, &ip),
            (_, L4::IcmpError) => self.related(&c, ip.v6, ip.icmp_type, &ip.inner),
            _ => self.track(&c, &ip),
        };
        if ip.frag == Frag::First && v.drop.is_none() {
            self.remember_fragment(&c, &ip);
        }
        v
    }
}

/// A rule as trace values show it: `group key << 32 | index`.
fn rule_value(t: &SgTables, rule: u32) -> u64 {
    let group = t.rules.get(rule as usize).map_or(0, |r| r.group_key);
    u64::from(group) << 32 | u64::from(rule)
}

/// The `sg` stage of one worker: owns that worker's conntrack table.
#[derive(Debug)]
pub struct SgStage {
    regs: Regs,
    tables: Arc<RcuCell<SgTables>>,
    /// Generation of the tables last seen.
    generation: u64,
    tracker: Tracker,
    /// The warm-up's result per packet of the batch, allocated once.
    warm: Vec<Warm>,
}

impl SgStage {
    pub(crate) fn new(regs: Regs, tables: Arc<RcuCell<SgTables>>) -> Self {
        SgStage {
            regs,
            tables,
            generation: 0,
            tracker: Tracker {
                ct: Conntrack::with_capacity(0),
                frags: vec![FragSlot::default(); FRAG_SLOTS].into_boxed_slice(),
            },
            warm: Vec::with_capacity(WARM_MAX),
        }
    }

    /// Connections tracked by this worker.
    pub fn tracked(&self) -> usize {
        self.tracker.ct.len()
    }
}

/// Follows new tables: sizes conntrack to their capacity, carrying the
/// tracked connections over (they are checked again on their next packet,
/// as for any new tables). Allocates, but only when the capacity changed.
#[cold]
fn resync(tracker: &mut Tracker, t: &SgTables) {
    if tracker.ct.capacity() != t.capacity {
        let mut ct = Conntrack::with_capacity(t.capacity);
        for e in tracker.ct.iter() {
            let h = ct.hash(&e.key());
            if ct.insert(h, *e).is_none() {
                break;
            }
        }
        tracker.ct = ct;
    }
}

/// Brings the conntrack lines a batch's lookups will touch into the cache
/// before deciding any packet: the hashes of all (plain IPv4 TCP/UDP)
/// packets of tracked ports first, then all their home slots, then the
/// entries those slots name. Each loop's loads are independent of one
/// another, so the CPU overlaps their misses (a table of 100k connections
/// misses the caches and the TLB on nearly every lookup); a packet's own
/// lookup then finds its lines in the cache. Decides nothing: a packet
/// this skips, or a slot that is not its entry's, only loses the warm-up.
#[inline(never)]
fn warm_up(
    ct: &Conntrack,
    t: &SgTables,
    net: RegSlot,
    port_reg: RegSlot,
    pkts: &[df_dp::Packet],
    warm: &mut Vec<Warm>,
) {
    for pkt in pkts.iter().take(WARM_MAX) {
        let port = pkt.reg(port_reg);
        let tuple = if t
            .port(port)
            .is_some_and(|p| p.secured && p.ruleset.is_some())
        {
            flow::fast_v4_tuple(pkt.data())
        } else {
            None
        };
        let Some(tu) = tuple else {
            warm.push(Warm::default());
            continue;
        };
        let (key, _) = CtKey::new(
            pkt.reg(net),
            port,
            tu.proto,
            false,
            (tu.src, tu.sport),
            (tu.dst, tu.dport),
        );
        warm.push(Warm {
            key,
            hash: ct.hash(&key),
            slot: 0,
            valid: true,
        });
    }
    for w in warm.iter_mut().filter(|w| w.valid) {
        w.slot = ct.home_slot(w.hash);
    }
    let mut acc = 0u64;
    for w in warm.iter().filter(|w| w.valid) {
        acc ^= ct.touch_entry(w.hash, w.slot);
    }
    std::hint::black_box(acc);
}

/// What the warm-up knows of one packet of the batch.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Warm {
    key: CtKey,
    hash: u64,
    slot: u64,
    /// `false`: not warmed (not a plain IPv4 TCP/UDP packet of a tracked port).
    valid: bool,
}

impl Stage for SgStage {
    fn process(&mut self, entry: EntryId, batch: &mut Batch, io: &mut StageIo<'_>) {
        let SgStage {
            regs,
            tables,
            generation,
            tracker,
            warm,
        } = self;
        let t = tables.read(io.rcu());
        if *generation != t.generation {
            resync(tracker, t);
            *generation = t.generation;
        }
        let ingress = entry != EGRESS;
        let (exit, port_reg) = if ingress {
            (INGRESS_ACCEPT, regs.dst)
        } else {
            (EGRESS_ACCEPT, regs.src)
        };
        // Every packet's port without port security (e.g. remote or
        // provider ports on ingress): all pass untracked, in one go.
        if !io.tracing()
            && batch
                .as_slice()
                .iter()
                .all(|p| t.port(p.reg(port_reg)).is_some_and(|port| !port.secured))
        {
            return io.send_all(exit, batch);
        }
        let now = io.now();
        warm.clear();
        if tracker.ct.len() >= WARM_MIN {
            warm_up(&tracker.ct, t, regs.net, port_reg, batch.as_slice(), warm);
        }
        for (i, pkt) in batch.drain().enumerate() {
            let w = warm.get(i).filter(|w| w.valid).map(|w| (w.key, w.hash));
            let v = tracker.decide(
                t,
                ingress,
                (pkt.reg(regs.net), pkt.reg(port_reg)),
                pkt.data(),
                now,
                w,
            );
            if let Some((note, value)) = v.pre {
                io.note(&pkt, note, value);
            }
            io.note(&pkt, v.note, v.value);
            match v.drop {
                None => io.send(exit, pkt),
                Some(reason) => io.drop(pkt, reason),
            }
        }
        let to = t.timeouts;
        tracker
            .ct
            .sweep(SWEEP_PER_BATCH, |e| state::expired(e, now, &to));
    }

    /// A known source port without port security: its packets leave
    /// untracked (as `decide` passes them).
    fn route(&self, entry: EntryId, known: &mut Known, rcu: &RcuReader) -> Option<Route> {
        if entry != EGRESS {
            return None;
        }
        let port = self.tables.read(rcu).port(known.reg(self.regs.src)?)?;
        (!port.secured).then_some(Route::Exit(EGRESS_ACCEPT))
    }
}

#[cfg(test)]
mod tests;
