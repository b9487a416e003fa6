//! The real-server harness the integration tests share. Each server is a struct that owns the
//! child process, its temp dir and its address: it starts on a free loopback port, waits until
//! the server answers, kills it on `Drop`, and puts the server's log into every failure message.
//!
//! Every test that starts a Prometheus runs once per version (`matrix`: 2.42 and 3.5), through
//! [`prometheus_matrix!`].
//!
//! Binaries: Prometheus 2.42 is Debian's package (`/usr/bin/prometheus`), 3.5 is what `make setup`
//! unpacks into `$PROMSTACK_CACHE/prometheus-3.5.3/`; `PROMSTACK_PROMETHEUS_BIN` overrides both.
//! `PROMSTACK_MOTO_SERVER` (default the venv that `make setup` creates). A missing binary fails
//! the test with the command that installs it; nothing is skipped.

pub mod bitbucket;
#[cfg(feature = "config-updater")]
pub mod config_updater;
#[cfg(any(feature = "cloudwatch-exporter", feature = "ecs-discovery"))]
pub mod ec2;
#[cfg(feature = "ecs-discovery")]
pub mod ecs;
pub mod faults;
pub mod git;
pub mod matrix;
mod moto;
mod process;
pub mod prometheus;
pub mod template;

pub use moto::{Moto, RecordedRequest};
pub use process::{free_port, ServerProcess};
pub use prometheus::{Prometheus, PrometheusBuilder};

/// Seconds since the Unix epoch, as a float (what Prometheus' HTTP API takes).
pub fn now_secs() -> f64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs_f64()
}

/// Milliseconds since the Unix epoch (remote-write timestamps).
pub fn now_ms() -> i64 {
    (now_secs() * 1000.0) as i64
}

/// An exporter config the exporter tests share: one custom-namespace metric (`MyApp` `Latency`,
/// Average, 60 s periods over 10 minutes) exported with CloudWatch's timestamps, every datapoint.
pub const TIMESTAMPED_QUEUE_CONFIG: &str = r#"
apiVersion: v1alpha1
customNamespace:
  - name: queue
    namespace: MyApp
    regions: [us-east-1]
    period: 60
    length: 600
    addCloudwatchTimestamp: true
    exportAllDataPoints: true
    metrics:
      - name: Latency
        statistics: [Average]
"#;
