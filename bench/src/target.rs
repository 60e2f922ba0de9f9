//! The server under load: a `ws://` or `wss://` URL, accepted only on the
//! loopback range, since a load test never leaves this machine.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::Path;

use crate::tls::ClientTls;

#[derive(Debug, Clone)]
pub struct Target {
    pub addr: SocketAddr,
    /// Value of the Host header: what the URL said.
    pub host: String,
    pub path: String,
    /// For `wss://`: the TLS settings.
    pub tls: Option<ClientTls>,
}

impl Target {
    /// Reads `url`; `ca` (for `wss://` only) is a PEM file of the
    /// certificates to trust.
    pub fn parse(url: &str, ca: Option<&Path>) -> Result<Target, String> {
        let (secure, rest) = if let Some(rest) = url.strip_prefix("wss://") {
            (true, rest)
        } else if let Some(rest) = url.strip_prefix("ws://") {
            (false, rest)
        } else {
            return Err(format!("{url:?}: only ws:// and wss:// URLs are supported"));
        };
        let (authority, path) = match rest.find('/') {
            Some(i) => rest.split_at(i),
            None => (rest, "/"),
        };
        let (host, port) = split_port(authority)
            .ok_or_else(|| format!("{url:?}: expected ws://HOST:PORT/PATH"))?;
        let bare = host.trim_start_matches('[').trim_end_matches(']');
        let ip: IpAddr = if host == "localhost" {
            IpAddr::V4(Ipv4Addr::LOCALHOST)
        } else {
            bare.parse()
                .map_err(|_| format!("{url:?}: host must be an IP address or localhost"))?
        };
        if !ip.is_loopback() {
            return Err(format!(
                "{url:?}: loads only target the loopback range (127.0.0.0/8 or ::1)"
            ));
        }
        if ca.is_some() && !secure {
            return Err("--ca only applies to wss:// URLs".into());
        }
        let tls = if secure {
            Some(ClientTls::new(bare, ca)?)
        } else {
            None
        };
        Ok(Target {
            addr: SocketAddr::new(ip, port),
            host: authority.to_string(),
            path: path.to_string(),
            tls,
        })
    }

    /// `ws://ADDR/`, or `wss://ADDR/` trusting `ca` when given.
    pub fn from_addr(addr: SocketAddr, tls_ca: Option<&Path>) -> Result<Target, String> {
        match tls_ca {
            Some(ca) => Target::parse(&format!("wss://{addr}/"), Some(ca)),
            None => Target::parse(&format!("ws://{addr}/"), None),
        }
    }

    pub fn url(&self) -> String {
        let scheme = if self.tls.is_some() { "wss" } else { "ws" };
        format!("{scheme}://{}{}", self.host, self.path)
    }
}

fn split_port(authority: &str) -> Option<(&str, u16)> {
    let i = authority.rfind(':')?;
    let (host, port) = (authority.get(..i)?, authority.get(i + 1..)?);
    if host.is_empty() || (host.contains(':') && !host.ends_with(']')) {
        return None;
    }
    Some((host, port.parse().ok()?))
}

#[cfg(test)]
mod tests {
    use super::Target;

    #[test]
    fn loopback_only() {
        let parse = |url| Target::parse(url, None);
        let t = parse("ws://127.0.0.1:9001/chat").expect("loopback");
        assert_eq!(t.addr.port(), 9001);
        assert_eq!(t.path, "/chat");
        assert_eq!(t.host, "127.0.0.1:9001");
        assert!(t.tls.is_none());
        assert!(parse("ws://127.4.5.6:1").is_ok());
        assert!(parse("ws://localhost:80").is_ok());
        assert!(parse("ws://[::1]:80/").is_ok());
        assert!(parse("ws://10.0.0.1:80/").is_err());
        assert!(parse("ws://example.com:80/").is_err());
        assert!(parse("wss://10.0.0.1:80/").is_err());
        assert!(parse("http://127.0.0.1:80/").is_err());
        assert!(parse("ws://127.0.0.1/").is_err());
        let s = parse("wss://localhost:443/x").expect("wss");
        assert_eq!(s.url(), "wss://localhost:443/x");
        assert!(s.tls.is_some());
        assert!(parse("wss://[::1]:443/").is_ok());
        assert!(Target::parse("ws://127.0.0.1:1/", Some(std::path::Path::new("ca.pem"))).is_err());
    }
}
