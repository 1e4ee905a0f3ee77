//! The service apps' configs: `dhcp` (per local network: its DHCP server
//! ports, IPv4 subnets and the local clients) and `l3-proactive` (every
//! router with its interfaces and routes, and the ports of the networks
//! the routers sit in).
//!
//! DHCP is DHCPv4 only: IPv6 subnets and addresses are skipped without a
//! warning (they are not errors, the app has nothing to do with them).
//! A client the app would refuse (an address outside every subnet, or the
//! gateway's) is left out with a warning, so that one bad port does not
//! make the whole network's table refused.

use std::collections::{BTreeMap, BTreeSet};
use std::net::{IpAddr, Ipv4Addr};

use df_app_dhcp::{
    Dhcp6Network, Dhcp6Port, Dhcp6Subnet, DhcpClientPort, DhcpConfig, DhcpNetwork, DhcpServerPort,
    DhcpSubnet, ExtraOption, HostRoute, Ipv4Cidr, Ipv6Cidr, Ipv6Mode, Router6,
};
use df_app_l3::{AddressPair, ExtraRoute, L3Config, L3Network, L3Port, L3Router, RouterPort};
use df_model::{
    device_owner, IpNetwork, LogicalPort, LogicalRouter, LogicalSwitch, Snapshot, Subnet,
};
use df_wire::EthernetAddress;

use crate::compile::LocalPort;

/// The `dhcp` config for the networks with a local port.
pub(crate) fn dhcp(
    snap: &Snapshot,
    locals: &[LocalPort<'_>],
    warn: &mut Vec<String>,
) -> DhcpConfig {
    let mut by_net: BTreeMap<u32, Vec<&LocalPort<'_>>> = BTreeMap::new();
    for l in locals {
        by_net.entry(l.network_key).or_default().push(l);
    }
    let mut cfg = DhcpConfig::default();
    for (network_key, ports) in by_net {
        let sw_id = &ports[0].lport.lswitch;
        let Some(sw) = snap.get::<LogicalSwitch>(sw_id) else {
            continue; // compile() resolved it; unreachable in practice
        };
        let mut net = DhcpNetwork {
            network_key,
            mtu: sw.mtu.and_then(|m| u16::try_from(m).ok()),
            dhcp_ports: Vec::new(),
            subnets: Vec::new(),
            ports: Vec::new(),
        };
        for lp in snap.iter::<LogicalPort>() {
            if lp.lswitch != sw.id || lp.device_owner.as_deref() != Some(device_owner::DHCP) {
                continue;
            }
            let Some(mac) = lp.mac() else {
                warn.push(format!(
                    "DHCP port `{}` of lswitch `{}` has no MAC: it is left out of dhcp (give it a MAC)",
                    lp.id, sw.id
                ));
                continue;
            };
            net.dhcp_ports.push(DhcpServerPort {
                mac: EthernetAddress(mac.0),
                ips: lp.ips.iter().filter_map(|ip| v4(*ip)).collect(),
            });
        }
        for s in snap.iter::<Subnet>().filter(|s| s.lswitch == sw.id) {
            let Some(cidr) = cidr4(&s.cidr) else { continue };
            net.subnets.push(DhcpSubnet {
                cidr,
                gateway_ip: s.gateway_ip.and_then(v4),
                dns_nameservers: s.dns_nameservers.iter().filter_map(|ip| v4(*ip)).collect(),
                host_routes: s
                    .host_routes
                    .iter()
                    .filter_map(|r| {
                        Some(HostRoute {
                            destination: cidr4(&r.destination)?,
                            nexthop: v4(r.nexthop)?,
                        })
                    })
                    .collect(),
                enable_dhcp: s.enable_dhcp,
                domain_name: None,
                lease_time: None,
            });
        }
        for l in &ports {
            if let Some(c) = client(l, &net, warn) {
                net.ports.push(c);
            }
        }
        if let Some(n6) = ipv6(snap, sw, network_key, &ports) {
            cfg.ipv6_networks.push(n6);
        }
        cfg.networks.push(net);
    }
    cfg
}

/// The network's IPv6 services (Router Advertisements, DHCPv6), when it has
/// an IPv6 subnet: the router interface that advertises, the DHCP port
/// that serves, each subnet's modes and DNS servers, and the local ports'
/// IPv6 addresses.
fn ipv6(
    snap: &Snapshot,
    sw: &LogicalSwitch,
    network_key: u32,
    ports: &[&LocalPort<'_>],
) -> Option<Dhcp6Network> {
    let mode = |m: Option<df_model::Ipv6Mode>| {
        m.map(|m| match m {
            df_model::Ipv6Mode::Slaac => Ipv6Mode::Slaac,
            df_model::Ipv6Mode::Dhcpv6Stateful => Ipv6Mode::Dhcpv6Stateful,
            df_model::Ipv6Mode::Dhcpv6Stateless => Ipv6Mode::Dhcpv6Stateless,
        })
    };
    let subnets: Vec<Dhcp6Subnet> = snap
        .iter::<Subnet>()
        .filter(|s| s.lswitch == sw.id)
        .filter_map(|s| {
            let IpAddr::V6(addr) = s.cidr.addr() else {
                return None;
            };
            Some(Dhcp6Subnet {
                cidr: Ipv6Cidr {
                    addr,
                    prefix_len: s.cidr.prefix_len(),
                },
                ra_mode: mode(s.ipv6_ra_mode),
                address_mode: if s.enable_dhcp {
                    mode(s.ipv6_address_mode)
                } else {
                    None
                },
                dns_nameservers: s
                    .dns_nameservers
                    .iter()
                    .filter_map(|ip| match ip {
                        IpAddr::V6(a) => Some(*a),
                        IpAddr::V4(_) => None,
                    })
                    .collect(),
            })
        })
        .collect();
    if subnets.is_empty() {
        return None;
    }
    // The advertising router: an interface on this network with an IPv6
    // address.
    let router = snap.iter::<LogicalRouter>().find_map(|r| {
        r.ports
            .iter()
            .find(|p| p.lswitch == sw.id && p.network.addr().is_ipv6())
            .map(|p| {
                let mac = EthernetAddress(p.mac.0);
                Router6 {
                    mac,
                    link_local: df_app_dhcp::link_local(mac),
                }
            })
    });
    let server_mac = snap
        .iter::<LogicalPort>()
        .find(|lp| lp.lswitch == sw.id && lp.device_owner.as_deref() == Some(device_owner::DHCP))
        .and_then(LogicalPort::mac)
        .map(|m| EthernetAddress(m.0));
    let ports = ports
        .iter()
        .filter(|l| {
            !matches!(
                l.lport.device_owner.as_deref(),
                Some(device_owner::DHCP | device_owner::ROUTER_INTERFACE)
            )
        })
        .map(|l| Dhcp6Port {
            port_key: l.port_key,
            ips: l
                .lport
                .ips
                .iter()
                .filter_map(|ip| match ip {
                    IpAddr::V6(a) => Some(*a),
                    IpAddr::V4(_) => None,
                })
                .collect(),
        })
        .collect();
    Some(Dhcp6Network {
        network_key,
        router,
        server_mac,
        subnets,
        ports,
    })
}

/// A local port as a DHCP client, or `None` (with a warning when it is a
/// model problem, silently when the port simply has no IPv4 address).
fn client(l: &LocalPort<'_>, net: &DhcpNetwork, warn: &mut Vec<String>) -> Option<DhcpClientPort> {
    let lp = l.lport;
    if lp.device_owner.as_deref() == Some(device_owner::DHCP) {
        return None;
    }
    let ip = lp.ips.iter().find_map(|ip| v4(*ip))?;
    let Some(mac) = lp.mac() else {
        warn.push(format!(
            "lport `{}` has no MAC: it gets no DHCP answers (give it a MAC)",
            lp.id
        ));
        return None;
    };
    let Some(subnet) = net.subnets.iter().find(|s| s.cidr.contains(ip)) else {
        warn.push(format!(
            "lport `{}` has address {ip}, outside every IPv4 subnet of its lswitch `{}`: it gets no DHCP answers (create the subnet, or fix the port's ips)",
            lp.id, lp.lswitch
        ));
        return None;
    };
    let server = net.dhcp_ports.iter().any(|d| d.ips.contains(&ip));
    if subnet.gateway_ip == Some(ip) || server {
        warn.push(format!(
            "lport `{}` has address {ip}, its subnet's gateway or DHCP server address: it gets no DHCP answers (fix the port's ips)",
            lp.id
        ));
        return None;
    }
    let params = lp.dhcp_params.as_ref();
    let mut dhcp_options = Vec::new();
    for (&tag, value) in params.map(|p| &p.opts).into_iter().flatten() {
        match option(tag, value) {
            Some(o) => dhcp_options.push(o),
            None => warn.push(format!(
                "lport `{}` dhcp_params.opts[{tag}] = `{value}` cannot be sent (tags 3 and 6 take IPv4 addresses, tag 121 is not supported here): the option is left out (fix the value)",
                lp.id
            )),
        }
    }
    Some(DhcpClientPort {
        port_key: l.port_key,
        mac: EthernetAddress(mac.0),
        ip,
        dhcp_options,
        siaddr: params.and_then(|p| p.siaddr).and_then(v4),
        boot_file: None,
        rate_limit: None,
    })
}

/// One `dhcp_params.opts` entry (Dragonflow keeps values as text): tags 3
/// and 6 become address lists, the rest text.
fn option(tag: u8, value: &str) -> Option<ExtraOption> {
    let mut o = ExtraOption {
        tag,
        text: None,
        ips: None,
        hex: None,
        routes: None,
    };
    match tag {
        3 | 6 => {
            let ips: Option<Vec<Ipv4Addr>> =
                value.split(',').map(|s| s.trim().parse().ok()).collect();
            let ips = ips.filter(|v| !v.is_empty() && (tag == 6 || v.len() == 1))?;
            o.ips = Some(ips);
        }
        121 => return None,
        _ => o.text = Some(value.to_string()),
    }
    Some(o)
}

fn v4(ip: IpAddr) -> Option<Ipv4Addr> {
    match ip {
        IpAddr::V4(a) => Some(a),
        IpAddr::V6(_) => None,
    }
}

fn cidr4(n: &IpNetwork) -> Option<Ipv4Cidr> {
    Some(Ipv4Cidr {
        addr: v4(n.addr())?,
        prefix_len: n.prefix_len(),
    })
}

/// The `l3-proactive` config: every router, and the ports of every network
/// a router port sits in.
pub(crate) fn l3(snap: &Snapshot, warn: &mut Vec<String>) -> L3Config {
    let mut cfg = L3Config::default();
    let mut nets: BTreeSet<(u32, &str)> = BTreeSet::new();
    for r in snap.iter::<LogicalRouter>() {
        let Some(router_key) = r.unique_key else {
            warn.push(format!(
                "lrouter `{}` has no unique_key: it is left out of l3 (objects written without dfctl must carry one)",
                r.id
            ));
            continue;
        };
        let mut ports = Vec::new();
        for p in &r.ports {
            let Some(port_key) = p.unique_key else {
                warn.push(format!(
                    "lrouter `{}` port `{}` has no unique_key: the interface is left out (objects written without dfctl must carry one)",
                    r.id, p.id
                ));
                continue;
            };
            let Some(sw) = snap.get::<LogicalSwitch>(&p.lswitch) else {
                warn.push(format!(
                    "lrouter `{}` port `{}` refers to lswitch `{}`, which is not in the NB database: the interface is left out (create it, or fix the port's lswitch)",
                    r.id, p.id, p.lswitch
                ));
                continue;
            };
            let Some(network_key) = sw.unique_key else {
                warn.push(format!(
                    "lswitch `{}` has no unique_key: router `{}` port `{}` is left out (objects written without dfctl must carry one)",
                    sw.id, r.id, p.id
                ));
                continue;
            };
            nets.insert((network_key, sw.id.as_str()));
            ports.push(RouterPort {
                port_key,
                network_key,
                mac: p.mac.to_string(),
                ip: p.network.addr().to_string(),
                prefix_len: p.network.prefix_len(),
            });
        }
        cfg.routers.push(L3Router {
            router_key,
            external: false,
            ports,
            routes: r
                .routes
                .iter()
                .map(|h| ExtraRoute {
                    destination: h.destination.to_string(),
                    nexthop: h.nexthop.to_string(),
                })
                .collect(),
        });
    }
    for (network_key, sw_id) in nets {
        let mut ports = Vec::new();
        for lp in snap.iter::<LogicalPort>().filter(|lp| lp.lswitch == sw_id) {
            let (Some(port_key), Some(mac)) = (lp.unique_key, lp.mac()) else {
                warn.push(format!(
                    "lport `{}` has no unique_key or no MAC: it is left out of l3 network `{sw_id}` (create it with dfctl and give it a MAC)",
                    lp.id
                ));
                continue;
            };
            ports.push(L3Port {
                port_key,
                mac: mac.to_string(),
                ips: lp.ips.iter().map(ToString::to_string).collect(),
                allowed_address_pairs: lp
                    .allowed_address_pairs
                    .iter()
                    .map(|p| AddressPair {
                        ip: p.ip_address.to_string(),
                        mac: Some(p.mac_address.to_string()),
                    })
                    .collect(),
            });
        }
        cfg.networks.push(L3Network { network_key, ports });
    }
    cfg
}
