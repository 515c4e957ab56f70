//! Passwords (argon2id) and tokens.
//!
//! An access token is `base64url(user.session.expiry) "." base64url(HMAC-SHA256)`
//! signed with the relay's key; it is checked without a database read, then its
//! session is looked up so that logout takes effect at once. A refresh token is
//! `session id "." random secret`; only the secret's SHA-256 is stored, and each
//! use replaces it.

use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use argon2::{Algorithm, Argon2, Params, Version};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use hmac::{Hmac, Mac};
use natter_proto::{ErrorCode, Millis};
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};

/// Password hashing with fixed argon2id parameters.
#[derive(Clone)]
pub struct Passwords {
    params: Params,
    /// A hash of a random password, verified against when an account does not
    /// exist so that a wrong account name costs as much time as a wrong password.
    decoy: String,
}

impl Passwords {
    /// argon2id with `memory_kib` and `iterations`, one lane.
    pub fn new(memory_kib: u32, iterations: u32) -> Result<Passwords> {
        let params = Params::new(memory_kib.max(8), iterations.max(1), 1, None)
            .map_err(|e| Error::Internal(format!("argon2 params: {e}")))?;
        let mut p = Passwords {
            params,
            decoy: String::new(),
        };
        let secret: [u8; 16] = rand::random();
        p.decoy = p.hash(&B64.encode(secret))?;
        Ok(p)
    }

    fn argon(&self) -> Argon2<'static> {
        Argon2::new(Algorithm::Argon2id, Version::V0x13, self.params.clone())
    }

    /// A PHC string for `password`. CPU-heavy: call from a blocking thread.
    pub fn hash(&self, password: &str) -> Result<String> {
        let salt: [u8; 16] = rand::random();
        self.argon()
            .hash_password_with_salt(password.as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| Error::Internal(format!("argon2: {e}")))
    }

    /// Whether `password` matches `hash` (or, with no hash, burn the same time
    /// and say no). CPU-heavy: call from a blocking thread.
    pub fn verify(&self, password: &str, hash: Option<&str>) -> bool {
        let ok = self
            .argon()
            .verify_password(password.as_bytes(), hash.unwrap_or(&self.decoy))
            .is_ok();
        ok && hash.is_some()
    }
}

/// What an access token says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Claims {
    /// The account.
    pub user: u64,
    /// The session (device) it belongs to.
    pub session: u64,
    /// Expiry, ms since the epoch.
    pub expires: Millis,
}

/// Token signing and checking.
#[derive(Clone)]
pub struct Tokens {
    key: Vec<u8>,
}

type HmacSha256 = Hmac<Sha256>;

impl Tokens {
    /// Tokens signed with `key`.
    pub fn new(key: Vec<u8>) -> Tokens {
        Tokens { key }
    }

    fn mac(&self) -> HmacSha256 {
        // HMAC accepts keys of any length, so this cannot fail.
        #[allow(clippy::expect_used)]
        HmacSha256::new_from_slice(&self.key).expect("HMAC takes any key length")
    }

    /// Signs claims into an access token.
    pub fn sign(&self, claims: Claims) -> String {
        let payload = format!("{}.{}.{}", claims.user, claims.session, claims.expires);
        let mut mac = self.mac();
        mac.update(payload.as_bytes());
        let sig = mac.finalize().into_bytes();
        format!("{}.{}", B64.encode(payload), B64.encode(sig))
    }

    /// Checks an access token's signature and expiry.
    pub fn verify(&self, token: &str, now: Millis) -> Result<Claims> {
        let bad = || Error::client(ErrorCode::Unauthorized, "invalid access token");
        let (payload_b64, sig_b64) = token.split_once('.').ok_or_else(bad)?;
        let payload = B64.decode(payload_b64).map_err(|_| bad())?;
        let sig = B64.decode(sig_b64).map_err(|_| bad())?;
        let mut mac = self.mac();
        mac.update(&payload);
        mac.verify_slice(&sig).map_err(|_| bad())?;
        let text = std::str::from_utf8(&payload).map_err(|_| bad())?;
        let mut parts = text.split('.');
        let mut field = || {
            parts
                .next()
                .and_then(|p| p.parse::<i64>().ok())
                .ok_or_else(bad)
        };
        let claims = Claims {
            user: field()? as u64,
            session: field()? as u64,
            expires: field()?,
        };
        if claims.expires <= now {
            return Err(Error::client(
                ErrorCode::TokenExpired,
                "access token expired",
            ));
        }
        Ok(claims)
    }
}

/// A new refresh token for `session`: (token, hash of its secret).
pub fn new_refresh(session: u64) -> (String, String) {
    let secret: [u8; 32] = rand::random();
    let secret = B64.encode(secret);
    let hash = hash_secret(&secret);
    (format!("{session}.{secret}"), hash)
}

/// Splits a refresh token into (session id, hash of its secret).
pub fn parse_refresh(token: &str) -> Option<(u64, String)> {
    let (session, secret) = token.split_once('.')?;
    Some((session.parse().ok()?, hash_secret(secret)))
}

fn hash_secret(secret: &str) -> String {
    let digest = Sha256::digest(secret.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_round_trip_and_reject_tampering() {
        let tokens = Tokens::new(vec![7; 32]);
        let claims = Claims {
            user: 42,
            session: 9,
            expires: 2_000,
        };
        let t = tokens.sign(claims);
        assert_eq!(tokens.verify(&t, 1_000).ok(), Some(claims));
        assert_eq!(
            tokens.verify(&t, 2_000).err().map(|e| e.code()),
            Some(ErrorCode::TokenExpired)
        );
        let other = Tokens::new(vec![8; 32]);
        assert_eq!(
            other.verify(&t, 1_000).err().map(|e| e.code()),
            Some(ErrorCode::Unauthorized)
        );
        let forged = format!(
            "{}.{}",
            B64.encode("42.9.99999"),
            t.split('.').nth(1).unwrap_or("")
        );
        assert!(tokens.verify(&forged, 1_000).is_err());
    }

    #[test]
    fn passwords_verify() {
        let p = Passwords::new(64, 1).unwrap();
        let h = p.hash("correct horse").unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(p.verify("correct horse", Some(&h)));
        assert!(!p.verify("wrong horse", Some(&h)));
        assert!(!p.verify("correct horse", None));
    }
}
