//! Wire formats (WIP).
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
mod icmpv4;
mod icmpv6;
mod ip;
mod ipv4;
mod ipv6;
mod ipv6ext;
mod ndisc;
mod ndopt;
mod tcp;
mod tcpopt;
mod udp;
mod vlan;

#[cfg(test)]
mod fixtures;

pub use crate::error::{Error, Result};
pub use crate::ethernet::{EtherType, EthernetAddress, Frame as EthernetFrame, Repr as EthernetRepr};
pub use crate::fixed::FixedVec;
pub use crate::ip::IpProtocol;
pub use crate::checksum::{ChecksumPolicy, PseudoHeader};
