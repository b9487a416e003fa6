//! From CloudWatch's answer to Prometheus series, as YACE names them: which series a job
//! exports (name, labels, watermark key) and which samples each one pushes in a run.

use crate::discovery::{MetricRef, Resource};
use crate::naming::{label_name, metric_name};
use crate::yace::MetricSpec;

/// One series a run exports, and how it is read.
#[derive(Debug, Clone, PartialEq)]
pub struct Target {
    pub metric: MetricRef,
    pub stat: String,
    /// The Prometheus metric name.
    pub name: String,
    /// Labels other than `__name__`, none empty.
    pub labels: Vec<(String, String)>,
    /// Identifies the series in the watermarks of the state.
    pub key: String,
    pub nil_to_zero: bool,
    pub add_cloudwatch_timestamp: bool,
    pub export_all_data_points: bool,
}

/// What the labels of a job's series are made of, besides the metric's dimensions.
#[derive(Debug, Clone, Copy)]
pub struct LabelContext<'a> {
    pub region: &'a str,
    pub account_id: &'a str,
    /// YACE's `account_alias`, on every metric when the account has one.
    pub account_alias: Option<&'a str>,
    pub custom_tags: &'a [(String, String)],
    /// `exportedTagsOnMetrics` of the namespace.
    pub exported_tags: &'a [String],
}

fn push_label(labels: &mut Vec<(String, String)>, name: Option<String>, value: &str) {
    // Remote write forbids empty values; YACE's empty label means "absent" in PromQL anyway.
    if let Some(name) = name {
        if !value.is_empty() && !labels.iter().any(|(n, _)| *n == name) {
            labels.push((name, value.to_string()));
        }
    }
}

/// The labels YACE puts on a metric: `name` (resource ARN, `global`, or a static job's name),
/// `dimension_<Name>`, `tag_<Key>` for exported tags, `custom_tag_<k>`, `region`, `account_id`,
/// `account_alias`.
pub fn metric_labels(
    metric: &MetricRef,
    resource_name: &str,
    resource: Option<&Resource>,
    ctx: LabelContext<'_>,
) -> Vec<(String, String)> {
    let mut labels = Vec::with_capacity(4 + metric.dimensions.len() + ctx.exported_tags.len() + ctx.custom_tags.len());
    push_label(&mut labels, Some("name".into()), resource_name);
    push_label(&mut labels, Some("region".into()), ctx.region);
    push_label(&mut labels, Some("account_id".into()), ctx.account_id);
    push_label(&mut labels, Some("account_alias".into()), ctx.account_alias.unwrap_or(""));
    for (dim, value) in &metric.dimensions {
        push_label(&mut labels, label_name("dimension_", dim), value);
    }
    for key in ctx.exported_tags {
        let value = resource.and_then(|r| r.tag(key)).unwrap_or("");
        push_label(&mut labels, label_name("tag_", key), value);
    }
    for (k, v) in ctx.custom_tags {
        push_label(&mut labels, label_name("custom_tag_", k), v);
    }
    labels
}

/// The labels of a resource's `aws_<namespace>_info` series: every tag of the resource.
pub fn info_labels(resource: &Resource, ctx: LabelContext<'_>) -> Vec<(String, String)> {
    let mut labels = Vec::with_capacity(3 + resource.tags.len() + ctx.custom_tags.len());
    push_label(&mut labels, Some("name".into()), &resource.arn);
    push_label(&mut labels, Some("region".into()), ctx.region);
    push_label(&mut labels, Some("account_id".into()), ctx.account_id);
    for (k, v) in &resource.tags {
        push_label(&mut labels, label_name("tag_", k), v);
    }
    for (k, v) in ctx.custom_tags {
        push_label(&mut labels, label_name("custom_tag_", k), v);
    }
    labels
}

/// The watermark key of a series: account, region, metric, statistic, dimensions.
pub fn series_key(account_id: &str, region: &str, metric: &MetricRef, stat: &str) -> String {
    let mut key = format!("{account_id}|{region}|{}|{}|{stat}", metric.namespace, metric.name);
    for (n, v) in &metric.dimensions {
        key.push('|');
        key.push_str(n);
        key.push('=');
        key.push_str(v);
    }
    key
}

/// The series of one metric spec and statistic for a found metric.
pub fn target(
    metric: &MetricRef,
    spec: &MetricSpec,
    stat: &str,
    resource_name: &str,
    resource: Option<&Resource>,
    ctx: LabelContext<'_>,
) -> Target {
    Target {
        metric: metric.clone(),
        stat: stat.to_string(),
        name: metric_name(&metric.namespace, &metric.name, stat),
        labels: metric_labels(metric, resource_name, resource, ctx),
        key: series_key(ctx.account_id, ctx.region, metric, stat),
        nil_to_zero: spec.nil_to_zero,
        add_cloudwatch_timestamp: spec.add_cloudwatch_timestamp,
        export_all_data_points: spec.export_all_data_points,
    }
}

/// The samples a series pushes this run, oldest first, from its datapoints (oldest first).
///
/// - `addCloudwatchTimestamp: false`: the latest datapoint, stamped with the run's time (YACE's
///   default), so the series is continuous at the schedule's rate; without one, 0 with `nilToZero`
///   and NaN otherwise, as YACE does.
/// - `addCloudwatchTimestamp: true`: datapoints newer than the watermark, with CloudWatch's
///   timestamps; only the latest of them unless `exportAllDataPoints`.
pub fn samples(target: &Target, points: &[(i64, f64)], run_ms: i64, watermark_ms: Option<i64>) -> Vec<(i64, f64)> {
    if !target.add_cloudwatch_timestamp {
        let value = match points.last() {
            Some((_, v)) => *v,
            None if target.nil_to_zero => 0.0,
            None => f64::NAN,
        };
        return vec![(run_ms, value)];
    }
    let mut fresh = points.iter().copied().filter(|(ts, _)| watermark_ms.is_none_or(|wm| *ts > wm));
    if target.export_all_data_points {
        fresh.collect()
    } else {
        fresh.next_back().into_iter().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(act: bool, all: bool, nil_to_zero: bool) -> MetricSpec {
        MetricSpec {
            name: "CPUUtilization".into(),
            statistics: vec!["Average".into()],
            period: 60,
            length: 300,
            delay: 0,
            nil_to_zero,
            add_cloudwatch_timestamp: act,
            export_all_data_points: all,
        }
    }

    fn ctx<'a>(custom: &'a [(String, String)], exported: &'a [String]) -> LabelContext<'a> {
        LabelContext {
            region: "us-east-1",
            account_id: "123456789012",
            account_alias: None,
            custom_tags: custom,
            exported_tags: exported,
        }
    }

    #[test]
    fn labels_follow_yace_and_are_never_empty() {
        let metric = MetricRef::new(
            "AWS/EC2",
            "CPUUtilization",
            vec![("InstanceId".into(), "i-1".into()), ("Empty".into(), "".into())],
        );
        let resource = Resource {
            arn: "arn:aws:ec2:us-east-1:123456789012:instance/i-1".into(),
            tags: vec![("Name".into(), "web".into()), ("team".into(), "".into())],
        };
        let custom = [("env".to_string(), "prod".to_string())];
        let exported = ["Name".to_string(), "team".to_string(), "missing".to_string()];
        let t = target(
            &metric,
            &spec(false, false, false),
            "Average",
            &resource.arn,
            Some(&resource),
            ctx(&custom, &exported),
        );
        assert_eq!(t.name, "aws_ec2_cpuutilization_average");
        let mut labels = t.labels.clone();
        labels.sort();
        let want: Vec<(String, String)> = [
            ("account_id", "123456789012"),
            ("custom_tag_env", "prod"),
            ("dimension_InstanceId", "i-1"),
            ("name", "arn:aws:ec2:us-east-1:123456789012:instance/i-1"),
            ("region", "us-east-1"),
            ("tag_Name", "web"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        assert_eq!(labels, want);
        assert_eq!(t.key, "123456789012|us-east-1|AWS/EC2|CPUUtilization|Average|Empty=|InstanceId=i-1");
        let info = info_labels(&resource, ctx(&custom, &exported));
        assert!(info.contains(&("tag_Name".into(), "web".into())));
        assert!(!info.iter().any(|(k, _)| k == "tag_team"));
    }

    #[test]
    fn latest_datapoint_at_run_time_or_nan_or_zero() {
        let metric = MetricRef::new("AWS/EC2", "CPUUtilization", vec![]);
        let t = target(&metric, &spec(false, false, false), "Average", "global", None, ctx(&[], &[]));
        assert_eq!(samples(&t, &[(1000, 1.0), (2000, 2.0)], 9000, None), [(9000, 2.0)]);
        let nan = samples(&t, &[], 9000, None);
        assert_eq!(nan.len(), 1);
        assert!(nan[0].1.is_nan());
        let z = target(&metric, &spec(false, false, true), "Average", "global", None, ctx(&[], &[]));
        assert_eq!(samples(&z, &[], 9000, None), [(9000, 0.0)]);
    }

    #[test]
    fn cloudwatch_timestamps_only_after_the_watermark() {
        let metric = MetricRef::new("AWS/EC2", "CPUUtilization", vec![]);
        let points = [(1000, 1.0), (2000, 2.0), (3000, 3.0)];
        let all = target(&metric, &spec(true, true, false), "Average", "global", None, ctx(&[], &[]));
        assert_eq!(samples(&all, &points, 9000, None), points);
        assert_eq!(samples(&all, &points, 9000, Some(1000)), [(2000, 2.0), (3000, 3.0)]);
        assert_eq!(samples(&all, &points, 9000, Some(3000)), []);
        let latest = target(&metric, &spec(true, false, true), "Average", "global", None, ctx(&[], &[]));
        assert_eq!(samples(&latest, &points, 9000, Some(1000)), [(3000, 3.0)]);
        assert_eq!(samples(&latest, &[], 9000, None), [], "no datapoint, no timestamp: nothing to push");
    }
}
