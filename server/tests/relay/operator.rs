//! Operator commands on this binary's backend: disabling an account ends its
//! sessions and keeps it out until it is enabled again.

use natter_server::admin::{self, Command, Reply};
use reqwest::StatusCode;

use crate::support::*;

#[tokio::test]
async fn a_disabled_account_is_signed_out_and_kept_out_until_enabled() {
    let t = TestRelay::start().await;
    let u = t.user("opdora").await;
    let other = t.user("opother").await;
    let config = t.relay.service.config.clone();
    let reply = admin::run(
        &config,
        Command::Disable {
            account: "opdora".into(),
        },
    )
    .await
    .unwrap();
    assert!(
        matches!(
            reply,
            Reply::Changed {
                sessions_closed: 1,
                ..
            }
        ),
        "{reply:?}"
    );
    assert_eq!(
        t.try_login("opdora", &u.password).await.unwrap_err(),
        StatusCode::FORBIDDEN
    );
    let me: ApiResult<serde_json::Value> = t.get(&u, "/v1/me").await;
    assert_eq!(me.unwrap_err().0, StatusCode::UNAUTHORIZED);
    // Everyone else is unaffected.
    let me: ApiResult<serde_json::Value> = t.get(&other, "/v1/me").await;
    assert!(me.is_ok());
    admin::run(
        &config,
        Command::Enable {
            account: "opdora".into(),
        },
    )
    .await
    .unwrap();
    assert!(t.try_login("opdora", &u.password).await.is_ok());
}
