//! L2 core: `lswitch` (a Neutron network), `lsubnet` (a subnet) and `lport`
//! (a port), with their embedded types [`PortBinding`], [`AddressPair`],
//! [`DhcpParams`] and the [`HostRoute`] shared with routers and BGP.
//!
//! Why together: these three tables are what every datapath app consumes and
//! they reference each other (port -> network, subnets); the controller's
//! locality decisions come from `lport.binding` (see Dragonflow's
//! `port_locator`). Fields and JSON names are Dragonflow's `models/l2.py`;
//! defaults follow Neutron's API (`enabled` and `port_security_enabled` true,
//! `enable_dhcp` true).

use std::collections::BTreeMap;
use std::net::IpAddr;

use serde::{Deserialize, Serialize};

use crate::check::{self, Check};
use crate::enums::{BindingType, Ipv6Mode, NetworkType, VNIC_TYPES};
use crate::error::{Ctx, ModelError};
use crate::keys::table;
use crate::model::{accessors, Model, Ref, Refs};
use crate::types::{IpNetwork, Mac};

pub(crate) fn yes() -> bool {
    true
}

/// A static route: `destination` via `nexthop` (subnet host routes, router
/// extra routes, BGP routes).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HostRoute {
    /// The prefix routed (no host bits).
    pub destination: IpNetwork,
    /// The gateway, same IP version.
    pub nexthop: IpAddr,
}

// ---------------------------------------------------------------- lswitch

/// A logical L2 network (Neutron network). Its unique key is the network key
/// of the datapath (Dragonflow: OpenFlow metadata and conntrack zone).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogicalSwitch {
    /// Neutron network id.
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
    /// `router:external`.
    #[serde(default)]
    pub is_external: bool,
    /// Largest L3 packet, 68..=65535.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mtu: Option<u32>,
    /// VLAN id (vlan) or tunnel key (vxlan, geneve, gre).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub segmentation_id: Option<u32>,
    /// `provider:network_type`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub network_type: Option<NetworkType>,
    /// `provider:physical_network` (flat, vlan).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub physical_network: Option<String>,
    /// Reference to a `qospolicy`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub qos_policy: Option<String>,
}

impl Model for LogicalSwitch {
    const TABLE: &'static str = table::LSWITCH;
    const HAS_UNIQUE_KEY: bool = true;
    const REFERENCES_TO: &'static [&'static str] = &[table::QOSPOLICY];

    accessors!(id, version, unique_key, topic);

    fn references(&self) -> Vec<Ref> {
        Refs::default()
            .opt("qos_policy", table::QOSPOLICY, &self.qos_policy)
            .done()
    }

    fn validate(&self) -> Result<(), ModelError> {
        let cx = Ctx::new(Self::TABLE, &self.id);
        check::id(&cx, &self.id)?;
        check::topic(&cx, "topic", &self.topic)?;
        check::unique_key(&cx, self.unique_key)?;
        check::mtu(&cx, "mtu", self.mtu)?;
        check::opt_reference(&cx, "qos_policy", &self.qos_policy)?;
        segmentation(&cx, self)
    }
}

fn segmentation(cx: &Ctx<'_>, sw: &LogicalSwitch) -> Check {
    let Some(kind) = sw.network_type else {
        return Ok(());
    };
    let seg = sw.segmentation_id;
    let needs_physnet = matches!(kind, NetworkType::Flat | NetworkType::Vlan);
    match (needs_physnet, &sw.physical_network) {
        (true, None) => {
            return Err(cx.field(
                "physical_network",
                format!("a {kind} network needs a physical_network"),
            ))
        }
        (true, Some(p)) if p.is_empty() => {
            return Err(cx.field("physical_network", "must be non-empty"))
        }
        (false, Some(p)) => {
            return Err(cx.field(
                "physical_network",
                format!("a {kind} network has no physical network (found `{p}`)"),
            ))
        }
        _ => {}
    }
    let (lo, hi, what) = match kind {
        NetworkType::Local | NetworkType::Flat => {
            return match seg {
                Some(s) => Err(cx.field(
                    "segmentation_id",
                    format!("a {kind} network has no segmentation id (found {s})"),
                )),
                None => Ok(()),
            }
        }
        NetworkType::Vlan => (1, 4094, "VLAN id"),
        NetworkType::Vxlan | NetworkType::Geneve => (0, (1 << 24) - 1, "VNI"),
        NetworkType::Gre => (0, u32::MAX, "GRE key"),
    };
    match seg {
        None => Err(cx.field(
            "segmentation_id",
            format!("a {kind} network needs a segmentation_id ({what})"),
        )),
        Some(s) if s < lo || s > hi => Err(cx.field(
            "segmentation_id",
            format!("{s} is not a valid {what} (expected {lo}..={hi} for network_type {kind})"),
        )),
        Some(_) => Ok(()),
    }
}

// ---------------------------------------------------------------- lsubnet

/// A subnet of a logical switch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Subnet {
    /// Neutron subnet id.
    pub id: String,
    /// Project id.
    pub topic: String,
    /// Display name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Neutron revision number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<u64>,
    /// Serve DHCP on this subnet.
    #[serde(default = "yes")]
    pub enable_dhcp: bool,
    /// The DHCP server's address in this subnet (the DHCP port's IP).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dhcp_ip: Option<IpAddr>,
    /// The prefix, without host bits.
    pub cidr: IpNetwork,
    /// Default gateway, inside `cidr`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gateway_ip: Option<IpAddr>,
    /// DNS servers handed out by DHCP.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dns_nameservers: Vec<IpAddr>,
    /// Static routes handed out by DHCP (option 121).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub host_routes: Vec<HostRoute>,
    /// Reference to the `lswitch`.
    pub lswitch: String,
    /// IPv6: what the router's advertisements tell hosts (Neutron's
    /// `ipv6_ra_mode`); unset: no advertisements for this prefix.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ipv6_ra_mode: Option<Ipv6Mode>,
    /// IPv6: how hosts get addresses (Neutron's `ipv6_address_mode`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ipv6_address_mode: Option<Ipv6Mode>,
}

impl Model for Subnet {
    const TABLE: &'static str = table::LSUBNET;
    const HAS_UNIQUE_KEY: bool = false;
    const REFERENCES_TO: &'static [&'static str] = &[table::LSWITCH];

    accessors!(id, version, topic);

    fn references(&self) -> Vec<Ref> {
        Refs::default()
            .one("lswitch", table::LSWITCH, &self.lswitch)
            .done()
    }

    fn validate(&self) -> Result<(), ModelError> {
        let cx = Ctx::new(Self::TABLE, &self.id);
        check::id(&cx, &self.id)?;
        check::topic(&cx, "topic", &self.topic)?;
        check::reference(&cx, "lswitch", &self.lswitch)?;
        check::pure_prefix(&cx, "cidr", &self.cidr)?;
        for (field, ip) in [("gateway_ip", self.gateway_ip), ("dhcp_ip", self.dhcp_ip)] {
            if let Some(ip) = ip {
                if !self.cidr.contains(ip) {
                    return Err(cx.field(field, format!("{ip} is not inside cidr {}", self.cidr)));
                }
                check::host_address(&cx, field, ip)?;
            }
        }
        if self.cidr.addr().is_ipv4()
            && (self.ipv6_ra_mode.is_some() || self.ipv6_address_mode.is_some())
        {
            return Err(cx.field(
                "ipv6_ra_mode",
                "an IPv4 subnet has no IPv6 modes (remove ipv6_ra_mode and ipv6_address_mode)",
            ));
        }
        if let (Some(ra), Some(addr)) = (self.ipv6_ra_mode, self.ipv6_address_mode) {
            if ra != addr {
                return Err(cx.field(
                    "ipv6_address_mode",
                    format!("{addr} differs from ipv6_ra_mode {ra}; when both are set they must be equal (as in Neutron)"),
                ));
            }
        }
        for (i, dns) in self.dns_nameservers.iter().enumerate() {
            let field = format!("dns_nameservers[{i}]");
            check::host_address(&cx, &field, *dns)?;
            if self.dns_nameservers[..i].contains(dns) {
                return Err(cx.field(field, format!("{dns} is listed twice")));
            }
        }
        check::host_routes(&cx, "host_routes", &self.host_routes)?;
        for (i, r) in self.host_routes.iter().enumerate() {
            if r.nexthop.is_ipv4() != self.cidr.is_ipv4() {
                return Err(cx.field(
                    format!("host_routes[{i}].nexthop"),
                    format!(
                        "{} is not of the IP version of cidr {}",
                        r.nexthop, self.cidr
                    ),
                ));
            }
        }
        Ok(())
    }
}

// ---------------------------------------------------------------- lport

/// Where a port is: on a chassis of ours, or behind a hardware VTEP.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PortBinding {
    /// chassis or vtep.
    #[serde(rename = "type")]
    pub kind: BindingType,
    /// Reference to the `chassis` (type chassis).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chassis: Option<String>,
    /// The VTEP's tunnel address (type vtep).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vtep_address: Option<IpAddr>,
}

/// An extra (IP, MAC) a port may send from (Neutron allowed address pair;
/// host addresses only, prefixes are rejected by the Neutron driver).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AddressPair {
    /// The address.
    pub ip_address: IpAddr,
    /// The MAC (the port's own MAC when Neutron was given none).
    pub mac_address: Mac,
}

/// Per-port DHCP extras (Neutron `extra_dhcp_opts`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DhcpParams {
    /// Option tag (1..=254) -> value, as text. JSON keys are the tag numbers.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub opts: BTreeMap<u8, String>,
    /// `siaddr`, the next server (PXE).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub siaddr: Option<IpAddr>,
}

/// A logical port (Neutron port). Its unique key is the port key of the
/// datapath (Dragonflow: reg6/reg7).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogicalPort {
    /// Neutron port id.
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
    /// Fixed IPs.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ips: Vec<IpAddr>,
    /// References to the `lsubnet`s of the fixed IPs.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub subnets: Vec<String>,
    /// The port's MACs (unicast); the first is the port's MAC.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub macs: Vec<Mac>,
    /// Admin state (`admin_state_up`).
    #[serde(default = "yes")]
    pub enabled: bool,
    /// Where the port is; absent while unbound.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub binding: Option<PortBinding>,
    /// Reference to the `lswitch` (required).
    pub lswitch: String,
    /// References to `secgroup`s.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub security_groups: Vec<String>,
    /// Extra addresses the port may use.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub allowed_address_pairs: Vec<AddressPair>,
    /// Anti-spoofing and security groups apply.
    #[serde(default = "yes")]
    pub port_security_enabled: bool,
    /// Who owns the port, see [`crate::device_owner`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_owner: Option<String>,
    /// The owning device (VM, router, ...) id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_id: Option<String>,
    /// Reference to a `qospolicy`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub qos_policy: Option<String>,
    /// DHCP extras.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dhcp_params: Option<DhcpParams>,
    /// Neutron `binding:vnic_type`, one of [`VNIC_TYPES`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub binding_vnic_type: Option<String>,
}

impl LogicalPort {
    /// The first fixed IP.
    pub fn ip(&self) -> Option<IpAddr> {
        self.ips.first().copied()
    }

    /// The first MAC, the port's MAC.
    pub fn mac(&self) -> Option<Mac> {
        self.macs.first().copied()
    }

    /// The chassis the port is bound to, for chassis bindings.
    pub fn chassis(&self) -> Option<&str> {
        match &self.binding {
            Some(PortBinding {
                kind: BindingType::Chassis,
                chassis: Some(c),
                ..
            }) => Some(c),
            _ => None,
        }
    }
}

impl Model for LogicalPort {
    const TABLE: &'static str = table::LPORT;
    const HAS_UNIQUE_KEY: bool = true;
    const REFERENCES_TO: &'static [&'static str] = &[
        table::LSWITCH,
        table::LSUBNET,
        table::SECGROUP,
        table::QOSPOLICY,
        table::CHASSIS,
    ];

    accessors!(id, version, unique_key, topic);

    fn references(&self) -> Vec<Ref> {
        let chassis = self.binding.as_ref().and_then(|b| b.chassis.clone());
        Refs::default()
            .one("lswitch", table::LSWITCH, &self.lswitch)
            .list("subnets", table::LSUBNET, &self.subnets)
            .list("security_groups", table::SECGROUP, &self.security_groups)
            .opt("qos_policy", table::QOSPOLICY, &self.qos_policy)
            .opt("binding.chassis", table::CHASSIS, &chassis)
            .done()
    }

    fn validate(&self) -> Result<(), ModelError> {
        let cx = Ctx::new(Self::TABLE, &self.id);
        check::id(&cx, &self.id)?;
        check::topic(&cx, "topic", &self.topic)?;
        check::unique_key(&cx, self.unique_key)?;
        check::reference(&cx, "lswitch", &self.lswitch)?;
        check::reference_list(&cx, "subnets", &self.subnets)?;
        check::reference_list(&cx, "security_groups", &self.security_groups)?;
        check::opt_reference(&cx, "qos_policy", &self.qos_policy)?;
        for (i, mac) in self.macs.iter().enumerate() {
            check::unicast_mac(&cx, &format!("macs[{i}]"), mac)?;
        }
        for (i, ip) in self.ips.iter().enumerate() {
            let field = format!("ips[{i}]");
            check::host_address(&cx, &field, *ip)?;
            if self.ips[..i].contains(ip) {
                return Err(cx.field(field, format!("{ip} is listed twice")));
            }
        }
        for (i, pair) in self.allowed_address_pairs.iter().enumerate() {
            let field = format!("allowed_address_pairs[{i}]");
            check::host_address(&cx, &format!("{field}.ip_address"), pair.ip_address)?;
            check::unicast_mac(&cx, &format!("{field}.mac_address"), &pair.mac_address)?;
        }
        if !self.port_security_enabled && !self.security_groups.is_empty() {
            return Err(cx.field(
                "security_groups",
                "a port with port_security_enabled false cannot have security groups",
            ));
        }
        if let Some(b) = &self.binding {
            binding(&cx, b)?;
        }
        if let Some(d) = &self.dhcp_params {
            dhcp_params(&cx, d)?;
        }
        if let Some(v) = &self.binding_vnic_type {
            if !VNIC_TYPES.contains(&v.as_str()) {
                return Err(cx.field(
                    "binding_vnic_type",
                    format!(
                        "`{v}` is not a vnic type (expected one of: {})",
                        VNIC_TYPES.join(", ")
                    ),
                ));
            }
        }
        Ok(())
    }
}

fn binding(cx: &Ctx<'_>, b: &PortBinding) -> Check {
    match b.kind {
        BindingType::Chassis => match (&b.chassis, b.vtep_address) {
            (None, _) => Err(cx.field("binding.chassis", "a chassis binding needs a chassis")),
            (Some(_), Some(_)) => Err(cx.field(
                "binding.vtep_address",
                "a chassis binding has no vtep_address",
            )),
            (Some(c), None) => check::reference(cx, "binding.chassis", c),
        },
        BindingType::Vtep => match (&b.chassis, b.vtep_address) {
            (_, None) => Err(cx.field(
                "binding.vtep_address",
                "a vtep binding needs a vtep_address",
            )),
            (Some(_), _) => Err(cx.field("binding.chassis", "a vtep binding has no chassis")),
            (None, Some(ip)) => check::host_address(cx, "binding.vtep_address", ip),
        },
    }
}

fn dhcp_params(cx: &Ctx<'_>, d: &DhcpParams) -> Check {
    for tag in d.opts.keys() {
        if *tag == 0 || *tag == 255 {
            return Err(cx.field(
                "dhcp_params.opts",
                format!("{tag} is not a DHCP option tag (expected 1..=254; 0 is pad, 255 is end)"),
            ));
        }
    }
    if let Some(ip) = d.siaddr {
        check::host_address(cx, "dhcp_params.siaddr", ip)?;
    }
    Ok(())
}
