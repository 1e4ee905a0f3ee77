//! BGP dynamic routing (neutron-dynamic-routing): `bgp_peer` and
//! `bgp_speaker`.
//!
//! Why these fields: Dragonflow's BGP service advertises, per speaker,
//! `host_routes` (each floating IP as a /32 or /128, next hop the chassis
//! hosting its fixed port) and `prefix_routes` (tenant subnets via the router
//! gateway), both computed by the Neutron plugin. Neither table is versioned
//! (Neutron has no revision number for them). A peer's password is redacted
//! from `Debug` output so it does not reach logs.

use std::fmt;
use std::net::IpAddr;

use serde::{Deserialize, Serialize};

use crate::check::{self, Check};
use crate::enums::IpVersion;
use crate::error::{Ctx, ModelError};
use crate::keys::table;
use crate::model::{accessors, Model, Ref, Refs};
use crate::network::HostRoute;

/// A BGP neighbour.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BgpPeer {
    /// Id.
    pub id: String,
    /// Project id.
    pub topic: String,
    /// Display name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The neighbour's address.
    pub peer_ip: IpAddr,
    /// The neighbour's AS number (1..=4294967295).
    pub remote_as: u32,
    /// `none` or `md5`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth_type: Option<String>,
    /// The MD5 secret (auth_type md5).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
}

impl fmt::Debug for BgpPeer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BgpPeer")
            .field("id", &self.id)
            .field("topic", &self.topic)
            .field("name", &self.name)
            .field("peer_ip", &self.peer_ip)
            .field("remote_as", &self.remote_as)
            .field("auth_type", &self.auth_type)
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

impl Model for BgpPeer {
    const TABLE: &'static str = table::BGP_PEER;
    const HAS_UNIQUE_KEY: bool = false;
    const REFERENCES_TO: &'static [&'static str] = &[];

    accessors!(id, topic);

    fn validate(&self) -> Result<(), ModelError> {
        let cx = Ctx::new(Self::TABLE, &self.id);
        check::id(&cx, &self.id)?;
        check::topic(&cx, "topic", &self.topic)?;
        check::host_address(&cx, "peer_ip", self.peer_ip)?;
        if self.remote_as == 0 {
            return Err(cx.field(
                "remote_as",
                "0 is not a valid AS number (expected 1..=4294967295)",
            ));
        }
        match (self.auth_type.as_deref(), &self.password) {
            (None | Some("none"), None) => Ok(()),
            (None | Some("none"), Some(_)) => {
                Err(cx.field("password", "a password needs auth_type md5"))
            }
            (Some("md5"), Some(p)) if !p.is_empty() => Ok(()),
            (Some("md5"), _) => Err(cx.field("password", "auth_type md5 needs a password")),
            (Some(other), _) => Err(cx.field(
                "auth_type",
                format!("`{other}` is not an auth type (expected none or md5)"),
            )),
        }
    }
}

/// A BGP speaker: our AS, its peers, and the routes it advertises.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BgpSpeaker {
    /// Id.
    pub id: String,
    /// Project id.
    pub topic: String,
    /// Display name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Our AS number (1..=4294967295).
    pub local_as: u32,
    /// References to `bgp_peer`s.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub peers: Vec<String>,
    /// Floating IPs, each a host prefix, via the hosting chassis.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub host_routes: Vec<HostRoute>,
    /// Tenant subnets via their router's gateway.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub prefix_routes: Vec<HostRoute>,
    /// 4 or 6; every route is of this version.
    pub ip_version: IpVersion,
}

impl Model for BgpSpeaker {
    const TABLE: &'static str = table::BGP_SPEAKER;
    const HAS_UNIQUE_KEY: bool = false;
    const REFERENCES_TO: &'static [&'static str] = &[table::BGP_PEER];

    accessors!(id, topic);

    fn references(&self) -> Vec<Ref> {
        Refs::default()
            .list("peers", table::BGP_PEER, &self.peers)
            .done()
    }

    fn validate(&self) -> Result<(), ModelError> {
        let cx = Ctx::new(Self::TABLE, &self.id);
        check::id(&cx, &self.id)?;
        check::topic(&cx, "topic", &self.topic)?;
        if self.local_as == 0 {
            return Err(cx.field(
                "local_as",
                "0 is not a valid AS number (expected 1..=4294967295)",
            ));
        }
        check::reference_list(&cx, "peers", &self.peers)?;
        routes(&cx, "host_routes", &self.host_routes, self.ip_version, true)?;
        routes(
            &cx,
            "prefix_routes",
            &self.prefix_routes,
            self.ip_version,
            false,
        )
    }
}

fn routes(cx: &Ctx<'_>, field: &str, routes: &[HostRoute], v: IpVersion, hosts: bool) -> Check {
    check::host_routes(cx, field, routes)?;
    for (i, r) in routes.iter().enumerate() {
        let d = &r.destination;
        if !v.matches(d.addr()) {
            return Err(cx.field(
                format!("{field}[{i}].destination"),
                format!("{d} is not an IPv{v} prefix (ip_version is {v})"),
            ));
        }
        if hosts && d.prefix_len() != d.max_prefix_len() {
            return Err(cx.field(
                format!("{field}[{i}].destination"),
                format!(
                    "{d} is not a host prefix (expected /{})",
                    d.max_prefix_len()
                ),
            ));
        }
    }
    Ok(())
}
