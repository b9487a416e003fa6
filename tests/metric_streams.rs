//! cloudwatch-exporter in metric-stream mode against real servers: moto (Secrets Manager for the
//! access key, S3 for the discovery cache, EC2 + tagging, STS, CloudWatch for the polling run it is
//! compared with) and a real Prometheus receiving the remote writes. Requests are built as Firehose
//! sends them (protocol 1.0), in both record encodings, with and without gzip; assertions are on
//! what Prometheus answers.

use std::time::Duration;

use aws_lambda_events::eventbridge::EventBridgeEvent;
use cloudwatch_exporter::settings::{AuthSetting, ConfigSource, Settings, StateLocation};
use cloudwatch_exporter::stream::firehose::{self, Delivery, Record};
use cloudwatch_exporter::stream::handler::{deliver, Delivered, StreamDeps};
use cloudwatch_exporter::stream::otlp::build::{record, request, Point};
use cloudwatch_exporter::{handle, Deps};
use harness::ec2::run_tagged_instance;
use harness::{now_secs, Moto, Prometheus};
use lambda_http::{Body, Request};
use lambda_runtime::{Context, LambdaEvent};
use serde_json::Value;

const ACCOUNT: &str = "123456789012";
const ACCESS_KEY: &str = "firehose-access-key-0123456789";
const BUCKET: &str = "promstack-state";

/// One discovery job (EC2 instances tagged team=core, their Name tag exported, a custom tag)
/// with the function's own credentials, and one custom namespace.
const CONFIG: &str = r#"
apiVersion: v1alpha1
discovery:
  exportedTagsOnMetrics:
    AWS/EC2: [Name]
  jobs:
    - type: AWS/EC2
      regions: [us-east-1]
      searchTags:
        - key: team
          value: ^core$
      customTags:
        - key: env
          value: test
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
    metrics:
      - name: Orders
        statistics: [Sum]
"#;

struct Setup {
    moto: Moto,
    prometheus: Prometheus,
    _dir: tempfile::TempDir,
    config_path: String,
    secret_arn: String,
    /// EC2 instances: tagged team=core (selected) and team=other.
    core: String,
    other: String,
}

impl Setup {
    async fn start() -> Setup {
        let dir = tempfile::tempdir().unwrap();
        let config_path = dir.path().join("yace.yml");
        std::fs::write(&config_path, CONFIG).unwrap();
        let moto = Moto::start();
        let sdk = moto.sdk_config().await;
        let sm = aws_sdk_secretsmanager::Client::new(&sdk);
        // The shape Firehose reads from Secrets Manager: the function reads the same secret.
        let secret = serde_json::json!({ "api_key": ACCESS_KEY }).to_string();
        let created = sm.create_secret().name("promstack/firehose-access-key").secret_string(secret).send().await;
        let secret_arn = created.unwrap().arn().unwrap().to_string();
        aws_sdk_s3::Client::new(&sdk).create_bucket().bucket(BUCKET).send().await.unwrap();
        let core = run_tagged_instance(&moto, &[("Name", "web"), ("team", "core")]).await;
        let other = run_tagged_instance(&moto, &[("Name", "batch"), ("team", "other")]).await;
        Setup {
            moto,
            prometheus: Prometheus::start(harness::prometheus::EMPTY_CONFIG),
            config_path: config_path.display().to_string(),
            _dir: dir,
            secret_arn,
            core,
            other,
        }
    }

    fn settings(&self) -> Settings {
        Settings {
            config: ConfigSource::Path(self.config_path.clone()),
            remote_write_url: self.prometheus.write_url(),
            auth: AuthSetting::None,
            state: Some(StateLocation { bucket: BUCKET.into(), key: "cloudwatch-exporter/state.json".into() }),
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

    /// A cold container's deps.
    async fn stream(&self) -> StreamDeps {
        let sdk = self.moto.sdk_config().await;
        StreamDeps::new(Deps::new(self.settings(), sdk.clone()).unwrap(), &sdk, self.secret_arn.clone())
    }
}

/// The minute boundary the datapoints are placed against (CloudWatch streams whole minutes).
fn minute() -> i64 {
    (now_secs() as i64).div_euclid(60) * 60 * 1000
}

/// A JSON record line as the stream writes it (the AWS docs' format), statistics as given.
fn json_line(namespace: &str, metric: &str, dims: &[(&str, &str)], ts_ms: i64, value: Value) -> String {
    let dims: serde_json::Map<String, Value> = dims.iter().map(|(k, v)| (k.to_string(), Value::from(*v))).collect();
    serde_json::json!({
        "metric_stream_name": "promstack",
        "account_id": ACCOUNT,
        "region": "us-east-1",
        "namespace": namespace,
        "metric_name": metric,
        "dimensions": dims,
        "timestamp": ts_ms,
        "value": value,
        "unit": "Percent",
    })
    .to_string()
}

/// The HTTP request Firehose sends for `records`.
fn firehose_request(request_id: &str, records: &[Vec<u8>], gzip: bool, key: Option<&str>) -> Request {
    let delivery = Delivery {
        request_id: request_id.into(),
        timestamp: minute(),
        records: records.iter().map(|r| Record::new(r)).collect(),
    };
    let json = serde_json::to_vec(&delivery).unwrap();
    let mut builder = lambda_http::http::Request::builder()
        .method("POST")
        .uri("https://abc.lambda-url.us-east-1.on.aws/")
        .header("content-type", "application/json")
        .header(firehose::REQUEST_ID_HEADER, request_id)
        .header(firehose::PROTOCOL_VERSION_HEADER, "1.0")
        .header(firehose::COMMON_ATTRIBUTES_HEADER, r#"{"commonAttributes":{}}"#);
    if let Some(key) = key {
        builder = builder.header(firehose::ACCESS_KEY_HEADER, key);
    }
    let body = if gzip {
        builder = builder.header("content-encoding", "gzip");
        firehose::gzip(&json)
    } else {
        json
    };
    builder.body(Body::Binary(body)).unwrap()
}

/// Delivers and returns the status, the answer's JSON and what the delivery did.
async fn send(deps: &StreamDeps, request: Request) -> (u16, Value, Delivered) {
    let (response, delivered) = deliver(&request, deps).await;
    let body: Value = serde_json::from_slice(response.body()).unwrap();
    (response.status().as_u16(), body, delivered)
}

/// `selector[2h]` as (timestamp ms, value) pairs of its one series.
async fn samples(p: &Prometheus, selector: &str) -> Vec<(i64, f64)> {
    let r = p.query(&format!("{selector}[2h]")).await;
    assert!(r.len() <= 1, "one series expected for {selector}: {r:?}");
    r.first()
        .map(|s| {
            s["values"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| ((v[0].as_f64().unwrap() * 1000.0).round() as i64, v[1].as_str().unwrap().parse().unwrap()))
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

async fn all_aws_series(p: &Prometheus) -> Vec<Value> {
    p.query(r#"{__name__=~"aws_.+"}"#).await
}

harness::prometheus_matrix! {
#[tokio::test(flavor = "multi_thread")]
async fn both_formats_plain_and_gzipped_land_as_the_polling_path_names_them() {
    let s = Setup::start().await;
    let deps = s.stream().await;
    let m = minute();
    let core = [("InstanceId", s.core.as_str())];
    let other = [("InstanceId", s.other.as_str())];
    // Four deliveries, one per encoding, each a minute later than the one before.
    let json = |ts: i64, sum: f64| {
        let value = serde_json::json!({"count": 4.0, "sum": sum, "max": sum - 1.0, "min": 1.0, "p99": sum - 2.0});
        let mut lines = json_line("AWS/EC2", "CPUUtilization", &core, ts, value.clone());
        lines.push('\n');
        // The instance the search tags did not select: not exported, as when polling.
        lines.push_str(&json_line("AWS/EC2", "CPUUtilization", &other, ts, value));
        lines.into_bytes()
    };
    let otlp = |ts: i64, sum: f64| {
        let quantiles = [(0.0, 1.0), (0.99, sum - 2.0), (1.0, sum - 1.0)];
        let points: Vec<Point> = [&core[..], &other[..]]
            .into_iter()
            .map(|dimensions| Point {
                namespace: "AWS/EC2",
                metric_name: "CPUUtilization",
                dimensions,
                end_ms: ts,
                sum,
                count: 4,
                quantiles: &quantiles,
            })
            .collect();
        record(&[request(ACCOUNT, "us-east-1", &points)])
    };
    let deliveries = [
        ("json-plain", json(m - 600_000, 40.0), false),
        ("json-gzip", json(m - 540_000, 48.0), true),
        ("otlp-plain", otlp(m - 480_000, 56.0), false),
        ("otlp-gzip", otlp(m - 420_000, 64.0), true),
    ];
    for (id, rec, gzip) in deliveries {
        let (status, body, delivered) = send(&deps, firehose_request(id, &[rec], gzip, Some(ACCESS_KEY))).await;
        assert_eq!(status, 200, "{id}: {body} {delivered:?}");
        assert_eq!(body["requestId"], id);
        assert!(body["timestamp"].as_i64().unwrap() >= m, "{body}");
        assert_eq!(body.get("errorMessage"), None);
        assert_eq!(delivered.datapoints, 2, "{delivered:?}");
        assert_eq!(delivered.series, 6, "Minimum, Maximum, Sum, SampleCount, p99, Average: {delivered:?}");
        assert_eq!(delivered.samples_dropped.get("resource_not_selected"), Some(&6), "{delivered:?}");
        assert!(delivered.malformed.is_empty(), "{delivered:?}");
    }

    // CloudWatch's timestamps kept; Average = Sum / SampleCount.
    let arn = format!("arn:aws:ec2:us-east-1:{ACCOUNT}:instance/{}", s.core);
    let at = |back: i64| m - back * 60_000;
    assert_eq!(
        samples(&s.prometheus, "aws_ec2_cpuutilization_average").await,
        [(at(10), 10.0), (at(9), 12.0), (at(8), 14.0), (at(7), 16.0)]
    );
    assert_eq!(
        samples(&s.prometheus, "aws_ec2_cpuutilization_p99").await,
        [(at(10), 38.0), (at(9), 46.0), (at(8), 54.0), (at(7), 62.0)]
    );
    for (name, value) in [
        ("aws_ec2_cpuutilization_minimum", 1.0),
        ("aws_ec2_cpuutilization_maximum", 63.0),
        ("aws_ec2_cpuutilization_sum", 64.0),
        ("aws_ec2_cpuutilization_sample_count", 4.0),
    ] {
        assert_eq!(samples(&s.prometheus, name).await.last(), Some(&(at(7), value)), "{name}");
    }
    let r = s.prometheus.query("last_over_time(aws_ec2_cpuutilization_average[2h])").await;
    assert_eq!(r.len(), 1, "only the selected instance: {r:?}");
    let want = pairs(&[
        ("__name__", "aws_ec2_cpuutilization_average"),
        ("account_id", ACCOUNT),
        ("custom_tag_env", "test"),
        ("dimension_InstanceId", &s.core),
        ("name", &arn),
        ("region", "us-east-1"),
        ("tag_Name", "web"),
    ]);
    assert_eq!(labels(&r[0]), want);

    // The tagged resources are cached in the state bucket under the polling path's key.
    let sdk = s.moto.sdk_config().await;
    let cache = aws_sdk_s3::Client::new(&sdk)
        .get_object()
        .bucket(BUCKET)
        .key(cloudwatch_exporter::stream::associate::CACHE_KEY)
        .send()
        .await
        .unwrap();
    let cache = String::from_utf8(cache.body.collect().await.unwrap().into_bytes().to_vec()).unwrap();
    assert!(cache.contains(&arn) && !cache.contains(&s.other), "{cache}");

    // A poll of the same metric (stamped at run time, after the stream's datapoints) lands in the
    // very same series: the same name and labels, whichever path fed it.
    let cw = aws_sdk_cloudwatch::Client::new(&sdk);
    let datum = aws_sdk_cloudwatch::types::MetricDatum::builder()
        .metric_name("CPUUtilization")
        .dimensions(aws_sdk_cloudwatch::types::Dimension::builder().name("InstanceId").value(&s.core).build())
        .timestamp(aws_sdk_cloudwatch::primitives::DateTime::from_millis(m - 60_000))
        .value(30.0)
        .build();
    cw.put_metric_data().namespace("AWS/EC2").metric_data(datum).send().await.unwrap();
    let mut event: EventBridgeEvent =
        serde_json::from_slice(include_bytes!("../events/cloudwatch-exporter-schedule.json")).unwrap();
    event.id = Some("poll-1".into());
    let polling = Deps::new(s.settings(), sdk.clone()).unwrap();
    let summary = handle(LambdaEvent { payload: event, context: Context::default() }, &polling).await.unwrap();
    assert!(summary.jobs_failed.is_empty(), "{summary:?}");
    let r = s.prometheus.query("last_over_time(aws_ec2_cpuutilization_average[2h])").await;
    assert_eq!(r.len(), 1, "the poll's series is the stream's: {r:?}");
    assert_eq!(labels(&r[0]), want);
    assert_eq!(r[0]["value"][1], "30", "the poll's sample is the newest of the one series");
    assert_eq!(samples(&s.prometheus, "aws_ec2_cpuutilization_average").await.len(), 5);
}
}

harness::prometheus_matrix! {
#[tokio::test(flavor = "multi_thread")]
async fn a_custom_namespace_metric_is_named_after_its_job_and_an_unconfigured_one_is_global() {
    let s = Setup::start().await;
    let deps = s.stream().await;
    let m = minute();
    let orders = json_line("MyApp", "Orders", &[("Shop", "berlin")], m - 120_000, serde_json::json!({"count": 2.0, "sum": 7.0, "max": 5.0, "min": 2.0}));
    let other = json_line("Other/App", "Latency", &[], m - 120_000, serde_json::json!({"count": 1.0, "sum": 3.0, "max": 3.0, "min": 3.0}));
    let (status, body, _) = send(&deps, firehose_request("r-1", &[orders.into_bytes(), other.into_bytes()], true, Some(ACCESS_KEY))).await;
    assert_eq!(status, 200, "{body}");
    let r = s.prometheus.query("last_over_time(aws_myapp_orders_sum[1h])").await;
    assert_eq!(r.len(), 1, "{r:?}");
    assert_eq!(
        labels(&r[0]),
        pairs(&[
            ("__name__", "aws_myapp_orders_sum"),
            ("account_id", ACCOUNT),
            ("dimension_Shop", "berlin"),
            ("name", "shop"),
            ("region", "us-east-1")
        ])
    );
    assert_eq!(r[0]["value"][1], "7");
    let r = s.prometheus.query("last_over_time(aws_other_app_latency_average[1h])").await;
    assert_eq!(r.len(), 1, "{r:?}");
    let global = [("__name__", "aws_other_app_latency_average"), ("account_id", ACCOUNT), ("name", "global"), ("region", "us-east-1")];
    assert_eq!(labels(&r[0]), pairs(&global));
}
}

harness::prometheus_matrix! {
#[tokio::test(flavor = "multi_thread")]
async fn a_bad_access_key_gets_401_and_nothing_is_written() {
    let s = Setup::start().await;
    let deps = s.stream().await;
    let line = json_line("MyApp", "Orders", &[("Shop", "berlin")], minute() - 60_000, serde_json::json!({"count": 1.0, "sum": 1.0, "max": 1.0, "min": 1.0}));
    for (id, key) in [("wrong", Some("firehose-access-key-0123456788")), ("prefix", Some("firehose")), ("missing", None)] {
        let (status, body, delivered) = send(&deps, firehose_request(id, &[line.clone().into_bytes()], false, key)).await;
        assert_eq!(status, 401, "{id}: {body}");
        assert_eq!(body["requestId"], id);
        assert_eq!(body["errorMessage"], "the X-Amz-Firehose-Access-Key header is missing or wrong");
        assert_eq!(delivered.datapoints, 0, "nothing read: {delivered:?}");
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(all_aws_series(&s.prometheus).await, Vec::<Value>::new());
    // The right key, for contrast: the same request lands.
    let (status, _, _) = send(&deps, firehose_request("right", &[line.into_bytes()], false, Some(ACCESS_KEY))).await;
    assert_eq!(status, 200);
    assert_eq!(all_aws_series(&s.prometheus).await.len(), 5);
}
}

harness::prometheus_matrix! {
#[tokio::test(flavor = "multi_thread")]
async fn a_malformed_record_is_reported_and_the_rest_lands() {
    let s = Setup::start().await;
    let deps = s.stream().await;
    let m = minute();
    let good_json = json_line("MyApp", "Orders", &[("Shop", "berlin")], m - 60_000, serde_json::json!({"count": 1.0, "sum": 2.0, "max": 2.0, "min": 2.0}));
    let point = Point { namespace: "MyApp", metric_name: "Orders", dimensions: &[("Shop", "paris")], end_ms: m - 60_000, sum: 3.0, count: 1, quantiles: &[(0.0, 3.0), (1.0, 3.0)] };
    let good_otlp = record(&[request(ACCOUNT, "us-east-1", &[point])]);
    let mut cut_otlp = good_otlp.clone();
    cut_otlp.truncate(good_otlp.len() / 2);
    let records = [good_json.into_bytes(), b"{\"metric_name\": 42}".to_vec(), cut_otlp, good_otlp];
    let (status, body, delivered) = send(&deps, firehose_request("mixed", &records, true, Some(ACCESS_KEY))).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(delivered.records, 4);
    assert_eq!(delivered.datapoints, 2);
    assert_eq!(delivered.malformed.len(), 2, "{delivered:?}");
    assert!(delivered.malformed[0].starts_with("record 1: JSON line 1: "), "{delivered:?}");
    assert!(delivered.malformed[1].starts_with("record 2: OpenTelemetry message 1: "), "{delivered:?}");
    assert_eq!(delivered.samples_dropped.get("malformed_record"), Some(&2));
    let shops: Vec<String> = s
        .prometheus
        .query("last_over_time(aws_myapp_orders_sum[1h])")
        .await
        .iter()
        .map(|r| r["metric"]["dimension_Shop"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(shops.len(), 2, "{shops:?}");
    assert!(shops.contains(&"berlin".to_string()) && shops.contains(&"paris".to_string()), "{shops:?}");
    // A body that is not a delivery at all is refused whole, with the reason.
    let bad = lambda_http::http::Request::builder()
        .method("POST")
        .header(firehose::REQUEST_ID_HEADER, "junk")
        .header(firehose::ACCESS_KEY_HEADER, ACCESS_KEY)
        .body(Body::Binary(b"not json".to_vec()))
        .unwrap();
    let (status, body, _) = send(&deps, bad).await;
    assert_eq!(status, 400);
    assert!(body["errorMessage"].as_str().unwrap().starts_with("the body is not a Firehose delivery"), "{body}");
}
}

harness::prometheus_matrix! {
#[tokio::test(flavor = "multi_thread")]
async fn a_redelivered_request_changes_nothing() {
    let s = Setup::start().await;
    let deps = s.stream().await;
    let m = minute();
    let line = |ts: i64, sum: f64| {
        json_line("MyApp", "Orders", &[("Shop", "berlin")], ts, serde_json::json!({"count": 2.0, "sum": sum, "max": sum, "min": 0.0}))
            .into_bytes()
    };
    let first = || firehose_request("req-1", &[line(m - 180_000, 4.0), line(m - 120_000, 6.0)], true, Some(ACCESS_KEY));
    let (status, _, delivered) = send(&deps, first()).await;
    assert_eq!(status, 200);
    assert_eq!(delivered.samples_pushed, 10, "5 statistics at 2 timestamps: {delivered:?}");
    let before = samples(&s.prometheus, "aws_myapp_orders_average").await;
    assert_eq!(before, [(m - 180_000, 2.0), (m - 120_000, 3.0)]);

    // The same container: answered at once.
    let (status, body, delivered) = send(&deps, first()).await;
    assert_eq!((status, delivered.redelivery, delivered.samples_pushed), (200, true, 0), "{body}");
    // A cold container: the same samples pushed again. Prometheus takes the copy of each series'
    // newest sample silently and refuses the older one as out of order; nothing changes.
    let cold = s.stream().await;
    let (status, body, delivered) = send(&cold, first()).await;
    assert_eq!(status, 200, "{body}");
    assert!(!delivered.redelivery);
    let reasons: Vec<&str> = delivered.samples_dropped.keys().map(String::as_str).collect();
    assert_eq!(reasons, ["out_of_order"], "{delivered:?}");
    assert_eq!(samples(&s.prometheus, "aws_myapp_orders_average").await, before);
    assert_eq!(samples(&s.prometheus, "aws_myapp_orders_sum").await, [(m - 180_000, 4.0), (m - 120_000, 6.0)]);

    // After a newer delivery, a redelivery of the older one is refused as out of order and
    // counted as the polling path counts it; the series keeps what it had.
    let (status, _, _) = send(&cold, firehose_request("req-2", &[line(m - 60_000, 8.0)], false, Some(ACCESS_KEY))).await;
    assert_eq!(status, 200);
    let after = samples(&s.prometheus, "aws_myapp_orders_average").await;
    assert_eq!(after.len(), 3);
    let colder = s.stream().await;
    let (status, body, delivered) = send(&colder, first()).await;
    assert_eq!(status, 200, "{body}");
    let reasons: Vec<&str> = delivered.samples_dropped.keys().map(String::as_str).collect();
    assert_eq!(reasons, ["out_of_order"], "{delivered:?}");
    assert_eq!(delivered.samples_dropped["out_of_order"], 10, "every sample of the older request: {delivered:?}");
    assert_eq!(samples(&s.prometheus, "aws_myapp_orders_average").await, after);
}
}
