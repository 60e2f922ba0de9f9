//! The byte stream under a connection: TCP, plain or with TLS
//! (`tcp::Transport`, `tls`), and the TLS server configuration
//! (`tls_config`). The loops read, write (vectored), flush and shut down
//! through this layer only.

pub(crate) mod socket_writer;
pub(crate) mod tcp;
pub(crate) mod tls;
pub(crate) mod tls_config;
