//! `input`'s hot path: one direct-indexed lookup by receive port; on a
//! trunk parent's port, a tagged frame takes one hash probe by (port, VLAN
//! id) and has its tag popped in place (the MACs move over it; no payload
//! copy).

use std::sync::Arc;

use df_dp::stage::{Known, Route};
use df_dp::{Batch, EntryId, ExitId, Packet, RcuCell, RcuReader, RegSlot, Stage, StageIo};

use crate::counters::{UNBOUND_PORT, UNKNOWN_VLAN};
use crate::tables::{vlan_key, Binding, InputTables};
use crate::trace::{SOURCE_PORT, TRUNK_CHILD, UPLINK};

/// The VLAN id of an 802.1Q-tagged frame (`None`: untagged or too short).
#[inline]
fn vlan_id(d: &[u8]) -> Option<u16> {
    match d.get(12..16)? {
        [0x81, 0x00, hi, lo] => Some(u16::from_be_bytes([*hi, *lo]) & 0x0fff),
        _ => None,
    }
}

/// Removes the outer 802.1Q tag (the MACs move forward over it).
#[inline]
fn pop_tag(pkt: &mut Packet) -> bool {
    let d = pkt.data_mut();
    if d.len() < 18 {
        return false;
    }
    d.copy_within(0..12, 4);
    pkt.adj(4)
}

const VM_EGRESS: ExitId = ExitId(0);
const PROVIDER: ExitId = ExitId(1);

#[derive(Debug, Clone, Copy)]
pub(crate) struct Regs {
    pub(crate) src: RegSlot,
    pub(crate) net: RegSlot,
}

/// The `input` stage of one worker.
#[derive(Debug)]
pub struct InputStage {
    regs: Regs,
    tables: Arc<RcuCell<InputTables>>,
}

impl InputStage {
    pub(crate) fn new(regs: Regs, tables: Arc<RcuCell<InputTables>>) -> Self {
        InputStage { regs, tables }
    }
}

impl Stage for InputStage {
    fn process(&mut self, _entry: EntryId, batch: &mut Batch, io: &mut StageIo<'_>) {
        let t = self.tables.read(io.rcu());
        for mut pkt in batch.drain() {
            match t
                .by_port
                .get(pkt.meta().in_port as usize)
                .copied()
                .flatten()
            {
                Some(Binding::Vm(port_key, net_key)) => {
                    pkt.set_reg(self.regs.src, port_key);
                    pkt.set_reg(self.regs.net, net_key);
                    io.note(&pkt, SOURCE_PORT, port_key as u64);
                    io.send(VM_EGRESS, pkt);
                }
                Some(Binding::Trunk(port_key, net_key)) => {
                    let keys = match vlan_id(pkt.data()) {
                        None => Some((port_key, net_key)),
                        Some(vid) => {
                            // A priority tag (VID 0) is the parent's.
                            let child = if vid == 0 {
                                Some((port_key, net_key))
                            } else {
                                t.vlans.get(&vlan_key(pkt.meta().in_port, vid)).copied()
                            };
                            io.note(&pkt, TRUNK_CHILD, u64::from(vid));
                            match child {
                                Some(c) if pop_tag(&mut pkt) => Some(c),
                                _ => None,
                            }
                        }
                    };
                    let Some((pk, nk)) = keys else {
                        io.drop(pkt, UNKNOWN_VLAN);
                        continue;
                    };
                    pkt.set_reg(self.regs.src, pk);
                    pkt.set_reg(self.regs.net, nk);
                    io.note(&pkt, SOURCE_PORT, u64::from(pk));
                    io.send(VM_EGRESS, pkt);
                }
                Some(Binding::Uplink) => {
                    io.note(&pkt, UPLINK, u64::from(pkt.meta().in_port));
                    io.send(PROVIDER, pkt);
                }
                None => io.drop(pkt, UNBOUND_PORT),
            }
        }
    }

    /// A VM port's packets all leave by `vm-egress` with its keys; a trunk
    /// parent's depend on their tag, an uplink's go on to `provider`, which
    /// reads them.
    fn route(&self, _entry: EntryId, known: &mut Known, rcu: &RcuReader) -> Option<Route> {
        let t = self.tables.read(rcu);
        match t
            .by_port
            .get(usize::from(known.in_port()?))
            .copied()
            .flatten()?
        {
            Binding::Vm(port_key, net_key) => {
                known.set_reg(self.regs.src, port_key);
                known.set_reg(self.regs.net, net_key);
                Some(Route::Exit(VM_EGRESS))
            }
            Binding::Trunk(..) | Binding::Uplink => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use df_dp::reg::{NETWORK_KEY, SOURCE_PORT_KEY};
    use df_dp::testing::StageHarness;

    use crate::InputApp;

    #[test]
    fn vm_ports_uplinks_and_unbound_ports() {
        let mut h = StageHarness::<InputApp>::new("").unwrap();
        h.configure_json(r#"{"ports":[{"port":0,"port_key":5,"network_key":2}],"uplinks":[3]}"#)
            .unwrap();
        let f = [0u8; 60];
        let pkts = vec![
            h.packet(&f, 0, &[]),
            h.packet(&f, 3, &[]),
            h.packet(&f, 1, &[]),
        ];
        let out = h.run("default", pkts);
        let vm = out.by_exit("vm-egress");
        assert_eq!(vm.len(), 1);
        assert_eq!(vm[0].reg(h.reg(SOURCE_PORT_KEY)), 5);
        assert_eq!(vm[0].reg(h.reg(NETWORK_KEY)), 2);
        let up = out.by_exit("provider");
        assert_eq!(up.len(), 1);
        assert_eq!(up[0].meta().in_port, 3);
        assert_eq!(out.dropped("unbound-port"), 1);
        // What input knows before any packet: a VM port's keys, nothing of
        // an uplink's (provider reads them) or an unbound port's.
        let vm = h.route("default", Some(0), &[]);
        assert_eq!(
            vm,
            Some((
                "exit:vm-egress".to_string(),
                vec![
                    (SOURCE_PORT_KEY.to_string(), 5),
                    (NETWORK_KEY.to_string(), 2)
                ]
            ))
        );
        assert_eq!(h.route("default", Some(3), &[]), None);
        assert_eq!(h.route("default", Some(1), &[]), None);
        assert_eq!(h.route("default", None, &[]), None);
    }
}

#[cfg(test)]
mod trunk_tests {
    use df_dp::reg::{NETWORK_KEY, SOURCE_PORT_KEY};
    use df_dp::testing::StageHarness;

    use crate::InputApp;

    fn frame(tag: Option<u16>) -> Vec<u8> {
        let mut f = vec![2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1];
        if let Some(vid) = tag {
            f.extend([0x81, 0x00, (vid >> 8) as u8, vid as u8]);
        }
        f.extend([0x08, 0x00]);
        f.extend((0u8..46).collect::<Vec<_>>());
        f
    }

    #[test]
    fn trunk_children_by_vlan_with_the_tag_popped() {
        let mut h = StageHarness::<InputApp>::new("").unwrap();
        h.configure_json(
            r#"{"ports":[{"port":0,"port_key":5,"network_key":2},{"port":1,"port_key":6,"network_key":2}],
                "vlans":[{"port":0,"vlan":100,"port_key":7,"network_key":3}]}"#,
        )
        .unwrap();
        let pkts = vec![
            h.packet(&frame(None), 0, &[]),
            h.packet(&frame(Some(100)), 0, &[]),
            h.packet(&frame(Some(0)), 0, &[]),
            h.packet(&frame(Some(200)), 0, &[]),
            h.packet(&frame(Some(100)), 1, &[]),
        ];
        let out = h.run("default", pkts);
        let (src, net) = (h.reg(SOURCE_PORT_KEY), h.reg(NETWORK_KEY));
        let got: Vec<(u32, u32, usize)> = out
            .by_exit("vm-egress")
            .iter()
            .map(|p| (p.reg(src), p.reg(net), p.len()))
            .collect();
        let n = frame(None).len();
        assert_eq!(
            got,
            vec![(5, 2, n), (7, 3, n), (5, 2, n), (6, 2, n + 4)],
            "untagged: parent; VID 100: child, tag popped; priority tag: parent, popped; a tag on a port without children passes as is"
        );
        assert_eq!(out.by_exit("vm-egress")[1].data(), &frame(None)[..]);
        assert_eq!(out.dropped("unknown-vlan"), 1);
        let bad = [
            (
                r#"{"ports":[],"vlans":[{"port":0,"vlan":100,"port_key":7,"network_key":3}]}"#,
                "vlans[0]: switch port 0 carries no parent port (list it in `ports`)",
            ),
            (
                r#"{"ports":[{"port":0,"port_key":5,"network_key":2}],"vlans":[{"port":0,"vlan":4095,"port_key":7,"network_key":3}]}"#,
                "vlans[0].vlan: 4095 is not a VLAN id (1..=4094)",
            ),
            (
                r#"{"ports":[{"port":0,"port_key":5,"network_key":2}],"vlans":[{"port":0,"vlan":9,"port_key":7,"network_key":3},{"port":0,"vlan":9,"port_key":8,"network_key":3}]}"#,
                "vlans[1]: VLAN 9 on switch port 0 is given twice (port keys 7 and 8)",
            ),
        ];
        for (cfg, want) in bad {
            let e = h.configure_json(cfg).unwrap_err();
            assert!(e.contains(want), "{e}");
        }
    }
}
