//! The reference server: tokio-tungstenite in its default configuration on a
//! current-thread runtime, following the conventions of Switchboard's echo
//! example: `listening on ADDR` first, every message echoed with its opcode,
//! a text message starting with `B:` published to every connection (the
//! sender included) through per-connection channels, SIGTERM/SIGINT to stop.
//! With `--tls-cert` and `--tls-key` it serves `wss://` through tokio-rustls
//! (aws-lc-rs provider, ALPN `http/1.1`, TLS 1.2 and 1.3), the TLS handshake in
//! each connection's own task.

mod connection;
mod hub;

use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::signal::unix::{signal, SignalKind};
use tokio_rustls::TlsAcceptor;

use crate::cli::Args;
use hub::Hub;

/// How long shutdown waits for connections to finish their close handshake.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(2);

pub fn main(a: &Args) -> Result<(), String> {
    let listen = a.text("listen").unwrap_or_else(|| "127.0.0.1:9002".into());
    // `tls://IP:PORT` says TLS explicitly; the certificate options alone do too.
    let (tls_scheme, addr) = match listen.strip_prefix("tls://") {
        Some(rest) => (true, rest),
        None => (false, listen.as_str()),
    };
    let listen: SocketAddr = addr
        .parse()
        .map_err(|_| "--listen: expected IP:PORT or tls://IP:PORT".to_string())?;
    let acceptor = match (a.text("tls-cert"), a.text("tls-key")) {
        (Some(cert), Some(key)) => Some(TlsAcceptor::from(crate::tls::server_config(
            Path::new(&cert),
            Path::new(&key),
        )?)),
        (None, None) if tls_scheme => {
            return Err("a tls:// listener needs --tls-cert FILE and --tls-key FILE".into())
        }
        (None, None) => None,
        _ => return Err("--tls-cert and --tls-key go together".into()),
    };
    let flush_each = a.flag("flush-each");
    a.finish()?;
    // Like Switchboard, hold as many connections as the hard limit allows.
    let _ = crate::sys::raise_nofile();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("runtime: {e}"))?;
    runtime.block_on(serve(listen, acceptor, flush_each))
}

async fn serve(
    addr: SocketAddr,
    acceptor: Option<TlsAcceptor>,
    flush_each: bool,
) -> Result<(), String> {
    let listener = TcpListener::bind(addr)
        .await
        .map_err(|e| format!("cannot listen on {addr}: {e}"))?;
    let local = listener.local_addr().map_err(|e| e.to_string())?;
    println!("listening on {local}");
    let mut term = signal(SignalKind::terminate()).map_err(|e| e.to_string())?;
    let mut int = signal(SignalKind::interrupt()).map_err(|e| e.to_string())?;
    let hub = Hub::default();
    let mut next_id = 0u64;
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    let _ = stream.set_nodelay(true);
                    next_id += 1;
                    let hub = hub.clone();
                    match &acceptor {
                        Some(acceptor) => {
                            let accept = acceptor.accept(stream);
                            tokio::spawn(async move {
                                // A failed TLS handshake just ends the connection.
                                if let Ok(tls) = accept.await {
                                    connection::serve(tls, hub, next_id, flush_each).await;
                                }
                            });
                        }
                        None => {
                            tokio::spawn(connection::serve(stream, hub, next_id, flush_each));
                        }
                    }
                }
                // Out of descriptors: let the backlog wait a little.
                Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
            },
            _ = term.recv() => break,
            _ = int.recv() => break,
        }
    }
    drop(listener);
    hub.close_all();
    let deadline = tokio::time::Instant::now() + SHUTDOWN_GRACE;
    while !hub.is_empty() && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    Ok(())
}
