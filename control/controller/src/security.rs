//! The security apps' configs: `portsec` (what a local port may send from)
//! and `sg` (its security groups, with every group their rules name).
//!
//! Both start from the local ports [`crate::compile`] resolved, so a port
//! the core compiler left out (no key, disabled, dangling) is left out here
//! too without a second warning. Conversions that fail drop the object and
//! push a warning naming it and the fix; dropping an allow rule or a group
//! can only narrow what is allowed, never widen it.

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

use df_app_portsec::{AllowedAddressPair, PortsecConfig, PortsecPort};
use df_app_sg::{Direction, EtherType, Protocol, SgConfig, SgGroup, SgPort, SgRule};
use df_model::{LogicalPort, SecurityGroup, SecurityGroupRule, Snapshot};

use crate::compile::LocalPort;

/// The `portsec` config: one entry per local port.
pub(crate) fn portsec(locals: &[LocalPort<'_>], warn: &mut Vec<String>) -> PortsecConfig {
    let mut ports = Vec::with_capacity(locals.len());
    for l in locals {
        let lp = l.lport;
        if lp.port_security_enabled && lp.macs.is_empty() {
            warn.push(format!(
                "lport `{}` has port security enabled but no MAC: it is left out of portsec and its traffic is dropped (give it a MAC, or set port_security_enabled to false)",
                lp.id
            ));
            continue;
        }
        let (v4, v6): (Vec<IpAddr>, Vec<IpAddr>) = lp.ips.iter().partition(|ip| ip.is_ipv4());
        ports.push(PortsecPort {
            port_key: l.port_key,
            port_security_enabled: lp.port_security_enabled,
            macs: lp.macs.iter().map(ToString::to_string).collect(),
            ipv4: v4.iter().map(ToString::to_string).collect(),
            ipv6: v6.iter().map(ToString::to_string).collect(),
            allowed_address_pairs: lp
                .allowed_address_pairs
                .iter()
                .map(|p| AllowedAddressPair {
                    ip: p.ip_address.to_string(),
                    mac: Some(p.mac_address.to_string()),
                })
                .collect(),
        });
    }
    PortsecConfig { ports }
}

/// The `sg` config: the local ports with their group keys, the groups they
/// use (with rules) and the groups those rules name as `remote_group` (with
/// members only: their own rules apply to no port here).
pub(crate) fn sg(snap: &Snapshot, locals: &[LocalPort<'_>], warn: &mut Vec<String>) -> SgConfig {
    let mut cfg = SgConfig::default();
    // Group key -> (group, with its rules).
    let mut groups: BTreeMap<u32, (&SecurityGroup, bool)> = BTreeMap::new();
    for l in locals {
        let lp = l.lport;
        let mut keys = Vec::new();
        for gid in &lp.security_groups {
            let Some(g) = group(snap, gid, &format!("lport `{}`", lp.id), warn) else {
                continue;
            };
            if !lp.port_security_enabled {
                warn.push(format!(
                    "lport `{}` has port security disabled but lists secgroup `{gid}`: the group is ignored (enable port security, or remove the group)",
                    lp.id
                ));
                continue;
            }
            let key = g.0;
            if !keys.contains(&key) {
                keys.push(key);
            }
            groups.insert(key, (g.1, true));
        }
        cfg.ports.push(SgPort {
            port_key: l.port_key,
            port_security_enabled: lp.port_security_enabled,
            security_groups: keys,
        });
    }
    // Remote groups named by the rules of the groups in use.
    let used: Vec<&SecurityGroup> = groups.values().map(|(g, _)| *g).collect();
    for g in used {
        for r in &g.rules {
            let Some(rid) = &r.remote_group_id else {
                continue;
            };
            if let Some(rg) = snap.get::<SecurityGroup>(rid) {
                if let Some(k) = rg.unique_key {
                    groups.entry(k).or_insert((rg, false));
                }
            }
        }
    }
    let keys: BTreeMap<&str, u32> = groups
        .iter()
        .map(|(k, (g, _))| (g.id.as_str(), *k))
        .collect();
    for (&group_key, &(g, with_rules)) in &groups {
        let rules = if with_rules {
            g.rules
                .iter()
                .filter_map(|r| rule(g, r, &keys, warn))
                .collect()
        } else {
            Vec::new()
        };
        cfg.groups.push(SgGroup {
            group_key,
            member_ips: members(snap, &g.id),
            rules,
        });
    }
    cfg
}

/// `(key, group)` of secgroup `gid`, or a warning naming `who` refers to it.
fn group<'s>(
    snap: &'s Snapshot,
    gid: &str,
    who: &str,
    warn: &mut Vec<String>,
) -> Option<(u32, &'s SecurityGroup)> {
    let Some(g) = snap.get::<SecurityGroup>(gid) else {
        warn.push(format!(
            "{who} refers to secgroup `{gid}`, which is not in the NB database: the group is left out (create it, or remove it from the port)"
        ));
        return None;
    };
    let Some(k) = g.unique_key else {
        warn.push(format!(
            "secgroup `{gid}` has no unique_key: it is left out of sg (objects written without dfctl must carry one)"
        ));
        return None;
    };
    Some((k, g))
}

/// The IPs (fixed and allowed-address-pair) of every lport in group `gid`.
fn members(snap: &Snapshot, gid: &str) -> Vec<String> {
    let mut ips: BTreeSet<IpAddr> = BTreeSet::new();
    for lp in snap.iter::<LogicalPort>() {
        if lp.security_groups.iter().any(|g| g == gid) {
            ips.extend(lp.ips.iter().copied());
            ips.extend(lp.allowed_address_pairs.iter().map(|p| p.ip_address));
        }
    }
    ips.iter().map(ToString::to_string).collect()
}

/// One model rule as the app spells it, or a warning.
fn rule(
    g: &SecurityGroup,
    r: &SecurityGroupRule,
    keys: &BTreeMap<&str, u32>,
    warn: &mut Vec<String>,
) -> Option<SgRule> {
    let remote_group = match &r.remote_group_id {
        None => None,
        Some(rid) => {
            let Some(&k) = keys.get(rid.as_str()) else {
                warn.push(format!(
                    "secgroup `{}` rule `{}` names remote group `{rid}`, which is not in the NB database or has no unique_key: the rule is left out (create the group, or fix remote_group_id)",
                    g.id, r.id
                ));
                return None;
            };
            Some(k)
        }
    };
    Some(SgRule {
        id: r.id.clone(),
        direction: match r.direction {
            df_model::Direction::Ingress => Direction::Ingress,
            df_model::Direction::Egress => Direction::Egress,
        },
        ethertype: match r.ethertype {
            df_model::EtherType::Ipv4 => EtherType::Ipv4,
            df_model::EtherType::Ipv6 => EtherType::Ipv6,
        },
        protocol: r.protocol.map(|p| match p {
            df_model::Protocol::Other(n) => Protocol::Number(u64::from(n)),
            named => Protocol::Name(named.to_string()),
        }),
        port_range_min: r.port_range_min,
        port_range_max: r.port_range_max,
        remote_ip_prefix: r.remote_ip_prefix.map(|p| p.to_string()),
        remote_group,
    })
}
