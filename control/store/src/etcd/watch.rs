//! Delivery of one etcd watch into a [`WatchStream`] channel.
//!
//! Why a task per watch: etcd multiplexes watches on a gRPC stream that must be polled
//! to make progress; a task owns that stream, turns each response into a
//! [`WatchBatch`], and ends the channel with the one error that tells the controller
//! what to do next (`Compacted`: re-list; `Unavailable`: reconnect, re-list). Dropping
//! the [`WatchStream`] closes the channel, which ends the task and with it the gRPC
//! stream (etcd then drops the watcher).

use etcd_client::{EventType, WatchResponse};
use tokio::sync::mpsc;

use super::{convert, kind, Kind};
use crate::{Event, Revision, StoreError, WatchBatch};

/// Forwards `stream` (whose `created` response was `first`) into `tx`. `next` is the
/// first revision not yet delivered.
pub(super) async fn deliver(
    mut stream: etcd_client::WatchStream,
    first: WatchResponse,
    mut next: Revision,
    endpoint: String,
    tx: mpsc::Sender<Result<WatchBatch, StoreError>>,
) {
    let unavailable = |reason: String| StoreError::Unavailable {
        endpoint: endpoint.clone(),
        reason,
    };
    // etcd 3.4 confirms a watch on a compacted revision, then cancels it; a newer etcd
    // may do both in the first response.
    let mut pending = first.canceled().then_some(first);
    loop {
        let msg = match pending.take() {
            Some(resp) => Ok(Some(resp)),
            None => tokio::select! {
                msg = stream.message() => msg,
                () = tx.closed() => return,
            },
        };
        let resp = match msg {
            Ok(Some(resp)) => resp,
            Ok(None) => {
                let _ = tx
                    .send(Err(unavailable("etcd closed the watch stream".to_string())))
                    .await;
                return;
            }
            Err(e) => {
                let reason = match kind(&e) {
                    Kind::Unavailable(r) | Kind::Other(r) => r,
                    _ => e.to_string(),
                };
                let _ = tx.send(Err(unavailable(reason))).await;
                return;
            }
        };
        if resp.canceled() {
            let err = if resp.compact_revision() > 0 {
                StoreError::Compacted {
                    requested: next,
                    compact_revision: resp.compact_revision(),
                }
            } else {
                let why = resp.cancel_reason();
                unavailable(if why.is_empty() {
                    "etcd canceled the watch".to_string()
                } else {
                    why.to_string()
                })
            };
            let _ = tx.send(Err(err)).await;
            return;
        }
        let events = events_of(&resp);
        // Progress notifications and the `created` response carry no events.
        let Some(revision) = events.last().map(Event::mod_revision) else {
            continue;
        };
        next = revision + 1;
        if tx.send(Ok(WatchBatch { revision, events })).await.is_err() {
            return;
        }
    }
}

/// The events of one watch response, in etcd's (revision) order.
fn events_of(resp: &WatchResponse) -> Vec<Event> {
    resp.events()
        .iter()
        .filter_map(|ev| {
            let kv = ev.kv()?;
            Some(match ev.event_type() {
                EventType::Put => Event::Put(convert(kv)),
                EventType::Delete => Event::Delete {
                    key: String::from_utf8_lossy(kv.key()).into_owned(),
                    mod_revision: kv.mod_revision(),
                },
            })
        })
        .collect()
}
