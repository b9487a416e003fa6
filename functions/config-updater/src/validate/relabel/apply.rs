//! Relabelling applied to a label set, as Prometheus' model/relabel `Process` applies it, per
//! version: the rules run in order, and a `keep`/`drop` (or `keepequal`/`dropequal`) rule that
//! refuses the set drops it. Used to see a static target as Prometheus sees it after the job's
//! `relabel_configs`.

use std::collections::BTreeMap;

use md5::{Digest, Md5};
use regex::Regex;
use serde_norway::{Mapping, Value};

use super::{check, is_label_name, scalar_text};
use crate::validate::Target;

/// A label set: name to value. A label set to `""` is absent, as in Prometheus' label builder.
pub type Labels = BTreeMap<String, String>;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Action {
    Replace,
    Keep,
    Drop,
    KeepEqual,
    DropEqual,
    HashMod,
    LabelMap,
    LabelDrop,
    LabelKeep,
    Lowercase,
    Uppercase,
}

/// One relabel config, ready to apply.
#[derive(Debug)]
pub struct Rule {
    action: Action,
    source_labels: Vec<String>,
    separator: String,
    regex: Regex,
    modulus: u64,
    target_label: String,
    replacement: String,
}

/// The rules of a `relabel_configs` list, or `None` when one of them is not valid for the version
/// (`relabel::check` reports it; Prometheus would not load the config, so there is nothing to apply).
pub fn compile(configs: &[Value], target: &Target) -> Option<Vec<Rule>> {
    let valid = |config: &Mapping| check(config, target).is_empty();
    configs.iter().map(|config| config.as_mapping().filter(|c| valid(c)).and_then(|c| Rule::new(c, target))).collect()
}

impl Rule {
    /// The rule as written, valid for the version or not (Prometheus' own tests apply such rules).
    fn new(config: &Mapping, target: &Target) -> Option<Rule> {
        // An absent field has Prometheus' default; a present but empty one is "".
        let field = |key: &str, default: &str| match config.get(key) {
            None => Some(default.to_string()),
            Some(Value::Null) => Some(String::new()),
            Some(value) => scalar_text(value),
        };
        let action = match field("action", "replace")?.to_lowercase().as_str() {
            "replace" => Action::Replace,
            "keep" => Action::Keep,
            "drop" => Action::Drop,
            "keepequal" => Action::KeepEqual,
            "dropequal" => Action::DropEqual,
            "hashmod" => Action::HashMod,
            "labelmap" => Action::LabelMap,
            "labeldrop" => Action::LabelDrop,
            "labelkeep" => Action::LabelKeep,
            "lowercase" => Action::Lowercase,
            "uppercase" => Action::Uppercase,
            _ => return None,
        };
        let source_labels = match config.get("source_labels") {
            Some(Value::Sequence(names)) => names.iter().map(scalar_text).collect::<Option<Vec<_>>>()?,
            _ => Vec::new(),
        };
        Some(Rule {
            action,
            source_labels,
            separator: field("separator", ";")?,
            regex: super::compile(&field("regex", "(.*)")?, target).ok()?,
            modulus: config.get("modulus").and_then(Value::as_u64).unwrap_or(0),
            target_label: field("target_label", "")?,
            replacement: field("replacement", "$1")?,
        })
    }
}

/// Applies `rules` to `labels` in order; `false` when a rule drops the set (`labels` is then
/// partly relabelled and of no use).
pub fn process(labels: &mut Labels, rules: &[Rule], target: &Target) -> bool {
    rules.iter().all(|rule| apply(labels, rule, target))
}

fn set(labels: &mut Labels, name: &str, value: String) {
    if value.is_empty() {
        labels.remove(name);
    } else {
        labels.insert(name.to_string(), value);
    }
}

fn apply(labels: &mut Labels, rule: &Rule, target: &Target) -> bool {
    let get = |labels: &Labels, name: &str| labels.get(name).cloned().unwrap_or_default();
    let value = rule.source_labels.iter().map(|name| get(labels, name)).collect::<Vec<_>>().join(&rule.separator);
    match rule.action {
        Action::Drop => return !rule.regex.is_match(&value),
        Action::Keep => return rule.regex.is_match(&value),
        Action::DropEqual => return get(labels, &rule.target_label) != value,
        Action::KeepEqual => return get(labels, &rule.target_label) == value,
        Action::Replace => {
            let Some(captures) = rule.regex.captures(&value) else { return true };
            let mut name = String::new();
            captures.expand(&rule.target_label, &mut name);
            if !is_label_name(&name, target) {
                // Prometheus 2 then deletes the label named as written (`${1}` and all); 3 leaves it.
                if !target.is_v3() {
                    labels.remove(&rule.target_label);
                }
                return true;
            }
            let mut replaced = String::new();
            captures.expand(&rule.replacement, &mut replaced);
            if replaced.is_empty() {
                let gone = if target.is_v3() { &name } else { &rule.target_label };
                labels.remove(gone);
            } else {
                labels.insert(name, replaced);
            }
        }
        Action::Lowercase => set(labels, &rule.target_label, value.to_lowercase()),
        Action::Uppercase => set(labels, &rule.target_label, value.to_uppercase()),
        Action::HashMod => {
            // The last 8 bytes of the MD5, big-endian (Prometheus 2 sums all 16, but the first 8
            // shift out of the 64 bits).
            let hash = Md5::digest(value.as_bytes());
            let tail: [u8; 8] = hash[8..].try_into().expect("an MD5 has 16 bytes");
            set(labels, &rule.target_label, (u64::from_be_bytes(tail) % rule.modulus).to_string());
        }
        Action::LabelMap => {
            for (name, label_value) in labels.clone() {
                if let Some(captures) = rule.regex.captures(&name) {
                    let mut mapped = String::new();
                    captures.expand(&rule.replacement, &mut mapped);
                    set(labels, &mapped, label_value);
                }
            }
        }
        Action::LabelDrop => labels.retain(|name, _| !rule.regex.is_match(name)),
        Action::LabelKeep => labels.retain(|name, _| rule.regex.is_match(name)),
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    type Case =
        (&'static [(&'static str, &'static str)], &'static str, Option<&'static [(&'static str, &'static str)]>);

    /// Prometheus' `TestRelabel` table: input labels, the rules (as the YAML, here JSON, that
    /// makes the test's `Config`: a field the test leaves out is written empty, except where the
    /// action forbids it), and the labels that come out (`None`: dropped).
    // Prometheus v3.5.3 model/relabel/relabel_test.go (TestRelabel)
    const ON_3_5: &[Case] = &[
        (&[("a", "foo"), ("b", "bar"), ("c", "baz")], "[{\"action\": \"replace\", \"source_labels\": [\"a\"], \"regex\": \"f(.*)\", \"target_label\": \"d\", \"separator\": \";\", \"replacement\": \"ch${1}-ch${1}\"}]", Some(&[("a", "foo"), ("b", "bar"), ("c", "baz"), ("d", "choo-choo")])),
        (&[("a", "foo"), ("b", "bar"), ("c", "baz")], "[{\"action\": \"replace\", \"source_labels\": [\"a\", \"b\"], \"regex\": \"f(.*);(.*)r\", \"target_label\": \"a\", \"separator\": \";\", \"replacement\": \"b${1}${2}m\"}, {\"action\": \"replace\", \"source_labels\": [\"c\", \"a\"], \"regex\": \"(b).*b(.*)ba(.*)\", \"target_label\": \"d\", \"separator\": \";\", \"replacement\": \"$1$2$2$3\"}]", Some(&[("a", "boobam"), ("b", "bar"), ("c", "baz"), ("d", "boooom")])),
        (&[("a", "foo")], "[{\"action\": \"drop\", \"source_labels\": [\"a\"], \"regex\": \".*o.*\", \"separator\": \"\", \"replacement\": \"\"}, {\"action\": \"replace\", \"source_labels\": [\"a\"], \"regex\": \"f(.*)\", \"target_label\": \"d\", \"separator\": \";\", \"replacement\": \"ch$1-ch$1\"}]", None),
        (&[("a", "foo"), ("b", "bar")], "[{\"action\": \"drop\", \"source_labels\": [\"a\"], \"regex\": \".*o.*\", \"separator\": \"\", \"replacement\": \"\"}]", None),
        (&[("a", "abc")], "[{\"action\": \"replace\", \"source_labels\": [\"a\"], \"regex\": \".*(b).*\", \"target_label\": \"d\", \"separator\": \";\", \"replacement\": \"$1\"}]", Some(&[("a", "abc"), ("d", "b")])),
        (&[("a", "foo")], "[{\"action\": \"drop\", \"source_labels\": [\"a\"], \"regex\": \"no-match\", \"separator\": \"\", \"replacement\": \"\"}]", Some(&[("a", "foo")])),
        (&[("a", "foo")], "[{\"action\": \"drop\", \"source_labels\": [\"a\"], \"regex\": \"f|o\", \"separator\": \"\", \"replacement\": \"\"}]", Some(&[("a", "foo")])),
        (&[("a", "foo")], "[{\"action\": \"keep\", \"source_labels\": [\"a\"], \"regex\": \"no-match\", \"separator\": \"\", \"replacement\": \"\"}]", None),
        (&[("a", "foo")], "[{\"action\": \"keep\", \"source_labels\": [\"a\"], \"regex\": \"f.*\", \"separator\": \"\", \"replacement\": \"\"}]", Some(&[("a", "foo")])),
        (&[("a", "boo")], "[{\"action\": \"replace\", \"source_labels\": [\"a\"], \"regex\": \"f\", \"target_label\": \"b\", \"separator\": \"\", \"replacement\": \"bar\"}]", Some(&[("a", "boo")])),
        (&[("a", "foo"), ("f", "baz")], "[{\"action\": \"replace\", \"source_labels\": [\"a\"], \"regex\": \"(f).*\", \"target_label\": \"$1\", \"separator\": \"\", \"replacement\": \"$2\"}]", Some(&[("a", "foo")])),
        (&[("a", "foo"), ("b", "bar"), ("c", "baz")], "[{\"action\": \"hashmod\", \"source_labels\": [\"c\"], \"target_label\": \"d\", \"modulus\": 1000, \"separator\": \";\"}]", Some(&[("a", "foo"), ("b", "bar"), ("c", "baz"), ("d", "976")])),
        (&[("a", "foo\nbar")], "[{\"action\": \"hashmod\", \"source_labels\": [\"a\"], \"target_label\": \"b\", \"modulus\": 1000, \"separator\": \";\"}]", Some(&[("a", "foo\nbar"), ("b", "734")])),
        (&[("a", "foo"), ("b1", "bar"), ("b2", "baz")], "[{\"action\": \"labelmap\", \"regex\": \"(b.*)\", \"separator\": \"\", \"replacement\": \"bar_${1}\"}]", Some(&[("a", "foo"), ("b1", "bar"), ("b2", "baz"), ("bar_b1", "bar"), ("bar_b2", "baz")])),
        (&[("a", "foo"), ("__meta_my_bar", "aaa"), ("__meta_my_baz", "bbb"), ("__meta_other", "ccc")], "[{\"action\": \"labelmap\", \"regex\": \"__meta_(my.*)\", \"separator\": \"\", \"replacement\": \"${1}\"}]", Some(&[("a", "foo"), ("__meta_my_bar", "aaa"), ("__meta_my_baz", "bbb"), ("__meta_other", "ccc"), ("my_bar", "aaa"), ("my_baz", "bbb")])),
        (&[("a", "some-name-value")], "[{\"action\": \"replace\", \"source_labels\": [\"a\"], \"regex\": \"some-([^-]+)-([^,]+)\", \"target_label\": \"${1}\", \"separator\": \"\", \"replacement\": \"${2}\"}]", Some(&[("a", "some-name-value"), ("name", "value")])),
        (&[("a", "some-name-value")], "[{\"action\": \"replace\", \"source_labels\": [\"a\"], \"regex\": \"some-([^-]+)-([^,]+)\", \"target_label\": \"${1}\", \"separator\": \"\", \"replacement\": \"${3}\"}]", Some(&[("a", "some-name-value")])),
        (&[("a", "some-name-0")], "[{\"action\": \"replace\", \"source_labels\": [\"a\"], \"regex\": \"some-([^-]+)-([^,]+)\", \"target_label\": \"${3}\", \"separator\": \"\", \"replacement\": \"${1}\"}, {\"action\": \"replace\", \"source_labels\": [\"a\"], \"regex\": \"some-([^-]+)-([^,]+)\", \"target_label\": \"${3}\", \"separator\": \"\", \"replacement\": \"${1}\"}, {\"action\": \"replace\", \"source_labels\": [\"a\"], \"regex\": \"some-([^-]+)(-[^,]+)\", \"target_label\": \"${3}\", \"separator\": \"\", \"replacement\": \"${1}\"}]", Some(&[("a", "some-name-0")])),
        (&[("__meta_sd_tags", "path:/secret,job:some-job,label:foo=bar")], "[{\"action\": \"replace\", \"source_labels\": [\"__meta_sd_tags\"], \"regex\": \"(?:.+,|^)path:(/[^,]+).*\", \"target_label\": \"__metrics_path__\", \"separator\": \"\", \"replacement\": \"${1}\"}, {\"action\": \"replace\", \"source_labels\": [\"__meta_sd_tags\"], \"regex\": \"(?:.+,|^)job:([^,]+).*\", \"target_label\": \"job\", \"separator\": \"\", \"replacement\": \"${1}\"}, {\"action\": \"replace\", \"source_labels\": [\"__meta_sd_tags\"], \"regex\": \"(?:.+,|^)label:([^=]+)=([^,]+).*\", \"target_label\": \"${1}\", \"separator\": \"\", \"replacement\": \"${2}\"}]", Some(&[("__meta_sd_tags", "path:/secret,job:some-job,label:foo=bar"), ("__metrics_path__", "/secret"), ("job", "some-job"), ("foo", "bar")])),
        (&[("__meta_kubernetes_pod_container_port_name", "foo"), ("__meta_kubernetes_pod_annotation_XXX_metrics_port", "9091")], "[{\"action\": \"labeldrop\", \"regex\": \"^__meta_kubernetes_pod_container_port_name$\"}, {\"action\": \"replace\", \"source_labels\": [\"__meta_kubernetes_pod_annotation_XXX_metrics_port\"], \"regex\": \"(.+)\", \"target_label\": \"__meta_kubernetes_pod_container_port_name\", \"separator\": \"\", \"replacement\": \"metrics\"}, {\"action\": \"keep\", \"source_labels\": [\"__meta_kubernetes_pod_container_port_name\"], \"regex\": \"^metrics$\", \"separator\": \"\", \"replacement\": \"\"}]", Some(&[("__meta_kubernetes_pod_annotation_XXX_metrics_port", "9091"), ("__meta_kubernetes_pod_container_port_name", "metrics")])),
        (&[("a", "foo"), ("b1", "bar"), ("b2", "baz")], "[{\"action\": \"labelkeep\", \"regex\": \"(b.*)\"}]", Some(&[("b1", "bar"), ("b2", "baz")])),
        (&[("a", "foo"), ("b1", "bar"), ("b2", "baz")], "[{\"action\": \"labeldrop\", \"regex\": \"(b.*)\"}]", Some(&[("a", "foo")])),
        (&[("foo", "bAr123Foo")], "[{\"action\": \"uppercase\", \"source_labels\": [\"foo\"], \"target_label\": \"foo_uppercase\"}, {\"action\": \"lowercase\", \"source_labels\": [\"foo\"], \"target_label\": \"foo_lowercase\"}]", Some(&[("foo", "bAr123Foo"), ("foo_lowercase", "bar123foo"), ("foo_uppercase", "BAR123FOO")])),
        (&[("__tmp_port", "1234"), ("__port1", "1234"), ("__port2", "5678")], "[{\"action\": \"keepequal\", \"source_labels\": [\"__tmp_port\"], \"target_label\": \"__port1\"}]", Some(&[("__tmp_port", "1234"), ("__port1", "1234"), ("__port2", "5678")])),
        (&[("__tmp_port", "1234"), ("__port1", "1234"), ("__port2", "5678")], "[{\"action\": \"dropequal\", \"source_labels\": [\"__tmp_port\"], \"target_label\": \"__port1\"}]", None),
        (&[("__tmp_port", "1234"), ("__port1", "1234"), ("__port2", "5678")], "[{\"action\": \"dropequal\", \"source_labels\": [\"__tmp_port\"], \"target_label\": \"__port2\"}]", Some(&[("__tmp_port", "1234"), ("__port1", "1234"), ("__port2", "5678")])),
        (&[("__tmp_port", "1234"), ("__port1", "1234"), ("__port2", "5678")], "[{\"action\": \"keepequal\", \"source_labels\": [\"__tmp_port\"], \"target_label\": \"__port2\"}]", None),
        (&[("a", "line1\nline2"), ("b", "bar"), ("c", "baz")], "[{\"action\": \"replace\", \"source_labels\": [\"a\"], \"regex\": \"line1.*line2\", \"target_label\": \"d\", \"separator\": \";\", \"replacement\": \"match${1}\"}]", Some(&[("a", "line1\nline2"), ("b", "bar"), ("c", "baz"), ("d", "match")])),
        (&[("utf-8.label", "line1\nline2"), ("b", "bar"), ("c", "baz")], "[{\"action\": \"replace\", \"source_labels\": [\"utf-8.label\"], \"regex\": \"line1.*line2\", \"target_label\": \"d\", \"separator\": \";\", \"replacement\": \"match${1}\"}]", Some(&[("utf-8.label", "line1\nline2"), ("b", "bar"), ("c", "baz"), ("d", "match")])),
        (&[("a", "line1\nline2"), ("b", "bar"), ("c", "baz")], "[{\"action\": \"replace\", \"source_labels\": [\"a\"], \"regex\": \"line1.*line2\", \"target_label\": \"utf-8.label\", \"separator\": \";\", \"replacement\": \"match${1}\"}]", Some(&[("a", "line1\nline2"), ("b", "bar"), ("c", "baz"), ("utf-8.label", "match")])),
        (&[("a", "line1\nline2"), ("b", "bar"), ("c", "baz")], "[{\"action\": \"replace\", \"source_labels\": [\"a\"], \"regex\": \"line1.*line2\", \"target_label\": \"utf-8.label${1}\", \"separator\": \";\", \"replacement\": \"match${1}\"}]", Some(&[("a", "line1\nline2"), ("b", "bar"), ("c", "baz"), ("utf-8.label", "match")])),
        (&[("a", "line1\nline2"), ("b", "bar"), ("c", "baz")], "[{\"action\": \"replace\", \"source_labels\": [\"a\"], \"regex\": \"(line1).*(?<second>line2)\", \"target_label\": \"label1_${1}\", \"separator\": \";\", \"replacement\": \"val_${second}\"}, {\"action\": \"replace\", \"source_labels\": [\"a\"], \"regex\": \"(line1).*(?<second>line2)\", \"target_label\": \"label2_$1\", \"separator\": \";\", \"replacement\": \"val_$second\"}]", Some(&[("a", "line1\nline2"), ("b", "bar"), ("c", "baz"), ("label1_line1", "val_line2"), ("label2_line1", "val_line2")])),
        (&[("__name__", "http_requests_total")], "[{\"action\": \"replace\", \"source_labels\": [\"__name__\"], \"regex\": \".*_total$\", \"target_label\": \"__type__\", \"separator\": \"\", \"replacement\": \"counter\"}]", Some(&[("__name__", "http_requests_total"), ("__type__", "counter")])),
        (&[("__name__", "disk_usage_bytes")], "[{\"action\": \"replace\", \"source_labels\": [\"__name__\"], \"regex\": \".*_bytes$\", \"target_label\": \"__unit__\", \"separator\": \"\", \"replacement\": \"bytes\"}]", Some(&[("__name__", "disk_usage_bytes"), ("__unit__", "bytes")])),
    ];

    // Prometheus v2.42.0 model/relabel/relabel_test.go (TestRelabel)
    const ON_2_42: &[Case] = &[
        (&[("a", "foo"), ("b", "bar"), ("c", "baz")], "[{\"action\": \"replace\", \"source_labels\": [\"a\"], \"regex\": \"f(.*)\", \"target_label\": \"d\", \"separator\": \";\", \"replacement\": \"ch${1}-ch${1}\"}]", Some(&[("a", "foo"), ("b", "bar"), ("c", "baz"), ("d", "choo-choo")])),
        (&[("a", "foo"), ("b", "bar"), ("c", "baz")], "[{\"action\": \"replace\", \"source_labels\": [\"a\", \"b\"], \"regex\": \"f(.*);(.*)r\", \"target_label\": \"a\", \"separator\": \";\", \"replacement\": \"b${1}${2}m\"}, {\"action\": \"replace\", \"source_labels\": [\"c\", \"a\"], \"regex\": \"(b).*b(.*)ba(.*)\", \"target_label\": \"d\", \"separator\": \";\", \"replacement\": \"$1$2$2$3\"}]", Some(&[("a", "boobam"), ("b", "bar"), ("c", "baz"), ("d", "boooom")])),
        (&[("a", "foo")], "[{\"action\": \"drop\", \"source_labels\": [\"a\"], \"regex\": \".*o.*\", \"separator\": \"\", \"replacement\": \"\"}, {\"action\": \"replace\", \"source_labels\": [\"a\"], \"regex\": \"f(.*)\", \"target_label\": \"d\", \"separator\": \";\", \"replacement\": \"ch$1-ch$1\"}]", None),
        (&[("a", "foo"), ("b", "bar")], "[{\"action\": \"drop\", \"source_labels\": [\"a\"], \"regex\": \".*o.*\", \"separator\": \"\", \"replacement\": \"\"}]", None),
        (&[("a", "abc")], "[{\"action\": \"replace\", \"source_labels\": [\"a\"], \"regex\": \".*(b).*\", \"target_label\": \"d\", \"separator\": \";\", \"replacement\": \"$1\"}]", Some(&[("a", "abc"), ("d", "b")])),
        (&[("a", "foo")], "[{\"action\": \"drop\", \"source_labels\": [\"a\"], \"regex\": \"no-match\", \"separator\": \"\", \"replacement\": \"\"}]", Some(&[("a", "foo")])),
        (&[("a", "foo")], "[{\"action\": \"drop\", \"source_labels\": [\"a\"], \"regex\": \"f|o\", \"separator\": \"\", \"replacement\": \"\"}]", Some(&[("a", "foo")])),
        (&[("a", "foo")], "[{\"action\": \"keep\", \"source_labels\": [\"a\"], \"regex\": \"no-match\", \"separator\": \"\", \"replacement\": \"\"}]", None),
        (&[("a", "foo")], "[{\"action\": \"keep\", \"source_labels\": [\"a\"], \"regex\": \"f.*\", \"separator\": \"\", \"replacement\": \"\"}]", Some(&[("a", "foo")])),
        (&[("a", "boo")], "[{\"action\": \"replace\", \"source_labels\": [\"a\"], \"regex\": \"f\", \"target_label\": \"b\", \"separator\": \"\", \"replacement\": \"bar\"}]", Some(&[("a", "boo")])),
        (&[("a", "foo"), ("b", "bar"), ("c", "baz")], "[{\"action\": \"hashmod\", \"source_labels\": [\"c\"], \"target_label\": \"d\", \"modulus\": 1000, \"separator\": \";\"}]", Some(&[("a", "foo"), ("b", "bar"), ("c", "baz"), ("d", "976")])),
        (&[("a", "foo\nbar")], "[{\"action\": \"hashmod\", \"source_labels\": [\"a\"], \"target_label\": \"b\", \"modulus\": 1000, \"separator\": \";\"}]", Some(&[("a", "foo\nbar"), ("b", "734")])),
        (&[("a", "foo"), ("b1", "bar"), ("b2", "baz")], "[{\"action\": \"labelmap\", \"regex\": \"(b.*)\", \"separator\": \"\", \"replacement\": \"bar_${1}\"}]", Some(&[("a", "foo"), ("b1", "bar"), ("b2", "baz"), ("bar_b1", "bar"), ("bar_b2", "baz")])),
        (&[("a", "foo"), ("__meta_my_bar", "aaa"), ("__meta_my_baz", "bbb"), ("__meta_other", "ccc")], "[{\"action\": \"labelmap\", \"regex\": \"__meta_(my.*)\", \"separator\": \"\", \"replacement\": \"${1}\"}]", Some(&[("a", "foo"), ("__meta_my_bar", "aaa"), ("__meta_my_baz", "bbb"), ("__meta_other", "ccc"), ("my_bar", "aaa"), ("my_baz", "bbb")])),
        (&[("a", "some-name-value")], "[{\"action\": \"replace\", \"source_labels\": [\"a\"], \"regex\": \"some-([^-]+)-([^,]+)\", \"target_label\": \"${1}\", \"separator\": \"\", \"replacement\": \"${2}\"}]", Some(&[("a", "some-name-value"), ("name", "value")])),
        (&[("a", "some-name-value")], "[{\"action\": \"replace\", \"source_labels\": [\"a\"], \"regex\": \"some-([^-]+)-([^,]+)\", \"target_label\": \"${1}\", \"separator\": \"\", \"replacement\": \"${3}\"}]", Some(&[("a", "some-name-value")])),
        (&[("a", "some-name-value")], "[{\"action\": \"replace\", \"source_labels\": [\"a\"], \"regex\": \"some-([^-]+)-([^,]+)\", \"target_label\": \"${3}\", \"separator\": \"\", \"replacement\": \"${1}\"}, {\"action\": \"replace\", \"source_labels\": [\"a\"], \"regex\": \"some-([^-]+)-([^,]+)\", \"target_label\": \"0${3}\", \"separator\": \"\", \"replacement\": \"${1}\"}, {\"action\": \"replace\", \"source_labels\": [\"a\"], \"regex\": \"some-([^-]+)-([^,]+)\", \"target_label\": \"-${3}\", \"separator\": \"\", \"replacement\": \"${1}\"}]", Some(&[("a", "some-name-value")])),
        (&[("__meta_sd_tags", "path:/secret,job:some-job,label:foo=bar")], "[{\"action\": \"replace\", \"source_labels\": [\"__meta_sd_tags\"], \"regex\": \"(?:.+,|^)path:(/[^,]+).*\", \"target_label\": \"__metrics_path__\", \"separator\": \"\", \"replacement\": \"${1}\"}, {\"action\": \"replace\", \"source_labels\": [\"__meta_sd_tags\"], \"regex\": \"(?:.+,|^)job:([^,]+).*\", \"target_label\": \"job\", \"separator\": \"\", \"replacement\": \"${1}\"}, {\"action\": \"replace\", \"source_labels\": [\"__meta_sd_tags\"], \"regex\": \"(?:.+,|^)label:([^=]+)=([^,]+).*\", \"target_label\": \"${1}\", \"separator\": \"\", \"replacement\": \"${2}\"}]", Some(&[("__meta_sd_tags", "path:/secret,job:some-job,label:foo=bar"), ("__metrics_path__", "/secret"), ("job", "some-job"), ("foo", "bar")])),
        (&[("a", "foo"), ("b1", "bar"), ("b2", "baz")], "[{\"action\": \"labelkeep\", \"regex\": \"(b.*)\"}]", Some(&[("b1", "bar"), ("b2", "baz")])),
        (&[("a", "foo"), ("b1", "bar"), ("b2", "baz")], "[{\"action\": \"labeldrop\", \"regex\": \"(b.*)\"}]", Some(&[("a", "foo")])),
        (&[("foo", "bAr123Foo")], "[{\"action\": \"uppercase\", \"source_labels\": [\"foo\"], \"target_label\": \"foo_uppercase\"}, {\"action\": \"lowercase\", \"source_labels\": [\"foo\"], \"target_label\": \"foo_lowercase\"}]", Some(&[("foo", "bAr123Foo"), ("foo_lowercase", "bar123foo"), ("foo_uppercase", "BAR123FOO")])),
        (&[("__tmp_port", "1234"), ("__port1", "1234"), ("__port2", "5678")], "[{\"action\": \"keepequal\", \"source_labels\": [\"__tmp_port\"], \"target_label\": \"__port1\"}]", Some(&[("__tmp_port", "1234"), ("__port1", "1234"), ("__port2", "5678")])),
        (&[("__tmp_port", "1234"), ("__port1", "1234"), ("__port2", "5678")], "[{\"action\": \"dropequal\", \"source_labels\": [\"__tmp_port\"], \"target_label\": \"__port1\"}]", None),
        (&[("__tmp_port", "1234"), ("__port1", "1234"), ("__port2", "5678")], "[{\"action\": \"dropequal\", \"source_labels\": [\"__tmp_port\"], \"target_label\": \"__port2\"}]", Some(&[("__tmp_port", "1234"), ("__port1", "1234"), ("__port2", "5678")])),
        (&[("__tmp_port", "1234"), ("__port1", "1234"), ("__port2", "5678")], "[{\"action\": \"keepequal\", \"source_labels\": [\"__tmp_port\"], \"target_label\": \"__port2\"}]", None),
    ];

    #[test]
    fn rules_relabel_as_prometheus_relabels() {
        let mut wrong = Vec::new();
        for (version, cases) in [("3.5", ON_3_5), ("2.42", ON_2_42)] {
            let target = Target::parse(version, "").unwrap();
            for (i, (input, rules, output)) in cases.iter().enumerate() {
                let configs: Vec<Value> = serde_norway::from_str(rules).unwrap();
                // As the Go test, the rules are applied without `Config.Validate`.
                let compiled: Option<Vec<Rule>> =
                    configs.iter().map(|c| c.as_mapping().and_then(|c| Rule::new(c, &target))).collect();
                let Some(compiled) = compiled else {
                    wrong.push(format!("{version} case {i}: the rules do not compile: {rules}"));
                    continue;
                };
                let mut labels: Labels = input.iter().map(|(n, v)| (n.to_string(), v.to_string())).collect();
                let kept = process(&mut labels, &compiled, &target).then_some(labels);
                let expected =
                    output.map(|o| o.iter().map(|(n, v)| (n.to_string(), v.to_string())).collect::<Labels>());
                if kept != expected {
                    wrong.push(format!("{version} case {i}: expected {expected:?}, got {kept:?}"));
                }
            }
        }
        assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    }
}
