use natter_proto::model::{Profile, UserSummary};
use natter_proto::rest::{
    Health, LoginRequest, RefreshRequest, RegisterRequest, SearchResult, Session, UpdateProfile,
};
use natter_proto::{ErrorBody, ErrorCode};
use reqwest::{Method, StatusCode};

use crate::support::*;

#[tokio::test]
async fn health_answers() {
    let t = TestRelay::start().await;
    let h: Health = t
        .call::<(), _>(Method::GET, None, "/healthz", None)
        .await
        .unwrap();
    assert_eq!(h.status, "ok");
}

#[tokio::test]
async fn register_login_profile_refresh_logout() {
    let t = TestRelay::start().await;
    let alice = t.user("alice").await;
    assert_eq!(alice.session.profile.user.account, "alice");
    assert_eq!(
        alice.session.profile.email.as_deref(),
        Some("alice@example.com")
    );

    let me: Profile = t.get(&alice, "/v1/me").await.unwrap();
    assert_eq!(me.user.nickname, "Nick alice");

    // Profile update.
    let patch = UpdateProfile {
        nickname: Some("艾丽丝".into()),
        phone: Some("+86 138-0000-0000".into()),
        ..Default::default()
    };
    let me: Profile = t.patch(&alice, "/v1/me", &patch).await.unwrap();
    assert_eq!(me.user.nickname, "艾丽丝");
    assert_eq!(me.phone.as_deref(), Some("+8613800000000"));

    // Sign in by e-mail and by phone too.
    let by_mail = t
        .login("ALICE@example.com", &alice.password, Some("phone"))
        .await;
    assert_eq!(by_mail.id, alice.id);
    assert_eq!(by_mail.session.device_id, "phone");
    let by_phone = t.login("+8613800000000", &alice.password, None).await;
    assert_eq!(by_phone.id, alice.id);

    // Refresh rotates: the old refresh token is used up (on the phone, whose
    // session the reuse then ends; see below).
    let fresh: Session = t
        .call(
            Method::POST,
            None,
            "/v1/auth/refresh",
            Some(&RefreshRequest {
                refresh_token: by_phone.session.refresh_token.clone(),
            }),
        )
        .await
        .unwrap();
    assert_ne!(fresh.refresh_token, by_phone.session.refresh_token);
    let again = t
        .call::<_, Session>(
            Method::POST,
            None,
            "/v1/auth/refresh",
            Some(&RefreshRequest {
                refresh_token: by_phone.session.refresh_token.clone(),
            }),
        )
        .await
        .unwrap_err();
    assert_eq!(again.1.code, ErrorCode::Unauthorized);

    // Logout revokes the session's tokens at once.
    let mut ws = t.ws(&alice).await;
    t.call::<(), ()>(Method::POST, Some(&alice.token), "/v1/auth/logout", None)
        .await
        .unwrap();
    let err = t.get::<Profile>(&alice, "/v1/me").await.unwrap_err();
    assert_eq!(err.0, StatusCode::UNAUTHORIZED);
    let e = ws.error().await;
    assert_eq!(e.code, ErrorCode::Unauthorized);
    assert!(
        ws.try_next(WAIT).await.is_none(),
        "logged-out socket closes"
    );
    // Other devices are unaffected.
    let me: Profile = t.get(&by_mail, "/v1/me").await.unwrap();
    assert_eq!(me.user.id, alice.id);
}

#[tokio::test]
async fn registration_rules() {
    let t = TestRelay::start().await;
    let _ = t.user("bob").await;
    let reg = |account: &str, password: &str, email: Option<&str>| RegisterRequest {
        account: account.into(),
        password: password.into(),
        nickname: String::new(),
        email: email.map(Into::into),
        phone: None,
        avatar: None,
    };
    let cases = [
        (reg("BOB", "long enough pw", None), ErrorCode::AccountTaken),
        (
            reg("bobby", "long enough pw", Some("bob@example.com")),
            ErrorCode::AccountTaken,
        ),
        (reg("x", "long enough pw", None), ErrorCode::BadRequest),
        (
            reg("has space", "long enough pw", None),
            ErrorCode::BadRequest,
        ),
        (reg("carol", "short", None), ErrorCode::BadRequest),
        (
            reg("carol", "long enough pw", Some("not-an-email")),
            ErrorCode::BadRequest,
        ),
    ];
    for (req, code) in cases {
        let err = t
            .call::<_, Profile>(Method::POST, None, "/v1/auth/register", Some(&req))
            .await
            .unwrap_err();
        assert_eq!(err.1.code, code, "{req:?}");
    }
    // Nickname defaults to the account name.
    let p: Profile = t
        .call(
            Method::POST,
            None,
            "/v1/auth/register",
            Some(&reg("carol", "long enough pw", None)),
        )
        .await
        .unwrap();
    assert_eq!(p.user.nickname, "carol");
}

#[tokio::test]
async fn wrong_password_and_unknown_account_look_alike() {
    let t = TestRelay::start().await;
    let _ = t.user("dave").await;
    for account in ["dave", "nobody"] {
        let req = LoginRequest {
            account: account.into(),
            password: "wrong password".into(),
            device_id: None,
            device_name: None,
        };
        let err = t
            .call::<_, Session>(Method::POST, None, "/v1/auth/login", Some(&req))
            .await
            .unwrap_err();
        assert_eq!(err.0, StatusCode::UNAUTHORIZED);
        assert_eq!(err.1.code, ErrorCode::BadCredentials);
    }
}

#[tokio::test]
async fn passwords_are_argon2id_and_never_stored_plain() {
    let t = TestRelay::start().await;
    let erin = t.user("erin").await;
    let rec = t
        .relay
        .service
        .storage
        .user(erin.id)
        .await
        .unwrap()
        .unwrap();
    assert!(rec.password_hash.starts_with("$argon2id$"));
    assert!(!rec.password_hash.contains(&erin.password));
}

#[tokio::test]
async fn expired_and_forged_tokens_are_refused() {
    let t = TestRelay::start_with(|c| c.access_ttl_secs = 1).await;
    let frank = t.user("frank").await;
    let _: Profile = t.get(&frank, "/v1/me").await.unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let err = t.get::<Profile>(&frank, "/v1/me").await.unwrap_err();
    assert_eq!(err.1.code, ErrorCode::TokenExpired);
    // A token that was never issued.
    let forged = User {
        token: "MS4yLjM.AAAA".into(),
        ..frank.clone()
    };
    let err = t.get::<Profile>(&forged, "/v1/me").await.unwrap_err();
    assert_eq!(err.1.code, ErrorCode::Unauthorized);
    // No token at all.
    let err = t
        .call::<(), Profile>(Method::GET, None, "/v1/me", None)
        .await
        .unwrap_err();
    assert_eq!(err.1.code, ErrorCode::Unauthorized);
}

#[tokio::test]
async fn search_is_exact_by_account_email_or_phone() {
    let t = TestRelay::start().await;
    let gina = t.user("gina").await;
    let hank = t.user("hank").await;
    let _: Profile = t
        .patch(
            &hank,
            "/v1/me",
            &UpdateProfile {
                phone: Some("+15550001111".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let find = |q: &str| {
        let q = q.to_string();
        let t = &t;
        let gina = &gina;
        async move {
            let r: SearchResult = t
                .get(gina, &format!("/v1/users/search?q={}", urlencode(&q)))
                .await
                .unwrap();
            r.users
                .into_iter()
                .map(|u: UserSummary| u.account)
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(find("hank").await, vec!["hank"]);
    assert_eq!(find("HANK@example.com").await, vec!["hank"]);
    assert_eq!(find("+15550001111").await, vec!["hank"]);
    assert!(find("han").await.is_empty(), "no prefix matches");
    assert!(find("nobody").await.is_empty());
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[tokio::test]
async fn browsers_on_allowed_origins_may_call_the_rest_api_and_others_may_not() {
    let preflight = |base: String, origin: &'static str| async move {
        http_client()
            .request(reqwest::Method::OPTIONS, format!("{base}/v1/auth/login"))
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .header(
                "access-control-request-headers",
                "content-type,authorization",
            )
            .send()
            .await
            .unwrap()
    };
    // Off by default: a preflight is not answered.
    let closed = TestRelay::start().await;
    let r = preflight(closed.relay.http_url(), "https://web.example").await;
    assert_eq!(r.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert!(r.headers().get("access-control-allow-origin").is_none());

    let t = TestRelay::start_with(|c| c.cors_origins = vec!["https://web.example".into()]).await;
    let r = preflight(t.relay.http_url(), "https://web.example").await;
    assert!(r.status().is_success(), "{}", r.status());
    assert_eq!(
        r.headers()["access-control-allow-origin"],
        "https://web.example"
    );
    let methods = r.headers()["access-control-allow-methods"]
        .to_str()
        .unwrap();
    assert!(methods.contains("POST"), "{methods}");
    // An actual call from that origin carries the header too.
    let alice = t.user("alice").await;
    let me = http_client()
        .get(format!("{}/v1/me", t.relay.http_url()))
        .header("origin", "https://web.example")
        .bearer_auth(&alice.token)
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), StatusCode::OK);
    assert_eq!(
        me.headers()["access-control-allow-origin"],
        "https://web.example"
    );
    // Another origin gets no permission.
    let r = preflight(t.relay.http_url(), "https://evil.example").await;
    assert!(r.headers().get("access-control-allow-origin").is_none());
}

async fn refresh(t: &TestRelay, token: &str) -> ApiResult<Session> {
    t.call(
        Method::POST,
        None,
        "/v1/auth/refresh",
        Some(&RefreshRequest {
            refresh_token: token.into(),
        }),
    )
    .await
}

#[tokio::test]
async fn a_refresh_token_used_twice_ends_the_session_and_the_device_signs_in_again() {
    let t = TestRelay::start().await;
    let grace = t.user("grace").await;
    let laptop = t.login("grace", &grace.password, Some("laptop")).await;
    let mut ws = t.ws(&grace).await;

    // The device rotates its token; a thief replays the one it used up.
    let fresh = refresh(&t, &grace.session.refresh_token).await.unwrap();
    let (status, err) = refresh(&t, &grace.session.refresh_token).await.unwrap_err();
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(err.code, ErrorCode::Unauthorized);
    assert!(err.message.contains("revoked"), "{}", err.message);

    // The whole session is gone: its live connection, the new access token
    // and the new refresh token.
    let e = ws.error().await;
    assert_eq!(e.code, ErrorCode::Unauthorized);
    assert!(e.message.contains("revoked"), "{}", e.message);
    assert!(ws.try_next(WAIT).await.is_none(), "revoked socket closes");
    let renewed = User {
        token: fresh.access_token.clone(),
        ..grace.clone()
    };
    let err = t.get::<Profile>(&renewed, "/v1/me").await.unwrap_err();
    assert_eq!(err.1.code, ErrorCode::Unauthorized);
    let err = refresh(&t, &fresh.refresh_token).await.unwrap_err();
    assert_eq!(err.1.code, ErrorCode::Unauthorized);

    // Other devices keep their sessions, and the password still signs in.
    let me: Profile = t.get(&laptop, "/v1/me").await.unwrap();
    assert_eq!(me.user.id, grace.id);
    refresh(&t, &laptop.session.refresh_token).await.unwrap();
    let again = t.login("grace", &grace.password, None).await;
    let _: Profile = t.get(&again, "/v1/me").await.unwrap();
}

/// A sign-in answered with its status, body and `Retry-After`.
async fn sign_in(
    t: &TestRelay,
    account: &str,
    password: &str,
    forwarded_for: Option<&str>,
) -> (StatusCode, serde_json::Value, Option<String>) {
    let mut req = t
        .http
        .post(format!("{}/v1/auth/login", t.relay.http_url()))
        .json(&LoginRequest {
            account: account.into(),
            password: password.into(),
            device_id: None,
            device_name: None,
        });
    if let Some(xff) = forwarded_for {
        req = req.header("x-forwarded-for", xff);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status();
    let retry = resp
        .headers()
        .get(reqwest::header::RETRY_AFTER)
        .map(|v| v.to_str().unwrap().to_string());
    (status, resp.json().await.unwrap(), retry)
}

#[tokio::test]
async fn failed_sign_ins_make_the_account_wait_longer_each_time_even_for_the_right_password() {
    let t = TestRelay::start_with(|c| {
        c.throttle.login_free_failures = 3;
        c.throttle.login_backoff_ms = 1_500;
        c.throttle.address_free_failures = 100;
    })
    .await;
    let heidi = t.user("heidi").await;
    let ivan = t.user("ivan").await;
    for _ in 0..3 {
        let (status, body, _) = sign_in(&t, "heidi", "guess-guess", None).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert_eq!(body["code"], "bad_credentials");
    }
    // Now the account waits: even the right password is not checked.
    let (status, body, retry) = sign_in(&t, "HEIDI ", &heidi.password, None).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(body["code"], "rate_limited");
    let wait = body["retry_after_ms"].as_u64().unwrap();
    assert!(wait > 0 && wait <= 1_500, "{wait}");
    assert_eq!(retry.as_deref(), Some("2"));
    // Another account from the same address is not held up.
    let (status, _, _) = sign_in(&t, "ivan", &ivan.password, None).await;
    assert_eq!(status, StatusCode::OK);

    // After the wait the right password works and clears the count.
    tokio::time::sleep(std::time::Duration::from_millis(wait + 50)).await;
    let (status, _, _) = sign_in(&t, "heidi", &heidi.password, None).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _, _) = sign_in(&t, "heidi", "guess-again", None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "counted from zero again");

    // Failing on from the limit doubles the wait.
    for _ in 0..2 {
        sign_in(&t, "heidi", "guess-more", None).await;
    }
    let (status, body, _) = sign_in(&t, "heidi", &heidi.password, None).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    let first = body["retry_after_ms"].as_u64().unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(first + 50)).await;
    sign_in(&t, "heidi", "guess-more", None).await;
    let (_, body, _) = sign_in(&t, "heidi", &heidi.password, None).await;
    let second = body["retry_after_ms"].as_u64().unwrap();
    assert!(second > 1_500 && second <= 3_000, "{second}");
}

#[tokio::test]
async fn an_address_guessing_many_accounts_waits_and_a_trusted_proxy_names_the_address() {
    let t = TestRelay::start_with(|c| {
        c.throttle.address_free_failures = 4;
        c.throttle.login_backoff_ms = 60_000;
        c.throttle.trusted_proxies = vec!["127.0.0.1".parse().unwrap()];
    })
    .await;
    let judy = t.user("judy").await;
    // Behind the proxy: four guesses from one client, at four accounts.
    for i in 0..4 {
        let (status, _, _) = sign_in(
            &t,
            &format!("victim{i}"),
            "guess-guess",
            Some("198.51.100.7"),
        )
        .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
    let (status, body, _) = sign_in(&t, "judy", &judy.password, Some("198.51.100.7")).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    assert!(body["retry_after_ms"].as_u64().unwrap() > 50_000);
    // Another client behind the same proxy is not held up, nor the proxy's
    // own address.
    let (status, _, _) = sign_in(&t, "judy", &judy.password, Some("198.51.100.8")).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _, _) = sign_in(&t, "judy", &judy.password, None).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn an_untrusted_forwarded_for_is_ignored_so_the_connection_address_counts() {
    let t = TestRelay::start_with(|c| {
        c.throttle.address_free_failures = 3;
        c.throttle.login_backoff_ms = 60_000;
    })
    .await;
    let kim = t.user("kim").await;
    // Each guess claims another address; the relay counts the connection's.
    for i in 0..3 {
        let xff = format!("203.0.113.{i}");
        sign_in(&t, &format!("nobody{i}"), "guess-guess", Some(&xff)).await;
    }
    let (status, _, _) = sign_in(&t, "kim", &kim.password, Some("203.0.113.200")).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test]
async fn an_address_creates_only_so_many_accounts_an_hour() {
    let t = TestRelay::start_with(|c| c.throttle.registrations_per_hour = 2).await;
    let _ = t.user("reg1").await;
    let _ = t.user("reg2").await;
    let req = RegisterRequest {
        account: "reg3".into(),
        password: "a long enough password".into(),
        nickname: String::new(),
        email: None,
        phone: None,
        avatar: None,
    };
    let resp = t
        .http
        .post(format!("{}/v1/auth/register", t.relay.http_url()))
        .json(&req)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry: u64 = resp.headers()[reqwest::header::RETRY_AFTER]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1_700..=1_800).contains(&retry), "{retry}");
    let body: ErrorBody = resp.json().await.unwrap();
    assert_eq!(body.code, ErrorCode::RateLimited);
    assert!(body.retry_after_ms.unwrap() > 1_700_000);
    // Nothing was created.
    let found: SearchResult = t
        .get(
            &t.login("reg1", "pw-reg1-secret", None).await,
            "/v1/users/search?q=reg3",
        )
        .await
        .unwrap();
    assert!(found.users.is_empty());
}
