//! `df-mgmt`: the management protocol of `dfswitchd`, served on a local unix
//! socket and spoken by `dfctl`.
//!
//! Why a crate of its own: the daemon and the CLI are built by different
//! hands at different times, and the protocol is the contract between them.
//! Keeping the request enum, the response envelope, the result shapes
//! ([`views`]) and the store proxy ([`handle_store`] / the `Client::store_*`
//! calls) in one place means both sides compile against the same types, so
//! they cannot drift apart silently.
//!
//! The wire format is JSON lines: one request object per line, one response
//! object per line, in order, on a connection that may carry many requests.
//!
//! ```text
//! -> {"op":"status"}
//! <- {"ok":true,"result":{"chassis":"host1","uptime_secs":12.5,...}}
//! -> {"op":"store","action":"get","key":"/dragonflow/lswitch/net1"}
//! <- {"ok":true,"result":{"key":"/dragonflow/lswitch/net1","value":"{...}","mod_revision":7,...}}
//! -> {"op":"trace","port":"vm1","frame_hex":"ffffffffffff..."}
//! <- {"ok":false,"error":"switch port `vm1` not found ...","kind":"not-found"}
//! ```
//!
//! What is here:
//! - [`Request`], [`StoreRequest`], [`PutExpect`], [`Response`], [`Failure`]
//!   and [`ErrorKind`]: the protocol;
//! - [`Handler`] and [`serve`]: the server side (the daemon implements the
//!   handler);
//! - [`Client`] and [`MgmtError`]: the client side, with a timeout per call;
//! - [`handle_store`]: the server side of [`Request::Store`] over any
//!   [`df_store::Store`], so every daemon proxies its store the same way;
//! - [`views`]: the result shapes of the daemon's show and trace requests.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod client;
mod proto;
mod server;
mod store;
pub mod views;

use std::time::Duration;

pub use client::{Client, MgmtError};
pub use proto::{ErrorKind, Failure, PutExpect, Request, Response, StoreRequest};
pub use server::{serve, Handler, HandlerFuture};
pub use store::{handle_store, KeyValueView, StoreStatusView};

/// Where `dfswitchd` listens unless configured otherwise.
pub const DEFAULT_SOCKET: &str = "/run/dragonflow-rs/dfswitchd.sock";

/// The longest request line the server reads (1 MiB); a longer one is
/// answered with a `bad-request` error and skipped.
pub const MAX_REQUEST_LINE: usize = 1 << 20;

/// The longest response line the client reads (256 MiB: a `list` of a large
/// NB database can be big).
pub const MAX_RESPONSE_LINE: usize = 256 << 20;

/// How long the client waits for a connection or an answer by default.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5);
