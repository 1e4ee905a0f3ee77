//! The packet: a buffer with headroom, a small register file and fixed
//! metadata, and the per-worker pool that recycles packet buffers.
//!
//! Why this shape: a packet is one pointer (`Box<PacketBuf>`), so moving it
//! between the frames of the vector executor moves 8 bytes, as moving an mbuf
//! pointer does in DPDK. The metadata and registers sit in front of the data,
//! where a DPDK mbuf keeps its private area, so an mbuf can back the same API
//! without a copy (the DPDK issue adds that backing behind these methods; no
//! caller sees the representation). Buffers come from a [`PacketPool`] that is
//! filled once at start, so the steady state never allocates.

/// Number of 32-bit registers a packet carries. The graph compiler allocates
/// one slot per named register (`source_port_key`, `network_key`, ...).
pub const REG_COUNT: usize = 8;
/// Bytes reserved in front of the frame for encapsulation (VLAN push, Geneve).
pub const HEADROOM: usize = 128;
/// Largest frame a buffer holds after the headroom.
pub const DATA_ROOM: usize = 2048;
const BUF_LEN: usize = HEADROOM + DATA_ROOM;

/// A register slot, given to an app by the graph compiler.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RegSlot(pub(crate) u8);

impl RegSlot {
    /// The slot's index in the register file.
    pub fn index(self) -> usize {
        self.0 as usize
    }
    /// A slot by index, for tests and tools. `None` past [`REG_COUNT`].
    pub fn new(index: usize) -> Option<RegSlot> {
        (index < REG_COUNT).then_some(RegSlot(index as u8))
    }
}

/// Fixed per-packet metadata.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Meta {
    /// Switch port the packet was received on.
    pub in_port: u16,
    /// Vertices visited so far; the executor drops past its hop limit.
    pub hops: u8,
    /// Flag bits ([`Meta::TRACE`]).
    pub flags: u8,
    /// Identifier of a traced packet (0 when not traced).
    pub trace_id: u32,
}

impl Meta {
    /// The packet is traced: every stage it crosses records into the trace ring.
    pub const TRACE: u8 = 1;
}

/// The storage behind a [`Packet`]: metadata, registers, headroom and data.
#[derive(Debug)]
pub struct PacketBuf {
    meta: Meta,
    regs: [u32; REG_COUNT],
    head: u16,
    len: u16,
    data: [u8; BUF_LEN],
}

/// One packet, owned by exactly one batch, frame or port at a time.
#[derive(Debug)]
pub struct Packet(Box<PacketBuf>);

impl Packet {
    fn new_buf() -> Packet {
        Packet(Box::new(PacketBuf {
            meta: Meta::default(),
            regs: [0; REG_COUNT],
            head: HEADROOM as u16,
            len: 0,
            data: [0; BUF_LEN],
        }))
    }

    /// Resets metadata, registers and length, keeping the buffer.
    #[inline]
    pub fn reset(&mut self) {
        let b = &mut *self.0;
        b.meta = Meta::default();
        b.regs = [0; REG_COUNT];
        b.head = HEADROOM as u16;
        b.len = 0;
    }

    /// The frame bytes.
    #[inline]
    pub fn data(&self) -> &[u8] {
        let b = &*self.0;
        let h = b.head as usize;
        &b.data[h..h + b.len as usize]
    }

    /// The frame bytes, writable.
    #[inline]
    pub fn data_mut(&mut self) -> &mut [u8] {
        let b = &mut *self.0;
        let h = b.head as usize;
        &mut b.data[h..h + b.len as usize]
    }

    /// Frame length in bytes.
    #[inline]
    pub fn len(&self) -> usize {
        self.0.len as usize
    }

    /// True for a zero-length frame.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.0.len == 0
    }

    /// Bytes free in front of the frame.
    #[inline]
    pub fn headroom(&self) -> usize {
        self.0.head as usize
    }

    /// Bytes free behind the frame.
    #[inline]
    pub fn tailroom(&self) -> usize {
        BUF_LEN - self.0.head as usize - self.0.len as usize
    }

    /// Replaces the frame with `bytes` (from the default headroom). Returns
    /// false, leaving the packet unchanged, if `bytes` exceeds [`DATA_ROOM`].
    #[inline]
    pub fn set_data(&mut self, bytes: &[u8]) -> bool {
        if bytes.len() > DATA_ROOM {
            return false;
        }
        let b = &mut *self.0;
        b.head = HEADROOM as u16;
        b.len = bytes.len() as u16;
        b.data[HEADROOM..HEADROOM + bytes.len()].copy_from_slice(bytes);
        true
    }

    /// Grows the frame at the front by `n` bytes (like `rte_pktmbuf_prepend`)
    /// and returns the new front bytes; `None` if the headroom is too small.
    #[inline]
    pub fn prepend(&mut self, n: usize) -> Option<&mut [u8]> {
        let b = &mut *self.0;
        if n > b.head as usize {
            return None;
        }
        b.head -= n as u16;
        b.len += n as u16;
        let h = b.head as usize;
        Some(&mut b.data[h..h + n])
    }

    /// Removes `n` bytes from the front (like `rte_pktmbuf_adj`); false if the
    /// frame is shorter than `n`.
    #[inline]
    pub fn adj(&mut self, n: usize) -> bool {
        let b = &mut *self.0;
        if n > b.len as usize {
            return false;
        }
        b.head += n as u16;
        b.len -= n as u16;
        true
    }

    /// Grows the frame at the back by `n` bytes and returns them; `None` if the
    /// tailroom is too small.
    #[inline]
    pub fn append(&mut self, n: usize) -> Option<&mut [u8]> {
        if n > self.tailroom() {
            return None;
        }
        let b = &mut *self.0;
        let end = b.head as usize + b.len as usize;
        b.len += n as u16;
        Some(&mut b.data[end..end + n])
    }

    /// Cuts the frame to `len` bytes (no-op if it is shorter).
    #[inline]
    pub fn truncate(&mut self, len: usize) {
        if len < self.0.len as usize {
            self.0.len = len as u16;
        }
    }

    /// Metadata.
    #[inline]
    pub fn meta(&self) -> &Meta {
        &self.0.meta
    }

    /// Metadata, writable.
    #[inline]
    pub fn meta_mut(&mut self) -> &mut Meta {
        &mut self.0.meta
    }

    /// True if the packet is traced.
    #[inline]
    pub fn traced(&self) -> bool {
        self.0.meta.flags & Meta::TRACE != 0
    }

    /// Reads a register.
    #[inline]
    pub fn reg(&self, slot: RegSlot) -> u32 {
        self.0.regs[slot.index() & (REG_COUNT - 1)]
    }

    /// Writes a register.
    #[inline]
    pub fn set_reg(&mut self, slot: RegSlot, value: u32) {
        self.0.regs[slot.index() & (REG_COUNT - 1)] = value;
    }

    /// The whole register file (for traces).
    #[inline]
    pub fn regs(&self) -> &[u32; REG_COUNT] {
        &self.0.regs
    }

    /// Copies frame, metadata and registers into `dst` (for replication).
    #[inline]
    pub fn copy_into(&self, dst: &mut Packet) {
        let s = &*self.0;
        let d = &mut *dst.0;
        d.meta = s.meta;
        d.regs = s.regs;
        d.head = s.head;
        d.len = s.len;
        let (h, l) = (s.head as usize, s.len as usize);
        d.data[h..h + l].copy_from_slice(&s.data[h..h + l]);
    }
}

const _: () = assert!(REG_COUNT.is_power_of_two());
const _: () = assert!(BUF_LEN <= u16::MAX as usize);

/// A per-worker free list of packet buffers, filled once at start.
///
/// `alloc` and `free` move boxes in and out of a vector whose capacity is
/// fixed at construction, so they never allocate. A pool that runs dry
/// returns `None` (the caller counts a drop); a packet freed into a full pool
/// (possible only when packets cross workers) is released to the allocator
/// and counted in [`PacketPool::overflow`].
#[derive(Debug)]
pub struct PacketPool {
    free: Vec<Packet>,
    capacity: usize,
    overflow: u64,
    exhausted: u64,
}

impl PacketPool {
    /// A pool holding `capacity` buffers (about 2.2 KiB each).
    pub fn new(capacity: usize) -> PacketPool {
        let mut free = Vec::with_capacity(capacity);
        free.extend((0..capacity).map(|_| Packet::new_buf()));
        PacketPool {
            free,
            capacity,
            overflow: 0,
            exhausted: 0,
        }
    }

    /// Takes a buffer, reset; `None` when the pool is empty.
    #[inline]
    pub fn alloc(&mut self) -> Option<Packet> {
        match self.free.pop() {
            Some(mut p) => {
                p.reset();
                Some(p)
            }
            None => {
                self.exhausted += 1;
                None
            }
        }
    }

    /// Returns a buffer to the pool.
    #[inline]
    pub fn free(&mut self, pkt: Packet) {
        if self.free.len() < self.capacity {
            self.free.push(pkt);
        } else {
            self.overflow += 1;
        }
    }

    /// Buffers currently free.
    pub fn available(&self) -> usize {
        self.free.len()
    }

    /// The pool's fixed size.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// How many `alloc` calls found the pool empty.
    pub fn exhausted(&self) -> u64 {
        self.exhausted
    }

    /// How many frees found the pool full (buffers released to the allocator).
    pub fn overflow(&self) -> u64 {
        self.overflow
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_prepend_adj_append() {
        let mut pool = PacketPool::new(2);
        let mut p = pool.alloc().unwrap();
        assert!(p.set_data(&[1, 2, 3, 4]));
        assert_eq!(p.data(), &[1, 2, 3, 4]);
        p.prepend(2).unwrap().copy_from_slice(&[9, 8]);
        assert_eq!(p.data(), &[9, 8, 1, 2, 3, 4]);
        assert_eq!(p.headroom(), HEADROOM - 2);
        assert!(p.adj(3));
        assert_eq!(p.data(), &[2, 3, 4]);
        p.append(1).unwrap()[0] = 5;
        assert_eq!(p.data(), &[2, 3, 4, 5]);
        p.truncate(1);
        assert_eq!(p.data(), &[2]);
        assert!(!p.adj(2));
        assert!(p.prepend(HEADROOM + 10).is_none());
        assert!(!p.set_data(&[0; DATA_ROOM + 1]));
    }

    #[test]
    fn pool_recycles_and_counts() {
        let mut pool = PacketPool::new(1);
        let mut p = pool.alloc().unwrap();
        p.set_reg(RegSlot::new(3).unwrap(), 7);
        p.meta_mut().flags = Meta::TRACE;
        assert!(pool.alloc().is_none());
        assert_eq!(pool.exhausted(), 1);
        pool.free(p);
        let p = pool.alloc().unwrap();
        assert_eq!(p.reg(RegSlot::new(3).unwrap()), 0, "alloc resets registers");
        assert!(!p.traced());
        let extra = Packet::new_buf();
        pool.free(p);
        pool.free(extra);
        assert_eq!(pool.overflow(), 1);
        assert_eq!(pool.available(), 1);
    }

    #[test]
    fn copy_into_copies_everything() {
        let mut pool = PacketPool::new(2);
        let mut a = pool.alloc().unwrap();
        let mut b = pool.alloc().unwrap();
        a.set_data(&[1, 2, 3]);
        a.adj(1);
        a.set_reg(RegSlot::new(0).unwrap(), 42);
        a.meta_mut().in_port = 3;
        a.copy_into(&mut b);
        assert_eq!(b.data(), &[2, 3]);
        assert_eq!(b.reg(RegSlot::new(0).unwrap()), 42);
        assert_eq!(b.meta().in_port, 3);
    }
}
