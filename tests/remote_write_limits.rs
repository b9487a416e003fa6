//! The bounds on a push and on a run, against real servers: a real Prometheus behind a proxy
//! that can refuse or stall chosen requests, moto for CloudWatch, S3 (the state) and the SDK's
//! timeouts. Each test is a failure the README's "Failure modes" table names.

use std::collections::HashSet;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use aws_lambda_events::eventbridge::EventBridgeEvent;
use aws_sdk_cloudwatch::primitives::DateTime;
use aws_sdk_cloudwatch::types::{Dimension, MetricDatum};
use cloudwatch_exporter::settings::{AuthSetting, ConfigSource, Settings, StateLocation};
use cloudwatch_exporter::state::State;
use cloudwatch_exporter::{handle, Deps, Error};
use harness::{now_ms, now_secs, Moto, Prometheus};
use lambda_runtime::{Context, LambdaEvent};
use promstack::remote_write::{self, Client, Config, Limits, Series};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// What the proxy does with the n-th request (1-based) it receives.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Answer {
    /// Passes it to the real Prometheus and its answer back.
    Forward,
    /// Answers this status itself; Prometheus never sees the request.
    Refuse(u16),
    /// Reads it and never answers.
    Hang,
}

/// An HTTP/1.1 proxy in front of a real Prometheus' remote-write URL that counts requests and
/// answers each as `answer` says.
struct Proxy {
    url: String,
    requests: Arc<AtomicU32>,
}

impl Proxy {
    async fn start(upstream: String, answer: impl Fn(u32) -> Answer + Send + Sync + 'static) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/api/v1/write", listener.local_addr().unwrap());
        let requests = Arc::new(AtomicU32::new(0));
        let (counter, answer) = (Arc::clone(&requests), Arc::new(answer));
        let http = reqwest::Client::new();
        tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else { return };
                let (counter, answer, http, upstream) =
                    (Arc::clone(&counter), Arc::clone(&answer), http.clone(), upstream.clone());
                tokio::spawn(async move {
                    serve(stream, &upstream, &http, |n| answer(n), &counter).await;
                });
            }
        });
        Proxy { url, requests }
    }

    fn requests(&self) -> u32 {
        self.requests.load(Ordering::SeqCst)
    }
}

/// Serves one keep-alive connection until the client closes it.
async fn serve(
    mut stream: TcpStream,
    upstream: &str,
    http: &reqwest::Client,
    answer: impl Fn(u32) -> Answer,
    counter: &AtomicU32,
) {
    let mut buffered = Vec::new();
    let mut chunk = [0u8; 16 * 1024];
    loop {
        let head_end = loop {
            if let Some(i) = buffered.windows(4).position(|w| w == b"\r\n\r\n") {
                break i + 4;
            }
            match stream.read(&mut chunk).await {
                Ok(0) | Err(_) => return,
                Ok(n) => buffered.extend_from_slice(&chunk[..n]),
            }
        };
        let head = String::from_utf8_lossy(&buffered[..head_end]).to_string();
        let length: usize = head
            .lines()
            .find_map(|l| l.to_ascii_lowercase().strip_prefix("content-length:").map(|v| v.trim().parse().unwrap()))
            .unwrap_or(0);
        while buffered.len() < head_end + length {
            match stream.read(&mut chunk).await {
                Ok(0) | Err(_) => return,
                Ok(n) => buffered.extend_from_slice(&chunk[..n]),
            }
        }
        let body: Vec<u8> = buffered.drain(..head_end + length).skip(head_end).collect();
        let n = counter.fetch_add(1, Ordering::SeqCst) + 1;
        let (status, text) = match answer(n) {
            Answer::Hang => std::future::pending().await,
            Answer::Refuse(status) => (status, "refused by the test proxy".to_string()),
            Answer::Forward => {
                let response = http
                    .post(upstream)
                    .header("Content-Encoding", "snappy")
                    .header("Content-Type", "application/x-protobuf")
                    .header("X-Prometheus-Remote-Write-Version", "0.1.0")
                    .body(body)
                    .send()
                    .await
                    .unwrap();
                (response.status().as_u16(), response.text().await.unwrap_or_default())
            }
        };
        let reply = format!("HTTP/1.1 {status} Proxied\r\ncontent-length: {}\r\n\r\n{text}", text.len());
        if stream.write_all(reply.as_bytes()).await.is_err() {
            return;
        }
    }
}

// --- Split-on-400 is capped -------------------------------------------------------------------

harness::prometheus_matrix! {
#[tokio::test(flavor = "multi_thread")]
async fn a_batch_refused_whole_costs_at_most_the_cap_and_every_sample_is_reported() {
    let prom = Prometheus::start(harness::prometheus::EMPTY_CONFIG);
    let proxy = Proxy::start(prom.write_url(), |_| Answer::Forward).await;
    let client = Client::new(Config::new(proxy.url.clone())).unwrap();
    let cap = client.config().max_requests_per_batch;
    assert_eq!(cap, 64, "the bound the README documents");

    // A current sample sets the head's time; samples three hours older are then out of bounds
    // (the head takes samples back to half a block, one hour, before its newest), as after an outage.
    let now = now_ms();
    let mut fresh = Series::new("promstack_limits_fresh", [("job", "limits")]).unwrap();
    fresh.push(now, 1.0);
    client.push(&[fresh]).await.unwrap();
    let before = proxy.requests();

    let old = now - 3 * 3600 * 1000;
    let input: Vec<Series> = (0..2000)
        .map(|i| {
            let mut s = Series::new("promstack_limits_too_old", [("n", format!("{i:04}"))]).unwrap();
            s.push(old, i as f64);
            s
        })
        .collect();
    let report = client.push(&input).await.unwrap();

    // One batch of 2,000 samples, refused whole: without the cap, 3,999 requests.
    let requests = proxy.requests() - before;
    assert!(requests <= cap, "{requests} requests for one refused batch");
    assert_eq!(report.requests, requests, "the client counts every request the server saw");
    assert_eq!(report.samples_sent, 0, "{report:?}");
    assert_eq!(report.samples_rejected, 2000);
    let named: HashSet<&str> = report.rejected.iter().map(|r| r.series.as_str()).collect();
    assert_eq!(named.len(), 2000, "each refused series is named once");
    assert!(named.contains(r#"promstack_limits_too_old{n="0000"}"#), "{:?}", report.rejected.first());
    assert!(named.contains(r#"promstack_limits_too_old{n="1999"}"#), "{:?}", report.rejected.last());
    assert!(report.rejected.iter().all(|r| r.samples == 1 && r.reason.starts_with("400: ")), "{:?}", report.rejected);
    // Nothing of it landed.
    assert!(prom.query("count_over_time(promstack_limits_too_old[4h])").await.is_empty());
}
}

harness::prometheus_matrix! {
#[tokio::test(flavor = "multi_thread")]
async fn under_the_cap_a_few_bad_samples_still_cost_only_themselves() {
    let prom = Prometheus::start(harness::prometheus::EMPTY_CONFIG);
    let client = Client::new(Config::new(prom.write_url())).unwrap();
    let now = now_ms();
    let mut fresh = Series::new("promstack_limits_fresh", [("job", "limits")]).unwrap();
    fresh.push(now, 1.0);
    client.push(&[fresh]).await.unwrap();

    // Two out-of-bounds samples among 2,000: each is found alone, the rest land.
    let old = now - 3 * 3600 * 1000;
    let input: Vec<Series> = (0..2000)
        .map(|i| {
            let mut s = Series::new("promstack_limits_mixed", [("n", format!("{i:04}"))]).unwrap();
            s.push(if i == 10 || i == 1500 { old } else { now - 1000 }, i as f64);
            s
        })
        .collect();
    let report = client.push(&input).await.unwrap();
    assert_eq!((report.samples_sent, report.samples_rejected), (1998, 2), "{:?}", report.rejected);
    let named: Vec<&str> = report.rejected.iter().map(|r| r.series.as_str()).collect();
    assert_eq!(named, [r#"promstack_limits_mixed{n="0010"}"#, r#"promstack_limits_mixed{n="1500"}"#]);
    assert!(report.requests <= client.config().max_requests_per_batch, "{report:?}");
    let landed = prom.query("count(count_over_time(promstack_limits_mixed[10m]))").await;
    assert_eq!(landed[0]["value"][1], "1998");
}
}

// --- The exporter's run: stuck batches, deadlines -------------------------------------------

const QUEUES: [&str; 3] = ["alpha", "bravo", "charlie"];

const TIMESTAMPED: &str = harness::TIMESTAMPED_QUEUE_CONFIG;

struct Exporter {
    moto: Moto,
    prometheus: Prometheus,
    _dir: tempfile::TempDir,
    config_path: String,
}

impl Exporter {
    fn start() -> Exporter {
        let dir = tempfile::tempdir().unwrap();
        let config_path = dir.path().join("yace.yml");
        std::fs::write(&config_path, TIMESTAMPED).unwrap();
        Exporter {
            moto: Moto::start(),
            prometheus: Prometheus::start(harness::prometheus::EMPTY_CONFIG),
            config_path: config_path.display().to_string(),
            _dir: dir,
        }
    }

    /// Deps pushing through `proxy_url`, one series (three datapoints) per request.
    async fn deps(&self, proxy_url: &str) -> Deps {
        let settings = Settings {
            config: ConfigSource::Path(self.config_path.clone()),
            remote_write_url: proxy_url.to_string(),
            auth: AuthSetting::None,
            state: Some(StateLocation { bucket: "state".into(), key: "cloudwatch-exporter/state.json".into() }),
            discovery_refresh: Duration::from_secs(300),
            max_backfill: Duration::from_secs(3600),
            get_metric_data_concurrency: 4,
            lease: Duration::from_secs(900),
            remote_write_max_retries: 1,
            aws_max_attempts: 5,
            labels_snake_case: false,
            extra_labels: vec![],
        };
        let sdk = self.moto.sdk_config().await;
        aws_sdk_s3::Client::new(&sdk).create_bucket().bucket("state").send().await.unwrap();
        let mut deps = Deps::new(settings, sdk).unwrap();
        let mut config = deps.remote_write.config().clone();
        config.limits = Limits { max_samples: 3, ..Limits::default() };
        deps.remote_write = Client::new(config).unwrap();
        deps
    }

    /// Three datapoints for each queue, a minute apart, ending two minutes before `minute`.
    async fn put_datapoints(&self, minute: i64) {
        let cw = aws_sdk_cloudwatch::Client::new(&self.moto.sdk_config().await);
        for (q, queue) in QUEUES.iter().enumerate() {
            let data = (0..3)
                .map(|k| {
                    MetricDatum::builder()
                        .metric_name("Latency")
                        .dimensions(Dimension::builder().name("Queue").value(*queue).build())
                        .timestamp(DateTime::from_secs(minute - 300 + 60 * k))
                        .value((q * 10 + k as usize) as f64)
                        .build()
                })
                .collect();
            cw.put_metric_data().namespace("MyApp").set_metric_data(Some(data)).send().await.unwrap();
        }
    }

    /// How many samples each queue's series holds in Prometheus, by queue.
    async fn samples_by_queue(&self) -> Vec<(String, u64)> {
        let r = self.prometheus.query("count_over_time(aws_myapp_latency_average[1h])").await;
        let mut got: Vec<(String, u64)> = r
            .iter()
            .map(|s| {
                let queue = s["metric"]["dimension_Queue"].as_str().unwrap().to_string();
                (queue, s["value"][1].as_str().unwrap().parse().unwrap())
            })
            .collect();
        got.sort();
        got
    }
}

async fn state(deps: &Deps) -> State {
    deps.state.as_ref().unwrap().load().await.unwrap().state
}

/// The minute boundary the datapoints are placed against, away from the minute's last seconds.
async fn minute() -> i64 {
    let now = now_secs();
    if now % 60.0 > 50.0 {
        tokio::time::sleep(Duration::from_secs_f64(61.0 - now % 60.0)).await;
    }
    (now_secs() as i64).div_euclid(60) * 60
}

fn event(id: &str, deadline_ms: u64) -> LambdaEvent<EventBridgeEvent> {
    let mut e: EventBridgeEvent =
        serde_json::from_slice(include_bytes!("../events/cloudwatch-exporter-schedule.json")).unwrap();
    e.id = Some(id.to_string());
    let mut context = Context::default();
    context.deadline = deadline_ms;
    LambdaEvent { payload: e, context }
}

harness::prometheus_matrix! {
#[tokio::test(flavor = "multi_thread")]
async fn a_batch_refused_with_413_fails_the_run_but_the_batches_before_it_move_on() {
    let s = Exporter::start();
    // The second request (the second queue's series) is refused as too large.
    let proxy = Proxy::start(s.prometheus.write_url(), |n| if n == 2 { Answer::Refuse(413) } else { Answer::Forward }).await;
    let deps = s.deps(&proxy.url).await;
    s.put_datapoints(minute().await).await;

    match handle(event("a", 0), &deps).await {
        Err(Error::RemoteWrite(e @ remote_write::Error::Refused { status: 413, .. })) => {
            assert!(!e.is_retryable(), "{e}")
        }
        other => panic!("a run with a batch refused with 413 must fail: {other:?}"),
    }
    assert_eq!(proxy.requests(), 2, "the replica stops at the refused batch");
    let landed = s.samples_by_queue().await;
    assert_eq!(landed.len(), 1, "only the first batch landed: {landed:?}");
    let (first, _) = &landed[0];
    let after_failure = state(&deps).await;
    assert_eq!(after_failure.lease, None, "the failed run gave the lease back");
    assert_eq!(after_failure.watermarks.len(), 1, "the first batch's series moved: {:?}", after_failure.watermarks);
    let moved = after_failure.watermarks.keys().next().unwrap();
    assert!(moved.contains(first.as_str()), "{moved} is the key of the series that landed, {first}");

    // Next run, nothing refused: only the two series that did not land go out, each sample once.
    let next = handle(event("b", 0), &deps).await.unwrap();
    assert_eq!(next.samples_pushed, 6, "the first series is not sent again: {next:?}");
    assert!(next.samples_dropped.values().all(|n| *n == 0), "{next:?}");
    let every: Vec<(String, u64)> = QUEUES.iter().map(|q| (q.to_string(), 3)).collect();
    assert_eq!(s.samples_by_queue().await, every);
    assert_eq!(state(&deps).await.watermarks.len(), 3);
}
}

harness::prometheus_matrix! {
#[tokio::test(flavor = "multi_thread")]
async fn a_stalled_prometheus_ends_the_run_before_the_lambda_deadline_with_the_state_saved() {
    let s = Exporter::start();
    // The first request lands; the second is read and never answered.
    let proxy = Proxy::start(s.prometheus.write_url(), |n| if n == 1 { Answer::Forward } else { Answer::Hang }).await;
    let deps = s.deps(&proxy.url).await;
    s.put_datapoints(minute().await).await;

    // 30 s left in the invocation; the request timeout alone (30 s, twice) would outlast it.
    let margin = cloudwatch_exporter::run::PERSIST_MARGIN;
    let budget = margin + Duration::from_secs(10);
    let started = Instant::now();
    let deadline_ms = (now_ms() as u64) + budget.as_millis() as u64;
    match handle(event("a", deadline_ms), &deps).await {
        Err(Error::RemoteWrite(e @ remote_write::Error::Deadline { .. })) => assert!(e.is_retryable(), "{e}"),
        other => panic!("a run stopped by its deadline must fail: {other:?}"),
    }
    let took = started.elapsed();
    assert!(took < budget, "the run ended {took:?} after it started, past the invocation's {budget:?}");
    assert!(took >= budget - margin - Duration::from_secs(1), "it pushed until its own deadline: {took:?}");

    let saved = state(&deps).await;
    assert_eq!(saved.lease, None, "the lease was given back");
    assert_eq!(saved.watermarks.len(), 1, "what landed moved, nothing else: {:?}", saved.watermarks);
    assert_eq!(s.samples_by_queue().await.len(), 1);
    // The next run is not skipped and sends the rest (the proxy still hangs, so it is refused
    // no earlier than the deadline again; it takes the lease, which is what this shows).
    let again = handle(event("b", now_ms() as u64 + budget.as_millis() as u64), &deps).await;
    assert!(matches!(again, Err(Error::RemoteWrite(remote_write::Error::Deadline { .. }))), "{again:?}");
}
}

#[tokio::test(flavor = "multi_thread")]
async fn a_stalled_cloudwatch_ends_the_run_before_the_lambda_deadline_with_the_lease_given_back() {
    let s = Exporter::start();
    let stalled = stalled_endpoint().await;
    let mut deps = s.deps(&s.prometheus.write_url()).await;
    // CloudWatch behind an endpoint that never answers, each call allowed two minutes: only the
    // run's own deadline can end the run in time. The state stays on moto.
    let cloudwatch = promstack::aws::sdk_config_with(promstack::aws::AwsSettings {
        endpoint_url: Some(stalled),
        region: Some("us-east-1".into()),
        operation_timeout: Some(Duration::from_secs(120)),
    })
    .await
    .to_builder()
    .credentials_provider(test_credentials())
    .build();
    deps.api = cloudwatch_exporter::aws::AwsApi::new(&cloudwatch, 1);

    let margin = cloudwatch_exporter::run::PERSIST_MARGIN;
    let budget = margin + Duration::from_secs(5);
    let started = Instant::now();
    match handle(event("a", now_ms() as u64 + budget.as_millis() as u64), &deps).await {
        Err(e @ Error::Deadline(_)) => assert!(e.to_string().contains("collecting"), "{e}"),
        other => panic!("a run whose collection outlasts its deadline must fail: {other:?}"),
    }
    let took = started.elapsed();
    assert!(took < budget, "the run ended {took:?} after it started, past the invocation's {budget:?}");
    let saved = state(&deps).await;
    assert_eq!(saved.lease, None, "the lease was given back");
    assert_eq!(saved.last_event_id, None, "the event was not recorded as done");
}

// --- Every AWS SDK call is bounded ------------------------------------------------------------

/// An address that accepts connections, reads, and never answers.
async fn stalled_endpoint() -> String {
    let stalled = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let endpoint = format!("http://{}", stalled.local_addr().unwrap());
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((stream, _)) = stalled.accept().await {
            held.push(stream);
        }
    });
    endpoint
}

fn test_credentials() -> aws_credential_types::provider::SharedCredentialsProvider {
    aws_credential_types::provider::SharedCredentialsProvider::new(aws_credential_types::Credentials::new(
        "testing", "testing", None, None, "test",
    ))
}

#[tokio::test(flavor = "multi_thread")]
async fn an_sdk_call_to_a_stalled_endpoint_times_out_within_the_operation_timeout() {
    let endpoint = stalled_endpoint().await;

    let defaults = promstack::aws::sdk_config_with(promstack::aws::AwsSettings {
        endpoint_url: Some(endpoint.clone()),
        region: Some("eu-west-1".into()),
        ..Default::default()
    })
    .await;
    let timeouts = defaults.timeout_config().unwrap();
    assert_eq!(timeouts.operation_timeout(), Some(promstack::aws::OPERATION_TIMEOUT));
    assert_eq!(timeouts.operation_attempt_timeout(), Some(promstack::aws::ATTEMPT_TIMEOUT));
    assert_eq!(timeouts.connect_timeout(), Some(promstack::aws::CONNECT_TIMEOUT));

    let operation_timeout = Duration::from_secs(2);
    let sdk = promstack::aws::sdk_config_with(promstack::aws::AwsSettings {
        endpoint_url: Some(endpoint),
        region: Some("eu-west-1".into()),
        operation_timeout: Some(operation_timeout),
    })
    .await
    .to_builder()
    .credentials_provider(test_credentials())
    .build();
    let s3 = aws_sdk_s3::Client::new(&sdk);
    let started = Instant::now();
    let outcome = tokio::time::timeout(Duration::from_secs(20), s3.list_buckets().send()).await;
    let took = started.elapsed();
    let err = outcome.expect("the call must end on its own").expect_err("nobody answered");
    let message = format!("{}", aws_sdk_s3::error::DisplayErrorContext(&err));
    assert!(message.to_lowercase().contains("timeout") || message.contains("timed out"), "{message}");
    assert!(took >= operation_timeout - Duration::from_millis(100), "{took:?}");
    assert!(took < operation_timeout + Duration::from_secs(2), "{took:?}");
}
