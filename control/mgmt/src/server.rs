//! The server side: [`Handler`] (what the daemon implements) and [`serve`]
//! (the socket loop).
//!
//! Why one task per connection and one spawned task per request: a slow
//! request (a large store list) holds up only its own connection, and a
//! handler that panics costs one `failed` answer, not the connection or the
//! daemon. Lines are read with a hard limit ([`crate::MAX_REQUEST_LINE`]) so
//! a client cannot make the daemon buffer without bound; a line that is too
//! long or not a request is answered with a `bad-request` error and the
//! connection goes on.

use std::future::Future;
use std::io;
use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::path::Path;
use std::pin::Pin;
use std::sync::Arc;

use serde_json::Value;
use tokio::io::{AsyncBufRead, AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{UnixListener, UnixStream};
use tokio::sync::watch;
use tokio::task::JoinSet;

use crate::proto::{ErrorKind, Failure, Request, Response};
use crate::MAX_REQUEST_LINE;

/// The future a [`Handler`] returns.
pub type HandlerFuture<'a> = Pin<Box<dyn Future<Output = Result<Value, Failure>> + Send + 'a>>;

/// What the daemon implements: one answer per request.
///
/// The result shapes `dfctl` expects are the types of [`crate::views`]
/// (serialise them with `serde_json::to_value`); store requests are answered
/// by [`crate::handle_store`]. Answer operations the daemon does not
/// implement with [`Failure::unsupported`].
pub trait Handler: Send + Sync + 'static {
    /// Answers `req`.
    fn handle(&self, req: Request) -> HandlerFuture<'_>;
}

/// Serves `handler` on a unix socket at `path` until `stop` becomes true.
///
/// Creates the socket's directory if missing, removes a stale socket file (one
/// nobody answers on), and makes the socket `0660` (owner and group may
/// manage the switch). Each connection is served by its own task; all are
/// ended when `stop` fires, and the socket file is removed.
///
/// # Errors
/// `AddrInUse` when another process answers on `path`; `AlreadyExists` when
/// `path` is something other than a socket; the I/O error of creating the
/// directory, binding or setting the mode.
pub async fn serve(
    path: &Path,
    handler: Arc<dyn Handler>,
    mut stop: watch::Receiver<bool>,
) -> io::Result<()> {
    prepare_path(path).await?;
    let listener = UnixListener::bind(path)?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o660))?;
    let mut connections = JoinSet::new();
    loop {
        if *stop.borrow() {
            break;
        }
        tokio::select! {
            changed = stop.changed() => {
                if changed.is_err() || *stop.borrow() {
                    break;
                }
            }
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    connections.spawn(connection(stream, handler.clone()));
                }
                // A failed accept (out of file descriptors, ...) concerns that
                // one client; keep serving the others.
                Err(_) => tokio::time::sleep(std::time::Duration::from_millis(10)).await,
            },
            // Reap finished connections so the set does not grow.
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
    connections.shutdown().await;
    let _ = std::fs::remove_file(path);
    Ok(())
}

async fn prepare_path(path: &Path) -> io::Result<()> {
    if let Some(dir) = path.parent() {
        if !dir.as_os_str().is_empty() {
            tokio::fs::create_dir_all(dir).await?;
        }
    }
    match std::fs::symlink_metadata(path) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e),
        Ok(meta) if meta.file_type().is_socket() => {
            if UnixStream::connect(path).await.is_ok() {
                return Err(io::Error::new(
                    io::ErrorKind::AddrInUse,
                    format!(
                        "{} is in use: another dfswitchd answers on it; stop it or configure another socket",
                        path.display()
                    ),
                ));
            }
            std::fs::remove_file(path)
        }
        Ok(_) => Err(io::Error::new(
            io::ErrorKind::AlreadyExists,
            format!(
                "{} exists and is not a socket; move it away or configure another socket path",
                path.display()
            ),
        )),
    }
}

async fn connection(stream: UnixStream, handler: Arc<dyn Handler>) {
    let (read, mut write) = stream.into_split();
    let mut reader = BufReader::new(read);
    let mut line = Vec::new();
    loop {
        let response = match read_line_limited(&mut reader, &mut line, MAX_REQUEST_LINE).await {
            Ok(Line::Eof) | Err(_) => return,
            Ok(Line::TooLong) => Response::failure(Failure::new(
                ErrorKind::BadRequest,
                format!(
                    "request line longer than {MAX_REQUEST_LINE} bytes; send one JSON request per line"
                ),
            )),
            Ok(Line::Complete) => {
                let text = line.trim_ascii();
                if text.is_empty() {
                    continue;
                }
                match serde_json::from_slice::<Request>(text) {
                    Err(e) => Response::failure(Failure::new(
                        ErrorKind::BadRequest,
                        format!(
                            "cannot read the request: {e}; send one JSON object per line, e.g. {{\"op\":\"status\"}}"
                        ),
                    )),
                    Ok(req) => answer(&handler, req).await,
                }
            }
        };
        let mut bytes = match serde_json::to_vec(&response) {
            Ok(b) => b,
            // A handler's result is a `Value`, which always serialises.
            Err(_) => {
                br#"{"ok":false,"error":"dfswitchd could not encode its answer","kind":"failed"}"#
                    .to_vec()
            }
        };
        bytes.push(b'\n');
        if write.write_all(&bytes).await.is_err() {
            return;
        }
    }
}

/// Runs the handler in its own task so a panic becomes a `failed` answer.
async fn answer(handler: &Arc<dyn Handler>, req: Request) -> Response {
    let op = req.op();
    let h = handler.clone();
    match tokio::spawn(async move { h.handle(req).await }).await {
        Ok(result) => result.into(),
        Err(e) => Response::failure(Failure::new(
            ErrorKind::Failed,
            format!("dfswitchd failed while answering `{op}` ({e}); this is a bug: please report it with dfswitchd's log"),
        )),
    }
}

/// What [`read_line_limited`] found.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Line {
    /// `buf` holds a line (without its `\n`).
    Complete,
    /// The line was longer than the limit; it was read and thrown away.
    TooLong,
    /// End of stream with nothing buffered.
    Eof,
}

/// Reads one `\n`-terminated line into `buf` (cleared first), never holding
/// more than `max` bytes. A last line without `\n` counts as complete.
pub(crate) async fn read_line_limited<R: AsyncBufRead + Unpin>(
    reader: &mut R,
    buf: &mut Vec<u8>,
    max: usize,
) -> io::Result<Line> {
    buf.clear();
    let mut too_long = false;
    loop {
        let chunk = reader.fill_buf().await?;
        if chunk.is_empty() {
            return Ok(match (too_long, buf.is_empty()) {
                (true, _) => Line::TooLong,
                (false, true) => Line::Eof,
                (false, false) => Line::Complete,
            });
        }
        let (take, done) = match chunk.iter().position(|&b| b == b'\n') {
            Some(i) => (i, true),
            None => (chunk.len(), false),
        };
        if !too_long {
            if buf.len() + take > max {
                too_long = true;
                buf.clear();
            } else {
                buf.extend_from_slice(&chunk[..take]);
            }
        }
        reader.consume(if done { take + 1 } else { take });
        if done {
            return Ok(if too_long {
                Line::TooLong
            } else {
                Line::Complete
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn lines_are_limited() {
        let data = b"abc\n0123456789\nxy".to_vec();
        let mut r = BufReader::with_capacity(4, &data[..]);
        let mut buf = Vec::new();
        assert_eq!(
            read_line_limited(&mut r, &mut buf, 5).await.unwrap(),
            Line::Complete
        );
        assert_eq!(buf, b"abc");
        assert_eq!(
            read_line_limited(&mut r, &mut buf, 5).await.unwrap(),
            Line::TooLong
        );
        assert_eq!(
            read_line_limited(&mut r, &mut buf, 5).await.unwrap(),
            Line::Complete
        );
        assert_eq!(buf, b"xy");
        assert_eq!(
            read_line_limited(&mut r, &mut buf, 5).await.unwrap(),
            Line::Eof
        );
    }
}
