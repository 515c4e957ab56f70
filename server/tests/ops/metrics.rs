//! `GET /metrics` on its own listener: scraped for real after real traffic.

use std::time::Duration;

use natter_proto::rest::LoginRequest;
use reqwest::{Method, StatusCode};

use crate::support::{TestRelay, http_client};

/// The value of one sample line, e.g. `natter_messages_sent_total`.
fn sample(text: &str, name: &str) -> f64 {
    text.lines()
        .find_map(|l| {
            let (n, v) = l.rsplit_once(' ')?;
            (n == name).then(|| v.parse::<f64>().unwrap())
        })
        .unwrap_or_else(|| panic!("no sample {name} in:\n{text}"))
}

async fn scrape(url: &str, token: Option<&str>) -> (StatusCode, String) {
    let mut req = http_client().get(url);
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status();
    let content_type = resp
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned());
    let body = resp.text().await.unwrap();
    if status.is_success() {
        assert!(content_type.unwrap().contains("text"), "not text");
    }
    (status, body)
}

#[tokio::test]
async fn metrics_count_real_traffic_and_need_the_token() {
    let relay = TestRelay::start_with(|c| {
        c.metrics_bind = Some("127.0.0.1:0".parse().unwrap());
        c.metrics_token = Some("scrape-secret".into());
    })
    .await;
    let url = format!("http://{}/metrics", relay.relay.metrics_addr.unwrap());

    // Without or with a wrong token: refused.
    assert_eq!(scrape(&url, None).await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(
        scrape(&url, Some("wrong")).await.0,
        StatusCode::UNAUTHORIZED
    );
    // Not on the public listener.
    let public = http_client()
        .get(format!("{}/metrics", relay.api.base))
        .send()
        .await
        .unwrap();
    assert_eq!(public.status(), StatusCode::NOT_FOUND);

    let (status, before) = scrape(&url, Some("scrape-secret")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(sample(&before, "natter_messages_sent_total"), 0.0);
    assert_eq!(sample(&before, "natter_connections"), 0.0);

    let alice = relay.user("malice").await;
    let bob = relay.user("mbob").await;
    let conv = relay.befriend(&alice, &bob).await;
    let mut wa = relay.ws(&alice).await;
    let mut wb = relay.ws(&bob).await;
    let mut wb2 = crate::support::Ws::connect(
        &relay.ws_url(),
        &relay
            .login("mbob", &bob.password, Some("tablet"))
            .await
            .token,
    )
    .await;
    wa.sync(0, vec![]).await;
    for i in 0..3 {
        wa.send_text(conv, &format!("hello {i}")).await.unwrap();
        wb.message().await;
        wb2.message().await;
    }
    // One wrong password: an error answered with its code.
    let wrong: Result<serde_json::Value, _> = relay
        .call(
            Method::POST,
            None,
            "/v1/auth/login",
            Some(&LoginRequest {
                account: "malice".into(),
                password: "not the password".into(),
                device_id: None,
                device_name: None,
            }),
        )
        .await;
    assert!(wrong.is_err());

    let (_, text) = scrape(&url, Some("scrape-secret")).await;
    assert_eq!(sample(&text, "natter_messages_sent_total"), 3.0);
    assert_eq!(sample(&text, "natter_ack_latency_seconds_count"), 3.0);
    assert!(sample(&text, "natter_ack_latency_seconds_sum") > 0.0);
    assert_eq!(sample(&text, "natter_storage_commit_seconds_count"), 3.0);
    assert_eq!(sample(&text, "natter_connections"), 3.0);
    assert_eq!(sample(&text, r#"natter_accounts_online{devices="1"}"#), 1.0);
    assert_eq!(sample(&text, r#"natter_accounts_online{devices="2"}"#), 1.0);
    assert_eq!(
        sample(&text, r#"natter_errors_total{code="bad_credentials"}"#),
        1.0
    );
    // After hello: alice's sync and three sends.
    assert!(sample(&text, "natter_frames_in_total") >= 4.0);
    // Three acks and three pushes to each of bob's two devices, and more.
    assert!(sample(&text, "natter_frames_out_total") >= 9.0);
    assert!(sample(&text, "natter_catchup_pages_total") >= 1.0);
    assert!(text.contains("natter_turn_allocations"));
    assert!(text.contains("# TYPE natter_ack_latency_seconds histogram"));

    drop((wa, wb, wb2));
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let (_, text) = scrape(&url, Some("scrape-secret")).await;
        if sample(&text, "natter_connections") == 0.0 {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "connections stay");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    relay.relay.shutdown().await;
}
