//! The schema of the model as data and as text: Dragonflow's `df-model`
//! plaintext print, for `dfctl` and documentation.
//!
//! Why hand-written: the text reads better than anything derived from serde,
//! and notes what a type name cannot say (units, defaults, where a reference
//! points). The test `schema_matches_structs` keeps it in step with the
//! structs: every JSON key of every fixture object must be listed here, and
//! every field listed here must appear in some fixture.

use std::fmt::Write as _;

use crate::object::table_info;

/// One field of a table or embedded type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FieldSchema {
    /// JSON name.
    pub name: &'static str,
    /// Type, with `?` for optional and `= x` for a default.
    pub ty: &'static str,
}

/// A table, or a type embedded in one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TypeSchema {
    /// Table name, or the Rust name of an embedded type.
    pub name: &'static str,
    /// `None` for a table; for an embedded type, where it appears.
    pub embedded_in: Option<&'static str>,
    /// One line on what it is.
    pub doc: &'static str,
    /// Its fields, in struct order.
    pub fields: &'static [FieldSchema],
}

const fn f(name: &'static str, ty: &'static str) -> FieldSchema {
    FieldSchema { name, ty }
}

const fn table(
    name: &'static str,
    doc: &'static str,
    fields: &'static [FieldSchema],
) -> TypeSchema {
    TypeSchema {
        name,
        embedded_in: None,
        doc,
        fields,
    }
}

const fn embedded(
    name: &'static str,
    at: &'static str,
    doc: &'static str,
    fields: &'static [FieldSchema],
) -> TypeSchema {
    TypeSchema {
        name,
        embedded_in: Some(at),
        doc,
        fields,
    }
}

const ID: FieldSchema = f("id", "string");
const TOPIC: FieldSchema = f("topic", "string (project id)");
const NAME: FieldSchema = f("name", "string?");
const VERSION: FieldSchema = f("version", "u64?");
const UNIQUE_KEY: FieldSchema = f("unique_key", "u32? (allocated by the store)");

/// Every table (in [`crate::TABLES`] order), each followed by its embedded types.
pub const SCHEMA: &[TypeSchema] = &[
    table(
        "chassis",
        "a host running dfswitchd; id = host name",
        &[
            ID,
            f("ip", "ip"),
            f("external_host_ip", "ip?"),
            f("tunnel_types", "[enum vxlan|geneve|gre] (non-empty)"),
        ],
    ),
    table(
        "publisher",
        "a pub/sub publisher endpoint",
        &[
            ID,
            NAME,
            f("uri", "string? (scheme://address)"),
            f("last_activity_timestamp", "f64? (epoch seconds)"),
        ],
    ),
    table(
        "listener",
        "a Neutron server heartbeat; topic listener_<id>",
        &[
            ID,
            f("timestamp", "f64? (epoch seconds)"),
            f("ppid", "u32?"),
        ],
    ),
    table(
        "service",
        "a service on a chassis, with heartbeat",
        &[
            ID,
            f("chassis", "ref chassis"),
            f("binary", "string"),
            f("last_seen_up", "f64? (epoch seconds)"),
            f("disabled", "bool = false"),
            f("disabled_reason", "string?"),
        ],
    ),
    table(
        "qospolicy",
        "a QoS policy",
        &[ID, TOPIC, NAME, VERSION, f("rules", "[QosPolicyRule]")],
    ),
    embedded(
        "QosPolicyRule",
        "qospolicy.rules",
        "one rule; at most one per type",
        &[
            ID,
            f("type", "enum bandwidth_limit|dscp_marking"),
            f("dscp_mark", "u32?"),
            f("max_kbps", "u64?"),
            f("max_burst_kbps", "u64?"),
            f("direction", "enum egress?"),
        ],
    ),
    table(
        "lswitch",
        "a logical network; unique key = network key",
        &[
            ID,
            TOPIC,
            NAME,
            VERSION,
            UNIQUE_KEY,
            f("is_external", "bool = false"),
            f("mtu", "u32? (68..=65535)"),
            f("segmentation_id", "u32? (VLAN id / VNI / key)"),
            f("network_type", "enum local|flat|vlan|vxlan|geneve|gre?"),
            f("physical_network", "string? (flat, vlan)"),
            f("qos_policy", "ref qospolicy?"),
        ],
    ),
    table(
        "lsubnet",
        "a subnet of a logical network",
        &[
            ID,
            TOPIC,
            NAME,
            VERSION,
            f("enable_dhcp", "bool = true"),
            f("dhcp_ip", "ip?"),
            f("cidr", "cidr (no host bits)"),
            f("gateway_ip", "ip? (inside cidr)"),
            f("dns_nameservers", "[ip]"),
            f("host_routes", "[HostRoute]"),
            f("lswitch", "ref lswitch"),
        ],
    ),
    embedded(
        "HostRoute",
        "lsubnet.host_routes, lrouter.routes, bgp_speaker.*_routes",
        "a static route",
        &[f("destination", "cidr (no host bits)"), f("nexthop", "ip")],
    ),
    table(
        "secgroup",
        "a security group; unique key = group key",
        &[
            ID,
            TOPIC,
            NAME,
            VERSION,
            UNIQUE_KEY,
            f("rules", "[SecurityGroupRule]"),
            f("description", "string?"),
        ],
    ),
    embedded(
        "SecurityGroupRule",
        "secgroup.rules",
        "an allow rule",
        &[
            ID,
            f("topic", "string?"),
            VERSION,
            f("direction", "enum ingress|egress"),
            f("ethertype", "enum IPv4|IPv6"),
            f("port_range_max", "u32? (port or ICMP code)"),
            f("port_range_min", "u32? (port or ICMP type)"),
            f("protocol", "protocol? (name or 0..=255)"),
            f("remote_group_id", "string? (a secgroup id)"),
            f("remote_ip_prefix", "cidr?"),
            f("security_group_id", "string? (the owning group)"),
        ],
    ),
    table(
        "lport",
        "a logical port; unique key = port key",
        &[
            ID,
            TOPIC,
            NAME,
            VERSION,
            UNIQUE_KEY,
            f("ips", "[ip]"),
            f("subnets", "[ref lsubnet]"),
            f("macs", "[mac] (unicast)"),
            f("enabled", "bool = true"),
            f("binding", "PortBinding?"),
            f("lswitch", "ref lswitch"),
            f("security_groups", "[ref secgroup]"),
            f("allowed_address_pairs", "[AddressPair]"),
            f("port_security_enabled", "bool = true"),
            f("device_owner", "string? (network:dhcp, compute:*, ...)"),
            f("device_id", "string?"),
            f("qos_policy", "ref qospolicy?"),
            f("dhcp_params", "DhcpParams?"),
            f("binding_vnic_type", "string? (normal, direct, ...)"),
        ],
    ),
    embedded(
        "PortBinding",
        "lport.binding",
        "where the port is",
        &[
            f("type", "enum chassis|vtep"),
            f("chassis", "ref chassis? (type chassis)"),
            f("vtep_address", "ip? (type vtep)"),
        ],
    ),
    embedded(
        "AddressPair",
        "lport.allowed_address_pairs",
        "an extra (ip, mac) the port may use",
        &[f("ip_address", "ip"), f("mac_address", "mac")],
    ),
    embedded(
        "DhcpParams",
        "lport.dhcp_params",
        "per-port DHCP extras",
        &[f("opts", "map tag (1..=254) -> string"), f("siaddr", "ip?")],
    ),
    table(
        "lrouter",
        "a distributed router; unique key = router key",
        &[
            ID,
            TOPIC,
            NAME,
            VERSION,
            UNIQUE_KEY,
            f("ports", "[LogicalRouterPort]"),
            f("routes", "[HostRoute]"),
        ],
    ),
    embedded(
        "LogicalRouterPort",
        "lrouter.ports",
        "an interface; id = its lport id",
        &[
            ID,
            f("topic", "string?"),
            f("unique_key", "u32? (the lport's)"),
            f("mac", "mac"),
            f("lswitch", "ref lswitch"),
            f("network", "cidr (interface address/prefix)"),
        ],
    ),
    table(
        "floatingip",
        "a floating IP (IPv4)",
        &[
            ID,
            TOPIC,
            NAME,
            VERSION,
            f("floating_ip_address", "ip (IPv4)"),
            f("fixed_ip_address", "ip? (when associated)"),
            f("lport", "ref lport? (fixed port)"),
            f("floating_lport", "ref lport?"),
            f("lrouter", "ref lrouter?"),
        ],
    ),
    table(
        "activeport",
        "the lport currently using an allowed-address-pair IP",
        &[
            ID,
            TOPIC,
            f("ip", "ip?"),
            f("network", "ref lswitch?"),
            f("detected_mac", "mac?"),
            f("detected_lport", "ref lport?"),
        ],
    ),
    table(
        "migration",
        "live-migration progress; id = lport id",
        &[
            ID,
            f("dest_chassis", "ref chassis?"),
            f("lport", "ref lport?"),
            f("status", "enum dest_plug|src_unplug|rebound"),
        ],
    ),
    table(
        "child_port_segmentation",
        "a trunk sub-port inside its parent",
        &[
            ID,
            TOPIC,
            f("parent", "ref lport"),
            f("port", "ref lport"),
            f("segmentation_type", "enum vlan|macvlan|ipvlan"),
            f("segmentation_id", "u32 (VLAN id)"),
        ],
    ),
    table(
        "switch_port",
        "a local switch interface (local only, never stored)",
        &[
            ID,
            NAME,
            f("port_num", "u32?"),
            f("admin_state", "enum up|down?"),
            f("lport", "ref lport?"),
            f("type", "enum bridge|patch|compute|tunnel|unknown?"),
            f("peer", "string?"),
            f("mac_in_use", "mac?"),
            f("attached_mac", "mac?"),
            f("tunnel_type", "string?"),
        ],
    ),
    table(
        "sfc_portpair",
        "a service function's ingress and egress ports",
        &[
            ID,
            TOPIC,
            NAME,
            f("ingress_port", "ref lport"),
            f("egress_port", "ref lport"),
            f("correlation_mechanism", "enum none|mpls?"),
            f("weight", "f64? (> 0)"),
        ],
    ),
    table(
        "sfc_portpairgroup",
        "load-balanced port pairs",
        &[ID, TOPIC, NAME, f("port_pairs", "[ref sfc_portpair]")],
    ),
    table(
        "sfc_flowclassifier",
        "traffic entering a chain; unique key = classifier key",
        &[
            ID,
            TOPIC,
            NAME,
            UNIQUE_KEY,
            f("ether_type", "enum IPv4|IPv6?"),
            f("protocol", "protocol? (tcp|udp)"),
            f("source_cidr", "cidr?"),
            f("dest_cidr", "cidr?"),
            f("source_transport_ports", "port-range? [min, max]"),
            f("dest_transport_ports", "port-range? [min, max]"),
            f("source_port", "ref lport? (xor dest_port)"),
            f("dest_port", "ref lport? (xor source_port)"),
        ],
    ),
    table(
        "sfc_portchain",
        "ordered port-pair groups plus classifiers",
        &[
            ID,
            TOPIC,
            NAME,
            f("protocol", "enum mpls?"),
            f("chain_id", "u32? (1..=65535)"),
            f("port_pair_groups", "[ref sfc_portpairgroup] (ordered)"),
            f("flow_classifiers", "[ref sfc_flowclassifier]"),
        ],
    ),
    table(
        "bgp_peer",
        "a BGP neighbour",
        &[
            ID,
            TOPIC,
            NAME,
            f("peer_ip", "ip"),
            f("remote_as", "u32 (>= 1)"),
            f("auth_type", "string? (none|md5)"),
            f("password", "string?"),
        ],
    ),
    table(
        "bgp_speaker",
        "a BGP speaker and the routes it advertises",
        &[
            ID,
            TOPIC,
            NAME,
            f("local_as", "u32 (>= 1)"),
            f("peers", "[ref bgp_peer]"),
            f("host_routes", "[HostRoute] (host prefixes)"),
            f("prefix_routes", "[HostRoute]"),
            f("ip_version", "ip-version 4|6"),
        ],
    ),
    table(
        "firewall_rule",
        "an FWaaS v2 rule (spec only in Dragonflow)",
        &[
            ID,
            TOPIC,
            NAME,
            VERSION,
            f("action", "enum allow|deny|reject"),
            f("protocol", "protocol?"),
            f("ip_version", "ip-version 4|6"),
            f("source_ip_address", "cidr?"),
            f("destination_ip_address", "cidr?"),
            f("source_port", "port-range? [min, max]"),
            f("destination_port", "port-range? [min, max]"),
            f("enabled", "bool = true"),
        ],
    ),
    table(
        "firewall_policy",
        "an ordered FWaaS v2 rule list",
        &[
            ID,
            TOPIC,
            NAME,
            VERSION,
            f("firewall_rules", "[ref firewall_rule] (ordered)"),
        ],
    ),
    table(
        "firewall_group",
        "binds FWaaS v2 policies to ports; unique key = group key",
        &[
            ID,
            TOPIC,
            NAME,
            VERSION,
            UNIQUE_KEY,
            f("ingress_firewall_policy", "ref firewall_policy?"),
            f("egress_firewall_policy", "ref firewall_policy?"),
            f("ports", "[ref lport]"),
            f("enabled", "bool = true"),
        ],
    ),
];

/// The schema of `name`: a table name or an embedded type's Rust name.
pub fn type_schema(name: &str) -> Option<&'static TypeSchema> {
    SCHEMA.iter().find(|t| t.name == name)
}

/// The whole schema as plain text, one section per table or embedded type.
pub fn schema_text() -> String {
    let mut out = String::from(
        "Dragonflow-RS NB model. Objects are JSON at /dragonflow/<table>/<id>;\n\
         `?` = optional, `= x` = default, `ref t` = id of an object of table t.\n",
    );
    for t in SCHEMA {
        out.push('\n');
        match (t.embedded_in, table_info(t.name)) {
            (Some(at), _) => {
                let _ = writeln!(out, "embedded {} (in {at}): {}", t.name, t.doc);
            }
            (None, info) => {
                let mut flags = Vec::new();
                if let Some(i) = info {
                    if i.has_unique_key {
                        flags.push("unique key");
                    }
                    if !i.stored {
                        flags.push("local only");
                    }
                }
                let flags = if flags.is_empty() {
                    String::new()
                } else {
                    format!(" [{}]", flags.join(", "))
                };
                let _ = writeln!(out, "table {}{flags}: {}", t.name, t.doc);
            }
        }
        for field in t.fields {
            let _ = writeln!(out, "  {:<26} {}", field.name, field.ty);
        }
    }
    out
}
