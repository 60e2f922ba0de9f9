//! The scenarios of a comparison run, and how each one is run against one server.

use std::time::Duration;

use crate::modes::broadcast::{self, BroadcastSpec};
use crate::modes::echo::{self, EchoSpec};
use crate::modes::fleet::{self, Fleet, Job};
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

impl Load {
    /// The key and label of the figure that sums a run up, if any.
    pub fn headline(&self) -> Option<(&'static str, &'static str)> {
        match self {
            Load::Echo { .. } => Some(("msgs_per_s", "msg/s")),
            Load::Handshakes { .. } => Some(("hs_per_s", "handshakes/s")),
            Load::Broadcast { .. } => Some(("deliveries_per_s", "deliveries/s")),
            Load::Idle { .. } => None,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Scenario {
    pub key: &'static str,
    pub title: &'static str,
    pub load: Load,
    /// Over TLS: the server listens on `tls://` and the load uses `wss://`.
    pub tls: bool,
}

impl Scenario {
    const fn plain(key: &'static str, title: &'static str, load: Load) -> Scenario {
        Scenario {
            key,
            title,
            load,
            tls: false,
        }
    }

    /// For a TLS scenario: the key of the same load over plain TCP.
    pub fn plain_key(&self) -> Option<&'static str> {
        if self.tls {
            self.key.strip_prefix("tls_")
        } else {
            None
        }
    }
}

/// Puts `scenario` right after the one keyed `after` (or last).
fn insert_after(list: &mut Vec<Scenario>, after: &str, scenario: Scenario) {
    let at = list
        .iter()
        .position(|s| s.key == after)
        .map_or(list.len(), |i| i + 1);
    list.insert(at, scenario);
}

pub struct Timing {
    pub warmup: Duration,
    pub duration: Duration,
}

const ECHO_32B: Load = Load::Echo {
    connections: 100,
    depth: 16,
    size: 32,
};
const HANDSHAKES: Load = Load::Handshakes { connectors: 32 };

pub fn suite(name: &str) -> Result<(Vec<Scenario>, Timing), String> {
    let mut list = vec![
        Scenario::plain("echo_c100_d16_32b", "echo C100 D16 32 B", ECHO_32B),
        Scenario::plain(
            "echo_c1000_d1_1k",
            "echo C1000 D1 1 KiB",
            Load::Echo {
                connections: 1000,
                depth: 1,
                size: 1024,
            },
        ),
        Scenario::plain(
            "echo_c10_d1_64k",
            "echo C10 D1 64 KiB",
            Load::Echo {
                connections: 10,
                depth: 1,
                size: 64 * 1024,
            },
        ),
        Scenario::plain("handshakes_c32", "handshakes C32", HANDSHAKES),
        Scenario::plain(
            "idle_10k",
            "idle 10,000 conns",
            Load::Idle {
                connections: 10_000,
            },
        ),
        Scenario::plain(
            "broadcast_1000",
            "broadcast 1,000 subs D16 32 B",
            Load::Broadcast {
                subscribers: 1000,
                depth: 16,
                size: 32,
            },
        ),
    ];
    let timing = match name {
        "quick" => Timing {
            warmup: Duration::from_millis(500),
            duration: Duration::from_secs(3),
        },
        "full" => {
            // Each TLS scenario follows its plain twin in the table.
            insert_after(
                &mut list,
                "echo_c100_d16_32b",
                Scenario {
                    key: "tls_echo_c100_d16_32b",
                    title: "TLS echo C100 D16 32 B",
                    load: ECHO_32B,
                    tls: true,
                },
            );
            insert_after(
                &mut list,
                "handshakes_c32",
                Scenario {
                    key: "tls_handshakes_c32",
                    title: "TLS handshakes C32",
                    load: HANDSHAKES,
                    tls: true,
                },
            );
            list.push(Scenario::plain(
                "idle_19k",
                "scale: idle 19,000 conns",
                Load::Idle {
                    connections: 19_000,
                },
            ));
            Timing {
                warmup: Duration::from_secs(1),
                duration: Duration::from_secs(5),
            }
        }
        other => return Err(format!("unknown suite {other:?} (quick or full)")),
    };
    Ok((list, timing))
}

/// Runs one scenario; echo and handshakes on `fleet.count` generator
/// processes when that is more than one.
pub fn run(
    scenario: &Scenario,
    timing: &Timing,
    fleet: &Fleet,
    target: Target,
    probe: Probe,
) -> Report {
    let (warmup, duration) = (timing.warmup, timing.duration);
    let sources = 64;
    let several = fleet.count > 1;
    match scenario.load {
        Load::Echo {
            connections,
            depth,
            size,
        } => {
            let spec = EchoSpec {
                target,
                connections,
                depth,
                size,
                warmup,
                duration,
                sources,
            };
            if several {
                fleet::run(&Job::Echo(spec), fleet, Some(probe))
            } else {
                echo::run(&spec, Some(probe))
            }
        }
        Load::Handshakes { connectors } => {
            let spec = HandshakeSpec {
                target,
                connectors,
                warmup,
                duration,
                sources,
            };
            if several {
                fleet::run(&Job::Handshakes(spec), fleet, Some(probe))
            } else {
                handshakes::run(&spec, Some(probe))
            }
        }
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

#[cfg(test)]
mod tests {
    use super::suite;

    #[test]
    fn tls_scenarios_follow_their_plain_twins_in_the_full_suite() {
        let (quick, _) = suite("quick").expect("quick");
        assert!(quick.iter().all(|s| !s.tls));
        let (full, _) = suite("full").expect("full");
        let keys: Vec<&str> = full.iter().map(|s| s.key).collect();
        for tls in full.iter().filter(|s| s.tls) {
            let plain = tls.plain_key().expect("a plain twin");
            let at = keys.iter().position(|k| *k == plain).expect("twin present");
            assert_eq!(keys.get(at + 1), Some(&tls.key));
        }
        assert_eq!(full.iter().filter(|s| s.tls).count(), 2);
    }
}
