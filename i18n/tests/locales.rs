//! Both locales are complete, parse, and format every message.

#![allow(clippy::unwrap_used, missing_docs)]

use natter_i18n::{Arg, I18n, Language, keys, variables};

#[test]
fn every_bundle_parses() {
    for language in Language::ALL {
        if let Err(e) = I18n::new(language) {
            panic!("{} does not parse: {:?}", language.tag(), e.errors);
        }
    }
}

#[test]
fn both_locales_have_the_same_keys_and_arguments() {
    let en = keys(Language::EnUs.source());
    let zh = keys(Language::ZhCn.source());
    assert!(en.len() > 100, "en-US has {} keys", en.len());
    let missing_in_zh: Vec<_> = en.iter().filter(|k| !zh.contains(k)).collect();
    let missing_in_en: Vec<_> = zh.iter().filter(|k| !en.contains(k)).collect();
    assert!(
        missing_in_zh.is_empty(),
        "missing in zh-CN: {missing_in_zh:?}"
    );
    assert!(
        missing_in_en.is_empty(),
        "missing in en-US: {missing_in_en:?}"
    );
    for key in &en {
        assert_eq!(
            variables(Language::EnUs.source(), key),
            variables(Language::ZhCn.source(), key),
            "arguments of {key} differ"
        );
    }
}

#[test]
fn every_message_formats_in_both_languages() {
    let mut i18n = I18n::new(Language::EnUs).unwrap();
    for language in Language::ALL {
        i18n.set_language(language);
        for key in keys(language.source()) {
            let args: Vec<(&str, Arg)> = [
                "server", "detail", "seconds", "count", "name", "duration", "device",
            ]
            .into_iter()
            .map(|n| {
                (
                    n,
                    if n == "count" || n == "seconds" {
                        Arg::from(3u32)
                    } else {
                        Arg::from("X")
                    },
                )
            })
            .collect();
            let text = i18n.tr_args(&key, &args);
            assert!(
                !text.is_empty() && text != key,
                "{} {key} -> {text:?}",
                language.tag()
            );
            assert!(!text.contains('\u{2068}'), "no isolation marks");
        }
    }
}

#[test]
fn switching_language_is_immediate_and_plurals_work() {
    let mut i18n = I18n::new(Language::EnUs).unwrap();
    assert_eq!(i18n.tr("auth-sign-in"), "Sign in");
    assert_eq!(
        i18n.tr_args("unread-badge", &[("count", Arg::from(1u32))]),
        "1 unread message"
    );
    assert_eq!(
        i18n.tr_args("unread-badge", &[("count", Arg::from(5u32))]),
        "5 unread messages"
    );
    i18n.set_language(Language::ZhCn);
    assert_eq!(i18n.tr("auth-sign-in"), "登录");
    assert_eq!(
        i18n.tr_args("unread-badge", &[("count", Arg::from(5u32))]),
        "5 条未读消息"
    );
    assert_eq!(i18n.tr("no-such-key"), "no-such-key");
    assert_eq!(Language::from_tag("zh_CN.UTF-8"), Language::ZhCn);
    assert_eq!(Language::from_tag("C.UTF-8"), Language::EnUs);
}
