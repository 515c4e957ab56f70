//! A TCP proxy on 127.0.0.1:0 between apps and the relay that counts the
//! bytes each way and cuts every connection through it once a count passes
//! a mark, as a dropped network does; new connections go through again.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

/// Which way bytes go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Way {
    /// From the apps to the relay.
    Up,
    /// From the relay to the apps.
    Down,
}

#[derive(Default)]
struct Counts {
    up: AtomicU64,
    down: AtomicU64,
    /// Cut when `up` reaches this (`u64::MAX`: never).
    cut_up: AtomicU64,
    cut_down: AtomicU64,
    cuts: AtomicU32,
}

/// The proxy; it stops when dropped.
pub struct Proxy {
    addr: SocketAddr,
    counts: Arc<Counts>,
    cut: watch::Sender<u32>,
    task: tokio::task::JoinHandle<()>,
}

impl Proxy {
    /// Starts a proxy to `relay` (`http://127.0.0.1:PORT`).
    pub async fn start(relay: &str) -> Proxy {
        let target: SocketAddr = relay
            .trim_start_matches("http://")
            .trim_end_matches('/')
            .parse()
            .unwrap();
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let counts = Arc::new(Counts::default());
        counts.cut_up.store(u64::MAX, Ordering::SeqCst);
        counts.cut_down.store(u64::MAX, Ordering::SeqCst);
        let (cut, _) = watch::channel(0u32);
        let task = tokio::spawn({
            let counts = counts.clone();
            let cut = cut.clone();
            async move {
                while let Ok((app, _)) = listener.accept().await {
                    let Ok(relay) = TcpStream::connect(target).await else {
                        continue;
                    };
                    tokio::spawn(pipe(app, relay, counts.clone(), cut.clone()));
                }
            }
        });
        Proxy {
            addr,
            counts,
            cut,
            task,
        }
    }

    /// The address apps use for the relay.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Bytes that went `way` so far.
    pub fn bytes(&self, way: Way) -> u64 {
        match way {
            Way::Up => self.counts.up.load(Ordering::SeqCst),
            Way::Down => self.counts.down.load(Ordering::SeqCst),
        }
    }

    /// Cuts every connection once `more` bytes more have gone `way`.
    pub fn cut_after(&self, way: Way, more: u64) {
        let mark = self.bytes(way) + more;
        match way {
            Way::Up => self.counts.cut_up.store(mark, Ordering::SeqCst),
            Way::Down => self.counts.cut_down.store(mark, Ordering::SeqCst),
        }
    }

    /// How many times the connections were cut.
    pub fn cuts(&self) -> u32 {
        self.counts.cuts.load(Ordering::SeqCst)
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.task.abort();
        let _ = self.cut.send(u32::MAX);
    }
}

/// Copies both ways until either side closes or the connections are cut.
async fn pipe(
    mut app: TcpStream,
    mut relay: TcpStream,
    counts: Arc<Counts>,
    cut: watch::Sender<u32>,
) {
    let mut cuts = cut.subscribe();
    let (mut up_buf, mut down_buf) = (vec![0u8; 16 * 1024], vec![0u8; 16 * 1024]);
    loop {
        let (n, way) = tokio::select! {
            r = app.read(&mut up_buf) => match r {
                Ok(n) if n > 0 => (n, Way::Up),
                _ => return,
            },
            r = relay.read(&mut down_buf) => match r {
                Ok(n) if n > 0 => (n, Way::Down),
                _ => return,
            },
            _ = cuts.changed() => return,
        };
        let (written, total, mark) = match way {
            Way::Up => (
                relay.write_all(&up_buf[..n]).await,
                counts.up.fetch_add(n as u64, Ordering::SeqCst) + n as u64,
                &counts.cut_up,
            ),
            Way::Down => (
                app.write_all(&down_buf[..n]).await,
                counts.down.fetch_add(n as u64, Ordering::SeqCst) + n as u64,
                &counts.cut_down,
            ),
        };
        if written.is_err() {
            return;
        }
        if total >= mark.load(Ordering::SeqCst) {
            mark.store(u64::MAX, Ordering::SeqCst);
            counts.cuts.fetch_add(1, Ordering::SeqCst);
            // Every connection, this one too: dropping the streams resets
            // them.
            cut.send_modify(|n| *n += 1);
            return;
        }
    }
}
