//! The process's control connections, one per address and secret, kept across
//! PHP-FPM requests (like pconnect): a worker process connects once, and every
//! `Switchboard\Client` it makes later reuses that connection.

use std::collections::HashMap;
use std::sync::{LazyLock, Mutex};
use std::time::Duration;

use switchboard::control::client::{Client, ClientError, ClientOptions};

/// What a pooled connection is for.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Key {
    pub address: String,
    pub secret: Option<String>,
}

struct Pooled {
    /// The process that connected: a child made by `pcntl_fork()` must not
    /// write into its parent's connection.
    pid: u32,
    client: Client,
}

static POOL: LazyLock<Mutex<HashMap<Key, Pooled>>> = LazyLock::new(Default::default);

fn lock() -> std::sync::MutexGuard<'static, HashMap<Key, Pooled>> {
    POOL.lock().unwrap_or_else(|p| p.into_inner())
}

fn new_client(key: &Key) -> Result<Client, ClientError> {
    let options = ClientOptions {
        secret: key.secret.clone(),
        ..ClientOptions::default()
    };
    Client::new(&key.address, options)
}

/// Checks the address (a client of a malformed one is refused at once).
pub fn check(key: &Key) -> Result<(), ClientError> {
    new_client(key).map(drop)
}

/// Runs `call` on the pooled client of `key` (made if missing), then keeps it.
/// The client is taken out of the pool during the call, so the lock is not held
/// while waiting for the server.
pub fn with<T>(
    key: &Key,
    connect: Duration,
    io: Duration,
    call: impl FnOnce(&mut Client) -> Result<T, ClientError>,
) -> Result<T, ClientError> {
    let pid = std::process::id();
    let pooled = lock().remove(key).filter(|p| p.pid == pid);
    let mut client = match pooled {
        Some(p) => p.client,
        None => new_client(key)?,
    };
    client.set_timeouts(connect, io);
    let result = call(&mut client);
    lock().insert(key.clone(), Pooled { pid, client });
    result
}

/// Closes the pooled connection of `key`, if any.
pub fn forget(key: &Key) {
    lock().remove(key);
}
