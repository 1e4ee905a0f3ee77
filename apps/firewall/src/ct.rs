//! The connection cache of one worker: flows the firewall accepted, so
//! that their replies pass a policy that would deny them.
//!
//! Why this shape: FWaaS v2 is stateful in Neutron (iptables'
//! `ESTABLISHED,RELATED -j ACCEPT` at the head of each chain), but the
//! firewall needs far less than a conntrack: no TCP state machine, no NAT,
//! only "was the reverse of this flow accepted here lately". So this is a
//! cache, not a table that must hold everything:
//!
//! * **Set-associative**: `capacity` entries in sets of [`WAYS`], one
//!   64-byte entry per cache line; a lookup hashes the key once and
//!   compares at most four entries. The set count is a power of two.
//! * **LRU-ish**: an insert into a full set replaces an expired entry if
//!   there is one, else the least recently seen one (the trace says so).
//!   Nothing is refused and nothing grows: the table is allocated once per
//!   capacity (when the stage sees tables with a new capacity), never on
//!   the packet path.
//! * **Expiry** is lazy: an entry idle longer than the configured timeout
//!   (TSC cycles from `io.now()`) is treated as empty by lookups.
//! * **Hashing** is foldhash keyed with a per-cache random seed (hashbrown's
//!   default builder), so a tenant cannot aim its flows at one set.
//!
//! A key is (router port key, direction the flow was accepted in, tuple as
//! sent), or for a fragmented datagram (port, direction, addresses,
//! protocol, identification) so its later fragments follow its first.
//! Each entry keeps the low 32 bits of the tables generation it was
//! accepted under; the stage re-checks an entry from older tables against
//! the current policy (see `stage.rs`).

use std::hash::{BuildHasher, Hash, Hasher};

use hashbrown::DefaultHashBuilder;

use crate::flow::Tuple;

/// Entries per set.
pub(crate) const WAYS: usize = 4;

/// Entry flag: in use.
const USED: u8 = 0x80;
/// Entry flag: IPv6.
const V6: u8 = 0x01;
/// Entry flag: accepted in the ingress direction (else egress).
const INGRESS: u8 = 0x02;
/// Entry flag: a fragmented datagram (ports hold the identification).
const FRAG: u8 = 0x04;

/// What a cache entry is found by.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct CtKey {
    /// The router port key.
    pub(crate) port: u32,
    /// Accepted in the ingress direction.
    pub(crate) ingress: bool,
    /// A fragment key (see [`CtKey::fragment`]).
    pub(crate) frag: bool,
    pub(crate) tuple: Tuple,
}

impl Hash for CtKey {
    #[inline]
    fn hash<H: Hasher>(&self, h: &mut H) {
        let t = &self.tuple;
        h.write_u128(t.src);
        h.write_u128(t.dst);
        h.write_u64(u64::from(self.port) << 32 | u64::from(t.sport) << 16 | u64::from(t.dport));
        h.write_u32(u32::from(t.proto) << 8 | u32::from(self.flags()));
    }
}

impl CtKey {
    /// The key of a flow.
    #[inline]
    pub(crate) fn flow(port: u32, ingress: bool, tuple: Tuple) -> CtKey {
        CtKey {
            port,
            ingress,
            frag: false,
            tuple,
        }
    }

    /// The key of a fragmented datagram of `tuple` with identification
    /// `ident`.
    #[inline]
    pub(crate) fn fragment(port: u32, ingress: bool, tuple: Tuple, ident: u32) -> CtKey {
        CtKey {
            port,
            ingress,
            frag: true,
            tuple: Tuple {
                sport: (ident >> 16) as u16,
                dport: ident as u16,
                ..tuple
            },
        }
    }

    #[inline]
    fn flags(&self) -> u8 {
        USED | if self.tuple.v6 { V6 } else { 0 }
            | if self.ingress { INGRESS } else { 0 }
            | if self.frag { FRAG } else { 0 }
    }
}

/// One cached flow: 64 bytes, one cache line.
#[repr(C, align(64))]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Entry {
    src: u128,
    dst: u128,
    /// TSC of the last packet.
    last: u64,
    port: u32,
    /// Low 32 bits of the tables generation it was accepted or re-checked
    /// under.
    pub(crate) gen: u32,
    sport: u16,
    dport: u16,
    proto: u8,
    /// `USED`, `V6`, `INGRESS`, `FRAG`.
    flags: u8,
}

const _: () = assert!(std::mem::size_of::<Entry>() == 64);

impl Entry {
    #[inline]
    fn is(&self, k: &CtKey) -> bool {
        let t = &k.tuple;
        self.src == t.src
            && self.dst == t.dst
            && self.port == k.port
            && self.sport == t.sport
            && self.dport == t.dport
            && self.proto == t.proto
            && self.flags == k.flags()
    }

    #[inline]
    fn live(&self, now: u64, idle: u64) -> bool {
        self.flags & USED != 0 && now.saturating_sub(self.last) <= idle
    }

    /// The key this entry holds.
    #[cfg(test)]
    pub(crate) fn key(&self) -> CtKey {
        CtKey {
            port: self.port,
            ingress: self.flags & INGRESS != 0,
            frag: self.flags & FRAG != 0,
            tuple: Tuple {
                v6: self.flags & V6 != 0,
                proto: self.proto,
                src: self.src,
                dst: self.dst,
                sport: self.sport,
                dport: self.dport,
            },
        }
    }
}

/// What an insert did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Insert {
    /// The flow was cached already: refreshed.
    Refreshed,
    /// Stored in a free or expired entry.
    Stored,
    /// Stored in place of the least recently seen live flow of its set.
    Evicted,
    /// The cache has no room at all (capacity 0: no tables yet).
    NoRoom,
}

/// One worker's connection cache.
#[derive(Debug)]
pub(crate) struct ConnCache {
    entries: Box<[Entry]>,
    /// Number of sets - 1.
    mask: usize,
    hasher: DefaultHashBuilder,
}

impl Default for ConnCache {
    fn default() -> Self {
        ConnCache::new(0)
    }
}

impl ConnCache {
    /// A cache of `capacity` entries (a power of two, at least [`WAYS`],
    /// or 0 for none). Allocates: call off the packet path or once per
    /// publish.
    pub(crate) fn new(capacity: usize) -> ConnCache {
        let sets = if capacity == 0 {
            0
        } else {
            (capacity / WAYS).max(1).next_power_of_two()
        };
        ConnCache {
            entries: vec![Entry::default(); sets * WAYS].into_boxed_slice(),
            mask: sets.saturating_sub(1),
            hasher: DefaultHashBuilder::default(),
        }
    }

    /// Number of entries.
    pub(crate) fn capacity(&self) -> usize {
        self.entries.len()
    }

    /// The first entry index of `k`'s set.
    #[inline]
    fn set(&self, k: &CtKey) -> usize {
        (self.hasher.hash_one(k) as usize & self.mask) * WAYS
    }

    /// The live entry holding `k`.
    #[inline]
    pub(crate) fn find(&self, k: &CtKey, now: u64, idle: u64) -> Option<usize> {
        if self.entries.is_empty() {
            return None;
        }
        let base = self.set(k);
        let set = self.entries.get(base..base + WAYS)?;
        set.iter()
            .position(|e| e.is(k) && e.live(now, idle))
            .map(|w| base + w)
    }

    /// Entry `i` (from [`find`](Self::find)).
    #[inline]
    pub(crate) fn get(&self, i: usize) -> Option<&Entry> {
        self.entries.get(i)
    }

    /// Marks entry `i` seen at `now`, under generation `gen`.
    #[inline]
    pub(crate) fn touch(&mut self, i: usize, now: u64, gen: u32) {
        if let Some(e) = self.entries.get_mut(i) {
            e.last = e.last.max(now);
            e.gen = gen;
        }
    }

    /// Forgets entry `i`.
    #[inline]
    pub(crate) fn remove(&mut self, i: usize) {
        if let Some(e) = self.entries.get_mut(i) {
            *e = Entry::default();
        }
    }

    /// Caches `k` (or refreshes it) as seen at `now` under `gen`.
    #[inline]
    pub(crate) fn insert(&mut self, k: &CtKey, now: u64, idle: u64, gen: u32) -> Insert {
        if self.entries.is_empty() {
            return Insert::NoRoom;
        }
        let base = self.set(k);
        let Some(set) = self.entries.get_mut(base..base + WAYS) else {
            return Insert::NoRoom;
        };
        let mut victim = 0;
        let mut victim_live = true;
        let mut oldest = u64::MAX;
        for (w, e) in set.iter_mut().enumerate() {
            if e.is(k) {
                e.last = e.last.max(now);
                e.gen = gen;
                return Insert::Refreshed;
            }
            let live = e.live(now, idle);
            // Prefer a free or expired way; among live ones the oldest.
            if victim_live && (!live || e.last < oldest) {
                victim = w;
                victim_live = live;
                oldest = e.last;
            }
        }
        let t = &k.tuple;
        if let Some(e) = set.get_mut(victim) {
            *e = Entry {
                src: t.src,
                dst: t.dst,
                last: now,
                port: k.port,
                gen,
                sport: t.sport,
                dport: t.dport,
                proto: t.proto,
                flags: k.flags(),
            };
        }
        if victim_live {
            Insert::Evicted
        } else {
            Insert::Stored
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(n: u16) -> CtKey {
        CtKey::flow(
            7,
            false,
            Tuple {
                v6: false,
                proto: 6,
                src: 1,
                dst: 2,
                sport: n,
                dport: 80,
            },
        )
    }

    #[test]
    fn insert_find_expire_evict() {
        let mut c = ConnCache::new(4);
        assert_eq!(c.capacity(), 4, "one set of four ways");
        let idle = 100;
        assert_eq!(c.insert(&key(1), 10, idle, 1), Insert::Stored);
        assert_eq!(c.insert(&key(1), 20, idle, 1), Insert::Refreshed);
        let i = c.find(&key(1), 30, idle).unwrap();
        assert_eq!(c.get(i).unwrap().key(), key(1));
        assert!(c.find(&key(1), 121, idle).is_none(), "idle too long");
        // Direction and fragment flag are part of the key.
        let mut other = key(1);
        other.ingress = true;
        assert!(c.find(&other, 30, idle).is_none());
        for n in 2..=4 {
            assert_eq!(
                c.insert(&key(n), 30 + u64::from(n), idle, 1),
                Insert::Stored
            );
        }
        // Full: key(1) (last seen at 20) is the least recently seen.
        assert_eq!(c.insert(&key(5), 50, idle, 1), Insert::Evicted);
        assert!(c.find(&key(1), 50, idle).is_none());
        assert!(c.find(&key(2), 50, idle).is_some());
        // An expired way is reused before a live one is evicted.
        assert_eq!(c.insert(&key(6), 133, idle, 1), Insert::Stored);
        let j = c.find(&key(6), 133, idle).unwrap();
        c.remove(j);
        assert!(c.find(&key(6), 133, idle).is_none());
        assert_eq!(
            ConnCache::new(0).insert(&key(1), 1, idle, 1),
            Insert::NoRoom
        );
    }
}
