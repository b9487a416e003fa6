//! YACE's own cases for how a static job's GetMetricStatistics answer becomes samples, and the
//! rules of `promutil.getDataPoints` / `createGetMetricStatisticsInput` they rest on.

use super::*;

const MINUTE_MS: i64 = 60_000;
/// 2024-01-01T00:00:00Z.
const TS: i64 = 1_704_067_200_000;

fn point(ts: i64, values: &[(&str, f64)]) -> StatisticsDatapoint {
    StatisticsDatapoint { timestamp_ms: ts, values: values.iter().map(|(k, v)| (k.to_string(), *v)).collect() }
}

// YACE 1a0ddb1e pkg/promutil/migrate_test.go (TestSortByTimeStamp): the datapoints are taken
// newest first, so the newest Maximum is the one exported.
#[test]
fn the_newest_datapoint_is_chosen_whatever_the_answer_order() {
    let middle = point(TS - 2 * MINUTE_MS, &[("Maximum", 2.0)]);
    let newest = point(TS - MINUTE_MS, &[("Maximum", 1.0)]);
    let oldest = point(TS - 3 * MINUTE_MS, &[("Maximum", 3.0)]);
    assert_eq!(chosen(&[middle, newest, oldest], "Maximum"), Some((TS - MINUTE_MS, 1.0)));
}

// YACE 1a0ddb1e pkg/promutil/migrate.go (getDataPoints): Average is the mean over the window,
// stamped with the newest datapoint; the other statistics are the newest datapoint that has them.
#[test]
fn average_is_the_mean_of_the_window_and_the_others_the_newest_value() {
    let points = [
        point(TS - 3 * MINUTE_MS, &[("Average", 1.0), ("Maximum", 5.0), ("Sum", 10.0), ("p99", 7.0)]),
        point(TS - MINUTE_MS, &[("Average", 2.0), ("Maximum", 3.0), ("Minimum", 0.5)]),
        point(TS - 2 * MINUTE_MS, &[("Average", 6.0), ("Maximum", 4.0), ("SampleCount", 3.0)]),
    ];
    assert_eq!(chosen(&points, "Average"), Some((TS - MINUTE_MS, 3.0)));
    assert_eq!(chosen(&points, "Maximum"), Some((TS - MINUTE_MS, 3.0)));
    assert_eq!(chosen(&points, "Minimum"), Some((TS - MINUTE_MS, 0.5)));
    assert_eq!(chosen(&points, "SampleCount"), Some((TS - 2 * MINUTE_MS, 3.0)));
    assert_eq!(chosen(&points, "Sum"), Some((TS - 3 * MINUTE_MS, 10.0)), "newest that has a Sum");
    assert_eq!(chosen(&points, "p99"), Some((TS - 3 * MINUTE_MS, 7.0)));
    assert_eq!(chosen(&points, "p50"), None, "no datapoint has it");
    assert_eq!(chosen(&points, "tm99"), None, "YACE drops what getDataPoints cannot read");
}

#[test]
fn without_datapoints_nothing_is_chosen() {
    for stat in ["Average", "Maximum", "Minimum", "Sum", "SampleCount", "p99"] {
        assert_eq!(chosen(&[], stat), None, "{stat}");
    }
}

// YACE 1a0ddb1e pkg/promutil/migrate.go (Percentile) and pkg/clients/cloudwatch/input.go:
// percentiles go in ExtendedStatistics, everything else in Statistics.
#[test]
fn percentiles_are_extended_statistics() {
    for stat in ["p99", "p9", "p99.9", "p99.99", "p100", "p50."] {
        assert!(is_percentile(stat), "{stat}");
    }
    for stat in ["Average", "p999", "p99.999", "p101", "tm99", "P99", "IQM"] {
        assert!(!is_percentile(stat), "{stat}");
    }
}

// YACE 1a0ddb1e pkg/clients/cloudwatch/input.go (createGetMetricStatisticsInput) and
// pkg/config/scrapeconf.go (validateStaticJob, validateMetric): the last `length` seconds, not
// aligned to the period; a static metric's `delay` is ignored (YACE warns and sets it to 0).
#[test]
fn the_window_is_the_last_length_seconds_without_alignment_or_delay() {
    let spec = MetricSpec {
        name: "Orders".into(),
        statistics: vec!["Sum".into()],
        period: 60,
        length: 300,
        delay: 120,
        nil_to_zero: false,
        add_cloudwatch_timestamp: false,
        export_all_data_points: false,
    };
    let now = TS + 12_345;
    assert_eq!(window(now, &spec), (now - 300_000, now));
    let metric = MetricRef::new("MyApp", "Orders", vec![]);
    let r = request(&metric, &spec, now);
    assert_eq!((r.period, r.start_ms, r.end_ms, r.statistics), (60, now - 300_000, now, &spec.statistics[..]));
}
