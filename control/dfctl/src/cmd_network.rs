//! `dfctl network` and `dfctl subnet`.
//!
//! Why the DHCP port: Dragonflow's Neutron driver gave every network with a
//! DHCP-enabled IPv4 subnet one `network:dhcp` lport holding an address in
//! each such subnet, and recorded that address as the subnet's `dhcp_ip`;
//! the dhcp app answers from that port. dfctl does the same, so a network
//! built with dfctl gets DHCP like one built by Neutron. Deletes refuse
//! while something other than that port still uses the network or subnet,
//! as Neutron does.

use std::collections::{HashMap, HashSet};
use std::net::IpAddr;

use anyhow::Result;
use df_model::{device_owner, HostRoute, LogicalPort, LogicalSwitch, Model, NetworkType, Subnet};
use serde_json::Value;

use crate::cli::{Global, NetworkCommand, NetworkCreate, SubnetCommand, SubnetCreate};
use crate::db::Db;
use crate::error::fail;
use crate::objects::{self, label, Resource, Stored};
use crate::out;

/// Prints a created/changed/shown object.
pub fn print_obj<T: Model>(g: &Global, obj: &T, heading: Option<String>) {
    let value = serde_json::to_value(obj).unwrap_or(Value::Null);
    if g.json {
        out::print_json(&value);
    } else {
        if let Some(h) = heading {
            out::print(&h);
        }
        out::print(&out::object_lines(&value));
    }
}

/// Runs a `network` subcommand.
///
/// # Errors
/// Not found, in use, invalid, store errors.
pub async fn network(g: &Global, cmd: NetworkCommand) -> Result<()> {
    let db = crate::db::open(g).await?;
    let db = db.as_ref();
    match cmd {
        NetworkCommand::Create(a) => create_network(g, db, a).await,
        NetworkCommand::List => {
            let nets = objects::list::<LogicalSwitch>(db).await?;
            if g.json {
                let v: Vec<&LogicalSwitch> = nets.iter().map(|s| &s.obj).collect();
                out::print_json(&serde_json::to_value(v)?);
                return Ok(());
            }
            let rows: Vec<Vec<String>> = nets
                .iter()
                .map(|s| {
                    let n = &s.obj;
                    vec![
                        n.id.clone(),
                        n.name.clone().unwrap_or_default(),
                        n.network_type.map_or("-".into(), |t| t.to_string()),
                        opt(n.segmentation_id),
                        opt(n.mtu),
                        if n.is_external { "yes" } else { "no" }.into(),
                        opt(n.unique_key),
                    ]
                })
                .collect();
            out::print(&out::table(
                &["ID", "NAME", "TYPE", "SEGMENT", "MTU", "EXTERNAL", "KEY"],
                &rows,
            ));
            Ok(())
        }
        NetworkCommand::Show { network } => {
            let net = objects::resolve::<LogicalSwitch>(db, &network).await?;
            print_obj(g, &net.obj, None);
            if !g.json {
                let subnets = subnets_of(db, &net.obj.id).await?;
                let ports = ports_of(db, &net.obj.id).await?;
                let s: Vec<String> = subnets
                    .iter()
                    .map(|s| format!("{} ({})", label(&s.obj), s.obj.cidr))
                    .collect();
                let p: Vec<String> = ports.iter().map(|p| label(&p.obj)).collect();
                out::print(&format!(
                    "subnets: {}\nports:   {}",
                    dash(&s.join(", ")),
                    dash(&p.join(", "))
                ));
            }
            Ok(())
        }
        NetworkCommand::Delete { network } => {
            let net = objects::resolve::<LogicalSwitch>(db, &network).await?;
            let id = net.obj.id.clone();
            let ports = ports_of(db, &id).await?;
            let (dhcp, others): (Vec<_>, Vec<_>) = ports.into_iter().partition(is_dhcp_port);
            if !others.is_empty() {
                let names: Vec<String> = others.iter().map(|p| port_text(&p.obj)).collect();
                fail!(
                    "network `{}` is in use by ports {}; delete them first (router interfaces with \
                     `dfctl router remove-interface`, floating IPs with `dfctl floating-ip delete`)",
                    label(&net.obj),
                    names.join(", ")
                );
            }
            for p in dhcp {
                objects::delete(db, LogicalPort::TABLE, &p.obj.id).await?;
            }
            for s in subnets_of(db, &id).await? {
                objects::delete(db, Subnet::TABLE, &s.obj.id).await?;
            }
            objects::delete(db, LogicalSwitch::TABLE, &id).await?;
            deleted(g, "network", &net.obj);
            Ok(())
        }
    }
}

async fn create_network(g: &Global, db: &dyn Db, a: NetworkCreate) -> Result<()> {
    objects::check_name_free::<LogicalSwitch>(db, &a.name).await?;
    let mut net = LogicalSwitch {
        id: a.id.unwrap_or_else(objects::new_id),
        topic: g.topic.clone(),
        name: Some(a.name),
        version: None,
        unique_key: None,
        is_external: a.external,
        mtu: a.mtu,
        segmentation_id: a.segmentation_id,
        network_type: a.network_type,
        physical_network: a.physical_network,
        qos_policy: None,
    };
    if net.network_type.is_none() {
        net.network_type = Some(NetworkType::Geneve);
    }
    let tunnel = matches!(
        net.network_type,
        Some(NetworkType::Vxlan | NetworkType::Geneve)
    );
    if tunnel && net.mtu.is_none() {
        // A 1500-byte underlay less the outer Ethernet, IPv4, UDP and
        // Geneve/VXLAN headers: VMs learn it by DHCP.
        net.mtu = Some(1450);
    }
    if tunnel && net.segmentation_id.is_none() {
        // The network's unique key is unique per deployment and fits a VNI.
        let key = db.allocate_unique_key(LogicalSwitch::TABLE).await?;
        net.unique_key = Some(key);
        net.segmentation_id = Some(key);
    }
    let net = objects::create(db, net).await?;
    print_obj(g, &net, Some(format!("created network {}", label(&net))));
    Ok(())
}

/// Runs a `subnet` subcommand.
///
/// # Errors
/// Not found, in use, invalid, store errors.
pub async fn subnet(g: &Global, cmd: SubnetCommand) -> Result<()> {
    let db = crate::db::open(g).await?;
    let db = db.as_ref();
    match cmd {
        SubnetCommand::Create(a) => create_subnet(g, db, a).await,
        SubnetCommand::List { network } => {
            let mut subnets = objects::list::<Subnet>(db).await?;
            if let Some(n) = network {
                let net = objects::resolve::<LogicalSwitch>(db, &n).await?;
                subnets.retain(|s| s.obj.lswitch == net.obj.id);
            }
            if g.json {
                let v: Vec<&Subnet> = subnets.iter().map(|s| &s.obj).collect();
                out::print_json(&serde_json::to_value(v)?);
                return Ok(());
            }
            let names = network_names(db).await?;
            let rows: Vec<Vec<String>> = subnets
                .iter()
                .map(|s| {
                    let s = &s.obj;
                    vec![
                        s.id.clone(),
                        s.name.clone().unwrap_or_default(),
                        names.get(&s.lswitch).cloned().unwrap_or(s.lswitch.clone()),
                        s.cidr.to_string(),
                        opt(s.gateway_ip),
                        if s.enable_dhcp {
                            opt(s.dhcp_ip)
                        } else {
                            "off".into()
                        },
                    ]
                })
                .collect();
            out::print(&out::table(
                &["ID", "NAME", "NETWORK", "CIDR", "GATEWAY", "DHCP"],
                &rows,
            ));
            Ok(())
        }
        SubnetCommand::Show { subnet } => {
            let s = objects::resolve::<Subnet>(db, &subnet).await?;
            print_obj(g, &s.obj, None);
            Ok(())
        }
        SubnetCommand::Delete { subnet } => {
            let s = objects::resolve::<Subnet>(db, &subnet).await?;
            let id = s.obj.id.clone();
            let users: Vec<Stored<LogicalPort>> = ports_of(db, &s.obj.lswitch)
                .await?
                .into_iter()
                .filter(|p| p.obj.subnets.contains(&id))
                .collect();
            let (dhcp, others): (Vec<_>, Vec<_>) = users.into_iter().partition(is_dhcp_port);
            if !others.is_empty() {
                let names: Vec<String> = others.iter().map(|p| port_text(&p.obj)).collect();
                fail!(
                    "subnet `{}` is in use by ports {}; delete them (or detach the router) first",
                    label(&s.obj),
                    names.join(", ")
                );
            }
            for p in dhcp {
                release_dhcp_address(db, &p.obj.id, &id).await?;
            }
            objects::delete(db, Subnet::TABLE, &id).await?;
            deleted(g, "subnet", &s.obj);
            Ok(())
        }
    }
}

async fn create_subnet(g: &Global, db: &dyn Db, a: SubnetCreate) -> Result<()> {
    let net = objects::resolve::<LogicalSwitch>(db, &a.network).await?;
    objects::check_name_free::<Subnet>(db, &a.name).await?;
    let cidr = a.cidr;
    let gateway = match (a.gateway, a.no_gateway) {
        (Some(gw), _) => Some(gw),
        (None, true) => None,
        (None, false) => objects::hosts(&cidr).next(),
    };
    let mut subnet = Subnet {
        id: a.id.unwrap_or_else(objects::new_id),
        topic: net.obj.topic.clone(),
        name: Some(a.name),
        version: None,
        enable_dhcp: !a.no_dhcp,
        dhcp_ip: None,
        cidr,
        gateway_ip: gateway,
        dns_nameservers: a.dns,
        host_routes: a
            .host_routes
            .into_iter()
            .map(|(destination, nexthop)| HostRoute {
                destination,
                nexthop,
            })
            .collect(),
        lswitch: net.obj.id.clone(),
        ipv6_ra_mode: a.ipv6_ra_mode,
        ipv6_address_mode: a.ipv6_address_mode,
    };
    for other in subnets_of(db, &net.obj.id).await? {
        if other.obj.cidr.overlaps(&cidr) {
            fail!(
                "cannot create subnet `{}`: cidr {cidr} overlaps subnet `{}` ({}) of network `{}`; pick another cidr",
                label(&subnet),
                label(&other.obj),
                other.obj.cidr,
                label(&net.obj)
            );
        }
    }
    let ports = ports_of(db, &net.obj.id).await?;
    let dhcp_port = ports.iter().find(|p| is_dhcp_port(p)).cloned();
    let serve_dhcp = subnet.enable_dhcp && cidr.is_ipv4();
    if serve_dhcp {
        let used = used_ips(&ports);
        match objects::free_ip(&subnet, &used) {
            Some(ip) => subnet.dhcp_ip = Some(ip),
            None => fail!(
                "cannot create subnet `{}`: {cidr} has no address left for the DHCP server; use a larger cidr or --no-dhcp",
                label(&subnet)
            ),
        }
    }
    let subnet = objects::create(db, subnet).await?;
    if let (true, Some(ip)) = (serve_dhcp, subnet.dhcp_ip) {
        let result = match &dhcp_port {
            Some(p) => add_dhcp_address(db, &p.obj.id, &subnet.id, ip).await,
            None => create_dhcp_port(db, &net.obj, &subnet, ip, &ports).await,
        };
        if let Err(e) = result {
            // Do not leave a subnet whose DHCP address nobody holds.
            let _ = objects::delete(db, Subnet::TABLE, &subnet.id).await;
            return Err(e);
        }
    }
    print_obj(
        g,
        &subnet,
        Some(format!("created subnet {}", label(&subnet))),
    );
    Ok(())
}

async fn create_dhcp_port(
    db: &dyn Db,
    net: &LogicalSwitch,
    subnet: &Subnet,
    ip: IpAddr,
    ports: &[Stored<LogicalPort>],
) -> Result<()> {
    let port = LogicalPort {
        id: objects::new_id(),
        topic: net.topic.clone(),
        name: Some(format!("dhcp-{}", label(net))),
        version: None,
        unique_key: None,
        ips: vec![ip],
        subnets: vec![subnet.id.clone()],
        macs: vec![objects::new_mac(&used_macs(ports))],
        enabled: true,
        binding: None,
        lswitch: net.id.clone(),
        security_groups: Vec::new(),
        allowed_address_pairs: Vec::new(),
        port_security_enabled: false,
        device_owner: Some(device_owner::DHCP.to_string()),
        device_id: Some(format!("dhcp-{}", net.id)),
        qos_policy: None,
        dhcp_params: None,
        binding_vnic_type: None,
    };
    objects::create(db, port).await?;
    Ok(())
}

async fn add_dhcp_address(db: &dyn Db, port: &str, subnet: &str, ip: IpAddr) -> Result<()> {
    objects::update::<LogicalPort, _>(db, port, |p| {
        if !p.ips.contains(&ip) {
            p.ips.push(ip);
        }
        if !p.subnets.iter().any(|s| s == subnet) {
            p.subnets.push(subnet.to_string());
        }
        Ok(())
    })
    .await?;
    Ok(())
}

/// Takes a subnet's address off the DHCP port; deletes the port when it
/// has none left.
async fn release_dhcp_address(db: &dyn Db, port: &str, subnet_id: &str) -> Result<()> {
    let Some(s) = objects::get::<Subnet>(db, subnet_id).await? else {
        return Ok(());
    };
    let p = objects::update::<LogicalPort, _>(db, port, |p| {
        p.ips.retain(|ip| !s.obj.cidr.contains(*ip));
        p.subnets.retain(|x| x != subnet_id);
        Ok(())
    })
    .await?;
    if p.ips.is_empty() {
        objects::delete(db, LogicalPort::TABLE, port).await?;
    }
    Ok(())
}

/// Whether a port is a network's DHCP port.
pub fn is_dhcp_port(p: &Stored<LogicalPort>) -> bool {
    p.obj.device_owner.as_deref() == Some(device_owner::DHCP)
}

/// The subnets of a network.
///
/// # Errors
/// Store errors.
pub async fn subnets_of(db: &dyn Db, network: &str) -> Result<Vec<Stored<Subnet>>> {
    let mut s = objects::list::<Subnet>(db).await?;
    s.retain(|s| s.obj.lswitch == network);
    Ok(s)
}

/// The ports of a network.
///
/// # Errors
/// Store errors.
pub async fn ports_of(db: &dyn Db, network: &str) -> Result<Vec<Stored<LogicalPort>>> {
    let mut p = objects::list::<LogicalPort>(db).await?;
    p.retain(|p| p.obj.lswitch == network);
    Ok(p)
}

/// Every fixed IP of `ports`.
pub fn used_ips(ports: &[Stored<LogicalPort>]) -> HashSet<IpAddr> {
    ports
        .iter()
        .flat_map(|p| p.obj.ips.iter().copied())
        .collect()
}

/// Every MAC of `ports`.
pub fn used_macs(ports: &[Stored<LogicalPort>]) -> HashSet<df_model::Mac> {
    ports
        .iter()
        .flat_map(|p| p.obj.macs.iter().copied())
        .collect()
}

/// Network id -> name (or id).
///
/// # Errors
/// Store errors.
pub async fn network_names(db: &dyn Db) -> Result<HashMap<String, String>> {
    Ok(objects::list::<LogicalSwitch>(db)
        .await?
        .into_iter()
        .map(|s| (s.obj.id.clone(), label(&s.obj)))
        .collect())
}

/// `name (owner)` for messages about ports in the way.
pub fn port_text(p: &LogicalPort) -> String {
    match &p.device_owner {
        Some(o) => format!("`{}` ({o})", label(p)),
        None => format!("`{}`", label(p)),
    }
}

/// An optional value as a table cell.
pub fn opt<T: ToString>(v: Option<T>) -> String {
    v.map_or("-".into(), |v| v.to_string())
}

/// `-` for an empty cell.
pub fn dash(s: &str) -> &str {
    if s.is_empty() {
        "-"
    } else {
        s
    }
}

/// Reports a deletion.
pub fn deleted<T: Resource>(g: &Global, noun: &str, obj: &T) {
    if g.json {
        out::print_json(&serde_json::json!({"deleted": {"table": T::TABLE, "id": obj.id()}}));
    } else {
        out::print(&format!("deleted {noun} {} ({})", label(obj), obj.id()));
    }
}
