//! Resumable uploads (protocol 3): a file sent in as many requests as it takes.
//!
//! `POST /v1/uploads?name=…` with `Upload-Length` (and the file's
//! `Content-Type`) opens an upload in `<files_dir>/uploads/` and answers its id
//! and offset 0. `PATCH /v1/uploads/{id}` with `Upload-Offset` appends the
//! request body there; every chunk is written as it arrives, so when the
//! connection drops, what arrived stays, and `GET /v1/uploads/{id}` says how
//! much that is. When the last byte arrives the file is hashed, counted against
//! the account's quota and moved among the stored files, exactly as a one-shot
//! `POST /v1/files` would store it; the answer then carries its `FileRef`.
//!
//! The offset is the data file's length, so it survives a relay restart.
//! Uploads left unfinished for [`MAX_AGE`] are removed at start. An upload is
//! its uploader's: other accounts get `404`. One request at a time writes an
//! upload (per relay process); a second gets `409 invalid_state`.

use std::collections::HashSet;
use std::path::{Path as FsPath, PathBuf};
use std::sync::{Arc, Mutex};

use axum::Json;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use futures_util::StreamExt;
use natter_proto::ErrorCode;
use natter_proto::model::{FileRef, UserId};
use natter_proto::rest::UploadState;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::api::{Path, Query};
use crate::error::{Error, Result};
use crate::files::{self, FileMeta, UploadQuery, io};
use crate::service::{Authed, Service};
use crate::util::now_ms;

/// How long an unfinished upload is kept.
pub const MAX_AGE: std::time::Duration = std::time::Duration::from_secs(24 * 3600);

/// The announced size of a new upload.
pub const UPLOAD_LENGTH: &str = "upload-length";
/// Where a `PATCH` starts.
pub const UPLOAD_OFFSET: &str = "upload-offset";

/// What the relay keeps about an upload in progress, in `<id>.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Pending {
    owner: UserId,
    name: String,
    mime: String,
    size: u64,
    created_ts: i64,
}

/// Uploads being written now, on this relay.
#[derive(Debug, Default)]
pub struct Writing(Mutex<HashSet<String>>);

/// Holds an upload for one request; released when dropped (also when the
/// request is abandoned mid-body).
struct Held<'a>(&'a Writing, String);

impl Writing {
    fn hold(&self, id: &str) -> Option<Held<'_>> {
        let mut set = self.0.lock().unwrap_or_else(|e| e.into_inner());
        set.insert(id.to_string())
            .then(|| Held(self, id.to_string()))
    }
}

impl Drop for Held<'_> {
    fn drop(&mut self) {
        let mut set = self.0.0.lock().unwrap_or_else(|e| e.into_inner());
        set.remove(&self.1);
    }
}

fn dir(svc: &Service) -> PathBuf {
    svc.config.files_dir().join("uploads")
}

/// Removes uploads unfinished for longer than [`MAX_AGE`]. Called at start.
pub async fn prepare(files_dir: &FsPath) -> std::io::Result<()> {
    let dir = files_dir.join("uploads");
    // Made by the first upload.
    let mut entries = match tokio::fs::read_dir(&dir).await {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e),
    };
    while let Some(entry) = entries.next_entry().await? {
        let old = entry
            .metadata()
            .await?
            .modified()
            .ok()
            .and_then(|m| m.elapsed().ok())
            .is_some_and(|age| age > MAX_AGE);
        if old {
            let _ = tokio::fs::remove_file(entry.path()).await;
        }
    }
    Ok(())
}

fn no_such_upload() -> Error {
    Error::not_found("no such upload")
}

fn header_u64(headers: &HeaderMap, name: &str) -> Result<u64> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .ok_or_else(|| Error::bad_request(format!("{name} must be a byte count")))
}

/// The upload `id` of `authed`'s account, and its data file's length.
async fn find(svc: &Service, authed: &Authed, id: &str) -> Result<(Pending, u64)> {
    if !files::is_file_id(id) {
        return Err(no_such_upload());
    }
    let dir = dir(svc);
    let pending: Pending = match tokio::fs::read(dir.join(format!("{id}.json"))).await {
        Ok(bytes) => serde_json::from_slice(&bytes)?,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(no_such_upload()),
        Err(e) => return Err(io("read upload")(e)),
    };
    if pending.owner != authed.id() {
        return Err(no_such_upload());
    }
    let offset = match tokio::fs::metadata(dir.join(id)).await {
        Ok(m) => m.len(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(no_such_upload()),
        Err(e) => return Err(io("stat upload")(e)),
    };
    Ok((pending, offset))
}

/// `POST /v1/uploads?name=…`: opens a resumable upload of `Upload-Length`
/// bytes.
pub async fn start(
    State(svc): State<Arc<Service>>,
    authed: Authed,
    Query(q): Query<UploadQuery>,
    headers: HeaderMap,
) -> Result<(StatusCode, Json<UploadState>)> {
    let max = svc.config.limits.max_file_bytes;
    let size = header_u64(&headers, UPLOAD_LENGTH)?;
    if size == 0 {
        return Err(Error::bad_request("empty file"));
    }
    if size > max {
        return Err(files::too_large(max));
    }
    let pending = Pending {
        owner: authed.id(),
        name: files::clean_file_name(q.name.as_deref()),
        mime: files::clean_mime(headers.get(header::CONTENT_TYPE))?,
        size,
        created_ts: now_ms(),
    };
    let dir = dir(&svc);
    tokio::fs::create_dir_all(&dir)
        .await
        .map_err(io("create directory"))?;
    let id = files::new_id();
    tokio::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(dir.join(&id))
        .await
        .map_err(io("create upload"))?;
    tokio::fs::write(
        dir.join(format!("{id}.json")),
        serde_json::to_vec(&pending)?,
    )
    .await
    .map_err(io("write upload"))?;
    tracing::debug!(size, "upload opened");
    Ok((
        StatusCode::CREATED,
        Json(UploadState {
            upload: id,
            offset: 0,
            size,
            file: None,
        }),
    ))
}

/// `GET /v1/uploads/{id}`: how much of the upload the relay holds.
pub async fn state(
    State(svc): State<Arc<Service>>,
    authed: Authed,
    Path(id): Path<String>,
) -> Result<Json<UploadState>> {
    let (pending, offset) = find(&svc, &authed, &id).await?;
    Ok(Json(UploadState {
        upload: id,
        offset,
        size: pending.size,
        file: None,
    }))
}

/// `PATCH /v1/uploads/{id}`: appends the body at `Upload-Offset`; completes
/// the file when its last byte arrives.
pub async fn append(
    State(svc): State<Arc<Service>>,
    authed: Authed,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Result<(StatusCode, Json<UploadState>)> {
    let (pending, offset) = find(&svc, &authed, &id).await?;
    let Some(_held) = svc.uploads.hold(&id) else {
        return Err(Error::client(
            ErrorCode::InvalidState,
            "another request is writing this upload",
        ));
    };
    let at = header_u64(&headers, UPLOAD_OFFSET)?;
    if at != offset {
        return Err(Error::client(
            ErrorCode::InvalidState,
            format!("the relay holds {offset} bytes of this upload; send from there"),
        ));
    }
    let dir = dir(&svc);
    let data = dir.join(&id);
    let mut file = tokio::fs::OpenOptions::new()
        .append(true)
        .open(&data)
        .await
        .map_err(io("open upload"))?;
    let mut held = offset;
    let mut stream = body.into_data_stream();
    while let Some(chunk) = stream.next().await {
        let Ok(chunk) = chunk else {
            // Cut off: what arrived is in the file; the client asks and goes on.
            break;
        };
        if held + chunk.len() as u64 > pending.size {
            let _ = file.set_len(held).await;
            return Err(Error::client(
                ErrorCode::TooLarge,
                format!("the upload was announced as {} bytes", pending.size),
            ));
        }
        // Written and handed to the OS chunk by chunk, so an abandoned
        // request leaves everything that arrived.
        file.write_all(&chunk).await.map_err(io("write upload"))?;
        file.flush().await.map_err(io("write upload"))?;
        held += chunk.len() as u64;
    }
    file.sync_data().await.map_err(io("sync upload"))?;
    drop(file);
    if held < pending.size {
        return Ok((
            StatusCode::OK,
            Json(UploadState {
                upload: id,
                offset: held,
                size: pending.size,
                file: None,
            }),
        ));
    }
    let file = complete(&svc, &authed, &id, pending).await?;
    Ok((
        StatusCode::CREATED,
        Json(UploadState {
            upload: id,
            offset: held,
            size: file.size,
            file: Some(file),
        }),
    ))
}

/// Moves a complete upload among the stored files.
async fn complete(svc: &Service, authed: &Authed, id: &str, pending: Pending) -> Result<FileRef> {
    let dir = dir(svc);
    let data = dir.join(id);
    let mut hasher = Sha256::new();
    let mut f = tokio::fs::File::open(&data)
        .await
        .map_err(io("open upload"))?;
    let mut buf = vec![0u8; 256 * 1024];
    loop {
        let n = f.read(&mut buf).await.map_err(io("read upload"))?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    drop(f);
    if let Err(e) = files::count_against_quota(svc, authed.id(), pending.size).await {
        if e.code() == ErrorCode::QuotaExceeded {
            let _ = tokio::fs::remove_file(&data).await;
            let _ = tokio::fs::remove_file(dir.join(format!("{id}.json"))).await;
        }
        return Err(e);
    }
    let sha256 = files::hex(&hasher.finalize());
    let meta = FileMeta {
        owner: authed.id(),
        name: pending.name,
        size: pending.size,
        mime: pending.mime,
        sha256,
        created_ts: now_ms(),
    };
    // The stored file gets an id of its own: the upload id was in the
    // uploader's hands before the file existed.
    let file_id = files::new_id();
    let sidecar = dir.join(format!("{file_id}.meta"));
    files::commit(&svc.config.files_dir(), &file_id, &data, &sidecar, &meta).await?;
    let _ = tokio::fs::remove_file(dir.join(format!("{id}.json"))).await;
    tracing::debug!(size = meta.size, "upload completed");
    Ok(FileRef {
        id: file_id,
        name: meta.name,
        size: meta.size,
        mime: meta.mime,
    })
}
