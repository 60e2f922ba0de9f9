//! Every open connection's outgoing channel, for publishing.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use tokio::sync::mpsc::UnboundedSender;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::Message;

#[derive(Clone, Default)]
pub struct Hub {
    senders: Arc<Mutex<HashMap<u64, UnboundedSender<Message>>>>,
}

impl Hub {
    fn lock(&self) -> MutexGuard<'_, HashMap<u64, UnboundedSender<Message>>> {
        // A panicking connection task cannot leave the map half-updated.
        self.senders.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn insert(&self, id: u64, tx: UnboundedSender<Message>) {
        self.lock().insert(id, tx);
    }

    pub fn remove(&self, id: u64) {
        self.lock().remove(&id);
    }

    pub fn is_empty(&self) -> bool {
        self.lock().is_empty()
    }

    /// Queues `msg` for every connection.
    pub fn publish(&self, msg: &Message) {
        for tx in self.lock().values() {
            let _ = tx.send(msg.clone());
        }
    }

    /// Asks every connection to close with 1001 (going away).
    pub fn close_all(&self) {
        self.publish(&Message::Close(Some(CloseFrame {
            code: CloseCode::Away,
            reason: "server shutting down".into(),
        })));
    }
}
