//! moto server (PyPI `moto[server]`) as the AWS endpoint: CloudWatch, ECS, EC2, S3, Secrets
//! Manager, STS and the tagging API on one loopback port.

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::Credentials;

use crate::process::{free_port, ServerProcess};

const INSTALL: &str = "make setup   (creates ~/.cache/promstack/venv with moto[server])";

/// The region every test uses.
pub const REGION: &str = "us-east-1";

/// A running moto server.
pub struct Moto {
    process: ServerProcess,
    port: u16,
    _dir: tempfile::TempDir,
}

impl Moto {
    /// The binary the harness runs.
    pub fn binary() -> PathBuf {
        if let Ok(bin) = std::env::var("PROMSTACK_MOTO_SERVER") {
            return bin.into();
        }
        let venv = std::env::var("PROMSTACK_VENV").map(PathBuf::from).unwrap_or_else(|_| {
            PathBuf::from(std::env::var("HOME").unwrap_or_else(|_| "/root".into())).join(".cache/promstack/venv")
        });
        venv.join("bin/moto_server")
    }

    /// Starts moto on a free port and waits until it answers.
    pub fn start() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let port = free_port();
        let mut cmd = Command::new(Self::binary());
        cmd.args(["-H", "127.0.0.1", "-p", &port.to_string()]).current_dir(dir.path());
        let mut process = ServerProcess::spawn("moto_server", cmd, &dir.path().join("moto.log"), INSTALL);
        process.wait_http_ok(port, "/moto-api/", Duration::from_secs(60));
        Self { process, port, _dir: dir }
    }

    /// `http://127.0.0.1:PORT` — what `AWS_ENDPOINT_URL` would be.
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn log(&self) -> String {
        self.process.log()
    }

    /// Panics with `message` and moto's log.
    pub fn fail(&self, message: impl std::fmt::Display) -> ! {
        self.process.fail(message)
    }

    /// An SDK config aimed at this server, with static test credentials and [`REGION`].
    pub async fn sdk_config(&self) -> SdkConfig {
        aws_config::defaults(BehaviorVersion::latest())
            .region(Region::new(REGION))
            .endpoint_url(self.endpoint())
            .credentials_provider(Credentials::new("testing", "testing", None, None, "moto"))
            .load()
            .await
    }

    /// Starts moto's request recorder: every later request is kept, with its headers and body,
    /// so a test can see each attempt the SDK made (`amz-sdk-request: attempt=N; max=M`).
    pub async fn start_recording(&self) {
        self.control("/moto-api/recorder/start-recording", serde_json::json!({})).await
    }

    /// The requests recorded since [`Moto::start_recording`], in order.
    pub async fn recording(&self) -> Vec<RecordedRequest> {
        use base64::Engine as _;
        let url = format!("{}/moto-api/recorder/download-recording", self.endpoint());
        let text = match reqwest::get(&url).await {
            Ok(r) if r.status().is_success() => r.text().await.unwrap_or_else(|e| self.fail(format!("GET {url}: {e}"))),
            Ok(r) => self.fail(format!("GET {url}: HTTP {}", r.status())),
            Err(e) => self.fail(format!("GET {url}: {e}")),
        };
        text.lines()
            .filter(|l| !l.trim().is_empty())
            .map(|line| {
                let entry: serde_json::Value =
                    serde_json::from_str(line).unwrap_or_else(|e| self.fail(format!("recording line {line:?}: {e}")));
                let raw = entry["body"].as_str().unwrap_or_default();
                let body = if entry["body_encoded"] == true {
                    let bytes = base64::engine::general_purpose::STANDARD.decode(raw).unwrap_or_default();
                    String::from_utf8_lossy(&bytes).into_owned()
                } else {
                    raw.to_string()
                };
                let headers = entry["headers"]
                    .as_object()
                    .map(|h| {
                        h.iter()
                            .map(|(k, v)| (k.to_ascii_lowercase(), v.as_str().unwrap_or_default().to_string()))
                            .collect()
                    })
                    .unwrap_or_default();
                RecordedRequest { method: entry["method"].as_str().unwrap_or_default().to_string(), headers, body }
            })
            .collect()
    }

    /// `POST /moto-api/...` with a JSON body (moto's own control API, e.g. the state manager).
    pub async fn control(&self, path: &str, body: serde_json::Value) {
        let url = format!("{}{}", self.endpoint(), path);
        let r = reqwest::Client::new().post(&url).json(&body).send().await;
        match r {
            Ok(r) if r.status().is_success() => {}
            Ok(r) => self.fail(format!("POST {url}: HTTP {}", r.status())),
            Err(e) => self.fail(format!("POST {url}: {e}")),
        }
    }
}

/// One request as moto's recorder kept it; header names are lower case.
#[derive(Debug, Clone)]
pub struct RecordedRequest {
    pub method: String,
    pub headers: std::collections::BTreeMap<String, String>,
    pub body: String,
}
