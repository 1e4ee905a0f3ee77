//! A longest-prefix-match table as a sorted list of address ranges.
//!
//! Why this shape: CIDR prefixes either nest or are disjoint, so a set of N
//! prefixes cuts the address space into at most 2N + 1 ranges, each with one
//! winning prefix. Building flattens the nesting once (a sort and a stack
//! sweep, off the workers); a lookup then counts the range starts below the
//! address over a flat, sorted array in two levels of 16-wide blocks (two
//! dependent steps for the 256 routes of the OVS peer pipeline, where a
//! binary search takes ten), no pointer chasing, no allocation, the same code for IPv4
//! (`u32`) and IPv6 (`u128`). A route change rebuilds the table, which is
//! what control does anyway (tables are immutable once published).

/// An address as an unsigned integer.
pub(crate) trait Bits: Copy + Ord + Default + std::fmt::Debug {
    /// The first and last address of the prefix of `len` bits containing `self`.
    fn range(self, len: u8) -> (Self, Self);
    /// The next address, `None` past the last one.
    fn succ(self) -> Option<Self>;
    /// The last address.
    const MAX: Self;
}

impl Bits for u32 {
    fn range(self, len: u8) -> (u32, u32) {
        let m = crate::addr::mask4(len);
        (self & m, self | !m)
    }
    fn succ(self) -> Option<u32> {
        self.checked_add(1)
    }
    const MAX: u32 = u32::MAX;
}

impl Bits for u128 {
    fn range(self, len: u8) -> (u128, u128) {
        let m = crate::addr::mask6(len);
        (self & m, self | !m)
    }
    fn succ(self) -> Option<u128> {
        self.checked_add(1)
    }
    const MAX: u128 = u128::MAX;
}

/// "No prefix covers this range."
const NONE: u32 = u32::MAX;
/// Range starts per block of the lookup's second level.
const BLOCK: usize = 16;
/// Up to this many blocks the first level is a scan, above it a binary
/// search.
const SCAN_BLOCKS: usize = 64;

/// Address -> value of the longest matching prefix.
///
/// The lookup counts the range starts <= the address in two levels of
/// fixed-size blocks, so the compiler unrolls and vectorises both counts:
/// no data-dependent branch and two dependent steps, where a binary search
/// over the ~513 ranges of 256 routes takes ten (measured on this machine:
/// 25 -> 18 ns per lookup when each lookup waits for the previous one).
#[derive(Debug, Clone, Default)]
pub(crate) struct Lpm<K> {
    /// Range starts in blocks of [`BLOCK`], strictly increasing, the last
    /// block padded with `K::MAX`; the first start is 0 unless empty.
    blocks: Box<[[K; BLOCK]]>,
    /// Number of real starts (ranges).
    len: usize,
    /// The last start of each block, padded with `K::MAX` to a multiple
    /// of [`BLOCK`].
    tops: Box<[[K; BLOCK]]>,
    /// The value of each range (`NONE` for no match).
    values: Box<[u32]>,
}

/// How many of `b` are <= `x`.
#[inline]
fn count_le<K: Bits>(b: &[K; BLOCK], x: K) -> usize {
    let mut n = 0u32;
    for &v in b {
        n += u32::from(v <= x);
    }
    n as usize
}

impl<K: Bits> Lpm<K> {
    /// Builds the table from (prefix address, length, value). Among
    /// identical prefixes the one listed last wins. Values must not be
    /// `u32::MAX`.
    pub(crate) fn build(entries: &[(K, u8, u32)]) -> Lpm<K> {
        let mut items: Vec<(K, K, u8, u32)> = entries
            .iter()
            .map(|&(a, len, v)| {
                let (s, e) = a.range(len);
                (s, e, len, v)
            })
            .collect();
        // Outer prefixes before the ones they contain; stable, so identical
        // prefixes keep their input order and the last one is kept below.
        items.sort_by_key(|&(s, _, len, _)| (s, len));
        let mut out: Vec<(K, u32)> = vec![(K::default(), NONE)];
        let mut stack: Vec<(K, u32)> = Vec::new();
        let top = |stack: &Vec<(K, u32)>| stack.last().map_or(NONE, |t| t.1);
        for (i, &(s, e, len, v)) in items.iter().enumerate() {
            if items.get(i + 1).is_some_and(|n| n.0 == s && n.2 == len) {
                continue;
            }
            while let Some(&(end, _)) = stack.last() {
                if end >= s {
                    break;
                }
                stack.pop();
                if let Some(after) = end.succ() {
                    out.push((after, top(&stack)));
                }
            }
            out.push((s, v));
            stack.push((e, v));
        }
        while let Some((end, _)) = stack.pop() {
            if let Some(after) = end.succ() {
                out.push((after, top(&stack)));
            }
        }
        // Starts are non-decreasing: the last value pushed for a start wins;
        // then neighbouring ranges with one value merge.
        let mut flat: Vec<(K, u32)> = Vec::with_capacity(out.len());
        for (s, v) in out {
            match flat.last_mut() {
                Some(last) if last.0 == s => last.1 = v,
                _ => flat.push((s, v)),
            }
        }
        flat.dedup_by(|next, prev| next.1 == prev.1);
        let pad = |c: &[K]| {
            let mut b = [K::MAX; BLOCK];
            b[..c.len()].copy_from_slice(c);
            b
        };
        let starts: Vec<K> = flat.iter().map(|r| r.0).collect();
        let blocks: Box<[[K; BLOCK]]> = starts.chunks(BLOCK).map(pad).collect();
        let last: Vec<K> = starts
            .chunks(BLOCK)
            .filter_map(|c| c.last().copied())
            .collect();
        Lpm {
            tops: last.chunks(BLOCK).map(pad).collect(),
            blocks,
            len: starts.len(),
            values: flat.iter().map(|r| r.1).collect(),
        }
    }

    /// The value of the longest prefix containing `addr`: that of the
    /// last range start <= `addr`. Blocks whose last start is <= `addr`
    /// lie wholly below it (starts are sorted); the starts <= `addr` of the
    /// next block finish the count. Padding (`K::MAX`) only counts for
    /// `addr == K::MAX`, hence the `min`s.
    #[inline]
    pub(crate) fn lookup(&self, addr: K) -> Option<u32> {
        let full = if self.tops.len() * BLOCK <= SCAN_BLOCKS {
            self.tops.iter().map(|t| count_le(t, addr)).sum::<usize>()
        } else {
            let tops = self.tops.as_flattened();
            tops.partition_point(|&t| t <= addr)
        }
        .min(self.blocks.len());
        let n = self.blocks.get(full).map_or(0, |b| count_le(b, addr));
        let i = (full * BLOCK + n).min(self.len);
        let v = *self.values.get(i.checked_sub(1)?)?;
        (v != NONE).then_some(v)
    }

    /// Number of ranges (for `describe`).
    pub(crate) fn ranges(&self) -> usize {
        self.len
    }
}

/// Distinct IPv4 prefix lengths up to which [`ByLen`] is used.
pub(crate) const BY_LEN_MAX: usize = 4;

/// IPv4 longest-prefix match by one hash probe per distinct prefix length,
/// longest first. Routers usually hold a handful of lengths (their
/// interfaces' subnets and a few routes, all /24 in the OVS peer's
/// pipeline): one probe then beats the range count of [`Lpm`]. Built only
/// when there are at most [`BY_LEN_MAX`] lengths.
#[derive(Debug, Clone, Default)]
pub(crate) struct ByLen {
    /// (mask, masked address -> value), longest prefix first.
    levels: Box<[(u32, hashbrown::HashMap<u32, u32>)]>,
}

impl ByLen {
    /// The table of `entries` (address, length, value), or `None` when they
    /// use more than [`BY_LEN_MAX`] lengths. A prefix listed twice keeps
    /// its last value, as [`Lpm`] does.
    pub(crate) fn build(entries: &[(u32, u8, u32)]) -> Option<ByLen> {
        let mut lens: Vec<u8> = entries.iter().map(|e| e.1.min(32)).collect();
        lens.sort_unstable_by(|a, b| b.cmp(a));
        lens.dedup();
        if lens.len() > BY_LEN_MAX {
            return None;
        }
        let levels = lens
            .iter()
            .map(|&len| {
                let mask = crate::addr::mask4(len);
                let mut m = hashbrown::HashMap::new();
                for &(a, l, v) in entries.iter().filter(|e| e.1.min(32) == len) {
                    debug_assert_eq!(l.min(32), len);
                    m.insert(a & mask, v);
                }
                (mask, m)
            })
            .collect();
        Some(ByLen { levels })
    }

    /// The value of the longest prefix holding `addr`.
    #[inline]
    pub(crate) fn lookup(&self, addr: u32) -> Option<u32> {
        self.levels
            .iter()
            .find_map(|(mask, m)| m.get(&(addr & mask)).copied())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn v4(s: &str) -> u32 {
        u32::from(s.parse::<std::net::Ipv4Addr>().unwrap())
    }

    #[test]
    fn nested_and_disjoint() {
        let t = Lpm::build(&[
            (v4("10.0.0.0"), 8, 1),
            (v4("10.1.0.0"), 16, 2),
            (v4("10.1.2.0"), 24, 3),
            (v4("10.2.0.0"), 16, 4),
            (v4("192.168.0.0"), 24, 5),
        ]);
        assert_eq!(t.lookup(v4("9.255.255.255")), None);
        assert_eq!(t.lookup(v4("10.0.0.0")), Some(1));
        assert_eq!(t.lookup(v4("10.1.0.0")), Some(2));
        assert_eq!(t.lookup(v4("10.1.2.255")), Some(3));
        assert_eq!(t.lookup(v4("10.1.3.0")), Some(2));
        assert_eq!(t.lookup(v4("10.2.9.9")), Some(4));
        assert_eq!(t.lookup(v4("10.3.0.0")), Some(1));
        assert_eq!(t.lookup(v4("11.0.0.0")), None);
        assert_eq!(t.lookup(v4("192.168.0.77")), Some(5));
        assert_eq!(t.lookup(v4("192.168.1.0")), None);
    }

    #[test]
    fn edges_of_the_space_and_ties() {
        let t = Lpm::build(&[(0u32, 0, 1), (u32::MAX, 32, 2), (0, 32, 3)]);
        assert_eq!(t.lookup(0), Some(3));
        assert_eq!(t.lookup(1), Some(1));
        assert_eq!(t.lookup(u32::MAX - 1), Some(1));
        assert_eq!(t.lookup(u32::MAX), Some(2));
        let t = Lpm::build(&[(v4("10.0.0.0"), 24, 1), (v4("10.0.0.0"), 24, 2)]);
        assert_eq!(
            t.lookup(v4("10.0.0.1")),
            Some(2),
            "the last identical prefix wins"
        );
        let empty = Lpm::<u128>::build(&[]);
        assert_eq!(empty.lookup(0), None);
        assert_eq!(Lpm::<u128>::default().lookup(7), None);
        let all = Lpm::build(&[(0u128, 0, 9)]);
        assert_eq!((all.lookup(0), all.lookup(u128::MAX)), (Some(9), Some(9)));
        assert_eq!(all.ranges(), 1);
    }

    fn naive(entries: &[(u32, u8, u32)], addr: u32) -> Option<u32> {
        let mut best: Option<(u8, u32)> = None;
        for &(a, len, v) in entries {
            let (s, e) = a.range(len);
            if s <= addr && addr <= e && best.is_none_or(|(l, _)| len >= l) {
                best = Some((len, v));
            }
        }
        best.map(|b| b.1)
    }

    /// The OVS peer pipeline's size: 256 routes of mixed lengths.
    fn routes_256() -> Vec<(u32, u8, u32)> {
        (0..256u32)
            .map(|i| {
                let len = [8u8, 16, 20, 24, 28, 32][(i % 6) as usize];
                let a = (10 << 24 | (i * 0x0001_0f13)) & crate::addr::mask4(len);
                (a, len, i)
            })
            .collect()
    }

    #[test]
    fn two_hundred_fifty_six_routes() {
        let entries = routes_256();
        let t = Lpm::build(&entries);
        let mut x = 0x0a00_0000u32;
        for _ in 0..20_000 {
            x = x.wrapping_mul(1_664_525).wrapping_add(1_013_904_223) & 0x0aff_ffff;
            assert_eq!(t.lookup(x), naive(&entries, x), "addr {x:#x}");
        }
        assert!(t.ranges() <= 513);
    }

    /// More blocks than the first level scans: its binary-search path,
    /// and both ends of the address space.
    #[test]
    fn many_routes_take_the_binary_search_level() {
        let mut entries: Vec<(u32, u8, u32)> = (0..3000u32)
            .map(|i| {
                let len = [16u8, 20, 24, 28, 32][(i % 5) as usize];
                let a = i.wrapping_mul(0x9e37_79b9) & crate::addr::mask4(len);
                (a, len, i)
            })
            .collect();
        entries.push((u32::MAX, 32, 9999));
        let t = Lpm::build(&entries);
        assert!(t.tops.len() * BLOCK > SCAN_BLOCKS);
        let mut x = 7u32;
        for _ in 0..5_000 {
            x = x.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            assert_eq!(t.lookup(x), naive(&entries, x), "addr {x:#x}");
        }
        for a in entries
            .iter()
            .map(|e| e.0)
            .chain([0, 1, u32::MAX - 1, u32::MAX])
        {
            assert_eq!(t.lookup(a), naive(&entries, a), "addr {a:#x}");
        }
    }

    #[test]
    #[ignore = "timing, run by hand: cargo test --release -- --ignored --nocapture"]
    fn lookup_speed() {
        let t = Lpm::build(&routes_256());
        let n = 10_000_000u32;
        let start = std::time::Instant::now();
        let mut acc = 0u64;
        let mut x = 1u32;
        for _ in 0..n {
            x = x.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            acc += u64::from(t.lookup(x & 0x0aff_ffff).unwrap_or(0));
        }
        let ns = start.elapsed().as_nanos() as f64 / f64::from(n);
        println!("lpm lookup, 256 routes: {ns:.1} ns ({acc})");
    }

    proptest! {
        #[test]
        fn matches_a_linear_scan(
            routes in proptest::collection::vec((any::<u32>(), 0u8..=32), 0..64),
            probes in proptest::collection::vec(any::<u32>(), 1..64),
        ) {
            // Cluster addresses so prefixes nest often.
            let entries: Vec<(u32, u8, u32)> = routes
                .iter()
                .enumerate()
                .map(|(i, &(a, len))| (a & 0xff0f_0f0f, len, i as u32))
                .collect();
            let t = Lpm::build(&entries);
            for p in probes.iter().copied().chain(entries.iter().map(|e| e.0)) {
                let p = p & 0xff0f_0fff;
                prop_assert_eq!(t.lookup(p), naive(&entries, p), "addr {:#x}", p);
            }
            prop_assert!(t.ranges() <= 2 * entries.len() + 1);
        }

        #[test]
        fn by_length_matches_a_linear_scan(
            routes in proptest::collection::vec((any::<u32>(), 0usize..4), 0..64),
            lens in proptest::collection::vec(0u8..=32, 4),
            probes in proptest::collection::vec(any::<u32>(), 1..64),
        ) {
            let entries: Vec<(u32, u8, u32)> = routes
                .iter()
                .enumerate()
                .map(|(i, &(a, l))| (a & 0xff0f_0f0f, lens[l], i as u32))
                .collect();
            let t = ByLen::build(&entries).unwrap();
            for p in probes.iter().copied().chain(entries.iter().map(|e| e.0)) {
                let p = p & 0xff0f_0fff;
                prop_assert_eq!(t.lookup(p), naive(&entries, p), "addr {:#x}", p);
            }
        }
    }

    #[test]
    fn by_length_only_for_few_lengths() {
        let few: Vec<(u32, u8, u32)> = (0..256).map(|k| (k << 8, 24, k)).collect();
        assert!(ByLen::build(&few).is_some());
        let many: Vec<(u32, u8, u32)> = (0..5).map(|k| (0, 20 + k as u8, k)).collect();
        assert!(
            ByLen::build(&many).is_none(),
            "5 lengths: the range table serves"
        );
        assert_eq!(ByLen::build(&[]).map(|b| b.lookup(7)), Some(None));
    }
}
