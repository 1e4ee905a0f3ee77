//! `l2`'s hot path: the ARP and ND responders (see [`respond`]), then an
//! FDB hash lookup per unicast packet, replication for broadcast and
//! multicast.
//!
//! The responders cost the common packet one EtherType compare; only ARP
//! and IPv6 frames (and only while some port has addresses) go further.

use std::sync::Arc;

use df_dp::{Batch, EntryId, ExitId, Packet, RcuCell, RegSlot, Stage, StageIo};
use df_wire::ETHERNET_HEADER_LEN;

use crate::counters::{NO_FLOOD_TARGET, RUNT, UNKNOWN_NETWORK, UNKNOWN_UNICAST};
use crate::tables::{fdb_key, L2Tables};
use crate::trace::{DHCP_CLIENT, FDB_HIT, FLOOD_COPIES, TO_UPLINK};

mod respond;
#[cfg(test)]
mod responder_tests;

const UNICAST: ExitId = ExitId(0);
const FLOOD: ExitId = ExitId(1);
const REPLY: ExitId = ExitId(2);

const DHCP: ExitId = ExitId(3);
const DEFAULT_ENTRY: EntryId = EntryId(0);

/// The common case over a whole batch: every packet an IPv4 unicast frame
/// (nothing for the responder or the DHCP server) whose destination MAC is
/// in the FDB. Then sets their destination keys and returns true;
/// otherwise changes nothing (the caller takes them one by one).
#[inline]
fn unicast_all(regs: Regs, t: &L2Tables, classify: bool, batch: &mut Batch) -> bool {
    let mut ports = [0u32; df_dp::BATCH_MAX];
    if batch.len() > ports.len() {
        return false;
    }
    for (pkt, port) in batch.as_slice().iter().zip(ports.iter_mut()) {
        let d = pkt.data();
        let Some(h) = d.first_chunk::<ETHERNET_HEADER_LEN>() else {
            return false;
        };
        if h[0] & 1 != 0 || h[12..14] != [0x08, 0x00] || (classify && is_dhcp_client(d)) {
            return false;
        }
        let mac = [h[0], h[1], h[2], h[3], h[4], h[5]];
        match t.fdb.get(&fdb_key(pkt.reg(regs.net), &mac)) {
            Some(&p) => *port = p,
            None => return false,
        }
    }
    for (pkt, &port) in batch.as_mut_slice().iter_mut().zip(ports.iter()) {
        pkt.set_reg(regs.dst, port);
    }
    true
}

/// A message for the `dhcp` app, checked on the bytes without parsing the
/// rest: an untagged IPv4 UDP datagram from port 68 to port 67 (DHCPv4
/// client), checked first; or an untagged IPv6 frame whose fixed header is
/// followed directly by an ICMPv6 Router Solicitation with hop limit 255,
/// or by a UDP datagram from port 546 to port 547 (DHCPv6 client).
#[inline]
fn is_dhcp_client(d: &[u8]) -> bool {
    match d.get(12..14) {
        Some(&[0x08, 0x00]) => {
            if d.get(23) != Some(&17) {
                return false;
            }
            let ihl = usize::from(d.get(14).map_or(0, |b| b & 0x0f)) * 4;
            let l4 = 14 + ihl;
            ihl >= 20 && d.get(l4..l4 + 4) == Some(&[0, 68, 0, 67][..])
        }
        Some(&[0x86, 0xdd]) => match (d.get(14).map(|b| b >> 4), d.get(20), d.get(21)) {
            // Next header 58 (ICMPv6), hop limit 255, type 133.
            (Some(6), Some(58), Some(255)) => d.get(54) == Some(&133),
            // Next header 17 (UDP), 546 -> 547.
            (Some(6), Some(17), _) => d.get(54..58) == Some(&[2, 34, 2, 35][..]),
            _ => false,
        },
        _ => false,
    }
}

#[derive(Debug, Clone, Copy)]
pub(crate) struct Regs {
    pub(crate) net: RegSlot,
    pub(crate) src: RegSlot,
    pub(crate) dst: RegSlot,
}

/// The `l2` stage of one worker.
#[derive(Debug)]
pub struct L2Stage {
    regs: Regs,
    tables: Arc<RcuCell<L2Tables>>,
}

impl L2Stage {
    pub(crate) fn new(regs: Regs, tables: Arc<RcuCell<L2Tables>>) -> Self {
        L2Stage { regs, tables }
    }

    fn flood(&self, t: &L2Tables, mut pkt: Packet, net: u32, io: &mut StageIo<'_>) {
        let Some(list) = t.flood.get(net).and_then(|i| t.flood_lists.get(i as usize)) else {
            return io.drop(pkt, UNKNOWN_NETWORK);
        };
        let src = pkt.reg(self.regs.src);
        let mut targets = list.iter().copied().filter(|&p| p != src);
        let Some(mut cur) = targets.next() else {
            return io.drop(pkt, NO_FLOOD_TARGET);
        };
        let mut copies = 1u64;
        for next in targets {
            if let Some(mut c) = io.clone_packet(&pkt) {
                c.set_reg(self.regs.dst, cur);
                io.send(FLOOD, c);
                copies += 1;
            }
            cur = next;
        }
        io.note(&pkt, FLOOD_COPIES, copies);
        pkt.set_reg(self.regs.dst, cur);
        io.send(FLOOD, pkt);
    }
}

impl Stage for L2Stage {
    fn process(&mut self, entry: EntryId, batch: &mut Batch, io: &mut StageIo<'_>) {
        let t = self.tables.read(io.rcu());
        let classify = entry == DEFAULT_ENTRY;
        if !io.tracing() && unicast_all(self.regs, t, classify, batch) {
            return io.send_all(UNICAST, batch);
        }
        for pkt in batch.drain() {
            if pkt.len() < ETHERNET_HEADER_LEN {
                io.drop(pkt, RUNT);
                continue;
            }
            if classify && is_dhcp_client(pkt.data()) {
                io.note(&pkt, DHCP_CLIENT, 0);
                io.send(DHCP, pkt);
                continue;
            }
            let Some(mut pkt) = respond::answer(self.regs, t, pkt, io) else {
                continue;
            };
            let Some(dst) = pkt.data().get(..6) else {
                io.drop(pkt, RUNT);
                continue;
            };
            let net = pkt.reg(self.regs.net);
            if dst[0] & 1 != 0 {
                self.flood(t, pkt, net, io);
                continue;
            }
            let mac = [dst[0], dst[1], dst[2], dst[3], dst[4], dst[5]];
            match t.fdb.get(&fdb_key(net, &mac)) {
                Some(&port) => {
                    pkt.set_reg(self.regs.dst, port);
                    io.note(&pkt, FDB_HIT, port as u64);
                    io.send(UNICAST, pkt);
                }
                None => match t.uplink(net) {
                    // Unknown unicast leaves by the physical network, but
                    // never back to where it came from.
                    Some(up) if up != pkt.reg(self.regs.src) => {
                        pkt.set_reg(self.regs.dst, up);
                        io.note(&pkt, TO_UPLINK, u64::from(up));
                        io.send(UNICAST, pkt);
                    }
                    _ => io.drop(pkt, UNKNOWN_UNICAST),
                },
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use df_dp::reg::{DESTINATION_PORT_KEY, NETWORK_KEY, SOURCE_PORT_KEY};
    use df_dp::testing::StageHarness;

    use crate::L2App;

    const CFG: &str = r#"{"networks":[{"network_key":1,"ports":[
        {"port_key":1,"mac":"02:00:00:00:00:01"},
        {"port_key":2,"mac":"02:00:00:00:00:02"},
        {"port_key":3,"mac":"02:00:00:00:00:03"}]}]}"#;

    fn frame(dst: [u8; 6]) -> Vec<u8> {
        let mut f = dst.to_vec();
        f.extend_from_slice(&[2, 0, 0, 0, 0, 1, 0x08, 0x00]);
        f.resize(60, 0);
        f
    }

    #[test]
    fn unicast_flood_and_drops() {
        let mut h = StageHarness::<L2App>::new("").unwrap();
        h.configure_json(CFG).unwrap();
        let regs = [(NETWORK_KEY, 1), (SOURCE_PORT_KEY, 1)];
        let pkts = vec![
            h.packet(&frame([2, 0, 0, 0, 0, 2]), 0, &regs),
            h.packet(&frame([0xff; 6]), 0, &regs),
            h.packet(&frame([2, 0, 0, 0, 0, 9]), 0, &regs),
            h.packet(&[0; 8], 0, &regs),
            h.packet(
                &frame([0xff; 6]),
                0,
                &[(NETWORK_KEY, 7), (SOURCE_PORT_KEY, 1)],
            ),
        ];
        let out = h.run("default", pkts);
        let dst = h.reg(DESTINATION_PORT_KEY);
        let uni: Vec<u32> = out.by_exit("unicast").iter().map(|p| p.reg(dst)).collect();
        assert_eq!(uni, vec![2]);
        let mut flood: Vec<u32> = out.by_exit("flood").iter().map(|p| p.reg(dst)).collect();
        flood.sort();
        assert_eq!(
            flood,
            vec![2, 3],
            "every port of the network but the source"
        );
        assert_eq!(out.dropped("unknown-unicast"), 1);
        assert_eq!(out.dropped("runt"), 1);
        assert_eq!(out.dropped("unknown-network"), 1);
        assert!(out.tx.is_empty());
    }

    /// Untraced, a batch of FDB hits goes on in one go, a mixed one packet
    /// by packet: the same outcome as traced either way.
    #[test]
    fn whole_batches_and_mixed_ones_untraced() {
        let mut h = StageHarness::<L2App>::new("").unwrap();
        h.configure_json(CFG).unwrap();
        let regs = [(NETWORK_KEY, 1), (SOURCE_PORT_KEY, 1)];
        let dst = h.reg(DESTINATION_PORT_KEY);
        let hits = [2u8, 3, 2, 3, 3];
        let pkts = hits
            .iter()
            .map(|&m| h.packet_untraced(&frame([2, 0, 0, 0, 0, m]), 0, &regs))
            .collect();
        let out = h.run("default", pkts);
        let uni: Vec<u32> = out.by_exit("unicast").iter().map(|p| p.reg(dst)).collect();
        assert_eq!(uni, vec![2, 3, 2, 3, 3], "in order, each with its port");
        assert!(out.trace.is_empty());
        // One miss among hits: each packet on its own way.
        let pkts = [2u8, 9, 3]
            .iter()
            .map(|&m| h.packet_untraced(&frame([2, 0, 0, 0, 0, m]), 0, &regs))
            .collect();
        let out = h.run("default", pkts);
        let uni: Vec<u32> = out.by_exit("unicast").iter().map(|p| p.reg(dst)).collect();
        assert_eq!(uni, vec![2, 3]);
        assert_eq!(out.dropped("unknown-unicast"), 1);
    }

    /// A provider network: unknown unicast goes to the uplink unless it
    /// came from there; the uplink is a flood target but never gets its
    /// own flood back.
    #[test]
    fn unknown_unicast_and_floods_reach_the_uplink_but_never_return_to_it() {
        let mut h = StageHarness::<L2App>::new("").unwrap();
        h.configure_json(
            r#"{"networks":[{"network_key":1,"uplink":9,"ports":[
                {"port_key":1,"mac":"02:00:00:00:00:01"},
                {"port_key":2,"mac":"02:00:00:00:00:02"}]}]}"#,
        )
        .unwrap();
        let from = |src| [(NETWORK_KEY, 1), (SOURCE_PORT_KEY, src)];
        let pkts = vec![
            h.packet(&frame([2, 0, 0, 0, 0, 7]), 0, &from(1)),
            h.packet(&frame([2, 0, 0, 0, 0, 7]), 0, &from(9)),
            h.packet(&frame([2, 0, 0, 0, 0, 2]), 0, &from(9)),
        ];
        let out = h.run("default", pkts);
        let dst = h.reg(DESTINATION_PORT_KEY);
        let uni: Vec<u32> = out.by_exit("unicast").iter().map(|p| p.reg(dst)).collect();
        assert_eq!(
            uni,
            vec![9, 2],
            "to the uplink from a VM; to a VM from the uplink"
        );
        assert_eq!(out.dropped("unknown-unicast"), 1, "never reflected");

        let p = h.packet(&frame([0xff; 6]), 0, &from(1));
        let out = h.run("default", vec![p]);
        let mut flood: Vec<u32> = out.by_exit("flood").iter().map(|p| p.reg(dst)).collect();
        flood.sort();
        assert_eq!(flood, vec![2, 9]);
        let p = h.packet(&frame([0xff; 6]), 0, &from(9));
        let out = h.run("default", vec![p]);
        let mut flood: Vec<u32> = out.by_exit("flood").iter().map(|p| p.reg(dst)).collect();
        flood.sort();
        assert_eq!(flood, vec![1, 2]);

        let e = h
            .configure_json(
                r#"{"networks":[{"network_key":1,"uplink":1,"ports":[{"port_key":1,"mac":"02:00:00:00:00:01"}]}]}"#,
            )
            .unwrap_err();
        assert!(
            e.contains("networks[0].uplink: port key 1 is also a port of the network"),
            "{e}"
        );
    }

    /// An overlay network: one flood copy goes to the remote-flood key
    /// (the tunnel replicates it to the other chassis); a flood that came
    /// from the overlay (its source is that key) stays local.
    #[test]
    fn floods_reach_the_overlay_once_and_never_return_to_it() {
        let mut h = StageHarness::<L2App>::new("").unwrap();
        h.configure_json(
            r#"{"networks":[{"network_key":1,"remote_flood":70,"ports":[
                {"port_key":1,"mac":"02:00:00:00:00:01"},
                {"port_key":2,"mac":"02:00:00:00:00:02"},
                {"port_key":5,"mac":"02:00:00:00:00:05"}]}]}"#,
        )
        .unwrap();
        let dst = h.reg(DESTINATION_PORT_KEY);
        for (src, want) in [(1, vec![2, 5, 70]), (70, vec![1, 2, 5])] {
            let p = h.packet(
                &frame([0xff; 6]),
                0,
                &[(NETWORK_KEY, 1), (SOURCE_PORT_KEY, src)],
            );
            let out = h.run("default", vec![p]);
            let mut flood: Vec<u32> = out.by_exit("flood").iter().map(|p| p.reg(dst)).collect();
            flood.sort();
            assert_eq!(flood, want, "flood from port key {src}");
        }
        // A port that is not a flood target (on another chassis, a router
        // interface) is reached by unicast only.
        h.configure_json(
            r#"{"networks":[{"network_key":1,"remote_flood":70,"ports":[
                {"port_key":1,"mac":"02:00:00:00:00:01"},
                {"port_key":2,"mac":"02:00:00:00:00:02","flood":false}]}]}"#,
        )
        .unwrap();
        let pkts = vec![
            h.packet(
                &frame([0xff; 6]),
                0,
                &[(NETWORK_KEY, 1), (SOURCE_PORT_KEY, 1)],
            ),
            h.packet(
                &frame([2, 0, 0, 0, 0, 2]),
                0,
                &[(NETWORK_KEY, 1), (SOURCE_PORT_KEY, 1)],
            ),
        ];
        let out = h.run("default", pkts);
        let flood: Vec<u32> = out.by_exit("flood").iter().map(|p| p.reg(dst)).collect();
        assert_eq!(flood, vec![70]);
        let uni: Vec<u32> = out.by_exit("unicast").iter().map(|p| p.reg(dst)).collect();
        assert_eq!(uni, vec![2]);
        let e = h
            .configure_json(
                r#"{"networks":[{"network_key":1,"remote_flood":1,"ports":[{"port_key":1,"mac":"02:00:00:00:00:01"}]}]}"#,
            )
            .unwrap_err();
        assert!(
            e.contains(
                "networks[0].remote_flood: key 1 is also a port (or the uplink) of the network"
            ),
            "{e}"
        );
    }

    #[test]
    fn a_network_of_one_port_has_no_flood_target() {
        let mut h = StageHarness::<L2App>::new("").unwrap();
        h.configure_json(
            r#"{"networks":[{"network_key":1,"ports":[{"port_key":1,"mac":"02:00:00:00:00:01"}]}]}"#,
        )
        .unwrap();
        let p = h.packet(
            &frame([0xff; 6]),
            0,
            &[(NETWORK_KEY, 1), (SOURCE_PORT_KEY, 1)],
        );
        let out = h.run("default", vec![p]);
        assert_eq!(out.dropped("no-flood-target"), 1);
        assert!(h.configure_json(r#"{"networks":[], "x": 1}"#).is_err());
        assert!(
            StageHarness::<L2App>::new("{a: 1}").is_err(),
            "l2 takes no params"
        );
    }

    /// Ethernet (from port 1's MAC to `dst`) / IPv6 / `payload`.
    fn ipv6_frame(dst: [u8; 6], next_header: u8, hop_limit: u8, payload: &[u8]) -> Vec<u8> {
        use df_wire::{EtherType, EthernetAddress, EthernetFrame, EthernetRepr, IpProtocol};
        use df_wire::{Ipv6Packet, Ipv6Repr};
        let mut f = vec![0u8; 54 + payload.len()];
        EthernetRepr {
            src_addr: EthernetAddress([2, 0, 0, 0, 0, 1]),
            dst_addr: EthernetAddress(dst),
            ethertype: EtherType::Ipv6,
        }
        .emit(&mut EthernetFrame::new_unchecked(&mut f[..]));
        Ipv6Repr {
            src_addr: "fe80::1".parse().unwrap(),
            dst_addr: "ff02::2".parse().unwrap(),
            next_header: IpProtocol::from(next_header),
            payload_len: payload.len(),
            hop_limit,
            traffic_class: 0,
            flow_label: 0,
        }
        .emit(&mut Ipv6Packet::new_unchecked(&mut f[14..54]));
        f[54..].copy_from_slice(payload);
        f
    }

    /// l2 sends DHCPv4, Router Solicitations (hop limit 255) and DHCPv6
    /// client messages to `dhcp` from the default entry only; anything
    /// near them takes the normal path.
    #[test]
    fn dhcp_exit_takes_dhcpv4_router_solicitations_and_dhcpv6_clients() {
        let mut h = StageHarness::<L2App>::new("").unwrap();
        h.configure_json(CFG).unwrap();
        let regs = [(NETWORK_KEY, 1), (SOURCE_PORT_KEY, 1)];
        let rs = [133, 0, 0, 0, 0, 0, 0, 0];
        let udp = |s: u16, d: u16| {
            let mut u = vec![0u8; 12];
            u[..2].copy_from_slice(&s.to_be_bytes());
            u[2..4].copy_from_slice(&d.to_be_bytes());
            u[4..6].copy_from_slice(&12u16.to_be_bytes());
            u
        };
        let mut v4 = frame([0xff; 6]);
        v4[14] = 0x45;
        v4[23] = 17;
        v4[34..38].copy_from_slice(&[0, 68, 0, 67]);
        let mcast = [0x33, 0x33, 0, 0, 0, 2];
        let dhcp6 = [0x33, 0x33, 0, 1, 0, 2];
        let to_dhcp = vec![
            v4.clone(),
            ipv6_frame(mcast, 58, 255, &rs),
            ipv6_frame(dhcp6, 17, 1, &udp(546, 547)),
        ];
        let not_dhcp = [
            ipv6_frame(mcast, 58, 64, &rs),              // RS with a bad hop limit
            ipv6_frame(mcast, 58, 255, &[134, 0, 0, 0]), // an RA
            ipv6_frame(mcast, 58, 255, &[135, 0, 0, 0]), // an NS (no responder entries)
            ipv6_frame(dhcp6, 17, 1, &udp(547, 546)),    // a server's reply
            ipv6_frame(dhcp6, 17, 1, &udp(546, 53)),     // some other UDP
            ipv6_frame(dhcp6, 0, 1, &udp(546, 547)),     // behind a hop-by-hop header
            ipv6_frame(mcast, 58, 255, &[])[..54].to_vec(), // no ICMPv6 byte
        ];
        let mut pkts: Vec<_> = to_dhcp.iter().map(|f| h.packet(f, 0, &regs)).collect();
        pkts.extend(not_dhcp.iter().map(|f| h.packet(f, 0, &regs)));
        let out = h.run("default", pkts);
        assert_eq!(out.by_exit("dhcp").len(), to_dhcp.len(), "{:?}", out.drops);
        for (p, f) in out.by_exit("dhcp").iter().zip(&to_dhcp) {
            assert_eq!(p.data(), &f[..], "unchanged");
        }
        // The rest is multicast or broadcast: flooded to ports 2 and 3.
        assert_eq!(out.by_exit("flood").len(), 2 * not_dhcp.len());

        // The lookup entry (what dhcp passes back) does not classify.
        let pkts = to_dhcp.iter().map(|f| h.packet(f, 0, &regs)).collect();
        let out = h.run("lookup", pkts);
        assert!(out.by_exit("dhcp").is_empty());
        assert_eq!(out.by_exit("flood").len(), 2 * to_dhcp.len());
    }
}
