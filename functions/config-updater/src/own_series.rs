//! The function's own series, so the stack can alert on its deploys: pushed after every deploy,
//! sync and restore through the shared remote-write client to `REMOTE_WRITE_URL`, with the
//! `EXTRA_LABELS` labels on each.
//!
//! - `config_updater_deploys_total{result}`: deploys by what they did, `deployed`, `unchanged`,
//!   `invalid`, `failed` or `pending` (written, not confirmed by every replica: unreachable,
//!   or `sync --no-reload`). Every result is sent, 0 until it happens, so `increase()` sees the
//!   first one;
//! - `config_updater_last_successful_deploy_timestamp_seconds`: when a release was last confirmed
//!   by every replica (not sent until one was);
//! - `config_updater_reload_failures_total`: deploys whose reload round failed (a replica
//!   refused, could not be reached, or none was running).
//!
//! A Lambda keeps nothing between invocations, so the totals live on the volume,
//! `.promstack/own-series.json`, written atomically under a lock of its own (a deploy holds the
//! volume's lock for its whole run; counting must not wait for it). A push that fails is logged
//! and forgotten: it never fails a deploy, and [`PUSH_BUDGET`] bounds how long it can hold up the
//! webhook's answer.

use std::collections::BTreeMap;
use std::io;
use std::path::Path;
use std::time::Duration;

use promstack::files::{write_atomic, FileLock};
use promstack::remote_write::{Client, Config, RetryPolicy, Series};
use serde::{Deserialize, Serialize};

use crate::rollout::{Outcome, Result_};
use crate::Error;

pub const COUNTS_FILE: &str = ".promstack/own-series.json";
const COUNTS_LOCK: &str = ".promstack/own-series.lock";
/// Counting is a read and a write of a small file; waiting longer means the volume is in trouble.
const COUNTS_LOCK_TIMEOUT: Duration = Duration::from_secs(5);
/// The most a push may add to an invocation, retries included.
pub const PUSH_BUDGET: Duration = Duration::from_secs(3);

pub const DEPLOYS_TOTAL: &str = "config_updater_deploys_total";
pub const LAST_SUCCESSFUL_DEPLOY: &str = "config_updater_last_successful_deploy_timestamp_seconds";
pub const RELOAD_FAILURES_TOTAL: &str = "config_updater_reload_failures_total";

/// The `result` label of `config_updater_deploys_total`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeployResult {
    Deployed,
    Unchanged,
    Invalid,
    Failed,
    Pending,
}

impl DeployResult {
    pub const ALL: [DeployResult; 5] = [
        DeployResult::Deployed,
        DeployResult::Unchanged,
        DeployResult::Invalid,
        DeployResult::Failed,
        DeployResult::Pending,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            DeployResult::Deployed => "deployed",
            DeployResult::Unchanged => "unchanged",
            DeployResult::Invalid => "invalid",
            DeployResult::Failed => "failed",
            DeployResult::Pending => "pending",
        }
    }

    /// What a deploy, sync or restore came to; `None` for what deploys nothing (a pull request
    /// validated, a ping, an ignored event).
    pub fn of(result: &Result<Outcome, Error>) -> Option<Self> {
        Some(match result {
            Ok(o) => match o.result {
                Result_::Deployed | Result_::Restored => DeployResult::Deployed,
                Result_::Unchanged => DeployResult::Unchanged,
                Result_::Written => DeployResult::Pending,
                Result_::Validated | Result_::Ignored | Result_::Ping => return None,
            },
            Err(Error::Invalid(_)) => DeployResult::Invalid,
            Err(Error::Unconfirmed { .. }) => DeployResult::Pending,
            Err(_) => DeployResult::Failed,
        })
    }
}

/// Whether `result` failed in its reload round.
pub fn reload_failed(result: &Result<Outcome, Error>) -> bool {
    matches!(result, Err(Error::Reload(_) | Error::Unconfirmed { .. } | Error::NoReplica { .. }))
}

/// The totals kept on the volume.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counts {
    /// By `result` label.
    #[serde(default)]
    pub deploys: BTreeMap<String, u64>,
    #[serde(default)]
    pub reload_failures: u64,
    /// Seconds since the epoch.
    #[serde(default)]
    pub last_successful_deploy: Option<u64>,
    /// When these totals were counted (milliseconds since the epoch): the samples' timestamp. Taken
    /// under the lock, so a push of older totals that arrives late is refused as out of order
    /// instead of showing Prometheus a counter that went down.
    #[serde(default)]
    pub counted_at_ms: i64,
}

impl Counts {
    /// Adds one deploy that came to `result` at `now_ms` (milliseconds since the epoch).
    pub fn count(&mut self, result: DeployResult, reload_failed: bool, now_ms: i64) {
        *self.deploys.entry(result.as_str().to_string()).or_default() += 1;
        if reload_failed {
            self.reload_failures += 1;
        }
        if result == DeployResult::Deployed {
            self.last_successful_deploy = Some((now_ms / 1000) as u64);
        }
        self.counted_at_ms = now_ms;
    }

    /// The series to push, one sample each at the time they were counted, with `extra` labels.
    pub fn series(&self, extra: &[(String, String)]) -> Result<Vec<Series>, Error> {
        let timestamp_ms = self.counted_at_ms;
        let labelled = |name: &str, own: Option<(&str, &str)>, value: f64| {
            let labels = extra.iter().map(|(k, v)| (k.as_str(), v.as_str())).chain(own);
            let mut series =
                Series::new(name, labels).map_err(|e| Error::OwnSeries(format!("{name}: {e} (check EXTRA_LABELS)")))?;
            series.push(timestamp_ms, value);
            Ok::<_, Error>(series)
        };
        let mut out = Vec::new();
        for result in DeployResult::ALL {
            let n = self.deploys.get(result.as_str()).copied().unwrap_or(0);
            out.push(labelled(DEPLOYS_TOTAL, Some(("result", result.as_str())), n as f64)?);
        }
        out.push(labelled(RELOAD_FAILURES_TOTAL, None, self.reload_failures as f64)?);
        if let Some(at) = self.last_successful_deploy {
            out.push(labelled(LAST_SUCCESSFUL_DEPLOY, None, at as f64)?);
        }
        Ok(out)
    }
}

/// Reads the totals under `root` (none yet: zero). A file that does not parse starts them
/// again from zero, as a restarted process would: Prometheus' counter functions handle the reset.
pub fn read_counts(root: &Path) -> Result<Counts, Error> {
    let path = root.join(COUNTS_FILE);
    match std::fs::read(&path) {
        Ok(bytes) => Ok(serde_json::from_slice(&bytes).unwrap_or_else(|e| {
            tracing::warn!(path = %path.display(), error = %e, "own-series totals unreadable; starting again from zero");
            Counts::default()
        })),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(Counts::default()),
        Err(e) => Err(Error::Volume { path: path.display().to_string(), source: e }),
    }
}

/// Adds one deploy to the totals under `root` and returns them.
pub async fn count(root: &Path, result: DeployResult, reload_failed: bool) -> Result<Counts, Error> {
    crate::deploy::prepare(root)?;
    let lock_path = root.join(COUNTS_LOCK);
    let lock = FileLock::acquire_async(lock_path.clone(), COUNTS_LOCK_TIMEOUT)
        .await
        .map_err(|e| Error::Volume { path: lock_path.display().to_string(), source: e })?;
    let mut counts = read_counts(root)?;
    let now_ms =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0);
    counts.count(result, reload_failed, now_ms);
    let path = root.join(COUNTS_FILE);
    let bytes = serde_json::to_vec_pretty(&counts).expect("the totals serialise");
    write_atomic(&path, &bytes).map_err(|e| Error::Volume { path: path.display().to_string(), source: e })?;
    drop(lock);
    Ok(counts)
}

/// Where the own series go: `REMOTE_WRITE_URL`, with the `EXTRA_LABELS` labels.
#[derive(Debug, Clone)]
pub struct OwnSeries {
    client: Client,
    extra_labels: Vec<(String, String)>,
}

impl OwnSeries {
    pub fn new(remote_write_url: &str, extra_labels: Vec<(String, String)>) -> Result<Self, Error> {
        let mut config = Config::new(remote_write_url);
        // A handful of samples: a short timeout and two quick retries fit in the budget.
        config.timeout = Duration::from_secs(1);
        config.retry =
            RetryPolicy { initial: Duration::from_millis(100), max_delay: Duration::from_millis(500), max_retries: 2 };
        let client =
            Client::new(config).map_err(|e| Error::OwnSeries(format!("REMOTE_WRITE_URL {remote_write_url:?}: {e}")))?;
        Ok(OwnSeries { client, extra_labels })
    }

    /// Pushes `counts`, within [`PUSH_BUDGET`]; a failure is logged, not returned.
    pub async fn push(&self, counts: &Counts) {
        let series = match counts.series(&self.extra_labels) {
            Ok(s) => s,
            Err(e) => return tracing::warn!(error = %e, "own series not pushed"),
        };
        let client = self.client.until(tokio::time::Instant::now() + PUSH_BUDGET);
        // The deadline bounds the requests; this bounds the name lookup as well.
        match tokio::time::timeout(PUSH_BUDGET + Duration::from_millis(500), client.push(&series)).await {
            Ok(Ok(report)) if report.rejected.is_empty() => {
                tracing::debug!(samples = report.samples_sent, "own series pushed")
            }
            Ok(Ok(report)) => tracing::warn!(rejected = ?report.rejected, "own series partly refused"),
            Ok(Err(e)) => tracing::warn!(error = %e, "own series not pushed"),
            Err(_) => tracing::warn!(budget = ?PUSH_BUDGET, "own series not pushed within the budget"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_add_up_and_every_result_is_sent() {
        let mut counts = Counts::default();
        counts.count(DeployResult::Invalid, false, 10_000);
        counts.count(DeployResult::Deployed, false, 20_500);
        counts.count(DeployResult::Pending, true, 30_000);
        assert_eq!(counts.last_successful_deploy, Some(20));
        assert_eq!(counts.reload_failures, 1);
        let extra = vec![("stack".to_string(), "prod".to_string())];
        let mut series = counts.series(&extra).unwrap();
        assert!(
            series.iter_mut().all(|s| s.samples().iter().all(|x| x.timestamp == 30_000)),
            "counted at the last count"
        );
        let mut seen: Vec<(String, Option<String>, Option<String>)> = series
            .iter()
            .map(|s| {
                (s.name().to_string(), s.label("result").map(str::to_string), s.label("stack").map(str::to_string))
            })
            .collect();
        seen.sort();
        let results: Vec<&str> =
            seen.iter().filter(|(n, ..)| n == DEPLOYS_TOTAL).filter_map(|(_, r, _)| r.as_deref()).collect();
        assert_eq!(results, ["deployed", "failed", "invalid", "pending", "unchanged"]);
        assert!(seen.iter().all(|(_, _, stack)| stack.as_deref() == Some("prod")), "{seen:?}");
        assert_eq!(series.len(), 7);
        // Nothing confirmed yet: no timestamp series.
        assert_eq!(Counts::default().series(&[]).unwrap().len(), 6);
    }

    #[tokio::test]
    async fn totals_are_kept_on_the_volume_and_a_bad_file_starts_again() {
        let dir = tempfile::tempdir().unwrap();
        count(dir.path(), DeployResult::Deployed, false).await.unwrap();
        let counts = count(dir.path(), DeployResult::Failed, true).await.unwrap();
        assert_eq!(read_counts(dir.path()).unwrap(), counts);
        assert_eq!((counts.deploys["deployed"], counts.deploys["failed"], counts.reload_failures), (1, 1, 1));
        std::fs::write(dir.path().join(COUNTS_FILE), "{not json").unwrap();
        assert_eq!(read_counts(dir.path()).unwrap(), Counts::default());
    }

    #[test]
    fn a_bad_remote_write_url_is_named() {
        let err = OwnSeries::new("not a url", vec![]).unwrap_err();
        assert!(err.to_string().contains("REMOTE_WRITE_URL \"not a url\""), "{err}");
    }
}
