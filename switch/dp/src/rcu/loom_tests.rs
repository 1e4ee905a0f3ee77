//! Model-checked tests: `RUSTFLAGS="--cfg loom" cargo test --release --lib loom_`.
//!
//! Each published value is a [`Probe`]: its `Drop` writes a loom `UnsafeCell`, and every
//! reader reads that cell after `RcuCell::read`. Loom reports a causality violation if some
//! read does not happen-before the drop (a use after free) or if the constructor's write
//! does not happen-before a read (a torn, unpublished value), in any explored interleaving.

use super::*;
use loom::cell::UnsafeCell;
use loom::thread;

const FREED: u64 = u64::MAX;

struct Probe {
    generation: u64,
    cell: UnsafeCell<u64>,
}

// SAFETY: shared access to `cell` is read-only (`check`); the one write is in `Drop`, through
// `&mut self`. If the RCU code let a drop race with a read, loom's tracking reports it: that is
// the property under test, so `Sync` here must not be a blanket excuse, and it is not one.
unsafe impl Sync for Probe {}

impl Probe {
    fn new(generation: u64) -> Self {
        Probe {
            generation,
            cell: UnsafeCell::new(generation),
        }
    }

    /// Reads the tracked cell; returns the generation.
    fn check(&self) -> u64 {
        // SAFETY: `p` points into this live `Probe`'s cell; loom checks the access against
        // every other access to the cell and panics on a race (which is what we test for).
        let seen = self.cell.with(|p| unsafe { *p });
        assert_ne!(seen, FREED, "read a dropped value");
        assert_eq!(seen, self.generation, "read a torn value");
        seen
    }
}

impl Drop for Probe {
    fn drop(&mut self) {
        // SAFETY: `p` points into this `Probe`'s cell, which we own mutably here; loom checks
        // that every reader's access happened-before this write.
        self.cell.with_mut(|p| unsafe { *p = FREED });
    }
}

/// Runs `f` under loom with a preemption bound (3 unless `LOOM_MAX_PREEMPTIONS` is set),
/// which keeps each model to seconds.
fn model(f: impl Fn() + Sync + Send + 'static) {
    let mut builder = loom::model::Builder::new();
    if builder.preemption_bound.is_none() {
        builder.preemption_bound = Some(3);
    }
    builder.check(f);
}

/// A worker that reads `rounds` times, with a quiescent point after each read.
fn spawn_reader(
    cell: &Arc<RcuCell<Probe>>,
    mut reader: RcuReader,
    rounds: usize,
) -> thread::JoinHandle<()> {
    let cell = Arc::clone(cell);
    thread::spawn(move || {
        let mut last = 0;
        for _ in 0..rounds {
            let seen = cell.read(&reader).check();
            assert!(seen >= last, "generation went backwards");
            last = seen;
            reader.quiescent();
        }
        drop(reader);
    })
}

#[test]
fn loom_publish_twice_one_reader() {
    model(|| {
        let domain = RcuDomain::new();
        let cell = Arc::new(RcuCell::new(&domain, Probe::new(0)));
        let worker = spawn_reader(&cell, domain.register(), 2);
        cell.publish(Probe::new(1));
        cell.publish(Probe::new(2));
        worker.join().expect("reader");
        assert_eq!(cell.with_current(Probe::check), 2);
    });
}

#[test]
fn loom_publish_one_two_readers() {
    model(|| {
        let domain = RcuDomain::new();
        let cell = Arc::new(RcuCell::new(&domain, Probe::new(0)));
        let a = spawn_reader(&cell, domain.register(), 1);
        let b = spawn_reader(&cell, domain.register(), 1);
        cell.publish(Probe::new(1));
        a.join().expect("reader a");
        b.join().expect("reader b");
    });
}

#[test]
fn loom_deferred_then_reclaim() {
    model(|| {
        let domain = RcuDomain::new();
        let cell = Arc::new(RcuCell::new(&domain, Probe::new(0)));
        let worker = spawn_reader(&cell, domain.register(), 2);
        cell.publish_deferred(Probe::new(1));
        cell.publish_deferred(Probe::new(2));
        domain.reclaim();
        worker.join().expect("reader");
    });
}

/// (E3): a reader coming back online races with a publish (store-buffering).
#[test]
fn loom_offline_online_races_publish() {
    model(|| {
        let domain = RcuDomain::new();
        let cell = Arc::new(RcuCell::new(&domain, Probe::new(0)));
        let mut reader = domain.register();
        reader.offline();
        let worker = {
            let cell = Arc::clone(&cell);
            thread::spawn(move || {
                reader.online();
                cell.read(&reader).check();
                reader.quiescent();
                cell.read(&reader).check();
            })
        };
        cell.publish(Probe::new(1));
        worker.join().expect("reader");
    });
}

/// (E5): a reader registering on its own thread races with a publish.
#[test]
fn loom_register_races_publish() {
    model(|| {
        let domain = RcuDomain::new();
        let cell = Arc::new(RcuCell::new(&domain, Probe::new(0)));
        let worker = {
            let cell = Arc::clone(&cell);
            let domain = domain.clone();
            thread::spawn(move || {
                let mut reader = domain.register();
                cell.read(&reader).check();
                reader.quiescent();
                cell.read(&reader).check();
            })
        };
        cell.publish(Probe::new(1));
        worker.join().expect("reader");
    });
}

/// Two publishers on one cell, plus a control-side `with_current`.
#[test]
fn loom_two_publishers_and_with_current() {
    model(|| {
        let domain = RcuDomain::new();
        let cell = Arc::new(RcuCell::new(&domain, Probe::new(0)));
        let other = {
            let cell = Arc::clone(&cell);
            thread::spawn(move || cell.publish(Probe::new(1)))
        };
        cell.publish_deferred(Probe::new(2));
        cell.with_current(Probe::check);
        other.join().expect("publisher");
        domain.reclaim();
        let last = cell.with_current(Probe::check);
        assert!(last == 1 || last == 2);
    });
}
