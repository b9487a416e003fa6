//! The function's own series, pushed after every invocation with the shared remote-write client
//! to `REMOTE_WRITE_URL` (nothing is pushed when it is unset), each with the `EXTRA_LABELS`:
//!
//! - `ecs_discovery_targets{cluster}`: targets in the cluster's file after the invocation;
//! - `ecs_discovery_containers_skipped{cluster,reason}`: containers (or endpoints) with scrape
//!   labels but no usable target, by [`SkipCause`]. A reconcile sees the whole cluster and sends
//!   every reason, zeros included; an event sees one task and sends only the reasons it hit, so it
//!   never hides what the last reconcile found;
//! - `ecs_discovery_clusters_not_found{cluster}`: 1 when a cluster the reconcile was to cover was
//!   not found (a typo in `CLUSTERS`), else 0;
//! - `ecs_discovery_last_success_timestamp_seconds{cluster}`: when the cluster's file was last
//!   brought up to date (an applied event or a reconcile).
//!
//! A failed push is logged and changes nothing else: the files are already written.

use std::collections::BTreeMap;
use std::time::Duration;

use promstack::remote_write::{Client, Config, Series};

use crate::targets::{SkipCause, SkipCounts};

pub const TARGETS: &str = "ecs_discovery_targets";
pub const CONTAINERS_SKIPPED: &str = "ecs_discovery_containers_skipped";
pub const CLUSTERS_NOT_FOUND: &str = "ecs_discovery_clusters_not_found";
pub const LAST_SUCCESS: &str = "ecs_discovery_last_success_timestamp_seconds";

/// The labels the own series set themselves; `EXTRA_LABELS` may not name them.
pub const OWN_SERIES_LABELS: [&str; 2] = ["cluster", "reason"];

/// The most a push may add to an invocation (retries included): the files are written by then,
/// and the schedule pushes again within minutes.
pub const PUSH_BUDGET: Duration = Duration::from_secs(10);

/// What one invocation learnt about each cluster it concerned.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Figures {
    pub clusters: BTreeMap<String, ClusterFigures>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct ClusterFigures {
    /// Targets in the cluster's file after the invocation; `None` when it was not updated.
    pub targets: Option<usize>,
    /// Skipped containers by cause.
    pub skipped: SkipCounts,
    /// Whether `skipped` covers the whole cluster (a reconcile): every reason is then sent,
    /// zeros included.
    pub skipped_whole_cluster: bool,
    /// For a reconcile: whether the cluster was not found.
    pub not_found: Option<bool>,
    /// Whether the cluster's file was brought up to date.
    pub succeeded: bool,
}

impl Figures {
    pub fn cluster(&mut self, cluster: &str) -> &mut ClusterFigures {
        self.clusters.entry(cluster.to_string()).or_default()
    }

    /// The series for these figures at `now_ms`, with `extra` labels on each.
    pub fn series(&self, now_ms: i64, extra: &[(String, String)]) -> Vec<Series> {
        let mut out = Vec::new();
        let mut one = |name: &str, labels: &[(&str, &str)], value: f64| {
            let all = labels.iter().copied().chain(extra.iter().map(|(n, v)| (n.as_str(), v.as_str())));
            match Series::new(name, all) {
                Ok(mut series) => {
                    series.push(now_ms, value);
                    out.push(series);
                }
                // Only a cluster name Prometheus cannot take as a label value gets here.
                Err(e) => tracing::warn!(series = name, error = %e, "own series left out"),
            }
        };
        for (cluster, f) in &self.clusters {
            let cluster_label = [("cluster", cluster.as_str())];
            if let Some(targets) = f.targets {
                one(TARGETS, &cluster_label, targets as f64);
            }
            for cause in SkipCause::ALL {
                let count = f.skipped.get(&cause).copied().unwrap_or(0);
                if count > 0 || f.skipped_whole_cluster {
                    one(CONTAINERS_SKIPPED, &[("cluster", cluster), ("reason", cause.as_str())], count as f64);
                }
            }
            if let Some(not_found) = f.not_found {
                one(CLUSTERS_NOT_FOUND, &cluster_label, if not_found { 1.0 } else { 0.0 });
            }
            if f.succeeded {
                one(LAST_SUCCESS, &cluster_label, now_ms as f64 / 1000.0);
            }
        }
        out
    }
}

/// Where the own series go, built once per Lambda container.
#[derive(Debug, Clone)]
pub struct OwnSeries {
    client: Option<Client>,
    extra_labels: Vec<(String, String)>,
}

impl OwnSeries {
    /// Logs once (per Lambda container) where the series go, or that they go nowhere.
    pub fn new(url: Option<&str>, extra_labels: Vec<(String, String)>) -> Self {
        let client = match url {
            None => {
                tracing::info!("REMOTE_WRITE_URL is not set: ecs-discovery pushes no series of its own");
                None
            }
            Some(url) => match Client::new(Config::new(url)) {
                Ok(client) => {
                    tracing::info!(url, "own series are pushed to REMOTE_WRITE_URL");
                    Some(client)
                }
                // The settings refuse such a URL; a Config built in code may still hold one.
                Err(e) => {
                    tracing::error!(url, error = %e, "REMOTE_WRITE_URL unusable: no series of its own are pushed");
                    None
                }
            },
        };
        Self { client, extra_labels }
    }

    /// Pushes `figures` (nothing when there is nowhere to push or nothing to say). A failure is
    /// logged with what was not pushed and returned; the caller goes on.
    pub async fn push(&self, figures: &Figures) -> Result<(), promstack::remote_write::Error> {
        let Some(client) = &self.client else { return Ok(()) };
        let series = figures.series(now_ms(), &self.extra_labels);
        if series.is_empty() {
            return Ok(());
        }
        let deadline = tokio::time::Instant::now() + PUSH_BUDGET;
        match client.until(deadline).push(&series).await {
            Ok(report) => {
                for r in &report.rejected {
                    tracing::warn!(series = %r.series, reason = %r.reason, "own series refused by Prometheus");
                }
                tracing::debug!(series = series.len(), samples = report.samples_sent, "own series pushed");
                Ok(())
            }
            Err(e) => {
                tracing::error!(error = %e, series = series.len(), "own series not pushed; the file_sd files are written");
                Err(e)
            }
        }
    }
}

fn now_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shown(series: &[Series]) -> Vec<String> {
        let mut out: Vec<String> = series
            .iter()
            .map(|s| {
                let labels: Vec<String> = s.labels().iter().map(|l| format!("{}={}", l.name, l.value)).collect();
                let mut s = s.clone();
                format!("{} {}", labels.join(","), s.samples()[0].value)
            })
            .collect();
        out.sort();
        out
    }

    #[test]
    fn a_reconcile_sends_every_reason_and_an_event_only_the_ones_it_hit() {
        let mut figures = Figures::default();
        let prod = figures.cluster("prod");
        prod.targets = Some(3);
        prod.skipped = SkipCounts::from([(SkipCause::InvalidPortLabel, 2)]);
        prod.skipped_whole_cluster = true;
        prod.not_found = Some(false);
        prod.succeeded = true;
        figures.cluster("prdo").not_found = Some(true);
        let event = figures.cluster("batch");
        event.targets = Some(1);
        event.skipped = SkipCounts::from([(SkipCause::NoTaskIp, 1)]);
        event.succeeded = true;
        let extra = [("stack".to_string(), "obs".to_string())];
        let got = shown(&figures.series(1_700_000_000_000, &extra));
        let want = [
            "__name__=ecs_discovery_clusters_not_found,cluster=prdo,stack=obs 1",
            "__name__=ecs_discovery_clusters_not_found,cluster=prod,stack=obs 0",
            "__name__=ecs_discovery_containers_skipped,cluster=batch,reason=no_task_ip,stack=obs 1",
            "__name__=ecs_discovery_containers_skipped,cluster=prod,reason=invalid_port_label,stack=obs 2",
            "__name__=ecs_discovery_containers_skipped,cluster=prod,reason=invalid_scheme_label,stack=obs 0",
            "__name__=ecs_discovery_containers_skipped,cluster=prod,reason=network_mode_none,stack=obs 0",
            "__name__=ecs_discovery_containers_skipped,cluster=prod,reason=no_instance_ip,stack=obs 0",
            "__name__=ecs_discovery_containers_skipped,cluster=prod,reason=no_port_binding,stack=obs 0",
            "__name__=ecs_discovery_containers_skipped,cluster=prod,reason=no_task_ip,stack=obs 0",
            "__name__=ecs_discovery_last_success_timestamp_seconds,cluster=batch,stack=obs 1700000000",
            "__name__=ecs_discovery_last_success_timestamp_seconds,cluster=prod,stack=obs 1700000000",
            "__name__=ecs_discovery_targets,cluster=batch,stack=obs 1",
            "__name__=ecs_discovery_targets,cluster=prod,stack=obs 3",
        ];
        assert_eq!(got, want);
    }
}
