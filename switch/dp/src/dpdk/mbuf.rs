//! [`Mbuf`]: one owned DPDK mbuf, the storage behind an mbuf-backed
//! [`crate::Packet`], and [`FreeBulk`], which returns mbufs in bulk.
//!
//! Why it is shaped so: the packet API (data, prepend, adj, append,
//! truncate, metadata and registers) must cost on an mbuf what it costs on a
//! heap buffer, so the data-area operations read and write the mbuf header
//! fields directly (`buf_addr`, `data_off`, `data_len`, `pkt_len`, in its
//! first cache line) instead of calling DPDK's inline helpers through the C
//! shim. That is sound because an `Mbuf` is only ever a single-segment mbuf
//! it owns alone, with a private area at least [`PRIV_SIZE`] bytes long:
//! the invariant below, established by the constructors (`from_pool` for
//! fresh mbufs of our pools, `prepare_rx` + `from_prepared` for received ones).
//!
//! **Invariant (M).** The pointer is a live mbuf that this value owns
//! exclusively (refcnt 1, no other reference anywhere); it is a single
//! segment (`nb_segs == 1`, so `pkt_len == data_len`); its private area
//! (right after the 128-byte header) is at least [`PRIV_SIZE`] bytes; and,
//! as for every valid mbuf, `data_off + data_len <= buf_len` with `buf_addr`
//! valid for `buf_len` bytes. Operations below keep the last part.
//!
//! # Thread-safety
//! `Send` (ownership moves with the value; freeing into a mempool is
//! MT-safe), and `Sync` (shared references only read).

use std::mem::ManuallyDrop;
use std::ptr::NonNull;

use df_dpdk_sys as sys;

use super::PRIV_SIZE;
use crate::packet::PrivArea;

/// Offset of the private area: right after the mbuf header (rte_mbuf_to_priv).
/// Heap packets put theirs at the same offset (packet.rs).
const PRIV_OFFSET: usize = std::mem::size_of::<sys::rte_mbuf>();
const _: () = assert!(PRIV_OFFSET == crate::packet::PRIV_OFFSET);

/// One owned, single-segment DPDK mbuf (see invariant (M) in the module doc).
///
/// # Thread-safety
/// `Send` (sole ownership moves with it) and `Sync` (shared references only
/// read); dropping it frees the mbuf into its mempool from any thread.
#[derive(Debug)]
pub struct Mbuf(NonNull<sys::rte_mbuf>);

// SAFETY: (M) makes the value the only owner of the mbuf, so moving it to
// another thread moves sole access; DPDK's mempool put (its Drop) is MT-safe.
unsafe impl Send for Mbuf {}
// SAFETY: through &Mbuf only reads are possible (header fields, data,
// private area), and (M) rules out writers elsewhere.
unsafe impl Sync for Mbuf {}

impl Mbuf {
    /// Wraps a freshly allocated mbuf of one of our mempools.
    ///
    /// # Safety
    /// `m` came from `rte_pktmbuf_alloc` on a pool created by
    /// [`super::Mempool`] (so its private area is [`PRIV_SIZE`] bytes, it is
    /// reset to one empty segment with refcnt 1) and nothing else holds it.
    #[inline]
    pub(crate) unsafe fn from_pool(m: NonNull<sys::rte_mbuf>) -> Mbuf {
        Mbuf(m)
    }

    /// Checks an mbuf a driver returned from `rte_eth_rx_burst` for the
    /// parts of invariant (M) a driver could break: one segment, refcnt 1,
    /// a private area of at least [`PRIV_SIZE`] bytes (known without a look
    /// at the second cache line when it comes from `ours`), and resets its
    /// private area. Returns its frame length; on failure frees the mbuf
    /// and returns `None` (the caller counts a drop and forgets `m`).
    ///
    /// # Safety
    /// `m` is a live mbuf that the caller owns (just received); `ours` is a
    /// pool created by [`super::Mempool`] (or null).
    #[inline]
    pub(crate) unsafe fn prepare_rx(
        m: *mut sys::rte_mbuf,
        ours: *const sys::rte_mempool,
    ) -> Option<usize> {
        let m = NonNull::new(m)?;
        // SAFETY: m is live and owned by us (caller); a shared read of the header.
        let h = unsafe { m.as_ref() };
        let ok = h.nb_segs == 1
            && h.refcnt == 1
            && (std::ptr::eq(h.pool, ours) || h.priv_size >= PRIV_SIZE);
        let len = usize::from(h.data_len);
        if !ok {
            // SAFETY: live and owned (caller); not used after this.
            unsafe { sys::df_pktmbuf_free(m.as_ptr()) };
            return None;
        }
        let pa = m.as_ptr().cast::<u8>().wrapping_add(PRIV_OFFSET);
        // SAFETY: checked above: the private area holds at least PRIV_SIZE
        // bytes after the header, 8-aligned (see `priv_area`); we own it.
        unsafe { pa.cast::<PrivArea>().write(PrivArea::default()) };
        Some(len)
    }

    /// Wraps an mbuf that passed [`Mbuf::prepare_rx`].
    ///
    /// # Safety
    /// `m` passed `prepare_rx` (which returned `Some`), is still owned by
    /// the caller, and is wrapped only once.
    #[inline]
    pub(crate) unsafe fn from_prepared(m: *mut sys::rte_mbuf) -> Mbuf {
        // SAFETY: non-null: prepare_rx returns Some only for a non-null m,
        // and the caller passes such an m.
        Mbuf(unsafe { NonNull::new_unchecked(m) })
    }

    /// Gives up ownership (to a driver's tx burst or a bulk free).
    #[inline]
    pub(crate) fn into_raw(self) -> *mut sys::rte_mbuf {
        ManuallyDrop::new(self).0.as_ptr()
    }

    /// The raw pointer, ownership kept.
    #[inline]
    pub(crate) fn as_ptr(&self) -> *mut sys::rte_mbuf {
        self.0.as_ptr()
    }

    #[inline]
    fn hdr(&self) -> &sys::rte_mbuf {
        // SAFETY: (M): live and exclusively ours; &self rules out writers.
        unsafe { self.0.as_ref() }
    }

    #[inline]
    fn hdr_mut(&mut self) -> &mut sys::rte_mbuf {
        // SAFETY: (M): live and exclusively ours; &mut self is unique.
        unsafe { self.0.as_mut() }
    }

    /// The private area (metadata and registers).
    #[inline]
    pub fn priv_area(&self) -> &PrivArea {
        let p = self.0.as_ptr().cast::<u8>().wrapping_add(PRIV_OFFSET);
        // SAFETY: (M): the private area follows the header and holds at
        // least PRIV_SIZE >= size_of::<PrivArea>() bytes (asserted in
        // mempool.rs); it is 8-aligned (mbufs are cache-aligned, PRIV_OFFSET
        // is 128); every bit pattern is a valid PrivArea (integers only).
        unsafe { &*p.cast::<PrivArea>() }
    }

    /// The private area, writable.
    #[inline]
    pub fn priv_area_mut(&mut self) -> &mut PrivArea {
        let p = self.0.as_ptr().cast::<u8>().wrapping_add(PRIV_OFFSET);
        // SAFETY: as in `priv_area`; &mut self makes the access unique.
        unsafe { &mut *p.cast::<PrivArea>() }
    }

    #[inline]
    fn buf(&self) -> *mut u8 {
        self.hdr().buf_addr.cast::<u8>()
    }

    /// The frame bytes (the single segment's data).
    #[inline]
    pub fn data(&self) -> &[u8] {
        let h = self.hdr();
        let p = self.buf().wrapping_add(usize::from(h.data_off));
        // SAFETY: (M): data_off + data_len <= buf_len and buf_addr is valid
        // for buf_len bytes, owned by us; &self rules out writers.
        unsafe { std::slice::from_raw_parts(p, usize::from(h.data_len)) }
    }

    /// The frame bytes, writable.
    #[inline]
    pub fn data_mut(&mut self) -> &mut [u8] {
        let (off, len) = (self.hdr().data_off, self.hdr().data_len);
        let p = self.buf().wrapping_add(usize::from(off));
        // SAFETY: as in `data`; &mut self makes the access unique.
        unsafe { std::slice::from_raw_parts_mut(p, usize::from(len)) }
    }

    /// Frame length.
    #[inline]
    pub fn len(&self) -> usize {
        usize::from(self.hdr().data_len)
    }

    /// True for an empty frame.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.hdr().data_len == 0
    }

    /// Bytes free in front of the frame.
    #[inline]
    pub fn headroom(&self) -> usize {
        usize::from(self.hdr().data_off)
    }

    /// Bytes free behind the frame.
    #[inline]
    pub fn tailroom(&self) -> usize {
        let h = self.hdr();
        usize::from(h.buf_len) - usize::from(h.data_off) - usize::from(h.data_len)
    }

    #[inline]
    fn set_span(&mut self, off: usize, len: usize) {
        let h = self.hdr_mut();
        debug_assert!(off + len <= usize::from(h.buf_len));
        h.data_off = off as u16;
        h.data_len = len as u16;
        h.pkt_len = len as u32;
    }

    /// Empties the frame and restores the default headroom (as
    /// `rte_pktmbuf_reset_headroom`).
    #[inline]
    pub fn clear(&mut self) {
        let room = usize::from(self.hdr().buf_len);
        self.set_span(room.min(sys::RTE_PKTMBUF_HEADROOM as usize), 0);
    }

    /// Replaces the frame with `bytes` starting `head` bytes into the
    /// buffer; false (unchanged) if it does not fit.
    #[inline]
    pub fn set_data_at(&mut self, head: usize, bytes: &[u8]) -> bool {
        if head + bytes.len() > usize::from(self.hdr().buf_len) {
            return false;
        }
        self.set_span(head, bytes.len());
        self.data_mut().copy_from_slice(bytes);
        true
    }

    /// Grows the frame at the front (`rte_pktmbuf_prepend`); `None` if the
    /// headroom is short.
    #[inline]
    pub fn prepend(&mut self, n: usize) -> Option<&mut [u8]> {
        let (off, len) = (self.headroom(), self.len());
        if n > off {
            return None;
        }
        self.set_span(off - n, len + n);
        Some(&mut self.data_mut()[..n])
    }

    /// Drops `n` bytes at the front (`rte_pktmbuf_adj`); false if the frame
    /// is shorter.
    #[inline]
    pub fn adj(&mut self, n: usize) -> bool {
        let (off, len) = (self.headroom(), self.len());
        if n > len {
            return false;
        }
        self.set_span(off + n, len - n);
        true
    }

    /// Grows the frame at the back (`rte_pktmbuf_append`); `None` if the
    /// tailroom is short.
    #[inline]
    pub fn append(&mut self, n: usize) -> Option<&mut [u8]> {
        if n > self.tailroom() {
            return None;
        }
        let (off, len) = (self.headroom(), self.len());
        self.set_span(off, len + n);
        Some(&mut self.data_mut()[len..])
    }

    /// Cuts the frame to `len` bytes (no-op if shorter).
    #[inline]
    pub fn truncate(&mut self, len: usize) {
        if len < self.len() {
            let off = self.headroom();
            self.set_span(off, len);
        }
    }
}

impl Drop for Mbuf {
    fn drop(&mut self) {
        // SAFETY: (M): live and exclusively ours; not used after this. Its
        // mempool is still valid: a mempool with mbufs out is never freed.
        unsafe { sys::df_pktmbuf_free(self.0.as_ptr()) };
    }
}

/// Mbufs waiting to be freed, returned to their mempools with one
/// `rte_pktmbuf_free_bulk` when the array fills or on `flush`.
pub(crate) struct FreeBulk {
    bufs: [*mut sys::rte_mbuf; FREE_BULK],
    n: usize,
}

const FREE_BULK: usize = 64;

// SAFETY: bufs[..n] are mbufs this value owns exclusively (each came from
// `Mbuf::into_raw`); freeing them from another thread is MT-safe.
unsafe impl Send for FreeBulk {}

impl std::fmt::Debug for FreeBulk {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FreeBulk")
            .field("pending", &self.n)
            .finish()
    }
}

impl FreeBulk {
    pub(crate) fn new() -> FreeBulk {
        FreeBulk {
            bufs: [std::ptr::null_mut(); FREE_BULK],
            n: 0,
        }
    }

    /// Queues `m` for freeing.
    #[inline]
    pub(crate) fn push(&mut self, m: Mbuf) {
        if self.n == FREE_BULK {
            self.flush();
        }
        if let Some(slot) = self.bufs.get_mut(self.n) {
            *slot = m.into_raw();
            self.n += 1;
        }
    }

    /// Frees every queued mbuf.
    #[inline]
    pub(crate) fn flush(&mut self) {
        if self.n > 0 {
            // SAFETY: bufs[..n] are owned mbufs (see the Send impl), each
            // queued once and forgotten by its Mbuf; none is used after this.
            unsafe { sys::rte_pktmbuf_free_bulk(self.bufs.as_mut_ptr(), self.n as u32) };
            self.n = 0;
        }
    }
}

impl Drop for FreeBulk {
    fn drop(&mut self) {
        self.flush();
    }
}
