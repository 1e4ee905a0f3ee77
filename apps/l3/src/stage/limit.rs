//! Per-router token buckets for generated ICMP errors, one set per worker.
//!
//! State is a vector indexed by the tables' dense router index, rebuilt
//! (carrying each router's buckets over by key) only when a new tables
//! generation is seen: the one allocation, once per publish, not per packet.

use df_dp::ratelimit::{carry_over, TokenBucket};

use crate::tables::{L3Tables, Limit};

/// The buckets of every router, per limit kind.
#[derive(Debug, Default)]
pub(crate) struct Limiter {
    pub(crate) generation: u64,
    keys: Vec<u32>,
    buckets: Vec<[TokenBucket; 2]>,
}

impl Limiter {
    /// Follows a new tables generation.
    #[cold]
    pub(crate) fn resync(&mut self, t: &L3Tables) {
        self.buckets = carry_over(&self.keys, &self.buckets, t.routers.len(), |k| {
            t.router(k).map(|(i, _)| i)
        });
        self.keys = t.routers.iter().map(|r| r.key).collect();
        self.generation = t.generation;
    }

    /// Takes a token of kind `kind` for router `router`; false when over
    /// the limit.
    #[inline]
    pub(crate) fn admit(&mut self, router: usize, kind: usize, now: u64, lim: Limit) -> bool {
        match self
            .buckets
            .get_mut(router)
            .and_then(|set| set.get_mut(kind))
        {
            Some(b) => b.admit(now, lim),
            None => true,
        }
    }
}
