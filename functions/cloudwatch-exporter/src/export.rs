//! From CloudWatch's answer to Prometheus series, as YACE names them: which series a job
//! exports (name, labels, watermark key) and which samples each one pushes in a run.

use std::collections::hash_map::Entry;
use std::collections::HashMap;

use promstack::remote_write::proto::Label;
use promstack::remote_write::Series;

use crate::discovery::{MetricRef, Resource};
use crate::naming::{label_name_as, metric_name};
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
    /// Keys of this series whose label names came out the same after sanitising.
    pub label_collisions: Vec<LabelCollision>,
}

/// Two keys of one series (dimensions, tags or custom tags) that sanitise to the same label name,
/// e.g. `Shop-Id` and `Shop_Id` to `dimension_Shop_Id`: the later key's value is kept, as YACE
/// keeps it, and CloudWatch series that differ only in the other become one Prometheus series.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LabelCollision {
    pub label: String,
    pub kept: String,
    pub lost: String,
}

impl std::fmt::Display for LabelCollision {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} from keys {:?} and {:?} (the value of {:?} kept)", self.label, self.lost, self.kept, self.kept)
    }
}

/// What the labels of a job's series are made of, besides the metric's dimensions.
#[derive(Debug, Clone, Copy)]
pub struct LabelContext<'a> {
    pub region: &'a str,
    pub account_id: &'a str,
    /// The account's alias (iam:ListAccountAliases), when it has one.
    pub account_alias: Option<&'a str>,
    pub custom_tags: &'a [(String, String)],
    /// `exportedTagsOnMetrics` of the namespace.
    pub exported_tags: &'a [String],
    /// YACE's `-labels-snake-case` (`LABELS_SNAKE_CASE`): label names in snake case.
    pub labels_snake_case: bool,
    /// The job's `includeContextOnInfoMetrics`: the context labels on its `_info` series too.
    pub context_on_info: bool,
}

impl LabelContext<'_> {
    /// YACE's context labels: `region`, `account_id`, `account_alias` when there is one, and
    /// `custom_tag_<k>` (a key whose sanitised form is not a valid label name is dropped).
    fn context_labels(&self, labels: &mut Labels) {
        labels.set("region".into(), self.region);
        labels.set("account_id".into(), self.account_id);
        if let Some(alias) = self.account_alias.filter(|a| !a.is_empty()) {
            labels.set("account_alias".into(), alias);
        }
        for (k, v) in self.custom_tags {
            labels.set_named(label_name_as("custom_tag_", k, self.labels_snake_case), k, v);
        }
    }
}

/// A label set built as YACE builds its map: a label set again takes the later value. Labels
/// named from keys remember the key, so two keys that sanitise alike are caught.
#[derive(Default)]
struct Labels {
    set: Vec<(String, String)>,
    /// Label name → the key it was last made from.
    keys: Vec<(String, String)>,
    collisions: Vec<LabelCollision>,
}

impl Labels {
    fn with_capacity(n: usize) -> Self {
        Labels { set: Vec::with_capacity(n), ..Default::default() }
    }

    fn set(&mut self, name: String, value: &str) {
        match self.set.iter_mut().find(|(n, _)| *n == name) {
            Some(existing) => existing.1 = value.to_string(),
            None => self.set.push((name, value.to_string())),
        }
    }

    /// Sets a label named from `key` (`None`: an invalid name, dropped as YACE does with a
    /// warning). A different key that gave the same name before is a collision.
    fn set_named(&mut self, name: Option<String>, key: &str, value: &str) {
        let Some(name) = name else { return };
        match self.keys.iter_mut().find(|(n, _)| *n == name) {
            Some((_, before)) if before != key => {
                let lost = std::mem::replace(before, key.to_string());
                self.collisions.push(LabelCollision { label: name.clone(), kept: key.to_string(), lost });
            }
            Some(_) => {}
            None => self.keys.push((name.clone(), key.to_string())),
        }
        self.set(name, value);
    }

    /// The labels to push. YACE exports an empty value (a missing exported tag, and every label
    /// other series of the same name have, through its label-consistency pass); remote write
    /// cannot carry an empty value, and in PromQL an empty label is the same as no label, so it is
    /// left out: the same series for every query.
    fn into_pushed(self) -> Vec<(String, String)> {
        self.set.into_iter().filter(|(_, v)| !v.is_empty()).collect()
    }
}

/// The labels YACE puts on a metric (`createPrometheusLabels`), in its order, so conflicts
/// resolve as in YACE: `name` (resource ARN, `global`, the custom namespace job's or static
/// job's name), `dimension_<Name>`, `tag_<Key>` for exported tags (the later of two keys with
/// the same sanitised name wins), then the context labels, which overwrite any of those.
pub fn metric_labels(
    metric: &MetricRef,
    resource_name: &str,
    resource: Option<&Resource>,
    ctx: LabelContext<'_>,
) -> Vec<(String, String)> {
    build_metric_labels(metric, resource_name, resource, ctx).into_pushed()
}

fn build_metric_labels(
    metric: &MetricRef,
    resource_name: &str,
    resource: Option<&Resource>,
    ctx: LabelContext<'_>,
) -> Labels {
    let snake = ctx.labels_snake_case;
    let mut labels = Labels::with_capacity(5 + metric.dimensions.len() + ctx.exported_tags.len());
    labels.set("name".into(), resource_name);
    for (dim, value) in &metric.dimensions {
        labels.set_named(label_name_as("dimension_", dim, snake), dim, value);
    }
    for key in ctx.exported_tags {
        let value = resource.and_then(|r| r.tag(key)).unwrap_or("");
        labels.set_named(label_name_as("tag_", key, snake), key, value);
    }
    ctx.context_labels(&mut labels);
    labels
}

/// The labels of a resource's `aws_<namespace>_info` series (`BuildNamespaceInfoMetrics`): the
/// context labels only with `includeContextOnInfoMetrics`, then `name` and every tag of the
/// resource, which overwrite them.
pub fn info_labels(resource: &Resource, ctx: LabelContext<'_>) -> Vec<(String, String)> {
    let mut labels = Labels::with_capacity(4 + resource.tags.len() + ctx.custom_tags.len());
    if ctx.context_on_info {
        ctx.context_labels(&mut labels);
    }
    labels.set("name".into(), &resource.arn);
    for (k, v) in &resource.tags {
        labels.set_named(label_name_as("tag_", k, ctx.labels_snake_case), k, v);
    }
    labels.into_pushed()
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
    let labels = build_metric_labels(metric, resource_name, resource, ctx);
    let label_collisions = labels.collisions.clone();
    Target {
        metric: metric.clone(),
        stat: stat.to_string(),
        name: metric_name(&metric.namespace, &metric.name, stat),
        labels: labels.into_pushed(),
        key: series_key(ctx.account_id, ctx.region, metric, stat),
        nil_to_zero: spec.nil_to_zero,
        add_cloudwatch_timestamp: spec.add_cloudwatch_timestamp,
        export_all_data_points: spec.export_all_data_points,
        label_collisions,
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

/// The series a run pushes so far, by name and labels, each with the CloudWatch series it came
/// from: YACE drops a series identical to one before it (`EnsureLabelConsistencyAndRemoveDuplicates`),
/// e.g. the same series from two jobs, or two CloudWatch series whose labels came out the same.
#[derive(Debug, Default)]
pub struct Exported(HashMap<(String, Vec<(String, String)>), String>);

impl Exported {
    /// Whether no series with `name` and `labels` (in any order) came before; remembers it.
    pub fn first(&mut self, name: &str, labels: &[(String, String)]) -> bool {
        self.claim(name, labels, "").is_ok()
    }

    /// As [`Exported::first`], for a series read from CloudWatch as `source` (its watermark key).
    /// `Err` holds the source of the series that came first: the same one (asked twice), or
    /// another whose labels came out the same (keys that sanitise alike, or a key dropped as
    /// invalid or empty), a label collision.
    pub fn claim(&mut self, name: &str, labels: &[(String, String)], source: &str) -> Result<(), String> {
        let mut labels = labels.to_vec();
        labels.sort();
        match self.0.entry((name.to_string(), labels)) {
            Entry::Vacant(v) => {
                v.insert(source.to_string());
                Ok(())
            }
            Entry::Occupied(o) => Err(o.get().clone()),
        }
    }
}

/// Adds `extra` (`EXTRA_LABELS`, names the exporter never sets) to every series.
pub fn add_labels(series: &mut [Series], extra: &[(String, String)]) {
    if extra.is_empty() {
        return;
    }
    for s in series.iter_mut() {
        let mut proto = s.to_proto();
        proto.labels.extend(extra.iter().map(|(name, value)| Label { name: name.clone(), value: value.clone() }));
        match Series::from_labels(proto.labels) {
            Ok(mut with) => {
                for sample in proto.samples {
                    with.push(sample.timestamp, sample.value);
                }
                *s = with;
            }
            // Settings refuse the exporter's own names, so this is a series that already had one.
            Err(e) => tracing::warn!(series = %s.name(), error = %e, "EXTRA_LABELS not added"),
        }
    }
}

#[cfg(test)]
#[path = "export_yace_cases.rs"]
mod yace_cases;

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
            labels_snake_case: false,
            context_on_info: false,
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

    /// Keys that sanitise to one label name: the later value is kept, as YACE keeps it, and the
    /// collision is named; the same key twice (listed twice in `exportedTagsOnMetrics`) is none.
    #[test]
    fn keys_that_sanitise_to_one_label_name_are_reported() {
        let metric = MetricRef::new(
            "MyApp",
            "Orders",
            vec![("Shop-Id".into(), "a".into()), ("Shop_Id".into(), "b".into()), ("Zone".into(), "z".into())],
        );
        let resource = Resource {
            arn: "arn:x".into(),
            tags: vec![("team.name".into(), "x".into()), ("team:name".into(), "y".into())],
        };
        let exported = ["team.name".to_string(), "team:name".to_string(), "team:name".to_string()];
        let t = target(&metric, &spec(false, false, false), "Sum", "arn:x", Some(&resource), ctx(&[], &exported));
        assert!(t.labels.contains(&("dimension_Shop_Id".into(), "b".into())), "{:?}", t.labels);
        assert!(t.labels.contains(&("tag_team_name".into(), "y".into())), "{:?}", t.labels);
        let collision = |label: &str, lost: &str, kept: &str| LabelCollision {
            label: label.into(),
            kept: kept.into(),
            lost: lost.into(),
        };
        assert_eq!(
            t.label_collisions,
            [
                collision("dimension_Shop_Id", "Shop-Id", "Shop_Id"),
                collision("tag_team_name", "team.name", "team:name")
            ]
        );
        assert_eq!(
            t.label_collisions[0].to_string(),
            "dimension_Shop_Id from keys \"Shop-Id\" and \"Shop_Id\" (the value of \"Shop_Id\" kept)"
        );
        let plain = target(&metric, &spec(false, false, false), "Sum", "arn:x", None, ctx(&[], &[]));
        assert_eq!(plain.label_collisions.len(), 1, "the dimensions' collision only");
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
