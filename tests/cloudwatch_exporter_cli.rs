//! `cloudwatch-exporter run --dry-run` run as a person runs it, the built binary with
//! `AWS_ENDPOINT_URL` aimed at moto: its output read by `promtool check metrics` (Prometheus' own
//! parser of the text exposition format), and nothing kept (the state bucket stays empty). And
//! AWS errors from moto's real answers, as `promstack::aws::describe` words them.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use aws_sdk_cloudwatch::primitives::DateTime;
use aws_sdk_cloudwatch::types::{Dimension, MetricDatum};
use harness::{free_port, now_secs, Moto};

/// The `cloudwatch-exporter` binary of this build (cargo builds only the root package's own
/// targets for this test, so it is built here; when it is fresh this is a no-op).
fn exporter_binary() -> PathBuf {
    let exe = std::env::current_exe().expect("the test binary's path");
    // TARGET/PROFILE/deps/cloudwatch_exporter_cli-HASH
    let profile_dir = exe.parent().and_then(Path::parent).expect("the profile directory");
    let target_dir = profile_dir.parent().expect("the target directory");
    let mut build = Command::new(env!("CARGO"));
    build.args(["build", "--quiet", "-p", "cloudwatch-exporter", "--bin", "cloudwatch-exporter", "--target-dir"]);
    build.arg(target_dir).current_dir(env!("CARGO_MANIFEST_DIR"));
    if profile_dir.ends_with("release") {
        build.arg("--release");
    }
    let status = build.status().expect("cargo runs");
    assert!(status.success(), "building cloudwatch-exporter failed");
    profile_dir.join("cloudwatch-exporter")
}

/// The dry run with moto as AWS, in a shell that has the deployed function's variables.
fn dry_run(moto: &Moto, config: &str) -> Output {
    Command::new(exporter_binary())
        .args(["run", "--dry-run", "--config", config])
        .env("AWS_ENDPOINT_URL", moto.endpoint())
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env_remove("AWS_PROFILE")
        .env("STATE_BUCKET", "state")
        .env("REMOTE_WRITE_URL", "http://127.0.0.1:9/api/v1/write")
        .env("EXTRA_LABELS", "job=yace")
        .output()
        .expect("the exporter runs")
}

/// `promtool check metrics` on `text`: its exit code and what it said.
fn promtool_check_metrics(text: &str) -> (Option<i32>, String) {
    let mut child = Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("promtool is installed (make setup)");
    child.stdin.take().unwrap().write_all(text.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    (out.status.code(), format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)))
}

/// The minute boundary the datapoints are placed against (as tests/cloudwatch_exporter.rs).
async fn minute() -> i64 {
    let now = now_secs();
    if now % 60.0 > 50.0 {
        tokio::time::sleep(Duration::from_secs_f64(61.0 - now % 60.0)).await;
    }
    (now_secs() as i64).div_euclid(60) * 60
}

#[tokio::test(flavor = "multi_thread")]
async fn a_dry_run_prints_the_series_a_run_would_push_and_keeps_nothing() {
    let moto = Moto::start();
    let sdk = moto.sdk_config().await;
    let s3 = aws_sdk_s3::Client::from_conf(aws_sdk_s3::config::Builder::from(&sdk).force_path_style(true).build());
    s3.create_bucket().bucket("state").send().await.unwrap();
    let cw = aws_sdk_cloudwatch::Client::new(&sdk);
    let m = minute().await;
    let points = [(m - 540, 1.0), (m - 480, 2.5), (m - 420, 3.0)];
    let data = points
        .iter()
        .map(|(ts, v)| {
            MetricDatum::builder()
                .metric_name("Latency")
                .dimensions(Dimension::builder().name("Queue").value("jobs").build())
                .timestamp(DateTime::from_secs(*ts))
                .value(*v)
                .build()
        })
        .collect();
    cw.put_metric_data().namespace("MyApp").set_metric_data(Some(data)).send().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("yace.yml");
    std::fs::write(&config, harness::TIMESTAMPED_QUEUE_CONFIG).unwrap();

    let out = dry_run(&moto, config.to_str().unwrap());
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(0), "{stderr}");

    // Prometheus' parser reads it, with no lint problem.
    let (code, said) = promtool_check_metrics(&stdout);
    assert_eq!(code, Some(0), "promtool check metrics: {said}\n{stdout}");

    // Every datapoint at CloudWatch's timestamp, on one series labelled as pushed.
    let mut samples = Vec::new();
    for line in stdout.lines().filter(|l| !l.starts_with('#')) {
        let (series, sample) = line.rsplit_once('}').unwrap_or_else(|| panic!("no labels: {line}"));
        let (name, labels) = series.split_once('{').unwrap();
        assert_eq!(name, "aws_myapp_latency_average", "{stdout}");
        for label in ["dimension_Queue=\"jobs\"", "job=\"yace\"", "region=\"us-east-1\""] {
            assert!(labels.split(',').any(|l| l == label), "{label} missing: {line}");
        }
        let [value, timestamp] = sample.split_whitespace().collect::<Vec<_>>()[..] else { panic!("{line}") };
        samples.push((timestamp.parse::<i64>().unwrap() / 1000, value.parse::<f64>().unwrap()));
    }
    assert_eq!(samples, points, "{stdout}");
    assert!(stdout.starts_with("# HELP aws_myapp_latency_average "), "{stdout}");
    assert!(stdout.contains("\n# TYPE aws_myapp_latency_average gauge\n"), "{stdout}");
    assert!(
        stderr.ends_with(
            "dry run: 1 series, 3 samples, 1 GetMetricData calls, 0 jobs failed; nothing pushed, no state kept\n"
        ),
        "{stderr}"
    );

    // STATE_BUCKET is set, yet no lease, watermark or cache was written.
    let objects = s3.list_objects_v2().bucket("state").send().await.unwrap();
    assert_eq!(objects.key_count(), Some(0), "{:?}", objects.contents());
}

#[tokio::test(flavor = "multi_thread")]
async fn aws_errors_read_as_the_services_code_and_message() {
    let moto = Moto::start();
    let sdk = moto.sdk_config().await;

    let secrets = aws_sdk_secretsmanager::Client::new(&sdk);
    let arn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:config-updater/missing";
    let e = secrets.get_secret_value().secret_id(arn).send().await.unwrap_err();
    assert_eq!(
        promstack::aws::describe(&e),
        "ResourceNotFoundException: Secrets Manager can't find the specified secret."
    );

    let s3 = aws_sdk_s3::Client::from_conf(aws_sdk_s3::config::Builder::from(&sdk).force_path_style(true).build());
    let e = s3.get_object().bucket("missing").key("yace.yml").send().await.unwrap_err();
    assert_eq!(promstack::aws::describe(&e), "NoSuchBucket: The specified bucket does not exist");

    // No answer at all: the chain of causes, with no response or headers to dump.
    let nobody = format!("http://127.0.0.1:{}", free_port());
    let closed = aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(&sdk).endpoint_url(nobody).force_path_style(true).build(),
    );
    let e = closed.list_buckets().send().await.unwrap_err();
    let text = promstack::aws::describe(&e);
    assert!(text.starts_with("dispatch failure: "), "{text}");
    assert!(text.contains("Connection refused"), "{text}");
    assert!(text.len() < 300, "{} bytes: {text}", text.len());

    // The exporter's own message for it: one line naming the config.
    let out = dry_run(&moto, "s3://missing/yace.yml");
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "cloudwatch-exporter run --dry-run: reading the config s3://missing/yace.yml: NoSuchBucket: The specified \
         bucket does not exist\n"
    );
}
