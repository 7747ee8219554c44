//! Webhook signatures: HMAC-SHA256 with the company's secret, compared in
//! constant time (`hmac`'s `verify_slice`), against each secret the company
//! has (the current one, and the previous one through its grace period).
//!
//! | platform | header | signed bytes | encoding |
//! |---|---|---|---|
//! | Shopify | `X-Shopify-Hmac-Sha256` | the raw body | base64 |
//! | Nuvemshop | `X-Linkedstore-HMAC-SHA256` | the raw body | hex |
//! | generic (Rastro) | `X-Rastro-Signature: sha256=<hex>` with `X-Rastro-Timestamp: <unix seconds>` | `<timestamp>.<raw body>` | hex |
//! | Magento | as the generic event, or the secret itself in `X-Rastro-Webhook-Secret` | — | — |
//!
//! Magento signs nothing itself: Adobe Commerce webhooks (`webhooks.xml`)
//! can only add fixed headers, so a Magento call may carry the secret as a
//! header (compared in constant time; it is as strong as a bearer token over
//! TLS, and cannot stop a replay), or be signed like the generic event by a
//! module or middleware that can.
//!
//! The generic event's timestamp is signed with the body, and one more than
//! [`MAX_SKEW_SECONDS`] away from now is refused, so a captured call cannot
//! be replayed later.

use base64::{engine::general_purpose::STANDARD, Engine};
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// How far a generic event's timestamp may be from now, either way.
pub const MAX_SKEW_SECONDS: i64 = 5 * 60;

/// Why a signature was not accepted; each is a 401.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    /// The company has no secret for the platform.
    #[error("no webhook secret is set for this platform: set one with setWebhookSecret")]
    NoSecret,
    /// A header is missing.
    #[error("the {0} header is missing")]
    Missing(&'static str),
    /// A header is not what the platform sends.
    #[error("the {0} header is malformed")]
    Malformed(&'static str),
    /// The timestamp is too far from now.
    #[error("the timestamp is {0} s away from now; at most {MAX_SKEW_SECONDS} s is accepted")]
    Stale(i64),
    /// No secret signs these bytes so.
    #[error("the signature does not match")]
    Mismatch,
}

/// The HMAC-SHA256 of `message` with `secret`.
pub fn sign(secret: &[u8], message: &[u8]) -> [u8; 32] {
    let mut mac = keyed(secret);
    mac.update(message);
    mac.finalize().into_bytes().into()
}

fn keyed(secret: &[u8]) -> HmacSha256 {
    // HMAC takes a key of any length: this cannot fail.
    <HmacSha256 as Mac>::new_from_slice(secret).unwrap_or_else(|_| unreachable!("HMAC accepts any key length"))
}

/// Whether one of `secrets` signs `parts` (concatenated) as `signature`.
fn signed_by_one(secrets: &[&[u8]], parts: &[&[u8]], signature: &[u8]) -> Result<(), SignatureError> {
    if secrets.is_empty() {
        return Err(SignatureError::NoSecret);
    }
    // Every secret is tried, so the time taken says nothing of which matched.
    let mut matched = false;
    for secret in secrets {
        let mut mac = keyed(secret);
        for part in parts {
            mac.update(part);
        }
        matched |= mac.verify_slice(signature).is_ok();
    }
    if matched {
        Ok(())
    } else {
        Err(SignatureError::Mismatch)
    }
}

/// Checks Shopify's `X-Shopify-Hmac-Sha256` (base64) over the raw body.
pub fn shopify(secrets: &[&[u8]], body: &[u8], header: Option<&str>) -> Result<(), SignatureError> {
    const HEADER: &str = "X-Shopify-Hmac-Sha256";
    let sent = header.map(str::trim).filter(|h| !h.is_empty()).ok_or(SignatureError::Missing(HEADER))?;
    let signature = STANDARD.decode(sent).map_err(|_| SignatureError::Malformed(HEADER))?;
    signed_by_one(secrets, &[body], &signature)
}

/// Checks Nuvemshop's `X-Linkedstore-HMAC-SHA256` (hex) over the raw body.
pub fn nuvemshop(secrets: &[&[u8]], body: &[u8], header: Option<&str>) -> Result<(), SignatureError> {
    const HEADER: &str = "X-Linkedstore-HMAC-SHA256";
    let sent = header.map(str::trim).filter(|h| !h.is_empty()).ok_or(SignatureError::Missing(HEADER))?;
    let signature = hex::decode(sent).map_err(|_| SignatureError::Malformed(HEADER))?;
    signed_by_one(secrets, &[body], &signature)
}

/// The generic event's headers.
pub const TIMESTAMP_HEADER: &str = "X-Rastro-Timestamp";
/// See [`TIMESTAMP_HEADER`].
pub const SIGNATURE_HEADER: &str = "X-Rastro-Signature";

/// Checks the generic event's `X-Rastro-Signature: sha256=<hex>` over
/// `<X-Rastro-Timestamp>.<raw body>`, and that the timestamp is within
/// [`MAX_SKEW_SECONDS`] of `now`.
pub fn generic(
    secrets: &[&[u8]],
    body: &[u8],
    timestamp: Option<&str>,
    signature: Option<&str>,
    now: DateTime<Utc>,
) -> Result<(), SignatureError> {
    let timestamp = timestamp.map(str::trim).filter(|t| !t.is_empty()).ok_or(SignatureError::Missing(TIMESTAMP_HEADER))?;
    let seconds: i64 = timestamp.parse().map_err(|_| SignatureError::Malformed(TIMESTAMP_HEADER))?;
    let sent = signature.map(str::trim).filter(|s| !s.is_empty()).ok_or(SignatureError::Missing(SIGNATURE_HEADER))?;
    let hex_part = sent.strip_prefix("sha256=").ok_or(SignatureError::Malformed(SIGNATURE_HEADER))?;
    let signature = hex::decode(hex_part).map_err(|_| SignatureError::Malformed(SIGNATURE_HEADER))?;
    let skew = now.timestamp().saturating_sub(seconds);
    if skew.saturating_abs() > MAX_SKEW_SECONDS {
        return Err(SignatureError::Stale(skew));
    }
    signed_by_one(secrets, &[timestamp.as_bytes(), b".", body], &signature)
}

/// The header that carries a Magento webhook's secret itself.
pub const SECRET_HEADER: &str = "X-Rastro-Webhook-Secret";

/// Checks a Magento call: like [`generic`] when it carries
/// [`SIGNATURE_HEADER`], else by the secret in [`SECRET_HEADER`].
pub fn magento(
    secrets: &[&[u8]],
    body: &[u8],
    timestamp: Option<&str>,
    signature: Option<&str>,
    secret: Option<&str>,
    now: DateTime<Utc>,
) -> Result<(), SignatureError> {
    if signature.is_some() {
        return generic(secrets, body, timestamp, signature, now);
    }
    let sent = secret.map(str::trim).filter(|s| !s.is_empty()).ok_or(SignatureError::Missing(SECRET_HEADER))?;
    // Both sides through the same MAC, compared by `verify_slice`: the time
    // taken says nothing of how much of the secret was right.
    const KEY: &[u8] = b"rastro magento webhook secret";
    if secrets.is_empty() {
        return Err(SignatureError::NoSecret);
    }
    let mut matched = false;
    for secret in secrets {
        let mut mac = keyed(KEY);
        mac.update(sent.as_bytes());
        matched |= mac.verify_slice(&sign(KEY, secret)).is_ok();
    }
    if matched {
        Ok(())
    } else {
        Err(SignatureError::Mismatch)
    }
}

/// The headers a sender of the generic event sets: its timestamp and
/// signature for `body` at `now` (what the docs' examples compute).
pub fn generic_headers(secret: &[u8], body: &[u8], now: DateTime<Utc>) -> (String, String) {
    let timestamp = now.timestamp().to_string();
    let mut message = timestamp.clone().into_bytes();
    message.push(b'.');
    message.extend_from_slice(body);
    (timestamp, format!("sha256={}", hex::encode(sign(secret, &message))))
}
