//! What a job exports in one region and account: the metrics ListMetrics found (deduplicated),
//! kept or dropped by `dimensionNameRequirements`, and tied to the resources the tagging API
//! found, as YACE's associator does. Pure functions; the API calls are in `aws`.

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};

use crate::services::DimensionRegexp;

/// A CloudWatch metric: namespace, name and dimensions (sorted by name, then value).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct MetricRef {
    pub namespace: String,
    pub name: String,
    pub dimensions: Vec<(String, String)>,
}

impl MetricRef {
    pub fn new(namespace: &str, name: &str, mut dimensions: Vec<(String, String)>) -> Self {
        dimensions.sort();
        Self { namespace: namespace.into(), name: name.into(), dimensions }
    }
}

/// A tagged resource: its ARN and tags.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Resource {
    pub arn: String,
    pub tags: Vec<(String, String)>,
}

impl Resource {
    pub fn tag(&self, key: &str) -> Option<&str> {
        self.tags.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
    }
}

/// A discovered metric and the resource it belongs to (`None`: YACE's `name="global"`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Found {
    pub metric: MetricRef,
    pub resource: Option<usize>,
}

/// What discovery found for one job in one region and account.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Discovered {
    pub resources: Vec<Resource>,
    pub metrics: Vec<Found>,
}

/// Drops repeated ListMetrics entries (moto returns one per PutMetricData; AWS may too across pages).
pub fn dedupe(mut metrics: Vec<MetricRef>) -> Vec<MetricRef> {
    metrics.sort_unstable();
    metrics.dedup();
    metrics
}

/// YACE's `dimensionNameRequirements`: exactly these dimension names, no more, no fewer.
pub fn dimensions_match(metric: &MetricRef, required: &[String]) -> bool {
    required.is_empty()
        || (metric.dimensions.len() == required.len()
            && metric.dimensions.iter().all(|(name, _)| required.iter().any(|r| r == name)))
}

/// Ties metrics to resources through the ARN regexps of the namespace: YACE's `maxdimassociator`.
pub struct Associator {
    /// One per regexp that mapped at least one resource, most dimensions first (ties keep the
    /// service's order).
    mappings: Vec<Mapping>,
}

/// The resources one regexp mapped, by the dimension values it read out of their ARNs.
struct Mapping {
    dimensions: Vec<String>,
    /// (dimension name, value) sorted by name → resource index: YACE's label-set signature.
    resources: HashMap<Vec<(String, String)>, usize>,
}

/// Where a metric goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Association {
    Resource(usize),
    /// No dimensions, or no mapping covers its dimension names: exported with `name="global"`.
    Global,
    /// Some mapping covers its dimension names but none holds its values: its resource was not
    /// found (or not selected by `searchTags`).
    Skip,
}

/// YACE's per-namespace repair of a dimension value that differs from what the ARN holds;
/// `None` when the namespace and dimension have none.
fn fix_dimension(namespace: &str, name: &str, value: &str) -> Option<String> {
    match (namespace, name) {
        // Active/standby ActiveMQ brokers report `Broker=name-1`, `name-2`; the ARN holds `name`.
        ("AWS/AmazonMQ", "Broker") => {
            let stem = value.trim_end_matches(|c: char| c.is_ascii_digit());
            (stem.len() < value.len()).then_some(stem).and_then(|s| s.strip_suffix('-')).map(str::to_string)
        }
        // Inference component names may carry upper case; their ARNs are lower case.
        ("AWS/SageMaker", "InferenceComponentName") => Some(value.to_lowercase()),
        _ => None,
    }
}

/// YACE's label-set signature: (name, value) pairs sorted by name; a repeated name keeps its
/// last value, as a map does.
fn signature<'a>(pairs: impl Iterator<Item = (&'a str, String)>) -> Vec<(String, String)> {
    let by_name: BTreeMap<&str, String> = pairs.collect();
    by_name.into_iter().map(|(name, value)| (name.to_string(), value)).collect()
}

impl Associator {
    pub fn new(regexps: Vec<DimensionRegexp>, resources: &[Resource]) -> Self {
        // Each resource belongs to the first regexp (in the service's order) that matches its ARN.
        let mut mapped = vec![false; resources.len()];
        let mut mappings = Vec::new();
        for rx in regexps {
            let mut by_values = HashMap::new();
            for (ri, resource) in resources.iter().enumerate() {
                if mapped[ri] {
                    continue;
                }
                let Some(caps) = rx.regex.captures(&resource.arn) else { continue };
                // Group i is dimension i; a group that took no part reads as "" (Go's submatch).
                let values = rx.dimensions.iter().zip(caps.iter().skip(1));
                let key = signature(values.map(|(d, m)| (d.as_str(), m.map_or("", |m| m.as_str()).to_string())));
                // The same values read from two ARNs: the later resource wins, as in YACE's map.
                by_values.insert(key, ri);
                mapped[ri] = true;
            }
            // A regexp that matched no resource cannot make a metric skipped.
            if !by_values.is_empty() {
                mappings.push(Mapping { dimensions: rx.dimensions, resources: by_values });
            }
        }
        // Stable: among equally many dimensions the service's order decides.
        mappings.sort_by_key(|m| std::cmp::Reverse(m.dimensions.len()));
        Self { mappings }
    }

    pub fn associate(&self, metric: &MetricRef) -> Association {
        if metric.dimensions.is_empty() {
            return Association::Global;
        }
        let mut applied = false;
        // The mapping with the most dimensions that the metric has decides; when it holds none of
        // the metric's values, fewer dimensions are tried (a per-service ECS metric of an
        // untagged service goes to its tagged cluster).
        for mapping in &self.mappings {
            if !mapping.dimensions.iter().all(|d| metric.dimensions.iter().any(|(name, _)| name == d)) {
                continue;
            }
            applied = true;
            let values = |fixed: bool| {
                let covered = metric.dimensions.iter().filter(|(name, _)| mapping.dimensions.contains(name));
                signature(covered.map(|(name, value)| {
                    let fix = if fixed { fix_dimension(&metric.namespace, name, value) } else { None };
                    (name.as_str(), fix.unwrap_or_else(|| value.clone()))
                }))
            };
            // With the namespace's fixes first, then as reported (a broker may really be named `x-1`).
            let fixed = values(true);
            if let Some(ri) = mapping.resources.get(&fixed) {
                return Association::Resource(*ri);
            }
            let reported = values(false);
            if reported != fixed {
                if let Some(ri) = mapping.resources.get(&reported) {
                    return Association::Resource(*ri);
                }
            }
        }
        if applied {
            Association::Skip
        } else {
            Association::Global
        }
    }
}

/// Puts a job's discovery together. Without resources every metric is `global`, as in YACE's
/// associator; a namespace whose search tags selected nothing is stopped before this.
pub fn associate_all(
    regexps: Vec<DimensionRegexp>,
    resources: Vec<Resource>,
    metrics: Vec<MetricRef>,
    dimension_name_requirements: &[String],
) -> Discovered {
    let associator = Associator::new(regexps, &resources);
    let metrics = dedupe(metrics)
        .into_iter()
        .filter(|m| dimensions_match(m, dimension_name_requirements))
        .filter_map(|metric| match associator.associate(&metric) {
            Association::Resource(ri) => Some(Found { metric, resource: Some(ri) }),
            Association::Global => Some(Found { metric, resource: None }),
            Association::Skip => None,
        })
        .collect();
    Discovered { resources, metrics }
}

#[cfg(test)]
#[path = "discovery_yace_cases.rs"]
mod yace_cases;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::services::by_namespace;

    fn dims(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn metrics_are_tied_to_their_resource_or_global_or_skipped() {
        let ec2 = by_namespace("AWS/EC2").unwrap();
        let resources = vec![Resource {
            arn: "arn:aws:ec2:us-east-1:123456789012:instance/i-1".into(),
            tags: dims(&[("team", "core")]),
        }];
        let metrics = vec![
            MetricRef::new("AWS/EC2", "CPUUtilization", dims(&[("InstanceId", "i-1")])),
            MetricRef::new("AWS/EC2", "CPUUtilization", dims(&[("InstanceId", "i-1")])),
            MetricRef::new("AWS/EC2", "CPUUtilization", dims(&[("InstanceId", "i-2")])),
            MetricRef::new("AWS/EC2", "CPUUtilization", dims(&[("AutoScalingGroupName", "asg")])),
        ];
        let d = associate_all(ec2.compiled_regexps(), resources, metrics.clone(), &[]);
        assert_eq!(d.metrics.len(), 2, "{d:?}");
        assert_eq!(d.metrics[0].metric.dimensions, dims(&[("AutoScalingGroupName", "asg")]));
        assert_eq!(d.metrics[0].resource, None);
        assert_eq!(d.metrics[1].resource, Some(0));
        // No resources: no mapping, so nothing can be skipped and every metric is global (YACE's
        // associator; a job whose search tags selected nothing exports nothing, decided earlier).
        let d = associate_all(ec2.compiled_regexps(), vec![], metrics, &[]);
        assert_eq!(d.metrics.len(), 3, "{d:?}");
        assert!(d.metrics.iter().all(|f| f.resource.is_none()), "{d:?}");
    }

    #[test]
    fn the_most_specific_regexp_wins() {
        let ecs = by_namespace("AWS/ECS").unwrap();
        let resources = vec![
            Resource { arn: "arn:aws:ecs:us-east-1:1:cluster/c".into(), tags: vec![] },
            Resource { arn: "arn:aws:ecs:us-east-1:1:service/c/web".into(), tags: vec![] },
        ];
        let a = Associator::new(ecs.compiled_regexps(), &resources);
        let svc = MetricRef::new("AWS/ECS", "CPUUtilization", dims(&[("ClusterName", "c"), ("ServiceName", "web")]));
        assert_eq!(a.associate(&svc), Association::Resource(1));
        let cluster = MetricRef::new("AWS/ECS", "CPUUtilization", dims(&[("ClusterName", "c")]));
        assert_eq!(a.associate(&cluster), Association::Resource(0));
        // An untagged service: its metrics fall back to the cluster's mapping.
        let api = MetricRef::new("AWS/ECS", "CPUUtilization", dims(&[("ClusterName", "c"), ("ServiceName", "api")]));
        assert_eq!(a.associate(&api), Association::Resource(0));
        // A cluster that was not found: some mapping applied and none matched.
        let other = MetricRef::new("AWS/ECS", "CPUUtilization", dims(&[("ClusterName", "x"), ("ServiceName", "api")]));
        assert_eq!(a.associate(&other), Association::Skip);
    }

    #[test]
    fn a_regexp_that_mapped_no_resource_does_not_skip() {
        // Only services found: the cluster regexp has no mapping, so a per-cluster metric is global.
        let ecs = by_namespace("AWS/ECS").unwrap();
        let resources = vec![Resource { arn: "arn:aws:ecs:us-east-1:1:service/c/web".into(), tags: vec![] }];
        let a = Associator::new(ecs.compiled_regexps(), &resources);
        let cluster = MetricRef::new("AWS/ECS", "CPUUtilization", dims(&[("ClusterName", "c")]));
        assert_eq!(a.associate(&cluster), Association::Global);
        let no_dims = MetricRef::new("AWS/ECS", "CPUUtilization", vec![]);
        assert_eq!(a.associate(&no_dims), Association::Global);
    }

    #[test]
    fn each_resource_goes_to_the_first_regexp_that_matches_it() {
        // A table ARN also matches the keyspace regexp, but the table regexp comes first, so the
        // keyspace regexp maps nothing and a keyspace metric is global, not tied to the table.
        let cassandra = by_namespace("AWS/Cassandra").unwrap();
        let resources =
            vec![Resource { arn: "arn:aws:cassandra:us-east-1:1:/keyspace/k/table/t".into(), tags: vec![] }];
        let a = Associator::new(cassandra.compiled_regexps(), &resources);
        let table = MetricRef::new("AWS/Cassandra", "Reads", dims(&[("Keyspace", "k"), ("TableName", "t")]));
        assert_eq!(a.associate(&table), Association::Resource(0));
        let keyspace = MetricRef::new("AWS/Cassandra", "Reads", dims(&[("Keyspace", "k")]));
        assert_eq!(a.associate(&keyspace), Association::Global);
    }

    #[test]
    fn of_two_resources_with_the_same_values_the_later_wins() {
        let ecs = by_namespace("AWS/ECS").unwrap();
        let resources = vec![
            Resource { arn: "arn:aws:ecs:us-east-1:1:cluster/c".into(), tags: vec![] },
            Resource { arn: "arn:aws:ecs:eu-west-1:1:cluster/c".into(), tags: vec![] },
        ];
        let a = Associator::new(ecs.compiled_regexps(), &resources);
        let cluster = MetricRef::new("AWS/ECS", "CPUUtilization", dims(&[("ClusterName", "c")]));
        assert_eq!(a.associate(&cluster), Association::Resource(1));
    }

    #[test]
    fn dimension_fixes_are_tried_first_then_the_reported_value() {
        assert_eq!(fix_dimension("AWS/AmazonMQ", "Broker", "b-1").as_deref(), Some("b"));
        assert_eq!(fix_dimension("AWS/AmazonMQ", "Broker", "b-12").as_deref(), Some("b"));
        assert_eq!(fix_dimension("AWS/AmazonMQ", "Broker", "b1"), None);
        assert_eq!(fix_dimension("AWS/AmazonMQ", "Broker", "b-"), None);
        assert_eq!(fix_dimension("AWS/AmazonMQ", "Queue", "q-1"), None);
        assert_eq!(fix_dimension("AWS/SageMaker", "InferenceComponentName", "Ab").as_deref(), Some("ab"));
        assert_eq!(fix_dimension("AWS/SageMaker", "EndpointName", "Ab"), None);
    }

    #[test]
    fn dimension_name_requirements_are_exact() {
        let m = MetricRef::new("N", "M", dims(&[("A", "1"), ("B", "2")]));
        assert!(dimensions_match(&m, &[]));
        assert!(dimensions_match(&m, &["B".into(), "A".into()]));
        assert!(!dimensions_match(&m, &["A".into()]));
    }
}
