//! The command line, as clap derive types: global flags, one subcommand
//! per resource, examples in every `--help`.
//!
//! Why typed values here (MACs, CIDRs, addresses): a value that does not
//! parse is a usage error, reported by clap with the flag's name and exit
//! code 2 before anything is read from the store. Rules that depend on
//! other values (a gateway inside its CIDR, a CIDR without host bits) are
//! df-model's, checked when the object is built (exit code 1).

use std::net::IpAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};
use df_model::{IpNetwork, Mac};

mod resources;
pub use resources::*;

const TOP_EXAMPLES: &str = "\
Examples:
  dfctl network create net1
  dfctl subnet create sub1 --network net1 --cidr 10.0.0.0/24
  dfctl port create vm1 --network net1 --subnet sub1
  dfctl port bind vm1 --chassis host1
  dfctl --db etcd://127.0.0.1:2379 db dump
  dfctl show counters
  dfctl trace --port vm1 --src-mac fa:16:3e:00:00:01 --dst-mac fa:16:3e:00:00:02 \\
        --src-ip 10.0.0.3 --dst-ip 10.0.0.4 --proto icmp

The NB database is reached through dfswitchd's socket unless --db is given
(etcd://HOST:PORT, or file:///PATH.redb for an embedded store file no daemon holds).
Exit codes: 0 ok, 1 the operation failed, 2 usage error, 3 store or daemon unreachable.";

/// dfctl: operate a Dragonflow-RS deployment.
#[derive(Debug, Parser)]
#[command(name = "dfctl", version, after_help = TOP_EXAMPLES)]
pub struct Cli {
    /// Global options.
    #[command(flatten)]
    pub global: Global,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Flags every command takes.
#[derive(Debug, Clone, Args)]
pub struct Global {
    /// NB store URL: etcd://HOST:PORT[,HOST:PORT...] or file:///ABS/PATH.redb.
    /// Without it, database commands go through dfswitchd's socket.
    #[arg(
        long,
        global = true,
        help_heading = "Global options",
        env = "DF_DB",
        value_name = "URL"
    )]
    pub db: Option<String>,
    /// dfswitchd's management socket.
    #[arg(long, global = true, help_heading = "Global options", env = "DF_SOCKET", value_name = "PATH",
          default_value = df_mgmt::DEFAULT_SOCKET)]
    pub socket: PathBuf,
    /// Print JSON instead of text.
    #[arg(long, global = true, help_heading = "Global options")]
    pub json: bool,
    /// Project id (Dragonflow's topic) given to the objects created.
    #[arg(
        long,
        global = true,
        help_heading = "Global options",
        env = "DF_TOPIC",
        value_name = "PROJECT",
        default_value = "admin"
    )]
    pub topic: String,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Raw NB database access, as Dragonflow's df-db.
    #[command(subcommand)]
    Db(DbCommand),
    /// Networks (lswitch).
    #[command(subcommand)]
    Network(NetworkCommand),
    /// Subnets (lsubnet).
    #[command(subcommand)]
    Subnet(SubnetCommand),
    /// Ports (lport).
    #[command(subcommand)]
    Port(PortCommand),
    /// Routers (lrouter).
    #[command(subcommand)]
    Router(RouterCommand),
    /// Security groups (secgroup) and their rules.
    #[command(subcommand, name = "security-group")]
    SecurityGroup(SecurityGroupCommand),
    /// Floating IPs (floatingip).
    #[command(subcommand, name = "floating-ip")]
    FloatingIp(FloatingIpCommand),
    /// Chassis and their service heartbeats.
    #[command(subcommand)]
    Chassis(ChassisCommand),
    /// What the local dfswitchd is doing (needs the daemon).
    #[command(subcommand)]
    Show(ShowCommand),
    /// Trace a packet through the local dfswitchd's datapath (needs the daemon).
    Trace(TraceArgs),
}

// ---------------------------------------------------------------- db

const DB_EXAMPLES: &str = "\
Examples:
  dfctl db tables
  dfctl db ls lport
  dfctl db get lswitch 3f1c...
  dfctl db dump --json
  dfctl db add lswitch -j '{\"id\": \"net1\", \"name\": \"net1\"}'
  dfctl db update lswitch -j '{\"id\": \"net1\", \"mtu\": 1400}'
  dfctl db rm lswitch net1";

/// df-db's verbs.
#[derive(Debug, Subcommand)]
#[command(after_help = DB_EXAMPLES)]
pub enum DbCommand {
    /// List the NB tables.
    #[command(after_help = DB_EXAMPLES)]
    Tables,
    /// List the ids of a table (objects with --json).
    #[command(after_help = DB_EXAMPLES)]
    Ls {
        /// Table name, e.g. lport.
        table: String,
    },
    /// Print one object.
    #[command(after_help = DB_EXAMPLES)]
    Get {
        /// Table name.
        table: String,
        /// Object id.
        id: String,
    },
    /// Print every table.
    #[command(after_help = DB_EXAMPLES)]
    Dump,
    /// Create an object: validated, version 1, unique key allocated; fails if it exists.
    #[command(after_help = DB_EXAMPLES)]
    Add {
        /// Table name.
        table: String,
        /// The object.
        #[command(flatten)]
        input: JsonInput,
    },
    /// Merge fields into a stored object (top-level merge), bump its version.
    #[command(after_help = DB_EXAMPLES)]
    Update {
        /// Table name.
        table: String,
        /// The fields, with the object's `id`.
        #[command(flatten)]
        input: JsonInput,
    },
    /// Delete an object.
    #[command(after_help = DB_EXAMPLES)]
    Rm {
        /// Table name.
        table: String,
        /// Object id.
        id: String,
    },
}

/// `-j JSON` or `-f FILE`.
#[derive(Debug, Clone, Args)]
#[group(required = true, multiple = false)]
pub struct JsonInput {
    /// The object as JSON text.
    #[arg(
        short = 'j',
        long = "json-object",
        id = "json_object",
        value_name = "JSON"
    )]
    pub text: Option<String>,
    /// A file holding the object as JSON (`-` for stdin).
    #[arg(short = 'f', long = "file", value_name = "FILE")]
    pub file: Option<PathBuf>,
}

// ---------------------------------------------------------------- value parsers

pub(crate) fn parse_net(s: &str) -> Result<IpNetwork, String> {
    s.parse::<IpNetwork>().map_err(|e| e.to_string())
}

pub(crate) fn parse_mac(s: &str) -> Result<Mac, String> {
    s.parse::<Mac>().map_err(|e| e.to_string())
}

// ---------------------------------------------------------------- show, trace

const SHOW_EXAMPLES: &str = "\
Examples:
  dfctl show status
  dfctl show ports
  dfctl show workers
  dfctl show graph
  dfctl show tables l2
  dfctl show counters --json
  dfctl show drops";

/// dfswitchd's state.
#[derive(Debug, Subcommand)]
#[command(after_help = SHOW_EXAMPLES)]
pub enum ShowCommand {
    /// Chassis, uptime, store, controller.
    #[command(after_help = SHOW_EXAMPLES)]
    Status,
    /// Switch ports and their counters.
    #[command(after_help = SHOW_EXAMPLES)]
    Ports,
    /// Workers: cores, rx queues, busy/idle cycles.
    #[command(after_help = SHOW_EXAMPLES)]
    Workers,
    /// The compiled datapath graph.
    #[command(after_help = SHOW_EXAMPLES)]
    Graph,
    /// The apps' tables (all vertices, or one).
    #[command(after_help = SHOW_EXAMPLES)]
    Tables {
        /// Vertex name.
        vertex: Option<String>,
    },
    /// Per-vertex calls/packets/cycles, drops, port stats.
    #[command(after_help = SHOW_EXAMPLES)]
    Counters,
    /// Only the non-zero drop counters.
    #[command(after_help = SHOW_EXAMPLES)]
    Drops,
}

const TRACE_EXAMPLES: &str = "\
Examples:
  dfctl trace --port vm1 --src-mac fa:16:3e:00:00:01 --dst-mac fa:16:3e:00:00:02 \\
        --src-ip 10.0.0.3 --dst-ip 10.0.0.4 --proto icmp
  dfctl trace --port vm1 --src-mac fa:16:3e:00:00:01 --src-ip 10.0.0.3 --dst-ip 10.0.0.1 --proto arp
  dfctl trace --port vm1 --src-mac fa:16:3e:00:00:01 --dst-mac fa:16:3e:00:00:02 \\
        --src-ip 10.0.0.3 --dst-ip 10.0.0.4 --proto tcp --dport 22 --tcp-flags SYN
  dfctl trace --port vm1 --frame-hex ffffffffffff02000000000108060001...
  dfctl trace --live 10     # trace the next 10 received packets
  dfctl trace --read        # print what was traced";

/// `trace`.
#[derive(Debug, Clone, Args)]
#[command(after_help = TRACE_EXAMPLES)]
pub struct TraceArgs {
    /// Switch port to inject at (name in dfswitchd.toml).
    #[arg(long, required_unless_present_any = ["live", "read"], conflicts_with_all = ["live", "read"])]
    pub port: Option<String>,
    /// The frame, hex (spaces and colons ignored).
    #[arg(long, value_name = "HEX", conflicts_with_all = ["src_mac", "live", "read"])]
    pub frame_hex: Option<String>,
    /// Trace the next N received packets.
    #[arg(long, value_name = "N", conflicts_with = "read")]
    pub live: Option<u32>,
    /// Print the trace gathered so far.
    #[arg(long)]
    pub read: bool,
    /// Describe the frame instead of --frame-hex.
    #[command(flatten)]
    pub frame: FrameSpec,
}

/// A frame described by its fields.
#[derive(Debug, Clone, Args)]
pub struct FrameSpec {
    /// Source MAC.
    #[arg(long, value_parser = parse_mac)]
    pub src_mac: Option<Mac>,
    /// Destination MAC (default: broadcast).
    #[arg(long, value_parser = parse_mac)]
    pub dst_mac: Option<Mac>,
    /// 802.1Q tag.
    #[arg(long, value_name = "VID")]
    pub vlan: Option<u16>,
    /// Source IP.
    #[arg(long)]
    pub src_ip: Option<IpAddr>,
    /// Destination IP.
    #[arg(long)]
    pub dst_ip: Option<IpAddr>,
    /// Protocol (default: icmp when IPs are given).
    #[arg(long, value_enum)]
    pub proto: Option<ProtoArg>,
    /// Source port (udp, tcp).
    #[arg(long, default_value_t = 40000)]
    pub sport: u16,
    /// Destination port (udp, tcp).
    #[arg(long, default_value_t = 80)]
    pub dport: u16,
    /// IP TTL / hop limit.
    #[arg(long, default_value_t = 64)]
    pub ttl: u8,
    /// TCP flags, comma separated (default SYN).
    #[arg(long, value_name = "FLAGS", default_value = "SYN")]
    pub tcp_flags: String,
    /// ICMP message.
    #[arg(long, value_enum, default_value_t = IcmpTypeArg::EchoRequest)]
    pub icmp_type: IcmpTypeArg,
}

/// `--proto`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ProtoArg {
    /// ICMP (ICMPv6 for IPv6 addresses) echo.
    Icmp,
    /// UDP.
    Udp,
    /// TCP.
    Tcp,
    /// ARP request (who has --dst-ip, tell --src-ip).
    Arp,
}

/// `--icmp-type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum IcmpTypeArg {
    /// Echo request.
    EchoRequest,
    /// Echo reply.
    EchoReply,
}
