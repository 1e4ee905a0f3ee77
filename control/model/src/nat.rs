//! `floatingip`: a floating IP, DNAT/SNAT'ed by the router to a fixed port.
//!
//! Why these rules: Dragonflow's DNAT app needs, for an associated floating
//! IP, the fixed port and its address; Neutron floating IPs are IPv4 only and
//! the fixed address must be of the same family. An unassociated floating IP
//! has neither `lport` nor `fixed_ip_address`.

use std::net::IpAddr;

use serde::{Deserialize, Serialize};

use crate::check;
use crate::error::{Ctx, ModelError};
use crate::keys::table;
use crate::model::{accessors, Model, Ref, Refs};

/// A floating IP.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FloatingIp {
    /// Neutron floating IP id.
    pub id: String,
    /// Project id.
    pub topic: String,
    /// Display name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Neutron revision number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<u64>,
    /// The public address (IPv4).
    pub floating_ip_address: IpAddr,
    /// The private address it maps to (when associated).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fixed_ip_address: Option<IpAddr>,
    /// Reference to the fixed `lport` (when associated).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lport: Option<String>,
    /// Reference to Neutron's floating-IP `lport` on the external network.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub floating_lport: Option<String>,
    /// Reference to the `lrouter` doing the NAT (when associated).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lrouter: Option<String>,
}

impl FloatingIp {
    /// Associated with a fixed port.
    pub fn is_associated(&self) -> bool {
        self.lport.is_some()
    }
}

impl Model for FloatingIp {
    const TABLE: &'static str = table::FLOATINGIP;
    const HAS_UNIQUE_KEY: bool = false;
    const REFERENCES_TO: &'static [&'static str] = &[table::LPORT, table::LROUTER];

    accessors!(id, version, topic);

    fn references(&self) -> Vec<Ref> {
        Refs::default()
            .opt("lport", table::LPORT, &self.lport)
            .opt("floating_lport", table::LPORT, &self.floating_lport)
            .opt("lrouter", table::LROUTER, &self.lrouter)
            .done()
    }

    fn validate(&self) -> Result<(), ModelError> {
        let cx = Ctx::new(Self::TABLE, &self.id);
        check::id(&cx, &self.id)?;
        check::topic(&cx, "topic", &self.topic)?;
        check::opt_reference(&cx, "lport", &self.lport)?;
        check::opt_reference(&cx, "floating_lport", &self.floating_lport)?;
        check::opt_reference(&cx, "lrouter", &self.lrouter)?;
        let fip = self.floating_ip_address;
        if !fip.is_ipv4() {
            return Err(cx.field(
                "floating_ip_address",
                format!("{fip} is not an IPv4 address (floating IPs are IPv4 only)"),
            ));
        }
        check::host_address(&cx, "floating_ip_address", fip)?;
        if fip.is_loopback() {
            return Err(cx.field(
                "floating_ip_address",
                format!("{fip} is a loopback address"),
            ));
        }
        match (&self.lport, self.fixed_ip_address) {
            (Some(_), None) => Err(cx.field(
                "fixed_ip_address",
                "an associated floating IP (lport set) needs fixed_ip_address",
            )),
            (None, Some(ip)) => Err(cx.field(
                "lport",
                format!("fixed_ip_address {ip} is set but lport (the fixed port) is not"),
            )),
            (Some(_), Some(ip)) if !ip.is_ipv4() => Err(cx.field(
                "fixed_ip_address",
                format!("{ip} is not of the IP version of floating_ip_address {fip}"),
            )),
            (Some(_), Some(ip)) => {
                check::host_address(&cx, "fixed_ip_address", ip)?;
                if self.lrouter.is_none() {
                    return Err(cx.field("lrouter", "an associated floating IP needs lrouter"));
                }
                Ok(())
            }
            (None, None) => Ok(()),
        }
    }
}
