//! The writer thread: orders every write. Message appends are checked against
//! what it remembers and the database, gathered into one log record,
//! `fdatasync`ed and answered — the ack never waits for redb. Their writes then
//! go to the applier thread ([`super::apply`]), which writes them into redb
//! behind the log. Any other write is handed to the applier in order; a write
//! that may change conversations or members is waited for before the next
//! append is looked at.

use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use redb::{Database, ReadableDatabase, WriteTransaction};
use tokio::sync::{oneshot, watch};

use super::apply::Item;
use super::messages::{CACHE_MAX, ConvCache, Pending, ReadTables};
use super::wal::{AppendError, Op, Wal, op_len};
use crate::error::{Error, Result};

/// Most jobs looked at together.
const MAX_BATCH: usize = 512;
/// Gathered appends are logged once their writes reach this size, so a record
/// stays far below what the log reads back.
const MAX_RECORD_OPS: usize = 16 << 20;

type Finish = Box<dyn FnOnce(Option<&str>) + Send>;

/// What running a job left behind: how to answer it, whether its transaction
/// must be aborted, and the writes to log (for an append that succeeded).
pub(super) struct Applied {
    pub(super) finish: Finish,
    pub(super) poisoned: bool,
    ops: Vec<Op>,
}

pub(super) type WriteFn = Box<dyn FnOnce(&WriteTransaction) -> Applied + Send>;
type AppendFn = Box<dyn FnOnce(&ReadTables, &mut ConvCache, &Pending) -> Applied + Send>;

/// One write for the writer thread.
pub(super) enum Job {
    /// Any write, committed durably by the applier.
    Write(WriteFn),
    /// A durable write that touches no conversation, member or message (read
    /// cursors, account events): appends need not wait for it.
    Aside(WriteFn),
    /// A message append: made durable by the message log, so it may only write
    /// what it returns as [`Op`]s.
    Append(AppendFn),
}

/// Runs a job body, turning a panic into an internal error, and packs its
/// outcome.
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

/// Where the writer and the applier meet the readers.
pub(super) struct Progress {
    /// The last ticket logged and answered.
    pub logged: AtomicU64,
    /// The generation of the log position the last checkpoint covers.
    pub durable_generation: AtomicU64,
}

/// Log statistics, at debug level every few seconds.
#[derive(Default)]
struct Stats {
    records: u64,
    jobs: u64,
    log: Duration,
    slowest: Duration,
    since: Option<Instant>,
}

impl Stats {
    fn record(&mut self, jobs: usize, log: Duration) {
        let since = *self.since.get_or_insert_with(Instant::now);
        self.records += 1;
        self.jobs += jobs as u64;
        self.log += log;
        self.slowest = self.slowest.max(log);
        if since.elapsed() >= Duration::from_secs(1) {
            let r = self.records.max(1) as f64;
            tracing::debug!(
                records = self.records,
                appends_per_record = format!("{:.1}", self.jobs as f64 / r),
                log_ms = format!("{:.3}", self.log.as_secs_f64() * 1000.0 / r),
                slowest_ms = format!("{:.3}", self.slowest.as_secs_f64() * 1000.0),
                "message log"
            );
            *self = Stats::default();
        }
    }
}

/// The writer's state between jobs.
struct Writer<'a> {
    db: &'a Database,
    wal: Wal,
    cache: ConvCache,
    pending: Pending,
    tables: Option<ReadTables>,
    applier: mpsc::SyncSender<Item>,
    applied: watch::Receiver<u64>,
    progress: &'a Progress,
    /// Appends gathered for the next record: answers and writes.
    finishes: Vec<Finish>,
    ops: Vec<Op>,
    op_bytes: usize,
    stats: Stats,
}

/// The writer thread: runs until every handle is gone, then lets the applier
/// finish.
pub(super) fn writer(
    db: &Database,
    wal: Wal,
    rx: mpsc::Receiver<Job>,
    applier: mpsc::SyncSender<Item>,
    applied: watch::Receiver<u64>,
    progress: &Progress,
) {
    let mut w = Writer {
        db,
        wal,
        cache: ConvCache::default(),
        pending: Pending::default(),
        tables: None,
        applier,
        applied,
        progress,
        finishes: Vec::new(),
        ops: Vec::new(),
        op_bytes: 0,
        stats: Stats::default(),
    };
    w.pending.ticket = progress.logged.load(Ordering::Acquire) + 1;
    while let Ok(first) = rx.recv() {
        let mut jobs = vec![first];
        while jobs.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(job) => jobs.push(job),
                Err(_) => break,
            }
        }
        if w.run(jobs).is_err() {
            tracing::error!("the storage applier stopped; writes are refused");
            return;
        }
    }
}

/// The applier is gone.
struct Stopped;

impl Writer<'_> {
    fn run(&mut self, jobs: Vec<Job>) -> std::result::Result<(), Stopped> {
        // What the applier has written is in any snapshot taken from now on.
        let applied = *self.applied.borrow();
        self.pending.forget(applied);
        if self.cache.len() >= CACHE_MAX {
            self.start_over()?;
        }
        for job in jobs {
            match job {
                Job::Append(run) => self.append(run)?,
                // It may change conversations or members: wait for it, then
                // forget what they were.
                Job::Write(run) => {
                    self.hand_over(run, true)?;
                    self.start_over()?;
                }
                Job::Aside(run) => self.hand_over(run, false)?,
            }
        }
        self.log()?;
        self.tables = None;
        Ok(())
    }

    /// Runs an append against a snapshot taken once per batch and gathers its
    /// writes for the next record.
    fn append(&mut self, run: AppendFn) -> std::result::Result<(), Stopped> {
        let tables = match self.tables.take() {
            Some(t) => t,
            None => match self
                .db
                .begin_read()
                .map_err(Error::from)
                .and_then(|txn| ReadTables::open(&txn))
            {
                Ok(t) => t,
                Err(e) => {
                    // Dropping the job answers "storage writer stopped".
                    tracing::error!(error = %e, "cannot read the message tables");
                    return Ok(());
                }
            },
        };
        let mut applied = run(&tables, &mut self.cache, &self.pending);
        self.tables = Some(tables);
        self.pending.note(&applied.ops);
        self.op_bytes += applied.ops.iter().map(op_len).sum::<usize>();
        self.ops.append(&mut applied.ops);
        self.finishes.push(applied.finish);
        if self.op_bytes >= MAX_RECORD_OPS {
            self.log()?;
        }
        Ok(())
    }

    /// Logs what was gathered, then hands any other write to the applier, in
    /// order; with `wait`, returns once it is committed or refused.
    fn hand_over(&mut self, run: WriteFn, wait: bool) -> std::result::Result<(), Stopped> {
        self.log()?;
        let (done, committed) = mpsc::sync_channel(1);
        let done = wait.then_some(done);
        self.applier
            .send(Item::Job { run, done })
            .map_err(|_| Stopped)?;
        if wait {
            committed.recv().map_err(|_| Stopped)?;
        }
        Ok(())
    }

    /// Logs the gathered appends as one record, answers them and hands their
    /// writes to the applier.
    fn log(&mut self) -> std::result::Result<(), Stopped> {
        let finishes = std::mem::take(&mut self.finishes);
        if finishes.is_empty() {
            return Ok(());
        }
        let ops = std::mem::take(&mut self.ops);
        self.op_bytes = 0;
        if ops.is_empty() {
            // Every append was refused or a resend: nothing to make durable.
            for finish in finishes {
                finish(None);
            }
            return Ok(());
        }
        let started = Instant::now();
        let may_rotate =
            self.progress.durable_generation.load(Ordering::Acquire) >= self.wal.generation();
        let ticket = self.pending.ticket;
        self.pending.ticket += 1;
        let at = match self.wal.append(&ops, may_rotate) {
            Ok(at) => at,
            Err(AppendError::Unknown(e)) => {
                // The record may be on disk or not, and the relay cannot tell:
                // going on could give its seqs out again. Stop; at the next
                // start the log is replayed, and if this record is there its
                // senders' resends are recognised by their client ids.
                tracing::error!(error = %e, "message log write failed; stopping");
                std::process::abort();
            }
            Err(AppendError::NotWritten(e)) => {
                tracing::error!(error = %e, "message log write failed");
                // The seqs given out in this record are void.
                self.start_over()?;
                let why = format!("message log: {e}");
                for finish in finishes {
                    finish(Some(&why));
                }
                return Ok(());
            }
        };
        self.progress.logged.store(ticket, Ordering::Release);
        self.stats.record(finishes.len(), started.elapsed());
        for finish in finishes {
            finish(None);
        }
        self.applier
            .send(Item::Logged { ticket, ops, at })
            .map_err(|_| Stopped)
    }

    /// Forgets every conversation and pending write, once the applier has
    /// written everything logged.
    fn start_over(&mut self) -> std::result::Result<(), Stopped> {
        let logged = self.progress.logged.load(Ordering::Acquire);
        // Rare (after a conversation-changing write or a failed record), and
        // the applier is usually there already.
        while *self.applied.borrow_and_update() < logged {
            if self.applied.has_changed().is_err() {
                return Err(Stopped);
            }
            std::thread::sleep(Duration::from_micros(200));
        }
        self.pending.clear();
        self.cache.clear();
        self.tables = None;
        Ok(())
    }
}
