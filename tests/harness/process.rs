//! A child process with a log file, killed and reaped on `Drop`.

use std::fs::File;
use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A free TCP port on 127.0.0.1 (bound, read back, released).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0").local_addr().unwrap().port()
}

/// A running server: the process, its name (for messages) and its log file.
pub struct ServerProcess {
    name: String,
    child: Option<Child>,
    log: PathBuf,
}

impl ServerProcess {
    /// Starts `command` with stdout and stderr appended to `log`.
    pub fn spawn(name: &str, mut command: Command, log: &Path, install_hint: &str) -> Self {
        let out = File::options().create(true).append(true).open(log).expect("open server log");
        let err = out.try_clone().unwrap();
        command.stdin(Stdio::null()).stdout(out).stderr(err);
        let program = command.get_program().to_string_lossy().into_owned();
        let child = command
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {name} ({program}): {e}\nInstall it with: {install_hint}"));
        Self { name: name.to_string(), child: Some(child), log: log.to_path_buf() }
    }

    /// The server's log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_else(|e| format!("(no log: {e})"))
    }

    /// Panics with `message` and the server's log.
    pub fn fail(&self, message: impl std::fmt::Display) -> ! {
        let log = self.log();
        let tail: String = {
            let lines: Vec<&str> = log.lines().collect();
            lines[lines.len().saturating_sub(60)..].join("\n")
        };
        panic!("{message}\n--- {} log (last 60 lines) ---\n{tail}\n---", self.name)
    }

    /// Waits until `GET path` on `port` answers 200, failing with the log if the process exits
    /// or `timeout` passes.
    pub fn wait_http_ok(&mut self, port: u16, path: &str, timeout: Duration) {
        self.wait_http_ok_at(SocketAddr::new(Ipv4Addr::LOCALHOST.into(), port), path, timeout)
    }

    /// As [`ServerProcess::wait_http_ok`], for a server listening on another address.
    pub fn wait_http_ok_at(&mut self, address: SocketAddr, path: &str, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = self.child.as_mut().and_then(|c| c.try_wait().ok().flatten()) {
                self.fail(format!("{} exited during start-up with {status}", self.name));
            }
            if http_status(address, path) == Some(200) {
                return;
            }
            if Instant::now() > deadline {
                self.fail(format!("{} did not answer GET {path} with 200 within {timeout:?}", self.name));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    pub fn is_running(&mut self) -> bool {
        matches!(self.child.as_mut().map(|c| c.try_wait()), Some(Ok(None)))
    }

    /// Kills the process and waits for it.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The status of a plain HTTP/1.0 GET, or `None` if nothing answers.
fn http_status(address: SocketAddr, path: &str) -> Option<u16> {
    let mut stream = TcpStream::connect_timeout(&address, Duration::from_millis(500)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
    write!(stream, "GET {path} HTTP/1.0\r\nHost: {}\r\n\r\n", address.ip()).ok()?;
    let mut head = [0u8; 12];
    stream.read_exact(&mut head).ok()?;
    std::str::from_utf8(&head[9..12]).ok()?.parse().ok()
}
