//! Feeds arbitrary bytes through the handshake parser in chunks (their size
//! taken from the first byte) and validates whatever parses: nothing may
//! panic, and splitting the input must not change the parsed request.

#![no_main]

use libfuzzer_sys::fuzz_target;
use switchboard::protocol::handshake::{
    response_101, validate, HandshakeConfig, NoMatchingSubprotocol, OriginPolicy, Request,
    RequestParser,
};

const MAX_HEAD: usize = 4096;

fuzz_target!(|data: &[u8]| {
    let Some((&first, input)) = data.split_first() else {
        return;
    };
    let chunk = usize::from(first).max(1);
    let chunked = parse(input.chunks(chunk));
    let whole = parse(std::iter::once(input));
    assert_eq!(chunked, whole, "splitting changed the outcome");
    if let Some(Ok((request, _))) = &whole {
        check(request);
    }
});

/// The outcome of feeding `pieces`: the request and how many input bytes it
/// used, or the refusal status; `None` while incomplete.
fn parse<'a>(pieces: impl Iterator<Item = &'a [u8]>) -> Option<Result<(Request, usize), u16>> {
    let mut parser = RequestParser::new(MAX_HEAD);
    let mut consumed = 0;
    for piece in pieces {
        match parser.feed(piece) {
            Ok(None) => {
                assert!(parser.buffered() <= MAX_HEAD);
                consumed += piece.len();
            }
            Ok(Some((request, used))) => {
                assert!(used <= piece.len());
                assert_eq!(parser.buffered(), 0);
                return Some(Ok((request, consumed + used)));
            }
            Err(err) => {
                assert!(matches!(err.status, 400 | 431 | 505), "{err}");
                let _ = err.to_response();
                return Some(Err(err.status));
            }
        }
    }
    None
}

fn check(request: &Request) {
    let _ = request.offered_extensions();
    let _ = request.cookie("session");
    let lenient = HandshakeConfig::default();
    let strict = HandshakeConfig {
        subprotocols: vec!["chat".into(), "superchat".into()],
        no_matching_subprotocol: NoMatchingSubprotocol::Reject,
        origins: OriginPolicy {
            allowed: vec!["https://app.example.com".into(), "*.example.org".into()],
            allow_missing: false,
        },
        ..HandshakeConfig::default()
    };
    for config in [&lenient, &strict] {
        match validate(request, config) {
            Ok(negotiated) => {
                if let Some(protocol) = &negotiated.subprotocol {
                    assert!(request.offered_subprotocols().contains(protocol));
                }
                assert!(response_101(&negotiated, &[]).is_ok());
            }
            Err(err) => {
                let _ = err.to_response();
            }
        }
    }
}
