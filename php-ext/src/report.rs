//! What happens when a handler throws or exits: the `error` handler gets the
//! exception, or STDERR a line; `exit()` ends the serving. Shared by
//! `Switchboard\Server` and `Switchboard\Worker`.

use ext_php_rs::boxed::ZBox;
use ext_php_rs::types::{ZendObject, Zval};
use ext_php_rs::zend::ExecutorGlobals;
use switchboard::server::ConnId;

use crate::callback::{self, Thrown};
use crate::convert::{self, bytes};
use crate::exception::error;
use crate::handlers::{Handlers, On};

/// Whether to keep going after an event or a timer.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Flow {
    Continue,
    /// `exit()` is unwinding: return to PHP without running more PHP code.
    Exit,
}

/// After a handler call: reports an exception and goes on, or stops for `exit()`.
pub fn finish(
    handlers: &Handlers,
    result: Result<Zval, Thrown>,
    event: &str,
    id: Option<ConnId>,
) -> Flow {
    match result {
        Ok(_) => Flow::Continue,
        Err(Thrown::Exit) => Flow::Exit,
        Err(Thrown::Exception(ex)) => report(handlers, event, id, ex),
    }
}

/// After PHP code ran outside a handler call (the interrupt function).
pub fn after_php(handlers: &Handlers, event: &str, id: Option<ConnId>) -> Flow {
    match callback::pending() {
        None => Flow::Continue,
        Some(Thrown::Exit) => Flow::Exit,
        Some(Thrown::Exception(ex)) => report(handlers, event, id, ex),
    }
}

/// A handler threw: the `error` handler gets `($exception, $event, $id)`; without
/// one (or if it throws too) the exception is written to STDERR. Serving goes on.
pub fn report(
    handlers: &Handlers,
    event: &str,
    id: Option<ConnId>,
    mut ex: ZBox<ZendObject>,
) -> Flow {
    if let Some(handler) = handlers.get(On::Error) {
        let mut exception = Zval::new();
        exception.set_object(&mut ex);
        let mut id_arg = Zval::new();
        match id {
            Some(id) => id_arg.set_long(convert::id_to_php(id)),
            None => id_arg.set_null(),
        }
        match handler.call(&mut [exception, bytes(event.as_bytes()), id_arg]) {
            Ok(_) => return Flow::Continue,
            Err(Thrown::Exit) => return Flow::Exit,
            Err(Thrown::Exception(second)) => {
                to_stderr(&format!(
                    "the error handler threw {}, while reporting: {}",
                    callback::describe(&second),
                    where_from(event, id, &ex)
                ));
                return Flow::Continue;
            }
        }
    }
    to_stderr(&where_from(event, id, &ex));
    Flow::Continue
}

/// One line on STDERR; a closed STDERR is not an error worth stopping for.
fn to_stderr(line: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "Switchboard: {line}");
}

/// `message handler (connection 5) threw RuntimeException: boom in file.php:12`.
fn where_from(event: &str, id: Option<ConnId>, ex: &ZendObject) -> String {
    let id = id.map_or(String::new(), |id| {
        format!(" (connection {})", convert::id_to_php(id))
    });
    format!("{event} handler{id} threw {}", callback::describe(ex))
}

/// Reports a misuse found here (a bad handshake answer) as a `Switchboard\Exception`.
pub fn report_message(handlers: &Handlers, event: &str, id: Option<ConnId>, message: &str) -> Flow {
    error(message).throw();
    match ExecutorGlobals::take_exception() {
        Some(ex) => report(handlers, event, id, ex),
        None => {
            to_stderr(message);
            Flow::Continue
        }
    }
}
