//! The scenarios of a comparison run, and how each one is run against one server.

use std::time::Duration;

use crate::modes::broadcast::{self, BroadcastSpec};
use crate::modes::echo::{self, EchoSpec};
use crate::modes::handshakes::{self, HandshakeSpec};
use crate::modes::idle::{self, IdleSpec};
use crate::procfs::Probe;
use crate::report::Report;
use crate::target::Target;

#[derive(Debug, Clone, Copy)]
pub enum Load {
    Echo {
        connections: usize,
        depth: usize,
        size: usize,
    },
    Handshakes {
        connectors: usize,
    },
    Idle {
        connections: usize,
    },
    Broadcast {
        subscribers: usize,
        depth: usize,
        size: usize,
    },
}

#[derive(Debug, Clone)]
pub struct Scenario {
    pub key: &'static str,
    pub title: &'static str,
    pub load: Load,
}

pub struct Timing {
    pub warmup: Duration,
    pub duration: Duration,
}

pub fn suite(name: &str) -> Result<(Vec<Scenario>, Timing), String> {
    let mut list = vec![
        Scenario {
            key: "echo_c100_d16_32b",
            title: "echo C100 D16 32 B",
            load: Load::Echo {
                connections: 100,
                depth: 16,
                size: 32,
            },
        },
        Scenario {
            key: "echo_c1000_d1_1k",
            title: "echo C1000 D1 1 KiB",
            load: Load::Echo {
                connections: 1000,
                depth: 1,
                size: 1024,
            },
        },
        Scenario {
            key: "echo_c10_d1_64k",
            title: "echo C10 D1 64 KiB",
            load: Load::Echo {
                connections: 10,
                depth: 1,
                size: 64 * 1024,
            },
        },
        Scenario {
            key: "handshakes_c32",
            title: "handshakes C32",
            load: Load::Handshakes { connectors: 32 },
        },
        Scenario {
            key: "idle_10k",
            title: "idle 10,000 conns",
            load: Load::Idle {
                connections: 10_000,
            },
        },
        Scenario {
            key: "broadcast_1000",
            title: "broadcast 1,000 subs D16 32 B",
            load: Load::Broadcast {
                subscribers: 1000,
                depth: 16,
                size: 32,
            },
        },
    ];
    let timing = match name {
        "quick" => Timing {
            warmup: Duration::from_millis(500),
            duration: Duration::from_secs(3),
        },
        "full" => {
            list.push(Scenario {
                key: "idle_19k",
                title: "scale: idle 19,000 conns",
                load: Load::Idle {
                    connections: 19_000,
                },
            });
            Timing {
                warmup: Duration::from_secs(1),
                duration: Duration::from_secs(5),
            }
        }
        other => return Err(format!("unknown suite {other:?} (quick or full)")),
    };
    Ok((list, timing))
}

pub fn run(scenario: &Scenario, timing: &Timing, target: Target, probe: Probe) -> Report {
    let (warmup, duration) = (timing.warmup, timing.duration);
    let sources = 64;
    match scenario.load {
        Load::Echo {
            connections,
            depth,
            size,
        } => echo::run(
            &EchoSpec {
                target,
                connections,
                depth,
                size,
                warmup,
                duration,
                sources,
            },
            Some(probe),
        ),
        Load::Handshakes { connectors } => handshakes::run(
            &HandshakeSpec {
                target,
                connectors,
                warmup,
                duration,
                sources,
            },
            Some(probe),
        ),
        Load::Idle { connections } => idle::run(
            &IdleSpec {
                target,
                connections,
                per_process: 10_000,
                settle: Duration::from_secs(1),
                sources: 250,
            },
            Some(probe),
        ),
        Load::Broadcast {
            subscribers,
            depth,
            size,
        } => broadcast::run(
            &BroadcastSpec {
                target,
                subscribers,
                depth,
                size,
                warmup,
                duration,
                sources,
            },
            Some(probe),
        ),
    }
}
