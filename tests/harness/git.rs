//! A real git server for tests: `git http-backend` (smart HTTP, protocol v2) behind a small
//! HTTP/1.1 server on a free loopback port, serving a bare repository that the test commits to
//! through a work tree. Requests need the access token as Bitbucket takes it, either
//! `Authorization: Bearer <token>` (Data Center) or basic auth as `x-token-auth:<token>` (Cloud);
//! anything else gets a 401.
//!
//! Python's CGI handler cannot take the chunked request bodies git clients send, so this server
//! reads the request itself (Content-Length or chunked) and runs the CGI with a plain body.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;

/// One HTTP request as the test servers read it.
#[derive(Debug, Clone)]
pub struct Request {
    pub method: String,
    /// Path without the query.
    pub path: String,
    pub query: String,
    /// Lower-case names.
    pub headers: BTreeMap<String, String>,
    pub body: Vec<u8>,
}

/// Reads one request (Content-Length or chunked body); `None` when the peer closed.
pub fn read_request(stream: &mut TcpStream) -> Option<Request> {
    let mut reader = BufReader::new(stream.try_clone().ok()?);
    let mut line = String::new();
    reader.read_line(&mut line).ok()?;
    let mut parts = line.split_whitespace();
    let method = parts.next()?.to_string();
    let target = parts.next()?.to_string();
    let mut headers = BTreeMap::new();
    loop {
        let mut h = String::new();
        reader.read_line(&mut h).ok()?;
        let h = h.trim_end();
        if h.is_empty() {
            break;
        }
        if let Some((k, v)) = h.split_once(':') {
            headers.insert(k.trim().to_ascii_lowercase(), v.trim().to_string());
        }
    }
    let mut body = Vec::new();
    if headers.get("transfer-encoding").is_some_and(|v| v.eq_ignore_ascii_case("chunked")) {
        loop {
            let mut size = String::new();
            reader.read_line(&mut size).ok()?;
            let size = usize::from_str_radix(size.trim().split(';').next()?, 16).ok()?;
            let mut chunk = vec![0; size + 2];
            reader.read_exact(&mut chunk).ok()?;
            if size == 0 {
                break;
            }
            body.extend_from_slice(&chunk[..size]);
        }
    } else if let Some(len) = headers.get("content-length").and_then(|v| v.parse::<usize>().ok()) {
        body = vec![0; len];
        reader.read_exact(&mut body).ok()?;
    }
    let (path, query) = match target.split_once('?') {
        Some((p, q)) => (p.to_string(), q.to_string()),
        None => (target, String::new()),
    };
    Some(Request { method, path, query, headers, body })
}

/// Writes a complete response and closes the connection.
pub fn respond(stream: &mut TcpStream, status: u16, headers: &[(String, String)], body: &[u8]) {
    let mut head =
        format!("HTTP/1.1 {status} {}\r\nContent-Length: {}\r\nConnection: close\r\n", reason(status), body.len());
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    let _ = stream.write_all(head.as_bytes());
    let _ = stream.write_all(body);
    let _ = stream.flush();
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        201 => "Created",
        401 => "Unauthorized",
        404 => "Not Found",
        500 => "Internal Server Error",
        _ => "Status",
    }
}

/// A thread accepting connections on a free port, one thread per connection; stopped on drop.
pub struct HttpServer {
    port: u16,
    stop: Arc<AtomicBool>,
    accept: Option<JoinHandle<()>>,
}

impl HttpServer {
    pub fn start(handler: impl Fn(Request, &mut TcpStream) + Send + Sync + 'static) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        let port = listener.local_addr().unwrap().port();
        let stop = Arc::new(AtomicBool::new(false));
        let handler = Arc::new(handler);
        let stop2 = stop.clone();
        let accept = std::thread::spawn(move || {
            for stream in listener.incoming() {
                if stop2.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(mut stream) = stream else { continue };
                let handler = handler.clone();
                std::thread::spawn(move || {
                    if let Some(request) = read_request(&mut stream) {
                        handler(request, &mut stream);
                    }
                });
            }
        });
        HttpServer { port, stop, accept: Some(accept) }
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

impl Drop for HttpServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(("127.0.0.1", self.port));
        if let Some(t) = self.accept.take() {
            let _ = t.join();
        }
    }
}

/// A bare repository served by `git http-backend`, and a work tree to commit from.
pub struct GitServer {
    http: HttpServer,
    dir: tempfile::TempDir,
    token: String,
    requests: Arc<AtomicUsize>,
    log: Arc<std::sync::Mutex<Vec<String>>>,
}

/// The repository's path on the server: `{url}/config.git`.
pub const REPO: &str = "config.git";

impl GitServer {
    /// Starts a server whose repository has branch `main` and no commits yet.
    pub fn start(token: &str) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let root = dir.path().join("srv");
        std::fs::create_dir_all(&root).unwrap();
        git(&root, &["init", "--quiet", "--bare", "--initial-branch=main", REPO]);
        git(&dir.path().join("srv").join(REPO), &["config", "http.receivepack", "false"]);
        let work = dir.path().join("work");
        std::fs::create_dir_all(&work).unwrap();
        git(&work, &["init", "--quiet", "--initial-branch=main"]);
        git(&work, &["remote", "add", "origin", root.join(REPO).to_str().unwrap()]);
        let requests = Arc::new(AtomicUsize::new(0));
        let log = Arc::new(std::sync::Mutex::new(Vec::new()));
        let accepted =
            [format!("Bearer {token}"), format!("Basic {}", base64(format!("x-token-auth:{token}").as_bytes()))];
        let (requests2, log2) = (requests.clone(), log.clone());
        let http = HttpServer::start(move |request, stream| {
            requests2.fetch_add(1, Ordering::SeqCst);
            log2.lock().unwrap().push(format!("{} {}?{}", request.method, request.path, request.query));
            if !request.headers.get("authorization").is_some_and(|h| accepted.contains(h)) {
                let h = [("WWW-Authenticate".to_string(), "Basic realm=\"git\"".to_string())];
                respond(stream, 401, &h, b"bad or missing token\n");
                return;
            }
            cgi(&root, request, stream, &log2);
        });
        GitServer { http, dir, token: token.to_string(), requests, log }
    }

    /// The clone URL.
    pub fn url(&self) -> String {
        format!("{}/{REPO}", self.http.url())
    }

    pub fn token(&self) -> &str {
        &self.token
    }

    /// Requests served so far (any status).
    pub fn requests(&self) -> usize {
        self.requests.load(Ordering::SeqCst)
    }

    /// What the server saw, for failure messages.
    pub fn log(&self) -> String {
        self.log.lock().unwrap().join("\n")
    }

    /// The work tree the test commits from.
    pub fn work(&self) -> PathBuf {
        self.dir.path().join("work")
    }

    /// Replaces the work tree's files with the contents of `dir` (recursively).
    pub fn replace_with(&self, dir: &Path) {
        let work = self.work();
        for entry in std::fs::read_dir(&work).unwrap().flatten() {
            if entry.file_name() != ".git" {
                let p = entry.path();
                if p.is_dir() && !p.is_symlink() {
                    std::fs::remove_dir_all(p).unwrap();
                } else {
                    std::fs::remove_file(p).unwrap();
                }
            }
        }
        copy_dir(dir, &work);
    }

    /// Writes (`Some`) or deletes (`None`) files in the work tree.
    pub fn edit(&self, files: &[(&str, Option<&str>)]) {
        for (path, contents) in files {
            let p = self.work().join(path);
            match contents {
                Some(c) => {
                    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
                    std::fs::write(&p, c).unwrap();
                }
                None => {
                    let _ = std::fs::remove_file(&p);
                }
            }
        }
    }

    /// Commits everything in the work tree and pushes it to `main`; returns the commit hash.
    pub fn commit(&self, message: &str) -> String {
        self.commit_to("main", message)
    }

    /// As [`GitServer::commit`], on `branch`.
    pub fn commit_to(&self, branch: &str, message: &str) -> String {
        let work = self.work();
        git(&work, &["add", "-A"]);
        git(&work, &["commit", "--quiet", "--allow-empty", "-m", message]);
        git(&work, &["push", "--quiet", "--force", "origin", &format!("HEAD:refs/heads/{branch}")]);
        git(&work, &["rev-parse", "HEAD"]).trim().to_string()
    }

    /// Commits the work tree, then a commit on top whose root tree also has a directory entry
    /// named `dir` holding `file` — names git itself refuses to create (`..`), as a crafted push
    /// could carry. Pushed to `main`; returns the crafted commit.
    pub fn commit_with_raw_entry(&self, dir: &str, file: &str, contents: &str, message: &str) -> String {
        let work = self.work();
        let base = self.commit(message);
        let blob = git_stdin(&work, &["hash-object", "-w", "--stdin"], contents.as_bytes());
        let sub = raw_tree(&[("100644", file, blob.trim())]);
        let sub = git_stdin(&work, &["hash-object", "-w", "-t", "tree", "--literally", "--stdin"], &sub);
        let mut entries: Vec<(String, String, String)> = vec![("40000".into(), dir.into(), sub.trim().into())];
        for line in git(&work, &["ls-tree", &base]).lines() {
            let (meta, name) = line.split_once('\t').unwrap();
            let parts: Vec<&str> = meta.split_whitespace().collect();
            entries.push((parts[0].trim_start_matches('0').to_string(), name.to_string(), parts[2].to_string()));
        }
        let refs: Vec<(&str, &str, &str)> =
            entries.iter().map(|(m, n, h)| (m.as_str(), n.as_str(), h.as_str())).collect();
        let root = git_stdin(&work, &["hash-object", "-w", "-t", "tree", "--literally", "--stdin"], &raw_tree(&refs));
        let commit = git(&work, &["commit-tree", root.trim(), "-p", &base, "-m", message]).trim().to_string();
        git(&work, &["push", "--quiet", "--force", "origin", &format!("{commit}:refs/heads/main")]);
        commit
    }

    /// Checks out `branch` in the work tree (created from HEAD if new).
    pub fn checkout(&self, branch: &str) {
        git(&self.work(), &["checkout", "--quiet", "-B", branch]);
    }
}

fn copy_dir(from: &Path, to: &Path) {
    for entry in std::fs::read_dir(from).unwrap().flatten() {
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            std::fs::create_dir_all(&target).unwrap();
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// Runs git with no system or global config, failing with its output.
pub fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .args([
            "-c",
            "user.name=promstack test",
            "-c",
            "user.email=test@promstack.invalid",
            "-c",
            "commit.gpgsign=false",
        ])
        .args(args)
        .current_dir(dir)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .output()
        .expect("git is installed");
    assert!(out.status.success(), "git {args:?} failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

/// Standard base64 with padding (the harness has no base64 crate).
fn base64(data: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in data.chunks(3) {
        let b = [chunk[0], *chunk.get(1).unwrap_or(&0), *chunk.get(2).unwrap_or(&0)];
        let n = (b[0] as u32) << 16 | (b[1] as u32) << 8 | b[2] as u32;
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// A raw tree object: `<mode> <name>\0<20-byte id>` per entry, in the given order.
fn raw_tree(entries: &[(&str, &str, &str)]) -> Vec<u8> {
    let mut out = Vec::new();
    for (mode, name, hex_id) in entries {
        out.extend_from_slice(format!("{mode} {name}\0").as_bytes());
        let id: Vec<u8> =
            (0..hex_id.len()).step_by(2).map(|i| u8::from_str_radix(&hex_id[i..i + 2], 16).unwrap()).collect();
        out.extend_from_slice(&id);
    }
    out
}

/// Runs git with `input` on stdin.
fn git_stdin(dir: &Path, args: &[&str], input: &[u8]) -> String {
    let mut child = Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("git is installed");
    child.stdin.take().unwrap().write_all(input).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "git {args:?} failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

/// Runs `git http-backend` as a CGI for `request` and relays its answer.
fn cgi(root: &Path, request: Request, stream: &mut TcpStream, log: &std::sync::Mutex<Vec<String>>) {
    let mut command = Command::new("git");
    command
        .arg("http-backend")
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_PROJECT_ROOT", root)
        .env("GIT_HTTP_EXPORT_ALL", "1")
        .env("REQUEST_METHOD", &request.method)
        .env("PATH_INFO", &request.path)
        .env("QUERY_STRING", &request.query)
        .env("CONTENT_LENGTH", request.body.len().to_string())
        .env("REMOTE_ADDR", "127.0.0.1")
        .env("REMOTE_USER", "token")
        .env("SERVER_PROTOCOL", "HTTP/1.1")
        .env("GATEWAY_INTERFACE", "CGI/1.1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if let Some(ct) = request.headers.get("content-type") {
        command.env("CONTENT_TYPE", ct);
    }
    if let Some(p) = request.headers.get("git-protocol") {
        command.env("GIT_PROTOCOL", p);
    }
    if let Some(e) = request.headers.get("content-encoding") {
        command.env("HTTP_CONTENT_ENCODING", e);
    }
    let mut child = command.spawn().expect("git http-backend starts");
    let mut stdin = child.stdin.take().unwrap();
    let body = request.body;
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(&body);
    });
    let out = child.wait_with_output().expect("git http-backend runs");
    let _ = writer.join();
    if !out.stderr.is_empty() {
        log.lock().unwrap().push(format!("http-backend: {}", String::from_utf8_lossy(&out.stderr)));
    }
    let split = out.stdout.windows(4).position(|w| w == b"\r\n\r\n").map(|i| (i, 4));
    let split = split.or_else(|| out.stdout.windows(2).position(|w| w == b"\n\n").map(|i| (i, 2)));
    let Some((at, sep)) = split else {
        respond(stream, 500, &[], &out.stdout);
        return;
    };
    let head = String::from_utf8_lossy(&out.stdout[..at]).into_owned();
    let mut status = 200;
    let mut headers = Vec::new();
    for line in head.lines() {
        let Some((k, v)) = line.split_once(':') else { continue };
        if k.eq_ignore_ascii_case("status") {
            status = v.split_whitespace().next().and_then(|s| s.parse().ok()).unwrap_or(500);
        } else {
            headers.push((k.trim().to_string(), v.trim().to_string()));
        }
    }
    respond(stream, status, &headers, &out.stdout[at + sep..]);
}
