//! Natter's translations.
//!
//! The Fluent files live in `assets/locales/<lang>/natter.ftl` and are compiled
//! into the binary, so a fresh machine needs nothing else. [`I18n`] holds one
//! bundle per [`Language`] and formats messages in the current one; switching is
//! instant (no reload, no restart). A key missing from the current language falls
//! back to English, then to the key itself, so a gap shows up as text rather
//! than a crash — and the tests keep both files complete.

use std::fmt;

use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::{FluentArgs, FluentResource, FluentValue};
use unic_langid::LanguageIdentifier;

/// A language Natter speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Language {
    /// English (United States).
    #[default]
    EnUs,
    /// Simplified Chinese.
    ZhCn,
}

impl Language {
    /// Every language, in menu order.
    pub const ALL: [Language; 2] = [Language::ZhCn, Language::EnUs];

    /// The BCP 47 tag.
    pub fn tag(self) -> &'static str {
        match self {
            Language::EnUs => "en-US",
            Language::ZhCn => "zh-CN",
        }
    }

    /// The language's own name, for the language menu.
    pub fn native_name(self) -> &'static str {
        match self {
            Language::EnUs => "English",
            Language::ZhCn => "简体中文",
        }
    }

    /// Parses a tag; anything Chinese maps to zh-CN, everything else to en-US.
    pub fn from_tag(tag: &str) -> Language {
        if tag.to_ascii_lowercase().starts_with("zh") {
            Language::ZhCn
        } else {
            Language::EnUs
        }
    }

    /// The language of the system locale (`LC_ALL`, `LC_MESSAGES`, `LANG`).
    pub fn from_environment() -> Language {
        ["LC_ALL", "LC_MESSAGES", "LANG"]
            .iter()
            .find_map(|v| std::env::var(v).ok().filter(|s| !s.is_empty()))
            .map(|s| Language::from_tag(&s))
            .unwrap_or_default()
    }

    /// The Fluent source for the language.
    pub fn source(self) -> &'static str {
        match self {
            Language::EnUs => include_str!("../../assets/locales/en-US/natter.ftl"),
            Language::ZhCn => include_str!("../../assets/locales/zh-CN/natter.ftl"),
        }
    }
}

impl fmt::Display for Language {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.native_name())
    }
}

/// An argument value for a message.
#[derive(Debug, Clone)]
pub enum Arg {
    /// Text.
    Str(String),
    /// A number (selects plural forms).
    Num(f64),
}

impl From<&str> for Arg {
    fn from(s: &str) -> Arg {
        Arg::Str(s.to_string())
    }
}

impl From<String> for Arg {
    fn from(s: String) -> Arg {
        Arg::Str(s)
    }
}

macro_rules! num_arg {
    ($($t:ty),*) => {$(
        impl From<$t> for Arg {
            fn from(n: $t) -> Arg {
                Arg::Num(n as f64)
            }
        }
    )*};
}
num_arg!(u32, u64, i32, i64, usize, f64);

/// Bundles for every language and the one in use.
pub struct I18n {
    current: Language,
    en: FluentBundle<FluentResource>,
    zh: FluentBundle<FluentResource>,
}

impl fmt::Debug for I18n {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("I18n")
            .field("current", &self.current)
            .finish()
    }
}

/// A Fluent file that does not parse.
#[derive(Debug, Clone)]
pub struct ParseError {
    /// Which language.
    pub language: Language,
    /// What the parser said.
    pub errors: Vec<String>,
}

fn bundle(language: Language) -> Result<FluentBundle<FluentResource>, ParseError> {
    let resource =
        FluentResource::try_new(language.source().to_string()).map_err(|(_, errs)| ParseError {
            language,
            errors: errs.iter().map(|e| format!("{e:?}")).collect(),
        })?;
    let langid: LanguageIdentifier = language.tag().parse().map_err(|e| ParseError {
        language,
        errors: vec![format!("{e}")],
    })?;
    let mut b = FluentBundle::new_concurrent(vec![langid]);
    // Isolation marks (U+2068/U+2069) render as boxes in many fonts; our
    // arguments are names and numbers, so they are not needed.
    b.set_use_isolating(false);
    b.add_resource(resource).map_err(|errs| ParseError {
        language,
        errors: errs.iter().map(|e| format!("{e:?}")).collect(),
    })?;
    Ok(b)
}

impl I18n {
    /// Loads every bundle and selects `language`.
    pub fn new(language: Language) -> Result<I18n, ParseError> {
        Ok(I18n {
            current: language,
            en: bundle(Language::EnUs)?,
            zh: bundle(Language::ZhCn)?,
        })
    }

    /// The language in use.
    pub fn language(&self) -> Language {
        self.current
    }

    /// Switches language.
    pub fn set_language(&mut self, language: Language) {
        self.current = language;
    }

    fn bundle_for(&self, language: Language) -> &FluentBundle<FluentResource> {
        match language {
            Language::EnUs => &self.en,
            Language::ZhCn => &self.zh,
        }
    }

    /// The message `key` in the current language.
    pub fn tr(&self, key: &str) -> String {
        self.tr_args(key, &[])
    }

    /// The message `key` with arguments.
    pub fn tr_args(&self, key: &str, args: &[(&str, Arg)]) -> String {
        let mut fluent_args = FluentArgs::new();
        for (name, value) in args {
            match value {
                Arg::Str(s) => fluent_args.set(*name, FluentValue::from(s.clone())),
                Arg::Num(n) => fluent_args.set(*name, FluentValue::from(*n)),
            }
        }
        for language in [self.current, Language::EnUs] {
            if let Some(text) = format(self.bundle_for(language), key, &fluent_args) {
                return text;
            }
        }
        key.to_string()
    }
}

fn format(
    bundle: &FluentBundle<FluentResource>,
    key: &str,
    args: &FluentArgs<'_>,
) -> Option<String> {
    let pattern = bundle.get_message(key)?.value()?;
    let mut errors = Vec::new();
    let text = bundle.format_pattern(pattern, Some(args), &mut errors);
    Some(text.into_owned())
}

/// Message ids defined in a Fluent source, in file order.
pub fn keys(source: &str) -> Vec<String> {
    let resource = match fluent_syntax::parser::parse(source) {
        Ok(r) => r,
        Err((r, _)) => r,
    };
    resource
        .body
        .into_iter()
        .filter_map(|entry| match entry {
            fluent_syntax::ast::Entry::Message(m) => Some(m.id.name.to_string()),
            _ => None,
        })
        .collect()
}

/// Argument names a message uses, for checking translations use the same ones.
pub fn variables(source: &str, key: &str) -> Vec<String> {
    let start = source
        .lines()
        .position(|l| l.starts_with(&format!("{key} =")))
        .unwrap_or(usize::MAX);
    let mut text = String::new();
    for (i, line) in source.lines().enumerate().skip(start) {
        if i > start && !line.starts_with(' ') {
            break;
        }
        text.push_str(line);
    }
    let mut out: Vec<String> = text
        .split('$')
        .skip(1)
        .map(|s| {
            s.chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == '-')
                .collect()
        })
        .collect();
    out.sort();
    out.dedup();
    out
}
