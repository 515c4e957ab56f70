//! The applier thread: writes what the message log holds into redb, behind
//! the log, and runs every other write in order with the appends.
//!
//! Logged writes are committed without an fsync; every second (or 16 MiB) one
//! commit is durable — a checkpoint — and records the log position it covers,
//! so that after a crash only the records past it are replayed. A checkpoint
//! holds up no sender: acks only wait for the log. Any other write is committed
//! durably, which is also a checkpoint.

use std::path::Path;
use std::sync::atomic::Ordering;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use redb::{Database, Durability, ReadableDatabase, WriteTransaction};
use tokio::sync::watch;

use super::tables::*;
use super::wal::{self, Op, Wal, WalPos};
use super::writer::{Progress, WriteFn};
use crate::error::{Error, Result};

/// Something for the applier, in the writer's order.
pub(super) enum Item {
    /// A log record: write it, then report `ticket` applied.
    Logged {
        ticket: u64,
        ops: Vec<Op>,
        at: WalPos,
    },
    /// Any other write; `done` is told once it is committed or refused.
    Job {
        run: WriteFn,
        done: Option<mpsc::SyncSender<()>>,
    },
}

/// A checkpoint is due once this long has passed since the last one…
const CHECKPOINT_AGE: Duration = Duration::from_secs(1);
/// …or this much was written.
const CHECKPOINT_BYTES: usize = 16 << 20;
/// Items taken together.
const MAX_ITEMS: usize = 512;
/// Log records are gathered this long into one commit: fewer commits cost
/// less, and only readers of messages (never an ack) wait for them.
const GATHER: Duration = Duration::from_millis(5);

/// `META` keys: the log position the last durable commit covers.
const WAL_GENERATION: &str = "wal_generation";
const WAL_OFFSET: &str = "wal_offset";

/// Replays the log records no checkpoint covers, then makes that durable and
/// starts a fresh log generation. Returns the log and its start.
pub(super) fn recover(db: &Database, dir: &Path) -> Result<(Wal, WalPos)> {
    let from = {
        let txn = db.begin_read()?;
        let meta = txn.open_table(META)?;
        WalPos {
            generation: meta.get(WAL_GENERATION)?.map(|v| v.value()).unwrap_or(0),
            offset: meta.get(WAL_OFFSET)?.map(|v| v.value()).unwrap_or(0),
        }
    };
    let io = |e: std::io::Error| Error::Internal(format!("message log in {}: {e}", dir.display()));
    // A log of the earlier single-file layout: its generation is the one the
    // database names, and all of it is past the last checkpoint.
    let single = dir.join("natter.wal");
    let mut ops = wal::replay_single_file(&single, from.generation).map_err(io)?;
    ops.append(&mut wal::replay(dir, from).map_err(io)?);
    // The writer may have been one generation ahead of the checkpoint; the one
    // after that has never held a record.
    let start = WalPos {
        generation: from.generation + 2,
        offset: 0,
    };
    let count = ops.len();
    let txn = db.begin_write()?;
    write_ops(&txn, ops)?;
    record_position(&txn, start)?;
    txn.commit()?;
    if single.exists() {
        std::fs::remove_file(&single).map_err(io)?;
    }
    if count > 0 {
        tracing::info!(writes = count, "replayed the message log");
    }
    Ok((Wal::create(dir, start.generation).map_err(io)?, start))
}

fn write_ops(txn: &WriteTransaction, ops: Vec<Op>) -> Result<()> {
    if ops.is_empty() {
        return Ok(());
    }
    let mut messages = txn.open_table(MESSAGES)?;
    let mut ids = txn.open_table(CLIENT_IDS)?;
    for op in ops {
        match op {
            Op::Message {
                conversation,
                seq,
                value,
            } => {
                messages.insert((conversation, seq), value.as_slice())?;
            }
            Op::ClientId {
                conversation,
                sender,
                client_id,
                seq,
            } => {
                ids.insert((conversation, sender, client_id.as_str()), seq)?;
            }
        }
    }
    Ok(())
}

/// Makes `txn` a checkpoint up to `at`.
fn record_position(txn: &WriteTransaction, at: WalPos) -> Result<()> {
    let mut meta = txn.open_table(META)?;
    meta.insert(WAL_GENERATION, at.generation)?;
    meta.insert(WAL_OFFSET, at.offset)?;
    Ok(())
}

struct Applier<'a> {
    db: &'a Database,
    applied: watch::Sender<u64>,
    progress: &'a Progress,
    /// The end of the last record written.
    at: WalPos,
    /// Whether commits since the last checkpoint were not durable.
    dirty: bool,
    checkpointed: Instant,
    bytes: usize,
}

/// The applier thread: runs until the writer is gone, then checkpoints.
pub(super) fn applier(
    db: &Database,
    rx: mpsc::Receiver<Item>,
    applied: watch::Sender<u64>,
    progress: &Progress,
    start: WalPos,
) {
    let mut a = Applier {
        db,
        applied,
        progress,
        at: start,
        dirty: false,
        checkpointed: Instant::now(),
        bytes: 0,
    };
    loop {
        let wait = if a.dirty {
            CHECKPOINT_AGE.saturating_sub(a.checkpointed.elapsed())
        } else {
            Duration::from_secs(3600)
        };
        let first = match rx.recv_timeout(wait) {
            Ok(item) => item,
            Err(idle_or_closed) => {
                if a.dirty {
                    a.logged(Vec::new(), true);
                }
                if idle_or_closed == mpsc::RecvTimeoutError::Disconnected {
                    return;
                }
                continue;
            }
        };
        let mut items = vec![first];
        let until = Instant::now() + GATHER;
        // A write the writer waits for is not held back.
        while items.len() < MAX_ITEMS && matches!(items.last(), Some(Item::Logged { .. })) {
            let left = until.saturating_duration_since(Instant::now());
            match rx.recv_timeout(left) {
                Ok(item) => items.push(item),
                Err(_) => break,
            }
        }
        while items.len() < MAX_ITEMS {
            match rx.try_recv() {
                Ok(item) => items.push(item),
                Err(_) => break,
            }
        }
        // Runs of each kind, in order: records in one transaction, other
        // writes in one durable one.
        let (mut logged, mut jobs) = (Vec::new(), Vec::new());
        for item in items {
            match item {
                Item::Logged { ticket, ops, at } => {
                    a.jobs(std::mem::take(&mut jobs));
                    logged.push((ticket, ops, at));
                }
                Item::Job { run, done } => {
                    a.logged(std::mem::take(&mut logged), false);
                    jobs.push((run, done));
                }
            }
        }
        a.logged(logged, false);
        a.jobs(jobs);
    }
}

impl Applier<'_> {
    /// Writes log records in one transaction, durable if a checkpoint is due
    /// (or `force`d). A failure here would leave acknowledged messages out of
    /// the database while the relay goes on: the process stops instead, and
    /// the log brings them back at the next start.
    fn logged(&mut self, records: Vec<(u64, Vec<Op>, WalPos)>, force: bool) {
        if records.is_empty() && !force {
            return;
        }
        let ticket = records.last().map(|(t, _, _)| *t);
        if let Err(e) = self.write_logged(records, force) {
            tracing::error!(error = %e, "cannot write logged messages to the database");
            std::process::abort();
        }
        if let Some(t) = ticket {
            self.applied.send_replace(t);
        }
    }

    fn write_logged(&mut self, records: Vec<(u64, Vec<Op>, WalPos)>, force: bool) -> Result<()> {
        let mut txn = self.db.begin_write()?;
        for (_, ops, at) in records {
            self.bytes += ops.iter().map(wal::op_len).sum::<usize>();
            write_ops(&txn, ops)?;
            self.at = at;
        }
        if force || self.checkpointed.elapsed() >= CHECKPOINT_AGE || self.bytes >= CHECKPOINT_BYTES
        {
            return self.checkpoint(txn);
        }
        txn.set_durability(Durability::None)
            .map_err(|e| Error::Internal(e.to_string()))?;
        txn.commit()?;
        self.dirty = true;
        Ok(())
    }

    /// Runs other writes in one durable transaction (one fsync for all that
    /// were waiting), then answers them. A write that fails with a storage
    /// error aborts them all.
    fn jobs(&mut self, jobs: Vec<(WriteFn, Option<mpsc::SyncSender<()>>)>) {
        if jobs.is_empty() {
            return;
        }
        let (runs, dones): (Vec<_>, Vec<_>) = jobs.into_iter().unzip();
        match self.db.begin_write() {
            Ok(txn) => {
                let applied: Vec<_> = runs.into_iter().map(|run| run(&txn)).collect();
                let outcome = if applied.iter().any(|a| a.poisoned) {
                    let _ = txn.abort();
                    Some("batch aborted after a storage error".to_string())
                } else {
                    self.checkpoint(txn).err().map(|e| {
                        tracing::error!(error = %e, "commit failed");
                        e.to_string()
                    })
                };
                for a in applied {
                    (a.finish)(outcome.as_deref());
                }
            }
            // Dropping the jobs drops their reply channels: the callers get
            // "storage writer stopped" and nothing was written.
            Err(e) => tracing::error!(error = %e, "cannot begin write transaction"),
        }
        for done in dones.into_iter().flatten() {
            let _ = done.send(());
        }
    }

    /// Commits `txn` durably as a checkpoint up to the last record written.
    fn checkpoint(&mut self, txn: WriteTransaction) -> Result<()> {
        let started = Instant::now();
        record_position(&txn, self.at)?;
        txn.commit()?;
        tracing::debug!(
            ms = format!("{:.3}", started.elapsed().as_secs_f64() * 1000.0),
            "checkpoint"
        );
        self.checkpointed();
        Ok(())
    }

    fn checkpointed(&mut self) {
        self.dirty = false;
        self.bytes = 0;
        self.checkpointed = Instant::now();
        self.progress
            .durable_generation
            .store(self.at.generation, Ordering::Release);
    }
}
