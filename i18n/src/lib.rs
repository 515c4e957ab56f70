//! Natter's translations (Fluent, zh-CN and en-US). Not built yet.
