//! What a run reports: the [`Summary`] it returns and logs as one line, and the same figures as
//! its own series, `cloudwatch_exporter_run_*`, pushed after the data.
//!
//! `cloudwatch_exporter_run_remote_write_replicas` counts the addresses behind the remote-write
//! host the data went to, and `cloudwatch_exporter_run_remote_write_replicas_failed` those that did
//! not take all of it (the summary names each with its error). Such a run keeps its watermarks, so
//! the next run sends the same datapoints to every replica again (see `run`).
//!
//! `cloudwatch_exporter_run_jobs_without_resources` counts the (job, region, role) whose
//! namespace has resources (resource types for the tagging API, or a lookup of its own such as
//! Auto Scaling groups) and found none through the search tags and filters: such a job exports
//! nothing there, neither metrics nor `_info`, as YACE does, and the summary's
//! `jobs_without_resources` names them. Usually a search tag that matches nothing.

use std::collections::BTreeMap;

use promstack::remote_write::Series;
use serde::Serialize;

/// The prefix of the run's own series.
pub const SELF_PREFIX: &str = "cloudwatch_exporter_run_";

/// A job that failed in one region and account.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct JobFailure {
    pub job: String,
    pub region: String,
    pub role: String,
    pub error: String,
}

/// A job that exported nothing in one region and account because its namespace has resources
/// and none was found there.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct JobWithoutResources {
    pub job: String,
    pub region: String,
    pub role: String,
}

/// A remote-write replica that did not take all of the run's data.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReplicaFailure {
    /// Its address, `ip:port`.
    pub replica: String,
    pub error: String,
}

/// What a run did; logged as one line and returned as the invocation's result.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Summary {
    /// Why the run did nothing (a duplicate invocation, another run in progress).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub skipped: Option<String>,
    pub jobs: usize,
    pub jobs_failed: Vec<JobFailure>,
    pub jobs_without_resources: Vec<JobWithoutResources>,
    pub api_requests: BTreeMap<String, u64>,
    /// (metric, statistic) queries asked of GetMetricData.
    pub metrics_requested: usize,
    pub get_metric_data_calls: usize,
    /// ceil(queries / 500) per window: the least the run could have made.
    pub get_metric_data_minimum: usize,
    pub discovery_cached: usize,
    pub series: usize,
    pub samples_pushed: u64,
    pub samples_dropped: BTreeMap<String, u64>,
    pub remote_write_requests: u32,
    /// The addresses behind the remote-write host that the data went to.
    pub remote_write_replicas: usize,
    pub remote_write_replicas_failed: Vec<ReplicaFailure>,
    pub duration_ms: u64,
}

impl Summary {
    /// A run that stood down.
    pub fn skipped(reason: String, duration_ms: u64) -> Self {
        tracing::info!(reason = %reason, "run skipped");
        Summary { skipped: Some(reason), duration_ms, ..Default::default() }
    }

    /// The one "run finished" line.
    pub fn log(&self) {
        tracing::info!(
            summary = %serde_json::to_string(self).unwrap_or_default(),
            jobs = self.jobs,
            jobs_failed = self.jobs_failed.len(),
            jobs_without_resources = self.jobs_without_resources.len(),
            metrics_requested = self.metrics_requested,
            get_metric_data_calls = self.get_metric_data_calls,
            samples_pushed = self.samples_pushed,
            samples_dropped = self.samples_dropped.values().sum::<u64>(),
            remote_write_replicas_failed = self.remote_write_replicas_failed.len(),
            duration_ms = self.duration_ms,
            "run finished"
        );
    }
}

/// A short, bounded reason for a sample Prometheus refused.
pub fn rejection_reason(reason: &str) -> &'static str {
    let r = reason.to_ascii_lowercase();
    if r.contains("out of bounds") || r.contains("too old") {
        "too_old"
    } else if r.contains("out of order") {
        "out_of_order"
    } else if r.contains("duplicate") {
        "duplicate"
    } else {
        "rejected"
    }
}

/// The run's figures as series named `cloudwatch_exporter_run_*`.
pub fn self_series(s: &Summary, ts: i64) -> Vec<Series> {
    let mut out = Vec::new();
    let mut one = |name: &str, labels: Vec<(&str, String)>, value: f64| {
        if let Ok(mut series) = Series::new(&format!("{SELF_PREFIX}{name}"), labels) {
            series.push(ts, value);
            out.push(series);
        }
    };
    for (api, n) in &s.api_requests {
        one("api_requests", vec![("api", api.clone())], *n as f64);
    }
    one("metrics_requested", vec![], s.metrics_requested as f64);
    one("get_metric_data_calls", vec![], s.get_metric_data_calls as f64);
    one("series", vec![], s.series as f64);
    one("samples_pushed", vec![], s.samples_pushed as f64);
    for reason in ["too_old", "out_of_order", "duplicate", "rejected", "invalid_labels", "duplicate_query"] {
        one(
            "samples_dropped",
            vec![("reason", reason.to_string())],
            *s.samples_dropped.get(reason).unwrap_or(&0) as f64,
        );
    }
    one("remote_write_replicas", vec![], s.remote_write_replicas as f64);
    one("remote_write_replicas_failed", vec![], s.remote_write_replicas_failed.len() as f64);
    // Not a `samples_dropped` reason, whose set of series is fixed.
    one("label_collision_samples_dropped", vec![], *s.samples_dropped.get("label_collision").unwrap_or(&0) as f64);
    one("jobs", vec![], s.jobs as f64);
    one("jobs_failed", vec![], s.jobs_failed.len() as f64);
    one("jobs_without_resources", vec![], s.jobs_without_resources.len() as f64);
    one("duration_seconds", vec![], s.duration_ms as f64 / 1000.0);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prometheus_refusals_map_to_a_few_reasons() {
        assert_eq!(rejection_reason("out of bounds"), "too_old");
        assert_eq!(rejection_reason("sample timestamp too old"), "too_old");
        assert_eq!(rejection_reason("out of order sample"), "out_of_order");
        assert_eq!(rejection_reason("duplicate sample for timestamp"), "duplicate");
        assert_eq!(rejection_reason("label name invalid"), "rejected");
    }

    #[test]
    fn label_collisions_have_their_own_series_even_at_zero() {
        let value = |summary: &Summary| {
            let series = self_series(summary, 1);
            let s = series.iter().find(|s| s.name() == "cloudwatch_exporter_run_label_collision_samples_dropped");
            s.map(|s| s.to_proto().samples[0].value)
        };
        assert_eq!(value(&Summary::default()), Some(0.0));
        let summary =
            Summary { samples_dropped: BTreeMap::from([("label_collision".into(), 3)]), ..Default::default() };
        assert_eq!(value(&summary), Some(3.0));
    }

    #[test]
    fn every_drop_reason_has_a_series_even_at_zero() {
        let summary = Summary { samples_dropped: BTreeMap::from([("too_old".into(), 2)]), ..Default::default() };
        let dropped: Vec<(String, f64)> = self_series(&summary, 1)
            .iter()
            .filter(|s| s.name() == "cloudwatch_exporter_run_samples_dropped")
            .map(|s| (s.label("reason").unwrap().to_string(), s.to_proto().samples[0].value))
            .collect();
        assert_eq!(dropped.len(), 6, "{dropped:?}");
        assert!(dropped.contains(&("too_old".into(), 2.0)) && dropped.contains(&("duplicate_query".into(), 0.0)));
    }

    #[test]
    fn failed_replicas_are_counted_next_to_all_replicas() {
        let failure = ReplicaFailure { replica: "10.0.1.6:9090".into(), error: "connection refused".into() };
        let summary =
            Summary { remote_write_replicas: 2, remote_write_replicas_failed: vec![failure], ..Default::default() };
        let value = |name: &str| {
            let series = self_series(&summary, 1);
            let found: Vec<f64> =
                series.iter().filter(|s| s.name() == name).map(|s| s.to_proto().samples[0].value).collect();
            found
        };
        assert_eq!(value("cloudwatch_exporter_run_remote_write_replicas"), [2.0]);
        assert_eq!(value("cloudwatch_exporter_run_remote_write_replicas_failed"), [1.0]);
        let logged = serde_json::to_value(&summary).unwrap();
        assert_eq!(logged["remote_write_replicas_failed"][0]["replica"], "10.0.1.6:9090");
        assert_eq!(logged["remote_write_replicas_failed"][0]["error"], "connection refused");
    }
}
