//! A real Prometheus with the remote-write receiver and the lifecycle API on, its config and TSDB
//! in a temp dir. Which release runs is the [`Version`] under test (`crate::matrix`).

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use serde_json::Value;

pub use crate::matrix::Version;
use crate::process::{free_port, ServerProcess};

const INSTALL: &str = "make setup";

/// A minimal config: Prometheus scrapes nothing and only receives.
pub const EMPTY_CONFIG: &str = "global:\n  scrape_interval: 15s\n";

/// Options for [`Prometheus`].
pub struct PrometheusBuilder {
    config: String,
    lifecycle: bool,
    port: Option<u16>,
    config_dir: Option<PathBuf>,
    args: Vec<String>,
    ip: Option<IpAddr>,
    version: Version,
}

impl PrometheusBuilder {
    /// Run this release instead of the one under test ([`Version::current`]).
    pub fn version(mut self, version: Version) -> Self {
        self.version = version;
        self
    }
    /// The contents of `prometheus.yml`.
    pub fn config(mut self, yaml: &str) -> Self {
        self.config = yaml.to_string();
        self
    }
    /// Whether `--web.enable-lifecycle` is set (default on).
    pub fn lifecycle(mut self, on: bool) -> Self {
        self.lifecycle = on;
        self
    }
    /// Listen on this port instead of a fresh one.
    pub fn port(mut self, port: u16) -> Self {
        self.port = Some(port);
        self
    }
    /// Keep `prometheus.yml` in this directory (e.g. a test's stand-in for the EFS mount)
    /// instead of the server's temp dir; relative paths in the config resolve against it.
    pub fn config_dir(mut self, dir: &Path) -> Self {
        self.config_dir = Some(dir.to_path_buf());
        self
    }
    pub fn arg(mut self, arg: &str) -> Self {
        self.args.push(arg.to_string());
        self
    }
    /// Listen on this loopback address instead of 127.0.0.1 (e.g. two replicas on one port).
    pub fn ip(mut self, ip: IpAddr) -> Self {
        self.ip = Some(ip);
        self
    }

    /// Starts the server and waits until it is ready.
    pub fn start(self) -> Prometheus {
        let dir = tempfile::tempdir().expect("temp dir");
        let config_dir = self.config_dir.clone().unwrap_or_else(|| dir.path().to_path_buf());
        let config_path = config_dir.join("prometheus.yml");
        if !config_path.exists() || !self.config.is_empty() {
            let yaml = if self.config.is_empty() { EMPTY_CONFIG } else { &self.config };
            std::fs::write(&config_path, yaml).expect("write prometheus.yml");
        }
        let mut p = Prometheus {
            process: None,
            binary: self.version.checked_binary(),
            version: self.version,
            port: self.port.unwrap_or_else(free_port),
            ip: self.ip.unwrap_or(Ipv4Addr::LOCALHOST.into()),
            config_path,
            storage: dir.path().join("data"),
            log: dir.path().join("prometheus.log"),
            lifecycle: self.lifecycle,
            args: self.args,
            http: reqwest::Client::new(),
            _dir: dir,
        };
        p.restart();
        p
    }
}

/// A running Prometheus server.
pub struct Prometheus {
    process: Option<ServerProcess>,
    version: Version,
    binary: PathBuf,
    port: u16,
    ip: IpAddr,
    config_path: PathBuf,
    storage: PathBuf,
    log: PathBuf,
    lifecycle: bool,
    args: Vec<String>,
    http: reqwest::Client,
    _dir: tempfile::TempDir,
}

impl Prometheus {
    pub fn builder() -> PrometheusBuilder {
        PrometheusBuilder {
            config: String::new(),
            lifecycle: true,
            port: None,
            config_dir: None,
            args: vec![],
            ip: None,
            version: Version::current(),
        }
    }

    /// Starts with `config` as `prometheus.yml`.
    pub fn start(config: &str) -> Self {
        Self::builder().config(config).start()
    }

    /// The binary the harness runs for the version under test.
    pub fn binary() -> String {
        Version::current().binary().display().to_string()
    }

    /// The release this server runs.
    pub fn version(&self) -> Version {
        self.version
    }

    pub fn port(&self) -> u16 {
        self.port
    }
    /// The address it listens on.
    pub fn address(&self) -> SocketAddr {
        SocketAddr::new(self.ip, self.port)
    }
    pub fn url(&self) -> String {
        format!("http://{}", self.address())
    }
    /// The remote-write receiver.
    pub fn write_url(&self) -> String {
        format!("{}/api/v1/write", self.url())
    }
    pub fn config_path(&self) -> &Path {
        &self.config_path
    }
    pub fn config_dir(&self) -> &Path {
        self.config_path.parent().unwrap()
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Panics with `message`, the version under test and the server's log.
    pub fn fail(&self, message: impl std::fmt::Display) -> ! {
        let message = format!("[Prometheus {}] {message}", self.version);
        match &self.process {
            Some(p) => p.fail(message),
            None => panic!("{message}\n--- prometheus {} log ---\n{}", self.version, self.log()),
        }
    }

    /// Stops the server (its data stays; [`Prometheus::restart`] brings it back on the same port).
    pub fn stop(&mut self) {
        if let Some(mut p) = self.process.take() {
            p.stop();
        }
    }

    /// (Re)starts the server on the same port with the same storage, and waits until ready.
    pub fn restart(&mut self) {
        self.stop();
        let mut cmd = Command::new(&self.binary);
        cmd.arg(format!("--config.file={}", self.config_path.display()))
            .arg(format!("--storage.tsdb.path={}", self.storage.display()))
            .arg(format!("--web.listen-address={}", self.address()))
            .arg("--web.enable-remote-write-receiver")
            .arg("--log.level=info")
            .args(&self.args);
        if self.lifecycle {
            cmd.arg("--web.enable-lifecycle");
        }
        let name = format!("prometheus {}", self.version);
        let mut process = ServerProcess::spawn(&name, cmd, &self.log, INSTALL);
        process.wait_http_ok_at(self.address(), "/-/ready", Duration::from_secs(60));
        self.process = Some(process);
    }

    /// `GET path` on the HTTP API; the parsed JSON body (any status).
    pub async fn get_json(&self, path_and_query: &str) -> Value {
        let url = format!("{}{}", self.url(), path_and_query);
        let response = match self.http.get(&url).send().await {
            Ok(r) => r,
            Err(e) => self.fail(format!("GET {url}: {e}")),
        };
        match response.json().await {
            Ok(v) => v,
            Err(e) => self.fail(format!("GET {url}: body is not JSON: {e}")),
        }
    }

    /// `data` of a successful API answer, or a failure with the log.
    pub async fn api(&self, path_and_query: &str) -> Value {
        let v = self.get_json(path_and_query).await;
        if v["status"] != "success" {
            self.fail(format!("GET {path_and_query} answered {v}"));
        }
        v["data"].clone()
    }

    /// An instant query; the `result` array.
    pub async fn query(&self, promql: &str) -> Vec<Value> {
        let q = urlencode(promql);
        let data = self.api(&format!("/api/v1/query?query={q}")).await;
        data["result"].as_array().cloned().unwrap_or_default()
    }

    /// A range query (times in seconds); the `result` array.
    pub async fn query_range(&self, promql: &str, start: f64, end: f64, step: f64) -> Vec<Value> {
        let q = urlencode(promql);
        let data = self.api(&format!("/api/v1/query_range?query={q}&start={start:.3}&end={end:.3}&step={step}")).await;
        data["result"].as_array().cloned().unwrap_or_default()
    }

    /// `/api/v1/targets`: the active targets.
    pub async fn active_targets(&self) -> Vec<Value> {
        self.api("/api/v1/targets?state=active").await["activeTargets"].as_array().cloned().unwrap_or_default()
    }

    /// Polls `probe` every 200 ms until it returns `Some`, or fails with the log after `timeout`.
    pub async fn eventually<T, F, Fut>(&self, timeout: Duration, what: &str, mut probe: F) -> T
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Option<T>>,
    {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            if let Some(v) = probe().await {
                return v;
            }
            if tokio::time::Instant::now() > deadline {
                self.fail(format!("timed out after {timeout:?} waiting for {what}"));
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
}

/// Percent-encodes a query parameter.
pub fn urlencode(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 3);
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => out.push(b as char),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}
