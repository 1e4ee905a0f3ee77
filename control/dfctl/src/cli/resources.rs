//! The resource subcommands: network, subnet, port, router, security
//! group, floating IP, chassis. Each command names its model table in its
//! help and carries examples.

use std::net::IpAddr;

use clap::{Args, Subcommand, ValueEnum};
use df_model::{IpNetwork, Ipv6Mode, Mac, NetworkType};

use super::{parse_mac, parse_net};

// ---------------------------------------------------------------- network

const NETWORK_EXAMPLES: &str = "\
Examples:
  dfctl network create net1
  dfctl network create net1 --mtu 1450 --network-type vxlan --segmentation-id 1001
  dfctl network create physnet --network-type vlan --segmentation-id 100 --physical-network physnet1
  dfctl network create public --external --network-type flat --physical-network ext
  dfctl network list
  dfctl network show net1
  dfctl network delete net1";

/// Networks.
#[derive(Debug, Subcommand)]
#[command(after_help = NETWORK_EXAMPLES)]
pub enum NetworkCommand {
    /// Create a network. Without --network-type it is a geneve network whose VNI is its unique key; a geneve or vxlan network's MTU defaults to 1450 (1500 on the underlay less the 50 bytes of tunnel headers), which DHCP advertises.
    #[command(after_help = NETWORK_EXAMPLES)]
    Create(NetworkCreate),
    /// List networks.
    #[command(after_help = NETWORK_EXAMPLES)]
    List,
    /// Show a network, its subnets and ports.
    #[command(after_help = NETWORK_EXAMPLES)]
    Show {
        /// Id or name.
        network: String,
    },
    /// Delete a network with its subnets and DHCP port (refused while other ports use it).
    #[command(after_help = NETWORK_EXAMPLES)]
    Delete {
        /// Id or name.
        network: String,
    },
}

/// `network create`.
#[derive(Debug, Clone, Args)]
pub struct NetworkCreate {
    /// Name (unique).
    pub name: String,
    /// Id (default: a new UUID).
    #[arg(long)]
    pub id: Option<String>,
    /// MTU (68..=65535; default for geneve/vxlan: 1450, for an underlay MTU of 1500).
    #[arg(long)]
    pub mtu: Option<u32>,
    /// VLAN id or VNI (default for vxlan/geneve: the network's unique key).
    #[arg(long, value_name = "N")]
    pub segmentation_id: Option<u32>,
    /// Network type.
    #[arg(long, value_name = "TYPE", value_parser = parse_network_type)]
    pub network_type: Option<NetworkType>,
    /// Physical network (flat, vlan).
    #[arg(long, value_name = "NAME", requires = "network_type")]
    pub physical_network: Option<String>,
    /// An external (router:external) network, for floating IPs.
    #[arg(long)]
    pub external: bool,
}

fn parse_ipv6_mode(s: &str) -> Result<Ipv6Mode, String> {
    Ipv6Mode::ALL
        .iter()
        .copied()
        .find(|t| t.as_str() == s)
        .ok_or_else(|| {
            let all: Vec<&str> = Ipv6Mode::ALL.iter().map(|t| t.as_str()).collect();
            format!(
                "`{s}` is not an IPv6 mode (expected one of: {})",
                all.join(", ")
            )
        })
}

fn parse_network_type(s: &str) -> Result<NetworkType, String> {
    NetworkType::ALL
        .iter()
        .copied()
        .find(|t| t.as_str() == s)
        .ok_or_else(|| {
            let all: Vec<&str> = NetworkType::ALL.iter().map(|t| t.as_str()).collect();
            format!(
                "`{s}` is not a network type (expected one of: {})",
                all.join(", ")
            )
        })
}

// ---------------------------------------------------------------- subnet

const SUBNET_EXAMPLES: &str = "\
Examples:
  dfctl subnet create sub1 --network net1 --cidr 10.0.0.0/24
  dfctl subnet create sub1 --network net1 --cidr 10.0.0.0/24 --gateway 10.0.0.254 \\
        --dns 8.8.8.8 --host-route 192.168.0.0/16,10.0.0.253
  dfctl subnet create v6 --network net1 --cidr fd00::/64 --no-dhcp
  dfctl subnet list --network net1
  dfctl subnet delete sub1";

/// Subnets.
#[derive(Debug, Subcommand)]
#[command(after_help = SUBNET_EXAMPLES)]
pub enum SubnetCommand {
    /// Create a subnet. With DHCP (the default, IPv4) the network's DHCP port gets an address in it.
    #[command(after_help = SUBNET_EXAMPLES)]
    Create(SubnetCreate),
    /// List subnets.
    #[command(after_help = SUBNET_EXAMPLES)]
    List {
        /// Only this network's (id or name).
        #[arg(long)]
        network: Option<String>,
    },
    /// Show a subnet.
    #[command(after_help = SUBNET_EXAMPLES)]
    Show {
        /// Id or name.
        subnet: String,
    },
    /// Delete a subnet (refused while ports other than the DHCP port have addresses in it).
    #[command(after_help = SUBNET_EXAMPLES)]
    Delete {
        /// Id or name.
        subnet: String,
    },
}

/// `subnet create`.
#[derive(Debug, Clone, Args)]
pub struct SubnetCreate {
    /// Name (unique).
    pub name: String,
    /// The network (id or name).
    #[arg(long)]
    pub network: String,
    /// The prefix, e.g. 10.0.0.0/24.
    #[arg(long, value_parser = parse_net)]
    pub cidr: IpNetwork,
    /// Id (default: a new UUID).
    #[arg(long)]
    pub id: Option<String>,
    /// Gateway (default: the first host address).
    #[arg(long, value_name = "IP")]
    pub gateway: Option<IpAddr>,
    /// No gateway.
    #[arg(long, conflicts_with = "gateway")]
    pub no_gateway: bool,
    /// Do not serve DHCP on this subnet.
    #[arg(long)]
    pub no_dhcp: bool,
    /// DNS server handed out by DHCP (repeatable).
    #[arg(long = "dns", value_name = "IP")]
    pub dns: Vec<IpAddr>,
    /// Static route handed out by DHCP (repeatable).
    #[arg(long = "host-route", value_name = "DEST,NEXTHOP", value_parser = parse_route)]
    pub host_routes: Vec<(IpNetwork, IpAddr)>,
    /// IPv6: what the router advertises (slaac, dhcpv6-stateful, dhcpv6-stateless).
    #[arg(long, value_name = "MODE", value_parser = parse_ipv6_mode)]
    pub ipv6_ra_mode: Option<Ipv6Mode>,
    /// IPv6: how hosts get addresses (slaac, dhcpv6-stateful, dhcpv6-stateless).
    #[arg(long, value_name = "MODE", value_parser = parse_ipv6_mode)]
    pub ipv6_address_mode: Option<Ipv6Mode>,
}

fn parse_route(s: &str) -> Result<(IpNetwork, IpAddr), String> {
    let (dest, hop) = s
        .split_once(',')
        .ok_or_else(|| format!("`{s}` is not DEST,NEXTHOP (e.g. 192.168.0.0/16,10.0.0.1)"))?;
    let hop: IpAddr = hop
        .trim()
        .parse()
        .map_err(|_| format!("`{hop}` is not an IP address (in host route `{s}`)"))?;
    Ok((parse_net(dest.trim())?, hop))
}

// ---------------------------------------------------------------- port

const PORT_EXAMPLES: &str = "\
Examples:
  dfctl port create vm1 --network net1
  dfctl port create vm1 --network net1 --subnet sub1 --security-group web
  dfctl port create vm2 --network net1 --ip 10.0.0.10 --mac fa:16:3e:00:00:10 --no-port-security
  dfctl port create vip --network net1 --allowed-address-pair 10.0.0.100
  dfctl port bind vm1 --chassis host1 --switch-port vhost0
  dfctl port list --network net1
  dfctl port delete vm1";

/// Ports.
#[derive(Debug, Subcommand)]
#[command(after_help = PORT_EXAMPLES)]
pub enum PortCommand {
    /// Create a port. Without --ip, it gets a free address of --subnet (or of the network's only subnet).
    #[command(after_help = PORT_EXAMPLES)]
    Create(PortCreate),
    /// List ports.
    #[command(after_help = PORT_EXAMPLES)]
    List {
        /// Only this network's (id or name).
        #[arg(long)]
        network: Option<String>,
    },
    /// Show a port.
    #[command(after_help = PORT_EXAMPLES)]
    Show {
        /// Id or name.
        port: String,
    },
    /// Delete a port (refused for router interfaces: use `router remove-interface`).
    #[command(after_help = PORT_EXAMPLES)]
    Delete {
        /// Id or name.
        port: String,
    },
    /// Bind a port to a chassis.
    #[command(after_help = PORT_EXAMPLES)]
    Bind {
        /// Id or name.
        port: String,
        /// The chassis (host name).
        #[arg(long)]
        chassis: String,
        /// The dfswitchd switch port that carries it (a reminder is printed: it is configured in dfswitchd.toml).
        #[arg(long, value_name = "NAME")]
        switch_port: Option<String>,
    },
    /// Remove a port's binding.
    #[command(after_help = PORT_EXAMPLES)]
    Unbind {
        /// Id or name.
        port: String,
    },
}

/// `port create`.
#[derive(Debug, Clone, Args)]
pub struct PortCreate {
    /// Name (unique).
    pub name: String,
    /// The network (id or name).
    #[arg(long)]
    pub network: String,
    /// Id (default: a new UUID).
    #[arg(long)]
    pub id: Option<String>,
    /// MAC (default: fa:16:3e plus three random bytes).
    #[arg(long, value_parser = parse_mac)]
    pub mac: Option<Mac>,
    /// Fixed IP (repeatable); its subnet is found from the network's subnets.
    #[arg(long = "ip", value_name = "IP")]
    pub ips: Vec<IpAddr>,
    /// Subnet to take a free address from (id or name).
    #[arg(long)]
    pub subnet: Option<String>,
    /// Security group (repeatable; id or name).
    #[arg(long = "security-group", value_name = "SG")]
    pub security_groups: Vec<String>,
    /// Disable port security (anti-spoofing and security groups).
    #[arg(long, conflicts_with = "security_groups")]
    pub no_port_security: bool,
    /// Extra address the port may use, with its MAC (default: the port's).
    #[arg(long = "allowed-address-pair", value_name = "IP[,MAC]", value_parser = parse_pair)]
    pub allowed_address_pairs: Vec<(IpAddr, Option<Mac>)>,
    /// Owner, e.g. compute:nova.
    #[arg(long)]
    pub device_owner: Option<String>,
    /// Owning device id, e.g. the VM's.
    #[arg(long)]
    pub device_id: Option<String>,
    /// Create it administratively down.
    #[arg(long)]
    pub disabled: bool,
}

fn parse_pair(s: &str) -> Result<(IpAddr, Option<Mac>), String> {
    let (ip, mac) = match s.split_once(',') {
        Some((ip, mac)) => (ip, Some(parse_mac(mac.trim())?)),
        None => (s, None),
    };
    let ip: IpAddr = ip
        .trim()
        .parse()
        .map_err(|_| format!("`{ip}` is not an IP address (expected IP[,MAC])"))?;
    Ok((ip, mac))
}

// ---------------------------------------------------------------- router

const ROUTER_EXAMPLES: &str = "\
Examples:
  dfctl router create r1
  dfctl router add-interface r1 --subnet sub1
  dfctl router add-route r1 --destination 192.168.0.0/16 --nexthop 10.0.0.254
  dfctl router del-route r1 --destination 192.168.0.0/16 --nexthop 10.0.0.254
  dfctl router remove-interface r1 --subnet sub1
  dfctl router show r1";

/// Routers.
#[derive(Debug, Subcommand)]
#[command(after_help = ROUTER_EXAMPLES)]
pub enum RouterCommand {
    /// Create a router.
    #[command(after_help = ROUTER_EXAMPLES)]
    Create {
        /// Name (unique).
        name: String,
        /// Id (default: a new UUID).
        #[arg(long)]
        id: Option<String>,
        /// The external network the router reaches (an `--external`
        /// network); VMs behind it without a floating IP reach it through
        /// their chassis' external address (SNAT).
        #[arg(long, value_name = "NETWORK")]
        external_gateway: Option<String>,
        /// With --external-gateway: no SNAT (only floating IPs get out).
        #[arg(long, requires = "external_gateway")]
        disable_snat: bool,
    },
    /// List routers.
    #[command(after_help = ROUTER_EXAMPLES)]
    List,
    /// Show a router.
    #[command(after_help = ROUTER_EXAMPLES)]
    Show {
        /// Id or name.
        router: String,
    },
    /// Delete a router (refused while it has interfaces or floating IPs).
    #[command(after_help = ROUTER_EXAMPLES)]
    Delete {
        /// Id or name.
        router: String,
    },
    /// Attach a subnet: creates the interface port with the subnet's gateway IP.
    #[command(name = "add-interface", after_help = ROUTER_EXAMPLES)]
    AddInterface {
        /// Id or name.
        router: String,
        /// The subnet (id or name).
        #[arg(long)]
        subnet: String,
    },
    /// Detach a subnet and delete its interface port.
    #[command(name = "remove-interface", after_help = ROUTER_EXAMPLES)]
    RemoveInterface {
        /// Id or name.
        router: String,
        /// The subnet (id or name).
        #[arg(long)]
        subnet: String,
    },
    /// Add an extra route.
    #[command(name = "add-route", after_help = ROUTER_EXAMPLES)]
    AddRoute(RouteArgs),
    /// Remove an extra route.
    #[command(name = "del-route", after_help = ROUTER_EXAMPLES)]
    DelRoute(RouteArgs),
}

/// `router add-route` / `del-route`.
#[derive(Debug, Clone, Args)]
pub struct RouteArgs {
    /// Id or name.
    pub router: String,
    /// The routed prefix.
    #[arg(long, value_parser = parse_net)]
    pub destination: IpNetwork,
    /// The gateway, on one of the router's interfaces.
    #[arg(long)]
    pub nexthop: IpAddr,
}

// ---------------------------------------------------------------- security group

const SG_EXAMPLES: &str = "\
Examples:
  dfctl security-group create web
  dfctl security-group rule add web --direction ingress --protocol tcp --port-range 80
  dfctl security-group rule add web --direction ingress --protocol tcp --port-range 8000:8080 \\
        --remote-ip-prefix 10.0.0.0/8
  dfctl security-group rule add web --direction ingress --protocol icmp --remote-group web
  dfctl security-group rule add web --direction egress --ethertype IPv6
  dfctl security-group rule delete web 5d0e...
  dfctl security-group show web";

/// Security groups.
#[derive(Debug, Subcommand)]
#[command(after_help = SG_EXAMPLES)]
pub enum SecurityGroupCommand {
    /// Create a security group (no rules: it allows nothing until rules are added).
    #[command(after_help = SG_EXAMPLES)]
    Create {
        /// Name (unique).
        name: String,
        /// Id (default: a new UUID).
        #[arg(long)]
        id: Option<String>,
        /// Free text.
        #[arg(long)]
        description: Option<String>,
    },
    /// List security groups.
    #[command(after_help = SG_EXAMPLES)]
    List,
    /// Show a security group and its rules.
    #[command(after_help = SG_EXAMPLES)]
    Show {
        /// Id or name.
        group: String,
    },
    /// Delete a security group (refused while ports use it).
    #[command(after_help = SG_EXAMPLES)]
    Delete {
        /// Id or name.
        group: String,
    },
    /// Rules of a group.
    #[command(subcommand)]
    Rule(RuleCommand),
}

/// `security-group rule`.
#[derive(Debug, Subcommand)]
#[command(after_help = SG_EXAMPLES)]
pub enum RuleCommand {
    /// Add a rule (an allow).
    #[command(after_help = SG_EXAMPLES)]
    Add(RuleAdd),
    /// Delete a rule by id.
    #[command(after_help = SG_EXAMPLES)]
    Delete {
        /// The group (id or name).
        group: String,
        /// The rule id.
        rule: String,
    },
}

/// ingress or egress.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DirectionArg {
    /// Traffic to the port.
    Ingress,
    /// Traffic from the port.
    Egress,
}

/// IPv4 or IPv6.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum EtherTypeArg {
    /// IPv4.
    #[value(name = "IPv4", alias = "ipv4")]
    Ipv4,
    /// IPv6.
    #[value(name = "IPv6", alias = "ipv6")]
    Ipv6,
}

/// `security-group rule add`.
#[derive(Debug, Clone, Args)]
pub struct RuleAdd {
    /// The group (id or name).
    pub group: String,
    /// Direction.
    #[arg(long, value_enum)]
    pub direction: DirectionArg,
    /// IP version (default: that of --remote-ip-prefix, else IPv4).
    #[arg(long, value_enum)]
    pub ethertype: Option<EtherTypeArg>,
    /// Protocol: tcp, udp, icmp, icmpv6, another name or a number (default: any).
    #[arg(long, value_parser = parse_protocol)]
    pub protocol: Option<df_model::Protocol>,
    /// Ports MIN[:MAX] (for icmp: TYPE[:CODE]).
    #[arg(long, value_name = "MIN[:MAX]", value_parser = parse_range)]
    pub port_range: Option<(u32, Option<u32>)>,
    /// Remote addresses: this prefix.
    #[arg(long, value_name = "CIDR", value_parser = parse_net, conflicts_with = "remote_group")]
    pub remote_ip_prefix: Option<IpNetwork>,
    /// Remote addresses: the ports of this group (id or name).
    #[arg(long, value_name = "SG")]
    pub remote_group: Option<String>,
    /// Rule id (default: a new UUID).
    #[arg(long)]
    pub id: Option<String>,
}

fn parse_protocol(s: &str) -> Result<df_model::Protocol, String> {
    df_model::Protocol::parse(s).ok_or_else(|| {
        format!("`{s}` is not an IP protocol (expected 0..=255 or a name such as tcp, udp, icmp, icmpv6)")
    })
}

fn parse_range(s: &str) -> Result<(u32, Option<u32>), String> {
    let num = |t: &str| {
        t.trim()
            .parse::<u32>()
            .map_err(|_| format!("`{s}` is not MIN[:MAX] (e.g. 80 or 8000:8080)"))
    };
    match s.split_once(':') {
        Some((a, b)) => Ok((num(a)?, Some(num(b)?))),
        None => Ok((num(s)?, None)),
    }
}

// ---------------------------------------------------------------- floating ip

const FIP_EXAMPLES: &str = "\
Examples:
  dfctl floating-ip create --external-network public --address 172.24.4.10
  dfctl floating-ip create --external-network public --address 172.24.4.11 --port vm1
  dfctl floating-ip create --external-network public --address 172.24.4.12 --port vm1 \\
        --fixed-ip 10.0.0.3 --router r1
  dfctl floating-ip list
  dfctl floating-ip delete 172.24.4.10";

/// Floating IPs.
#[derive(Debug, Subcommand)]
#[command(after_help = FIP_EXAMPLES)]
pub enum FloatingIpCommand {
    /// Create a floating IP (and its port on the external network), optionally associated.
    #[command(after_help = FIP_EXAMPLES)]
    Create(FipCreate),
    /// List floating IPs.
    #[command(after_help = FIP_EXAMPLES)]
    List,
    /// Show a floating IP (by id or address).
    #[command(after_help = FIP_EXAMPLES)]
    Show {
        /// Id or address.
        fip: String,
    },
    /// Delete a floating IP and its external port (by id or address).
    #[command(after_help = FIP_EXAMPLES)]
    Delete {
        /// Id or address.
        fip: String,
    },
}

/// `floating-ip create`.
#[derive(Debug, Clone, Args)]
pub struct FipCreate {
    /// The external network (id or name).
    #[arg(long)]
    pub external_network: String,
    /// The floating address (IPv4, in a subnet of the external network).
    #[arg(long)]
    pub address: IpAddr,
    /// Associate with this port (id or name).
    #[arg(long)]
    pub port: Option<String>,
    /// The port's address to map to (default: its first).
    #[arg(long, requires = "port")]
    pub fixed_ip: Option<IpAddr>,
    /// The router doing the NAT (default: the only router on the port's network).
    #[arg(long, requires = "port")]
    pub router: Option<String>,
    /// Id (default: a new UUID).
    #[arg(long)]
    pub id: Option<String>,
}

// ---------------------------------------------------------------- chassis

const CHASSIS_EXAMPLES: &str = "\
Examples:
  dfctl chassis list
  dfctl chassis show host1 --json";

/// Chassis.
#[derive(Debug, Subcommand)]
#[command(after_help = CHASSIS_EXAMPLES)]
pub enum ChassisCommand {
    /// List chassis with their services' state (alive: heartbeat within 80 s).
    #[command(after_help = CHASSIS_EXAMPLES)]
    List,
    /// Show a chassis, its services and the ports bound to it.
    #[command(after_help = CHASSIS_EXAMPLES)]
    Show {
        /// Chassis id (host name).
        chassis: String,
    },
}
