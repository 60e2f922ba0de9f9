//! The checks a command gets before it leaves a worker: the same rules the
//! server's `Handle` applies, so that a worker's quiet command fails with the
//! same error, at the call, instead of being counted and dropped by the
//! operator.

use crate::api::error::Error;
use crate::api::handle::{check_close, check_payload, check_refusal};
use crate::bridge::event::MessageKind;
use crate::control::wire::Request;

/// Checks what can be checked without the operator: text payloads are UTF-8,
/// close codes and reasons are allowed, refusals are HTTP 4xx/5xx.
pub fn check(request: &Request) -> Result<(), Error> {
    match request {
        Request::Send { kind, data, .. }
        | Request::Publish { kind, data, .. }
        | Request::SendToUser { kind, data, .. }
        | Request::Broadcast { kind, data, .. } => check_payload(*kind, data),
        Request::Close { code, reason, .. } => check_close(*code, reason),
        Request::Reject { status, .. } => check_refusal(*status),
        _ => Ok(()),
    }
}

/// Checks a message's payload: text must be UTF-8.
pub fn check_message(kind: MessageKind, data: &[u8]) -> Result<(), Error> {
    check_payload(kind, data)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_arguments_are_refused_before_they_leave() {
        let text = |data: &[u8]| Request::Send {
            id: 1,
            kind: MessageKind::Text,
            data: data.to_vec(),
        };
        assert!(check(&text(b"ok")).is_ok());
        assert!(matches!(check(&text(b"\xff")), Err(Error::InvalidUtf8)));
        let binary = Request::Broadcast {
            kind: MessageKind::Binary,
            data: vec![0xff],
            except: 0,
        };
        assert!(check(&binary).is_ok());
        let close = |code, reason: &str| Request::Close {
            id: 1,
            code,
            reason: reason.into(),
        };
        assert!(check(&close(4000, "bye")).is_ok());
        assert!(matches!(
            check(&close(1005, "")),
            Err(Error::InvalidCloseCode(1005))
        ));
        assert!(matches!(
            check(&close(1000, &"x".repeat(124))),
            Err(Error::ReasonTooLong(124))
        ));
        let reject = |status| Request::Reject {
            id: 1,
            status,
            body: String::new(),
        };
        assert!(check(&reject(403)).is_ok());
        assert!(matches!(
            check(&reject(200)),
            Err(Error::InvalidStatus(200))
        ));
    }
}
