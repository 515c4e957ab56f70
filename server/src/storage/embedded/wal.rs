//! The message log: what makes a sent message durable before its ack without a
//! database commit.
//!
//! A batch of message appends is appended here as one record and `fdatasync`ed
//! (one sequential write instead of a dozen scattered page writes), and then
//! acknowledged; the applier thread writes the same records into redb behind
//! the log, with a durable commit (a checkpoint) every second that records the
//! log position it covers. After a crash the records past that position are
//! replayed into redb, so every acknowledged message is back, with the seq it
//! was acknowledged with.
//!
//! The log is two files used in turn, one per generation: generation `g` lives
//! in `natter-{g % 2}.wal`. When the current file is full and a checkpoint
//! has covered a position in the current generation (so nothing in the other
//! file is needed any more), the writer moves on to the next generation in the
//! other file, from its start.
//!
//! Layout: files are preallocated in chunks of zeros, so appending never
//! changes their size (an `fdatasync` then writes the data and nothing else).
//! Each record is `len: u32, crc32: u32, generation: u64, payload[len]`, little
//! endian, the checksum covering the generation and the payload. Reading stops
//! at the first record that is torn, zeroed or of another generation: records
//! after it can only be left over from an older generation.

use crate::util::FileExt;
use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// One write a record carries, as stored in the database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Op {
    /// `MESSAGES[(conversation, seq)] = value`.
    Message {
        conversation: u64,
        seq: u64,
        value: Vec<u8>,
    },
    /// `CLIENT_IDS[(conversation, sender, client_id)] = seq`.
    ClientId {
        conversation: u64,
        sender: u64,
        client_id: String,
        seq: u64,
    },
}

/// A place in the log: the end of a record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WalPos {
    pub generation: u64,
    pub offset: u64,
}

const HEADER: usize = 16;
/// A file grows by this much at a time, zero-filled.
const CHUNK: u64 = 4 << 20;
/// Once the current file is this full, or the next record does not fit, the
/// writer moves to the other file if it may; it grows the current one only
/// when it may not (so files keep one chunk, and the zero-filling that
/// growing takes — a burst of writes the log's `fdatasync` would queue
/// behind — happens almost only when a file is new).
const ROTATE_BYTES: u64 = CHUNK;
/// A record larger than this is corrupt (a batch of 512 maximal messages fits).
const MAX_RECORD: usize = 64 << 20;

const TAG_MESSAGE: u8 = 1;
const TAG_CLIENT_ID: u8 = 2;

fn file_of(dir: &Path, generation: u64) -> PathBuf {
    dir.join(format!("natter-{}.wal", generation % 2))
}

/// The writes to replay after a crash: the records of `from.generation` past
/// `from.offset`, then those of the next generation, in order.
pub fn replay(dir: &Path, from: WalPos) -> io::Result<Vec<Op>> {
    let mut ops = Vec::new();
    let mut segment = Segment::open(&file_of(dir, from.generation), from.generation)?;
    segment.pos = from.offset;
    segment.read_records(&mut ops)?;
    let next = from.generation + 1;
    Segment::open(&file_of(dir, next), next)?.read_records(&mut ops)?;
    Ok(ops)
}

/// The records of `generation` in a log of the earlier single-file layout
/// (`natter.wal`), if there is one.
pub fn replay_single_file(path: &Path, generation: u64) -> io::Result<Vec<Op>> {
    let mut ops = Vec::new();
    if path.exists() {
        Segment::open(path, generation)?.read_records(&mut ops)?;
    }
    Ok(ops)
}

/// One generation's file.
struct Segment {
    path: PathBuf,
    file: File,
    generation: u64,
    pos: u64,
    last_pos: u64,
    allocated: u64,
}

impl Segment {
    fn open(path: &Path, generation: u64) -> io::Result<Segment> {
        let file = File::options()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(path)?;
        let allocated = file.metadata()?.len();
        Ok(Segment {
            path: path.to_path_buf(),
            file,
            generation,
            pos: 0,
            last_pos: 0,
            allocated,
        })
    }

    fn grow(&mut self, to: u64) -> io::Result<()> {
        let zeros = vec![0u8; 1 << 20];
        let mut at = self.allocated;
        while at < to {
            let n = (to - at).min(zeros.len() as u64) as usize;
            self.file.write_all_at(&zeros[..n], at)?;
            at += n as u64;
        }
        // The size changed: this one needs the metadata on disk too.
        self.file.sync_all()?;
        if self.allocated == 0 {
            // A new file: its name must survive a power cut as well.
            // (Windows has no directory handles to sync; NTFS journals names.)
            #[cfg(unix)]
            if let Some(dir) = self.path.parent() {
                File::open(dir)?.sync_all()?;
            }
        }
        self.allocated = to;
        Ok(())
    }

    /// Reads records of this generation from `pos` on, advancing `pos`.
    fn read_records(&mut self, ops: &mut Vec<Op>) -> io::Result<()> {
        let mut header = [0u8; HEADER];
        loop {
            if self.pos + HEADER as u64 > self.allocated {
                return Ok(());
            }
            self.file.read_exact_at(&mut header, self.pos)?;
            let len = u32::from_le_bytes(header[0..4].try_into().unwrap_or_default()) as usize;
            let crc = u32::from_le_bytes(header[4..8].try_into().unwrap_or_default());
            let generation = u64::from_le_bytes(header[8..16].try_into().unwrap_or_default());
            let end = self.pos + (HEADER + len) as u64;
            if len == 0 || len > MAX_RECORD || generation != self.generation || end > self.allocated
            {
                return Ok(());
            }
            let mut payload = vec![0u8; len];
            self.file
                .read_exact_at(&mut payload, self.pos + HEADER as u64)?;
            if checksum(generation, &payload) != crc {
                return Ok(());
            }
            let Some(mut record) = decode(&payload) else {
                return Ok(());
            };
            ops.append(&mut record);
            self.last_pos = self.pos;
            self.pos = end;
        }
    }
}

/// The log being written.
pub struct Wal {
    dir: PathBuf,
    current: Segment,
    /// The next generation's file, grown (zero-filled, so writing into it
    /// never changes its size and `fdatasync` stays cheap) off the writer's
    /// path.
    next: Next,
}

/// Where the preparation of the next file stands.
enum Next {
    Preparing(JoinHandle<bool>),
    Ready,
    /// It failed; tried again once this time has passed.
    Failed(Instant),
}

/// How a record could not be appended.
#[derive(Debug)]
pub enum AppendError {
    /// Nothing of it was written: the log is as it was.
    NotWritten(io::Error),
    /// Writing or syncing it failed part-way: whether it reached the disk is
    /// unknown (Linux may even drop the data of a failed `fdatasync` and report
    /// success later), so the writer must not go on.
    Unknown(io::Error),
}

impl std::fmt::Display for AppendError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AppendError::NotWritten(e) => write!(f, "not written: {e}"),
            AppendError::Unknown(e) => write!(f, "written in part or not synced: {e}"),
        }
    }
}

/// How long after a failed preparation of the next file it is tried again.
const PREPARE_RETRY: Duration = Duration::from_secs(1);

fn prepare(path: PathBuf, generation: u64) -> io::Result<Next> {
    let grow = move || {
        let grown = Segment::open(&path, generation).and_then(|mut seg| {
            if seg.allocated < CHUNK {
                seg.grow(CHUNK)?;
            }
            Ok(())
        });
        if let Err(e) = &grown {
            tracing::warn!(error = %e, "cannot prepare the next message log file");
        }
        grown.is_ok()
    };
    Ok(Next::Preparing(
        std::thread::Builder::new()
            .name("natter-wal-prepare".into())
            .spawn(grow)?,
    ))
}

impl Wal {
    /// Starts writing `generation` from the start of its file. The generation
    /// must be new: records of it left in the file would be read back.
    pub fn create(dir: &Path, generation: u64) -> io::Result<Wal> {
        let mut current = Segment::open(&file_of(dir, generation), generation)?;
        if current.allocated < CHUNK {
            current.grow(CHUNK)?;
        }
        // The writer moves into the other file only after this is done, so
        // nothing else writes to it meanwhile.
        let next = prepare(file_of(dir, generation + 1), generation + 1)?;
        Ok(Wal {
            dir: dir.to_path_buf(),
            current,
            next,
        })
    }

    /// The generation records are written under.
    pub fn generation(&self) -> u64 {
        self.current.generation
    }

    /// Whether the next file is ready; starts preparing it again if that failed
    /// a while ago.
    fn next_ready(&mut self) -> bool {
        match &self.next {
            Next::Preparing(h) if h.is_finished() => {
                let done = std::mem::replace(&mut self.next, Next::Failed(Instant::now()));
                if let Next::Preparing(h) = done
                    && h.join().unwrap_or(false)
                {
                    self.next = Next::Ready;
                }
            }
            Next::Failed(at) if at.elapsed() >= PREPARE_RETRY => {
                let generation = self.current.generation + 1;
                self.next = prepare(file_of(&self.dir, generation), generation)
                    .unwrap_or(Next::Failed(Instant::now()));
            }
            _ => {}
        }
        matches!(self.next, Next::Ready)
    }

    /// Appends `ops` as one record, waits until it is on disk, and returns
    /// the position after it. With `may_rotate` — a checkpoint covers a
    /// position in the current generation, so the other file's records are
    /// all in the database — the record goes to the next generation's file
    /// instead once the current one is big enough or full.
    pub fn append(&mut self, ops: &[Op], may_rotate: bool) -> Result<WalPos, AppendError> {
        let mut payload = Vec::with_capacity(ops.iter().map(op_len).sum());
        for op in ops {
            encode(op, &mut payload);
        }
        let len = (HEADER + payload.len()) as u64;
        if payload.len() > MAX_RECORD {
            return Err(AppendError::NotWritten(io::Error::other(
                "record larger than the log reads back",
            )));
        }
        let seg = &self.current;
        let wanted = seg.pos >= ROTATE_BYTES || seg.pos + len > seg.allocated;
        if may_rotate && wanted && self.next_ready() {
            let next = Wal::create(&self.dir, self.current.generation + 1)
                .map_err(AppendError::NotWritten)?;
            *self = next;
        }
        let seg = &mut self.current;
        let mut record = Vec::with_capacity(len as usize);
        record.extend_from_slice(&(payload.len() as u32).to_le_bytes());
        record.extend_from_slice(&checksum(seg.generation, &payload).to_le_bytes());
        record.extend_from_slice(&seg.generation.to_le_bytes());
        record.extend_from_slice(&payload);
        let end = seg.pos + len;
        if end > seg.allocated {
            // Zeros past every record: the log's records are untouched if
            // this fails.
            seg.grow(end.div_ceil(CHUNK) * CHUNK)
                .map_err(AppendError::NotWritten)?;
        }
        seg.file
            .write_all_at(&record, seg.pos)
            .and_then(|()| seg.file.sync_data())
            .map_err(AppendError::Unknown)?;
        seg.last_pos = seg.pos;
        seg.pos = end;
        Ok(WalPos {
            generation: seg.generation,
            offset: end,
        })
    }
}

impl Drop for Wal {
    /// The preparing thread ends before the log does, so it never writes to a
    /// file a later log of the same directory uses.
    fn drop(&mut self) {
        if let Next::Preparing(h) = std::mem::replace(&mut self.next, Next::Ready) {
            let _ = h.join();
        }
    }
}

fn checksum(generation: u64, payload: &[u8]) -> u32 {
    let mut h = crc32fast::Hasher::new();
    h.update(&generation.to_le_bytes());
    h.update(payload);
    h.finalize()
}

/// Bytes `op` takes in a record.
pub fn op_len(op: &Op) -> usize {
    match op {
        Op::Message { value, .. } => 1 + 8 + 8 + 4 + value.len(),
        Op::ClientId { client_id, .. } => 1 + 8 + 8 + 8 + 2 + client_id.len(),
    }
}

pub(super) fn encode(op: &Op, out: &mut Vec<u8>) {
    match op {
        Op::Message {
            conversation,
            seq,
            value,
        } => {
            out.push(TAG_MESSAGE);
            out.extend_from_slice(&conversation.to_le_bytes());
            out.extend_from_slice(&seq.to_le_bytes());
            out.extend_from_slice(&(value.len() as u32).to_le_bytes());
            out.extend_from_slice(value);
        }
        Op::ClientId {
            conversation,
            sender,
            client_id,
            seq,
        } => {
            out.push(TAG_CLIENT_ID);
            out.extend_from_slice(&conversation.to_le_bytes());
            out.extend_from_slice(&sender.to_le_bytes());
            out.extend_from_slice(&seq.to_le_bytes());
            // Client ids are at most `MAX_ID_LEN` bytes.
            out.extend_from_slice(&(client_id.len() as u16).to_le_bytes());
            out.extend_from_slice(client_id.as_bytes());
        }
    }
}

/// A little cursor over a payload; `None` once it runs out.
struct Reader<'a>(&'a [u8]);

impl Reader<'_> {
    fn take(&mut self, n: usize) -> Option<&[u8]> {
        if self.0.len() < n {
            return None;
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Some(head)
    }

    fn u64(&mut self) -> Option<u64> {
        Some(u64::from_le_bytes(self.take(8)?.try_into().ok()?))
    }
}

pub(super) fn decode(payload: &[u8]) -> Option<Vec<Op>> {
    let mut r = Reader(payload);
    let mut ops = Vec::new();
    while !r.0.is_empty() {
        let tag = r.take(1)?[0];
        ops.push(match tag {
            TAG_MESSAGE => {
                let conversation = r.u64()?;
                let seq = r.u64()?;
                let len = u32::from_le_bytes(r.take(4)?.try_into().ok()?) as usize;
                Op::Message {
                    conversation,
                    seq,
                    value: r.take(len)?.to_vec(),
                }
            }
            TAG_CLIENT_ID => {
                let conversation = r.u64()?;
                let sender = r.u64()?;
                let seq = r.u64()?;
                let len = u16::from_le_bytes(r.take(2)?.try_into().ok()?) as usize;
                Op::ClientId {
                    conversation,
                    sender,
                    seq,
                    client_id: String::from_utf8(r.take(len)?.to_vec()).ok()?,
                }
            }
            _ => return None,
        });
    }
    Some(ops)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg(seq: u64) -> Op {
        Op::Message {
            conversation: 7,
            seq,
            value: format!("{{\"seq\":{seq}}}").into_bytes(),
        }
    }

    fn id(seq: u64) -> Op {
        Op::ClientId {
            conversation: 7,
            sender: 3,
            client_id: format!("c{seq}"),
            seq,
        }
    }

    impl Wal {
        fn append_now(&mut self, ops: &[Op]) -> Result<WalPos, AppendError> {
            self.append(ops, false)
        }
    }

    fn start(generation: u64) -> WalPos {
        WalPos {
            generation,
            offset: 0,
        }
    }

    #[test]
    fn records_past_the_position_come_back_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let mut wal = Wal::create(dir.path(), 5).unwrap();
        let first = wal.append_now(&[msg(1), id(1)]).unwrap();
        wal.append_now(&[msg(2), id(2), msg(1)]).unwrap();
        drop(wal);
        assert_eq!(
            replay(dir.path(), start(5)).unwrap(),
            vec![msg(1), id(1), msg(2), id(2), msg(1)]
        );
        assert_eq!(
            replay(dir.path(), first).unwrap(),
            vec![msg(2), id(2), msg(1)]
        );
        // A later generation: nothing to replay.
        assert!(replay(dir.path(), start(7)).unwrap().is_empty());
    }

    #[test]
    fn replay_follows_a_rotation_into_the_other_file() {
        let dir = tempfile::tempdir().unwrap();
        let mut wal = Wal::create(dir.path(), 2).unwrap();
        wal.append_now(&[msg(1)]).unwrap();
        let covered = wal.append_now(&[msg(2)]).unwrap();
        wal.append_now(&[msg(3)]).unwrap();
        while !wal.next_ready() {
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
        // Not past the threshold: the record stays in this generation…
        let stays = wal.append(&[msg(9)], true).unwrap();
        assert_eq!(stays.generation, 2);
        // …and once the file is full enough, it moves on.
        wal.current.pos = ROTATE_BYTES;
        let at = wal.append(&[msg(4)], true).unwrap();
        assert_eq!(at.generation, 3);
        assert_eq!(wal.generation(), 3);
        drop(wal);
        assert_eq!(
            replay(dir.path(), covered).unwrap(),
            vec![msg(3), msg(9), msg(4)]
        );
        // Once a checkpoint covers generation 3, generation 4 reuses the first
        // file from its start and generation 2's records are never read again.
        let mut wal = Wal::create(dir.path(), 4).unwrap();
        wal.append_now(&[msg(5)]).unwrap();
        drop(wal);
        assert_eq!(replay(dir.path(), start(4)).unwrap(), vec![msg(5)]);
        assert!(replay(dir.path(), start(6)).unwrap().is_empty());
    }

    #[test]
    fn a_torn_record_ends_the_log() {
        let dir = tempfile::tempdir().unwrap();
        let mut wal = Wal::create(dir.path(), 1).unwrap();
        wal.append_now(&[msg(1)]).unwrap();
        wal.append_now(&[msg(2)]).unwrap();
        let second = wal.current.last_pos;
        wal.append_now(&[msg(3)]).unwrap();
        drop(wal);
        // Tear the second record's payload.
        let f = File::options()
            .write(true)
            .open(file_of(dir.path(), 1))
            .unwrap();
        f.write_all_at(b"xx", second + HEADER as u64 + 3).unwrap();
        assert_eq!(replay(dir.path(), start(1)).unwrap(), vec![msg(1)]);
    }

    #[test]
    fn a_failed_append_leaves_the_records_before_it() {
        let dir = tempfile::tempdir().unwrap();
        let mut wal = Wal::create(dir.path(), 1).unwrap();
        wal.append_now(&[msg(1)]).unwrap();
        let huge = Op::Message {
            conversation: 1,
            seq: 2,
            value: vec![b'x'; MAX_RECORD + 1],
        };
        let err = wal.append(std::slice::from_ref(&huge), true).unwrap_err();
        assert!(matches!(err, AppendError::NotWritten(_)), "{err}");
        wal.append_now(&[msg(3)]).unwrap();
        drop(wal);
        assert_eq!(replay(dir.path(), start(1)).unwrap(), vec![msg(1), msg(3)]);
    }

    #[test]
    fn the_file_grows_past_its_first_chunk() {
        let dir = tempfile::tempdir().unwrap();
        let mut wal = Wal::create(dir.path(), 1).unwrap();
        let big = Op::Message {
            conversation: 1,
            seq: 1,
            value: vec![b'x'; 5 << 20],
        };
        wal.append(std::slice::from_ref(&big), false).unwrap();
        wal.append(std::slice::from_ref(&big), false).unwrap();
        assert!(std::fs::metadata(file_of(dir.path(), 1)).unwrap().len() >= 2 * CHUNK);
        drop(wal);
        assert_eq!(replay(dir.path(), start(1)).unwrap().len(), 2);
    }
}
