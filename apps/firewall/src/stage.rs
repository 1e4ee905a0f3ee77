//! `firewall`'s hot path: per packet one port lookup, one parse, one
//! first-match scan of a short policy, and at most two connection-cache
//! probes.
//!
//! Per packet at `in.egress` (the router port of `(router_key,
//! network_key)` before routing: the group's egress policy) or
//! `in.ingress` (the same after routing, `network_key` now the destination
//! network: the ingress policy):
//!
//! 1. No router port for `(router, network)` in the config, or a port
//!    without a group: passes (FWaaS: an unbound port is not filtered).
//! 2. Not IP: passes unchanged (ARP never crosses a router; `l3` drops
//!    what it cannot route). A bad IP or L4 header: `malformed`.
//! 3. The group has no policy for the direction: accepted. Otherwise the
//!    first enabled rule of the packet's IP version that matches decides;
//!    none: the implicit deny.
//! 4. Accepted packets are cached as (port, direction, 5-tuple); a first
//!    fragment also as (port, direction, datagram id).
//! 5. A packet the policy denies or rejects still passes when it answers
//!    a flow accepted in the other direction at the same port: its
//!    reversed tuple is cached (a reply), the flow an ICMP error quotes is
//!    cached (related), or it is a later fragment of a datagram whose
//!    first fragment passed. That is the whole of the statefulness: no TCP
//!    state machine, per worker (replies must reach the same worker, as
//!    with symmetric RSS), entries forgotten after `idle_secs` without a
//!    packet or when their set is full (least recently seen first).
//! 6. Otherwise deny: `denied`; reject: `rejected` (or
//!    `reject-rate-limited`) and a reply (see `reject.rs`).
//!
//! **Where reject replies go.** At `in.egress` the packet has not been
//! routed: the reply, with swapped addresses, goes straight back to the
//! sender by `out.reject-reply` with `destination_port_key :=
//! source_port_key`. At `in.ingress` the packet was routed already and
//! its Ethernet addresses are those of the destination network, so the
//! reply is built as the destination would send it (from the destination
//! port's MAC to the router's) and leaves by `out.reject-route` with
//! `source_port_key := destination_port_key`, `network_key` and
//! `router_key` unchanged: wired to `l3.in.route`, the router takes it
//! back to the sender like any routed packet (it then crosses the
//! sender-side port's ingress policy, which passes it as the reply of the
//! flow that port accepted).
//!
//! **Policy changes.** A cache entry remembers the tables generation it
//! was accepted under. A reply that finds an entry from older tables
//! re-checks the entry's flow against the current policy of the port and
//! direction it was accepted in: still accepted, the entry is renewed;
//! not, it is forgotten and the reply is denied (fragment entries are
//! simply forgotten). So removing an allow rule cuts its flows' replies at
//! the first reply after the publish.
//!
//! Per batch: one tables snapshot. Nothing here allocates, except when new
//! tables change the cache capacity or the port set (once per publish).

use std::sync::Arc;

use df_dp::stage::{Known, Route};
use df_dp::{Batch, EntryId, ExitId, Packet, RcuCell, RcuReader, RegSlot, Stage, StageIo};

use crate::config::RuleAction;
use crate::counters::{DENIED, MALFORMED, REJECTED, REJECT_RATE_LIMITED};
use crate::ct::{ConnCache, CtKey, Insert};
use crate::flow::{self, Flow, Frag, Frame, L4};
use crate::limit::Limiter;
use crate::reject::{self, Reply};
use crate::rules::{has_ports, Decision, Query};
use crate::tables::{FirewallTables, Group, Port, EGRESS, INGRESS};
use crate::trace;

/// `in.egress`.
pub(crate) const EGRESS_IN: EntryId = EntryId(0);
/// `in.ingress`.
pub(crate) const INGRESS_IN: EntryId = EntryId(1);
/// `out.egress-accept`.
pub(crate) const EGRESS_ACCEPT: ExitId = ExitId(0);
/// `out.ingress-accept`.
pub(crate) const INGRESS_ACCEPT: ExitId = ExitId(1);
/// `out.reject-reply`.
pub(crate) const REJECT_REPLY: ExitId = ExitId(2);
/// `out.reject-route`.
pub(crate) const REJECT_ROUTE: ExitId = ExitId(3);

#[derive(Debug, Clone, Copy)]
pub(crate) struct Regs {
    pub(crate) src: RegSlot,
    pub(crate) dst: RegSlot,
    pub(crate) net: RegSlot,
    pub(crate) router: RegSlot,
}

/// Per-worker state that follows the tables.
#[derive(Debug, Default)]
struct State {
    generation: u64,
    ct: ConnCache,
    limiter: Limiter,
}

impl State {
    /// Follows new tables: resize the cache if its capacity changed, carry
    /// the rate-limit buckets over.
    #[cold]
    fn resync(&mut self, t: &FirewallTables) {
        if self.ct.capacity() != t.ct_capacity {
            self.ct = ConnCache::new(t.ct_capacity);
        }
        self.limiter.resync(t);
        self.generation = t.generation;
    }
}

/// The `firewall` stage of one worker.
#[derive(Debug)]
pub struct FirewallStage {
    regs: Regs,
    tables: Arc<RcuCell<FirewallTables>>,
    state: State,
}

impl FirewallStage {
    pub(crate) fn new(regs: Regs, tables: Arc<RcuCell<FirewallTables>>) -> Self {
        FirewallStage {
            regs,
            tables,
            state: State::default(),
        }
    }
}

impl Stage for FirewallStage {
    fn process(&mut self, entry: EntryId, batch: &mut Batch, io: &mut StageIo<'_>) {
        let FirewallStage {
            regs,
            tables,
            state,
        } = self;
        let t = tables.read(io.rcu());
        if state.generation != t.generation {
            state.resync(t);
        }
        debug_assert!(entry == EGRESS_IN || entry == INGRESS_IN);
        let dir = if entry == INGRESS_IN { INGRESS } else { EGRESS };
        if t.groups.is_empty() {
            // No firewall group anywhere (the common case): everything
            // passes without a port lookup.
            let exit = accept_exit(dir);
            for pkt in batch.drain() {
                io.note(&pkt, trace::NO_GROUPS, 0);
                io.send(exit, pkt);
            }
            return;
        }
        let mut f = Flow::default();
        for pkt in batch.drain() {
            one(*regs, t, state, dir, &mut f, pkt, io);
        }
    }

    /// With no firewall group anywhere, every packet passes.
    fn route(&self, entry: EntryId, _known: &mut Known, rcu: &RcuReader) -> Option<Route> {
        let dir = if entry == INGRESS_IN { INGRESS } else { EGRESS };
        self.tables
            .read(rcu)
            .groups
            .is_empty()
            .then_some(Route::Exit(accept_exit(dir)))
    }
}

/// The exit accepted packets of `dir` leave by.
#[inline]
fn accept_exit(dir: usize) -> ExitId {
    if dir == INGRESS {
        INGRESS_ACCEPT
    } else {
        EGRESS_ACCEPT
    }
}

/// What one packet is checked in.
struct Ctx<'a> {
    t: &'a FirewallTables,
    dir: usize,
    pidx: usize,
    port: &'a Port,
    group: &'a Group,
    now: u64,
}

impl Ctx<'_> {
    #[inline]
    fn gen(&self) -> u32 {
        self.t.generation as u32
    }

    #[inline]
    fn ingress(&self) -> bool {
        self.dir == INGRESS
    }
}

fn one(
    regs: Regs,
    t: &FirewallTables,
    st: &mut State,
    dir: usize,
    f: &mut Flow,
    pkt: Packet,
    io: &mut StageIo<'_>,
) {
    let exit = accept_exit(dir);
    let (router, net) = (pkt.reg(regs.router), pkt.reg(regs.net));
    let Some((pidx, port)) = t.port(router, net) else {
        io.note(&pkt, trace::UNKNOWN_PORT, net.into());
        return io.send(exit, pkt);
    };
    io.note(&pkt, trace::PORT, port.port_key.into());
    let Some(group) = port.group.and_then(|g| t.groups.get(g as usize)) else {
        io.note(&pkt, trace::NO_GROUP, port.port_key.into());
        return io.send(exit, pkt);
    };
    match flow::parse(pkt.data(), f) {
        Err(why) => {
            io.note(&pkt, why, 0);
            return io.drop(pkt, MALFORMED);
        }
        Ok(Frame::NotIp(ethertype)) => {
            io.note(&pkt, trace::NOT_IP, ethertype.into());
            return io.send(exit, pkt);
        }
        Ok(Frame::Ip) => {}
    }
    let c = Ctx {
        t,
        dir,
        pidx,
        port,
        group,
        now: io.now(),
    };
    let action = match &group.policies[dir] {
        None => {
            io.note(&pkt, trace::NO_POLICY, group.key.into());
            RuleAction::Allow
        }
        Some(p) => match p.decide(f.tuple.v6, &f.query()) {
            Decision::Rule(action, pos) => {
                let note = match action {
                    RuleAction::Allow => trace::RULE_ALLOW,
                    RuleAction::Deny => trace::RULE_DENY,
                    RuleAction::Reject => trace::RULE_REJECT,
                };
                io.note(&pkt, note, pos.into());
                action
            }
            Decision::DefaultDeny => {
                io.note(&pkt, trace::DEFAULT_DENY, group.key.into());
                RuleAction::Deny
            }
        },
    };
    if action == RuleAction::Allow {
        remember(&c, st, f, &pkt, io);
        return io.send(exit, pkt);
    }
    if answers(&c, st, f, &pkt, io) {
        return io.send(exit, pkt);
    }
    if action == RuleAction::Deny {
        return io.drop(pkt, DENIED);
    }
    reject_packet(regs, &c, st, f, pkt, io);
}

/// Caches an accepted packet's flow (and datagram, for a first fragment).
fn remember(c: &Ctx<'_>, st: &mut State, f: &Flow, pkt: &Packet, io: &mut StageIo<'_>) {
    let (port, ingress, idle) = (c.port.port_key, c.ingress(), c.t.ct_idle);
    if f.frag == Frag::Later {
        // Nothing to key a flow on; refresh its datagram if cached.
        let k = CtKey::fragment(port, ingress, f.tuple, f.frag_ident);
        if let Some(i) = st.ct.find(&k, c.now, idle) {
            st.ct.touch(i, c.now, c.gen());
        }
        return;
    }
    if f.l4 != L4::IcmpError {
        let k = CtKey::flow(port, ingress, f.tuple);
        if st.ct.insert(&k, c.now, idle, c.gen()) == Insert::Evicted {
            io.note(pkt, trace::CT_EVICTED, port.into());
        }
    }
    if f.frag == Frag::First {
        let k = CtKey::fragment(port, ingress, f.tuple, f.frag_ident);
        if st.ct.insert(&k, c.now, idle, c.gen()) == Insert::Evicted {
            io.note(pkt, trace::CT_EVICTED, port.into());
        }
    }
}

/// True when a packet the policy refuses answers a cached flow (see the
/// module doc, step 5); notes which way.
fn answers(c: &Ctx<'_>, st: &mut State, f: &Flow, pkt: &Packet, io: &mut StageIo<'_>) -> bool {
    let port = c.port.port_key;
    let (key, note, value) = match (f.frag, f.l4) {
        (Frag::Later, _) => (
            CtKey::fragment(port, c.ingress(), f.tuple, f.frag_ident),
            trace::CT_FRAGMENT,
            u64::from(f.frag_ident),
        ),
        (_, L4::IcmpError) => match f.inner {
            // The error goes back to the quoted packet's sender.
            Some(inner) if inner.src == f.tuple.dst => (
                CtKey::flow(port, !c.ingress(), inner),
                trace::CT_RELATED,
                u64::from(port),
            ),
            _ => return false,
        },
        _ => (
            CtKey::flow(port, !c.ingress(), f.tuple.reversed()),
            trace::CT_REPLY,
            u64::from(port),
        ),
    };
    let Some(i) = st.ct.find(&key, c.now, c.t.ct_idle) else {
        return false;
    };
    if st.ct.get(i).is_some_and(|e| e.gen != c.gen()) && !still_allowed(c, &key) {
        st.ct.remove(i);
        io.note(pkt, trace::CT_STALE, port.into());
        return false;
    }
    st.ct.touch(i, c.now, c.gen());
    io.note(pkt, note, value);
    if f.frag == Frag::First {
        // Its later fragments follow it.
        remember(c, st, f, pkt, io);
    }
    true
}

/// Whether the current policy still accepts the cached flow `k` in the
/// direction it was accepted in (the port is the packet's, so the same).
#[cold]
fn still_allowed(c: &Ctx<'_>, k: &CtKey) -> bool {
    if k.frag {
        return false;
    }
    let dir = if k.ingress { INGRESS } else { EGRESS };
    let Some(p) = &c.group.policies[dir] else {
        return true;
    };
    let t = &k.tuple;
    let q = Query {
        proto: t.proto,
        src: t.src,
        dst: t.dst,
        sport: t.sport,
        dport: t.dport,
        ports: has_ports(t.proto),
    };
    matches!(p.decide(t.v6, &q), Decision::Rule(RuleAction::Allow, _))
}

/// Drops a packet a reject rule refused and sends its reply.
fn reject_packet(
    regs: Regs,
    c: &Ctx<'_>,
    st: &mut State,
    f: &Flow,
    pkt: Packet,
    io: &mut StageIo<'_>,
) {
    if !reject::replyable(f) {
        io.note(&pkt, trace::REPLY_SUPPRESSED, f.tuple.proto.into());
        return io.drop(pkt, REJECTED);
    }
    if !st.limiter.admit(c.pidx, c.now, c.t.reject_limit) {
        io.note(&pkt, trace::REPLY_RATE_LIMITED, c.port.port_key.into());
        return io.drop(pkt, REJECT_RATE_LIMITED);
    }
    let Some(mut r) = io.alloc() else {
        io.note(&pkt, trace::REPLY_NO_BUFFER, 0);
        return io.drop(pkt, REJECTED);
    };
    let Some(reply) = reject::build(pkt.data(), f, &mut r) else {
        // The buffer cannot hold the reply (an mbuf far smaller than the
        // default data room): as a pool shortage. `io.drop` is the only way
        // to hand the buffer back, so it is counted under the same reason.
        io.note(&pkt, trace::REPLY_NO_BUFFER, 0);
        io.drop(r, REJECTED);
        return io.drop(pkt, REJECTED);
    };
    *r.meta_mut() = *pkt.meta();
    for (i, v) in pkt.regs().iter().enumerate() {
        if let Some(s) = RegSlot::new(i) {
            r.set_reg(s, *v);
        }
    }
    let (note, value) = match reply {
        Reply::Rst => (trace::REPLY_RST, u64::from(f.tuple.sport)),
        Reply::Icmp(tc) => (trace::REPLY_ICMP, u64::from(tc)),
    };
    io.note(&pkt, note, value);
    io.note(&r, note, value);
    let exit = if c.ingress() {
        r.set_reg(regs.src, pkt.reg(regs.dst));
        REJECT_ROUTE
    } else {
        r.set_reg(regs.dst, pkt.reg(regs.src));
        REJECT_REPLY
    };
    io.send(exit, r);
    io.drop(pkt, REJECTED);
}

#[cfg(test)]
mod tests;
