//! Starting and stopping a server under test: a shell command template with
//! `{addr}` (or `{port}`), pinned to one CPU, with the open-file limit the
//! tool itself started with, whose first line of output must be
//! `listening on ADDR`. For a TLS run, `{addr}` becomes `tls://ADDR` and
//! `--tls-cert FILE --tls-key FILE` are added to the command.

use std::fs::File;
use std::io;
use std::net::{SocketAddr, TcpListener};
use std::os::fd::FromRawFd;
use std::os::unix::fs::FileExt;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, Command, Stdio};
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

/// A server's certificate and private key (PEM files).
pub struct TlsFiles<'a> {
    pub cert: &'a Path,
    pub key: &'a Path,
}

/// The command line for one run: the template with the address filled in,
/// and for TLS the listener and certificate options.
fn command_line(
    template: &str,
    chosen: SocketAddr,
    tls: Option<&TlsFiles>,
) -> Result<String, String> {
    let port = chosen.port().to_string();
    let Some(files) = tls else {
        return Ok(template
            .replace("{addr}", &chosen.to_string())
            .replace("{port}", &port));
    };
    if !template.contains("{addr}") {
        return Err("its command has no {addr} to make a tls:// listener of".into());
    }
    Ok(format!(
        "{} --tls-cert {} --tls-key {}",
        template
            .replace("{addr}", &format!("tls://{chosen}"))
            .replace("{port}", &port),
        quote(files.cert),
        quote(files.key)
    ))
}

/// `path` quoted for sh.
pub fn quote(path: &Path) -> String {
    format!("'{}'", path.display().to_string().replace('\'', r"'\''"))
}

pub fn start(
    def: &ServerDef,
    cpu: usize,
    nofile_soft: u64,
    tls: Option<&TlsFiles>,
) -> Result<Running, String> {
    let port = free_port()?;
    let chosen = SocketAddr::from(([127, 0, 0, 1], port));
    let cmd = command_line(&def.cmd, chosen, tls).map_err(|e| format!("{}: {e}", def.name))?;
    // The server writes to a file in memory, not a pipe: nothing has to keep
    // reading it, so this process stays single-threaded (libc's socket calls
    // are cheaper in a single-threaded process, and this process is the load
    // generator).
    let output = output_file().map_err(|e| format!("{}: output file: {e}", def.name))?;
    let server_stdout = output
        .try_clone()
        .map_err(|e| format!("{}: output file: {e}", def.name))?;
    let mut command = Command::new("sh");
    command
        .arg("-c")
        .arg(format!("exec {cmd}"))
        .stdin(Stdio::null())
        .stdout(Stdio::from(server_stdout))
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
    let first = match first_line(&output, &mut child) {
        Ok(line) => line,
        Err(why) => {
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

/// An anonymous file in memory.
fn output_file() -> io::Result<File> {
    // SAFETY: a NUL-terminated name and no flags but close-on-exec; the result is checked.
    let fd = unsafe { libc::memfd_create(c"server-output".as_ptr(), libc::MFD_CLOEXEC) };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: a fresh descriptor that nothing else owns.
    Ok(unsafe { File::from_raw_fd(fd) })
}

/// The server's first line of output, once it has written it whole.
fn first_line(output: &File, child: &mut Child) -> Result<String, String> {
    let deadline = Instant::now() + START_TIMEOUT;
    let mut buf = vec![0u8; 4096];
    loop {
        let n = output.read_at(&mut buf, 0).map_err(|e| e.to_string())?;
        if let Some(end) = buf[..n].iter().position(|&b| b == b'\n') {
            return Ok(String::from_utf8_lossy(&buf[..end]).into_owned());
        }
        if n == buf.len() {
            return Err("a first line longer than 4 KiB".into());
        }
        if let Ok(Some(status)) = child.try_wait() {
            return Err(format!("it exited ({status})"));
        }
        if Instant::now() >= deadline {
            return Err(format!("nothing within {START_TIMEOUT:?}"));
        }
        std::thread::sleep(Duration::from_millis(10));
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tls_runs_get_a_tls_listener_and_the_certificate() {
        let addr = SocketAddr::from(([127, 0, 0, 1], 4000));
        let plain = command_line("srv --listen {addr} -p {port}", addr, None);
        assert_eq!(plain.as_deref(), Ok("srv --listen 127.0.0.1:4000 -p 4000"));
        let files = TlsFiles {
            cert: Path::new("/t/c.pem"),
            key: Path::new("/t/it's.pem"),
        };
        let tls = command_line("srv --listen {addr}", addr, Some(&files));
        assert_eq!(
            tls.as_deref(),
            Ok(
                r"srv --listen tls://127.0.0.1:4000 --tls-cert '/t/c.pem' --tls-key '/t/it'\''s.pem'"
            )
        );
        assert!(command_line("srv -p {port}", addr, Some(&files)).is_err());
    }
}
