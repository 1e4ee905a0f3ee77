//! A port's extra DHCP options (Neutron's `extra_dhcp_opts`): which tags
//! replace a subnet value (3 router, 6 DNS, 15 domain), which add routes
//! (121), which the server owns and refuses, and the bytes of the rest.

use std::net::Ipv4Addr;

use crate::config::{ExtraOption, HostRoute};

use super::{check_dns, check_domain, MAX_PORT_EXTRA_OPTIONS};

/// Option codes the server fills itself; an extra option may not set them.
const SERVER_TAGS: &[(u8, &str)] = &[
    (1, "subnet mask: it comes from the subnet's cidr"),
    (26, "interface MTU: set the network's mtu"),
    (50, "requested address"),
    (51, "lease time: set lease_time"),
    (52, "option overload"),
    (53, "message type"),
    (54, "server identifier"),
    (55, "parameter request list"),
    (57, "maximum message size"),
    (58, "renewal time: it follows lease_time"),
    (59, "rebinding time: it follows lease_time"),
    (61, "client identifier"),
];

/// A port's extra options, sorted by what they do.
#[derive(Debug, Default)]
pub(super) struct PortOptions {
    pub(super) router: Option<Ipv4Addr>,
    pub(super) dns: Option<Vec<Ipv4Addr>>,
    pub(super) domain: Option<String>,
    pub(super) routes: Vec<HostRoute>,
    pub(super) extras: Vec<(u8, Box<[u8]>)>,
}

pub(super) fn port_options(at: &str, opts: &[ExtraOption]) -> Result<PortOptions, String> {
    let mut o = PortOptions::default();
    for (k, x) in opts.iter().enumerate() {
        let oat = format!("{at}.dhcp_options[{k}]");
        let tag = x.tag;
        if opts[..k].iter().any(|y| y.tag == tag) {
            return Err(format!("{oat}: tag {tag} is given twice"));
        }
        if tag == 0 || tag == 255 {
            return Err(format!("{oat}: tag {tag} is pad/end, not an option"));
        }
        if let Some((_, what)) = SERVER_TAGS.iter().find(|(t, _)| *t == tag) {
            return Err(format!("{oat}: tag {tag} is set by the server ({what})"));
        }
        let given = [
            x.text.is_some(),
            x.ips.is_some(),
            x.hex.is_some(),
            x.routes.is_some(),
        ];
        if given.iter().filter(|g| **g).count() != 1 {
            return Err(format!(
                "{oat}: give exactly one of `text`, `ips`, `hex`, `routes`"
            ));
        }
        match (tag, x) {
            (3, ExtraOption { ips: Some(ips), .. }) if ips.len() == 1 => o.router = Some(ips[0]),
            (3, _) => {
                return Err(format!(
                    "{oat}: tag 3 (router) takes `ips` with one address"
                ))
            }
            (6, ExtraOption { ips: Some(ips), .. }) => {
                check_dns(&format!("{oat}.ips"), ips)?;
                if ips.is_empty() {
                    return Err(format!("{oat}.ips: tag 6 (DNS) needs at least one address"));
                }
                o.dns = Some(ips.clone());
            }
            (6, _) => return Err(format!("{oat}: tag 6 (DNS servers) takes `ips`")),
            (15, ExtraOption { text: Some(d), .. }) => {
                check_domain(&format!("{oat}.text"), Some(d))?;
                o.domain = Some(d.clone());
            }
            (15, _) => return Err(format!("{oat}: tag 15 (domain name) takes `text`")),
            (
                121,
                ExtraOption {
                    routes: Some(r), ..
                },
            ) => o.routes.clone_from(r),
            (121, _) => return Err(format!("{oat}: tag 121 (static routes) takes `routes`")),
            (
                _,
                ExtraOption {
                    routes: Some(_), ..
                },
            ) => return Err(format!("{oat}: `routes` is for tag 121 only")),
            (_, x) => {
                let data = option_bytes(&oat, x)?;
                if o.extras.len() == MAX_PORT_EXTRA_OPTIONS {
                    return Err(format!(
                        "{oat}: at most {MAX_PORT_EXTRA_OPTIONS} extra options (besides 3, 6, 15 \
                         and 121) fit a reply"
                    ));
                }
                o.extras.push((tag, data));
            }
        }
    }
    Ok(o)
}

fn option_bytes(at: &str, x: &ExtraOption) -> Result<Box<[u8]>, String> {
    let data: Vec<u8> = if let Some(t) = &x.text {
        t.as_bytes().to_vec()
    } else if let Some(ips) = &x.ips {
        ips.iter().flat_map(|ip| ip.octets()).collect()
    } else if let Some(h) = &x.hex {
        parse_hex(h)
            .ok_or_else(|| format!("{at}.hex: `{h}` is not an even number of hex digits"))?
    } else {
        Vec::new()
    };
    if data.is_empty() || data.len() > 255 {
        return Err(format!(
            "{at}: option data must be 1 to 255 bytes (got {})",
            data.len()
        ));
    }
    Ok(data.into_boxed_slice())
}

fn parse_hex(h: &str) -> Option<Vec<u8>> {
    let h: String = h.chars().filter(|c| *c != ':' && *c != ' ').collect();
    if !h.len().is_multiple_of(2) {
        return None;
    }
    (0..h.len())
        .step_by(2)
        .map(|i| h.get(i..i + 2).and_then(|b| u8::from_str_radix(b, 16).ok()))
        .collect()
}
