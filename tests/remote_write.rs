//! The remote-write client against a real Prometheus: what it pushes is what Prometheus answers.

use std::time::Duration;

use harness::{free_port, now_ms, Prometheus};
use promstack::remote_write::{Client, Config, Limits, RetryPolicy, Series};
use serde_json::Value;

fn client(url: String) -> Client {
    Client::new(Config::new(url)).unwrap()
}

/// `(timestamp_ms, value)` pairs of a matrix result.
fn points(result: &Value) -> Vec<(i64, f64)> {
    result["values"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            let ts = (p[0].as_f64().unwrap() * 1000.0).round() as i64;
            (ts, p[1].as_str().unwrap().parse().unwrap())
        })
        .collect()
}

harness::prometheus_matrix! {
#[tokio::test(flavor = "multi_thread")]
async fn pushed_samples_read_back_exactly() {
    let prom = Prometheus::start(harness::prometheus::EMPTY_CONFIG);
    // Whole seconds, so a 15 s query step lands on every sample.
    let base = (now_ms() / 15_000 - 20) * 15_000;
    let mut input = Vec::new();
    for (i, zone) in ["eu-west-1a", "eu-west-1b", "eu-west-1c"].into_iter().enumerate() {
        let mut s = Series::new("promstack_test_value", [("zone", zone), ("job", "rw-test")]).unwrap();
        // Pushed out of order on purpose: the client sends them in timestamp order.
        for k in (0..10).rev() {
            s.push(base + k * 15_000, (i * 100) as f64 + k as f64 * 0.5);
        }
        input.push(s);
    }
    let report = client(prom.write_url()).push(&input).await.unwrap();
    assert_eq!(report.samples_sent, 30);
    assert!(report.rejected.is_empty(), "{report:?}");

    let start = base as f64 / 1000.0;
    let end = start + 9.0 * 15.0;
    let result = prom.query_range("promstack_test_value", start, end, 15.0).await;
    assert_eq!(result.len(), 3, "{result:?}");
    for r in &result {
        let zone = r["metric"]["zone"].as_str().unwrap();
        let i = ["eu-west-1a", "eu-west-1b", "eu-west-1c"].iter().position(|z| *z == zone).unwrap();
        let metric = r["metric"].as_object().unwrap();
        assert_eq!(metric.len(), 3, "exactly __name__, job, zone: {metric:?}");
        assert_eq!(r["metric"]["__name__"], "promstack_test_value");
        assert_eq!(r["metric"]["job"], "rw-test");
        let expected: Vec<(i64, f64)> =
            (0..10).map(|k| (base + k * 15_000, (i * 100) as f64 + k as f64 * 0.5)).collect();
        assert_eq!(points(r), expected, "series {zone}");
    }
}
}

harness::prometheus_matrix! {
#[tokio::test(flavor = "multi_thread")]
async fn one_out_of_order_series_does_not_cost_the_others() {
    let prom = Prometheus::start(harness::prometheus::EMPTY_CONFIG);
    let t = now_ms();
    let c = client(prom.write_url());
    let mut first = Series::new("promstack_ooo", [("series", "late")]).unwrap();
    first.push(t, 1.0);
    c.push(&[first]).await.unwrap();

    // One request: the series "late" now goes back in time (out of order), the others are new.
    let mut batch = Vec::new();
    for name in ["a", "b", "c", "d", "e", "f", "g"] {
        let mut s = Series::new("promstack_ooo", [("series", name)]).unwrap();
        s.push(t - 30_000, 10.0).push(t - 15_000, 11.0);
        batch.push(s);
    }
    let mut late = Series::new("promstack_ooo", [("series", "late")]).unwrap();
    late.push(t - 60_000, 99.0);
    batch.insert(3, late);
    let report = c.push(&batch).await.unwrap();

    assert_eq!(report.samples_sent, 14, "{report:?}");
    assert_eq!(report.samples_rejected, 1);
    assert_eq!(report.rejected.len(), 1, "{report:?}");
    assert_eq!(report.rejected[0].series, r#"promstack_ooo{series="late"}"#);
    assert!(report.rejected[0].reason.starts_with("400"), "{:?}", report.rejected[0]);
    assert!(report.rejected[0].reason.contains("out of order"), "{:?}", report.rejected[0]);
    assert!(report.requests > 1, "the batch was split: {report:?}");

    let now = harness::now_secs();
    let result = prom.query("count(count_over_time(promstack_ooo[5m])) by (series)").await;
    let mut names: Vec<String> = result.iter().map(|r| r["metric"]["series"].as_str().unwrap().to_string()).collect();
    names.sort();
    assert_eq!(names, ["a", "b", "c", "d", "e", "f", "g", "late"]);
    // The good series have both samples; "late" only its first.
    let counts = prom.query("count_over_time(promstack_ooo[5m])").await;
    for r in counts {
        let n: f64 = r["value"][1].as_str().unwrap().parse().unwrap();
        let expected = if r["metric"]["series"] == "late" { 1.0 } else { 2.0 };
        assert_eq!(n, expected, "{r} at {now}");
    }
    let late_value = prom.query(r#"last_over_time(promstack_ooo{series="late"}[5m])"#).await;
    assert_eq!(late_value[0]["value"][1], "1");
}
}

harness::prometheus_matrix! {
#[tokio::test(flavor = "multi_thread")]
async fn a_prometheus_that_comes_back_gets_the_data() {
    let port = free_port();
    let url = format!("http://127.0.0.1:{port}/api/v1/write");
    let mut config = Config::new(url);
    config.retry =
        RetryPolicy { initial: Duration::from_millis(200), max_delay: Duration::from_secs(1), max_retries: 60 };
    config.limits = Limits { max_samples: 5, ..Limits::default() };
    let c = Client::new(config).unwrap();
    let t = now_ms();
    let series: Vec<Series> = (0..4)
        .map(|i| {
            let mut s = Series::new("promstack_comeback", [("i", i.to_string())]).unwrap();
            s.push(t - 10_000, i as f64).push(t, i as f64 + 0.25);
            s
        })
        .collect();

    // Nothing listens yet: the push keeps retrying until Prometheus starts on that port.
    let push = tokio::spawn(async move { c.push(&series).await });
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert!(!push.is_finished(), "the push must still be retrying");
    let prom = tokio::task::spawn_blocking(move || Prometheus::builder().port(port).start()).await.unwrap();
    let report = push.await.unwrap().unwrap();
    assert_eq!(report.samples_sent, 8);
    assert!(report.retries > 0, "{report:?}");
    assert_eq!(report.requests, report.retries + 2, "two batches of at most 5 samples: {report:?}");

    let result = prom.query("promstack_comeback").await;
    let mut got: Vec<(String, String)> = result
        .iter()
        .map(|r| (r["metric"]["i"].as_str().unwrap().to_string(), r["value"][1].as_str().unwrap().to_string()))
        .collect();
    got.sort();
    assert_eq!(
        got,
        [("0", "0.25"), ("1", "1.25"), ("2", "2.25"), ("3", "3.25")].map(|(a, b)| (a.to_string(), b.to_string()))
    );
}
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unreachable_receiver_is_a_retryable_error_after_the_retries() {
    let url = format!("http://127.0.0.1:{}/api/v1/write", free_port());
    let mut config = Config::new(url);
    config.retry =
        RetryPolicy { initial: Duration::from_millis(10), max_delay: Duration::from_millis(20), max_retries: 3 };
    let mut s = Series::new("promstack_never", [("a", "b")]).unwrap();
    s.push(now_ms(), 1.0);
    let err = Client::new(config).unwrap().push(&[s]).await.unwrap_err();
    assert!(err.is_retryable());
    let msg = err.to_string();
    assert!(msg.contains("after 4 attempts"), "{msg}");
}

harness::prometheus_matrix! {
#[tokio::test(flavor = "multi_thread")]
async fn another_4xx_is_not_resent() {
    let prom = Prometheus::start(harness::prometheus::EMPTY_CONFIG);
    // Prometheus answers 404 for a path that does not exist: no retry, a clear error.
    let mut config = Config::new(format!("{}/api/v1/no-such-endpoint", prom.url()));
    config.retry =
        RetryPolicy { initial: Duration::from_millis(10), max_delay: Duration::from_millis(20), max_retries: 5 };
    let mut s = Series::new("promstack_404", [("a", "b")]).unwrap();
    s.push(now_ms(), 1.0);
    let err = Client::new(config).unwrap().push(&[s]).await.unwrap_err();
    assert!(!err.is_retryable());
    match err {
        promstack::remote_write::Error::Refused { status, .. } => assert_eq!(status, 404),
        other => panic!("expected Refused, got {other}"),
    }
}
}
