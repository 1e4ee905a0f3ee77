//! [`Mempool`]: a DPDK pktmbuf pool sized for df-dp's packets.
//!
//! Why it is shaped so: every mbuf carries a private area between its header
//! and its buffer, sized once when the pool is created. df-dp keeps a
//! packet's metadata and registers ([`PrivArea`], 40 bytes) there, so the
//! pool reserves [`PRIV_SIZE`] = 64 bytes: a multiple of DPDK's
//! `RTE_MBUF_PRIV_ALIGN` (8), and a whole cache line, so the frame itself
//! still starts on a cache-line boundary (header 128 B + private 64 B +
//! headroom 128 B).
//!
//! # Thread-safety
//! `Send + Sync`: DPDK's default mempool ops are multi-producer and
//! multi-consumer, so any thread may allocate and free; threads registered
//! with EAL (see [`super::register_thread`]) go through a per-lcore cache.
//! Pools are shared with `Arc`; a pool is freed when the last `Arc` goes,
//! unless some of its mbufs are still out (then it is kept, with EAL, for
//! the rest of the process, so those mbufs stay valid).

use std::ffi::CString;
use std::ptr::NonNull;
use std::sync::Arc;

use df_dpdk_sys as sys;

use super::eal::EalInner;
use super::{rte_errno_text, DpdkError, Eal, Mbuf};
use crate::packet::PrivArea;

/// Bytes of mbuf private area our pools reserve (holds a [`PrivArea`]).
pub const PRIV_SIZE: u16 = 64;

const _: () = assert!(std::mem::size_of::<PrivArea>() <= PRIV_SIZE as usize);
const _: () = assert!(PRIV_SIZE as u32 & (sys::RTE_MBUF_PRIV_ALIGN - 1) == 0);
const _: () = assert!(std::mem::align_of::<PrivArea>() <= sys::RTE_MBUF_PRIV_ALIGN as usize);

/// A pktmbuf pool with [`PRIV_SIZE`] bytes of private area per mbuf.
///
/// # Thread-safety
/// `Send + Sync`, shared with `Arc`: any thread may allocate and free
/// (DPDK's ring ops are multi-producer/multi-consumer); counts read
/// concurrently are a moment's snapshot. Freed when the last `Arc` goes.
#[derive(Debug)]
pub struct Mempool {
    mp: NonNull<sys::rte_mempool>,
    name: String,
    size: u32,
    /// `None` only after a leak in `drop` (see the module doc).
    eal: Option<Arc<EalInner>>,
}

// SAFETY: the pointer is a DPDK mempool, whose default (ring) ops are
// MT-safe for get and put from any thread; the other fields are plain data.
unsafe impl Send for Mempool {}
// SAFETY: as for Send: every method takes &self and calls MT-safe DPDK
// functions (alloc, avail/in-use counts) or reads immutable fields.
unsafe impl Sync for Mempool {}

impl Mempool {
    /// Creates a pool of `n` mbufs (`2^k - 1` is the most memory-efficient)
    /// with a per-lcore cache of `cache` mbufs, `data_room` bytes of buffer
    /// per mbuf (headroom included; `RTE_MBUF_DEFAULT_BUF_SIZE` = 2176 gives
    /// [`crate::packet::DATA_ROOM`] after the headroom), on NUMA `socket`
    /// (`None`: any).
    ///
    /// # Errors
    /// A name in use or too long (`RTE_MEMPOOL_NAMESIZE`), `cache` above 512
    /// or above `n / 1.5`, `data_room` below the headroom (128), or not
    /// enough DPDK memory (more hugepages, or a larger `-m`).
    pub fn new(
        eal: &Eal,
        name: &str,
        n: u32,
        cache: u32,
        data_room: u16,
        socket: Option<i32>,
    ) -> Result<Arc<Mempool>, DpdkError> {
        let err = |text: String| DpdkError::Mempool {
            name: name.to_string(),
            text,
        };
        if u32::from(data_room) < sys::RTE_PKTMBUF_HEADROOM as u32 {
            return Err(err(format!(
                "data room {data_room} is smaller than the mbuf headroom ({})",
                sys::RTE_PKTMBUF_HEADROOM
            )));
        }
        if cache > sys::RTE_MEMPOOL_CACHE_MAX_SIZE || f64::from(cache) > f64::from(n) / 1.5 {
            return Err(err(format!(
                "cache size {cache} must be at most {} and at most n / 1.5 ({n} / 1.5)",
                sys::RTE_MEMPOOL_CACHE_MAX_SIZE
            )));
        }
        let cname = CString::new(name).map_err(|_| err("the name contains a NUL byte".into()))?;
        // SAFETY: EAL is initialised (`eal` exists); cname is a valid C
        // string that outlives the call (DPDK copies the name).
        let mp = unsafe {
            sys::rte_pktmbuf_pool_create(
                cname.as_ptr(),
                n,
                cache,
                PRIV_SIZE,
                data_room,
                socket.unwrap_or(sys::SOCKET_ID_ANY),
            )
        };
        let mp = NonNull::new(mp).ok_or_else(|| {
            err(format!(
                "rte_pktmbuf_pool_create({n} mbufs of {data_room} B) failed: {} \
                 (a name in use, or not enough DPDK memory: reserve more hugepages or raise -m)",
                rte_errno_text()
            ))
        })?;
        Ok(Arc::new(Mempool {
            mp,
            name: name.to_string(),
            size: n,
            eal: Some(eal.handle()),
        }))
    }

    /// The pool's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Mbufs in the pool.
    pub fn size(&self) -> u32 {
        self.size
    }

    /// Mbufs free (in the shared ring and every lcore cache).
    pub fn available(&self) -> u32 {
        // SAFETY: mp is a live mempool (created in `new`, freed only in Drop).
        unsafe { sys::rte_mempool_avail_count(self.mp.as_ptr()) }
    }

    /// Mbufs out of the pool: held by packets, drivers' rx rings, or in
    /// flight to a driver.
    pub fn in_use(&self) -> u32 {
        // SAFETY: mp is a live mempool (see `available`).
        unsafe { sys::rte_mempool_in_use_count(self.mp.as_ptr()) }
    }

    /// One mbuf, reset (empty frame at the default headroom, private area
    /// zeroed); `None` when the pool is empty.
    #[inline]
    pub fn alloc(&self) -> Option<Mbuf> {
        // SAFETY: mp is a live pktmbuf pool (see `available`).
        let m = unsafe { sys::df_pktmbuf_alloc(self.mp.as_ptr()) };
        let m = NonNull::new(m)?;
        // SAFETY: rte_pktmbuf_alloc returned a fresh, reset, single-segment
        // mbuf with refcnt 1 that nobody else holds, from this pool, whose
        // private area is PRIV_SIZE bytes (set in `new`).
        let mut m = unsafe { Mbuf::from_pool(m) };
        *m.priv_area_mut() = PrivArea::default();
        Some(m)
    }

    pub(crate) fn as_ptr(&self) -> *mut sys::rte_mempool {
        self.mp.as_ptr()
    }
}

impl Drop for Mempool {
    fn drop(&mut self) {
        if self.in_use() == 0 {
            // SAFETY: no mbuf of the pool is out (checked just now), and no
            // new one can be taken: this is the last reference to the pool
            // (ports and packet pools that use it hold an Arc to it).
            unsafe { sys::rte_mempool_free(self.mp.as_ptr()) };
        } else {
            // Mbufs are still out (a packet outlived its pool): keep the
            // pool's memory and EAL alive for the rest of the process so
            // freeing them later stays valid.
            std::mem::forget(self.eal.take());
        }
    }
}
