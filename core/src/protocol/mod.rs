//! Sans-IO RFC 6455: bytes in, events and bytes out. Nothing here touches a socket.

pub mod close;
pub mod decoder;
pub mod extension;
pub mod frame;
pub mod handshake;
pub mod mask;
pub mod utf8;
