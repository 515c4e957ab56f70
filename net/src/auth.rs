//! Tokens: one place that hands out a fresh access token and refreshes it, so
//! the single-use refresh token is never spent twice.

use natter_proto::{ErrorCode, now_ms};
use natter_store::{Account, Store};
use tokio::sync::Mutex;

use crate::error::{Error, Result};
use crate::http::Http;

/// Refresh this long before expiry.
const MARGIN_MS: i64 = 60_000;

/// The signed-in account's credentials.
pub struct Auth {
    http: Http,
    store: Store,
    account: Mutex<Account>,
}

impl Auth {
    /// Credentials of `account`, kept in `store`.
    pub fn new(http: Http, store: Store, account: Account) -> Auth {
        Auth {
            http,
            store,
            account: Mutex::new(account),
        }
    }

    /// The REST client.
    pub fn http(&self) -> &Http {
        &self.http
    }

    /// A copy of the account as it is now.
    pub async fn account(&self) -> Account {
        self.account.lock().await.clone()
    }

    /// A valid access token, refreshed first if it is about to expire.
    pub async fn token(&self) -> Result<String> {
        let mut acc = self.account.lock().await;
        if acc.access_expires_ts - now_ms() < MARGIN_MS {
            self.refresh_locked(&mut acc).await?;
        }
        Ok(acc.access_token.clone())
    }

    /// Refreshes now (the relay said the token expired), unless another caller
    /// already did since `stale` was handed out.
    pub async fn refresh(&self, stale: &str) -> Result<String> {
        let mut acc = self.account.lock().await;
        if acc.access_token == stale {
            self.refresh_locked(&mut acc).await?;
        }
        Ok(acc.access_token.clone())
    }

    async fn refresh_locked(&self, acc: &mut Account) -> Result<()> {
        match self.http.refresh(&acc.refresh_token).await {
            Ok(s) => {
                acc.access_token = s.access_token;
                acc.access_expires_ts = s.access_expires_ts;
                acc.refresh_token = s.refresh_token;
                acc.refresh_expires_ts = s.refresh_expires_ts;
                acc.profile = s.profile;
                self.store.set_account(acc.clone()).await?;
                Ok(())
            }
            Err(e)
                if matches!(
                    e.code(),
                    Some(ErrorCode::Unauthorized | ErrorCode::TokenExpired)
                ) =>
            {
                Err(Error::SignedOut)
            }
            Err(e) => Err(e),
        }
    }
}
