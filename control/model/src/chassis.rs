//! `chassis`: one host running our switch (Dragonflow's `core.Chassis`).
//!
//! Why it matters: a port bound to a chassis is reached through a tunnel to
//! the chassis `ip`; the controller registers its own chassis on start. The id
//! is the host name (`lport.binding.chassis`, `service.chassis`,
//! `migration.dest_chassis` point here).

use std::net::IpAddr;

use serde::{Deserialize, Serialize};

use crate::check::{self, Check};
use crate::enums::TunnelType;
use crate::error::{Ctx, ModelError};
use crate::keys::table;
use crate::model::{accessors, Model};
use crate::types::Mac;

/// A host in the deployment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Chassis {
    /// The host name.
    pub id: String,
    /// Tunnel endpoint address.
    pub ip: IpAddr,
    /// Address external (provider/NAT) traffic uses, when not `ip`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_host_ip: Option<IpAddr>,
    /// Tunnel encapsulations the host terminates (at least one).
    pub tunnel_types: Vec<TunnelType>,
    /// The MAC of the host's underlay port (`ip` answers there): peers on
    /// the same L2 underlay send their tunnel frames to it. A Dragonflow-RS
    /// extension: OVS left underlay neighbours to the host's kernel.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tunnel_mac: Option<Mac>,
}

impl Model for Chassis {
    const TABLE: &'static str = table::CHASSIS;
    const HAS_UNIQUE_KEY: bool = false;
    const REFERENCES_TO: &'static [&'static str] = &[];

    accessors!(id);

    fn validate(&self) -> Result<(), ModelError> {
        let cx = Ctx::new(Self::TABLE, &self.id);
        check::id(&cx, &self.id)?;
        check::host_address(&cx, "ip", self.ip)?;
        if let Some(ip) = self.external_host_ip {
            check::host_address(&cx, "external_host_ip", ip)?;
        }
        if let Some(mac) = &self.tunnel_mac {
            check::unicast_mac(&cx, "tunnel_mac", mac)?;
        }
        tunnel_types(&cx, &self.tunnel_types)
    }
}

fn tunnel_types(cx: &Ctx<'_>, types: &[TunnelType]) -> Check {
    if types.is_empty() {
        return Err(cx.field(
            "tunnel_types",
            "at least one tunnel type is required (vxlan, geneve or gre)",
        ));
    }
    for (i, t) in types.iter().enumerate() {
        if types[..i].contains(t) {
            return Err(cx.field(format!("tunnel_types[{i}]"), format!("{t} is listed twice")));
        }
    }
    Ok(())
}
