//! The contract of an adapter: a pure translator between one external
//! protocol and the command vocabulary. It gets the bytes and what it may know
//! of the world (the time, passed in); it never touches the database, HTTP or
//! the clock. See `adapters/README.md`.

use chrono::{DateTime, Utc};

use super::{apply::Report, command::Batch};

/// Why a request could not be read at all; the whole call is rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct WireError {
    /// A stable code for the protocol's answer (`MALFORMED`, `UNKNOWN_OPERATION`, …).
    pub code: &'static str,
    /// In words, for the caller and the integrations log.
    pub message: String,
}

impl WireError {
    /// A malformed request.
    pub fn malformed(message: impl Into<String>) -> Self {
        WireError { code: "MALFORMED", message: message.into() }
    }

    /// An operation the adapter does not have.
    pub fn unknown_operation(operation: &str) -> Self {
        WireError { code: "UNKNOWN_OPERATION", message: format!("unknown operation {operation}") }
    }
}

/// What an adapter may know besides the bytes.
#[derive(Debug, Clone, Default)]
pub struct Context {
    /// Now, as the caller sees it.
    pub now: DateTime<Utc>,
    /// The company's choices for VTEX (read by the VTEX adapter only), so
    /// that a call, a replay and a file import are read alike.
    pub vtex: crate::companies::VtexOptions,
    /// The company's status mappings (read by the storefront adapters), so
    /// that a replay after a mapping is added reads the status anew.
    pub mappings: std::sync::Arc<crate::status_mappings::StatusMappings>,
}

/// One external system. Implementations live in `adapters/<system>`.
pub trait Adapter: Send + Sync {
    /// Its name in runs and URLs (`totvs-r2`, `rastro-csv`).
    fn name(&self) -> &'static str;

    /// The operation a saved request names, for protocols that say it in
    /// the body (SOAP); `None` where the caller must say it.
    fn operation_of(&self, body: &[u8]) -> Option<String>;

    /// Reads a request of `operation`.
    fn parse(&self, operation: &str, body: &[u8], context: &Context) -> Result<Batch, WireError>;

    /// The protocol's answer to a request whose records were applied.
    fn render(&self, operation: &str, report: &Report) -> Vec<u8>;

    /// The protocol's answer to a request that was refused whole.
    fn render_rejection(&self, operation: &str, error: &WireError) -> Vec<u8>;

    /// What of [`Context`] it reads besides the time, so that a call loads
    /// only that.
    fn reads(&self) -> Reads {
        Reads::default()
    }
}

/// The parts of [`Context`] an adapter reads.
#[derive(Debug, Clone, Copy, Default)]
pub struct Reads {
    /// [`Context::vtex`].
    pub vtex_options: bool,
    /// [`Context::mappings`].
    pub status_mappings: bool,
}
