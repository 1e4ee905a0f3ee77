//! Synthetic frames for `dfctl trace`, built from flags with df-wire's Reprs.
//!
//! Why df-wire: it is the one crate that writes packets in this project, so
//! the frame dfctl injects has the same checksums and layout as one the
//! switch itself would emit, and `df_wire::describe` can print it back.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use df_wire::{
    ArpOperation, ArpPacket, ArpRepr, EtherType, EthernetAddress, EthernetFrame, EthernetRepr,
    Icmpv4Packet, Icmpv4Repr, Icmpv6Packet, Icmpv6Repr, IpProtocol, Ipv4Packet, Ipv4Repr,
    Ipv6Packet, Ipv6Repr, PseudoHeader, TcpFlags, TcpPacket, TcpRepr, UdpPacket, UdpRepr, VlanRepr,
    VlanTag, ETHERNET_HEADER_LEN,
};

use crate::cli::{FrameSpec, IcmpTypeArg, ProtoArg};

/// The payload of ICMP echo and UDP frames.
const PAYLOAD: &[u8] = b"dfctl trace";
/// Ethernet's minimum frame length without the FCS.
const MIN_FRAME: usize = 60;

/// Builds the frame `spec` describes.
///
/// # Errors
/// A message naming the missing or inconsistent flag.
pub fn build(spec: &FrameSpec) -> Result<Vec<u8>, String> {
    let src_mac = spec.src_mac.ok_or(
        "--src-mac is required to describe a frame (or give the whole frame with --frame-hex)",
    )?;
    let dst_mac = spec.dst_mac.unwrap_or(df_model::Mac::BROADCAST);
    let proto = match (spec.proto, spec.src_ip, spec.dst_ip) {
        (Some(p), _, _) => p,
        (None, Some(_), Some(_)) => ProtoArg::Icmp,
        _ => return Err("give --src-ip and --dst-ip (and --proto icmp|udp|tcp|arp)".into()),
    };
    let (Some(src), Some(dst)) = (spec.src_ip, spec.dst_ip) else {
        return Err(format!(
            "--proto {} needs --src-ip and --dst-ip",
            proto_name(proto)
        ));
    };
    let (ethertype, l3) = match (proto, src, dst) {
        (ProtoArg::Arp, IpAddr::V4(s), IpAddr::V4(d)) => (EtherType::Arp, arp(src_mac, s, d)),
        (ProtoArg::Arp, _, _) => {
            return Err("--proto arp needs IPv4 addresses (IPv6 uses neighbour discovery)".into())
        }
        (_, IpAddr::V4(s), IpAddr::V4(d)) => (EtherType::Ipv4, ipv4(spec, proto, s, d)?),
        (_, IpAddr::V6(s), IpAddr::V6(d)) => (EtherType::Ipv6, ipv6(spec, proto, s, d)?),
        _ => return Err("--src-ip and --dst-ip must be of the same IP version".into()),
    };
    let tag_len = if spec.vlan.is_some() { 4 } else { 0 };
    let mut frame = vec![0u8; ETHERNET_HEADER_LEN + tag_len + l3.len()];
    let eth = EthernetRepr {
        src_addr: EthernetAddress(src_mac.0),
        dst_addr: EthernetAddress(dst_mac.0),
        ethertype: if spec.vlan.is_some() {
            EtherType::Vlan
        } else {
            ethertype
        },
    };
    eth.emit(&mut EthernetFrame::new_unchecked(&mut frame[..]));
    let mut at = ETHERNET_HEADER_LEN;
    if let Some(vid) = spec.vlan {
        if vid == 0 || vid > 4094 {
            return Err(format!("--vlan {vid} is not a VLAN id (expected 1..=4094)"));
        }
        let tag = VlanRepr {
            pcp: 0,
            dei: false,
            vid,
            ethertype,
        };
        tag.emit(&mut VlanTag::new_unchecked(&mut frame[at..at + 4]));
        at += 4;
    }
    frame[at..].copy_from_slice(&l3);
    if frame.len() < MIN_FRAME {
        frame.resize(MIN_FRAME, 0);
    }
    Ok(frame)
}

fn proto_name(p: ProtoArg) -> &'static str {
    match p {
        ProtoArg::Icmp => "icmp",
        ProtoArg::Udp => "udp",
        ProtoArg::Tcp => "tcp",
        ProtoArg::Arp => "arp",
    }
}

fn arp(mac: df_model::Mac, src: Ipv4Addr, dst: Ipv4Addr) -> Vec<u8> {
    let repr = ArpRepr {
        operation: ArpOperation::Request,
        source_hardware_addr: EthernetAddress(mac.0),
        source_protocol_addr: src,
        target_hardware_addr: EthernetAddress([0; 6]),
        target_protocol_addr: dst,
    };
    let mut buf = vec![0u8; repr.buffer_len()];
    repr.emit(&mut ArpPacket::new_unchecked(&mut buf[..]));
    buf
}

/// The transport bytes (header and payload) and their protocol number.
fn transport(
    spec: &FrameSpec,
    proto: ProtoArg,
    ph: &PseudoHeader,
    v6: Option<(Ipv6Addr, Ipv6Addr)>,
) -> Result<(IpProtocol, Vec<u8>), String> {
    match proto {
        ProtoArg::Icmp => {
            let (ident, seq_no, data) = (1, 1, PAYLOAD);
            if let Some((s, d)) = v6 {
                let repr = match spec.icmp_type {
                    IcmpTypeArg::EchoRequest => Icmpv6Repr::EchoRequest {
                        ident,
                        seq_no,
                        data,
                    },
                    IcmpTypeArg::EchoReply => Icmpv6Repr::EchoReply {
                        ident,
                        seq_no,
                        data,
                    },
                };
                let mut buf = vec![0u8; repr.buffer_len()];
                repr.emit(&mut Icmpv6Packet::new_unchecked(&mut buf[..]), &s, &d);
                Ok((IpProtocol::Icmpv6, buf))
            } else {
                let repr = match spec.icmp_type {
                    IcmpTypeArg::EchoRequest => Icmpv4Repr::EchoRequest {
                        ident,
                        seq_no,
                        data,
                    },
                    IcmpTypeArg::EchoReply => Icmpv4Repr::EchoReply {
                        ident,
                        seq_no,
                        data,
                    },
                };
                let mut buf = vec![0u8; repr.buffer_len()];
                repr.emit(&mut Icmpv4Packet::new_unchecked(&mut buf[..]));
                Ok((IpProtocol::Icmp, buf))
            }
        }
        ProtoArg::Udp => {
            let repr = UdpRepr {
                src_port: spec.sport,
                dst_port: spec.dport,
                payload_len: PAYLOAD.len(),
            };
            let mut buf = vec![0u8; repr.buffer_len()];
            buf[repr.header_len()..].copy_from_slice(PAYLOAD);
            repr.emit(&mut UdpPacket::new_unchecked(&mut buf[..]), ph);
            Ok((IpProtocol::Udp, buf))
        }
        ProtoArg::Tcp => {
            let flags = tcp_flags(&spec.tcp_flags)?;
            let repr = TcpRepr {
                src_port: spec.sport,
                dst_port: spec.dport,
                seq_number: 1,
                ack_number: u32::from(flags.contains(TcpFlags::ACK)),
                flags,
                window_len: 65535,
                urgent_at: 0,
                max_seg_size: None,
                window_scale: None,
                sack_permitted: false,
                timestamps: None,
                payload_len: 0,
            };
            let mut buf = vec![0u8; repr.buffer_len()];
            repr.emit(&mut TcpPacket::new_unchecked(&mut buf[..]), ph);
            Ok((IpProtocol::Tcp, buf))
        }
        ProtoArg::Arp => Err("ARP has no transport header".into()),
    }
}

fn ipv4(
    spec: &FrameSpec,
    proto: ProtoArg,
    src: Ipv4Addr,
    dst: Ipv4Addr,
) -> Result<Vec<u8>, String> {
    let ph = PseudoHeader::V4 { src, dst };
    let (protocol, l4) = transport(spec, proto, &ph, None)?;
    let repr = Ipv4Repr {
        src_addr: src,
        dst_addr: dst,
        protocol,
        payload_len: l4.len(),
        ttl: spec.ttl,
        dscp: 0,
        ecn: 0,
        ident: 1,
        dont_frag: false,
        more_frags: false,
        frag_offset: 0,
        options: Default::default(),
    };
    let mut buf = vec![0u8; repr.buffer_len()];
    let hl = repr.header_len();
    buf[hl..].copy_from_slice(&l4);
    repr.emit(&mut Ipv4Packet::new_unchecked(&mut buf[..]));
    Ok(buf)
}

fn ipv6(
    spec: &FrameSpec,
    proto: ProtoArg,
    src: Ipv6Addr,
    dst: Ipv6Addr,
) -> Result<Vec<u8>, String> {
    let ph = PseudoHeader::V6 { src, dst };
    let (next_header, l4) = transport(spec, proto, &ph, Some((src, dst)))?;
    let repr = Ipv6Repr {
        src_addr: src,
        dst_addr: dst,
        next_header,
        payload_len: l4.len(),
        hop_limit: spec.ttl,
        traffic_class: 0,
        flow_label: 0,
    };
    let mut buf = vec![0u8; repr.buffer_len()];
    buf[df_wire::IPV6_HEADER_LEN..].copy_from_slice(&l4);
    repr.emit(&mut Ipv6Packet::new_unchecked(&mut buf[..]));
    Ok(buf)
}

fn tcp_flags(text: &str) -> Result<TcpFlags, String> {
    let mut flags = TcpFlags::empty();
    for name in text.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let f = match name.to_ascii_uppercase().as_str() {
            "FIN" => TcpFlags::FIN,
            "SYN" => TcpFlags::SYN,
            "RST" => TcpFlags::RST,
            "PSH" => TcpFlags::PSH,
            "ACK" => TcpFlags::ACK,
            "URG" => TcpFlags::URG,
            "ECE" => TcpFlags::ECE,
            "CWR" => TcpFlags::CWR,
            _ => {
                return Err(format!(
                    "--tcp-flags: `{name}` is not a TCP flag (expected FIN, SYN, RST, PSH, ACK, URG, ECE, CWR)"
                ))
            }
        };
        flags.insert(f);
    }
    Ok(flags)
}

/// Parses `--frame-hex`: hex digits, with spaces, colons and newlines ignored.
///
/// # Errors
/// Odd length or a non-hex character.
pub fn parse_hex(text: &str) -> Result<Vec<u8>, String> {
    let digits: Vec<u8> = text
        .bytes()
        .filter(|b| !b.is_ascii_whitespace() && *b != b':' && *b != b'-')
        .collect();
    if !digits.len().is_multiple_of(2) {
        return Err("--frame-hex has an odd number of hex digits".into());
    }
    digits
        .chunks(2)
        .map(|pair| {
            let s = std::str::from_utf8(pair).map_err(|_| "--frame-hex is not hex".to_string())?;
            u8::from_str_radix(s, 16).map_err(|_| format!("--frame-hex: `{s}` is not a hex byte"))
        })
        .collect()
}

/// Lowercase hex.
pub fn to_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// One line describing a frame, as df-wire prints it.
pub fn describe(bytes: &[u8]) -> String {
    let mut s = String::new();
    let _ = df_wire::describe(bytes, &mut s);
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec() -> FrameSpec {
        FrameSpec {
            src_mac: Some("fa:16:3e:00:00:01".parse().unwrap()),
            dst_mac: Some("fa:16:3e:00:00:02".parse().unwrap()),
            vlan: None,
            src_ip: Some("10.0.0.3".parse().unwrap()),
            dst_ip: Some("10.0.0.4".parse().unwrap()),
            proto: None,
            sport: 40000,
            dport: 80,
            ttl: 64,
            tcp_flags: "SYN".into(),
            icmp_type: IcmpTypeArg::EchoRequest,
        }
    }

    #[test]
    fn frames_parse_back() {
        for proto in [ProtoArg::Icmp, ProtoArg::Udp, ProtoArg::Tcp, ProtoArg::Arp] {
            let mut s = spec();
            s.proto = Some(proto);
            s.vlan = Some(7);
            let f = build(&s).unwrap();
            assert!(f.len() >= MIN_FRAME);
            let info = df_wire::parse_frame(&f).unwrap();
            let text = describe(&f);
            assert!(!text.is_empty(), "{proto:?}");
            let _ = info;
        }
        let mut s = spec();
        s.src_ip = Some("fd00::3".parse().unwrap());
        s.dst_ip = Some("fd00::4".parse().unwrap());
        s.proto = Some(ProtoArg::Tcp);
        let f = build(&s).unwrap();
        assert!(df_wire::parse_frame(&f).is_ok());
    }

    #[test]
    fn hex() {
        assert_eq!(parse_hex("0a:0B ff").unwrap(), vec![0x0a, 0x0b, 0xff]);
        assert!(parse_hex("abc").is_err());
        assert_eq!(to_hex(&[1, 0xab]), "01ab");
    }
}
