//! Property tests: the request parser never panics and does not care how the
//! bytes are split.

use proptest::prelude::*;
use switchboard::protocol::handshake::{validate, HandshakeConfig, Request, RequestParser};

/// Feeds `bytes` in chunks ending at `cuts`; returns the outcome and the
/// leftover bytes after the head.
fn feed_split(bytes: &[u8], cuts: &[usize], max: usize) -> (Option<Result<Request, u16>>, Vec<u8>) {
    let mut points: Vec<usize> = cuts.iter().map(|c| c % (bytes.len() + 1)).collect();
    points.push(bytes.len());
    points.sort_unstable();
    let mut parser = RequestParser::new(max);
    let mut at = 0;
    for point in points {
        let chunk = &bytes[at..point];
        at = point;
        match parser.feed(chunk) {
            Ok(None) => assert!(parser.buffered() <= max),
            Ok(Some((request, used))) => {
                assert!(used <= chunk.len());
                let mut rest = chunk[used..].to_vec();
                rest.extend_from_slice(&bytes[at..]);
                return (Some(Ok(request)), rest);
            }
            Err(err) => {
                assert!(matches!(err.status, 400 | 431 | 505));
                return (Some(Err(err.status)), Vec::new());
            }
        }
    }
    (None, Vec::new())
}

fn header_name() -> impl Strategy<Value = String> {
    // Prefixed so a generated name never repeats a handshake header.
    "X-[A-Za-z0-9-]{0,15}"
}

fn header_value() -> impl Strategy<Value = String> {
    "[ -~]{0,40}".prop_map(|v| v.trim().to_owned())
}

fn valid_head() -> impl Strategy<Value = Vec<u8>> {
    (
        "/[a-z0-9/]{0,20}",
        proptest::option::of("[a-z0-9=&]{0,20}"),
        proptest::collection::vec((header_name(), header_value()), 0..20),
    )
        .prop_map(|(path, query, headers)| {
            let mut head = format!("GET {path}");
            if let Some(q) = query {
                head.push('?');
                head.push_str(&q);
            }
            head.push_str(" HTTP/1.1\r\nHost: example.com\r\nUpgrade: websocket\r\n");
            head.push_str("Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\n");
            head.push_str("Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n");
            for (name, value) in headers {
                head.push_str(&format!("{name}: {value}\r\n"));
            }
            head.push_str("\r\n");
            head.into_bytes()
        })
}

proptest! {
    #[test]
    fn random_bytes_never_panic(
        bytes in proptest::collection::vec(any::<u8>(), 0..2048),
        cuts in proptest::collection::vec(any::<usize>(), 0..16),
        max in 0usize..1024,
    ) {
        if let (Some(Ok(request)), _) = feed_split(&bytes, &cuts, max) {
            let _ = validate(&request, &HandshakeConfig::default());
            let _ = request.offered_extensions();
            let _ = request.offered_subprotocols();
            let _ = request.cookie("a");
        }
    }

    #[test]
    fn almost_valid_heads_never_panic(
        head in valid_head(),
        flips in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..8),
        cuts in proptest::collection::vec(any::<usize>(), 0..8),
    ) {
        let mut bytes = head;
        for (at, byte) in flips {
            let len = bytes.len();
            bytes[at % len] = byte;
        }
        if let (Some(Ok(request)), _) = feed_split(&bytes, &cuts, 8192) {
            let _ = validate(&request, &HandshakeConfig::default());
        }
    }

    #[test]
    fn splits_do_not_change_the_result(
        head in valid_head(),
        tail in proptest::collection::vec(any::<u8>(), 0..64),
        cuts in proptest::collection::vec(any::<usize>(), 0..24),
    ) {
        let mut bytes = head.clone();
        bytes.extend_from_slice(&tail);
        let (whole, whole_rest) = feed_split(&bytes, &[], 8192);
        let (split, split_rest) = feed_split(&bytes, &cuts, 8192);
        prop_assert!(matches!(whole, Some(Ok(_))));
        prop_assert_eq!(&whole, &split);
        prop_assert_eq!(&whole_rest, &tail);
        prop_assert_eq!(&split_rest, &tail);
        if let Some(Ok(request)) = whole {
            prop_assert!(validate(&request, &HandshakeConfig::default()).is_ok());
        }
    }
}
