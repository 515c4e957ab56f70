//! Accounts: registration, login, tokens, profiles, search.

use std::net::IpAddr;

use natter_proto::ErrorCode;
use natter_proto::event::EventBody;
use natter_proto::limits::{MAX_ACCOUNT_LEN, MAX_ID_LEN, MAX_PASSWORD_LEN, MIN_PASSWORD_CHARS};
use natter_proto::model::{Profile, UserId, UserSummary};
use natter_proto::rest::{LoginRequest, RefreshRequest, RegisterRequest, Session, UpdateProfile};

use super::{Service, clean_name};
use crate::auth::{Claims, new_refresh, parse_refresh};
use crate::error::{Error, Result};
use crate::storage::{Lookup, SessionRecord, UserRecord};
use crate::throttle::Counted;
use crate::util::now_ms;

/// A request's verified identity.
#[derive(Debug, Clone)]
pub struct Authed {
    /// The account.
    pub user: UserRecord,
    /// Its session on this device.
    pub session: SessionRecord,
}

impl Authed {
    /// The account id.
    pub fn id(&self) -> UserId {
        self.user.id
    }
}

fn clean_account(account: &str) -> Result<String> {
    let a = account.trim().to_lowercase();
    let ok_chars = a
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'));
    if a.len() < 3 || a.len() > MAX_ACCOUNT_LEN || !ok_chars {
        return Err(Error::bad_request(format!(
            "account name must be 3–{MAX_ACCOUNT_LEN} of a-z, 0-9, _ . -"
        )));
    }
    Ok(a)
}

fn clean_email(email: &str) -> Result<Option<String>> {
    let e = email.trim().to_lowercase();
    if e.is_empty() {
        return Ok(None);
    }
    let valid = e.len() <= 254
        && e.split_once('@')
            .is_some_and(|(l, d)| !l.is_empty() && d.contains('.'))
        && !e.chars().any(|c| c.is_whitespace() || c.is_control());
    if !valid {
        return Err(Error::bad_request("invalid e-mail address"));
    }
    Ok(Some(e))
}

fn clean_phone(phone: &str) -> Result<Option<String>> {
    let p: String = phone
        .chars()
        .filter(|c| !matches!(c, ' ' | '-' | '(' | ')'))
        .collect();
    if p.is_empty() {
        return Ok(None);
    }
    let digits = p.strip_prefix('+').unwrap_or(&p);
    if digits.len() < 5 || digits.len() > 20 || !digits.chars().all(|c| c.is_ascii_digit()) {
        return Err(Error::bad_request("invalid phone number"));
    }
    Ok(Some(p))
}

fn clean_avatar(avatar: &str) -> Result<Option<String>> {
    let a = avatar.trim();
    if a.is_empty() {
        return Ok(None);
    }
    if a.len() > 512 || a.chars().any(char::is_control) {
        return Err(Error::bad_request("invalid avatar reference"));
    }
    Ok(Some(a.to_string()))
}

fn disabled() -> Error {
    Error::client(
        ErrorCode::Forbidden,
        "this account has been disabled by the relay's operator",
    )
}

fn profile(user: &UserRecord) -> Profile {
    Profile {
        user: user.summary(),
        email: user.email.clone(),
        phone: user.phone.clone(),
        created_ts: user.created_ts,
    }
}

impl Service {
    /// Tells the other nodes of a cluster what the throttles counted here.
    fn share_throttled(&self, counted: Counted) {
        if let Some(node) = &self.node {
            node.bus.throttled(&counted);
        }
    }

    /// Creates an account; `from` is the request's source address, counted
    /// against `throttle.registrations_per_hour`.
    pub async fn register(&self, req: RegisterRequest, from: Option<IpAddr>) -> Result<Profile> {
        let account = clean_account(&req.account)?;
        let chars = req.password.chars().count();
        if chars < MIN_PASSWORD_CHARS || req.password.len() > MAX_PASSWORD_LEN {
            return Err(Error::bad_request(format!(
                "password must be {MIN_PASSWORD_CHARS} to {MAX_PASSWORD_LEN} characters"
            )));
        }
        let nickname = if req.nickname.trim().is_empty() {
            account.clone()
        } else {
            clean_name(&req.nickname, "nickname")?
        };
        let email = clean_email(req.email.as_deref().unwrap_or(""))?;
        let phone = clean_phone(req.phone.as_deref().unwrap_or(""))?;
        let avatar = clean_avatar(req.avatar.as_deref().unwrap_or(""))?;
        // Counted only for requests that could succeed, before the costly hash.
        if let Err(wait) = self.throttle.register(from) {
            tracing::info!(wait_ms = wait, "registration throttled");
            return Err(Error::Throttled {
                message: "too many accounts created from this address; try again later".into(),
                retry_after_ms: wait,
            });
        }
        self.share_throttled(Counted::Registered { address: from });
        let password_hash = self.hash_password(req.password).await?;
        let user = UserRecord {
            id: UserId(self.ids.next()),
            account,
            nickname,
            avatar,
            email,
            phone,
            password_hash,
            created_ts: now_ms(),
        };
        self.storage.create_user(user.clone()).await?;
        tracing::info!(user = user.id.0, "account registered");
        Ok(profile(&user))
    }

    pub(super) async fn hash_password(&self, password: String) -> Result<String> {
        let passwords = self.passwords.clone();
        tokio::task::spawn_blocking(move || passwords.hash(&password))
            .await
            .map_err(|e| Error::Internal(e.to_string()))?
    }

    /// Signs in a device. `from` is the request's source address: failures
    /// count against the account and the address ([`crate::throttle`]).
    pub async fn login(&self, req: LoginRequest, from: Option<IpAddr>) -> Result<Session> {
        let name = req.account.trim().to_lowercase();
        if let Some(wait) = self.throttle.login_wait(&name, from) {
            return Err(Error::Throttled {
                message: "too many failed sign-ins; wait before trying again".into(),
                retry_after_ms: wait,
            });
        }
        // An account name first; failing that, the e-mail or phone it may be.
        let mut user = self.storage.lookup(Lookup::Account(name.clone())).await?;
        if user.is_none()
            && let Ok(Some(email)) = clean_email(&name)
        {
            user = self.storage.lookup(Lookup::Email(email)).await?;
        }
        if user.is_none()
            && let Ok(Some(phone)) = clean_phone(&name)
        {
            user = self.storage.lookup(Lookup::Phone(phone)).await?;
        }
        let passwords = self.passwords.clone();
        let hash = user.as_ref().map(|u| u.password_hash.clone());
        let password = req.password;
        let ok = if password.len() > MAX_PASSWORD_LEN {
            false
        } else {
            tokio::task::spawn_blocking(move || passwords.verify(&password, hash.as_deref()))
                .await
                .map_err(|e| Error::Internal(e.to_string()))?
        };
        let user = match (ok, user) {
            (true, Some(user)) => {
                self.throttle.login_succeeded(&name);
                self.share_throttled(Counted::LoginSucceeded {
                    account: name.clone(),
                });
                user
            }
            _ => {
                self.throttle.login_failed(&name, from);
                self.share_throttled(Counted::LoginFailed {
                    account: name.clone(),
                    address: from,
                });
                tracing::info!("sign-in failed");
                return Err(Error::client(
                    ErrorCode::BadCredentials,
                    "wrong account name or password",
                ));
            }
        };
        if self.storage.is_disabled(user.id).await? {
            return Err(disabled());
        }
        let device = match req.device_id.as_deref().map(str::trim) {
            Some(d) if !d.is_empty() => {
                if d.len() > MAX_ID_LEN || d.chars().any(char::is_control) {
                    return Err(Error::bad_request("invalid device id"));
                }
                d.to_string()
            }
            _ => format!("d{}", self.ids.next()),
        };
        let session_id = self.ids.next();
        let (refresh, refresh_hash) = new_refresh(session_id);
        let now = now_ms();
        let record = SessionRecord {
            id: session_id,
            user: user.id,
            device,
            device_name: req.device_name.map(|n| n.chars().take(64).collect()),
            refresh_hash,
            refresh_expires_ts: now + self.config.refresh_ttl_secs as i64 * 1000,
            created_ts: now,
            previous_refresh_hash: None,
        };
        self.storage.put_session(record.clone()).await?;
        // An operator may have disabled the account meanwhile; its sessions were
        // deleted then, so this one must go too.
        if self.storage.is_disabled(user.id).await? {
            self.storage.delete_session(session_id).await?;
            return Err(disabled());
        }
        tracing::info!(user = user.id.0, session = session_id, "signed in");
        Ok(self.session_reply(&user, &record, refresh, now))
    }

    fn session_reply(
        &self,
        user: &UserRecord,
        session: &SessionRecord,
        refresh: String,
        now: i64,
    ) -> Session {
        let expires = now + self.config.access_ttl_secs as i64 * 1000;
        let access = self.tokens.sign(Claims {
            user: user.id.0,
            session: session.id,
            expires,
        });
        Session {
            access_token: access,
            access_expires_ts: expires,
            refresh_token: refresh,
            refresh_expires_ts: session.refresh_expires_ts,
            device_id: session.device.clone(),
            profile: profile(user),
        }
    }

    /// Exchanges a refresh token for a new pair.
    pub async fn refresh(&self, req: RefreshRequest) -> Result<Session> {
        let invalid = || Error::client(ErrorCode::Unauthorized, "invalid or expired refresh token");
        let (session_id, hash) = parse_refresh(&req.refresh_token).ok_or_else(invalid)?;
        let session = self
            .storage
            .session(session_id)
            .await?
            .ok_or_else(invalid)?;
        let now = now_ms();
        if session.previous_refresh_hash.as_deref() == Some(hash.as_str()) {
            // A used-up token came back: whoever holds the session's tokens
            // now, one of the two is not the device. End the session; the
            // device signs in again with its password.
            tracing::warn!(
                user = session.user.0,
                session = session.id,
                "refresh token replayed; revoking the session"
            );
            self.end_session(&session, crate::hub::CloseReason::Revoked)
                .await?;
            return Err(Error::client(
                ErrorCode::Unauthorized,
                "refresh token already used; the session is revoked, sign in again",
            ));
        }
        if session.refresh_hash != hash || session.refresh_expires_ts <= now {
            return Err(invalid());
        }
        let user = self.storage.user(session.user).await?.ok_or_else(invalid)?;
        if self.storage.is_disabled(user.id).await? {
            return Err(disabled());
        }
        let (refresh, refresh_hash) = new_refresh(session.id);
        let next = SessionRecord {
            refresh_hash,
            refresh_expires_ts: now + self.config.refresh_ttl_secs as i64 * 1000,
            previous_refresh_hash: Some(hash.clone()),
            ..session
        };
        if !self.storage.rotate_session(next.clone(), hash).await? {
            return Err(invalid());
        }
        Ok(self.session_reply(&user, &next, refresh, now))
    }

    /// Ends a device's session and closes its connections.
    pub async fn logout(&self, authed: &Authed) -> Result<()> {
        self.end_session(&authed.session, crate::hub::CloseReason::LoggedOut)
            .await?;
        tracing::info!(
            user = authed.id().0,
            session = authed.session.id,
            "signed out"
        );
        Ok(())
    }

    /// Deletes a session (every token of it) and closes its device's
    /// connections, here and on other nodes.
    async fn end_session(
        &self,
        session: &SessionRecord,
        reason: crate::hub::CloseReason,
    ) -> Result<()> {
        self.storage.delete_session(session.id).await?;
        self.close_device(session.user, &session.device, reason);
        Ok(())
    }

    /// Checks an access token and finds its account and session.
    pub async fn authenticate(&self, token: &str) -> Result<Authed> {
        let claims = self.tokens.verify(token, now_ms())?;
        let revoked = || Error::client(ErrorCode::Unauthorized, "session has ended");
        let session = self
            .storage
            .session(claims.session)
            .await?
            .ok_or_else(revoked)?;
        if session.user.0 != claims.user {
            return Err(revoked());
        }
        let user = self.storage.user(session.user).await?.ok_or_else(revoked)?;
        Ok(Authed { user, session })
    }

    /// The signed-in account's profile.
    pub fn profile(&self, authed: &Authed) -> Profile {
        profile(&authed.user)
    }

    /// Changes the profile; friends and the account's other devices are told.
    pub async fn update_profile(&self, authed: &Authed, patch: UpdateProfile) -> Result<Profile> {
        let mut user = self
            .storage
            .user(authed.id())
            .await?
            .ok_or_else(|| Error::not_found("no such account"))?;
        if let Some(n) = patch.nickname {
            user.nickname = clean_name(&n, "nickname")?;
        }
        if let Some(a) = patch.avatar {
            user.avatar = clean_avatar(&a)?;
        }
        if let Some(e) = patch.email {
            user.email = clean_email(&e)?;
        }
        if let Some(p) = patch.phone {
            user.phone = clean_phone(&p)?;
        }
        let summary = user.summary();
        let mut recipients: Vec<UserId> = self
            .storage
            .friends(user.id)
            .await?
            .iter()
            .map(|f| f.friend)
            .collect();
        recipients.push(user.id);
        // Fellow group members see the name and avatar too, friends or not.
        for (conv, _, _) in self.storage.conversations_of(user.id).await? {
            if matches!(conv.kind, crate::storage::ConversationKind::Group { .. }) {
                for m in self.storage.members(conv.id).await? {
                    recipients.push(m.user);
                }
            }
        }
        recipients.sort_unstable_by_key(|u| u.0);
        recipients.dedup();
        let events = recipients
            .into_iter()
            .map(|u| {
                (
                    u,
                    EventBody::ProfileUpdated {
                        user: summary.clone(),
                    },
                )
            })
            .collect();
        let appends = self.storage.update_user(user.clone(), events).await?;
        self.deliver_events(&appends);
        Ok(profile(&user))
    }

    /// Exact search by account name, e-mail or phone.
    pub async fn search(&self, query: &str) -> Result<Vec<UserSummary>> {
        let q = query.trim().to_lowercase();
        if q.is_empty() || q.len() > 254 {
            return Ok(Vec::new());
        }
        let mut keys = vec![Lookup::Account(q.clone())];
        if let Ok(Some(e)) = clean_email(&q) {
            keys.push(Lookup::Email(e));
        }
        if let Ok(Some(p)) = clean_phone(&q) {
            keys.push(Lookup::Phone(p));
        }
        let mut out: Vec<UserSummary> = Vec::new();
        for key in keys {
            if let Some(u) = self.storage.lookup(key).await?
                && !out.iter().any(|s| s.id == u.id)
            {
                out.push(u.summary());
            }
        }
        Ok(out)
    }

    /// Public profile of any account.
    pub async fn user_summary(&self, id: UserId) -> Result<UserSummary> {
        self.storage
            .user(id)
            .await?
            .map(|u| u.summary())
            .ok_or_else(|| Error::not_found("no such account"))
    }
}
