//! Token buckets in TSC cycles, for the rate limits apps put on what they
//! generate or answer (ICMP errors, DHCP replies, firewall rejects).
//!
//! A bucket earns one cycle of credit per TSC cycle up to its capacity and
//! spends `per_token` cycles per admitted event, so a rate of N per second
//! with a burst of B is `per_token = hz / N`, `capacity = B * per_token`.
//! Buckets live in a stage (per worker, `&mut self`); [`carry_over`]
//! re-indexes them when new tables arrive, keeping each key's bucket.

/// A rate: cycles per event and the bucket size. `per_token == 0` means
/// unlimited.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Rate {
    /// Cycles that earn one event.
    pub per_token: u64,
    /// Bucket size in cycles (burst x per_token).
    pub capacity: u64,
}

impl Rate {
    /// `per_sec` events per second with bursts of `burst`, for a TSC of
    /// `tsc_hz`. `per_sec == 0` is unlimited.
    pub fn per_sec(per_sec: u32, burst: u32, tsc_hz: u64) -> Rate {
        if per_sec == 0 {
            return Rate::default();
        }
        let per_token = (tsc_hz / u64::from(per_sec)).max(1);
        Rate {
            per_token,
            capacity: per_token.saturating_mul(u64::from(burst.max(1))),
        }
    }
}

/// One token bucket; starts full on first use.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TokenBucket {
    tokens: u64,
    last: u64,
    primed: bool,
}

impl TokenBucket {
    /// Takes one token at TSC `now`; false when over the rate.
    #[inline]
    pub fn admit(&mut self, now: u64, rate: Rate) -> bool {
        if rate.per_token == 0 {
            return true;
        }
        if !self.primed {
            *self = TokenBucket {
                tokens: rate.capacity,
                last: now,
                primed: true,
            };
        }
        self.tokens = self
            .tokens
            .saturating_add(now.saturating_sub(self.last))
            .min(rate.capacity);
        self.last = self.last.max(now);
        if self.tokens >= rate.per_token {
            self.tokens -= rate.per_token;
            true
        } else {
            false
        }
    }
}

/// Re-indexes per-key state for new tables: the state of `old_keys[i]` is
/// `old[i]`; the result has `new_len` entries, each key's state at
/// `index_of(key)` and defaults elsewhere. Allocates: call it when tables
/// change, not per packet.
pub fn carry_over<B: Copy + Default>(
    old_keys: &[u32],
    old: &[B],
    new_len: usize,
    index_of: impl Fn(u32) -> Option<usize>,
) -> Vec<B> {
    let mut out = vec![B::default(); new_len];
    for (key, b) in old_keys.iter().zip(old) {
        if let Some(slot) = index_of(*key).and_then(|i| out.get_mut(i)) {
            *slot = *b;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn burst_then_refill() {
        let r = Rate::per_sec(3, 3, 1000);
        let mut b = TokenBucket::default();
        let admitted = (0..10).filter(|_| b.admit(5, r)).count();
        assert_eq!(admitted, 3, "the burst");
        assert!(!b.admit(5 + 332, r));
        assert!(b.admit(5 + 334, r), "one token per 333 cycles");
        assert!(TokenBucket::default().admit(0, Rate::per_sec(0, 1, 1000)));
    }

    #[test]
    fn carry_over_keeps_state_by_key() {
        let out = carry_over(&[7, 9], &[1u8, 2], 3, |k| match k {
            9 => Some(0),
            7 => Some(2),
            _ => None,
        });
        assert_eq!(out, vec![2, 0, 1]);
    }
}
