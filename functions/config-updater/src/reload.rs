//! Reloading every Prometheus replica: each configured URL's host name is resolved to all of its
//! addresses (an ECS service's Cloud Map name has one per task), and each address gets
//! `POST /-/reload`, which Prometheus answers only once the new config is applied (or refused).

use std::collections::BTreeSet;
use std::net::SocketAddr;

use promstack::prometheus::{PrometheusClient, ReloadError};

/// One replica that did not take the reload.
#[derive(Debug)]
pub struct ReloadFailure {
    pub replica: String,
    pub cause: FailureCause,
}

/// Why a replica did not take the reload.
#[derive(Debug)]
pub enum FailureCause {
    /// The name resolved to no address: no replica is running behind it (yet), as opposed to a
    /// replica that refused or failed the reload.
    Unresolved(String),
    /// The replica was found; the reload (or reading its outcome back) failed.
    Reload(ReloadError),
}

impl ReloadFailure {
    pub fn unresolved(&self) -> bool {
        matches!(self.cause, FailureCause::Unresolved(_))
    }

    /// Prometheus refused the config (or reports its last load failed): only a new commit helps.
    /// Anything else (unreachable, restarting, a 5xx) may pass on the next try.
    pub fn refused(&self) -> bool {
        matches!(&self.cause, FailureCause::Reload(e) if !e.is_retryable())
    }

    pub fn message(&self) -> String {
        match &self.cause {
            FailureCause::Unresolved(m) => m.clone(),
            FailureCause::Reload(e) => e.to_string(),
        }
    }
}

/// What a reload round did.
#[derive(Debug, Default)]
pub struct ReloadReport {
    /// Base URLs (by address) that reloaded.
    pub reloaded: Vec<String>,
    pub failed: Vec<ReloadFailure>,
}

impl ReloadReport {
    pub fn ok(&self) -> bool {
        self.failed.is_empty() && !self.reloaded.is_empty()
    }

    /// No replica was found at all: every name failed to resolve, nothing refused anything.
    pub fn no_replica_running(&self) -> bool {
        self.reloaded.is_empty() && self.failed.iter().all(ReloadFailure::unresolved)
    }

    /// Some replica refused the config itself.
    pub fn refused(&self) -> bool {
        self.failed.iter().any(ReloadFailure::refused)
    }

    pub fn describe_failures(&self) -> String {
        describe(&self.failed, self.reloaded.is_empty())
    }
}

/// `replica: message; ...` for `failed`.
pub fn describe(failed: &[ReloadFailure], none_reloaded: bool) -> String {
    if none_reloaded && failed.is_empty() {
        return "no Prometheus replica was found to reload".into();
    }
    failed.iter().map(|f| format!("{}: {}", f.replica, f.message())).collect::<Vec<_>>().join("; ")
}

/// Every replica behind `urls`: one base URL per resolved address.
pub async fn replicas(urls: &[String]) -> (Vec<String>, Vec<ReloadFailure>) {
    let mut found = BTreeSet::new();
    let mut failed = Vec::new();
    for base in urls {
        match resolve(base).await {
            Ok(all) => found.extend(all),
            Err(message) => {
                failed.push(ReloadFailure { replica: base.clone(), cause: FailureCause::Unresolved(message) })
            }
        }
    }
    (found.into_iter().collect(), failed)
}

async fn resolve(base: &str) -> Result<Vec<String>, String> {
    let url = url::Url::parse(base).map_err(|e| format!("not a URL: {e}"))?;
    let host = url.host_str().ok_or("the URL has no host")?.to_string();
    let port = url.port_or_known_default().ok_or("the URL has no port")?;
    let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host.trim_matches(['[', ']']), port))
        .await
        .map_err(|e| format!("resolving {host}: {e}"))?
        .collect();
    if addrs.is_empty() {
        return Err(format!("{host} resolves to no address"));
    }
    let path = url.path().trim_end_matches('/');
    Ok(addrs.into_iter().map(|a| format!("{}://{a}{path}", url.scheme())).collect())
}

/// Reloads every replica and confirms each one reports a successful load.
pub async fn reload_all(urls: &[String]) -> ReloadReport {
    let (replicas, mut failed) = replicas(urls).await;
    let results = futures_util::future::join_all(replicas.iter().map(|r| reload_one(r.clone()))).await;
    let mut reloaded = Vec::new();
    for (replica, result) in replicas.into_iter().zip(results) {
        match result {
            Ok(()) => reloaded.push(replica),
            Err(e) => failed.push(ReloadFailure { replica, cause: FailureCause::Reload(e) }),
        }
    }
    tracing::info!(reloaded = reloaded.len(), failed = failed.len(), "reload round");
    ReloadReport { reloaded, failed }
}

async fn reload_one(base: String) -> Result<(), ReloadError> {
    let client = PrometheusClient::new(base.clone());
    client.reload().await?;
    let status = client.reload_status().await?;
    if status.success {
        Ok(())
    } else {
        let message = "the reload returned, but Prometheus reports the last config load failed".into();
        Err(ReloadError::Rejected { url: base, message })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn resolves_every_address_and_keeps_the_path() {
        let (found, failed) = replicas(&["http://127.0.0.1:9090/prom/".into(), "http://localhost:9091".into()]).await;
        assert!(failed.is_empty(), "{failed:?}");
        assert!(found.contains(&"http://127.0.0.1:9090/prom".to_string()), "{found:?}");
        assert!(found.iter().any(|u| u.ends_with(":9091")), "{found:?}");
        let (_, failed) = replicas(&["http://no-such-host.invalid:9090".into()]).await;
        assert_eq!(failed.len(), 1);
    }
}
