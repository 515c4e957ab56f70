//! How `decode_client` classifies text it cannot read as a client frame:
//! malformed, unknown, or a bad request.

use natter_proto::error::ErrorCode;
use natter_proto::frame::{ClientFrame, decode_client};

fn code_of(text: &str) -> ErrorCode {
    match decode_client(text) {
        Ok(frame) => panic!("{text:?} decoded as {frame:?}"),
        Err(e) => e.code,
    }
}

#[test]
fn text_that_is_not_a_json_object_is_malformed() {
    for text in [
        "",
        "   ",
        "not json at all",
        "{",
        r#"{"type":"ping""#,
        r#"{"type":"ping"} trailing"#,
        "null",
        "true",
        "42",
        r#""hello""#,
        "[]",
        "[1,2,3]",
        r#"["ping"]"#,
        r#"["ping",5]"#,
        r#"["send","k",1,{"kind":"text","text":"hi"}]"#,
        r#"["teleport"]"#,
    ] {
        assert_eq!(code_of(text), ErrorCode::MalformedFrame, "{text:?}");
    }
}

#[test]
fn an_object_without_a_string_type_is_malformed() {
    for text in [
        "{}",
        r#"{"no_type":1}"#,
        r#"{"Type":"ping"}"#,
        r#"{"type":null}"#,
        r#"{"type":42}"#,
        r#"{"type":true}"#,
        r#"{"type":["ping"]}"#,
        r#"{"type":{"name":"ping"}}"#,
    ] {
        assert_eq!(code_of(text), ErrorCode::MalformedFrame, "{text:?}");
    }
}

#[test]
fn an_unknown_type_is_an_unknown_frame() {
    for text in [
        r#"{"type":"teleport","to":"mars"}"#,
        r#"{"type":""}"#,
        r#"{"type":"Ping"}"#,
        r#"{"type":"welcome"}"#,
        r#"{"type":"ack","client_id":"k","conversation":1,"seq":1,"ts":1}"#,
    ] {
        assert_eq!(code_of(text), ErrorCode::UnknownFrame, "{text:?}");
    }
    // The message names the type, cut to 40 characters.
    let long = "x".repeat(100);
    let err = decode_client(&format!(r#"{{"type":"{long}"}}"#)).unwrap_err();
    assert_eq!(err.code, ErrorCode::UnknownFrame);
    assert!(err.message.contains(&"x".repeat(40)), "{}", err.message);
    assert!(!err.message.contains(&"x".repeat(41)), "{}", err.message);
}

#[test]
fn a_known_type_with_wrong_fields_is_a_bad_request() {
    for text in [
        r#"{"type":"hello"}"#,
        r#"{"type":"hello","protocols":1,"token":"t"}"#,
        r#"{"type":"hello","protocols":[1]}"#,
        r#"{"type":"ping","nonce":-1}"#,
        r#"{"type":"ping","nonce":"42"}"#,
        r#"{"type":"send","conversation":"seven"}"#,
        r#"{"type":"send","client_id":"k","conversation":1}"#,
        r#"{"type":"send","client_id":"k","conversation":1,"body":{"kind":"hologram"}}"#,
        r#"{"type":"send","client_id":"k","conversation":1,"body":{"text":"no kind"}}"#,
        r#"{"type":"send","client_id":"k","conversation":1,"body":{"kind":"text"}}"#,
        r#"{"type":"sync","rid":1}"#,
        r#"{"type":"sync","rid":1,"events_after":0,"cursors":{}}"#,
        r#"{"type":"history","rid":1}"#,
        r#"{"type":"history","rid":1,"conversation":1,"limit":-5}"#,
        r#"{"type":"read","conversation":1}"#,
        r#"{"type":"read","conversation":{"id":1},"seq":2}"#,
        r#"{"type":"typing"}"#,
        r#"{"type":"call"}"#,
        r#"{"type":"call","action":"teleport","call_id":"c"}"#,
        r#"{"type":"call","action":"invite","call_id":"c","conversation":1,"media":"hologram"}"#,
        r#"{"type":"call","action":"sdp","call_id":"c","sdp_type":"pranswer","sdp":""}"#,
    ] {
        assert_eq!(code_of(text), ErrorCode::BadRequest, "{text:?}");
    }
}

#[test]
fn leading_whitespace_is_fine() {
    assert_eq!(
        decode_client(" \r\n\t{\"type\":\"ping\",\"nonce\":7}\n"),
        Ok(ClientFrame::Ping { nonce: 7 })
    );
}
