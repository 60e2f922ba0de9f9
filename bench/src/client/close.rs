//! Ends a run politely: a close frame on every connection, then a bounded wait
//! for the servers' answers before the sockets are dropped.

use std::time::{Duration, Instant};

use mio::{Events, Poll};

use super::conn::Conn;

pub fn close_all(poll: &mut Poll, conns: &mut [Conn], within: Duration) {
    let mut waiting = 0usize;
    for c in conns.iter_mut() {
        if c.eof || c.close_received {
            continue;
        }
        c.send_close(1000);
        if c.flush().is_ok() {
            waiting += 1;
        } else {
            c.eof = true;
        }
    }
    let deadline = Instant::now() + within;
    let mut events = Events::with_capacity(1024);
    while waiting > 0 {
        let now = Instant::now();
        if now >= deadline {
            break;
        }
        if poll.poll(&mut events, Some(deadline - now)).is_err() {
            continue;
        }
        for event in events.iter() {
            let Some(c) = conns.get_mut(event.token().0) else {
                continue;
            };
            if c.eof || c.close_received {
                continue;
            }
            let _ = c.flush();
            let mut done = false;
            for _ in 0..64 {
                match c.read_some() {
                    Ok(drained) => {
                        // Skip whatever is still in flight up to the close frame.
                        while let Ok(Some(m)) = c.next_message() {
                            done |= m.opcode == super::frame::OP_CLOSE;
                        }
                        if drained {
                            break;
                        }
                    }
                    Err(_) => {
                        c.eof = true;
                        break;
                    }
                }
            }
            if done || c.eof {
                c.close_received = true;
                waiting -= 1;
            }
        }
    }
}
