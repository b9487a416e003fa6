//! What a job exports in one region and account: the metrics ListMetrics found (deduplicated),
//! kept or dropped by `dimensionNameRequirements`, and tied to the resources the tagging API
//! found, as YACE's associator does. Pure functions; the API calls are in `aws`.

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};

use crate::services::DimensionRegexp;
use crate::yace::SearchTag;

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

/// Keeps the resources whose tags match every search tag (key equal, value regex match).
pub fn filter_by_search_tags(resources: Vec<Resource>, search_tags: &[SearchTag]) -> Vec<Resource> {
    resources
        .into_iter()
        .filter(|r| search_tags.iter().all(|st| r.tag(&st.key).is_some_and(|v| st.value.is_match(v))))
        .collect()
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

/// Ties metrics to resources through the ARN regexps of the namespace.
pub struct Associator {
    regexps: Vec<DimensionRegexp>,
    /// (regexp index, its dimension values in order) → resource index.
    index: HashMap<(usize, Vec<String>), usize>,
    /// Without resources (or regexps) nothing can be tied and nothing is dropped, as in YACE.
    active: bool,
}

/// Where a metric goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Association {
    Resource(usize),
    /// No regexp applies to its dimensions: exported with `name="global"`.
    Global,
    /// It belongs to a resource that was not found or not selected by `searchTags`.
    Skip,
}

impl Associator {
    /// `filtered`: the resources were selected by `searchTags`, so a metric of a resource that
    /// was not selected is skipped even when none was selected at all.
    pub fn new(regexps: Vec<DimensionRegexp>, resources: &[Resource], filtered: bool) -> Self {
        let mut index = HashMap::new();
        for (ri, resource) in resources.iter().enumerate() {
            for (xi, rx) in regexps.iter().enumerate() {
                if let Some(caps) = rx.regex.captures(&resource.arn) {
                    let values: Vec<String> = rx
                        .regex
                        .capture_names()
                        .flatten()
                        .map(|n| caps.name(n).map_or(String::new(), |m| m.as_str().to_string()))
                        .collect();
                    index.entry((xi, values)).or_insert(ri);
                }
            }
        }
        let active = !regexps.is_empty() && (filtered || !resources.is_empty());
        Self { regexps, index, active }
    }

    pub fn associate(&self, metric: &MetricRef) -> Association {
        if !self.active {
            return Association::Global;
        }
        let dims: BTreeMap<&str, &str> = metric.dimensions.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        // The regexp covering the most of the metric's dimensions decides (YACE's "max dimension"
        // rule), so a per-service metric is not mistaken for a per-cluster one.
        let mut best: Option<(usize, usize)> = None;
        for (xi, rx) in self.regexps.iter().enumerate() {
            if rx.dimensions.iter().all(|d| dims.contains_key(d.as_str()))
                && best.is_none_or(|(_, n)| rx.dimensions.len() > n)
            {
                best = Some((xi, rx.dimensions.len()));
            }
        }
        let Some((xi, _)) = best else { return Association::Global };
        let values: Vec<String> = self.regexps[xi].dimensions.iter().map(|d| dims[d.as_str()].to_string()).collect();
        match self.index.get(&(xi, values)) {
            Some(ri) => Association::Resource(*ri),
            None => Association::Skip,
        }
    }
}

/// Puts a job's discovery together.
pub fn associate_all(
    regexps: Vec<DimensionRegexp>,
    resources: Vec<Resource>,
    metrics: Vec<MetricRef>,
    dimension_name_requirements: &[String],
    filtered: bool,
) -> Discovered {
    let associator = Associator::new(regexps, &resources, filtered);
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
        let d = associate_all(ec2.compiled_regexps(), resources, metrics.clone(), &[], false);
        assert_eq!(d.metrics.len(), 2, "{d:?}");
        assert_eq!(d.metrics[0].metric.dimensions, dims(&[("AutoScalingGroupName", "asg")]));
        assert_eq!(d.metrics[0].resource, None);
        assert_eq!(d.metrics[1].resource, Some(0));
        // searchTags selected no resource: nothing tied to an instance is exported.
        let d = associate_all(ec2.compiled_regexps(), vec![], metrics, &[], true);
        assert_eq!(d.metrics.len(), 1, "{d:?}");
        assert_eq!(d.metrics[0].resource, None);
    }

    #[test]
    fn the_most_specific_regexp_wins() {
        let ecs = by_namespace("AWS/ECS").unwrap();
        let resources = vec![
            Resource { arn: "arn:aws:ecs:us-east-1:1:cluster/c".into(), tags: vec![] },
            Resource { arn: "arn:aws:ecs:us-east-1:1:service/c/web".into(), tags: vec![] },
        ];
        let a = Associator::new(ecs.compiled_regexps(), &resources, false);
        let svc = MetricRef::new("AWS/ECS", "CPUUtilization", dims(&[("ClusterName", "c"), ("ServiceName", "web")]));
        assert_eq!(a.associate(&svc), Association::Resource(1));
        let cluster = MetricRef::new("AWS/ECS", "CPUUtilization", dims(&[("ClusterName", "c")]));
        assert_eq!(a.associate(&cluster), Association::Resource(0));
    }

    #[test]
    fn dimension_name_requirements_are_exact() {
        let m = MetricRef::new("N", "M", dims(&[("A", "1"), ("B", "2")]));
        assert!(dimensions_match(&m, &[]));
        assert!(dimensions_match(&m, &["B".into(), "A".into()]));
        assert!(!dimensions_match(&m, &["A".into()]));
    }
}
