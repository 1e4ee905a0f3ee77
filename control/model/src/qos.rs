//! `qospolicy`: a QoS policy with its rules embedded ([`QosPolicyRule`]).
//!
//! Why this shape: Dragonflow's port QoS app applies at most one bandwidth
//! limit and one DSCP mark per port, egress only (from the VM), taken from the
//! policy referenced by the port or, failing that, by its network. So a
//! policy may hold at most one rule of each type, and `direction` can only be
//! `egress`. DSCP marks are Neutron's valid set.

use serde::{Deserialize, Serialize};

use crate::check::{self, Check};
use crate::error::{Ctx, ModelError};
use crate::keys::table;
use crate::model::{accessors, Model};

/// What a rule does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum QosRuleType {
    /// Rate-limit to `max_kbps`, bursts of `max_burst_kbps`.
    BandwidthLimit,
    /// Set the DSCP field to `dscp_mark`.
    DscpMarking,
}

/// The only direction Dragonflow supports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum QosDirection {
    /// From the VM.
    Egress,
}

/// Neutron's valid DSCP marks.
pub const VALID_DSCP_MARKS: &[u32] = &[
    0, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30, 32, 34, 36, 38, 40, 46, 48, 56,
];

/// One QoS rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QosPolicyRule {
    /// Neutron rule id.
    pub id: String,
    /// bandwidth_limit or dscp_marking.
    #[serde(rename = "type")]
    pub kind: QosRuleType,
    /// DSCP value (dscp_marking).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dscp_mark: Option<u32>,
    /// Rate in kbit/s (bandwidth_limit).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_kbps: Option<u64>,
    /// Burst in kbit (bandwidth_limit); the app picks a default when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_burst_kbps: Option<u64>,
    /// Always egress when present.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub direction: Option<QosDirection>,
}

/// A QoS policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QosPolicy {
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
    /// At most one rule per type.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rules: Vec<QosPolicyRule>,
}

impl QosPolicy {
    /// The bandwidth-limit rule, if any.
    pub fn bandwidth_limit(&self) -> Option<&QosPolicyRule> {
        self.rules
            .iter()
            .find(|r| r.kind == QosRuleType::BandwidthLimit)
    }

    /// The DSCP mark, if any.
    pub fn dscp_mark(&self) -> Option<u32> {
        self.rules
            .iter()
            .find(|r| r.kind == QosRuleType::DscpMarking)
            .and_then(|r| r.dscp_mark)
    }
}

impl Model for QosPolicy {
    const TABLE: &'static str = table::QOSPOLICY;
    const HAS_UNIQUE_KEY: bool = false;
    const REFERENCES_TO: &'static [&'static str] = &[];

    accessors!(id, version, topic);

    fn validate(&self) -> Result<(), ModelError> {
        let cx = Ctx::new(Self::TABLE, &self.id);
        check::id(&cx, &self.id)?;
        check::topic(&cx, "topic", &self.topic)?;
        check::embedded_ids(&cx, "rules", self.rules.iter().map(|r| r.id.as_str()))?;
        for (i, r) in self.rules.iter().enumerate() {
            let at = format!("rules[{i}]");
            if self.rules[..i].iter().any(|q| q.kind == r.kind) {
                return Err(cx.field(
                    format!("{at}.type"),
                    "a policy has at most one rule of each type",
                ));
            }
            rule(&cx, &at, r)?;
        }
        Ok(())
    }
}

fn rule(cx: &Ctx<'_>, at: &str, r: &QosPolicyRule) -> Check {
    let f = |name: &str| format!("{at}.{name}");
    match r.kind {
        QosRuleType::DscpMarking => {
            if r.max_kbps.is_some() || r.max_burst_kbps.is_some() {
                return Err(cx.field(f("max_kbps"), "a dscp_marking rule has no bandwidth fields"));
            }
            match r.dscp_mark {
                None => Err(cx.field(f("dscp_mark"), "a dscp_marking rule needs dscp_mark")),
                Some(m) if !VALID_DSCP_MARKS.contains(&m) => Err(cx.field(
                    f("dscp_mark"),
                    format!("{m} is not a valid DSCP mark (expected one of {VALID_DSCP_MARKS:?})"),
                )),
                Some(_) => Ok(()),
            }
        }
        QosRuleType::BandwidthLimit => {
            if r.dscp_mark.is_some() {
                return Err(cx.field(f("dscp_mark"), "a bandwidth_limit rule has no dscp_mark"));
            }
            match r.max_kbps {
                None => Err(cx.field(f("max_kbps"), "a bandwidth_limit rule needs max_kbps")),
                Some(0) => Err(cx.field(
                    f("max_kbps"),
                    "0 kbit/s would drop everything; remove the rule instead",
                )),
                Some(_) => Ok(()),
            }
        }
    }
}
