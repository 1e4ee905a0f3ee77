//! `secgroup`: a security group with its rules embedded
//! ([`SecurityGroupRule`]).
//!
//! Why embedded rules: Dragonflow stores the group and its rules as one
//! object, so the SG app sees a consistent rule set per version. A rule's
//! `remote_group_id` names another (or the same) group whose members' IPs are
//! the rule's remote addresses; it is *not* a reference in the dependency
//! sense ([`crate::Model::references`] leaves it out): groups commonly refer
//! to themselves or to each other, and the SG app resolves members from
//! lports, not from the remote group object. Port ranges follow Neutron: for
//! tcp/udp/sctp/dccp/udplite both ends or neither; for icmp/icmpv6
//! `port_range_min` is the type and `port_range_max` the code (0..=255).

use serde::{Deserialize, Serialize};

use crate::check::{self, Check};
use crate::enums::{Direction, EtherType, Protocol};
use crate::error::{Ctx, ModelError};
use crate::keys::table;
use crate::model::{accessors, Model};
use crate::types::{IpNetwork, PortRange};

/// One rule: allow traffic matching all set fields.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SecurityGroupRule {
    /// Neutron rule id.
    pub id: String,
    /// Project id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub topic: Option<String>,
    /// Neutron revision number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<u64>,
    /// ingress or egress.
    pub direction: Direction,
    /// IPv4 or IPv6.
    pub ethertype: EtherType,
    /// Upper port (tcp/udp) or ICMP code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port_range_max: Option<u32>,
    /// Lower port (tcp/udp) or ICMP type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port_range_min: Option<u32>,
    /// Any protocol when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub protocol: Option<Protocol>,
    /// Remote addresses are the members of this group.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remote_group_id: Option<String>,
    /// Remote addresses are this prefix.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remote_ip_prefix: Option<IpNetwork>,
    /// The owning group's id (the group this rule is embedded in).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub security_group_id: Option<String>,
}

impl SecurityGroupRule {
    /// The L4 port range, for protocols with ports and a valid rule.
    pub fn port_range(&self) -> Option<PortRange> {
        let proto = self.protocol?;
        if !proto.has_ports() {
            return None;
        }
        let min = u16::try_from(self.port_range_min?).ok()?;
        let max = u16::try_from(self.port_range_max?).ok()?;
        PortRange::new(min, max).ok()
    }
}

/// A security group. Its unique key identifies the group in the datapath
/// (Dragonflow: the conjunction id).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SecurityGroup {
    /// Neutron security group id.
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
    /// The rules (allow-list).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rules: Vec<SecurityGroupRule>,
    /// Free text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

impl Model for SecurityGroup {
    const TABLE: &'static str = table::SECGROUP;
    const HAS_UNIQUE_KEY: bool = true;
    const REFERENCES_TO: &'static [&'static str] = &[];

    accessors!(id, version, unique_key, topic);

    fn validate(&self) -> Result<(), ModelError> {
        let cx = Ctx::new(Self::TABLE, &self.id);
        check::id(&cx, &self.id)?;
        check::topic(&cx, "topic", &self.topic)?;
        check::unique_key(&cx, self.unique_key)?;
        check::embedded_ids(&cx, "rules", self.rules.iter().map(|r| r.id.as_str()))?;
        for (i, r) in self.rules.iter().enumerate() {
            rule(&cx, &format!("rules[{i}]"), &self.id, r)?;
        }
        Ok(())
    }
}

fn rule(cx: &Ctx<'_>, at: &str, group: &str, r: &SecurityGroupRule) -> Check {
    let f = |name: &str| format!("{at}.{name}");
    if let Some(t) = &r.topic {
        check::topic(cx, &f("topic"), t)?;
    }
    if let Some(owner) = &r.security_group_id {
        if owner != group {
            return Err(cx.field(
                f("security_group_id"),
                format!("the rule says it belongs to `{owner}` but it is embedded in `{group}`"),
            ));
        }
    }
    check::opt_reference(cx, &f("remote_group_id"), &r.remote_group_id)?;
    if let Some(prefix) = &r.remote_ip_prefix {
        if r.remote_group_id.is_some() {
            return Err(cx.field(
                f("remote_ip_prefix"),
                "remote_ip_prefix and remote_group_id are mutually exclusive",
            ));
        }
        if !r.ethertype.matches(prefix.addr()) {
            return Err(cx.field(
                f("remote_ip_prefix"),
                format!("{prefix} does not match ethertype {}", r.ethertype),
            ));
        }
        check::pure_prefix(cx, &f("remote_ip_prefix"), prefix)?;
    }
    if r.protocol == Some(Protocol::Icmpv6) && r.ethertype == EtherType::Ipv4 {
        return Err(cx.field(f("protocol"), "icmpv6 does not match ethertype IPv4"));
    }
    ports(cx, at, r)
}

fn ports(cx: &Ctx<'_>, at: &str, r: &SecurityGroupRule) -> Check {
    let (min, max) = (r.port_range_min, r.port_range_max);
    if min.is_none() && max.is_none() {
        return Ok(());
    }
    let field = format!("{at}.port_range_min");
    let Some(proto) = r.protocol else {
        return Err(cx.field(field, "a port range needs a protocol"));
    };
    if proto.has_ports() {
        match (min, max) {
            (Some(lo), Some(hi)) if lo <= hi && hi <= 65535 => Ok(()),
            (Some(lo), Some(hi)) if hi > 65535 || lo > 65535 => Err(cx.field(
                field,
                format!("[{lo}, {hi}] is not a port range (ports are 0..=65535)"),
            )),
            (Some(lo), Some(hi)) => Err(cx.field(
                field,
                format!("port_range_min {lo} is greater than port_range_max {hi}"),
            )),
            _ => Err(cx.field(
                field,
                format!("{proto} needs both port_range_min and port_range_max, or neither"),
            )),
        }
    } else if proto.is_icmp() {
        if min.is_none() {
            return Err(cx.field(
                field,
                "an ICMP code (port_range_max) needs an ICMP type (port_range_min)",
            ));
        }
        for (name, v) in [("port_range_min", min), ("port_range_max", max)] {
            if let Some(v) = v.filter(|v| *v > 255) {
                return Err(cx.field(
                    format!("{at}.{name}"),
                    format!("{v} is not an ICMP type/code (expected 0..=255)"),
                ));
            }
        }
        Ok(())
    } else {
        Err(cx.field(field, format!("protocol {proto} has no ports")))
    }
}
