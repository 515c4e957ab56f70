//! Small helpers: the clock, id generation and private directories.

use std::sync::atomic::{AtomicU64, Ordering};

/// Milliseconds since the Unix epoch.
pub use natter_proto::now_ms;

/// 2025-01-01T00:00:00Z, the epoch of generated ids.
const ID_EPOCH_MS: i64 = 1_735_689_600_000;

/// Bits of an id that name the relay node that made it.
const NODE_BITS: u32 = 4;

/// Unique, increasing ids from the clock: milliseconds since 2025 shifted left 12
/// bits plus a counter (8 bits) and the node number (4 bits), so relays sharing
/// one database never make the same id. They stay below 2^53, so JavaScript
/// clients read them exactly, for about seventy years.
#[derive(Debug, Default)]
pub struct IdGen {
    last: AtomicU64,
    node: u64,
}

impl IdGen {
    /// Ids for node `node` (0–15; higher bits are dropped).
    pub fn for_node(node: u16) -> IdGen {
        IdGen {
            last: AtomicU64::new(0),
            node: u64::from(node) & ((1 << NODE_BITS) - 1),
        }
    }

    /// The next id; never repeats within a process, and restarts continue above
    /// earlier ids as long as the clock does not go back.
    pub fn next(&self) -> u64 {
        let now = ((now_ms() - ID_EPOCH_MS).max(1) as u64) << 12;
        let step = 1 << NODE_BITS;
        let mut last = self.last.load(Ordering::Relaxed);
        loop {
            let next = (now.max((last & !(step - 1)) + step)) | self.node;
            match self
                .last
                .compare_exchange_weak(last, next, Ordering::Relaxed, Ordering::Relaxed)
            {
                Ok(_) => return next,
                Err(actual) => last = actual,
            }
        }
    }
}

/// Positional file reads and writes on every OS: Unix's `FileExt` as it is,
/// and the same two calls on Windows over `seek_read`/`seek_write` (which may
/// move the file cursor; callers only ever use positions).
#[cfg(unix)]
pub use std::os::unix::fs::FileExt;

/// Positional file reads and writes (see the Unix re-export).
#[cfg(windows)]
pub trait FileExt {
    /// Reads exactly `buf.len()` bytes at `offset`.
    fn read_exact_at(&self, buf: &mut [u8], offset: u64) -> std::io::Result<()>;
    /// Writes all of `buf` at `offset`.
    fn write_all_at(&self, buf: &[u8], offset: u64) -> std::io::Result<()>;
}

#[cfg(windows)]
impl FileExt for std::fs::File {
    fn read_exact_at(&self, mut buf: &mut [u8], mut offset: u64) -> std::io::Result<()> {
        use std::os::windows::fs::FileExt as _;
        while !buf.is_empty() {
            match self.seek_read(buf, offset)? {
                0 => return Err(std::io::ErrorKind::UnexpectedEof.into()),
                n => {
                    buf = &mut buf[n..];
                    offset += n as u64;
                }
            }
        }
        Ok(())
    }

    fn write_all_at(&self, mut buf: &[u8], mut offset: u64) -> std::io::Result<()> {
        use std::os::windows::fs::FileExt as _;
        while !buf.is_empty() {
            match self.seek_write(buf, offset)? {
                0 => return Err(std::io::ErrorKind::WriteZero.into()),
                n => {
                    buf = &buf[n..];
                    offset += n as u64;
                }
            }
        }
        Ok(())
    }
}

/// Creates `dir` (and its parents) if missing; a directory created here is
/// readable by its owner only (it holds the database, its signing key, and
/// people's files). An existing directory keeps the mode its operator gave it.
pub fn private_dir(dir: &std::path::Path) -> std::io::Result<()> {
    if dir.is_dir() {
        return Ok(());
    }
    std::fs::create_dir_all(dir)?;
    restrict(dir, 0o700)
}

/// Makes `path` accessible to its owner only (`mode` on Unix; nothing
/// elsewhere, where the directory's ACL applies).
pub fn restrict(path: &std::path::Path, mode: u32) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))?;
    }
    #[cfg(not(unix))]
    let _ = (path, mode);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_increase_and_fit_javascript() {
        let ids = IdGen::default();
        let mut prev = 0;
        for _ in 0..10_000 {
            let id = ids.next();
            assert!(id > prev);
            assert!(id < 1 << 53);
            prev = id;
        }
    }

    #[test]
    fn nodes_never_make_the_same_id() {
        let (a, b) = (IdGen::for_node(3), IdGen::for_node(4));
        let mut seen = std::collections::HashSet::new();
        for _ in 0..5_000 {
            let (x, y) = (a.next(), b.next());
            assert_eq!(x & 15, 3);
            assert_eq!(y & 15, 4);
            assert!(seen.insert(x) && seen.insert(y));
        }
    }
}
