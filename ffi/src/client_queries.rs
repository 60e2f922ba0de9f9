//! The questions an `sb_client` asks: a user's connections and the server's counters.

use std::os::raw::c_char;

use crate::args::{out, string, too_small};
use crate::client::{sb_client, with_client};
use crate::event::sb_conn_id;
use crate::failure::Failure;
use crate::result::sb_result;
use crate::stats::sb_stats;

/// The open connections bound to `user`, as `sb_server_user_connections` gives them: their
/// ids to `ids` (room for `capacity`) and their number to `*count_out`. When `capacity` is
/// too small, nothing is written to `ids`, the number needed goes to `*count_out` and the
/// result is `SB_ERR_BUFFER_TOO_SMALL` (ask again with more room: each call asks the server).
/// `ids` may be NULL when `capacity` is 0.
///
/// # Safety
/// `client` is NULL or a live client; `user` is NULL or a NUL-terminated string; `ids` is
/// NULL or has room for `capacity` ids; `count_out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn sb_client_user_connections(
    client: *const sb_client,
    user: *const c_char,
    ids: *mut sb_conn_id,
    capacity: usize,
    count_out: *mut usize,
) -> sb_result {
    // SAFETY: the caller's promises.
    unsafe {
        with_client(client, |c| {
            let (user, count) = (string(user, "user")?, out(count_out, "count_out")?);
            if ids.is_null() && capacity > 0 {
                return Err(Failure::null("ids"));
            }
            let found = c.user_connections(user)?;
            if found.len() > capacity {
                count.set(found.len());
                return Err(too_small("ids", capacity, found.len()));
            }
            for (i, id) in found.iter().enumerate() {
                // SAFETY: i < found.len() <= capacity, the room the caller promised.
                ids.add(i).write(*id);
            }
            count.set(found.len());
            Ok(())
        })
    }
}

/// The server's counters in `*stats_out`, the same `sb_stats` that `sb_server_stats` fills.
/// A counter the server does not report stays 0.
///
/// # Safety
/// `client` is NULL or a live client; `stats_out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn sb_client_stats(
    client: *const sb_client,
    stats_out: *mut sb_stats,
) -> sb_result {
    // SAFETY: the caller's promises.
    unsafe {
        with_client(client, |c| {
            let slot = out(stats_out, "stats_out")?;
            let mut stats = sb_stats::default();
            for (name, value) in c.stats()? {
                if let Some(field) = field(&mut stats, &name) {
                    *field = value;
                }
            }
            slot.set(stats);
            Ok(())
        })
    }
}

/// The counter of `sb_stats` that a name from the server stands for: the field's name, with
/// the `closed_by` ones as `closed_by_peer`... Names of other counters (the control socket's
/// own, say) have no field.
fn field<'a>(s: &'a mut sb_stats, name: &str) -> Option<&'a mut u64> {
    let c = &mut s.closed_by;
    if let Some(why) = name.strip_prefix("closed_by_") {
        return match why {
            "peer" => Some(&mut c.peer),
            "application" => Some(&mut c.application),
            "protocol_error" => Some(&mut c.protocol_error),
            "idle_timeout" => Some(&mut c.idle_timeout),
            "slow_consumer" => Some(&mut c.slow_consumer),
            "abnormal" => Some(&mut c.abnormal),
            "shutdown" => Some(&mut c.shutdown),
            _ => None,
        };
    }
    match name {
        "connections" => Some(&mut s.connections),
        "accepted" => Some(&mut s.accepted),
        "handshakes_failed" => Some(&mut s.handshakes_failed),
        "messages_in" => Some(&mut s.messages_in),
        "messages_out" => Some(&mut s.messages_out),
        "bytes_in" => Some(&mut s.bytes_in),
        "bytes_out" => Some(&mut s.bytes_out),
        "dropped" => Some(&mut s.dropped),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_from_the_server_find_their_counters() {
        let mut s = sb_stats::default();
        for (name, value) in [
            ("connections", 3),
            ("dropped", 4),
            ("closed_by_peer", 5),
            ("closed_by_shutdown", 6),
            ("control_connections", 7),
        ] {
            if let Some(f) = field(&mut s, name) {
                *f = value;
            }
        }
        assert_eq!((s.connections, s.dropped), (3, 4));
        assert_eq!((s.closed_by.peer, s.closed_by.shutdown), (5, 6));
        assert_eq!(s.accepted, 0);
    }
}
