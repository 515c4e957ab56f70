//! A font for Chinese text. iced falls back to any loaded font for glyphs the
//! default font lacks, so loading one CJK font is enough for mixed text. The
//! set-up (`make deps`) installs WenQuanYi Micro Hei on Debian; other common
//! CJK fonts are found too, and `NATTER_CJK_FONT` can point at any file.

use std::path::PathBuf;

/// Well-known places of open-licence CJK fonts.
const CANDIDATES: &[&str] = &[
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",
    "/usr/share/fonts/google-noto-cjk/NotoSansCJK-Regular.ttc",
    "/System/Library/Fonts/PingFang.ttc",
    // macOS 11 and later keep PingFang in an asset store; these two stay put.
    "/System/Library/Fonts/Hiragino Sans GB.ttc",
    "/System/Library/Fonts/STHeiti Medium.ttc",
    "C:\\Windows\\Fonts\\msyh.ttc",
];

/// The first CJK font found, as bytes.
pub fn cjk_font() -> Option<Vec<u8>> {
    let mut paths: Vec<PathBuf> = Vec::new();
    if let Some(p) = std::env::var_os("NATTER_CJK_FONT") {
        paths.push(p.into());
    }
    paths.extend(CANDIDATES.iter().map(PathBuf::from));
    paths.into_iter().find_map(|p| std::fs::read(p).ok())
}
