//! The bundled relay starts when nothing answers on this machine, and not when
//! something does.

#![allow(clippy::unwrap_used, missing_docs)]

use natter::embedded;

#[tokio::test]
async fn bundled_relay_starts_only_when_nothing_answers() {
    // A free loopback port.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let server = format!("http://127.0.0.1:{port}");
    let home = tempfile::tempdir().unwrap();
    let relay = embedded::ensure(&server, home.path()).await.unwrap();
    assert!(
        relay.is_some(),
        "nothing answered, so the bundled relay starts"
    );
    let http = natter_net::http::Http::new(&server).unwrap();
    assert_eq!(http.health().await.unwrap().status, "ok");
    assert!(home.path().join("relay").join("natter.redb").exists());
    // Now something answers: a second app instance uses it.
    let again = embedded::ensure(&server, home.path()).await.unwrap();
    assert!(again.is_none());
    // A remote address is never started locally.
    assert!(embedded::loopback_addr("https://chat.example.com").is_none());
    assert!(
        embedded::ensure("https://chat.example.com", home.path())
            .await
            .unwrap()
            .is_none()
    );
}
