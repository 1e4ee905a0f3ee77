//! The IPv6 extension-header chain (RFC 8200 §4) and the Fragment header.
//!
//! The switch must find the upper-layer protocol (for ACLs, conntrack and
//! NAT) behind any extension headers, without trusting their lengths. The
//! chain is walked by [`ExtHeaders`], an iterator that checks every length
//! against the payload and stops with an error instead of running off the
//! end; [`walk_ext_headers`] runs it to completion and returns the upper
//! layer, its offset and the fragment information if there was a Fragment
//! header. Length rules: Fragment is 8 bytes, AH is `(len + 2) * 4`
//! (RFC 4302), the others `(len + 1) * 8`. ESP ends the walk (what follows
//! is encrypted) and so does No Next Header. The walk also enforces that
//! Hop-by-Hop comes first and caps the chain at [`MAX_EXT_HEADERS`].

use crate::bytes::{clamped, clamped_mut, get_u16, get_u32, set_u16, set_u32};
use crate::{Error, IpProtocol, Result};

/// Most extension headers the walk accepts before giving up.
pub const MAX_EXT_HEADERS: usize = 8;

/// `true` for the protocol numbers the walk steps over.
pub fn is_extension_header(protocol: IpProtocol) -> bool {
    matches!(
        protocol,
        IpProtocol::HopByHop
            | IpProtocol::Ipv6Route
            | IpProtocol::Ipv6Frag
            | IpProtocol::Ipv6Opts
            | IpProtocol::Ah
    )
}

/// One extension header found in the chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExtHeader<'a> {
    /// Which extension header this is.
    pub kind: IpProtocol,
    /// The header that follows it.
    pub next_header: IpProtocol,
    /// Offset from the start of the IPv6 payload.
    pub offset: usize,
    /// The whole header (next-header and length bytes included).
    pub data: &'a [u8],
}

impl<'a> ExtHeader<'a> {
    /// The TLV options of a Hop-by-Hop or Destination Options header (empty
    /// for other kinds).
    pub fn options(&self) -> Ipv6Options<'a> {
        match self.kind {
            IpProtocol::HopByHop | IpProtocol::Ipv6Opts => {
                Ipv6Options::new(clamped(self.data, 2, self.data.len()))
            }
            _ => Ipv6Options::new(&[]),
        }
    }
}

/// Iterator over the extension headers of an IPv6 payload.
///
/// Yields `Err` once and then stops when a header is truncated
/// ([`Error::Truncated`]), Hop-by-Hop is not first ([`Error::Malformed`]) or
/// the chain is longer than [`MAX_EXT_HEADERS`] ([`Error::Unsupported`]).
/// After a Fragment header with a non-zero offset the walk stops: the rest
/// is fragment data, not headers.
#[derive(Debug, Clone)]
pub struct ExtHeaders<'a> {
    payload: &'a [u8],
    next: IpProtocol,
    offset: usize,
    count: usize,
    done: bool,
}

impl<'a> ExtHeaders<'a> {
    /// Starts at the IPv6 header's next-header value over its payload.
    pub fn new(next_header: IpProtocol, payload: &'a [u8]) -> ExtHeaders<'a> {
        ExtHeaders {
            payload,
            next: next_header,
            offset: 0,
            count: 0,
            done: false,
        }
    }

    /// The protocol after the headers walked so far.
    pub fn next_protocol(&self) -> IpProtocol {
        self.next
    }

    /// Offset (from the IPv6 payload) after the headers walked so far.
    pub fn offset(&self) -> usize {
        self.offset
    }

    fn fail(&mut self, error: Error) -> Option<Result<ExtHeader<'a>>> {
        self.done = true;
        Some(Err(error))
    }
}

impl<'a> Iterator for ExtHeaders<'a> {
    type Item = Result<ExtHeader<'a>>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done || !is_extension_header(self.next) {
            return None;
        }
        if self.count == MAX_EXT_HEADERS {
            return self.fail(Error::Unsupported);
        }
        if self.next == IpProtocol::HopByHop && self.count > 0 {
            return self.fail(Error::Malformed);
        }
        let rest = clamped(self.payload, self.offset, self.payload.len());
        let (Some(&next), Some(&len)) = (rest.first(), rest.get(1)) else {
            return self.fail(Error::Truncated);
        };
        let len = match self.next {
            IpProtocol::Ipv6Frag => FRAGMENT_LEN,
            IpProtocol::Ah => (usize::from(len) + 2) * 4,
            _ => (usize::from(len) + 1) * 8,
        };
        let Some(data) = rest.get(..len) else {
            return self.fail(Error::Truncated);
        };
        let header = ExtHeader {
            kind: self.next,
            next_header: IpProtocol::from(next),
            offset: self.offset,
            data,
        };
        if header.kind == IpProtocol::Ipv6Frag
            && FragmentHeader::new_unchecked(data).frag_offset() != 0
        {
            self.done = true;
        }
        self.next = header.next_header;
        self.offset += len;
        self.count += 1;
        Some(Ok(header))
    }
}

/// Result of [`walk_ext_headers`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ExtWalk {
    /// Upper-layer protocol (or `Ipv6NoNxt`, `Esp`, ...).
    pub upper: IpProtocol,
    /// Offset of the upper-layer header from the start of the IPv6 payload.
    pub offset: usize,
    /// Number of extension headers stepped over.
    pub count: usize,
    /// The Fragment header, if any.
    pub fragment: Option<FragmentRepr>,
}

impl ExtWalk {
    /// `false` for a non-first fragment, whose bytes at `offset` are
    /// fragment data rather than an upper-layer header.
    pub fn has_upper_header(&self) -> bool {
        self.fragment.is_none_or(|f| f.frag_offset == 0)
    }
}

/// Walks the chain from `next_header` over `payload` (the IPv6 payload).
///
/// # Errors
/// Those of [`ExtHeaders`].
pub fn walk_ext_headers(next_header: IpProtocol, payload: &[u8]) -> Result<ExtWalk> {
    let mut headers = ExtHeaders::new(next_header, payload);
    let mut fragment = None;
    let mut count = 0;
    for header in &mut headers {
        let header = header?;
        count += 1;
        if header.kind == IpProtocol::Ipv6Frag {
            fragment = Some(FragmentRepr::parse(&FragmentHeader::new_checked(
                header.data,
            )?)?);
        }
    }
    Ok(ExtWalk {
        upper: headers.next_protocol(),
        offset: headers.offset(),
        count,
        fragment,
    })
}

/// One TLV option of a Hop-by-Hop or Destination Options header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ipv6Option<'a> {
    /// Option type (0 = Pad1, 1 = PadN, 0xc2 = Jumbo, 5 = Router Alert).
    pub kind: u8,
    /// Option data.
    pub data: &'a [u8],
}

/// Iterator over Hop-by-Hop / Destination options; yields `Err(Malformed)`
/// once and stops when an option's length overruns the header.
#[derive(Debug, Clone)]
pub struct Ipv6Options<'a> {
    rest: &'a [u8],
}

impl<'a> Ipv6Options<'a> {
    /// Walks raw option bytes (the header minus its first two bytes).
    pub fn new(options: &'a [u8]) -> Ipv6Options<'a> {
        Ipv6Options { rest: options }
    }
}

impl<'a> Iterator for Ipv6Options<'a> {
    type Item = Result<Ipv6Option<'a>>;

    fn next(&mut self) -> Option<Self::Item> {
        let (&kind, after) = self.rest.split_first()?;
        if kind == 0 {
            self.rest = after;
            return Some(Ok(Ipv6Option { kind, data: &[] }));
        }
        let len = after.first().copied().map_or(usize::MAX, usize::from);
        match after.get(1..).and_then(|d| d.get(..len)) {
            Some(data) => {
                self.rest = clamped(after, 1 + len, after.len());
                Some(Ok(Ipv6Option { kind, data }))
            }
            None => {
                self.rest = &[];
                Some(Err(Error::Malformed))
            }
        }
    }
}

mod field {
    use core::ops::Range;

    pub const NXT_HDR: usize = 0;
    pub const OFF_M: Range<usize> = 2..4;
    pub const IDENT: Range<usize> = 4..8;
}

/// Length of the Fragment header.
pub const FRAGMENT_LEN: usize = 8;

/// A zero-copy view of an IPv6 Fragment header (RFC 8200 §4.5).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FragmentHeader<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> FragmentHeader<T> {
    /// Wraps a buffer without checking it.
    pub const fn new_unchecked(buffer: T) -> FragmentHeader<T> {
        FragmentHeader { buffer }
    }

    /// Wraps a buffer and checks that the 8 bytes are present.
    ///
    /// # Errors
    /// See [`check_len`](Self::check_len).
    pub fn new_checked(buffer: T) -> Result<FragmentHeader<T>> {
        let header = Self::new_unchecked(buffer);
        header.check_len()?;
        Ok(header)
    }

    /// # Errors
    /// [`Error::Truncated`] if the buffer is shorter than 8 bytes.
    pub fn check_len(&self) -> Result<()> {
        if self.buffer.as_ref().len() < FRAGMENT_LEN {
            return Err(Error::Truncated);
        }
        Ok(())
    }

    /// Unwraps the buffer.
    pub fn into_inner(self) -> T {
        self.buffer
    }

    /// Header after the fragmentable part.
    pub fn next_header(&self) -> IpProtocol {
        IpProtocol::from(self.buffer.as_ref()[field::NXT_HDR])
    }

    /// Fragment offset in bytes (multiple of 8).
    pub fn frag_offset(&self) -> u16 {
        get_u16(self.buffer.as_ref(), field::OFF_M.start) & 0xfff8
    }

    /// More Fragments.
    pub fn more_frags(&self) -> bool {
        get_u16(self.buffer.as_ref(), field::OFF_M.start) & 1 != 0
    }

    /// Identification.
    pub fn ident(&self) -> u32 {
        get_u32(self.buffer.as_ref(), field::IDENT.start)
    }

    /// The fragment data after the header.
    pub fn payload(&self) -> &[u8] {
        let data = self.buffer.as_ref();
        clamped(data, FRAGMENT_LEN, data.len())
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> FragmentHeader<T> {
    /// Sets the next header and clears the reserved byte.
    pub fn set_next_header(&mut self, value: IpProtocol) {
        let data = self.buffer.as_mut();
        data[field::NXT_HDR] = value.into();
        data[field::NXT_HDR + 1] = 0;
    }

    /// Sets offset (bytes, multiple of 8) and the M flag.
    pub fn set_offset_and_more(&mut self, offset: u16, more_frags: bool) {
        set_u16(
            self.buffer.as_mut(),
            field::OFF_M.start,
            (offset & 0xfff8) | u16::from(more_frags),
        );
    }

    /// Sets the identification.
    pub fn set_ident(&mut self, value: u32) {
        set_u32(self.buffer.as_mut(), field::IDENT.start, value);
    }

    /// Mutable fragment data.
    pub fn payload_mut(&mut self) -> &mut [u8] {
        let data = self.buffer.as_mut();
        let len = data.len();
        clamped_mut(data, FRAGMENT_LEN, len)
    }
}

/// The owned Fragment header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FragmentRepr {
    /// Header after the fragmentable part.
    pub next_header: IpProtocol,
    /// Offset in bytes (multiple of 8).
    pub frag_offset: u16,
    /// More Fragments.
    pub more_frags: bool,
    /// Identification.
    pub ident: u32,
}

impl FragmentRepr {
    /// Parses a Fragment header.
    ///
    /// # Errors
    /// [`Error::Truncated`] if shorter than 8 bytes.
    pub fn parse<T: AsRef<[u8]>>(header: &FragmentHeader<T>) -> Result<FragmentRepr> {
        header.check_len()?;
        Ok(FragmentRepr {
            next_header: header.next_header(),
            frag_offset: header.frag_offset(),
            more_frags: header.more_frags(),
            ident: header.ident(),
        })
    }

    /// Header length (8).
    pub const fn header_len(&self) -> usize {
        FRAGMENT_LEN
    }

    /// Bytes `emit` writes (8).
    pub const fn buffer_len(&self) -> usize {
        FRAGMENT_LEN
    }

    /// Writes the header.
    ///
    /// # Panics
    /// If the buffer is shorter than 8 bytes.
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(&self, header: &mut FragmentHeader<T>) {
        header.set_next_header(self.next_header);
        header.set_offset_and_more(self.frag_offset, self.more_frags);
        header.set_ident(self.ident);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::IPV6_FRAG;
    use proptest::prelude::*;

    const PAYLOAD: &[u8] = IPV6_FRAG.split_at(54).1;

    #[test]
    fn walk_hbh_and_fragment() {
        let walk = walk_ext_headers(IpProtocol::HopByHop, PAYLOAD).unwrap();
        assert_eq!(walk.upper, IpProtocol::Udp);
        assert_eq!(walk.offset, 16);
        assert_eq!(walk.count, 2);
        let frag = walk.fragment.unwrap();
        assert_eq!(
            (frag.ident, frag.frag_offset, frag.more_frags),
            (0xdead_beef, 0, true)
        );
        assert!(walk.has_upper_header());
        let hbh = ExtHeaders::new(IpProtocol::HopByHop, PAYLOAD)
            .next()
            .unwrap()
            .unwrap();
        let opts: Vec<_> = hbh.options().collect::<Result<_>>().unwrap();
        assert_eq!(
            opts,
            vec![Ipv6Option {
                kind: 1,
                data: &[0, 0, 0, 0]
            }]
        );
    }

    #[test]
    fn no_extension_headers() {
        let walk = walk_ext_headers(IpProtocol::Tcp, &[]).unwrap();
        assert_eq!(
            (walk.upper, walk.offset, walk.count, walk.fragment),
            (IpProtocol::Tcp, 0, 0, None)
        );
    }

    #[test]
    fn non_first_fragment_stops_the_walk() {
        // Fragment (offset 1480) claiming a Hop-by-Hop follows: not walked.
        let data = [0, 0, 0x05, 0xc8, 0, 0, 0, 1, 0xff, 0xff];
        let walk = walk_ext_headers(IpProtocol::Ipv6Frag, &data).unwrap();
        assert_eq!((walk.upper, walk.offset), (IpProtocol::HopByHop, 8));
        assert!(!walk.has_upper_header());
    }

    #[test]
    fn ah_length_rule() {
        // AH with len 4: (4 + 2) * 4 = 24 bytes, then TCP.
        let mut data = [0u8; 24];
        data[0] = 6;
        data[1] = 4;
        let walk = walk_ext_headers(IpProtocol::Ah, &data).unwrap();
        assert_eq!((walk.upper, walk.offset), (IpProtocol::Tcp, 24));
        assert_eq!(
            walk_ext_headers(IpProtocol::Ah, &data[..23]),
            Err(Error::Truncated)
        );
    }

    #[test]
    fn malformed_chains() {
        assert_eq!(
            walk_ext_headers(IpProtocol::HopByHop, &PAYLOAD[..7]),
            Err(Error::Truncated)
        );
        assert_eq!(
            walk_ext_headers(IpProtocol::HopByHop, &PAYLOAD[..1]),
            Err(Error::Truncated)
        );
        // Destination options pointing at Hop-by-Hop.
        let data = [0u8, 0, 1, 4, 0, 0, 0, 0, 59, 0, 1, 4, 0, 0, 0, 0];
        assert_eq!(
            walk_ext_headers(IpProtocol::Ipv6Opts, &data),
            Err(Error::Malformed)
        );
        // A loop of destination options longer than the cap.
        let looped = [60u8, 0, 1, 4, 0, 0, 0, 0].repeat(MAX_EXT_HEADERS + 1);
        assert_eq!(
            walk_ext_headers(IpProtocol::Ipv6Opts, &looped),
            Err(Error::Unsupported)
        );
        // No Next Header ends the walk.
        let data = [59u8, 0, 1, 4, 0, 0, 0, 0, 0xff];
        assert_eq!(
            walk_ext_headers(IpProtocol::Ipv6Opts, &data).unwrap().upper,
            IpProtocol::Ipv6NoNxt
        );
        // Option length overruns the header.
        let items: Vec<_> = Ipv6Options::new(&[1, 9, 0, 0]).collect();
        assert_eq!(items, vec![Err(Error::Malformed)]);
        let items: Vec<_> = Ipv6Options::new(&[5]).collect();
        assert_eq!(items, vec![Err(Error::Malformed)]);
    }

    #[test]
    fn fragment_construct() {
        let repr = FragmentRepr {
            next_header: IpProtocol::Udp,
            frag_offset: 0,
            more_frags: true,
            ident: 0xdead_beef,
        };
        let mut buf = [0xffu8; 8];
        repr.emit(&mut FragmentHeader::new_unchecked(&mut buf[..]));
        assert_eq!(&buf[..], &PAYLOAD[8..16]);
    }

    proptest! {
        #[test]
        fn fragment_round_trip(nh in any::<u8>(), off in 0u16..0x2000, more in any::<bool>(),
                               ident in any::<u32>()) {
            let repr = FragmentRepr {
                next_header: IpProtocol::from(nh), frag_offset: off * 8, more_frags: more, ident,
            };
            let mut buf = [0u8; 8];
            repr.emit(&mut FragmentHeader::new_unchecked(&mut buf[..]));
            prop_assert_eq!(FragmentRepr::parse(&FragmentHeader::new_checked(&buf[..]).unwrap()), Ok(repr));
        }

        #[test]
        fn walk_never_panics(nh in any::<u8>(), data in proptest::collection::vec(any::<u8>(), 0..96)) {
            if let Ok(walk) = walk_ext_headers(IpProtocol::from(nh), &data) {
                prop_assert!(walk.offset <= data.len());
            }
            for header in ExtHeaders::new(IpProtocol::from(nh), &data).flatten() {
                for _ in header.options() {}
            }
        }
    }
}
