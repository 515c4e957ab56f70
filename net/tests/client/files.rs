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

/// A proxy in front of `relay` that cuts the first file download after
/// `cut_after` bytes of its response, and counts the bytes every download
/// response carried.
async fn cutting_proxy(
    relay: std::net::SocketAddr,
    cut_after: usize,
) -> (String, std::sync::Arc<std::sync::Mutex<Vec<usize>>>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let downloads = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let seen = downloads.clone();
    tokio::spawn(async move {
        while let Ok((mut client, _)) = listener.accept().await {
            let mut server = tokio::net::TcpStream::connect(relay).await.unwrap();
            let seen = seen.clone();
            tokio::spawn(async move {
                let mut buf = vec![0u8; 64 * 1024];
                let n = client.read(&mut buf).await.unwrap_or(0);
                let download = buf[..n].starts_with(b"GET /v1/files/");
                server.write_all(&buf[..n]).await.unwrap();
                if !download {
                    let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                    return;
                }
                let index = {
                    let mut seen = seen.lock().unwrap();
                    seen.push(0);
                    seen.len() - 1
                };
                let limit = if index == 0 { cut_after } else { usize::MAX };
                let mut passed = 0;
                loop {
                    let n = match server.read(&mut buf).await {
                        Ok(0) | Err(_) => break,
                        Ok(n) => n,
                    };
                    let n = n.min(limit - passed);
                    if client.write_all(&buf[..n]).await.is_err() {
                        break;
                    }
                    passed += n;
                    seen.lock().unwrap()[index] = passed;
                    if passed >= limit {
                        // Cut: both sockets dropped mid-body.
                        break;
                    }
                }
            });
        }
    });
    (url, downloads)
}

#[tokio::test]
async fn a_download_cut_mid_file_continues_where_it_stopped_after_a_restart() {
    let relay = TestRelay::start().await;
    let http = Http::new(&relay.url()).unwrap();
    let ta = token(&http, "wren").await;
    let bytes: Vec<u8> = (0..1_000_000u32).map(|i| (i * 7 % 251) as u8).collect();
    let file = http
        .upload(&ta, "film.bin", "application/octet-stream", bytes.clone())
        .await
        .unwrap();

    let (url, downloads) = cutting_proxy(relay.addr, 300_000).await;
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join("film.bin");
    let through = Http::new(&url).unwrap();
    let mut seen = Vec::new();
    let err = through
        .download_to(&ta, &file.id, &dest, |got, total| seen.push((got, total)))
        .await
        .unwrap_err();
    assert!(err.is_transient(), "{err:?}");
    assert!(!dest.exists(), "nothing at the destination until complete");
    let part = dir.path().join(format!("film.bin.{}.part", file.id));
    let kept = std::fs::metadata(&part).unwrap().len();
    assert!(kept > 100_000 && kept < 300_000, "kept {kept}");
    assert!(seen.iter().all(|(_, total)| *total == 1_000_000));

    // As after an app restart: a new client, the same folder.
    let again = Http::new(&url).unwrap();
    let mut last = (0, 0);
    let size = again
        .download_to(&ta, &file.id, &dest, |got, total| last = (got, total))
        .await
        .unwrap();
    assert_eq!(size, 1_000_000);
    assert_eq!(last, (1_000_000, 1_000_000));
    assert_eq!(std::fs::read(&dest).unwrap(), bytes);
    assert!(!part.exists());
    // The second response carried only the rest (plus its headers).
    let sizes = downloads.lock().unwrap().clone();
    assert_eq!(sizes.len(), 2, "{sizes:?}");
    let rest = 1_000_000 - kept as usize;
    assert!(
        sizes[1] >= rest && sizes[1] < rest + 2_000,
        "{sizes:?} for {rest}"
    );
}
