//! Scale run: one exporter run over N series served by a real moto server, pushing to a real
//! Prometheus, to measure GetMetricData calls against the minimum, the exporter's CPU time and
//! its peak memory (figures in docs/benchmarks.md). Two subcommands, run as two processes so that `run`'s
//! figures are the exporter's alone:
//!
//!   scale seed N    PutMetricData of N series (namespace Scale, metric Load, dimension Id,
//!                   one datapoint each in the last complete minute), 1000 datums per call,
//!                   at most 5,000 series per region (see [`PER_REGION`])
//!   scale run N     one `run::run` with a customNamespace job over those series; prints the
//!                   run's summary, this process's CPU time (user + sys) measured around the run
//!                   only, and its peak RSS (VmHWM: the whole process, which only ever ran the
//!                   exporter — the seeding happened in the other process)
//!
//! Env: MOTO_URL (the moto server, e.g. http://127.0.0.1:5000), REMOTE_WRITE_URL (Prometheus'
//! /api/v1/write, `--web.enable-remote-write-receiver`). moto runs in its own process, so its CPU
//! is not in `cpu_s`; it is in the wall time. Driver: scripts/scale-cloudwatch-exporter.sh.

use std::time::{Duration, Instant};

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::Credentials;
use aws_sdk_cloudwatch::primitives::DateTime;
use aws_sdk_cloudwatch::types::{Dimension, MetricDatum};
use cloudwatch_exporter::settings::{AuthSetting, ConfigSource, Settings};
use cloudwatch_exporter::yace::ExporterConfig;

const NAMESPACE: &str = "Scale";
const METRIC: &str = "Load";
/// Datums per PutMetricData call (CloudWatch's limit; moto takes it).
const BATCH: usize = 1000;
/// Series per region. moto keeps one backend per region, and its ListMetrics compares every
/// datapoint with every metric found so far (quadratic in the region's size): 50,000 series in
/// one region do not answer within minutes, 10 regions of 5,000 do. The exporter's work is the
/// same either way (one job, every region in its `regions`).
const PER_REGION: usize = 5000;
const REGIONS: [&str; 12] = [
    "us-east-1",
    "us-east-2",
    "us-west-1",
    "us-west-2",
    "eu-west-1",
    "eu-west-2",
    "eu-west-3",
    "eu-central-1",
    "eu-north-1",
    "ap-southeast-1",
    "ap-southeast-2",
    "ap-northeast-1",
];

/// The regions `n` series are spread over.
fn regions(n: usize) -> &'static [&'static str] {
    let count = n.div_ceil(PER_REGION).max(1);
    assert!(count <= REGIONS.len(), "at most {} series", REGIONS.len() * PER_REGION);
    &REGIONS[..count]
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let parsed = match args.iter().map(String::as_str).collect::<Vec<_>>().as_slice() {
        ["seed", n] => n.parse::<usize>().ok().map(|n| (true, n)),
        ["run", n] => n.parse::<usize>().ok().map(|n| (false, n)),
        _ => None,
    };
    let Some((seed_mode, n)) = parsed else {
        eprintln!("usage: scale seed N | scale run N   (env MOTO_URL; run also REMOTE_WRITE_URL)");
        std::process::exit(2);
    };
    let sdk = sdk_config().await;
    if seed_mode {
        seed(&sdk, n).await
    } else {
        run(sdk, n).await
    }
}

fn env(name: &str) -> String {
    match std::env::var(name) {
        Ok(v) if !v.trim().is_empty() => v.trim().to_string(),
        _ => {
            eprintln!("scale: {name} is not set");
            std::process::exit(2);
        }
    }
}

/// moto at MOTO_URL with static test credentials, us-east-1 (as the integration tests use it).
async fn sdk_config() -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .endpoint_url(env("MOTO_URL"))
        .credentials_provider(Credentials::new("testing", "testing", None, None, "scale"))
        .load()
        .await
}

async fn seed(sdk: &SdkConfig, n: usize) {
    let clients: Vec<aws_sdk_cloudwatch::Client> = regions(n)
        .iter()
        .map(|r| {
            let conf = aws_sdk_cloudwatch::config::Builder::from(sdk).region(Region::new(*r)).build();
            aws_sdk_cloudwatch::Client::from_conf(conf)
        })
        .collect();
    let started = Instant::now();
    let mut calls = 0;
    let mut ts = 0;
    // BATCH divides PER_REGION, so a batch never spans two regions.
    for from in (0..n).step_by(BATCH) {
        let cw = &clients[from / PER_REGION];
        // The last complete minute at the time of the call (moto is slow to take a batch, ~3 s per
        // 1000 datums): the run's window [end - 300 s, end) holds it for another 4 minutes.
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
        ts = now / 60 * 60 - 60;
        let data: Vec<MetricDatum> = (from..(from + BATCH).min(n))
            .map(|i| {
                MetricDatum::builder()
                    .metric_name(METRIC)
                    .dimensions(Dimension::builder().name("Id").value(format!("i-{i:08}")).build())
                    .timestamp(DateTime::from_secs(ts))
                    .value(i as f64)
                    .build()
            })
            .collect();
        if let Err(e) = cw.put_metric_data().namespace(NAMESPACE).set_metric_data(Some(data)).send().await {
            eprintln!(
                "scale seed: PutMetricData of series {from}..: {}",
                aws_sdk_cloudwatch::error::DisplayErrorContext(&e)
            );
            std::process::exit(1);
        }
        calls += 1;
    }
    println!(
        "seeded series={n} regions={} put_metric_data_calls={calls} last_timestamp={ts} seed_s={:.1}",
        regions(n).len(),
        started.elapsed().as_secs_f64()
    );
}

async fn run(sdk: SdkConfig, n: usize) {
    // A 15-minute window: seeding 50,000 series takes minutes, and every datapoint must still
    // be in the window when the run queries its region.
    let yaml = format!(
        "customNamespace:\n  - name: scale\n    namespace: {NAMESPACE}\n    regions: [{}]\n    period: 60\n    length: 900\n    metrics:\n      - name: {METRIC}\n        statistics: [Average]\n",
        regions(n).join(", ")
    );
    let config = ExporterConfig::from_yaml(&yaml).unwrap();
    let settings = Settings {
        config: ConfigSource::Path("inline".into()),
        remote_write_url: env("REMOTE_WRITE_URL"),
        auth: AuthSetting::None,
        state: None,
        discovery_refresh: Duration::from_secs(300),
        max_backfill: Duration::from_secs(3600),
        get_metric_data_concurrency: 5,
        lease: Duration::from_secs(900),
        remote_write_max_retries: 2,
        aws_max_attempts: 5,
        labels_snake_case: false,
        extra_labels: vec![],
    };
    let deps = cloudwatch_exporter::Deps::new(settings, sdk).unwrap();
    let cpu_before = cpu_seconds();
    let started = Instant::now();
    let summary = match cloudwatch_exporter::run::run(&deps, &config, Some("scale")).await {
        Ok(s) => s,
        Err(e) => {
            eprintln!("scale run: {e}");
            std::process::exit(1);
        }
    };
    let wall = started.elapsed().as_secs_f64();
    let cpu = cpu_seconds() - cpu_before;
    if !summary.jobs_failed.is_empty() {
        eprintln!("scale run: failed jobs: {:?}", summary.jobs_failed);
        std::process::exit(1);
    }
    // Every seeded series has its one datapoint pushed, or the figures are not of a full run.
    let complete = summary.samples_pushed >= n as u64;
    println!(
        "series={n} regions={} metrics_requested={} get_metric_data_calls={} minimum={} api_requests={:?} samples_pushed={} dropped={:?} complete={complete} run_wall_s={wall:.1} exporter_cpu_s={cpu:.2} peak_rss_mb={:.1}",
        regions(n).len(),
        summary.metrics_requested,
        summary.get_metric_data_calls,
        summary.get_metric_data_minimum,
        summary.api_requests,
        summary.samples_pushed,
        summary.samples_dropped,
        peak_rss_kb() as f64 / 1024.0
    );
    if !complete {
        std::process::exit(1);
    }
}

/// utime + stime of this process, from /proc/self/stat (fields 14 and 15, in clock ticks of
/// 1/100 s — USER_HZ on Linux).
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after = stat.rsplit_once(") ").map(|(_, r)| r).unwrap_or("");
    let f: Vec<&str> = after.split_whitespace().collect();
    let tick = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    (tick(11) + tick(12)) / 100.0
}

/// VmHWM (peak resident set) of this process, in kB.
fn peak_rss_kb() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}
