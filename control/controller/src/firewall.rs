//! Compiling FWaaS v2 firewall groups for the `firewall` app: each group's
//! ingress and egress policies flattened into ordered rule lists, and each
//! router interface mapped to the group that lists its port.

use std::collections::BTreeMap;

use df_app_firewall::{
    FirewallConfig, FirewallGroup as FwGroup, FirewallPort, FirewallRouter, FirewallRule as FwRule,
    ProtocolSpec, RuleAction,
};
use df_model::{
    FirewallAction, FirewallGroup, FirewallPolicy, FirewallRule, IpVersion, LogicalRouter,
    LogicalSwitch, Snapshot,
};

fn rule(r: &FirewallRule) -> FwRule {
    FwRule {
        id: r.id.clone(),
        action: match r.action {
            FirewallAction::Allow => RuleAction::Allow,
            FirewallAction::Deny => RuleAction::Deny,
            FirewallAction::Reject => RuleAction::Reject,
        },
        ip_version: match r.ip_version {
            IpVersion::V4 => 4,
            IpVersion::V6 => 6,
        },
        protocol: r.protocol.map(|p| ProtocolSpec::Number(p.number())),
        source_prefix: r.source_ip_address.map(|n| n.to_string()),
        destination_prefix: r.destination_ip_address.map(|n| n.to_string()),
        source_port: r.source_port.map(|p| [p.min(), p.max()]),
        destination_port: r.destination_port.map(|p| [p.min(), p.max()]),
        enabled: r.enabled,
    }
}

/// One policy's rules in order; `None` for no policy.
fn policy(
    snap: &Snapshot,
    g: &FirewallGroup,
    id: Option<&String>,
    warn: &mut Vec<String>,
) -> Option<Vec<FwRule>> {
    let id = id?;
    let Some(p) = snap.get::<FirewallPolicy>(id) else {
        warn.push(format!(
            "firewall_group `{}` refers to firewall_policy `{id}`, which is not in the NB database: that direction denies everything until it exists",
            g.id
        ));
        return Some(Vec::new());
    };
    Some(
        p.firewall_rules
            .iter()
            .filter_map(|rid| match snap.get::<FirewallRule>(rid) {
                Some(r) => Some(rule(r)),
                None => {
                    warn.push(format!(
                        "firewall_policy `{}` lists firewall_rule `{rid}`, which is not in the NB database: the rule is skipped",
                        p.id
                    ));
                    None
                }
            })
            .collect(),
    )
}

/// The firewall config of the model.
pub(crate) fn firewall(snap: &Snapshot, warn: &mut Vec<String>) -> FirewallConfig {
    let mut cfg = FirewallConfig::default();
    let mut group_of_port: BTreeMap<&str, u32> = BTreeMap::new();
    for g in snap.iter::<FirewallGroup>() {
        let Some(key) = g.unique_key else {
            warn.push(format!(
                "firewall_group `{}` has no unique_key: it is left out (objects written without dfctl must carry one)",
                g.id
            ));
            continue;
        };
        // A group that is administratively down drops everything (FWaaS).
        let (ingress, egress) = if g.enabled {
            (
                policy(snap, g, g.ingress_firewall_policy.as_ref(), warn),
                policy(snap, g, g.egress_firewall_policy.as_ref(), warn),
            )
        } else {
            (Some(Vec::new()), Some(Vec::new()))
        };
        cfg.groups.push(FwGroup {
            key,
            ingress,
            egress,
        });
        for p in &g.ports {
            group_of_port.insert(p.as_str(), key);
        }
    }
    for r in snap.iter::<LogicalRouter>() {
        let Some(router_key) = r.unique_key else {
            continue;
        };
        let ports: Vec<FirewallPort> = r
            .ports
            .iter()
            .filter_map(|p| {
                let network_key = snap.get::<LogicalSwitch>(&p.lswitch)?.unique_key?;
                Some(FirewallPort {
                    network_key,
                    port_key: p.unique_key?,
                    firewall_group: group_of_port.get(p.id.as_str()).copied(),
                })
            })
            .collect();
        if ports.iter().any(|p| p.firewall_group.is_some()) {
            cfg.routers.push(FirewallRouter { router_key, ports });
        }
    }
    cfg
}
