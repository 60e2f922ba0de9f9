//! What the tool reads about the server under test from /proc: CPU time
//! (utime + stime) and resident memory, summed over the process and its
//! descendants so that a server run through a wrapper or with workers counts whole.

use std::fs;
use std::io;

/// A running server, identified by its pid.
#[derive(Debug, Clone, Copy)]
pub struct Probe {
    pub pid: u32,
}

/// One reading of a process's /proc/PID/stat.
struct Stat {
    ppid: u32,
    /// utime + stime + cutime + cstime, in clock ticks.
    ticks: u64,
}

fn read_stat(pid: u32) -> io::Result<Stat> {
    let text = fs::read_to_string(format!("/proc/{pid}/stat"))?;
    // The command name is in parentheses and may itself contain spaces or
    // parentheses: the fields proper start after the last ')'.
    let rest = text
        .rfind(')')
        .and_then(|i| text.get(i + 1..))
        .ok_or_else(|| bad(pid))?;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // Field 3 of the man page (state) is fields[0] here.
    let num = |i: usize| -> io::Result<u64> {
        fields
            .get(i)
            .and_then(|f| f.parse::<u64>().ok())
            .ok_or_else(|| bad(pid))
    };
    let ppid = u32::try_from(num(1)?).map_err(|_| bad(pid))?;
    let ticks = num(11)? + num(12)? + num(13)? + num(14)?;
    Ok(Stat { ppid, ticks })
}

fn bad(pid: u32) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidData,
        format!("unexpected /proc/{pid}/stat format"),
    )
}

fn clock_ticks_per_second() -> f64 {
    // SAFETY: sysconf has no preconditions.
    let t = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    if t > 0 {
        t as f64
    } else {
        100.0
    }
}

impl Probe {
    /// The pid itself followed by every live descendant.
    fn tree(&self) -> Vec<u32> {
        let mut parents: Vec<(u32, u32)> = Vec::new();
        if let Ok(dir) = fs::read_dir("/proc") {
            for entry in dir.flatten() {
                let Some(pid) = entry
                    .file_name()
                    .to_str()
                    .and_then(|n| n.parse::<u32>().ok())
                else {
                    continue;
                };
                if let Ok(stat) = read_stat(pid) {
                    parents.push((pid, stat.ppid));
                }
            }
        }
        let mut tree = vec![self.pid];
        let mut i = 0;
        // Each pass adds only pids not yet in the tree, so this ends after at
        // most as many passes as there are processes.
        while i < tree.len() && i <= parents.len() {
            let parent = tree[i];
            for &(pid, ppid) in &parents {
                if ppid == parent && !tree.contains(&pid) {
                    tree.push(pid);
                }
            }
            i += 1;
        }
        tree
    }

    /// CPU time (user + system, including waited-for children) of the server
    /// and its descendants, in seconds.
    pub fn cpu_seconds(&self) -> io::Result<f64> {
        let root = read_stat(self.pid)?;
        let mut ticks = root.ticks;
        for pid in self.tree().into_iter().skip(1) {
            // A descendant may exit between the scan and this read.
            if let Ok(stat) = read_stat(pid) {
                ticks += stat.ticks;
            }
        }
        Ok(ticks as f64 / clock_ticks_per_second())
    }

    /// Resident set size (VmRSS) of the server and its descendants, in bytes.
    pub fn rss_bytes(&self) -> io::Result<u64> {
        let mut total = rss_of(self.pid)?;
        for pid in self.tree().into_iter().skip(1) {
            total += rss_of(pid).unwrap_or(0);
        }
        Ok(total)
    }
}

fn rss_of(pid: u32) -> io::Result<u64> {
    let text = fs::read_to_string(format!("/proc/{pid}/status"))?;
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("VmRSS:") {
            let kib: u64 = rest
                .trim()
                .trim_end_matches("kB")
                .trim()
                .parse()
                .map_err(|_| bad(pid))?;
            return Ok(kib * 1024);
        }
    }
    Err(io::Error::new(
        io::ErrorKind::InvalidData,
        format!("no VmRSS in /proc/{pid}/status"),
    ))
}
