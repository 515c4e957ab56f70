//! The relay as an operator runs it: TLS, `/metrics`, the admin commands and
//! the command line, against real relays on 127.0.0.1:0 with real data dirs.

#![allow(clippy::unwrap_used, missing_docs)]

/// The backend these tests run on (the relay suite's support asks).
pub const POSTGRES: bool = false;

mod admin;
mod cli;
mod metrics;
#[allow(dead_code)]
#[path = "../relay/pg.rs"]
mod pg;
#[allow(dead_code)]
#[path = "../relay/support.rs"]
mod support;
mod tls;

/// A self-signed certificate for 127.0.0.1 and localhost, written as PEM
/// files into `dir`: (certificate PEM, cert path, key path).
pub fn make_cert(dir: &std::path::Path) -> (String, std::path::PathBuf, std::path::PathBuf) {
    let made =
        rcgen::generate_simple_self_signed(vec!["127.0.0.1".into(), "localhost".into()]).unwrap();
    let pem = made.cert.pem();
    let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
    std::fs::write(&cert, &pem).unwrap();
    std::fs::write(&key, made.signing_key.serialize_pem()).unwrap();
    (pem, cert, key)
}
