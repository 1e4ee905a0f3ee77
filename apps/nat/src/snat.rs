//! The SNAT mapping table: (protocol class, external port) -> the
//! connection that holds the port, shared by every stage of one `nat`
//! vertex.
//!
//! Why this shape: a connection's first packet leaves from the worker of
//! its VM, its replies arrive on whichever worker polls the uplink, so the
//! table is shared and written on the hot path. It is a fixed array with one
//! slot per (class, port) in `port_min..=port_max`, TCP, UDP and ICMP echo
//! each owning the whole range: the reply's destination port indexes it
//! directly. Egress hashes the connection to a start port and probes up to
//! [`PROBES`] consecutive ports (wrapping inside the range): a live slot
//! holding this exact connection is reused, else the first free or expired
//! slot is claimed. No allocation, no lock, no reclamation.
//!
//! # Thread-safety
//! Each slot is a seqlock, as in the neighbour cache: readers take a
//! consistent snapshot (sequence even and unchanged around the field loads)
//! and never see one connection's address with another's port. The
//! sequence is also the claim word: a claimer moves it from the even value
//! its snapshot was taken under to odd with a compare-exchange, so of two
//! workers that saw the same free slot exactly one gets it (the other moves
//! on to the next port); it then writes the fields and publishes an even
//! sequence. A slot being written is skipped, never waited for.
//!
//! `last` (the last-used TSC) is refreshed by every packet of the
//! connection with a plain store outside the seqlock. A refresh racing with
//! a claimer that judged the slot expired is settled Dekker-style, all four
//! accesses `SeqCst`: the refresher stores `last` then re-checks the
//! sequence; the claimer CASes the sequence then re-reads `last`. At least
//! one of them sees the other: either the claimer sees a fresh `last` and
//! backs off (restoring the sequence; the fields never changed), or the
//! refresher sees the sequence moved and does not use the slot. So a packet
//! is never translated with a port that another connection is being given.
//!
//! Two workers racing on the *same new* connection may give it two ports
//! (the loser of the claim takes the next one); later packets find the first
//! in probe order, and the other expires unused. Flows of one VM port stay
//! on one worker in practice.

use std::net::Ipv4Addr;
use std::sync::atomic::{fence, AtomicU32, AtomicU64, Ordering};

use df_wire::EthernetAddress;

/// Ports an egress probe tries before the connection drops
/// `snat-exhausted`.
pub const PROBES: u32 = 32;

/// Attempts of a read that keeps overlapping writes before it skips the
/// slot.
const READ_TRIES: usize = 4;

/// The protocol classes; each owns the whole port range.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Class {
    /// TCP: ports.
    Tcp = 0,
    /// UDP: ports.
    Udp = 1,
    /// ICMP echo: the identifier is the port; no remote port.
    Icmp = 2,
}

impl Class {
    /// All classes, in table order.
    pub const ALL: [Class; 3] = [Class::Tcp, Class::Udp, Class::Icmp];

    /// The name `describe` shows.
    pub fn name(self) -> &'static str {
        match self {
            Class::Tcp => "tcp",
            Class::Udp => "udp",
            Class::Icmp => "icmp",
        }
    }
}

/// A connection as SNAT keys it: where it comes from (the VM side) and
/// where it goes. Network keys are non-zero.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Flow {
    /// The VM's address (the original source).
    pub vm_ip: Ipv4Addr,
    /// Its source port (ICMP: the echo identifier).
    pub vm_port: u16,
    /// The remote address (the original destination).
    pub remote_ip: Ipv4Addr,
    /// The remote port (ICMP: 0).
    pub remote_port: u16,
    /// The VM port's key.
    pub port_key: u32,
    /// The VM's network key.
    pub network_key: u32,
}

/// A slot's content: the connection and how to address its replies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Mapping {
    /// The connection.
    pub flow: Flow,
    /// The VM's MAC (the source MAC of its first packet).
    pub vm_mac: EthernetAddress,
    /// The router interface's MAC (the destination MAC of that packet).
    pub router_mac: EthernetAddress,
}

#[derive(Debug, Default)]
#[repr(align(64))]
struct Slot {
    /// Even: stable; odd: being claimed. Bumped by 2 per claim.
    seq: AtomicU32,
    vm_ip: AtomicU32,
    remote_ip: AtomicU32,
    /// VM port << 16 | remote port.
    ports: AtomicU32,
    port_key: AtomicU32,
    network_key: AtomicU32,
    vm_mac: AtomicU64,
    router_mac: AtomicU64,
    /// The last-used TSC; 0: never used.
    last: AtomicU64,
}

/// A consistent view of a slot, with the sequence it was read under.
#[derive(Debug, Clone, Copy)]
struct Snap {
    seq: u32,
    map: Mapping,
    last: u64,
}

/// Why no port: every probed port is held by a live connection (or being
/// claimed by another worker).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Exhausted;

/// The shared mapping table; see the module doc.
#[derive(Debug)]
pub struct SnatMap {
    slots: Box<[Slot]>,
    port_min: u16,
    /// Ports per class.
    ports: u32,
}

fn mac_word(mac: EthernetAddress) -> u64 {
    let b = mac.0;
    u64::from_be_bytes([0, 0, b[0], b[1], b[2], b[3], b[4], b[5]])
}

fn word_mac(w: u64) -> EthernetAddress {
    let b = w.to_be_bytes();
    EthernetAddress([b[2], b[3], b[4], b[5], b[6], b[7]])
}

/// True when a slot last used at `last` is live at `now`. A `last` after
/// `now` is live: another worker refreshed it after this one sampled its
/// clock (each batch reads the TSC once).
#[inline]
fn live(last: u64, now: u64, timeout: u64) -> bool {
    last != 0 && now.saturating_sub(last) <= timeout
}

impl SnatMap {
    /// A table for `port_min..=port_max` (`port_min <= port_max`, checked by
    /// the table build; swapped here if not).
    pub fn new(port_min: u16, port_max: u16) -> SnatMap {
        let (lo, hi) = (port_min.min(port_max), port_min.max(port_max));
        let ports = u32::from(hi) - u32::from(lo) + 1;
        SnatMap {
            slots: (0..ports as usize * Class::ALL.len())
                .map(|_| Slot::default())
                .collect(),
            port_min: lo,
            ports,
        }
    }

    /// The port range, inclusive.
    pub fn range(&self) -> (u16, u16) {
        (
            self.port_min,
            (u32::from(self.port_min) + self.ports - 1) as u16,
        )
    }

    #[inline]
    fn slot(&self, class: Class, off: u32) -> Option<&Slot> {
        self.slots
            .get(class as usize * self.ports as usize + off as usize)
    }

    /// The slot of external `port` of `class`; `None` outside the range.
    #[inline]
    fn port_slot(&self, class: Class, port: u16) -> Option<&Slot> {
        let o = u32::from(port).checked_sub(u32::from(self.port_min))?;
        if o >= self.ports {
            return None;
        }
        self.slot(class, o)
    }

    /// A consistent snapshot, or `None` while a claim overlaps.
    #[inline]
    fn read(s: &Slot) -> Option<Snap> {
        for _ in 0..READ_TRIES {
            let seq = s.seq.load(Ordering::Acquire);
            if seq & 1 == 1 {
                std::hint::spin_loop();
                continue;
            }
            let vm_ip = s.vm_ip.load(Ordering::Relaxed);
            let remote_ip = s.remote_ip.load(Ordering::Relaxed);
            let ports = s.ports.load(Ordering::Relaxed);
            let port_key = s.port_key.load(Ordering::Relaxed);
            let network_key = s.network_key.load(Ordering::Relaxed);
            let vm_mac = s.vm_mac.load(Ordering::Relaxed);
            let router_mac = s.router_mac.load(Ordering::Relaxed);
            let last = s.last.load(Ordering::Relaxed);
            fence(Ordering::Acquire);
            if s.seq.load(Ordering::Relaxed) == seq {
                return Some(Snap {
                    seq,
                    map: Mapping {
                        flow: Flow {
                            vm_ip: Ipv4Addr::from(vm_ip),
                            vm_port: (ports >> 16) as u16,
                            remote_ip: Ipv4Addr::from(remote_ip),
                            remote_port: ports as u16,
                            port_key,
                            network_key,
                        },
                        vm_mac: word_mac(vm_mac),
                        router_mac: word_mac(router_mac),
                    },
                    last,
                });
            }
        }
        None
    }

    /// Marks the slot read under `seq` used at `now`; false when it was
    /// claimed (or is being claimed) since: the snapshot must not be used.
    #[inline]
    fn refresh(s: &Slot, seq: u32, now: u64) -> bool {
        s.last.store(now.max(1), Ordering::SeqCst);
        s.seq.load(Ordering::SeqCst) == seq
    }

    /// Claims the slot read as `snap` (free or expired at `now`) for `m`;
    /// false when another worker claimed or refreshed it first.
    fn claim(s: &Slot, snap: &Snap, m: &Mapping, now: u64, timeout: u64) -> bool {
        let seq = snap.seq;
        if s.seq
            .compare_exchange(
                seq,
                seq.wrapping_add(1),
                Ordering::SeqCst,
                Ordering::Relaxed,
            )
            .is_err()
        {
            return false;
        }
        if live(s.last.load(Ordering::SeqCst), now, timeout) {
            // Refreshed since the snapshot: its connection keeps it. The
            // fields never changed, so the old sequence is valid again.
            s.seq.store(seq, Ordering::Release);
            return false;
        }
        // Orders the odd sequence before the field stores for readers.
        fence(Ordering::Release);
        let f = &m.flow;
        s.vm_ip.store(u32::from(f.vm_ip), Ordering::Relaxed);
        s.remote_ip.store(u32::from(f.remote_ip), Ordering::Relaxed);
        s.ports.store(
            (u32::from(f.vm_port) << 16) | u32::from(f.remote_port),
            Ordering::Relaxed,
        );
        s.port_key.store(f.port_key, Ordering::Relaxed);
        s.network_key.store(f.network_key, Ordering::Relaxed);
        s.vm_mac.store(mac_word(m.vm_mac), Ordering::Relaxed);
        s.router_mac
            .store(mac_word(m.router_mac), Ordering::Relaxed);
        s.last.store(now.max(1), Ordering::Relaxed);
        s.seq.store(seq.wrapping_add(2), Ordering::Release);
        true
    }

    /// The probe start of `f` (an offset into the range).
    #[inline]
    fn start(&self, class: Class, f: &Flow) -> u32 {
        let a = (u64::from(u32::from(f.vm_ip)) << 32) | u64::from(u32::from(f.remote_ip));
        let b = (u64::from(f.vm_port) << 48)
            | (u64::from(f.remote_port) << 32)
            | (u64::from(f.network_key) << 2)
            | class as u64;
        let mut h = a.wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ b;
        h = (h ^ (h >> 29)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        h ^= h >> 32;
        (h % u64::from(self.ports)) as u32
    }

    /// The external port of `m`'s connection: the one it holds (refreshed),
    /// else a free or expired one claimed for it. `timeout` is the class's
    /// idle timeout in TSC cycles.
    ///
    /// # Errors
    /// [`Exhausted`] when the [`PROBES`] ports from the connection's start
    /// are all live (or being claimed).
    #[inline]
    pub fn acquire(
        &self,
        class: Class,
        m: &Mapping,
        now: u64,
        timeout: u64,
    ) -> Result<u16, Exhausted> {
        let start = self.start(class, &m.flow);
        let probes = PROBES.min(self.ports);
        let off = |i: u32| {
            let o = start + i;
            if o >= self.ports {
                o - self.ports
            } else {
                o
            }
        };
        let port = |o: u32| (u32::from(self.port_min) + o) as u16;
        // First the connection's own port, anywhere in the probe window.
        for i in 0..probes {
            let o = off(i);
            let Some(s) = self.slot(class, o) else {
                continue;
            };
            // Twice: a claimer that backed off moved the sequence.
            for _ in 0..2 {
                match Self::read(s) {
                    Some(sn) if live(sn.last, now, timeout) && sn.map.flow == m.flow => {
                        if Self::refresh(s, sn.seq, now) {
                            return Ok(port(o));
                        }
                    }
                    _ => break,
                }
            }
        }
        // Then the first free or expired port.
        for i in 0..probes {
            let o = off(i);
            let Some(s) = self.slot(class, o) else {
                continue;
            };
            if let Some(sn) = Self::read(s) {
                if !live(sn.last, now, timeout) && Self::claim(s, &sn, m, now, timeout) {
                    return Ok(port(o));
                }
            }
        }
        Err(Exhausted)
    }

    /// The live connection holding external `port` of `class`, if `accept`
    /// takes it (the caller checks the remote end), refreshed; `None` when
    /// the port is outside the range, free, expired, being claimed, or not
    /// accepted (then it is not refreshed).
    #[inline]
    pub fn lookup(
        &self,
        class: Class,
        port: u16,
        accept: impl Fn(&Mapping) -> bool,
        now: u64,
        timeout: u64,
    ) -> Option<Mapping> {
        let s = self.port_slot(class, port)?;
        for _ in 0..2 {
            let sn = Self::read(s)?;
            if !live(sn.last, now, timeout) || !accept(&sn.map) {
                return None;
            }
            if Self::refresh(s, sn.seq, now) {
                return Some(sn.map);
            }
        }
        None
    }

    /// The external port `f`'s connection holds, if live at `now`, without
    /// refreshing it or claiming one: for an ICMP error a VM sends about a
    /// packet of the connection (an error keeps no mapping alive).
    #[inline]
    pub fn find(&self, class: Class, f: &Flow, now: u64, timeout: u64) -> Option<u16> {
        let start = self.start(class, f);
        for i in 0..PROBES.min(self.ports) {
            let o = start + i;
            let o = if o >= self.ports { o - self.ports } else { o };
            let Some(sn) = self.slot(class, o).and_then(Self::read) else {
                continue;
            };
            if live(sn.last, now, timeout) && sn.map.flow == *f {
                return Some((u32::from(self.port_min) + o) as u16);
            }
        }
        None
    }

    /// The live connection holding external `port` of `class`, if `accept`
    /// takes it, as [`SnatMap::lookup`] but without refreshing it: for an
    /// ICMP error about a packet of the connection.
    #[inline]
    pub fn peek(
        &self,
        class: Class,
        port: u16,
        accept: impl Fn(&Mapping) -> bool,
        now: u64,
        timeout: u64,
    ) -> Option<Mapping> {
        let sn = Self::read(self.port_slot(class, port)?)?;
        (live(sn.last, now, timeout) && accept(&sn.map)).then_some(sn.map)
    }

    /// The live mappings at `now` (`timeouts` per class, in TSC cycles):
    /// their count and the first `max` as (class, external port, mapping,
    /// idle TSC cycles). For `describe`; allocates.
    pub fn entries(
        &self,
        now: u64,
        timeouts: [u64; 3],
        max: usize,
    ) -> (usize, Vec<(Class, u16, Mapping, u64)>) {
        let mut n = 0;
        let mut v = Vec::new();
        for (ci, class) in Class::ALL.into_iter().enumerate() {
            let timeout = timeouts.get(ci).copied().unwrap_or(0);
            for o in 0..self.ports {
                let Some(sn) = self.slot(class, o).and_then(Self::read) else {
                    continue;
                };
                if live(sn.last, now, timeout) {
                    n += 1;
                    if v.len() < max {
                        let port = (u32::from(self.port_min) + o) as u16;
                        v.push((class, port, sn.map, now.saturating_sub(sn.last)));
                    }
                }
            }
        }
        (n, v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;
    use std::sync::Arc;

    fn flow(i: u32, t: u32) -> Mapping {
        Mapping {
            flow: Flow {
                vm_ip: Ipv4Addr::from(0x0a00_0000 | i),
                vm_port: 1000 + (i % 50_000) as u16,
                remote_ip: Ipv4Addr::new(8, 8, 8, 8),
                remote_port: 53,
                port_key: 100 + t,
                network_key: 1 + t,
            },
            vm_mac: EthernetAddress([2, 0, 0, 0, t as u8, i as u8]),
            router_mac: EthernetAddress([2, 0, 0, 0, 0, 1]),
        }
    }

    #[test]
    fn reuses_claims_expires_and_exhausts() {
        let m = SnatMap::new(1000, 1003);
        assert_eq!(m.range(), (1000, 1003));
        let (a, b) = (flow(1, 0), flow(2, 0));
        let pa = m.acquire(Class::Udp, &a, 10, 100).unwrap();
        assert_eq!(m.acquire(Class::Udp, &a, 20, 100), Ok(pa), "same flow");
        let pb = m.acquire(Class::Udp, &b, 20, 100).unwrap();
        assert_ne!(pa, pb);
        assert_eq!(m.lookup(Class::Udp, pa, |_| true, 30, 100), Some(a));
        assert_eq!(
            m.lookup(Class::Tcp, pa, |_| true, 30, 100),
            None,
            "per class"
        );
        assert_eq!(m.lookup(Class::Udp, 999, |_| true, 30, 100), None);
        assert_eq!(m.lookup(Class::Udp, 1004, |_| true, 30, 100), None);
        for i in 3..5 {
            m.acquire(Class::Udp, &flow(i, 0), 30, 100).unwrap();
        }
        assert_eq!(m.acquire(Class::Udp, &flow(9, 0), 30, 100), Err(Exhausted));
        // At 125, b (last used at 20) has expired; a and flows 3 and 4
        // (used at 30) live until 130.
        let (n, v) = m.entries(125, [0, 100, 0], 2);
        assert_eq!((n, v.len()), (3, 2));
        assert_eq!(v[0].0, Class::Udp);
        let pc = m.acquire(Class::Udp, &flow(9, 0), 125, 100).unwrap();
        assert_eq!(pc, pb, "b's port expired and went to the new flow");
        assert_eq!(
            m.lookup(Class::Udp, pb, |_| true, 125, 100),
            Some(flow(9, 0))
        );
        assert_eq!(
            m.lookup(Class::Udp, pa, |_| true, 131, 100),
            None,
            "a expired"
        );
    }

    #[test]
    fn find_and_peek_neither_claim_nor_refresh() {
        let m = SnatMap::new(1000, 1003);
        let a = flow(1, 0);
        assert_eq!(m.find(Class::Udp, &a.flow, 10, 100), None, "not claimed");
        assert_eq!(m.peek(Class::Udp, 1000, |_| true, 10, 100), None);
        let pa = m.acquire(Class::Udp, &a, 10, 100).unwrap();
        assert_eq!(m.find(Class::Udp, &a.flow, 50, 100), Some(pa));
        assert_eq!(m.find(Class::Tcp, &a.flow, 50, 100), None, "per class");
        let mut other = a.flow;
        other.port_key += 1;
        assert_eq!(m.find(Class::Udp, &other, 50, 100), None, "whole flow");
        assert_eq!(m.peek(Class::Udp, pa, |_| true, 60, 100), Some(a));
        assert_eq!(m.peek(Class::Udp, pa, |_| false, 60, 100), None);
        assert_eq!(m.peek(Class::Udp, 999, |_| true, 60, 100), None);
        assert_eq!(m.peek(Class::Udp, 1004, |_| true, 60, 100), None);
        // Neither refreshed it: last used at 10, gone after 110.
        assert_eq!(m.find(Class::Udp, &a.flow, 111, 100), None);
        assert_eq!(m.peek(Class::Udp, pa, |_| true, 111, 100), None);
    }

    #[test]
    fn a_claim_in_progress_is_skipped_and_a_refresh_wins_over_a_claim() {
        let m = SnatMap::new(7, 7);
        let a = flow(1, 0);
        let s = &m.slots[Class::Icmp as usize];
        s.seq.store(1, Ordering::Relaxed);
        assert_eq!(m.acquire(Class::Icmp, &a, 10, 100), Err(Exhausted));
        s.seq.store(2, Ordering::Relaxed);
        assert_eq!(m.acquire(Class::Icmp, &a, 10, 100), Ok(7));
        // A claimer judged the slot expired at 200; the flow's refresh at
        // 195 lands between its snapshot and its CAS: it backs off.
        let snap = SnatMap::read(s).unwrap();
        assert!(SnatMap::refresh(s, snap.seq, 195));
        assert!(!SnatMap::claim(s, &snap, &flow(2, 0), 200, 100));
        assert_eq!(m.lookup(Class::Icmp, 7, |_| true, 200, 100), Some(a));
        // A refresh of a snapshot taken before a claim fails.
        let old = SnatMap::read(s).unwrap();
        assert!(SnatMap::claim(s, &old, &flow(2, 0), 400, 100));
        assert!(!SnatMap::refresh(s, old.seq, 401));
        // Refreshed by a worker whose clock read is later than ours: live.
        assert!(SnatMap::refresh(s, SnatMap::read(s).unwrap().seq, 1_000));
        assert!(m.lookup(Class::Icmp, 7, |_| true, 900, 100).is_some());
        assert_eq!(
            m.acquire(Class::Icmp, &flow(3, 0), 900, 100),
            Err(Exhausted)
        );
    }

    /// Threads claim ports for distinct flows in a range too small for all
    /// of them; every port goes to at most one flow, and each slot holds the
    /// flow that was told it got the port.
    #[test]
    fn concurrent_claims_never_share_a_port() {
        for (lo, hi) in [(40000u16, 40063u16), (5, 5)] {
            let m = Arc::new(SnatMap::new(lo, hi));
            let threads: Vec<_> = (0..4u32)
                .map(|t| {
                    let m = m.clone();
                    std::thread::spawn(move || {
                        let mut got = Vec::new();
                        for i in 0..200u32 {
                            let f = flow(i, t);
                            if let Ok(p) = m.acquire(Class::Tcp, &f, 5, 1_000) {
                                got.push((p, f));
                            }
                            std::hint::spin_loop();
                        }
                        got
                    })
                })
                .collect();
            let mut owner: HashMap<u16, Mapping> = HashMap::new();
            for t in threads {
                for (p, f) in t.join().unwrap() {
                    assert!((lo..=hi).contains(&p));
                    if let Some(o) = owner.insert(p, f) {
                        panic!("port {p} given to {o:?} and {f:?}");
                    }
                }
            }
            assert!(!owner.is_empty());
            assert!(owner.len() <= usize::from(hi - lo) + 1);
            for (p, f) in &owner {
                assert_eq!(
                    m.lookup(Class::Tcp, *p, |_| true, 6, 1_000).as_ref(),
                    Some(f)
                );
            }
        }
    }
}
