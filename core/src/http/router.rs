//! Routing a complete request head: a WebSocket upgrade, a static file, or the
//! `426 Upgrade Required` answer. Endpoints added later (publishing, polling)
//! get their arm here.

use super::request::Request;
use super::response::http_response;

/// What a request is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    /// An upgrade to WebSocket: validated and answered by the handshake.
    Upgrade,
    /// A plain request while a static directory is configured.
    StaticFile,
    /// A plain request and nothing to serve it with: `426 Upgrade Required`.
    UpgradeRequired,
}

/// Routes `request`; `serves_files` says whether a static directory is set.
pub fn route(request: &Request, serves_files: bool) -> Route {
    if request.is_websocket_upgrade() {
        Route::Upgrade
    } else if serves_files {
        Route::StaticFile
    } else {
        Route::UpgradeRequired
    }
}

/// The `426 Upgrade Required` answer to a plain request.
pub fn upgrade_required() -> Vec<u8> {
    http_response(
        426,
        &[
            ("Upgrade", "websocket"),
            ("Sec-WebSocket-Version", "13"),
            ("Content-Type", "text/plain"),
        ],
        b"This is a WebSocket endpoint: upgrade required.\n",
    )
}
