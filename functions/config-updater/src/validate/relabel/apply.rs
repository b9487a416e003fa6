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
    configs.iter().map(|config| Rule::new(config.as_mapping()?, target)).collect()
}

impl Rule {
    fn new(config: &Mapping, target: &Target) -> Option<Rule> {
        if !check(config, target).is_empty() {
            return None;
        }
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
