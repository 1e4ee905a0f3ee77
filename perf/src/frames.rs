//! Benchmark frames: Ethernet / IPv4 / UDP, one per flow, built with df-wire.

use std::net::Ipv4Addr;

use df_wire::checksum;

/// An Ethernet/IPv4/UDP frame of `len` bytes (without FCS, at least 42):
/// 198.18.0.1 -> 198.19.x.y and UDP ports derived from `flow`.
pub fn udp4(dst: [u8; 6], src: [u8; 6], flow: u32, len: usize) -> Vec<u8> {
    let len = len.max(42);
    let mut f = vec![0u8; len];
    f[0..6].copy_from_slice(&dst);
    f[6..12].copy_from_slice(&src);
    f[12..14].copy_from_slice(&[0x08, 0x00]);
    let ip_len = (len - 14) as u16;
    let dst_ip = Ipv4Addr::from(0xc613_0000u32 | (flow & 0xffff));
    let ip = &mut f[14..34];
    ip[0] = 0x45;
    ip[2..4].copy_from_slice(&ip_len.to_be_bytes());
    ip[4..6].copy_from_slice(&(flow as u16).to_be_bytes());
    ip[8] = 64;
    ip[9] = 17;
    ip[12..16].copy_from_slice(&[198, 18, 0, 1]);
    ip[16..20].copy_from_slice(&dst_ip.octets());
    let c = checksum::checksum(ip);
    ip[10..12].copy_from_slice(&c.to_be_bytes());
    let udp = &mut f[34..42];
    udp[0..2].copy_from_slice(&(1024 + (flow >> 16) as u16).to_be_bytes());
    udp[2..4].copy_from_slice(&(1024u16.wrapping_add(flow as u16)).to_be_bytes());
    udp[4..6].copy_from_slice(&(ip_len - 20).to_be_bytes());
    f
}
