//! Validation rules shared by several models (ids, topics, MACs, prefixes,
//! routes, MTU, timestamps). Each returns the first problem as a
//! [`ModelError`] naming the field.
//!
//! Why here: the same rule must give the same message in every table, so
//! `lport` and `lrouter` complain about a multicast MAC in the same words.

use std::net::IpAddr;

use crate::error::{Ctx, ModelError};
use crate::network::HostRoute;
use crate::types::{IpNetwork, Mac};

pub(crate) type Check = Result<(), ModelError>;

/// An id as stored in a key: non-empty, no `/`, no control characters.
pub(crate) fn id_ok(id: &str) -> bool {
    !id.is_empty() && !id.contains('/') && !id.chars().any(char::is_control)
}

/// The object's own id.
pub(crate) fn id(cx: &Ctx<'_>, id: &str) -> Check {
    reference(cx, "id", id)
}

/// An id in field `field` (the object's, an embedded object's, or a reference).
pub(crate) fn reference(cx: &Ctx<'_>, field: &str, id: &str) -> Check {
    if id_ok(id) {
        Ok(())
    } else {
        Err(cx.field(
            field,
            format!("`{id}` is not a valid id (it must be non-empty, without `/` or control characters)"),
        ))
    }
}

pub(crate) fn opt_reference(cx: &Ctx<'_>, field: &str, id: &Option<String>) -> Check {
    match id {
        Some(id) => reference(cx, field, id),
        None => Ok(()),
    }
}

/// A list of references: each valid, none repeated.
pub(crate) fn reference_list(cx: &Ctx<'_>, field: &str, ids: &[String]) -> Check {
    for (i, id) in ids.iter().enumerate() {
        let path = format!("{field}[{i}]");
        reference(cx, &path, id)?;
        if ids[..i].contains(id) {
            return Err(cx.field(path, format!("`{id}` is listed twice")));
        }
    }
    Ok(())
}

/// The topic (project id) of a topic table: non-empty.
pub(crate) fn topic(cx: &Ctx<'_>, field: &str, topic: &str) -> Check {
    if topic.is_empty() || topic.chars().any(char::is_control) {
        Err(cx.field(field, "the topic (project id) must be non-empty"))
    } else {
        Ok(())
    }
}

/// A unique key, when allocated, is non-zero (0 means "none" in registers).
pub(crate) fn unique_key(cx: &Ctx<'_>, key: Option<u32>) -> Check {
    match key {
        Some(0) => Err(cx.field(
            "unique_key",
            "0 is reserved for \"no object\" in the datapath registers (keys start at 1)",
        )),
        _ => Ok(()),
    }
}

/// A port's own MAC: unicast and not all-zero.
pub(crate) fn unicast_mac(cx: &Ctx<'_>, field: &str, mac: &Mac) -> Check {
    if mac.is_multicast() {
        Err(cx.field(
            field,
            format!(
                "{mac} is a multicast MAC address; a port needs a unicast one (first byte even)"
            ),
        ))
    } else if mac.is_zero() {
        Err(cx.field(field, "00:00:00:00:00:00 is not a usable port MAC address"))
    } else {
        Ok(())
    }
}

/// A prefix used to match (cidr, route destination, rule prefix): no host bits.
pub(crate) fn pure_prefix(cx: &Ctx<'_>, field: &str, net: &IpNetwork) -> Check {
    if net.has_host_bits() {
        Err(cx.field(
            field,
            format!("{net} has host bits set (did you mean {}?)", net.network()),
        ))
    } else {
        Ok(())
    }
}

/// An address that must name one host: not unspecified, multicast or broadcast.
pub(crate) fn host_address(cx: &Ctx<'_>, field: &str, ip: IpAddr) -> Check {
    let broadcast = matches!(ip, IpAddr::V4(a) if a.is_broadcast());
    if ip.is_unspecified() || ip.is_multicast() || broadcast {
        Err(cx.field(field, format!("{ip} is not a host address")))
    } else {
        Ok(())
    }
}

/// A route: pure destination prefix, next hop of the same family and a host.
pub(crate) fn host_route(cx: &Ctx<'_>, field: &str, route: &HostRoute) -> Check {
    pure_prefix(cx, &format!("{field}.destination"), &route.destination)?;
    let nexthop = format!("{field}.nexthop");
    if route.destination.is_ipv4() != route.nexthop.is_ipv4() {
        return Err(cx.field(
            nexthop,
            format!(
                "{} is not of the same IP version as destination {}",
                route.nexthop, route.destination
            ),
        ));
    }
    host_address(cx, &nexthop, route.nexthop)
}

pub(crate) fn host_routes(cx: &Ctx<'_>, field: &str, routes: &[HostRoute]) -> Check {
    for (i, r) in routes.iter().enumerate() {
        host_route(cx, &format!("{field}[{i}]"), r)?;
    }
    Ok(())
}

/// An MTU: 68 (IPv4 minimum) ..= 65535.
pub(crate) fn mtu(cx: &Ctx<'_>, field: &str, mtu: Option<u32>) -> Check {
    match mtu {
        Some(m) if !(68..=65535).contains(&m) => Err(cx.field(
            field,
            format!("{m} is not a valid MTU (expected 68..=65535)"),
        )),
        _ => Ok(()),
    }
}

/// A timestamp in seconds since the epoch: finite and not negative.
pub(crate) fn timestamp(cx: &Ctx<'_>, field: &str, t: Option<f64>) -> Check {
    match t {
        Some(t) if !t.is_finite() || t < 0.0 => Err(cx.field(
            field,
            format!("{t} is not a timestamp (expected seconds since the epoch, >= 0)"),
        )),
        _ => Ok(()),
    }
}

/// Embedded objects' ids: valid and distinct.
pub(crate) fn embedded_ids<'a>(
    cx: &Ctx<'_>,
    field: &str,
    ids: impl Iterator<Item = &'a str>,
) -> Check {
    let mut seen: Vec<&str> = Vec::new();
    for (i, id) in ids.enumerate() {
        let path = format!("{field}[{i}].id");
        reference(cx, &path, id)?;
        if seen.contains(&id) {
            return Err(cx.field(path, format!("`{id}` is used by two entries")));
        }
        seen.push(id);
    }
    Ok(())
}
