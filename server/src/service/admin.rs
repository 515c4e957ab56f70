//! Operator commands (`natter-server admin …`): what an operator may do to
//! accounts and what they may look at. The same code answers whether the
//! command came over the running relay's admin socket or runs on a stopped
//! relay's data directory.

use natter_proto::limits::{MAX_PASSWORD_LEN, MIN_PASSWORD_CHARS};
use natter_proto::model::{ConversationId, UserId};
use natter_proto::{ErrorCode, Millis};
use serde::{Deserialize, Serialize};

use super::Service;
use crate::error::{Error, Result};
use crate::hub::CloseReason;
use crate::storage::{ConversationKind, Lookup, UserRecord};

/// Accounts scanned per storage call when listing or searching.
const SCAN_PAGE: usize = 500;

/// One operator command.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "cmd", rename_all = "snake_case")]
pub enum Command {
    /// Accounts with ids above `after`, at most `limit`.
    List {
        /// Start after this id (0 = from the first).
        after: u64,
        /// At most this many.
        limit: usize,
    },
    /// Accounts whose name, nickname, e-mail or phone contains `query`
    /// (case-insensitive).
    Search {
        /// What to look for.
        query: String,
    },
    /// Disables an account and closes its sessions at once.
    Disable {
        /// Account name, e-mail or phone.
        account: String,
    },
    /// Lets a disabled account sign in again.
    Enable {
        /// Account name, e-mail or phone.
        account: String,
    },
    /// Sets a new password and ends every session of the account.
    ResetPassword {
        /// Account name, e-mail or phone.
        account: String,
        /// The new password (never logged).
        password: String,
    },
    /// How big a conversation is.
    ConversationSize {
        /// The conversation id.
        conversation: u64,
    },
}

/// An account as an operator sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountInfo {
    /// Id.
    pub id: u64,
    /// Account name.
    pub account: String,
    /// Display name.
    pub nickname: String,
    /// E-mail, if given.
    pub email: Option<String>,
    /// Phone, if given.
    pub phone: Option<String>,
    /// Registration time, Unix milliseconds.
    pub created_ts: Millis,
    /// Disabled by an operator.
    pub disabled: bool,
    /// Has a live connection now (always false on a stopped relay).
    pub online: bool,
}

/// The answer to a [`Command`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "reply", rename_all = "snake_case")]
pub enum Reply {
    /// Accounts found.
    Accounts {
        /// In id order.
        accounts: Vec<AccountInfo>,
    },
    /// An account was disabled or enabled, or its password reset.
    Changed {
        /// The account.
        account: AccountInfo,
        /// Stored sessions (signed-in devices) ended.
        sessions_closed: usize,
        /// Live connections closed.
        connections_closed: usize,
    },
    /// A conversation's size.
    ConversationSize {
        /// Id.
        conversation: u64,
        /// `direct` or `group`.
        kind: String,
        /// Members now.
        members: usize,
        /// Messages stored (including recalled ones and operations).
        messages: u64,
        /// Highest message seq.
        last_seq: u64,
        /// Bytes of the stored messages, as the relay encodes them.
        bytes: u64,
    },
    /// The command failed; nothing was changed.
    Error {
        /// Why.
        message: String,
    },
}

impl Service {
    /// Runs an operator command. Errors come back as [`Reply::Error`].
    pub async fn admin(&self, command: Command) -> Reply {
        match self.admin_inner(command).await {
            Ok(reply) => reply,
            Err(Error::Client { message, .. }) => Reply::Error { message },
            Err(e) => Reply::Error {
                message: e.to_string(),
            },
        }
    }

    async fn admin_inner(&self, command: Command) -> Result<Reply> {
        match command {
            Command::List { after, limit } => {
                let users = self.storage.list_users(UserId(after), limit).await?;
                Ok(Reply::Accounts {
                    accounts: self.infos(users).await?,
                })
            }
            Command::Search { query } => {
                let q = query.trim().to_lowercase();
                if q.is_empty() {
                    return Err(Error::bad_request("search needs some text to look for"));
                }
                let mut found = Vec::new();
                let mut after = UserId(0);
                loop {
                    let page = self.storage.list_users(after, SCAN_PAGE).await?;
                    let Some(last) = page.last() else { break };
                    after = last.id;
                    let full = page.len() == SCAN_PAGE;
                    found.extend(page.into_iter().filter(|u| matches(u, &q)));
                    if !full {
                        break;
                    }
                }
                Ok(Reply::Accounts {
                    accounts: self.infos(found).await?,
                })
            }
            Command::Disable { account } => {
                let user = self.find(&account).await?;
                let sessions_closed = self.storage.set_disabled(user.id, true).await?;
                let connections_closed = self.close_user(user.id, CloseReason::Disabled);
                tracing::info!(user = user.id.0, sessions_closed, "account disabled");
                Ok(Reply::Changed {
                    account: self.info(user).await?,
                    sessions_closed,
                    connections_closed,
                })
            }
            Command::Enable { account } => {
                let user = self.find(&account).await?;
                self.storage.set_disabled(user.id, false).await?;
                tracing::info!(user = user.id.0, "account enabled");
                Ok(Reply::Changed {
                    account: self.info(user).await?,
                    sessions_closed: 0,
                    connections_closed: 0,
                })
            }
            Command::ResetPassword { account, password } => {
                let chars = password.chars().count();
                if chars < MIN_PASSWORD_CHARS || password.len() > MAX_PASSWORD_LEN {
                    return Err(Error::bad_request(format!(
                        "password must be {MIN_PASSWORD_CHARS} to {MAX_PASSWORD_LEN} characters"
                    )));
                }
                let mut user = self.find(&account).await?;
                user.password_hash = self.hash_password(password).await?;
                self.storage.update_user(user.clone(), Vec::new()).await?;
                let sessions_closed = self.storage.delete_sessions_of(user.id).await?;
                let connections_closed = self.close_user(user.id, CloseReason::PasswordReset);
                tracing::info!(user = user.id.0, sessions_closed, "password reset");
                Ok(Reply::Changed {
                    account: self.info(user).await?,
                    sessions_closed,
                    connections_closed,
                })
            }
            Command::ConversationSize { conversation } => {
                self.conversation_size(ConversationId(conversation)).await
            }
        }
    }

    async fn find(&self, account: &str) -> Result<UserRecord> {
        let key = account.trim().to_lowercase();
        for lookup in [
            Lookup::Account(key.clone()),
            Lookup::Email(key.clone()),
            Lookup::Phone(key.clone()),
        ] {
            if let Some(u) = self.storage.lookup(lookup).await? {
                return Ok(u);
            }
        }
        Err(Error::client(
            ErrorCode::NotFound,
            format!("no account named {account:?} (looked at names, e-mails and phones)"),
        ))
    }

    async fn info(&self, user: UserRecord) -> Result<AccountInfo> {
        let disabled = self.storage.is_disabled(user.id).await?;
        Ok(AccountInfo {
            id: user.id.0,
            online: self.is_online(user.id).await,
            account: user.account,
            nickname: user.nickname,
            email: user.email,
            phone: user.phone,
            created_ts: user.created_ts,
            disabled,
        })
    }

    async fn infos(&self, users: Vec<UserRecord>) -> Result<Vec<AccountInfo>> {
        let mut out = Vec::with_capacity(users.len());
        for u in users {
            out.push(self.info(u).await?);
        }
        Ok(out)
    }

    async fn conversation_size(&self, id: ConversationId) -> Result<Reply> {
        let conv = self.storage.conversation(id).await?.ok_or_else(|| {
            Error::client(ErrorCode::NotFound, format!("no conversation {}", id.0))
        })?;
        let members = self.storage.members(id).await?.len();
        let (mut messages, mut bytes, mut after) = (0u64, 0u64, 0u64);
        loop {
            let page = self
                .storage
                .messages(id, after, u64::MAX, SCAN_PAGE, false)
                .await?;
            let Some(last) = page.last() else { break };
            after = last.seq;
            let full = page.len() == SCAN_PAGE;
            for m in &page {
                messages += 1;
                bytes += serde_json::to_vec(m).map(|v| v.len() as u64).unwrap_or(0);
            }
            if !full {
                break;
            }
        }
        let kind = match conv.kind {
            ConversationKind::Direct { .. } => "direct",
            ConversationKind::Group { .. } => "group",
        };
        Ok(Reply::ConversationSize {
            conversation: id.0,
            kind: kind.into(),
            members,
            messages,
            last_seq: after,
            bytes,
        })
    }
}

fn matches(user: &UserRecord, q: &str) -> bool {
    user.account.contains(q)
        || user.nickname.to_lowercase().contains(q)
        || user.email.as_deref().is_some_and(|e| e.contains(q))
        || user.phone.as_deref().is_some_and(|p| p.contains(q))
}
