//! Throttles on the account endpoints: failed sign-ins per account and per
//! source address, and registrations per source address.
//!
//! A few failed sign-ins are free; after that every further failure doubles the
//! wait before the next attempt is even checked, up to a cap. While an account
//! or an address is waiting, `POST /v1/auth/login` answers `429 rate_limited`
//! with the wait, without looking at the password (so guessing costs the
//! attacker time and the relay no Argon2 work). A successful sign-in clears the
//! account's count. Registrations are a token bucket per address.
//!
//! In a cluster every node tells the others over the bus what it counted
//! ([`Counted`]: a failed or successful sign-in, a registration), and each
//! applies it to its own tables, so an attacker spreading guesses over the
//! nodes is counted as on one relay. While the bus is down a node counts
//! only what it sees itself. IPv6 addresses count per /64, the block one
//! subscriber usually holds.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;

use serde::{Deserialize, Serialize};

use crate::util::now_ms;

/// The throttles' settings (`[throttle]` in the config file).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ThrottleConfig {
    /// Failed sign-ins to one account before it has to wait.
    pub login_free_failures: u32,
    /// Failed sign-ins from one address (any accounts) before it has to wait.
    pub address_free_failures: u32,
    /// The first wait, milliseconds; each further failure doubles it.
    pub login_backoff_ms: u64,
    /// The longest wait, seconds.
    pub login_backoff_max_secs: u64,
    /// Accounts one address may create per hour; 0 for no limit.
    pub registrations_per_hour: u32,
    /// Proxies (haproxy, nginx) whose `X-Forwarded-For` names the client: for
    /// connections from these addresses the throttles count the last address
    /// in that header instead.
    pub trusted_proxies: Vec<IpAddr>,
}

impl Default for ThrottleConfig {
    fn default() -> Self {
        ThrottleConfig {
            login_free_failures: 5,
            address_free_failures: 20,
            login_backoff_ms: 1_000,
            login_backoff_max_secs: 15 * 60,
            registrations_per_hour: 20,
            trusted_proxies: Vec::new(),
        }
    }
}

/// Most keys kept in one table; beyond it, entries whose wait is over are
/// dropped first (a flood of addresses cannot grow memory without bound).
const MAX_ENTRIES: usize = 100_000;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Key {
    Account(String),
    Address(IpAddr),
}

#[derive(Debug, Clone, Copy)]
struct Failures {
    count: u32,
    /// No attempt is checked before this time, ms.
    until: i64,
    /// The last failure, ms; an entry quiet for the longest wait is forgotten.
    last: i64,
}

/// What one node counted, for the others to count too (cluster mode).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Counted {
    /// A sign-in to `account` from `address` failed.
    LoginFailed {
        /// The account name tried.
        account: String,
        /// Where the attempt came from, if known.
        address: Option<IpAddr>,
    },
    /// `account` signed in.
    LoginSucceeded {
        /// The account that signed in.
        account: String,
    },
    /// An account was created from `address`.
    Registered {
        /// Where the registration came from, if known.
        address: Option<IpAddr>,
    },
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    at: i64,
}

/// The relay's throttles.
#[derive(Debug)]
pub struct Throttle {
    config: ThrottleConfig,
    failures: Mutex<HashMap<Key, Failures>>,
    registrations: Mutex<HashMap<IpAddr, Bucket>>,
}

/// The source of a request: the connection's address, or the client a trusted
/// proxy names.
pub fn client_address(
    config: &ThrottleConfig,
    peer: Option<IpAddr>,
    forwarded_for: Option<&str>,
) -> Option<IpAddr> {
    let peer = peer?;
    if config.trusted_proxies.contains(&peer)
        && let Some(last) = forwarded_for.and_then(|h| h.rsplit(',').next())
        && let Ok(ip) = last.trim().parse::<IpAddr>()
    {
        return Some(ip);
    }
    Some(peer)
}

/// The block an address counts in: IPv4 as is, IPv6 per /64.
fn block(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let s = v6.segments();
                IpAddr::V6(std::net::Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
            }
        },
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // The tables hold counters only; a panic elsewhere leaves them usable.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Throttle {
    /// Throttles with these settings.
    pub fn new(config: ThrottleConfig) -> Throttle {
        Throttle {
            config,
            failures: Mutex::new(HashMap::new()),
            registrations: Mutex::new(HashMap::new()),
        }
    }

    /// The settings.
    pub fn config(&self) -> &ThrottleConfig {
        &self.config
    }

    fn max_wait_ms(&self) -> i64 {
        (self.config.login_backoff_max_secs as i64).saturating_mul(1000)
    }

    fn keys(account: &str, address: Option<IpAddr>) -> Vec<Key> {
        let mut keys = vec![Key::Account(account.to_string())];
        keys.extend(address.map(|a| Key::Address(block(a))));
        keys
    }

    /// Milliseconds a sign-in to `account` from `address` must wait, if any.
    pub fn login_wait(&self, account: &str, address: Option<IpAddr>) -> Option<u64> {
        let now = now_ms();
        let table = lock(&self.failures);
        Self::keys(account, address)
            .iter()
            .filter_map(|k| table.get(k))
            .map(|f| f.until - now)
            .filter(|w| *w > 0)
            .max()
            .map(|w| w as u64)
    }

    /// Counts a failed sign-in.
    pub fn login_failed(&self, account: &str, address: Option<IpAddr>) {
        let now = now_ms();
        let max_wait = self.max_wait_ms();
        let mut table = lock(&self.failures);
        if table.len() >= MAX_ENTRIES {
            table.retain(|_, f| f.until > now);
        }
        for key in Self::keys(account, address) {
            let free = match key {
                Key::Account(_) => self.config.login_free_failures,
                Key::Address(_) => self.config.address_free_failures,
            };
            let entry = table.entry(key).or_insert(Failures {
                count: 0,
                until: 0,
                last: now,
            });
            if now - entry.last > max_wait {
                entry.count = 0;
            }
            entry.count = entry.count.saturating_add(1);
            entry.last = now;
            if entry.count >= free {
                let doublings = (entry.count - free).min(30);
                let wait = (self.config.login_backoff_ms as i64)
                    .saturating_mul(1 << doublings)
                    .min(max_wait);
                entry.until = now + wait;
            }
        }
    }

    /// Clears an account's failures after it signed in. The address keeps its
    /// count: one good password does not excuse guesses at other accounts.
    pub fn login_succeeded(&self, account: &str) {
        lock(&self.failures).remove(&Key::Account(account.to_string()));
    }

    /// Counts what another node counted.
    pub fn apply(&self, counted: &Counted) {
        match counted {
            Counted::LoginFailed { account, address } => self.login_failed(account, *address),
            Counted::LoginSucceeded { account } => self.login_succeeded(account),
            Counted::Registered { address } => {
                // Taken even if this node's allowance is already used up.
                let _ = self.register(*address);
            }
        }
    }

    /// Takes one registration from `address`'s allowance; `Err` with the
    /// milliseconds until the next one if it is used up.
    pub fn register(&self, address: Option<IpAddr>) -> Result<(), u64> {
        let per_hour = self.config.registrations_per_hour;
        let Some(address) = address.filter(|_| per_hour > 0) else {
            return Ok(());
        };
        let now = now_ms();
        let rate = f64::from(per_hour) / 3_600_000.0; // tokens per ms
        let capacity = f64::from(per_hour);
        let mut table = lock(&self.registrations);
        if table.len() >= MAX_ENTRIES {
            table.retain(|_, b| b.tokens + (now - b.at) as f64 * rate < capacity);
        }
        let bucket = table.entry(block(address)).or_insert(Bucket {
            tokens: capacity,
            at: now,
        });
        bucket.tokens = (bucket.tokens + (now - bucket.at) as f64 * rate).min(capacity);
        bucket.at = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            Ok(())
        } else {
            Err(((1.0 - bucket.tokens) / rate).ceil() as u64)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().expect("address")
    }

    #[test]
    fn failures_past_the_free_ones_wait_twice_as_long_each_time() {
        let t = Throttle::new(ThrottleConfig {
            login_free_failures: 3,
            login_backoff_ms: 10_000,
            ..Default::default()
        });
        let a = Some(ip("192.0.2.1"));
        for _ in 0..2 {
            t.login_failed("li", a);
            assert_eq!(t.login_wait("li", a), None);
        }
        t.login_failed("li", a);
        let first = t.login_wait("li", a).expect("waits after the third");
        assert!((9_000..=10_000).contains(&first), "{first}");
        t.login_failed("li", a);
        let second = t.login_wait("li", a).expect("waits");
        assert!((19_000..=20_000).contains(&second), "{second}");
        // Another account from another address is not held up.
        assert_eq!(t.login_wait("wang", Some(ip("192.0.2.2"))), None);
        t.login_succeeded("li");
        assert_eq!(t.login_wait("li", Some(ip("192.0.2.3"))), None);
    }

    #[test]
    fn an_address_guessing_many_accounts_waits_and_the_wait_is_capped() {
        let t = Throttle::new(ThrottleConfig {
            address_free_failures: 4,
            login_backoff_ms: 1_000,
            login_backoff_max_secs: 5,
            ..Default::default()
        });
        let a = Some(ip("2001:db8:1:2::7"));
        for i in 0..40 {
            t.login_failed(&format!("user{i}"), a);
        }
        // The same /64, another host in it.
        let wait = t
            .login_wait("someone-else", Some(ip("2001:db8:1:2::99")))
            .expect("the block waits");
        assert!(wait <= 5_000 && wait > 4_000, "{wait}");
        assert_eq!(
            t.login_wait("someone-else", Some(ip("2001:db8:1:3::1"))),
            None
        );
    }

    #[test]
    fn registrations_are_counted_per_address() {
        let t = Throttle::new(ThrottleConfig {
            registrations_per_hour: 2,
            ..Default::default()
        });
        let a = Some(ip("198.51.100.4"));
        assert!(t.register(a).is_ok());
        assert!(t.register(a).is_ok());
        let wait = t.register(a).expect_err("third within the hour");
        assert!(wait > 1_700_000 && wait <= 1_800_001, "{wait}");
        assert!(t.register(Some(ip("198.51.100.5"))).is_ok());
        let off = Throttle::new(ThrottleConfig {
            registrations_per_hour: 0,
            ..Default::default()
        });
        for _ in 0..100 {
            assert!(off.register(a).is_ok());
        }
    }

    #[test]
    fn only_a_trusted_proxy_may_name_the_client() {
        let config = ThrottleConfig {
            trusted_proxies: vec![ip("127.0.0.1")],
            ..Default::default()
        };
        let proxy = Some(ip("127.0.0.1"));
        assert_eq!(
            client_address(&config, proxy, Some("203.0.113.9, 198.51.100.1")),
            Some(ip("198.51.100.1"))
        );
        assert_eq!(client_address(&config, proxy, Some("junk")), proxy);
        let stranger = Some(ip("192.0.2.50"));
        assert_eq!(
            client_address(&config, stranger, Some("198.51.100.1")),
            stranger
        );
    }
}
