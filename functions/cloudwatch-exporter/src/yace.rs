//! The YACE config file (`apiVersion: v1alpha1`): parsing, defaults and validation.
//!
//! Field names and defaults follow YACE so a user's file works unchanged. A field this exporter
//! does not support, a wrong type or an unknown namespace is an error naming the field's path
//! (`discovery.jobs[0].metrics[1].period`) and, for syntax and type errors, line and column:
//! never silently ignored; when a known field is close to the unknown one, the error names it.
//! A run stops at the first problem; `verify-config` lists every one ([`ExporterConfig::from_yaml_all`]),
//! naming a field of an earlier YACE release as YACE's rather than as a typo.
//! What YACE accepts but ignores or deprecates (`roundingPeriod`, a metric's `delay`, a static
//! job's `period`) loads, with a [`ConfigWarning`] saying so. YAML merge keys (`<<: *base`) work
//! as in YACE's YAML library.

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

/// Something the config says that loads but does not do what it seems to (as in YACE, which logs
/// the same cases): `verify-config` prints these, each run logs them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigWarning {
    /// Where, as in [`ConfigError::location`] (no line: the path is enough to find it).
    pub location: String,
    pub message: String,
}

impl ConfigWarning {
    fn at(location: impl Into<String>, message: impl Into<String>) -> Self {
        Self { location: location.into(), message: message.into() }
    }
}

impl std::fmt::Display for ConfigWarning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.location, self.message)
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
    // The job lists are `None` when absent or null and `Some` when listed, even empty: YACE
    // refuses a file without any of the three, but loads `static: []` (and exports nothing).
    #[serde(default, rename = "static")]
    pub static_jobs: Option<Vec<RawStaticJob>>,
    #[serde(default, rename = "customNamespace")]
    pub custom_namespace: Option<Vec<RawCustomNamespaceJob>>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct RawDiscovery {
    #[serde(default)]
    pub exported_tags_on_metrics: BTreeMap<String, Vec<String>>,
    #[serde(default)]
    pub jobs: Option<Vec<RawDiscoveryJob>>,
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
            #[serde(default, deserialize_with = "yaml11::seconds")]
            period: Option<i64>,
            #[serde(default, deserialize_with = "yaml11::seconds")]
            length: Option<i64>,
            #[serde(default, deserialize_with = "yaml11::seconds")]
            delay: Option<i64>,
            #[serde(default, deserialize_with = "yaml11::flag")]
            nil_to_zero: Option<bool>,
            #[serde(default, deserialize_with = "yaml11::flag")]
            add_cloudwatch_timestamp: Option<bool>,
            #[serde(default, deserialize_with = "yaml11::flag")]
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
        #[serde(default, deserialize_with = "yaml11::switch")]
        pub recently_active_only: bool,
        #[serde(default)]
        pub metrics: Vec<RawMetric>,
        /// Deprecated in YACE (a warning) and unused there; accepted so YACE's configs load.
        #[serde(default, deserialize_with = "yaml11::seconds")]
        pub rounding_period: Option<i64>,
        #[serde(default, deserialize_with = "yaml11::switch")]
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
        #[serde(default, deserialize_with = "yaml11::switch")]
        pub recently_active_only: bool,
        #[serde(default)]
        pub metrics: Vec<RawMetric>,
        /// Deprecated in YACE (a warning) and unused there; accepted so YACE's configs load.
        #[serde(default, deserialize_with = "yaml11::seconds")]
        pub rounding_period: Option<i64>,
    }
}

/// A static job has no job-level metric fields in YACE: each metric sets its own.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct RawStaticJob {
    /// Not a field of YACE's static job: YACE ignores it (with a warning) and so does this
    /// exporter, so that YACE's own `examples/lambda_edge.yml` loads.
    #[serde(default, deserialize_with = "yaml11::seconds")]
    pub period: Option<i64>,
    /// Ignored as `period` is.
    #[serde(default, deserialize_with = "yaml11::seconds")]
    pub length: Option<i64>,
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

/// YACE reads its file with go-yaml v2, which is YAML 1.1: `yes`, `no`, `on`, `off` (and `y`,
/// `n`) are booleans, and integers may be written `0x3c`, `0o74`, `074` (octal), `1_000` or
/// `60.0`. serde_norway reads YAML 1.2, where those are strings or floats; these readers accept
/// both, so a file YACE reads gets the same values here.
mod yaml11 {
    use std::fmt;

    use serde::de::{self, Deserializer, Visitor};

    pub fn flag<'de, D: Deserializer<'de>>(d: D) -> Result<Option<bool>, D::Error> {
        d.deserialize_any(Flag)
    }

    pub fn switch<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
        Ok(flag(d)?.unwrap_or(false))
    }

    pub fn seconds<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
        d.deserialize_any(Seconds)
    }

    /// go-yaml v2's boolean words.
    fn parse_bool(s: &str) -> Option<bool> {
        match s {
            "y" | "Y" | "yes" | "Yes" | "YES" | "true" | "True" | "TRUE" | "on" | "On" | "ON" => Some(true),
            "n" | "N" | "no" | "No" | "NO" | "false" | "False" | "FALSE" | "off" | "Off" | "OFF" => Some(false),
            _ => None,
        }
    }

    /// go-yaml v2's integers: `_` ignored, then Go's `ParseInt(s, 0, 64)` (sign; `0x`, `0o`,
    /// `0b` or a leading `0` for octal), else a float cut to an integer as go-yaml does.
    pub(super) fn parse_int(s: &str) -> Option<i64> {
        let plain = s.replace('_', "");
        let (negative, digits) = match plain.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, plain.strip_prefix('+').unwrap_or(&plain)),
        };
        let lower = digits.to_ascii_lowercase();
        let (radix, body) = if let Some(b) = lower.strip_prefix("0x") {
            (16, b)
        } else if let Some(b) = lower.strip_prefix("0o") {
            (8, b)
        } else if let Some(b) = lower.strip_prefix("0b") {
            (2, b)
        } else if lower.len() > 1 && lower.starts_with('0') && lower.bytes().all(|b| b.is_ascii_digit()) {
            (8, &lower[1..])
        } else {
            (10, lower.as_str())
        };
        let is_digit = |b: u8| (b as char).is_digit(radix);
        if !body.is_empty() && body.bytes().all(is_digit) {
            let value = i64::from_str_radix(body, radix).ok()?;
            return Some(if negative { -value } else { value });
        }
        let float: f64 = s.replace('_', "").parse().ok()?;
        whole(float)
    }

    /// A float as go-yaml v2 stores it in an integer: cut toward zero, if it fits.
    fn whole(v: f64) -> Option<i64> {
        (v.is_finite() && v.abs() < 9.2e18).then_some(v.trunc() as i64)
    }

    struct Flag;

    impl<'de> Visitor<'de> for Flag {
        type Value = Option<bool>;

        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("a boolean (true/false, yes/no, on/off)")
        }
        fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
            Ok(Some(v))
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
            parse_bool(v).map(Some).ok_or_else(|| E::invalid_type(de::Unexpected::Str(v), &self))
        }
        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
            d.deserialize_any(self)
        }
    }

    struct Seconds;

    impl<'de> Visitor<'de> for Seconds {
        type Value = Option<i64>;

        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("a number of seconds")
        }
        fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
            Ok(Some(v))
        }
        fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
            i64::try_from(v).map(Some).map_err(|_| E::invalid_value(de::Unexpected::Unsigned(v), &self))
        }
        fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
            whole(v).map(Some).ok_or_else(|| E::invalid_value(de::Unexpected::Float(v), &self))
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
            parse_int(v).map(Some).ok_or_else(|| E::invalid_type(de::Unexpected::Str(v), &self))
        }
        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
            d.deserialize_any(self)
        }
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
    /// What loads but is ignored or deprecated, in file order.
    pub warnings: Vec<ConfigWarning>,
}

impl ExporterConfig {
    /// Parses and validates a YACE config file's text; the first problem found.
    pub fn from_yaml(text: &str) -> Result<Self, ConfigError> {
        let raw = parse(text)?;
        validate(raw).map_err(|mut errors| errors.remove(0))
    }

    /// As [`from_yaml`](Self::from_yaml), with every problem found (`verify-config`): first each
    /// field this exporter does not read (a field of YACE's it does not implement is named as
    /// such), then each check the rest fails, in file order. A syntax or type error ends the
    /// reading, so it is the last.
    pub fn from_yaml_all(text: &str) -> Result<Self, Vec<ConfigError>> {
        let (mut errors, without_them) = fields::unread(text).map_err(|e| vec![e])?;
        if errors.is_empty() {
            return validate(parse(text).map_err(|e| vec![e])?);
        }
        // The fields named are left out, so what else is wrong is found too.
        match serde_norway::from_value::<RawConfig>(without_them.clone()) {
            Ok(raw) => errors.extend(validate(raw).err().unwrap_or_default()),
            Err(e) => errors.push(with_path(serde_error(e), &without_them, text)),
        }
        Err(errors)
    }

    /// Whether any metric keeps CloudWatch's timestamps (which needs the state bucket).
    pub fn uses_cloudwatch_timestamps(&self) -> bool {
        self.jobs.iter().flat_map(|j| &j.metrics).any(|m| m.add_cloudwatch_timestamp)
    }
}

fn parse(text: &str) -> Result<RawConfig, ConfigError> {
    // YACE's YAML library applies `<<` merge keys; serde does not. Only a document that has one
    // goes through the merge, as the merged text's line numbers no longer match the file's.
    let mut document: serde_norway::Value = serde_norway::from_str(text).map_err(serde_error)?;
    if !has_merge_key(&document) {
        return serde_norway::from_str(text).map_err(|e| with_top_level_line(serde_error(e), text));
    }
    apply_merge_keys(&mut document, "")?;
    let merged = serde_norway::to_string(&document).map_err(|e| ConfigError::at("config", e.to_string()))?;
    serde_norway::from_str(&merged).map_err(|e| {
        let mut error = serde_error(e);
        if let Some((message, _)) = error.message.rsplit_once(" at line ") {
            error.message = message.to_string();
        }
        error.message.push_str(" (in the document with its `<<` merge keys applied)");
        if let Some(line) = line_of_key(text, &error) {
            error.message.push_str(&format!(" at line {line}"));
        }
        error
    })
}

/// `error`, which serde_norway's `from_value` gave without a path, with the path: `document` is
/// read again as text for it, and the line is the file's (`text`) when the key is on one line.
fn with_path(error: ConfigError, document: &serde_norway::Value, text: &str) -> ConfigError {
    let rewritten = serde_norway::to_string(document).ok();
    let Some(Err(e)) = rewritten.map(|t| serde_norway::from_str::<RawConfig>(&t)) else { return error };
    let mut error = serde_error(e);
    if let Some((message, _)) = error.message.rsplit_once(" at line ") {
        error.message = message.to_string();
    }
    if let Some(line) = line_of_key(text, &error) {
        error.message.push_str(&format!(" at line {line}"));
    }
    error
}

/// The file's line of the key an error in the merged document is about (the unknown field, or
/// the path's last key), when exactly one line of the file has that key.
fn line_of_key(text: &str, error: &ConfigError) -> Option<usize> {
    let unknown = error.message.strip_prefix("unknown field `").and_then(|m| m.split_once('`')).map(|(key, _)| key);
    let last = error.location.rsplit('.').next().map(|k| k.split('[').next().unwrap_or(k));
    let key = unknown.or(last).filter(|k| !k.is_empty())?;
    let has_key = |line: &str| {
        let line = line.trim_start().trim_start_matches(['-', ' ', '{']);
        line.strip_prefix(key).is_some_and(|rest| rest.trim_start().starts_with(':'))
    };
    let mut lines = text.lines().enumerate().filter(|(_, l)| has_key(l));
    match (lines.next(), lines.next()) {
        (Some((i, _)), None) => Some(i + 1),
        _ => None,
    }
}

/// serde_norway gives no line for an unknown key at the top of the document; it is the line that
/// starts with that key.
fn with_top_level_line(mut error: ConfigError, text: &str) -> ConfigError {
    let unknown = error.message.strip_prefix("unknown field `").and_then(|m| m.split_once('`')).map(|(key, _)| key);
    if let (Some(key), false) = (unknown, error.message.contains(" at line ")) {
        let starts_with_key = |l: &str| l.strip_prefix(key).is_some_and(|rest| rest.trim_start().starts_with(':'));
        let line = text.lines().position(starts_with_key);
        if let Some(line) = line {
            error.message.push_str(&format!(" at line {} column 1", line + 1));
        }
    }
    error
}

/// serde_norway writes `PATH: MESSAGE at line L column C`; the path is where the error is.
fn serde_error(e: serde_norway::Error) -> ConfigError {
    let full = e.to_string();
    let mut error = match full.split_once(": ") {
        Some((path, message)) if !path.is_empty() && !path.contains(' ') && !path.contains('`') => {
            ConfigError::at(path, message)
        }
        _ => ConfigError::at("config", full),
    };
    error.message = suggest_known_field(&error.message);
    error
}

/// serde's "unknown field `role`, expected one of `regions`, `roles`, ..." with the closest
/// expected field named: "unknown field `role` (did you mean `roles`?), expected one of ...".
fn suggest_known_field(message: &str) -> String {
    let Some((unknown, rest)) = message.strip_prefix("unknown field `").and_then(|m| m.split_once('`')) else {
        return message.to_string();
    };
    // The expected names are every other backquoted piece of the rest.
    let expected = rest.split('`').skip(1).step_by(2);
    match closest_field(unknown, expected) {
        Some(known) => format!("unknown field `{unknown}` (did you mean `{known}`?){rest}"),
        None => message.to_string(),
    }
}

/// The known field `unknown` most likely meant: the same ignoring case, `_` and `-`, or within a
/// small edit distance (1 for short names, 2 from five characters on).
fn closest_field<'a>(unknown: &str, known: impl Iterator<Item = &'a str>) -> Option<&'a str> {
    let normal =
        |s: &str| s.chars().filter(|c| *c != '_' && *c != '-').flat_map(char::to_lowercase).collect::<String>();
    let unknown = normal(unknown);
    let limit = if unknown.chars().count() >= 5 { 2 } else { 1 };
    known
        .map(|k| (edit_distance(&unknown, &normal(k)), k))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map(|(_, k)| k)
}

/// Levenshtein distance (insertions, deletions, substitutions).
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let above = row[j + 1];
            row[j + 1] = if ca == *cb { diagonal } else { 1 + diagonal.min(above).min(row[j]) };
            diagonal = above;
        }
    }
    row[b.len()]
}

fn has_merge_key(value: &serde_norway::Value) -> bool {
    use serde_norway::Value;
    match value {
        Value::Mapping(map) => map.contains_key("<<") || map.values().any(has_merge_key),
        Value::Sequence(items) => items.iter().any(has_merge_key),
        Value::Tagged(tagged) => has_merge_key(&tagged.value),
        _ => false,
    }
}

/// YAML's merge keys (https://yaml.org/type/merge.html), as go-yaml applies them: the mapping's
/// own keys win, then each merged mapping in list order. Inner merges are applied first, so a
/// base that merges another base works. (serde_norway's `apply_merge` leaves those.)
fn apply_merge_keys(value: &mut serde_norway::Value, path: &str) -> Result<(), ConfigError> {
    use serde_norway::Value;
    let child = |key: &str| if path.is_empty() { key.to_string() } else { format!("{path}.{key}") };
    match value {
        Value::Mapping(map) => {
            for (key, item) in map.iter_mut() {
                apply_merge_keys(item, &child(key.as_str().unwrap_or("?")))?;
            }
            let Some(merge) = map.shift_remove("<<") else { return Ok(()) };
            let not_a_mapping =
                || ConfigError::at(child("<<"), "a merge key takes a mapping (`<<: *base`) or a list of them");
            let sources = match merge {
                Value::Mapping(source) => vec![source],
                Value::Sequence(items) => items
                    .into_iter()
                    .map(|item| match item {
                        Value::Mapping(source) => Ok(source),
                        _ => Err(not_a_mapping()),
                    })
                    .collect::<Result<_, _>>()?,
                _ => return Err(not_a_mapping()),
            };
            for source in sources {
                for (key, item) in source {
                    map.entry(key).or_insert(item);
                }
            }
        }
        Value::Sequence(items) => {
            for (i, item) in items.iter_mut().enumerate() {
                apply_merge_keys(item, &format!("{path}[{i}]"))?;
            }
        }
        Value::Tagged(tagged) => apply_merge_keys(&mut tagged.value, path)?,
        _ => {}
    }
    Ok(())
}

/// Which fields each mapping of the file may have: the `Raw*` structs' fields, written out so that
/// `verify-config` can name every field this exporter does not read (serde stops at the first),
/// and say which of them are YACE's rather than typos.
mod fields {
    use serde_norway::Value;

    use super::{apply_merge_keys, closest_field, has_merge_key, serde_error, ConfigError};

    /// A kind of mapping in the file.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub(super) enum Node {
        Top,
        Discovery,
        DiscoveryJob,
        CustomNamespaceJob,
        StaticJob,
        Metric,
        Role,
        Tag,
        Dimension,
        EnhancedMetric,
    }

    /// What a field holds: a value whose fields are not checked here, or mappings of a kind.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub(super) enum Holds {
        Value,
        One(Node),
        List(Node),
    }

    /// YACE's `JobLevelMetricFields`: a metric's own, and defaults on discovery and custom jobs.
    const METRIC_FIELDS: [&str; 7] =
        ["statistics", "period", "length", "delay", "nilToZero", "addCloudwatchTimestamp", "exportAllDataPoints"];

    impl Node {
        #[cfg(test)]
        pub(super) const ALL: [Node; 10] = [
            Node::Top,
            Node::Discovery,
            Node::DiscoveryJob,
            Node::CustomNamespaceJob,
            Node::StaticJob,
            Node::Metric,
            Node::Role,
            Node::Tag,
            Node::Dimension,
            Node::EnhancedMetric,
        ];

        /// The fields this exporter reads here, besides [`METRIC_FIELDS`].
        fn own_fields(self) -> &'static [(&'static str, Holds)] {
            use Holds::{List, One, Value};
            match self {
                Node::Top => &[
                    ("apiVersion", Value),
                    ("sts-region", Value),
                    ("discovery", One(Node::Discovery)),
                    ("static", List(Node::StaticJob)),
                    ("customNamespace", List(Node::CustomNamespaceJob)),
                ],
                Node::Discovery => &[("exportedTagsOnMetrics", Value), ("jobs", List(Node::DiscoveryJob))],
                Node::DiscoveryJob => &[
                    ("type", Value),
                    ("regions", Value),
                    ("roles", List(Node::Role)),
                    ("searchTags", List(Node::Tag)),
                    ("customTags", List(Node::Tag)),
                    ("dimensionNameRequirements", Value),
                    ("recentlyActiveOnly", Value),
                    ("metrics", List(Node::Metric)),
                    ("roundingPeriod", Value),
                    ("includeContextOnInfoMetrics", Value),
                    ("enhancedMetrics", List(Node::EnhancedMetric)),
                ],
                Node::CustomNamespaceJob => &[
                    ("name", Value),
                    ("namespace", Value),
                    ("regions", Value),
                    ("roles", List(Node::Role)),
                    ("customTags", List(Node::Tag)),
                    ("dimensionNameRequirements", Value),
                    ("recentlyActiveOnly", Value),
                    ("metrics", List(Node::Metric)),
                    ("roundingPeriod", Value),
                ],
                Node::StaticJob => &[
                    ("period", Value),
                    ("length", Value),
                    ("name", Value),
                    ("namespace", Value),
                    ("regions", Value),
                    ("roles", List(Node::Role)),
                    ("customTags", List(Node::Tag)),
                    ("dimensions", List(Node::Dimension)),
                    ("metrics", List(Node::Metric)),
                ],
                Node::Metric => &[("name", Value)],
                Node::Role => &[("roleArn", Value), ("externalId", Value)],
                Node::Tag => &[("key", Value), ("value", Value)],
                Node::Dimension => &[("name", Value), ("value", Value)],
                Node::EnhancedMetric => &[("name", Value)],
            }
        }

        fn has_metric_fields(self) -> bool {
            matches!(self, Node::DiscoveryJob | Node::CustomNamespaceJob | Node::Metric)
        }

        /// Every field this exporter reads here.
        pub(super) fn fields(self) -> Vec<&'static str> {
            let own = self.own_fields().iter().map(|(name, _)| *name);
            let metric = METRIC_FIELDS.iter().copied().filter(|_| self.has_metric_fields());
            own.chain(metric).collect()
        }

        fn holds(self, field: &str) -> Option<Holds> {
            if self.has_metric_fields() && METRIC_FIELDS.contains(&field) {
                return Some(Holds::Value);
            }
            self.own_fields().iter().find(|(name, _)| *name == field).map(|(_, holds)| *holds)
        }
    }

    /// Fields of YACE's config that this exporter does not read, where YACE has them, and what to
    /// write instead. YACE 1a0ddb1e pkg/config/scrapeconf.go has no field this exporter lacks;
    /// these are the fields of earlier YACE releases (their pkg/config), which configs written
    /// for them still carry.
    const YACE_ONLY: [(Node, &str, &str); 12] = [
        (Node::Discovery, "exportedTags", "YACE 0.1 to 0.3 had it; write exportedTagsOnMetrics: {NAMESPACE: [TAG]}"),
        (Node::DiscoveryJob, "region", "YACE before 0.18 had it; write regions: [REGION]"),
        (Node::StaticJob, "region", "YACE before 0.18 had it; write regions: [REGION]"),
        (Node::DiscoveryJob, "roleArns", "YACE 0.19 to 0.27 had it; write roles: [{roleArn: ARN}]"),
        (Node::StaticJob, "roleArns", "YACE 0.19 to 0.27 had it; write roles: [{roleArn: ARN}]"),
        (
            Node::DiscoveryJob,
            "awsDimensions",
            "YACE 0.14 to 0.25 had it; the dimensions come from ListMetrics, and dimensionNameRequirements selects them",
        ),
        (Node::Metric, "additionalDimensions", "YACE 0.13 to 0.25 had it; use a static job's dimensions"),
        (
            Node::Metric,
            "disableTimestamp",
            "YACE 0.12 had it; timestamps are off unless addCloudwatchTimestamp: true",
        ),
        (Node::Tag, "Key", "YACE before 0.26 spelt it so; write key"),
        (Node::Tag, "Value", "YACE before 0.26 spelt it so; write value"),
        (Node::DiscoveryJob, "roleArn", "YACE 0.10 to 0.18 had it; write roles: [{roleArn: ARN}]"),
        (Node::StaticJob, "roleArn", "YACE 0.10 to 0.18 had it; write roles: [{roleArn: ARN}]"),
    ];

    /// Why YACE users may have `field` at `node`, when it is one of YACE's fields.
    pub(super) fn yace_only(node: Node, field: &str) -> Option<&'static str> {
        YACE_ONLY.iter().find(|(n, name, _)| *n == node && *name == field).map(|(_, _, note)| *note)
    }

    /// A field the walk found that this exporter does not read.
    struct Unread {
        /// The mapping's path (`discovery.jobs[0]`); empty at the top.
        parent: String,
        key: String,
        node: Node,
    }

    /// Every field of `text` this exporter does not read, as errors in file order, and the
    /// document without them (`<<` merge keys applied). Only a syntax error is an `Err`.
    pub(super) fn unread(text: &str) -> Result<(Vec<ConfigError>, Value), ConfigError> {
        let mut document: Value = serde_norway::from_str(text).map_err(serde_error)?;
        let merged = has_merge_key(&document);
        if merged {
            apply_merge_keys(&mut document, "")?;
        }
        let mut found = Vec::new();
        walk(&mut document, Node::Top, "", &mut found);
        let lines = key_lines(text, &found, merged);
        let errors = found.iter().zip(lines).map(|(u, line)| error(u, line)).collect();
        Ok((errors, document))
    }

    fn error(unread: &Unread, line: Option<usize>) -> ConfigError {
        let at_line = line.map(|l| format!(" at line {l}")).unwrap_or_default();
        let key = &unread.key;
        if let Some(note) = yace_only(unread.node, key) {
            let path = if unread.parent.is_empty() { key.clone() } else { format!("{}.{key}", unread.parent) };
            return ConfigError::at(path, format!("YACE field `{key}` is not supported ({note}){at_line}"));
        }
        let fields = unread.node.fields();
        let guess = closest_field(key, fields.iter().copied())
            .map(|known| format!(" (did you mean `{known}`?)"))
            .unwrap_or_default();
        let expected: Vec<String> = fields.iter().map(|f| format!("`{f}`")).collect();
        let parent = if unread.parent.is_empty() { "config".to_string() } else { unread.parent.clone() };
        ConfigError::at(
            parent,
            format!("unknown field `{key}`{guess}, expected one of {}{at_line}", expected.join(", ")),
        )
    }

    /// Collects the unread fields of the mapping `value` of kind `node` at `path`, removing them.
    fn walk(value: &mut Value, node: Node, path: &str, found: &mut Vec<Unread>) {
        let Value::Mapping(map) = value else { return };
        let child = |key: &str| if path.is_empty() { key.to_string() } else { format!("{path}.{key}") };
        let mut unread_keys = Vec::new();
        for (key, item) in map.iter_mut() {
            let name = match key {
                Value::String(s) => s.clone(),
                other => serde_norway::to_string(other).unwrap_or_default().trim().to_string(),
            };
            match node.holds(&name) {
                None => {
                    found.push(Unread { parent: path.to_string(), key: name, node });
                    unread_keys.push(key.clone());
                }
                Some(Holds::Value) => {}
                Some(Holds::One(inner)) => walk(item, inner, &child(&name), found),
                Some(Holds::List(inner)) => {
                    if let Value::Sequence(items) = item {
                        for (i, item) in items.iter_mut().enumerate() {
                            walk(item, inner, &format!("{}[{i}]", child(&name)), found);
                        }
                    }
                }
            }
        }
        if unread_keys.is_empty() {
            return;
        }
        for key in unread_keys {
            map.shift_remove(&key);
        }
        // A tag or dimension must have both fields: one written `{Key: k, Value: v}` gets empty
        // ones, so it is not refused again for lacking them (and the list keeps its indices).
        if matches!(node, Node::Tag | Node::Dimension) {
            for field in node.fields() {
                map.entry(Value::from(field)).or_insert_with(|| Value::from(""));
            }
        }
    }

    /// The line of each unread field: the k-th unread field named `key` is at the k-th `key:` of
    /// the text when each `key:` is one of them (so none is read). Not known after a merge,
    /// whose fields may come from another line.
    fn key_lines(text: &str, found: &[Unread], merged: bool) -> Vec<Option<usize>> {
        // Each place `key` is written as a key, block (`key: v`) or flow (`{a: 1, key: v}`) style.
        let lines_of = |key: &str| -> Vec<usize> {
            let mut lines = Vec::new();
            for (i, line) in text.lines().enumerate() {
                for (at, _) in line.match_indices(key) {
                    let before = line[..at].trim_end_matches(['"', '\'']).chars().next_back();
                    let after = line[at + key.len()..].trim_start_matches(['"', '\'']).trim_start();
                    if matches!(before, None | Some(' ' | '{' | ',' | '-')) && after.starts_with(':') {
                        lines.push(i + 1);
                    }
                }
            }
            lines
        };
        let mut seen: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
        found
            .iter()
            .map(|u| {
                let nth = seen.entry(u.key.as_str()).or_default();
                let k = *nth;
                *nth += 1;
                let lines = lines_of(&u.key);
                let count = found.iter().filter(|other| other.key == u.key).count();
                (!merged && lines.len() == count).then(|| lines[k])
            })
            .collect()
    }
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

/// Whether CloudWatch knows the statistic. YACE passes statistics to CloudWatch unchecked, so
/// every form CloudWatch documents is accepted: the basic five, percentiles (`p99.9`), trimmed and
/// winsorized means, trimmed counts and sums (`tm99`, `wm99`, `tc90`, `ts90`, `TM(10%:90%)`,
/// `TS(80%:)`), percentile rank (`PR(:300)`) and `IQM`. What CloudWatch would refuse (a typo such
/// as `Median`) is an error here rather than a failed query at every run.
pub fn is_cloudwatch_statistic(stat: &str) -> bool {
    if BASIC_STATISTICS.contains(&stat) || stat.eq_ignore_ascii_case("IQM") {
        return true;
    }
    let lower = stat.to_ascii_lowercase();
    let shorthand =
        ["p", "tm", "wm", "tc", "ts"].iter().any(|prefix| lower.strip_prefix(prefix).is_some_and(is_percentage));
    let range = ["tm(", "wm(", "tc(", "ts(", "pr("].iter().any(|prefix| {
        let inside = lower.strip_prefix(prefix).and_then(|r| r.strip_suffix(')'));
        let Some((low, high)) = inside.and_then(|r| r.split_once(':')) else { return false };
        let bound = |b: &str| b.is_empty() || b.strip_suffix('%').map_or_else(|| is_number(b), is_percentage);
        !(low.is_empty() && high.is_empty()) && bound(low) && bound(high)
    });
    shorthand || range
}

/// A plain decimal number (`300`, `0.005`, `-1.5`).
fn is_number(s: &str) -> bool {
    let digits = s.strip_prefix('-').unwrap_or(s);
    !digits.is_empty()
        && !digits.starts_with('.')
        && !digits.ends_with('.')
        && digits.bytes().all(|b| b.is_ascii_digit() || b == b'.')
        && digits.bytes().filter(|b| *b == b'.').count() <= 1
}

/// A number from 0 to 100.
fn is_percentage(s: &str) -> bool {
    !s.starts_with('-') && is_number(s) && s.parse::<f64>().is_ok_and(|v| v <= 100.0)
}

/// YACE's enhanced metrics, per namespace: values read from the service's own API
/// (YACE 1a0ddb1e pkg/internal/enhancedmetrics/registry.go and service/*/service.go).
pub const ENHANCED_METRICS: [(&str, &[&str]); 4] = [
    ("AWS/DynamoDB", &["ItemCount", "TableSizeBytes"]),
    ("AWS/ElastiCache", &["NumCacheNodes"]),
    ("AWS/Lambda", &["MemorySize", "Timeout"]),
    ("AWS/RDS", &["AllocatedStorage"]),
];

/// The checks YACE makes and those of this exporter; every problem, in file order.
fn validate(raw: RawConfig) -> Result<ExporterConfig, Vec<ConfigError>> {
    let mut warnings = Vec::new();
    let mut errors = Vec::new();
    match &raw.api_version {
        Some(v) if v != "v1alpha1" => {
            errors.push(ConfigError::at(
                "apiVersion",
                format!("unknown apiVersion {v:?} (this exporter reads v1alpha1)"),
            ));
        }
        Some(_) => {}
        None => {
            warnings.push(ConfigWarning::at("apiVersion", "missing, as YACE warns too: write `apiVersion: v1alpha1`"))
        }
    }
    if raw.discovery.jobs.is_none() && raw.static_jobs.is_none() && raw.custom_namespace.is_none() {
        errors.push(ConfigError::at(
            "config",
            "no jobs: define at least one of discovery.jobs, static or customNamespace",
        ));
        return Err(errors);
    }
    let discovery_jobs = raw.discovery.jobs.unwrap_or_default();
    let static_jobs = raw.static_jobs.unwrap_or_default();
    let custom_namespace = raw.custom_namespace.unwrap_or_default();
    if discovery_jobs.is_empty() && static_jobs.is_empty() && custom_namespace.is_empty() {
        warnings.push(ConfigWarning::at("config", "every job list is empty: nothing is exported"));
    }
    let mut jobs = Vec::new();

    // As YACE, the keys are checked only when there are discovery jobs to match.
    if !discovery_jobs.is_empty() {
        for ns in raw.discovery.exported_tags_on_metrics.keys() {
            let at = format!("discovery.exportedTagsOnMetrics.{ns}");
            match lookup_service(ns, &at) {
                Err(e) => errors.push(e),
                Ok(service) if !discovery_jobs.iter().any(|j| j.namespace == service.namespace) => {
                    errors.push(ConfigError::at(at, format!("{ns:?} does not match the type of any discovery job")));
                }
                Ok(_) => {}
            }
        }
    }

    for (i, job) in discovery_jobs.into_iter().enumerate() {
        let at = format!("discovery.jobs[{i}]");
        // Without a known namespace the job cannot run, but the rest of it is still checked.
        let service = if job.namespace.is_empty() {
            errors.push(ConfigError::at(format!("{at}.type"), "missing: name a namespace such as AWS/EC2"));
            None
        } else {
            lookup_service(&job.namespace, &format!("{at}.type")).map_err(|e| errors.push(e)).ok()
        };
        let mut search_tags = Vec::new();
        for (t, tag) in job.search_tags.iter().enumerate() {
            // YACE matches search tag values with an unanchored regex.
            match regex_lite::Regex::new(&tag.value) {
                Ok(value) => search_tags.push(SearchTag { key: tag.key.clone(), value, source: tag.value.clone() }),
                Err(e) => errors.push(ConfigError::at(
                    format!("{at}.searchTags[{t}].value"),
                    format!("invalid regex {:?}: {e}", tag.value),
                )),
            }
        }
        if job.metrics.is_empty() && job.enhanced_metrics.is_empty() {
            errors.push(ConfigError::at(format!("{at}.metrics"), "must list at least one metric (or enhancedMetrics)"));
        }
        let defaults = job.metric_defaults();
        let enhanced_metrics = match service {
            Some(service) => check_enhanced_metrics(job.enhanced_metrics, service.namespace, &at, &mut errors),
            None => Vec::new(),
        };
        if job.rounding_period.is_some() {
            warnings.push(rounding_period_ignored(&at));
        }
        let regions = check_regions(job.regions, &at, &mut errors);
        let roles = check_roles(job.roles, &at, &mut errors);
        let metrics = check_metrics(job.metrics, Some(&defaults), &at, &mut warnings, &mut errors);
        let Some(service) = service else { continue };
        let exported_tags = raw.discovery.exported_tags_on_metrics.get(service.namespace).cloned().unwrap_or_default();
        jobs.push(Job {
            namespace: service.namespace.to_string(),
            regions,
            roles,
            custom_tags: tags(job.custom_tags),
            dimension_name_requirements: job.dimension_name_requirements,
            recently_active_only: job.recently_active_only,
            metrics,
            include_context_on_info_metrics: job.include_context_on_info_metrics,
            enhanced_metrics,
            kind: JobKind::Discovery { service, search_tags, exported_tags },
            location: at,
        });
    }

    for (i, job) in custom_namespace.into_iter().enumerate() {
        let at = format!("customNamespace[{i}]");
        if job.name.is_empty() {
            errors.push(ConfigError::at(format!("{at}.name"), "missing"));
        }
        if job.namespace.is_empty() {
            errors.push(ConfigError::at(format!("{at}.namespace"), "missing"));
        }
        if job.metrics.is_empty() {
            errors.push(ConfigError::at(format!("{at}.metrics"), "must list at least one metric"));
        }
        if job.rounding_period.is_some() {
            warnings.push(rounding_period_ignored(&at));
        }
        let defaults = job.metric_defaults();
        jobs.push(Job {
            namespace: job.namespace,
            regions: check_regions(job.regions, &at, &mut errors),
            roles: check_roles(job.roles, &at, &mut errors),
            custom_tags: tags(job.custom_tags),
            dimension_name_requirements: job.dimension_name_requirements,
            recently_active_only: job.recently_active_only,
            metrics: check_metrics(job.metrics, Some(&defaults), &at, &mut warnings, &mut errors),
            include_context_on_info_metrics: false,
            enhanced_metrics: Vec::new(),
            kind: JobKind::CustomNamespace { name: job.name },
            location: at,
        });
    }

    for (i, job) in static_jobs.into_iter().enumerate() {
        let at = format!("static[{i}]");
        if job.name.is_empty() {
            errors.push(ConfigError::at(format!("{at}.name"), "missing"));
        }
        if job.namespace.is_empty() {
            errors.push(ConfigError::at(format!("{at}.namespace"), "missing"));
        }
        for (field, value, default) in [("period", job.period, DEFAULT_PERIOD), ("length", job.length, DEFAULT_LENGTH)]
        {
            if value.is_some() {
                warnings.push(ConfigWarning::at(
                    format!("{at}.{field}"),
                    format!(
                        "ignored: a static job has no job-level {field} in YACE either (its metrics use \
                         their own or the default {default} s); set {field} on each metric"
                    ),
                ));
            }
        }
        if job.metrics.is_empty() {
            warnings.push(ConfigWarning::at(format!("{at}.metrics"), "no metrics: this job exports nothing"));
        }
        let mut dimensions: Vec<(String, String)> = job.dimensions.into_iter().map(|d| (d.name, d.value)).collect();
        dimensions.sort();
        jobs.push(Job {
            namespace: job.namespace,
            regions: check_regions(job.regions, &at, &mut errors),
            roles: check_roles(job.roles, &at, &mut errors),
            custom_tags: tags(job.custom_tags),
            dimension_name_requirements: Vec::new(),
            recently_active_only: false,
            metrics: check_metrics(job.metrics, None, &at, &mut warnings, &mut errors),
            include_context_on_info_metrics: false,
            enhanced_metrics: Vec::new(),
            kind: JobKind::Static { name: job.name, dimensions },
            location: at,
        });
    }

    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(ExporterConfig { sts_region: raw.sts_region, jobs, warnings })
}

fn rounding_period_ignored(at: &str) -> ConfigWarning {
    ConfigWarning::at(
        format!("{at}.roundingPeriod"),
        "deprecated and ignored, as in YACE: each metric's window is rounded to its period",
    )
}

/// The `enhancedMetrics` names, which YACE refuses for a namespace or name it has no reader for.
fn check_enhanced_metrics(
    metrics: Vec<RawEnhancedMetric>,
    namespace: &str,
    at: &str,
    errors: &mut Vec<ConfigError>,
) -> Vec<String> {
    if metrics.is_empty() {
        return Vec::new();
    }
    let Some((_, known)) = ENHANCED_METRICS.iter().find(|(ns, _)| *ns == namespace) else {
        let namespaces: Vec<&str> = ENHANCED_METRICS.iter().map(|(ns, _)| *ns).collect();
        errors.push(ConfigError::at(
            format!("{at}.enhancedMetrics"),
            format!("enhanced metrics are not supported for {namespace} (only for {})", namespaces.join(", ")),
        ));
        return Vec::new();
    };
    let mut names = Vec::with_capacity(metrics.len());
    for (e, metric) in metrics.into_iter().enumerate() {
        if !known.contains(&metric.name.as_str()) {
            errors.push(ConfigError::at(
                format!("{at}.enhancedMetrics[{e}].name"),
                format!(
                    "enhanced metric {:?} is not supported for {namespace} (one of {})",
                    metric.name,
                    known.join(", ")
                ),
            ));
            continue;
        }
        names.push(metric.name);
    }
    names
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

fn check_regions(regions: Vec<String>, at: &str, errors: &mut Vec<ConfigError>) -> Vec<String> {
    if regions.is_empty() {
        errors.push(ConfigError::at(format!("{at}.regions"), "must name at least one region"));
    }
    regions
}

fn check_roles(roles: Vec<Role>, at: &str, errors: &mut Vec<ConfigError>) -> Vec<Role> {
    for (r, role) in roles.iter().enumerate() {
        if role.role_arn.is_empty() && !role.external_id.is_empty() {
            errors.push(ConfigError::at(format!("{at}.roles[{r}].roleArn"), "missing (externalId needs a roleArn)"));
        }
    }
    // As YACE: no roles means the function's own credentials.
    if roles.is_empty() {
        vec![Role::default()]
    } else {
        roles
    }
}

fn tags(tags: Vec<Tag>) -> Vec<(String, String)> {
    tags.into_iter().map(|t| (t.key, t.value)).collect()
}

/// The job's metrics with the job-level fields (`job`; `None` for a static job, which has none)
/// and then YACE's defaults applied, as YACE's `validateMetric`: 0 is "not set" for period,
/// length and delay, and a metric's own `delay` is ignored (with a warning) for the job's.
fn check_metrics(
    metrics: Vec<RawMetric>,
    job: Option<&RawMetric>,
    at: &str,
    warnings: &mut Vec<ConfigWarning>,
    errors: &mut Vec<ConfigError>,
) -> Vec<MetricSpec> {
    let none = RawMetric::default();
    let d = job.unwrap_or(&none);
    let set = |seconds: Option<i64>| seconds.filter(|s| *s != 0);
    let mut out = Vec::with_capacity(metrics.len());
    for (i, m) in metrics.into_iter().enumerate() {
        let at = format!("{at}.metrics[{i}]");
        let errors_before = errors.len();
        if m.name.is_empty() {
            errors.push(ConfigError::at(format!("{at}.name"), "missing"));
        }
        let statistics = if m.statistics.is_empty() { d.statistics.clone() } else { m.statistics };
        if statistics.is_empty() && job.is_some() {
            errors.push(ConfigError::at(format!("{at}.statistics"), "must not be empty (set it here or on the job)"));
        }
        for (s, stat) in statistics.iter().enumerate() {
            if !is_cloudwatch_statistic(stat) {
                errors.push(ConfigError::at(
                    format!("{at}.statistics[{s}]"),
                    format!(
                        "unknown statistic {stat:?} (one of Average, Sum, Minimum, Maximum, SampleCount, pNN, \
                         tmNN, wmNN, tcNN, tsNN, TM(a:b), WM(a:b), TC(a:b), TS(a:b), PR(a:b), IQM)"
                    ),
                ));
            }
        }
        let period = set(m.period).or(set(d.period)).unwrap_or(DEFAULT_PERIOD);
        if period < 1 {
            errors.push(ConfigError::at(
                format!("{at}.period"),
                format!("must be a positive number of seconds, not {period}"),
            ));
        }
        let length = set(m.length).or(set(d.length)).unwrap_or(DEFAULT_LENGTH);
        if period >= 1 && length < period {
            errors.push(ConfigError::at(
                format!("{at}.length"),
                format!("length ({length}) is smaller than period ({period}): the data asked for would not be ready"),
            ));
        }
        // YACE has never applied a metric's delay and keeps it so not to break configs that
        // work; so does this exporter.
        let delay = set(d.delay).unwrap_or(0);
        if let Some(ignored) = set(m.delay) {
            warnings.push(ConfigWarning::at(
                format!("{at}.delay"),
                format!("ignored, as YACE ignores a metric's delay ({ignored} s): the job's delay ({delay} s) applies"),
            ));
        }
        let add_cloudwatch_timestamp = m.add_cloudwatch_timestamp.or(d.add_cloudwatch_timestamp).unwrap_or(false);
        let export_all_data_points = m.export_all_data_points.or(d.export_all_data_points).unwrap_or(false);
        if export_all_data_points && !add_cloudwatch_timestamp {
            errors.push(ConfigError::at(format!("{at}.exportAllDataPoints"), "needs addCloudwatchTimestamp: true"));
        }
        if errors.len() > errors_before {
            continue;
        }
        if statistics.is_empty() {
            // A static metric: YACE accepts it and asks CloudWatch for no statistic, which exports nothing.
            warnings.push(ConfigWarning::at(
                format!("{at}.statistics"),
                "missing: nothing is exported for this metric (as in YACE); list the statistics to export",
            ));
            continue;
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
    out
}

#[cfg(test)]
#[path = "yace_yace_cases.rs"]
mod yace_cases;

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
        let e = err("apiVersion: v1alpha1\nstatic:\ncustomNamespace: ~\n");
        assert!(e.message.contains("no jobs"), "null lists are absent lists, as in YACE: {e}");
        // An empty list is a list: YACE loads it and exports nothing; so does this exporter, with a warning.
        for empty in ["static: []\n", "discovery:\n  jobs: []\n", "customNamespace: []\n"] {
            let c = ExporterConfig::from_yaml(&format!("apiVersion: v1alpha1\n{empty}")).unwrap();
            assert!(c.jobs.is_empty(), "{empty}");
            assert!(
                c.warnings.iter().any(|w| w.to_string().contains("nothing is exported")),
                "{empty}: {:?}",
                c.warnings
            );
        }
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

    fn load(yaml: &str) -> ExporterConfig {
        ExporterConfig::from_yaml(yaml).unwrap_or_else(|e| panic!("{yaml}\n{e}"))
    }

    fn warned(c: &ExporterConfig, location: &str) -> String {
        let w = c.warnings.iter().find(|w| w.location == location);
        w.unwrap_or_else(|| panic!("no warning at {location}: {:?}", c.warnings)).message.clone()
    }

    #[test]
    fn a_metric_delay_is_ignored_for_the_jobs_with_a_warning_as_in_yace() {
        let c = load("apiVersion: v1alpha1\ndiscovery:\n  jobs:\n    - type: AWS/EC2\n      regions: [r]\n      delay: 30\n      statistics: [Sum]\n      metrics:\n        - name: inherits\n        - name: own\n          delay: 45\n");
        let delays: Vec<i64> = c.jobs[0].metrics.iter().map(|m| m.delay).collect();
        assert_eq!(delays, [30, 30]);
        assert_eq!(c.warnings.len(), 1, "{:?}", c.warnings);
        let w = warned(&c, "discovery.jobs[0].metrics[1].delay");
        assert!(w.contains("ignored") && w.contains("(30 s)"), "{w}");
        // No job delay: 0, still with the warning; a static metric's delay too.
        let c = load("apiVersion: v1alpha1\nstatic:\n  - name: s\n    namespace: N\n    regions: [r]\n    metrics: [{name: m, statistics: [Sum], delay: 600}]\n");
        assert_eq!(c.jobs[0].metrics[0].delay, 0);
        assert!(warned(&c, "static[0].metrics[0].delay").contains("ignored"));
    }

    #[test]
    fn zero_means_unset_for_period_length_and_delay_as_in_yace() {
        let c = load("apiVersion: v1alpha1\ncustomNamespace:\n  - name: c\n    namespace: N\n    regions: [r]\n    period: 60\n    length: 120\n    delay: 0\n    statistics: [Sum]\n    metrics: [{name: m, period: 0, length: 0, delay: 0}]\n");
        let m = &c.jobs[0].metrics[0];
        assert_eq!((m.period, m.length, m.delay), (60, 120, 0));
        assert!(c.warnings.is_empty(), "{:?}", c.warnings);
        let e = err("customNamespace:\n  - name: c\n    namespace: N\n    regions: [r]\n    metrics: [{name: m, statistics: [Sum], period: -60}]\n");
        assert_eq!(e.location, "customNamespace[0].metrics[0].period");
        // YACE has no check on the job's delay.
        let c = load("customNamespace:\n  - name: c\n    namespace: N\n    regions: [r]\n    delay: -60\n    metrics: [{name: m, statistics: [Sum]}]\n");
        assert_eq!(c.jobs[0].metrics[0].delay, -60);
    }

    #[test]
    fn rounding_period_loads_and_warns_that_it_is_deprecated() {
        let c = load("apiVersion: v1alpha1\ndiscovery:\n  jobs:\n    - type: AWS/EC2\n      regions: [r]\n      roundingPeriod: 60\n      metrics: [{name: m, statistics: [Sum]}]\ncustomNamespace:\n  - name: c\n    namespace: N\n    regions: [r]\n    roundingPeriod: 120\n    metrics: [{name: m, statistics: [Sum]}]\n");
        assert_eq!(c.jobs.len(), 2);
        assert!(warned(&c, "discovery.jobs[0].roundingPeriod").contains("deprecated"));
        assert!(warned(&c, "customNamespace[0].roundingPeriod").contains("deprecated"));
        assert_eq!(c.jobs[0].metrics[0].period, DEFAULT_PERIOD, "roundingPeriod changes nothing");
    }

    #[test]
    fn a_static_jobs_period_and_length_are_ignored_with_a_warning() {
        let c = load("apiVersion: v1alpha1\nstatic:\n  - name: edge\n    namespace: AWS/Lambda\n    regions: [us-east-1]\n    period: 600\n    length: 600\n    metrics:\n      - name: Invocations\n        statistics: [Sum]\n      - name: Errors\n        statistics: [Sum]\n        period: 60\n");
        let windows: Vec<(i64, i64)> = c.jobs[0].metrics.iter().map(|m| (m.period, m.length)).collect();
        assert_eq!(
            windows,
            [(DEFAULT_PERIOD, DEFAULT_LENGTH), (60, DEFAULT_LENGTH)],
            "as YACE: job-level values unused"
        );
        assert!(warned(&c, "static[0].period").contains("ignored"));
        assert!(warned(&c, "static[0].length").contains("ignored"));
        // Other job-level metric fields are not accepted on a static job: still unknown fields.
        let e = err("static:\n  - name: s\n    namespace: N\n    regions: [r]\n    statistics: [Sum]\n    metrics: [{name: m}]\n");
        assert_eq!(e.location, "static[0]");
        assert!(e.message.contains("unknown field `statistics`"), "{e}");
    }

    #[test]
    fn a_static_metric_without_statistics_and_a_static_job_without_metrics_load_as_in_yace() {
        let c = load("apiVersion: v1alpha1\nstatic:\n  - name: s\n    namespace: N\n    regions: [r]\n    metrics: [{name: none}, {name: some, statistics: [Sum]}]\n  - name: empty\n    namespace: N\n    regions: [r]\n");
        let names: Vec<&str> = c.jobs[0].metrics.iter().map(|m| m.name.as_str()).collect();
        assert_eq!(names, ["some"], "a metric with no statistic has nothing to export");
        assert!(warned(&c, "static[0].metrics[0].statistics").contains("nothing is exported"));
        assert!(c.jobs[1].metrics.is_empty());
        assert!(warned(&c, "static[1].metrics").contains("exports nothing"));
    }

    #[test]
    fn a_missing_api_version_is_a_warning_as_in_yace() {
        let c = load("static: [{name: s, namespace: N, regions: [r], metrics: [{name: m, statistics: [Sum]}]}]\n");
        assert!(warned(&c, "apiVersion").contains("missing"));
    }

    #[test]
    fn every_statistic_cloudwatch_knows_is_accepted() {
        for ok in [
            "Average",
            "Sum",
            "Minimum",
            "Maximum",
            "SampleCount",
            "p50",
            "p99.9",
            "p99.99",
            "p100",
            "p0.1",
            "tm99",
            "tm99.5",
            "TM99",
            "wm99",
            "tc90",
            "ts90",
            "IQM",
            "TM(10%:90%)",
            "TM(:95%)",
            "TM(150:1000)",
            "WM(10%:90%)",
            "TC(0.005:0.030)",
            "TS(80%:)",
            "PR(:300)",
            "PR(100:2000)",
            "PR(-5:5)",
        ] {
            assert!(is_cloudwatch_statistic(ok), "{ok}");
        }
        for bad in [
            "Median",
            "average",
            "Avg",
            "",
            "p",
            "p101",
            "p-1",
            "tm",
            "tm101",
            "TM()",
            "TM(:)",
            "TM(10%;90%)",
            "TM(a:b)",
            "PR(:300",
            "XX(1:2)",
            "p99.",
            "Sum ",
        ] {
            assert!(!is_cloudwatch_statistic(bad), "{bad}");
        }
        let c = load("discovery:\n  jobs:\n    - type: AWS/ApplicationELB\n      regions: [r]\n      metrics:\n        - name: TargetResponseTime\n          statistics: [tm99, IQM, TS(10%:90%), PR(:0.5), wm99, TC(10%:90%), TM(5%:95%), p99.9]\n");
        assert_eq!(c.jobs[0].metrics[0].statistics.len(), 8);
    }

    #[test]
    fn enhanced_metrics_are_checked_against_yaces_six() {
        let job = |ns: &str, names: &str, metrics: &str| {
            format!("discovery:\n  jobs:\n    - type: {ns}\n      regions: [r]\n      enhancedMetrics: [{names}]\n{metrics}")
        };
        for (ns, name) in [
            ("AWS/Lambda", "Timeout"),
            ("AWS/Lambda", "MemorySize"),
            ("AWS/DynamoDB", "ItemCount"),
            ("AWS/DynamoDB", "TableSizeBytes"),
            ("AWS/RDS", "AllocatedStorage"),
            ("AWS/ElastiCache", "NumCacheNodes"),
        ] {
            let c = load(&job(ns, &format!("{{name: {name}}}"), ""));
            assert_eq!(c.jobs[0].enhanced_metrics, [name], "enhanced metrics alone make a job");
            assert!(c.jobs[0].metrics.is_empty());
        }
        let e = err(&job("AWS/Lambda", "{name: Timeout}, {name: timeout}", ""));
        assert_eq!(e.location, "discovery.jobs[0].enhancedMetrics[1].name");
        let e = err(&job("AWS/RDS", "{name: ItemCount}", ""));
        assert_eq!(e.location, "discovery.jobs[0].enhancedMetrics[0].name");
        let e = err(&job("AWS/EC2", "{name: Timeout}", "      metrics: [{name: m, statistics: [Sum]}]\n"));
        assert_eq!(e.location, "discovery.jobs[0].enhancedMetrics");
        assert!(e.message.contains("not supported for AWS/EC2"), "{e}");
        let e = err(&job("AWS/Lambda", "", ""));
        assert_eq!(e.location, "discovery.jobs[0].metrics", "neither metrics nor enhancedMetrics");
    }

    #[test]
    fn include_context_on_info_metrics_is_read() {
        let c = load("discovery:\n  jobs:\n    - type: AWS/EC2\n      regions: [r]\n      includeContextOnInfoMetrics: true\n      metrics: [{name: m, statistics: [Sum]}]\n    - type: AWS/EBS\n      regions: [r]\n      metrics: [{name: m, statistics: [Sum]}]\n");
        assert!(c.jobs[0].include_context_on_info_metrics);
        assert!(!c.jobs[1].include_context_on_info_metrics);
    }

    #[test]
    fn merge_keys_apply_as_in_go_yaml() {
        let c = load(
            r#"
apiVersion: v1alpha1
discovery:
  jobs:
    - &base
      type: AWS/SQS
      regions: [eu-west-1]
      period: 60
      statistics: [Sum]
      roles: [{roleArn: "arn:aws:iam::111111111111:role/a"}]
      metrics: [{name: NumberOfMessagesSent}]
    - &chained
      <<: *base
      type: AWS/SNS
      period: 120
      metrics:
        - &metric
          name: NumberOfMessagesPublished
        - <<: *metric
          statistics: [p99]
    - <<: [*chained, *base]
      type: AWS/EC2
      statistics: [Maximum]
"#,
        );
        let [sqs, sns, ec2] = &c.jobs[..] else { panic!("{:?}", c.jobs) };
        assert_eq!((sqs.namespace.as_str(), sqs.metrics[0].period), ("AWS/SQS", 60));
        assert_eq!(sns.namespace, "AWS/SNS");
        assert_eq!(sns.regions, ["eu-west-1"], "merged from the base");
        assert_eq!(sns.roles[0].role_arn, "arn:aws:iam::111111111111:role/a");
        let sns_metrics: Vec<(&str, i64, &[String])> =
            sns.metrics.iter().map(|m| (m.name.as_str(), m.period, &m.statistics[..])).collect();
        assert_eq!(
            sns_metrics,
            [
                ("NumberOfMessagesPublished", 120, &["Sum".to_string()][..]),
                ("NumberOfMessagesPublished", 120, &["p99".to_string()][..])
            ],
            "the job's own keys win over the merged ones"
        );
        assert_eq!(ec2.namespace, "AWS/EC2");
        assert_eq!(ec2.metrics.len(), 2, "a merge of a mapping that itself merges");
        assert_eq!(ec2.metrics[0].period, 120, "the first mapping in a merge list wins");
        assert_eq!(ec2.metrics[0].statistics, ["Maximum"]);
        assert!(c.warnings.is_empty(), "{:?}", c.warnings);
    }

    #[test]
    fn errors_in_a_merged_document_keep_their_path() {
        let e = err("discovery:\n  jobs:\n    - &base\n      type: AWS/SQS\n      regions: [r]\n      metrics: [{name: m, statistics: [Sum]}]\n    - <<: *base\n      role: [{roleArn: x}]\n");
        assert_eq!(e.location, "discovery.jobs[1]");
        assert!(e.message.contains("unknown field `role` (did you mean `roles`?)"), "{e}");
        assert!(e.message.contains("merge keys applied) at line 8"), "{e}");
        // A key on several lines: no line rather than a wrong one.
        let e = err("discovery:\n  jobs:\n    - &base\n      type: AWS/SQS\n      regions: [r]\n      period: 60\n      metrics: [{name: m, statistics: [Sum]}]\n    - <<: *base\n      period: x\n");
        assert_eq!(e.location, "discovery.jobs[1].period");
        assert!(!e.message.contains("line"), "{e}");
        let e = err("discovery:\n  jobs:\n    - type: AWS/SQS\n      <<: 5\n      regions: [r]\n      metrics: [{name: m, statistics: [Sum]}]\n");
        assert_eq!(e.location, "discovery.jobs[0].<<");
        // A `<<` in a value is no merge key: the error keeps its line.
        let e = err("discovery:\n  jobs:\n    - type: AWS/SQS\n      regions: [r]\n      searchTags: [{key: a, value: 'x<<y'}]\n      metrics: [{name: m, statistics: [Sum]}]\n      typo: 1\n");
        assert!(e.message.contains("line 7"), "{e}");
    }

    #[test]
    fn an_unknown_field_close_to_a_known_one_is_named() {
        for (yaml, unknown, known) in [
            ("discovery:\n  jobs:\n    - type: AWS/EC2\n      role: []\n", "role", "roles"),
            ("discovery:\n  jobs:\n    - type: AWS/EC2\n      searchTag: []\n", "searchTag", "searchTags"),
            ("discovery:\n  jobs:\n    - type: AWS/EC2\n      Regions: [r]\n", "Regions", "regions"),
            ("discovery:\n  jobs:\n    - type: AWS/EC2\n      nil_to_zero: true\n", "nil_to_zero", "nilToZero"),
            (
                "discovery:\n  jobs:\n    - type: AWS/EC2\n      metrics: [{name: m, statistic: [Sum]}]\n",
                "statistic",
                "statistics",
            ),
            ("discovery:\n  exportedTagOnMetrics: {}\n", "exportedTagOnMetrics", "exportedTagsOnMetrics"),
            ("discovry:\n  jobs: []\n", "discovry", "discovery"),
            ("sts_region: us-east-1\n", "sts_region", "sts-region"),
        ] {
            let e = err(yaml);
            let want = format!("unknown field `{unknown}` (did you mean `{known}`?), expected");
            assert!(e.message.contains(&want), "{yaml}: {e}");
            assert!(e.message.contains("line "), "{e}");
        }
        // Nothing close: no guess.
        let e = err("discovery:\n  jobs:\n    - type: AWS/EC2\n      awsDimensions: []\n");
        assert!(!e.message.contains("did you mean"), "{e}");
        assert_eq!(closest_field("type", ["name", "regions"].into_iter()), None);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
    }

    #[test]
    fn yaml_1_1_booleans_and_integers_read_as_yace_reads_them() {
        let c = load("apiVersion: v1alpha1\ndiscovery:\n  jobs:\n    - type: AWS/EC2\n      regions: [no]\n      recentlyActiveOnly: yes\n      includeContextOnInfoMetrics: On\n      period: 0x3c\n      statistics: [Sum]\n      metrics:\n        - {name: a, nilToZero: y, addCloudwatchTimestamp: YES, exportAllDataPoints: on, length: 1_200}\n        - {name: b, nilToZero: off, period: 0600, length: 600.0}\n        - {name: c, nilToZero: ~}\n");
        let job = &c.jobs[0];
        assert_eq!(job.regions, ["no"], "a string stays a string");
        assert!(job.recently_active_only && job.include_context_on_info_metrics);
        let [a, b, cc] = &job.metrics[..] else { panic!("{:?}", job.metrics) };
        assert!(a.nil_to_zero && a.add_cloudwatch_timestamp && a.export_all_data_points);
        assert_eq!((a.period, a.length), (60, 1200));
        assert!(!b.nil_to_zero);
        assert_eq!((b.period, b.length), (384, 600), "a leading 0 is octal in YAML 1.1");
        assert!(!cc.nil_to_zero, "null is unset");
        let e = err("static: [{name: s, namespace: N, regions: [r], metrics: [{name: m, statistics: [Sum], nilToZero: maybe}]}]\n");
        assert_eq!(e.location, "static[0].metrics[0].nilToZero");
        assert!(e.message.contains("\"maybe\"") && e.message.contains("line 1"), "{e}");
        let e = err(
            "static: [{name: s, namespace: N, regions: [r], metrics: [{name: m, statistics: [Sum], period: 5m}]}]\n",
        );
        assert_eq!(e.location, "static[0].metrics[0].period");
        for (text, value) in [
            ("-0x10", Some(-16)),
            ("0b101", Some(5)),
            ("0o17", Some(15)),
            ("+7", Some(7)),
            ("1e2", Some(100)),
            ("09", Some(9)),
            ("x", None),
        ] {
            assert_eq!(yaml11::parse_int(text), value, "{text}");
        }
    }

    fn all_errors(yaml: &str) -> Vec<String> {
        ExporterConfig::from_yaml_all(yaml)
            .expect_err("config should be refused")
            .iter()
            .map(|e| e.to_string())
            .collect()
    }

    #[test]
    fn every_problem_is_listed() {
        let yaml = "discovery:\n  jobs:\n    - type: AWS/EC2\n      regions: [us-east-1]\n      roundingPeriods: 60\n      awsDimensions: [InstanceId]\n      metrics: [{name: CPUUtilization, statistics: [Median]}]\n    - type: AWS/SQS\n      metrics: [{name: NumberOfMessagesSent, statistics: [Sum], period: 300, length: 60}]\nstatic:\n  - namespace: AWS/S3\n    regions: [r]\n    metrics: [{name: BucketSizeBytes, statistics: [Average], statistic: Sum}]\n";
        let errors = all_errors(yaml);
        let expected = [
            "discovery.jobs[0]: unknown field `roundingPeriods` (did you mean `roundingPeriod`?), expected one of",
            "discovery.jobs[0].awsDimensions: YACE field `awsDimensions` is not supported (YACE 0.14 to 0.25 had it;",
            "static[0].metrics[0]: unknown field `statistic` (did you mean `statistics`?), expected one of",
            "discovery.jobs[0].metrics[0].statistics[0]: unknown statistic \"Median\"",
            "discovery.jobs[1].regions: must name at least one region",
            "discovery.jobs[1].metrics[0].length: length (60) is smaller than period (300)",
            "static[0].name: missing",
        ];
        assert_eq!(errors.len(), expected.len(), "{errors:#?}");
        for (error, want) in errors.iter().zip(expected) {
            assert!(error.starts_with(want), "{error}\nwanted: {want}");
        }
        assert!(errors[0].ends_with(" at line 5"), "{}", errors[0]);
        assert!(errors[1].ends_with(" at line 6"), "{}", errors[1]);
        assert!(errors[2].ends_with(" at line 13"), "{}", errors[2]);
        // The first of them is what a run reports.
        assert!(err(yaml).to_string().starts_with(expected[0]), "{}", err(yaml));
        // A valid config reads the same either way.
        assert_eq!(ExporterConfig::from_yaml_all(FULL).unwrap(), ExporterConfig::from_yaml(FULL).unwrap());
    }

    #[test]
    fn a_type_error_after_fields_not_read_keeps_its_path() {
        let yaml = "discovery:\n  jobs:\n    - type: AWS/EC2\n      regions: [us-east-1]\n      awsDimensions: [x]\n      period: five\n      metrics: [{name: CPUUtilization, statistics: [Average]}]\n";
        let errors = all_errors(yaml);
        assert_eq!(errors.len(), 2, "{errors:#?}");
        assert!(errors[0].starts_with("discovery.jobs[0].awsDimensions: YACE field"), "{}", errors[0]);
        assert_eq!(
            errors[1],
            "discovery.jobs[0].period: invalid type: string \"five\", expected a number of seconds at line 6"
        );
    }

    #[test]
    fn fields_of_earlier_yace_releases_are_named_as_yaces() {
        let yaml = "discovery:\n  exportedTags: [Name]\n  jobs:\n    - type: AWS/EC2\n      region: us-east-1\n      roleArn: arn:aws:iam::1:role/a\n      roleArns: [arn:aws:iam::1:role/b]\n      searchTags: [{Key: team, Value: core}]\n      metrics:\n        - {name: CPUUtilization, statistics: [Average], additionalDimensions: [], disableTimestamp: true}\n";
        let errors = all_errors(yaml);
        let yace: Vec<&str> =
            errors.iter().filter(|e| e.contains(": YACE field `")).map(|e| e.split(": YACE").next().unwrap()).collect();
        assert_eq!(
            yace,
            [
                "discovery.exportedTags",
                "discovery.jobs[0].region",
                "discovery.jobs[0].roleArn",
                "discovery.jobs[0].roleArns",
                "discovery.jobs[0].searchTags[0].Key",
                "discovery.jobs[0].searchTags[0].Value",
                "discovery.jobs[0].metrics[0].additionalDimensions",
                "discovery.jobs[0].metrics[0].disableTimestamp",
            ]
        );
        // Without the fields named, what is left is checked too: the job has no `regions`.
        assert_eq!(errors.last().unwrap(), "discovery.jobs[0].regions: must name at least one region");
        assert_eq!(errors.len(), yace.len() + 1, "{errors:#?}");
        assert!(errors[1].ends_with("write regions: [REGION]) at line 5"), "{}", errors[1]);
        // A typo of a field this exporter reads is no YACE field.
        let e =
            all_errors("static:\n  - name: a\n    namespace: N\n    region: [r]\n    metrics: []\n    Regions: [r]\n");
        assert!(e[0].starts_with("static[0].region: YACE field `region` is not supported"), "{e:?}");
        assert!(e[1].starts_with("static[0]: unknown field `Regions` (did you mean `regions`?)"), "{e:?}");
    }

    /// The field lists `verify-config` checks against are the `Raw*` structs' fields, as serde's
    /// own "expected one of" lists them.
    #[test]
    fn the_field_lists_are_the_structs_fields() {
        use fields::Node;
        for node in Node::ALL {
            let yaml = match node {
                Node::Top => "zzzz: 1\n",
                Node::Discovery => "discovery: {zzzz: 1}\n",
                Node::DiscoveryJob => "discovery: {jobs: [{zzzz: 1}]}\n",
                Node::CustomNamespaceJob => "customNamespace: [{zzzz: 1}]\n",
                Node::StaticJob => "static: [{zzzz: 1}]\n",
                Node::Metric => "static: [{metrics: [{zzzz: 1}]}]\n",
                Node::Role => "static: [{roles: [{zzzz: 1}]}]\n",
                Node::Tag => "static: [{customTags: [{zzzz: 1}]}]\n",
                Node::Dimension => "static: [{dimensions: [{zzzz: 1}]}]\n",
                Node::EnhancedMetric => "discovery: {jobs: [{enhancedMetrics: [{zzzz: 1}]}]}\n",
            };
            let serde = err(yaml).message;
            let mut expected: Vec<&str> = serde.split('`').skip(1).step_by(2).skip(1).collect();
            let mut ours = node.fields();
            expected.sort();
            ours.sort();
            assert_eq!(ours, expected, "{node:?}: {serde}");
            assert!(fields::yace_only(node, "zzzz").is_none());
            // And the walk finds it, with nothing else.
            let all = all_errors(yaml);
            assert!(all[0].contains("unknown field `zzzz`, expected one of"), "{node:?}: {all:?}");
        }
    }
}
