//! E-mail: each company's SMTP sender, notification rules and templates, the
//! transactional outbox and the worker that delivers it, and password resets.
//!
//! # How a status mail travels
//! 1. A lifecycle command applies a status change and, in the same transaction,
//!    [`outbox::enqueue_status_change`] writes a `notifications` row (`PENDING`,
//!    or `HELD` while the company has no SMTP settings) with what the mail will
//!    say but not yet rendered. A unique index allows one such row per history
//!    entry. The worker renders it (bounded, off the async runtime) just before
//!    sending, so a company's template never runs inside a write transaction.
//! 2. The [`worker`] claims due rows (`FOR UPDATE SKIP LOCKED` on PostgreSQL,
//!    so several processes never claim the same row), marks them `SENDING` with
//!    a lease, sends through the company's SMTP server with lettre, and records
//!    the attempt: `SENT`, or back to `PENDING` with exponential backoff, or
//!    `FAILED` when attempts run out or the server refuses for good.
//! 3. A row found `SENDING` after its lease expired belongs to a worker that
//!    stopped mid-send: the server may or may not have accepted it, so it is
//!    marked `FAILED` rather than sent again. Mails go out at most once; a
//!    company user can `resend` one explicitly.

mod crypto;
mod mailer;
pub use mailer::check_root_certificate;
pub mod smtp_host;
pub mod outbox;
pub mod reset;
pub mod settings;
pub mod template_guard;
pub mod templates;
pub mod worker;

use std::time::Duration;

pub use crypto::SecretKey;
use secrecy::SecretString;

/// Mail configuration, fixed at startup.
#[derive(Clone)]
pub struct MailSettings {
    /// Encrypts SMTP passwords at rest.
    pub secret_key: SecretKey,
    /// Base of links in mails (order summary, password reset).
    pub public_base_url: String,
    /// The platform's own sender (`smtp://user:pass@host:port`,
    /// `smtps://…`), used for password mails of companies without SMTP settings.
    pub platform_smtp_url: Option<SecretString>,
    /// `From` of platform mails, e.g. `Rastro <no-reply@example.com>`.
    pub platform_from: String,
    /// Attempts before a mail is given up.
    pub max_attempts: i32,
    /// Wait after the first failed attempt; doubles with each further one.
    pub backoff_base: Duration,
    /// Longest wait between attempts.
    pub backoff_max: Duration,
    /// How often the worker looks for due mails when not woken.
    pub poll_interval: Duration,
    /// How long a claimed mail belongs to the worker sending it.
    pub lease: Duration,
    /// Connection and command timeout towards SMTP servers.
    pub smtp_timeout: Duration,
    /// How long a connection to a company's SMTP server stays open unused
    /// before the worker closes it.
    pub smtp_idle: Duration,
    /// Longest a `sendTestEmail` may take altogether, so a server that
    /// accepts and never answers cannot hold the request.
    pub test_email_timeout: Duration,
    /// Whether company SMTP hosts may be internal addresses (loopback,
    /// private, link-local, …; see [`smtp_host`]). Off in production: on, a
    /// company could make the platform connect inside its network.
    pub allow_private_smtp: bool,
    /// PEM certificates trusted for company SMTP servers besides the public
    /// roots (a private CA's relay). Checked when a transport is built.
    pub extra_root_certificates: Vec<Vec<u8>>,
}

impl MailSettings {
    /// Sensible production values around the required parts.
    pub fn new(secret_key: SecretKey, public_base_url: String) -> Self {
        MailSettings {
            secret_key,
            public_base_url,
            platform_smtp_url: None,
            platform_from: "Rastro <no-reply@rastro.local>".into(),
            max_attempts: 8,
            backoff_base: Duration::from_secs(30),
            backoff_max: Duration::from_secs(3600),
            poll_interval: Duration::from_secs(2),
            lease: Duration::from_secs(300),
            smtp_timeout: Duration::from_secs(20),
            smtp_idle: Duration::from_secs(60),
            test_email_timeout: Duration::from_secs(10),
            allow_private_smtp: false,
            extra_root_certificates: Vec::new(),
        }
    }

    /// The wait before attempt `attempts + 1`.
    pub fn backoff(&self, attempts: i32) -> Duration {
        let exponent = u32::try_from(attempts.saturating_sub(1)).unwrap_or(0).min(20);
        self.backoff_base.saturating_mul(1 << exponent).min(self.backoff_max)
    }
}
