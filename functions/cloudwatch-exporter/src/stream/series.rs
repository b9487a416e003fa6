//! A streamed datum as the polling path's series: each statistic named by
//! [`metric_name`] (`aws_<namespace>_<metric>_<statistic>`), `Average` as Sum / SampleCount,
//! labelled by [`metric_labels`] with the same `name`, `dimension_*`, `tag_*`, `custom_tag_*`,
//! `region`, `account_id` and `account_alias` as a poll of the same metric gives, and stamped
//! with CloudWatch's timestamp. A series given twice in one request (the same datapoint
//! delivered twice) is sent once, the later value kept.

use std::collections::HashMap;

use promstack::remote_write::Series;

use crate::discovery::MetricRef;
use crate::export::{metric_labels, LabelContext};
use crate::naming::metric_name;
use crate::yace::JobKind;

use super::associate::Placement;
use super::Datum;

/// The statistics a datum exports, as the polling path names them: the record's, and `Average`
/// when it has a Sum and a non-zero SampleCount (a stream never sends Average itself).
pub fn statistics(d: &Datum) -> Vec<(String, f64)> {
    let mut out = d.statistics.clone();
    if let (Some(sum), Some(count)) = (d.statistic("Sum"), d.statistic("SampleCount")) {
        if count > 0.0 && d.statistic("Average").is_none() {
            out.push(("Average".to_string(), sum / count));
        }
    }
    out
}

/// The labels of a datum's series (every statistic has the same), or `None` when it is not
/// exported ([`Placement::NotSelected`]).
pub fn labels(d: &Datum, placement: &Placement<'_>, labels_snake_case: bool) -> Option<Vec<(String, String)>> {
    let metric = MetricRef::new(&d.namespace, &d.metric_name, d.dimensions.clone());
    let mut ctx = LabelContext {
        region: &d.region,
        account_id: &d.account_id,
        account_alias: None,
        custom_tags: &[],
        exported_tags: &[],
        labels_snake_case,
        context_on_info: false,
    };
    match placement {
        Placement::NotSelected => None,
        Placement::Unconfigured => Some(metric_labels(&metric, "global", None, ctx)),
        Placement::Job { job, scoped, resource } => {
            ctx.account_alias = scoped.account_alias.as_deref();
            ctx.custom_tags = job.custom_tags.as_slice();
            ctx.context_on_info = job.include_context_on_info_metrics;
            let resource = resource.and_then(|i| scoped.resources.get(i));
            let name = match (&job.kind, resource) {
                (JobKind::CustomNamespace { name } | JobKind::Static { name, .. }, _) => name.as_str(),
                (JobKind::Discovery { exported_tags, .. }, Some(r)) => {
                    ctx.exported_tags = exported_tags.as_slice();
                    r.arn.as_str()
                }
                (JobKind::Discovery { exported_tags, .. }, None) => {
                    ctx.exported_tags = exported_tags.as_slice();
                    "global"
                }
            };
            Some(metric_labels(&metric, name, resource, ctx))
        }
    }
}

/// The series of one request, by name and labels.
#[derive(Default)]
pub struct Batch {
    series: HashMap<(String, Vec<(String, String)>), Series>,
    /// Samples not sent, by reason (`invalid_labels`).
    pub dropped: std::collections::BTreeMap<String, u64>,
}

impl Batch {
    /// Adds every statistic of `d`, labelled `labels`.
    pub fn add(&mut self, d: &Datum, labels: &[(String, String)]) {
        let mut sorted = labels.to_vec();
        sorted.sort();
        for (stat, value) in statistics(d) {
            let name = metric_name(&d.namespace, &d.metric_name, &stat);
            let key = (name, sorted.clone());
            if let Some(s) = self.series.get_mut(&key) {
                s.push(d.timestamp_ms, value);
                continue;
            }
            match Series::new(&key.0, labels.iter().map(|(k, v)| (k.as_str(), v.as_str()))) {
                Ok(mut s) => {
                    s.push(d.timestamp_ms, value);
                    self.series.insert(key, s);
                }
                Err(e) => {
                    tracing::warn!(series = %key.0, error = %e, "series not sent");
                    *self.dropped.entry("invalid_labels".into()).or_default() += 1;
                }
            }
        }
    }

    /// The series, in a stable order (by name, then labels).
    pub fn into_series(self) -> Vec<Series> {
        let mut all: Vec<_> = self.series.into_iter().collect();
        all.sort_by(|a, b| a.0.cmp(&b.0));
        all.into_iter().map(|(_, s)| s).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn datum(stats: &[(&str, f64)]) -> Datum {
        Datum {
            account_id: "123456789012".into(),
            region: "us-east-1".into(),
            namespace: "AWS/EC2".into(),
            metric_name: "CPUUtilization".into(),
            dimensions: vec![("InstanceId".into(), "i-1".into())],
            timestamp_ms: 1_700_000_040_000,
            statistics: stats.iter().map(|(n, v)| (n.to_string(), *v)).collect(),
        }
    }

    #[test]
    fn average_is_sum_over_count() {
        let d = datum(&[("Minimum", 1.0), ("Maximum", 9.0), ("Sum", 12.0), ("SampleCount", 3.0)]);
        assert_eq!(statistics(&d).last(), Some(&("Average".to_string(), 4.0)));
        let empty = datum(&[("Sum", 0.0), ("SampleCount", 0.0)]);
        assert!(!statistics(&empty).iter().any(|(n, _)| n == "Average"), "no average of nothing");
    }

    #[test]
    fn unconfigured_metrics_are_global_with_the_polling_paths_names_and_labels() {
        let d = datum(&[("Sum", 12.0), ("SampleCount", 3.0), ("p99.9", 8.5)]);
        let labels = labels(&d, &Placement::Unconfigured, false).unwrap();
        let mut sorted = labels.clone();
        sorted.sort();
        let want: Vec<(String, String)> = [
            ("account_id", "123456789012"),
            ("dimension_InstanceId", "i-1"),
            ("name", "global"),
            ("region", "us-east-1"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        assert_eq!(sorted, want);
        let mut batch = Batch::default();
        batch.add(&d, &labels);
        batch.add(&d, &labels);
        let mut series = batch.into_series();
        let names: Vec<&str> = series.iter().map(|s| s.name()).collect();
        assert_eq!(
            names,
            [
                "aws_ec2_cpuutilization_average",
                "aws_ec2_cpuutilization_p99_9",
                "aws_ec2_cpuutilization_sample_count",
                "aws_ec2_cpuutilization_sum"
            ]
        );
        let average = series[0].samples().to_vec();
        assert_eq!(average.len(), 1, "the same datapoint twice is one sample");
        assert_eq!((average[0].timestamp, average[0].value), (1_700_000_040_000, 4.0));
    }

    #[test]
    fn a_not_selected_metric_exports_nothing() {
        assert_eq!(labels(&datum(&[("Sum", 1.0)]), &Placement::NotSelected, false), None);
    }
}
