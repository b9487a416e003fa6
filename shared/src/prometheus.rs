//! Prometheus' lifecycle API: ask for a config reload and read back whether it took.

use std::time::Duration;

/// Why a reload did not happen.
#[derive(Debug, thiserror::Error)]
pub enum ReloadError {
    #[error("Prometheus at {0} has the lifecycle API disabled (HTTP 403): start it with --web.enable-lifecycle")]
    LifecycleDisabled(String),
    #[error("Prometheus at {url} rejected the configuration: {message}")]
    Rejected { url: String, message: String },
    #[error("Prometheus at {url} answered the reload with HTTP {status}: {body}")]
    Unexpected { url: String, status: u16, body: String },
    #[error("Prometheus at {url} could not be reached: {message}")]
    Unreachable { url: String, message: String },
}

impl ReloadError {
    /// Whether trying again later may help (the config itself is fine).
    pub fn is_retryable(&self) -> bool {
        matches!(self, ReloadError::Unreachable { .. })
            || matches!(self, ReloadError::Unexpected { status, .. } if *status >= 500)
    }
}

/// The outcome of the last reload, as Prometheus reports it in `/api/v1/status/runtimeinfo`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReloadStatus {
    pub success: bool,
    /// RFC 3339 time of the last successful load.
    pub last_config_time: String,
}

/// A client for one Prometheus server.
#[derive(Debug, Clone)]
pub struct PrometheusClient {
    base: String,
    http: reqwest::Client,
}

impl PrometheusClient {
    /// `base` is the server's root URL, e.g. `http://10.0.1.5:9090`.
    pub fn new(base: impl Into<String>) -> Self {
        let base = base.into().trim_end_matches('/').to_string();
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()
            .expect("a reqwest client with default TLS settings builds");
        Self { base, http }
    }

    pub fn base_url(&self) -> &str {
        &self.base
    }

    /// `POST /-/reload`. Returns once Prometheus has applied the new configuration.
    pub async fn reload(&self) -> Result<(), ReloadError> {
        let url = format!("{}/-/reload", self.base);
        let response = self
            .http
            .post(&url)
            .send()
            .await
            .map_err(|e| ReloadError::Unreachable { url: self.base.clone(), message: e.to_string() })?;
        let status = response.status().as_u16();
        let body = response.text().await.unwrap_or_default().trim().to_string();
        match status {
            200..=299 => Ok(()),
            403 => Err(ReloadError::LifecycleDisabled(self.base.clone())),
            500 => Err(ReloadError::Rejected { url: self.base.clone(), message: body }),
            _ => Err(ReloadError::Unexpected { url: self.base.clone(), status, body }),
        }
    }

    /// Whether the last reload succeeded, from `/api/v1/status/runtimeinfo`.
    pub async fn reload_status(&self) -> Result<ReloadStatus, ReloadError> {
        let url = format!("{}/api/v1/status/runtimeinfo", self.base);
        let unreachable = |message: String| ReloadError::Unreachable { url: self.base.clone(), message };
        let response = self.http.get(&url).send().await.map_err(|e| unreachable(e.to_string()))?;
        let status = response.status().as_u16();
        if status != 200 {
            let body = response.text().await.unwrap_or_default();
            return Err(ReloadError::Unexpected { url: self.base.clone(), status, body });
        }
        let json: serde_json::Value = response.json().await.map_err(|e| unreachable(e.to_string()))?;
        let data = &json["data"];
        let success = data["reloadConfigSuccess"]
            .as_bool()
            .ok_or_else(|| unreachable(format!("runtimeinfo without reloadConfigSuccess: {json}")))?;
        let last_config_time = data["lastConfigTime"].as_str().unwrap_or_default().to_string();
        Ok(ReloadStatus { success, last_config_time })
    }
}
