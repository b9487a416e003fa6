//! The keys of the discovery cache in the state: a SHA-256 digest of a canonical JSON of exactly
//! what a job's discovery depends on, in one region and role. The digest stays the same across
//! toolchains and releases, a change that does not alter discovery (a statistic, a period, the
//! job's place in the file) keeps the cached result, and a change that does gets a new key.
//! [`referenced_keys`] is the set the state keeps: an entry no job of the config uses is dropped.

use std::collections::HashSet;

use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::yace::{ExporterConfig, Job, JobKind, Role};

/// What a job's discovery depends on. Field order and names are part of the key: change them
/// and every cached entry is discovered afresh once.
#[derive(Serialize)]
struct DiscoveryInput<'a> {
    kind: &'static str,
    namespace: &'a str,
    /// Sorted, without repeats: discovery asks ListMetrics once per name.
    metric_names: Vec<&'a str>,
    /// (key, value regex), sorted: a resource must match every one, in any order.
    search_tags: Vec<(&'a str, &'a str)>,
    /// Sorted: the names must match as a set.
    dimension_name_requirements: Vec<&'a str>,
    recently_active_only: bool,
    static_dimensions: &'a [(String, String)],
    region: &'a str,
    /// The role's ARN names its account; empty is the function's own (each cached entry also
    /// records the account it was found in).
    role_arn: &'a str,
}

/// The cache key of `job`'s discovery in `region` with `role`: 64 hex digits.
pub fn discovery_key(job: &Job, region: &str, role: &Role) -> String {
    let mut metric_names: Vec<&str> = job.metrics.iter().map(|m| m.name.as_str()).collect();
    metric_names.sort_unstable();
    metric_names.dedup();
    let (kind, static_dimensions) = match &job.kind {
        JobKind::Discovery { .. } => ("discovery", &[][..]),
        JobKind::CustomNamespace { .. } => ("customNamespace", &[][..]),
        JobKind::Static { dimensions, .. } => ("static", &dimensions[..]),
    };
    let mut search_tags: Vec<(&str, &str)> = match &job.kind {
        JobKind::Discovery { search_tags, .. } => {
            search_tags.iter().map(|t| (t.key.as_str(), t.source.as_str())).collect()
        }
        _ => vec![],
    };
    search_tags.sort_unstable();
    let mut dimension_name_requirements: Vec<&str> =
        job.dimension_name_requirements.iter().map(String::as_str).collect();
    dimension_name_requirements.sort_unstable();
    let input = DiscoveryInput {
        kind,
        namespace: &job.namespace,
        metric_names,
        search_tags,
        dimension_name_requirements,
        recently_active_only: job.recently_active_only,
        static_dimensions,
        region,
        role_arn: &role.role_arn,
    };
    let canonical = serde_json::to_vec(&input).expect("plain strings and bools serialize");
    Sha256::digest(&canonical).iter().map(|b| format!("{b:02x}")).collect()
}

/// Whether a job's discovery is cached at all: a static job's costs no request.
pub fn is_cached(job: &Job) -> bool {
    !matches!(job.kind, JobKind::Static { .. })
}

/// Every key the config's jobs use, whether or not their scope could be reached this run.
pub fn referenced_keys(config: &ExporterConfig) -> HashSet<String> {
    let mut keys = HashSet::new();
    for job in config.jobs.iter().filter(|j| is_cached(j)) {
        for region in &job.regions {
            for role in &job.roles {
                keys.insert(discovery_key(job, region, role));
            }
        }
    }
    keys
}

#[cfg(test)]
mod tests {
    use super::*;

    const JOB: &str = r#"
discovery:
  exportedTagsOnMetrics:
    AWS/EC2: [Name]
  jobs:
    - type: AWS/EC2
      regions: [us-east-1]
      roles:
        - roleArn: arn:aws:iam::111111111111:role/exporter
      searchTags:
        - key: team
          value: ^core$
      dimensionNameRequirements: [InstanceId]
      period: 60
      metrics:
        - name: CPUUtilization
          statistics: [Average]
        - name: NetworkIn
          statistics: [Sum]
"#;

    fn key_of(yaml: &str) -> String {
        let config = ExporterConfig::from_yaml(yaml).unwrap();
        let job = &config.jobs[0];
        discovery_key(job, &job.regions[0], &job.roles[0])
    }

    #[test]
    fn the_key_of_a_fixed_job_is_pinned() {
        // A change here means every deployed cache entry is discovered afresh once (and the old
        // ones pruned): make it on purpose, never as a side effect. The digest is SHA-256 of
        // {"kind":"discovery","namespace":"AWS/EC2","metric_names":["CPUUtilization","NetworkIn"],
        // "search_tags":[["team","^core$"]],"dimension_name_requirements":["InstanceId"],
        // "recently_active_only":false,"static_dimensions":[],"region":"us-east-1",
        // "role_arn":"arn:aws:iam::111111111111:role/exporter"} (no whitespace).
        assert_eq!(key_of(JOB), "d7d3165669c0a3fe4de981e0a9cb91dcd228c38c461cc1a86a0aced960fa3473");
    }

    #[test]
    fn changes_that_do_not_alter_discovery_keep_the_key() {
        let key = key_of(JOB);
        for (what, edited) in [
            ("a statistic", JOB.replace("statistics: [Sum]", "statistics: [Sum, Maximum]")),
            ("a period", JOB.replace("period: 60", "period: 300")),
            (
                "the metrics' order",
                JOB.replace("CPUUtilization", "TMP").replace("NetworkIn", "CPUUtilization").replace("TMP", "NetworkIn"),
            ),
            ("exported tags", JOB.replace("[Name]", "[Name, team]")),
            (
                "another job before it",
                JOB.replace(
                    "  jobs:\n",
                    "  jobs:\n    - {type: AWS/EC2, regions: [eu-west-1], metrics: [{name: X, statistics: [Sum]}]}\n",
                ),
            ),
        ] {
            let config = ExporterConfig::from_yaml(&edited).unwrap();
            let job = config.jobs.iter().find(|j| j.regions == ["us-east-1"]).unwrap();
            assert_eq!(discovery_key(job, "us-east-1", &job.roles[0]), key, "{what} changed the key");
        }
    }

    #[test]
    fn changes_that_alter_discovery_change_the_key() {
        let key = key_of(JOB);
        for (what, edited) in [
            ("a metric name", JOB.replace("NetworkIn", "NetworkOut")),
            ("a search tag", JOB.replace("^core$", "^edge$")),
            ("the dimension requirements", JOB.replace("[InstanceId]", "[InstanceId, ImageId]")),
            (
                "recentlyActiveOnly",
                JOB.replace("      period: 60\n", "      period: 60\n      recentlyActiveOnly: true\n"),
            ),
            ("the region", JOB.replace("[us-east-1]", "[eu-west-1]")),
            ("the role", JOB.replace("111111111111", "222222222222")),
        ] {
            assert_ne!(key_of(&edited), key, "{what} kept the key");
        }
    }

    #[test]
    fn only_the_configs_cached_jobs_are_referenced() {
        let config = ExporterConfig::from_yaml(&format!(
            "{JOB}static:\n  - {{name: b, namespace: AWS/S3, regions: [us-east-1], metrics: [{{name: BucketSizeBytes, statistics: [Average]}}]}}\n"
        ))
        .unwrap();
        assert_eq!(referenced_keys(&config), HashSet::from([key_of(JOB)]));
    }
}
