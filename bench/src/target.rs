//! The server under load: a `ws://` URL, accepted only on the loopback range,
//! since a load test never leaves this machine.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

#[derive(Debug, Clone)]
pub struct Target {
    pub addr: SocketAddr,
    /// Value of the Host header: what the URL said.
    pub host: String,
    pub path: String,
}

impl Target {
    pub fn parse(url: &str) -> Result<Target, String> {
        let rest = url
            .strip_prefix("ws://")
            .ok_or_else(|| format!("{url:?}: only ws:// URLs are supported"))?;
        let (authority, path) = match rest.find('/') {
            Some(i) => rest.split_at(i),
            None => (rest, "/"),
        };
        let (host, port) = split_port(authority)
            .ok_or_else(|| format!("{url:?}: expected ws://HOST:PORT/PATH"))?;
        let ip: IpAddr = if host == "localhost" {
            IpAddr::V4(Ipv4Addr::LOCALHOST)
        } else {
            host.trim_start_matches('[')
                .trim_end_matches(']')
                .parse()
                .map_err(|_| format!("{url:?}: host must be an IP address or localhost"))?
        };
        if !ip.is_loopback() {
            return Err(format!(
                "{url:?}: loads only target the loopback range (127.0.0.0/8 or ::1)"
            ));
        }
        Ok(Target {
            addr: SocketAddr::new(ip, port),
            host: authority.to_string(),
            path: path.to_string(),
        })
    }

    pub fn from_addr(addr: SocketAddr) -> Result<Target, String> {
        Target::parse(&format!("ws://{addr}/"))
    }

    pub fn url(&self) -> String {
        format!("ws://{}{}", self.host, self.path)
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
        let t = Target::parse("ws://127.0.0.1:9001/chat").expect("loopback");
        assert_eq!(t.addr.port(), 9001);
        assert_eq!(t.path, "/chat");
        assert_eq!(t.host, "127.0.0.1:9001");
        assert!(Target::parse("ws://127.4.5.6:1").is_ok());
        assert!(Target::parse("ws://localhost:80").is_ok());
        assert!(Target::parse("ws://[::1]:80/").is_ok());
        assert!(Target::parse("ws://10.0.0.1:80/").is_err());
        assert!(Target::parse("ws://example.com:80/").is_err());
        assert!(Target::parse("wss://127.0.0.1:80/").is_err());
        assert!(Target::parse("ws://127.0.0.1/").is_err());
    }
}
