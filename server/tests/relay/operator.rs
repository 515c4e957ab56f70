//! Operator commands on this binary's backend: disabling an account ends its
//! sessions and keeps it out until it is enabled again.

use natter_proto::rest::LoginRequest;
use natter_server::admin::{self, Command, Reply};
use reqwest::{Method, StatusCode};

use crate::support::*;

async fn login(
    t: &TestRelay,
    account: &str,
    password: &str,
) -> Result<serde_json::Value, StatusCode> {
    t.call(
        Method::POST,
        None,
        "/v1/auth/login",
        Some(&LoginRequest {
            account: account.into(),
            password: password.into(),
            device_id: None,
            device_name: None,
        }),
    )
    .await
    .map_err(|(status, _)| status)
}

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
        login(&t, "opdora", &u.password).await.unwrap_err(),
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
    assert!(login(&t, "opdora", &u.password).await.is_ok());
}
