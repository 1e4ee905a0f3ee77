//! The client side: [`Client`], one connection to `dfswitchd`, and
//! [`MgmtError`].
//!
//! Why the errors are shaped so: the operator running `dfctl` needs to know
//! whether the daemon is not there (start it, or talk to the store
//! directly), stuck (a timeout), or refused the request (its message, which
//! names the object and the fix). [`MgmtError::is_unreachable`] separates the
//! first two from the last, which `dfctl` turns into exit code 3.

use std::io;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::Value;
use tokio::io::{AsyncWriteExt, BufReader};
use tokio::net::unix::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::UnixStream;
use tokio::sync::Mutex;

use crate::proto::{ErrorKind, Failure, Request, Response};
use crate::server::{read_line_limited, Line};
use crate::{DEFAULT_TIMEOUT, MAX_RESPONSE_LINE};

/// Why a call to `dfswitchd` failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MgmtError {
    /// Nothing answers on the socket.
    #[error(
        "cannot connect to dfswitchd at {}: {source}; is dfswitchd running? \
         (start it, or use --db etcd://... to talk to etcd directly)",
        path.display()
    )]
    Unreachable {
        /// The socket path.
        path: PathBuf,
        /// What `connect` said.
        source: io::Error,
    },
    /// The daemon did not answer in time.
    #[error(
        "dfswitchd at {} did not answer `{op}` within {} s; is it stuck? (see its log)",
        path.display(), after.as_secs_f64()
    )]
    Timeout {
        /// The socket path.
        path: PathBuf,
        /// The request's op.
        op: &'static str,
        /// The timeout.
        after: Duration,
    },
    /// The connection broke mid-call.
    #[error("connection to dfswitchd at {} lost during `{op}`: {reason}; is dfswitchd still running?", path.display())]
    Disconnected {
        /// The socket path.
        path: PathBuf,
        /// The request's op.
        op: &'static str,
        /// What happened.
        reason: String,
    },
    /// The daemon answered something that is not a response.
    #[error(
        "dfswitchd at {} sent an answer to `{op}` that cannot be read: {reason}; \
         are dfctl and dfswitchd of the same version?",
        path.display()
    )]
    BadResponse {
        /// The socket path.
        path: PathBuf,
        /// The request's op.
        op: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// The daemon refused the request.
    #[error("{0}")]
    Refused(Failure),
}

impl MgmtError {
    /// The daemon cannot be reached (not running, stuck, gone mid-call).
    pub fn is_unreachable(&self) -> bool {
        matches!(
            self,
            MgmtError::Unreachable { .. }
                | MgmtError::Timeout { .. }
                | MgmtError::Disconnected { .. }
        ) || self.kind() == Some(ErrorKind::Unavailable)
    }

    /// The kind of a refusal.
    pub fn kind(&self) -> Option<ErrorKind> {
        match self {
            MgmtError::Refused(f) => Some(f.kind),
            _ => None,
        }
    }
}

#[derive(Debug)]
struct Conn {
    reader: BufReader<OwnedReadHalf>,
    writer: OwnedWriteHalf,
    line: Vec<u8>,
    /// A call timed out or broke mid-exchange: a late answer could still
    /// arrive and be taken for the next call's, so the connection is dead.
    broken: bool,
}

/// A connection to `dfswitchd`'s management socket.
///
/// # Thread-safety
/// `Send + Sync`; calls from several tasks are serialised on the one
/// connection (a mutex held across the request and its answer), so answers
/// never cross.
#[derive(Debug)]
pub struct Client {
    path: PathBuf,
    timeout: Duration,
    conn: Mutex<Conn>,
}

impl Client {
    /// Connects with the default timeout (5 s).
    ///
    /// # Errors
    /// [`MgmtError::Unreachable`] when nothing answers on `path`;
    /// [`MgmtError::Timeout`] when connecting takes longer than the timeout.
    pub async fn connect(path: impl AsRef<Path>) -> Result<Client, MgmtError> {
        Client::connect_with_timeout(path, DEFAULT_TIMEOUT).await
    }

    /// Connects; `timeout` also bounds every later [`Client::call`].
    ///
    /// # Errors
    /// As [`Client::connect`].
    pub async fn connect_with_timeout(
        path: impl AsRef<Path>,
        timeout: Duration,
    ) -> Result<Client, MgmtError> {
        let path = path.as_ref().to_path_buf();
        let stream = match tokio::time::timeout(timeout, UnixStream::connect(&path)).await {
            Err(_) => {
                return Err(MgmtError::Timeout {
                    path,
                    op: "connect",
                    after: timeout,
                })
            }
            Ok(Err(source)) => return Err(MgmtError::Unreachable { path, source }),
            Ok(Ok(s)) => s,
        };
        let (read, writer) = stream.into_split();
        Ok(Client {
            path,
            timeout,
            conn: Mutex::new(Conn {
                reader: BufReader::new(read),
                writer,
                line: Vec::new(),
                broken: false,
            }),
        })
    }

    /// The socket path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Sends `req` and waits for its answer.
    ///
    /// # Errors
    /// [`MgmtError::Refused`] with the daemon's message when it refused;
    /// [`MgmtError::Timeout`], [`MgmtError::Disconnected`] or
    /// [`MgmtError::BadResponse`] when the exchange itself failed.
    pub async fn call(&self, req: &Request) -> Result<Value, MgmtError> {
        let op = req.op();
        let mut conn = self.conn.lock().await;
        if conn.broken {
            return Err(MgmtError::Disconnected {
                path: self.path.clone(),
                op,
                reason: "an earlier call on this connection failed; connect again".into(),
            });
        }
        let result = tokio::time::timeout(self.timeout, exchange(&mut conn, req)).await;
        conn.broken = !matches!(result, Ok(Ok(_)));
        match result {
            Err(_) => Err(MgmtError::Timeout {
                path: self.path.clone(),
                op,
                after: self.timeout,
            }),
            Ok(Err(Exchange::Io(reason))) => Err(MgmtError::Disconnected {
                path: self.path.clone(),
                op,
                reason,
            }),
            Ok(Err(Exchange::Bad(reason))) => Err(MgmtError::BadResponse {
                path: self.path.clone(),
                op,
                reason,
            }),
            Ok(Ok(resp)) => resp.into_result().map_err(MgmtError::Refused),
        }
    }
}

enum Exchange {
    Io(String),
    Bad(String),
}

async fn exchange(conn: &mut Conn, req: &Request) -> Result<Response, Exchange> {
    let mut bytes = serde_json::to_vec(req).map_err(|e| Exchange::Bad(e.to_string()))?;
    bytes.push(b'\n');
    conn.writer
        .write_all(&bytes)
        .await
        .map_err(|e| Exchange::Io(e.to_string()))?;
    let Conn { reader, line, .. } = conn;
    match read_line_limited(reader, line, MAX_RESPONSE_LINE).await {
        Err(e) => Err(Exchange::Io(e.to_string())),
        Ok(Line::Eof) => Err(Exchange::Io("the daemon closed the connection".into())),
        Ok(Line::TooLong) => Err(Exchange::Bad(format!(
            "answer longer than {MAX_RESPONSE_LINE} bytes"
        ))),
        Ok(Line::Complete) => {
            serde_json::from_slice(line).map_err(|e| Exchange::Bad(e.to_string()))
        }
    }
}
