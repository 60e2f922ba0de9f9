//! Plain files for non-upgrade GET requests (how a demo page shares the port).
//! Only files inside the directory are served: `..`, encoded or not, is refused.

use std::path::{Component, Path, PathBuf};

use crate::http::response::http_response;

/// Files larger than this are refused: the I/O loop reads them whole.
const MAX_FILE: u64 = 8 << 20;

/// The full HTTP response for `GET path` from `dir`.
pub(crate) fn respond(dir: &Path, method: &str, path: &str) -> Vec<u8> {
    if method != "GET" && method != "HEAD" {
        return http_response(405, &[("Allow", "GET, HEAD")], b"method not allowed\n");
    }
    let Some(file) = resolve(dir, path) else {
        return http_response(404, &[("Content-Type", "text/plain")], b"not found\n");
    };
    let body = match std::fs::metadata(&file) {
        Ok(m) if m.is_file() && m.len() <= MAX_FILE => std::fs::read(&file).ok(),
        _ => None,
    };
    match body {
        Some(body) => {
            let shown: &[u8] = if method == "HEAD" { b"" } else { &body };
            http_response(
                200,
                &[
                    ("Content-Type", content_type(&file)),
                    ("Cache-Control", "no-cache"),
                ],
                shown,
            )
        }
        None => http_response(404, &[("Content-Type", "text/plain")], b"not found\n"),
    }
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
        let ok = respond(&dir, "GET", "/");
        assert!(ok.starts_with(b"HTTP/1.1 200"));
        assert!(ok.ends_with(b"hello"));
        assert!(respond(&dir, "GET", "/missing").starts_with(b"HTTP/1.1 404"));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
