//! IP-level definitions shared by IPv4, IPv6 and the transports above them.
//!
//! The protocol number space is shared by IPv4's `protocol` field and IPv6's
//! `next_header` chain, so it lives here and not in either version's file.

enum_with_unknown! {
    /// IP protocol / IPv6 next-header numbers (IANA "Assigned Internet
    /// Protocol Numbers").
    pub enum IpProtocol(u8) {
        /// IPv6 Hop-by-Hop Options extension header.
        HopByHop = 0,
        /// ICMP for IPv4.
        Icmp = 1,
        /// IGMP.
        Igmp = 2,
        /// IPv4-in-IP encapsulation.
        IpIp = 4,
        /// TCP.
        Tcp = 6,
        /// UDP.
        Udp = 17,
        /// IPv6-in-IP encapsulation.
        Ipv6 = 41,
        /// IPv6 Routing extension header.
        Ipv6Route = 43,
        /// IPv6 Fragment extension header.
        Ipv6Frag = 44,
        /// Generic Routing Encapsulation.
        Gre = 47,
        /// IPsec Encapsulating Security Payload.
        Esp = 50,
        /// IPsec Authentication Header.
        Ah = 51,
        /// ICMP for IPv6.
        Icmpv6 = 58,
        /// IPv6 "No Next Header".
        Ipv6NoNxt = 59,
        /// IPv6 Destination Options extension header.
        Ipv6Opts = 60,
        /// SCTP.
        Sctp = 132,
    }
}

impl core::fmt::Display for IpProtocol {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            IpProtocol::Icmp => f.write_str("ICMP"),
            IpProtocol::Tcp => f.write_str("TCP"),
            IpProtocol::Udp => f.write_str("UDP"),
            IpProtocol::Icmpv6 => f.write_str("ICMPv6"),
            IpProtocol::Unknown(n) => write!(f, "proto-{n}"),
            other => write!(f, "{other:?}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn open_enum_round_trips_every_value() {
        for raw in 0..=u8::MAX {
            assert_eq!(u8::from(IpProtocol::from(raw)), raw);
        }
        assert_eq!(IpProtocol::from(6), IpProtocol::Tcp);
        assert_eq!(IpProtocol::from(200), IpProtocol::Unknown(200));
        assert_eq!(IpProtocol::Udp.to_string(), "UDP");
        assert_eq!(IpProtocol::Unknown(200).to_string(), "proto-200");
    }
}
