//! The packet: a frame with headroom, a small register file and fixed
//! metadata, and the per-worker pool that recycles packet buffers.
//!
//! Why this shape: a packet is one owned pointer, so moving it between the
//! frames of the vector executor moves a pointer, as moving an mbuf pointer
//! does in DPDK. It has two representations behind one API:
//!
//! * **heap**: a `Box<PacketBuf>` (metadata, registers, headroom, data) from a
//!   [`PacketPool`] filled once at start; needs no DPDK (tests, in-memory and
//!   pcap ports, dfperf's generator);
//! * **mbuf** (Cargo feature `dpdk`): a DPDK mbuf, whose private area (sized
//!   when its mempool is created) holds the same [`PrivArea`] (metadata and
//!   registers) and whose data is `mtod`/`data_len` of its single segment, so
//!   a frame goes from NIC to NIC without a copy.
//!
//! Every method matches on the representation; the branch is perfectly
//! predicted in a given deployment, and without the feature the enum has one
//! variant and the match compiles away. No caller sees which one it holds,
//! except through [`Packet::is_mbuf`] (ports that must copy a heap packet
//! into an mbuf ask).

mod pool;

pub use pool::PacketPool;

#[cfg(feature = "dpdk")]
use crate::dpdk::Mbuf;

/// Number of 32-bit registers a packet carries. The graph compiler allocates
/// one slot per named register (`source_port_key`, `network_key`, ...).
pub const REG_COUNT: usize = 8;
/// Bytes reserved in front of the frame for encapsulation (VLAN push, Geneve).
/// Equal to DPDK's `RTE_PKTMBUF_HEADROOM`, so both representations start a
/// received frame at the same offset.
pub const HEADROOM: usize = 128;
/// Largest frame a buffer holds after the headroom (DPDK's default data room
/// minus its headroom, for mbufs from [`crate::dpdk::Mempool`]'s default size).
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

/// Fixed per-packet metadata. `repr(C)`: it is part of [`PrivArea`], which
/// lives in an mbuf's private area.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Meta {
    /// Switch port the packet was received on.
    pub in_port: u16,
    /// Progress exits taken so far (every loop a layout allows crosses
    /// one); the executor drops past its hop limit.
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

/// What a packet carries besides its bytes: metadata and registers. The heap
/// representation embeds it; an mbuf holds it in its private area (40 bytes,
/// within the 64 that [`crate::dpdk::Mempool`] reserves).
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PrivArea {
    /// Fixed metadata.
    pub meta: Meta,
    /// The register file.
    pub regs: [u32; REG_COUNT],
}

/// The storage behind a heap [`Packet`]: metadata, registers, headroom and data.
///
/// Laid out like an mbuf: the [`PrivArea`] sits 128 bytes (`PRIV_OFFSET`) from
/// the start, where an mbuf's private area follows its 128-byte header, so
/// that [`Packet::meta`] and the register accessors compute the same address
/// for both representations and compile to one branch-free load.
#[derive(Debug)]
#[repr(C)]
pub struct PacketBuf {
    head: u16,
    len: u16,
    _hdr: [u8; PRIV_OFFSET - 4],
    pa: PrivArea,
    data: [u8; BUF_LEN],
}

/// Offset of the private area in both representations (the size of
/// DPDK's `struct rte_mbuf`).
pub(crate) const PRIV_OFFSET: usize = 128;

#[derive(Debug)]
enum Repr {
    Heap(Box<PacketBuf>),
    #[cfg(feature = "dpdk")]
    Mbuf(Mbuf),
}

/// One packet, owned by exactly one batch, frame or port at a time.
#[derive(Debug)]
pub struct Packet(Repr);

/// Expands to `$heap` with `$b: &(mut) PacketBuf` or `$mbuf` with `$m: &(mut) Mbuf`.
macro_rules! repr {
    ($self:expr, $b:ident => $heap:expr, $m:ident => $mbuf:expr) => {
        match $self {
            Repr::Heap($b) => $heap,
            #[cfg(feature = "dpdk")]
            Repr::Mbuf($m) => $mbuf,
        }
    };
}

impl Packet {
    pub(crate) fn new_buf() -> Packet {
        Packet(Repr::Heap(Box::new(PacketBuf {
            head: HEADROOM as u16,
            len: 0,
            _hdr: [0; PRIV_OFFSET - 4],
            pa: PrivArea::default(),
            data: [0; BUF_LEN],
        })))
    }

    /// A packet backed by `mbuf` (no copy). Its private area is kept as is.
    #[cfg(feature = "dpdk")]
    #[inline]
    pub fn from_mbuf(mbuf: Mbuf) -> Packet {
        Packet(Repr::Mbuf(mbuf))
    }

    /// The mbuf behind this packet, or the packet back if it is a heap one.
    #[cfg(feature = "dpdk")]
    #[inline]
    pub fn into_mbuf(self) -> Result<Mbuf, Packet> {
        match self.0 {
            Repr::Mbuf(m) => Ok(m),
            heap => Err(Packet(heap)),
        }
    }

    /// The mbuf behind this packet, if it is an mbuf one.
    #[cfg(feature = "dpdk")]
    #[inline]
    pub fn as_mbuf(&self) -> Option<&Mbuf> {
        match &self.0 {
            Repr::Mbuf(m) => Some(m),
            Repr::Heap(_) => None,
        }
    }

    /// True if a DPDK mbuf backs this packet (always false without the
    /// `dpdk` feature).
    #[inline]
    pub fn is_mbuf(&self) -> bool {
        repr!(&self.0, _b => false, _m => true)
    }

    #[inline]
    fn pa(&self) -> &PrivArea {
        repr!(&self.0, b => &b.pa, m => m.priv_area())
    }

    #[inline]
    fn pa_mut(&mut self) -> &mut PrivArea {
        repr!(&mut self.0, b => &mut b.pa, m => m.priv_area_mut())
    }

    /// Resets metadata, registers and length, keeping the buffer.
    #[inline]
    pub fn reset(&mut self) {
        *self.pa_mut() = PrivArea::default();
        repr!(&mut self.0, b => {
            b.head = HEADROOM as u16;
            b.len = 0;
        }, m => m.clear())
    }

    /// The frame bytes.
    #[inline]
    pub fn data(&self) -> &[u8] {
        repr!(&self.0, b => {
            let h = b.head as usize;
            &b.data[h..h + b.len as usize]
        }, m => m.data())
    }

    /// The frame bytes, writable.
    #[inline]
    pub fn data_mut(&mut self) -> &mut [u8] {
        repr!(&mut self.0, b => {
            let h = b.head as usize;
            &mut b.data[h..h + b.len as usize]
        }, m => m.data_mut())
    }

    /// Frame length in bytes.
    #[inline]
    pub fn len(&self) -> usize {
        repr!(&self.0, b => b.len as usize, m => m.len())
    }

    /// True for a zero-length frame.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Bytes free in front of the frame.
    #[inline]
    pub fn headroom(&self) -> usize {
        repr!(&self.0, b => b.head as usize, m => m.headroom())
    }

    /// Bytes free behind the frame.
    #[inline]
    pub fn tailroom(&self) -> usize {
        repr!(&self.0, b => BUF_LEN - b.head as usize - b.len as usize, m => m.tailroom())
    }

    /// Replaces the frame with `bytes` (from the default headroom). Returns
    /// false, leaving the packet unchanged, if `bytes` exceeds [`DATA_ROOM`]
    /// (for an mbuf: its buffer's room after the default headroom, which is
    /// [`DATA_ROOM`] for mbufs of a default-sized mempool).
    #[inline]
    pub fn set_data(&mut self, bytes: &[u8]) -> bool {
        self.set_data_at(HEADROOM, bytes)
    }

    /// Replaces the frame with `bytes` placed `head` bytes into the buffer.
    fn set_data_at(&mut self, head: usize, bytes: &[u8]) -> bool {
        repr!(&mut self.0, b => {
            let end = head + bytes.len();
            if end > BUF_LEN {
                return false;
            }
            b.head = head as u16;
            b.len = bytes.len() as u16;
            b.data[head..end].copy_from_slice(bytes);
            true
        }, m => m.set_data_at(head, bytes))
    }

    /// Grows the frame at the front by `n` bytes (like `rte_pktmbuf_prepend`)
    /// and returns the new front bytes; `None` if the headroom is too small.
    #[inline]
    pub fn prepend(&mut self, n: usize) -> Option<&mut [u8]> {
        repr!(&mut self.0, b => {
            if n > b.head as usize {
                return None;
            }
            b.head -= n as u16;
            b.len += n as u16;
            let h = b.head as usize;
            Some(&mut b.data[h..h + n])
        }, m => m.prepend(n))
    }

    /// Removes `n` bytes from the front (like `rte_pktmbuf_adj`); false if the
    /// frame is shorter than `n`.
    #[inline]
    pub fn adj(&mut self, n: usize) -> bool {
        repr!(&mut self.0, b => {
            if n > b.len as usize {
                return false;
            }
            b.head += n as u16;
            b.len -= n as u16;
            true
        }, m => m.adj(n))
    }

    /// Grows the frame at the back by `n` bytes and returns them; `None` if the
    /// tailroom is too small.
    #[inline]
    pub fn append(&mut self, n: usize) -> Option<&mut [u8]> {
        if n > self.tailroom() {
            return None;
        }
        repr!(&mut self.0, b => {
            let end = b.head as usize + b.len as usize;
            b.len += n as u16;
            Some(&mut b.data[end..end + n])
        }, m => m.append(n))
    }

    /// Cuts the frame to `len` bytes (no-op if it is shorter).
    #[inline]
    pub fn truncate(&mut self, len: usize) {
        repr!(&mut self.0, b => {
            if len < b.len as usize {
                b.len = len as u16;
            }
        }, m => m.truncate(len))
    }

    /// Metadata.
    #[inline]
    pub fn meta(&self) -> &Meta {
        &self.pa().meta
    }

    /// Metadata, writable.
    #[inline]
    pub fn meta_mut(&mut self) -> &mut Meta {
        &mut self.pa_mut().meta
    }

    /// True if the packet is traced.
    #[inline]
    pub fn traced(&self) -> bool {
        self.pa().meta.flags & Meta::TRACE != 0
    }

    /// Reads a register.
    #[inline]
    pub fn reg(&self, slot: RegSlot) -> u32 {
        self.pa().regs[slot.index() & (REG_COUNT - 1)]
    }

    /// Writes a register.
    #[inline]
    pub fn set_reg(&mut self, slot: RegSlot, value: u32) {
        self.pa_mut().regs[slot.index() & (REG_COUNT - 1)] = value;
    }

    /// The whole register file (for traces).
    #[inline]
    pub fn regs(&self) -> &[u32; REG_COUNT] {
        &self.pa().regs
    }

    /// Copies frame, metadata and registers into `dst` (for replication),
    /// whatever either packet's representation. The frame keeps its headroom
    /// when `dst`'s buffer has room for it there, else it starts at the
    /// default headroom; if it fits in neither way (an mbuf smaller than the
    /// frame), `dst` gets the metadata and registers and an empty frame.
    #[inline]
    pub fn copy_into(&self, dst: &mut Packet) {
        *dst.pa_mut() = *self.pa();
        let bytes = self.data();
        if !dst.set_data_at(self.headroom(), bytes) && !dst.set_data(bytes) {
            dst.truncate(0);
        }
    }
}

const _: () = assert!(REG_COUNT.is_power_of_two());
const _: () = assert!(BUF_LEN <= u16::MAX as usize);
const _: () = assert!(std::mem::size_of::<PrivArea>() == 40);
const _: () = assert!(std::mem::offset_of!(PacketBuf, pa) == PRIV_OFFSET);

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
        assert!(!p.is_mbuf());
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
        assert_eq!(b.headroom(), HEADROOM + 1);
        assert_eq!(b.reg(RegSlot::new(0).unwrap()), 42);
        assert_eq!(b.meta().in_port, 3);
    }
}
