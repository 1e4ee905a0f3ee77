//! RCU table publication: control builds a table off-core and swaps it in; poll-mode workers
//! read it with one load per batch; the old table is freed after a grace period.
//!
//! This module owns the only lock-free memory reclamation in the datapath (STYLE rule 6:
//! "control builds, then publishes"). It is quiescent-state-based RCU (QSBR), the scheme of
//! OVS's `ovs-rcu` and DPDK's `rte_rcu_qsbr`, because a poll-mode worker already has a
//! natural quiescent point (the top of its loop, between batches): announcing it there costs
//! one load and one store to a cache line the worker owns, and the read itself is a single
//! `Acquire` load with no read-modify-write, fence or reference count. Epoch-based schemes
//! (crossbeam-epoch) or hazard pointers put a fence or an RMW on every read; QSBR moves all
//! the cost to the writer, which is control and can afford to wait.
//!
//! The pieces:
//! - [`RcuDomain`]: one per datapath. A global epoch counter, the registry of reader slots,
//!   and a list of deferred garbage.
//! - [`RcuReader`]: one per worker thread. Its slot records the last epoch it saw at a
//!   quiescent point, or `OFFLINE` when it is not in grace-period accounting.
//! - [`RcuCell<T>`]: one published value (e.g. one app's lookup tables).
//!
//! The borrow checker enforces the read-side critical section: [`RcuCell::read`] returns a
//! reference that borrows the `&RcuReader`, and [`RcuReader::quiescent`] / [`RcuReader::offline`]
//! take `&mut self`, so no reference obtained through a reader survives its quiescent point.
//!
//! # Thread-safety
//!
//! **Who writes.** Any thread may publish to a cell ([`RcuCell::publish`],
//! [`RcuCell::publish_deferred`]); concurrent publishers to one cell are fine (the swap is
//! atomic and each publisher frees only the pointer its own swap returned; a per-cell mutex
//! serialises swaps against [`RcuCell::with_current`]). A thread that blocks for a grace
//! period ([`RcuDomain::synchronize`], [`RcuDomain::reclaim`], [`RcuCell::publish`]) must not
//! hold an online [`RcuReader`] of the same domain, or it waits for itself forever.
//!
//! **Who reads.** Workers, through their own [`RcuReader`] (Send, not Sync), with
//! [`RcuCell::read`]: one `Acquire` load of the cell pointer, which pairs with the publisher's
//! `AcqRel` swap so the reader sees the table fully built (never torn).
//!
//! **Orderings** (the numbered edges are cited in the code):
//! - (E1) Publish: `swap(new, AcqRel)` on the cell; then the grace period starts with
//!   `epoch.fetch_add(1, SeqCst)` giving `target`, then `fence(SeqCst)`, then the writer
//!   snapshots the registry and `Acquire`-loads each slot until it is `>= target` or
//!   `OFFLINE`.
//! - (E2) Quiescent point: `e = epoch.load(Acquire)`, `slot.store(e, Release)`. The `Release`
//!   store makes every read the worker did before it happen-before the writer's free (the
//!   writer's `Acquire` load of the slot reads it). The `Acquire` load matters for what comes
//!   *after*: if it reads `target` (or later; all epoch writes are RMWs, so they continue the
//!   release sequence) then the writer's swap happens-before the worker's next cell loads,
//!   which therefore return the new pointer. With a `Relaxed` epoch load (as the brief
//!   suggested) the worker could announce `target` and then still load the *old* pointer,
//!   which the writer is about to free; `Acquire` costs the same as `Relaxed` on x86 and is
//!   what `rte_rcu_qsbr_quiescent` uses too.
//! - (E3) Going online ([`RcuReader::online`], and [`RcuDomain::register`], which registers an
//!   offline slot then goes online): `e = epoch.load(Acquire)`, `slot.store(e, Relaxed)`,
//!   `fence(SeqCst)`. This is a store-buffering race against (E1): the worker stores its slot
//!   then loads the cell; the writer stores the cell then loads the slot. The two `SeqCst`
//!   fences are ordered in the single total order S: if the writer's fence is first, the
//!   worker's later cell load sees the new pointer; if the worker's fence is first, the
//!   writer's slot load sees `e` (or a later value) and so waits for it if `e < target`. Not on
//!   the hot path.
//! - (E4) Going offline: `slot.store(OFFLINE, Release)`: prior reads happen-before the free.
//! - (E5) Registry: a reader whose slot is not in the writer's snapshot registered after the
//!   snapshot, so the writer's `fetch_add` happens-before (through the registry mutex) the
//!   reader's first cell load, which therefore sees the new pointer.
//!
//! **Reclamation.** An old value is reachable only by readers that loaded the cell before the
//! swap. The writer bumps the epoch *after* the swap and waits until every reader in the
//! registry has either announced an epoch `>= target` (so by E2 it has finished with every
//! reference loaded before its announcement, and every later load returns the new pointer) or
//! is offline (E3, E4). It then drops the old value on its own thread: [`RcuCell::publish`]
//! does so at once; [`RcuCell::publish_deferred`] queues it on the domain and the next
//! [`RcuDomain::synchronize`] / [`RcuDomain::reclaim`] takes the queue *before* bumping the
//! epoch and drops it after waiting. Values still queued when the last [`RcuDomain`] clone
//! goes are dropped then (no reader can exist: each holds a clone).
//!
//! **Registry choice.** Slots are `Arc<CachePadded<AtomicU64>>` in a `Mutex<Vec<_>>`:
//! registration is rare, there is no fixed reader limit to size, and `synchronize` clones the
//! `Vec` under the lock then waits without it, so a worker can register or drop its reader
//! while a grace period is in progress (the snapshot's `Arc` keeps a dropped reader's slot
//! alive; its slot reads `OFFLINE`).
//!
//! **Liveness.** A reader that stays online without calling [`RcuReader::quiescent`] (or is
//! leaked with `mem::forget`) blocks every grace period: that is a bug in the worker loop, not
//! a safety issue. The epoch is a `u64` bumped once per grace period; it does not wrap.
//!
//! Under `cfg(loom)` the atomics, mutex, `Arc` and the backoff come from `loom` (see
//! `mod sync`), so the same code is model-checked by the `loom_*` tests.

#![allow(unsafe_code)]

use std::cell::Cell;
use std::fmt;
use std::marker::PhantomData;
use std::mem;

use crossbeam_utils::CachePadded;

use self::sync::{fence, lock, Arc, AtomicPtr, AtomicU64, Mutex, Ordering};

#[cfg(all(test, not(loom)))]
mod tests;

#[cfg(all(test, loom))]
mod loom_tests;

/// std or loom synchronisation types, so the same code runs natively and under the model
/// checker.
mod sync {
    #[cfg(loom)]
    pub(super) use loom::sync::atomic::{fence, AtomicPtr, AtomicU64, Ordering};
    #[cfg(loom)]
    pub(super) use loom::sync::{Arc, Mutex, MutexGuard};
    #[cfg(not(loom))]
    pub(super) use std::sync::atomic::{fence, AtomicPtr, AtomicU64, Ordering};
    #[cfg(not(loom))]
    pub(super) use std::sync::{Arc, Mutex, MutexGuard};

    /// Locks `m`, ignoring poison. Every mutex in this module guards data that a panic cannot
    /// leave half-updated (a `Vec` push/retain/take, or `()`), so poison carries no meaning.
    pub(super) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
        m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Waits a little before the writer re-checks a reader slot: spin, then yield, then sleep
    /// 50 us (the writer is control; it must not steal a worker's core for long).
    pub(super) struct GraceBackoff {
        #[cfg(not(loom))]
        inner: crossbeam_utils::Backoff,
    }

    impl GraceBackoff {
        pub(super) fn new() -> Self {
            GraceBackoff {
                #[cfg(not(loom))]
                inner: crossbeam_utils::Backoff::new(),
            }
        }

        pub(super) fn wait(&self) {
            #[cfg(loom)]
            loom::thread::yield_now();
            #[cfg(not(loom))]
            {
                if self.inner.is_completed() {
                    std::thread::sleep(std::time::Duration::from_micros(50));
                } else {
                    self.inner.snooze();
                }
            }
        }
    }
}

/// Slot value meaning "this reader is not in grace-period accounting". The epoch starts at 1,
/// so no online reader ever announces 0.
const OFFLINE: u64 = 0;

/// One reader's announcement: the last epoch it observed at a quiescent point, or `OFFLINE`.
/// Padded to its own cache line so workers never false-share.
type Slot = CachePadded<AtomicU64>;

/// Shared registry of reader threads (one per datapath). `Clone` is an `Arc` clone.
///
/// # Thread-safety
///
/// `Send + Sync`. The epoch is written only by grace-period waiters (`fetch_add`, `SeqCst`)
/// and read by readers at quiescent points (`Acquire`). The registry and the deferred list are
/// behind mutexes that only registration, unregistration, deferral and grace periods take;
/// the read path never touches them. See the module docs for the full ordering argument.
#[derive(Clone)]
pub struct RcuDomain {
    inner: Arc<DomainInner>,
}

struct DomainInner {
    /// Global epoch, starts at 1; bumped once per grace period.
    epoch: CachePadded<AtomicU64>,
    /// Slots of the registered readers.
    readers: Mutex<Vec<Arc<Slot>>>,
    /// Old values unlinked by `publish_deferred`, waiting for a grace period.
    deferred: Mutex<Vec<Deferred>>,
    /// Publications so far, on any cell of the domain (see [`RcuDomain::changes`]).
    changes: CachePadded<AtomicU64>,
}

impl RcuDomain {
    /// An empty domain: no readers, nothing deferred.
    pub fn new() -> Self {
        RcuDomain {
            inner: Arc::new(DomainInner {
                epoch: CachePadded::new(AtomicU64::new(1)),
                readers: Mutex::new(Vec::new()),
                deferred: Mutex::new(Vec::new()),
                changes: CachePadded::new(AtomicU64::new(0)),
            }),
        }
    }

    /// Registers a reader (a worker thread). The reader starts online: from now on every grace
    /// period waits for it until it calls [`RcuReader::quiescent`] or goes offline. Register it
    /// on control and move it into the worker, or register on the worker; both are fine.
    /// Unregistration is [`RcuReader`]'s `Drop`.
    pub fn register(&self) -> RcuReader {
        let slot = Arc::new(CachePadded::new(AtomicU64::new(OFFLINE)));
        lock(&self.inner.readers).push(Arc::clone(&slot));
        let mut reader = RcuReader {
            domain: self.clone(),
            slot,
            online: false,
            _not_sync: PhantomData,
        };
        // (E3)/(E5): the slot is in the registry (offline) before it goes online.
        reader.online();
        reader
    }

    /// Blocks until every reader that was online when this was called has passed a quiescent
    /// point after the call, or gone offline, or been dropped; then drops the values that
    /// [`RcuCell::publish_deferred`] queued before the call. Readers that register or come
    /// online during the wait are not waited for beyond their first quiescent point (and often
    /// not at all: see (E3)/(E5) in the module docs).
    ///
    /// Called by control, never by a worker: a thread holding an online [`RcuReader`] of this
    /// domain would wait for itself forever. Waits with a spin, then yield, then 50 us sleep
    /// backoff.
    pub fn synchronize(&self) {
        // Taken before the epoch bump: everything in it was unlinked before the grace period.
        let garbage = mem::take(&mut *lock(&self.inner.deferred));
        self.wait_for_readers();
        drop(garbage);
    }

    /// One grace period, then drop all deferred values. The same as [`RcuDomain::synchronize`];
    /// the separate name reads better at call sites that batch many `publish_deferred`s.
    pub fn reclaim(&self) {
        self.synchronize();
    }

    /// How many values have been published on the domain's cells so far. A reader
    /// that caches something derived from the cells' values (e.g. the executor's
    /// compiled port wires) loads this first and derives again when it moved: one
    /// `Acquire` load of a line that is written only when control publishes. The
    /// count is bumped (`Release`) after each swap, so a reader that sees the new
    /// count and then reads a cell sees that swap's value or a later one.
    #[inline]
    pub fn changes(&self) -> u64 {
        self.inner.changes.load(Ordering::Acquire)
    }

    /// Number of registered readers (for diagnostics; racy by nature).
    pub fn readers(&self) -> usize {
        lock(&self.inner.readers).len()
    }

    fn wait_for_readers(&self) {
        // (E1) The caller's swap is sequenced before this RMW. u64: cannot wrap in practice.
        let target = self.inner.epoch.fetch_add(1, Ordering::SeqCst) + 1;
        // (E3) Pairs with the fence in `RcuReader::online` (store-buffering).
        fence(Ordering::SeqCst);
        // (E5) A slot missing from the snapshot is registered after our fetch_add.
        let snapshot: Vec<Arc<Slot>> = lock(&self.inner.readers).clone();
        for slot in &snapshot {
            let backoff = sync::GraceBackoff::new();
            loop {
                // (E2)/(E4) Acquire: the reader's reads before its announcement
                // happen-before whatever the caller frees after we return.
                let seen = slot.load(Ordering::Acquire);
                if seen == OFFLINE || seen >= target {
                    break;
                }
                backoff.wait();
            }
        }
    }

    fn same_domain(&self, other: &RcuDomain) -> bool {
        Arc::ptr_eq(&self.inner, &other.inner)
    }
}

impl Default for RcuDomain {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for RcuDomain {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RcuDomain")
            .field("epoch", &self.inner.epoch.load(Ordering::Relaxed))
            .field("readers", &self.readers())
            .field("deferred", &lock(&self.inner.deferred).len())
            .finish()
    }
}

/// A registered reader: one per worker thread.
///
/// # Thread-safety
///
/// `Send` (create it on control, move it into the worker) but not `Sync` and not `Clone`: only
/// its owning thread announces quiescent points. Its slot is written only by this handle
/// (`Release` stores at quiescent/offline points, see (E2)-(E4)) and read by grace-period
/// waiters (`Acquire`). Dropping it unregisters it (it counts as offline forever).
pub struct RcuReader {
    domain: RcuDomain,
    slot: Arc<Slot>,
    /// Whether the slot currently holds an epoch (thread-local copy; `read` checks it).
    online: bool,
    /// `Cell` is `Send + !Sync`.
    _not_sync: PhantomData<Cell<()>>,
}

impl RcuReader {
    /// A quiescent point: the caller holds no reference obtained from any [`RcuCell::read`]
    /// through this reader (`&mut self` makes the borrow checker prove it). One `Acquire` load
    /// of the global epoch (a plain load on x86) and one `Release` store to the reader's own
    /// padded slot. A no-op while offline.
    #[inline]
    pub fn quiescent(&mut self) {
        if !self.online {
            return;
        }
        // (E2) Acquire, not Relaxed: see the module docs.
        let epoch = self.domain.inner.epoch.load(Ordering::Acquire);
        self.slot.store(epoch, Ordering::Release);
    }

    /// Takes this reader out of grace-period accounting (a worker going to sleep or exiting).
    /// While offline, [`RcuCell::read`] through it panics. Idempotent.
    pub fn offline(&mut self) {
        if !self.online {
            return;
        }
        // (E4)
        self.slot.store(OFFLINE, Ordering::Release);
        self.online = false;
    }

    /// Brings this reader back into grace-period accounting. Costs a full fence (E3); not for
    /// the per-batch path. Idempotent.
    pub fn online(&mut self) {
        if self.online {
            return;
        }
        // (E3)
        let epoch = self.domain.inner.epoch.load(Ordering::Acquire);
        self.slot.store(epoch, Ordering::Relaxed);
        fence(Ordering::SeqCst);
        self.online = true;
    }

    /// Whether the reader is online.
    pub fn is_online(&self) -> bool {
        self.online
    }
}

impl Drop for RcuReader {
    fn drop(&mut self) {
        // Offline first: a grace period in progress holds a snapshot with our slot and may be
        // waiting on it; it must not wait for us to get the registry lock.
        self.offline();
        let slot = &self.slot;
        lock(&self.domain.inner.readers).retain(|s| !Arc::ptr_eq(s, slot));
    }
}

impl fmt::Debug for RcuReader {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RcuReader")
            .field("online", &self.online)
            .field("slot", &self.slot.load(Ordering::Relaxed))
            .finish()
    }
}

/// A published value of type `T` (e.g. one app's lookup tables).
///
/// # Thread-safety
///
/// `Send + Sync` (given `T: Send + Sync`). The pointer is written by publishers (`AcqRel`
/// swap, under the cell's writer mutex) and read by workers through [`RcuCell::read`] (one
/// `Acquire` load; the mutex is never touched on the read path) and by control through
/// [`RcuCell::with_current`] (under the writer mutex). Old values are dropped on the
/// publishing (or reclaiming) thread after a grace period of the cell's [`RcuDomain`]; the
/// current value is dropped with the cell.
pub struct RcuCell<T: Send + Sync + 'static> {
    /// Always a live pointer from `Box::into_raw`; owned by the cell.
    current: AtomicPtr<T>,
    /// Serialises swaps against `with_current`; never taken by `read`.
    writer: Mutex<()>,
    domain: RcuDomain,
    _owns: PhantomData<T>,
}

impl<T: Send + Sync + 'static> RcuCell<T> {
    /// A cell holding `value`, whose old values are reclaimed through `domain`'s grace periods.
    pub fn new(domain: &RcuDomain, value: T) -> Self {
        RcuCell {
            current: AtomicPtr::new(Box::into_raw(Box::new(value))),
            writer: Mutex::new(()),
            domain: domain.clone(),
            _owns: PhantomData,
        }
    }

    /// The current value: one `Acquire` load (plus two plain-field checks). The reference lives
    /// no longer than both the cell borrow and the reader borrow, so the reader cannot pass a
    /// quiescent point (or go offline) while holding it.
    ///
    /// # Panics
    ///
    /// If `reader` is offline, or was registered with a different [`RcuDomain`] than the
    /// cell's: in both cases grace periods would not wait for it, so the reference could
    /// dangle. The check is two predictable branches on plain fields; the panic is cold.
    #[inline]
    pub fn read<'a>(&'a self, reader: &'a RcuReader) -> &'a T {
        if !reader.online || !self.domain.same_domain(&reader.domain) {
            read_misuse(reader.online);
        }
        // (E1) Acquire pairs with the publisher's AcqRel swap: the value is fully built.
        let ptr = self.current.load(Ordering::Acquire);
        // SAFETY: `ptr` came from `Box::into_raw` (invariant of `current`, set in `new` and
        // `swap`), so it is non-null and aligned. It stays valid for 'a: it is freed only by
        // (a) `Drop for RcuCell`, excluded because we borrow `&'a self`, or (b) a publisher
        // after a grace period of `self.domain` that began after the pointer was swapped out.
        // `reader` is online in that domain (checked above), so such a grace period cannot end
        // until this reader announces a quiescent point or goes offline (module docs, E1-E5),
        // which needs `&mut reader`, excluded because we borrow `&'a reader`.
        unsafe { &*ptr }
    }

    /// Publishes `value`: swaps it in (the old value becomes unreachable for new reads), waits
    /// for a grace period ([`RcuDomain::synchronize`], which also drops earlier deferred
    /// values), then drops the old value on the caller's thread. Returns after that drop.
    ///
    /// Must not be called by a thread holding an online reader of this domain (it would wait
    /// for itself), nor from inside [`RcuCell::with_current`] on the same cell (deadlock).
    pub fn publish(&self, value: T) {
        let old = self.swap(value);
        self.domain.synchronize();
        // SAFETY: `old` came from `Box::into_raw` (invariant of `current`) and our swap removed
        // it from the cell, so this call is its only owner (another publisher's swap returns a
        // different pointer). The grace period above began after the swap, so every reader
        // that could have loaded `old` has passed a quiescent point or gone offline since (E1-E5);
        // `with_current` cannot be looking at it (it runs under the writer mutex and loads
        // the pointer afresh, which `old` no longer is).
        let old = unsafe { Box::from_raw(old) };
        drop(old);
    }

    /// Publishes `value` without waiting: the old value is queued on the domain and dropped
    /// by a later [`RcuDomain::synchronize`] / [`RcuDomain::reclaim`] (or a later
    /// [`RcuCell::publish`] on any cell of the domain, which synchronizes), on that caller's
    /// thread. For control paths that batch many publishes, then one grace period.
    pub fn publish_deferred(&self, value: T) {
        let old = self.swap(value);
        // SAFETY: `old` came from `Box::into_raw` (invariant of `current`), our swap removed it
        // from the cell so we are its only owner, and we hand it to the deferred list, which
        // drops it only after a grace period that starts after it was queued (`synchronize`
        // takes the list before bumping the epoch) or when no reader can exist (the domain's
        // last clone is gone).
        let deferred = unsafe { Deferred::new(old) };
        lock(&self.domain.inner.deferred).push(deferred);
    }

    /// Control-side read of the current value, without a reader handle.
    ///
    /// Safe from any thread: it holds the cell's writer mutex while `f` runs, so no publisher
    /// can swap the current value out (let alone free it) meanwhile. It does not block readers.
    /// `f` must not publish to this same cell (the mutex is not reentrant: deadlock).
    pub fn with_current<R>(&self, f: impl FnOnce(&T) -> R) -> R {
        let _writer = lock(&self.writer);
        let ptr = self.current.load(Ordering::Acquire);
        // SAFETY: `ptr` came from `Box::into_raw` (invariant of `current`). Only a pointer that
        // a swap removed from the cell is ever freed (or the current one in `Drop`, excluded by
        // `&self`); swaps happen under `self.writer`, which we hold until `f` returns, so `ptr`
        // stays current and alive for the whole call.
        let value = unsafe { &*ptr };
        f(value)
    }

    /// The domain whose grace periods reclaim this cell's old values.
    pub fn domain(&self) -> &RcuDomain {
        &self.domain
    }

    /// Swaps `value` in and returns the old pointer, now owned by the caller.
    fn swap(&self, value: T) -> *mut T {
        let new = Box::into_raw(Box::new(value));
        let _writer = lock(&self.writer);
        // (E1) Release publishes the built value; Acquire gives us the previous publisher's
        // writes to the old one, which we will drop.
        let old = self.current.swap(new, Ordering::AcqRel);
        self.domain.inner.changes.fetch_add(1, Ordering::Release);
        old
    }
}

impl<T: Send + Sync + 'static> Drop for RcuCell<T> {
    fn drop(&mut self) {
        let ptr = self.current.load(Ordering::Acquire);
        // SAFETY: `ptr` came from `Box::into_raw` (invariant of `current`) and is owned by the
        // cell. `&mut self` proves no `read` or `with_current` reference is alive (both borrow
        // `&self`), and old values were already handed to publishers, so this is the last use.
        let value = unsafe { Box::from_raw(ptr) };
        drop(value);
    }
}

impl<T: Send + Sync + 'static> fmt::Debug for RcuCell<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RcuCell")
            .field("type", &std::any::type_name::<T>())
            .finish_non_exhaustive()
    }
}

#[cold]
#[inline(never)]
fn read_misuse(online: bool) -> ! {
    if online {
        panic!("RcuCell::read: the RcuReader belongs to a different RcuDomain than the cell");
    }
    panic!("RcuCell::read: the RcuReader is offline; call RcuReader::online first");
}

/// A type-erased old value waiting for a grace period: a `Box<T>` kept as a raw pointer (not
/// as a `Box`, which would assert unique access while readers may still hold `&T`).
///
/// Invariant: a `Deferred` is dropped only after a grace period that started after it was
/// created, or when no reader of its domain exists (see `publish_deferred`).
struct Deferred {
    ptr: *mut (),
    drop_fn: unsafe fn(*mut ()),
}

// SAFETY: a `Deferred` is only built from a `*mut T` with `T: Send` (`Deferred::new`), and all
// it does with it is drop the `T` on whichever thread drops the `Deferred`.
unsafe impl Send for Deferred {}

impl Deferred {
    /// # Safety
    ///
    /// `ptr` must come from `Box::<T>::into_raw`, be owned by the caller (no other owner will
    /// free it), and the `Deferred` must be dropped only after a grace period that starts after
    /// this call, or when no reader can hold the pointer.
    unsafe fn new<T: Send + 'static>(ptr: *mut T) -> Self {
        Deferred {
            ptr: ptr.cast(),
            drop_fn: drop_boxed::<T>,
        }
    }
}

impl Drop for Deferred {
    fn drop(&mut self) {
        // SAFETY: `drop_fn` is `drop_boxed::<T>` for the `T` that `ptr` was cast from
        // (`Deferred::new`), ownership was transferred to us there, and the type invariant
        // (dropped only after a grace period, or with no reader left) means nobody else
        // reads it any more.
        unsafe { (self.drop_fn)(self.ptr) }
    }
}

/// # Safety
///
/// `ptr` must come from `Box::<T>::into_raw`, be owned by the caller, and no other thread may
/// access the value any more.
unsafe fn drop_boxed<T>(ptr: *mut ()) {
    // SAFETY: the caller guarantees `ptr` is an owned, unaliased `Box<T>` allocation.
    drop(unsafe { Box::from_raw(ptr.cast::<T>()) });
}
