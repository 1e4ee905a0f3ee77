//! Build script for df-dpdk-sys: finds the system libdpdk with pkg-config,
//! compiles the C shim with libdpdk's own cflags, generates the Rust bindings
//! with bindgen and tells cargo how to link.
//!
//! Why it is shaped so:
//! * libdpdk's cflags are taken verbatim from `pkg-config --cflags`, because
//!   the DPDK headers only compile with them: they contain the token pair
//!   `-include rte_config.h`, which must reach the C compiler and clang as two
//!   adjacent arguments in that order, and `-march=...`, which selects the
//!   same vector code paths the library was built with.
//! * The same flag list feeds `cc` (the shim) and bindgen (the bindings), so
//!   the two can never disagree about struct layouts.
//! * Linking uses pkg-config's `--libs` (shared libraries). EAL loads the PMD
//!   drivers from its plugin directory at run time, so no driver is linked.

use std::env;
use std::path::PathBuf;
use std::process::Command;

/// Oldest DPDK this crate is written against (Debian 12's LTS).
const MIN_DPDK: &str = "22.11";

/// The name of DPDK's pkg-config module.
const PKG: &str = "libdpdk";

/// Items bindgen emits. Everything a used item refers to comes along too.
const ALLOW: &str = "rte_.*|RTE_.*|df_.*";

/// Headers that rte_ethdev.h drags in (through rte_eth_ctrl.h) whose items
/// the switch does not use: rte_flow and the protocol headers its pattern
/// items embed. Blocking them halves the bindings (and their compile time);
/// nothing allowlisted refers to them.
const BLOCK_FILES: &str = r".*/rte_(flow|mtr|tm|l2tpv2|ecpri|gtp|higig|gre|vxlan|esp|geneve|mpls|ppp|icmp|sctp|arp|ib|macsec|meter|ip|tcp|udp|hash_crc|net_crc)\.h";

/// Macro constants named outside the `rte_`/`RTE_` space that callers need.
const ALLOW_VARS: &str = "LCORE_ID_ANY|SOCKET_ID_ANY";

/// Types bindgen cannot express in Rust (E0588: a packed struct holding an
/// aligned one; a union it cannot derive Debug for): emitted as opaque blobs
/// of the right size and alignment. BLOCK_FILES already keeps them out; this
/// list is what makes the build still work if rte_flow is ever let back in.
const OPAQUE: &str = "rte_l2tpv2_combined_msg_hdr|rte_gtp_psc_generic_hdr|rte_arp_ipv4|rte_arp_hdr";

fn main() {
    let manifest = PathBuf::from(env_var("CARGO_MANIFEST_DIR"));
    let out = PathBuf::from(env_var("OUT_DIR"));
    let src = manifest.join("src");

    for file in ["shim.c", "shim.h", "wrapper.h"] {
        println!("cargo:rerun-if-changed={}", src.join(file).display());
    }
    println!("cargo:rerun-if-env-changed=PKG_CONFIG_PATH");

    // Version check plus `cargo:rustc-link-{lib,search}` for every library
    // in `pkg-config --libs libdpdk`.
    let lib = pkg_config::Config::new()
        .atleast_version(MIN_DPDK)
        .probe(PKG)
        .unwrap_or_else(|e| {
            fail(&format!(
                "libdpdk >= {MIN_DPDK} was not found by pkg-config ({e}).\n\
                 On Debian 12 install it with: apt-get install libdpdk-dev pkg-config \
                 libclang-dev\n\
                 (or point PKG_CONFIG_PATH at a DPDK build's lib/pkgconfig)."
            ))
        });
    let cflags = dpdk_cflags();
    for dir in &lib.include_paths {
        // For crates that compile their own C against DPDK: DEP_DPDK_INCLUDE.
        println!("cargo:include={}", dir.display());
    }
    println!("cargo:version={}", lib.version);

    build_shim(&src, &cflags);
    generate_bindings(&src, &cflags, &out.join("bindings.rs"));
}

/// `pkg-config --cflags libdpdk`, split into arguments. The flags hold no
/// quoted paths, so splitting on whitespace keeps every argument (and the
/// `-include rte_config.h` pair keeps its order because nothing reorders).
fn dpdk_cflags() -> Vec<String> {
    let pkg_config = env::var("PKG_CONFIG").unwrap_or_else(|_| "pkg-config".to_owned());
    let output = Command::new(&pkg_config)
        .args(["--cflags", PKG])
        .output()
        .unwrap_or_else(|e| fail(&format!("could not run `{pkg_config} --cflags {PKG}`: {e}")));
    if !output.status.success() {
        fail(&format!(
            "`{pkg_config} --cflags {PKG}` failed: {}",
            String::from_utf8_lossy(&output.stderr).trim()
        ));
    }
    let text = String::from_utf8_lossy(&output.stdout);
    let flags: Vec<String> = text.split_whitespace().map(str::to_owned).collect();
    // A lone trailing `-include` would swallow the next argument we add.
    if flags.last().is_some_and(|f| f == "-include") {
        fail(&format!(
            "`{pkg_config} --cflags {PKG}` ends in a bare -include: {text}"
        ));
    }
    flags
}

/// Compile src/shim.c into a static library that cargo links into this crate.
fn build_shim(src: &std::path::Path, cflags: &[String]) {
    let mut build = cc::Build::new();
    build
        .file(src.join("shim.c"))
        .include(src)
        .opt_level(3)
        .warnings(true)
        .extra_warnings(false);
    // Plain `flag`, in pkg-config's order: `-include` and `rte_config.h` end
    // up adjacent. (`flag_if_supported` would test each token on its own, and
    // `rte_config.h` alone reads as a second input file.)
    for flag in cflags {
        build.flag(flag);
    }
    build.compile("df_dpdk_shim");
}

/// Run bindgen over src/wrapper.h and write `out`.
fn generate_bindings(src: &std::path::Path, cflags: &[String], out: &std::path::Path) {
    let bindings = bindgen::Builder::default()
        .header(src.join("wrapper.h").to_string_lossy())
        .clang_args(cflags)
        .clang_arg(format!("-I{}", src.display()))
        .allowlist_function(ALLOW)
        .allowlist_type(ALLOW)
        .allowlist_var(ALLOW)
        .allowlist_var(ALLOW_VARS)
        .blocklist_file(BLOCK_FILES)
        .opaque_type(OPAQUE)
        // Enum constants as `RTE_PROC_PRIMARY`, not `rte_proc_type_t_RTE_PROC_PRIMARY`.
        .prepend_enum_name(false)
        .derive_default(true)
        // Evaluate the macros cexpr cannot (`RTE_BIT64(n)` flags, sums of
        // other macros such as RTE_MBUF_DEFAULT_BUF_SIZE) with clang itself.
        .clang_macro_fallback()
        .merge_extern_blocks(true)
        .formatter(bindgen::Formatter::Prettyplease)
        // Reruns the build when any DPDK header changes (a DPDK upgrade).
        .parse_callbacks(Box::new(bindgen::CargoCallbacks::new()))
        .parse_callbacks(Box::new(MacroTypes))
        .generate()
        .unwrap_or_else(|e| {
            fail(&format!(
                "bindgen failed on src/wrapper.h ({e}). It needs libclang: \
                 apt-get install libclang-dev"
            ))
        });
    bindings
        .write_to_file(out)
        .unwrap_or_else(|e| fail(&format!("cannot write {}: {e}", out.display())));
}

/// Gives macro constants the C type of the fields and parameters they are
/// used with, instead of the smallest type that holds the value.
#[derive(Debug)]
struct MacroTypes;

impl bindgen::callbacks::ParseCallbacks for MacroTypes {
    fn int_macro(&self, name: &str, _value: i64) -> Option<bindgen::callbacks::IntKind> {
        use bindgen::callbacks::IntKind;
        const U64_PREFIXES: [&str; 5] = [
            "RTE_MBUF_F_",         // rte_mbuf::ol_flags
            "RTE_ETH_RX_OFFLOAD_", // rte_eth_rxmode::offloads, dev_info capabilities
            "RTE_ETH_TX_OFFLOAD_", // rte_eth_txmode::offloads
            "RTE_ETH_RSS_",        // rte_eth_rss_conf::rss_hf
            "RTE_ETH_DEV_CAPA_",   // rte_eth_dev_info::dev_capa
        ];
        const U16_NAMES: [&str; 3] = [
            // rte_pktmbuf_pool_create's data_room_size, rte_mbuf::data_off.
            "RTE_MBUF_DEFAULT_BUF_SIZE",
            "RTE_MBUF_DEFAULT_DATAROOM",
            "RTE_PKTMBUF_HEADROOM",
        ];
        if U64_PREFIXES.iter().any(|p| name.starts_with(p)) {
            Some(IntKind::U64)
        } else if U16_NAMES.contains(&name) {
            Some(IntKind::U16)
        } else {
            None
        }
    }
}

fn env_var(name: &str) -> String {
    env::var(name).unwrap_or_else(|_| fail(&format!("cargo did not set {name}")))
}

/// Stop the build with a message cargo shows as-is.
fn fail(msg: &str) -> ! {
    eprintln!("error: df-dpdk-sys: {msg}");
    std::process::exit(1);
}
