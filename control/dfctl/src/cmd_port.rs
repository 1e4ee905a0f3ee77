//! `dfctl port`: logical ports, their addresses and their binding.
//!
//! Why the address rules: Neutron hands a port a free address of a subnet
//! of its network and refuses one another port holds, the gateway, or one
//! outside every subnet; the datapath relies on (network, IP) and
//! (network, MAC) being unique, so dfctl checks the same before writing.

use std::net::IpAddr;

use anyhow::Result;
use df_model::{
    device_owner, AddressPair, BindingType, Chassis, FloatingIp, LogicalPort, LogicalSwitch, Model,
    PortBinding, SecurityGroup, Subnet,
};

use crate::cli::{Global, PortCommand, PortCreate};
use crate::cmd_network::{
    deleted, network_names, opt, ports_of, print_obj, subnets_of, used_ips, used_macs,
};
use crate::db::Db;
use crate::error::fail;
use crate::objects::{self, label, Stored};
use crate::out;

/// Runs a `port` subcommand.
///
/// # Errors
/// Not found, address in use, invalid, store errors.
pub async fn run(g: &Global, cmd: PortCommand) -> Result<()> {
    let db = crate::db::open(g).await?;
    let db = db.as_ref();
    match cmd {
        PortCommand::Create(a) => create(g, db, a).await,
        PortCommand::List { network } => {
            let mut ports = objects::list::<LogicalPort>(db).await?;
            if let Some(n) = network {
                let net = objects::resolve::<LogicalSwitch>(db, &n).await?;
                ports.retain(|p| p.obj.lswitch == net.obj.id);
            }
            if g.json {
                let v: Vec<&LogicalPort> = ports.iter().map(|s| &s.obj).collect();
                out::print_json(&serde_json::to_value(v)?);
                return Ok(());
            }
            let names = network_names(db).await?;
            let rows: Vec<Vec<String>> = ports
                .iter()
                .map(|p| {
                    let p = &p.obj;
                    let ips: Vec<String> = p.ips.iter().map(ToString::to_string).collect();
                    vec![
                        p.id.clone(),
                        p.name.clone().unwrap_or_default(),
                        names.get(&p.lswitch).cloned().unwrap_or(p.lswitch.clone()),
                        opt(p.mac()),
                        if ips.is_empty() {
                            "-".into()
                        } else {
                            ips.join(",")
                        },
                        opt(p.chassis()),
                        opt(p.device_owner.as_deref()),
                        opt(p.unique_key),
                    ]
                })
                .collect();
            out::print(&out::table(
                &[
                    "ID", "NAME", "NETWORK", "MAC", "IPS", "CHASSIS", "OWNER", "KEY",
                ],
                &rows,
            ));
            Ok(())
        }
        PortCommand::Show { port } => {
            let p = objects::resolve::<LogicalPort>(db, &port).await?;
            print_obj(g, &p.obj, None);
            Ok(())
        }
        PortCommand::Delete { port } => {
            let p = objects::resolve::<LogicalPort>(db, &port).await?;
            match p.obj.device_owner.as_deref() {
                Some(device_owner::ROUTER_INTERFACE) => fail!(
                    "port `{}` is an interface of router `{}`; detach it with `dfctl router remove-interface`",
                    label(&p.obj),
                    p.obj.device_id.as_deref().unwrap_or("?")
                ),
                Some(device_owner::FLOATINGIP) => fail!(
                    "port `{}` belongs to floating IP `{}`; delete that with `dfctl floating-ip delete`",
                    label(&p.obj),
                    p.obj.device_id.as_deref().unwrap_or("?")
                ),
                _ => {}
            }
            let fips: Vec<String> = objects::list::<FloatingIp>(db)
                .await?
                .into_iter()
                .filter(|f| f.obj.lport.as_deref() == Some(p.obj.id.as_str()))
                .map(|f| f.obj.floating_ip_address.to_string())
                .collect();
            if !fips.is_empty() {
                fail!(
                    "port `{}` is the fixed port of floating IPs {}; delete them first with `dfctl floating-ip delete`",
                    label(&p.obj),
                    fips.join(", ")
                );
            }
            objects::delete(db, LogicalPort::TABLE, &p.obj.id).await?;
            deleted(g, "port", &p.obj);
            Ok(())
        }
        PortCommand::Bind {
            port,
            chassis,
            switch_port,
        } => {
            let p = objects::resolve::<LogicalPort>(db, &port).await?;
            if objects::get::<Chassis>(db, &chassis).await?.is_none() {
                out::note(&format!(
                    "chassis `{chassis}` is not registered yet (dfswitchd registers its chassis when it starts); \
                     the binding takes effect once it is"
                ));
            }
            let binding = PortBinding {
                kind: BindingType::Chassis,
                chassis: Some(chassis.clone()),
                vtep_address: None,
            };
            let p = objects::update::<LogicalPort, _>(db, &p.obj.id, |p| {
                p.binding = Some(binding.clone());
                Ok(())
            })
            .await?;
            print_obj(
                g,
                &p,
                Some(format!("bound port {} to chassis {chassis}", label(&p))),
            );
            let sp = switch_port.unwrap_or_else(|| "<switch port>".into());
            out::note(&format!(
                "dfswitchd on {chassis} carries this port on the switch port configured in dfswitchd.toml \
                 with iface_id = \"{}\" (switch port `{sp}`)",
                p.id
            ));
            Ok(())
        }
        PortCommand::Unbind { port } => {
            let p = objects::resolve::<LogicalPort>(db, &port).await?;
            let p = objects::update::<LogicalPort, _>(db, &p.obj.id, |p| {
                p.binding = None;
                Ok(())
            })
            .await?;
            print_obj(g, &p, Some(format!("unbound port {}", label(&p))));
            Ok(())
        }
    }
}

async fn create(g: &Global, db: &dyn Db, a: PortCreate) -> Result<()> {
    let net = objects::resolve::<LogicalSwitch>(db, &a.network).await?;
    objects::check_name_free::<LogicalPort>(db, &a.name).await?;
    let subnets = subnets_of(db, &net.obj.id).await?;
    let ports = ports_of(db, &net.obj.id).await?;
    let chosen = match &a.subnet {
        None => None,
        Some(s) => {
            let s = objects::resolve::<Subnet>(db, s).await?;
            if s.obj.lswitch != net.obj.id {
                fail!(
                    "subnet `{}` is not on network `{}`; pick one of its subnets (see `dfctl subnet list --network {}`)",
                    label(&s.obj),
                    label(&net.obj),
                    label(&net.obj)
                );
            }
            Some(s)
        }
    };
    let is_router = a.device_owner.as_deref() == Some(device_owner::ROUTER_INTERFACE);
    let (ips, subnet_ids) = addresses(&a, &net.obj, &subnets, chosen.as_ref(), &ports, is_router)?;
    let macs = used_macs(&ports);
    let mac = match a.mac {
        Some(mac) => {
            if let Some(other) = ports.iter().find(|p| p.obj.macs.contains(&mac)) {
                fail!(
                    "MAC {mac} is already used by port `{}` on network `{}`; pick another or leave --mac out",
                    label(&other.obj),
                    label(&net.obj)
                );
            }
            mac
        }
        None => objects::new_mac(&macs),
    };
    let mut groups = Vec::new();
    for sg in &a.security_groups {
        let sg = objects::resolve::<SecurityGroup>(db, sg).await?;
        groups.push(sg.obj.id);
    }
    let port = LogicalPort {
        id: a.id.unwrap_or_else(objects::new_id),
        topic: g.topic.clone(),
        name: Some(a.name),
        version: None,
        unique_key: None,
        ips,
        subnets: subnet_ids,
        macs: vec![mac],
        enabled: !a.disabled,
        binding: None,
        lswitch: net.obj.id.clone(),
        security_groups: groups,
        allowed_address_pairs: a
            .allowed_address_pairs
            .into_iter()
            .map(|(ip_address, m)| AddressPair {
                ip_address,
                mac_address: m.unwrap_or(mac),
            })
            .collect(),
        port_security_enabled: !a.no_port_security,
        device_owner: a.device_owner,
        device_id: a.device_id,
        qos_policy: None,
        dhcp_params: None,
        binding_vnic_type: None,
    };
    let port = objects::create(db, port).await?;
    print_obj(g, &port, Some(format!("created port {}", label(&port))));
    Ok(())
}

/// The fixed IPs of a new port and their subnets.
fn addresses(
    a: &PortCreate,
    net: &LogicalSwitch,
    subnets: &[Stored<Subnet>],
    chosen: Option<&Stored<Subnet>>,
    ports: &[Stored<LogicalPort>],
    is_router: bool,
) -> Result<(Vec<IpAddr>, Vec<String>)> {
    let used = used_ips(ports);
    let cidrs = || {
        let list: Vec<String> = subnets
            .iter()
            .map(|s| format!("{} {}", label(&s.obj), s.obj.cidr))
            .collect();
        if list.is_empty() {
            "none; create one with `dfctl subnet create`".to_string()
        } else {
            list.join(", ")
        }
    };
    let mut ips = Vec::new();
    let mut ids: Vec<String> = Vec::new();
    if a.ips.is_empty() {
        let from = match (chosen, subnets) {
            (Some(s), _) => Some(s),
            (None, []) => None,
            (None, [only]) => Some(only),
            (None, _) => fail!(
                "network `{}` has several subnets ({}); pick one with --subnet or give --ip",
                label(net),
                cidrs()
            ),
        };
        if let Some(s) = from {
            let Some(ip) = objects::free_ip(&s.obj, &used) else {
                fail!(
                    "subnet `{}` ({}) has no free address left",
                    label(&s.obj),
                    s.obj.cidr
                );
            };
            ips.push(ip);
            ids.push(s.obj.id.clone());
        }
        return Ok((ips, ids));
    }
    for ip in &a.ips {
        let subnet = match chosen {
            Some(s) if s.obj.cidr.contains(*ip) => s,
            Some(s) => fail!(
                "address {ip} is not in subnet `{}` ({}); give an address of that subnet",
                label(&s.obj),
                s.obj.cidr
            ),
            None => match subnets.iter().find(|s| s.obj.cidr.contains(*ip)) {
                Some(s) => s,
                None => fail!(
                    "address {ip} is not in any subnet of network `{}` (subnets: {})",
                    label(net),
                    cidrs()
                ),
            },
        };
        if let Some(p) = ports.iter().find(|p| p.obj.ips.contains(ip)) {
            fail!(
                "address {ip} is already used by port `{}` on network `{}`",
                label(&p.obj),
                label(net)
            );
        }
        if subnet.obj.gateway_ip == Some(*ip) && !is_router {
            fail!(
                "address {ip} is the gateway of subnet `{}`; pick another address",
                label(&subnet.obj)
            );
        }
        if subnet.obj.dhcp_ip == Some(*ip) {
            fail!(
                "address {ip} is the DHCP server's in subnet `{}`; pick another address",
                label(&subnet.obj)
            );
        }
        ips.push(*ip);
        if !ids.contains(&subnet.obj.id) {
            ids.push(subnet.obj.id.clone());
        }
    }
    Ok((ips, ids))
}
