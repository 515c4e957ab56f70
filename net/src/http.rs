//! The relay's REST API.

use std::time::Duration;

use natter_proto::model::{
    ConversationId, FileRef, FriendRequest, Group, Profile, Role, UserId, UserSummary,
};
use natter_proto::rest::*;
use natter_proto::{ErrorBody, ErrorCode};
use reqwest::Method;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::{Error, Result};

/// Installs the process-wide TLS crypto provider (ring) once.
pub(crate) fn tls_init() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        // Another part of the process may have installed one already; either is fine.
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}

/// Time allowed for one file upload or download (other requests get 20 s).
const TRANSFER_TIMEOUT: Duration = Duration::from_secs(10 * 60);

/// A REST client for one relay.
#[derive(Clone, Debug)]
pub struct Http {
    base: String,
    client: reqwest::Client,
}

impl Http {
    /// A client for the relay at `base` (`http://host:port` or `https://…`).
    pub fn new(base: &str) -> Result<Http> {
        tls_init();
        let extra = crate::tls::extra_roots()
            .into_iter()
            .filter_map(|c| reqwest::Certificate::from_der(&c).ok());
        let client = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(5))
            .timeout(Duration::from_secs(20))
            .tls_certs_merge(extra)
            .build()
            .map_err(|e| Error::Protocol(e.to_string()))?;
        Ok(Http {
            base: base.trim_end_matches('/').to_string(),
            client,
        })
    }

    /// The relay's base URL.
    pub fn base(&self) -> &str {
        &self.base
    }

    /// The WebSocket URL of the relay.
    pub fn ws_url(&self) -> String {
        let ws = if let Some(rest) = self.base.strip_prefix("https://") {
            format!("wss://{rest}")
        } else if let Some(rest) = self.base.strip_prefix("http://") {
            format!("ws://{rest}")
        } else {
            format!("ws://{}", self.base)
        };
        format!("{ws}{}", natter_proto::WS_PATH)
    }

    async fn call<B: Serialize, R: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<&B>,
    ) -> Result<R> {
        let mut req = self
            .client
            .request(method, format!("{}{}", self.base, path));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(b);
        }
        let resp = self.execute(req).await?;
        let bytes = resp
            .bytes()
            .await
            .map_err(|e| Error::Protocol(e.to_string()))?;
        let bytes: &[u8] = if bytes.is_empty() { b"null" } else { &bytes };
        serde_json::from_slice(bytes).map_err(|e| Error::Protocol(e.to_string()))
    }

    /// Sends a request; a response with a success status is returned as is, any
    /// other becomes [`Error::Api`] (or [`Error::Protocol`] without an error body).
    async fn execute(&self, req: reqwest::RequestBuilder) -> Result<reqwest::Response> {
        let resp = req.send().await.map_err(|e| {
            if let Some(reason) = crate::tls::certificate_problem(&e) {
                Error::Untrusted {
                    server: self.base.clone(),
                    reason,
                }
            } else if e.is_connect() || e.is_timeout() || e.is_request() {
                // Not reached, or the connection dropped while the request
                // went out: worth trying again.
                Error::Unreachable(self.base.clone())
            } else {
                Error::Protocol(e.to_string())
            }
        })?;
        let status = resp.status();
        if status.is_success() {
            return Ok(resp);
        }
        // `Retry-After` in whole seconds, for a body without `retry_after_ms`.
        let retry_after = resp
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(|s| s.saturating_mul(1000));
        let bytes = resp
            .bytes()
            .await
            .map_err(|e| Error::Protocol(e.to_string()))?;
        match serde_json::from_slice::<ErrorBody>(&bytes) {
            Ok(b) => Err(Error::Api {
                status: status.as_u16(),
                code: b.code,
                message: b.message,
                retry_after_ms: b.retry_after_ms.or(retry_after),
            }),
            Err(_) => Err(Error::Protocol(format!("HTTP {status}"))),
        }
    }

    async fn get<R: DeserializeOwned>(&self, path: &str, token: &str) -> Result<R> {
        self.call::<(), R>(Method::GET, path, Some(token), None)
            .await
    }

    async fn send<B: Serialize, R: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        token: &str,
        body: &B,
    ) -> Result<R> {
        self.call(method, path, Some(token), Some(body)).await
    }

    /// `GET /healthz`.
    pub async fn health(&self) -> Result<Health> {
        self.call::<(), _>(Method::GET, "/healthz", None, None)
            .await
    }

    /// Creates an account.
    pub async fn register(&self, req: &RegisterRequest) -> Result<Profile> {
        self.call(Method::POST, "/v1/auth/register", None, Some(req))
            .await
    }

    /// Signs in a device.
    pub async fn login(&self, req: &LoginRequest) -> Result<Session> {
        self.call(Method::POST, "/v1/auth/login", None, Some(req))
            .await
    }

    /// New tokens for a refresh token (which is used up).
    pub async fn refresh(&self, refresh_token: &str) -> Result<Session> {
        let req = RefreshRequest {
            refresh_token: refresh_token.into(),
        };
        self.call(Method::POST, "/v1/auth/refresh", None, Some(&req))
            .await
    }

    /// Ends this device's session.
    pub async fn logout(&self, token: &str) -> Result<()> {
        self.call::<(), ()>(Method::POST, "/v1/auth/logout", Some(token), None)
            .await
    }

    /// Own profile.
    pub async fn me(&self, token: &str) -> Result<Profile> {
        self.get("/v1/me", token).await
    }

    /// STUN/TURN servers and fresh TURN credentials for a call.
    pub async fn ice_servers(&self, token: &str) -> Result<IceServers> {
        self.get("/v1/calls/ice-servers", token).await
    }

    /// Changes the profile.
    pub async fn update_profile(&self, token: &str, patch: &UpdateProfile) -> Result<Profile> {
        self.send(Method::PATCH, "/v1/me", token, patch).await
    }

    /// Exact search by account, e-mail or phone.
    pub async fn search_users(&self, token: &str, query: &str) -> Result<Vec<UserSummary>> {
        let url = format!("/v1/users/search?q={}", encode(query));
        Ok(self.get::<SearchResult>(&url, token).await?.users)
    }

    /// Every member's read cursor in a conversation (protocol version 2).
    pub async fn reads(&self, token: &str, conversation: ConversationId) -> Result<Reads> {
        self.get(
            &format!("/v1/conversations/{}/reads", conversation.0),
            token,
        )
        .await
    }

    /// Friends.
    pub async fn friends(&self, token: &str) -> Result<Friends> {
        self.get("/v1/friends", token).await
    }

    /// Pending requests both ways.
    pub async fn friend_requests(&self, token: &str) -> Result<FriendRequests> {
        self.get("/v1/friends/requests", token).await
    }

    /// Asks someone to be friends.
    pub async fn send_friend_request(
        &self,
        token: &str,
        to: UserId,
        message: &str,
    ) -> Result<FriendRequest> {
        let req = SendFriendRequest {
            to,
            message: message.into(),
        };
        self.send(Method::POST, "/v1/friends/requests", token, &req)
            .await
    }

    /// Accepts or rejects a request.
    pub async fn answer_friend_request(
        &self,
        token: &str,
        id: u64,
        accept: bool,
    ) -> Result<FriendRequest> {
        let verb = if accept { "accept" } else { "reject" };
        self.send(
            Method::POST,
            &format!("/v1/friends/requests/{id}/{verb}"),
            token,
            &(),
        )
        .await
    }

    /// Unfriends.
    pub async fn remove_friend(&self, token: &str, user: UserId) -> Result<()> {
        self.call::<(), ()>(
            Method::DELETE,
            &format!("/v1/friends/{user}"),
            Some(token),
            None,
        )
        .await
    }

    /// Groups.
    pub async fn groups(&self, token: &str) -> Result<Groups> {
        self.get("/v1/groups", token).await
    }

    /// One group.
    pub async fn group(&self, token: &str, id: ConversationId) -> Result<Group> {
        self.get(&format!("/v1/groups/{id}"), token).await
    }

    /// Creates a group with friends.
    pub async fn create_group(
        &self,
        token: &str,
        name: &str,
        members: Vec<UserId>,
    ) -> Result<Group> {
        let req = CreateGroup {
            name: name.into(),
            members,
        };
        self.send(Method::POST, "/v1/groups", token, &req).await
    }

    /// Renames or sets the announcement.
    pub async fn update_group(
        &self,
        token: &str,
        id: ConversationId,
        patch: &UpdateGroup,
    ) -> Result<Group> {
        self.send(Method::PATCH, &format!("/v1/groups/{id}"), token, patch)
            .await
    }

    /// Invites friends.
    pub async fn invite(
        &self,
        token: &str,
        id: ConversationId,
        users: Vec<UserId>,
    ) -> Result<Group> {
        self.send(
            Method::POST,
            &format!("/v1/groups/{id}/members"),
            token,
            &InviteMembers { users },
        )
        .await
    }

    /// Removes a member.
    pub async fn remove_member(&self, token: &str, id: ConversationId, user: UserId) -> Result<()> {
        self.call::<(), ()>(
            Method::DELETE,
            &format!("/v1/groups/{id}/members/{user}"),
            Some(token),
            None,
        )
        .await
    }

    /// Sets a member's role.
    pub async fn set_role(
        &self,
        token: &str,
        id: ConversationId,
        user: UserId,
        role: Role,
    ) -> Result<Group> {
        self.send(
            Method::PUT,
            &format!("/v1/groups/{id}/members/{user}/role"),
            token,
            &SetRole { role },
        )
        .await
    }

    /// Leaves a group.
    pub async fn leave_group(&self, token: &str, id: ConversationId) -> Result<()> {
        self.call::<(), ()>(
            Method::POST,
            &format!("/v1/groups/{id}/leave"),
            Some(token),
            None,
        )
        .await
    }

    /// Disbands a group (owner).
    pub async fn disband(&self, token: &str, id: ConversationId) -> Result<()> {
        self.call::<(), ()>(
            Method::DELETE,
            &format!("/v1/groups/{id}"),
            Some(token),
            None,
        )
        .await
    }

    /// Uploads a file (`POST /v1/files`) for an image, file or voice message and
    /// returns the reference to put in the message. `name` is the file's name
    /// (the relay keeps only its last path component), `mime` its MIME type
    /// (`""` for `application/octet-stream`). Files larger than the relay's
    /// `limits.max_file_bytes` get `too_large`, empty ones `bad_request`.
    pub async fn upload(
        &self,
        token: &str,
        name: &str,
        mime: &str,
        bytes: Vec<u8>,
    ) -> Result<FileRef> {
        let mime = mime_or_default(mime);
        let req = self
            .client
            .post(format!("{}/v1/files?name={}", self.base, encode(name)))
            .bearer_auth(token)
            .header(reqwest::header::CONTENT_TYPE, mime)
            .timeout(TRANSFER_TIMEOUT)
            .body(bytes);
        let resp = self.execute(req).await?;
        resp.json::<FileRef>()
            .await
            .map_err(|e| Error::Protocol(e.to_string()))
    }

    /// Downloads a file (`GET /v1/files/{id}`): its bytes and MIME type, in that
    /// order. Any signed-in account may download a file whose id it knows; an
    /// unknown id gets `not_found`.
    pub async fn download(&self, token: &str, id: &str) -> Result<(Vec<u8>, String)> {
        // Relay ids are hex; anything URL parsing would treat as a path step
        // ("", ".", "..") cannot name a file.
        if id.is_empty() || id.bytes().all(|b| b == b'.') {
            return Err(Error::Api {
                status: 404,
                code: ErrorCode::NotFound,
                message: "no such file".into(),
                retry_after_ms: None,
            });
        }
        let req = self
            .client
            .get(format!("{}/v1/files/{}", self.base, encode(id)))
            .bearer_auth(token)
            .timeout(TRANSFER_TIMEOUT);
        let resp = self.execute(req).await?;
        let mime = resp
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("application/octet-stream")
            .to_string();
        let bytes = resp
            .bytes()
            .await
            .map_err(|e| Error::Protocol(e.to_string()))?;
        Ok((bytes.to_vec(), mime))
    }
}

impl Http {
    /// Downloads a file into `dest`, resuming a download of the same file that
    /// was cut off (by a dropped connection, or an app that quit): what has
    /// arrived is kept in `<dest>.<id>.part`, and the next call asks the relay
    /// only for the rest (`Range`, protocol 3). `progress(received, total)` is
    /// called as bytes arrive. Returns the file's size once `dest` holds all
    /// of it. On an error the part stays, and calling again continues.
    pub async fn download_to(
        &self,
        token: &str,
        id: &str,
        dest: &std::path::Path,
        mut progress: impl FnMut(u64, u64) + Send,
    ) -> Result<u64> {
        use tokio::io::AsyncWriteExt;
        if id.is_empty() || !id.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Err(Error::Api {
                status: 404,
                code: ErrorCode::NotFound,
                message: "no such file".into(),
                retry_after_ms: None,
            });
        }
        let io = |e: std::io::Error| Error::Protocol(format!("saving the download: {e}"));
        let name = dest
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "download".into());
        let part = dest.with_file_name(format!("{name}.{id}.part"));
        let url = format!("{}/v1/files/{}", self.base, encode(id));
        let mut have = tokio::fs::metadata(&part)
            .await
            .map(|m| m.len())
            .unwrap_or(0);
        let resp = loop {
            let mut req = self
                .client
                .get(&url)
                .bearer_auth(token)
                .timeout(TRANSFER_TIMEOUT);
            if have > 0 {
                req = req
                    .header(reqwest::header::RANGE, format!("bytes={have}-"))
                    .header(reqwest::header::IF_RANGE, format!("\"{id}\""));
            }
            match self.execute(req).await {
                // The part is not a beginning of this file (as long as it, or
                // longer): start over.
                Err(Error::Api { status: 416, .. }) if have > 0 => {
                    tokio::fs::remove_file(&part).await.map_err(io)?;
                    have = 0;
                }
                other => break other?,
            }
        };
        let resumed = resp.status() == reqwest::StatusCode::PARTIAL_CONTENT;
        let start = if resumed { have } else { 0 };
        let total = resp
            .headers()
            .get(reqwest::header::CONTENT_RANGE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.rsplit('/').next())
            .and_then(|v| v.parse::<u64>().ok())
            .or_else(|| resp.content_length().map(|n| n + start))
            .unwrap_or(0);
        let mut file = tokio::fs::OpenOptions::new()
            .create(true)
            .write(true)
            .append(resumed)
            .truncate(!resumed)
            .open(&part)
            .await
            .map_err(io)?;
        let mut received = start;
        progress(received, total);
        let mut resp = resp;
        loop {
            match resp.chunk().await {
                Ok(Some(chunk)) => {
                    file.write_all(&chunk).await.map_err(io)?;
                    received += chunk.len() as u64;
                    progress(received, total);
                }
                Ok(None) => break,
                Err(e) => {
                    // Keep what arrived for the next attempt.
                    let _ = file.flush().await;
                    let _ = file.sync_data().await;
                    tracing::debug!(error = %e, received, "download interrupted");
                    return Err(Error::Unreachable(self.base.clone()));
                }
            }
        }
        file.flush().await.map_err(io)?;
        file.sync_all().await.map_err(io)?;
        drop(file);
        if total > 0 && received != total {
            return Err(Error::Protocol(format!(
                "download ended at {received} of {total} bytes"
            )));
        }
        tokio::fs::rename(&part, dest).await.map_err(io)?;
        Ok(received)
    }
}

impl Http {
    /// Opens a resumable upload of `size` bytes (`POST /v1/uploads`, protocol
    /// 3). Keep the returned `upload` id: with it, [`Http::continue_upload`]
    /// sends the file, and sends the rest after an interruption, also from
    /// another process.
    pub async fn start_upload(
        &self,
        token: &str,
        name: &str,
        mime: &str,
        size: u64,
    ) -> Result<UploadState> {
        let mime = mime_or_default(mime);
        let req = self
            .client
            .post(format!("{}/v1/uploads?name={}", self.base, encode(name)))
            .bearer_auth(token)
            .header(reqwest::header::CONTENT_TYPE, mime)
            .header("upload-length", size);
        let resp = self.execute(req).await?;
        resp.json::<UploadState>()
            .await
            .map_err(|e| Error::Protocol(e.to_string()))
    }

    /// How much of an upload the relay holds.
    pub async fn upload_state(&self, token: &str, upload: &str) -> Result<UploadState> {
        self.call::<(), UploadState>(
            Method::GET,
            &format!("/v1/uploads/{}", encode(upload)),
            Some(token),
            None,
        )
        .await
    }

    /// Sends what the relay does not hold yet of `bytes` (the whole file) to
    /// the upload `upload`, and returns the stored file once all of it is
    /// there. After an error (a dropped connection), call it again: it asks
    /// the relay where to go on.
    pub async fn continue_upload(
        &self,
        token: &str,
        upload: &str,
        bytes: &[u8],
    ) -> Result<FileRef> {
        let mut offset = self.upload_state(token, upload).await?.offset;
        // A request cut short on the relay's side answers with less than all;
        // a few rounds are enough for any interruption that lets answers
        // through.
        for _ in 0..8 {
            let start = usize::try_from(offset)
                .ok()
                .filter(|o| *o <= bytes.len())
                .ok_or_else(|| Error::Protocol("the relay holds more than the file".into()))?;
            let req = self
                .client
                .patch(format!("{}/v1/uploads/{}", self.base, encode(upload)))
                .bearer_auth(token)
                .header("upload-offset", offset)
                .header(
                    reqwest::header::CONTENT_TYPE,
                    "application/offset+octet-stream",
                )
                .timeout(TRANSFER_TIMEOUT)
                .body(bytes[start..].to_vec());
            let state = self
                .execute(req)
                .await?
                .json::<UploadState>()
                .await
                .map_err(|e| Error::Protocol(e.to_string()))?;
            if let Some(file) = state.file {
                return Ok(file);
            }
            offset = state.offset;
        }
        Err(Error::Protocol("the upload does not advance".into()))
    }
}

impl Http {
    /// Like [`Http::continue_upload`], but sends at most `chunk` bytes per
    /// request and calls `progress(held, size)` with what the relay holds
    /// before the first request and after each one, so a person can watch it
    /// go. An interruption loses at most the chunk in flight; calling again
    /// goes on from what the relay holds.
    pub async fn continue_upload_with_progress(
        &self,
        token: &str,
        upload: &str,
        bytes: &[u8],
        chunk: usize,
        mut progress: impl FnMut(u64, u64) + Send,
    ) -> Result<FileRef> {
        let chunk = chunk.max(1);
        let size = bytes.len() as u64;
        let mut offset = self.upload_state(token, upload).await?.offset;
        progress(offset, size);
        // A request that moves nothing forward a few times in a row means
        // the relay will not take more.
        let mut stalled = 0;
        loop {
            let start = usize::try_from(offset)
                .ok()
                .filter(|o| *o <= bytes.len())
                .ok_or_else(|| Error::Protocol("the relay holds more than the file".into()))?;
            let end = start.saturating_add(chunk).min(bytes.len());
            let req = self
                .client
                .patch(format!("{}/v1/uploads/{}", self.base, encode(upload)))
                .bearer_auth(token)
                .header("upload-offset", offset)
                .header(
                    reqwest::header::CONTENT_TYPE,
                    "application/offset+octet-stream",
                )
                .timeout(TRANSFER_TIMEOUT)
                .body(bytes[start..end].to_vec());
            let state = self
                .execute(req)
                .await?
                .json::<UploadState>()
                .await
                .map_err(|e| Error::Protocol(e.to_string()))?;
            progress(state.offset, size);
            if let Some(file) = state.file {
                return Ok(file);
            }
            stalled = if state.offset > offset {
                0
            } else {
                stalled + 1
            };
            if stalled >= 8 {
                return Err(Error::Protocol("the upload does not advance".into()));
            }
            offset = state.offset;
        }
    }
}

/// The MIME type to send: `application/octet-stream` when none is known.
fn mime_or_default(mime: &str) -> &str {
    if mime.is_empty() {
        "application/octet-stream"
    } else {
        mime
    }
}

fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}
