//! C ABI of Switchboard: `libswitchboard.so` / `libswitchboard.a`, every symbol prefixed `sb_`.
//!
//! The conventions (ownership, errors, threads, pointer lifetimes) are stated once in the
//! header's preamble (`cbindgen.toml`) and in docs/c-api.md; each module below holds one group
//! of functions, and every exported function runs inside [`boundary::guard`].

// C names: `sb_server`, `SB_OK`.
#![allow(non_camel_case_types)]

pub mod result;

mod args;
pub mod boundary;
mod failure;

pub mod version;

pub mod config;
pub mod server;

mod batch;
pub mod event;
pub mod run;
pub mod serve;
pub mod wait;

pub mod handshake;
pub mod messaging;
pub mod topics;
pub mod users;

pub mod info;
pub mod stats;

pub mod client;
pub mod client_commands;
pub mod client_queries;
pub mod worker;
pub mod worker_commands;
pub mod worker_open;
