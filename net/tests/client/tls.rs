//! The client against a relay serving TLS with a certificate the test makes:
//! refused with a clear error until the certificate is trusted, then the whole
//! path (REST over https, the live session over wss) works.

use std::time::Duration;

use natter_net::session::Event;
use natter_net::{Client, Error};
use natter_proto::rest::RegisterRequest;
use natter_server::{Config, Relay};
use natter_store::Store;

struct TlsRelay {
    relay: Relay,
    cert_pem: String,
    _dir: tempfile::TempDir,
}

async fn tls_relay() -> TlsRelay {
    let dir = tempfile::tempdir().unwrap();
    // A name of its own: certificates trusted by other tests in this process
    // must not look like its issuer.
    let mut params =
        rcgen::CertificateParams::new(vec!["127.0.0.1".to_string(), "localhost".to_string()])
            .unwrap();
    params.distinguished_name.push(
        rcgen::DnType::CommonName,
        format!("natter test relay {}", rand::random::<u64>()),
    );
    let signing_key = rcgen::KeyPair::generate().unwrap();
    let cert_pem = params.self_signed(&signing_key).unwrap().pem();
    let (cert, key) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    std::fs::write(&cert, &cert_pem).unwrap();
    std::fs::write(&key, signing_key.serialize_pem()).unwrap();
    let mut config = Config::for_tests(dir.path().join("data"));
    config.tls_cert = Some(cert);
    config.tls_key = Some(key);
    let relay = Relay::start(config).await.unwrap();
    assert!(relay.http_url().starts_with("https://"));
    TlsRelay {
        relay,
        cert_pem,
        _dir: dir,
    }
}

fn registration(account: &str) -> RegisterRequest {
    RegisterRequest {
        account: account.into(),
        password: format!("{account}-long-password"),
        nickname: account.into(),
        email: None,
        phone: None,
        avatar: None,
    }
}

#[tokio::test]
async fn an_untrusted_certificate_is_refused_with_a_clear_error() {
    let relay = tls_relay().await;
    let url = relay.relay.http_url();
    let err = natter_net::client::register(&url, &registration("tina"))
        .await
        .unwrap_err();
    match &err {
        Error::Untrusted { server, reason } => {
            assert_eq!(server, &url);
            assert!(reason.contains("not signed by an authority"), "{reason}");
        }
        other => panic!("expected Untrusted, got {other:?}"),
    }
    let text = err.to_string();
    assert!(text.contains("does not trust"), "{text}");
    // Nothing reached the relay: the account does not exist.
    assert!(
        relay
            .relay
            .service
            .storage
            .lookup(natter_server::storage::Lookup::Account("tina".into()))
            .await
            .unwrap()
            .is_none()
    );
    relay.relay.shutdown().await;
}

#[tokio::test]
async fn a_trusted_certificate_carries_rest_and_the_live_session() {
    let relay = tls_relay().await;
    let url = relay.relay.http_url();
    assert_eq!(
        natter_net::tls::trust_pem(relay.cert_pem.as_bytes()).unwrap(),
        1
    );
    natter_net::client::register(&url, &registration("tom"))
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).await.unwrap();
    natter_net::client::sign_in(&url, &store, "tom", "tom-long-password", None)
        .await
        .unwrap();
    let (client, mut events) = Client::resume(store).await.unwrap();
    assert!(client.http().ws_url().starts_with("wss://"));
    let synced = tokio::time::timeout(Duration::from_secs(20), async {
        while let Some(e) = events.next().await {
            match e {
                Event::Synced => return true,
                Event::Problem(p) => panic!("session problem: {p}"),
                _ => {}
            }
        }
        false
    })
    .await
    .unwrap();
    assert!(synced, "the session over wss:// never synced");
    assert_eq!(relay.relay.service.hub.len(), 1);
    client.shutdown();
    relay.relay.shutdown().await;
}
