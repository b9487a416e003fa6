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

/// HA replicas: every replica behind the remote-write host gets every sample. Two real Prometheus
/// servers listen on one port, at 127.0.0.1 and 127.0.0.2 (Linux routes all of 127/8 to lo), and
/// the client pushes to both for real. The stand-in is only the name -> addresses step (Cloud
/// Map's A records): this machine resolves a name to one address, so a `Resolve` maps the test's
/// name to both.
mod every_replica {
    use std::net::{IpAddr, Ipv4Addr, SocketAddr};
    use std::sync::Arc;

    use promstack::remote_write::{PushReport, Resolve, ResolveFuture};

    use super::*;

    const NAME: &str = "prometheus.promstack.test";

    #[derive(Debug)]
    struct CloudMapStandIn(Vec<IpAddr>);

    impl Resolve for CloudMapStandIn {
        fn addresses<'a>(&'a self, host: &'a str) -> ResolveFuture<'a> {
            let found = if host == NAME { self.0.clone() } else { vec![] };
            Box::pin(async move { Ok(found) })
        }
    }

    fn loopback(last: u8) -> IpAddr {
        Ipv4Addr::new(127, 0, 0, last).into()
    }

    /// Two replicas on one port, at 127.0.0.1 and 127.0.0.2.
    fn two_replicas() -> (Prometheus, Prometheus) {
        let port = free_port();
        let (first, second) = std::thread::scope(|s| {
            let first = s.spawn(|| Prometheus::builder().port(port).start());
            let second = s.spawn(|| Prometheus::builder().ip(loopback(2)).port(port).start());
            (first.join().unwrap(), second.join().unwrap())
        });
        (first, second)
    }

    /// A client for `http://NAME:port/api/v1/write`, NAME standing for both replicas.
    fn replicas_client(port: u16, max_retries: u32) -> Client {
        let mut config = Config::new(format!("http://{NAME}:{port}/api/v1/write"));
        config.resolver = Arc::new(CloudMapStandIn(vec![loopback(2), loopback(1)]));
        config.retry =
            RetryPolicy { initial: Duration::from_millis(20), max_delay: Duration::from_millis(50), max_retries };
        Client::new(config).unwrap()
    }

    /// Series `promstack_ha{zone}` with `n` samples each, 15 s apart from `base`.
    fn zones(base: i64, n: i64) -> Vec<Series> {
        ["a", "b", "c"]
            .into_iter()
            .enumerate()
            .map(|(i, zone)| {
                let mut s = Series::new("promstack_ha", [("zone", zone)]).unwrap();
                for k in 0..n {
                    s.push(base + k * 15_000, i as f64 * 100.0 + k as f64);
                }
                s
            })
            .collect()
    }

    /// Every raw sample of `promstack_ha` a replica holds (a range selector returns them as
    /// stored), by zone.
    async fn held(prom: &Prometheus) -> Vec<(String, Vec<(i64, f64)>)> {
        let mut out: Vec<(String, Vec<(i64, f64)>)> = prom
            .query("promstack_ha[15m]")
            .await
            .iter()
            .map(|r| (r["metric"]["zone"].as_str().unwrap().to_string(), points(r)))
            .collect();
        out.sort_by(|a, b| a.0.cmp(&b.0));
        out
    }

    /// What `zones(base, n)` pushed, in `held`'s form.
    fn expected(base: i64, n: i64) -> Vec<(String, Vec<(i64, f64)>)> {
        ["a", "b", "c"]
            .into_iter()
            .enumerate()
            .map(|(i, zone)| {
                (zone.to_string(), (0..n).map(|k| (base + k * 15_000, i as f64 * 100.0 + k as f64)).collect())
            })
            .collect()
    }

    fn addresses(report: &PushReport) -> Vec<SocketAddr> {
        report.replicas.iter().map(|r| r.address).collect()
    }

    /// A whole second `steps` times 15 s ago.
    fn grid(steps: i64) -> i64 {
        (now_ms() / 15_000 - steps) * 15_000
    }

    harness::prometheus_matrix! {
    #[tokio::test(flavor = "multi_thread")]
    async fn every_replica_holds_every_sample() {
        let (first, second) = two_replicas();
        let base = grid(20);

        let report = replicas_client(first.port(), 3).push(&zones(base, 10)).await.unwrap();

        assert_eq!(addresses(&report), [first.address(), second.address()]);
        for replica in &report.replicas {
            assert_eq!((replica.samples_sent, replica.requests, &replica.failure), (30, 1, &None), "{report:?}");
        }
        assert_eq!((report.samples_sent, report.requests, report.samples_rejected), (30, 2, 0), "{report:?}");
        assert_eq!(held(&first).await, expected(base, 10), "127.0.0.1");
        assert_eq!(held(&second).await, expected(base, 10), "127.0.0.2");
    }
    }

    harness::prometheus_matrix! {
    /// The claim the exporter's resend rests on, asked of the real Prometheus: an identical copy of
    /// a series' newest sample is accepted silently (200, nothing changes); an older sample, even
    /// identical, is refused as out of order (400), and a different value at the newest timestamp
    /// as a duplicate. Both refusals leave what the replica holds unchanged.
    #[tokio::test(flavor = "multi_thread")]
    async fn an_identical_resend_of_the_newest_sample_is_accepted_silently_older_ones_are_out_of_order() {
        let (first, second) = two_replicas();
        let client = replicas_client(first.port(), 3);
        let base = grid(20);
        client.push(&zones(base, 4)).await.unwrap();

        // The newest sample of each series again, identical: one request per replica, no refusal.
        let newest: Vec<Series> = zones(base, 4)
            .into_iter()
            .enumerate()
            .map(|(i, _)| {
                let zone = ["a", "b", "c"][i];
                let mut s = Series::new("promstack_ha", [("zone", zone)]).unwrap();
                s.push(base + 3 * 15_000, i as f64 * 100.0 + 3.0);
                s
            })
            .collect();
        let again = client.push(&newest).await.unwrap();
        assert_eq!((again.requests, again.samples_sent, again.samples_rejected), (2, 3, 0), "{again:?}");
        assert!(again.replicas.iter().all(|r| r.rejected.is_empty() && r.requests == 1), "{again:?}");

        // The whole series again, identical: its older samples are out of order.
        let all_again = client.push(&zones(base, 4)).await.unwrap();
        for replica in &all_again.replicas {
            assert_eq!((replica.samples_sent, replica.samples_rejected), (3, 9), "{all_again:?}");
            assert!(replica.rejected.iter().all(|r| r.reason.contains("out of order")), "{all_again:?}");
        }
        assert_eq!(all_again.rejected.len(), 3, "refused by both replicas: {all_again:?}");

        // Another value at the newest timestamp: a duplicate.
        let mut changed = Series::new("promstack_ha", [("zone", "a")]).unwrap();
        changed.push(base + 3 * 15_000, 42.0);
        let refused = client.push(&[changed]).await.unwrap();
        assert_eq!(refused.samples_rejected, 1, "{refused:?}");
        assert!(refused.rejected[0].reason.contains("duplicate sample"), "{refused:?}");

        assert_eq!(held(&first).await, expected(base, 4), "127.0.0.1");
        assert_eq!(held(&second).await, expected(base, 4), "127.0.0.2");
    }
    }

    harness::prometheus_matrix! {
    #[tokio::test(flavor = "multi_thread")]
    async fn a_replica_that_is_down_is_reported_and_filled_by_the_next_push() {
        let (first, mut second) = two_replicas();
        let client = replicas_client(first.port(), 2);
        second.stop();
        let base = grid(20);

        let report = client.push(&zones(base, 6)).await.unwrap();

        let failed: Vec<&promstack::remote_write::ReplicaReport> = report.failed().collect();
        assert_eq!(failed.len(), 1, "{report:?}");
        assert_eq!(failed[0].address, second.address());
        let reason = failed[0].failure.as_deref().unwrap();
        assert!(reason.contains(&format!("at {} failed after 3 attempts", second.address())), "{reason}");
        assert_eq!(failed[0].samples_sent, 0);
        assert_eq!(report.samples_sent, 18, "the other replica took everything: {report:?}");
        assert_eq!(held(&first).await, expected(base, 6), "127.0.0.1");

        // The replica comes back (same port, same TSDB). The next push carries the same samples
        // again (the exporter holds its watermarks after a failed replica) and one newer each.
        second.restart();
        let report =
            tokio::time::timeout(Duration::from_secs(60), client.push(&zones(base, 7))).await.unwrap().unwrap();

        assert_eq!(report.failed().count(), 0, "{report:?}");
        let (on_first, on_second) = (&report.replicas[0], &report.replicas[1]);
        assert_eq!(on_second.address, second.address());
        assert_eq!((on_second.samples_sent, on_second.samples_rejected), (21, 0), "{report:?}");
        // The replica that had them refuses the older copies as out of order (all but the
        // newest, which is an identical duplicate): it holds them already, so nothing is lost.
        assert_eq!((on_first.samples_sent, on_first.samples_rejected), (6, 15), "{report:?}");
        assert!(report.rejected.is_empty(), "every sample is held by some replica: {report:?}");
        assert_eq!(report.samples_sent, 21);
        assert_eq!(held(&first).await, expected(base, 7), "127.0.0.1");
        assert_eq!(held(&second).await, expected(base, 7), "127.0.0.2 after coming back");
    }
    }

    harness::prometheus_matrix! {
    #[tokio::test(flavor = "multi_thread")]
    async fn a_replica_refusing_a_sample_costs_the_other_no_resend() {
        let (first, second) = two_replicas();
        let t = now_ms();
        // Only 127.0.0.1 holds a newer sample of "late", so only it refuses the older one.
        let mut newer = Series::new("promstack_ha_split", [("series", "late")]).unwrap();
        newer.push(t, 1.0);
        client(first.write_url()).push(&[newer]).await.unwrap();

        let mut batch = Vec::new();
        for name in ["a", "b", "c", "d", "e", "f", "g"] {
            let mut s = Series::new("promstack_ha_split", [("series", name)]).unwrap();
            s.push(t - 30_000, 10.0).push(t - 15_000, 11.0);
            batch.push(s);
        }
        let mut late = Series::new("promstack_ha_split", [("series", "late")]).unwrap();
        late.push(t - 60_000, 99.0);
        batch.insert(3, late);
        let report = replicas_client(first.port(), 3).push(&batch).await.unwrap();

        let (on_first, on_second) = (&report.replicas[0], &report.replicas[1]);
        assert_eq!(on_first.address, first.address());
        assert!(on_first.requests > 1, "127.0.0.1 split its batch: {report:?}");
        assert_eq!((on_first.samples_sent, on_first.samples_rejected), (14, 1), "{report:?}");
        assert_eq!(on_first.rejected[0].series, r#"promstack_ha_split{series="late"}"#);
        assert!(on_first.rejected[0].reason.contains("out of order"), "{report:?}");
        assert_eq!((on_second.requests, on_second.samples_sent, on_second.samples_rejected), (1, 15, 0), "{report:?}");
        assert!(report.rejected.is_empty(), "127.0.0.2 holds the sample: {report:?}");
        assert_eq!(report.requests, on_first.requests + 1);

        let late = r#"count_over_time(promstack_ha_split{series="late"}[5m])"#;
        assert_eq!(first.query(late).await[0]["value"][1], "1", "127.0.0.1 keeps only its newer sample");
        assert_eq!(second.query(late).await[0]["value"][1], "1", "127.0.0.2 took the older one");
        let newest_late = r#"last_over_time(promstack_ha_split{series="late"}[5m])"#;
        assert_eq!(first.query(newest_late).await[0]["value"][1], "1");
        assert_eq!(second.query(newest_late).await[0]["value"][1], "99");
        let others = r#"count(count_over_time(promstack_ha_split{series!="late"}[5m]) == 2)"#;
        for prom in [&first, &second] {
            assert_eq!(prom.query(others).await[0]["value"][1], "7", "every good series, both samples");
        }
    }
    }
}
