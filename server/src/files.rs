//! File storage for image, file and voice messages.
//!
//! `POST /v1/files?name=…` streams the request body to `<files_dir>/tmp/`,
//! enforcing `limits.max_file_bytes` and hashing it (SHA-256) as it arrives, then
//! fsyncs it and renames it to `<files_dir>/<id>` next to a JSON sidecar
//! `<id>.json` ([`FileMeta`]). `GET /v1/files/{id}` streams it back.
//!
//! Ids are 128 random bits written as 32 lowercase hex digits. They are not
//! derived from the content, so nobody can probe whether some content is stored,
//! and they are unguessable: like the media URLs of other messengers, an id is a
//! capability, and any signed-in account that knows it may download the file
//! (whoever received a message referencing it). The relay does not track which
//! conversations reference a file.
//!
//! File names, contents and ids are never logged. All file-system access goes
//! through `tokio::fs`, so nothing blocks the executor.

use std::path::{Path as FsPath, PathBuf};
use std::sync::Arc;

use axum::Json;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use futures_util::StreamExt;
use natter_proto::model::{FileRef, UserId};
use natter_proto::{ErrorCode, Millis};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use tokio::io::{AsyncReadExt, AsyncWriteExt, BufWriter};

use crate::api::{Path, Query};
use crate::error::{Error, Result};
use crate::service::{Authed, Service};
use crate::util::now_ms;

/// MIME type of uploads sent without a `Content-Type`.
pub const DEFAULT_MIME: &str = "application/octet-stream";
/// Name of uploads sent without a usable `name`.
pub const DEFAULT_NAME: &str = "file";
/// Longest stored file name, in characters.
pub const MAX_FILE_NAME_CHARS: usize = 255;
/// Longest accepted `Content-Type`, in bytes.
pub const MAX_MIME_LEN: usize = 255;

/// Write buffer of an upload: fewer, larger writes to the file.
const WRITE_BUFFER: usize = 256 * 1024;
/// Read size of a download.
const READ_CHUNK: usize = 64 * 1024;

/// What the relay keeps about a stored file, in the sidecar `<id>.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileMeta {
    /// The account that uploaded it.
    pub owner: UserId,
    /// Sanitised file name.
    pub name: String,
    /// Size in bytes.
    pub size: u64,
    /// MIME type, as served back.
    pub mime: String,
    /// SHA-256 of the content, lowercase hex.
    pub sha256: String,
    /// When it was stored.
    pub created_ts: Millis,
}

/// Directory of uploads in progress in a files directory.
pub fn tmp_dir(files_dir: &FsPath) -> PathBuf {
    files_dir.join("tmp")
}

/// How old an unfinished upload in a shared files directory must be before a
/// starting node removes it (younger ones may be another node's, in progress).
const SHARED_TMP_AGE: std::time::Duration = std::time::Duration::from_secs(3600);

/// Creates the file directories and removes uploads a previous run left
/// unfinished. Called once at start. With `shared` (the nodes of a cluster
/// share the directory), only uploads older than an hour are removed.
pub async fn prepare(files_dir: &FsPath, shared: bool) -> std::io::Result<()> {
    let tmp = tmp_dir(files_dir);
    crate::util::private_dir(files_dir)?;
    tokio::fs::create_dir_all(&tmp).await?;
    let mut entries = tokio::fs::read_dir(&tmp).await?;
    while let Some(entry) = entries.next_entry().await? {
        let meta = entry.metadata().await?;
        if !meta.is_file() {
            continue;
        }
        let stale = !shared
            || meta
                .modified()
                .ok()
                .and_then(|m| m.elapsed().ok())
                .is_some_and(|age| age > SHARED_TMP_AGE);
        if stale {
            let _ = tokio::fs::remove_file(entry.path()).await;
        }
    }
    Ok(())
}

/// Whether `id` has the form of a file id: exactly 32 lowercase hex digits.
pub fn is_file_id(id: &str) -> bool {
    id.len() == 32 && id.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// A fresh random file id.
pub(crate) fn new_id() -> String {
    format!("{:032x}", rand::random::<u128>())
}

/// The last path component of `name`, without control characters, trimmed and
/// cut to [`MAX_FILE_NAME_CHARS`]; [`DEFAULT_NAME`] if nothing usable is left.
pub fn clean_file_name(name: Option<&str>) -> String {
    let name = name.unwrap_or_default();
    let base = name.rsplit(['/', '\\']).next().unwrap_or_default();
    let cleaned: String = base
        .chars()
        .filter(|c| !c.is_control())
        .collect::<String>()
        .trim()
        .chars()
        .take(MAX_FILE_NAME_CHARS)
        .collect();
    let cleaned = cleaned.trim_end().to_string();
    if cleaned.is_empty() || cleaned == "." || cleaned == ".." {
        DEFAULT_NAME.into()
    } else {
        cleaned
    }
}

/// The MIME type of an upload from its `Content-Type`: `type/subtype` (lower-cased)
/// with optional parameters, printable ASCII, at most [`MAX_MIME_LEN`] bytes.
pub(crate) fn clean_mime(value: Option<&HeaderValue>) -> Result<String> {
    let invalid = || Error::bad_request("Content-Type must be a MIME type such as image/png");
    let Some(value) = value else {
        return Ok(DEFAULT_MIME.into());
    };
    let text = value.to_str().map_err(|_| invalid())?.trim();
    if text.is_empty() {
        return Ok(DEFAULT_MIME.into());
    }
    if text.len() > MAX_MIME_LEN || !text.bytes().all(|b| b == b' ' || b.is_ascii_graphic()) {
        return Err(invalid());
    }
    let (essence, params) = match text.split_once(';') {
        Some((e, p)) => (e.trim(), Some(p.trim())),
        None => (text, None),
    };
    let token = |s: &str| {
        !s.is_empty()
            && s.bytes().all(|b| {
                b.is_ascii_alphanumeric()
                    || matches!(
                        b,
                        b'!' | b'#' | b'$' | b'&' | b'^' | b'_' | b'.' | b'+' | b'-'
                    )
            })
    };
    match essence.split_once('/') {
        Some((t, s)) if token(t) && token(s) => {}
        _ => return Err(invalid()),
    }
    let essence = essence.to_ascii_lowercase();
    Ok(match params {
        Some(p) if !p.is_empty() => format!("{essence}; {p}"),
        _ => essence,
    })
}

/// `name` percent-encoded for `filename*=UTF-8''…` (RFC 8187 `attr-char`s stay).
fn encode_rfc8187(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for b in name.bytes() {
        if b.is_ascii_alphanumeric()
            || matches!(
                b,
                b'!' | b'#' | b'$' | b'&' | b'+' | b'-' | b'.' | b'^' | b'_' | b'`' | b'|' | b'~'
            )
        {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

pub(crate) fn io(what: &str) -> impl FnOnce(std::io::Error) -> Error + '_ {
    move |e| Error::Internal(format!("files: {what}: {e}"))
}

pub(crate) fn too_large(max: u64) -> Error {
    Error::client(ErrorCode::TooLarge, format!("file larger than {max} bytes"))
}

/// Removes a temporary file when dropped unless disarmed: covers uploads whose
/// request is abandoned mid-stream (the handler future is dropped).
struct TempGuard {
    paths: Vec<PathBuf>,
}

impl TempGuard {
    /// Removes the files now and disarms.
    async fn remove(&mut self) {
        for p in self.paths.drain(..) {
            let _ = tokio::fs::remove_file(&p).await;
        }
    }
}

impl Drop for TempGuard {
    fn drop(&mut self) {
        if self.paths.is_empty() {
            return;
        }
        let paths = std::mem::take(&mut self.paths);
        match tokio::runtime::Handle::try_current() {
            Ok(rt) => {
                rt.spawn(async move {
                    for p in paths {
                        let _ = tokio::fs::remove_file(&p).await;
                    }
                });
            }
            Err(_) => {
                for p in paths {
                    let _ = std::fs::remove_file(&p);
                }
            }
        }
    }
}

/// Query of an upload.
#[derive(Debug, Deserialize)]
pub struct UploadQuery {
    /// The file's name; sanitised, [`DEFAULT_NAME`] when missing.
    pub name: Option<String>,
}

/// `POST /v1/files?name=…`: stores the raw request body and returns its
/// [`FileRef`] with `201 Created`.
pub async fn upload(
    State(svc): State<Arc<Service>>,
    authed: Authed,
    Query(q): Query<UploadQuery>,
    headers: HeaderMap,
    body: Body,
) -> Result<(StatusCode, Json<FileRef>)> {
    let max = svc.config.limits.max_file_bytes;
    let mime = clean_mime(headers.get(header::CONTENT_TYPE))?;
    let name = clean_file_name(q.name.as_deref());
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    match declared {
        Some(n) if n > max => return Err(too_large(max)),
        Some(0) => return Err(Error::bad_request("empty file")),
        _ => {}
    }

    let dir = svc.config.files_dir();
    let tmp = tmp_dir(&dir);
    tokio::fs::create_dir_all(&tmp)
        .await
        .map_err(io("create directory"))?;
    let id = new_id();
    let tmp_data = tmp.join(&id);
    let tmp_meta = tmp.join(format!("{id}.json"));
    let file = tokio::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&tmp_data)
        .await
        .map_err(io("create"))?;
    let mut guard = TempGuard {
        paths: vec![tmp_data.clone(), tmp_meta.clone()],
    };

    let stored = receive(body, file, max).await;
    let (size, sha256) = match stored {
        Ok(v) => v,
        Err(e) => {
            guard.remove().await;
            return Err(e);
        }
    };

    // Counted before the file becomes visible, so two uploads finishing at
    // once cannot both slip under the quota.
    if let Err(e) = count_against_quota(&svc, authed.id(), size).await {
        guard.remove().await;
        return Err(e);
    }
    let meta = FileMeta {
        owner: authed.id(),
        name,
        size,
        mime,
        sha256,
        created_ts: now_ms(),
    };
    if let Err(e) = commit(&dir, &id, &tmp_data, &tmp_meta, &meta).await {
        guard.remove().await;
        // The bytes stay counted: an I/O failure here is the relay's, rare,
        // and over-counting errs on the side of the disk.
        // The data file may already have been moved; take it away too.
        let _ = tokio::fs::remove_file(dir.join(&id)).await;
        return Err(e);
    }
    guard.paths.clear();
    tracing::debug!(size, "file stored");
    let FileMeta {
        name, size, mime, ..
    } = meta;
    Ok((
        StatusCode::CREATED,
        Json(FileRef {
            id,
            name,
            size,
            mime,
        }),
    ))
}

/// Streams `body` into `file`, at most `max` bytes; returns the size and the
/// SHA-256 (hex). The file is flushed and fsynced.
async fn receive(body: Body, file: tokio::fs::File, max: u64) -> Result<(u64, String)> {
    let mut out = BufWriter::with_capacity(WRITE_BUFFER, file);
    let mut hasher = Sha256::new();
    let mut size: u64 = 0;
    let mut stream = body.into_data_stream();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|_| Error::bad_request("upload interrupted"))?;
        size += chunk.len() as u64;
        if size > max {
            return Err(too_large(max));
        }
        hasher.update(&chunk);
        out.write_all(&chunk).await.map_err(io("write"))?;
    }
    if size == 0 {
        return Err(Error::bad_request("empty file"));
    }
    out.flush().await.map_err(io("flush"))?;
    let file = out.into_inner();
    file.sync_all().await.map_err(io("sync"))?;
    Ok((size, hex(&hasher.finalize())))
}

/// Lowercase hex of a digest.
pub(crate) fn hex(digest: &[u8]) -> String {
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// Adds `size` bytes to `user`'s stored files, or refuses with
/// `quota_exceeded` (changing nothing) if that would pass
/// `limits.account_file_bytes`.
pub(crate) async fn count_against_quota(svc: &Service, user: UserId, size: u64) -> Result<()> {
    let quota = svc.config.limits.account_file_bytes;
    if svc.storage.add_file_bytes(user, size, quota).await? {
        Ok(())
    } else {
        Err(Error::client(
            ErrorCode::QuotaExceeded,
            format!("this account's files would exceed its {quota}-byte quota"),
        ))
    }
}

/// Writes the sidecar and moves both files into place: data first, sidecar last,
/// so a file is visible to downloads only when complete.
pub(crate) async fn commit(
    dir: &FsPath,
    id: &str,
    tmp_data: &FsPath,
    tmp_meta: &FsPath,
    meta: &FileMeta,
) -> Result<()> {
    let json = serde_json::to_vec(meta)?;
    let mut f = tokio::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(tmp_meta)
        .await
        .map_err(io("create sidecar"))?;
    f.write_all(&json).await.map_err(io("write sidecar"))?;
    f.flush().await.map_err(io("flush sidecar"))?;
    f.sync_all().await.map_err(io("sync sidecar"))?;
    drop(f);
    tokio::fs::rename(tmp_data, dir.join(id))
        .await
        .map_err(io("rename"))?;
    tokio::fs::rename(tmp_meta, dir.join(format!("{id}.json")))
        .await
        .map_err(io("rename sidecar"))?;
    // Make the renames durable; not every platform can open a directory.
    if let Ok(d) = tokio::fs::File::open(dir).await {
        let _ = d.sync_all().await;
    }
    Ok(())
}

/// Reads the sidecar of a stored file; `None` if there is no such file.
pub async fn meta(files_dir: &FsPath, id: &str) -> Result<Option<FileMeta>> {
    if !is_file_id(id) {
        return Ok(None);
    }
    let path = files_dir.join(format!("{id}.json"));
    match tokio::fs::read(&path).await {
        Ok(bytes) => Ok(Some(serde_json::from_slice(&bytes)?)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(io("read sidecar")(e)),
    }
}

fn no_such_file() -> Error {
    Error::not_found("no such file")
}

/// What a `Range` header asks of a file of `len` bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wanted {
    /// The whole file (no `Range`, or one this relay serves whole: several
    /// ranges, another unit, bad syntax).
    Whole,
    /// Bytes `start..=end`.
    Part {
        /// The first byte.
        start: u64,
        /// The last byte (included).
        end: u64,
    },
    /// A range that starts past the end: `416`.
    Unsatisfiable,
}

/// Reads a `Range` header (RFC 9110 §14): one `bytes=` range, `a-b`, `a-` or
/// `-n` (the last `n` bytes).
pub fn wanted(range: Option<&str>, len: u64) -> Wanted {
    let Some(spec) = range.and_then(|r| r.trim().strip_prefix("bytes=")) else {
        return Wanted::Whole;
    };
    if spec.contains(',') {
        return Wanted::Whole;
    }
    let Some((a, b)) = spec.trim().split_once('-') else {
        return Wanted::Whole;
    };
    let number = |s: &str| {
        let s = s.trim();
        (!s.is_empty() && s.bytes().all(|c| c.is_ascii_digit()))
            .then(|| s.parse::<u64>().ok())
            .flatten()
    };
    match (a.trim().is_empty(), number(a), number(b)) {
        // -n: the last n bytes.
        (true, _, Some(n)) => {
            if n == 0 || len == 0 {
                Wanted::Unsatisfiable
            } else {
                Wanted::Part {
                    start: len.saturating_sub(n),
                    end: len - 1,
                }
            }
        }
        (false, Some(start), end) if b.trim().is_empty() || end.is_some() => {
            if start >= len {
                return Wanted::Unsatisfiable;
            }
            let end = end.map_or(len - 1, |e| e.min(len - 1));
            if end < start {
                Wanted::Whole
            } else {
                Wanted::Part { start, end }
            }
        }
        _ => Wanted::Whole,
    }
}

/// `GET /v1/files/{id}`: streams a stored file back with its MIME type, length
/// and name; with a `Range` header, only that part (`206`). Any signed-in
/// account may download any file whose id it knows.
pub async fn download(
    State(svc): State<Arc<Service>>,
    _authed: Authed,
    Path(id): Path<String>,
    request: HeaderMap,
) -> Result<Response> {
    let dir = svc.config.files_dir();
    let meta = meta(&dir, &id).await?.ok_or_else(no_such_file)?;
    let file = match tokio::fs::File::open(dir.join(&id)).await {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(no_such_file()),
        Err(e) => return Err(io("open")(e)),
    };
    let len = file.metadata().await.map_err(io("stat"))?.len();
    // Files never change, so the id is a strong validator.
    let etag = format!("\"{id}\"");
    let if_range_ok = request
        .get(header::IF_RANGE)
        .and_then(|v| v.to_str().ok())
        .is_none_or(|v| v.trim() == etag);
    let range = request.get(header::RANGE).and_then(|v| v.to_str().ok());
    let wanted = if if_range_ok {
        wanted(range, len)
    } else {
        Wanted::Whole
    };
    let (status, start, count) = match wanted {
        Wanted::Whole => (StatusCode::OK, 0, len),
        Wanted::Part { start, end } => (StatusCode::PARTIAL_CONTENT, start, end - start + 1),
        Wanted::Unsatisfiable => {
            let mut response = Error::client(
                ErrorCode::BadRequest,
                format!("range not satisfiable: the file has {len} bytes"),
            )
            .into_response();
            *response.status_mut() = StatusCode::RANGE_NOT_SATISFIABLE;
            response.headers_mut().insert(
                header::CONTENT_RANGE,
                HeaderValue::from_str(&format!("bytes */{len}"))
                    .unwrap_or_else(|_| HeaderValue::from_static("bytes */0")),
            );
            return Ok(response);
        }
    };
    let mut file = file;
    if start > 0 {
        use tokio::io::AsyncSeekExt;
        file.seek(std::io::SeekFrom::Start(start))
            .await
            .map_err(io("seek"))?;
    }
    let stream = futures_util::stream::unfold(Some((file, count)), |state| async move {
        let (mut file, left) = state?;
        if left == 0 {
            return None;
        }
        let want = READ_CHUNK.min(usize::try_from(left).unwrap_or(READ_CHUNK));
        let mut buf = vec![0u8; want];
        match file.read(&mut buf).await {
            // The file shrank under us; end here (the length was promised).
            Ok(0) => Some((
                Err(std::io::Error::from(std::io::ErrorKind::UnexpectedEof)),
                None,
            )),
            Ok(n) => {
                buf.truncate(n);
                Some((Ok(Bytes::from(buf)), Some((file, left - n as u64))))
            }
            Err(e) => Some((Err(e), None)),
        }
    });
    let mime = HeaderValue::from_str(&meta.mime)
        .unwrap_or_else(|_| HeaderValue::from_static(DEFAULT_MIME));
    let disposition = HeaderValue::from_str(&format!(
        "inline; filename*=UTF-8''{}",
        encode_rfc8187(&meta.name)
    ))
    .unwrap_or_else(|_| HeaderValue::from_static("inline"));
    let content_range = (status == StatusCode::PARTIAL_CONTENT).then(|| {
        HeaderValue::from_str(&format!("bytes {start}-{}/{len}", start + count - 1))
            .unwrap_or_else(|_| HeaderValue::from_static("bytes */0"))
    });
    let headers = [
        (header::CONTENT_TYPE, mime),
        (header::CONTENT_LENGTH, HeaderValue::from(count)),
        (header::ACCEPT_RANGES, HeaderValue::from_static("bytes")),
        (
            header::ETAG,
            HeaderValue::from_str(&etag).unwrap_or_else(|_| HeaderValue::from_static("\"\"")),
        ),
        (header::CONTENT_DISPOSITION, disposition),
        (
            header::CACHE_CONTROL,
            HeaderValue::from_static("private, max-age=31536000, immutable"),
        ),
        // Content is whatever someone uploaded: never sniff it, never run it.
        (
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ),
        (
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static("default-src 'none'; sandbox"),
        ),
    ];
    let mut response = (status, headers, Body::from_stream(stream)).into_response();
    if let Some(v) = content_range {
        response.headers_mut().insert(header::CONTENT_RANGE, v);
    }
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges() {
        let w = |r: &str| wanted(Some(r), 1000);
        assert_eq!(wanted(None, 1000), Wanted::Whole);
        assert_eq!(w("bytes=0-99"), Wanted::Part { start: 0, end: 99 });
        assert_eq!(
            w("bytes=500-"),
            Wanted::Part {
                start: 500,
                end: 999
            }
        );
        assert_eq!(
            w("bytes=900-5000"),
            Wanted::Part {
                start: 900,
                end: 999
            }
        );
        assert_eq!(
            w("bytes=-100"),
            Wanted::Part {
                start: 900,
                end: 999
            }
        );
        assert_eq!(w("bytes=-5000"), Wanted::Part { start: 0, end: 999 });
        assert_eq!(w("bytes=1000-"), Wanted::Unsatisfiable);
        assert_eq!(w("bytes=-0"), Wanted::Unsatisfiable);
        assert_eq!(w("bytes=5-2"), Wanted::Whole);
        assert_eq!(w("bytes=0-1,5-6"), Wanted::Whole);
        assert_eq!(w("items=0-1"), Wanted::Whole);
        assert_eq!(w("bytes=x-1"), Wanted::Whole);
        assert_eq!(w("bytes=+1-2"), Wanted::Whole);
        assert_eq!(wanted(Some("bytes=0-"), 0), Wanted::Unsatisfiable);
    }

    #[test]
    fn file_ids() {
        let id = new_id();
        assert!(is_file_id(&id), "{id}");
        assert_ne!(id, new_id());
        assert!(!is_file_id("../../etc/passwd"));
        assert!(!is_file_id(&id.to_uppercase()));
        assert!(!is_file_id(&id[1..]));
        assert!(!is_file_id(&format!("{id}.json")));
    }

    #[test]
    fn file_names() {
        assert_eq!(clean_file_name(None), "file");
        assert_eq!(clean_file_name(Some("")), "file");
        assert_eq!(clean_file_name(Some("../../etc/passwd")), "passwd");
        assert_eq!(
            clean_file_name(Some("C:\\Users\\x\\photo.jpg")),
            "photo.jpg"
        );
        assert_eq!(clean_file_name(Some("dir/..")), "file");
        assert_eq!(clean_file_name(Some(" a\u{0}b\nc.txt ")), "abc.txt");
        assert_eq!(clean_file_name(Some("照片.png")), "照片.png");
        let long = "é".repeat(300);
        assert_eq!(clean_file_name(Some(&long)).chars().count(), 255);
    }

    #[test]
    fn mime_types() {
        let h = |s: &'static str| HeaderValue::from_static(s);
        assert_eq!(clean_mime(None).unwrap(), DEFAULT_MIME);
        assert_eq!(clean_mime(Some(&h("Image/PNG"))).unwrap(), "image/png");
        assert_eq!(
            clean_mime(Some(&h("text/plain;charset=utf-8"))).unwrap(),
            "text/plain; charset=utf-8"
        );
        assert!(clean_mime(Some(&h("nonsense"))).is_err());
        assert!(clean_mime(Some(&h("a/b/c"))).is_err());
    }

    #[test]
    fn content_disposition_names() {
        assert_eq!(encode_rfc8187("a b.txt"), "a%20b.txt");
        assert_eq!(encode_rfc8187("照"), "%E7%85%A7");
        assert_eq!(encode_rfc8187("x\"y;z"), "x%22y%3Bz");
    }
}
