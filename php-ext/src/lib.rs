//! The `switchboard` PHP extension: a WebSocket server whose connections live in
//! the Rust engine while PHP handlers run on the PHP thread.
//!
//! This file only registers things; each PHP class has its own module.

#![cfg_attr(windows, feature(abi_vectorcall))]

mod callback;
mod client;
mod construct;
mod convert;
mod exception;
mod handlers;
mod handshake;
mod options;
mod polling;
mod pool;
mod report;
mod run;
mod server;
mod signals;
mod state;
mod symbols;
mod timers;
mod worker;
mod worker_poll;
mod worker_run;
mod worker_state;

use ext_php_rs::prelude::*;
use ext_php_rs::zend::ModuleEntry;
use ext_php_rs::{info_table_end, info_table_row, info_table_start};

/// Module startup: a quiet panic hook (a panic still becomes a PHP `Error`, but must
/// not write Rust's report into the script's output) and the exception class.
fn startup(_kind: i32, _module: i32) -> i32 {
    std::panic::set_hook(Box::new(|_| {}));
    match exception::register() {
        Ok(()) => 0,
        Err(_) => 1,
    }
}

extern "C" fn info(_module: *mut ModuleEntry) {
    info_table_start!();
    info_table_row!("switchboard support", "enabled");
    info_table_row!("version", env!("CARGO_PKG_VERSION"));
    info_table_end!();
}

#[php_module]
#[php(startup = startup)]
pub fn get_module(module: ModuleBuilder) -> ModuleBuilder {
    module
        .name("switchboard")
        .version(env!("CARGO_PKG_VERSION"))
        .info_function(info)
        .class::<server::Server>()
        .class::<client::Client>()
        .class::<worker::Worker>()
}
