//! Operator commands: through the running relay's admin socket (sessions end
//! at once) and on a stopped relay's data directory.

use std::time::Duration;

use natter_proto::ErrorCode;
use natter_proto::frame::ServerFrame;
use natter_proto::rest::RefreshRequest;
use natter_server::admin::{self, Command, Reply};
use natter_server::{Config, Relay};
use reqwest::{Method, StatusCode};

use crate::support::{Api, TestRelay};

fn accounts(reply: Reply) -> Vec<String> {
    match reply {
        Reply::Accounts { accounts } => accounts.into_iter().map(|a| a.account).collect(),
        other => panic!("expected accounts, got {other:?}"),
    }
}

#[tokio::test]
async fn disable_closes_sessions_at_once_and_blocks_sign_in_until_enabled() {
    let relay = TestRelay::start().await;
    let config = relay.relay.service.config.clone();
    let alice = relay.user("adm-alice").await;
    let bob = relay.user("adm-bob").await;
    let conv = relay.befriend(&alice, &bob).await;
    let mut wb = relay.ws(&bob).await;

    // List and search.
    let all = accounts(
        admin::run(
            &config,
            Command::List {
                after: 0,
                limit: 10,
            },
        )
        .await
        .unwrap(),
    );
    assert_eq!(all, vec!["adm-alice", "adm-bob"]);
    let found = accounts(
        admin::run(
            &config,
            Command::Search {
                query: "BOB".into(),
            },
        )
        .await
        .unwrap(),
    );
    assert_eq!(found, vec!["adm-bob"]);
    // By e-mail too (the harness registers <account>@example.com).
    let found = accounts(
        admin::run(
            &config,
            Command::Search {
                query: "alice@example".into(),
            },
        )
        .await
        .unwrap(),
    );
    assert_eq!(found, vec!["adm-alice"]);

    let reply = admin::run(
        &config,
        Command::Disable {
            account: "adm-bob".into(),
        },
    )
    .await
    .unwrap();
    match &reply {
        Reply::Changed {
            account,
            sessions_closed,
            connections_closed,
        } => {
            assert!(account.disabled);
            assert_eq!(*sessions_closed, 1);
            assert_eq!(*connections_closed, 1);
        }
        other => panic!("{other:?}"),
    }
    // Bob's live connection is told and closed now, not at token expiry.
    let frame = wb
        .wait_for("error", |f| matches!(f, ServerFrame::Error { .. }))
        .await;
    match frame {
        ServerFrame::Error { error, .. } => assert_eq!(error.code, ErrorCode::Unauthorized),
        _ => unreachable!(),
    }
    assert!(!relay.relay.service.hub.is_online(bob.id));
    // His token, refresh token and password all stop working.
    let me: Result<serde_json::Value, _> = relay.get(&bob, "/v1/me").await;
    assert_eq!(me.unwrap_err().0, StatusCode::UNAUTHORIZED);
    let refreshed: Result<serde_json::Value, _> = relay
        .call(
            Method::POST,
            None,
            "/v1/auth/refresh",
            Some(&RefreshRequest {
                refresh_token: bob.session.refresh_token.clone(),
            }),
        )
        .await;
    assert_eq!(refreshed.unwrap_err().0, StatusCode::UNAUTHORIZED);
    assert_eq!(
        relay
            .api
            .try_login("adm-bob", &bob.password)
            .await
            .unwrap_err(),
        StatusCode::FORBIDDEN
    );
    // Alice is untouched.
    let _: serde_json::Value = relay.get(&alice, "/v1/me").await.unwrap();

    let listed = admin::run(
        &config,
        Command::List {
            after: 0,
            limit: 10,
        },
    )
    .await
    .unwrap();
    match listed {
        Reply::Accounts { accounts } => {
            assert!(
                accounts
                    .iter()
                    .find(|a| a.account == "adm-bob")
                    .unwrap()
                    .disabled
            );
            assert!(
                !accounts
                    .iter()
                    .find(|a| a.account == "adm-alice")
                    .unwrap()
                    .disabled
            );
        }
        other => panic!("{other:?}"),
    }

    admin::run(
        &config,
        Command::Enable {
            account: "adm-bob".into(),
        },
    )
    .await
    .unwrap();
    relay.api.try_login("adm-bob", &bob.password).await.unwrap();

    // Conversation size after three messages.
    let mut wa = relay.ws(&alice).await;
    for i in 0..3 {
        wa.send_text(conv, &format!("size {i}")).await.unwrap();
    }
    match admin::run(
        &config,
        Command::ConversationSize {
            conversation: conv.0,
        },
    )
    .await
    .unwrap()
    {
        Reply::ConversationSize {
            kind,
            members,
            messages,
            last_seq,
            bytes,
            ..
        } => {
            assert_eq!(kind, "direct");
            assert_eq!(members, 2);
            assert_eq!(messages, 3);
            assert_eq!(last_seq, 3);
            assert!(bytes > 3 * "size 0".len() as u64, "{bytes}");
        }
        other => panic!("{other:?}"),
    }
    relay.relay.shutdown().await;
}

#[tokio::test]
async fn reset_password_and_bad_input_change_nothing_else() {
    let relay = TestRelay::start().await;
    let config = relay.relay.service.config.clone();
    let carol = relay.user("adm-carol").await;
    let mut wc = relay.ws(&carol).await;

    // Unknown account, short password: errors that name the problem.
    match admin::run(
        &config,
        Command::Disable {
            account: "nobody".into(),
        },
    )
    .await
    .unwrap()
    {
        Reply::Error { message } => assert!(message.contains("nobody"), "{message}"),
        other => panic!("{other:?}"),
    }
    match admin::run(
        &config,
        Command::ResetPassword {
            account: "adm-carol".into(),
            password: "short".into(),
        },
    )
    .await
    .unwrap()
    {
        Reply::Error { message } => assert!(message.contains("password"), "{message}"),
        other => panic!("{other:?}"),
    }
    // …and carol is still signed in with her old password.
    let _: serde_json::Value = relay.get(&carol, "/v1/me").await.unwrap();
    assert!(relay.relay.service.hub.is_online(carol.id));

    let reply = admin::run(
        &config,
        Command::ResetPassword {
            account: "adm-carol@example.com".into(),
            password: "a-brand-new-password".into(),
        },
    )
    .await
    .unwrap();
    assert!(
        matches!(
            reply,
            Reply::Changed {
                sessions_closed: 1,
                connections_closed: 1,
                ..
            }
        ),
        "{reply:?}"
    );
    wc.wait_for("error", |f| matches!(f, ServerFrame::Error { .. }))
        .await;
    assert_eq!(
        relay
            .api
            .try_login("adm-carol", &carol.password)
            .await
            .unwrap_err(),
        StatusCode::UNAUTHORIZED
    );
    relay
        .api
        .try_login("adm-carol", "a-brand-new-password")
        .await
        .unwrap();
    relay.relay.shutdown().await;
}

#[tokio::test]
async fn admin_works_on_a_stopped_relays_data() {
    let dir = tempfile::tempdir().unwrap();
    let config = Config::for_tests(dir.path());
    let relay = Relay::start(config.clone()).await.unwrap();
    let api = Api::new(&relay.http_url());
    let dave = api.user("adm-dave").await;
    relay.shutdown().await;
    assert!(
        !admin::socket_path(dir.path()).exists(),
        "socket left behind"
    );

    let reply = admin::run(
        &config,
        Command::Disable {
            account: "adm-dave".into(),
        },
    )
    .await
    .unwrap();
    assert!(
        matches!(
            reply,
            Reply::Changed {
                sessions_closed: 1,
                connections_closed: 0,
                ..
            }
        ),
        "{reply:?}"
    );

    // The relay starts on the same data right after, and dave stays out.
    let relay = Relay::start(config.clone()).await.unwrap();
    let api = Api::new(&relay.http_url());
    assert_eq!(
        api.try_login("adm-dave", &dave.password).await.unwrap_err(),
        StatusCode::FORBIDDEN
    );
    let me: Result<serde_json::Value, _> = api.get(&dave, "/v1/me").await;
    assert_eq!(me.unwrap_err().0, StatusCode::UNAUTHORIZED);
    tokio::time::sleep(Duration::from_millis(10)).await;
    relay.shutdown().await;
}
