//! `lrouter`: a distributed logical router (Neutron router) with its
//! interfaces embedded as [`LogicalRouterPort`]s and its extra routes.
//!
//! Why embedded ports: Dragonflow stores a router and its interfaces as one
//! object, so a router update is atomic for the L3 app. Each port's `id` is
//! the Neutron port id of the interface's `lport`, its `unique_key` is copied
//! from that lport, and `network` is `address/prefix` *with* host bits: the
//! interface address plus the subnet it serves. The gateway port is not
//! modelled (Dragonflow did not either).

use std::net::IpAddr;

use serde::{Deserialize, Serialize};

use crate::check;
use crate::error::{Ctx, ModelError};
use crate::keys::table;
use crate::model::{accessors, Model, Ref, Refs};
use crate::network::HostRoute;
use crate::types::{IpNetwork, Mac};

/// One router interface.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogicalRouterPort {
    /// The interface's lport id.
    pub id: String,
    /// Project id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub topic: Option<String>,
    /// The interface lport's unique key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unique_key: Option<u32>,
    /// The interface MAC.
    pub mac: Mac,
    /// Reference to the `lswitch` the interface is on.
    pub lswitch: String,
    /// Interface address and prefix, e.g. `10.0.0.1/24`.
    pub network: IpNetwork,
}

/// A logical router. Its unique key is the router key of the datapath
/// (Dragonflow: reg5).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogicalRouter {
    /// Neutron router id.
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
    /// Interfaces.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ports: Vec<LogicalRouterPort>,
    /// Extra routes (Neutron `routes`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub routes: Vec<HostRoute>,
    /// The external network the router reaches (Neutron's
    /// `external_gateway_info`). A Dragonflow-RS extension: with
    /// `enable_snat`, VMs behind the router without a floating IP reach it
    /// through their chassis' external address (distributed SNAT).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_gateway: Option<ExternalGateway>,
}

/// A router's external gateway.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExternalGateway {
    /// Reference to the external `lswitch`.
    pub network: String,
    /// Translate the sources of VMs without a floating IP (default true).
    #[serde(default = "yes")]
    pub enable_snat: bool,
}

fn yes() -> bool {
    true
}

impl Model for LogicalRouter {
    const TABLE: &'static str = table::LROUTER;
    const HAS_UNIQUE_KEY: bool = true;
    const REFERENCES_TO: &'static [&'static str] = &[table::LSWITCH];

    accessors!(id, version, unique_key, topic);

    fn references(&self) -> Vec<Ref> {
        let mut refs = Refs::default();
        for (i, p) in self.ports.iter().enumerate() {
            refs = refs.one(&format!("ports[{i}].lswitch"), table::LSWITCH, &p.lswitch);
        }
        if let Some(g) = &self.external_gateway {
            refs = refs.one("external_gateway.network", table::LSWITCH, &g.network);
        }
        refs.done()
    }

    fn validate(&self) -> Result<(), ModelError> {
        let cx = Ctx::new(Self::TABLE, &self.id);
        check::id(&cx, &self.id)?;
        check::topic(&cx, "topic", &self.topic)?;
        check::unique_key(&cx, self.unique_key)?;
        check::embedded_ids(&cx, "ports", self.ports.iter().map(|p| p.id.as_str()))?;
        for (i, p) in self.ports.iter().enumerate() {
            let f = |name: &str| format!("ports[{i}].{name}");
            if let Some(t) = &p.topic {
                check::topic(&cx, &f("topic"), t)?;
            }
            if p.unique_key == Some(0) {
                return Err(cx.field(f("unique_key"), "0 is reserved (keys start at 1)"));
            }
            check::unicast_mac(&cx, &f("mac"), &p.mac)?;
            check::reference(&cx, &f("lswitch"), &p.lswitch)?;
            interface_address(&cx, &f("network"), &p.network)?;
            for (j, q) in self.ports[..i].iter().enumerate() {
                if q.network.overlaps(&p.network) {
                    return Err(cx.field(
                        f("network"),
                        format!(
                            "{} overlaps ports[{j}].network {}; a router cannot have two interfaces on overlapping subnets",
                            p.network, q.network
                        ),
                    ));
                }
            }
        }
        if let Some(g) = &self.external_gateway {
            check::reference(&cx, "external_gateway.network", &g.network)?;
        }
        check::host_routes(&cx, "routes", &self.routes)
    }
}

/// The interface address must be a host of its prefix, not the network
/// (or, for IPv4 below /31, the broadcast) address.
fn interface_address(cx: &Ctx<'_>, field: &str, net: &IpNetwork) -> Result<(), ModelError> {
    let host_prefix = net.prefix_len() >= net.max_prefix_len() - 1;
    if !host_prefix && !net.has_host_bits() {
        return Err(cx.field(
            field,
            format!(
                "{net} is the subnet, not an interface address (expected address/prefix, e.g. {}/{})",
                first_host(net),
                net.prefix_len()
            ),
        ));
    }
    if !host_prefix && is_v4_broadcast(net) {
        return Err(cx.field(
            field,
            format!(
                "{} is the broadcast address of {}",
                net.addr(),
                net.network()
            ),
        ));
    }
    check::host_address(cx, field, net.addr())
}

fn is_v4_broadcast(net: &IpNetwork) -> bool {
    match net.addr() {
        IpAddr::V4(v4) => {
            let host_bits = 32 - u32::from(net.prefix_len());
            let ones = if host_bits >= 32 {
                u32::MAX
            } else {
                (1u32 << host_bits) - 1
            };
            u32::from(v4) & ones == ones
        }
        IpAddr::V6(_) => false,
    }
}

fn first_host(net: &IpNetwork) -> IpAddr {
    match net.network_address() {
        IpAddr::V4(a) => IpAddr::V4(u32::from(a).wrapping_add(1).into()),
        IpAddr::V6(a) => IpAddr::V6(u128::from(a).wrapping_add(1).into()),
    }
}
