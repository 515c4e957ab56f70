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

/// A proxy in front of `relay` that cuts the first request starting with
/// `request` after `cut_after` bytes (of its response, or with `upstream` of
/// its request), and counts the bytes each such request moved that way.
async fn cutting_proxy(
    relay: std::net::SocketAddr,
    request: &'static [u8],
    upstream: bool,
    cut_after: usize,
) -> (String, std::sync::Arc<std::sync::Mutex<Vec<usize>>>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let moved = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let seen = moved.clone();
    tokio::spawn(async move {
        while let Ok((mut client, _)) = listener.accept().await {
            let mut server = tokio::net::TcpStream::connect(relay).await.unwrap();
            let seen = seen.clone();
            tokio::spawn(async move {
                let mut buf = vec![0u8; 64 * 1024];
                let n = client.read(&mut buf).await.unwrap_or(0);
                if upstream {
                    // Requests may come on a connection kept alive from an
                    // earlier one: look at each chunk the client sends.
                    let (mut cr, mut cw) = client.into_split();
                    let (mut sr, mut sw) = server.into_split();
                    let back = tokio::spawn(async move {
                        let _ = tokio::io::copy(&mut sr, &mut cw).await;
                    });
                    let mut chunk = buf[..n].to_vec();
                    let mut counting: Option<(usize, usize, usize)> = None;
                    loop {
                        if counting.is_none() && chunk.starts_with(request) {
                            let mut seen = seen.lock().unwrap();
                            seen.push(0);
                            let index = seen.len() - 1;
                            let limit = if index == 0 { cut_after } else { usize::MAX };
                            counting = Some((index, 0, limit));
                        }
                        let mut take = chunk.len();
                        if let Some((index, passed, limit)) = counting.as_mut() {
                            take = take.min(*limit - *passed);
                            *passed += take;
                            seen.lock().unwrap()[*index] = *passed;
                        }
                        if sw.write_all(&chunk[..take]).await.is_err() {
                            break;
                        }
                        if counting.is_some_and(|(_, passed, limit)| passed >= limit) {
                            // Cut: both directions dropped mid-body.
                            back.abort();
                            return;
                        }
                        let n = match cr.read(&mut buf).await {
                            Ok(0) | Err(_) => break,
                            Ok(n) => n,
                        };
                        chunk = buf[..n].to_vec();
                    }
                    let _ = back.await;
                    return;
                }
                if !buf[..n].starts_with(request) {
                    server.write_all(&buf[..n]).await.unwrap();
                    let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                    return;
                }
                let index = {
                    let mut seen = seen.lock().unwrap();
                    seen.push(0);
                    seen.len() - 1
                };
                let limit = if index == 0 { cut_after } else { usize::MAX };
                // Downloads: the response is counted and cut, the request
                // copied as is.
                let (mut cr, mut to) = client.into_split();
                let (mut from, mut sw) = server.into_split();
                sw.write_all(&buf[..n]).await.unwrap();
                let mut passed = 0;
                let other = tokio::spawn(async move {
                    let _ = tokio::io::copy(&mut cr, &mut sw).await;
                });
                while passed < limit {
                    let n = match from.read(&mut buf).await {
                        Ok(0) | Err(_) => break,
                        Ok(n) => n.min(limit - passed),
                    };
                    if to.write_all(&buf[..n]).await.is_err() {
                        break;
                    }
                    passed += n;
                    seen.lock().unwrap()[index] = passed;
                }
                if passed >= limit {
                    // Cut: both directions dropped mid-body.
                    other.abort();
                } else {
                    let _ = other.await;
                }
            });
        }
    });
    (url, moved)
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

    let (url, downloads) = cutting_proxy(relay.addr, b"GET /v1/files/", false, 300_000).await;
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

#[tokio::test]
async fn an_upload_cut_mid_file_goes_on_from_the_offset_the_relay_reports() {
    let relay = TestRelay::start().await;
    let http = Http::new(&relay.url()).unwrap();
    let ta = token(&http, "xena").await;
    let tb = token(&http, "yuri").await;
    let bytes: Vec<u8> = (0..1_000_000u32).map(|i| (i * 13 % 241) as u8).collect();

    let (url, patches) = cutting_proxy(relay.addr, b"PATCH /v1/uploads/", true, 400_000).await;
    let through = Http::new(&url).unwrap();
    let opened = through
        .start_upload(&ta, "scan.pdf", "application/pdf", bytes.len() as u64)
        .await
        .unwrap();
    assert_eq!((opened.offset, opened.size), (0, 1_000_000));
    let err = through
        .continue_upload(&ta, &opened.upload, &bytes)
        .await
        .unwrap_err();
    assert!(err.is_transient(), "{err:?}");
    // The relay kept what arrived, and says so; to its uploader only.
    let held = wait_for_offset(&http, &ta, &opened.upload).await;
    assert!(held > 200_000 && held < 400_000, "held {held}");
    let other = http.upload_state(&tb, &opened.upload).await.unwrap_err();
    assert_eq!(other.code(), Some(ErrorCode::NotFound));

    // As after an app restart: a new client goes on from there.
    let again = Http::new(&url).unwrap();
    let file = again
        .continue_upload(&ta, &opened.upload, &bytes)
        .await
        .unwrap();
    assert_eq!((file.name.as_str(), file.size), ("scan.pdf", 1_000_000));
    let (back, mime) = http.download(&tb, &file.id).await.unwrap();
    assert_eq!(back, bytes);
    assert_eq!(mime, "application/pdf");
    // The second request carried only the rest (plus its headers).
    let sizes = patches.lock().unwrap().clone();
    assert_eq!(sizes.len(), 2, "{sizes:?}");
    let rest = 1_000_000 - held as usize;
    assert!(
        sizes[1] >= rest && sizes[1] < rest + 2_000,
        "{sizes:?} for {rest}"
    );
    // Done: the upload is gone.
    let gone = http.upload_state(&ta, &opened.upload).await.unwrap_err();
    assert_eq!(gone.code(), Some(ErrorCode::NotFound));
}

/// The offset the relay holds, once it stopped growing (the cut request's
/// last bytes may still be on their way in).
async fn wait_for_offset(http: &Http, token: &str, upload: &str) -> u64 {
    let mut last = u64::MAX;
    loop {
        let now = http.upload_state(token, upload).await.unwrap().offset;
        if now == last {
            return now;
        }
        last = now;
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
}
