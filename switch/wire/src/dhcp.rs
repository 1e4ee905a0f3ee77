//! DHCPv4 messages (RFC 2131): the BOOTP fixed part and the view over it.
//!
//! The switch runs a local DHCP responder, so it reads DISCOVER/REQUEST and
//! builds OFFER/ACK/NAK on the datapath. This file holds the 240-byte fixed
//! part (236 bytes of BOOTP plus the magic cookie); the options are in
//! [`dhcpopt`](crate::dhcpopt) and the owned, allocation-free message in
//! [`dhcprepr`](crate::dhcprepr).

use std::net::Ipv4Addr;

use crate::bytes::{clamped, clamped_mut, get_ipv4, get_u16, get_u32, set_u16, set_u32};
use crate::dhcpopt::DhcpOptions;
use crate::{Error, EthernetAddress, Result};

/// UDP port of DHCP servers.
pub const SERVER_PORT: u16 = 67;
/// UDP port of DHCP clients.
pub const CLIENT_PORT: u16 = 68;
/// The magic cookie that starts the options (99.130.83.99).
pub const MAGIC_COOKIE: u32 = 0x6382_5363;

enum_with_unknown! {
    /// BOOTP op code.
    pub enum DhcpOpCode(u8) {
        /// Client to server.
        BootRequest = 1,
        /// Server to client.
        BootReply = 2,
    }
}

enum_with_unknown! {
    /// DHCP message types (option 53).
    pub enum DhcpMessageType(u8) {
        /// Client looks for servers.
        Discover = 1,
        /// Server offers an address.
        Offer = 2,
        /// Client requests the offered (or its previous) address.
        Request = 3,
        /// Client says the address is in use.
        Decline = 4,
        /// Server commits the lease.
        Ack = 5,
        /// Server refuses.
        Nak = 6,
        /// Client gives the lease back.
        Release = 7,
        /// Client asks for configuration only.
        Inform = 8,
    }
}

impl core::fmt::Display for DhcpMessageType {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            DhcpMessageType::Unknown(v) => write!(f, "type-{v}"),
            other => write!(f, "{other:?}"),
        }
    }
}

mod field {
    use core::ops::Range;

    pub const OP: usize = 0;
    pub const HTYPE: usize = 1;
    pub const HLEN: usize = 2;
    pub const HOPS: usize = 3;
    pub const XID: Range<usize> = 4..8;
    pub const SECS: Range<usize> = 8..10;
    pub const FLAGS: Range<usize> = 10..12;
    pub const CIADDR: Range<usize> = 12..16;
    pub const YIADDR: Range<usize> = 16..20;
    pub const SIADDR: Range<usize> = 20..24;
    pub const GIADDR: Range<usize> = 24..28;
    pub const CHADDR: Range<usize> = 28..44;
    pub const SNAME: Range<usize> = 44..108;
    pub const FILE: Range<usize> = 108..236;
    pub const MAGIC: Range<usize> = 236..240;
    pub const OPTIONS: usize = 240;
}

/// Length of the fixed part, magic cookie included.
pub const HEADER_LEN: usize = field::OPTIONS;

const FLAG_BROADCAST: u16 = 0x8000;

/// A zero-copy view of a DHCP message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Packet<T: AsRef<[u8]>> {
    pub(crate) buffer: T,
}

impl<T: AsRef<[u8]>> Packet<T> {
    /// Wraps a buffer (the UDP payload) without checking it.
    pub const fn new_unchecked(buffer: T) -> Packet<T> {
        Packet { buffer }
    }

    /// Wraps a buffer and checks that the fixed part fits.
    ///
    /// # Errors
    /// See [`check_len`](Self::check_len).
    pub fn new_checked(buffer: T) -> Result<Packet<T>> {
        let packet = Self::new_unchecked(buffer);
        packet.check_len()?;
        Ok(packet)
    }

    /// # Errors
    /// [`Error::Truncated`] if the buffer is shorter than 240 bytes.
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

    /// BOOTP op code.
    pub fn op(&self) -> DhcpOpCode {
        DhcpOpCode::from(self.buffer.as_ref()[field::OP])
    }

    /// Hardware type (1 = Ethernet).
    pub fn hardware_type(&self) -> u8 {
        self.buffer.as_ref()[field::HTYPE]
    }

    /// Hardware address length.
    pub fn hardware_len(&self) -> u8 {
        self.buffer.as_ref()[field::HLEN]
    }

    /// Relay hops.
    pub fn hops(&self) -> u8 {
        self.buffer.as_ref()[field::HOPS]
    }

    /// Transaction id.
    pub fn transaction_id(&self) -> u32 {
        get_u32(self.buffer.as_ref(), field::XID.start)
    }

    /// Seconds since the client started.
    pub fn secs(&self) -> u16 {
        get_u16(self.buffer.as_ref(), field::SECS.start)
    }

    /// Flags field.
    pub fn flags(&self) -> u16 {
        get_u16(self.buffer.as_ref(), field::FLAGS.start)
    }

    /// Broadcast flag: the client cannot receive unicast before configuration.
    pub fn broadcast_flag(&self) -> bool {
        self.flags() & FLAG_BROADCAST != 0
    }

    /// `ciaddr`: client's current address.
    pub fn client_ip(&self) -> Ipv4Addr {
        get_ipv4(self.buffer.as_ref(), field::CIADDR.start)
    }

    /// `yiaddr`: address offered / assigned.
    pub fn your_ip(&self) -> Ipv4Addr {
        get_ipv4(self.buffer.as_ref(), field::YIADDR.start)
    }

    /// `siaddr`: next server (TFTP).
    pub fn server_ip(&self) -> Ipv4Addr {
        get_ipv4(self.buffer.as_ref(), field::SIADDR.start)
    }

    /// `giaddr`: relay agent.
    pub fn relay_agent_ip(&self) -> Ipv4Addr {
        get_ipv4(self.buffer.as_ref(), field::GIADDR.start)
    }

    /// The 16-byte `chaddr` field.
    pub fn chaddr(&self) -> &[u8] {
        &self.buffer.as_ref()[field::CHADDR]
    }

    /// The client MAC (first 6 bytes of `chaddr`).
    pub fn client_hardware_addr(&self) -> EthernetAddress {
        let mut mac = [0u8; 6];
        mac.copy_from_slice(&self.buffer.as_ref()[field::CHADDR.start..field::CHADDR.start + 6]);
        EthernetAddress(mac)
    }

    /// Server host name field (64 bytes, NUL padded).
    pub fn sname(&self) -> &[u8] {
        &self.buffer.as_ref()[field::SNAME]
    }

    /// Boot file name field (128 bytes, NUL padded).
    pub fn file(&self) -> &[u8] {
        &self.buffer.as_ref()[field::FILE]
    }

    /// The magic cookie field.
    pub fn magic_number(&self) -> u32 {
        get_u32(self.buffer.as_ref(), field::MAGIC.start)
    }

    /// Option bytes after the cookie.
    pub fn options(&self) -> &[u8] {
        let data = self.buffer.as_ref();
        clamped(data, field::OPTIONS, data.len())
    }

    /// Iterator over the options.
    pub fn options_iter(&self) -> DhcpOptions<'_> {
        DhcpOptions::new(self.options())
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Packet<T> {
    /// Sets the op code.
    pub fn set_op(&mut self, value: DhcpOpCode) {
        self.buffer.as_mut()[field::OP] = value.into();
    }

    /// Sets hardware type and length.
    pub fn set_hardware(&mut self, hardware_type: u8, hardware_len: u8) {
        let data = self.buffer.as_mut();
        data[field::HTYPE] = hardware_type;
        data[field::HLEN] = hardware_len;
    }

    /// Sets the hop count.
    pub fn set_hops(&mut self, value: u8) {
        self.buffer.as_mut()[field::HOPS] = value;
    }

    /// Sets the transaction id.
    pub fn set_transaction_id(&mut self, value: u32) {
        set_u32(self.buffer.as_mut(), field::XID.start, value);
    }

    /// Sets the seconds field.
    pub fn set_secs(&mut self, value: u16) {
        set_u16(self.buffer.as_mut(), field::SECS.start, value);
    }

    /// Sets the flags field.
    pub fn set_flags(&mut self, value: u16) {
        set_u16(self.buffer.as_mut(), field::FLAGS.start, value);
    }

    /// Sets `ciaddr`.
    pub fn set_client_ip(&mut self, value: Ipv4Addr) {
        self.buffer.as_mut()[field::CIADDR].copy_from_slice(&value.octets());
    }

    /// Sets `yiaddr`.
    pub fn set_your_ip(&mut self, value: Ipv4Addr) {
        self.buffer.as_mut()[field::YIADDR].copy_from_slice(&value.octets());
    }

    /// Sets `siaddr`.
    pub fn set_server_ip(&mut self, value: Ipv4Addr) {
        self.buffer.as_mut()[field::SIADDR].copy_from_slice(&value.octets());
    }

    /// Sets `giaddr`.
    pub fn set_relay_agent_ip(&mut self, value: Ipv4Addr) {
        self.buffer.as_mut()[field::GIADDR].copy_from_slice(&value.octets());
    }

    /// Sets `chaddr` to a MAC, zero padded to 16 bytes.
    pub fn set_client_hardware_addr(&mut self, value: EthernetAddress) {
        let chaddr = &mut self.buffer.as_mut()[field::CHADDR];
        chaddr.fill(0);
        chaddr[..6].copy_from_slice(&value.0);
    }

    /// Zeroes `sname` and `file`.
    pub fn clear_sname_and_file(&mut self) {
        let data = self.buffer.as_mut();
        data[field::SNAME.start..field::FILE.end].fill(0);
    }

    /// Sets the magic cookie.
    pub fn set_magic_number(&mut self, value: u32) {
        set_u32(self.buffer.as_mut(), field::MAGIC.start, value);
    }

    /// Mutable option bytes.
    pub fn options_mut(&mut self) -> &mut [u8] {
        let data = self.buffer.as_mut();
        let len = data.len();
        clamped_mut(data, field::OPTIONS, len)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dhcpopt::DhcpOptionCode;
    use crate::fixtures::DHCP_DISCOVER;

    const DISCOVER: &[u8] = DHCP_DISCOVER.split_at(42).1;

    #[test]
    fn deconstruct_discover() {
        let packet = Packet::new_checked(DISCOVER).unwrap();
        assert_eq!(packet.op(), DhcpOpCode::BootRequest);
        assert_eq!(
            (packet.hardware_type(), packet.hardware_len(), packet.hops()),
            (1, 6, 0)
        );
        assert_eq!(packet.transaction_id(), 0x3903_f326);
        assert!(packet.broadcast_flag());
        assert_eq!(packet.client_ip(), Ipv4Addr::UNSPECIFIED);
        assert_eq!(
            packet.client_hardware_addr(),
            EthernetAddress([2, 0, 0, 0, 0, 1])
        );
        assert_eq!(packet.magic_number(), MAGIC_COOKIE);
        assert!(packet.sname().iter().all(|&b| b == 0) && packet.file().len() == 128);
        let codes: Vec<_> = packet.options_iter().map(|o| o.unwrap().code).collect();
        assert_eq!(
            codes,
            vec![
                DhcpOptionCode::MessageType,
                DhcpOptionCode::ClientIdentifier,
                DhcpOptionCode::ParameterRequestList
            ]
        );
    }

    #[test]
    fn truncated() {
        assert_eq!(
            Packet::new_checked(&DISCOVER[..239]).err(),
            Some(Error::Truncated)
        );
        assert_eq!(DhcpMessageType::Unknown(42).to_string(), "type-42");
        assert_eq!(DhcpMessageType::Ack.to_string(), "Ack");
    }
}
