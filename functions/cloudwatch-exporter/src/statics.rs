//! Static jobs as YACE runs them: one GetMetricStatistics request per metric (all its
//! statistics at once) over the last `length` seconds, not aligned to the period, and one sample
//! per statistic chosen from the answer's datapoints the way YACE's `promutil.getDataPoints`
//! chooses it.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use crate::discovery::MetricRef;
use crate::yace::MetricSpec;

/// YACE's `promutil.Percentile`: the statistics sent as `ExtendedStatistics`.
static PERCENTILE: LazyLock<regex_lite::Regex> =
    LazyLock::new(|| regex_lite::Regex::new(r"^p(\d{1,2}(\.\d{0,2})?|100)$").expect("percentile regex"));

/// Whether GetMetricStatistics takes `stat` as an extended statistic (`p99`, `p99.9`) rather
/// than one of `Statistics`.
pub fn is_percentile(stat: &str) -> bool {
    PERCENTILE.is_match(stat)
}

/// One GetMetricStatistics request.
#[derive(Debug, Clone, Copy)]
pub struct StatisticsRequest<'a> {
    pub metric: &'a MetricRef,
    pub statistics: &'a [String],
    pub period: i64,
    pub start_ms: i64,
    pub end_ms: i64,
}

/// One datapoint of a GetMetricStatistics answer: its values by statistic name (`Average`,
/// `Maximum`, `p99`, ...); a statistic CloudWatch did not return is absent.
#[derive(Debug, Clone, PartialEq)]
pub struct StatisticsDatapoint {
    pub timestamp_ms: i64,
    pub values: BTreeMap<String, f64>,
}

/// YACE's static window, as (start, end) in ms: `createGetMetricStatisticsInput` asks from
/// `length + delay` to `delay` seconds before now, and a static metric's delay is always 0 there
/// (`validateStaticJob` gives `validateMetric` no job-level fields, and a metric's own `delay` is
/// ignored), so the window is the last `length` seconds whatever `spec.delay` says.
pub fn window(now_ms: i64, spec: &MetricSpec) -> (i64, i64) {
    (now_ms - spec.length * 1000, now_ms)
}

/// The request for one metric of a static job at `now_ms`.
pub fn request<'a>(metric: &'a MetricRef, spec: &'a MetricSpec, now_ms: i64) -> StatisticsRequest<'a> {
    let (start_ms, end_ms) = window(now_ms, spec);
    StatisticsRequest { metric, statistics: &spec.statistics, period: spec.period, start_ms, end_ms }
}

/// The (timestamp ms, value) YACE exports for `stat`, or `None` (nothing is exported, whatever
/// `nilToZero` says):
/// - `Average`: the mean of every datapoint's average, stamped with the newest of them;
/// - `Maximum`, `Minimum`, `Sum`, `SampleCount` and percentiles: the newest datapoint that has it;
/// - any other statistic: nothing (YACE's error for it is dropped with the datapoints).
pub fn chosen(points: &[StatisticsDatapoint], stat: &str) -> Option<(i64, f64)> {
    let mut newest_first: Vec<&StatisticsDatapoint> = points.iter().collect();
    newest_first.sort_by_key(|p| std::cmp::Reverse(p.timestamp_ms));
    match stat {
        "Average" => {
            let averages: Vec<(i64, f64)> =
                newest_first.iter().filter_map(|p| Some((p.timestamp_ms, *p.values.get(stat)?))).collect();
            let newest = averages.iter().map(|(ts, _)| *ts).max()?;
            Some((newest, averages.iter().map(|(_, v)| v).sum::<f64>() / averages.len() as f64))
        }
        "Maximum" | "Minimum" | "Sum" | "SampleCount" => first_with(&newest_first, stat),
        _ if is_percentile(stat) => first_with(&newest_first, stat),
        _ => None,
    }
}

fn first_with(newest_first: &[&StatisticsDatapoint], stat: &str) -> Option<(i64, f64)> {
    newest_first.iter().find_map(|p| Some((p.timestamp_ms, *p.values.get(stat)?)))
}

#[cfg(test)]
#[path = "statics_yace_cases.rs"]
mod yace_cases;
