//! Signed access tokens (JWT, HS256) and opaque random tokens stored as hashes.

use std::time::Duration;

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use hmac::{Hmac, Mac};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use rand::RngCore;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// Signing keys and lifetime of access tokens.
#[derive(Clone)]
pub struct TokenKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    /// Keys [`TokenKeys::mac`]; derived from the same secret, under another label.
    mac: Hmac<Sha256>,
    /// How long an access token stays valid.
    pub ttl: Duration,
}

/// What an access token says. The database is still asked (active flags, token
/// version, session), so a deactivated account stops at once: on each request,
/// or on the token's first within a second ([`crate::sessions::verified`]).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    /// User id (a string, as RFC 7519 requires).
    pub sub: String,
    /// Token version of the user when issued.
    pub ver: i32,
    /// The login session ([`crate::sessions`]) the token belongs to; a token of
    /// a revoked session is refused.
    pub sid: i32,
    /// Issued at (Unix seconds).
    pub iat: i64,
    /// Expires at (Unix seconds).
    pub exp: i64,
}

impl TokenKeys {
    /// Keys derived from the configured secret.
    pub fn new(secret: &SecretString, ttl: Duration) -> Self {
        let bytes = secret.expose_secret().as_bytes();
        let mac_key = Sha256::new().chain_update(b"rastro-mac-v1:").chain_update(bytes).finalize();
        #[allow(clippy::expect_used)] // HMAC takes a key of any length.
        let mac = Hmac::<Sha256>::new_from_slice(&mac_key).expect("HMAC takes any key length");
        TokenKeys { encoding: EncodingKey::from_secret(bytes), decoding: DecodingKey::from_secret(bytes), mac, ttl }
    }

    /// Signs an access token like [`TokenKeys::issue`] but valid for `ttl`: the
    /// portal's session cookie, which lives a working day rather than minutes
    /// (it is HttpOnly, so no script can lift it, and its session can still be
    /// revoked at once).
    pub fn issue_for(
        &self,
        user_id: i32,
        token_version: i32,
        session_id: i32,
        now: chrono::DateTime<chrono::Utc>,
        ttl: Duration,
    ) -> anyhow::Result<(String, i64)> {
        let ttl = i64::try_from(ttl.as_secs()).unwrap_or(i64::MAX / 2);
        let claims =
            Claims { sub: user_id.to_string(), ver: token_version, sid: session_id, iat: now.timestamp(), exp: now.timestamp() + ttl };
        let token = jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)?;
        Ok((token, claims.exp))
    }

    /// A keyed digest of `data` for `purpose` (hex, 32 characters): for values
    /// the server hands out and must recognise later without storing them, such
    /// as CSRF tokens and public tracking links. Different purposes never
    /// collide.
    pub fn mac(&self, purpose: &str, data: &str) -> String {
        let mut mac = self.mac.clone();
        mac.update(purpose.as_bytes());
        mac.update(b"\0");
        mac.update(data.as_bytes());
        hex::encode(&mac.finalize().into_bytes()[..16])
    }

    /// Whether `presented` is [`TokenKeys::mac`] of `purpose` and `data`, in
    /// constant time.
    pub fn mac_matches(&self, purpose: &str, data: &str, presented: &str) -> bool {
        let Ok(bytes) = hex::decode(presented) else { return false };
        let mut mac = self.mac.clone();
        mac.update(purpose.as_bytes());
        mac.update(b"\0");
        mac.update(data.as_bytes());
        mac.verify_truncated_left(&bytes).is_ok() && bytes.len() == 16
    }

    /// Signs an access token for `user_id` at `token_version` in session `session_id`.
    pub fn issue(
        &self,
        user_id: i32,
        token_version: i32,
        session_id: i32,
        now: chrono::DateTime<chrono::Utc>,
    ) -> anyhow::Result<(String, i64)> {
        self.issue_for(user_id, token_version, session_id, now, self.ttl)
    }

    /// Verifies signature and expiry; `None` for any invalid token.
    pub fn verify(&self, token: &str) -> Option<Claims> {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = 0;
        // `sid` is required too (by the struct): tokens from before sessions are refused.
        validation.set_required_spec_claims(&["exp", "sub"]);
        jsonwebtoken::decode::<Claims>(token, &self.decoding, &validation).ok().map(|data| data.claims)
    }
}

/// `bytes` random bytes, URL-safe base64 without padding.
pub fn random_token(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    rand::rngs::OsRng.fill_bytes(&mut buf);
    URL_SAFE_NO_PAD.encode(buf)
}

/// SHA-256 of a high-entropy token, hex. Plain SHA-256 suffices because the
/// tokens are random (no dictionary to try), and it lets us look them up by hash.
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_issued_token_verifies_and_a_tampered_one_does_not() -> anyhow::Result<()> {
        let keys = TokenKeys::new(&SecretString::from("k".repeat(32)), Duration::from_secs(60));
        let (token, _) = keys.issue(7, 3, 11, chrono::Utc::now())?;
        let claims = keys.verify(&token).map(|c| (c.sub, c.ver, c.sid));
        assert_eq!(claims, Some(("7".to_owned(), 3, 11)));
        let other = TokenKeys::new(&SecretString::from("x".repeat(32)), Duration::from_secs(60));
        assert!(other.verify(&token).is_none());
        Ok(())
    }

    #[test]
    fn a_mac_is_recognised_only_for_its_purpose_data_and_key() {
        let keys = TokenKeys::new(&SecretString::from("k".repeat(32)), Duration::from_secs(60));
        let mac = keys.mac("csrf", "7");
        assert_eq!(mac.len(), 32);
        assert!(keys.mac_matches("csrf", "7", &mac));
        assert!(!keys.mac_matches("csrf", "8", &mac));
        assert!(!keys.mac_matches("track", "7", &mac));
        assert!(!keys.mac_matches("csrf", "7", &mac[..30]));
        assert!(!keys.mac_matches("csrf", "7", "zz"));
        let other = TokenKeys::new(&SecretString::from("x".repeat(32)), Duration::from_secs(60));
        assert!(!other.mac_matches("csrf", "7", &mac));
    }

    #[test]
    fn an_expired_token_is_rejected() -> anyhow::Result<()> {
        let keys = TokenKeys::new(&SecretString::from("k".repeat(32)), Duration::from_secs(60));
        let (token, _) = keys.issue(7, 0, 1, chrono::Utc::now() - chrono::Duration::seconds(120))?;
        assert!(keys.verify(&token).is_none());
        Ok(())
    }
}
