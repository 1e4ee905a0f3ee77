//! Firewall as a service: `firewall_group`, `firewall_policy`,
//! `firewall_rule`.
//!
//! These follow the fwaas_v2 spec (Dragonflow `doc/source/specs/fwaas.rst`,
//! itself mapping Neutron's FWaaS v2 API); Dragonflow never implemented them,
//! so field names are Neutron FWaaS v2's. A group binds an ingress and an
//! egress policy to ports (router interfaces or VM ports) and gets a unique
//! key (the spec loads it into a register). A policy is an *ordered* list of
//! rules: first match wins, so order is meaningful. The spec's back-pointers
//! (rule -> policies, policy -> groups) are left out: they are derivable from
//! a snapshot and would make the reference graph cyclic.

use serde::{Deserialize, Serialize};

use crate::check::{self, Check};
use crate::enums::{IpVersion, Protocol};
use crate::error::{Ctx, ModelError};
use crate::keys::table;
use crate::model::{accessors, Model, Ref, Refs};
use crate::network::yes;
use crate::types::{IpNetwork, PortRange};

/// What a matching rule does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FirewallAction {
    /// Pass on (to security groups).
    Allow,
    /// Drop silently.
    Deny,
    /// Drop and answer with an ICMP unreachable / TCP reset.
    Reject,
}

/// One firewall rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FirewallRule {
    /// Neutron rule id.
    pub id: String,
    /// Project id.
    pub topic: String,
    /// Display name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Neutron revision number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<u64>,
    /// allow, deny or reject.
    pub action: FirewallAction,
    /// Any protocol when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub protocol: Option<Protocol>,
    /// 4 or 6; prefixes must agree.
    pub ip_version: IpVersion,
    /// Source prefix.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_ip_address: Option<IpNetwork>,
    /// Destination prefix.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub destination_ip_address: Option<IpNetwork>,
    /// Source L4 ports, `[min, max]` (tcp, udp, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_port: Option<PortRange>,
    /// Destination L4 ports, `[min, max]` (tcp, udp, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub destination_port: Option<PortRange>,
    /// A disabled rule matches nothing.
    #[serde(default = "yes")]
    pub enabled: bool,
}

impl Model for FirewallRule {
    const TABLE: &'static str = table::FIREWALL_RULE;
    const HAS_UNIQUE_KEY: bool = false;
    const REFERENCES_TO: &'static [&'static str] = &[];

    accessors!(id, version, topic);

    fn validate(&self) -> Result<(), ModelError> {
        let cx = Ctx::new(Self::TABLE, &self.id);
        check::id(&cx, &self.id)?;
        check::topic(&cx, "topic", &self.topic)?;
        let v = self.ip_version;
        for (field, prefix) in [
            ("source_ip_address", &self.source_ip_address),
            ("destination_ip_address", &self.destination_ip_address),
        ] {
            if let Some(p) = prefix {
                if !v.matches(p.addr()) {
                    return Err(cx.field(field, format!("{p} does not match ip_version {v}")));
                }
                check::pure_prefix(&cx, field, p)?;
            }
        }
        match (self.protocol, v) {
            (Some(Protocol::Icmpv6), IpVersion::V4) => {
                return Err(cx.field("protocol", "icmpv6 does not match ip_version 4"))
            }
            (Some(Protocol::Icmp), IpVersion::V6) => {
                return Err(cx.field("protocol", "icmp does not match ip_version 6 (use icmpv6)"))
            }
            _ => {}
        }
        rule_ports(&cx, self)
    }
}

fn rule_ports(cx: &Ctx<'_>, r: &FirewallRule) -> Check {
    for (field, range) in [
        ("source_port", r.source_port),
        ("destination_port", r.destination_port),
    ] {
        if range.is_none() {
            continue;
        }
        match r.protocol {
            Some(p) if p.has_ports() => {}
            Some(p) => return Err(cx.field(field, format!("protocol {p} has no ports"))),
            None => {
                return Err(cx.field(
                    field,
                    "a port range needs a protocol with ports (tcp, udp, ...)",
                ))
            }
        }
    }
    Ok(())
}

/// An ordered list of rules; the first match wins.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FirewallPolicy {
    /// Neutron policy id.
    pub id: String,
    /// Project id.
    pub topic: String,
    /// Display name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Neutron revision number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<u64>,
    /// References to `firewall_rule`s, in evaluation order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub firewall_rules: Vec<String>,
}

impl Model for FirewallPolicy {
    const TABLE: &'static str = table::FIREWALL_POLICY;
    const HAS_UNIQUE_KEY: bool = false;
    const REFERENCES_TO: &'static [&'static str] = &[table::FIREWALL_RULE];

    accessors!(id, version, topic);

    fn references(&self) -> Vec<Ref> {
        Refs::default()
            .list("firewall_rules", table::FIREWALL_RULE, &self.firewall_rules)
            .done()
    }

    fn validate(&self) -> Result<(), ModelError> {
        let cx = Ctx::new(Self::TABLE, &self.id);
        check::id(&cx, &self.id)?;
        check::topic(&cx, "topic", &self.topic)?;
        check::reference_list(&cx, "firewall_rules", &self.firewall_rules)
    }
}

/// Binds policies to ports. Its unique key identifies the group in the
/// datapath.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FirewallGroup {
    /// Neutron firewall group id.
    pub id: String,
    /// Project id.
    pub topic: String,
    /// Display name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Neutron revision number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<u64>,
    /// Allocated by the store on create.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unique_key: Option<u32>,
    /// Reference to the `firewall_policy` for traffic into the ports.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ingress_firewall_policy: Option<String>,
    /// Reference to the `firewall_policy` for traffic out of the ports.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub egress_firewall_policy: Option<String>,
    /// References to the `lport`s protected.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ports: Vec<String>,
    /// Admin state (`admin_state_up`).
    #[serde(default = "yes")]
    pub enabled: bool,
}

impl Model for FirewallGroup {
    const TABLE: &'static str = table::FIREWALL_GROUP;
    const HAS_UNIQUE_KEY: bool = true;
    const REFERENCES_TO: &'static [&'static str] = &[table::FIREWALL_POLICY, table::LPORT];

    accessors!(id, version, unique_key, topic);

    fn references(&self) -> Vec<Ref> {
        Refs::default()
            .opt(
                "ingress_firewall_policy",
                table::FIREWALL_POLICY,
                &self.ingress_firewall_policy,
            )
            .opt(
                "egress_firewall_policy",
                table::FIREWALL_POLICY,
                &self.egress_firewall_policy,
            )
            .list("ports", table::LPORT, &self.ports)
            .done()
    }

    fn validate(&self) -> Result<(), ModelError> {
        let cx = Ctx::new(Self::TABLE, &self.id);
        check::id(&cx, &self.id)?;
        check::topic(&cx, "topic", &self.topic)?;
        check::unique_key(&cx, self.unique_key)?;
        check::opt_reference(
            &cx,
            "ingress_firewall_policy",
            &self.ingress_firewall_policy,
        )?;
        check::opt_reference(&cx, "egress_firewall_policy", &self.egress_firewall_policy)?;
        check::reference_list(&cx, "ports", &self.ports)
    }
}
