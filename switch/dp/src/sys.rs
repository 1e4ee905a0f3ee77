//! The few machine facts the datapath needs that safe Rust cannot express:
//! the time-stamp counter, and an allocation-counting global allocator for
//! benchmarks.
//!
//! This is one of the three fenced places in `df-dp` where `unsafe` is
//! allowed (with `rcu` and, with the `dpdk` feature, `dpdk`); see STYLE.md
//! rule 4. Each block states its invariant.
#![allow(unsafe_code)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// Reads the time-stamp counter: a cheap, monotonic cycle count used for
/// per-stage cycle accounting and rate limits. On targets without one it
/// falls back to nanoseconds since the first call.
#[inline(always)]
pub fn tsc() -> u64 {
    #[cfg(target_arch = "x86_64")]
    {
        // SAFETY: `rdtsc` has no memory effects and no preconditions; every
        // x86_64 CPU implements it (it is part of the x86_64 baseline).
        unsafe { core::arch::x86_64::_rdtsc() }
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        static START: OnceLock<Instant> = OnceLock::new();
        START.get_or_init(Instant::now).elapsed().as_nanos() as u64
    }
}

/// The TSC frequency in Hz, measured once (about 20 ms) and cached.
/// Used to turn cycle counts into rates (Mpps) and rate limits into cycles.
pub fn tsc_hz() -> u64 {
    static HZ: OnceLock<u64> = OnceLock::new();
    *HZ.get_or_init(|| {
        let t0 = Instant::now();
        let c0 = tsc();
        std::thread::sleep(Duration::from_millis(20));
        let c1 = tsc();
        let ns = t0.elapsed().as_nanos().max(1);
        ((c1.wrapping_sub(c0)) as u128 * 1_000_000_000 / ns) as u64
    })
}

/// A global allocator that counts allocations (alloc, alloc_zeroed,
/// realloc) and forwards them to the system allocator: benchmarks install it
/// (`#[global_allocator]`) to prove the steady state does not allocate.
#[derive(Debug)]
pub struct CountingAlloc;

static ALLOCS: AtomicU64 = AtomicU64::new(0);

/// Allocations made through [`CountingAlloc`] so far, in every thread
/// (0 when it is not the global allocator).
pub fn allocations() -> u64 {
    ALLOCS.load(Relaxed)
}

// SAFETY: every method forwards to `System` with the caller's arguments
// unchanged, so `System`'s guarantees are this allocator's; the counter has
// no effect on the memory returned.
unsafe impl GlobalAlloc for CountingAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCS.fetch_add(1, Relaxed);
        // SAFETY: the caller upholds `GlobalAlloc::alloc`'s contract (non-zero size), which is `System.alloc`'s.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        ALLOCS.fetch_add(1, Relaxed);
        // SAFETY: as for `alloc`.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCS.fetch_add(1, Relaxed);
        // SAFETY: the caller guarantees `ptr` came from this allocator (hence from `System`) with `layout`.
        unsafe { System.realloc(ptr, layout, new_size) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: the caller guarantees `ptr` came from this allocator (hence from `System`) with `layout`.
        unsafe { System.dealloc(ptr, layout) }
    }
}
