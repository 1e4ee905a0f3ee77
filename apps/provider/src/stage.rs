//! `provider`'s hot path: classify a frame from a physical network by its
//! uplink and VLAN id, popping the tag in place.
//!
//! Per packet: one direct-indexed lookup by receive port; for an 802.1Q
//! frame one hash probe by (port, VID), then the tag is popped by moving
//! the 12 MAC bytes forward over it and trimming 4 bytes off the front (no
//! copy of the payload). A priority tag (VID 0) is popped and the frame
//! treated as untagged. Only 0x8100 is a tag here: an 802.1ad (0x88a8)
//! frame on a flat network is tenant payload, as in OVS's default VLAN
//! handling.

use std::sync::Arc;

use df_dp::{Batch, EntryId, ExitId, Packet, RcuCell, RegSlot, Stage, StageIo};
use df_wire::{EtherType, EthernetFrame, VlanTag};

use crate::counters::{RUNT, UNKNOWN_PORT, UNKNOWN_VLAN};
use crate::tables::{vlan_key, ProviderTables};
use crate::trace::{NETWORK, NO_NETWORK_FOR_VLAN, VLAN_POPPED};

const DEFAULT: ExitId = ExitId(0);

/// Bytes of an 802.1Q tag (TPID + TCI).
const TAG_LEN: usize = 4;
/// Bytes of the two MAC addresses in front of the tag.
const MACS_LEN: usize = 12;

#[derive(Debug, Clone, Copy)]
pub(crate) struct Regs {
    pub(crate) src: RegSlot,
    pub(crate) net: RegSlot,
}

/// The `provider` stage of one worker.
#[derive(Debug)]
pub struct ProviderStage {
    regs: Regs,
    tables: Arc<RcuCell<ProviderTables>>,
}

impl ProviderStage {
    pub(crate) fn new(regs: Regs, tables: Arc<RcuCell<ProviderTables>>) -> Self {
        ProviderStage { regs, tables }
    }
}

/// What the frame's first EtherType says.
enum Tagging {
    Untagged,
    /// An 802.1Q tag with this VLAN id.
    Tagged(u16),
}

/// Reads the frame's tagging; `None` for a runt.
#[inline]
fn tagging(data: &[u8]) -> Option<Tagging> {
    let eth = EthernetFrame::new_checked(data).ok()?;
    if eth.ethertype() != EtherType::Vlan {
        return Some(Tagging::Untagged);
    }
    let tag = VlanTag::new_checked(eth.payload()).ok()?;
    Some(Tagging::Tagged(tag.vid()))
}

/// Removes the outer 802.1Q tag: the MAC addresses move forward over it
/// and the frame starts 4 bytes later; false (nothing changed) for a
/// frame too short to hold the tag.
#[inline]
fn pop_tag(pkt: &mut Packet) -> bool {
    let d = pkt.data_mut();
    if d.len() < MACS_LEN + TAG_LEN {
        return false;
    }
    d.copy_within(0..MACS_LEN, TAG_LEN);
    pkt.adj(TAG_LEN)
}

impl Stage for ProviderStage {
    fn process(&mut self, _entry: EntryId, batch: &mut Batch, io: &mut StageIo<'_>) {
        let t = self.tables.read(io.rcu());
        for mut pkt in batch.drain() {
            let Some(tagging) = tagging(pkt.data()) else {
                io.drop(pkt, RUNT);
                continue;
            };
            let port = pkt.meta().in_port;
            let Some(up) = t.by_port.get(usize::from(port)).copied().flatten() else {
                io.drop(pkt, UNKNOWN_PORT);
                continue;
            };
            let seg = match tagging {
                Tagging::Untagged => up.flat,
                Tagging::Tagged(0) => up.flat,
                Tagging::Tagged(vid) => t.vlans.get(&vlan_key(port, vid)).copied(),
            };
            let Some(seg) = seg else {
                let vid = match tagging {
                    Tagging::Untagged => 4096,
                    Tagging::Tagged(vid) => u64::from(vid),
                };
                io.note(&pkt, NO_NETWORK_FOR_VLAN, vid);
                io.drop(pkt, UNKNOWN_VLAN);
                continue;
            };
            if let Tagging::Tagged(vid) = tagging {
                if !pop_tag(&mut pkt) {
                    io.drop(pkt, RUNT);
                    continue;
                }
                io.note(&pkt, VLAN_POPPED, u64::from(vid));
            }
            pkt.set_reg(self.regs.src, seg.port_key);
            pkt.set_reg(self.regs.net, seg.network);
            io.note(&pkt, NETWORK, u64::from(seg.network));
            io.send(DEFAULT, pkt);
        }
    }
}

#[cfg(test)]
mod tests {
    use df_dp::reg::{NETWORK_KEY, SOURCE_PORT_KEY};
    use df_dp::testing::StageHarness;
    use df_wire::{EtherType, EthernetAddress, EthernetFrame, EthernetRepr, VlanRepr, VlanTag};

    use crate::ProviderApp;

    const CFG: &str = r#"{"uplinks":[
        {"port":1,"physical_network":"physnet1","networks":[
            {"network_key":10},{"network_key":11,"vlan":100,"port_key":7}]},
        {"port":2,"physical_network":"physnet2","networks":[{"network_key":20,"vlan":200}]}]}"#;

    const DST: EthernetAddress = EthernetAddress([2, 0, 0, 0, 0, 2]);
    const SRC: EthernetAddress = EthernetAddress([2, 0, 0, 0, 0, 1]);

    /// An untagged IPv4-typed frame with a recognisable payload, 60 bytes.
    fn untagged() -> Vec<u8> {
        let mut f = vec![0u8; 60];
        EthernetRepr {
            src_addr: SRC,
            dst_addr: DST,
            ethertype: EtherType::Ipv4,
        }
        .emit(&mut EthernetFrame::new_unchecked(&mut f[..]));
        for (i, b) in f[14..].iter_mut().enumerate() {
            *b = i as u8;
        }
        f
    }

    /// The same frame with an 802.1Q tag (PCP 5, VID `vid`) inserted.
    fn tagged(vid: u16) -> Vec<u8> {
        let inner = untagged();
        let mut f = vec![0u8; inner.len() + 4];
        EthernetRepr {
            src_addr: SRC,
            dst_addr: DST,
            ethertype: EtherType::Vlan,
        }
        .emit(&mut EthernetFrame::new_unchecked(&mut f[..]));
        VlanRepr {
            pcp: 5,
            dei: false,
            vid,
            ethertype: EtherType::Ipv4,
        }
        .emit(&mut VlanTag::new_unchecked(&mut f[14..18]));
        f[18..].copy_from_slice(&inner[14..]);
        f
    }

    fn harness() -> StageHarness<ProviderApp> {
        let mut h = StageHarness::<ProviderApp>::new("").unwrap();
        h.configure_json(CFG).unwrap();
        h
    }

    #[test]
    fn flat_frame_enters_the_flat_network_unchanged() {
        let mut h = harness();
        let p = h.packet(&untagged(), 1, &[(SOURCE_PORT_KEY, 99)]);
        let out = h.run("default", vec![p]);
        let sent = out.by_exit("default");
        assert_eq!(sent.len(), 1);
        let (src, net) = (h.reg(SOURCE_PORT_KEY), h.reg(NETWORK_KEY));
        assert_eq!(sent[0].reg(src), 0, "from a physical network: reg6 = 0");
        assert_eq!(sent[0].reg(net), 10);
        assert_eq!(sent[0].data(), &untagged()[..]);
        assert!(out.drops.is_empty(), "{:?}", out.drops);
    }

    #[test]
    fn vlan_frame_is_popped_into_its_network() {
        let mut h = harness();
        let pkts = vec![
            h.packet(&tagged(100), 1, &[]),
            h.packet(&tagged(200), 2, &[]),
            h.packet(&tagged(0), 1, &[]),
        ];
        let out = h.run("default", pkts);
        let sent = out.by_exit("default");
        assert_eq!(sent.len(), 3);
        let net = h.reg(NETWORK_KEY);
        let nets: Vec<u32> = sent.iter().map(|p| p.reg(net)).collect();
        assert_eq!(
            nets,
            vec![11, 20, 10],
            "VID 100, VID 200, priority tag -> flat"
        );
        let src = h.reg(SOURCE_PORT_KEY);
        let srcs: Vec<u32> = sent.iter().map(|p| p.reg(src)).collect();
        assert_eq!(
            srcs,
            vec![7, 0, 0],
            "the uplink's port key in the network, else 0"
        );
        for p in &sent {
            assert_eq!(
                p.data(),
                &untagged()[..],
                "tag removed, MACs and payload intact"
            );
        }
        // The exact bytes, written out once.
        let d = sent[0].data();
        assert_eq!(&d[..14], &[2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x08, 0x00]);
        assert_eq!(&d[14..18], &[0, 1, 2, 3]);
        assert_eq!(d.len(), 60);
    }

    #[test]
    fn drops_unknown_port_unknown_vlan_and_runts() {
        let mut h = harness();
        let pkts = vec![
            h.packet(&untagged(), 7, &[]),        // not an uplink
            h.packet(&tagged(101), 1, &[]),       // VID not carried
            h.packet(&tagged(100), 2, &[]),       // VID 100 is port 1's
            h.packet(&untagged(), 2, &[]),        // no flat network on port 2
            h.packet(&[0u8; 13], 1, &[]),         // short of an Ethernet header
            h.packet(&tagged(100)[..16], 1, &[]), // cut inside the tag
        ];
        let out = h.run("default", pkts);
        assert!(out.sent.is_empty());
        assert_eq!(out.dropped("unknown-port"), 1);
        assert_eq!(out.dropped("unknown-vlan"), 3);
        assert_eq!(out.dropped("runt"), 2);
        assert!(out.tx.is_empty());
    }

    #[test]
    fn empty_tables_know_no_uplink_and_params_are_refused() {
        let mut h = StageHarness::<ProviderApp>::new("").unwrap();
        let p = h.packet(&untagged(), 1, &[]);
        let out = h.run("default", vec![p]);
        assert_eq!(out.dropped("unknown-port"), 1);
        assert!(StageHarness::<ProviderApp>::new("{a: 1}").is_err());
        assert!(h.configure_json(r#"{"uplinks":[], "x": 1}"#).is_err());
    }

    #[test]
    fn traced_packets_record_the_decisions() {
        let mut h = harness();
        let pkts = vec![h.packet(&tagged(100), 1, &[]), h.packet(&tagged(5), 1, &[])];
        let out = h.run("default", pkts);
        let text = format!("{:?}", out.trace);
        assert!(text.contains("provider: vlan popped"), "{text}");
        assert!(text.contains("provider: network key"), "{text}");
        assert!(text.contains("provider: no network for vlan"), "{text}");
    }
}
