//! Per-router-port token buckets for reject replies, one set per worker.
//!
//! State is a vector indexed by the tables' dense port index, rebuilt
//! (carrying each port's bucket over by port key) only when a new tables
//! generation is seen: one allocation per publish, never per packet.

use df_dp::ratelimit::{carry_over, TokenBucket};

use crate::tables::{FirewallTables, Limit};

/// The buckets of every router port.
#[derive(Debug, Default)]
pub(crate) struct Limiter {
    keys: Vec<u32>,
    buckets: Vec<TokenBucket>,
}

impl Limiter {
    /// Follows new tables.
    #[cold]
    pub(crate) fn resync(&mut self, t: &FirewallTables) {
        self.buckets = carry_over(&self.keys, &self.buckets, t.ports.len(), |k| {
            t.port_by_key(k)
        });
        self.keys = t.ports.iter().map(|p| p.port_key).collect();
    }

    /// Takes a token for port `port` (dense index); false when over the
    /// limit.
    #[inline]
    pub(crate) fn admit(&mut self, port: usize, now: u64, lim: Limit) -> bool {
        match self.buckets.get_mut(port) {
            Some(b) => b.admit(now, lim),
            None => true,
        }
    }
}
