//! Unit and stress tests for `rcu` (native threads; the model-checked ones are in
//! `loom_tests.rs`).

use super::*;
use std::sync::atomic::{AtomicBool, AtomicUsize};
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

/// A value that counts its drops.
struct Counted {
    value: u64,
    drops: Arc<AtomicUsize>,
}

impl Counted {
    fn new(value: u64, drops: &Arc<AtomicUsize>) -> Self {
        Counted {
            value,
            drops: Arc::clone(drops),
        }
    }
}

impl Drop for Counted {
    fn drop(&mut self) {
        self.drops.fetch_add(1, Ordering::SeqCst);
    }
}

fn counter() -> Arc<AtomicUsize> {
    Arc::new(AtomicUsize::new(0))
}

fn dropped(c: &Arc<AtomicUsize>) -> usize {
    c.load(Ordering::SeqCst)
}

#[test]
fn publish_then_read_sees_new_value() {
    let domain = RcuDomain::new();
    let mut reader = domain.register();
    let cell = RcuCell::new(&domain, 1u64);
    assert_eq!(*cell.read(&reader), 1);
    reader.quiescent();
    // A thread must not wait for its own online reader: go offline around the publish.
    reader.offline();
    cell.publish(2);
    reader.online();
    assert_eq!(*cell.read(&reader), 2);
    assert_eq!(cell.with_current(|v| *v), 2);
    assert_eq!(domain.readers(), 1);
    drop(reader);
    assert_eq!(domain.readers(), 0);
}

#[test]
fn publish_drops_old_value_once() {
    let drops = counter();
    let domain = RcuDomain::new();
    let cell = RcuCell::new(&domain, Counted::new(0, &drops));
    for i in 1..=10 {
        cell.publish(Counted::new(i, &drops));
        assert_eq!(
            dropped(&drops),
            i as usize,
            "publish returns after the old value drops"
        );
    }
    assert_eq!(cell.with_current(|v| v.value), 10);
    drop(cell);
    assert_eq!(dropped(&drops), 11);
}

#[test]
fn deferred_publish_waits_for_reclaim() {
    let drops = counter();
    let domain = RcuDomain::new();
    let cell = RcuCell::new(&domain, Counted::new(0, &drops));
    for i in 1..=1000 {
        cell.publish_deferred(Counted::new(i, &drops));
    }
    assert_eq!(
        dropped(&drops),
        0,
        "deferred values wait for a grace period"
    );
    assert_eq!(cell.with_current(|v| v.value), 1000);
    domain.reclaim();
    assert_eq!(dropped(&drops), 1000);
    domain.reclaim();
    assert_eq!(dropped(&drops), 1000, "nothing dropped twice");
    drop(cell);
    assert_eq!(dropped(&drops), 1001);
}

#[test]
fn deferred_values_left_over_drop_with_the_domain() {
    let drops = counter();
    let domain = RcuDomain::new();
    let cell = RcuCell::new(&domain, Counted::new(0, &drops));
    cell.publish_deferred(Counted::new(1, &drops));
    cell.publish_deferred(Counted::new(2, &drops));
    drop(cell);
    assert_eq!(
        dropped(&drops),
        1,
        "only the current value goes with the cell"
    );
    drop(domain);
    assert_eq!(
        dropped(&drops),
        3,
        "the queue goes with the last domain clone"
    );
}

#[test]
fn publish_on_another_cell_reclaims_deferred() {
    let drops = counter();
    let domain = RcuDomain::new();
    let a = RcuCell::new(&domain, Counted::new(0, &drops));
    let b = RcuCell::new(&domain, 0u32);
    a.publish_deferred(Counted::new(1, &drops));
    b.publish(1);
    assert_eq!(dropped(&drops), 1);
}

#[test]
fn offline_reader_does_not_block_synchronize() {
    let drops = counter();
    let domain = RcuDomain::new();
    let mut reader = domain.register();
    let cell = RcuCell::new(&domain, Counted::new(0, &drops));
    assert_eq!(cell.read(&reader).value, 0);
    reader.offline();
    reader.offline(); // idempotent
    assert!(!reader.is_online());
    cell.publish(Counted::new(1, &drops));
    assert_eq!(dropped(&drops), 1);
    reader.online();
    assert_eq!(cell.read(&reader).value, 1);
    reader.quiescent();
}

/// Publishes on a control thread while `reader` (owned here) holds the old value. The old
/// value must stay alive until `release` runs; `release` may hand the reader back, to be kept
/// online and registered until the publish has returned.
fn blocked_publish_then(release: impl FnOnce(RcuReader) -> Option<RcuReader>) {
    let drops = counter();
    let domain = RcuDomain::new();
    let reader = domain.register();
    let cell = Arc::new(RcuCell::new(&domain, Counted::new(0, &drops)));
    let old = cell.read(&reader);
    assert_eq!(old.value, 0);
    let (tx, rx) = mpsc::channel();
    let control = {
        let cell = Arc::clone(&cell);
        let drops = Arc::clone(&drops);
        thread::spawn(move || {
            tx.send(()).expect("test thread alive");
            cell.publish(Counted::new(1, &drops));
        })
    };
    rx.recv().expect("control thread started");
    // Give the publisher every chance to (wrongly) free `old`; the assertion below is about
    // safety, not timing: it must hold however long we wait.
    thread::sleep(Duration::from_millis(20));
    assert_eq!(old.value, 0);
    assert_eq!(dropped(&drops), 0, "old value freed while a reader held it");
    let kept = release(reader);
    control.join().expect("publisher finished");
    assert_eq!(dropped(&drops), 1);
    if let Some(mut reader) = kept {
        reader.online();
        assert_eq!(cell.read(&reader).value, 1);
    }
}

#[test]
fn dropping_reader_unblocks_synchronize() {
    blocked_publish_then(|reader| {
        drop(reader);
        None
    });
}

#[test]
fn quiescent_reader_unblocks_synchronize() {
    blocked_publish_then(|mut reader| {
        // Once the grace period has started (epoch > 1), one quiescent point ends it; the
        // reader stays online and registered.
        while reader.domain.inner.epoch.load(Ordering::SeqCst) == 1 {
            thread::yield_now();
        }
        reader.quiescent();
        Some(reader)
    });
}

#[test]
fn going_offline_unblocks_synchronize() {
    blocked_publish_then(|mut reader| {
        reader.offline();
        Some(reader)
    });
}

#[test]
fn reader_registered_on_control_moves_to_worker() {
    let domain = RcuDomain::new();
    let cell = Arc::new(RcuCell::new(&domain, 7u64));
    let mut reader = domain.register();
    let worker = {
        let cell = Arc::clone(&cell);
        thread::spawn(move || {
            let v = *cell.read(&reader);
            reader.quiescent();
            v
        })
    };
    assert_eq!(worker.join().expect("worker"), 7);
    assert_eq!(domain.readers(), 0);
}

#[test]
fn concurrent_publishers_each_value_dropped_once() {
    const PER_WRITER: u64 = 200;
    let drops = counter();
    let domain = RcuDomain::new();
    let cell = Arc::new(RcuCell::new(&domain, Counted::new(0, &drops)));
    let writers: Vec<_> = (0..2u64)
        .map(|w| {
            let cell = Arc::clone(&cell);
            let drops = Arc::clone(&drops);
            thread::spawn(move || {
                for i in 0..PER_WRITER {
                    let v = Counted::new(w * 1000 + i, &drops);
                    if i % 2 == 0 {
                        cell.publish(v);
                    } else {
                        cell.publish_deferred(v);
                    }
                    let _ = cell.with_current(|v| v.value);
                }
            })
        })
        .collect();
    for w in writers {
        w.join().expect("writer");
    }
    domain.reclaim();
    assert_eq!(dropped(&drops), 2 * PER_WRITER as usize);
    drop(cell);
    assert_eq!(dropped(&drops), 2 * PER_WRITER as usize + 1);
}

#[test]
#[should_panic(expected = "offline")]
fn read_through_offline_reader_panics() {
    let domain = RcuDomain::new();
    let mut reader = domain.register();
    let cell = RcuCell::new(&domain, 0u8);
    reader.offline();
    let _ = cell.read(&reader);
}

#[test]
#[should_panic(expected = "different RcuDomain")]
fn read_through_foreign_reader_panics() {
    let domain = RcuDomain::new();
    let other = RcuDomain::new();
    let reader = other.register();
    let cell = RcuCell::new(&domain, 0u8);
    let _ = cell.read(&reader);
}

#[test]
fn with_current_survives_a_panicking_closure() {
    let domain = RcuDomain::new();
    let cell = Arc::new(RcuCell::new(&domain, 1u32));
    let c = Arc::clone(&cell);
    let r = thread::spawn(move || c.with_current(|_| panic!("boom"))).join();
    assert!(r.is_err());
    cell.publish(2);
    assert_eq!(cell.with_current(|v| *v), 2);
}

// ---------------------------------------------------------------------------------------
// Stress: two readers verify every table they see while a writer publishes generations.
// ---------------------------------------------------------------------------------------

/// Full size natively; small under Miri, which interprets every instruction.
const GENERATIONS: u64 = if cfg!(miri) { 40 } else { 10_000 };
const TABLE_LEN: usize = if cfg!(miri) { 16 } else { 1024 };
const POISON: u64 = 0xdead_dead_dead_dead;

/// A table whose consistency a reader can check: every entry is `gen`, `checksum` is
/// `gen * len`, `alive` is cleared (and entries poisoned) when it is dropped.
struct Table {
    generation: u64,
    entries: Vec<u64>,
    checksum: u64,
    alive: AtomicBool,
    drops: Arc<AtomicUsize>,
}

impl Table {
    fn new(generation: u64, drops: &Arc<AtomicUsize>) -> Self {
        Table {
            generation,
            entries: vec![generation; TABLE_LEN],
            checksum: generation * TABLE_LEN as u64,
            alive: AtomicBool::new(true),
            drops: Arc::clone(drops),
        }
    }

    fn verify(&self) {
        assert!(
            self.alive.load(Ordering::Relaxed),
            "reader saw a dropped table"
        );
        assert_eq!(self.entries.len(), TABLE_LEN, "torn table: length");
        let sum: u64 = self.entries.iter().sum();
        assert!(
            self.entries.iter().all(|&e| e == self.generation),
            "torn table: gen {} has a foreign entry",
            self.generation
        );
        assert_eq!(sum, self.checksum, "torn table: checksum");
        assert_eq!(self.checksum, self.generation * TABLE_LEN as u64);
    }
}

impl Drop for Table {
    fn drop(&mut self) {
        self.alive.store(false, Ordering::Relaxed);
        self.checksum = POISON;
        self.entries.iter_mut().for_each(|e| *e = POISON);
        self.drops.fetch_add(1, Ordering::SeqCst);
    }
}

fn reader_loop(cell: &RcuCell<Table>, mut reader: RcuReader, stop: &AtomicBool) -> u64 {
    let mut last = 0u64;
    let mut iterations = 0u64;
    while !stop.load(Ordering::Relaxed) {
        {
            let table = cell.read(&reader);
            table.verify();
            assert!(table.generation >= last, "generation went backwards");
            last = table.generation;
            // A second look inside the same critical section must see a whole table too.
            table.verify();
        }
        reader.quiescent();
        iterations += 1;
        if iterations & 511 == 0 {
            // Exercise the offline/online path (E3) now and then.
            reader.offline();
            thread::yield_now();
            reader.online();
        }
        if iterations & 31 == 0 {
            // CI has 2 cores: two readers that never yield leave the writer ~1 ms of
            // scheduling latency per grace period. A real worker owns its core.
            thread::yield_now();
        }
    }
    iterations
}

#[test]
fn stress_readers_never_see_torn_or_freed_tables() {
    let drops = counter();
    let domain = RcuDomain::new();
    let cell = Arc::new(RcuCell::new(&domain, Table::new(0, &drops)));
    let stop = Arc::new(AtomicBool::new(false));
    let readers: Vec<_> = (0..2)
        .map(|_| {
            let reader = domain.register();
            let cell = Arc::clone(&cell);
            let stop = Arc::clone(&stop);
            thread::spawn(move || reader_loop(&cell, reader, &stop))
        })
        .collect();

    let mut pending = 0;
    for generation in 1..=GENERATIONS {
        let table = Table::new(generation, &drops);
        if generation % 3 == 0 {
            cell.publish(table);
            pending = 0;
        } else {
            cell.publish_deferred(table);
            pending += 1;
            if pending == 8 {
                domain.reclaim();
                pending = 0;
            }
        }
    }
    domain.reclaim();
    assert_eq!(
        dropped(&drops),
        GENERATIONS as usize,
        "every old table dropped once"
    );

    stop.store(true, Ordering::Relaxed);
    for r in readers {
        let iterations = r.join().expect("reader found a torn or freed table");
        assert!(iterations > 0);
    }
    assert_eq!(domain.readers(), 0);
    drop(cell);
    assert_eq!(dropped(&drops), GENERATIONS as usize + 1);
}
