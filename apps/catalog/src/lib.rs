//! The catalog: the one place that lists every app type the graph compiler
//! can instantiate (like VPP's feature list; no registration by linker
//! magic), plus the layouts shipped in `etc/layouts/`.
//!
//! To add an app: write its crate under `apps/`, add it to this crate's
//! dependencies and one line to [`APP_TYPES`].
#![forbid(unsafe_code)]

use df_dp::graph::DefaultEdge;
use df_dp::{AppType, AppTypeOf, Graph, GraphErrors, Layout, RcuDomain};

static DHCP: AppTypeOf<df_app_dhcp::DhcpApp> = AppTypeOf::new();
static FIREWALL: AppTypeOf<df_app_firewall::FirewallApp> = AppTypeOf::new();
static INPUT: AppTypeOf<df_app_input::InputApp> = AppTypeOf::new();
static L2: AppTypeOf<df_app_l2::L2App> = AppTypeOf::new();
static L3: AppTypeOf<df_app_l3::L3App> = AppTypeOf::new();
static NAT: AppTypeOf<df_app_nat::NatApp> = AppTypeOf::new();
static OUTPUT: AppTypeOf<df_app_output::OutputApp> = AppTypeOf::new();
static PORTSEC: AppTypeOf<df_app_portsec::PortsecApp> = AppTypeOf::new();
static PROVIDER: AppTypeOf<df_app_provider::ProviderApp> = AppTypeOf::new();
static SG: AppTypeOf<df_app_sg::SgApp> = AppTypeOf::new();
static TUNNEL: AppTypeOf<df_app_tunnel::TunnelApp> = AppTypeOf::new();
static XCONNECT: AppTypeOf<df_app_xconnect::XconnectApp> = AppTypeOf::new();

/// Every app type, by the name the layout's `type:` uses.
pub static APP_TYPES: &[&dyn AppType] = &[
    &DHCP, &FIREWALL, &INPUT, &L2, &L3, &NAT, &OUTPUT, &PORTSEC, &PROVIDER, &SG, &TUNNEL, &XCONNECT,
];

/// Where exits a layout leaves unwired go: the egress path Dragonflow kept
/// in fixed tables (ingress security groups, tables 105/110, then dispatch
/// to the destination port, table 115), which a layout need not spell out
/// (the seed's does not). Traffic delivered to a port crosses the ingress
/// security groups when the layout has an `sg` vertex; the switch's own
/// answers (ARP/ND, DHCP, ICMP from the router, rejects) go straight out. `dfctl show graph`
/// marks these edges `(default)` and the vertices they create `(implicit)`.
pub static DEFAULT_EDGES: &[DefaultEdge] = &[
    DefaultEdge {
        app_type: "l2",
        exit: "unicast",
        targets: &[("sg", "ingress", false), ("output", "default", true)],
    },
    DefaultEdge {
        app_type: "l2",
        exit: "reply",
        targets: &[("output", "default", true)],
    },
    DefaultEdge {
        app_type: "l2",
        exit: "dhcp",
        targets: &[("dhcp", "default", true)],
    },
    DefaultEdge {
        app_type: "dhcp",
        exit: "pass",
        targets: &[("l2", "lookup", false)],
    },
    DefaultEdge {
        app_type: "l2",
        exit: "flood",
        targets: &[("sg", "ingress", false), ("output", "default", true)],
    },
    DefaultEdge {
        app_type: "l3-proactive",
        exit: "forward",
        targets: &[("sg", "ingress", false), ("output", "default", true)],
    },
    DefaultEdge {
        app_type: "l3-proactive",
        exit: "local-reply",
        targets: &[("output", "default", true)],
    },
    DefaultEdge {
        app_type: "sg",
        exit: "ingress-accept",
        targets: &[("output", "default", true)],
    },
    DefaultEdge {
        app_type: "firewall",
        exit: "reject-reply",
        targets: &[("output", "default", true)],
    },
    DefaultEdge {
        app_type: "firewall",
        exit: "reject-route",
        targets: &[("l3-proactive", "route", false)],
    },
    DefaultEdge {
        app_type: "dhcp",
        exit: "reply",
        targets: &[("output", "default", true)],
    },
    DefaultEdge {
        app_type: "xconnect",
        exit: "default",
        targets: &[("output", "default", true)],
    },
    // Frames from physical-network uplinks: classified by VLAN, then
    // switched like any other (the seed wires only provider's exit).
    DefaultEdge {
        app_type: "input",
        exit: "provider",
        targets: &[("provider", "default", true)],
    },
    DefaultEdge {
        app_type: "provider",
        exit: "default",
        targets: &[("l2", "default", false)],
    },
    // The overlay (Dragonflow's table 75 tunnel output and table 0/100
    // tunnel ingress): destinations on other chassis are encapsulated;
    // decapsulated frames are switched by MAC in their network.
    DefaultEdge {
        app_type: "output",
        exit: "remote",
        targets: &[("tunnel", "encap", true)],
    },
    DefaultEdge {
        app_type: "tunnel",
        exit: "decap",
        targets: &[("l2", "default", false)],
    },
    // Floating IPs (Dragonflow's dnat, tables 60/76/77): what the router
    // cannot route east-west leaves through its floating IP onto the
    // external network; what reaches a floating IP's port is translated to
    // the fixed port and switched again so its security groups apply.
    DefaultEdge {
        app_type: "l3-proactive",
        exit: "external",
        targets: &[("nat", "egress", true)],
    },
    DefaultEdge {
        app_type: "output",
        exit: "nat",
        targets: &[("nat", "ingress", true)],
    },
    DefaultEdge {
        app_type: "nat",
        exit: "external",
        targets: &[("l2", "default", false)],
    },
    DefaultEdge {
        app_type: "nat",
        exit: "internal",
        targets: &[("l2", "lookup", false)],
    },
];

/// The default layout: input -> l2 -> output.
pub const DEFAULT_LAYOUT: &str = include_str!("../../../etc/layouts/default.yaml");
/// The framework-cost layout used by the `io` benchmark: input -> xconnect -> output.
pub const IO_LAYOUT: &str = include_str!("../../../etc/layouts/io.yaml");
/// The datapath of the seed document (Dragonflow's application-decoupling graph).
pub const SEED_LAYOUT: &str = include_str!("../../../etc/layouts/seed.yaml");

/// The app type named `name`.
pub fn app_type(name: &str) -> Option<&'static dyn AppType> {
    APP_TYPES
        .iter()
        .copied()
        .find(|t| t.contract().type_name == name)
}

/// Parses and compiles a layout with this catalog.
///
/// # Errors
/// Every problem in the layout, one per line.
pub fn compile_layout(text: &str, rcu: &RcuDomain) -> Result<Graph, GraphErrors> {
    let layout = Layout::parse(text)?;
    df_dp::graph::compile_with_defaults(&layout, APP_TYPES, DEFAULT_EDGES, rcu)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unwired_exits_take_their_default_edges() {
        let g = compile_layout(
            "vertices:\n  input: {type: input}\n  l2: {type: l2}\nedges:\n  input.out.vm-egress: l2.in.default\n",
            &RcuDomain::new(),
        )
        .unwrap();
        let text = g.describe();
        assert!(
            text.contains("out.unicast -> output.in.default (default)"),
            "{text}"
        );
        assert!(
            text.contains("out.flood -> output.in.default (default)"),
            "{text}"
        );
        assert!(
            text.contains("vertex output (type output) (implicit)"),
            "{text}"
        );
        assert!(
            text.contains("out.provider -> provider.in.default (default)")
                && text.contains("vertex provider (type provider) (implicit)"),
            "uplink traffic reaches a provider vertex, which hands it to l2: {text}"
        );
        // Two vertices of the target type make the default ambiguous.
        let e = compile_layout(
            "vertices:\n  input: {type: input}\n  l2: {type: l2}\n  o1: {type: output}\n  o2: {type: output}\nedges:\n  input.out.vm-egress: l2.in.default\n  l2.out.unicast: o1.in.default\n",
            &RcuDomain::new(),
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("exit `l2.out.flood` is unwired and its default target, app type `output`, has several vertices in the layout: wire the exit explicitly"), "{e}");
    }

    #[test]
    fn every_contract_is_consistent_and_names_are_unique() {
        for (i, t) in APP_TYPES.iter().enumerate() {
            t.contract().validate().unwrap();
            let n = t.contract().type_name;
            assert!(
                APP_TYPES[..i].iter().all(|o| o.contract().type_name != n),
                "{n} listed twice"
            );
            assert!(app_type(n).is_some());
        }
    }
}
