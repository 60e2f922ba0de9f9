//! Plain files for non-upgrade GET requests (how a demo page shares the port).
//! Only files inside the directory are served: `..`, encoded or not, is refused.
//! A body is read in chunks as the socket takes them, so a large file neither
//! fills memory nor holds up the loop's other connections.

use std::fs::File;
use std::io::{self, Read};
use std::path::{Component, Path, PathBuf};

use crate::http::response::{http_head, http_response};

/// How much of a file is read at a time.
const CHUNK: usize = 64 * 1024;

/// The rest of a file's body, sent after its head.
pub(crate) struct FileBody {
    file: File,
    left: u64,
}

impl FileBody {
    /// The next chunk; `None` once the whole body was read.
    pub(crate) fn next_chunk(&mut self) -> io::Result<Option<Vec<u8>>> {
        if self.left == 0 {
            return Ok(None);
        }
        let mut chunk = vec![0; CHUNK.min(self.left as usize)];
        // A file that shrank meanwhile ends the response early (an error).
        self.file.read_exact(&mut chunk)?;
        self.left -= chunk.len() as u64;
        Ok(Some(chunk))
    }
}

/// The HTTP response for `GET path` from `dir`: its head (or all of a short
/// answer) and, for a file, its body to stream.
pub(crate) fn respond(dir: &Path, method: &str, path: &str) -> (Vec<u8>, Option<FileBody>) {
    if method != "GET" && method != "HEAD" {
        let refusal = http_response(405, &[("Allow", "GET, HEAD")], b"method not allowed\n");
        return (refusal, None);
    }
    let not_found = || {
        let answer = http_response(404, &[("Content-Type", "text/plain")], b"not found\n");
        (answer, None)
    };
    let Some(path) = resolve(dir, path) else {
        return not_found();
    };
    let Ok(file) = File::open(&path) else {
        return not_found();
    };
    let length = match file.metadata() {
        Ok(m) if m.is_file() => m.len(),
        _ => return not_found(),
    };
    let headers = [
        ("Content-Type", content_type(&path)),
        ("Cache-Control", "no-cache"),
    ];
    let head = http_head(200, &headers, length);
    let body = (method == "GET").then_some(FileBody { file, left: length });
    (head, body)
}

/// Maps a request path to a file under `dir`, or None if it would leave it.
fn resolve(dir: &Path, path: &str) -> Option<PathBuf> {
    let decoded = percent_decode(path)?;
    let relative = decoded.trim_start_matches('/');
    let relative = if relative.is_empty() || relative.ends_with('/') {
        format!("{relative}index.html")
    } else {
        relative.to_string()
    };
    let mut out = dir.to_path_buf();
    for component in Path::new(&relative).components() {
        match component {
            Component::Normal(part) => out.push(part),
            Component::CurDir => {}
            _ => return None,
        }
    }
    // Symlinks could still point outside: compare the real paths.
    let real = out.canonicalize().ok()?;
    let root = dir.canonicalize().ok()?;
    real.starts_with(&root).then_some(real)
}

/// Decodes %XX escapes; refuses NUL, backslashes and malformed escapes.
fn percent_decode(path: &str) -> Option<String> {
    let bytes = path.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    let s = String::from_utf8(out).ok()?;
    (!s.contains('\0') && !s.contains('\\')).then_some(s)
}

fn content_type(file: &Path) -> &'static str {
    match file.extension().and_then(|e| e.to_str()).unwrap_or("") {
        "html" | "htm" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "json" => "application/json",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "ico" => "image/x-icon",
        "txt" => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_traversal_and_serves_index() {
        let dir = std::env::temp_dir().join(format!("sb-static-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("sub")).unwrap();
        std::fs::write(dir.join("index.html"), "hello").unwrap();
        std::fs::write(dir.join("sub/a.js"), "x").unwrap();
        assert_eq!(
            resolve(&dir, "/").unwrap(),
            dir.canonicalize().unwrap().join("index.html")
        );
        assert!(resolve(&dir, "/sub/a.js").is_some());
        assert!(resolve(&dir, "/sub/%61.js").is_some());
        for bad in [
            "/../etc/passwd",
            "/%2e%2e/etc/passwd",
            "/sub/../../x",
            "/a%00b",
            "/%zz",
            "/..%5c..%5cetc",
        ] {
            assert!(resolve(&dir, bad).is_none(), "{bad}");
        }
        let (head, body) = respond(&dir, "GET", "/");
        assert!(head.starts_with(b"HTTP/1.1 200"));
        assert!(head.ends_with(b"Content-Length: 5\r\nConnection: close\r\n\r\n"));
        let mut body = body.unwrap();
        assert_eq!(body.next_chunk().unwrap(), Some(b"hello".to_vec()));
        assert_eq!(body.next_chunk().unwrap(), None);
        let (head, body) = respond(&dir, "HEAD", "/");
        assert!(head.starts_with(b"HTTP/1.1 200") && body.is_none());
        let (head, body) = respond(&dir, "GET", "/missing");
        assert!(head.starts_with(b"HTTP/1.1 404") && body.is_none());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
