//! Client side of the opening handshake: the upgrade request, and checking
//! the server's 101 answer (status and Sec-WebSocket-Accept).

use switchboard::protocol::handshake::accept_key;

use crate::target::Target;

/// Longest response head the tool accepts.
const MAX_HEAD: usize = 8 * 1024;

/// A Sec-WebSocket-Key: the base64 text of 16 bytes derived from `seed`.
pub fn key_for(seed: u64) -> String {
    let mut state = seed ^ 0x9E37_79B9_7F4A_7C15;
    let mut bytes = [0u8; 16];
    for chunk in bytes.chunks_mut(8) {
        state = splitmix(state);
        chunk.copy_from_slice(&state.to_le_bytes());
    }
    base64(&bytes)
}

fn splitmix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk.first().copied().unwrap_or(0),
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[(n >> (18 - 6 * i)) as usize & 63]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// The upgrade request for `target` with `key`.
pub fn request(target: &Target, key: &str) -> Vec<u8> {
    format!(
        "GET {} HTTP/1.1\r\nHost: {}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n",
        target.path, target.host
    )
    .into_bytes()
}

/// Checks the response head at the start of `buf`: `Ok(None)` while it is
/// incomplete, `Ok(Some(len))` with the head's length once it is a valid 101.
pub fn check_response(buf: &[u8], key: &str) -> Result<Option<usize>, String> {
    let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") else {
        if buf.len() > MAX_HEAD {
            return Err("handshake response head too long".into());
        }
        return Ok(None);
    };
    let head = std::str::from_utf8(&buf[..end])
        .map_err(|_| "handshake response is not text".to_string())?;
    let mut lines = head.split("\r\n");
    let status = lines.next().unwrap_or_default();
    if !status.starts_with("HTTP/1.1 101") {
        return Err(format!("handshake refused: {status:?}"));
    }
    let expected = accept_key(key);
    let accept = lines.find_map(|line| {
        let (name, value) = line.split_once(':')?;
        name.trim()
            .eq_ignore_ascii_case("sec-websocket-accept")
            .then(|| value.trim())
    });
    match accept {
        Some(v) if v == expected => Ok(Some(end + 4)),
        Some(v) => Err(format!("wrong Sec-WebSocket-Accept {v:?}")),
        None => Err("no Sec-WebSocket-Accept in the 101 response".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_known_values() {
        assert_eq!(base64(b"the sample nonce"), "dGhlIHNhbXBsZSBub25jZQ==");
        assert_eq!(base64(b"ab"), "YWI=");
        assert_eq!(base64(b"abc"), "YWJj");
        assert_eq!(key_for(1).len(), 24);
        assert_ne!(key_for(1), key_for(2));
    }

    #[test]
    fn checks_the_accept_value() {
        let key = "dGhlIHNhbXBsZSBub25jZQ==";
        let ok = b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\
Connection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n\x81\x00";
        assert_eq!(check_response(ok, key), Ok(Some(ok.len() - 2)));
        assert_eq!(check_response(&ok[..20], key), Ok(None));
        let wrong = b"HTTP/1.1 101 OK\r\nSec-WebSocket-Accept: x\r\n\r\n";
        assert!(check_response(wrong, key).is_err());
        let refused = b"HTTP/1.1 503 Busy\r\n\r\n";
        assert!(check_response(refused, key).is_err());
    }
}
