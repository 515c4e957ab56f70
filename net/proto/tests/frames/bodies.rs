//! Message bodies: each fixture parses and serialises back under its `kind`,
//! every variant has a fixture, operations name their target, and call records.

use std::collections::BTreeSet;

use natter_proto::model::{CallMedia, CallOutcome, FileRef, MessageBody, UserId};
use serde_json::Value;

use crate::support::*;

fn body_fixtures() -> Vec<(&'static str, MessageBody)> {
    vec![
        (
            r#"{
  "kind": "text",
  "text": "Yes! Climbing on Saturday?"
}"#,
            text("Yes! Climbing on Saturday?"),
        ),
        (
            r#"{
  "kind": "image",
  "file": {
    "id": "f_9Qx2mB7c",
    "name": "crag.jpg",
    "size": 482113,
    "mime": "image/jpeg"
  },
  "width": 1600,
  "height": 1200
}"#,
            MessageBody::Image {
                file: FileRef {
                    id: "f_9Qx2mB7c".into(),
                    name: "crag.jpg".into(),
                    size: 482113,
                    mime: "image/jpeg".into(),
                },
                width: 1600,
                height: 1200,
                preview: None,
            },
        ),
        (
            r#"{
  "kind": "image",
  "file": {
    "id": "f_9Qx2mB7d",
    "name": "summit.png",
    "size": 90211,
    "mime": "image/png"
  },
  "width": 800,
  "height": 500,
  "preview": "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
}"#,
            MessageBody::Image {
                file: FileRef {
                    id: "f_9Qx2mB7d".into(),
                    name: "summit.png".into(),
                    size: 90211,
                    mime: "image/png".into(),
                },
                width: 800,
                height: 500,
                preview: Some("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==".into()),
            },
        ),
        (
            r#"{
  "kind": "file",
  "file": {
    "id": "f_Lr8s0aZk",
    "name": "route-topo.pdf",
    "size": 1048576,
    "mime": "application/pdf"
  }
}"#,
            MessageBody::File {
                file: FileRef {
                    id: "f_Lr8s0aZk".into(),
                    name: "route-topo.pdf".into(),
                    size: 1048576,
                    mime: "application/pdf".into(),
                },
            },
        ),
        (
            r#"{
  "kind": "voice",
  "file": {
    "id": "f_v01ce7Qe",
    "name": "voice-note.ogg",
    "size": 38211,
    "mime": "audio/ogg"
  },
  "duration_ms": 6400
}"#,
            MessageBody::Voice {
                file: FileRef {
                    id: "f_v01ce7Qe".into(),
                    name: "voice-note.ogg".into(),
                    size: 38211,
                    mime: "audio/ogg".into(),
                },
                duration_ms: 6400,
            },
        ),
        (
            r#"{
  "kind": "recall",
  "target": 42
}"#,
            MessageBody::Recall { target: 42 },
        ),
        (
            r#"{
  "kind": "edit",
  "target": 42,
  "text": "Yes! Climbing on Saturday? 🧗"
}"#,
            MessageBody::Edit {
                target: 42,
                text: "Yes! Climbing on Saturday? 🧗".into(),
            },
        ),
        (
            r#"{
  "kind": "reaction",
  "target": 41,
  "emoji": "👍",
  "add": true
}"#,
            MessageBody::Reaction {
                target: 41,
                emoji: "👍".into(),
                add: true,
            },
        ),
        (
            r#"{
  "kind": "recalled"
}"#,
            MessageBody::Recalled,
        ),
        (
            r#"{
  "kind": "call",
  "call_id": "c2b1e6f0-9d7a-4a53-8f1e-2f4d6b8a9c01",
  "media": "video",
  "outcome": "completed",
  "duration_ms": 754000
}"#,
            MessageBody::Call {
                call_id: CALL_ID.into(),
                media: CallMedia::Video,
                outcome: CallOutcome::Completed,
                duration_ms: 754000,
                participants: Vec::new(),
            },
        ),
        (
            r#"{
  "kind": "call",
  "call_id": "c2b1e6f0-9d7a-4a53-8f1e-2f4d6b8a9c01",
  "media": "audio",
  "outcome": "completed",
  "duration_ms": 1260000,
  "participants": [4211, 4213, 4217]
}"#,
            MessageBody::Call {
                call_id: CALL_ID.into(),
                media: CallMedia::Audio,
                outcome: CallOutcome::Completed,
                duration_ms: 1260000,
                participants: vec![UserId(4211), UserId(4213), UserId(4217)],
            },
        ),
    ]
}

fn body_variant(body: &MessageBody) -> &'static str {
    match body {
        MessageBody::Text { .. } => "text",
        MessageBody::Image { .. } => "image",
        MessageBody::File { .. } => "file",
        MessageBody::Voice { .. } => "voice",
        MessageBody::Recall { .. } => "recall",
        MessageBody::Edit { .. } => "edit",
        MessageBody::Reaction { .. } => "reaction",
        MessageBody::Recalled => "recalled",
        MessageBody::Call { .. } => "call",
    }
}

const BODY_VARIANTS: &[&str] = &[
    "text", "image", "file", "voice", "recall", "edit", "reaction", "recalled", "call",
];

#[test]
fn message_bodies_match_their_fixtures() {
    for (fixture, expected) in body_fixtures() {
        check(fixture, &expected);
        // The `kind` tag is the variant's name.
        let json: Value = serde_json::from_str(fixture).unwrap();
        assert_eq!(json["kind"], Value::from(body_variant(&expected)));
    }
}

#[test]
fn every_message_body_has_a_fixture() {
    let covered: BTreeSet<&str> = body_fixtures()
        .iter()
        .map(|(_, b)| body_variant(b))
        .collect();
    assert_eq!(covered, BODY_VARIANTS.iter().copied().collect());
}

#[test]
fn operations_name_their_target() {
    for (_, body) in body_fixtures() {
        let expected = match body_variant(&body) {
            "recall" | "edit" => Some(42),
            "reaction" => Some(41),
            _ => None,
        };
        assert_eq!(body.target(), expected, "{body:?}");
    }
}

#[test]
fn call_outcomes_and_defaults() {
    for (outcome, name) in [
        (CallOutcome::Missed, "missed"),
        (CallOutcome::Rejected, "rejected"),
        (CallOutcome::Cancelled, "cancelled"),
        (CallOutcome::Busy, "busy"),
        (CallOutcome::Completed, "completed"),
    ] {
        assert_eq!(serde_json::to_value(outcome).unwrap(), Value::from(name));
    }
    let missed: MessageBody =
        serde_json::from_str(r#"{"kind":"call","call_id":"c","media":"audio","outcome":"missed"}"#)
            .unwrap();
    assert_eq!(
        missed,
        MessageBody::Call {
            call_id: "c".into(),
            media: CallMedia::Audio,
            outcome: CallOutcome::Missed,
            duration_ms: 0,
            participants: Vec::new(),
        }
    );
}
