//! Incremental parsing of the request head.

use super::error::HandshakeError;
use super::request::Request;
use super::tokens::trim_ows;

/// Most headers accepted in one request head; more is answered with 431.
pub const MAX_HEADERS: usize = 64;

/// Incremental parser of the request head: feed it bytes as they arrive.
///
/// It buffers at most `max_head_size` bytes and releases them once the head
/// is complete or refused.
#[derive(Debug)]
pub struct RequestParser {
    buf: Vec<u8>,
    max_head_size: usize,
    /// Where the request line starts: empty lines before it are skipped by
    /// the RFC, and a blank line only ends the head after this point.
    start: usize,
    /// A refused head stays refused: later feeds return the same error.
    failed: Option<HandshakeError>,
}

impl RequestParser {
    /// A parser that refuses heads longer than `max_head_size` bytes.
    pub fn new(max_head_size: usize) -> Self {
        Self {
            buf: Vec::new(),
            max_head_size,
            start: 0,
            failed: None,
        }
    }

    /// `Ok(None)`: need more bytes. `Ok(Some((request, used)))`: the head is
    /// complete; `used` is how many bytes of this call's `bytes` belong to
    /// it, and the rest (frames the client sent early) stay with the caller.
    /// `Err`: 400 for a malformed head, 431 when it exceeds `max_head_size` or
    /// has too many headers, 505 for HTTP versions other than 1.x. HTTP/1.0
    /// is read (version 0): the WebSocket handshake refuses it, other
    /// endpoints (publishing) may serve it.
    ///
    /// After a completed head the parser is empty and could read another.
    pub fn feed(&mut self, bytes: &[u8]) -> Result<Option<(Request, usize)>, HandshakeError> {
        if let Some(err) = &self.failed {
            return Err(err.clone());
        }
        let old_len = self.buf.len();
        // Never buffer past the limit: a head longer than it is refused anyway.
        let room = self.max_head_size.saturating_sub(old_len);
        let take = bytes.len().min(room);
        self.buf.extend_from_slice(&bytes[..take]);
        self.skip_leading_empty_lines();

        if self.ends_head_since(old_len) {
            match parse_head(&self.buf) {
                Ok(Some((request, head_len))) => {
                    self.reset();
                    // The head ends inside this call's bytes: the terminator
                    // search only looks at new bytes.
                    let used = head_len.saturating_sub(old_len);
                    return Ok(Some((request, used)));
                }
                Ok(None) => {}
                Err(err) => return Err(self.fail(err)),
            }
        }
        if self.buf.len() >= self.max_head_size {
            return Err(self.fail(HandshakeError::new(431, "request head too large")));
        }
        Ok(None)
    }

    /// Bytes held (for memory accounting).
    pub fn buffered(&self) -> usize {
        self.buf.len()
    }

    fn reset(&mut self) {
        self.buf = Vec::new();
        self.start = 0;
    }

    fn fail(&mut self, err: HandshakeError) -> HandshakeError {
        self.reset();
        self.failed = Some(err.clone());
        err
    }

    /// Moves `start` past `\n` and `\r\n` lines that precede the request
    /// line (a lone `\r` at the end waits for the next byte).
    fn skip_leading_empty_lines(&mut self) {
        loop {
            match self.buf.get(self.start..) {
                Some([b'\n', ..]) => self.start += 1,
                Some([b'\r', b'\n', ..]) => self.start += 2,
                _ => return,
            }
        }
    }

    /// Whether a blank line (`\n\n` or `\n\r\n`, as httparse accepts) ends
    /// in the bytes added since `old_len`, after the request line started.
    /// Only the new bytes (plus two of context) are scanned, so a head
    /// trickled in one byte at a time costs linear time, and httparse only
    /// runs when the head can be complete.
    fn ends_head_since(&self, old_len: usize) -> bool {
        let from = self.start.max(old_len.saturating_sub(2));
        let window = self.buf.get(from..).unwrap_or_default();
        window.windows(2).enumerate().any(|(i, pair)| match pair {
            [b'\n', b'\n'] => true,
            [b'\n', b'\r'] => window.get(i + 2) == Some(&b'\n'),
            _ => false,
        })
    }
}

/// Runs httparse over a buffer that holds a blank line; `Ok(None)` if it
/// still wants more.
fn parse_head(buf: &[u8]) -> Result<Option<(Request, usize)>, HandshakeError> {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut parsed = httparse::Request::new(&mut headers);
    let head_len = match parsed.parse(buf) {
        Ok(httparse::Status::Complete(len)) => len,
        Ok(httparse::Status::Partial) => return Ok(None),
        Err(httparse::Error::TooManyHeaders) => {
            return Err(HandshakeError::new(431, "too many header fields"))
        }
        Err(httparse::Error::Version) => return Err(HandshakeError::new(505, "HTTP/1.1 required")),
        Err(err) => {
            return Err(HandshakeError::new(
                400,
                format!("malformed request: {err}"),
            ))
        }
    };
    let (Some(method), Some(target), Some(version)) = (parsed.method, parsed.path, parsed.version)
    else {
        return Err(HandshakeError::new(400, "malformed request line"));
    };
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let headers = parsed
        .headers
        .iter()
        .map(|h| {
            let value = String::from_utf8_lossy(h.value);
            (h.name.to_owned(), trim_ows(&value).to_owned())
        })
        .collect();
    Ok(Some((
        Request {
            method: method.to_owned(),
            path: path.to_owned(),
            query: query.to_owned(),
            version,
            headers,
        },
        head_len,
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEAD: &[u8] =
        b"GET /chat?room=1 HTTP/1.1\r\nHost: example.com\r\nUpgrade: websocket\r\n\r\n";

    fn complete(result: Result<Option<(Request, usize)>, HandshakeError>) -> (Request, usize) {
        match result {
            Ok(Some(done)) => done,
            other => panic!("expected a complete head, got {other:?}"),
        }
    }

    #[test]
    fn whole_head_in_one_read() {
        let mut parser = RequestParser::new(8192);
        let (req, used) = complete(parser.feed(HEAD));
        assert_eq!(used, HEAD.len());
        assert_eq!(req.method, "GET");
        assert_eq!(req.path, "/chat");
        assert_eq!(req.query, "room=1");
        assert_eq!(req.version, 1);
        assert_eq!(req.header("host"), Some("example.com"));
        assert_eq!(parser.buffered(), 0);
    }

    #[test]
    fn one_byte_at_a_time() {
        let mut parser = RequestParser::new(8192);
        let (whole, _) = complete(RequestParser::new(8192).feed(HEAD));
        for (i, byte) in HEAD.iter().enumerate() {
            match parser.feed(std::slice::from_ref(byte)) {
                Ok(None) => assert_eq!(parser.buffered(), i + 1),
                Ok(Some((req, used))) => {
                    assert_eq!(i, HEAD.len() - 1);
                    assert_eq!(used, 1);
                    assert_eq!(req, whole);
                    return;
                }
                Err(err) => panic!("unexpected {err}"),
            }
        }
        panic!("head never completed");
    }

    #[test]
    fn leftover_bytes_are_not_used() {
        let mut parser = RequestParser::new(8192);
        let split = 10;
        assert_eq!(parser.feed(&HEAD[..split]), Ok(None));
        let mut rest = HEAD[split..].to_vec();
        rest.extend_from_slice(b"\x81\x85frame");
        let (_, used) = complete(parser.feed(&rest));
        assert_eq!(used, HEAD.len() - split);
    }

    #[test]
    fn leading_empty_lines_are_skipped() {
        let mut input = b"\r\n\n".to_vec();
        input.extend_from_slice(HEAD);
        let mut parser = RequestParser::new(8192);
        for chunk in input.chunks(1) {
            if let Some((req, _)) = parser.feed(chunk).ok().flatten() {
                assert_eq!(req.path, "/chat");
                return;
            }
        }
        panic!("head never completed");
    }

    #[test]
    fn bare_lf_line_endings() {
        let mut parser = RequestParser::new(8192);
        let (req, used) = complete(parser.feed(b"GET / HTTP/1.1\nHost: a\n\nrest"));
        assert_eq!(req.header("Host"), Some("a"));
        assert_eq!(used, 24);
    }

    #[test]
    fn oversized_head_is_431_without_buffering_more() {
        let mut parser = RequestParser::new(64);
        let big = [b'a'; 100];
        assert_eq!(parser.feed(b"GET / HTTP/1.1\r\nX: "), Ok(None));
        let err = parser.feed(&big).err().map(|e| e.status);
        assert_eq!(err, Some(431));
        assert_eq!(parser.buffered(), 0);
        // Stays refused.
        assert_eq!(parser.feed(b"\r\n\r\n").err().map(|e| e.status), Some(431));
    }

    #[test]
    fn head_of_exactly_the_limit_is_accepted() {
        let mut parser = RequestParser::new(HEAD.len());
        let (_, used) = complete(parser.feed(HEAD));
        assert_eq!(used, HEAD.len());
        let mut parser = RequestParser::new(HEAD.len() - 1);
        assert_eq!(parser.feed(HEAD).err().map(|e| e.status), Some(431));
    }

    #[test]
    fn too_many_headers_is_431() {
        let mut head = b"GET / HTTP/1.1\r\n".to_vec();
        for i in 0..=MAX_HEADERS {
            head.extend_from_slice(format!("X-{i}: v\r\n").as_bytes());
        }
        head.extend_from_slice(b"\r\n");
        let mut parser = RequestParser::new(8192);
        assert_eq!(parser.feed(&head).err().map(|e| e.status), Some(431));
    }

    #[test]
    fn http_1_0_is_read_and_unknown_versions_are_505() {
        let mut parser = RequestParser::new(8192);
        let version = parser
            .feed(b"GET / HTTP/1.0\r\n\r\n")
            .ok()
            .flatten()
            .map(|(request, _)| request.version);
        assert_eq!(version, Some(0));
        let mut parser = RequestParser::new(8192);
        let status = parser
            .feed(b"GET / HTTP/2.0\r\n\r\n")
            .err()
            .map(|e| e.status);
        assert_eq!(status, Some(505));
    }

    #[test]
    fn malformed_heads_are_400() {
        for bad in [
            &b"GET /\r\n\r\n"[..],
            b"G@T / HTTP/1.1\r\n\r\n",
            b"GET / HTTP/1.1\r\nBad Header: x\r\n\r\n",
            b"GET / HTTP/1.1\r\nX: a\r\n folded\r\n\r\n",
            b"\rGET / HTTP/1.1\r\n\r\n",
        ] {
            let mut parser = RequestParser::new(8192);
            let status = parser.feed(bad).err().map(|e| e.status);
            assert_eq!(status, Some(400), "{:?}", String::from_utf8_lossy(bad));
        }
    }

    #[test]
    fn non_utf8_header_values_are_lossy() {
        let mut parser = RequestParser::new(8192);
        let (req, _) = complete(parser.feed(b"GET / HTTP/1.1\r\nX: a\xffb  \r\n\r\n"));
        assert_eq!(req.header("x"), Some("a\u{fffd}b"));
    }
}
