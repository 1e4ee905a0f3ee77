//! TCP flags and options (RFC 9293 §3.1, RFC 7323, RFC 2018).
//!
//! Flags are a tiny bitflags-style newtype, written out by hand so the crate
//! keeps zero dependencies. Options are walked by [`TcpOptions`], which
//! stops with [`Error::Malformed`] on a length below 2, past the end of the
//! header, or wrong for a known option kind. The options the switch cares
//! about (MSS clamping, window scale, SACK-permitted, timestamps) are typed;
//! the rest are yielded raw.

use core::fmt;
use core::ops::{BitAnd, BitOr, BitOrAssign, Not};

use crate::bytes::{get_u16, get_u32};
use crate::{Error, Result};

/// TCP header flags (the low 8 bits of byte 13).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct TcpFlags(u8);

impl TcpFlags {
    /// FIN: no more data from sender.
    pub const FIN: TcpFlags = TcpFlags(0x01);
    /// SYN: synchronize sequence numbers.
    pub const SYN: TcpFlags = TcpFlags(0x02);
    /// RST: reset the connection.
    pub const RST: TcpFlags = TcpFlags(0x04);
    /// PSH: push.
    pub const PSH: TcpFlags = TcpFlags(0x08);
    /// ACK: acknowledgment field is significant.
    pub const ACK: TcpFlags = TcpFlags(0x10);
    /// URG: urgent pointer is significant.
    pub const URG: TcpFlags = TcpFlags(0x20);
    /// ECE: ECN echo.
    pub const ECE: TcpFlags = TcpFlags(0x40);
    /// CWR: congestion window reduced.
    pub const CWR: TcpFlags = TcpFlags(0x80);

    /// No flag set.
    pub const fn empty() -> TcpFlags {
        TcpFlags(0)
    }

    /// From raw bits (every bit is a known flag).
    pub const fn from_bits(bits: u8) -> TcpFlags {
        TcpFlags(bits)
    }

    /// Raw bits.
    pub const fn bits(self) -> u8 {
        self.0
    }

    /// `true` when every flag of `other` is set.
    pub const fn contains(self, other: TcpFlags) -> bool {
        self.0 & other.0 == other.0
    }

    /// `true` when any flag of `other` is set.
    pub const fn intersects(self, other: TcpFlags) -> bool {
        self.0 & other.0 != 0
    }

    /// `true` when no flag is set.
    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// Sets the flags of `other`.
    pub fn insert(&mut self, other: TcpFlags) {
        self.0 |= other.0;
    }

    /// Clears the flags of `other`.
    pub fn remove(&mut self, other: TcpFlags) {
        self.0 &= !other.0;
    }
}

impl BitOr for TcpFlags {
    type Output = TcpFlags;
    fn bitor(self, rhs: TcpFlags) -> TcpFlags {
        TcpFlags(self.0 | rhs.0)
    }
}

impl BitOrAssign for TcpFlags {
    fn bitor_assign(&mut self, rhs: TcpFlags) {
        self.0 |= rhs.0;
    }
}

impl BitAnd for TcpFlags {
    type Output = TcpFlags;
    fn bitand(self, rhs: TcpFlags) -> TcpFlags {
        TcpFlags(self.0 & rhs.0)
    }
}

impl Not for TcpFlags {
    type Output = TcpFlags;
    fn not(self) -> TcpFlags {
        TcpFlags(!self.0)
    }
}

impl fmt::Display for TcpFlags {
    /// tcpdump style: `S`, `S.` (SYN-ACK), `P.`, `F.`, `R`, or `none`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const LETTERS: [(TcpFlags, char); 7] = [
            (TcpFlags::SYN, 'S'),
            (TcpFlags::FIN, 'F'),
            (TcpFlags::RST, 'R'),
            (TcpFlags::PSH, 'P'),
            (TcpFlags::URG, 'U'),
            (TcpFlags::ECE, 'E'),
            (TcpFlags::CWR, 'W'),
        ];
        if self.is_empty() {
            return f.write_str("none");
        }
        for (flag, letter) in LETTERS {
            if self.contains(flag) {
                write!(f, "{letter}")?;
            }
        }
        if self.contains(TcpFlags::ACK) {
            f.write_str(".")?;
        }
        Ok(())
    }
}

/// Option kinds.
pub(crate) mod kind {
    pub const END: u8 = 0;
    pub const NOP: u8 = 1;
    pub const MSS: u8 = 2;
    pub const WINDOW_SCALE: u8 = 3;
    pub const SACK_PERMITTED: u8 = 4;
    pub const SACK: u8 = 5;
    pub const TIMESTAMPS: u8 = 8;
}

/// One TCP option.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TcpOption<'a> {
    /// No-operation (padding between options).
    NoOperation,
    /// Maximum segment size.
    MaxSegmentSize(u16),
    /// Window scale shift count.
    WindowScale(u8),
    /// SACK permitted.
    SackPermitted,
    /// SACK blocks (raw: pairs of 32-bit edges).
    Sack(&'a [u8]),
    /// Timestamps.
    Timestamps {
        /// Sender's timestamp value.
        tsval: u32,
        /// Echoed timestamp.
        tsecr: u32,
    },
    /// Any other option.
    Other {
        /// Option kind.
        kind: u8,
        /// Data after kind and length.
        data: &'a [u8],
    },
}

/// Iterator over TCP options; stops at End of Option List. Yields
/// `Err(Malformed)` once and stops on a bad length.
#[derive(Debug, Clone)]
pub struct TcpOptions<'a> {
    rest: &'a [u8],
}

impl<'a> TcpOptions<'a> {
    /// Walks raw option bytes (header bytes 20..data offset).
    pub fn new(options: &'a [u8]) -> TcpOptions<'a> {
        TcpOptions { rest: options }
    }

    fn typed(kind: u8, data: &'a [u8]) -> Result<TcpOption<'a>> {
        Ok(match (kind, data.len()) {
            (kind::MSS, 2) => TcpOption::MaxSegmentSize(get_u16(data, 0)),
            (kind::WINDOW_SCALE, 1) => TcpOption::WindowScale(data[0]),
            (kind::SACK_PERMITTED, 0) => TcpOption::SackPermitted,
            (kind::TIMESTAMPS, 8) => TcpOption::Timestamps {
                tsval: get_u32(data, 0),
                tsecr: get_u32(data, 4),
            },
            (kind::SACK, n) if n % 8 == 0 => TcpOption::Sack(data),
            (
                kind::MSS
                | kind::WINDOW_SCALE
                | kind::SACK_PERMITTED
                | kind::TIMESTAMPS
                | kind::SACK,
                _,
            ) => return Err(Error::Malformed),
            (kind, _) => TcpOption::Other { kind, data },
        })
    }
}

impl<'a> Iterator for TcpOptions<'a> {
    type Item = Result<TcpOption<'a>>;

    fn next(&mut self) -> Option<Self::Item> {
        let (&kind, after) = self.rest.split_first()?;
        match kind {
            kind::END => {
                self.rest = &[];
                None
            }
            kind::NOP => {
                self.rest = after;
                Some(Ok(TcpOption::NoOperation))
            }
            _ => {
                let len = after.first().copied().map_or(0, usize::from);
                let result = match (len >= 2).then(|| self.rest.get(2..len)).flatten() {
                    Some(data) => Self::typed(kind, data),
                    None => Err(Error::Malformed),
                };
                self.rest = match result {
                    Ok(_) => self.rest.get(len..).unwrap_or(&[]),
                    Err(_) => &[],
                };
                Some(result)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags() {
        let mut f = TcpFlags::SYN | TcpFlags::ACK;
        assert!(f.contains(TcpFlags::SYN) && f.intersects(TcpFlags::ACK | TcpFlags::FIN));
        assert_eq!(f.to_string(), "S.");
        f.remove(TcpFlags::SYN);
        f |= TcpFlags::PSH;
        assert_eq!(f.to_string(), "P.");
        assert_eq!((f & TcpFlags::PSH).bits(), 0x08);
        assert_eq!((!TcpFlags::empty()).bits(), 0xff);
        assert_eq!(TcpFlags::empty().to_string(), "none");
        let mut g = TcpFlags::from_bits(0x04);
        g.insert(TcpFlags::FIN);
        assert_eq!(g.to_string(), "FR");
    }

    #[test]
    fn options_walk() {
        let bytes = [
            2, 4, 5, 0xb4, 1, 3, 3, 7, 4, 2, 5, 10, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0xff,
        ];
        let all: Vec<_> = TcpOptions::new(&bytes).collect::<Result<_>>().unwrap();
        assert_eq!(
            all,
            vec![
                TcpOption::MaxSegmentSize(1460),
                TcpOption::NoOperation,
                TcpOption::WindowScale(7),
                TcpOption::SackPermitted,
                TcpOption::Sack(&[0, 0, 0, 1, 0, 0, 0, 2]),
            ]
        );
    }

    #[test]
    fn options_malformed() {
        for bad in [
            &[2u8, 4, 5][..],
            &[2, 1],
            &[2],
            &[2, 3, 5],
            &[8, 10, 0],
            &[5, 3, 0],
            &[99, 0],
        ] {
            let items: Vec<_> = TcpOptions::new(bad).collect();
            assert_eq!(items, vec![Err(Error::Malformed)], "{bad:?}");
        }
        let items: Vec<_> = TcpOptions::new(&[99, 3, 7]).collect();
        assert_eq!(
            items,
            vec![Ok(TcpOption::Other {
                kind: 99,
                data: &[7]
            })]
        );
    }
}
