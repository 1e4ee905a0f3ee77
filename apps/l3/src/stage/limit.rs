//! Per-router token buckets for generated ICMP errors, one set per worker.
//!
//! State is a vector indexed by the tables' dense router index, rebuilt
//! (carrying each router's buckets over by key) only when a new tables
//! generation is seen: the one allocation, once per publish, not per packet.

use crate::tables::{L3Tables, Limit};

/// One bucket, in TSC cycles.
#[derive(Debug, Clone, Copy, Default)]
struct Bucket {
    tokens: u64,
    last: u64,
    primed: bool,
}

/// The buckets of every router, per limit kind.
#[derive(Debug, Default)]
pub(crate) struct Limiter {
    pub(crate) generation: u64,
    keys: Vec<u32>,
    buckets: Vec<[Bucket; 2]>,
}

impl Limiter {
    /// Follows a new tables generation.
    #[cold]
    pub(crate) fn resync(&mut self, t: &L3Tables) {
        let mut buckets = vec![[Bucket::default(); 2]; t.routers.len()];
        for (old, key) in self.keys.iter().enumerate() {
            if let (Some((new, _)), Some(b)) = (t.router(*key), self.buckets.get(old)) {
                if let Some(slot) = buckets.get_mut(new) {
                    *slot = *b;
                }
            }
        }
        self.keys = t.routers.iter().map(|r| r.key).collect();
        self.buckets = buckets;
        self.generation = t.generation;
    }

    /// Takes a token of kind `kind` for router `router`; false when over
    /// the limit.
    #[inline]
    pub(crate) fn admit(&mut self, router: usize, kind: usize, now: u64, lim: Limit) -> bool {
        if lim.per_token == 0 {
            return true;
        }
        let Some(b) = self
            .buckets
            .get_mut(router)
            .and_then(|set| set.get_mut(kind))
        else {
            return true;
        };
        if !b.primed {
            *b = Bucket {
                tokens: lim.capacity,
                last: now,
                primed: true,
            };
        }
        b.tokens = b
            .tokens
            .saturating_add(now.saturating_sub(b.last))
            .min(lim.capacity);
        b.last = b.last.max(now);
        if b.tokens >= lim.per_token {
            b.tokens -= lim.per_token;
            true
        } else {
            false
        }
    }
}
