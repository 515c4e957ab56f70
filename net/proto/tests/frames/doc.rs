//! Cross-checks of `PROTOCOL.md` itself: every JSON example is a protocol
//! value, and the limits table states the defaults.

use natter_proto::error::ErrorBody;
use natter_proto::event::Event;
use natter_proto::frame::{ClientFrame, ServerFrame};
use natter_proto::limits::Limits;
use natter_proto::model::{FriendRequest, Group, Message, MessageBody, Profile, UserSummary};
use natter_proto::rest::{
    Conversations, CreateGroup, FriendRequests, Friends, Groups, Health, IceServers, InviteMembers,
    LoginRequest, MessagePage, Reads, RefreshRequest, RegisterRequest, SearchResult,
    SendFriendRequest, Session, SetRole, UpdateGroup, UpdateProfile, UploadState,
};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::support::{DOC, doc_examples, json_blocks};

/// Whether `value` is a `T` that serialises back to exactly `value`.
fn round_trips<T: Serialize + DeserializeOwned>(value: &Value) -> bool {
    serde_json::from_value::<T>(value.clone())
        .ok()
        .and_then(|t| serde_json::to_value(&t).ok())
        .is_some_and(|back| &back == value)
}

/// Every JSON example in `PROTOCOL.md` is a value of some protocol type that
/// serialises back to exactly the example.
#[test]
fn every_example_in_the_document_is_a_protocol_value() {
    macro_rules! any_round_trips {
        ($value:expr; $($t:ty),+ $(,)?) => {
            false $(|| round_trips::<$t>($value))+
        };
    }
    let blocks = json_blocks(DOC);
    assert_eq!(blocks.len(), doc_examples().len());
    assert!(blocks.len() > 80, "only {} examples found", blocks.len());
    for ((line, text), value) in blocks.iter().zip(doc_examples()) {
        let ok = any_round_trips!(value;
            ClientFrame, ServerFrame, Event, Message, MessageBody, ErrorBody,
            Health, RegisterRequest, LoginRequest, RefreshRequest, Session, Profile,
            UpdateProfile, SearchResult, UserSummary, Friends, FriendRequests,
            SendFriendRequest, FriendRequest, Groups, CreateGroup, Group, UpdateGroup,
            InviteMembers, SetRole, Conversations, MessagePage, IceServers, Reads,
            UploadState,
        );
        assert!(
            ok,
            "PROTOCOL.md line {line}: example is no protocol value:\n{text}"
        );
    }
}

/// The limits table of the document states the defaults of `Limits`.
#[test]
fn document_states_the_default_limits() {
    let limits = serde_json::to_value(Limits::default()).unwrap();
    let fields = limits.as_object().unwrap();
    for (name, value) in fields {
        let value = value.as_u64().unwrap();
        // Written with a space between groups of three digits, e.g. `65 536`.
        let mut digits = value.to_string();
        let mut grouped = String::new();
        while digits.len() > 3 {
            let tail = digits.split_off(digits.len() - 3);
            grouped = format!(" {tail}{grouped}");
        }
        grouped = format!("{digits}{grouped}");
        let row = format!("| `{name}` | {grouped}");
        assert!(DOC.contains(&row), "PROTOCOL.md lacks the row `{row}`");
    }
}
