//! A child process of the idle-memory mode: opens its share of idle
//! connections, says `ready OPENED FAILED [first error]`, keeps them open
//! (answering pings) until its standard input closes, then says `alive N`
//! and exits, which closes them all.

use std::io::{BufRead, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use mio::{Events, Poll};

use super::common::read_messages;
use crate::cli::Args;
use crate::client::open::{open_all, OpenSpec};
use crate::client::socket::Sources;
use crate::target::Target;

pub fn main(a: &Args) -> Result<(), String> {
    let ca = a.text("ca");
    let target = Target::parse(&a.required("url")?, ca.as_deref().map(std::path::Path::new))?;
    let count: usize = a.get("count", 1000)?;
    let offset: u64 = a.get("offset", 0)?;
    let spread: u32 = a.get("sources", 250)?;
    let hold = super::common::seconds(a.get("hold", 120.0)?)?;
    a.finish()?;
    crate::sys::raise_nofile().map_err(|e| format!("cannot raise the open-file limit: {e}"))?;

    let stop = Arc::new(AtomicBool::new(false));
    let flag = stop.clone();
    std::thread::spawn(move || {
        // Any line or the end of input means: close and exit.
        let mut line = String::new();
        let _ = std::io::stdin().lock().read_line(&mut line);
        flag.store(true, Ordering::Relaxed);
    });

    let mut poll = Poll::new().map_err(|e| format!("epoll: {e}"))?;
    let opened = open_all(
        &mut poll,
        &OpenSpec {
            target: &target,
            count,
            concurrency: 256,
            sources: Sources { spread, offset },
            chunk: 512,
            max_message: 4096,
            deadline: Instant::now() + Duration::from_secs(90),
            seed: offset.wrapping_mul(0x1_0000) + 7,
        },
    );
    let mut conns = opened.conns;
    let error = opened.first_error.unwrap_or_default().replace('\n', " ");
    say(&format!("ready {} {} {error}", conns.len(), opened.failed))?;

    let mut alive = vec![true; conns.len()];
    let mut events = Events::with_capacity(1024);
    let deadline = Instant::now() + hold;
    while !stop.load(Ordering::Relaxed) && Instant::now() < deadline {
        if poll
            .poll(&mut events, Some(Duration::from_millis(100)))
            .is_err()
        {
            continue;
        }
        for event in events.iter() {
            let i = event.token().0;
            let Some(conn) = conns.get_mut(i) else {
                continue;
            };
            if !alive[i] {
                continue;
            }
            // Idle connections only ever get pings (answered inside) or a close.
            let ok =
                read_messages(conn, |_, _| Ok(())).is_ok() && !conn.eof && !conn.close_received;
            if !ok || conn.flush().is_err() {
                alive[i] = false;
            }
        }
    }
    say(&format!("alive {}", alive.iter().filter(|&&a| a).count()))
}

fn say(line: &str) -> Result<(), String> {
    let mut out = std::io::stdout().lock();
    writeln!(out, "{line}")
        .and_then(|()| out.flush())
        .map_err(|e| format!("stdout: {e}"))
}
