//! The GetMetricData calls of a run, as YACE makes them: each query's window from YACE's window
//! calculator, queries grouped by (period, delay) and read over the longest window of the group
//! (YACE's batching iterator), each distinct (metric, statistic, window) asked once however many
//! jobs want it, at most 500 queries a call, so a run makes ceil(queries / 500) calls per window
//! and no more. Pure; the calls are made in `aws`.

use std::collections::hash_map::Entry;
use std::collections::{BTreeMap, HashMap};

use crate::discovery::MetricRef;

/// GetMetricData's limit on `MetricDataQueries`.
pub const MAX_QUERIES_PER_CALL: usize = 500;

/// Go's zero time (January 1 of year 1, UTC) is this many seconds before the Unix epoch; Go's
/// `Time.Round` rounds relative to it.
const GO_ZERO_TIME_S: i128 = 62_135_596_800;
const NS: i128 = 1_000_000_000;

/// YACE's `MetricWindowCalculator.Calculate`, in nanoseconds since the Unix epoch: `now` moved
/// back half a period and rounded to the period (Go's `Time.Round`: relative to Go's zero time,
/// halves round up; no rounding for a period of 0), then the window is the `length` seconds
/// ending `delay` seconds before that. Returns (start, end).
pub fn yace_window_ns(now_ns: i128, period_s: i64, length_s: i64, delay_s: i64) -> (i128, i128) {
    let mut now = now_ns;
    let period = i128::from(period_s) * NS;
    if period > 0 {
        let t = now - period / 2;
        let r = (t + GO_ZERO_TIME_S * NS).rem_euclid(period);
        now = if r + r < period { t - r } else { t + (period - r) };
    }
    let (length, delay) = (i128::from(length_s) * NS, i128::from(delay_s) * NS);
    (now - (length + delay), now - delay)
}

/// A query's time range, in seconds since the epoch: YACE's window, so the same buckets as YACE.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Window {
    pub period: i64,
    pub start: i64,
    pub end: i64,
}

impl Window {
    /// The window for a metric read at `now`: YACE's ([`yace_window_ns`]). With a watermark (the
    /// newest datapoint already exported, in ms), the window reaches back to the bucket after it,
    /// so a run after a missed one fills the gap, but no further back than `max_backfill`.
    pub fn at(now_s: i64, period: i64, length: i64, delay: i64, watermark_ms: Option<i64>, max_backfill: i64) -> Self {
        let (start, end) = yace_window_ns(i128::from(now_s) * NS, period, length, delay);
        let (mut start, end) = ((start / NS) as i64, (end / NS) as i64);
        if let (Some(wm), true) = (watermark_ms, period > 0) {
            // Buckets start at end - k * period: the oldest one after the watermark, and the
            // oldest within max_backfill.
            let ceil_div = |a: i64| -(-a).div_euclid(period);
            let after_watermark = ceil_div(end - wm.div_euclid(1000)) - 1;
            let within_backfill = ceil_div(max_backfill.max(length));
            start = start.min(end - after_watermark.min(within_backfill) * period);
        }
        Window { period, start, end }
    }
}

/// One (metric, statistic) wanted by a run, and the window it is read over.
#[derive(Debug, Clone, PartialEq)]
pub struct Wanted {
    pub metric: MetricRef,
    pub stat: String,
    pub window: Window,
}

/// One GetMetricData call: its window and the indices (into [`Plan::wanted`]) of its queries.
#[derive(Debug, Clone, PartialEq)]
pub struct Call {
    pub window: Window,
    pub queries: Vec<usize>,
}

/// The calls of a run.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Plan {
    /// Deduplicated: each (metric, statistic, window) once.
    pub wanted: Vec<Wanted>,
    pub calls: Vec<Call>,
    /// Entries of the caller's list folded into an earlier identical query (another job wants
    /// the same metric and statistic over the same window).
    pub duplicates: usize,
    /// Indices of the caller's list that were kept, in [`Plan::wanted`] order.
    pub kept: Vec<usize>,
    /// For each entry of [`Plan::wanted`], every index of the caller's list it answers (the
    /// kept one first): each job's series gets the answer, with its own labels.
    pub asked_by: Vec<Vec<usize>>,
}

impl Plan {
    /// The least number of calls the queries need: ceil(queries / 500) per distinct window.
    pub fn minimum_calls(&self) -> usize {
        let mut per_window: BTreeMap<Window, usize> = BTreeMap::new();
        for w in &self.wanted {
            *per_window.entry(w.window).or_default() += 1;
        }
        per_window.values().map(|n| n.div_ceil(MAX_QUERIES_PER_CALL)).sum()
    }
}

/// Groups `wanted` into calls as YACE's batching does: entries with the same period and window
/// end (the same period and delay, at one run's time) share one window, the longest of the
/// group, so `exportAllDataPoints` gets YACE's points; then each (metric, statistic, window) is
/// asked once for every entry that wants it.
pub fn plan(mut wanted: Vec<Wanted>) -> Plan {
    let mut longest: HashMap<(i64, i64), i64> = HashMap::new();
    for w in &wanted {
        let start = longest.entry((w.window.period, w.window.end)).or_insert(w.window.start);
        *start = (*start).min(w.window.start);
    }
    for w in &mut wanted {
        w.window.start = longest[&(w.window.period, w.window.end)];
    }
    let mut seen: HashMap<(MetricRef, String, Window), usize> = HashMap::with_capacity(wanted.len());
    let mut kept = Vec::with_capacity(wanted.len());
    let mut asked_by: Vec<Vec<usize>> = Vec::with_capacity(wanted.len());
    let mut kept_wanted = Vec::with_capacity(wanted.len());
    let mut duplicates = 0;
    for (i, w) in wanted.into_iter().enumerate() {
        match seen.entry((w.metric.clone(), w.stat.clone(), w.window)) {
            Entry::Occupied(e) => {
                asked_by[*e.get()].push(i);
                duplicates += 1;
            }
            Entry::Vacant(e) => {
                e.insert(kept_wanted.len());
                kept.push(i);
                asked_by.push(vec![i]);
                kept_wanted.push(w);
            }
        }
    }
    let mut by_window: BTreeMap<Window, Vec<usize>> = BTreeMap::new();
    for (i, w) in kept_wanted.iter().enumerate() {
        by_window.entry(w.window).or_default().push(i);
    }
    let mut calls = Vec::new();
    for (window, indices) in by_window {
        for chunk in indices.chunks(MAX_QUERIES_PER_CALL) {
            calls.push(Call { window, queries: chunk.to_vec() });
        }
    }
    Plan { wanted: kept_wanted, calls, duplicates, kept, asked_by }
}

/// A query id GetMetricData accepts (`^[a-z][a-zA-Z0-9_]*$`), unique within a call.
pub fn query_id(position: usize) -> String {
    format!("q{position}")
}

/// The position in the call that a query id stands for.
pub fn position_of(id: &str) -> Option<usize> {
    id.strip_prefix('q')?.parse().ok()
}

#[cfg(test)]
#[path = "query_yace_cases.rs"]
mod yace_cases;

#[cfg(test)]
mod tests {
    use super::*;

    fn metric(name: &str, instance: &str) -> MetricRef {
        MetricRef::new("AWS/EC2", name, vec![("InstanceId".into(), instance.into())])
    }

    fn w(name: &str, instance: &str, stat: &str, window: Window) -> Wanted {
        Wanted { metric: metric(name, instance), stat: stat.into(), window }
    }

    const NOW: i64 = 1_700_000_030;

    #[test]
    fn windows_are_aligned_and_reach_back_to_the_watermark() {
        let w = Window::at(NOW, 60, 300, 0, None, 3600);
        assert_eq!((w.end % 60, w.end - w.start), (0, 300));
        assert!(w.end <= NOW && NOW - w.end < 60);
        let delayed = Window::at(NOW, 60, 300, 120, None, 3600);
        assert_eq!(delayed.end, w.end - 120);
        // Last exported datapoint 20 minutes back: start right after it.
        let wm = (w.end - 1200) * 1000;
        let b = Window::at(NOW, 60, 300, 0, Some(wm), 3600);
        assert_eq!(b.start, w.end - 1140);
        // A watermark inside the normal window does not shrink it.
        let r = Window::at(NOW, 60, 300, 0, Some((w.end - 60) * 1000), 3600);
        assert_eq!(r.start, w.start);
        // No further back than max_backfill.
        let old = Window::at(NOW, 60, 300, 0, Some((w.end - 86_400) * 1000), 3600);
        assert_eq!(old.start, w.end - 3600);
    }

    #[test]
    fn each_metric_and_statistic_once_500_per_call_grouped_by_window() {
        let a = Window::at(NOW, 60, 300, 0, None, 3600);
        let b = Window::at(NOW, 300, 600, 0, None, 3600);
        let mut wanted = Vec::new();
        for i in 0..1203 {
            wanted.push(w("CPUUtilization", &format!("i-{i}"), "Average", a));
        }
        // The same metric and statistic again (a second job): asked once.
        wanted.push(w("CPUUtilization", "i-7", "Average", a));
        // Same metric, other statistics, including percentiles: separate queries.
        wanted.push(w("CPUUtilization", "i-7", "p99", a));
        wanted.push(w("CPUUtilization", "i-7", "p99.9", a));
        for i in 0..10 {
            wanted.push(w("NetworkIn", &format!("i-{i}"), "Sum", b));
        }
        let p = plan(wanted);
        assert_eq!(p.duplicates, 1);
        assert_eq!(p.wanted.len(), 1215);
        assert_eq!(p.kept.len(), 1215);
        assert!(!p.kept.contains(&1203), "the duplicate is the one dropped");
        assert_eq!(p.calls.len(), 4, "1205 queries in one window: 3 calls; 10 in another: 1");
        assert_eq!(p.calls.len(), p.minimum_calls());
        for c in &p.calls {
            assert!(c.queries.len() <= MAX_QUERIES_PER_CALL);
            assert!(c.queries.iter().all(|&q| p.wanted[q].window == c.window));
        }
        let mut asked: Vec<(MetricRef, String)> = p
            .calls
            .iter()
            .flat_map(|c| &c.queries)
            .map(|&q| (p.wanted[q].metric.clone(), p.wanted[q].stat.clone()))
            .collect();
        let total = asked.len();
        asked.sort();
        asked.dedup();
        assert_eq!(asked.len(), total, "no query asked twice");
        assert_eq!(total, 1215, "every query asked");
        let stats: Vec<&str> =
            p.wanted.iter().filter(|w| w.metric == metric("CPUUtilization", "i-7")).map(|w| w.stat.as_str()).collect();
        assert_eq!(stats, ["Average", "p99", "p99.9"]);
    }

    #[test]
    fn query_ids_round_trip() {
        assert_eq!(query_id(0), "q0");
        assert_eq!(position_of(&query_id(499)), Some(499));
        assert_eq!(position_of("x1"), None);
    }
}
