//! The split on 400 against real Prometheus servers (2.42 and 3.5): what a refused batch costs,
//! counted by the client and by the server's own `prometheus_http_requests_total`, and what lands.
//! The rule itself, case by case against a stand-in of the head, is in
//! `shared/src/remote_write/split.rs`.

use std::time::Duration;

use harness::{now_ms, Prometheus};
use promstack::remote_write::{Client, Config, PushReport, Series};

const HOUR_MS: i64 = 3_600_000;
const MINUTE_MS: i64 = 60_000;

/// A Prometheus whose head holds one sample at `now`: it then refuses as out of bounds every sample
/// more than an hour (half a block) older, as after an outage.
async fn prometheus_with_head_at(now: i64) -> (Prometheus, Client) {
    let prom = Prometheus::start(harness::prometheus::EMPTY_CONFIG);
    let client = Client::new(Config::new(prom.write_url())).unwrap();
    let mut fresh = Series::new("promstack_split_fresh", [("job", "split")]).unwrap();
    fresh.push(now, 1.0);
    client.push(&[fresh]).await.unwrap();
    (prom, client)
}

/// Remote-write requests the server has answered, by its own count.
async fn writes_answered(prom: &Prometheus) -> u64 {
    let text = reqwest::get(format!("{}/metrics", prom.url())).await.unwrap().text().await.unwrap();
    text.lines()
        .filter(|l| l.starts_with("prometheus_http_requests_total{") && l.contains(r#"handler="/api/v1/write""#))
        .map(|l| l.rsplit(' ').next().unwrap().parse::<f64>().unwrap() as u64)
        .sum()
}

/// Asserts that the server answered `expected` more write requests than `before`. The server
/// counts a request after answering it, so the count is read again for a moment.
async fn assert_server_saw(prom: &Prometheus, before: u64, expected: u32) {
    let mut seen = 0;
    for _ in 0..50 {
        seen = writes_answered(prom).await - before;
        if seen >= u64::from(expected) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(seen, u64::from(expected), "write requests the server answered");
}

/// `n` series named `name`, series i with a sample at each of `times(i)`.
fn series(name: &str, n: usize, times: impl Fn(usize) -> Vec<i64>) -> Vec<Series> {
    (0..n)
        .map(|i| {
            let mut s = Series::new(name, [("n", format!("{i:04}"))]).unwrap();
            for t in times(i) {
                s.push(t, i as f64);
            }
            s
        })
        .collect()
}

fn refused_samples(report: &PushReport, reason: &str) -> usize {
    report.rejected.iter().filter(|r| r.reason.starts_with(reason)).map(|r| r.samples).sum()
}

harness::prometheus_matrix! {
#[tokio::test(flavor = "multi_thread")]
async fn a_batch_all_out_of_bounds_at_one_time_costs_one_request() {
    let now = now_ms();
    let (prom, client) = prometheus_with_head_at(now).await;
    let before = writes_answered(&prom).await;

    let report = client.push(&series("promstack_split_old", 2000, |_| vec![now - 3 * HOUR_MS])).await.unwrap();

    // One timestamp, refused as out of bounds: every sample is at or before a refused one.
    assert_eq!(report.requests, 1, "{report:?}");
    assert_server_saw(&prom, before, 1).await;
    assert_eq!((report.samples_sent, report.samples_rejected), (0, 2000));
    assert_eq!(report.rejected.len(), 2000, "each series named");
    assert_eq!(refused_samples(&report, "400: out of bounds"), 2000, "{:?}", report.rejected.first());
    assert!(prom.query("count_over_time(promstack_split_old[4h])").await.is_empty());
}
}

harness::prometheus_matrix! {
#[tokio::test(flavor = "multi_thread")]
async fn a_batch_all_out_of_bounds_at_2000_times_is_a_binary_search() {
    let now = now_ms();
    let (prom, client) = prometheus_with_head_at(now).await;
    let before = writes_answered(&prom).await;

    let old = now - 3 * HOUR_MS;
    let report = client.push(&series("promstack_split_old", 2000, |i| vec![old + i as i64 * 1000])).await.unwrap();

    // Each newer half refused proves the older half: 1 + ceil(log2(2,000)) requests, not 3,999.
    assert_eq!(report.requests, 12, "{report:?}");
    assert_server_saw(&prom, before, 12).await;
    assert_eq!((report.samples_sent, report.samples_rejected), (0, 2000));
    assert_eq!(refused_samples(&report, "400: out of bounds"), 2000);
}
}

harness::prometheus_matrix! {
#[tokio::test(flavor = "multi_thread")]
async fn one_sample_out_of_bounds_among_2000_costs_two_requests_and_the_rest_lands() {
    let now = now_ms();
    let (prom, client) = prometheus_with_head_at(now).await;
    let before = writes_answered(&prom).await;

    let input = series("promstack_split_one_old", 2000, |i| vec![if i == 700 { now - 3 * HOUR_MS } else { now - 1000 }]);
    let report = client.push(&input).await.unwrap();

    assert_eq!(report.requests, 2, "{report:?}");
    assert_server_saw(&prom, before, 2).await;
    assert_eq!((report.samples_sent, report.samples_rejected), (1999, 1));
    assert_eq!(report.rejected[0].series, r#"promstack_split_one_old{n="0700"}"#);
    let landed = prom.query("count(count_over_time(promstack_split_one_old[10m]))").await;
    assert_eq!(landed[0]["value"][1], "1999");
}
}

harness::prometheus_matrix! {
#[tokio::test(flavor = "multi_thread")]
async fn one_sample_out_of_order_among_2000_is_found_and_the_other_1999_land() {
    let now = now_ms();
    let (prom, client) = prometheus_with_head_at(now).await;
    // Series 1234 already holds a newer sample.
    let mut newer = Series::new("promstack_split_one_ooo", [("n", "1234")]).unwrap();
    newer.push(now, -1.0);
    client.push(&[newer]).await.unwrap();
    let before = writes_answered(&prom).await;

    let report = client.push(&series("promstack_split_one_ooo", 2000, |_| vec![now - 1000])).await.unwrap();

    // Eight parts per level, 2,000 → 250 → 32 → 4 series, then four of one.
    assert_eq!(report.requests, 1 + 8 + 8 + 8 + 4, "{report:?}");
    assert_server_saw(&prom, before, report.requests).await;
    assert_eq!((report.samples_sent, report.samples_rejected), (1999, 1));
    assert_eq!(report.rejected[0].series, r#"promstack_split_one_ooo{n="1234"}"#);
    assert!(report.rejected[0].reason.starts_with("400: out of order sample"), "{:?}", report.rejected);
    let landed = prom.query("count_over_time(promstack_split_one_ooo[10m])").await;
    assert_eq!(landed.len(), 2000, "1,999 series land, and 1234 keeps its own sample");
}
}

harness::prometheus_matrix! {
#[tokio::test(flavor = "multi_thread")]
async fn a_backfill_past_the_bound_lands_what_is_in_bounds() {
    let now = now_ms();
    let (prom, client) = prometheus_with_head_at(now).await;
    let before = writes_answered(&prom).await;

    // 200 series × 10 minutes: 4 minutes 90 minutes back (out of bounds), 6 from 30 minutes back.
    let minutes = |_| -> Vec<i64> {
        let old = (0..4).map(|k| now - 90 * MINUTE_MS + k * MINUTE_MS);
        old.chain((0..6).map(|k| now - 30 * MINUTE_MS + k * MINUTE_MS)).collect()
    };
    let report = client.push(&series("promstack_split_backfill", 200, minutes)).await.unwrap();

    // Every series spans the bound, so the oldest minute is dropped per request: 1 + 4.
    assert_eq!(report.requests, 5, "{report:?}");
    assert_server_saw(&prom, before, 5).await;
    assert_eq!((report.samples_sent, report.samples_rejected), (1200, 800));
    assert_eq!(refused_samples(&report, "400: out of bounds"), 800);
    let landed = prom.query("sum(count_over_time(promstack_split_backfill[2h]))").await;
    assert_eq!(landed[0]["value"][1], "1200");
}
}

harness::prometheus_matrix! {
#[tokio::test(flavor = "multi_thread")]
async fn a_batch_the_server_already_holds_newer_of_is_dropped_after_eight_parts() {
    let now = now_ms();
    let (prom, client) = prometheus_with_head_at(now).await;
    client.push(&series("promstack_split_held", 2000, |_| vec![now])).await.unwrap();
    let before = writes_answered(&prom).await;

    // Every sample older than its series' newest: the request, its eight parts, then the bet.
    let report = client.push(&series("promstack_split_held", 2000, |_| vec![now - 1000])).await.unwrap();

    assert_eq!(report.requests, 9, "{report:?}");
    assert_server_saw(&prom, before, 9).await;
    assert_eq!((report.samples_sent, report.samples_rejected), (0, 2000));
    assert!(
        report.rejected.iter().all(|r| r.reason.starts_with("400: out of order sample") && r.reason.contains("every part")),
        "{:?}",
        report.rejected.first()
    );
}
}
