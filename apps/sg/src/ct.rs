//! The connection-tracking table of one worker.
//!
//! Why this shape: the stage owns one per worker (no sharing, no locks),
//! sized once when the first tables arrive and never grown on the hot
//! path, with one hash lookup finding a connection from either direction.
//!
//! * **Entries** live in a slab, `Vec<Entry>` of exactly `capacity`
//!   64-byte, cache-line-aligned entries (key, state, last-seen TSC, the
//!   allowing rule and its tables generation). Free entries form an
//!   intrusive free list through their `rule` field, so taking and
//!   returning one is O(1) and never allocates.
//! * **Index**: open addressing with linear probing over `u64` slots, at
//!   least twice as many as entries (load <= 0.5, so probe runs stay short
//!   and an empty slot always ends a probe). A slot is `tag << 32 |
//!   entry + 1` (0 = empty), where `tag` is the high half of the key's
//!   hash; its low bits also give the slot's home position, so deletion
//!   can use backward-shift (no tombstones: a table that churns at full
//!   load never degrades and never needs a rehash).
//! * **Hashing** is foldhash keyed with a per-table random seed (hashbrown's
//!   default `RandomState`): a tenant cannot aim flows at one probe run.
//! * **Keys are normalised**: the two endpoints `(address, port)` are
//!   ordered, `lo` first, and the entry records whether the originator was
//!   `lo`; a packet's direction is then one compare. Addresses are 128-bit
//!   (IPv4-mapped for IPv4). The key also holds the zone (network key) and
//!   the protected port's key: see `stage.rs` for why.
//! * **Eviction**: expired entries are freed lazily when a lookup meets
//!   them, by an incremental sweep of a few slab entries per batch, and by
//!   a bounded sweep when an insert finds the table full. Nothing else is
//!   evicted: a full table refuses new connections.

use std::fmt;
use std::hash::{BuildHasher, Hash, Hasher};

use hashbrown::DefaultHashBuilder;

/// End of the free list.
const NIL: u32 = u32::MAX;

/// Entry flag: in use.
pub(crate) const USED: u8 = 0x80;
/// Entry flag: the originator is the key's `lo` endpoint.
pub(crate) const ORIG_LO: u8 = 0x01;
/// Entry flag: admitted by the port's ingress rules (else egress).
pub(crate) const INGRESS: u8 = 0x02;
/// Entry flag: TCP FIN seen from the originator.
pub(crate) const FIN_ORIG: u8 = 0x04;
/// Entry flag: TCP FIN seen from the responder.
pub(crate) const FIN_REPLY: u8 = 0x08;
/// Entry flag: a packet was seen in the reply direction.
pub(crate) const REPLIED: u8 = 0x10;
/// Entry flag: an IPv6 connection.
pub(crate) const V6: u8 = 0x20;

/// A normalised connection key.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct CtKey {
    pub(crate) lo: u128,
    pub(crate) hi: u128,
    pub(crate) zone: u32,
    pub(crate) port: u32,
    pub(crate) lo_port: u16,
    pub(crate) hi_port: u16,
    pub(crate) proto: u8,
    /// IPv6 (an IPv6 packet with IPv4-mapped addresses is not IPv4).
    pub(crate) v6: bool,
}

impl Hash for CtKey {
    #[inline]
    fn hash<H: Hasher>(&self, h: &mut H) {
        h.write_u128(self.lo);
        h.write_u128(self.hi);
        h.write_u64(u64::from(self.zone) << 32 | u64::from(self.port));
        h.write_u64(
            u64::from(self.lo_port) << 32
                | u64::from(self.hi_port) << 16
                | u64::from(self.proto) << 8
                | u64::from(self.v6),
        );
    }
}

impl CtKey {
    /// The key of a packet from `(src, sport)` to `(dst, dport)`, and
    /// whether the source is the key's `lo` endpoint.
    #[inline]
    pub(crate) fn new(
        zone: u32,
        port: u32,
        proto: u8,
        v6: bool,
        (src, sport): (u128, u16),
        (dst, dport): (u128, u16),
    ) -> (CtKey, bool) {
        let src_lo = (src, sport) <= (dst, dport);
        let ((lo, lo_port), (hi, hi_port)) = if src_lo {
            ((src, sport), (dst, dport))
        } else {
            ((dst, dport), (src, sport))
        };
        let key = CtKey {
            lo,
            hi,
            zone,
            port,
            lo_port,
            hi_port,
            proto,
            v6,
        };
        (key, src_lo)
    }
}

/// One tracked connection: 64 bytes, one cache line.
#[repr(C, align(64))]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Entry {
    pub(crate) lo: u128,
    pub(crate) hi: u128,
    /// TSC of the last packet.
    pub(crate) last_seen: u64,
    pub(crate) zone: u32,
    pub(crate) port: u32,
    /// Low 32 bits of the generation of the tables `rule` indexes.
    pub(crate) gen: u32,
    /// Dense index of the rule that allowed the connection; the next free
    /// entry while the entry is free.
    pub(crate) rule: u32,
    pub(crate) lo_port: u16,
    pub(crate) hi_port: u16,
    pub(crate) proto: u8,
    /// TCP state (`state::tcp`), 0 for other protocols.
    pub(crate) state: u8,
    /// `USED`, `ORIG_LO`, `INGRESS`, `FIN_*`, `REPLIED`.
    pub(crate) flags: u8,
    _pad: u8,
}

const _: () = assert!(std::mem::size_of::<Entry>() == 64);

impl Entry {
    /// A new in-use entry for `key`.
    pub(crate) fn new(key: &CtKey, flags: u8, state: u8, now: u64, gen: u32, rule: u32) -> Entry {
        Entry {
            lo: key.lo,
            hi: key.hi,
            last_seen: now,
            zone: key.zone,
            port: key.port,
            gen,
            rule,
            lo_port: key.lo_port,
            hi_port: key.hi_port,
            proto: key.proto,
            state,
            flags: flags | USED | if key.v6 { V6 } else { 0 },
            _pad: 0,
        }
    }

    /// The entry's key.
    pub(crate) fn key(&self) -> CtKey {
        CtKey {
            lo: self.lo,
            hi: self.hi,
            zone: self.zone,
            port: self.port,
            lo_port: self.lo_port,
            hi_port: self.hi_port,
            proto: self.proto,
            v6: self.flags & V6 != 0,
        }
    }

    #[inline]
    fn is(&self, k: &CtKey) -> bool {
        self.lo == k.lo
            && self.hi == k.hi
            && self.zone == k.zone
            && self.port == k.port
            && self.lo_port == k.lo_port
            && self.hi_port == k.hi_port
            && self.proto == k.proto
            && self.flags & (USED | V6) == USED | if k.v6 { V6 } else { 0 }
    }

    /// The originator's endpoint and the responder's (address, port).
    pub(crate) fn orig(&self) -> ((u128, u16), (u128, u16)) {
        let lo = (self.lo, self.lo_port);
        let hi = (self.hi, self.hi_port);
        if self.flags & ORIG_LO != 0 {
            (lo, hi)
        } else {
            (hi, lo)
        }
    }
}

/// One worker's connection table.
///
/// A slab of entries and an open-addressing index (linear probing, load at
/// most 0.5), both allocated once for the full capacity. The index is used
/// from its start only, as large as the connections need (at least
/// [`INITIAL_SLOTS`]): it doubles in place when half full, so a table sized
/// for 100k connections that holds 2k keeps its index in 32 KiB of cache
/// instead of spreading 2k lookups over 4 MiB. A doubling re-indexes every
/// connection (once per doubling: O(1) per insert over the table's life).
pub(crate) struct Conntrack {
    entries: Vec<Entry>,
    slots: Vec<u64>,
    /// Slots in use minus one (a power of two minus one).
    mask: usize,
    free: u32,
    len: usize,
    /// Entries below this index have been handed out at least once (the
    /// free list starts in index order and reuses freed entries first).
    high: usize,
    cursor: usize,
    hasher: DefaultHashBuilder,
}

/// Index slots a table starts with (32 KiB).
const INITIAL_SLOTS: usize = 4096;

impl fmt::Debug for Conntrack {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Conntrack")
            .field("capacity", &self.entries.len())
            .field("len", &self.len)
            .field("slots", &self.slots.len())
            .finish()
    }
}

impl Conntrack {
    /// A table for `capacity` connections (0: refuses every insert).
    /// Allocates everything it will ever use.
    pub(crate) fn with_capacity(capacity: usize) -> Conntrack {
        let capacity = capacity.min(NIL as usize);
        let nslots = (capacity * 2).next_power_of_two().max(8);
        let mut entries = vec![Entry::default(); capacity];
        for (i, e) in entries.iter_mut().enumerate() {
            e.rule = if i + 1 < capacity { i as u32 + 1 } else { NIL };
        }
        Conntrack {
            entries,
            slots: vec![0; nslots],
            mask: nslots.min(INITIAL_SLOTS) - 1,
            free: if capacity > 0 { 0 } else { NIL },
            len: 0,
            high: 0,
            cursor: 0,
            hasher: DefaultHashBuilder::default(),
        }
    }

    /// Connections it can hold.
    pub(crate) fn capacity(&self) -> usize {
        self.entries.len()
    }

    /// Connections it holds.
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// The keyed hash of `key`.
    #[inline]
    pub(crate) fn hash(&self, key: &CtKey) -> u64 {
        self.hasher.hash_one(key)
    }

    /// The entry of `key` (hash `h`).
    #[inline]
    pub(crate) fn find(&self, key: &CtKey, h: u64) -> Option<u32> {
        let tag = h >> 32;
        let mut pos = tag as usize & self.mask;
        loop {
            let s = *self.slots.get(pos)?;
            if s == 0 {
                return None;
            }
            if s >> 32 == tag {
                let i = (s as u32).wrapping_sub(1);
                if self.entries.get(i as usize).is_some_and(|e| e.is(key)) {
                    return Some(i);
                }
            }
            pos = (pos + 1) & self.mask;
        }
    }

    /// The home slot of hash `h`. Reading it brings its cache line in:
    /// the batch warm-up reads the home slots of all its packets first, so
    /// that their cache misses overlap instead of following each other.
    #[inline]
    pub(crate) fn home_slot(&self, h: u64) -> u64 {
        self.slots
            .get((h >> 32) as usize & self.mask)
            .copied()
            .unwrap_or(0)
    }

    /// A word of the entry slot `s` names, if `s` carries `h`'s tag (0
    /// otherwise): the second step of the warm-up.
    #[inline]
    pub(crate) fn touch_entry(&self, h: u64, s: u64) -> u64 {
        if s == 0 || s >> 32 != h >> 32 {
            return 0;
        }
        let i = (s as u32).wrapping_sub(1);
        self.entries.get(i as usize).map_or(0, |e| e.last_seen)
    }

    /// Entry `i`.
    #[cfg(test)]
    pub(crate) fn get(&self, i: u32) -> Option<&Entry> {
        self.entries.get(i as usize)
    }

    /// Entry `i`, writable.
    #[inline]
    pub(crate) fn get_mut(&mut self, i: u32) -> Option<&mut Entry> {
        self.entries.get_mut(i as usize)
    }

    /// Adds `entry` (whose key, hashing to `h`, must not be in the table);
    /// `None` when the table is full.
    pub(crate) fn insert(&mut self, h: u64, entry: Entry) -> Option<u32> {
        let i = self.free;
        self.entries.get(i as usize)?;
        if (self.len + 1) * 2 > self.mask + 1 && self.mask + 1 < self.slots.len() {
            self.grow();
        }
        let e = self.entries.get_mut(i as usize)?;
        self.free = e.rule;
        *e = entry;
        self.index(h >> 32, i);
        self.len += 1;
        self.high = self.high.max(i as usize + 1);
        Some(i)
    }

    /// Puts entry `i` with hash tag `tag` in the index. Load <= 0.5 (the
    /// full index has two slots per entry): an empty slot is always found.
    #[inline]
    fn index(&mut self, tag: u64, i: u32) {
        let mut pos = tag as usize & self.mask;
        while self.slots.get(pos).is_some_and(|s| *s != 0) {
            pos = (pos + 1) & self.mask;
        }
        if let Some(s) = self.slots.get_mut(pos) {
            *s = tag << 32 | u64::from(i + 1);
        }
    }

    /// Doubles the part of the index in use and re-indexes every connection.
    #[cold]
    #[inline(never)]
    fn grow(&mut self) {
        let mask = (self.mask * 2 + 1).min(self.slots.len() - 1);
        if let Some(used) = self.slots.get_mut(..=mask) {
            used.fill(0);
        }
        self.mask = mask;
        for i in 0..self.high.min(self.entries.len()) {
            let e = &self.entries[i];
            if e.flags & USED != 0 {
                let tag = self.hash(&e.key()) >> 32;
                self.index(tag, i as u32);
            }
        }
    }

    /// Frees entry `i` (a no-op if it is free).
    pub(crate) fn remove(&mut self, i: u32) {
        let Some(e) = self.entries.get(i as usize) else {
            return;
        };
        if e.flags & USED == 0 {
            return;
        }
        let tag = self.hash(&e.key()) >> 32;
        let want = tag << 32 | u64::from(i + 1);
        let mut pos = tag as usize & self.mask;
        loop {
            match self.slots.get(pos) {
                Some(&s) if s == want => break,
                Some(&s) if s != 0 => pos = (pos + 1) & self.mask,
                _ => return, // not indexed: cannot happen, keep the entry
            }
        }
        self.delete_slot(pos);
        if let Some(e) = self.entries.get_mut(i as usize) {
            e.flags = 0;
            e.rule = self.free;
        }
        self.free = i;
        self.len -= 1;
    }

    /// Backward-shift deletion of slot `hole`.
    fn delete_slot(&mut self, mut hole: usize) {
        let mask = self.mask;
        let mut j = hole;
        loop {
            j = (j + 1) & mask;
            let s = self.slots.get(j).copied().unwrap_or(0);
            if s == 0 {
                break;
            }
            let home = (s >> 32) as usize & mask;
            // `s` may move into the hole if the hole lies between its home
            // and its current slot (cyclically).
            if (hole.wrapping_sub(home) & mask) < (j.wrapping_sub(home) & mask) {
                if let Some(h) = self.slots.get_mut(hole) {
                    *h = s;
                }
                hole = j;
            }
        }
        if let Some(h) = self.slots.get_mut(hole) {
            *h = 0;
        }
    }

    /// Looks at the next `n` entries of the slab (round robin over the
    /// entries ever handed out: the others are free) and frees those
    /// `expired` says are; returns how many were freed.
    pub(crate) fn sweep(&mut self, n: usize, expired: impl Fn(&Entry) -> bool) -> usize {
        let cap = self.high.min(self.entries.len());
        if cap == 0 {
            return 0;
        }
        let mut freed = 0;
        for _ in 0..n.min(cap) {
            self.cursor = if self.cursor + 1 >= cap {
                0
            } else {
                self.cursor + 1
            };
            let i = self.cursor as u32;
            if self
                .entries
                .get(i as usize)
                .is_some_and(|e| e.flags & USED != 0 && expired(e))
            {
                self.remove(i);
                freed += 1;
            }
        }
        freed
    }

    /// The entries in use.
    pub(crate) fn iter(&self) -> impl Iterator<Item = &Entry> {
        self.entries.iter().filter(|e| e.flags & USED != 0)
    }

    /// Allocated sizes (entries, slots), for the no-reallocation test.
    #[cfg(test)]
    pub(crate) fn allocated(&self) -> (usize, usize) {
        (self.entries.capacity(), self.slots.capacity())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(i: u32) -> (CtKey, bool) {
        CtKey::new(
            1,
            2,
            17,
            false,
            (0xffff_0a00_0000 + u128::from(i), 1000 + (i % 7) as u16),
            (0xffff_0a00_00ff, 53),
        )
    }

    #[test]
    fn both_directions_share_one_key() {
        let (a, a_lo) = CtKey::new(1, 2, 6, false, (10, 1000), (20, 80));
        let (b, b_lo) = CtKey::new(1, 2, 6, false, (20, 80), (10, 1000));
        assert_eq!(a, b);
        assert!(a_lo && !b_lo);
        let (c, _) = CtKey::new(1, 2, 6, true, (10, 1000), (20, 80));
        assert_ne!(a, c, "the IP version is part of the key");
    }

    #[test]
    fn inserting_up_to_capacity_never_reallocates() {
        let cap = 1000;
        let mut ct = Conntrack::with_capacity(cap);
        let before = ct.allocated();
        for i in 0..cap as u32 {
            let (k, lo) = key(i);
            let h = ct.hash(&k);
            assert_eq!(ct.find(&k, h), None);
            let e = Entry::new(&k, if lo { ORIG_LO } else { 0 }, 0, 1, 1, i);
            assert!(ct.insert(h, e).is_some(), "insert {i}");
        }
        assert_eq!(ct.len(), cap);
        let (k, _) = key(cap as u32);
        let h = ct.hash(&k);
        assert_eq!(ct.insert(h, Entry::new(&k, 0, 0, 1, 1, 0)), None, "full");
        assert_eq!(ct.allocated(), before, "no reallocation");
        for i in 0..cap as u32 {
            let (k, _) = key(i);
            let e = ct.find(&k, ct.hash(&k)).unwrap();
            assert_eq!(ct.get(e).unwrap().rule, i);
        }
        assert_eq!(ct.iter().count(), cap);
    }

    #[test]
    fn the_index_grows_in_place_as_connections_come() {
        // 20k connections: the index starts at 4096 slots and doubles four
        // times, within the memory allocated at the start.
        let cap = 20_000;
        let mut ct = Conntrack::with_capacity(cap);
        let before = ct.allocated();
        assert_eq!(ct.mask + 1, INITIAL_SLOTS);
        let mut ids = Vec::new();
        for i in 0..cap as u32 {
            let (k, _) = key(i);
            let h = ct.hash(&k);
            ids.push(ct.insert(h, Entry::new(&k, 0, 0, 1, 1, i)).unwrap());
            assert!(ct.len() * 2 <= ct.mask + 1, "load at most 0.5");
            if i % 997 == 0 {
                // Everything inserted so far is still found.
                for j in (0..=i).step_by(13) {
                    let (k, _) = key(j);
                    assert_eq!(
                        ct.find(&k, ct.hash(&k)),
                        Some(ids[j as usize]),
                        "{j} after {i}"
                    );
                }
            }
        }
        assert_eq!(ct.mask + 1, 65_536);
        assert_eq!(ct.allocated(), before, "no reallocation");
        // Remove every other one, then grow nothing more: the rest stay.
        for i in (0..cap).step_by(2) {
            ct.remove(ids[i]);
        }
        for i in 0..cap as u32 {
            let (k, _) = key(i);
            assert_eq!(ct.find(&k, ct.hash(&k)).is_some(), i % 2 == 1, "{i}");
        }
    }

    #[test]
    fn removal_keeps_every_other_key_findable() {
        let cap = 512;
        let mut ct = Conntrack::with_capacity(cap);
        let mut ids = Vec::new();
        for i in 0..cap as u32 {
            let (k, _) = key(i);
            let h = ct.hash(&k);
            ids.push(ct.insert(h, Entry::new(&k, 0, 0, 1, 1, i)).unwrap());
        }
        for round in 0..3u32 {
            for i in (round..cap as u32).step_by(3) {
                ct.remove(ids[i as usize]);
            }
            for i in 0..cap as u32 {
                let (k, _) = key(i);
                let found = ct.find(&k, ct.hash(&k));
                let removed = i % 3 <= round;
                assert_eq!(found.is_none(), removed, "key {i} after round {round}");
            }
        }
        assert_eq!(ct.len(), 0);
        // Everything freed is reusable.
        for i in 0..cap as u32 {
            let (k, _) = key(i + 10_000);
            let h = ct.hash(&k);
            assert!(ct.insert(h, Entry::new(&k, 0, 0, 1, 1, i)).is_some());
        }
    }

    #[test]
    fn sweep_frees_what_is_expired_only() {
        let mut ct = Conntrack::with_capacity(16);
        for i in 0..10u32 {
            let (k, _) = key(i);
            let h = ct.hash(&k);
            ct.insert(h, Entry::new(&k, 0, 0, u64::from(i), 1, i));
        }
        assert_eq!(ct.sweep(100, |e| e.last_seen < 5), 5);
        assert_eq!(ct.len(), 5);
        assert_eq!(ct.sweep(16, |_| false), 0);
        assert_eq!(Conntrack::with_capacity(0).sweep(4, |_| true), 0);
    }

    #[test]
    fn an_empty_table_refuses_inserts() {
        let mut ct = Conntrack::with_capacity(0);
        let (k, _) = key(1);
        let h = ct.hash(&k);
        assert_eq!(ct.find(&k, h), None);
        assert_eq!(ct.insert(h, Entry::new(&k, 0, 0, 1, 1, 0)), None);
    }
}
