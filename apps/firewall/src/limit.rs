//! Per-router-port token buckets for reject replies, one set per worker.
//!
//! State is a vector indexed by the tables' dense port index, rebuilt
//! (carrying each port's bucket over by port key) only when a new tables
//! generation is seen: one allocation per publish, never per packet.

use crate::tables::{FirewallTables, Limit};

/// One bucket, in TSC cycles.
#[derive(Debug, Clone, Copy, Default)]
struct Bucket {
    tokens: u64,
    last: u64,
    primed: bool,
}

/// The buckets of every router port.
#[derive(Debug, Default)]
pub(crate) struct Limiter {
    keys: Vec<u32>,
    buckets: Vec<Bucket>,
}

impl Limiter {
    /// Follows new tables.
    #[cold]
    pub(crate) fn resync(&mut self, t: &FirewallTables) {
        let mut buckets = vec![Bucket::default(); t.ports.len()];
        for (old, key) in self.keys.iter().enumerate() {
            if let (Some(new), Some(b)) = (t.port_by_key(*key), self.buckets.get(old)) {
                if let Some(slot) = buckets.get_mut(new) {
                    *slot = *b;
                }
            }
        }
        self.keys = t.ports.iter().map(|p| p.port_key).collect();
        self.buckets = buckets;
    }

    /// Takes a token for port `port` (dense index); false when over the
    /// limit.
    #[inline]
    pub(crate) fn admit(&mut self, port: usize, now: u64, lim: Limit) -> bool {
        if lim.per_token == 0 {
            return true;
        }
        let Some(b) = self.buckets.get_mut(port) else {
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
