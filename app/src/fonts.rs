//! Fonts for Chinese text and emoji. iced falls back to any loaded font for
//! glyphs the default font lacks, so loading one CJK font and one emoji font is
//! enough for mixed text. The set-up (`make deps`) installs WenQuanYi Micro Hei
//! and Symbola (monochrome emoji) on Debian; other common fonts are found too,
//! and `NATTER_CJK_FONT` / `NATTER_EMOJI_FONT` can point at any file.

use std::path::PathBuf;

/// Well-known places of open-licence CJK fonts.
const CANDIDATES: &[&str] = &[
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",
    "/usr/share/fonts/google-noto-cjk/NotoSansCJK-Regular.ttc",
    "/System/Library/Fonts/PingFang.ttc",
    "C:\\Windows\\Fonts\\msyh.ttc",
];

/// Well-known places of emoji fonts the CPU renderer can draw (outline
/// glyphs; colour bitmap fonts are not drawn).
const EMOJI_CANDIDATES: &[&str] = &[
    "/usr/share/fonts/truetype/ancient-scripts/Symbola_hint.ttf",
    "/usr/share/fonts/truetype/noto/NotoEmoji-Regular.ttf",
    "/usr/share/fonts/google-noto-emoji/NotoEmoji-Regular.ttf",
    "/usr/share/fonts/TTF/Symbola.ttf",
    "C:\\Windows\\Fonts\\seguiemj.ttf",
];

/// The first CJK font found, as bytes.
pub fn cjk_font() -> Option<Vec<u8>> {
    first_readable("NATTER_CJK_FONT", CANDIDATES)
}

/// The first emoji font found, as bytes.
pub fn emoji_font() -> Option<Vec<u8>> {
    first_readable("NATTER_EMOJI_FONT", EMOJI_CANDIDATES)
}

fn first_readable(variable: &str, candidates: &[&str]) -> Option<Vec<u8>> {
    let mut paths: Vec<PathBuf> = Vec::new();
    if let Some(p) = std::env::var_os(variable) {
        paths.push(p.into());
    }
    paths.extend(candidates.iter().map(PathBuf::from));
    paths.into_iter().find_map(|p| std::fs::read(p).ok())
}
