//! The YACE config file (`apiVersion: v1alpha1`): parsing, defaults and validation.
//!
//! Field names and defaults follow YACE so a user's file works unchanged. A field this exporter
//! does not support, a wrong type or an unknown namespace is an error naming the field's path
//! (`discovery.jobs[0].metrics[1].period`) and, for syntax and type errors, line and column:
//! never silently ignored.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::services::{self, Service};

/// YACE's defaults (`model.DefaultPeriodSeconds`, `model.DefaultLengthSeconds`).
pub const DEFAULT_PERIOD: i64 = 300;
pub const DEFAULT_LENGTH: i64 = 300;

/// Why a config cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{location}: {message}")]
pub struct ConfigError {
    /// Where: a path in the document (`discovery.jobs[0].type`), with line/column when known.
    pub location: String,
    pub message: String,
}

impl ConfigError {
    fn at(location: impl Into<String>, message: impl Into<String>) -> Self {
        Self { location: location.into(), message: message.into() }
    }
}

// ---- the file as written -------------------------------------------------------------------

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawConfig {
    #[serde(rename = "apiVersion")]
    pub api_version: Option<String>,
    #[serde(rename = "sts-region")]
    pub sts_region: Option<String>,
    #[serde(default)]
    pub discovery: RawDiscovery,
    #[serde(default, rename = "static")]
    pub static_jobs: Vec<RawStaticJob>,
    #[serde(default, rename = "customNamespace")]
    pub custom_namespace: Vec<RawCustomNamespaceJob>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct RawDiscovery {
    #[serde(default)]
    pub exported_tags_on_metrics: BTreeMap<String, Vec<String>>,
    #[serde(default)]
    pub jobs: Vec<RawDiscoveryJob>,
}

#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Role {
    #[serde(default)]
    pub role_arn: String,
    #[serde(default)]
    pub external_id: String,
}

#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Tag {
    pub key: String,
    pub value: String,
}

#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Dimension {
    pub name: String,
    pub value: String,
}

/// YACE's job-level metric fields (`JobLevelMetricFields`): set on a metric, or on its job as
/// the default of the job's metrics. One list, added to each struct that carries them: serde's
/// `flatten` cannot be used for this, as it turns off `deny_unknown_fields` and loses the path
/// and line of a field's type error.
///
/// A job also gets `metric_defaults`, its fields as a nameless [`RawMetric`] that its metrics
/// inherit from.
macro_rules! with_metric_fields {
    (@fields [$($meta:tt)*] $name:ident { $($body:tt)* } [$($defaults:tt)*]) => {
        with_metric_fields! { @emit [$($meta)*] $name { $($body)* } [$($defaults)*]
            #[serde(default)]
            statistics: Vec<String>,
            period: Option<i64>,
            length: Option<i64>,
            delay: Option<i64>,
            nil_to_zero: Option<bool>,
            add_cloudwatch_timestamp: Option<bool>,
            export_all_data_points: Option<bool>,
        }
    };
    (@emit [$($meta:tt)*] $name:ident { $($body:tt)* } [$($defaults:tt)*] $($(#[$fmeta:meta])* $field:ident: $ty:ty,)*) => {
        $($meta)*
        pub struct $name {
            $($body)*
            $($(#[$fmeta])* pub $field: $ty,)*
        }
        with_metric_fields! { @defaults $name [$($defaults)*] $($field)* }
    };
    (@defaults $name:ident [] $($field:ident)*) => {};
    (@defaults $name:ident [job] $($field:ident)*) => {
        impl $name {
            /// The job-level metric fields: what the job's metrics inherit where unset.
            fn metric_defaults(&self) -> RawMetric {
                RawMetric { name: String::new(), $($field: self.$field.clone(),)* }
            }
        }
    };
    ($(#[$meta:meta])* pub struct $name:ident { $($body:tt)* }) => {
        with_metric_fields! { @fields [$(#[$meta])*] $name { $($body)* } [] }
    };
    (job: $(#[$meta:meta])* pub struct $name:ident { $($body:tt)* }) => {
        with_metric_fields! { @fields [$(#[$meta])*] $name { $($body)* } [job] }
    };
}

with_metric_fields! { job:
    #[derive(Debug, Clone, Default, Deserialize)]
    #[serde(deny_unknown_fields, rename_all = "camelCase")]
    pub struct RawDiscoveryJob {
        #[serde(rename = "type", default)]
        pub namespace: String,
        #[serde(default)]
        pub regions: Vec<String>,
        #[serde(default)]
        pub roles: Vec<Role>,
        #[serde(default)]
        pub search_tags: Vec<Tag>,
        #[serde(default)]
        pub custom_tags: Vec<Tag>,
        #[serde(default)]
        pub dimension_name_requirements: Vec<String>,
        #[serde(default)]
        pub recently_active_only: bool,
        #[serde(default)]
        pub metrics: Vec<RawMetric>,
        /// Deprecated in YACE (a warning) and unused there; accepted so YACE's configs load.
        pub rounding_period: Option<i64>,
        #[serde(default)]
        pub include_context_on_info_metrics: bool,
        #[serde(default)]
        pub enhanced_metrics: Vec<RawEnhancedMetric>,
    }
}

/// `enhancedMetrics[]`: a value read from the service's own API, not from CloudWatch.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawEnhancedMetric {
    #[serde(default)]
    pub name: String,
}

with_metric_fields! { job:
    #[derive(Debug, Clone, Default, Deserialize)]
    #[serde(deny_unknown_fields, rename_all = "camelCase")]
    pub struct RawCustomNamespaceJob {
        #[serde(default)]
        pub name: String,
        #[serde(default)]
        pub namespace: String,
        #[serde(default)]
        pub regions: Vec<String>,
        #[serde(default)]
        pub roles: Vec<Role>,
        #[serde(default)]
        pub custom_tags: Vec<Tag>,
        #[serde(default)]
        pub dimension_name_requirements: Vec<String>,
        #[serde(default)]
        pub recently_active_only: bool,
        #[serde(default)]
        pub metrics: Vec<RawMetric>,
        /// Deprecated in YACE (a warning) and unused there; accepted so YACE's configs load.
        pub rounding_period: Option<i64>,
    }
}

/// A static job has no job-level metric fields in YACE: each metric sets its own.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct RawStaticJob {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub namespace: String,
    #[serde(default)]
    pub regions: Vec<String>,
    #[serde(default)]
    pub roles: Vec<Role>,
    #[serde(default)]
    pub custom_tags: Vec<Tag>,
    #[serde(default)]
    pub dimensions: Vec<Dimension>,
    #[serde(default)]
    pub metrics: Vec<RawMetric>,
}

with_metric_fields! {
    #[derive(Debug, Clone, Default, Deserialize)]
    #[serde(deny_unknown_fields, rename_all = "camelCase")]
    pub struct RawMetric {
        #[serde(default)]
        pub name: String,
    }
}

// ---- the validated model the exporter runs ---------------------------------------------------

/// A metric with every default applied.
#[derive(Debug, Clone, PartialEq)]
pub struct MetricSpec {
    pub name: String,
    pub statistics: Vec<String>,
    pub period: i64,
    pub length: i64,
    pub delay: i64,
    pub nil_to_zero: bool,
    pub add_cloudwatch_timestamp: bool,
    pub export_all_data_points: bool,
}

/// What kind of job, with what only that kind has.
#[derive(Debug, Clone, PartialEq)]
pub enum JobKind {
    /// Resources found through the tagging API, metrics through ListMetrics.
    Discovery { service: &'static Service, search_tags: Vec<SearchTag>, exported_tags: Vec<String> },
    /// ListMetrics in a namespace without resources.
    CustomNamespace { name: String },
    /// Fixed dimensions, no discovery at all.
    Static { name: String, dimensions: Vec<(String, String)> },
}

/// A search tag: the key, and a regex the value must match somewhere (unanchored, as in YACE:
/// `core` matches `score`; write `^core$` for the whole value).
#[derive(Debug, Clone)]
pub struct SearchTag {
    pub key: String,
    pub value: regex_lite::Regex,
    pub source: String,
}

impl PartialEq for SearchTag {
    fn eq(&self, other: &Self) -> bool {
        self.key == other.key && self.source == other.source
    }
}

/// A validated job.
#[derive(Debug, Clone, PartialEq)]
pub struct Job {
    /// Where it is in the file (`discovery.jobs[0]`), for logs and failure reports.
    pub location: String,
    pub namespace: String,
    pub regions: Vec<String>,
    /// At least one; an empty role means the function's own credentials.
    pub roles: Vec<Role>,
    pub custom_tags: Vec<(String, String)>,
    pub dimension_name_requirements: Vec<String>,
    pub recently_active_only: bool,
    pub metrics: Vec<MetricSpec>,
    /// YACE's `includeContextOnInfoMetrics`: `region`, `account_id`, `account_alias` and
    /// `custom_tag_*` on the `_info` series too.
    pub include_context_on_info_metrics: bool,
    /// YACE's `enhancedMetrics` names (discovery jobs only; empty elsewhere).
    pub enhanced_metrics: Vec<String>,
    pub kind: JobKind,
}

/// A validated config.
#[derive(Debug, Clone, PartialEq)]
pub struct ExporterConfig {
    pub sts_region: Option<String>,
    pub jobs: Vec<Job>,
}

impl ExporterConfig {
    /// Parses and validates a YACE config file's text.
    pub fn from_yaml(text: &str) -> Result<Self, ConfigError> {
        let raw = parse(text)?;
        validate(raw)
    }

    /// Whether any metric keeps CloudWatch's timestamps (which needs the state bucket).
    pub fn uses_cloudwatch_timestamps(&self) -> bool {
        self.jobs.iter().flat_map(|j| &j.metrics).any(|m| m.add_cloudwatch_timestamp)
    }
}

fn parse(text: &str) -> Result<RawConfig, ConfigError> {
    serde_norway::from_str(text).map_err(|e| {
        // serde_norway writes `PATH: MESSAGE at line L column C`; the path is where the error is.
        let full = e.to_string();
        match full.split_once(": ") {
            Some((path, message)) if !path.is_empty() && !path.contains(' ') && !path.contains('`') => {
                ConfigError::at(path, message)
            }
            _ => ConfigError::at("config", full),
        }
    })
}

/// `pNN`/`pNN.NN`/`p100`, as YACE's `Percentile` pattern.
pub fn is_percentile(stat: &str) -> bool {
    let Some(rest) = stat.strip_prefix('p') else { return false };
    if rest == "100" {
        return true;
    }
    let (int, frac) = match rest.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (rest, None),
    };
    let int_ok = (1..=2).contains(&int.len()) && int.bytes().all(|b| b.is_ascii_digit());
    let frac_ok = frac.is_none_or(|f| f.len() <= 2 && f.bytes().all(|b| b.is_ascii_digit()));
    int_ok && frac_ok
}

const BASIC_STATISTICS: [&str; 5] = ["Average", "Sum", "Minimum", "Maximum", "SampleCount"];

fn validate(raw: RawConfig) -> Result<ExporterConfig, ConfigError> {
    if let Some(v) = &raw.api_version {
        if v != "v1alpha1" {
            return Err(ConfigError::at(
                "apiVersion",
                format!("unknown apiVersion {v:?} (this exporter reads v1alpha1)"),
            ));
        }
    }
    if raw.discovery.jobs.is_empty() && raw.static_jobs.is_empty() && raw.custom_namespace.is_empty() {
        return Err(ConfigError::at(
            "config",
            "no jobs: define at least one of discovery.jobs, static or customNamespace",
        ));
    }
    let mut jobs = Vec::new();

    for ns in raw.discovery.exported_tags_on_metrics.keys() {
        let at = format!("discovery.exportedTagsOnMetrics.{ns}");
        let service = lookup_service(ns, &at)?;
        if !raw.discovery.jobs.iter().any(|j| j.namespace == service.namespace) {
            return Err(ConfigError::at(at, format!("{ns:?} does not match the type of any discovery job")));
        }
    }

    for (i, job) in raw.discovery.jobs.into_iter().enumerate() {
        let at = format!("discovery.jobs[{i}]");
        if job.namespace.is_empty() {
            return Err(ConfigError::at(format!("{at}.type"), "missing: name a namespace such as AWS/EC2"));
        }
        let service = lookup_service(&job.namespace, &format!("{at}.type"))?;
        let mut search_tags = Vec::new();
        for (t, tag) in job.search_tags.iter().enumerate() {
            // YACE matches search tag values with an unanchored regex.
            let value = regex_lite::Regex::new(&tag.value).map_err(|e| {
                ConfigError::at(format!("{at}.searchTags[{t}].value"), format!("invalid regex {:?}: {e}", tag.value))
            })?;
            search_tags.push(SearchTag { key: tag.key.clone(), value, source: tag.value.clone() });
        }
        let defaults = job.metric_defaults();
        let exported_tags = raw.discovery.exported_tags_on_metrics.get(service.namespace).cloned().unwrap_or_default();
        jobs.push(Job {
            namespace: service.namespace.to_string(),
            regions: check_regions(job.regions, &at)?,
            roles: check_roles(job.roles, &at)?,
            custom_tags: tags(job.custom_tags),
            dimension_name_requirements: job.dimension_name_requirements,
            recently_active_only: job.recently_active_only,
            metrics: check_metrics(job.metrics, &defaults, &at)?,
            include_context_on_info_metrics: job.include_context_on_info_metrics,
            enhanced_metrics: job.enhanced_metrics.into_iter().map(|m| m.name).collect(),
            kind: JobKind::Discovery { service, search_tags, exported_tags },
            location: at,
        });
    }

    for (i, job) in raw.custom_namespace.into_iter().enumerate() {
        let at = format!("customNamespace[{i}]");
        if job.name.is_empty() {
            return Err(ConfigError::at(format!("{at}.name"), "missing"));
        }
        if job.namespace.is_empty() {
            return Err(ConfigError::at(format!("{at}.namespace"), "missing"));
        }
        let defaults = job.metric_defaults();
        jobs.push(Job {
            namespace: job.namespace,
            regions: check_regions(job.regions, &at)?,
            roles: check_roles(job.roles, &at)?,
            custom_tags: tags(job.custom_tags),
            dimension_name_requirements: job.dimension_name_requirements,
            recently_active_only: job.recently_active_only,
            metrics: check_metrics(job.metrics, &defaults, &at)?,
            include_context_on_info_metrics: false,
            enhanced_metrics: Vec::new(),
            kind: JobKind::CustomNamespace { name: job.name },
            location: at,
        });
    }

    for (i, job) in raw.static_jobs.into_iter().enumerate() {
        let at = format!("static[{i}]");
        if job.name.is_empty() {
            return Err(ConfigError::at(format!("{at}.name"), "missing"));
        }
        if job.namespace.is_empty() {
            return Err(ConfigError::at(format!("{at}.namespace"), "missing"));
        }
        let mut dimensions: Vec<(String, String)> = job.dimensions.into_iter().map(|d| (d.name, d.value)).collect();
        dimensions.sort();
        jobs.push(Job {
            namespace: job.namespace,
            regions: check_regions(job.regions, &at)?,
            roles: check_roles(job.roles, &at)?,
            custom_tags: tags(job.custom_tags),
            dimension_name_requirements: Vec::new(),
            recently_active_only: false,
            metrics: check_metrics(job.metrics, &RawMetric::default(), &at)?,
            include_context_on_info_metrics: false,
            enhanced_metrics: Vec::new(),
            kind: JobKind::Static { name: job.name, dimensions },
            location: at,
        });
    }

    Ok(ExporterConfig { sts_region: raw.sts_region, jobs })
}

fn lookup_service(namespace: &str, at: &str) -> Result<&'static Service, ConfigError> {
    if let Some(s) = services::by_namespace(namespace) {
        return Ok(s);
    }
    let message = match services::by_alias(namespace) {
        Some(s) => format!("{namespace:?} is an alias: use the namespace {:?}", s.namespace),
        None => format!(
            "unknown namespace {namespace:?} (discovery supports YACE's list, e.g. AWS/EC2; use customNamespace for your own)"
        ),
    };
    Err(ConfigError::at(at, message))
}

fn check_regions(regions: Vec<String>, at: &str) -> Result<Vec<String>, ConfigError> {
    if regions.is_empty() {
        return Err(ConfigError::at(format!("{at}.regions"), "must name at least one region"));
    }
    Ok(regions)
}

fn check_roles(roles: Vec<Role>, at: &str) -> Result<Vec<Role>, ConfigError> {
    for (r, role) in roles.iter().enumerate() {
        if role.role_arn.is_empty() && !role.external_id.is_empty() {
            return Err(ConfigError::at(format!("{at}.roles[{r}].roleArn"), "missing (externalId needs a roleArn)"));
        }
    }
    // As YACE: no roles means the function's own credentials.
    Ok(if roles.is_empty() { vec![Role::default()] } else { roles })
}

fn tags(tags: Vec<Tag>) -> Vec<(String, String)> {
    tags.into_iter().map(|t| (t.key, t.value)).collect()
}

/// The job's metrics with `defaults` (the job-level fields) and then YACE's defaults applied.
fn check_metrics(metrics: Vec<RawMetric>, d: &RawMetric, at: &str) -> Result<Vec<MetricSpec>, ConfigError> {
    if metrics.is_empty() {
        return Err(ConfigError::at(format!("{at}.metrics"), "must list at least one metric"));
    }
    let mut out = Vec::with_capacity(metrics.len());
    for (i, m) in metrics.into_iter().enumerate() {
        let at = format!("{at}.metrics[{i}]");
        if m.name.is_empty() {
            return Err(ConfigError::at(format!("{at}.name"), "missing"));
        }
        let statistics = if m.statistics.is_empty() { d.statistics.clone() } else { m.statistics };
        if statistics.is_empty() {
            return Err(ConfigError::at(format!("{at}.statistics"), "must not be empty (set it here or on the job)"));
        }
        for (s, stat) in statistics.iter().enumerate() {
            if !BASIC_STATISTICS.contains(&stat.as_str()) && !is_percentile(stat) {
                return Err(ConfigError::at(
                    format!("{at}.statistics[{s}]"),
                    format!("unknown statistic {stat:?} (one of Average, Sum, Minimum, Maximum, SampleCount, pNN)"),
                ));
            }
        }
        let period = m.period.or(d.period).unwrap_or(DEFAULT_PERIOD);
        if period < 1 {
            return Err(ConfigError::at(
                format!("{at}.period"),
                format!("must be a positive number of seconds, not {period}"),
            ));
        }
        let length = m.length.or(d.length).unwrap_or(DEFAULT_LENGTH);
        if length < period {
            return Err(ConfigError::at(
                format!("{at}.length"),
                format!("length ({length}) is smaller than period ({period}): the data asked for would not be ready"),
            ));
        }
        let delay = m.delay.or(d.delay).unwrap_or(0);
        if delay < 0 {
            return Err(ConfigError::at(format!("{at}.delay"), "must not be negative"));
        }
        let add_cloudwatch_timestamp = m.add_cloudwatch_timestamp.or(d.add_cloudwatch_timestamp).unwrap_or(false);
        let export_all_data_points = m.export_all_data_points.or(d.export_all_data_points).unwrap_or(false);
        if export_all_data_points && !add_cloudwatch_timestamp {
            return Err(ConfigError::at(format!("{at}.exportAllDataPoints"), "needs addCloudwatchTimestamp: true"));
        }
        out.push(MetricSpec {
            name: m.name,
            statistics,
            period,
            length,
            delay,
            nil_to_zero: m.nil_to_zero.or(d.nil_to_zero).unwrap_or(false),
            add_cloudwatch_timestamp,
            export_all_data_points,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const FULL: &str = r#"
apiVersion: v1alpha1
sts-region: us-east-1
discovery:
  exportedTagsOnMetrics:
    AWS/EC2: [Name, team]
  jobs:
    - type: AWS/EC2
      regions: [us-east-1, eu-west-1]
      roles:
        - roleArn: arn:aws:iam::111111111111:role/exporter
          externalId: abc
      searchTags:
        - key: team
          value: ^(core|edge)$
      customTags:
        - key: env
          value: prod
      dimensionNameRequirements: [InstanceId]
      recentlyActiveOnly: true
      statistics: [Average]
      period: 60
      length: 300
      delay: 120
      nilToZero: true
      metrics:
        - name: CPUUtilization
          statistics: [Maximum, p99]
        - name: NetworkIn
          period: 300
          addCloudwatchTimestamp: true
          exportAllDataPoints: true
customNamespace:
  - name: app
    namespace: MyApp
    regions: [us-east-1]
    statistics: [Sum]
    metrics:
      - name: Orders
static:
  - name: bucket
    namespace: AWS/S3
    regions: [us-east-1]
    dimensions:
      - name: BucketName
        value: logs
      - name: StorageType
        value: StandardStorage
    metrics:
      - name: BucketSizeBytes
        statistics: [Average]
        period: 86400
        length: 172800
"#;

    #[test]
    fn reads_every_supported_field_with_yace_defaults_and_overrides() {
        let c = ExporterConfig::from_yaml(FULL).unwrap();
        assert_eq!(c.jobs.len(), 3);
        let ec2 = &c.jobs[0];
        assert_eq!(ec2.namespace, "AWS/EC2");
        assert_eq!(ec2.regions, ["us-east-1", "eu-west-1"]);
        assert_eq!(ec2.roles[0].role_arn, "arn:aws:iam::111111111111:role/exporter");
        assert_eq!(ec2.roles[0].external_id, "abc");
        assert!(ec2.recently_active_only);
        let cpu = &ec2.metrics[0];
        assert_eq!(cpu.statistics, ["Maximum", "p99"]);
        assert_eq!((cpu.period, cpu.length, cpu.delay), (60, 300, 120));
        assert!(cpu.nil_to_zero && !cpu.add_cloudwatch_timestamp);
        let net = &ec2.metrics[1];
        assert_eq!(net.statistics, ["Average"], "inherits the job's statistics");
        assert_eq!(net.period, 300);
        assert!(net.add_cloudwatch_timestamp && net.export_all_data_points);
        match &ec2.kind {
            JobKind::Discovery { exported_tags, search_tags, .. } => {
                assert_eq!(exported_tags, &["Name", "team"]);
                assert!(search_tags[0].value.is_match("core"));
                assert!(!search_tags[0].value.is_match("other"));
            }
            other => panic!("{other:?}"),
        }
        let custom = &c.jobs[1];
        assert_eq!(custom.metrics[0].statistics, ["Sum"]);
        assert_eq!((custom.metrics[0].period, custom.metrics[0].length), (DEFAULT_PERIOD, DEFAULT_LENGTH));
        assert_eq!(custom.roles, vec![Role::default()], "no roles = own credentials");
        match &c.jobs[2].kind {
            JobKind::Static { name, dimensions } => {
                assert_eq!(name, "bucket");
                assert_eq!(dimensions[0], ("BucketName".to_string(), "logs".to_string()));
            }
            other => panic!("{other:?}"),
        }
        assert!(c.uses_cloudwatch_timestamps());
    }

    fn err(yaml: &str) -> ConfigError {
        ExporterConfig::from_yaml(yaml).expect_err("config should be refused")
    }

    #[test]
    fn unknown_field_is_named_with_its_path() {
        let e = err("discovery:\n  jobs:\n    - type: AWS/EC2\n      regions: [us-east-1]\n      metrics:\n        - name: CPUUtilization\n          statistics: [Average]\n          statistic: Sum\n");
        assert_eq!(e.location, "discovery.jobs[0].metrics[0]");
        assert!(e.message.contains("unknown field `statistic`"), "{e}");
        assert!(e.message.contains("line 8"), "{e}");
    }

    #[test]
    fn unsupported_yace_field_is_refused_not_ignored() {
        let e = err("discovery:\n  jobs:\n    - type: AWS/EC2\n      regions: [us-east-1]\n      awsDimensions: [InstanceId]\n      metrics: [{name: CPUUtilization, statistics: [Average]}]\n");
        assert_eq!(e.location, "discovery.jobs[0]");
        assert!(e.message.contains("awsDimensions"), "{e}");
    }

    #[test]
    fn wrong_type_is_named_with_its_path() {
        let e = err("discovery:\n  jobs:\n    - type: AWS/EC2\n      regions: [us-east-1]\n      period: five\n      metrics: [{name: CPUUtilization, statistics: [Average]}]\n");
        assert_eq!(e.location, "discovery.jobs[0].period");
        assert!(e.message.contains("invalid type"), "{e}");
    }

    #[test]
    fn unknown_namespace_and_alias_are_refused() {
        let e = err("discovery:\n  jobs:\n    - type: AWS/Nope\n      regions: [us-east-1]\n      metrics: [{name: X, statistics: [Average]}]\n");
        assert_eq!(e.location, "discovery.jobs[0].type");
        assert!(e.message.contains("unknown namespace \"AWS/Nope\""), "{e}");
        let e = err("discovery:\n  jobs:\n    - type: ec2\n      regions: [us-east-1]\n      metrics: [{name: X, statistics: [Average]}]\n");
        assert!(e.message.contains("use the namespace \"AWS/EC2\""), "{e}");
    }

    #[test]
    fn semantic_errors_name_the_field() {
        let base = |extra: &str| {
            format!("discovery:\n  jobs:\n    - type: AWS/EC2\n      regions: [us-east-1]\n      metrics:\n        - name: CPUUtilization\n{extra}")
        };
        let e = err(&base("          statistics: [Median]\n"));
        assert_eq!(e.location, "discovery.jobs[0].metrics[0].statistics[0]");
        let e = err(&base("          statistics: [Average]\n          period: 300\n          length: 60\n"));
        assert_eq!(e.location, "discovery.jobs[0].metrics[0].length");
        let e = err(&base("          statistics: [Average]\n          exportAllDataPoints: true\n"));
        assert_eq!(e.location, "discovery.jobs[0].metrics[0].exportAllDataPoints");
        let e = err(&base(""));
        assert_eq!(e.location, "discovery.jobs[0].metrics[0].statistics");
        let e = err("apiVersion: v2\nstatic: [{name: a, namespace: N, regions: [r], metrics: [{name: m, statistics: [Sum]}]}]\n");
        assert_eq!(e.location, "apiVersion");
        let e = err("apiVersion: v1alpha1\n");
        assert!(e.message.contains("no jobs"));
        let e = err("discovery:\n  exportedTagsOnMetrics:\n    AWS/S3: [team]\n  jobs:\n    - type: AWS/EC2\n      regions: [us-east-1]\n      metrics: [{name: X, statistics: [Sum]}]\n");
        assert_eq!(e.location, "discovery.exportedTagsOnMetrics.AWS/S3");
        let e = err("discovery:\n  jobs:\n    - type: AWS/EC2\n      regions: [us-east-1]\n      searchTags: [{key: a, value: '('}]\n      metrics: [{name: X, statistics: [Sum]}]\n");
        assert_eq!(e.location, "discovery.jobs[0].searchTags[0].value");
    }

    #[test]
    fn search_tag_values_are_unanchored_regexes_as_in_yace() {
        let c = ExporterConfig::from_yaml("discovery:\n  jobs:\n    - type: AWS/EC2\n      regions: [us-east-1]\n      searchTags: [{key: team, value: core}, {key: env, value: ^prod$}]\n      metrics: [{name: X, statistics: [Sum]}]\n").unwrap();
        let JobKind::Discovery { search_tags, .. } = &c.jobs[0].kind else { panic!("{:?}", c.jobs[0].kind) };
        assert!(search_tags[0].value.is_match("score"), "a match anywhere in the value");
        assert!(search_tags[1].value.is_match("prod") && !search_tags[1].value.is_match("preprod"));
    }

    #[test]
    fn a_metric_inherits_each_job_level_field_it_does_not_set() {
        for (job_field, metric_field, expect) in [
            ("statistics: [Sum]", "statistics: [Maximum]", "statistics"),
            ("period: 60", "period: 120", "period"),
            ("length: 600", "length: 900", "length"),
            ("delay: 30", "delay: 45", "delay"),
            ("nilToZero: true", "nilToZero: false", "nilToZero"),
            ("addCloudwatchTimestamp: true", "addCloudwatchTimestamp: false", "addCloudwatchTimestamp"),
        ] {
            for kind in
                ["discovery:\n  jobs:\n    - type: AWS/EC2\n", "customNamespace:\n    - name: c\n      namespace: N\n"]
            {
                let stats = if expect == "statistics" { "" } else { "      statistics: [Average]\n" };
                let yaml = format!(
                    "{kind}      regions: [r]\n{stats}      {job_field}\n      metrics:\n        - name: inherits\n        - name: overrides\n          {metric_field}\n"
                );
                let c = ExporterConfig::from_yaml(&yaml).unwrap_or_else(|e| panic!("{yaml}: {e}"));
                let [inherits, overrides] = &c.jobs[0].metrics[..] else { panic!("{:?}", c.jobs[0].metrics) };
                let value = |m: &MetricSpec| match expect {
                    "statistics" => m.statistics.join(","),
                    "period" => m.period.to_string(),
                    "length" => m.length.to_string(),
                    "delay" => m.delay.to_string(),
                    "nilToZero" => m.nil_to_zero.to_string(),
                    _ => m.add_cloudwatch_timestamp.to_string(),
                };
                assert_eq!(
                    value(inherits),
                    job_field.split_once(": ").unwrap().1.trim_matches(['[', ']']),
                    "{expect} inherited"
                );
                assert_eq!(
                    value(overrides),
                    metric_field.split_once(": ").unwrap().1.trim_matches(['[', ']']),
                    "{expect} overridden"
                );
            }
        }
    }

    #[test]
    fn percentiles_follow_yaces_pattern() {
        for ok in ["p50", "p99", "p99.9", "p99.99", "p100", "p5"] {
            assert!(is_percentile(ok), "{ok}");
        }
        for bad in ["p", "p999", "p99.999", "P99", "p1000", "pab", "tm99"] {
            assert!(!is_percentile(bad), "{bad}");
        }
    }
}
