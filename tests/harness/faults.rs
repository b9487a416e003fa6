//! Faults on real sockets and real files, for any test to put between a function and what it
//! talks to:
//! - [`FaultyProxy`]: an HTTP proxy in front of a real server (Prometheus) that passes requests
//!   on, or for chosen requests hangs (accepts, never answers), resets the connection, answers
//!   slowly, or answers a status of its own;
//! - [`StalledEndpoint`]: a listener that accepts and never answers (an AWS endpoint that stalls,
//!   as `AWS_ENDPOINT_URL`);
//! - [`run_with_file_size_limit`]: runs one test of the current test binary in a child process
//!   whose `RLIMIT_FSIZE` makes the kernel fail any write past a size with `EFBIG` (a volume that
//!   refuses to grow a file). No mount and no root needed, and the errno is the kernel's;
//! - [`run_in_mount_namespace`], [`mount_small_filesystem`] and [`fill_leaving`]: a full volume's
//!   `ENOSPC`, from a real filesystem: the test runs in a child process in a new user and mount
//!   namespace (`unshare`, no root needed), mounts a small tmpfs over the function's volume there
//!   (no other process sees it), and fills it so that the function's writes fail at a chosen point.

use std::collections::BTreeMap;
use std::io::{Read, Seek, SeekFrom, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use crate::git::{read_request, respond};

/// What [`FaultyProxy`] does with one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Passed to the server, its answer passed back.
    Pass,
    /// Accepted, read, and never answered (the connection stays open until the proxy is dropped).
    Hang,
    /// The connection is reset (RST) once the request arrives, before any answer.
    Reset,
    /// Passed on after this delay.
    Slow(Duration),
    /// Answered with this status by the proxy; the server never sees it.
    Status(u16),
}

/// Which fault each request gets: by its number (1-based, counting the requests whose path starts
/// with `path_prefix`), else `otherwise`. Requests on other paths always pass.
#[derive(Debug, Clone)]
pub struct Plan {
    pub path_prefix: String,
    pub nth: BTreeMap<usize, Fault>,
    pub otherwise: Fault,
}

impl Plan {
    /// Every request passes.
    pub fn pass() -> Self {
        Plan { path_prefix: "/".into(), nth: BTreeMap::new(), otherwise: Fault::Pass }
    }

    /// Every request on `path_prefix` gets `fault`.
    pub fn always(path_prefix: &str, fault: Fault) -> Self {
        Plan { path_prefix: path_prefix.into(), nth: BTreeMap::new(), otherwise: fault }
    }

    /// The `n`th request on `path_prefix` gets `fault` (1-based); the others pass.
    pub fn nth(path_prefix: &str, n: usize, fault: Fault) -> Self {
        Plan { path_prefix: path_prefix.into(), nth: [(n, fault)].into(), otherwise: Fault::Pass }
    }
}

struct ProxyState {
    plan: Mutex<Plan>,
    /// Requests on the plan's path so far.
    matched: AtomicUsize,
    /// Every fault applied, in order, with the request line: what a failure message shows.
    applied: Mutex<Vec<(String, Fault)>>,
    /// Connections held open by [`Fault::Hang`], closed when the proxy is dropped.
    held: Mutex<Vec<TcpStream>>,
}

/// An HTTP/1.1 proxy on a free loopback port in front of `upstream` (`host:port`), one request
/// per connection (it answers `Connection: close`, so clients reconnect for the next one).
pub struct FaultyProxy {
    port: u16,
    state: Arc<ProxyState>,
    stop: Arc<AtomicBool>,
    accept: Option<JoinHandle<()>>,
}

impl FaultyProxy {
    /// `upstream` is a base URL (`http://127.0.0.1:9090`) or `host:port`.
    pub fn start(upstream: &str, plan: Plan) -> Self {
        let upstream = upstream.trim_start_matches("http://").trim_end_matches('/').to_string();
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        let port = listener.local_addr().unwrap().port();
        let state = Arc::new(ProxyState {
            plan: Mutex::new(plan),
            matched: AtomicUsize::new(0),
            applied: Mutex::new(Vec::new()),
            held: Mutex::new(Vec::new()),
        });
        let stop = Arc::new(AtomicBool::new(false));
        let (state2, stop2) = (state.clone(), stop.clone());
        let accept = std::thread::spawn(move || {
            for stream in listener.incoming() {
                if stop2.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(stream) = stream else { continue };
                let (state, upstream) = (state2.clone(), upstream.clone());
                std::thread::spawn(move || serve(stream, &state, &upstream));
            }
        });
        FaultyProxy { port, state, stop, accept: Some(accept) }
    }

    /// The proxy's base URL, to use where the server's would go.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Replaces the plan; the request count and [`FaultyProxy::applied`] start again.
    pub fn set_plan(&self, plan: Plan) {
        let mut current = self.state.plan.lock().unwrap();
        *current = plan;
        self.state.matched.store(0, Ordering::SeqCst);
        self.state.applied.lock().unwrap().clear();
    }

    /// Every request on the plan's path under the current plan, with what it got
    /// (`POST /-/reload`, `Slow(..)`).
    pub fn applied(&self) -> Vec<(String, Fault)> {
        self.state.applied.lock().unwrap().clone()
    }
}

impl Drop for FaultyProxy {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(("127.0.0.1", self.port));
        for held in self.state.held.lock().unwrap().drain(..) {
            let _ = held.shutdown(Shutdown::Both);
        }
        if let Some(t) = self.accept.take() {
            let _ = t.join();
        }
    }
}

fn serve(mut stream: TcpStream, state: &ProxyState, upstream: &str) {
    // Wait for the request's first bytes without consuming them, so a reset can leave them unread.
    let mut first = [0u8; 1];
    if !matches!(stream.peek(&mut first), Ok(n) if n > 0) {
        return;
    }
    let fault = {
        let plan = state.plan.lock().unwrap();
        // The request line is needed to match the path; peek far enough to read it.
        let mut head = [0u8; 512];
        let n = stream.peek(&mut head).unwrap_or(0);
        let line = String::from_utf8_lossy(&head[..n]).lines().next().unwrap_or_default().to_string();
        let path = line.split_whitespace().nth(1).unwrap_or_default();
        if path.starts_with(&plan.path_prefix) {
            let n = state.matched.fetch_add(1, Ordering::SeqCst) + 1;
            let fault = plan.nth.get(&n).copied().unwrap_or(plan.otherwise);
            let request_line = line.split_whitespace().take(2).collect::<Vec<_>>().join(" ");
            state.applied.lock().unwrap().push((request_line, fault));
            fault
        } else {
            Fault::Pass
        }
    };
    if fault == Fault::Reset {
        // Closing a socket whose receive buffer holds unread bytes makes the kernel send RST.
        drop(stream);
        return;
    }
    let Some(request) = read_request(&mut stream) else { return };
    match fault {
        Fault::Hang => state.held.lock().unwrap().push(stream),
        Fault::Status(code) => respond(&mut stream, code, &[], format!("fault: status {code}\n").as_bytes()),
        Fault::Slow(delay) => {
            std::thread::sleep(delay);
            forward(&request, &mut stream, upstream);
        }
        Fault::Pass | Fault::Reset => forward(&request, &mut stream, upstream),
    }
}

/// Sends `request` to `upstream` with `Connection: close` and copies the whole answer back.
fn forward(request: &crate::git::Request, client: &mut TcpStream, upstream: &str) {
    let Ok(mut server) = TcpStream::connect(upstream) else {
        respond(client, 502, &[], b"fault proxy: upstream unreachable\n");
        return;
    };
    let target =
        if request.query.is_empty() { request.path.clone() } else { format!("{}?{}", request.path, request.query) };
    let mut head = format!("{} {target} HTTP/1.1\r\n", request.method);
    for (name, value) in &request.headers {
        if !matches!(name.as_str(), "connection" | "content-length" | "transfer-encoding" | "keep-alive") {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
    }
    head.push_str(&format!("content-length: {}\r\nconnection: close\r\n\r\n", request.body.len()));
    if server.write_all(head.as_bytes()).and_then(|()| server.write_all(&request.body)).is_err() {
        return;
    }
    let mut answer = Vec::new();
    let _ = server.read_to_end(&mut answer);
    let _ = client.write_all(&answer);
    let _ = client.flush();
}

/// A listener on a free loopback port that accepts every connection and never answers: an
/// endpoint (AWS, Prometheus) that stalls. Connections stay open until it is dropped.
pub struct StalledEndpoint {
    port: u16,
    accepted: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
    held: Arc<Mutex<Vec<TcpStream>>>,
    accept: Option<JoinHandle<()>>,
}

impl StalledEndpoint {
    pub fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        let port = listener.local_addr().unwrap().port();
        let (accepted, stop, held) =
            (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicBool::new(false)), Arc::new(Mutex::new(Vec::new())));
        let (accepted2, stop2, held2) = (accepted.clone(), stop.clone(), held.clone());
        let accept = std::thread::spawn(move || {
            for stream in listener.incoming() {
                if stop2.load(Ordering::SeqCst) {
                    break;
                }
                if let Ok(stream) = stream {
                    accepted2.fetch_add(1, Ordering::SeqCst);
                    held2.lock().unwrap().push(stream);
                }
            }
        });
        StalledEndpoint { port, accepted, stop, held, accept: Some(accept) }
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Connections accepted so far (each one an attempt that is still waiting, or gave up).
    pub fn connections(&self) -> usize {
        self.accepted.load(Ordering::SeqCst)
    }
}

impl Drop for StalledEndpoint {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(("127.0.0.1", self.port));
        for held in self.held.lock().unwrap().drain(..) {
            let _ = held.shutdown(Shutdown::Both);
        }
        if let Some(t) = self.accept.take() {
            let _ = t.join();
        }
    }
}

/// Set in the child process [`run_with_file_size_limit`] or [`run_in_mount_namespace`] starts.
pub const FAULT_CHILD_ENV: &str = "PROMSTACK_FAULT_CHILD";

/// Whether this process is the child [`run_with_file_size_limit`] or [`run_in_mount_namespace`]
/// started: the child test does its work only then.
pub fn in_fault_child() -> bool {
    std::env::var_os(FAULT_CHILD_ENV).is_some()
}

/// Runs the test `name` (its full path, e.g. `a_write_past_the_limit::child`) of the current
/// test binary in a child process whose files cannot grow past `bytes` (rounded down to 512-byte
/// blocks): past that, `write` fails with `EFBIG` (`SIGXFSZ`, which would kill it, is ignored).
/// `env` is passed on. Returns the child's output; the child test must run to pass.
pub fn run_with_file_size_limit(name: &str, bytes: u64, env: &[(&str, String)]) -> Output {
    let exe = std::env::current_exe().expect("the test binary's path");
    let blocks = (bytes / 512).max(1);
    // An ignored signal stays ignored across exec, and `ulimit -f` counts 512-byte blocks (POSIX).
    let script = format!("trap '' XFSZ; ulimit -f {blocks} && exec \"$0\" \"$@\"");
    let mut command = Command::new("sh");
    command.args(["-c", &script]).arg(exe).args([name, "--exact", "--include-ignored", "--nocapture"]);
    command.env(FAULT_CHILD_ENV, "1").env("RUST_TEST_THREADS", "1");
    for (key, value) in env {
        command.env(key, value);
    }
    let output = command.output().expect("sh runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains("1 passed"),
        "the child test {name} did not run and pass under a {bytes}-byte file-size limit:\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

/// Runs the test `name` of the current test binary in a child process in a new user and mount
/// namespace (`unshare --user --map-root-user --mount`), where it may mount filesystems that no
/// other process sees ([`mount_small_filesystem`]); they go when the child ends. The network is
/// the host's, so the servers the child starts are reachable as usual. `env` is passed on.
/// Returns the child's output; the child test must run to pass. Fails, saying why, where
/// `unshare` is missing or user namespaces are disabled: nothing is skipped.
pub fn run_in_mount_namespace(name: &str, env: &[(&str, String)]) -> Output {
    let exe = std::env::current_exe().expect("the test binary's path");
    let mut command = Command::new("unshare");
    command.args(["--user", "--map-root-user", "--mount", "--"]).arg(exe);
    command.args([name, "--exact", "--include-ignored", "--nocapture"]);
    command.env(FAULT_CHILD_ENV, "1").env("RUST_TEST_THREADS", "1");
    for (key, value) in env {
        command.env(key, value);
    }
    let output = command.output().unwrap_or_else(|e| {
        panic!("unshare (util-linux) could not be run ({e}): the ENOSPC tests need it to mount a small tmpfs")
    });
    let (stdout, stderr) = (String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    assert!(
        !stderr.starts_with("unshare:"),
        "unshare could not make a user and mount namespace (user namespaces disabled? \
         kernel.unprivileged_userns_clone / user.max_user_namespaces): {stderr}"
    );
    assert!(
        stdout.contains("1 passed"),
        "the child test {name} did not run and pass in its own namespace:\n{stdout}\n{stderr}"
    );
    output
}

/// In the child [`run_in_mount_namespace`] started: mounts a tmpfs of `bytes` (a multiple of the
/// 4 KiB page) over `dir`, hiding what was there.
pub fn mount_small_filesystem(dir: &Path, bytes: u64) {
    assert!(in_fault_child(), "mount_small_filesystem runs only in the child of run_in_mount_namespace");
    std::fs::create_dir_all(dir).unwrap_or_else(|e| panic!("creating {}: {e}", dir.display()));
    let output = Command::new("mount")
        .args(["-t", "tmpfs", "-o", &format!("size={bytes}"), "promstack-small"])
        .arg(dir)
        .output()
        .unwrap_or_else(|e| panic!("mount could not be run: {e}"));
    assert!(
        output.status.success(),
        "mounting a {bytes}-byte tmpfs over {}: {}",
        dir.display(),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// A file that takes all the space of a filesystem but what [`fill_leaving`] was asked to leave.
pub struct Filler {
    path: PathBuf,
}

impl Filler {
    /// Gives the space back.
    pub fn release(self) {
        std::fs::remove_file(&self.path).unwrap_or_else(|e| panic!("removing {}: {e}", self.path.display()));
    }
}

/// Fills the filesystem holding `path` with a file there until the kernel answers `ENOSPC`, then
/// gives back `free_bytes` (a multiple of the 4 KiB page, the unit in which tmpfs hands out
/// space): the next writes that need more than that fail with `ENOSPC`.
pub fn fill_leaving(path: &Path, free_bytes: u64) -> Filler {
    const PAGE: u64 = 4096;
    assert_eq!(free_bytes % PAGE, 0, "tmpfs hands out whole pages: {free_bytes}");
    let path = path.to_path_buf();
    let mut file = std::fs::File::create(&path).unwrap_or_else(|e| panic!("creating {}: {e}", path.display()));
    let chunk = vec![0xA5u8; 64 * 1024];
    let full = loop {
        if let Err(e) = file.write_all(&chunk) {
            break e;
        }
    };
    assert_eq!(full.raw_os_error(), Some(28), "filling {} ended in {full}, not ENOSPC", path.display());
    // A full tmpfs has every page used, so the filler ends on a page boundary.
    let len = file.seek(SeekFrom::End(0)).unwrap();
    assert!(len >= free_bytes, "the filesystem of {} had only {len} bytes free, not {free_bytes}", path.display());
    file.set_len(len - free_bytes).unwrap();
    file.sync_all().unwrap();
    Filler { path }
}
