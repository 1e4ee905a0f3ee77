//! A packet generator port and a sink port, the in-memory equivalents of
//! DPDK's `net_pcap` replay and `net_null`, for benchmarks.
//!
//! The generator copies the next template frame into a fresh buffer for every
//! packet it "receives" (as `net_pcap` with `infinite_rx` does), cycling
//! through its templates; the sink counts and frees. Neither allocates after
//! construction, and their counters are plain fields: they belong to one worker.

use super::{Port, PortStats};
use crate::batch::Batch;
use crate::packet::{PacketPool, DATA_ROOM};

/// Replays template frames forever (or up to a limit).
#[derive(Debug)]
pub struct GenPort {
    name: String,
    frames: Vec<u8>,
    offsets: Vec<(usize, usize)>,
    next: usize,
    remaining: u64,
    stats: PortStats,
}

impl GenPort {
    /// A generator over `templates` (frames longer than the buffer room are
    /// skipped). `limit` caps the packets generated (`None`: forever).
    pub fn new(name: &str, templates: &[Vec<u8>], limit: Option<u64>) -> GenPort {
        let mut frames = Vec::new();
        let mut offsets = Vec::new();
        for t in templates.iter().filter(|t| t.len() <= DATA_ROOM) {
            offsets.push((frames.len(), t.len()));
            frames.extend_from_slice(t);
        }
        GenPort {
            name: name.to_string(),
            frames,
            offsets,
            next: 0,
            remaining: limit.unwrap_or(u64::MAX),
            stats: PortStats::default(),
        }
    }

    /// Templates held.
    pub fn templates(&self) -> usize {
        self.offsets.len()
    }
}

impl Port for GenPort {
    fn name(&self) -> &str {
        &self.name
    }

    fn rx_burst(&mut self, pool: &mut PacketPool, batch: &mut Batch) -> usize {
        if self.offsets.is_empty() {
            return 0;
        }
        let want = (batch.room() as u64).min(self.remaining) as usize;
        let mut n = 0;
        while n < want {
            let Some(mut p) = pool.alloc() else {
                self.stats.rx_dropped += 1;
                break;
            };
            let (off, len) = self.offsets[self.next];
            self.next += 1;
            if self.next == self.offsets.len() {
                self.next = 0;
            }
            p.set_data(&self.frames[off..off + len]);
            self.stats.rx_bytes += len as u64;
            let _ = batch.push(p);
            n += 1;
        }
        self.stats.rx_packets += n as u64;
        self.remaining -= n as u64;
        n
    }

    fn tx_burst(&mut self, batch: &mut Batch, pool: &mut PacketPool) -> usize {
        // A generator also sinks what is sent to it.
        sink(&mut self.stats, batch, pool)
    }

    fn stats(&self) -> PortStats {
        self.stats
    }
}

/// Frees everything sent to it, counting packets and bytes.
#[derive(Debug)]
pub struct SinkPort {
    name: String,
    stats: PortStats,
}

impl SinkPort {
    /// A new sink.
    pub fn new(name: &str) -> SinkPort {
        SinkPort {
            name: name.to_string(),
            stats: PortStats::default(),
        }
    }
}

fn sink(stats: &mut PortStats, batch: &mut Batch, pool: &mut PacketPool) -> usize {
    let n = batch.len();
    for p in batch.drain() {
        stats.tx_bytes += p.len() as u64;
        pool.free(p);
    }
    stats.tx_packets += n as u64;
    n
}

impl Port for SinkPort {
    fn name(&self) -> &str {
        &self.name
    }

    fn rx_burst(&mut self, _pool: &mut PacketPool, _batch: &mut Batch) -> usize {
        0
    }

    fn tx_burst(&mut self, batch: &mut Batch, pool: &mut PacketPool) -> usize {
        sink(&mut self.stats, batch, pool)
    }

    fn stats(&self) -> PortStats {
        self.stats
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generator_cycles_and_stops_at_limit() {
        let mut pool = PacketPool::new(16);
        let mut g = GenPort::new("g", &[vec![1; 60], vec![2; 64]], Some(5));
        let mut b = Batch::with_capacity(4);
        assert_eq!(g.rx_burst(&mut pool, &mut b), 4);
        let firsts: Vec<u8> = b.as_slice().iter().map(|p| p.data()[0]).collect();
        assert_eq!(firsts, vec![1, 2, 1, 2]);
        let mut s = SinkPort::new("s");
        assert_eq!(s.tx_burst(&mut b, &mut pool), 4);
        assert_eq!(g.rx_burst(&mut pool, &mut b), 1);
        assert_eq!(g.rx_burst(&mut pool, &mut b), 0);
        assert_eq!(g.stats().rx_packets, 5);
        assert_eq!(s.stats().tx_bytes, 60 + 64 + 60 + 64);
    }
}
