//! One client of the reference server. By default replies are buffered
//! (`feed`) while more input is already available and flushed once; with
//! `--flush-each` every reply is sent and flushed on its own (`send`).

use futures_util::{FutureExt, SinkExt, StreamExt};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::{Error, Message};
use tokio_tungstenite::{accept_async, WebSocketStream};

use super::hub::Hub;

/// Messages taken without waiting before one flush.
const BATCH: usize = 64;

enum Input {
    Frame(Option<Result<Message, Error>>),
    Out(Option<Message>),
}

/// Serves one connection over `stream`: a TCP stream, or a TLS stream on one.
pub async fn serve<S>(stream: S, hub: Hub, id: u64, flush_each: bool)
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let Ok(mut ws) = accept_async(stream).await else {
        return;
    };
    let (tx, mut rx) = mpsc::unbounded_channel();
    hub.insert(id, tx);
    'conn: loop {
        let input = tokio::select! {
            m = ws.next() => Input::Frame(m),
            o = rx.recv() => Input::Out(o),
        };
        if !handle(&mut ws, &hub, input, flush_each).await {
            break;
        }
        if flush_each {
            continue;
        }
        for _ in 0..BATCH {
            let Some(m) = ws.next().now_or_never() else {
                break;
            };
            if !handle(&mut ws, &hub, Input::Frame(m), false).await {
                break 'conn;
            }
        }
        for _ in 0..BATCH {
            let Ok(o) = rx.try_recv() else { break };
            if !handle(&mut ws, &hub, Input::Out(Some(o)), false).await {
                break 'conn;
            }
        }
        if ws.flush().await.is_err() {
            break;
        }
    }
    hub.remove(id);
}

/// Returns false when the connection is over.
async fn handle<S>(ws: &mut WebSocketStream<S>, hub: &Hub, input: Input, flush_each: bool) -> bool
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let out = match input {
        Input::Frame(Some(Ok(msg))) => match msg {
            Message::Text(ref t) if t.as_str().starts_with("B:") => {
                hub.publish(&msg);
                return true;
            }
            Message::Text(_) | Message::Binary(_) => msg,
            // Pings are answered by tungstenite itself; a close is answered
            // too, and the stream then ends.
            _ => return true,
        },
        Input::Frame(_) => return false,
        Input::Out(Some(msg)) => msg,
        Input::Out(None) => return false,
    };
    let sent = if flush_each {
        ws.send(out).await
    } else {
        ws.feed(out).await
    };
    sent.is_ok()
}
