//! Property tests of the frame decoders: what the relay does with any text a
//! client sends (`decode_client`, `peek_ids`), what a client does with any
//! text the relay sends (`serde_json` into `ServerFrame`, as
//! `natter_net::session` reads it), and that every frame built from the
//! strategies below comes back from JSON unchanged. The fuzz targets in
//! `fuzz/` go deeper; these keep the guarantee in `make test`.

#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;

use natter_proto::ErrorBody;
use natter_proto::error::ErrorCode;
use natter_proto::frame::{ClientFrame, Cursor, ServerFrame, decode_client, peek_ids};
use natter_proto::limits::MAX_ID_LEN;
use natter_proto::model::{
    ConversationId, ConversationKind, ConversationState, Extras, FileRef, Forwarded, Message,
    MessageBody, UserId,
};
use proptest::prelude::*;

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: 256,
        // Failures are reported, not written into the source tree.
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// Text that looks like a frame often enough to get past the first checks:
/// an object with a known or unknown `type` and some fields of any shape.
fn frame_like() -> impl Strategy<Value = String> {
    let ty = prop_oneof![
        proptest::sample::select(ClientFrame::TYPES).prop_map(str::to_string),
        "[a-z_]{0,8}",
    ];
    let value = prop_oneof![
        any::<u64>().prop_map(|n| n.to_string()),
        any::<i64>().prop_map(|n| n.to_string()),
        "\"[^\"\\\\]{0,12}\"",
        Just("null".to_string()),
        Just("[]".to_string()),
        Just("{}".to_string()),
        Just("true".to_string()),
        Just("1e400".to_string()),
    ];
    let key = proptest::sample::select(vec![
        "rid",
        "client_id",
        "conversation",
        "body",
        "seq",
        "token",
        "protocols",
        "nonce",
        "events_after",
        "cursors",
        "action",
        "call_id",
        "kind",
        "text",
    ]);
    (
        ty,
        proptest::collection::vec((key, value), 0..6),
        any::<bool>(),
    )
        .prop_map(|(ty, fields, cut)| {
            let mut s = format!("{{\"type\":\"{ty}\"");
            for (k, v) in fields {
                s.push_str(&format!(",\"{k}\":{v}"));
            }
            s.push('}');
            if cut {
                let mut at = s.len() / 2;
                while !s.is_char_boundary(at) {
                    at -= 1;
                }
                s.truncate(at);
            }
            s
        })
}

fn any_text() -> impl Strategy<Value = String> {
    prop_oneof![any::<String>(), frame_like()]
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn decode_client_never_panics_and_says_why(text in any_text()) {
        if let Err(e) = decode_client(&text) {
            prop_assert!(!e.message.is_empty());
            prop_assert!(matches!(
                e.code,
                ErrorCode::MalformedFrame | ErrorCode::UnknownFrame | ErrorCode::BadRequest
            ));
        }
    }

    #[test]
    fn decode_client_on_bytes_read_as_text(bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
        let text = String::from_utf8_lossy(&bytes);
        if let Err(e) = decode_client(&text) {
            prop_assert!(!e.message.is_empty());
        }
    }

    #[test]
    fn the_client_reads_any_server_text_without_panicking(text in any_text()) {
        if let Err(e) = serde_json::from_str::<ServerFrame>(&text) {
            prop_assert!(!e.to_string().is_empty());
        }
    }

    #[test]
    fn peek_ids_never_panics_and_keeps_ids_in_bounds(text in any_text()) {
        let (_, client_id) = peek_ids(&text);
        if let Some(id) = client_id {
            prop_assert!(!id.is_empty() && id.len() <= MAX_ID_LEN);
        }
    }

    #[test]
    fn client_frames_round_trip(frame in client_frame()) {
        let text = serde_json::to_string(&frame).unwrap();
        prop_assert_eq!(decode_client(&text), Ok(frame));
    }

    #[test]
    fn server_frames_round_trip(frame in server_frame()) {
        let text = serde_json::to_string(&frame).unwrap();
        prop_assert_eq!(serde_json::from_str::<ServerFrame>(&text).unwrap(), frame);
    }
}

fn id() -> impl Strategy<Value = String> {
    "[a-zA-Z0-9_-]{1,64}"
}

fn file_ref() -> impl Strategy<Value = FileRef> {
    (
        id(),
        any::<String>(),
        any::<u64>(),
        "[a-z]{1,8}/[a-z0-9.+-]{1,12}",
    )
        .prop_map(|(id, name, size, mime)| FileRef {
            id,
            name,
            size,
            mime,
        })
}

fn body() -> impl Strategy<Value = MessageBody> {
    prop_oneof![
        any::<String>().prop_map(|text| MessageBody::Text { text }),
        (
            file_ref(),
            any::<u32>(),
            any::<u32>(),
            proptest::option::of(any::<String>())
        )
            .prop_map(|(file, width, height, preview)| MessageBody::Image {
                file,
                width,
                height,
                preview,
            }),
        file_ref().prop_map(|file| MessageBody::File { file }),
        (file_ref(), any::<u32>())
            .prop_map(|(file, duration_ms)| MessageBody::Voice { file, duration_ms }),
        any::<u64>().prop_map(|target| MessageBody::Recall { target }),
        (any::<u64>(), any::<String>())
            .prop_map(|(target, text)| MessageBody::Edit { target, text }),
        (any::<u64>(), any::<String>(), any::<bool>())
            .prop_map(|(target, emoji, add)| MessageBody::Reaction { target, emoji, add }),
        Just(MessageBody::Recalled),
    ]
}

fn extras() -> impl Strategy<Value = Extras> {
    (
        proptest::collection::vec(any::<u64>().prop_map(UserId), 0..4),
        any::<bool>(),
        proptest::option::of(
            (any::<u64>(), any::<String>()).prop_map(|(from, name)| Forwarded {
                from: UserId(from),
                name,
            }),
        ),
    )
        .prop_map(|(mentions, mention_all, forwarded)| Extras {
            mentions,
            mention_all,
            forwarded,
        })
}

fn conversation() -> impl Strategy<Value = ConversationId> {
    any::<u64>().prop_map(ConversationId)
}

fn client_frame() -> impl Strategy<Value = ClientFrame> {
    prop_oneof![
        (
            proptest::collection::vec(any::<u32>(), 0..4),
            any::<String>()
        )
            .prop_map(|(protocols, token)| ClientFrame::Hello { protocols, token }),
        any::<u64>().prop_map(|nonce| ClientFrame::Ping { nonce }),
        (
            id(),
            conversation(),
            body(),
            proptest::option::of(any::<u64>()),
            extras()
        )
            .prop_map(|(client_id, conversation, body, reply_to, extras)| {
                ClientFrame::Send {
                    client_id,
                    conversation,
                    body,
                    reply_to,
                    extras,
                }
            }),
        (
            any::<u64>(),
            any::<u64>(),
            proptest::collection::vec(
                (conversation(), any::<u64>()).prop_map(|(conversation, after)| Cursor {
                    conversation,
                    after
                }),
                0..4
            )
        )
            .prop_map(|(rid, events_after, cursors)| ClientFrame::Sync {
                rid,
                events_after,
                cursors,
            }),
        (
            any::<u64>(),
            conversation(),
            proptest::option::of(any::<u64>()),
            proptest::option::of(any::<u64>()),
            proptest::option::of(any::<u32>())
        )
            .prop_map(|(rid, conversation, after, before, limit)| {
                ClientFrame::History {
                    rid,
                    conversation,
                    after,
                    before,
                    limit,
                }
            }),
        (
            conversation(),
            any::<u64>(),
            proptest::option::of(any::<u64>())
        )
            .prop_map(|(conversation, seq, rid)| ClientFrame::Read {
                conversation,
                seq,
                rid
            }),
        (conversation(), proptest::option::of(any::<u64>()))
            .prop_map(|(conversation, rid)| ClientFrame::Typing { conversation, rid }),
    ]
}

fn message() -> impl Strategy<Value = Message> {
    (
        (
            conversation(),
            any::<u64>(),
            any::<u64>(),
            id(),
            any::<i64>(),
        ),
        body(),
        proptest::option::of(any::<u64>()),
        proptest::option::of(any::<i64>()),
        proptest::collection::btree_map(
            any::<String>(),
            proptest::collection::vec(any::<u64>().prop_map(UserId), 0..3),
            0..3,
        ),
        extras(),
    )
        .prop_map(
            |(
                (conversation, seq, sender, client_id, ts),
                body,
                reply_to,
                edited_ts,
                reactions,
                extras,
            )| {
                Message {
                    conversation,
                    seq,
                    sender: UserId(sender),
                    client_id,
                    ts,
                    body,
                    reply_to,
                    edited_ts,
                    reactions: reactions.into_iter().collect::<BTreeMap<_, _>>(),
                    extras,
                }
            },
        )
}

fn error_code() -> impl Strategy<Value = ErrorCode> {
    proptest::sample::select(vec![
        ErrorCode::BadRequest,
        ErrorCode::MalformedFrame,
        ErrorCode::UnknownFrame,
        ErrorCode::TooLarge,
        ErrorCode::RateLimited,
        ErrorCode::Unauthorized,
        ErrorCode::NotMember,
        ErrorCode::Internal,
        ErrorCode::QuotaExceeded,
    ])
}

fn server_frame() -> impl Strategy<Value = ServerFrame> {
    prop_oneof![
        any::<u64>().prop_map(|nonce| ServerFrame::Pong { nonce }),
        (id(), conversation(), any::<u64>(), any::<i64>()).prop_map(
            |(client_id, conversation, seq, ts)| ServerFrame::Ack {
                client_id,
                conversation,
                seq,
                ts,
            }
        ),
        message().prop_map(|message| ServerFrame::Message { message }),
        (
            any::<u64>(),
            conversation(),
            proptest::collection::vec(message(), 0..3),
            any::<bool>()
        )
            .prop_map(
                |(rid, conversation, messages, more)| ServerFrame::Messages {
                    rid,
                    conversation,
                    messages,
                    more,
                }
            ),
        (
            any::<u64>(),
            any::<u64>(),
            proptest::collection::vec(
                (
                    conversation(),
                    prop_oneof![
                        any::<u64>().prop_map(|p| ConversationKind::Direct { peer: UserId(p) }),
                        any::<String>().prop_map(|name| ConversationKind::Group { name }),
                    ],
                    any::<u64>(),
                    any::<u64>(),
                    proptest::option::of(any::<u64>()),
                    any::<u64>()
                )
                    .prop_map(
                        |(id, kind, last_seq, read_seq, peer_read_seq, first_seq)| {
                            ConversationState {
                                id,
                                kind,
                                last_seq,
                                read_seq,
                                peer_read_seq,
                                first_seq,
                            }
                        }
                    ),
                0..3
            )
        )
            .prop_map(|(rid, events_seq, conversations)| ServerFrame::Synced {
                rid,
                events_seq,
                conversations,
            }),
        (conversation(), any::<u64>(), any::<u64>()).prop_map(|(conversation, user, seq)| {
            ServerFrame::ReadReceipt {
                conversation,
                user: UserId(user),
                seq,
            }
        }),
        (conversation(), any::<u64>()).prop_map(|(conversation, user)| ServerFrame::Typing {
            conversation,
            user: UserId(user),
        }),
        (any::<u64>(), any::<bool>()).prop_map(|(user, online)| ServerFrame::Presence {
            user: UserId(user),
            online,
        }),
        (
            error_code(),
            any::<String>(),
            proptest::option::of(any::<u64>()),
            proptest::option::of(any::<u64>()),
            proptest::option::of(id())
        )
            .prop_map(|(code, message, retry_after_ms, rid, client_id)| {
                ServerFrame::Error {
                    error: ErrorBody {
                        code,
                        message,
                        retry_after_ms,
                    },
                    rid,
                    client_id,
                }
            }),
    ]
}
