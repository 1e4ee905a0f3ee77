//! The DHCPv6 message format (RFC 8415 §8 and §21), as far as this server
//! reads and writes it: a zero-copy option walker and a bounded writer.
//!
//! Why here and not in df-wire: this change was scoped to the `dhcp` app;
//! the module follows df-wire's rules (no allocation, no panic on any
//! input, errors that do not allocate) so it can move there as is.
//!
//! No-panic contract: [`Options`] never reads past its slice and yields one
//! `Err` on a bad length, then stops; [`Writer`] never writes past its
//! buffer: it records the overflow and ignores further writes.

use std::net::Ipv6Addr;

/// The client's UDP port.
pub const CLIENT_PORT: u16 = 546;
/// The server's UDP port.
pub const SERVER_PORT: u16 = 547;
/// All_DHCP_Relay_Agents_and_Servers (ff02::1:2).
pub const ALL_SERVERS: Ipv6Addr = Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 1, 2);
/// Message type and transaction id.
pub const HEADER_LEN: usize = 4;
/// Option code and length.
pub const OPTION_HEADER_LEN: usize = 4;

/// Message types (RFC 8415 §7.3).
pub mod msg {
    /// SOLICIT.
    pub const SOLICIT: u8 = 1;
    /// ADVERTISE.
    pub const ADVERTISE: u8 = 2;
    /// REQUEST.
    pub const REQUEST: u8 = 3;
    /// CONFIRM.
    pub const CONFIRM: u8 = 4;
    /// RENEW.
    pub const RENEW: u8 = 5;
    /// REBIND.
    pub const REBIND: u8 = 6;
    /// REPLY.
    pub const REPLY: u8 = 7;
    /// RELEASE.
    pub const RELEASE: u8 = 8;
    /// DECLINE.
    pub const DECLINE: u8 = 9;
    /// INFORMATION-REQUEST.
    pub const INFORMATION_REQUEST: u8 = 11;
}

/// Option codes (RFC 8415 §21, RFC 3646).
pub mod opt {
    /// Client Identifier (a DUID).
    pub const CLIENTID: u16 = 1;
    /// Server Identifier (a DUID).
    pub const SERVERID: u16 = 2;
    /// Identity Association for Non-temporary Addresses.
    pub const IA_NA: u16 = 3;
    /// Identity Association for Temporary Addresses.
    pub const IA_TA: u16 = 4;
    /// IA Address (inside IA_NA / IA_TA).
    pub const IAADDR: u16 = 5;
    /// Option Request.
    pub const ORO: u16 = 6;
    /// Server Preference.
    pub const PREFERENCE: u16 = 7;
    /// Status Code.
    pub const STATUS_CODE: u16 = 13;
    /// Rapid Commit.
    pub const RAPID_COMMIT: u16 = 14;
    /// DNS Recursive Name Servers.
    pub const DNS_SERVERS: u16 = 23;
    /// Domain Search List.
    pub const DOMAIN_LIST: u16 = 24;
    /// Identity Association for Prefix Delegation.
    pub const IA_PD: u16 = 25;
}

/// Status codes (RFC 8415 §21.13).
pub mod status {
    /// Success.
    pub const SUCCESS: u16 = 0;
    /// No addresses available for the IA.
    pub const NO_ADDRS_AVAIL: u16 = 2;
    /// The addresses are not on the client's link.
    pub const NOT_ON_LINK: u16 = 4;
}

/// Length of an IA_NA's fixed part (IAID, T1, T2).
pub const IA_NA_FIXED_LEN: usize = 12;
/// Length of an IAADDR's fixed part (address, preferred, valid lifetime).
pub const IAADDR_FIXED_LEN: usize = 24;

/// A malformed option list: a header or a length past the end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Malformed;

/// Walks a DHCPv6 option list (the message after its header, or the
/// options encapsulated in IA_NA / IAADDR), yielding `(code, data)`.
#[derive(Debug, Clone)]
pub struct Options<'a> {
    rest: &'a [u8],
}

impl<'a> Options<'a> {
    /// The options in `data`.
    pub fn new(data: &'a [u8]) -> Self {
        Options { rest: data }
    }
}

impl<'a> Iterator for Options<'a> {
    type Item = Result<(u16, &'a [u8]), Malformed>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.rest.is_empty() {
            return None;
        }
        let parsed = match self.rest {
            [c0, c1, l0, l1, body @ ..] => {
                let len = usize::from(u16::from_be_bytes([*l0, *l1]));
                body.get(..len)
                    .map(|data| (u16::from_be_bytes([*c0, *c1]), data, &body[len..]))
            }
            _ => None,
        };
        match parsed {
            Some((code, data, rest)) => {
                self.rest = rest;
                Some(Ok((code, data)))
            }
            None => {
                self.rest = &[];
                Some(Err(Malformed))
            }
        }
    }
}

/// Reads a big-endian u32 at `at`, 0 if out of range.
#[cfg(test)]
pub fn u32_at(data: &[u8], at: usize) -> u32 {
    match data.get(at..at + 4) {
        Some(&[a, b, c, d]) => u32::from_be_bytes([a, b, c, d]),
        _ => 0,
    }
}

/// Reads an IPv6 address at `at`, `::` if out of range.
pub fn ipv6_at(data: &[u8], at: usize) -> Ipv6Addr {
    let mut a = [0u8; 16];
    if let Some(s) = data.get(at..at + 16) {
        a.copy_from_slice(s);
    }
    Ipv6Addr::from(a)
}

/// A bounded writer of DHCPv6 messages.
#[derive(Debug)]
pub struct Writer<'a> {
    buf: &'a mut [u8],
    len: usize,
    overflow: bool,
}

impl<'a> Writer<'a> {
    /// Writes into `buf` from its start.
    pub fn new(buf: &'a mut [u8]) -> Self {
        Writer {
            buf,
            len: 0,
            overflow: false,
        }
    }

    /// Bytes written.
    pub fn written(&self) -> usize {
        self.len
    }

    /// True if some write did not fit (the message is then incomplete).
    pub fn overflowed(&self) -> bool {
        self.overflow
    }

    /// Appends `bytes`, or records the overflow.
    pub fn put(&mut self, bytes: &[u8]) {
        if self.overflow {
            return;
        }
        match self.buf.get_mut(self.len..self.len + bytes.len()) {
            Some(out) => {
                out.copy_from_slice(bytes);
                self.len += bytes.len();
            }
            None => self.overflow = true,
        }
    }

    /// Appends a whole option.
    pub fn option(&mut self, code: u16, data: &[u8]) {
        self.put(&code.to_be_bytes());
        self.put(&(data.len().min(usize::from(u16::MAX)) as u16).to_be_bytes());
        self.put(data);
    }

    /// Opens an option whose data follows; close it with [`end`](Self::end).
    pub fn begin(&mut self, code: u16) -> usize {
        let at = self.len;
        self.put(&code.to_be_bytes());
        self.put(&[0, 0]);
        at
    }

    /// Closes the option opened at `at`: writes its length.
    pub fn end(&mut self, at: usize) {
        if self.overflow {
            return;
        }
        let len = self.len.saturating_sub(at + OPTION_HEADER_LEN);
        let len = (len.min(usize::from(u16::MAX)) as u16).to_be_bytes();
        if let Some(l) = self.buf.get_mut(at + 2..at + 4) {
            l.copy_from_slice(&len);
        }
    }

    /// A Status Code option.
    pub fn status(&mut self, code: u16, message: &[u8]) {
        let at = self.begin(opt::STATUS_CODE);
        self.put(&code.to_be_bytes());
        self.put(message);
        self.end(at);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn walks_options_and_stops_on_a_bad_length() {
        let data = [0, 1, 0, 2, 0xaa, 0xbb, 0, 14, 0, 0];
        let got: Vec<_> = Options::new(&data).collect();
        assert_eq!(got, vec![Ok((1, &[0xaa, 0xbb][..])), Ok((14, &[][..]))]);
        let bad = [0, 1, 0, 5, 0xaa];
        assert_eq!(Options::new(&bad).collect::<Vec<_>>(), vec![Err(Malformed)]);
        assert_eq!(
            Options::new(&[0, 1, 0]).collect::<Vec<_>>(),
            vec![Err(Malformed)]
        );
    }

    #[test]
    fn writer_nests_and_never_overruns() {
        let mut buf = [0u8; 16];
        let mut w = Writer::new(&mut buf);
        let at = w.begin(opt::IA_NA);
        w.put(&[1, 2, 3]);
        w.end(at);
        assert_eq!((w.written(), w.overflowed()), (7, false));
        assert_eq!(&buf[..7], &[0, 3, 0, 3, 1, 2, 3]);
        let mut w = Writer::new(&mut buf);
        w.option(opt::CLIENTID, &[9; 20]);
        assert!(w.overflowed());
        assert_eq!(w.written(), 4, "the header fit, the data did not");
        assert_eq!(
            (u32_at(&[1], 0), ipv6_at(&[], 0)),
            (0, Ipv6Addr::UNSPECIFIED)
        );
    }
}
