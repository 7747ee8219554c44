//! Encryption of secrets at rest (SMTP passwords, webhook secrets): XChaCha20-Poly1305 with a random
//! nonce per value and the company id as associated data, so a ciphertext
//! copied to another company's row does not decrypt.

use base64::{engine::general_purpose::STANDARD, Engine};
use chacha20poly1305::{
    aead::{Aead, AeadCore, KeyInit, OsRng, Payload},
    XChaCha20Poly1305, XNonce,
};

/// The server key. `Debug` does not show it.
#[derive(Clone)]
pub struct SecretKey(chacha20poly1305::Key);

impl std::fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretKey(…)")
    }
}

impl SecretKey {
    /// A key from 32 bytes in standard base64.
    pub fn from_base64(encoded: &str) -> anyhow::Result<Self> {
        let bytes = STANDARD.decode(encoded.trim())?;
        anyhow::ensure!(bytes.len() == 32, "the secret key must be 32 bytes (base64)");
        Ok(SecretKey(*chacha20poly1305::Key::from_slice(&bytes)))
    }

    /// A new random key, base64.
    pub fn generate_base64() -> String {
        STANDARD.encode(XChaCha20Poly1305::generate_key(&mut OsRng))
    }

    /// Encrypts `plain` for `company_id`; base64 of nonce and ciphertext.
    pub fn encrypt(&self, company_id: i32, plain: &str) -> anyhow::Result<String> {
        let cipher = XChaCha20Poly1305::new(&self.0);
        let nonce = XChaCha20Poly1305::generate_nonce(&mut OsRng);
        let aad = company_id.to_be_bytes();
        let sealed = cipher
            .encrypt(&nonce, Payload { msg: plain.as_bytes(), aad: &aad })
            .map_err(|_| anyhow::anyhow!("encryption failed"))?;
        let mut out = nonce.to_vec();
        out.extend(sealed);
        Ok(STANDARD.encode(out))
    }

    /// Decrypts what [`SecretKey::encrypt`] produced for `company_id`.
    pub fn decrypt(&self, company_id: i32, encoded: &str) -> anyhow::Result<String> {
        let bytes = STANDARD.decode(encoded)?;
        anyhow::ensure!(bytes.len() > 24, "ciphertext too short");
        let (nonce, sealed) = bytes.split_at(24);
        let aad = company_id.to_be_bytes();
        let plain = XChaCha20Poly1305::new(&self.0)
            .decrypt(XNonce::from_slice(nonce), Payload { msg: sealed, aad: &aad })
            .map_err(|_| anyhow::anyhow!("a stored secret cannot be decrypted with this server key"))?;
        Ok(String::from_utf8(plain)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_password_round_trips_only_for_its_company() -> anyhow::Result<()> {
        let key = SecretKey::from_base64(&SecretKey::generate_base64())?;
        let sealed = key.encrypt(7, "hunter2-smtp")?;
        assert!(!sealed.contains("hunter2"));
        assert_eq!(key.decrypt(7, &sealed)?, "hunter2-smtp");
        assert!(key.decrypt(8, &sealed).is_err(), "bound to the company");
        let other = SecretKey::from_base64(&SecretKey::generate_base64())?;
        assert!(other.decrypt(7, &sealed).is_err(), "bound to the key");
        assert_ne!(key.encrypt(7, "same")?, key.encrypt(7, "same")?, "random nonce");
        Ok(())
    }
}
