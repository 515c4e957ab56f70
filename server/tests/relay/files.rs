use std::path::{Path, PathBuf};
use std::time::Duration;

use natter_proto::model::{FileRef, MessageBody};
use natter_proto::{ErrorBody, ErrorCode};
use reqwest::StatusCode;
use reqwest::header::{
    CACHE_CONTROL, CONTENT_DISPOSITION, CONTENT_LENGTH, CONTENT_TYPE, HeaderMap,
    X_CONTENT_TYPE_OPTIONS,
};
use sha2::{Digest, Sha256};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::support::*;

/// Some bytes that are not all alike, larger than the 64 KiB JSON body limit.
fn content(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 31 % 251) as u8).collect()
}

fn data_dir(t: &TestRelay) -> PathBuf {
    t.relay.service.config.data_dir.clone()
}

/// Names of the entries of `dir` (none if it does not exist).
fn entries(dir: &Path) -> Vec<String> {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return vec![];
    };
    let mut names: Vec<String> = rd
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// Asserts that nothing is stored: `files/` holds at most the empty `tmp/`.
fn assert_no_files(t: &TestRelay) {
    let files = data_dir(t).join("files");
    let stored: Vec<String> = entries(&files).into_iter().filter(|n| n != "tmp").collect();
    assert!(stored.is_empty(), "files/ holds {stored:?}");
    let tmp = entries(&files.join("tmp"));
    assert!(tmp.is_empty(), "files/tmp/ holds {tmp:?}");
}

async fn upload_raw(
    t: &TestRelay,
    token: Option<&str>,
    query: &str,
    mime: Option<&str>,
    bytes: Vec<u8>,
) -> reqwest::Response {
    let url = format!("{}/v1/files{query}", t.relay.http_url());
    let mut req = t.http.post(url).body(bytes);
    if let Some(tok) = token {
        req = req.bearer_auth(tok);
    }
    if let Some(m) = mime {
        req = req.header(CONTENT_TYPE, m);
    }
    req.send().await.unwrap()
}

async fn upload(t: &TestRelay, user: &User, name: &str, mime: &str, bytes: Vec<u8>) -> FileRef {
    let query = format!("?name={name}");
    let resp = upload_raw(t, Some(&user.token), &query, Some(mime), bytes).await;
    assert_eq!(resp.status(), StatusCode::CREATED);
    resp.json().await.unwrap()
}

async fn download_raw(t: &TestRelay, token: Option<&str>, id: &str) -> reqwest::Response {
    let url = format!("{}/v1/files/{id}", t.relay.http_url());
    let mut req = t.http.get(url);
    if let Some(tok) = token {
        req = req.bearer_auth(tok);
    }
    req.send().await.unwrap()
}

async fn download(t: &TestRelay, user: &User, id: &str) -> (HeaderMap, Vec<u8>) {
    let resp = download_raw(t, Some(&user.token), id).await;
    assert_eq!(resp.status(), StatusCode::OK);
    let headers = resp.headers().clone();
    (headers, resp.bytes().await.unwrap().to_vec())
}

async fn error(resp: reqwest::Response) -> (StatusCode, ErrorCode) {
    let status = resp.status();
    let body: ErrorBody = resp.json().await.unwrap();
    (status, body.code)
}

fn header(h: &HeaderMap, name: reqwest::header::HeaderName) -> &str {
    h.get(name).unwrap().to_str().unwrap()
}

#[tokio::test]
async fn upload_then_download_round_trip() {
    let t = TestRelay::start().await;
    let (a, b) = (t.user("fay").await, t.user("gus").await);
    let bytes = content(300 * 1024);
    // `%2F` and `%20` in the query: the name arrives as "../photo 1.png".
    let file = upload(&t, &a, "..%2Fphoto%201.png", "image/png", bytes.clone()).await;
    assert_eq!(file.id.len(), 32);
    assert!(
        file.id
            .bytes()
            .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
    );
    assert_eq!(file.name, "photo 1.png");
    assert_eq!(file.size, bytes.len() as u64);
    assert_eq!(file.mime, "image/png");

    // The uploader and any other signed-in account can fetch it by id.
    for user in [&a, &b] {
        let (h, got) = download(&t, user, &file.id).await;
        assert!(got == bytes, "downloaded bytes differ");
        assert_eq!(header(&h, CONTENT_TYPE), "image/png");
        assert_eq!(header(&h, CONTENT_LENGTH), bytes.len().to_string());
        assert_eq!(
            header(&h, CONTENT_DISPOSITION),
            "inline; filename*=UTF-8''photo%201.png"
        );
        assert_eq!(
            header(&h, CACHE_CONTROL),
            "private, max-age=31536000, immutable"
        );
        assert_eq!(header(&h, X_CONTENT_TYPE_OPTIONS), "nosniff");
    }

    // On disk: the content under its id, and the sidecar.
    let dir = data_dir(&t).join("files");
    assert_eq!(std::fs::read(dir.join(&file.id)).unwrap(), bytes);
    let meta: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join(format!("{}.json", file.id))).unwrap())
            .unwrap();
    let sha: String = Sha256::digest(&bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(meta["owner"], a.id.0);
    assert_eq!(meta["name"], "photo 1.png");
    assert_eq!(meta["size"], bytes.len() as u64);
    assert_eq!(meta["mime"], "image/png");
    assert_eq!(meta["sha256"], sha);
    assert!(meta["created_ts"].as_i64().unwrap() > 0);
    assert!(entries(&dir.join("tmp")).is_empty());

    // The same content again is a different file: ids do not reveal content.
    let again = upload(&t, &a, "x", "image/png", bytes.clone()).await;
    assert_ne!(again.id, file.id);

    // Without name or type: defaults; Unicode names are percent-encoded.
    let resp = upload_raw(&t, Some(&a.token), "", None, b"hello".to_vec()).await;
    assert_eq!(resp.status(), StatusCode::CREATED);
    let plain: FileRef = resp.json().await.unwrap();
    assert_eq!(
        (plain.name.as_str(), plain.mime.as_str()),
        ("file", "application/octet-stream")
    );
    let (h, got) = download(&t, &b, &plain.id).await;
    assert_eq!(got, b"hello");
    assert_eq!(header(&h, CONTENT_TYPE), "application/octet-stream");
    let uni = upload(
        &t,
        &a,
        "%E7%85%A7.txt",
        "Text/Plain; charset=utf-8",
        b"hi".to_vec(),
    )
    .await;
    assert_eq!(
        (uni.name.as_str(), uni.mime.as_str()),
        ("照.txt", "text/plain; charset=utf-8")
    );
    let (h, _) = download(&t, &a, &uni.id).await;
    assert_eq!(header(&h, CONTENT_TYPE), "text/plain; charset=utf-8");
    assert_eq!(
        header(&h, CONTENT_DISPOSITION),
        "inline; filename*=UTF-8''%E7%85%A7.txt"
    );
}

#[tokio::test]
async fn image_message_references_an_uploaded_file() {
    let t = TestRelay::start().await;
    let (a, b) = (t.user("hal").await, t.user("ivy").await);
    let conv = t.befriend(&a, &b).await;
    let mut wa = t.ws(&a).await;
    let mut wb = t.ws(&b).await;
    let bytes = content(120 * 1024);
    let file = upload(&t, &a, "crag.jpg", "image/jpeg", bytes.clone()).await;
    let body = MessageBody::Image {
        file: file.clone(),
        width: 1600,
        height: 1200,
        preview: Some("iVBORw0KGgo=".into()),
    };
    let seq = wa.send_body(conv, body.clone(), "img-1").await.unwrap();
    let m = wb.message().await;
    assert_eq!((m.seq, m.sender, &m.body), (seq, a.id, &body));
    let MessageBody::Image { file: got, .. } = m.body else {
        unreachable!()
    };
    let (h, downloaded) = download(&t, &b, &got.id).await;
    assert!(downloaded == bytes, "downloaded bytes differ");
    assert_eq!(header(&h, CONTENT_TYPE), "image/jpeg");
    assert_eq!(downloaded.len() as u64, got.size);
    // Voice and file messages carry references the same way.
    let clip = upload(&t, &a, "note.ogg", "audio/ogg", content(5000)).await;
    wa.send_body(
        conv,
        MessageBody::Voice {
            file: clip.clone(),
            duration_ms: 1500,
        },
        "voice-1",
    )
    .await
    .unwrap();
    let m = wb.message().await;
    assert!(matches!(m.body, MessageBody::Voice { ref file, .. } if *file == clip));
    assert_eq!(download(&t, &b, &clip.id).await.1, content(5000));
    // A reference to a file that was never uploaded, or with a size that is not
    // the stored one, is refused and stores nothing.
    let ghost = FileRef {
        id: "0123456789abcdef0123456789abcdef".into(),
        ..clip.clone()
    };
    let err = wa
        .send_body(conv, MessageBody::File { file: ghost }, "ghost")
        .await
        .unwrap_err();
    assert_eq!(err.code, ErrorCode::NotFound);
    let lying = FileRef {
        size: clip.size + 1,
        ..clip.clone()
    };
    let err = wa
        .send_body(conv, MessageBody::File { file: lying }, "lying")
        .await
        .unwrap_err();
    assert_eq!(err.code, ErrorCode::BadRequest);
    // An image's preview is small or it is refused.
    let big = MessageBody::Image {
        file: file.clone(),
        width: 1600,
        height: 1200,
        preview: Some("A".repeat(natter_proto::model::PREVIEW_MAX_CHARS + 1)),
    };
    let err = wa.send_body(conv, big, "big-preview").await.unwrap_err();
    assert_eq!(err.code, ErrorCode::BadRequest);
    let (all, _) = wa.history(conv, None, None, None).await.unwrap();
    assert_eq!(all.len(), 2);
}

/// Sends an upload with a chunked body (no `Content-Length`) over a raw socket, so
/// the relay can only find out while streaming; returns the response status.
async fn chunked_upload(t: &TestRelay, token: &str, chunks: usize, chunk: usize) -> u16 {
    let mut s = tokio::net::TcpStream::connect(t.relay.addr).await.unwrap();
    let head = format!(
        "POST /v1/files?name=big.bin HTTP/1.1\r\nHost: {}\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: application/octet-stream\r\nTransfer-Encoding: chunked\r\n\r\n",
        t.relay.addr
    );
    s.write_all(head.as_bytes()).await.unwrap();
    for _ in 0..chunks {
        let mut c = format!("{chunk:x}\r\n").into_bytes();
        c.extend(std::iter::repeat_n(b'z', chunk));
        c.extend_from_slice(b"\r\n");
        // The relay may answer and close before taking everything.
        if s.write_all(&c).await.is_err() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let _ = s.write_all(b"0\r\n\r\n").await;
    let mut buf = Vec::new();
    let mut part = [0u8; 1024];
    let deadline = tokio::time::Instant::now() + WAIT;
    while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
        match tokio::time::timeout_at(deadline, s.read(&mut part)).await {
            Ok(Ok(n)) if n > 0 => buf.extend_from_slice(&part[..n]),
            _ => break,
        }
    }
    let text = String::from_utf8_lossy(&buf);
    text.split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or_else(|| panic!("no HTTP response: {text:?}"))
}

#[tokio::test]
async fn over_limit_uploads_are_refused_and_leave_nothing() {
    let t = TestRelay::start_with(|c| c.limits.max_file_bytes = 1024).await;
    let a = t.user("jay").await;
    // Declared too large.
    let resp = upload_raw(&t, Some(&a.token), "?name=big", None, content(4096)).await;
    assert_eq!(
        error(resp).await,
        (StatusCode::PAYLOAD_TOO_LARGE, ErrorCode::TooLarge)
    );
    assert_no_files(&t);
    // Found too large while streaming: the temp file is removed.
    assert_eq!(chunked_upload(&t, &a.token, 6, 512).await, 413);
    assert_no_files(&t);
    // One byte over, declared.
    let resp = upload_raw(&t, Some(&a.token), "", None, content(1025)).await;
    assert_eq!(resp.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_no_files(&t);
    // Exactly the limit is fine, declared or streamed.
    let file = upload(&t, &a, "max", "application/octet-stream", content(1024)).await;
    assert_eq!(file.size, 1024);
    assert_eq!(chunked_upload(&t, &a.token, 2, 512).await, 201);
    let stored = entries(&data_dir(&t).join("files"));
    assert_eq!(stored.len(), 5, "{stored:?}"); // two files, two sidecars, tmp/
    assert!(entries(&data_dir(&t).join("files/tmp")).is_empty());
}

#[tokio::test]
async fn files_need_a_signed_in_account() {
    let t = TestRelay::start().await;
    let a = t.user("kim").await;
    let file = upload(&t, &a, "a.txt", "text/plain", b"secret".to_vec()).await;

    let resp = upload_raw(&t, None, "?name=x", None, b"data".to_vec()).await;
    assert_eq!(
        error(resp).await,
        (StatusCode::UNAUTHORIZED, ErrorCode::Unauthorized)
    );
    let resp = upload_raw(&t, Some("not-a-token"), "?name=x", None, b"data".to_vec()).await;
    assert_eq!(error(resp).await.0, StatusCode::UNAUTHORIZED);
    let resp = download_raw(&t, None, &file.id).await;
    assert_eq!(
        error(resp).await,
        (StatusCode::UNAUTHORIZED, ErrorCode::Unauthorized)
    );
    let resp = download_raw(&t, Some("not-a-token"), &file.id).await;
    assert_eq!(error(resp).await.0, StatusCode::UNAUTHORIZED);
    // After logging out, the token no longer works for files either.
    let _: () = t.post(&a, "/v1/auth/logout", &()).await.unwrap();
    let resp = download_raw(&t, Some(&a.token), &file.id).await;
    assert_eq!(error(resp).await.0, StatusCode::UNAUTHORIZED);
    // Only the one file was stored.
    assert_eq!(entries(&data_dir(&t).join("files")).len(), 3);
}

#[tokio::test]
async fn unknown_and_malformed_ids_find_nothing() {
    let t = TestRelay::start().await;
    let a = t.user("lea").await;
    let file = upload(&t, &a, "a.txt", "text/plain", b"stored".to_vec()).await;
    // Something outside the files directory that a traversal would reach.
    std::fs::write(data_dir(&t).join("secret.txt"), b"outside").unwrap();
    let ids = [
        "0123456789abcdef0123456789abcdef".to_string(),
        file.id.to_uppercase(),
        format!("{}.json", file.id),
        file.id[1..].to_string(),
        "tmp".into(),
        "..%2F..%2Fetc".into(),
        "..%2Fsecret.txt".into(),
        "..%2F..%2F..%2F..%2F..%2Fetc%2Fpasswd".into(),
        "%2E%2E%2Fsecret.txt".into(),
        "..".into(),
        "../secret.txt".into(),
        "..%5Csecret.txt".into(),
    ];
    for id in &ids {
        let resp = download_raw(&t, Some(&a.token), id).await;
        let status = resp.status();
        let bytes = resp.bytes().await.unwrap();
        assert!(
            status == StatusCode::NOT_FOUND || status == StatusCode::BAD_REQUEST,
            "{id}: {status}"
        );
        assert!(
            !bytes.windows(7).any(|w| w == b"outside") && !bytes.windows(6).any(|w| w == b"stored"),
            "{id} leaked a file"
        );
        let body: ErrorBody = serde_json::from_slice(&bytes).unwrap();
        assert!(matches!(
            body.code,
            ErrorCode::NotFound | ErrorCode::BadRequest
        ));
    }
    // The valid id still works.
    assert_eq!(download(&t, &a, &file.id).await.1, b"stored");
}

#[tokio::test]
async fn empty_and_mistyped_uploads_are_bad_requests() {
    let t = TestRelay::start().await;
    let a = t.user("max").await;
    let resp = upload_raw(&t, Some(&a.token), "?name=empty", None, vec![]).await;
    assert_eq!(
        error(resp).await,
        (StatusCode::BAD_REQUEST, ErrorCode::BadRequest)
    );
    assert_eq!(chunked_upload(&t, &a.token, 0, 0).await, 400);
    let resp = upload_raw(&t, Some(&a.token), "", Some("not a mime"), b"x".to_vec()).await;
    assert_eq!(
        error(resp).await,
        (StatusCode::BAD_REQUEST, ErrorCode::BadRequest)
    );
    assert_no_files(&t);
    // Other methods on the upload path are not served.
    let resp = t
        .http
        .get(format!("{}/v1/files", t.relay.http_url()))
        .bearer_auth(&a.token)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::METHOD_NOT_ALLOWED);
}

async fn download_range(
    t: &TestRelay,
    user: &User,
    id: &str,
    range: &str,
    if_range: Option<&str>,
) -> (StatusCode, HeaderMap, Vec<u8>) {
    let url = format!("{}/v1/files/{id}", t.relay.http_url());
    let mut req = t
        .http
        .get(url)
        .bearer_auth(&user.token)
        .header(reqwest::header::RANGE, range);
    if let Some(v) = if_range {
        req = req.header(reqwest::header::IF_RANGE, v);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status();
    let headers = resp.headers().clone();
    (status, headers, resp.bytes().await.unwrap().to_vec())
}

#[tokio::test]
async fn a_download_resumes_from_where_it_stopped_with_a_range() {
    let t = TestRelay::start().await;
    let ann = t.user("ranger").await;
    let bytes = content(300_000);
    let f = upload(
        &t,
        &ann,
        "big.bin",
        "application/octet-stream",
        bytes.clone(),
    )
    .await;
    let etag = format!("\"{}\"", f.id);

    // The whole file says it can be resumed.
    let (headers, whole) = download(&t, &ann, &f.id).await;
    assert_eq!(whole, bytes);
    assert_eq!(headers[reqwest::header::ACCEPT_RANGES], "bytes");
    assert_eq!(headers[reqwest::header::ETAG], etag.as_str());

    // The rest, after 123,456 bytes arrived.
    let (status, headers, rest) =
        download_range(&t, &ann, &f.id, "bytes=123456-", Some(&etag)).await;
    assert_eq!(status, StatusCode::PARTIAL_CONTENT);
    assert_eq!(
        headers[reqwest::header::CONTENT_RANGE],
        "bytes 123456-299999/300000"
    );
    assert_eq!(headers[CONTENT_LENGTH], "176544");
    assert_eq!(rest, bytes[123_456..]);

    // A middle part, and the last bytes.
    let (status, _, mid) = download_range(&t, &ann, &f.id, "bytes=10-19", None).await;
    assert_eq!(status, StatusCode::PARTIAL_CONTENT);
    assert_eq!(mid, bytes[10..20]);
    let (status, headers, tail) = download_range(&t, &ann, &f.id, "bytes=-5", None).await;
    assert_eq!(status, StatusCode::PARTIAL_CONTENT);
    assert_eq!(
        headers[reqwest::header::CONTENT_RANGE],
        "bytes 299995-299999/300000"
    );
    assert_eq!(tail, bytes[299_995..]);

    // Past the end: 416 with the size, and an error body.
    let (status, headers, body) = download_range(&t, &ann, &f.id, "bytes=300000-", None).await;
    assert_eq!(status, StatusCode::RANGE_NOT_SATISFIABLE);
    assert_eq!(headers[reqwest::header::CONTENT_RANGE], "bytes */300000");
    let err: ErrorBody = serde_json::from_slice(&body).unwrap();
    assert_eq!(err.code, ErrorCode::BadRequest);

    // Ranges this relay serves whole, and a stale validator: all of it, 200.
    for (range, if_range) in [
        ("bytes=0-9,20-29", None),
        ("bytes=9-0", None),
        ("lines=1-2", None),
        ("bytes=100-", Some("\"another-version\"")),
    ] {
        let (status, headers, body) = download_range(&t, &ann, &f.id, range, if_range).await;
        assert_eq!(status, StatusCode::OK, "{range} {if_range:?}");
        assert!(headers.get(reqwest::header::CONTENT_RANGE).is_none());
        assert_eq!(body.len(), bytes.len(), "{range}");
    }
}

#[tokio::test]
async fn an_account_over_its_file_quota_is_refused_and_nothing_is_stored() {
    let t = TestRelay::start_with(|c| c.limits.account_file_bytes = 250_000).await;
    let (amy, ben) = (t.user("quota-amy").await, t.user("quota-ben").await);
    upload(
        &t,
        &amy,
        "one.bin",
        "application/octet-stream",
        content(100_000),
    )
    .await;
    upload(
        &t,
        &amy,
        "two.bin",
        "application/octet-stream",
        content(100_000),
    )
    .await;
    let stored = entries(&data_dir(&t).join("files")).len();
    let resp = upload_raw(
        &t,
        Some(&amy.token),
        "?name=three.bin",
        None,
        content(100_000),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let err: ErrorBody = resp.json().await.unwrap();
    assert_eq!(err.code, ErrorCode::QuotaExceeded);
    assert!(err.message.contains("250000"), "{}", err.message);
    // Nothing of it was kept, and a smaller file still fits.
    assert_eq!(entries(&data_dir(&t).join("files")).len(), stored);
    assert!(entries(&data_dir(&t).join("files").join("tmp")).is_empty());
    upload(
        &t,
        &amy,
        "small.bin",
        "application/octet-stream",
        content(50_000),
    )
    .await;
    // The quota is per account.
    upload(
        &t,
        &ben,
        "ben.bin",
        "application/octet-stream",
        content(200_000),
    )
    .await;
    // Uploads that finish at once cannot both slip under it.
    let racers = (0..4).map(|i| {
        let t = &t;
        let ben = &ben;
        async move {
            upload_raw(
                t,
                Some(&ben.token),
                &format!("?name=r{i}"),
                None,
                content(40_000),
            )
            .await
            .status()
        }
    });
    let statuses = futures_util::future::join_all(racers).await;
    let ok = statuses
        .iter()
        .filter(|s| **s == StatusCode::CREATED)
        .count();
    assert_eq!(ok, 1, "{statuses:?}");
}

#[tokio::test]
async fn resumable_uploads_refuse_what_does_not_fit_and_belong_to_their_uploader() {
    let t = TestRelay::start_with(|c| c.limits.max_file_bytes = 100_000).await;
    let (ann, bob) = (t.user("up-ann").await, t.user("up-bob").await);
    let base = t.relay.http_url();
    let open = |token: String, len: Option<&str>| {
        let mut req = t
            .http
            .post(format!("{base}/v1/uploads?name=notes.txt"))
            .bearer_auth(token)
            .header(CONTENT_TYPE, "text/plain");
        if let Some(len) = len {
            req = req.header("upload-length", len);
        }
        req.send()
    };
    let code = |resp: reqwest::Response| async move {
        let status = resp.status();
        (status, resp.json::<ErrorBody>().await.unwrap().code)
    };
    assert_eq!(
        code(open(ann.token.clone(), None).await.unwrap()).await,
        (StatusCode::BAD_REQUEST, ErrorCode::BadRequest)
    );
    assert_eq!(
        code(open(ann.token.clone(), Some("100001")).await.unwrap()).await,
        (StatusCode::PAYLOAD_TOO_LARGE, ErrorCode::TooLarge)
    );
    let resp = open(ann.token.clone(), Some("10")).await.unwrap();
    assert_eq!(resp.status(), StatusCode::CREATED);
    let state: natter_proto::rest::UploadState = resp.json().await.unwrap();
    let url = format!("{base}/v1/uploads/{}", state.upload);
    let patch = |token: String, offset: &str, body: &'static [u8]| {
        t.http
            .patch(&url)
            .bearer_auth(token)
            .header("upload-offset", offset)
            .body(body)
            .send()
    };
    // Someone else's upload does not exist for them.
    assert_eq!(
        code(patch(bob.token.clone(), "0", b"hello").await.unwrap()).await,
        (StatusCode::NOT_FOUND, ErrorCode::NotFound)
    );
    // Part of it, then a wrong offset, then more than announced.
    let resp = patch(ann.token.clone(), "0", b"hello").await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let state: natter_proto::rest::UploadState = resp.json().await.unwrap();
    assert_eq!((state.offset, state.size, state.file), (5, 10, None));
    assert_eq!(
        code(patch(ann.token.clone(), "0", b"again").await.unwrap()).await,
        (StatusCode::CONFLICT, ErrorCode::InvalidState)
    );
    assert_eq!(
        code(
            patch(ann.token.clone(), "5", b"world, and more")
                .await
                .unwrap()
        )
        .await,
        (StatusCode::PAYLOAD_TOO_LARGE, ErrorCode::TooLarge)
    );
    // The refused bytes left nothing behind; the rest completes the file.
    let resp = patch(ann.token.clone(), "5", b"world").await.unwrap();
    assert_eq!(resp.status(), StatusCode::CREATED);
    let state: natter_proto::rest::UploadState = resp.json().await.unwrap();
    let file = state.file.unwrap();
    assert_eq!(
        (file.name.as_str(), file.size, file.mime.as_str()),
        ("notes.txt", 10, "text/plain")
    );
    let (_, body) = download(&t, &bob, &file.id).await;
    assert_eq!(body, b"helloworld");
}
