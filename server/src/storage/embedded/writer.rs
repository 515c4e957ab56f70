//! The writer thread: groups waiting jobs into one transaction, makes it
//! durable — through the message log for a batch of message appends, with a
//! full durable commit (a checkpoint) otherwise — and then answers every job.

use std::panic::AssertUnwindSafe;
use std::path::Path;
use std::sync::mpsc;

use redb::{Database, Durability, ReadableDatabase, WriteTransaction};
use tokio::sync::oneshot;

use super::messages::{AppendTables, ConvCache};
use super::tables::*;
use super::wal::{Op, Wal};
use crate::error::{Error, Result};

/// Most jobs committed together.
const MAX_BATCH: usize = 512;

type Finish = Box<dyn FnOnce(Option<&str>) + Send>;

/// What applying a job left behind: how to answer it, whether the batch must be
/// aborted, and the writes to log (for a logged job that succeeded).
pub(super) struct Applied {
    finish: Finish,
    poisoned: bool,
    ops: Vec<Op>,
}

pub(super) type WriteFn = Box<dyn FnOnce(&WriteTransaction) -> Applied + Send>;
type AppendFn = Box<dyn FnOnce(&mut AppendTables<'_>, &mut ConvCache) -> Applied + Send>;

/// One write for the writer thread.
pub(super) enum Job {
    /// Any write, committed durably.
    Write(WriteFn),
    /// A durable write that touches no conversation, member or message (read
    /// cursors, account events): the writer's conversation cache stays.
    Aside(WriteFn),
    /// A message append: made durable by the message log, so it may only write
    /// what it returns as [`Op`]s.
    Append(AppendFn),
}

/// Runs a job body, turning a panic into an internal error, and packs its
/// outcome for the writer.
pub(super) fn apply<T: Send + 'static>(
    tx: oneshot::Sender<Result<T>>,
    body: impl FnOnce(&mut Vec<Op>) -> Result<T>,
) -> Applied {
    let mut ops = Vec::new();
    let res = std::panic::catch_unwind(AssertUnwindSafe(|| body(&mut ops)))
        .unwrap_or_else(|_| Err(Error::Internal("write job panicked".into())));
    let poisoned = matches!(res, Err(Error::Internal(_)));
    if res.is_err() {
        ops.clear();
    }
    let finish: Finish = Box::new(move |commit_err| {
        let out = match (res, commit_err) {
            (Err(e), _) => Err(e),
            (Ok(_), Some(e)) => Err(Error::Internal(format!("commit: {e}"))),
            (Ok(v), None) => Ok(v),
        };
        // The caller may have gone away (connection closed); the write stands.
        let _ = tx.send(out);
    });
    Applied {
        finish,
        poisoned,
        ops,
    }
}

/// Commit statistics, logged at debug level every few seconds.
#[derive(Default)]
struct WriterStats {
    batches: u64,
    jobs: u64,
    busy: std::time::Duration,
    commit: std::time::Duration,
    since: Option<std::time::Instant>,
}

impl WriterStats {
    fn record(&mut self, jobs: usize, busy: std::time::Duration, commit: std::time::Duration) {
        let since = *self.since.get_or_insert_with(std::time::Instant::now);
        self.batches += 1;
        self.jobs += jobs as u64;
        self.busy += busy;
        self.commit += commit;
        if since.elapsed() >= std::time::Duration::from_secs(1) {
            let b = self.batches.max(1) as f64;
            tracing::debug!(
                batches = self.batches,
                jobs_per_batch = format!("{:.1}", self.jobs as f64 / b),
                apply_ms = format!("{:.3}", self.busy.as_secs_f64() * 1000.0 / b),
                commit_ms = format!("{:.3}", self.commit.as_secs_f64() * 1000.0 / b),
                "group commit"
            );
            *self = WriterStats::default();
        }
    }
}

/// `"wal_generation"` in `META`: the generation of the message log whose
/// records are not yet in a durable commit.
const WAL_GENERATION: &str = "wal_generation";

/// Opens the message log and replays what it holds into the database, then
/// checkpoints so the log starts empty.
pub(super) fn recover(db: &Database, path: &Path) -> Result<Wal> {
    let generation = {
        let txn = db.begin_read()?;
        let meta = txn.open_table(META)?;
        meta.get(WAL_GENERATION)?.map(|v| v.value()).unwrap_or(0)
    };
    let (mut wal, ops) = Wal::open(path, generation)
        .map_err(|e| Error::Internal(format!("open {}: {e}", path.display())))?;
    if wal.is_empty() {
        return Ok(wal);
    }
    let count = ops.len();
    let txn = db.begin_write()?;
    {
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
    }
    checkpoint(&txn, &wal)?;
    txn.commit()?;
    wal.reset(generation + 1);
    tracing::info!(writes = count, "replayed the message log");
    Ok(wal)
}

/// Makes `txn` a checkpoint: once it is committed durably, the log's records
/// are redundant and the log starts over under the next generation.
fn checkpoint(txn: &WriteTransaction, wal: &Wal) -> Result<()> {
    txn.open_table(META)?
        .insert(WAL_GENERATION, wal.generation() + 1)?;
    Ok(())
}

/// How long the writer waits for work before checkpointing a non-empty log.
const IDLE_CHECKPOINT: std::time::Duration = std::time::Duration::from_secs(2);

pub(super) fn writer(db: &Database, mut wal: Wal, rx: mpsc::Receiver<Job>) {
    let mut stats = WriterStats::default();
    let mut cache = ConvCache::default();
    loop {
        let first = match rx.recv_timeout(IDLE_CHECKPOINT) {
            Ok(job) => job,
            Err(idle_or_closed) => {
                // Idle, or every handle is gone: leave nothing only in the log.
                if !wal.is_empty() {
                    commit_batch(db, &mut wal, &mut cache, Vec::new(), &mut stats);
                }
                if idle_or_closed == mpsc::RecvTimeoutError::Disconnected {
                    return;
                }
                continue;
            }
        };
        let mut jobs = vec![first];
        while jobs.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(job) => jobs.push(job),
                Err(_) => break,
            }
        }
        commit_batch(db, &mut wal, &mut cache, jobs, &mut stats);
    }
}

/// Applies `jobs` in one transaction and commits it: through the log when
/// every job is logged and no checkpoint is due, durably (a checkpoint)
/// otherwise. An empty batch is a checkpoint.
fn commit_batch(
    db: &Database,
    wal: &mut Wal,
    cache: &mut ConvCache,
    jobs: Vec<Job>,
    stats: &mut WriterStats,
) {
    let txn = match db.begin_write() {
        Ok(txn) => txn,
        Err(e) => {
            // Dropping the jobs drops their reply channels: every caller gets
            // "storage writer stopped" and nothing was written.
            tracing::error!(error = %e, "cannot begin write transaction");
            return;
        }
    };
    let logged = !jobs.is_empty()
        && jobs.iter().all(|j| matches!(j, Job::Append(_)))
        && !wal.checkpoint_due();
    let started = std::time::Instant::now();
    let count = jobs.len();
    let mut finishes = Vec::with_capacity(jobs.len());
    let mut ops = Vec::new();
    let mut poisoned = false;
    // Appends share the tables they use, opened once for a run of them.
    let mut tables: Option<AppendTables<'_>> = None;
    for job in jobs {
        let mut applied = match job {
            Job::Write(run) => {
                // Any other write may change conversations or members.
                tables = None;
                cache.clear();
                run(&txn)
            }
            Job::Aside(run) => {
                tables = None;
                run(&txn)
            }
            Job::Append(run) => {
                if tables.is_none() {
                    match AppendTables::open(&txn) {
                        Ok(t) => tables = Some(t),
                        Err(e) => {
                            tracing::error!(error = %e, "cannot open message tables");
                            poisoned = true;
                            drop(run);
                            continue;
                        }
                    }
                }
                match tables.as_mut() {
                    Some(t) => run(t, cache),
                    None => continue,
                }
            }
        };
        poisoned |= applied.poisoned;
        ops.append(&mut applied.ops);
        finishes.push(applied.finish);
    }
    drop(tables);
    let applied = started.elapsed();
    let outcome = if poisoned {
        let _ = txn.abort();
        Some("batch aborted after a storage error".to_string())
    } else if logged {
        commit_logged(txn, wal, &ops)
    } else {
        let res = checkpoint(&txn, wal)
            .map_err(|e| e.to_string())
            .and_then(|()| txn.commit().map_err(|e| e.to_string()));
        match res {
            Ok(()) => {
                if !wal.is_empty() {
                    tracing::debug!(
                        jobs = count,
                        ms = format!(
                            "{:.3}",
                            (started.elapsed() - applied).as_secs_f64() * 1000.0
                        ),
                        "checkpoint"
                    );
                }
                wal.reset(wal.generation() + 1);
                None
            }
            Err(e) => {
                tracing::error!(error = %e, "commit failed");
                Some(e)
            }
        }
    };
    if outcome.is_some() {
        // Nothing of this batch stands: forget what it taught the cache.
        cache.clear();
    }
    stats.record(count, applied, started.elapsed() - applied);
    for finish in finishes {
        finish(outcome.as_deref());
    }
}

/// Logs `ops`, then commits `txn` without an fsync. The writes become visible
/// to readers only once they are durable in the log.
fn commit_logged(mut txn: WriteTransaction, wal: &mut Wal, ops: &[Op]) -> Option<String> {
    if ops.is_empty() {
        // Nothing written (every job was refused): nothing to make durable.
        let _ = txn.abort();
        return None;
    }
    if let Err(e) = txn.set_durability(Durability::None) {
        let _ = txn.abort();
        return Some(e.to_string());
    }
    if let Err(e) = wal.append(ops) {
        tracing::error!(error = %e, "message log write failed");
        let _ = txn.abort();
        return Some(format!("message log: {e}"));
    }
    match txn.commit() {
        Ok(()) => None,
        Err(e) => {
            tracing::error!(error = %e, "commit failed");
            if let Err(e) = wal.undo_last() {
                // The record stays and would be replayed while the relay goes
                // on without it: stop writing rather than risk that.
                tracing::error!(error = %e, "cannot take back a message log record");
                std::process::abort();
            }
            Some(e.to_string())
        }
    }
}
