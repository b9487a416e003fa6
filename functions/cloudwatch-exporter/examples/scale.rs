//! Scale run: one exporter run over N series, to measure GetMetricData calls against the
//! minimum, the function's CPU time and its peak memory (README figures).
//!
//! moto's GetMetricData is quadratic in Python and cannot serve 10k+ series, so this example has
//! two modes, run as two processes so the measurement is the exporter's alone:
//!
//!   scale serve PORT N     a load generator speaking CloudWatch's query protocol (STS
//!                          GetCallerIdentity, ListMetrics in pages of 500 over N metrics,
//!                          GetMetricData with one datapoint per query); it counts the calls
//!   scale run N            one run with a customNamespace job over the N metrics, pushing to
//!                          REMOTE_WRITE_URL (a real Prometheus); AWS_ENDPOINT_URL = the generator
//!
//! `scripts` aside, see the README: `/usr/bin/time -v target/debug/examples/scale run 10000`.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use cloudwatch_exporter::settings::{AuthSetting, ConfigSource, Settings};
use cloudwatch_exporter::yace::ExporterConfig;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.iter().map(String::as_str).collect::<Vec<_>>().as_slice() {
        ["serve", port, n] => serve(port.parse().unwrap(), n.parse().unwrap()).await,
        ["run", n] => run(n.parse().unwrap()).await,
        _ => {
            eprintln!("usage: scale serve PORT N | scale run N");
            std::process::exit(2);
        }
    }
}

async fn run(n: usize) {
    let yaml = format!(
        "customNamespace:\n  - name: scale\n    namespace: Scale\n    regions: [us-east-1]\n    period: 60\n    length: 300\n    metrics:\n      - name: Load\n        statistics: [Average]\n# {n} series\n"
    );
    let config = ExporterConfig::from_yaml(&yaml).unwrap();
    let settings = Settings {
        config: ConfigSource::Path("inline".into()),
        remote_write_url: std::env::var("REMOTE_WRITE_URL").expect("REMOTE_WRITE_URL"),
        auth: AuthSetting::None,
        state: None,
        discovery_refresh: Duration::from_secs(300),
        max_backfill: Duration::from_secs(3600),
        get_metric_data_concurrency: 5,
        lease: Duration::from_secs(900),
        remote_write_max_retries: 2,
    };
    let deps = cloudwatch_exporter::Deps::new(settings, promstack::aws::sdk_config().await).unwrap();
    let cpu_before = cpu_seconds();
    let summary = cloudwatch_exporter::run::run(&deps, &config, Some("scale")).await.unwrap();
    let cpu = cpu_seconds() - cpu_before;
    println!(
        "series={n} metrics_requested={} get_metric_data_calls={} minimum={} samples_pushed={} dropped={:?} run_ms={} cpu_s={cpu:.2} peak_rss_kb={}",
        summary.metrics_requested,
        summary.get_metric_data_calls,
        summary.get_metric_data_minimum,
        summary.samples_pushed,
        summary.samples_dropped,
        summary.duration_ms,
        peak_rss_kb()
    );
}

/// utime + stime of this process, from /proc/self/stat (clock ticks of 1/100 s).
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after = stat.rsplit_once(") ").map(|(_, r)| r).unwrap_or("");
    let f: Vec<&str> = after.split_whitespace().collect();
    let ticks: f64 = f.get(11).and_then(|v| v.parse().ok()).unwrap_or(0.0) + f.get(12).and_then(|v| v.parse().ok()).unwrap_or(0.0);
    ticks / 100.0
}

fn peak_rss_kb() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches(" kB").trim().parse().ok())
        .unwrap_or(0)
}

struct Counts {
    gmd: AtomicU64,
    list: AtomicU64,
}

async fn serve(port: u16, n: usize) {
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await.unwrap();
    let counts = Arc::new(Counts { gmd: AtomicU64::new(0), list: AtomicU64::new(0) });
    eprintln!("scale generator on 127.0.0.1:{port}, {n} metrics");
    loop {
        let (mut sock, _) = listener.accept().await.unwrap();
        let counts = counts.clone();
        tokio::spawn(async move {
            let mut buf = Vec::new();
            loop {
                // Headers, then Content-Length bytes of form body.
                let head_end = loop {
                    if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                        break i + 4;
                    }
                    let mut chunk = [0u8; 65536];
                    match sock.read(&mut chunk).await {
                        Ok(0) | Err(_) => return,
                        Ok(k) => buf.extend_from_slice(&chunk[..k]),
                    }
                };
                let head = String::from_utf8_lossy(&buf[..head_end]).to_ascii_lowercase();
                let len: usize = head
                    .lines()
                    .find_map(|l| l.strip_prefix("content-length:"))
                    .and_then(|v| v.trim().parse().ok())
                    .unwrap_or(0);
                while buf.len() < head_end + len {
                    let mut chunk = [0u8; 65536];
                    match sock.read(&mut chunk).await {
                        Ok(0) | Err(_) => return,
                        Ok(k) => buf.extend_from_slice(&chunk[..k]),
                    }
                }
                let body = String::from_utf8_lossy(&buf[head_end..head_end + len]).to_string();
                buf.drain(..head_end + len);
                let xml = answer(&body, n, &counts);
                let resp = format!("HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\nContent-Length: {}\r\n\r\n{xml}", xml.len());
                if sock.write_all(resp.as_bytes()).await.is_err() {
                    return;
                }
            }
        });
    }
}

fn param<'a>(body: &'a str, key: &str) -> Option<&'a str> {
    body.split('&').find_map(|kv| kv.strip_prefix(key).and_then(|r| r.strip_prefix('=')))
}

fn answer(body: &str, n: usize, counts: &Counts) -> String {
    const CW: &str = "http://monitoring.amazonaws.com/doc/2010-08-01/";
    match param(body, "Action") {
        Some("GetCallerIdentity") => "<GetCallerIdentityResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><GetCallerIdentityResult><Arn>arn:aws:iam::123456789012:user/scale</Arn><UserId>SCALE</UserId><Account>123456789012</Account></GetCallerIdentityResult><ResponseMetadata><RequestId>1</RequestId></ResponseMetadata></GetCallerIdentityResponse>".to_string(),
        Some("ListMetrics") => {
            counts.list.fetch_add(1, Ordering::Relaxed);
            let from: usize = param(body, "NextToken").and_then(|t| t.parse().ok()).unwrap_or(0);
            let to = (from + 500).min(n);
            let mut xml = format!("<ListMetricsResponse xmlns=\"{CW}\"><ListMetricsResult><Metrics>");
            for i in from..to {
                xml.push_str(&format!("<member><Namespace>Scale</Namespace><MetricName>Load</MetricName><Dimensions><member><Name>Id</Name><Value>i-{i:08}</Value></member></Dimensions></member>"));
            }
            xml.push_str("</Metrics>");
            if to < n {
                xml.push_str(&format!("<NextToken>{to}</NextToken>"));
            }
            xml.push_str("</ListMetricsResult><ResponseMetadata><RequestId>1</RequestId></ResponseMetadata></ListMetricsResponse>");
            xml
        }
        Some("GetMetricData") => {
            let calls = counts.gmd.fetch_add(1, Ordering::Relaxed) + 1;
            let start = param(body, "StartTime").unwrap_or("2026-01-01T00%3A00%3A00Z").replace("%3A", ":");
            let mut xml = format!("<GetMetricDataResponse xmlns=\"{CW}\"><GetMetricDataResult><MetricDataResults>");
            for kv in body.split('&') {
                let Some((k, id)) = kv.split_once('=') else { continue };
                if k.starts_with("MetricDataQueries.member.") && k.ends_with(".Id") && !k.contains("MetricStat") {
                    xml.push_str(&format!("<member><Id>{id}</Id><Label>Load</Label><StatusCode>Complete</StatusCode><Timestamps><member>{start}</member></Timestamps><Values><member>{calls}.5</member></Values></member>"));
                }
            }
            xml.push_str("</MetricDataResults><Messages/></GetMetricDataResult><ResponseMetadata><RequestId>1</RequestId></ResponseMetadata></GetMetricDataResponse>");
            eprintln!("GetMetricData calls so far: {calls}, ListMetrics: {}", counts.list.load(Ordering::Relaxed));
            xml
        }
        other => format!("<ErrorResponse><Error><Code>InvalidAction</Code><Message>{other:?}</Message></Error></ErrorResponse>"),
    }
}
