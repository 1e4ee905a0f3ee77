//! Service function chaining (networking-sfc): `sfc_portpair` (a service
//! function's ingress and egress ports), `sfc_portpairgroup` (load-balanced
//! pairs), `sfc_flowclassifier` (what traffic enters a chain) and
//! `sfc_portchain` (ordered groups plus classifiers).
//!
//! Why these rules: Dragonflow's SFC app classifies on exactly one of the
//! classifier's source or destination lport (its unique key goes in a
//! register), encapsulates with MPLS, and supports tcp/udp classifiers only.

use serde::{Deserialize, Serialize};

use crate::check::{self, Check};
use crate::enums::{EtherType, Protocol};
use crate::error::{Ctx, ModelError};
use crate::keys::table;
use crate::model::{accessors, Model, Ref, Refs};
use crate::types::{IpNetwork, PortRange};

/// How a service function learns which chain a packet is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CorrelationMechanism {
    /// The function is not chain-aware.
    None,
    /// The function reads the MPLS label.
    Mpls,
}

/// The chain's encapsulation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChainProtocol {
    /// MPLS.
    Mpls,
}

/// A service function: traffic enters at `ingress_port`, leaves at `egress_port`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PortPair {
    /// Id.
    pub id: String,
    /// Project id.
    pub topic: String,
    /// Display name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Reference to the `lport` traffic is sent to.
    pub ingress_port: String,
    /// Reference to the `lport` traffic comes back from.
    pub egress_port: String,
    /// none or mpls.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub correlation_mechanism: Option<CorrelationMechanism>,
    /// Load-balancing weight inside its group (> 0).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weight: Option<f64>,
}

impl Model for PortPair {
    const TABLE: &'static str = table::SFC_PORTPAIR;
    const HAS_UNIQUE_KEY: bool = false;
    const REFERENCES_TO: &'static [&'static str] = &[table::LPORT];

    accessors!(id, topic);

    fn references(&self) -> Vec<Ref> {
        Refs::default()
            .one("ingress_port", table::LPORT, &self.ingress_port)
            .one("egress_port", table::LPORT, &self.egress_port)
            .done()
    }

    fn validate(&self) -> Result<(), ModelError> {
        let cx = Ctx::new(Self::TABLE, &self.id);
        check::id(&cx, &self.id)?;
        check::topic(&cx, "topic", &self.topic)?;
        check::reference(&cx, "ingress_port", &self.ingress_port)?;
        check::reference(&cx, "egress_port", &self.egress_port)?;
        match self.weight {
            Some(w) if !(w.is_finite() && w > 0.0) => Err(cx.field(
                "weight",
                format!("{w} is not a valid weight (expected a number > 0)"),
            )),
            _ => Ok(()),
        }
    }
}

/// Port pairs that share the load of one step of a chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PortPairGroup {
    /// Id.
    pub id: String,
    /// Project id.
    pub topic: String,
    /// Display name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// References to `sfc_portpair`s.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub port_pairs: Vec<String>,
}

impl Model for PortPairGroup {
    const TABLE: &'static str = table::SFC_PORTPAIRGROUP;
    const HAS_UNIQUE_KEY: bool = false;
    const REFERENCES_TO: &'static [&'static str] = &[table::SFC_PORTPAIR];

    accessors!(id, topic);

    fn references(&self) -> Vec<Ref> {
        Refs::default()
            .list("port_pairs", table::SFC_PORTPAIR, &self.port_pairs)
            .done()
    }

    fn validate(&self) -> Result<(), ModelError> {
        let cx = Ctx::new(Self::TABLE, &self.id);
        check::id(&cx, &self.id)?;
        check::topic(&cx, "topic", &self.topic)?;
        check::reference_list(&cx, "port_pairs", &self.port_pairs)
    }
}

/// Which traffic enters a chain. Its unique key identifies it in the
/// datapath (Dragonflow: reg2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FlowClassifier {
    /// Id.
    pub id: String,
    /// Project id.
    pub topic: String,
    /// Display name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Allocated by the store on create.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unique_key: Option<u32>,
    /// IPv4 or IPv6.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ether_type: Option<EtherType>,
    /// tcp or udp.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub protocol: Option<Protocol>,
    /// Source prefix.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_cidr: Option<IpNetwork>,
    /// Destination prefix.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dest_cidr: Option<IpNetwork>,
    /// Source L4 ports, `[min, max]`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_transport_ports: Option<PortRange>,
    /// Destination L4 ports, `[min, max]`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dest_transport_ports: Option<PortRange>,
    /// Reference to the `lport` traffic comes from (xor `dest_port`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_port: Option<String>,
    /// Reference to the `lport` traffic goes to (xor `source_port`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dest_port: Option<String>,
}

impl Model for FlowClassifier {
    const TABLE: &'static str = table::SFC_FLOWCLASSIFIER;
    const HAS_UNIQUE_KEY: bool = true;
    const REFERENCES_TO: &'static [&'static str] = &[table::LPORT];

    accessors!(id, unique_key, topic);

    fn references(&self) -> Vec<Ref> {
        Refs::default()
            .opt("source_port", table::LPORT, &self.source_port)
            .opt("dest_port", table::LPORT, &self.dest_port)
            .done()
    }

    fn validate(&self) -> Result<(), ModelError> {
        let cx = Ctx::new(Self::TABLE, &self.id);
        check::id(&cx, &self.id)?;
        check::topic(&cx, "topic", &self.topic)?;
        check::unique_key(&cx, self.unique_key)?;
        check::opt_reference(&cx, "source_port", &self.source_port)?;
        check::opt_reference(&cx, "dest_port", &self.dest_port)?;
        match (&self.source_port, &self.dest_port) {
            (None, None) => return Err(cx.object("one of source_port or dest_port must be set")),
            (Some(_), Some(_)) => {
                return Err(cx.object("source_port and dest_port cannot both be set"))
            }
            _ => {}
        }
        if let Some(p) = self.protocol {
            if !matches!(p, Protocol::Tcp | Protocol::Udp) {
                return Err(cx.field(
                    "protocol",
                    format!("{p} is not supported (expected tcp or udp)"),
                ));
            }
        }
        for (field, cidr) in [
            ("source_cidr", &self.source_cidr),
            ("dest_cidr", &self.dest_cidr),
        ] {
            if let Some(c) = cidr {
                classifier_cidr(&cx, field, c, self.ether_type)?;
            }
        }
        let has_ports =
            self.source_transport_ports.is_some() || self.dest_transport_ports.is_some();
        if has_ports && self.protocol.is_none() {
            return Err(cx.field(
                if self.source_transport_ports.is_some() {
                    "source_transport_ports"
                } else {
                    "dest_transport_ports"
                },
                "transport ports need protocol tcp or udp",
            ));
        }
        Ok(())
    }
}

fn classifier_cidr(cx: &Ctx<'_>, field: &str, c: &IpNetwork, et: Option<EtherType>) -> Check {
    check::pure_prefix(cx, field, c)?;
    match et {
        Some(et) if !et.matches(c.addr()) => {
            Err(cx.field(field, format!("{c} does not match ether_type {et}")))
        }
        _ => Ok(()),
    }
}

/// A chain: traffic matching any classifier goes through each group in order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PortChain {
    /// Id.
    pub id: String,
    /// Project id.
    pub topic: String,
    /// Display name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// mpls.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub protocol: Option<ChainProtocol>,
    /// networking-sfc chain id, 1..=65535.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chain_id: Option<u32>,
    /// References to `sfc_portpairgroup`s, in chain order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub port_pair_groups: Vec<String>,
    /// References to `sfc_flowclassifier`s.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub flow_classifiers: Vec<String>,
}

impl Model for PortChain {
    const TABLE: &'static str = table::SFC_PORTCHAIN;
    const HAS_UNIQUE_KEY: bool = false;
    const REFERENCES_TO: &'static [&'static str] =
        &[table::SFC_PORTPAIRGROUP, table::SFC_FLOWCLASSIFIER];

    accessors!(id, topic);

    fn references(&self) -> Vec<Ref> {
        Refs::default()
            .list(
                "port_pair_groups",
                table::SFC_PORTPAIRGROUP,
                &self.port_pair_groups,
            )
            .list(
                "flow_classifiers",
                table::SFC_FLOWCLASSIFIER,
                &self.flow_classifiers,
            )
            .done()
    }

    fn validate(&self) -> Result<(), ModelError> {
        let cx = Ctx::new(Self::TABLE, &self.id);
        check::id(&cx, &self.id)?;
        check::topic(&cx, "topic", &self.topic)?;
        check::reference_list(&cx, "port_pair_groups", &self.port_pair_groups)?;
        check::reference_list(&cx, "flow_classifiers", &self.flow_classifiers)?;
        match self.chain_id {
            Some(c) if !(1..=65535).contains(&c) => Err(cx.field(
                "chain_id",
                format!("{c} is not a valid chain id (expected 1..=65535)"),
            )),
            _ => Ok(()),
        }
    }
}
