//! MPLS label stack entries (RFC 3032).
//!
//! Each entry is 4 bytes: a 20-bit label, 3-bit traffic class, the
//! bottom-of-stack bit and a TTL. A stack is a run of entries ending with
//! the S bit; [`MplsStack`] walks it, reports a stack that ends before its
//! S bit as [`Error::Truncated`], and caps the depth at [`MAX_DEPTH`].

use crate::bytes::{clamped, clamped_mut, get_u32, set_u32};
use crate::{Error, Result};

/// Length of one label stack entry.
pub const ENTRY_LEN: usize = 4;
/// Deepest stack [`MplsStack`] accepts.
pub const MAX_DEPTH: usize = 16;

/// A zero-copy view of one label stack entry and what follows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Packet<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Packet<T> {
    /// Wraps a buffer without checking it.
    pub const fn new_unchecked(buffer: T) -> Packet<T> {
        Packet { buffer }
    }

    /// Wraps a buffer and checks that the entry fits.
    ///
    /// # Errors
    /// See [`check_len`](Self::check_len).
    pub fn new_checked(buffer: T) -> Result<Packet<T>> {
        let packet = Self::new_unchecked(buffer);
        packet.check_len()?;
        Ok(packet)
    }

    /// # Errors
    /// [`Error::Truncated`] if the buffer is shorter than 4 bytes.
    pub fn check_len(&self) -> Result<()> {
        if self.buffer.as_ref().len() < ENTRY_LEN {
            return Err(Error::Truncated);
        }
        Ok(())
    }

    /// Unwraps the buffer.
    pub fn into_inner(self) -> T {
        self.buffer
    }

    fn entry(&self) -> u32 {
        get_u32(self.buffer.as_ref(), 0)
    }

    /// Label (20 bits).
    pub fn label(&self) -> u32 {
        self.entry() >> 12
    }

    /// Traffic class (3 bits).
    pub fn tc(&self) -> u8 {
        ((self.entry() >> 9) & 0x7) as u8
    }

    /// Bottom of stack.
    pub fn bottom_of_stack(&self) -> bool {
        self.entry() & 0x100 != 0
    }

    /// Time to live.
    pub fn ttl(&self) -> u8 {
        self.entry() as u8
    }

    /// Bytes after this entry.
    pub fn payload(&self) -> &[u8] {
        let data = self.buffer.as_ref();
        clamped(data, ENTRY_LEN, data.len())
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Packet<T> {
    /// Writes the whole entry (label and TC masked to their widths).
    pub fn set_entry(&mut self, label: u32, tc: u8, bottom_of_stack: bool, ttl: u8) {
        let value = ((label & 0x000f_ffff) << 12)
            | (u32::from(tc & 0x7) << 9)
            | (u32::from(bottom_of_stack) << 8)
            | u32::from(ttl);
        set_u32(self.buffer.as_mut(), 0, value);
    }

    /// Sets the TTL.
    pub fn set_ttl(&mut self, ttl: u8) {
        self.buffer.as_mut()[3] = ttl;
    }

    /// Mutable bytes after this entry.
    pub fn payload_mut(&mut self) -> &mut [u8] {
        let data = self.buffer.as_mut();
        let len = data.len();
        clamped_mut(data, ENTRY_LEN, len)
    }
}

/// One owned label stack entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Repr {
    /// Label; only the low 20 bits are emitted.
    pub label: u32,
    /// Traffic class; only the low 3 bits are emitted.
    pub tc: u8,
    /// Bottom of stack.
    pub bottom_of_stack: bool,
    /// Time to live.
    pub ttl: u8,
}

impl Repr {
    /// Parses an entry.
    ///
    /// # Errors
    /// [`Error::Truncated`] if shorter than 4 bytes.
    pub fn parse<T: AsRef<[u8]>>(packet: &Packet<T>) -> Result<Repr> {
        packet.check_len()?;
        Ok(Repr {
            label: packet.label(),
            tc: packet.tc(),
            bottom_of_stack: packet.bottom_of_stack(),
            ttl: packet.ttl(),
        })
    }

    /// Entry length (4).
    pub const fn header_len(&self) -> usize {
        ENTRY_LEN
    }

    /// Bytes `emit` writes (4).
    pub const fn buffer_len(&self) -> usize {
        ENTRY_LEN
    }

    /// Writes the entry.
    ///
    /// # Panics
    /// If the buffer is shorter than 4 bytes.
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(&self, packet: &mut Packet<T>) {
        packet.set_entry(self.label, self.tc, self.bottom_of_stack, self.ttl);
    }
}

/// Iterator over a label stack, top first; ends after the bottom entry.
/// Yields one error and stops if the data ends before the S bit
/// ([`Error::Truncated`]) or the stack is deeper than [`MAX_DEPTH`]
/// ([`Error::Unsupported`]).
#[derive(Debug, Clone)]
pub struct MplsStack<'a> {
    data: &'a [u8],
    offset: usize,
    done: bool,
}

impl<'a> MplsStack<'a> {
    /// Walks the stack at the start of `data`.
    pub fn new(data: &'a [u8]) -> MplsStack<'a> {
        MplsStack {
            data,
            offset: 0,
            done: false,
        }
    }

    /// Offset after the entries walked so far (the payload once done).
    pub fn offset(&self) -> usize {
        self.offset
    }
}

impl Iterator for MplsStack<'_> {
    type Item = Result<Repr>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        if self.offset == MAX_DEPTH * ENTRY_LEN {
            self.done = true;
            return Some(Err(Error::Unsupported));
        }
        let entry = Packet::new_checked(clamped(self.data, self.offset, self.data.len()));
        let result = entry.and_then(|entry| Repr::parse(&entry));
        match result {
            Ok(repr) => {
                self.offset += ENTRY_LEN;
                self.done = repr.bottom_of_stack;
            }
            Err(_) => self.done = true,
        }
        Some(result)
    }
}

/// Walks a whole stack; returns its depth and the payload offset.
///
/// # Errors
/// Those of [`MplsStack`].
pub fn walk_label_stack(data: &[u8]) -> Result<(usize, usize)> {
    let mut stack = MplsStack::new(data);
    let mut depth = 0;
    for entry in &mut stack {
        entry?;
        depth += 1;
    }
    Ok((depth, stack.offset()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::MPLS_FRAME;
    use proptest::prelude::*;

    const STACK: &[u8] = MPLS_FRAME.split_at(14).1;

    #[test]
    fn deconstruct() {
        let entries: Vec<_> = MplsStack::new(STACK).collect::<Result<_>>().unwrap();
        assert_eq!(
            entries,
            vec![
                Repr {
                    label: 100,
                    tc: 1,
                    bottom_of_stack: false,
                    ttl: 64
                },
                Repr {
                    label: 200,
                    tc: 0,
                    bottom_of_stack: true,
                    ttl: 63
                },
            ]
        );
        assert_eq!(walk_label_stack(STACK), Ok((2, 8)));
        assert_eq!(
            Packet::new_checked(STACK).unwrap().payload()[..4],
            STACK[4..8]
        );
    }

    #[test]
    fn construct() {
        let mut buf = [0u8; 8];
        Repr {
            label: 100,
            tc: 1,
            bottom_of_stack: false,
            ttl: 64,
        }
        .emit(&mut Packet::new_unchecked(&mut buf[..4]));
        let mut second = Packet::new_unchecked(&mut buf[4..]);
        second.set_entry(200, 0, true, 0);
        second.set_ttl(63);
        assert_eq!(&buf[..], &STACK[..8]);
    }

    #[test]
    fn malformed() {
        assert_eq!(walk_label_stack(&STACK[..6]), Err(Error::Truncated));
        assert_eq!(walk_label_stack(&[]), Err(Error::Truncated));
        let endless = [0u8, 0, 0, 1].repeat(MAX_DEPTH + 1);
        assert_eq!(walk_label_stack(&endless), Err(Error::Unsupported));
        assert_eq!(
            Repr::parse(&Packet::new_unchecked(&STACK[..2])),
            Err(Error::Truncated)
        );
    }

    proptest! {
        #[test]
        fn round_trip(label in 0u32..(1 << 20), tc in 0u8..8, bottom in any::<bool>(), ttl in any::<u8>()) {
            let repr = Repr { label, tc, bottom_of_stack: bottom, ttl };
            let mut buf = [0u8; 4];
            repr.emit(&mut Packet::new_unchecked(&mut buf[..]));
            prop_assert_eq!(Repr::parse(&Packet::new_checked(&buf[..]).unwrap()), Ok(repr));
        }

        #[test]
        fn walk_never_panics(data in proptest::collection::vec(any::<u8>(), 0..80)) {
            if let Ok((depth, offset)) = walk_label_stack(&data) {
                prop_assert!(offset == depth * ENTRY_LEN && offset <= data.len());
            }
        }
    }
}
