//! Which TLS certificates the client trusts, and how a refused certificate
//! becomes an error a person can act on.
//!
//! Public relays need nothing: the system's trust store (REST) and the Mozilla
//! roots (WebSocket) cover certificates from public authorities. A relay with
//! its own certificate authority, or a self-signed certificate, is trusted by
//! adding its certificate: [`trust_pem`] in code, or the `NATTER_CA_FILE`
//! environment variable (a PEM file) for the app.

use std::sync::{Arc, Mutex, OnceLock};

use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;

use crate::error::{Error, Result};

fn extra() -> &'static Mutex<Vec<CertificateDer<'static>>> {
    static EXTRA: OnceLock<Mutex<Vec<CertificateDer<'static>>>> = OnceLock::new();
    EXTRA.get_or_init(|| {
        let mut roots = Vec::new();
        if let Some(path) = std::env::var_os("NATTER_CA_FILE") {
            match std::fs::read(&path) {
                Ok(pem) => match parse(&pem) {
                    Ok(certs) => roots.extend(certs),
                    Err(e) => tracing::warn!(file = ?path, error = %e, "NATTER_CA_FILE not used"),
                },
                Err(e) => tracing::warn!(file = ?path, error = %e, "NATTER_CA_FILE not readable"),
            }
        }
        Mutex::new(roots)
    })
}

fn parse(pem: &[u8]) -> Result<Vec<CertificateDer<'static>>> {
    let certs: Vec<_> = CertificateDer::pem_slice_iter(pem)
        .collect::<std::result::Result<_, _>>()
        .map_err(|e| Error::Protocol(format!("not a PEM certificate: {e}")))?;
    if certs.is_empty() {
        return Err(Error::Protocol("no PEM certificate found".into()));
    }
    Ok(certs)
}

/// Trusts the PEM certificates in `pem` (a relay's own certificate or its
/// authority) for every client made from now on in this process. Returns how
/// many certificates were added.
pub fn trust_pem(pem: &[u8]) -> Result<usize> {
    let certs = parse(pem)?;
    let n = certs.len();
    extra()
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .extend(certs);
    Ok(n)
}

/// The extra certificates, for the REST client.
pub(crate) fn extra_roots() -> Vec<CertificateDer<'static>> {
    extra().lock().unwrap_or_else(|e| e.into_inner()).clone()
}

/// A WebSocket TLS connector that also trusts the extra certificates; `None`
/// when there are none (the library's default then applies).
pub(crate) fn ws_connector() -> Option<tokio_tungstenite::Connector> {
    let extra = extra_roots();
    if extra.is_empty() {
        return None;
    }
    let mut roots = rustls::RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    let (added, _ignored) = roots.add_parsable_certificates(extra);
    tracing::debug!(added, "extra TLS roots");
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .ok()?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Some(tokio_tungstenite::Connector::Rustls(Arc::new(config)))
}

/// If `err` (or what caused it) is a refused server certificate, why.
pub(crate) fn certificate_problem(err: &(dyn std::error::Error + 'static)) -> Option<String> {
    if let Some(reason) = rustls_problem(err) {
        return Some(reason);
    }
    // `io::Error::source` skips the error it wraps (and connectors wrap an
    // `io::Error` in another), so look inside each one too.
    if let Some(inner) = err
        .downcast_ref::<std::io::Error>()
        .and_then(|io| io.get_ref())
        && let Some(reason) = certificate_problem(inner)
    {
        return Some(reason);
    }
    err.source().and_then(certificate_problem)
}

fn rustls_problem(e: &(dyn std::error::Error + 'static)) -> Option<String> {
    match e.downcast_ref::<rustls::Error>()? {
        rustls::Error::InvalidCertificate(why) => Some(describe(why)),
        other => Some(other.to_string()),
    }
}

fn describe(why: &rustls::CertificateError) -> String {
    use rustls::CertificateError::*;
    match why {
        UnknownIssuer => "it is not signed by an authority this device trusts".into(),
        Expired | ExpiredContext { .. } => "it has expired".into(),
        NotValidForName | NotValidForNameContext { .. } => {
            "it was issued for another name than the relay's address".into()
        }
        BadSignature => "its signature is invalid".into(),
        other => format!("{other:?}"),
    }
}
