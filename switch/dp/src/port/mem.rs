//! An in-memory port for tests: frames are injected and collected as bytes
//! through a [`MemPortHandle`] held by the test.
//!
//! It locks a mutex per burst and copies frames in and out, which is fine for
//! tests and nothing else (benchmarks use [`super::gen`]).

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard};

use super::{Port, PortStats};
use crate::batch::Batch;
use crate::packet::{Meta, PacketPool};

#[derive(Debug, Default)]
struct Shared {
    rx: VecDeque<(Vec<u8>, bool)>,
    tx: Vec<Vec<u8>>,
    stats: PortStats,
}

/// The worker's side of an in-memory port.
#[derive(Debug)]
pub struct MemPort {
    name: String,
    shared: Arc<Mutex<Shared>>,
}

/// The test's side of an in-memory port.
#[derive(Debug, Clone)]
pub struct MemPortHandle {
    shared: Arc<Mutex<Shared>>,
}

fn lock(m: &Mutex<Shared>) -> MutexGuard<'_, Shared> {
    // A panic while holding this lock can only come from a failing test;
    // the data (byte queues) is still consistent, so keep going.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl MemPort {
    /// A new port and the handle that feeds and drains it.
    pub fn new(name: &str) -> (MemPort, MemPortHandle) {
        let shared = Arc::new(Mutex::new(Shared::default()));
        (
            MemPort {
                name: name.to_string(),
                shared: shared.clone(),
            },
            MemPortHandle { shared },
        )
    }
}

impl MemPortHandle {
    /// Queues a frame for the switch to receive.
    pub fn inject(&self, frame: &[u8]) {
        lock(&self.shared).rx.push_back((frame.to_vec(), false));
    }

    /// Queues a frame with its trace flag set.
    pub fn inject_traced(&self, frame: &[u8]) {
        lock(&self.shared).rx.push_back((frame.to_vec(), true));
    }

    /// Takes every frame the switch transmitted so far.
    pub fn take_tx(&self) -> Vec<Vec<u8>> {
        std::mem::take(&mut lock(&self.shared).tx)
    }

    /// Frames injected but not yet received by the switch.
    pub fn pending_rx(&self) -> usize {
        lock(&self.shared).rx.len()
    }

    /// The port's counters.
    pub fn stats(&self) -> PortStats {
        lock(&self.shared).stats
    }
}

impl Port for MemPort {
    fn name(&self) -> &str {
        &self.name
    }

    fn rx_burst(&mut self, pool: &mut PacketPool, batch: &mut Batch) -> usize {
        let mut s = lock(&self.shared);
        let mut n = 0;
        while !batch.is_full() {
            let Some((frame, traced)) = s.rx.pop_front() else {
                break;
            };
            let Some(mut p) = pool.alloc() else {
                s.stats.rx_dropped += 1;
                continue;
            };
            if !p.set_data(&frame) {
                s.stats.rx_dropped += 1;
                pool.free(p);
                continue;
            }
            if traced {
                p.meta_mut().flags |= Meta::TRACE;
            }
            s.stats.rx_packets += 1;
            s.stats.rx_bytes += frame.len() as u64;
            let _ = batch.push(p);
            n += 1;
        }
        n
    }

    fn tx_burst(&mut self, batch: &mut Batch, pool: &mut PacketPool) -> usize {
        let mut s = lock(&self.shared);
        let mut n = 0;
        for p in batch.drain() {
            s.stats.tx_packets += 1;
            s.stats.tx_bytes += p.len() as u64;
            s.tx.push(p.data().to_vec());
            pool.free(p);
            n += 1;
        }
        n
    }

    fn stats(&self) -> PortStats {
        lock(&self.shared).stats
    }
}
