//! DHCPv4 options (RFC 2132): codes, the TLV walk, and the classless static
//! route encoding (RFC 3442).
//!
//! Options are a flat TLV list after the magic cookie. [`DhcpOptions`] skips
//! Pad, stops at End, and yields [`Error::Malformed`] once (then stops) when
//! a length runs past the buffer. Option overload (52) is not followed: the
//! switch's DHCP server never sets it and clients do not need it.
//!
//! Classless static routes pack each route as its prefix width, only the
//! significant octets of the destination, then the router. [`StaticRoutes`]
//! decodes them without allocating and [`encode_static_routes`] writes them.
//! Host bits beyond the prefix are zeroed both ways, so decode(encode(r))
//! is canonical.

use std::net::Ipv4Addr;

use crate::{Error, Result};

enum_with_unknown! {
    /// DHCP option codes.
    pub enum DhcpOptionCode(u8) {
        /// Padding.
        Pad = 0,
        /// Subnet mask.
        SubnetMask = 1,
        /// Routers (default gateways).
        Router = 3,
        /// DNS servers.
        DomainNameServer = 6,
        /// Host name.
        HostName = 12,
        /// Domain name.
        DomainName = 15,
        /// Interface MTU.
        InterfaceMtu = 26,
        /// Broadcast address.
        BroadcastAddress = 28,
        /// Requested IP address.
        RequestedIp = 50,
        /// IP address lease time.
        LeaseTime = 51,
        /// Option overload.
        Overload = 52,
        /// DHCP message type.
        MessageType = 53,
        /// Server identifier.
        ServerIdentifier = 54,
        /// Parameter request list.
        ParameterRequestList = 55,
        /// Error message.
        Message = 56,
        /// Maximum DHCP message size.
        MaxMessageSize = 57,
        /// Renewal (T1) time.
        RenewalTime = 58,
        /// Rebinding (T2) time.
        RebindingTime = 59,
        /// Vendor class identifier.
        VendorClassId = 60,
        /// Client identifier.
        ClientIdentifier = 61,
        /// Relay agent information (RFC 3046).
        RelayAgentInfo = 82,
        /// Classless static route (RFC 3442).
        ClasslessStaticRoute = 121,
        /// End of options.
        End = 255,
    }
}

/// One option: its code and its data (without code and length bytes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DhcpOption<'a> {
    /// Option code.
    pub code: DhcpOptionCode,
    /// Option data (at most 255 bytes are emitted).
    pub data: &'a [u8],
}

impl DhcpOption<'_> {
    /// Largest data an option can carry.
    pub const MAX_DATA_LEN: usize = 255;

    /// Bytes the option takes when emitted (data truncated to 255).
    pub fn buffer_len(&self) -> usize {
        2 + self.data.len().min(Self::MAX_DATA_LEN)
    }

    /// Writes code, length and data (truncated to 255 bytes) at the start of
    /// `buffer`; returns the bytes written.
    ///
    /// # Panics
    /// If `buffer` is shorter than [`buffer_len`](Self::buffer_len).
    pub fn emit(&self, buffer: &mut [u8]) -> usize {
        let len = self.data.len().min(Self::MAX_DATA_LEN);
        buffer[0] = self.code.into();
        buffer[1] = len as u8;
        buffer[2..2 + len].copy_from_slice(&self.data[..len]);
        2 + len
    }
}

/// Iterator over the options after the magic cookie.
#[derive(Debug, Clone)]
pub struct DhcpOptions<'a> {
    rest: &'a [u8],
}

impl<'a> DhcpOptions<'a> {
    /// Walks raw option bytes.
    pub fn new(options: &'a [u8]) -> DhcpOptions<'a> {
        DhcpOptions { rest: options }
    }
}

impl<'a> Iterator for DhcpOptions<'a> {
    type Item = Result<DhcpOption<'a>>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            let (&code, after) = self.rest.split_first()?;
            match DhcpOptionCode::from(code) {
                DhcpOptionCode::Pad => self.rest = after,
                DhcpOptionCode::End => {
                    self.rest = &[];
                    return None;
                }
                code => {
                    let len = after.first().copied().map_or(usize::MAX, usize::from);
                    let Some(data) = after.get(1..).and_then(|d| d.get(..len)) else {
                        self.rest = &[];
                        return Some(Err(Error::Malformed));
                    };
                    self.rest = after.get(1 + len..).unwrap_or(&[]);
                    return Some(Ok(DhcpOption { code, data }));
                }
            }
        }
    }
}

/// One classless static route.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct StaticRoute {
    /// Destination network (host bits zero).
    pub destination: Ipv4Addr,
    /// Prefix length, 0..=32.
    pub prefix_len: u8,
    /// Next hop.
    pub gateway: Ipv4Addr,
}

impl StaticRoute {
    /// Bytes the route takes in option 121.
    pub fn encoded_len(&self) -> usize {
        1 + significant_octets(self.prefix_len) + 4
    }
}

fn significant_octets(prefix_len: u8) -> usize {
    usize::from(prefix_len.min(32)).div_ceil(8)
}

fn mask(addr: u32, prefix_len: u8) -> u32 {
    match prefix_len {
        0 => 0,
        n if n >= 32 => addr,
        n => addr & (u32::MAX << (32 - n)),
    }
}

/// Decoder for option 121 data; yields `Err(Malformed)` once and stops on a
/// width above 32 or a truncated route.
#[derive(Debug, Clone)]
pub struct StaticRoutes<'a> {
    rest: &'a [u8],
}

impl<'a> StaticRoutes<'a> {
    /// Decodes option 121 data.
    pub fn new(data: &'a [u8]) -> StaticRoutes<'a> {
        StaticRoutes { rest: data }
    }
}

impl Iterator for StaticRoutes<'_> {
    type Item = Result<StaticRoute>;

    fn next(&mut self) -> Option<Self::Item> {
        let (&prefix_len, after) = self.rest.split_first()?;
        let octets = significant_octets(prefix_len);
        let route = (prefix_len <= 32)
            .then(|| after.get(..octets + 4))
            .flatten()
            .map(|bytes| {
                let mut dest = [0u8; 4];
                dest[..octets].copy_from_slice(&bytes[..octets]);
                let gateway = [
                    bytes[octets],
                    bytes[octets + 1],
                    bytes[octets + 2],
                    bytes[octets + 3],
                ];
                StaticRoute {
                    destination: Ipv4Addr::from(mask(u32::from_be_bytes(dest), prefix_len)),
                    prefix_len,
                    gateway: Ipv4Addr::from(gateway),
                }
            });
        match route {
            Some(route) => {
                self.rest = after.get(octets + 4..).unwrap_or(&[]);
                Some(Ok(route))
            }
            None => {
                self.rest = &[];
                Some(Err(Error::Malformed))
            }
        }
    }
}

/// Encodes routes as option 121 data into `out`; returns the bytes written.
/// Prefix lengths above 32 are written as 32.
///
/// # Panics
/// If `out` is shorter than the sum of [`StaticRoute::encoded_len`].
pub fn encode_static_routes(
    routes: impl IntoIterator<Item = StaticRoute>,
    out: &mut [u8],
) -> usize {
    let mut at = 0;
    for route in routes {
        let prefix_len = route.prefix_len.min(32);
        let octets = significant_octets(prefix_len);
        let dest = mask(u32::from(route.destination), prefix_len).to_be_bytes();
        out[at] = prefix_len;
        out[at + 1..at + 1 + octets].copy_from_slice(&dest[..octets]);
        out[at + 1 + octets..at + 5 + octets].copy_from_slice(&route.gateway.octets());
        at += 5 + octets;
    }
    at
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::arb_ipv4;
    use proptest::prelude::*;

    #[test]
    fn rfc3442_examples() {
        // RFC 3442 §2: 0.0.0.0/0 → 0; 10.0.0.0/8 → 8.10; 10.17.0.0/16 →
        // 16.10.17; 10.229.0.128/25 → 25.10.229.0.128.
        let routes = [
            StaticRoute {
                destination: Ipv4Addr::UNSPECIFIED,
                prefix_len: 0,
                gateway: Ipv4Addr::new(10, 0, 0, 1),
            },
            StaticRoute {
                destination: Ipv4Addr::new(10, 0, 0, 0),
                prefix_len: 8,
                gateway: Ipv4Addr::new(10, 0, 0, 2),
            },
            StaticRoute {
                destination: Ipv4Addr::new(10, 17, 0, 0),
                prefix_len: 16,
                gateway: Ipv4Addr::new(10, 0, 0, 3),
            },
            StaticRoute {
                destination: Ipv4Addr::new(10, 229, 0, 128),
                prefix_len: 25,
                gateway: Ipv4Addr::new(10, 0, 0, 4),
            },
        ];
        let mut buf = [0u8; 64];
        let len = encode_static_routes(routes, &mut buf);
        assert_eq!(
            &buf[..len],
            &[
                0, 10, 0, 0, 1, 8, 10, 10, 0, 0, 2, 16, 10, 17, 10, 0, 0, 3, 25, 10, 229, 0, 128,
                10, 0, 0, 4
            ]
        );
        let decoded: Vec<_> = StaticRoutes::new(&buf[..len])
            .collect::<Result<_>>()
            .unwrap();
        assert_eq!(decoded, routes);
        assert_eq!(
            routes.iter().map(StaticRoute::encoded_len).sum::<usize>(),
            len
        );
    }

    #[test]
    fn malformed_routes() {
        assert_eq!(
            StaticRoutes::new(&[33, 1, 2, 3, 4, 5, 6, 7, 8]).collect::<Vec<_>>(),
            vec![Err(Error::Malformed)]
        );
        assert_eq!(
            StaticRoutes::new(&[24, 10, 0, 0, 1, 2]).collect::<Vec<_>>(),
            vec![Err(Error::Malformed)]
        );
    }

    #[test]
    fn options_walk() {
        let bytes = [0, 0, 53, 1, 1, 0, 61, 2, 1, 2, 255, 99, 99];
        let options: Vec<_> = DhcpOptions::new(&bytes).collect::<Result<_>>().unwrap();
        assert_eq!(
            options,
            vec![
                DhcpOption {
                    code: DhcpOptionCode::MessageType,
                    data: &[1]
                },
                DhcpOption {
                    code: DhcpOptionCode::ClientIdentifier,
                    data: &[1, 2]
                },
            ]
        );
        assert_eq!(
            DhcpOptions::new(&[53, 5, 1]).collect::<Vec<_>>(),
            vec![Err(Error::Malformed)]
        );
        assert_eq!(
            DhcpOptions::new(&[53]).collect::<Vec<_>>(),
            vec![Err(Error::Malformed)]
        );
        // Data longer than 255 is truncated on emit.
        let long = [7u8; 300];
        let mut buf = [0u8; 300];
        let option = DhcpOption {
            code: DhcpOptionCode::HostName,
            data: &long,
        };
        assert_eq!(option.buffer_len(), 257);
        assert_eq!(option.emit(&mut buf), 257);
        assert_eq!(buf[1], 255);
    }

    proptest! {
        #[test]
        fn routes_round_trip(routes in proptest::collection::vec((arb_ipv4(), 0u8..=32, arb_ipv4()), 0..16)) {
            let routes: Vec<_> = routes.into_iter().map(|(d, p, g)| StaticRoute {
                destination: Ipv4Addr::from(mask(u32::from(d), p)), prefix_len: p, gateway: g,
            }).collect();
            let mut buf = [0u8; 16 * 9];
            let len = encode_static_routes(routes.iter().copied(), &mut buf);
            let decoded: Vec<_> = StaticRoutes::new(&buf[..len]).collect::<Result<_>>().unwrap();
            prop_assert_eq!(decoded, routes);
        }
    }
}
