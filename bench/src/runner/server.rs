//! Starting and stopping a server under test: a shell command template with
//! `{addr}` (or `{port}`), pinned to one CPU, with the open-file limit the
//! tool itself started with, whose first line of output must be
//! `listening on ADDR`.

use std::io::{BufRead, BufReader};
use std::net::{SocketAddr, TcpListener};
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use crate::procfs::Probe;

const START_TIMEOUT: Duration = Duration::from_secs(10);
const STOP_TIMEOUT: Duration = Duration::from_secs(5);

#[derive(Debug, Clone)]
pub struct ServerDef {
    pub name: String,
    pub cmd: String,
}

pub struct Running {
    child: Child,
    pub addr: SocketAddr,
}

impl Running {
    pub fn probe(&self) -> Probe {
        Probe {
            pid: self.child.id(),
        }
    }
}

/// A port that was free a moment ago.
fn free_port() -> Result<u16, String> {
    let l = TcpListener::bind("127.0.0.1:0").map_err(|e| format!("no free port: {e}"))?;
    l.local_addr().map(|a| a.port()).map_err(|e| e.to_string())
}

pub fn start(def: &ServerDef, cpu: usize, nofile_soft: u64) -> Result<Running, String> {
    let port = free_port()?;
    let chosen = SocketAddr::from(([127, 0, 0, 1], port));
    let cmd = def
        .cmd
        .replace("{addr}", &chosen.to_string())
        .replace("{port}", &port.to_string());
    let mut command = Command::new("sh");
    command
        .arg("-c")
        .arg(format!("exec {cmd}"))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    // SAFETY: the closure only makes two async-signal-safe system calls
    // on memory it owns, between fork and exec.
    unsafe {
        command.pre_exec(move || {
            let mut set: libc::cpu_set_t = std::mem::zeroed();
            libc::CPU_SET(cpu, &mut set);
            if libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            // The server gets the limit a shell would give it, not the one
            // this tool raised for itself: raising it is the server's job.
            let mut limit = libc::rlimit {
                rlim_cur: 0,
                rlim_max: 0,
            };
            if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) == 0 {
                limit.rlim_cur = nofile_soft.min(limit.rlim_max);
                libc::setrlimit(libc::RLIMIT_NOFILE, &limit);
            }
            Ok(())
        });
    }
    let mut child = command
        .spawn()
        .map_err(|e| format!("{}: cannot start: {e}", def.name))?;
    let stdout = child.stdout.take().ok_or("server without stdout")?;
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut lines = BufReader::new(stdout).lines();
        if let Some(Ok(first)) = lines.next() {
            let _ = tx.send(first);
        }
        // Keep reading so the server never blocks on a full pipe.
        for _ in lines.map_while(Result::ok) {}
    });
    let first = match rx.recv_timeout(START_TIMEOUT) {
        Ok(line) => line,
        Err(e) => {
            let why = match e {
                mpsc::RecvTimeoutError::Disconnected => "it closed its output".to_string(),
                mpsc::RecvTimeoutError::Timeout => format!("nothing within {START_TIMEOUT:?}"),
            };
            let _ = child.kill();
            let _ = child.wait();
            return Err(format!(
                "{}: no `listening on ADDR` line: {why} (command: {cmd})",
                def.name
            ));
        }
    };
    let Some(rest) = first.strip_prefix("listening on ") else {
        let _ = child.kill();
        let _ = child.wait();
        return Err(format!("{}: first line was {first:?}", def.name));
    };
    let addr = rest
        .split_whitespace()
        .next()
        .and_then(|a| a.parse::<SocketAddr>().ok())
        .unwrap_or(chosen);
    Ok(Running { child, addr })
}

impl Running {
    /// SIGTERM, then SIGKILL if it has not exited in time. Returns a note if
    /// the shutdown was not clean.
    pub fn stop(mut self) -> Option<String> {
        let pid = self.child.id() as libc::pid_t;
        // SAFETY: kill on our own child's pid, which we have not reaped yet.
        unsafe { libc::kill(pid, libc::SIGTERM) };
        let deadline = Instant::now() + STOP_TIMEOUT;
        while Instant::now() < deadline {
            match self.child.try_wait() {
                Ok(Some(status)) if status.success() => return None,
                Ok(Some(status)) => return Some(format!("exited with {status} after SIGTERM")),
                Ok(None) => std::thread::sleep(Duration::from_millis(10)),
                Err(e) => return Some(format!("wait: {e}")),
            }
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        Some(format!(
            "did not exit within {STOP_TIMEOUT:?} of SIGTERM; killed"
        ))
    }
}
