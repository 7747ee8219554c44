//! Signed access tokens (JWT, HS256) and opaque random tokens stored as hashes.

use std::time::Duration;

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
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
    /// How long an access token stays valid.
    pub ttl: Duration,
}

/// What an access token says. The database is still asked on every request
/// (active flags, token version), so a deactivated account stops at once.
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
        TokenKeys { encoding: EncodingKey::from_secret(bytes), decoding: DecodingKey::from_secret(bytes), ttl }
    }

    /// Signs an access token for `user_id` at `token_version` in session `session_id`.
    pub fn issue(
        &self,
        user_id: i32,
        token_version: i32,
        session_id: i32,
        now: chrono::DateTime<chrono::Utc>,
    ) -> anyhow::Result<(String, i64)> {
        let ttl = i64::try_from(self.ttl.as_secs()).unwrap_or(i64::MAX / 2);
        let claims =
            Claims { sub: user_id.to_string(), ver: token_version, sid: session_id, iat: now.timestamp(), exp: now.timestamp() + ttl };
        let token = jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)?;
        Ok((token, claims.exp))
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
    fn an_expired_token_is_rejected() -> anyhow::Result<()> {
        let keys = TokenKeys::new(&SecretString::from("k".repeat(32)), Duration::from_secs(60));
        let (token, _) = keys.issue(7, 0, 1, chrono::Utc::now() - chrono::Duration::seconds(120))?;
        assert!(keys.verify(&token).is_none());
        Ok(())
    }
}
