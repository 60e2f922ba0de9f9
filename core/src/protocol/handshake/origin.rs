//! Origin checks: the browser's statement of which site opened the socket.
//!
//! Browsers do not apply the same-origin policy to WebSockets, so a server
//! that relies on cookies must check `Origin` itself to stop cross-site
//! WebSocket hijacking. With no allowed origins configured, only the
//! request's own site may connect: an `Origin` whose host and port are the
//! `Host` header's.

/// Which Origin headers are accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OriginPolicy {
    /// Exact origins (`https://app.example.com`) and wildcard patterns
    /// (`*.example.com` matches any subdomain host of example.com, any scheme
    /// and port; `https://*.example.com` also fixes the scheme, and a port in
    /// the pattern fixes the port). `*` alone matches any present origin.
    /// Empty list = same origin only: the origin's host and port must be the
    /// request's `Host` (a port left out is the scheme's default, 80 or 443).
    pub allowed: Vec<String>,
    /// Whether requests without an Origin header (non-browser clients) are
    /// allowed. Default true.
    pub allow_missing: bool,
}

impl Default for OriginPolicy {
    fn default() -> Self {
        Self {
            allowed: Vec::new(),
            allow_missing: true,
        }
    }
}

impl OriginPolicy {
    /// Whether `origin` (the Origin header, or `None` when absent) is
    /// accepted for a request whose `Host` header is `host`. Comparisons are
    /// case-insensitive.
    pub fn allows(&self, origin: Option<&str>, host: Option<&str>) -> bool {
        let Some(origin) = origin else {
            return self.allow_missing;
        };
        let origin = origin.trim();
        if self.allowed.is_empty() {
            return host.is_some_and(|host| same_origin(origin, host.trim()));
        }
        self.allowed
            .iter()
            .any(|pattern| matches(pattern.trim(), origin))
    }
}

/// Whether `origin` names the host and port of the `Host` header `host`. A
/// port left out is the scheme's default for the origin; for `Host`, either
/// default, since a proxy that ends TLS in front of the server passes the
/// browser's `Host` on unchanged.
fn same_origin(origin: &str, host: &str) -> bool {
    let Some(have) = parse_origin(origin) else {
        return false;
    };
    let default = match have.scheme.to_ascii_lowercase().as_str() {
        "http" | "ws" => "80",
        "https" | "wss" => "443",
        _ => return false,
    };
    let (host_name, host_port) = split_host_port(host);
    have.host.eq_ignore_ascii_case(host_name)
        && match host_port {
            Some(port) => have.port.unwrap_or(default) == port,
            None => have.port.is_none_or(|port| port == default),
        }
}

/// `host[:port]`, or `[v6]:port`, split; the brackets stay with the host.
fn split_host_port(host: &str) -> (&str, Option<&str>) {
    let after = host.rfind(']').map_or(0, |i| i + 1);
    match host[after..].rfind(':') {
        Some(i) => (&host[..after + i], Some(&host[after + i + 1..])),
        None => (host, None),
    }
}

fn matches(pattern: &str, origin: &str) -> bool {
    if pattern == "*" {
        return true;
    }
    if !pattern.contains('*') {
        // Configured origins sometimes carry a trailing slash; origins never do.
        return pattern.trim_end_matches('/').eq_ignore_ascii_case(origin);
    }
    let Some(want) = parse_pattern(pattern) else {
        return false;
    };
    let Some(have) = parse_origin(origin) else {
        return false;
    };
    if want
        .scheme
        .is_some_and(|s| !s.eq_ignore_ascii_case(have.scheme))
    {
        return false;
    }
    if want.port.is_some_and(|p| have.port != Some(p)) {
        return false;
    }
    // "a.example.com" ends with ".example.com" and has a non-empty label
    // before it; "evilexample.com" and "example.com.evil.com" do not.
    let host = have.host.as_bytes();
    let suffix = want.host_suffix.as_bytes();
    host.len() > suffix.len() + 1
        && host[host.len() - suffix.len() - 1] == b'.'
        && host[host.len() - suffix.len()..].eq_ignore_ascii_case(suffix)
}

/// The parts of `[scheme://]*.suffix[:port]`.
struct Pattern<'a> {
    scheme: Option<&'a str>,
    host_suffix: &'a str,
    port: Option<&'a str>,
}

fn parse_pattern(pattern: &str) -> Option<Pattern<'_>> {
    let (scheme, rest) = match pattern.split_once("://") {
        Some((scheme, rest)) => (Some(scheme), rest),
        None => (None, pattern),
    };
    let rest = rest.trim_end_matches('/');
    let rest = rest.strip_prefix("*.")?;
    let (host_suffix, port) = match rest.split_once(':') {
        Some((host, port)) => (host, Some(port)),
        None => (rest, None),
    };
    if !is_hostname(host_suffix) {
        return None;
    }
    Some(Pattern {
        scheme,
        host_suffix,
        port,
    })
}

/// The parts of a serialized origin, `scheme://host[:port]`.
struct Origin<'a> {
    scheme: &'a str,
    host: &'a str,
    port: Option<&'a str>,
}

/// `None` for anything that is not a plain `scheme://host[:port]` (e.g.
/// `null`, or text with a path or user info), so odd input never matches a
/// wildcard.
fn parse_origin(origin: &str) -> Option<Origin<'_>> {
    let (scheme, rest) = origin.split_once("://")?;
    if scheme.is_empty()
        || !scheme
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"+-.".contains(&b))
    {
        return None;
    }
    let (host, port) = split_host_port(rest);
    if !(is_hostname(host) || is_ipv6_literal(host)) {
        return None;
    }
    if port.is_some_and(|p| p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit())) {
        return None;
    }
    Some(Origin { scheme, host, port })
}

/// Letters, digits, `-` and `.`: enough for DNS names, and rules out the
/// characters (`@`, `/`, `[`) that could smuggle another host in.
fn is_hostname(host: &str) -> bool {
    !host.is_empty()
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
}

/// `[` hex digits and colons (and dots, for an embedded IPv4) `]`.
fn is_ipv6_literal(host: &str) -> bool {
    host.strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .is_some_and(|inner| {
            !inner.is_empty()
                && inner
                    .bytes()
                    .all(|b| b.is_ascii_hexdigit() || b == b':' || b == b'.')
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(allowed: &[&str]) -> OriginPolicy {
        OriginPolicy {
            allowed: allowed.iter().map(|s| (*s).to_owned()).collect(),
            allow_missing: true,
        }
    }

    const HOST: Option<&str> = Some("app.example.com");

    #[test]
    fn default_allows_the_same_origin_and_clients_without_one() {
        let p = OriginPolicy::default();
        assert!(p.allows(None, HOST));
        assert!(p.allows(None, None));
        assert!(p.allows(Some("https://app.example.com"), HOST));
        assert!(p.allows(Some("http://APP.example.com"), HOST));
        assert!(p.allows(Some("https://app.example.com:443"), HOST));
        assert!(p.allows(Some("http://app.example.com:80"), HOST));
        assert!(!p.allows(Some("https://anything.test"), HOST));
        assert!(!p.allows(Some("https://app.example.com.evil.test"), HOST));
        assert!(!p.allows(Some("https://evil.app.example.com"), HOST));
        assert!(!p.allows(Some("https://app.example.com:8443"), HOST));
        assert!(!p.allows(Some("null"), HOST));
        assert!(!p.allows(Some("https://app.example.com"), None));
        assert!(!p.allows(Some("file://app.example.com"), HOST));
    }

    #[test]
    fn same_origin_compares_ports() {
        let p = OriginPolicy::default();
        let host = Some("127.0.0.1:8080");
        assert!(p.allows(Some("http://127.0.0.1:8080"), host));
        assert!(!p.allows(Some("http://127.0.0.1"), host));
        assert!(!p.allows(Some("http://127.0.0.1:8081"), host));
        assert!(!p.allows(Some("http://localhost:8080"), host));
        assert!(p.allows(Some("https://h.test"), Some("h.test:443")));
        assert!(!p.allows(Some("http://h.test"), Some("h.test:443")));
        let v6 = Some("[::1]:9001");
        assert!(p.allows(Some("http://[::1]:9001"), v6));
        assert!(!p.allows(Some("http://[::1]:9002"), v6));
        assert!(!p.allows(Some("http://[::2]:9001"), v6));
    }

    #[test]
    fn exact_origins_case_insensitive() {
        let p = policy(&["https://app.example.com", "http://localhost:3000/"]);
        assert!(p.allows(Some("https://app.example.com"), HOST));
        assert!(p.allows(Some("HTTPS://APP.Example.COM"), HOST));
        assert!(p.allows(Some("http://localhost:3000"), HOST));
        assert!(!p.allows(Some("http://app.example.com"), HOST));
        assert!(!p.allows(Some("https://app.example.com:8443"), HOST));
        assert!(!p.allows(Some("null"), HOST));
    }

    #[test]
    fn wildcard_subdomains() {
        let p = policy(&["*.example.com"]);
        assert!(p.allows(Some("https://a.example.com"), HOST));
        assert!(p.allows(Some("http://b.c.example.com:8080"), HOST));
        assert!(p.allows(Some("https://A.EXAMPLE.com"), HOST));
        assert!(!p.allows(Some("https://example.com"), HOST));
        assert!(!p.allows(Some("https://example.com.evil.com"), HOST));
        assert!(!p.allows(Some("https://evilexample.com"), HOST));
        assert!(!p.allows(Some("https://.example.com"), HOST));
        assert!(!p.allows(Some("https://a.example.com@evil.com"), HOST));
        assert!(!p.allows(Some("https://evil.com/a.example.com"), HOST));
        assert!(!p.allows(Some("https://a.example.com:"), HOST));
        assert!(!p.allows(Some("null"), HOST));
    }

    #[test]
    fn wildcard_with_scheme_and_port() {
        let p = policy(&["https://*.example.com"]);
        assert!(p.allows(Some("https://a.example.com"), HOST));
        assert!(p.allows(Some("https://a.example.com:444"), HOST));
        assert!(!p.allows(Some("http://a.example.com"), HOST));
        let p = policy(&["https://*.example.com:8443"]);
        assert!(p.allows(Some("https://a.example.com:8443"), HOST));
        assert!(!p.allows(Some("https://a.example.com"), HOST));
    }

    #[test]
    fn missing_origin() {
        let mut p = policy(&["https://app.example.com"]);
        assert!(p.allows(None, HOST));
        p.allow_missing = false;
        assert!(!p.allows(None, HOST));
        let strict = OriginPolicy {
            allowed: Vec::new(),
            allow_missing: false,
        };
        assert!(!strict.allows(None, HOST));
        assert!(strict.allows(Some("https://app.example.com"), HOST));
        assert!(!strict.allows(Some("https://x.test"), HOST));
    }

    #[test]
    fn star_allows_any_present_origin() {
        let mut p = policy(&["*"]);
        p.allow_missing = false;
        assert!(p.allows(Some("null"), HOST));
        assert!(p.allows(Some("https://anything.test"), None));
        assert!(!p.allows(None, HOST));
    }
}
