//! A terminal chat on the headless client — the smallest complete Natter client.
//!
//! ```text
//! # terminal 1: a relay
//! cargo run -p natter-server
//! # terminals 2 and 3: two people
//! cargo run -p natter-net --example chat -- --register alice
//! cargo run -p natter-net --example chat -- --register bob --befriend alice
//! ```
//! Then type lines to send them to the first conversation. `/quit` leaves.
//! Each account keeps its own local database under `./natter-example/<account>`.

use natter_net::Client;
use natter_net::session::Event;
use natter_proto::model::MessageBody;
use natter_proto::rest::RegisterRequest;
use natter_store::Store;
use tokio::io::{AsyncBufReadExt, BufReader};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let flag = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .cloned()
    };
    let server = flag("--server").unwrap_or_else(|| "http://127.0.0.1:7878".into());
    let (account, register) =
        match (flag("--register"), flag("--account")) {
            (Some(a), _) => (a, true),
            (None, Some(a)) => (a, false),
            _ => return Err(
                "usage: chat (--register NAME | --account NAME) [--befriend NAME] [--server URL]"
                    .into(),
            ),
        };
    let password = format!("{account}-example-password");

    if register {
        let req = RegisterRequest {
            account: account.clone(),
            password: password.clone(),
            nickname: account.clone(),
            email: None,
            phone: None,
            avatar: None,
        };
        // Registering twice is fine: the account is simply taken already.
        let _ = natter_net::client::register(&server, &req).await;
    }
    let store = Store::open(format!("natter-example/{account}")).await?;
    natter_net::client::sign_in(
        &server,
        &store,
        &account,
        &password,
        Some("terminal".into()),
    )
    .await?;
    let (client, mut events) = Client::resume(store).await?;

    if let Some(friend) = flag("--befriend") {
        let token = client.token().await?;
        let found = client.http().search_users(&token, &friend).await?;
        let to = found.first().ok_or("no such account")?.id;
        let req = client
            .http()
            .send_friend_request(&token, to, "hello from the terminal")
            .await?;
        println!("asked {friend} to be friends (request {})", req.id);
    }

    let mut lines = BufReader::new(tokio::io::stdin()).lines();
    loop {
        tokio::select! {
            event = events.next() => {
                let Some(event) = event else { break };
                match event {
                    Event::Connected { user } => println!("* connected as {}", user.nickname),
                    Event::Disconnected { reason, retry_in } => println!("* offline ({reason}); retrying in {retry_in:?}"),
                    Event::Synced => println!("* up to date"),
                    Event::Account(e) => {
                        // Accept every friend request, to keep the example short.
                        if let natter_proto::event::EventBody::FriendRequestReceived { request } = e.body {
                            let token = client.token().await?;
                            client.http().answer_friend_request(&token, request.id, true).await?;
                            println!("* {} is now a friend", request.from.nickname);
                        }
                    }
                    Event::Messages { conversation, new, .. } => {
                        for m in new.iter().filter(|m| m.sender != client.me()) {
                            if let MessageBody::Text { text } = &m.body {
                                println!("[{}] {}: {text}", conversation.title, m.sender);
                            }
                        }
                    }
                    Event::SignedOut => break,
                    _ => {}
                }
            }
            line = lines.next_line() => {
                let Some(line) = line? else { break };
                if line.trim() == "/quit" {
                    break;
                }
                match client.conversations().await?.into_iter().find(|c| !c.closed) {
                    Some(c) => {
                        client.send_text(c.id, &line).await?;
                    }
                    None => println!("* no conversation yet: befriend someone first"),
                }
            }
        }
    }
    client.shutdown();
    Ok(())
}
