//! A measurement window: wall time, the server's CPU time (from /proc, when its
//! pid is known) and the generator's own CPU time over the same interval.

use std::time::Instant;

use crate::procfs::Probe;
use crate::sys::own_cpu_seconds;

pub struct Meter {
    start: Instant,
    server: Option<(Probe, f64)>,
    own_start: f64,
    machine_start: Option<f64>,
}

#[derive(Debug, Clone, Copy)]
pub struct Window {
    pub seconds: f64,
    /// Server CPU seconds (user + system) during the window.
    pub server_cpu: Option<f64>,
    /// Generator CPU seconds during the window.
    pub own_cpu: f64,
    /// CPU seconds the whole machine was busy during the window.
    pub machine_cpu: Option<f64>,
}

impl Meter {
    pub fn start(probe: Option<Probe>) -> Meter {
        let server = probe.and_then(|p| p.cpu_seconds().ok().map(|c| (p, c)));
        Meter {
            start: Instant::now(),
            server,
            own_start: own_cpu_seconds(),
            machine_start: machine_busy_seconds(),
        }
    }

    pub fn stop(&self) -> Window {
        let seconds = self.start.elapsed().as_secs_f64();
        let server_cpu = self
            .server
            .and_then(|(p, before)| p.cpu_seconds().ok().map(|after| after - before));
        Window {
            seconds,
            server_cpu,
            own_cpu: own_cpu_seconds() - self.own_start,
            machine_cpu: machine_busy_seconds()
                .zip(self.machine_start)
                .map(|(after, before)| after - before),
        }
    }
}

impl Window {
    pub fn rate(&self, count: u64) -> f64 {
        count as f64 / self.seconds.max(1e-9)
    }

    /// `count` per server CPU-second, when the server's CPU time is known.
    pub fn per_server_cpu(&self, count: u64) -> Option<f64> {
        self.server_cpu
            .filter(|&c| c > 0.0)
            .map(|c| count as f64 / c)
    }

    pub fn server_cpu_pct(&self) -> Option<f64> {
        self.server_cpu.map(|c| 100.0 * c / self.seconds.max(1e-9))
    }

    pub fn own_cpu_pct(&self) -> f64 {
        100.0 * self.own_cpu / self.seconds.max(1e-9)
    }

    /// CPU use on the machine that is neither the server's nor the
    /// generator's (other processes, unattributed interrupt work), in % of
    /// one core. High values mean the figures are disturbed.
    pub fn other_cpu_pct(&self) -> Option<f64> {
        let machine = self.machine_cpu?;
        let other = machine - self.own_cpu - self.server_cpu.unwrap_or(0.0);
        Some((100.0 * other / self.seconds.max(1e-9)).max(0.0))
    }
}

/// Busy CPU time of the whole machine (all but idle and iowait), in seconds,
/// from the first line of /proc/stat.
pub fn machine_busy_seconds() -> Option<f64> {
    let text = std::fs::read_to_string("/proc/stat").ok()?;
    let line = text.lines().next()?.strip_prefix("cpu ")?;
    let ticks: Vec<u64> = line
        .split_whitespace()
        .map(|f| f.parse().unwrap_or(0))
        .collect();
    // user nice system idle iowait irq softirq steal (guest time is in user).
    let busy: u64 = [0usize, 1, 2, 5, 6, 7]
        .iter()
        .map(|&i| ticks.get(i).copied().unwrap_or(0))
        .sum();
    // SAFETY: sysconf has no preconditions.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    Some(busy as f64 / if hz > 0 { hz as f64 } else { 100.0 })
}
