//! 802.1Q and 802.1ad VLAN tags, and the walk over a frame's tag stack.
//!
//! A tag is the 4 bytes that follow a TPID of 0x8100 (C-tag) or 0x88a8
//! (S-tag): the TCI (priority, drop-eligible bit, VLAN id) and the EtherType
//! of what follows. The TPID itself sits in the enclosing EtherType field, so
//! the [`Tag`] view starts at the TCI, which makes a tag look like any other
//! "header + payload" layer.
//!
//! The switch accepts at most two tags (QinQ); [`walk_tags`] reports a third
//! one as [`Error::Unsupported`] instead of looping over attacker-chosen
//! depth.

use crate::bytes::{clamped, clamped_mut, get_u16, set_u16};
use crate::ethernet::{self, EtherType};
use crate::{Error, Result};

mod field {
    use core::ops::Range;

    pub const TCI: Range<usize> = 0..2;
    pub const ETHERTYPE: Range<usize> = 2..4;
    pub const PAYLOAD: usize = 4;
}

/// Length of one tag after its TPID.
pub const HEADER_LEN: usize = field::PAYLOAD;

/// Maximum number of tags [`walk_tags`] accepts.
pub const MAX_TAGS: usize = 2;

/// `true` for the EtherTypes that introduce a VLAN tag.
pub fn is_tpid(ethertype: EtherType) -> bool {
    matches!(ethertype, EtherType::Vlan | EtherType::QinQ)
}

/// A zero-copy view of one VLAN tag (TCI + inner EtherType + payload).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tag<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Tag<T> {
    /// Wraps a buffer without checking its length.
    pub const fn new_unchecked(buffer: T) -> Tag<T> {
        Tag { buffer }
    }

    /// Wraps a buffer and checks that the tag fits.
    ///
    /// # Errors
    /// See [`check_len`](Self::check_len).
    pub fn new_checked(buffer: T) -> Result<Tag<T>> {
        let tag = Self::new_unchecked(buffer);
        tag.check_len()?;
        Ok(tag)
    }

    /// Checks that the 4 tag bytes are present.
    ///
    /// # Errors
    /// [`Error::Truncated`] if they are not.
    pub fn check_len(&self) -> Result<()> {
        if self.buffer.as_ref().len() < HEADER_LEN {
            return Err(Error::Truncated);
        }
        Ok(())
    }

    /// Unwraps the buffer.
    pub fn into_inner(self) -> T {
        self.buffer
    }

    fn tci(&self) -> u16 {
        get_u16(self.buffer.as_ref(), field::TCI.start)
    }

    /// Priority code point (0..=7).
    pub fn pcp(&self) -> u8 {
        (self.tci() >> 13) as u8
    }

    /// Drop-eligible indicator.
    pub fn dei(&self) -> bool {
        self.tci() & 0x1000 != 0
    }

    /// VLAN identifier (0..=4095).
    pub fn vid(&self) -> u16 {
        self.tci() & 0x0fff
    }

    /// EtherType of what follows the tag.
    pub fn ethertype(&self) -> EtherType {
        EtherType::from(get_u16(self.buffer.as_ref(), field::ETHERTYPE.start))
    }

    /// Bytes after the tag.
    pub fn payload(&self) -> &[u8] {
        let data = self.buffer.as_ref();
        clamped(data, field::PAYLOAD, data.len())
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Tag<T> {
    fn set_tci(&mut self, tci: u16) {
        set_u16(self.buffer.as_mut(), field::TCI.start, tci);
    }

    /// Sets the priority (low 3 bits of `pcp`).
    pub fn set_pcp(&mut self, pcp: u8) {
        let tci = (self.tci() & 0x1fff) | (u16::from(pcp & 0x7) << 13);
        self.set_tci(tci);
    }

    /// Sets the drop-eligible bit.
    pub fn set_dei(&mut self, dei: bool) {
        let tci = (self.tci() & !0x1000) | (u16::from(dei) << 12);
        self.set_tci(tci);
    }

    /// Sets the VLAN id (low 12 bits of `vid`).
    pub fn set_vid(&mut self, vid: u16) {
        let tci = (self.tci() & 0xf000) | (vid & 0x0fff);
        self.set_tci(tci);
    }

    /// Sets the inner EtherType.
    pub fn set_ethertype(&mut self, ethertype: EtherType) {
        set_u16(
            self.buffer.as_mut(),
            field::ETHERTYPE.start,
            ethertype.into(),
        );
    }

    /// Mutable bytes after the tag.
    pub fn payload_mut(&mut self) -> &mut [u8] {
        let data = self.buffer.as_mut();
        let len = data.len();
        clamped_mut(data, field::PAYLOAD, len)
    }
}

/// The owned content of one tag.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Repr {
    /// Priority code point; only the low 3 bits are emitted.
    pub pcp: u8,
    /// Drop-eligible indicator.
    pub dei: bool,
    /// VLAN id; only the low 12 bits are emitted.
    pub vid: u16,
    /// EtherType of what follows.
    pub ethertype: EtherType,
}

impl Repr {
    /// Reads a tag.
    ///
    /// # Errors
    /// [`Error::Truncated`] if the buffer is shorter than 4 bytes.
    pub fn parse<T: AsRef<[u8]>>(tag: &Tag<T>) -> Result<Repr> {
        tag.check_len()?;
        Ok(Repr {
            pcp: tag.pcp(),
            dei: tag.dei(),
            vid: tag.vid(),
            ethertype: tag.ethertype(),
        })
    }

    /// Tag length (4).
    pub const fn header_len(&self) -> usize {
        HEADER_LEN
    }

    /// Bytes `emit` writes (4).
    pub const fn buffer_len(&self) -> usize {
        HEADER_LEN
    }

    /// Writes the tag.
    ///
    /// # Panics
    /// If the buffer is shorter than [`buffer_len`](Self::buffer_len).
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(&self, tag: &mut Tag<T>) {
        let tci =
            (u16::from(self.pcp & 0x7) << 13) | (u16::from(self.dei) << 12) | (self.vid & 0x0fff);
        tag.set_tci(tci);
        tag.set_ethertype(self.ethertype);
    }
}

/// One tag found by [`walk_tags`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TagInfo {
    /// The TPID that introduced the tag (0x8100 or 0x88a8).
    pub tpid: EtherType,
    /// Priority code point.
    pub pcp: u8,
    /// Drop-eligible indicator.
    pub dei: bool,
    /// VLAN id.
    pub vid: u16,
    /// Offset of the tag's TCI from the frame start.
    pub offset: usize,
}

/// The tags of a frame, outermost first, and where L3 starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TagStack {
    tags: [Option<TagInfo>; MAX_TAGS],
    /// EtherType after the last tag (the frame's EtherType if untagged).
    pub ethertype: EtherType,
    /// Offset of the L3 header from the frame start.
    pub l3_offset: usize,
}

impl TagStack {
    /// Number of tags (0..=2).
    pub fn len(&self) -> usize {
        self.tags.iter().flatten().count()
    }

    /// `true` for an untagged frame.
    pub fn is_empty(&self) -> bool {
        self.tags[0].is_none()
    }

    /// The outermost tag.
    pub fn outer(&self) -> Option<TagInfo> {
        self.tags[0]
    }

    /// The innermost tag (the outer one when there is only one).
    pub fn inner(&self) -> Option<TagInfo> {
        self.tags[1].or(self.tags[0])
    }

    /// Tags, outermost first.
    pub fn iter(&self) -> impl Iterator<Item = TagInfo> + '_ {
        self.tags.iter().flatten().copied()
    }
}

/// Walks the tag stack of an Ethernet frame to the inner EtherType.
///
/// # Errors
/// [`Error::Truncated`] if the frame ends inside the Ethernet header or a
/// tag; [`Error::Unsupported`] for more than [`MAX_TAGS`] tags.
pub fn walk_tags(frame: &[u8]) -> Result<TagStack> {
    let eth = ethernet::Frame::new_checked(frame)?;
    let mut stack = TagStack {
        tags: [None; MAX_TAGS],
        ethertype: eth.ethertype(),
        l3_offset: ethernet::HEADER_LEN,
    };
    let mut depth = 0;
    while is_tpid(stack.ethertype) {
        let slot = stack.tags.get_mut(depth).ok_or(Error::Unsupported)?;
        let rest = frame.get(stack.l3_offset..).ok_or(Error::Truncated)?;
        let tag = Tag::new_checked(rest)?;
        *slot = Some(TagInfo {
            tpid: stack.ethertype,
            pcp: tag.pcp(),
            dei: tag.dei(),
            vid: tag.vid(),
            offset: stack.l3_offset,
        });
        stack.ethertype = tag.ethertype();
        stack.l3_offset += HEADER_LEN;
        depth += 1;
    }
    Ok(stack)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::{ARP_REQUEST, QINQ_UDP};
    use proptest::prelude::*;

    #[test]
    fn deconstruct_qinq() {
        let stack = walk_tags(&QINQ_UDP).unwrap();
        assert_eq!(stack.len(), 2);
        let outer = stack.outer().unwrap();
        assert_eq!(
            (outer.tpid, outer.pcp, outer.vid, outer.offset),
            (EtherType::QinQ, 3, 100, 14)
        );
        let inner = stack.inner().unwrap();
        assert_eq!(
            (inner.tpid, inner.pcp, inner.dei, inner.vid),
            (EtherType::Vlan, 5, true, 200)
        );
        assert_eq!(stack.ethertype, EtherType::Ipv4);
        assert_eq!(stack.l3_offset, 22);
        let tag = Tag::new_checked(&QINQ_UDP[18..]).unwrap();
        assert_eq!(tag.ethertype(), EtherType::Ipv4);
        assert_eq!(tag.payload()[0], 0x45);
    }

    #[test]
    fn untagged() {
        let stack = walk_tags(&ARP_REQUEST).unwrap();
        assert!(stack.is_empty());
        assert_eq!(stack.inner(), None);
        assert_eq!((stack.ethertype, stack.l3_offset), (EtherType::Arp, 14));
    }

    #[test]
    fn construct() {
        let repr = Repr {
            pcp: 3,
            dei: false,
            vid: 100,
            ethertype: EtherType::Vlan,
        };
        let mut buf = [0u8; 4];
        repr.emit(&mut Tag::new_unchecked(&mut buf[..]));
        assert_eq!(buf, QINQ_UDP[14..18]);
    }

    #[test]
    fn malformed() {
        assert_eq!(walk_tags(&QINQ_UDP[..20]), Err(Error::Truncated));
        assert_eq!(walk_tags(&QINQ_UDP[..10]), Err(Error::Truncated));
        // Three tags.
        let mut frame = [0u8; 30];
        frame[12..14].copy_from_slice(&[0x81, 0x00]);
        frame[16..18].copy_from_slice(&[0x81, 0x00]);
        frame[20..22].copy_from_slice(&[0x81, 0x00]);
        assert_eq!(walk_tags(&frame), Err(Error::Unsupported));
        assert_eq!(
            Repr::parse(&Tag::new_unchecked(&[0u8; 2][..])),
            Err(Error::Truncated)
        );
    }

    #[test]
    fn setters_touch_only_their_bits() {
        let mut buf = [0xffu8; 4];
        let mut tag = Tag::new_unchecked(&mut buf[..]);
        tag.set_vid(5);
        tag.set_pcp(0);
        assert_eq!((tag.pcp(), tag.dei(), tag.vid()), (0, true, 5));
        tag.set_dei(false);
        assert!(!tag.dei());
        assert_eq!(tag.payload_mut().len(), 0);
    }

    proptest! {
        #[test]
        fn round_trip(pcp in 0u8..8, dei in any::<bool>(), vid in 0u16..4096, et in any::<u16>()) {
            let repr = Repr { pcp, dei, vid, ethertype: EtherType::from(et) };
            let mut buf = [0u8; 4];
            repr.emit(&mut Tag::new_unchecked(&mut buf[..]));
            prop_assert_eq!(Repr::parse(&Tag::new_checked(&buf[..]).unwrap()), Ok(repr));
        }
    }
}
