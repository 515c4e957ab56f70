//! Built-in TLS: https and wss with a certificate the test makes.

use futures_util::{SinkExt, StreamExt};
use natter_proto::PROTOCOL_VERSIONS;
use natter_proto::frame::{ClientFrame, ServerFrame};
use natter_proto::rest::{Health, LoginRequest, RegisterRequest, Session};

use natter_server::{Config, Relay};
use std::sync::Arc;
use tokio_tungstenite::tungstenite::Message as WsMessage;

use crate::make_cert;

fn trusting(pem: &str) -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .tls_certs_only([reqwest::Certificate::from_pem(pem.as_bytes()).unwrap()])
        .build()
        .unwrap()
}

#[tokio::test]
async fn https_and_wss_with_a_trusted_certificate() {
    let dir = tempfile::tempdir().unwrap();
    let (pem, cert, key) = make_cert(dir.path());
    let mut config = Config::for_tests(dir.path().join("data"));
    config.tls_cert = Some(cert);
    config.tls_key = Some(key);
    let relay = Relay::start(config).await.unwrap();
    let base = relay.http_url();
    assert!(base.starts_with("https://127.0.0.1:"), "{base}");

    let http = trusting(&pem);
    let health: Health = http
        .get(format!("{base}/healthz"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(health.status, "ok");
    let reg = RegisterRequest {
        account: "tess".into(),
        password: "tess-long-password".into(),
        nickname: "Tess".into(),
        email: None,
        phone: None,
        avatar: None,
    };
    let r = http
        .post(format!("{base}/v1/auth/register"))
        .json(&reg)
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "{}", r.status());
    let session: Session = http
        .post(format!("{base}/v1/auth/login"))
        .json(&LoginRequest {
            account: "tess".into(),
            password: "tess-long-password".into(),
            device_id: None,
            device_name: None,
        })
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();

    // The WebSocket over TLS, trusting only this certificate.
    let mut roots = rustls::RootCertStore::empty();
    roots.add_parsable_certificates(
        rustls::pki_types::pem::PemObject::pem_slice_iter(pem.as_bytes()).map(|c| c.unwrap()),
    );
    let tls = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(roots)
    .with_no_client_auth();
    let (mut ws, _) = tokio_tungstenite::connect_async_tls_with_config(
        relay.ws_url(),
        None,
        false,
        Some(tokio_tungstenite::Connector::Rustls(Arc::new(tls))),
    )
    .await
    .unwrap();
    let hello = ClientFrame::Hello {
        protocols: PROTOCOL_VERSIONS.to_vec(),
        token: session.access_token,
    };
    ws.send(WsMessage::text(serde_json::to_string(&hello).unwrap()))
        .await
        .unwrap();
    let frame = loop {
        match ws.next().await.unwrap().unwrap() {
            WsMessage::Text(t) => break serde_json::from_str::<ServerFrame>(&t).unwrap(),
            _ => continue,
        }
    };
    assert!(matches!(frame, ServerFrame::Welcome { .. }), "{frame:?}");
    drop(ws);

    // A client that trusts only the public authorities is refused.
    let err = crate::support::http_client()
        .get(format!("{base}/healthz"))
        .send()
        .await
        .unwrap_err();
    let chain = format!("{:?}", err);
    assert!(chain.contains("UnknownIssuer"), "{chain}");
    // Plain HTTP to the TLS port gets no API answer.
    let plain = crate::support::http_client()
        .get(format!("http://{}/healthz", relay.addr))
        .send()
        .await;
    assert!(
        plain.is_err() || !plain.unwrap().status().is_success(),
        "plain HTTP must not be served on the TLS listener"
    );
    relay.shutdown().await;
}

#[tokio::test]
async fn unusable_tls_files_are_named_and_nothing_starts() {
    let dir = tempfile::tempdir().unwrap();
    let (_, cert, key) = make_cert(dir.path());
    let data = dir.path().join("data");

    let mut only_cert = Config::for_tests(&data);
    only_cert.tls_cert = Some(cert.clone());
    let e = Relay::start(only_cert).await.err().unwrap().to_string();
    assert!(e.contains("tls_key"), "{e}");

    let garbage = dir.path().join("garbage.pem");
    std::fs::write(&garbage, "not a key").unwrap();
    let mut bad_key = Config::for_tests(&data);
    bad_key.tls_cert = Some(cert.clone());
    bad_key.tls_key = Some(garbage.clone());
    let e = Relay::start(bad_key).await.err().unwrap().to_string();
    assert!(e.contains("garbage.pem"), "{e}");

    // A key of another certificate.
    let other = tempfile::tempdir().unwrap();
    let (_, _, other_key) = make_cert(other.path());
    let mut mismatch = Config::for_tests(&data);
    mismatch.tls_cert = Some(cert);
    mismatch.tls_key = Some(other_key);
    let e = Relay::start(mismatch).await.err().unwrap().to_string();
    assert!(e.contains("cannot be used together"), "{e}");
    // Nothing was created: the relay refused before opening its data.
    assert!(!data.exists());
    let _ = key;
}
