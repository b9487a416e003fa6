//! Prometheus rule files (`rulefmt`): groups with unique names, rules with exactly one of
//! `alert` or `record`, valid durations, label and annotation names, and an `expr` that parses
//! as PromQL. Unknown fields are errors, as they are for Prometheus.

use std::collections::{BTreeMap, HashSet};

use promstack::names::{is_label_name, is_metric_name};
use serde::Deserialize;

use super::{duration, promql, scalar_map, yaml_problem, Problem, Target};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleFile {
    #[serde(default)]
    groups: Vec<Group>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Group {
    #[serde(default)]
    name: String,
    interval: Option<String>,
    query_offset: Option<String>,
    limit: Option<u64>,
    #[serde(default)]
    rules: Vec<Rule>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Rule {
    record: Option<String>,
    alert: Option<String>,
    #[serde(default, deserialize_with = "super::scalar")]
    expr: String,
    #[serde(rename = "for")]
    for_: Option<String>,
    keep_firing_for: Option<String>,
    #[serde(default, deserialize_with = "scalar_map")]
    labels: BTreeMap<String, String>,
    #[serde(default, deserialize_with = "scalar_map")]
    annotations: BTreeMap<String, String>,
}

/// What a valid rule file holds (for reports and benches).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RuleCounts {
    pub groups: usize,
    pub rules: usize,
}

/// Checks one rule file; `file` is the path reported in problems.
pub fn check(file: &str, text: &str, target: &Target) -> Result<RuleCounts, Vec<Problem>> {
    check_with(file, text, &mut promql::Checker::default(), target)
}

/// [`check`], sharing `promql`'s knowledge of regex literals across files.
pub fn check_with(
    file: &str,
    text: &str,
    promql: &mut promql::Checker,
    _target: &Target,
) -> Result<RuleCounts, Vec<Problem>> {
    if text.trim().is_empty() {
        return Ok(RuleCounts::default());
    }
    let parsed: RuleFile = serde_norway::from_str(text).map_err(|e| vec![yaml_problem(file, &e)])?;
    let lines = SourceLines::scan(text);
    let mut problems = Vec::new();
    let mut names = HashSet::new();
    let mut counts = RuleCounts::default();
    let mut key_index = 0;
    for group in &parsed.groups {
        counts.groups += 1;
        let group_line = lines.group_line(&group.name);
        let group_problem = |message: String| Problem::new(file, group_line, None, message);
        if group.name.trim().is_empty() {
            problems.push(group_problem("group name must not be empty".into()));
        } else if !names.insert(group.name.as_str()) {
            problems.push(group_problem(format!("group name {:?} is repeated in the same file", group.name)));
        }
        for (field, value) in [("interval", &group.interval), ("query_offset", &group.query_offset)] {
            if let Some(Err(e)) = value.as_deref().map(duration::parse) {
                problems.push(group_problem(format!("group {:?}: {field}: {e}", group.name)));
            }
        }
        let _ = group.limit;
        for (index, rule) in group.rules.iter().enumerate() {
            counts.rules += 1;
            let keys = rule.alert.is_some() as usize + rule.record.is_some() as usize;
            let line = if keys > 0 { lines.rule_line(key_index) } else { group_line };
            key_index += keys;
            let name = rule.alert.as_deref().or(rule.record.as_deref()).map(str::to_string);
            let label = name.clone().unwrap_or_else(|| format!("#{} in group {:?}", index + 1, group.name));
            let mut report = |message: String| problems.push(Problem::new(file, line, Some(label.clone()), message));
            check_rule(rule, promql, &mut report);
        }
    }
    if lines.rule_keys.len() != key_index {
        // The rule lines could not be matched to rules (flow-style YAML): drop the guesses
        // rather than point at the wrong line.
        for p in &mut problems {
            if p.rule.is_some() {
                p.line = None;
            }
        }
    }
    if problems.is_empty() {
        Ok(counts)
    } else {
        Err(problems)
    }
}

fn check_rule(rule: &Rule, promql: &mut promql::Checker, report: &mut impl FnMut(String)) {
    match (&rule.alert, &rule.record) {
        (None, None) => report("one of 'record' or 'alert' must be set".into()),
        (Some(_), Some(_)) => report("only one of 'record' and 'alert' may be set".into()),
        (Some(alert), None) if alert.trim().is_empty() => report("'alert' must not be empty".into()),
        (None, Some(record)) => {
            if !is_metric_name(record) {
                report(format!("invalid recording rule name {record:?}"));
            }
            if !rule.annotations.is_empty() {
                report("invalid field 'annotations' in recording rule".into());
            }
            if rule.for_.is_some() {
                report("invalid field 'for' in recording rule".into());
            }
            if rule.keep_firing_for.is_some() {
                report("invalid field 'keep_firing_for' in recording rule".into());
            }
        }
        _ => {}
    }
    for (field, value) in [("for", &rule.for_), ("keep_firing_for", &rule.keep_firing_for)] {
        if let Some(Err(e)) = value.as_deref().map(duration::parse) {
            report(format!("{field}: {e}"));
        }
    }
    for name in rule.labels.keys() {
        if !is_label_name(name) {
            report(format!("invalid label name {name:?}"));
        }
    }
    for name in rule.annotations.keys() {
        if !is_label_name(name) {
            report(format!("invalid annotation name {name:?}"));
        }
    }
    if rule.expr.trim().is_empty() {
        report("field 'expr' must be set".into());
    } else if let Err(e) = promql.check(&rule.expr) {
        report(format!("expr does not parse as PromQL: {e}"));
    }
}

/// Where groups and rules start in the source, found by scanning lines (serde gives no spans
/// for values that parsed): a rule is located by its `alert:`/`record:` key, in file order.
struct SourceLines<'a> {
    rule_keys: Vec<usize>,
    group_names: Vec<(usize, &'a str)>,
}

impl<'a> SourceLines<'a> {
    fn scan(text: &'a str) -> Self {
        let mut rule_keys = Vec::new();
        let mut group_names = Vec::new();
        for (i, line) in text.lines().enumerate() {
            let content = line.trim_start();
            let content = content.strip_prefix("- ").map(str::trim_start).unwrap_or(content);
            if content.starts_with("alert:") || content.starts_with("record:") {
                rule_keys.push(i + 1);
            } else if let Some(value) = content.strip_prefix("name:") {
                group_names.push((i + 1, unquote(value.trim())));
            }
        }
        SourceLines { rule_keys, group_names }
    }

    fn rule_line(&self, key_index: usize) -> Option<usize> {
        self.rule_keys.get(key_index).copied()
    }

    fn group_line(&self, name: &str) -> Option<usize> {
        self.group_names.iter().find(|(_, n)| *n == name).map(|(line, _)| *line)
    }
}

fn unquote(s: &str) -> &str {
    let s = s.split(" #").next().unwrap_or(s).trim();
    s.strip_prefix('"')
        .and_then(|s| s.strip_suffix('"'))
        .or_else(|| s.strip_prefix('\'').and_then(|s| s.strip_suffix('\'')))
        .unwrap_or(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    const VALID: &str = r#"
groups:
  - name: node
    interval: 1m
    rules:
      - record: job:up:sum
        expr: sum by (job) (up)
      - alert: InstanceDown
        expr: up == 0
        for: 5m
        labels:
          severity: page
          priority: 1
        annotations:
          summary: "{{ $labels.instance }} is down"
      - alert: HostnameRegex
        expr: label_replace(up, "host", "$1", "instance", `(.*):\d+`) == 0
      - alert: LoadForecast
        expr: holt_winters(node_load1[10m], 0.5, 0.5) > 10
  - name: other
    rules: []
"#;

    #[test]
    fn valid_file_passes_with_counts() {
        assert_eq!(check("rules/node.yml", VALID, &Target::default()).unwrap(), RuleCounts { groups: 2, rules: 4 });
        assert_eq!(check("rules/empty.yml", "\n", &Target::default()).unwrap(), RuleCounts::default());
    }

    fn problems(text: &str) -> Vec<String> {
        check("rules/x.yml", text, &Target::default()).unwrap_err().iter().map(|p| p.to_string()).collect()
    }

    #[test]
    fn errors_name_file_line_and_rule() {
        let text = "groups:\n  - name: a\n    rules:\n      - alert: Good\n        expr: up == 0\n      - alert: Broken\n        expr: sum(rate(x[5m])\n";
        let p = problems(text);
        assert_eq!(p.len(), 1, "{p:?}");
        assert!(p[0].starts_with("rules/x.yml:6: rule \"Broken\": expr does not parse as PromQL"), "{}", p[0]);
    }

    #[test]
    fn every_error_is_reported() {
        let text = r#"
groups:
  - name: a
    rules:
      - record: "bad name"
        expr: up
        for: 5m
        annotations: {x: y}
      - alert: Both
        record: both
        expr: up
      - expr: up
      - alert: BadFor
        expr: up
        for: 5 minutes
        labels:
          "bad-label": x
      - alert: NoExpr
  - name: a
    rules: []
"#;
        let p = problems(text);
        let all = p.join("\n");
        for needle in [
            "rules/x.yml:5: rule \"bad name\": invalid recording rule name",
            "rule \"bad name\": invalid field 'annotations' in recording rule",
            "rule \"bad name\": invalid field 'for' in recording rule",
            "rules/x.yml:9: rule \"Both\": only one of 'record' and 'alert' may be set",
            "rule \"#3 in group \\\"a\\\"\": one of 'record' or 'alert' must be set",
            "rules/x.yml:13: rule \"BadFor\": for: \"5 minutes\" is not a valid duration",
            "rule \"BadFor\": invalid label name \"bad-label\"",
            "rules/x.yml:18: rule \"NoExpr\": field 'expr' must be set",
            "rules/x.yml:3: group name \"a\" is repeated in the same file",
        ] {
            assert!(all.contains(needle), "missing {needle:?} in\n{all}");
        }
    }

    #[test]
    fn yaml_and_unknown_field_errors_have_lines() {
        let p =
            problems("groups:\n  - name: a\n    rules:\n      - alert: A\n        expr: up\n        severity: page\n");
        assert_eq!(p.len(), 1);
        assert!(p[0].starts_with("rules/x.yml:6:"), "{}", p[0]);
        assert!(p[0].contains("severity"), "{}", p[0]);
        let p = problems("groups:\n  - name: a\n   rules: [\n");
        assert!(p[0].starts_with("rules/x.yml:"), "{}", p[0]);
    }
}
