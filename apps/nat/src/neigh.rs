//! The neighbour cache of the external networks: (network key, IPv4) ->
//! MAC, learned from ARP messages delivered to floating ports and read by
//! egress to address translated packets to their next hop.
//!
//! Why this shape: ARP replies arrive on whichever worker polls the uplink,
//! while the packets waiting for them leave from the workers of the VMs, so
//! the cache is shared by every stage of one `nat` vertex and written on the
//! hot path. It is a fixed power-of-two array of slots, direct-mapped by a
//! hash of (network, IP): no allocation, no lock, no reclamation. Each slot
//! is a seqlock, so a reader never sees a torn entry (one network's IP with
//! another's MAC). A collision evicts (the last writer wins); the evicted
//! neighbour is resolved again by ARP when next needed.
//!
//! Entries never expire in this version: a neighbour that changes its MAC
//! is corrected by its next ARP message (a gratuitous ARP, or a reply to one
//! of our requests), and stale entries stay until overwritten.
//!
//! # Thread-safety
//! Writers: any worker (ingress ARP); readers: any worker (egress) and
//! control (`entries`, for `describe`). A writer takes the slot by moving its
//! sequence from even to odd with a compare-exchange (Acquire), stores the
//! fields (Relaxed, after a Release fence), and publishes with an even
//! sequence (Release). A writer that finds the slot taken gives up: the write
//! is lost, never waited for (learning is best effort). A reader loads the
//! sequence (Acquire), the fields (Relaxed), fences (Acquire) and reloads the
//! sequence; unequal or odd means a write overlapped, and it retries a few
//! times before reporting a miss. Nothing is freed while shared (the array
//! lives as long as the `Arc` holding it).

use std::net::Ipv4Addr;
use std::sync::atomic::{fence, AtomicU32, AtomicU64, Ordering};

use df_wire::EthernetAddress;

/// Slots of the cache of one vertex (a power of two).
pub const NEIGHBOUR_SLOTS: usize = 4096;

/// Attempts of a read that keeps overlapping writes before it reports a miss.
const READ_TRIES: usize = 4;

#[derive(Debug, Default)]
struct Slot {
    /// Even: stable; odd: a write in progress. Bumped by 2 per write.
    seq: AtomicU32,
    /// Network key; 0: empty (network keys are non-zero).
    net: AtomicU32,
    ip: AtomicU32,
    /// The MAC in the low 48 bits.
    mac: AtomicU64,
}

/// A lock-free, fixed-size, direct-mapped (network, IPv4) -> MAC cache; see
/// the module doc for its thread-safety.
#[derive(Debug)]
pub struct NeighbourCache {
    slots: Box<[Slot]>,
    mask: usize,
}

impl Default for NeighbourCache {
    fn default() -> Self {
        NeighbourCache::with_slots(NEIGHBOUR_SLOTS)
    }
}

fn mac_word(mac: EthernetAddress) -> u64 {
    let b = mac.0;
    u64::from_be_bytes([0, 0, b[0], b[1], b[2], b[3], b[4], b[5]])
}

fn word_mac(w: u64) -> EthernetAddress {
    let b = w.to_be_bytes();
    EthernetAddress([b[2], b[3], b[4], b[5], b[6], b[7]])
}

impl NeighbourCache {
    /// A cache of `slots` slots, rounded up to a power of two (at least 1).
    pub fn with_slots(slots: usize) -> NeighbourCache {
        let n = slots.max(1).next_power_of_two();
        NeighbourCache {
            slots: (0..n).map(|_| Slot::default()).collect(),
            mask: n - 1,
        }
    }

    /// The slot count.
    pub fn capacity(&self) -> usize {
        self.slots.len()
    }

    #[inline]
    fn slot(&self, net: u32, ip: u32) -> Option<&Slot> {
        let k = (u64::from(net) << 32) | u64::from(ip);
        let h = k.wrapping_mul(0x9e37_79b9_7f4a_7c15);
        self.slots.get((h >> 32) as usize & self.mask)
    }

    /// Records `ip` -> `mac` in network `net` (non-zero). Returns false when
    /// the write was skipped: `net` is 0, or another write to the same slot
    /// was in progress.
    #[inline]
    pub fn learn(&self, net: u32, ip: Ipv4Addr, mac: EthernetAddress) -> bool {
        let ip = u32::from(ip);
        let Some(s) = self.slot(net, ip) else {
            return false;
        };
        if net == 0 {
            return false;
        }
        let seq = s.seq.load(Ordering::Relaxed);
        if seq & 1 == 1
            || s.seq
                .compare_exchange(
                    seq,
                    seq.wrapping_add(1),
                    Ordering::Acquire,
                    Ordering::Relaxed,
                )
                .is_err()
        {
            return false;
        }
        // Orders the odd sequence before the field stores for readers.
        fence(Ordering::Release);
        s.net.store(net, Ordering::Relaxed);
        s.ip.store(ip, Ordering::Relaxed);
        s.mac.store(mac_word(mac), Ordering::Relaxed);
        s.seq.store(seq.wrapping_add(2), Ordering::Release);
        true
    }

    /// One consistent (network, IP, MAC word) snapshot of a slot, or `None`
    /// when writes kept overlapping the read.
    #[inline]
    fn read(s: &Slot) -> Option<(u32, u32, u64)> {
        for _ in 0..READ_TRIES {
            let s1 = s.seq.load(Ordering::Acquire);
            if s1 & 1 == 1 {
                std::hint::spin_loop();
                continue;
            }
            let net = s.net.load(Ordering::Relaxed);
            let ip = s.ip.load(Ordering::Relaxed);
            let mac = s.mac.load(Ordering::Relaxed);
            fence(Ordering::Acquire);
            if s.seq.load(Ordering::Relaxed) == s1 {
                return Some((net, ip, mac));
            }
        }
        None
    }

    /// The MAC of `ip` in network `net`, if known (and not being rewritten
    /// at this very moment).
    #[inline]
    pub fn lookup(&self, net: u32, ip: Ipv4Addr) -> Option<EthernetAddress> {
        let ip = u32::from(ip);
        let s = self.slot(net, ip)?;
        match Self::read(s) {
            Some((n, i, mac)) if n == net && i == ip && net != 0 => Some(word_mac(mac)),
            _ => None,
        }
    }

    /// Every valid entry, sorted by (network, IP) (for `describe`; allocates).
    pub fn entries(&self) -> Vec<(u32, Ipv4Addr, EthernetAddress)> {
        let mut v: Vec<_> = self
            .slots
            .iter()
            .filter_map(Self::read)
            .filter(|&(net, _, _)| net != 0)
            .map(|(net, ip, mac)| (net, Ipv4Addr::from(ip), word_mac(mac)))
            .collect();
        v.sort_unstable_by_key(|&(n, ip, _)| (n, ip));
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicBool;
    use std::sync::Arc;

    /// The MAC a test writer stores for (net, ip): derived from both, so a
    /// torn entry (one writer's IP, another's MAC) is detectable.
    fn mac_of(net: u32, ip: u32) -> EthernetAddress {
        let x = ip ^ net.rotate_left(16);
        let b = x.to_be_bytes();
        EthernetAddress([0x02, net as u8, b[0], b[1], b[2], b[3]])
    }

    #[test]
    fn learns_looks_up_and_overwrites() {
        let c = NeighbourCache::default();
        assert_eq!(c.capacity(), NEIGHBOUR_SLOTS);
        let ip = Ipv4Addr::new(198, 18, 0, 1);
        let m1 = EthernetAddress([2, 0, 0, 0, 0, 1]);
        let m2 = EthernetAddress([2, 0, 0, 0, 0, 2]);
        assert_eq!(c.lookup(7, ip), None);
        assert!(c.learn(7, ip, m1));
        assert_eq!(c.lookup(7, ip), Some(m1));
        assert_eq!(c.lookup(8, ip), None, "keyed by network too");
        assert_eq!(c.lookup(7, Ipv4Addr::new(198, 18, 0, 2)), None);
        assert!(c.learn(7, ip, m2));
        assert_eq!(c.lookup(7, ip), Some(m2));
        assert!(!c.learn(0, ip, m1), "network 0 is never stored");
        assert_eq!(c.lookup(0, Ipv4Addr::UNSPECIFIED), None, "empty slots miss");
        assert_eq!(c.entries(), vec![(7, ip, m2)]);
    }

    #[test]
    fn collisions_evict() {
        let c = NeighbourCache::with_slots(1);
        let (a, b) = (Ipv4Addr::new(10, 0, 0, 1), Ipv4Addr::new(10, 0, 0, 2));
        assert!(c.learn(1, a, mac_of(1, 1)));
        assert!(c.learn(1, b, mac_of(1, 2)));
        assert_eq!(c.lookup(1, a), None);
        assert_eq!(c.lookup(1, b), Some(mac_of(1, 2)));
        assert_eq!(NeighbourCache::with_slots(3000).capacity(), 4096);
    }

    #[test]
    fn a_taken_slot_skips_the_write() {
        let c = NeighbourCache::with_slots(1);
        let ip = Ipv4Addr::new(10, 0, 0, 1);
        // A writer in progress (odd sequence).
        c.slots[0].seq.store(1, Ordering::Relaxed);
        assert!(!c.learn(1, ip, mac_of(1, 1)));
        assert_eq!(c.lookup(1, ip), None, "a read during a write misses");
        c.slots[0].seq.store(2, Ordering::Relaxed);
        assert!(c.learn(1, ip, mac_of(1, 1)));
        assert_eq!(c.lookup(1, ip), Some(mac_of(1, 1)));
    }

    /// Writers hammer a few slots with entries whose MAC encodes (network,
    /// IP); readers check every entry they see, through `lookup` and raw.
    #[test]
    fn concurrent_writers_and_readers_never_see_torn_entries() {
        let c = Arc::new(NeighbourCache::with_slots(8));
        let stop = Arc::new(AtomicBool::new(false));
        let writers: Vec<_> = (0..3u32)
            .map(|w| {
                let c = c.clone();
                std::thread::spawn(move || {
                    let mut learned = 0u64;
                    for i in 0..200_000u32 {
                        let net = 1 + (i + w) % 3;
                        let ip = 0x0a00_0000 | ((i.wrapping_mul(2_654_435_761) >> 8) & 0xff);
                        if c.learn(net, Ipv4Addr::from(ip), mac_of(net, ip)) {
                            learned += 1;
                        }
                    }
                    learned
                })
            })
            .collect();
        let readers: Vec<_> = (0..2)
            .map(|_| {
                let (c, stop) = (c.clone(), stop.clone());
                std::thread::spawn(move || {
                    let (mut seen, mut hits) = (0u64, 0u64);
                    loop {
                        // Checked before the pass: one full pass always
                        // follows the last write.
                        let last = stop.load(Ordering::Acquire);
                        for s in c.slots.iter() {
                            if let Some((net, ip, mac)) = NeighbourCache::read(s) {
                                if net != 0 {
                                    assert_eq!(word_mac(mac), mac_of(net, ip), "torn slot");
                                    seen += 1;
                                }
                            }
                        }
                        for ip in 0..=0xffu32 {
                            let ip = 0x0a00_0000 | ip;
                            for net in 1..=3 {
                                if let Some(m) = c.lookup(net, Ipv4Addr::from(ip)) {
                                    assert_eq!(m, mac_of(net, ip), "torn lookup");
                                    hits += 1;
                                }
                            }
                        }
                        if last {
                            break;
                        }
                    }
                    (seen, hits)
                })
            })
            .collect();
        let learned: u64 = writers.into_iter().map(|w| w.join().unwrap()).sum();
        stop.store(true, Ordering::Release);
        for r in readers {
            let (seen, hits) = r.join().unwrap();
            assert!(seen > 0 && hits > 0);
        }
        assert!(learned > 0);
        for (net, ip, mac) in c.entries() {
            assert_eq!(mac, mac_of(net, u32::from(ip)));
        }
    }
}
