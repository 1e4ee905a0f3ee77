//! Errors that decide dfctl's exit code.
//!
//! Why a small enum inside an anyhow binary: the exit code is part of the
//! interface (scripts test it), so every failure is classified where it
//! happens: [`CliError::Failed`] (1: not found, conflict, invalid object),
//! [`CliError::Usage`] (2: like clap's own usage errors) and
//! [`CliError::Unreachable`] (3: the store or the daemon cannot be reached).
//! Anything else that reaches `main` counts as a failure (1).

/// A classified failure; its message names the object, the field and the fix.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// The operation failed (exit code 1).
    #[error("{0}")]
    Failed(String),
    /// The command line is wrong in a way clap cannot see (exit code 2).
    #[error("{0}")]
    Usage(String),
    /// The store or the daemon cannot be reached (exit code 3).
    #[error("{0}")]
    Unreachable(String),
}

impl CliError {
    /// The process exit code.
    pub fn exit_code(&self) -> u8 {
        match self {
            CliError::Failed(_) => 1,
            CliError::Usage(_) => 2,
            CliError::Unreachable(_) => 3,
        }
    }
}

/// Returns early with [`CliError::Failed`] and a formatted message.
macro_rules! fail {
    ($($arg:tt)*) => {
        return Err($crate::error::CliError::Failed(format!($($arg)*)).into())
    };
}
pub(crate) use fail;

/// The exit code for any error that reached `main`.
pub fn exit_code(err: &anyhow::Error) -> u8 {
    err.chain()
        .find_map(|e| {
            e.downcast_ref::<CliError>()
                .map(CliError::exit_code)
                .or_else(|| {
                    e.downcast_ref::<crate::db::DbError>()
                        .map(|d| d.exit_code())
                })
        })
        .unwrap_or(1)
}
