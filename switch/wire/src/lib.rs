//! `df-wire`: the packet formats of the Dragonflow-RS switch.
//!
//! Every byte the datapath reads or writes goes through this crate, so it
//! is the one place where untrusted input meets parsing code. It follows
//! smoltcp's `wire` module: one file per protocol, each with two halves.
//!
//! * A **view** (`EthernetFrame<T>`, `Ipv4Packet<T>`, ...) wraps any
//!   `T: AsRef<[u8]>` without copying. `new_checked` validates the lengths
//!   the view relies on; getters read fields in place; `set_*` setters and
//!   `payload_mut` exist when `T: AsMut<[u8]>`. Field offsets are constants
//!   in a private `mod field` of each file.
//! * A **repr** (`EthernetRepr`, `Ipv4Repr`, ...) is the owned, usually
//!   `Copy`, meaning of a header: `parse(&view)` builds it, `emit(&mut view)`
//!   writes it (checksums included), `buffer_len()` says how many bytes
//!   `emit` needs. Reprs that carry variable data borrow it (`&'a [u8]`) or
//!   keep it in fixed-capacity arrays ([`FixedVec`]), so building a reply
//!   (ARP, ICMP, ND, DHCP) never touches the heap.
//!
//! Protocol numbers are open enums with an `Unknown(raw)` variant
//! ([`EtherType`], [`IpProtocol`], [`ArpOperation`], [`Icmpv4Message`],
//! [`Icmpv6Message`], [`NdOptionType`], [`DhcpMessageType`], ...), so
//! conversion from the wire is total. Errors are one small `Copy` enum,
//! [`Error`]; a bad packet is a counted drop on the datapath, not an
//! exceptional event. [`parse_frame`] walks a whole frame once and returns
//! the offsets every stage needs; [`describe`] prints it like tcpdump.
//!
//! # Example: answer an ARP request
//!
//! ```
//! use df_wire::{parse_frame, ArpPacket, EtherType, EthernetAddress, EthernetFrame, EthernetRepr, L3Info};
//!
//! // Who has 10.0.0.2? Tell 10.0.0.1 (02:00:00:00:00:01).
//! let request: [u8; 42] = [
//!     0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02, 0, 0, 0, 0, 0x01, 0x08, 0x06, // Ethernet
//!     0, 1, 0x08, 0, 6, 4, 0, 1, 0x02, 0, 0, 0, 0, 0x01, 10, 0, 0, 1, // ARP: SHA, SPA
//!     0, 0, 0, 0, 0, 0, 10, 0, 0, 2, // THA, TPA
//! ];
//! let info = parse_frame(&request)?;
//! let L3Info::Arp(arp) = info.outer.net else { return Err(df_wire::Error::Unsupported) };
//!
//! let mac: EthernetAddress = "02:00:00:00:00:02".parse()?;
//! let reply = arp.reply(mac);
//! let eth = EthernetRepr { src_addr: mac, dst_addr: arp.source_hardware_addr, ethertype: EtherType::Arp };
//! let mut buf = [0u8; 42]; // on the datapath: a reused mbuf, never the heap
//! let mut frame = EthernetFrame::new_unchecked(&mut buf[..]);
//! eth.emit(&mut frame);
//! reply.emit(&mut ArpPacket::new_unchecked(frame.payload_mut()));
//!
//! assert!(matches!(parse_frame(&buf)?.outer.net, L3Info::Arp(r) if r == reply));
//! # Ok::<(), df_wire::Error>(())
//! ```
//!
//! # The no-panic contract
//!
//! * Once `new_checked` (or `check_len`) has returned `Ok` for a view, no
//!   getter, iterator or `payload` accessor of that view panics, whatever
//!   the bytes are. (Setters can change length fields; accessors of variable
//!   parts clamp to the buffer, so they still do not panic, but fixed-field
//!   getters of a view built with `new_unchecked` on a short buffer do.)
//! * `Repr::parse` of any view never panics and never allocates: it runs
//!   `check_len` itself, so even a `new_unchecked` view is safe to parse.
//! * [`parse_frame`] and [`describe`] (into a non-allocating writer) never
//!   panic and never allocate on any input.
//! * `Repr::emit` panics only if the buffer is shorter than the repr's
//!   `buffer_len()` (each documents this under `# Panics`). Emit into a
//!   view made with `new_unchecked`: a reused buffer can hold stale bytes
//!   that fail, or accidentally pass, `check_len`.
//! * Variable-length parts (IPv4 options, IPv6 extension headers and
//!   options, TCP options, ND options, DHCP options and static routes,
//!   Geneve options, MPLS label stacks) are walked by iterators that yield
//!   one error on a malformed length and then stop; they never read past
//!   their container and never loop forever.
//!
//! There is no `unsafe` code. Parsing uses bounds-checked indexing after
//! `check_len`; if a benchmark ever shows the checks matter, that decision
//! is made there, with a `SAFETY` comment pointing at the check.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

#[macro_use]
mod macros;

mod arp;
mod bytes;
pub mod checksum;
mod dhcp;
mod dhcpopt;
mod dhcprepr;
mod error;
mod ethernet;
mod fixed;
mod frame;
mod geneve;
mod icmpv4;
mod icmpv6;
mod ip;
mod ipv4;
mod ipv6;
mod ipv6ext;
mod mpls;
mod ndisc;
mod ndopt;
mod pretty;
mod tcp;
mod tcpopt;
mod udp;
mod vlan;
mod vxlan;

#[cfg(test)]
mod fixtures;

pub use crate::arp::{
    ArpHardware, ArpOperation, Packet as ArpPacket, Repr as ArpRepr,
    ETHERNET_IPV4_LEN as ARP_ETHERNET_IPV4_LEN,
};
pub use crate::checksum::{ChecksumPolicy, PseudoHeader};
pub use crate::dhcp::{
    DhcpMessageType, DhcpOpCode, Packet as DhcpPacket, CLIENT_PORT as DHCP_CLIENT_PORT,
    HEADER_LEN as DHCP_HEADER_LEN, MAGIC_COOKIE as DHCP_MAGIC_COOKIE,
    SERVER_PORT as DHCP_SERVER_PORT,
};
pub use crate::dhcpopt::{
    encode_static_routes, DhcpOption, DhcpOptionCode, DhcpOptions, StaticRoute, StaticRoutes,
};
pub use crate::dhcprepr::{
    DhcpRepr, MAX_DNS_SERVERS as DHCP_MAX_DNS_SERVERS, MAX_EXTRA_OPTIONS as DHCP_MAX_EXTRA_OPTIONS,
    MAX_STATIC_ROUTES as DHCP_MAX_STATIC_ROUTES, MIN_MESSAGE_LEN as DHCP_MIN_MESSAGE_LEN,
};
pub use crate::error::{Error, Result};
pub use crate::ethernet::{
    EtherType, EthernetAddress, Frame as EthernetFrame, Repr as EthernetRepr,
    HEADER_LEN as ETHERNET_HEADER_LEN,
};
pub use crate::fixed::FixedVec;
pub use crate::frame::{parse_frame, AppInfo, FrameInfo, L3Info, L4Info, Layers};
pub use crate::geneve::{
    GeneveOption, GeneveOptions, Packet as GenevePacket, Repr as GeneveRepr,
    HEADER_LEN as GENEVE_HEADER_LEN, UDP_PORT as GENEVE_UDP_PORT,
};
pub use crate::icmpv4::{
    split_embedded_ipv4, Icmpv4DstUnreachable, Icmpv4Message, Packet as Icmpv4Packet,
    Repr as Icmpv4Repr, HEADER_LEN as ICMPV4_HEADER_LEN,
};
pub use crate::icmpv6::{
    Icmpv6Message, Packet as Icmpv6Packet, Repr as Icmpv6Repr, HEADER_LEN as ICMPV6_HEADER_LEN,
};
pub use crate::ip::IpProtocol;
pub use crate::ipv4::{
    Ipv4Option, Ipv4OptionType, Ipv4Options, OptionBytes as Ipv4OptionBytes, Packet as Ipv4Packet,
    Repr as Ipv4Repr, HEADER_LEN as IPV4_HEADER_LEN,
};
pub use crate::ipv6::{Packet as Ipv6Packet, Repr as Ipv6Repr, HEADER_LEN as IPV6_HEADER_LEN};
pub use crate::ipv6ext::{
    is_extension_header, walk_ext_headers, ExtHeader as Ipv6ExtHeader,
    ExtHeaders as Ipv6ExtHeaders, ExtWalk as Ipv6ExtWalk, FragmentHeader as Ipv6FragmentHeader,
    FragmentRepr as Ipv6FragmentRepr, Ipv6Option, Ipv6Options,
    MAX_EXT_HEADERS as IPV6_MAX_EXT_HEADERS,
};
pub use crate::mpls::{
    walk_label_stack, MplsStack, Packet as MplsPacket, Repr as MplsRepr,
    MAX_DEPTH as MPLS_MAX_DEPTH,
};
pub use crate::ndisc::NdiscRepr;
pub use crate::ndopt::{NdOption, NdOptionType, NdOptions, NdOptionsRepr, PrefixInfo};
pub use crate::pretty::{describe, describe_info};
pub use crate::tcp::{Packet as TcpPacket, Repr as TcpRepr, HEADER_LEN as TCP_HEADER_LEN};
pub use crate::tcpopt::{TcpFlags, TcpOption, TcpOptions};
pub use crate::udp::{Packet as UdpPacket, Repr as UdpRepr, HEADER_LEN as UDP_HEADER_LEN};
pub use crate::vlan::{
    is_tpid, walk_tags, Repr as VlanRepr, Tag as VlanTag, TagInfo as VlanTagInfo,
    TagStack as VlanTagStack, MAX_TAGS as VLAN_MAX_TAGS,
};
pub use crate::vxlan::{
    Packet as VxlanPacket, Repr as VxlanRepr, HEADER_LEN as VXLAN_HEADER_LEN,
    UDP_PORT as VXLAN_UDP_PORT,
};
