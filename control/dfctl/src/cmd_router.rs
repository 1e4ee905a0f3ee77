//! `dfctl router`: routers, their interfaces and extra routes.
//!
//! Why an interface is two writes: as in Dragonflow's Neutron driver, a
//! router interface is an lport on the subnet's network (owner
//! `network:router_interface`, the subnet's gateway address, its own MAC and
//! unique key) plus a `LogicalRouterPort` embedded in the router that copies
//! the lport's id, MAC and key. The lport is written first; if the router
//! update fails (say, an overlapping subnet) the lport is removed again.

use anyhow::Result;
use df_model::{
    device_owner, ExternalGateway, FloatingIp, HostRoute, IpNetwork, LogicalPort, LogicalRouter,
    LogicalRouterPort, LogicalSwitch, Model, Subnet,
};

use crate::cli::{Global, RouteArgs, RouterCommand};
use crate::cmd_network::{deleted, ports_of, print_obj, used_macs};
use crate::db::Db;
use crate::error::{fail, CliError};
use crate::objects::{self, label};
use crate::out;

/// Runs a `router` subcommand.
///
/// # Errors
/// Not found, in use, invalid, store errors.
pub async fn run(g: &Global, cmd: RouterCommand) -> Result<()> {
    let db = crate::db::open(g).await?;
    let db = db.as_ref();
    match cmd {
        RouterCommand::Create {
            name,
            id,
            external_gateway,
            disable_snat,
        } => {
            objects::check_name_free::<LogicalRouter>(db, &name).await?;
            let external_gateway = match external_gateway {
                None => None,
                Some(n) => {
                    let net = objects::resolve::<LogicalSwitch>(db, &n).await?;
                    if !net.obj.is_external {
                        fail!(
                            "network `{}` is not external; a router's gateway is a network created with `dfctl network create --external`",
                            label(&net.obj)
                        );
                    }
                    Some(ExternalGateway {
                        network: net.obj.id.clone(),
                        enable_snat: !disable_snat,
                    })
                }
            };
            let r = LogicalRouter {
                id: id.unwrap_or_else(objects::new_id),
                topic: g.topic.clone(),
                name: Some(name),
                version: None,
                unique_key: None,
                ports: Vec::new(),
                routes: Vec::new(),
                external_gateway,
            };
            let r = objects::create(db, r).await?;
            print_obj(g, &r, Some(format!("created router {}", label(&r))));
            Ok(())
        }
        RouterCommand::List => {
            let routers = objects::list::<LogicalRouter>(db).await?;
            if g.json {
                let v: Vec<&LogicalRouter> = routers.iter().map(|s| &s.obj).collect();
                out::print_json(&serde_json::to_value(v)?);
                return Ok(());
            }
            let rows: Vec<Vec<String>> = routers
                .iter()
                .map(|r| {
                    let r = &r.obj;
                    let ifs: Vec<String> = r.ports.iter().map(|p| p.network.to_string()).collect();
                    vec![
                        r.id.clone(),
                        r.name.clone().unwrap_or_default(),
                        if ifs.is_empty() {
                            "-".into()
                        } else {
                            ifs.join(",")
                        },
                        r.routes.len().to_string(),
                        r.unique_key.map_or("-".into(), |k| k.to_string()),
                    ]
                })
                .collect();
            out::print(&out::table(
                &["ID", "NAME", "INTERFACES", "ROUTES", "KEY"],
                &rows,
            ));
            Ok(())
        }
        RouterCommand::Show { router } => {
            let r = objects::resolve::<LogicalRouter>(db, &router).await?;
            print_obj(g, &r.obj, None);
            Ok(())
        }
        RouterCommand::Delete { router } => {
            let r = objects::resolve::<LogicalRouter>(db, &router).await?;
            if !r.obj.ports.is_empty() {
                let nets: Vec<String> = r.obj.ports.iter().map(|p| p.network.to_string()).collect();
                fail!(
                    "router `{}` still has interfaces ({}); remove them first with `dfctl router remove-interface`",
                    label(&r.obj),
                    nets.join(", ")
                );
            }
            let fips = fips_of(db, &r.obj.id).await?;
            if !fips.is_empty() {
                fail!(
                    "router `{}` does the NAT of floating IPs {}; delete them first",
                    label(&r.obj),
                    fips.join(", ")
                );
            }
            objects::delete(db, LogicalRouter::TABLE, &r.obj.id).await?;
            deleted(g, "router", &r.obj);
            Ok(())
        }
        RouterCommand::AddInterface { router, subnet } => {
            add_interface(g, db, &router, &subnet).await
        }
        RouterCommand::RemoveInterface { router, subnet } => {
            let r = objects::resolve::<LogicalRouter>(db, &router).await?;
            let s = objects::resolve::<Subnet>(db, &subnet).await?;
            let Some(port) = r
                .obj
                .ports
                .iter()
                .find(|p| p.lswitch == s.obj.lswitch && p.network.network() == s.obj.cidr.network())
                .cloned()
            else {
                fail!(
                    "router `{}` has no interface on subnet `{}` ({})",
                    label(&r.obj),
                    label(&s.obj),
                    s.obj.cidr
                );
            };
            if let Some(route) = r
                .obj
                .routes
                .iter()
                .find(|rt| s.obj.cidr.contains(rt.nexthop))
            {
                fail!(
                    "route {} via {} of router `{}` goes through this interface; delete it first with `dfctl router del-route`",
                    route.destination,
                    route.nexthop,
                    label(&r.obj)
                );
            }
            let r = objects::update::<LogicalRouter, _>(db, &r.obj.id, |r| {
                r.ports.retain(|p| p.id != port.id);
                Ok(())
            })
            .await?;
            if objects::get::<LogicalPort>(db, &port.id).await?.is_some() {
                objects::delete(db, LogicalPort::TABLE, &port.id).await?;
            }
            print_obj(
                g,
                &r,
                Some(format!(
                    "removed interface {} ({}) from router {}",
                    port.network,
                    label(&s.obj),
                    label(&r)
                )),
            );
            Ok(())
        }
        RouterCommand::AddRoute(a) => route(g, db, a, true).await,
        RouterCommand::DelRoute(a) => route(g, db, a, false).await,
    }
}

async fn add_interface(g: &Global, db: &dyn Db, router: &str, subnet: &str) -> Result<()> {
    let r = objects::resolve::<LogicalRouter>(db, router).await?;
    let s = objects::resolve::<Subnet>(db, subnet).await?;
    let Some(gw) = s.obj.gateway_ip else {
        fail!(
            "subnet `{}` has no gateway address, which the router interface takes; recreate it with --gateway",
            label(&s.obj)
        );
    };
    if r.obj
        .ports
        .iter()
        .any(|p| p.network.network() == s.obj.cidr.network())
    {
        fail!(
            "router `{}` already has an interface on subnet `{}`",
            label(&r.obj),
            label(&s.obj)
        );
    }
    let ports = ports_of(db, &s.obj.lswitch).await?;
    if let Some(p) = ports.iter().find(|p| p.obj.ips.contains(&gw)) {
        fail!(
            "the gateway {gw} of subnet `{}` is already used by port `{}` (owner {}); remove that first",
            label(&s.obj),
            label(&p.obj),
            p.obj.device_owner.as_deref().unwrap_or("-")
        );
    }
    let network = IpNetwork::new(gw, s.obj.cidr.prefix_len())
        .map_err(|e| CliError::Failed(format!("subnet `{}`: {e}", label(&s.obj))))?;
    let lport = LogicalPort {
        id: objects::new_id(),
        topic: r.obj.topic.clone(),
        name: None,
        version: None,
        unique_key: None,
        ips: vec![gw],
        subnets: vec![s.obj.id.clone()],
        macs: vec![objects::new_mac(&used_macs(&ports))],
        enabled: true,
        binding: None,
        lswitch: s.obj.lswitch.clone(),
        security_groups: Vec::new(),
        allowed_address_pairs: Vec::new(),
        port_security_enabled: false,
        device_owner: Some(device_owner::ROUTER_INTERFACE.to_string()),
        device_id: Some(r.obj.id.clone()),
        qos_policy: None,
        dhcp_params: None,
        binding_vnic_type: None,
    };
    let lport = objects::create(db, lport).await?;
    let Some(mac) = lport.mac() else {
        fail!("the interface port `{}` has no MAC", lport.id);
    };
    let rport = LogicalRouterPort {
        id: lport.id.clone(),
        topic: Some(r.obj.topic.clone()),
        unique_key: lport.unique_key,
        mac,
        lswitch: s.obj.lswitch.clone(),
        network,
    };
    let updated = objects::update::<LogicalRouter, _>(db, &r.obj.id, |r| {
        r.ports.push(rport.clone());
        Ok(())
    })
    .await;
    let r = match updated {
        Ok(r) => r,
        Err(e) => {
            let _ = objects::delete(db, LogicalPort::TABLE, &lport.id).await;
            return Err(e);
        }
    };
    print_obj(
        g,
        &r,
        Some(format!(
            "added interface {network} (port {}, subnet {}) to router {}",
            lport.id,
            label(&s.obj),
            label(&r)
        )),
    );
    Ok(())
}

async fn route(g: &Global, db: &dyn Db, a: RouteArgs, add: bool) -> Result<()> {
    let r = objects::resolve::<LogicalRouter>(db, &a.router).await?;
    let hr = HostRoute {
        destination: a.destination,
        nexthop: a.nexthop,
    };
    let name = label(&r.obj);
    let r = objects::update::<LogicalRouter, _>(db, &r.obj.id, |r| {
        let exists = r.routes.contains(&hr);
        if add {
            if exists {
                fail!(
                    "router `{name}` already has route {} via {}",
                    hr.destination,
                    hr.nexthop
                );
            }
            if !r.ports.iter().any(|p| p.network.contains(hr.nexthop)) {
                let ifs: Vec<String> = r.ports.iter().map(|p| p.network.to_string()).collect();
                fail!(
                    "nexthop {} is not on any interface of router `{name}` (interfaces: {}); add an interface on its subnet first",
                    hr.nexthop,
                    if ifs.is_empty() { "none".into() } else { ifs.join(", ") }
                );
            }
            r.routes.push(hr.clone());
        } else {
            if !exists {
                fail!(
                    "router `{name}` has no route {} via {}",
                    hr.destination,
                    hr.nexthop
                );
            }
            r.routes.retain(|x| x != &hr);
        }
        Ok(())
    })
    .await?;
    let verb = if add {
        "added route to"
    } else {
        "removed route from"
    };
    print_obj(g, &r, Some(format!("{verb} router {}", label(&r))));
    Ok(())
}

/// The addresses of the floating IPs a router NATs.
async fn fips_of(db: &dyn Db, router: &str) -> Result<Vec<String>> {
    Ok(objects::list::<FloatingIp>(db)
        .await?
        .into_iter()
        .filter(|f| f.obj.lrouter.as_deref() == Some(router))
        .map(|f| f.obj.floating_ip_address.to_string())
        .collect())
}
