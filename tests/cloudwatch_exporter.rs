//! cloudwatch-exporter against real servers: moto (CloudWatch, EC2 + tagging, STS, S3) and a
//! real Prometheus receiving the remote writes. Assertions are on what Prometheus answers.

use std::time::Duration;

use aws_lambda_events::eventbridge::EventBridgeEvent;
use aws_sdk_cloudwatch::primitives::DateTime;
use aws_sdk_cloudwatch::types::{Dimension, MetricDatum};
use cloudwatch_exporter::aws::{ApiError, AwsApi, CloudWatchApi, Datapoints, ListMetrics, Page};
use cloudwatch_exporter::discovery::{MetricRef, Resource};
use cloudwatch_exporter::query::{Call, Wanted};
use cloudwatch_exporter::settings::{AuthSetting, ConfigSource, Settings, StateLocation};
use cloudwatch_exporter::yace::Role;
use cloudwatch_exporter::{handle, Deps, Error, Summary};
use harness::ec2::run_tagged_instance;
use harness::{now_secs, Moto, Prometheus};
use lambda_runtime::{Context, LambdaEvent};
use serde_json::Value;

const SCHEDULE: &[u8] = include_bytes!("../events/cloudwatch-exporter-schedule.json");
const ACCOUNT: &str = "123456789012";

fn event(id: &str) -> LambdaEvent<EventBridgeEvent> {
    let mut e: EventBridgeEvent = serde_json::from_slice(SCHEDULE).unwrap();
    e.id = Some(id.to_string());
    LambdaEvent { payload: e, context: Context::default() }
}

struct Setup {
    moto: Moto,
    prometheus: Prometheus,
    _dir: tempfile::TempDir,
    config_path: String,
}

fn settings(s: &Setup, state_bucket: Option<&str>) -> Settings {
    Settings {
        config: ConfigSource::Path(s.config_path.clone()),
        remote_write_url: s.prometheus.write_url(),
        auth: AuthSetting::None,
        state: state_bucket.map(|b| StateLocation { bucket: b.into(), key: "cloudwatch-exporter/state.json".into() }),
        discovery_refresh: Duration::from_secs(300),
        max_backfill: Duration::from_secs(3600),
        get_metric_data_concurrency: 4,
        lease: Duration::from_secs(900),
        remote_write_max_retries: 1,
        aws_max_attempts: 5,
        labels_snake_case: false,
        extra_labels: vec![],
    }
}

fn setup(config: &str) -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let config_path = dir.path().join("yace.yml");
    std::fs::write(&config_path, config).unwrap();
    Setup {
        moto: Moto::start(),
        prometheus: Prometheus::start(harness::prometheus::EMPTY_CONFIG),
        config_path: config_path.display().to_string(),
        _dir: dir,
    }
}

async fn deps(s: &Setup, state_bucket: Option<&str>) -> Deps {
    Deps::new(settings(s, state_bucket), s.moto.sdk_config().await).unwrap()
}

async fn put(
    cw: &aws_sdk_cloudwatch::Client,
    namespace: &str,
    name: &str,
    dims: &[(&str, &str)],
    points: &[(i64, f64)],
) {
    let data = points
        .iter()
        .map(|(ts, v)| {
            MetricDatum::builder()
                .metric_name(name)
                .set_dimensions(Some(
                    dims.iter().map(|(k, v)| Dimension::builder().name(*k).value(*v).build()).collect(),
                ))
                .timestamp(DateTime::from_secs(*ts))
                .value(*v)
                .build()
        })
        .collect();
    cw.put_metric_data().namespace(namespace).set_metric_data(Some(data)).send().await.unwrap();
}

/// `metric[window]` as (timestamp s, value) pairs per series, for exact datapoint checks.
async fn samples(p: &Prometheus, selector: &str) -> Vec<(i64, f64)> {
    let r = p.query(&format!("{selector}[1h]")).await;
    assert!(r.len() <= 1, "one series expected for {selector}: {r:?}");
    r.first()
        .map(|s| {
            s["values"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| (v[0].as_f64().unwrap() as i64, v[1].as_str().unwrap().parse().unwrap()))
                .collect()
        })
        .unwrap_or_default()
}

fn labels(series: &Value) -> Vec<(String, String)> {
    let mut l: Vec<(String, String)> = series["metric"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_string()))
        .collect();
    l.sort();
    l
}

fn pairs(p: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut l: Vec<(String, String)> = p.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    l.sort();
    l
}

/// The minute boundary the test's datapoints are placed against; waits out the last seconds of
/// a minute so the run's window (aligned to the minute) is the one the test expects.
async fn minute() -> i64 {
    let now = now_secs();
    if now % 60.0 > 50.0 {
        tokio::time::sleep(Duration::from_secs_f64(61.0 - now % 60.0)).await;
    }
    (now_secs() as i64).div_euclid(60) * 60
}

const DISCOVERY: &str = r#"
apiVersion: v1alpha1
sts-region: us-east-1
discovery:
  exportedTagsOnMetrics:
    AWS/EC2: [Name]
  jobs:
    - type: AWS/EC2
      regions: [us-east-1]
      roles:
        - roleArn: arn:aws:iam::123456789012:role/exporter
          externalId: promstack
      searchTags:
        - key: team
          value: ^core$
      customTags:
        - key: env
          value: test
      includeContextOnInfoMetrics: true
      period: 60
      length: 300
      metrics:
        - name: CPUUtilization
          statistics: [Average, Maximum]
customNamespace:
  - name: shop
    namespace: MyApp
    regions: [us-east-1]
    period: 60
    length: 300
    nilToZero: true
    metrics:
      - name: Orders
        statistics: [Sum]
"#;

harness::prometheus_matrix! {
#[tokio::test(flavor = "multi_thread")]
async fn discovery_exports_yace_names_labels_tags_and_the_runs_own_figures() {
    let s = setup(DISCOVERY);
    let sdk = s.moto.sdk_config().await;
    let mut instances = Vec::new();
    for (name, team) in [("web", "core"), ("batch", "other")] {
        instances.push(run_tagged_instance(&s.moto, &[("Name", name), ("team", team)]).await);
    }
    let cw = aws_sdk_cloudwatch::Client::new(&sdk);
    let m = minute().await;
    for (i, id) in instances.iter().enumerate() {
        let base = 10.0 * (i as f64 + 1.0);
        put(
            &cw,
            "AWS/EC2",
            "CPUUtilization",
            &[("InstanceId", id)],
            &[(m - 180, base), (m - 120, base + 1.0), (m - 60, base + 2.0)],
        )
        .await;
        // The latest minute has two datapoints: Average and Maximum differ.
        put(&cw, "AWS/EC2", "CPUUtilization", &[("InstanceId", id)], &[(m - 50, base + 4.0)]).await;
    }
    put(&cw, "MyApp", "Orders", &[("Shop", "berlin")], &[(m - 120, 3.0), (m - 60, 5.0), (m - 30, 2.0)]).await;

    let deps = deps(&s, None).await;
    let before = now_secs();
    let summary: Summary = handle(event("run-1"), &deps).await.unwrap();
    let after = now_secs();
    assert!(summary.jobs_failed.is_empty(), "{summary:?}");
    assert_eq!(summary.metrics_requested, 3, "2 statistics of the one selected instance + Orders: {summary:?}");
    assert_eq!(summary.get_metric_data_calls, summary.get_metric_data_minimum);
    assert_eq!(summary.api_requests.get("AssumeRole"), Some(&1));
    // The role's account comes from AssumeRole's answer; only the function's own is asked for.
    assert_eq!(summary.api_requests.get("GetCallerIdentity"), Some(&1), "{summary:?}");

    // Only the instance tagged team=core; YACE's names and labels.
    let arn = format!("arn:aws:ec2:us-east-1:{ACCOUNT}:instance/{}", instances[0]);
    let r = s.prometheus.query("aws_ec2_cpuutilization_average").await;
    assert_eq!(r.len(), 1, "{r:?}");
    assert_eq!(
        labels(&r[0]),
        pairs(&[
            ("__name__", "aws_ec2_cpuutilization_average"),
            ("account_id", ACCOUNT),
            ("custom_tag_env", "test"),
            ("dimension_InstanceId", &instances[0]),
            ("name", &arn),
            ("region", "us-east-1"),
            ("tag_Name", "web"),
        ])
    );
    // The latest minute's datapoint (12 and 14): average 13, maximum 14, stamped with the run's time.
    assert_eq!(r[0]["value"][1], "13");
    let max = s.prometheus.query("aws_ec2_cpuutilization_maximum").await;
    assert_eq!(max.len(), 1);
    assert_eq!(max[0]["value"][1], "14");
    let ts = s.prometheus.query("timestamp(aws_ec2_cpuutilization_average)").await;
    let ts: f64 = ts[0]["value"][1].as_str().unwrap().parse().unwrap();
    assert!(ts >= before - 0.001 && ts <= after + 0.001, "stamped with the run's time: {before} <= {ts} <= {after}");

    // The info series carries every tag of the selected resource (and, with
    // includeContextOnInfoMetrics, region, account_id and the custom tags).
    let info = s.prometheus.query("aws_ec2_info").await;
    assert_eq!(info.len(), 1, "{info:?}");
    assert_eq!(
        labels(&info[0]),
        pairs(&[
            ("__name__", "aws_ec2_info"),
            ("account_id", ACCOUNT),
            ("custom_tag_env", "test"),
            ("name", &arn),
            ("region", "us-east-1"),
            ("tag_Name", "web"),
            ("tag_team", "core"),
        ])
    );
    assert_eq!(info[0]["value"][1], "0");

    // Custom namespace: name is the job's name (as YACE), the dimension as a label; the latest minute's sum.
    let orders = s.prometheus.query("aws_myapp_orders_sum").await;
    assert_eq!(orders.len(), 1, "{orders:?}");
    assert_eq!(
        labels(&orders[0]),
        pairs(&[
            ("__name__", "aws_myapp_orders_sum"),
            ("account_id", ACCOUNT),
            ("dimension_Shop", "berlin"),
            ("name", "shop"),
            ("region", "us-east-1"),
        ])
    );
    // The latest minute holds 5 and 2.
    assert_eq!(orders[0]["value"][1], "7");

    // The run's own figures.
    let gmd = s.prometheus.query(r#"cloudwatch_exporter_run_api_requests{api="GetMetricData"}"#).await;
    assert_eq!(gmd[0]["value"][1].as_str().unwrap(), summary.api_requests["GetMetricData"].to_string());
    let requested = s.prometheus.query("cloudwatch_exporter_run_metrics_requested").await;
    assert_eq!(requested[0]["value"][1], "3");
    let pushed = s.prometheus.query("cloudwatch_exporter_run_samples_pushed").await;
    assert_eq!(pushed[0]["value"][1].as_str().unwrap(), summary.samples_pushed.to_string());
    assert_eq!(summary.samples_pushed, 4, "3 metric samples + 1 info sample");
    assert_eq!(s.prometheus.query("cloudwatch_exporter_run_duration_seconds").await.len(), 1);
}
}

const TIMESTAMPED: &str = harness::TIMESTAMPED_QUEUE_CONFIG;

const SELECTOR: &str = r#"aws_myapp_latency_average{dimension_Queue="jobs"}"#;

harness::prometheus_matrix! {
#[tokio::test(flavor = "multi_thread")]
async fn cloudwatch_timestamps_go_out_exactly_once_with_backfill_after_prometheus_was_down() {
    let mut s = setup(TIMESTAMPED);
    let sdk = s.moto.sdk_config().await;
    aws_sdk_s3::Client::new(&sdk).create_bucket().bucket("state").send().await.unwrap();
    let cw = aws_sdk_cloudwatch::Client::new(&sdk);
    let m = minute().await;
    let dims = [("Queue", "jobs")];
    put(&cw, "MyApp", "Latency", &dims, &[(m - 540, 1.0), (m - 480, 2.0), (m - 420, 3.0)]).await;
    let deps = deps(&s, Some("state")).await;

    let first = handle(event("a"), &deps).await.unwrap();
    assert_eq!(first.skipped, None);
    assert_eq!(samples(&s.prometheus, SELECTOR).await, [(m - 540, 1.0), (m - 480, 2.0), (m - 420, 3.0)]);

    // The same event again: nothing is pushed.
    let again = handle(event("a"), &deps).await.unwrap();
    assert!(again.skipped.as_deref().unwrap_or_default().contains("duplicate"), "{again:?}");
    assert_eq!(again.samples_pushed, 0);

    // A new datapoint while Prometheus is down: the invocation fails and no watermark moves.
    put(&cw, "MyApp", "Latency", &dims, &[(m - 360, 4.0)]).await;
    s.prometheus.stop();
    match handle(event("b"), &deps).await {
        Err(Error::RemoteWrite(e)) => assert!(e.is_retryable(), "{e}"),
        other => panic!("a run with Prometheus down must fail: {other:?}"),
    }
    s.prometheus.restart();

    // The next run fills the gap: both new datapoints, each once, at CloudWatch's timestamps.
    put(&cw, "MyApp", "Latency", &dims, &[(m - 300, 5.0)]).await;
    let next = handle(event("c"), &deps).await.unwrap();
    assert_eq!(next.skipped, None);
    assert!(next.samples_dropped.values().all(|n| *n == 0), "{next:?}");
    assert_eq!(
        samples(&s.prometheus, SELECTOR).await,
        [(m - 540, 1.0), (m - 480, 2.0), (m - 420, 3.0), (m - 360, 4.0), (m - 300, 5.0)]
    );
    assert_eq!(next.samples_pushed, 2, "only the two datapoints after the watermark: {next:?}");
    // Discovery came from the S3 state's cache: no ListMetrics this run.
    assert_eq!(next.discovery_cached, 1, "{next:?}");
    assert!(!next.api_requests.contains_key("ListMetrics"), "{next:?}");
    // The account is known from the first run of this process.
    assert!(!next.api_requests.contains_key("GetCallerIdentity"), "{next:?}");

    // Nothing new: nothing pushed, nothing refused.
    let idle = handle(event("d"), &deps).await.unwrap();
    assert_eq!(idle.samples_pushed, 0, "{idle:?}");

    // Two overlapping runs: one takes the state, the other stands down; no datapoint twice.
    put(&cw, "MyApp", "Latency", &dims, &[(m - 240, 6.0)]).await;
    let (x, y) = tokio::join!(handle(event("e"), &deps), handle(event("f"), &deps));
    let (x, y) = (x.unwrap(), y.unwrap());
    assert_eq!(x.samples_pushed + y.samples_pushed, 1, "{x:?} {y:?}");
    assert_eq!(
        samples(&s.prometheus, SELECTOR).await,
        [(m - 540, 1.0), (m - 480, 2.0), (m - 420, 3.0), (m - 360, 4.0), (m - 300, 5.0), (m - 240, 6.0)]
    );
    let dropped = s.prometheus.query(r#"sum(cloudwatch_exporter_run_samples_dropped)"#).await;
    assert_eq!(dropped[0]["value"][1], "0", "no sample was refused by Prometheus");
}
}

harness::prometheus_matrix! {
#[tokio::test(flavor = "multi_thread")]
async fn a_bad_config_fails_the_invocation_naming_the_field_and_pushes_nothing() {
    let s = setup(
        "apiVersion: v1alpha1\ndiscovery:\n  jobs:\n    - type: AWS/EC2\n      regions: [us-east-1]\n      metrics:\n        - name: CPUUtilization\n          statistics: [Average]\n          statistic: Sum\n",
    );
    let deps = deps(&s, None).await;
    match handle(event("bad"), &deps).await {
        Err(e @ Error::Config { .. }) => {
            let msg = e.to_string();
            assert!(msg.contains("discovery.jobs[0].metrics[0]"), "{msg}");
            assert!(msg.contains("unknown field `statistic`"), "{msg}");
            assert!(msg.contains("line 9"), "{msg}");
            let d: lambda_runtime::Diagnostic = e.into();
            assert_eq!(d.error_type, "Config");
        }
        other => panic!("a bad config must fail: {other:?}"),
    }
    std::fs::write(&s.config_path, "discovery:\n  jobs:\n    - type: AWS/Nope\n      regions: [us-east-1]\n      metrics: [{name: X, statistics: [Sum]}]\n").unwrap();
    let e = handle(event("bad2"), &deps).await.unwrap_err();
    assert!(e.to_string().contains("discovery.jobs[0].type: unknown namespace \"AWS/Nope\""), "{e}");
    let any = s.prometheus.query(r#"{__name__=~".+"}"#).await;
    assert!(any.is_empty(), "nothing pushed: {any:?}");
}
}

harness::prometheus_matrix! {
#[tokio::test(flavor = "multi_thread")]
async fn one_failing_job_does_not_stop_the_others() {
    // moto answers percentile statistics with a 500: the us-east-1 job fails, eu-west-1's goes on.
    let s = setup(
        r#"
customNamespace:
  - name: failing
    namespace: MyApp
    regions: [us-east-1]
    period: 60
    metrics:
      - name: Orders
        statistics: [p99]
  - name: working
    namespace: MyApp
    regions: [eu-west-1]
    period: 60
    metrics:
      - name: Orders
        statistics: [Sum]
"#,
    );
    let sdk = s.moto.sdk_config().await;
    let m = minute().await;
    let east = aws_sdk_cloudwatch::Client::new(&sdk);
    put(&east, "MyApp", "Orders", &[("Shop", "ny")], &[(m - 60, 1.0)]).await;
    let west_config = sdk.to_builder().region(aws_config::Region::new("eu-west-1")).build();
    let west = aws_sdk_cloudwatch::Client::new(&west_config);
    put(&west, "MyApp", "Orders", &[("Shop", "dublin")], &[(m - 60, 7.0)]).await;

    let deps = deps(&s, None).await;
    s.moto.start_recording().await;
    let summary = handle(event("partial"), &deps).await.unwrap();
    assert_eq!(summary.jobs_failed.len(), 1, "{summary:?}");
    // The 500 is a transient error: the SDK's standard retry (the policy that also backs off on
    // throttling, which moto cannot produce) tried it 5 times before the job was given up.
    let attempts: Vec<String> = s
        .moto
        .recording()
        .await
        .into_iter()
        .filter(|r| r.body.contains("Action=GetMetricData") && r.body.contains("p99"))
        .map(|r| r.headers.get("amz-sdk-request").cloned().unwrap_or_default())
        .collect();
    assert_eq!(attempts, (1..=5).map(|n| format!("attempt={n}; max=5")).collect::<Vec<_>>());
    assert_eq!(summary.jobs_failed[0].job, "customNamespace[0]");
    assert_eq!(summary.jobs_failed[0].region, "us-east-1");
    assert!(summary.jobs_failed[0].error.contains("GetMetricData"), "{:?}", summary.jobs_failed[0]);
    // The two regions were collected at once, and the function's account was asked for once.
    assert_eq!(summary.api_requests.get("GetCallerIdentity"), Some(&1), "{summary:?}");
    let r = s.prometheus.query("aws_myapp_orders_sum").await;
    assert_eq!(r.len(), 1, "{r:?}");
    assert_eq!(r[0]["metric"]["region"], "eu-west-1");
    assert_eq!(r[0]["value"][1], "7");
    let failed = s.prometheus.query("cloudwatch_exporter_run_jobs_failed").await;
    assert_eq!(failed[0]["value"][1], "1");
}
}

#[tokio::test(flavor = "multi_thread")]
async fn state_writes_are_conditional_so_a_stale_run_cannot_overwrite() {
    use cloudwatch_exporter::state::{State, StateError, StateStore};
    let moto = Moto::start();
    let sdk = moto.sdk_config().await;
    let s3 = aws_sdk_s3::Client::from_conf(aws_sdk_s3::config::Builder::from(&sdk).force_path_style(true).build());
    s3.create_bucket().bucket("state").send().await.unwrap();
    let store = StateStore::new(s3, "state", "s.json");
    assert!(store.load().await.unwrap().etag.is_none(), "no state yet");
    let mut state = State::default();
    state.watermarks.insert("k".into(), 1);
    let first = store.save(&state, None).await.unwrap();
    // A second "first write" (If-None-Match: *) loses.
    assert!(matches!(store.save(&State::default(), None).await, Err(StateError::Conflict { .. })));
    state.watermarks.insert("k".into(), 2);
    let second = store.save(&state, Some(&first)).await.unwrap();
    assert_ne!(first, second);
    // A write at the old version (If-Match) loses, and the newer state stays whole.
    assert!(matches!(store.save(&State::default(), Some(&first)).await, Err(StateError::Conflict { .. })));
    let now = store.load().await.unwrap();
    assert_eq!(now.state.watermarks["k"], 2);
    assert_eq!(now.etag.as_deref(), Some(second.as_str()));
}

harness::prometheus_matrix! {
#[tokio::test(flavor = "multi_thread")]
async fn datapoints_older_than_prometheus_accepts_are_counted_as_dropped_once() {
    let s = setup(
        r#"
customNamespace:
  - name: old
    namespace: MyApp
    regions: [us-east-1]
    period: 60
    length: 14400
    addCloudwatchTimestamp: true
    exportAllDataPoints: true
    metrics:
      - name: Backlog
        statistics: [Maximum]
"#,
    );
    let sdk = s.moto.sdk_config().await;
    aws_sdk_s3::Client::new(&sdk).create_bucket().bucket("state").send().await.unwrap();
    let cw = aws_sdk_cloudwatch::Client::new(&sdk);
    let m = minute().await;
    put(&cw, "MyApp", "Backlog", &[("Queue", "q")], &[(m - 3 * 3600, 1.0), (m - 60, 2.0)]).await;
    // Prometheus has recent data, so a sample 3 hours old is out of its head's bounds.
    let warm =
        promstack::remote_write::Client::new(promstack::remote_write::Config::new(s.prometheus.write_url())).unwrap();
    let mut series = promstack::remote_write::Series::new("warm_up", [("job", "test")]).unwrap();
    series.push(harness::now_ms(), 1.0);
    warm.push(&[series]).await.unwrap();

    let mut settings = settings(&s, Some("state"));
    settings.max_backfill = Duration::from_secs(4 * 3600);
    let deps = Deps::new(settings, sdk.clone()).unwrap();
    let run = handle(event("old-1"), &deps).await.unwrap();
    assert_eq!(run.samples_dropped.get("too_old"), Some(&1), "{run:?}");
    assert_eq!(run.samples_pushed, 1, "{run:?}");
    assert_eq!(samples(&s.prometheus, r#"aws_myapp_backlog_maximum{dimension_Queue="q"}"#).await, [(m - 60, 2.0)]);
    let dropped = s.prometheus.query(r#"cloudwatch_exporter_run_samples_dropped{reason="too_old"}"#).await;
    assert_eq!(dropped[0]["value"][1], "1");
    // The watermark moved past it: the next run does not try again.
    let next = handle(event("old-2"), &deps).await.unwrap();
    assert_eq!(next.samples_pushed, 0, "{next:?}");
    assert!(next.samples_dropped.is_empty(), "{next:?}");
}
}

harness::prometheus_matrix! {
#[tokio::test(flavor = "multi_thread")]
async fn the_config_can_come_from_s3() {
    let s = setup("unused: true\n");
    let sdk = s.moto.sdk_config().await;
    let s3 = aws_sdk_s3::Client::from_conf(aws_sdk_s3::config::Builder::from(&sdk).force_path_style(true).build());
    s3.create_bucket().bucket("configs").send().await.unwrap();
    let put_config = |body: &'static str| {
        s3.put_object().bucket("configs").key("exporter/yace.yml").body(body.as_bytes().to_vec().into()).send()
    };
    put_config("static: [{name: b, namespace: AWS/S3, regions: [us-east-1], metrics: [{name: BucketSizeBytes, statistics: [Average], period: 60}], dimensions: [{name: BucketName, value: logs}]}]\n").await.unwrap();
    let cw = aws_sdk_cloudwatch::Client::new(&sdk);
    let m = minute().await;
    put(&cw, "AWS/S3", "BucketSizeBytes", &[("BucketName", "logs")], &[(m - 60, 4096.0)]).await;
    let mut settings = settings(&s, None);
    settings.config = ConfigSource::parse("s3://configs/exporter/yace.yml").unwrap();
    let deps = Deps::new(settings, sdk.clone()).unwrap();
    handle(event("s3-1"), &deps).await.unwrap();
    let r = s.prometheus.query("aws_s3_bucket_size_bytes_average").await;
    assert_eq!(r.len(), 1, "{r:?}");
    assert_eq!(r[0]["metric"]["name"], "b", "a static job's series are named after the job");
    assert_eq!(r[0]["metric"]["dimension_BucketName"], "logs");
    assert_eq!(r[0]["value"][1], "4096");
    put_config(
        "static: [{name: b, namespace: AWS/S3, regions: [us-east-1], metrics: [{name: X, statistics: [Avg]}]}]\n",
    )
    .await
    .unwrap();
    let e = handle(event("s3-2"), &deps).await.unwrap_err();
    assert!(e.to_string().contains("config s3://configs/exporter/yace.yml: static[0].metrics[0].statistics[0]"), "{e}");
}
}

/// Counts the AWS requests of the runs (each `CloudWatchApi` method is one request).
struct Counting {
    inner: AwsApi,
    calls: std::sync::Mutex<std::collections::BTreeMap<&'static str, u64>>,
}

impl Counting {
    fn count(&self, api: &'static str) {
        *self.calls.lock().unwrap().entry(api).or_default() += 1;
    }
    fn take(&self) -> std::collections::BTreeMap<&'static str, u64> {
        std::mem::take(&mut *self.calls.lock().unwrap())
    }
}

impl CloudWatchApi for Counting {
    type Session = <AwsApi as CloudWatchApi>::Session;

    fn own_session(&self, region: &str) -> Self::Session {
        self.inner.own_session(region)
    }
    async fn assume_role(
        &self,
        region: &str,
        sts_region: &str,
        role: &Role,
    ) -> Result<(Self::Session, Option<String>), ApiError> {
        self.count("AssumeRole");
        self.inner.assume_role(region, sts_region, role).await
    }
    async fn caller_account(&self, session: &Self::Session) -> Result<String, ApiError> {
        self.count("GetCallerIdentity");
        self.inner.caller_account(session).await
    }
    async fn list_metrics(
        &self,
        session: &Self::Session,
        request: ListMetrics<'_>,
        next_token: Option<String>,
    ) -> Result<Page<MetricRef>, ApiError> {
        self.count("ListMetrics");
        self.inner.list_metrics(session, request, next_token).await
    }
    async fn get_resources(
        &self,
        session: &Self::Session,
        types: &[&str],
        tag_keys: &[&str],
        next_token: Option<String>,
    ) -> Result<Page<Resource>, ApiError> {
        self.count("GetResources");
        self.inner.get_resources(session, types, tag_keys, next_token).await
    }
    async fn get_metric_data(
        &self,
        session: &Self::Session,
        call: &Call,
        wanted: &[Wanted],
        next_token: Option<String>,
    ) -> Result<Page<(usize, Datapoints)>, ApiError> {
        self.count("GetMetricData");
        self.inner.get_metric_data(session, call, wanted, next_token).await
    }
}

/// Run `i` of the edit series: a job whose metrics change every run, and a fixed job that
/// moves between first and last place.
fn edited_config(i: usize) -> String {
    let edited = format!(
        "  - name: edited\n    namespace: MyApp\n    regions: [us-east-1]\n    period: 60\n    metrics: [{{name: Orders, statistics: [Sum]}}, {{name: Edit{i}, statistics: [Sum]}}]\n"
    );
    let fixed = "  - name: fixed\n    namespace: MyApp\n    regions: [us-east-1]\n    period: 60\n    metrics: [{name: Orders, statistics: [Average]}]\n";
    if i.is_multiple_of(2) {
        format!("customNamespace:\n{edited}{fixed}")
    } else {
        format!("customNamespace:\n{fixed}{edited}")
    }
}

harness::prometheus_matrix! {
#[tokio::test(flavor = "multi_thread")]
async fn the_state_object_stays_bounded_over_100_runs_with_config_edits() {
    let s = setup(&edited_config(0));
    let sdk = s.moto.sdk_config().await;
    let s3 = aws_sdk_s3::Client::from_conf(aws_sdk_s3::config::Builder::from(&sdk).force_path_style(true).build());
    s3.create_bucket().bucket("state").send().await.unwrap();
    let cw = aws_sdk_cloudwatch::Client::new(&sdk);
    let m = minute().await;
    put(&cw, "MyApp", "Orders", &[("Shop", "berlin")], &[(m - 60, 3.0)]).await;
    let mut settings = settings(&s, Some("state"));
    // Longer than the test: every ListMetrics below is a cache miss, none an expiry.
    settings.discovery_refresh = Duration::from_secs(3600);
    let counting = Counting {
        inner: AwsApi::new(&sdk, promstack::settings::DEFAULT_AWS_API_MAX_ATTEMPTS),
        calls: Default::default(),
    };
    let deps = Deps::with_api(counting, settings, &sdk).unwrap();

    let mut sizes = Vec::new();
    for i in 0..100 {
        std::fs::write(&s.config_path, edited_config(i)).unwrap();
        let summary = handle(event(&format!("edit-{i}")), &deps).await.unwrap();
        assert!(summary.skipped.is_none() && summary.jobs_failed.is_empty(), "run {i}: {summary:?}");
        let calls = deps.api.take();
        // The edited job is discovered afresh (its two names); the fixed one, wherever it stands
        // in the file, only in the first run.
        let expected = if i == 0 { 3 } else { 2 };
        assert_eq!(calls.get("ListMetrics"), Some(&expected), "run {i}: {calls:?}");
        assert_eq!(summary.api_requests.get("ListMetrics"), Some(&expected), "the run's own count agrees");
        assert_eq!(summary.discovery_cached, usize::from(i > 0), "run {i}: {summary:?}");
        let head = s3.head_object().bucket("state").key("cloudwatch-exporter/state.json").send().await.unwrap();
        sizes.push(head.content_length().unwrap());
    }
    let (first, max) = (sizes[0], *sizes.iter().max().unwrap());
    assert!(max <= first + first / 4, "the state object grew from {first} to {max} bytes: {sizes:?}");
    let state: Value = serde_json::from_slice(
        &s3.get_object()
            .bucket("state")
            .key("cloudwatch-exporter/state.json")
            .send()
            .await
            .unwrap()
            .body
            .collect()
            .await
            .unwrap()
            .into_bytes(),
    )
    .unwrap();
    assert_eq!(state["discovery"].as_object().unwrap().len(), 2, "one entry per job of the last config: {state}");
}
}

// ---- enhanced: static jobs through GetMetricStatistics, enhancedMetrics, account_alias ----------

const STATIC: &str = r#"
apiVersion: v1alpha1
static:
  - name: berlin-shop
    namespace: MyApp
    regions: [us-east-1]
    customTags:
      - key: env
        value: test
    dimensions:
      - name: Shop
        value: berlin
    metrics:
      - name: Orders
        statistics: [Average, Maximum]
        period: 60
        length: 600
      - name: Refunds
        statistics: [Sum]
        period: 60
        length: 600
        nilToZero: true
"#;

/// The value of the one series `selector` selects, and its labels.
async fn only(p: &Prometheus, selector: &str) -> (f64, Vec<(String, String)>) {
    let r = p.query(selector).await;
    assert_eq!(r.len(), 1, "one series expected for {selector}: {r:?}");
    (r[0]["value"][1].as_str().unwrap().parse().unwrap(), labels(&r[0]))
}

harness::prometheus_matrix! {
#[tokio::test(flavor = "multi_thread")]
async fn a_static_job_exports_yaces_statistics_and_nothing_without_datapoints_with_the_account_alias() {
    let s = setup(STATIC);
    let sdk = s.moto.sdk_config().await;
    aws_sdk_iam::Client::new(&sdk).create_account_alias().account_alias("promstack-test").send().await.unwrap();
    let cw = aws_sdk_cloudwatch::Client::new(&sdk);
    let m = minute().await;
    // Three minutes in the window; the newest has the lowest value, so YACE's Maximum (the newest
    // datapoint's) is not the window's maximum.
    put(&cw, "MyApp", "Orders", &[("Shop", "berlin")], &[(m - 240, 5.0), (m - 180, 9.0), (m - 120, 2.0)]).await;

    let deps = deps(&s, None).await;
    let summary: Summary = handle(event("static-1"), &deps).await.unwrap();
    assert!(summary.jobs_failed.is_empty(), "{summary:?}");
    assert_eq!(summary.api_requests.get("GetMetricStatistics"), Some(&2), "one per metric: {summary:?}");
    assert_eq!(summary.api_requests.get("GetMetricData"), None, "{summary:?}");

    let (average, l) = only(&s.prometheus, "aws_myapp_orders_average").await;
    assert!((average - 16.0 / 3.0).abs() < 1e-9, "the mean over the window: {average}");
    assert_eq!(
        l,
        pairs(&[
            ("__name__", "aws_myapp_orders_average"),
            ("account_alias", "promstack-test"),
            ("account_id", ACCOUNT),
            ("custom_tag_env", "test"),
            ("dimension_Shop", "berlin"),
            ("name", "berlin-shop"),
            ("region", "us-east-1"),
        ])
    );
    let (maximum, _) = only(&s.prometheus, "aws_myapp_orders_maximum").await;
    assert_eq!(maximum, 2.0, "the newest datapoint's maximum, as YACE chooses it");
    // No datapoint: nothing, even with nilToZero.
    assert_eq!(s.prometheus.query("aws_myapp_refunds_sum").await, Vec::<Value>::new());

    // The alias is asked once per process.
    let again: Summary = handle(event("static-2"), &deps).await.unwrap();
    assert_eq!(summary.api_requests.get("ListAccountAliases"), Some(&1), "{summary:?}");
    assert_eq!(again.api_requests.get("ListAccountAliases"), None, "{again:?}");
}
}

const ENHANCED: &str = r#"
apiVersion: v1alpha1
discovery:
  exportedTagsOnMetrics:
    AWS/Lambda: [Name]
    AWS/DynamoDB: [Name]
    AWS/RDS: [Name]
  jobs:
    - type: AWS/Lambda
      regions: [us-east-1]
      period: 60
      metrics: [{name: Invocations, statistics: [Sum]}]
      enhancedMetrics: [{name: Timeout}, {name: MemorySize}]
    - type: AWS/DynamoDB
      regions: [us-east-1]
      period: 60
      metrics: [{name: ConsumedReadCapacityUnits, statistics: [Sum]}]
      enhancedMetrics: [{name: ItemCount}, {name: TableSizeBytes}]
    - type: AWS/RDS
      regions: [us-east-1]
      period: 60
      metrics: [{name: CPUUtilization, statistics: [Average]}]
      enhancedMetrics: [{name: AllocatedStorage}]
"#;

/// An empty zip archive (its end-of-central-directory record): moto stores a function's code
/// without running it.
const EMPTY_ZIP: [u8; 22] = [0x50, 0x4b, 0x05, 0x06, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];

harness::prometheus_matrix! {
#[tokio::test(flavor = "multi_thread")]
async fn enhanced_metrics_of_lambda_dynamodb_and_rds_come_from_their_apis() {
    let s = setup(ENHANCED);
    let sdk = s.moto.sdk_config().await;
    aws_sdk_iam::Client::new(&sdk).create_account_alias().account_alias("promstack-test").send().await.unwrap();
    let role = aws_sdk_iam::Client::new(&sdk)
        .create_role()
        .role_name("lambda")
        .assume_role_policy_document(r#"{"Version":"2012-10-17","Statement":[]}"#)
        .send()
        .await
        .unwrap();
    let function = aws_sdk_lambda::Client::new(&sdk)
        .create_function()
        .function_name("orders")
        .runtime(aws_sdk_lambda::types::Runtime::Python312)
        .handler("index.handler")
        .role(role.role().unwrap().arn())
        .code(aws_sdk_lambda::types::FunctionCode::builder().zip_file(EMPTY_ZIP.to_vec().into()).build())
        .timeout(30)
        .memory_size(256)
        .tags("Name", "orders-fn")
        .send()
        .await
        .unwrap();
    let function_arn = function.function_arn().unwrap().to_string();

    let ddb = aws_sdk_dynamodb::Client::new(&sdk);
    use aws_sdk_dynamodb::types::{
        AttributeDefinition, AttributeValue, KeySchemaElement, KeyType, ScalarAttributeType,
    };
    let table = ddb
        .create_table()
        .table_name("carts")
        .attribute_definitions(
            AttributeDefinition::builder().attribute_name("id").attribute_type(ScalarAttributeType::S).build().unwrap(),
        )
        .key_schema(KeySchemaElement::builder().attribute_name("id").key_type(KeyType::Hash).build().unwrap())
        .billing_mode(aws_sdk_dynamodb::types::BillingMode::PayPerRequest)
        .tags(aws_sdk_dynamodb::types::Tag::builder().key("Name").value("carts-table").build().unwrap())
        .send()
        .await
        .unwrap();
    let table_arn = table.table_description().unwrap().table_arn().unwrap().to_string();
    for id in ["a", "b"] {
        ddb.put_item().table_name("carts").item("id", AttributeValue::S(id.into())).send().await.unwrap();
    }

    let db = aws_sdk_rds::Client::new(&sdk)
        .create_db_instance()
        .db_instance_identifier("shop-db")
        .db_instance_class("db.t3.micro")
        .engine("postgres")
        .allocated_storage(20)
        .master_username("admin")
        .master_user_password("password123")
        .tags(aws_sdk_rds::types::Tag::builder().key("Name").value("shop").build())
        .send()
        .await
        .unwrap();
    let db_arn = db.db_instance().unwrap().db_instance_arn().unwrap().to_string();

    let deps = deps(&s, None).await;
    let summary: Summary = handle(event("enhanced-1"), &deps).await.unwrap();
    assert!(summary.jobs_failed.is_empty(), "{summary:?}");
    for api in ["ListFunctions", "DescribeTable", "DescribeDBInstances"] {
        assert_eq!(summary.api_requests.get(api), Some(&1), "{api}: {summary:?}");
    }

    let context = [("account_alias", "promstack-test"), ("account_id", ACCOUNT), ("region", "us-east-1")];
    let with = |name: &str, extra: &[(&str, &str)]| pairs(&[&context[..], &[("__name__", name)], extra].concat());
    let (timeout, l) = only(&s.prometheus, "aws_lambda_timeout").await;
    assert_eq!(timeout, 30.0);
    let function_labels =
        [("dimension_FunctionName", "orders"), ("name", function_arn.as_str()), ("tag_Name", "orders-fn")];
    assert_eq!(l, with("aws_lambda_timeout", &function_labels));
    let (memory, l) = only(&s.prometheus, "aws_lambda_memory_size").await;
    assert_eq!(memory, 256.0 * 1024.0 * 1024.0, "MiB in bytes");
    assert_eq!(l, with("aws_lambda_memory_size", &function_labels));

    let (items, l) = only(&s.prometheus, "aws_dynamodb_item_count").await;
    assert_eq!(items, 2.0);
    let table_labels = [("dimension_TableName", "carts"), ("name", table_arn.as_str()), ("tag_Name", "carts-table")];
    assert_eq!(l, with("aws_dynamodb_item_count", &table_labels));
    let (_, l) = only(&s.prometheus, "aws_dynamodb_table_size_bytes").await;
    assert_eq!(l, with("aws_dynamodb_table_size_bytes", &table_labels));

    let (storage, l) = only(&s.prometheus, "aws_rds_allocated_storage").await;
    assert_eq!(storage, 20.0 * 1024.0 * 1024.0 * 1024.0, "GiB in bytes");
    assert_eq!(
        l,
        with(
            "aws_rds_allocated_storage",
            &[
                ("dimension_DBInstanceIdentifier", "shop-db"),
                ("dimension_DatabaseClass", "db.t3.micro"),
                ("dimension_EngineName", "postgres"),
                ("name", db_arn.as_str()),
                ("tag_Name", "shop"),
            ]
        )
    );
}
}

/// moto's tagging API types ElastiCache clusters `elasticache:cache_clusters`, not AWS's
/// `elasticache:cluster`, so discovery finds none there; the enhanced metric is read for the
/// cluster's ARN directly, through the SDK-backed API against moto.
#[tokio::test(flavor = "multi_thread")]
async fn elasticache_num_cache_nodes_comes_from_describe_cache_clusters() {
    let moto = Moto::start();
    let sdk = moto.sdk_config().await;
    let cluster = aws_sdk_elasticache::Client::new(&sdk)
        .create_cache_cluster()
        .cache_cluster_id("sessions")
        .engine("redis")
        .cache_node_type("cache.t3.micro")
        .num_cache_nodes(1)
        .send()
        .await
        .unwrap();
    let arn = cluster.cache_cluster().unwrap().arn().unwrap().to_string();
    let api = AwsApi::new(&sdk, 3);
    let session = api.own_session("us-east-1");
    let resources = [Resource { arn: arn.clone(), tags: vec![] }];
    let values = cloudwatch_exporter::enhanced::values(
        &api,
        &session,
        "AWS/ElastiCache",
        &resources,
        &["NumCacheNodes".to_string()],
    )
    .await
    .unwrap();
    assert_eq!(values.len(), 1, "{values:?}");
    assert_eq!(values[0].metric.name, "NumCacheNodes");
    assert_eq!(values[0].metric.dimensions, [("CacheClusterId".to_string(), "sessions".to_string())]);
    assert_eq!(values[0].value, 1.0);
}

// ---- Association as YACE's maxdimassociator (issue #11 §1): metrics of untagged sub-resources
// go to their tagged parent, against moto and Prometheus.

const ECS_JOB: &str = r#"
apiVersion: v1alpha1
discovery:
  exportedTagsOnMetrics:
    AWS/ECS: [team]
  jobs:
    - type: AWS/ECS
      regions: [us-east-1]
      searchTags:
        - key: team
          value: ^core$
      period: 60
      length: 300
      metrics:
        - name: CPUUtilization
          statistics: [Average]
"#;

harness::prometheus_matrix! {
#[tokio::test(flavor = "multi_thread")]
async fn ecs_service_metrics_of_an_untagged_service_carry_the_tagged_clusters_arn_and_tags() {
    let s = setup(ECS_JOB);
    let sdk = s.moto.sdk_config().await;
    let ecs = aws_sdk_ecs::Client::new(&sdk);
    let team = |v: &str| aws_sdk_ecs::types::Tag::builder().key("team").value(v).build();
    for (cluster, t) in [("prod", "core"), ("other", "other")] {
        ecs.create_cluster().cluster_name(cluster).tags(team(t)).send().await.unwrap();
    }
    // `web` untagged, `api` tagged: only the second is a resource of its own.
    ecs.create_service().cluster("prod").service_name("web").desired_count(0).send().await.unwrap();
    ecs.create_service().cluster("prod").service_name("api").desired_count(0).tags(team("core")).send().await.unwrap();

    // What moto's tagging API answers for YACE's ECS resource types: tagged clusters and services only.
    let tagging = aws_sdk_resourcegroupstagging::Client::new(&sdk);
    let found = tagging
        .get_resources()
        .resource_type_filters("ecs:cluster")
        .resource_type_filters("ecs:service")
        .send()
        .await
        .unwrap();
    let mut arns: Vec<&str> = found.resource_tag_mapping_list().iter().filter_map(|r| r.resource_arn()).collect();
    arns.sort_unstable();
    let arn = |tail: &str| format!("arn:aws:ecs:us-east-1:{ACCOUNT}:{tail}");
    assert_eq!(arns, [arn("cluster/other"), arn("cluster/prod"), arn("service/prod/api")], "{found:?}");

    let cw = aws_sdk_cloudwatch::Client::new(&sdk);
    let m = minute().await;
    for (i, dims) in [
        &[("ClusterName", "prod"), ("ServiceName", "web")][..],
        &[("ClusterName", "prod"), ("ServiceName", "api")],
        &[("ClusterName", "prod")],
        // The cluster is found but not selected by the search tags: skipped, as in YACE.
        &[("ClusterName", "other"), ("ServiceName", "x")],
    ]
    .into_iter()
    .enumerate()
    {
        put(&cw, "AWS/ECS", "CPUUtilization", dims, &[(m - 60, 10.0 * (i as f64 + 1.0))]).await;
    }

    let summary = handle(event("ecs-1"), &deps(&s, None).await).await.unwrap();
    assert!(summary.jobs_failed.is_empty(), "{summary:?}");
    assert_eq!(summary.metrics_requested, 3, "{summary:?}");
    let mut series: Vec<(Vec<(String, String)>, String)> = s
        .prometheus
        .query("aws_ecs_cpuutilization_average")
        .await
        .iter()
        .map(|r| (labels(r), r["value"][1].as_str().unwrap().to_string()))
        .collect();
    series.sort();
    let expected = |dims: &[(&str, &str)], name: &str, value: &str| {
        let mut l: Vec<(String, String)> = [
            ("__name__", "aws_ecs_cpuutilization_average"),
            ("account_id", ACCOUNT),
            ("name", name),
            ("region", "us-east-1"),
            ("tag_team", "core"),
        ]
        .iter()
        .chain(dims)
        .map(|(k, v)| (if dims.contains(&(*k, *v)) { format!("dimension_{k}") } else { k.to_string() }, v.to_string()))
        .collect();
        l.sort();
        (l, value.to_string())
    };
    let mut want = vec![
        // The untagged service's metrics go to its tagged cluster (YACE's fallback to fewer dimensions).
        expected(&[("ClusterName", "prod"), ("ServiceName", "web")], &arn("cluster/prod"), "10"),
        expected(&[("ClusterName", "prod"), ("ServiceName", "api")], &arn("service/prod/api"), "20"),
        expected(&[("ClusterName", "prod")], &arn("cluster/prod"), "30"),
    ];
    want.sort();
    assert_eq!(series, want);
}
}

const ALB_JOB: &str = r#"
apiVersion: v1alpha1
discovery:
  exportedTagsOnMetrics:
    AWS/ApplicationELB: [Name]
  jobs:
    - type: AWS/ApplicationELB
      regions: [us-east-1]
      dimensionNameRequirements: [LoadBalancer, TargetGroup]
      period: 60
      length: 300
      metrics:
        - name: RequestCount
          statistics: [Sum]
"#;

/// YACE's tagged load balancer (pkg/job/discovery_test.go, case "alb", YACE 1a0ddb1e).
const YACE_ALB_ARN: &str =
    "arn:aws:elasticloadbalancing:us-east-1:123123123123:loadbalancer/app/some-ALB/0123456789012345";

/// moto for every request except GetResources for application load balancers: moto 5.2's tagging
/// API types every load balancer `elasticloadbalancing:loadbalancer`, without AWS's `/app`, so
/// YACE's filter finds none there. This answers it with YACE's tagged load balancer instead.
struct MotoWithYaceAlb {
    inner: AwsApi,
}

impl CloudWatchApi for MotoWithYaceAlb {
    type Session = <AwsApi as CloudWatchApi>::Session;

    fn own_session(&self, region: &str) -> Self::Session {
        self.inner.own_session(region)
    }
    async fn assume_role(
        &self,
        region: &str,
        sts_region: &str,
        role: &Role,
    ) -> Result<(Self::Session, Option<String>), ApiError> {
        self.inner.assume_role(region, sts_region, role).await
    }
    async fn caller_account(&self, session: &Self::Session) -> Result<String, ApiError> {
        self.inner.caller_account(session).await
    }
    async fn list_metrics(
        &self,
        session: &Self::Session,
        request: ListMetrics<'_>,
        next_token: Option<String>,
    ) -> Result<Page<MetricRef>, ApiError> {
        self.inner.list_metrics(session, request, next_token).await
    }
    async fn get_resources(
        &self,
        session: &Self::Session,
        types: &[&str],
        tag_keys: &[&str],
        next_token: Option<String>,
    ) -> Result<Page<Resource>, ApiError> {
        if types.contains(&"elasticloadbalancing:loadbalancer/app") {
            let alb = Resource { arn: YACE_ALB_ARN.into(), tags: pairs(&[("Name", "some-ALB")]) };
            return Ok(Page { items: vec![alb], next_token: None });
        }
        self.inner.get_resources(session, types, tag_keys, next_token).await
    }
    async fn get_metric_data(
        &self,
        session: &Self::Session,
        call: &Call,
        wanted: &[Wanted],
        next_token: Option<String>,
    ) -> Result<Page<(usize, Datapoints)>, ApiError> {
        self.inner.get_metric_data(session, call, wanted, next_token).await
    }
}

harness::prometheus_matrix! {
#[tokio::test(flavor = "multi_thread")]
async fn alb_target_group_metrics_of_an_untagged_target_group_carry_the_load_balancers_arn() {
    let s = setup(ALB_JOB);
    let sdk = s.moto.sdk_config().await;
    let cw = aws_sdk_cloudwatch::Client::new(&sdk);
    let m = minute().await;
    // YACE's ListMetrics page for the case.
    let lb = ("LoadBalancer", "app/some-ALB/0123456789012345");
    let tg = ("TargetGroup", "targetgroup/some-ALB/9999666677773333");
    let az = ("AvailabilityZone", "us-east-1");
    for (i, dims) in [&[lb, tg, az][..], &[lb, tg], &[lb, az], &[lb]].into_iter().enumerate() {
        put(&cw, "AWS/ApplicationELB", "RequestCount", dims, &[(m - 60, i as f64 + 1.0)]).await;
    }
    let api = MotoWithYaceAlb { inner: AwsApi::new(&sdk, promstack::settings::DEFAULT_AWS_API_MAX_ATTEMPTS) };
    let deps = Deps::with_api(api, settings(&s, None), &sdk).unwrap();
    let summary = handle(event("alb-1"), &deps).await.unwrap();
    assert!(summary.jobs_failed.is_empty(), "{summary:?}");
    assert_eq!(summary.metrics_requested, 1, "{summary:?}");
    // Only the LoadBalancer+TargetGroup metric meets the requirements; it goes to the load balancer.
    let r = s.prometheus.query("aws_applicationelb_request_count_sum").await;
    assert_eq!(r.len(), 1, "{r:?}");
    assert_eq!(
        labels(&r[0]),
        pairs(&[
            ("__name__", "aws_applicationelb_request_count_sum"),
            ("account_id", ACCOUNT),
            ("dimension_LoadBalancer", lb.1),
            ("dimension_TargetGroup", tg.1),
            ("name", YACE_ALB_ARN),
            ("region", "us-east-1"),
            ("tag_Name", "some-ALB"),
        ])
    );
    assert_eq!(r[0]["value"][1], "2");
}
}

// ---- #11 config: configs YACE accepts run as YACE runs them ----------------------------------

harness::prometheus_matrix! {
/// A YACE file with what this exporter used to refuse: merge keys, YAML 1.1 booleans, the
/// deprecated `roundingPeriod`, and a metric-level `delay`, which YACE ignores: were the 600 s
/// honoured, the window would end before the datapoint and nothing would be exported.
#[tokio::test(flavor = "multi_thread")]
async fn a_yace_config_with_merge_keys_and_ignored_fields_runs_as_in_yace() {
    let s = setup(
        r#"
apiVersion: v1alpha1
customNamespace:
  - &orders
    name: orders
    namespace: MyApp
    regions: [us-east-1]
    period: 60
    roundingPeriod: 60
    nilToZero: no
    metrics:
      - name: Orders
        statistics: [Sum]
        delay: 600
  - <<: *orders
    name: shipped
    metrics:
      - name: Shipped
        statistics: [Sum]
"#,
    );
    let sdk = s.moto.sdk_config().await;
    let m = minute().await;
    let cw = aws_sdk_cloudwatch::Client::new(&sdk);
    put(&cw, "MyApp", "Orders", &[("Shop", "ny")], &[(m - 60, 3.0)]).await;
    put(&cw, "MyApp", "Shipped", &[("Shop", "ny")], &[(m - 60, 2.0)]).await;

    let deps = deps(&s, None).await;
    let config = deps.load_config().await.unwrap();
    let warned: Vec<&str> = config.warnings.iter().map(|w| w.location.as_str()).collect();
    assert_eq!(
        warned,
        [
            "customNamespace[0].roundingPeriod",
            "customNamespace[0].metrics[0].delay",
            "customNamespace[1].roundingPeriod"
        ]
    );
    let summary = handle(event("yace-config"), &deps).await.unwrap();
    assert!(summary.jobs_failed.is_empty(), "{summary:?}");
    for (metric, value) in [("aws_myapp_orders_sum", "3"), ("aws_myapp_shipped_sum", "2")] {
        let r = s.prometheus.query(metric).await;
        assert_eq!(r.len(), 1, "{metric}: {r:?}");
        assert_eq!(r[0]["value"][1], value, "{metric}");
    }
}
}

// ---- Resources as YACE finds them (issue #11 §2, §3): search tags sent as TagFilters, a job
// without resources exports nothing, and the per-service lookups moto serves.

// Moto 5.2 serves AWS/DMS's DescribeReplicationInstances, but with dates as ISO strings that the
// SDK refuses (awsJson wants epoch seconds), so DMS is tested through the trait only
// (resources_yace_cases.rs); moto has no Storage Gateway, and its tagging API knows no API Gateway
// resources.

/// The `name` labels of the series whose metric name matches `name_regex` (not `_info`), sorted.
async fn resource_names(p: &Prometheus, name_regex: &str) -> Vec<String> {
    let mut names: Vec<String> = p
        .query(&format!(r#"{{__name__=~"{name_regex}",__name__!~".*_info"}}"#))
        .await
        .iter()
        .map(|s| s["metric"]["name"].as_str().unwrap_or_default().to_string())
        .collect();
    names.sort();
    names
}

const NOTHING_MATCHES: &str = r#"
apiVersion: v1alpha1
discovery:
  jobs:
    - type: AWS/EC2
      regions: [us-east-1]
      searchTags:
        - key: team
          value: ^nobody$
      period: 60
      length: 300
      metrics:
        - name: CPUUtilization
          statistics: [Average]
customNamespace:
  - name: shop
    namespace: MyApp
    regions: [us-east-1]
    period: 60
    length: 300
    metrics:
      - name: Orders
        statistics: [Sum]
"#;

harness::prometheus_matrix! {
#[tokio::test(flavor = "multi_thread")]
async fn a_search_tag_that_matches_nothing_exports_nothing_for_its_job_and_says_why() {
    let s = setup(NOTHING_MATCHES);
    let sdk = s.moto.sdk_config().await;
    let instance = run_tagged_instance(&s.moto, &[("team", "core")]).await;
    let cw = aws_sdk_cloudwatch::Client::new(&sdk);
    let m = minute().await;
    put(&cw, "AWS/EC2", "CPUUtilization", &[("InstanceId", &instance)], &[(m - 120, 1.0), (m - 60, 2.0)]).await;
    // A metric no ARN regexp applies to: before, it went out as name="global".
    put(&cw, "AWS/EC2", "CPUUtilization", &[("ImageId", "ami-12c6146b")], &[(m - 60, 3.0)]).await;
    put(&cw, "MyApp", "Orders", &[("Shop", "berlin")], &[(m - 60, 5.0)]).await;

    s.moto.start_recording().await;
    let summary: Summary = handle(event("run-1"), &deps(&s, None).await).await.unwrap();
    assert!(summary.jobs_failed.is_empty(), "{summary:?}");
    assert_eq!(summary.jobs_without_resources.len(), 1, "{summary:?}");
    assert_eq!(summary.jobs_without_resources[0].region, "us-east-1");

    let ec2_series = s.prometheus.query(r#"{__name__=~"aws_ec2_.*"}"#).await;
    assert_eq!(ec2_series, Vec::<Value>::new(), "nothing, not even global");
    assert_eq!(
        resource_names(&s.prometheus, "aws_myapp_.*").await,
        ["shop"],
        "the other job is exported, named after the job as YACE names custom namespace series"
    );
    let reason = s.prometheus.query("cloudwatch_exporter_run_jobs_without_resources").await;
    assert_eq!(reason[0]["value"][1], "1");

    // GetResources carried the search tag's key (not its value) as a TagFilter.
    let recorded = s.moto.recording().await;
    let bodies: Vec<Value> = recorded
        .iter()
        .filter(|r| r.headers.get("x-amz-target").is_some_and(|t| t.ends_with(".GetResources")))
        .map(|r| serde_json::from_str(&r.body).unwrap())
        .collect();
    assert_eq!(bodies.len(), 1, "{recorded:?}");
    assert_eq!(bodies[0]["TagFilters"], serde_json::json!([{"Key": "team"}]));
    assert_eq!(bodies[0]["ResourceTypeFilters"], serde_json::json!(["ec2:instance"]));
    assert_eq!(bodies[0]["ResourcesPerPage"], 100);
    assert_eq!(summary.api_requests.get("ListMetrics"), Some(&1), "only the custom namespace's: {summary:?}");
}
}

const OWN_LOOKUPS: &str = r#"
apiVersion: v1alpha1
discovery:
  jobs:
    - type: AWS/AutoScaling
      regions: [us-east-1]
      searchTags:
        - key: team
          value: ^core$
      period: 60
      length: 300
      metrics:
        - name: GroupInServiceInstances
          statistics: [Average]
    - type: AWS/Prometheus
      regions: [us-east-1]
      period: 60
      length: 300
      metrics:
        - name: ResourceCount
          statistics: [Maximum]
    - type: AWS/EC2Spot
      regions: [us-east-1]
      period: 60
      length: 300
      metrics:
        - name: TargetCapacity
          statistics: [Average]
    - type: AWS/TransitGateway
      regions: [us-east-1]
      period: 60
      length: 300
      metrics:
        - name: BytesIn
          statistics: [Sum]
    - type: AWS/DDoSProtection
      regions: [us-east-1]
      period: 60
      length: 300
      metrics:
        - name: DDoSDetected
          statistics: [Maximum]
"#;

harness::prometheus_matrix! {
#[tokio::test(flavor = "multi_thread")]
async fn the_per_service_lookups_moto_serves_find_their_resources() {
    let s = setup(OWN_LOOKUPS);
    let sdk = s.moto.sdk_config().await;
    let cw = aws_sdk_cloudwatch::Client::new(&sdk);
    let ec2 = aws_sdk_ec2::Client::new(&sdk);

    // Auto Scaling: two groups, one selected by the search tag.
    let asg = aws_sdk_autoscaling::Client::new(&sdk);
    asg.create_launch_configuration()
        .launch_configuration_name("lc")
        .image_id("ami-12c6146b")
        .instance_type("t2.micro")
        .send()
        .await
        .unwrap();
    for (name, team) in [("web", "core"), ("batch", "other")] {
        let tag = aws_sdk_autoscaling::types::Tag::builder()
            .key("team")
            .value(team)
            .resource_id(name)
            .resource_type("auto-scaling-group")
            .propagate_at_launch(false)
            .build();
        asg.create_auto_scaling_group()
            .auto_scaling_group_name(name)
            .launch_configuration_name("lc")
            .min_size(0)
            .max_size(1)
            .desired_capacity(0)
            .availability_zones("us-east-1a")
            .tags(tag)
            .send()
            .await
            .unwrap();
    }
    let groups = asg.describe_auto_scaling_groups().auto_scaling_group_names("web").send().await.unwrap();
    let web_arn = groups.auto_scaling_groups()[0].auto_scaling_group_arn().unwrap().to_string();

    // Amazon Managed Service for Prometheus: a workspace (no ARN regexps: its metrics are global).
    let amp = aws_sdk_amp::Client::new(&sdk);
    let ws = amp.create_workspace().alias("main").tags("team", "core").send().await.unwrap();
    let ws_arn = ws.arn().to_string();

    // A spot fleet request.
    let spec = aws_sdk_ec2::types::SpotFleetLaunchSpecification::builder()
        .image_id("ami-12c6146b")
        .instance_type(aws_sdk_ec2::types::InstanceType::T2Micro)
        .build();
    let fleet = ec2
        .request_spot_fleet()
        .spot_fleet_request_config(
            aws_sdk_ec2::types::SpotFleetRequestConfigData::builder()
                .iam_fleet_role(format!("arn:aws:iam::{ACCOUNT}:role/fleet"))
                .target_capacity(1)
                .allocation_strategy(aws_sdk_ec2::types::AllocationStrategy::LowestPrice)
                .launch_specifications(spec)
                .build(),
        )
        .send()
        .await
        .unwrap();
    let fleet_id = fleet.spot_fleet_request_id().unwrap().to_string();

    // A transit gateway attachment: found through DescribeTransitGatewayAttachments as `<tgw>/<attachment>`.
    let tgw = ec2.create_transit_gateway().send().await.unwrap();
    let tgw_id = tgw.transit_gateway().unwrap().transit_gateway_id().unwrap().to_string();
    let vpc = ec2.create_vpc().cidr_block("10.0.0.0/16").send().await.unwrap();
    let vpc_id = vpc.vpc().unwrap().vpc_id().unwrap().to_string();
    let subnet = ec2.create_subnet().vpc_id(&vpc_id).cidr_block("10.0.0.0/24").send().await.unwrap();
    let subnet_id = subnet.subnet().unwrap().subnet_id().unwrap().to_string();
    let attachment = ec2
        .create_transit_gateway_vpc_attachment()
        .transit_gateway_id(&tgw_id)
        .vpc_id(&vpc_id)
        .subnet_ids(&subnet_id)
        .send()
        .await
        .unwrap();
    let attachment_id =
        attachment.transit_gateway_vpc_attachment().unwrap().transit_gateway_attachment_id().unwrap().to_string();

    // Shield: a protected Elastic IP in the job's region.
    let eip = ec2.allocate_address().domain(aws_sdk_ec2::types::DomainType::Vpc).send().await.unwrap();
    let eip_arn = format!("arn:aws:ec2:us-east-1:{ACCOUNT}:eip-allocation/{}", eip.allocation_id().unwrap());
    let shield = aws_sdk_shield::Client::new(&sdk);
    shield.create_protection().name("eip").resource_arn(&eip_arn).send().await.unwrap();

    let m = minute().await;
    let points = [(m - 120, 1.0), (m - 60, 2.0)];
    put(&cw, "AWS/AutoScaling", "GroupInServiceInstances", &[("AutoScalingGroupName", "web")], &points).await;
    put(&cw, "AWS/AutoScaling", "GroupInServiceInstances", &[("AutoScalingGroupName", "batch")], &points).await;
    put(&cw, "AWS/Prometheus", "ResourceCount", &[("Workspace", "main")], &points).await;
    put(&cw, "AWS/EC2Spot", "TargetCapacity", &[("FleetRequestId", &fleet_id)], &points).await;
    let tgw_dims = [("TransitGateway", tgw_id.as_str()), ("TransitGatewayAttachment", attachment_id.as_str())];
    put(&cw, "AWS/TransitGateway", "BytesIn", &tgw_dims, &points).await;
    put(&cw, "AWS/DDoSProtection", "DDoSDetected", &[("ResourceArn", &eip_arn)], &points).await;

    let summary: Summary = handle(event("run-1"), &deps(&s, None).await).await.unwrap();
    assert!(summary.jobs_failed.is_empty(), "{summary:?}");
    assert!(summary.jobs_without_resources.is_empty(), "{summary:?}");
    let p = &s.prometheus;
    assert_eq!(resource_names(p, "aws_autoscaling_.*").await, [web_arn], "only the group tagged team=core");
    assert_eq!(resource_names(p, "aws_prometheus_.*").await, ["global"]);
    let info = p.query("aws_prometheus_info").await;
    assert_eq!(info.len(), 1, "{info:?}");
    assert_eq!(info[0]["metric"]["name"], ws_arn.as_str());
    assert_eq!(resource_names(p, "aws_ec2spot_.*").await, [fleet_id]);
    assert_eq!(resource_names(p, "aws_transitgateway_.*").await, [format!("{tgw_id}/{attachment_id}")]);
    assert_eq!(resource_names(p, "aws_ddosprotection_.*").await, [eip_arn]);
    for api in [
        "DescribeAutoScalingGroups",
        "ListWorkspaces",
        "DescribeSpotFleetRequests",
        "DescribeTransitGatewayAttachments",
        "ListProtections",
    ] {
        assert_eq!(summary.api_requests.get(api), Some(&1), "{api}: {summary:?}");
    }
}
}

// ---- series (issue #11 §4, §7, §8): YACE's names and labels, EXTRA_LABELS, skipped queries ----

/// The 5-minute boundary before now; waits out the last 40 s of a 5-minute bucket so two runs
/// in a row fall in the same one.
async fn five_minutes() -> i64 {
    let now = now_secs();
    if now % 300.0 > 260.0 {
        tokio::time::sleep(Duration::from_secs_f64(301.0 - now % 300.0)).await;
    }
    (now_secs() as i64).div_euclid(300) * 300
}

const CUSTOM_NAMESPACE: &str = r#"
apiVersion: v1alpha1
customNamespace:
  - name: shop-orders
    namespace: MyApp
    regions: [us-east-1]
    customTags: [{key: billableTo, value: api}]
    period: 300
    length: 300
    metrics:
      - name: Orders
        statistics: [Sum]
"#;

harness::prometheus_matrix! {
#[tokio::test(flavor = "multi_thread")]
async fn a_custom_namespace_series_is_named_after_its_job_with_extra_labels_on_every_series() {
    let s = setup(CUSTOM_NAMESPACE);
    let sdk = s.moto.sdk_config().await;
    let cw = aws_sdk_cloudwatch::Client::new(&sdk);
    let b = five_minutes().await;
    put(&cw, "MyApp", "Orders", &[("ShopId", "berlin")], &[(b - 300, 7.0)]).await;
    let mut settings = settings(&s, None);
    settings.labels_snake_case = true;
    settings.extra_labels = vec![("job".into(), "yace".into()), ("instance".into(), "cloudwatch".into())];
    let deps = Deps::new(settings, sdk.clone()).unwrap();
    let summary = handle(event("named"), &deps).await.unwrap();
    assert!(summary.jobs_failed.is_empty(), "{summary:?}");

    let series = s.prometheus.query("aws_myapp_orders_sum").await;
    assert_eq!(series.len(), 1, "{series:?}");
    assert_eq!(
        labels(&series[0]),
        pairs(&[
            ("__name__", "aws_myapp_orders_sum"),
            ("account_id", ACCOUNT),
            ("custom_tag_billable_to", "api"),
            ("dimension_shop_id", "berlin"),
            ("instance", "cloudwatch"),
            ("job", "yace"),
            ("name", "shop-orders"),
            ("region", "us-east-1"),
        ])
    );
    assert_eq!(series[0]["value"][1], "7");
    // The run's own series carry them too: YACE's mixin dashboards select on `job`.
    let own = s.prometheus.query(r#"cloudwatch_exporter_run_series{job="yace",instance="cloudwatch"}"#).await;
    assert_eq!(own.len(), 1, "{own:?}");
}
}

const DAILY_AND_FIVE_MINUTE: &str = r#"
apiVersion: v1alpha1
customNamespace:
  - name: shop
    namespace: MyApp
    regions: [us-east-1]
    period: 300
    length: 300
    metrics:
      - name: Orders
        statistics: [Sum]
"#;

harness::prometheus_matrix! {
#[tokio::test(flavor = "multi_thread")]
async fn a_run_within_the_same_bucket_asks_no_get_metric_data_and_repushes_the_last_value() {
    let s = setup(DAILY_AND_FIVE_MINUTE);
    let sdk = s.moto.sdk_config().await;
    let s3 = aws_sdk_s3::Client::from_conf(aws_sdk_s3::config::Builder::from(&sdk).force_path_style(true).build());
    s3.create_bucket().bucket("state").send().await.unwrap();
    let cw = aws_sdk_cloudwatch::Client::new(&sdk);
    let b = five_minutes().await;
    put(&cw, "MyApp", "Orders", &[("Shop", "berlin")], &[(b - 300, 7.0)]).await;
    put(&cw, "MyApp", "Orders", &[("Shop", "paris")], &[(b - 300, 3.0)]).await;
    let counting = Counting {
        inner: AwsApi::new(&sdk, promstack::settings::DEFAULT_AWS_API_MAX_ATTEMPTS),
        calls: Default::default(),
    };
    let deps = Deps::with_api(counting, settings(&s, Some("state")), &sdk).unwrap();

    let first = handle(event("first"), &deps).await.unwrap();
    assert_eq!(first.metrics_requested, 2, "{first:?}");
    assert_eq!(deps.api.take().get("GetMetricData"), Some(&1));
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let second = handle(event("second"), &deps).await.unwrap();
    assert_eq!(second.metrics_requested, 0, "the same 5-minute bucket: nothing to ask: {second:?}");
    assert_eq!(deps.api.take().get("GetMetricData"), None);
    assert_eq!(second.samples_pushed, 2, "the last values again, at the run's time: {second:?}");

    let berlin = samples(&s.prometheus, r#"aws_myapp_orders_sum{dimension_Shop="berlin"}"#).await;
    assert_eq!(berlin.iter().map(|(_, v)| *v).collect::<Vec<_>>(), [7.0, 7.0], "{berlin:?}");
    assert!(berlin[1].0 > berlin[0].0, "each run's sample at its own time: {berlin:?}");
    let paris = samples(&s.prometheus, r#"aws_myapp_orders_sum{dimension_Shop="paris"}"#).await;
    assert_eq!(paris.iter().map(|(_, v)| *v).collect::<Vec<_>>(), [3.0, 3.0]);
}
}

harness::prometheus_matrix! {
/// YACE loads a file whose job lists are all empty and exports nothing; so does a run here, which
/// succeeds with no series rather than reporting "every job failed".
#[tokio::test(flavor = "multi_thread")]
async fn a_config_with_empty_job_lists_runs_and_exports_nothing() {
    let s = setup("apiVersion: v1alpha1\nstatic: []\n");
    let summary: Summary = handle(event("empty"), &deps(&s, None).await).await.unwrap();
    assert_eq!((summary.jobs, summary.series, summary.samples_pushed), (0, 0, 0), "{summary:?}");
    assert!(summary.jobs_failed.is_empty(), "{summary:?}");
}
}

/// HA replicas: a run whose data one replica missed succeeds, names that replica, and keeps its
/// watermarks, so the next run fills the replica. Real: moto, two Prometheus servers on one port
/// at 127.0.0.1 and 127.0.0.2, the exporter's push to both. Stand-in: only the name -> addresses
/// step (Cloud Map's A records), since this machine resolves a name to one address.
mod replicas {
    use std::net::{IpAddr, Ipv4Addr};
    use std::sync::Arc;

    use promstack::remote_write::{Client, Config, Resolve, ResolveFuture, RetryPolicy};

    use super::*;

    const NAME: &str = "prometheus.promstack.test";

    #[derive(Debug)]
    struct CloudMapStandIn;

    impl Resolve for CloudMapStandIn {
        fn addresses<'a>(&'a self, host: &'a str) -> ResolveFuture<'a> {
            let found: Vec<IpAddr> = if host == NAME {
                vec![Ipv4Addr::new(127, 0, 0, 1).into(), Ipv4Addr::new(127, 0, 0, 2).into()]
            } else {
                vec![]
            };
            Box::pin(async move { Ok(found) })
        }
    }

    harness::prometheus_matrix! {
    #[tokio::test(flavor = "multi_thread")]
    async fn a_replica_that_missed_a_run_is_filled_by_the_next_one() {
        let s = setup(TIMESTAMPED);
        let mut second = Prometheus::builder().ip(Ipv4Addr::new(127, 0, 0, 2).into()).port(s.prometheus.port()).start();
        let sdk = s.moto.sdk_config().await;
        aws_sdk_s3::Client::new(&sdk).create_bucket().bucket("state").send().await.unwrap();
        let cw = aws_sdk_cloudwatch::Client::new(&sdk);
        let m = minute().await;
        let dims = [("Queue", "jobs")];
        put(&cw, "MyApp", "Latency", &dims, &[(m - 540, 1.0), (m - 480, 2.0), (m - 420, 3.0)]).await;
        let mut deps = deps(&s, Some("state")).await;
        let mut config = Config::new(format!("http://{NAME}:{}/api/v1/write", s.prometheus.port()));
        config.resolver = Arc::new(CloudMapStandIn);
        config.retry =
            RetryPolicy { initial: Duration::from_millis(20), max_delay: Duration::from_millis(50), max_retries: 1 };
        deps.remote_write = Client::new(config).unwrap();

        let first = handle(event("a"), &deps).await.unwrap();
        assert_eq!((first.remote_write_replicas, first.remote_write_replicas_failed.len()), (2, 0), "{first:?}");
        for p in [&s.prometheus, &second] {
            assert_eq!(samples(p, SELECTOR).await, [(m - 540, 1.0), (m - 480, 2.0), (m - 420, 3.0)]);
        }

        // A new datapoint while the second replica is down: the run succeeds on the first and
        // says which replica missed it.
        put(&cw, "MyApp", "Latency", &dims, &[(m - 360, 4.0)]).await;
        second.stop();
        let missed = handle(event("b"), &deps).await.unwrap();
        assert_eq!(missed.remote_write_replicas_failed.len(), 1, "{missed:?}");
        let failure = &missed.remote_write_replicas_failed[0];
        assert_eq!(failure.replica, second.address().to_string());
        assert!(failure.error.contains("failed after 2 attempts"), "{failure:?}");
        assert_eq!(missed.samples_pushed, 1);
        assert_eq!(samples(&s.prometheus, SELECTOR).await.len(), 4);
        let own = s.prometheus.query("cloudwatch_exporter_run_remote_write_replicas_failed").await;
        assert_eq!(own[0]["value"][1], "1", "{own:?}");

        // Back, and a newer datapoint: the watermark stayed, so the missed datapoint goes out
        // again to both. The first holds it as its newest sample and takes the copy silently.
        second.restart();
        put(&cw, "MyApp", "Latency", &dims, &[(m - 300, 5.0)]).await;
        let next = handle(event("c"), &deps).await.unwrap();
        assert!(next.remote_write_replicas_failed.is_empty(), "{next:?}");
        assert_eq!(next.samples_pushed, 2, "the missed datapoint and the new one: {next:?}");
        assert!(next.samples_dropped.values().all(|n| *n == 0), "{next:?}");
        for p in [&s.prometheus, &second] {
            assert_eq!(
                samples(p, SELECTOR).await,
                [(m - 540, 1.0), (m - 480, 2.0), (m - 420, 3.0), (m - 360, 4.0), (m - 300, 5.0)]
            );
        }
    }
    }
}
