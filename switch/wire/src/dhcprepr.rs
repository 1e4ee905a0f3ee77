//! The owned DHCPv4 message, built without heap allocation.
//!
//! The DHCP responder runs on the datapath, so a reply must be built from
//! values on the stack: lists have a fixed capacity ([`FixedVec`]), strings
//! and opaque options borrow from the request or from the responder's
//! tables (`&'a [u8]`). The typed options are those a responder reads from a
//! client or writes in an OFFER/ACK; anything else rides in
//! [`DhcpRepr::extra_options`] both ways.
//!
//! Emitting writes the typed options in a fixed order (53, 54, 50, 51, 1,
//! 3, 6, 15, 26, 121, 55, 61), then the extras, then End, and pads the
//! message to the 300-byte BOOTP minimum that old clients expect.

use std::net::Ipv4Addr;

use crate::dhcp::{DhcpMessageType, DhcpOpCode, Packet, HEADER_LEN, MAGIC_COOKIE};
use crate::dhcpopt::{encode_static_routes, DhcpOption, DhcpOptionCode, StaticRoute, StaticRoutes};
use crate::{Error, EthernetAddress, FixedVec, Result};

/// Most DNS servers a repr holds.
pub const MAX_DNS_SERVERS: usize = 8;
/// Most classless static routes a repr holds.
pub const MAX_STATIC_ROUTES: usize = 16;
/// Most untyped options a repr holds.
pub const MAX_EXTRA_OPTIONS: usize = 8;
/// Minimum length of an emitted message (RFC 951's 300-byte BOOTP).
pub const MIN_MESSAGE_LEN: usize = 300;

/// A DHCP message with its options.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DhcpRepr<'a> {
    /// BOOTP op code.
    pub op: DhcpOpCode,
    /// Message type (option 53, required).
    pub message_type: DhcpMessageType,
    /// Transaction id.
    pub transaction_id: u32,
    /// Seconds since the client started.
    pub secs: u16,
    /// Broadcast flag.
    pub broadcast: bool,
    /// Relay hops.
    pub hops: u8,
    /// Client MAC (`chaddr`).
    pub client_hardware_addr: EthernetAddress,
    /// `ciaddr`.
    pub client_ip: Ipv4Addr,
    /// `yiaddr`.
    pub your_ip: Ipv4Addr,
    /// `siaddr`.
    pub server_ip: Ipv4Addr,
    /// `giaddr`.
    pub relay_agent_ip: Ipv4Addr,
    /// Option 54.
    pub server_identifier: Option<Ipv4Addr>,
    /// Option 50.
    pub requested_ip: Option<Ipv4Addr>,
    /// Option 51, seconds.
    pub lease_duration: Option<u32>,
    /// Option 1.
    pub subnet_mask: Option<Ipv4Addr>,
    /// Option 3 (the first router; further ones are ignored on parse).
    pub router: Option<Ipv4Addr>,
    /// Option 6.
    pub dns_servers: FixedVec<Ipv4Addr, MAX_DNS_SERVERS>,
    /// Option 15.
    pub domain_name: Option<&'a [u8]>,
    /// Option 26.
    pub interface_mtu: Option<u16>,
    /// Option 121 (RFC 3442).
    pub classless_routes: FixedVec<StaticRoute, MAX_STATIC_ROUTES>,
    /// Option 55.
    pub parameter_request_list: Option<&'a [u8]>,
    /// Option 61.
    pub client_identifier: Option<&'a [u8]>,
    /// Every other option, in order.
    pub extra_options: FixedVec<DhcpOption<'a>, MAX_EXTRA_OPTIONS>,
}

fn ipv4(data: &[u8]) -> Result<Ipv4Addr> {
    let octets: [u8; 4] = data.try_into().map_err(|_| Error::Malformed)?;
    Ok(Ipv4Addr::from(octets))
}

fn be_u32(data: &[u8]) -> Result<u32> {
    let bytes: [u8; 4] = data.try_into().map_err(|_| Error::Malformed)?;
    Ok(u32::from_be_bytes(bytes))
}

fn ipv4_list(data: &[u8]) -> impl Iterator<Item = Ipv4Addr> + '_ {
    data.chunks_exact(4)
        .map(|c| Ipv4Addr::new(c[0], c[1], c[2], c[3]))
}

impl<'a> DhcpRepr<'a> {
    /// A message with the given type, transaction and client, and every
    /// other field empty.
    pub fn new(
        op: DhcpOpCode,
        message_type: DhcpMessageType,
        transaction_id: u32,
        client_hardware_addr: EthernetAddress,
    ) -> DhcpRepr<'a> {
        DhcpRepr {
            op,
            message_type,
            transaction_id,
            secs: 0,
            broadcast: false,
            hops: 0,
            client_hardware_addr,
            client_ip: Ipv4Addr::UNSPECIFIED,
            your_ip: Ipv4Addr::UNSPECIFIED,
            server_ip: Ipv4Addr::UNSPECIFIED,
            relay_agent_ip: Ipv4Addr::UNSPECIFIED,
            server_identifier: None,
            requested_ip: None,
            lease_duration: None,
            subnet_mask: None,
            router: None,
            dns_servers: FixedVec::new(),
            domain_name: None,
            interface_mtu: None,
            classless_routes: FixedVec::new(),
            parameter_request_list: None,
            client_identifier: None,
            extra_options: FixedVec::new(),
        }
    }

    /// The skeleton of a server reply to `request`: BOOTREPLY with the same
    /// transaction, client, flags and relay, and `message_type`.
    pub fn reply_to(request: &DhcpRepr<'_>, message_type: DhcpMessageType) -> DhcpRepr<'a> {
        let mut reply = DhcpRepr::new(
            DhcpOpCode::BootReply,
            message_type,
            request.transaction_id,
            request.client_hardware_addr,
        );
        reply.broadcast = request.broadcast;
        reply.relay_agent_ip = request.relay_agent_ip;
        reply
    }

    /// Parses a message.
    ///
    /// # Errors
    /// [`Error::Truncated`] if shorter than 240 bytes; [`Error::Unsupported`]
    /// for non-Ethernet hardware or more list entries than the capacity;
    /// [`Error::Malformed`] for a wrong cookie, a missing message type, a bad
    /// option length or a bad static route.
    pub fn parse<T: AsRef<[u8]> + ?Sized>(packet: &Packet<&'a T>) -> Result<DhcpRepr<'a>> {
        packet.check_len()?;
        if packet.hardware_type() != 1 || packet.hardware_len() != 6 {
            return Err(Error::Unsupported);
        }
        if packet.magic_number() != MAGIC_COOKIE {
            return Err(Error::Malformed);
        }
        let mut repr = DhcpRepr::new(
            packet.op(),
            DhcpMessageType::Unknown(0),
            packet.transaction_id(),
            packet.client_hardware_addr(),
        );
        repr.secs = packet.secs();
        repr.broadcast = packet.broadcast_flag();
        repr.hops = packet.hops();
        repr.client_ip = packet.client_ip();
        repr.your_ip = packet.your_ip();
        repr.server_ip = packet.server_ip();
        repr.relay_agent_ip = packet.relay_agent_ip();
        let buffer: &'a [u8] = AsRef::<[u8]>::as_ref(packet.buffer);
        let mut message_type = None;
        for option in crate::dhcpopt::DhcpOptions::new(buffer.get(HEADER_LEN..).unwrap_or(&[])) {
            let option = option?;
            let data = option.data;
            match option.code {
                DhcpOptionCode::MessageType => match data {
                    [t] => message_type = Some(DhcpMessageType::from(*t)),
                    _ => return Err(Error::Malformed),
                },
                DhcpOptionCode::ServerIdentifier => repr.server_identifier = Some(ipv4(data)?),
                DhcpOptionCode::RequestedIp => repr.requested_ip = Some(ipv4(data)?),
                DhcpOptionCode::LeaseTime => repr.lease_duration = Some(be_u32(data)?),
                DhcpOptionCode::SubnetMask => repr.subnet_mask = Some(ipv4(data)?),
                DhcpOptionCode::Router => {
                    if data.is_empty() || data.len() % 4 != 0 {
                        return Err(Error::Malformed);
                    }
                    repr.router = ipv4_list(data).next();
                }
                DhcpOptionCode::DomainNameServer => {
                    if data.is_empty() || data.len() % 4 != 0 {
                        return Err(Error::Malformed);
                    }
                    repr.dns_servers.clear();
                    for server in ipv4_list(data) {
                        repr.dns_servers.push(server)?;
                    }
                }
                DhcpOptionCode::DomainName => repr.domain_name = Some(data),
                DhcpOptionCode::InterfaceMtu => match data {
                    [hi, lo] => repr.interface_mtu = Some(u16::from_be_bytes([*hi, *lo])),
                    _ => return Err(Error::Malformed),
                },
                DhcpOptionCode::ClasslessStaticRoute => {
                    repr.classless_routes.clear();
                    for route in StaticRoutes::new(data) {
                        repr.classless_routes.push(route?)?;
                    }
                }
                DhcpOptionCode::ParameterRequestList => repr.parameter_request_list = Some(data),
                DhcpOptionCode::ClientIdentifier => repr.client_identifier = Some(data),
                _ => repr.extra_options.push(option)?,
            }
        }
        repr.message_type = message_type.ok_or(Error::Malformed)?;
        Ok(repr)
    }

    /// Calls `f` with every option to emit, in emit order. Data that needs
    /// encoding (addresses, numbers, routes) is built in stack scratch space.
    fn for_each_option(&self, mut f: impl FnMut(DhcpOption<'_>)) {
        let mut put = |code: DhcpOptionCode, data: &[u8]| f(DhcpOption { code, data });
        put(DhcpOptionCode::MessageType, &[self.message_type.into()]);
        if let Some(ip) = self.server_identifier {
            put(DhcpOptionCode::ServerIdentifier, &ip.octets());
        }
        if let Some(ip) = self.requested_ip {
            put(DhcpOptionCode::RequestedIp, &ip.octets());
        }
        if let Some(lease) = self.lease_duration {
            put(DhcpOptionCode::LeaseTime, &lease.to_be_bytes());
        }
        if let Some(mask) = self.subnet_mask {
            put(DhcpOptionCode::SubnetMask, &mask.octets());
        }
        if let Some(ip) = self.router {
            put(DhcpOptionCode::Router, &ip.octets());
        }
        if !self.dns_servers.is_empty() {
            let mut scratch = [0u8; 4 * MAX_DNS_SERVERS];
            for (slot, server) in scratch.chunks_exact_mut(4).zip(self.dns_servers.iter()) {
                slot.copy_from_slice(&server.octets());
            }
            put(
                DhcpOptionCode::DomainNameServer,
                &scratch[..4 * self.dns_servers.len()],
            );
        }
        if let Some(name) = self.domain_name {
            put(DhcpOptionCode::DomainName, name);
        }
        if let Some(mtu) = self.interface_mtu {
            put(DhcpOptionCode::InterfaceMtu, &mtu.to_be_bytes());
        }
        if !self.classless_routes.is_empty() {
            let mut scratch = [0u8; 9 * MAX_STATIC_ROUTES];
            let len = encode_static_routes(self.classless_routes.iter(), &mut scratch);
            put(DhcpOptionCode::ClasslessStaticRoute, &scratch[..len]);
        }
        if let Some(list) = self.parameter_request_list {
            put(DhcpOptionCode::ParameterRequestList, list);
        }
        if let Some(id) = self.client_identifier {
            put(DhcpOptionCode::ClientIdentifier, id);
        }
        for option in self.extra_options.iter() {
            put(option.code, option.data);
        }
    }

    /// Message length: fixed part, options, End, padded to 300 bytes.
    /// Option data longer than 255 bytes counts (and is emitted) as 255.
    pub fn buffer_len(&self) -> usize {
        let mut len = HEADER_LEN + 1;
        self.for_each_option(|option| len += option.buffer_len());
        len.max(MIN_MESSAGE_LEN)
    }

    /// Length of the fixed part (240).
    pub const fn header_len(&self) -> usize {
        HEADER_LEN
    }

    /// Writes the whole message into the first
    /// [`buffer_len`](Self::buffer_len) bytes (`sname`/`file` zeroed).
    ///
    /// # Panics
    /// If the buffer is shorter than [`buffer_len`](Self::buffer_len).
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(&self, packet: &mut Packet<T>) {
        let len = self.buffer_len();
        packet.set_op(self.op);
        packet.set_hardware(1, 6);
        packet.set_hops(self.hops);
        packet.set_transaction_id(self.transaction_id);
        packet.set_secs(self.secs);
        packet.set_flags(if self.broadcast { 0x8000 } else { 0 });
        packet.set_client_ip(self.client_ip);
        packet.set_your_ip(self.your_ip);
        packet.set_server_ip(self.server_ip);
        packet.set_relay_agent_ip(self.relay_agent_ip);
        packet.set_client_hardware_addr(self.client_hardware_addr);
        packet.clear_sname_and_file();
        packet.set_magic_number(MAGIC_COOKIE);
        let options = &mut packet.options_mut()[..len - HEADER_LEN];
        options.fill(0);
        let mut at = 0;
        self.for_each_option(|option| at += option.emit(&mut options[at..]));
        options[at] = DhcpOptionCode::End.into();
    }
}

#[cfg(test)]
mod tests;
