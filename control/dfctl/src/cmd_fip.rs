//! `dfctl floating-ip` and `dfctl chassis`.
//!
//! Why a floating IP owns a port: as Neutron does, the floating address is
//! held by an lport on the external network (owner `network:floatingip`,
//! referenced as `floating_lport`), so the address is reserved there like
//! any other; deleting the floating IP deletes that port.
//!
//! Chassis liveness is Dragonflow's: a service is alive when its heartbeat
//! (`last_seen_up`) is at most `service_down_time` (80 s) old.

use std::net::IpAddr;

use anyhow::Result;
use df_model::{
    device_owner, Chassis, FloatingIp, LogicalPort, LogicalRouter, LogicalSwitch, Model, Service,
};
use serde_json::{json, Value};

use crate::cli::{ChassisCommand, FipCreate, FloatingIpCommand, Global};
use crate::cmd_network::{deleted, opt, ports_of, print_obj, subnets_of, used_macs};
use crate::db::Db;
use crate::error::fail;
use crate::objects::{self, label, Stored};
use crate::out;

/// Dragonflow's `service_down_time`: a heartbeat older than this is down.
pub const SERVICE_DOWN_TIME_SECS: f64 = 80.0;

/// Runs a `floating-ip` subcommand.
///
/// # Errors
/// Not found, not external, address in use, invalid, store errors.
pub async fn floating_ip(g: &Global, cmd: FloatingIpCommand) -> Result<()> {
    let db = crate::db::open(g).await?;
    let db = db.as_ref();
    match cmd {
        FloatingIpCommand::Create(a) => create(g, db, a).await,
        FloatingIpCommand::List => {
            let fips = objects::list::<FloatingIp>(db).await?;
            if g.json {
                let v: Vec<&FloatingIp> = fips.iter().map(|s| &s.obj).collect();
                out::print_json(&serde_json::to_value(v)?);
                return Ok(());
            }
            let rows: Vec<Vec<String>> = fips
                .iter()
                .map(|f| {
                    let f = &f.obj;
                    vec![
                        f.id.clone(),
                        f.floating_ip_address.to_string(),
                        opt(f.fixed_ip_address),
                        opt(f.lport.as_deref()),
                        opt(f.lrouter.as_deref()),
                    ]
                })
                .collect();
            out::print(&out::table(
                &["ID", "ADDRESS", "FIXED IP", "PORT", "ROUTER"],
                &rows,
            ));
            Ok(())
        }
        FloatingIpCommand::Show { fip } => {
            let f = find(db, &fip).await?;
            print_obj(g, &f.obj, None);
            Ok(())
        }
        FloatingIpCommand::Delete { fip } => {
            let f = find(db, &fip).await?;
            objects::delete(db, FloatingIp::TABLE, &f.obj.id).await?;
            if let Some(p) = &f.obj.floating_lport {
                if objects::get::<LogicalPort>(db, p).await?.is_some() {
                    objects::delete(db, LogicalPort::TABLE, p).await?;
                }
            }
            deleted(g, "floating IP", &f.obj);
            Ok(())
        }
    }
}

/// A floating IP by id or address.
async fn find(db: &dyn Db, what: &str) -> Result<Stored<FloatingIp>> {
    if let Ok(addr) = what.parse::<IpAddr>() {
        if let Some(f) = objects::list::<FloatingIp>(db)
            .await?
            .into_iter()
            .find(|f| f.obj.floating_ip_address == addr)
        {
            return Ok(f);
        }
    }
    if df_model::parse_key(&df_model::key(FloatingIp::TABLE, what)).is_some() {
        if let Some(f) = objects::get::<FloatingIp>(db, what).await? {
            return Ok(f);
        }
    }
    fail!("floating IP `{what}` not found: no floatingip has that id or address (see `dfctl floating-ip list`)")
}

async fn create(g: &Global, db: &dyn Db, a: FipCreate) -> Result<()> {
    let ext = objects::resolve::<LogicalSwitch>(db, &a.external_network).await?;
    if !ext.obj.is_external {
        fail!(
            "network `{}` is not external; floating IPs come from a network created with `dfctl network create --external`",
            label(&ext.obj)
        );
    }
    let subnets = subnets_of(db, &ext.obj.id).await?;
    let Some(subnet) = subnets.iter().find(|s| s.obj.cidr.contains(a.address)) else {
        let cidrs: Vec<String> = subnets.iter().map(|s| s.obj.cidr.to_string()).collect();
        fail!(
            "address {} is not in any subnet of external network `{}` (subnets: {}); add one with `dfctl subnet create`",
            a.address,
            label(&ext.obj),
            if cidrs.is_empty() { "none".into() } else { cidrs.join(", ") }
        );
    };
    let ext_ports = ports_of(db, &ext.obj.id).await?;
    if let Some(p) = ext_ports.iter().find(|p| p.obj.ips.contains(&a.address)) {
        fail!(
            "address {} is already used by port `{}` on network `{}`",
            a.address,
            label(&p.obj),
            label(&ext.obj)
        );
    }
    if subnet.obj.gateway_ip == Some(a.address) {
        fail!(
            "address {} is the gateway of subnet `{}`; pick another",
            a.address,
            label(&subnet.obj)
        );
    }
    let id = a.id.clone().unwrap_or_else(objects::new_id);
    let (lport, fixed, router) = match &a.port {
        None => (None, None, None),
        Some(p) => {
            let (port, fixed, router) = association(db, &a, p).await?;
            (Some(port), Some(fixed), Some(router))
        }
    };
    let fport = LogicalPort {
        id: objects::new_id(),
        topic: g.topic.clone(),
        name: None,
        version: None,
        unique_key: None,
        ips: vec![a.address],
        subnets: vec![subnet.obj.id.clone()],
        macs: vec![objects::new_mac(&used_macs(&ext_ports))],
        enabled: true,
        binding: None,
        lswitch: ext.obj.id.clone(),
        security_groups: Vec::new(),
        allowed_address_pairs: Vec::new(),
        port_security_enabled: false,
        device_owner: Some(device_owner::FLOATINGIP.to_string()),
        device_id: Some(id.clone()),
        qos_policy: None,
        dhcp_params: None,
        binding_vnic_type: None,
    };
    let fip = FloatingIp {
        id,
        topic: g.topic.clone(),
        name: None,
        version: None,
        floating_ip_address: a.address,
        fixed_ip_address: fixed,
        lport,
        floating_lport: Some(fport.id.clone()),
        lrouter: router,
    };
    // Validate the floating IP before writing anything.
    let check = serde_json::to_vec(&fip)?;
    df_model::decode_model::<FloatingIp>(&fip.id, &check).map_err(|e| {
        crate::error::CliError::Failed(format!("cannot create floating IP {}: {e}", a.address))
    })?;
    let fport = objects::create(db, fport).await?;
    let fip = match objects::create(db, fip).await {
        Ok(f) => f,
        Err(e) => {
            let _ = objects::delete(db, LogicalPort::TABLE, &fport.id).await;
            return Err(e);
        }
    };
    print_obj(
        g,
        &fip,
        Some(format!("created floating IP {}", fip.floating_ip_address)),
    );
    Ok(())
}

/// The fixed port, fixed address and router of an association.
async fn association(db: &dyn Db, a: &FipCreate, port: &str) -> Result<(String, IpAddr, String)> {
    let p = objects::resolve::<LogicalPort>(db, port).await?;
    let fixed = match a.fixed_ip {
        Some(ip) if p.obj.ips.contains(&ip) => ip,
        Some(ip) => fail!(
            "port `{}` does not have address {ip} (it has {}); pick one of its addresses",
            label(&p.obj),
            list_or_none(&p.obj.ips)
        ),
        None => match p.obj.ips.iter().find(|ip| ip.is_ipv4()) {
            Some(ip) => *ip,
            None => fail!(
                "port `{}` has no IPv4 address to map the floating IP to",
                label(&p.obj)
            ),
        },
    };
    if let Some(other) = objects::list::<FloatingIp>(db)
        .await?
        .into_iter()
        .find(|f| {
            f.obj.lport.as_deref() == Some(p.obj.id.as_str())
                && f.obj.fixed_ip_address == Some(fixed)
        })
    {
        fail!(
            "address {fixed} of port `{}` already has floating IP {}",
            label(&p.obj),
            other.obj.floating_ip_address
        );
    }
    let router = match &a.router {
        Some(r) => objects::resolve::<LogicalRouter>(db, r).await?.obj.id,
        None => {
            let candidates: Vec<Stored<LogicalRouter>> = objects::list::<LogicalRouter>(db)
                .await?
                .into_iter()
                .filter(|r| {
                    r.obj
                        .ports
                        .iter()
                        .any(|rp| rp.lswitch == p.obj.lswitch && rp.network.contains(fixed))
                })
                .collect();
            match candidates.as_slice() {
                [one] => one.obj.id.clone(),
                [] => fail!(
                    "no router has an interface on the subnet of {fixed} (port `{}`); add one with `dfctl router add-interface`, or pass --router",
                    label(&p.obj)
                ),
                many => {
                    let names: Vec<String> = many.iter().map(|r| label(&r.obj)).collect();
                    fail!(
                        "routers {} all reach {fixed}; pick one with --router",
                        names.join(", ")
                    )
                }
            }
        }
    };
    Ok((p.obj.id, fixed, router))
}

fn list_or_none(ips: &[IpAddr]) -> String {
    if ips.is_empty() {
        "none".into()
    } else {
        ips.iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(", ")
    }
}

fn now_unix() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

fn service_json(s: &Service, now: f64) -> Value {
    json!({
        "id": s.id,
        "binary": s.binary,
        "alive": s.is_alive(now, SERVICE_DOWN_TIME_SECS),
        "last_seen_up": s.last_seen_up,
        "disabled": s.disabled,
        "disabled_reason": s.disabled_reason,
    })
}

fn service_text(s: &Service, now: f64) -> String {
    let state = if s.disabled {
        "disabled"
    } else if s.is_alive(now, SERVICE_DOWN_TIME_SECS) {
        "alive"
    } else {
        "down"
    };
    let age = s.last_seen_up.map_or(String::new(), |t| {
        format!(", seen {:.0} s ago", (now - t).max(0.0))
    });
    format!("{} {state}{age}", s.binary)
}

/// Runs a `chassis` subcommand.
///
/// # Errors
/// Not found, store errors.
pub async fn chassis(g: &Global, cmd: ChassisCommand) -> Result<()> {
    let db = crate::db::open(g).await?;
    let db = db.as_ref();
    let now = now_unix();
    let services = objects::list::<Service>(db).await?;
    let of = |c: &str| -> Vec<&Service> {
        services
            .iter()
            .map(|s| &s.obj)
            .filter(|s| s.chassis == c)
            .collect()
    };
    match cmd {
        ChassisCommand::List => {
            let all = objects::list::<Chassis>(db).await?;
            if g.json {
                let v: Vec<Value> = all
                    .iter()
                    .map(|c| {
                        let mut v = serde_json::to_value(&c.obj).unwrap_or(Value::Null);
                        let svc: Vec<Value> =
                            of(&c.obj.id).iter().map(|s| service_json(s, now)).collect();
                        if let Value::Object(m) = &mut v {
                            m.insert("services".into(), Value::Array(svc));
                        }
                        v
                    })
                    .collect();
                out::print_json(&Value::Array(v));
                return Ok(());
            }
            let rows: Vec<Vec<String>> = all
                .iter()
                .map(|c| {
                    let c = &c.obj;
                    let tunnels: Vec<String> =
                        c.tunnel_types.iter().map(ToString::to_string).collect();
                    let svc: Vec<String> = of(&c.id).iter().map(|s| service_text(s, now)).collect();
                    vec![
                        c.id.clone(),
                        c.ip.to_string(),
                        tunnels.join(","),
                        if svc.is_empty() {
                            "-".into()
                        } else {
                            svc.join("; ")
                        },
                    ]
                })
                .collect();
            out::print(&out::table(&["ID", "IP", "TUNNELS", "SERVICES"], &rows));
            Ok(())
        }
        ChassisCommand::Show { chassis } => {
            let Some(c) = objects::get::<Chassis>(db, &chassis).await? else {
                fail!("chassis `{chassis}` not found: no chassis has that id (see `dfctl chassis list`)");
            };
            let bound: Vec<String> = objects::list::<LogicalPort>(db)
                .await?
                .iter()
                .filter(|p| p.obj.chassis() == Some(chassis.as_str()))
                .map(|p| label(&p.obj))
                .collect();
            if g.json {
                let mut v = serde_json::to_value(&c.obj)?;
                if let Value::Object(m) = &mut v {
                    let svc: Vec<Value> =
                        of(&chassis).iter().map(|s| service_json(s, now)).collect();
                    m.insert("services".into(), Value::Array(svc));
                    m.insert("ports".into(), Value::from(bound));
                }
                out::print_json(&v);
                return Ok(());
            }
            print_obj(g, &c.obj, None);
            let svc: Vec<String> = of(&chassis).iter().map(|s| service_text(s, now)).collect();
            out::print(&format!(
                "services: {}\nports:    {}",
                if svc.is_empty() {
                    "-".into()
                } else {
                    svc.join("; ")
                },
                if bound.is_empty() {
                    "-".into()
                } else {
                    bound.join(", ")
                }
            ));
            Ok(())
        }
    }
}
