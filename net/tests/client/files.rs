use natter_net::http::Http;
use natter_proto::ErrorCode;
use natter_proto::rest::{LoginRequest, RegisterRequest};

use crate::support::*;

/// Registers `account` and returns an access token.
async fn token(http: &Http, account: &str) -> String {
    let password = format!("{account}-long-password");
    http.register(&RegisterRequest {
        account: account.into(),
        password: password.clone(),
        nickname: account.into(),
        email: None,
        phone: None,
        avatar: None,
    })
    .await
    .unwrap();
    http.login(&LoginRequest {
        account: account.into(),
        password,
        device_id: None,
        device_name: None,
    })
    .await
    .unwrap()
    .access_token
}

#[tokio::test]
async fn upload_and_download_through_http() {
    let relay = TestRelay::start().await;
    let http = Http::new(&relay.url()).unwrap();
    let (ta, tb) = (token(&http, "uma").await, token(&http, "vic").await);
    let bytes: Vec<u8> = (0..200_000u32).map(|i| (i % 253) as u8).collect();

    let file = http
        .upload(&ta, "holiday photo.jpg", "image/jpeg", bytes.clone())
        .await
        .unwrap();
    assert_eq!(file.name, "holiday photo.jpg");
    assert_eq!(file.size, bytes.len() as u64);
    assert_eq!(file.mime, "image/jpeg");

    // Another account downloads it by id.
    let (got, mime) = http.download(&tb, &file.id).await.unwrap();
    assert!(got == bytes, "downloaded bytes differ");
    assert_eq!(mime, "image/jpeg");

    // No MIME type means application/octet-stream.
    let plain = http
        .upload(&ta, "notes", "", b"abc".to_vec())
        .await
        .unwrap();
    assert_eq!(plain.mime, "application/octet-stream");
    assert_eq!(
        http.download(&ta, &plain.id).await.unwrap(),
        (b"abc".to_vec(), "application/octet-stream".to_string())
    );

    // Errors come back typed.
    let err = http
        .upload(&ta, "empty", "text/plain", vec![])
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some(ErrorCode::BadRequest));
    for id in ["0123456789abcdef0123456789abcdef", "..", "../etc", ""] {
        let err = http.download(&tb, id).await.unwrap_err();
        assert_eq!(err.code(), Some(ErrorCode::NotFound), "{id}: {err:?}");
    }
    let err = http.download("bogus", &file.id).await.unwrap_err();
    assert_eq!(err.code(), Some(ErrorCode::Unauthorized));
}
