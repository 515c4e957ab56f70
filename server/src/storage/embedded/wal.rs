//! The message log: what makes a sent message durable before its ack without a
//! full database commit.
//!
//! A batch of message appends is committed to redb without an fsync (cheap, and
//! visible to readers at once) after its writes were appended here as one record
//! and `fdatasync`ed: one sequential write instead of a dozen scattered page
//! writes. Every so often — and whenever a batch holds anything else — the
//! writer commits redb durably (a checkpoint), which makes every record before it
//! redundant; the log then starts over under a new generation. After a crash the
//! records of the current generation are replayed into redb, so every
//! acknowledged message is back, with the seq it was acknowledged with.
//!
//! Layout: the file is preallocated in chunks of zeros, so appending never
//! changes its size (an `fdatasync` then writes the data and nothing else). Each
//! record is `len: u32, crc32: u32, generation: u64, payload[len]`, little
//! endian, the checksum covering the generation and the payload. Reading stops
//! at the first record that is torn, zeroed or of another generation: records
//! after it can only be left over from before a checkpoint.

use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;
use std::path::Path;
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

const HEADER: usize = 16;
/// The file grows by this much at a time, zero-filled.
const CHUNK: u64 = 4 << 20;
/// A checkpoint is due once the log holds this much…
const CHECKPOINT_BYTES: u64 = 16 << 20;
/// …or its oldest record is this old.
const CHECKPOINT_AGE: Duration = Duration::from_secs(1);
/// A record larger than this is corrupt (a batch of 512 maximal messages fits).
const MAX_RECORD: usize = 64 << 20;

const TAG_MESSAGE: u8 = 1;
const TAG_CLIENT_ID: u8 = 2;

/// The open log.
pub struct Wal {
    file: File,
    generation: u64,
    pos: u64,
    last_pos: u64,
    allocated: u64,
    oldest: Option<Instant>,
}

impl Wal {
    /// Opens (or creates) the log at `path` and reads the records of
    /// `generation` from its start: the writes to replay.
    pub fn open(path: &Path, generation: u64) -> io::Result<(Wal, Vec<Op>)> {
        let file = File::options()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(path)?;
        let allocated = file.metadata()?.len();
        let mut wal = Wal {
            file,
            generation,
            pos: 0,
            last_pos: 0,
            allocated,
            oldest: None,
        };
        let ops = wal.read_all()?;
        if allocated < CHUNK {
            wal.grow(CHUNK)?;
        }
        Ok((wal, ops))
    }

    /// The generation records are written under.
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// Whether the log holds any record.
    pub fn is_empty(&self) -> bool {
        self.pos == 0
    }

    /// Whether the next commit should be a checkpoint.
    pub fn checkpoint_due(&self) -> bool {
        self.pos >= CHECKPOINT_BYTES || self.oldest.is_some_and(|t| t.elapsed() >= CHECKPOINT_AGE)
    }

    /// After a durable commit that recorded `generation` as current: the log
    /// starts over.
    pub fn reset(&mut self, generation: u64) {
        self.generation = generation;
        self.pos = 0;
        self.last_pos = 0;
        self.oldest = None;
    }

    /// Appends `ops` as one record and waits until it is on disk.
    pub fn append(&mut self, ops: &[Op]) -> io::Result<()> {
        let mut payload = Vec::with_capacity(ops.iter().map(op_len).sum());
        for op in ops {
            encode(op, &mut payload);
        }
        let mut record = Vec::with_capacity(HEADER + payload.len());
        record.extend_from_slice(&(payload.len() as u32).to_le_bytes());
        record.extend_from_slice(&checksum(self.generation, &payload).to_le_bytes());
        record.extend_from_slice(&self.generation.to_le_bytes());
        record.extend_from_slice(&payload);
        let end = self.pos + record.len() as u64;
        if end > self.allocated {
            self.grow(end.div_ceil(CHUNK) * CHUNK)?;
        }
        self.file.write_all_at(&record, self.pos)?;
        self.file.sync_data()?;
        self.last_pos = self.pos;
        self.pos = end;
        self.oldest.get_or_insert_with(Instant::now);
        Ok(())
    }

    /// Takes back the last record (its database commit failed), so it is never
    /// replayed.
    pub fn undo_last(&mut self) -> io::Result<()> {
        self.file.write_all_at(&[0; HEADER], self.last_pos)?;
        self.file.sync_data()?;
        self.pos = self.last_pos;
        if self.pos == 0 {
            self.oldest = None;
        }
        Ok(())
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
        self.allocated = to;
        Ok(())
    }

    fn read_all(&mut self) -> io::Result<Vec<Op>> {
        let mut ops = Vec::new();
        let mut header = [0u8; HEADER];
        loop {
            if self.pos + HEADER as u64 > self.allocated {
                break;
            }
            self.file.read_exact_at(&mut header, self.pos)?;
            let len = u32::from_le_bytes(header[0..4].try_into().unwrap_or_default()) as usize;
            let crc = u32::from_le_bytes(header[4..8].try_into().unwrap_or_default());
            let generation = u64::from_le_bytes(header[8..16].try_into().unwrap_or_default());
            let end = self.pos + (HEADER + len) as u64;
            if len == 0 || len > MAX_RECORD || generation != self.generation || end > self.allocated
            {
                break;
            }
            let mut payload = vec![0u8; len];
            self.file
                .read_exact_at(&mut payload, self.pos + HEADER as u64)?;
            if checksum(generation, &payload) != crc {
                break;
            }
            let Some(mut record) = decode(&payload) else {
                break;
            };
            ops.append(&mut record);
            self.last_pos = self.pos;
            self.pos = end;
        }
        if self.pos > 0 {
            self.oldest = Some(Instant::now());
        }
        Ok(ops)
    }
}

fn checksum(generation: u64, payload: &[u8]) -> u32 {
    let mut h = crc32fast::Hasher::new();
    h.update(&generation.to_le_bytes());
    h.update(payload);
    h.finalize()
}

fn op_len(op: &Op) -> usize {
    match op {
        Op::Message { value, .. } => 1 + 8 + 8 + 4 + value.len(),
        Op::ClientId { client_id, .. } => 1 + 8 + 8 + 8 + 2 + client_id.len(),
    }
}

fn encode(op: &Op, out: &mut Vec<u8>) {
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

fn decode(payload: &[u8]) -> Option<Vec<Op>> {
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

    #[test]
    fn records_of_the_generation_come_back_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("log");
        let (mut wal, ops) = Wal::open(&path, 5).unwrap();
        assert!(ops.is_empty() && wal.is_empty());
        wal.append(&[msg(1), id(1)]).unwrap();
        wal.append(&[msg(2), id(2), msg(1)]).unwrap();
        drop(wal);
        let (wal, ops) = Wal::open(&path, 5).unwrap();
        assert_eq!(ops, vec![msg(1), id(1), msg(2), id(2), msg(1)]);
        assert!(!wal.is_empty());
        // Another generation: nothing to replay.
        let (_, ops) = Wal::open(&path, 6).unwrap();
        assert!(ops.is_empty());
    }

    #[test]
    fn a_torn_record_ends_the_log_and_is_overwritten() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("log");
        let (mut wal, _) = Wal::open(&path, 1).unwrap();
        wal.append(&[msg(1)]).unwrap();
        wal.append(&[msg(2)]).unwrap();
        let second = wal.last_pos;
        drop(wal);
        // Tear the second record's payload.
        let f = File::options().write(true).open(&path).unwrap();
        f.write_all_at(b"xx", second + HEADER as u64 + 3).unwrap();
        let (mut wal, ops) = Wal::open(&path, 1).unwrap();
        assert_eq!(ops, vec![msg(1)]);
        wal.append(&[msg(3)]).unwrap();
        drop(wal);
        let (_, ops) = Wal::open(&path, 1).unwrap();
        assert_eq!(ops, vec![msg(1), msg(3)]);
    }

    #[test]
    fn after_a_reset_old_records_are_never_replayed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("log");
        let (mut wal, _) = Wal::open(&path, 1).unwrap();
        for s in 1..=3 {
            wal.append(&[msg(s), id(s)]).unwrap();
        }
        wal.reset(2);
        wal.append(&[msg(4)]).unwrap();
        drop(wal);
        let (_, ops) = Wal::open(&path, 2).unwrap();
        assert_eq!(ops, vec![msg(4)]);
    }

    #[test]
    fn an_undone_record_is_gone_and_its_place_reused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("log");
        let (mut wal, _) = Wal::open(&path, 1).unwrap();
        wal.append(&[msg(1)]).unwrap();
        wal.append(&[msg(2)]).unwrap();
        wal.undo_last().unwrap();
        drop(wal);
        let (mut wal, ops) = Wal::open(&path, 1).unwrap();
        assert_eq!(ops, vec![msg(1)]);
        wal.append(&[msg(9)]).unwrap();
        drop(wal);
        assert_eq!(Wal::open(&path, 1).unwrap().1, vec![msg(1), msg(9)]);
    }

    #[test]
    fn the_file_grows_past_its_first_chunk() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("log");
        let (mut wal, _) = Wal::open(&path, 1).unwrap();
        let big = Op::Message {
            conversation: 1,
            seq: 1,
            value: vec![b'x'; 3 << 20],
        };
        wal.append(std::slice::from_ref(&big)).unwrap();
        wal.append(std::slice::from_ref(&big)).unwrap();
        assert!(std::fs::metadata(&path).unwrap().len() >= 2 * CHUNK);
        drop(wal);
        assert_eq!(Wal::open(&path, 1).unwrap().1.len(), 2);
    }
}
