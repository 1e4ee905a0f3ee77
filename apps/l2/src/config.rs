//! What control hands `l2`: each network's ports and their MACs.

use df_wire::EthernetAddress;
use serde::{Deserialize, Deserializer};

/// The forwarding database, by network.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct L2Config {
    /// The networks.
    pub networks: Vec<L2Network>,
}

/// One logical network.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct L2Network {
    /// The network's unique key (non-zero).
    pub network_key: u32,
    /// Its ports.
    pub ports: Vec<L2Port>,
}

/// One port of a network.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct L2Port {
    /// The logical port's unique key (non-zero).
    pub port_key: u32,
    /// Its MAC address (unicast), written `aa:bb:cc:dd:ee:ff`.
    #[serde(deserialize_with = "mac")]
    pub mac: EthernetAddress,
}

fn mac<'de, D: Deserializer<'de>>(d: D) -> Result<EthernetAddress, D::Error> {
    let s = String::deserialize(d)?;
    s.parse().map_err(|_| {
        serde::de::Error::custom(format!(
            "`{s}` is not a MAC address (expected six hex bytes, e.g. fa:16:3e:00:00:01)"
        ))
    })
}
