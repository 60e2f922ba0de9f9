//! The parsed request head and the questions the server asks of it.

use super::tokens::{list_contains_token, split_unquoted, trim_ows, unquote};

/// One parsed Sec-WebSocket-Extensions offer, e.g.
/// `permessage-deflate; client_max_window_bits`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExtensionOffer {
    /// Extension name as sent.
    pub name: String,
    /// Parameters in order; `None` for a bare parameter, quotes removed.
    pub params: Vec<(String, Option<String>)>,
}

/// The client's request head, kept for the application (it carries cookies
/// and tokens).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// Request method as sent (methods are case-sensitive).
    pub method: String,
    /// Request target without the query string, e.g. `/chat`.
    pub path: String,
    /// Text after `?`, without it; empty if none.
    pub query: String,
    /// HTTP minor version: 1 for HTTP/1.1.
    pub version: u8,
    /// Headers in order, names as sent, values as UTF-8 (lossy) with
    /// surrounding whitespace removed.
    pub headers: Vec<(String, String)>,
}

impl Request {
    /// First header with this name, case-insensitive.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Every header with this name, case-insensitive, in order; for fields
    /// that may be repeated (lists, cookies).
    pub fn headers_named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.headers
            .iter()
            .filter(move |(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Value of one cookie from the Cookie header(s); the first one wins.
    /// Cookie names are case-sensitive; surrounding quotes are removed.
    pub fn cookie(&self, name: &str) -> Option<&str> {
        self.headers_named("cookie")
            .flat_map(|value| value.split(';'))
            .filter_map(|pair| pair.split_once('='))
            .find(|(n, _)| trim_ows(n) == name)
            .map(|(_, v)| {
                let v = trim_ows(v);
                v.strip_prefix('"')
                    .and_then(|r| r.strip_suffix('"'))
                    .unwrap_or(v)
            })
    }

    /// True when Upgrade contains the token `websocket` (case-insensitive,
    /// comma list). Tells a plain HTTP GET (static file or 426) from a
    /// WebSocket handshake.
    pub fn is_websocket_upgrade(&self) -> bool {
        list_contains_token(self.headers_named("upgrade"), "websocket")
    }

    /// Subprotocols the client offered (Sec-WebSocket-Protocol, possibly
    /// several headers, comma lists, trimmed), in order.
    pub fn offered_subprotocols(&self) -> Vec<String> {
        self.headers_named("sec-websocket-protocol")
            .flat_map(|value| split_unquoted(value, ','))
            .map(str::to_owned)
            .collect()
    }

    /// Parsed Sec-WebSocket-Extensions offers. None are implemented; they are
    /// declined by not echoing them, which the RFC allows.
    pub fn offered_extensions(&self) -> Vec<ExtensionOffer> {
        self.headers_named("sec-websocket-extensions")
            .flat_map(|value| split_unquoted(value, ','))
            .filter_map(parse_extension)
            .collect()
    }
}

/// Parses `name; p1; p2=v; p3="quoted"`; `None` when the name is empty.
fn parse_extension(offer: &str) -> Option<ExtensionOffer> {
    let mut parts = split_unquoted(offer, ';').into_iter();
    let name = parts.next()?;
    if name.contains('=') {
        return None;
    }
    let params = parts
        .map(|param| match param.split_once('=') {
            Some((key, value)) => (trim_ows(key).to_owned(), Some(unquote(trim_ows(value)))),
            None => (param.to_owned(), None),
        })
        .collect();
    Some(ExtensionOffer {
        name: name.to_owned(),
        params,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(headers: &[(&str, &str)]) -> Request {
        Request {
            method: "GET".into(),
            path: "/".into(),
            query: String::new(),
            version: 1,
            headers: headers
                .iter()
                .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
                .collect(),
        }
    }

    #[test]
    fn header_lookup_is_case_insensitive_and_first_wins() {
        let req = request(&[("X-A", "1"), ("x-a", "2")]);
        assert_eq!(req.header("x-A"), Some("1"));
        assert_eq!(req.headers_named("X-a").collect::<Vec<_>>(), ["1", "2"]);
        assert_eq!(req.header("missing"), None);
    }

    #[test]
    fn cookies() {
        let req = request(&[("Cookie", "a=1; session=abc"), ("cookie", "q=\"x y\"")]);
        assert_eq!(req.cookie("session"), Some("abc"));
        assert_eq!(req.cookie("a"), Some("1"));
        assert_eq!(req.cookie("q"), Some("x y"));
        assert_eq!(req.cookie("Session"), None);
        assert_eq!(req.cookie("none"), None);
    }

    #[test]
    fn upgrade_detection() {
        assert!(request(&[("Upgrade", "WebSocket")]).is_websocket_upgrade());
        assert!(request(&[("upgrade", "h2c, websocket")]).is_websocket_upgrade());
        assert!(!request(&[("Upgrade", "h2c")]).is_websocket_upgrade());
        assert!(!request(&[]).is_websocket_upgrade());
    }

    #[test]
    fn subprotocols_across_headers() {
        let req = request(&[
            ("Sec-WebSocket-Protocol", "chat, superchat"),
            ("sec-websocket-protocol", " v2 ,"),
        ]);
        assert_eq!(req.offered_subprotocols(), ["chat", "superchat", "v2"]);
    }

    #[test]
    fn extensions_parsed() {
        let req = request(&[(
            "Sec-WebSocket-Extensions",
            "permessage-deflate; client_max_window_bits, x-foo; a=1; b=\"q\"",
        )]);
        assert_eq!(
            req.offered_extensions(),
            vec![
                ExtensionOffer {
                    name: "permessage-deflate".into(),
                    params: vec![("client_max_window_bits".into(), None)],
                },
                ExtensionOffer {
                    name: "x-foo".into(),
                    params: vec![
                        ("a".into(), Some("1".into())),
                        ("b".into(), Some("q".into())),
                    ],
                },
            ]
        );
    }

    #[test]
    fn extension_without_a_name_is_skipped() {
        let req = request(&[("Sec-WebSocket-Extensions", "; a=1, =x, ok")]);
        let names: Vec<_> = req
            .offered_extensions()
            .into_iter()
            .map(|e| e.name)
            .collect();
        assert_eq!(names, ["ok"]);
    }
}
