//! Prometheus rule files (`rulefmt`), judged as the deployed version judges them: groups with
//! unique names, rules with exactly one of `alert` or `record`, valid durations, label and
//! annotation names (UTF-8 from Prometheus 3), an `expr` that parses as PromQL and uses only what
//! that version has. Unknown fields are errors, as they are for Prometheus (`labels` and
//! `query_offset` on a group are unknown to older versions). A file of several YAML documents is
//! refused, although Prometheus would load its first document and ignore the rest without a word.

use std::collections::{BTreeMap, HashSet};

use promstack::names::{Scheme, METRIC_NAME_LABEL};
use serde::Deserialize;

use super::{duration, promql, promql_version, scalar_map, yaml_problem, Problem, Target};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleFile {
    #[serde(default)]
    groups: Option<Vec<Group>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Group {
    #[serde(default, deserialize_with = "super::scalar")]
    name: String,
    interval: Option<String>,
    query_offset: Option<String>,
    limit: Option<i64>,
    #[serde(default, deserialize_with = "present_label_map")]
    labels: Option<BTreeMap<String, String>>,
    #[serde(default)]
    rules: Option<Vec<Rule>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Rule {
    #[serde(default, deserialize_with = "super::scalar")]
    record: String,
    #[serde(default, deserialize_with = "super::scalar")]
    alert: String,
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

fn present_label_map<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<BTreeMap<String, String>>, D::Error> {
    scalar_map(d).map(Some)
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
    target: &Target,
) -> Result<RuleCounts, Vec<Problem>> {
    if text.trim().is_empty() {
        return Ok(RuleCounts::default());
    }
    let parsed = parse(file, text)?;
    let lines = SourceLines::scan(text);
    let mut problems = Vec::new();
    let mut names = HashSet::new();
    let mut counts = RuleCounts::default();
    let mut key_index = 0;
    for group in parsed.and_then(|f| f.groups).unwrap_or_default() {
        counts.groups += 1;
        let group_line = lines.group_line(&group.name);
        let group_problem = |message: String| Problem::new(file, group_line, None, message);
        if group.name.is_empty() {
            problems.push(group_problem("group name must not be empty".into()));
        } else if !names.insert(group.name.clone()) {
            problems.push(group_problem(format!("group name {:?} is repeated in the same file", group.name)));
        }
        for (field, value) in [("interval", &group.interval), ("query_offset", &group.query_offset)] {
            if let Some(Err(e)) = value.as_deref().map(duration::parse) {
                problems.push(group_problem(format!("group {:?}: {field}: {e}", group.name)));
            }
        }
        let _ = group.limit;
        if group.query_offset.is_some() && !target.at_least(2, 53) {
            problems.push(group_problem(format!(
                "group {:?}: field query_offset needs Prometheus 2.53; {} does not know it",
                group.name,
                target.version()
            )));
        }
        if let Some(labels) = &group.labels {
            if !target.is_v3() {
                problems.push(group_problem(format!(
                    "group {:?}: field labels needs Prometheus 3; {} does not know it",
                    group.name,
                    target.version()
                )));
            }
            for name in labels.keys() {
                if let Some(why) = label_name_problem(name, target) {
                    problems.push(group_problem(format!("group {:?}: {why}", group.name)));
                }
            }
        }
        for (index, rule) in group.rules.unwrap_or_default().iter().enumerate() {
            counts.rules += 1;
            let keys = !rule.alert.is_empty() as usize + !rule.record.is_empty() as usize;
            let line = if keys > 0 { lines.rule_line(key_index) } else { group_line };
            key_index += keys;
            let label = [&rule.alert, &rule.record]
                .into_iter()
                .find(|n| !n.is_empty())
                .cloned()
                .unwrap_or_else(|| format!("#{} in group {:?}", index + 1, group.name));
            let mut report = |message: String| problems.push(Problem::new(file, line, Some(label.clone()), message));
            check_rule(rule, promql, target, &mut report);
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

/// The file's one YAML document; `None` for a document that is `null` or only comments (a
/// rendered mixin without rules), which every Prometheus loads as no groups.
fn parse(file: &str, text: &str) -> Result<Option<RuleFile>, Vec<Problem>> {
    let documents = count_documents(text);
    if documents > 1 {
        return Err(vec![Problem::new(
            file,
            None,
            None,
            format!(
                "the file holds {documents} YAML documents (separated by ---); Prometheus would load the first \
                 and ignore the rest without a word, so promstack refuses it (deliberately stricter): put every \
                 group in one document"
            ),
        )]);
    }
    // The first document only: a trailing `---` makes an empty second one.
    let first = || serde_norway::Deserializer::from_str(text).next();
    match first().map_or(Ok(None), Option::<RuleFile>::deserialize) {
        Ok(parsed) => Ok(parsed),
        // Merge keys (`<<: *defaults`) are YAML 1.1, which Prometheus's decoder applies and a
        // plain deserialisation does not: merged first, at the cost of the error's line.
        Err(e) if text.contains("<<") => {
            let Ok(mut value) = first().map_or(Ok(serde_norway::Value::Null), serde_norway::Value::deserialize) else {
                return Err(vec![yaml_problem(file, &e)]);
            };
            value.apply_merge().and_then(|()| serde_norway::from_value::<Option<RuleFile>>(value)).map_err(|merged| {
                vec![Problem::new(file, None, None, format!("invalid YAML (merge keys applied): {merged}"))]
            })
        }
        Err(e) => Err(vec![yaml_problem(file, &e)]),
    }
}

/// How many YAML documents `text` holds (a lone `---` at the top starts the first one).
fn count_documents(text: &str) -> usize {
    if !text.lines().any(|l| l.starts_with("---") || l.starts_with("...")) {
        return 1;
    }
    // Documents after the first that hold nothing (a trailing `---`) are ignored by every reader.
    let mut count = 0;
    for document in serde_norway::Deserializer::from_str(text) {
        match serde_norway::Value::deserialize(document) {
            Ok(serde_norway::Value::Null) if count > 0 => {}
            Ok(_) => count += 1,
            // The YAML error is reported by the parse that follows.
            Err(_) => return 1,
        }
    }
    count
}

fn check_rule(rule: &Rule, promql: &mut promql::Checker, target: &Target, report: &mut impl FnMut(String)) {
    let scheme = scheme(target);
    match (rule.alert.is_empty(), rule.record.is_empty()) {
        (true, true) => report("one of 'record' or 'alert' must be set".into()),
        (false, false) => report("only one of 'record' and 'alert' may be set".into()),
        (true, false) => {
            let record = &rule.record;
            if !scheme.is_metric_name(record) {
                report(format!(
                    "invalid recording rule name {record:?} ({}: {})",
                    target.version(),
                    scheme.metric_name_rule()
                ));
            } else if target.at_least(3, 2) && record.contains(['{', '}']) {
                report(format!("braces present in the recording rule name {record:?}; should it be in expr?"));
            }
            if !rule.annotations.is_empty() {
                report("invalid field 'annotations' in recording rule".into());
            }
            // Prometheus refuses a non-zero duration only (`for: 0s` passes).
            if rule.for_.as_deref().is_some_and(|d| duration::parse(d) != Ok(0)) {
                report("invalid field 'for' in recording rule".into());
            }
            if rule.keep_firing_for.as_deref().is_some_and(|d| duration::parse(d) != Ok(0)) {
                report("invalid field 'keep_firing_for' in recording rule".into());
            }
        }
        (false, true) => {}
    }
    for (field, value) in [("for", &rule.for_), ("keep_firing_for", &rule.keep_firing_for)] {
        if let Some(Err(e)) = value.as_deref().map(duration::parse) {
            report(format!("{field}: {e}"));
        }
    }
    if rule.keep_firing_for.is_some() && !target.at_least(2, 42) {
        report(format!("field keep_firing_for needs Prometheus 2.42; {} does not know it", target.version()));
    }
    for name in rule.labels.keys() {
        if let Some(why) = label_name_problem(name, target) {
            report(why);
        }
    }
    for name in rule.annotations.keys() {
        if !scheme.is_label_name(name) {
            report(format!("invalid annotation name {name:?} ({}: {})", target.version(), scheme.label_name_rule()));
        }
    }
    // Go templates: Prometheus parses every label and annotation value of an alert (not of a
    // recording rule) when it loads the file.
    if !rule.alert.is_empty() {
        for (kind, values) in [("label", &rule.labels), ("annotation", &rule.annotations)] {
            for (name, value) in values {
                if let Err(e) = super::gotemplate::check(value, target) {
                    report(format!("{kind} {name:?}: template: {e}"));
                }
            }
        }
    }
    if rule.expr.trim().is_empty() {
        report("field 'expr' must be set".into());
        return;
    }
    if let Err(refusal) = promql_version::check_expr(&rule.expr, promql, target) {
        report(refusal.to_string());
    }
}

/// The names `target` accepts: any UTF-8 from Prometheus 3, the classic ones before.
fn scheme(target: &Target) -> Scheme {
    if target.is_v3() {
        Scheme::Utf8
    } else {
        Scheme::Legacy
    }
}

/// Why `name` cannot be a label that a rule or group sets, if it cannot.
fn label_name_problem(name: &str, target: &Target) -> Option<String> {
    let scheme = scheme(target);
    if name == METRIC_NAME_LABEL {
        Some(format!("invalid label name {name:?}: a rule's labels cannot set the metric name"))
    } else if !scheme.is_label_name(name) {
        Some(format!("invalid label name {name:?} ({}: {})", target.version(), scheme.label_name_rule()))
    } else {
        None
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
    use super::super::describe;
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

    /// Debian 12's Prometheus.
    fn v2() -> Target {
        Target::parse("2.42.0", "").unwrap()
    }

    /// The Prometheus 3 that the tests run (3.5 LTS).
    fn v3() -> Target {
        Target::parse("3.5.3", "").unwrap()
    }

    fn v3_experimental() -> Target {
        Target::parse("3.5.3", "promql-experimental-functions").unwrap()
    }

    #[test]
    fn valid_file_passes_with_counts() {
        // VALID uses holt_winters, a Prometheus 2 function.
        assert_eq!(check("rules/node.yml", VALID, &v2()).unwrap(), RuleCounts { groups: 2, rules: 4 });
        assert_eq!(check("rules/empty.yml", "\n", &Target::default()).unwrap(), RuleCounts::default());
        let v3_problems = describe(&check("rules/node.yml", VALID, &v3()).unwrap_err());
        assert_eq!(
            v3_problems,
            "rules/node.yml:18: rule \"LoadForecast\": expr: holt_winters was renamed double_exponential_smoothing in \
             Prometheus 3, which needs --enable-feature=promql-experimental-functions"
        );
        let v3_renamed = VALID.replace("holt_winters", "double_exponential_smoothing");
        assert_eq!(check("rules/node.yml", &v3_renamed, &v3_experimental()).unwrap().rules, 4);
    }

    fn problems(text: &str) -> Vec<String> {
        problems_for(text, &Target::default())
    }

    fn problems_for(text: &str, target: &Target) -> Vec<String> {
        check("rules/x.yml", text, target).unwrap_err().iter().map(|p| p.to_string()).collect()
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
        // "bad name" is a valid recording rule name from Prometheus 3 (UTF-8).
        let p = problems_for(text, &v2());
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

    /// A file of one recording rule with `expr`.
    fn record(expr: &str) -> String {
        format!("groups:\n  - name: g\n    rules:\n      - record: r\n        expr: '{expr}'\n")
    }

    /// `None` if `text` passes on `target`, else all its problems.
    fn verdict(text: &str, target: &Target) -> Option<String> {
        check("rules/x.yml", text, target).err().map(|p| describe(&p))
    }

    /// Checks `text` on 2.42, 3.5 and 3.5 with promql-experimental-functions: each `Some(needle)`
    /// must be in the problems, each `None` must pass.
    fn assert_verdicts(text: &str, expected: [Option<&str>; 3]) {
        for (target, expected) in [v2(), v3(), v3_experimental()].iter().zip(expected) {
            match (verdict(text, target), expected) {
                (None, None) => {}
                (Some(problems), Some(needle)) => {
                    assert!(problems.contains(needle), "{target}: {needle:?} not in\n{problems}\nfor\n{text}")
                }
                (got, _) => panic!("{target}: expected {expected:?}, got {got:?} for\n{text}"),
            }
        }
    }

    const ABSENT_IN_2: &str = "does not exist in Prometheus 2.42";
    const NOT_ENABLED: &str =
        "is experimental in Prometheus 3.5 and needs --enable-feature=promql-experimental-functions";
    const QUOTED: &str = "needs Prometheus 3 (UTF-8 names)";
    const PARSE: &str = "expr does not parse as PromQL";
    const DURATION_FLAG: &str = "need --enable-feature=promql-duration-expr in Prometheus 3.5 (always on from 3.14)";

    /// Each expression as `promtool check rules` judged it in a recording rule, on 2.42 (Debian 12),
    /// 3.5.3, and 3.5.3 with --enable-feature=promql-experimental-functions (comments: promtool's
    /// words; OK = "SUCCESS").
    const EXPRESSIONS: &[(&str, [Option<&str>; 3])] = &[
        // OK | unknown function with name "holt_winters" | the same
        ("holt_winters(x[5m], 0.5, 0.5)", [None, Some("holt_winters was renamed double_exponential_smoothing in Prometheus 3, which needs --enable-feature=promql-experimental-functions"), Some("holt_winters was renamed double_exponential_smoothing in Prometheus 3")]),
        // unknown function | function "double_exponential_smoothing" is not enabled | OK
        ("double_exponential_smoothing(x[5m], 0.5, 0.5)", [Some("double_exponential_smoothing() does not exist in Prometheus 2.42 (added in Prometheus 3.0; Prometheus 2 calls it holt_winters)"), Some(NOT_ENABLED), None]),
        // unknown function | function "..." is not enabled | OK
        ("sort_by_label(up, \"job\")", [Some(ABSENT_IN_2), Some(NOT_ENABLED), None]),
        ("sort_by_label_desc(up, \"job\")", [Some(ABSENT_IN_2), Some(NOT_ENABLED), None]),
        ("sort_by_label(up, \"job\") > 1", [Some(ABSENT_IN_2), Some(NOT_ENABLED), None]),
        ("mad_over_time(x[5m])", [Some(ABSENT_IN_2), Some(NOT_ENABLED), None]),
        ("ts_of_max_over_time(x[5m])", [Some(ABSENT_IN_2), Some(NOT_ENABLED), None]),
        ("ts_of_min_over_time(x[5m])", [Some(ABSENT_IN_2), Some(NOT_ENABLED), None]),
        ("ts_of_last_over_time(x[5m])", [Some(ABSENT_IN_2), Some(NOT_ENABLED), None]),
        ("info(up)", [Some(ABSENT_IN_2), Some(NOT_ENABLED), None]),
        ("info(rate(x[5m]), {k8s_cluster_name=~\".+\"})", [Some(ABSENT_IN_2), Some(NOT_ENABLED), None]),
        // unknown function | not enabled | expected label selectors only, got vector selector instead
        ("info(rate(x[5m]), target_info{foo=\"bar\"})", [Some(ABSENT_IN_2), Some(NOT_ENABLED), Some("info()'s second argument must be label matchers only")]),
        // unknown function | not enabled | unexpected error (Prometheus' parser fails on it)
        ("info(x{namespace=\"zzz\"}, {foo=\"bar\"} == 1)", [Some(ABSENT_IN_2), Some(NOT_ENABLED), Some("info()'s second argument")]),
        // OK (all three): names to Prometheus, keywords to the parser
        ("sum by (anchored) (smoothed{a=\"b\"})", [None, None, None]),
        ("rate(anchored[5m])", [None, None, None]),
        // OK (all three): the @ modifier before the range
        ("some_metric @ start() [5m]", [None, None, None]),
        ("rate(some_metric @ end()[5m])", [None, None, None]),
        // no offset / @ modifiers allowed before range (all three)
        ("x offset 5m [10m]", [Some(PARSE), Some(PARSE), Some(PARSE)]),
        ("some_metric @ 1234 [5m]", [Some(PARSE), Some(PARSE), Some(PARSE)]),
        // unknown function with name "limitk" | limitk() is experimental and must be enabled with
        // --enable-feature=promql-experimental-functions | OK
        ("limitk(2, up)", [Some("limitk() does not exist in Prometheus 2.42 (added in Prometheus 2.54)"), Some(NOT_ENABLED), None]),
        ("limit_ratio(0.5, up)", [Some(ABSENT_IN_2), Some(NOT_ENABLED), None]),
        // unknown function (all three)
        ("ts_of_first_over_time(x[5m])", [Some(ABSENT_IN_2), Some("does not exist in Prometheus 3.5 (added in Prometheus 3.7)"), Some("does not exist in Prometheus 3.5")]),
        ("first_over_time(x[5m])", [Some(ABSENT_IN_2), Some("first_over_time() does not exist in Prometheus 3.5 (added in Prometheus 3.7)"), Some("does not exist in Prometheus 3.5")]),
        ("step()", [Some(ABSENT_IN_2), Some("added in Prometheus 3.12"), Some("added in Prometheus 3.12")]),
        ("range()", [Some(ABSENT_IN_2), Some("added in Prometheus 3.12"), Some("added in Prometheus 3.12")]),
        ("max_of(1, 2)", [Some(ABSENT_IN_2), Some("added in Prometheus 3.13"), Some("added in Prometheus 3.13")]),
        ("abs(x) + integral(x[5m])", [Some("integral() is not a Prometheus function"), Some("integral() is not a Prometheus function"), Some("integral() is not a Prometheus function")]),
        // unexpected "(" (all three)
        ("start()", [Some("expr"), Some("expr"), Some("expr")]),
        ("end()", [Some("expr"), Some("expr"), Some("expr")]),
        // unknown function | OK | OK
        ("histogram_avg(x)", [Some("histogram_avg() does not exist in Prometheus 2.42 (added in Prometheus 2.51)"), None, None]),
        ("histogram_stddev(x)", [Some(ABSENT_IN_2), None, None]),
        ("histogram_stdvar(x)", [Some(ABSENT_IN_2), None, None]),
        // 2.42: unexpected string "\"my.metric"... in label matching | OK | OK
        ("{\"my.metric\"}", [Some("the quoted name \"my.metric\" needs Prometheus 3 (UTF-8 names); Prometheus 2.42 accepts only"), None, None]),
        ("{\"my.metric\", job=\"a\"}", [Some(QUOTED), None, None]),
        ("up{\"my.label\"=\"a\"}", [Some(QUOTED), None, None]),
        // 2.42: unexpected string "\"my.label\"" in grouping opts | OK | OK
        ("sum by (\"my.label\") (up)", [Some(QUOTED), None, None]),
        ("sum(rate(x[5m])) / ignoring(\"my.label\") sum(y)", [Some(QUOTED), None, None]),
        ("up{job=\"a\"} * on (instance) group_left (\"my.label\") info_metric", [Some(QUOTED), None, None]),
        // OK (all three): names in strings that are values, not names
        ("{__name__=\"my.metric\"}", [None, None, None]),
        ("label_replace(up, \"my.label\", \"$1\", \"job\", \"(.*)\")", [None, None, None]),
        ("count_values(\"my.label\", up)", [None, None, None]),
        ("holt_winters{a=\"b\"}", [None, None, None]),
        // 2.42: missing unit character in duration | OK | OK
        ("rate(x[300])", [Some("the duration 300 has no unit, which needs Prometheus 2.54"), None, None]),
        // 2.42: unexpected number "60" in offset, expected duration | OK | OK
        ("x offset 60", [Some("the duration 60 has no unit"), None, None]),
        // 2.42: unexpected number "30" in subquery selector | OK | OK
        ("x[5m:30]", [Some("the duration 30 has no unit"), None, None]),
        // OK (all three)
        ("x[5m:1m] offset 1h", [None, None, None]),
        ("x[1h30m]", [None, None, None]),
        ("x @ start()", [None, None, None]),
        ("x offset -5m", [None, None, None]),
        // not a valid duration string / unknown unit "." (all three)
        ("x[1.5m]", [Some(PARSE), Some(PARSE), Some(PARSE)]),
        // 2.42: unexpected <op:+> in subquery or range / unexpected "(" in offset | 3.5: experimental
        // duration expression is not enabled (promtool 3.5 has no flag for it)
        ("x[5m+1m]", [Some("duration expressions (5m+1m) do not exist in Prometheus 2.42 (added in Prometheus 3.4)"), Some(DURATION_FLAG), Some(DURATION_FLAG)]),
        ("x offset (1h*2)", [Some("duration expressions ((1h*2)) do not exist"), Some(DURATION_FLAG), Some(DURATION_FLAG)]),
        ("rate(x[(5m)])", [Some("do not exist in Prometheus 2.42"), Some(DURATION_FLAG), Some(DURATION_FLAG)]),
        ("x offset -(1h)", [Some("do not exist in Prometheus 2.42"), Some(DURATION_FLAG), Some(DURATION_FLAG)]),
        // unexpected identifier "anchored" / "smoothed" (all three)
        ("rate(x[5m] anchored)", [Some("expr: the anchored range modifier does not exist in Prometheus 2.42 (added in Prometheus 3.7)"), Some("the anchored range modifier does not exist in Prometheus 3.5"), Some("does not exist in Prometheus 3.5")]),
        ("rate(x{a=\"b\"} smoothed)", [Some("the smoothed range modifier does not exist"), Some("the smoothed range modifier does not exist"), Some("does not exist")]),
        // unknown function with name "fill" (all three)
        ("up + fill(0) up", [Some("fill modifiers"), Some("fill modifiers on binary operators do not exist in Prometheus 3.5 (added in Prometheus 3.10)"), Some("fill modifiers")]),
        // unexpected identifier "or" in label matching (all three)
        ("{a=\"1\" or b=\"2\"}", [Some("`or` between label matchers is not PromQL"), Some("`or` between label matchers"), Some("`or` between label matchers")]),
    ];

    #[test]
    fn expressions_are_judged_as_each_version_judges_them() {
        for (expr, expected) in EXPRESSIONS {
            assert_verdicts(&record(expr), *expected);
        }
    }

    #[test]
    fn version_problems_name_the_file_line_and_rule() {
        let p = problems_for(&record("sort_by_label(up, \"job\")"), &v3());
        assert_eq!(
            p,
            ["rules/x.yml:4: rule \"r\": expr: sort_by_label() is experimental in Prometheus 3.5 and needs \
              --enable-feature=promql-experimental-functions"]
        );
    }

    #[test]
    fn functions_follow_the_minor_version_and_flags() {
        let first = record("first_over_time(x[5m])");
        // Experimental from 3.7, stable from 3.14 (functions.go of each release).
        assert!(verdict(&first, &Target::parse("v3.7.0", "").unwrap()).unwrap().contains("is experimental"));
        assert_eq!(verdict(&first, &Target::parse("v3.7.0", "promql-experimental-functions").unwrap()), None);
        assert_eq!(verdict(&first, &Target::parse("v3.16.0", "").unwrap()), None);
        let fill = record("up + fill(0) up");
        let t = Target::parse("v3.10.0", "").unwrap();
        assert!(verdict(&fill, &t).unwrap().contains("need --enable-feature=promql-binop-fill-modifiers"));
        assert_eq!(verdict(&fill, &Target::parse("v3.10.0", "promql-binop-fill-modifiers").unwrap()), None);
        // keep_firing_for: from 2.42 (model/rulefmt/rulefmt.go of 2.41 and 2.42).
        let keep =
            "groups:\n  - name: g\n    rules:\n      - alert: A\n        expr: up\n        keep_firing_for: 5m\n";
        assert!(verdict(keep, &Target::parse("2.41.0", "").unwrap())
            .unwrap()
            .contains("keep_firing_for needs Prometheus 2.42"));
        assert_eq!(verdict(keep, &v2()), None);
        // anchored/smoothed: from 3.7, behind promql-extended-range-selectors (generated_parser.y,
        // parse.go of 3.7); refused by promstack even then, saying so.
        let anchored = record("rate(x[5m] anchored)");
        assert!(verdict(&anchored, &Target::parse("v3.7.0", "").unwrap())
            .unwrap()
            .contains("needs --enable-feature=promql-extended-range-selectors"));
        let flagged = Target::parse("v3.7.0", "promql-extended-range-selectors").unwrap();
        assert!(verdict(&anchored, &flagged).unwrap().contains("is not supported by promstack's check"));
        // No unit: from 2.54.
        assert_eq!(verdict(&record("rate(x[300])"), &Target::parse("2.54.0", "").unwrap()), None);
    }

    /// Duration expressions need a flag promtool 3.5 does not take: these were loaded by the
    /// Prometheus 3.5.3 server with --enable-feature=promql-duration-expr (its /api/v1/rules
    /// listed each rule; the refused one stopped the rule file from loading).
    #[test]
    fn duration_expressions_follow_the_flag() {
        let flagged = Target::parse("3.5.3", "promql-duration-expr").unwrap();
        for expr in [
            "rate(x[5m+1m])",
            "x offset (1h*2)",
            "max_over_time(x[2*5m:(30s)])",
            "x offset -(1h)",
            "x[1h-5m:1m] offset (2^3 * 1s)",
            "rate(x[(5m)])",
            "x offset 1h + y",
        ] {
            assert_eq!(verdict(&record(expr), &flagged), None, "{expr}");
        }
        // unexpected identifier "offset_total" in offset, expected number or duration
        let refused = verdict(&record("x offset (1h*2) + offset_total"), &flagged).unwrap();
        assert!(refused.contains(PARSE), "{refused}");
        // Always on from 3.14 (the flag became a no-op), unknown before 3.4.
        assert_eq!(verdict(&record("rate(x[5m+1m])"), &Target::parse("v3.16.0", "").unwrap()), None);
        let old = Target::parse("3.3.0", "promql-duration-expr").unwrap();
        assert!(verdict(&record("rate(x[5m+1m])"), &old).unwrap().contains("added in Prometheus 3.4"));
    }

    /// Rule files as `promtool check rules` judged them on 2.42 and 3.5 (comments: its words).
    const FILES: &[(&str, &str, [Option<&str>; 2])] = &[
        // SUCCESS: 0 rules found (both): rendered mixins with no rules
        ("empty", "", [None, None]),
        ("null", "null\n", [None, None]),
        ("comment only", "# only a comment\n", [None, None]),
        ("null groups", "groups:\n", [None, None]),
        ("no groups", "groups: []\n", [None, None]),
        ("null rules", "groups:\n  - name: g\n    rules:\n", [None, None]),
        // field severity not found in type rulefmt.RuleNode / rulefmt.Rule (a merge key brings it)
        (
            "merge key bringing an unknown field",
            "groups:\n  - name: g\n    rules:\n      - alert: A\n        expr: up\n        <<: {severity: page}\n",
            [
                Some("rules/x.yml: invalid YAML (merge keys applied): unknown field `severity`"),
                Some("unknown field `severity`"),
            ],
        ),
        // SUCCESS: 2 rules found (both): anchors, aliases and merge keys
        (
            "merge keys",
            "groups:\n  - name: g\n    rules:\n      - &base\n        alert: A\n        expr: up == 0\n        \
             labels: &lbl\n          severity: page\n      - <<: *base\n        alert: B\n        labels:\n          \
             <<: *lbl\n          team: x\n",
            [None, None],
        ),
        // field x-common not found in type rulefmt.RuleGroups (both)
        (
            "anchor outside groups",
            "x-common: &common\n  for: 5m\ngroups:\n  - name: g\n    rules:\n      - alert: A\n        expr: up\n        \
             <<: *common\n",
            [Some("x-common"), Some("x-common")],
        ),
        // invalid label name: my.label / invalid annotation name: my.annotation | SUCCESS
        (
            "UTF-8 label and annotation names",
            "groups:\n  - name: g\n    rules:\n      - alert: A\n        expr: up == 0\n        labels:\n          \
             my.label: x\n        annotations:\n          my.annotation: y\n",
            [
                Some(
                    "rules/x.yml:4: rule \"A\": invalid label name \"my.label\" (Prometheus 2.42: must match \
                     [a-zA-Z_][a-zA-Z0-9_]*)\nrules/x.yml:4: rule \"A\": invalid annotation name \"my.annotation\" \
                     (Prometheus 2.42: must match [a-zA-Z_][a-zA-Z0-9_]*)",
                ),
                None,
            ],
        ),
        // invalid recording rule name: my.metric | SUCCESS
        (
            "UTF-8 recording rule name",
            "groups:\n  - name: g\n    rules:\n      - record: my.metric\n        expr: up\n",
            [Some("invalid recording rule name \"my.metric\" (Prometheus 2.42: must match [a-zA-Z_:][a-zA-Z0-9_:]*)"), None],
        ),
        // invalid recording rule name | braces present in the recording rule name; should it be in expr?
        (
            "braces in a recording rule name",
            "groups:\n  - name: g\n    rules:\n      - record: 'up{job=\"a\"}'\n        expr: up\n",
            [Some("invalid recording rule name"), Some("braces present in the recording rule name \"up{job=\\\"a\\\"}\"; should it be in expr?")],
        ),
        // field labels not found in type rulefmt.RuleGroup | SUCCESS: 1 rules found
        (
            "group labels",
            "groups:\n  - name: g\n    labels:\n      team: a\n    rules:\n      - record: r\n        expr: up\n",
            [Some("rules/x.yml:2: group \"g\": field labels needs Prometheus 3; Prometheus 2.42 does not know it"), None],
        ),
        // field labels not found | invalid label name: __name__
        (
            "__name__ as a group label",
            "groups:\n  - name: g\n    labels:\n      __name__: x\n    rules:\n      - record: r\n        expr: up\n",
            [Some("field labels needs Prometheus 3"), Some("group \"g\": invalid label name \"__name__\": a rule's labels cannot set the metric name")],
        ),
        // invalid label name: __name__ (both)
        (
            "__name__ as a rule label",
            "groups:\n  - name: g\n    rules:\n      - record: r\n        expr: up\n        labels:\n          __name__: x\n",
            [Some("rule \"r\": invalid label name \"__name__\": a rule's labels cannot set the metric name"), Some("invalid label name \"__name__\"")],
        ),
        // invalid label name: (empty) / invalid annotation name: (empty) (both)
        (
            "empty label and annotation names",
            "groups:\n  - name: g\n    rules:\n      - alert: A\n        expr: up\n        labels:\n          \"\": x\n        \
             annotations:\n          \"\": y\n",
            [Some("invalid label name \"\""), Some("invalid annotation name \"\" (Prometheus 3.5: must not be empty)")],
        ),
        // SUCCESS (both): reserved-looking names are fine
        (
            "reserved-looking names",
            "groups:\n  - name: g\n    rules:\n      - alert: A\n        expr: up\n        labels:\n          __foo: x\n          \
             alertname: y\n        annotations:\n          __bar: z\n",
            [None, None],
        ),
        // field query_offset not found in type rulefmt.RuleGroup | SUCCESS
        (
            "query_offset, limit and interval",
            "groups:\n  - name: g\n    query_offset: 1m\n    limit: 10\n    interval: 30s\n    rules:\n      - record: r\n        \
             expr: up\n",
            [Some("group \"g\": field query_offset needs Prometheus 2.53; Prometheus 2.42 does not know it"), None],
        ),
        // invalid field 'for' / 'keep_firing_for' in recording rule (both); keep_firing_for on an alert is fine
        (
            "for and keep_firing_for on a recording rule",
            "groups:\n  - name: g\n    rules:\n      - alert: A\n        expr: up\n        keep_firing_for: 5m\n      \
             - record: r\n        expr: up\n        keep_firing_for: 5m\n        for: 1m\n",
            [
                Some("rules/x.yml:7: rule \"r\": invalid field 'for' in recording rule\nrules/x.yml:7: rule \"r\": invalid field 'keep_firing_for' in recording rule"),
                Some("invalid field 'keep_firing_for' in recording rule"),
            ],
        ),
        // SUCCESS (both): a zero `for` is no `for`
        ("zero for on a recording rule", "groups:\n  - name: g\n    rules:\n      - record: r\n        expr: up\n        for: 0s\n", [None, None]),
        // one of 'record' or 'alert' must be set (both)
        ("empty alert name", "groups:\n  - name: g\n    rules:\n      - alert: \"\"\n        expr: up\n", [Some("rule \"#1 in group \\\"g\\\"\": one of 'record' or 'alert' must be set"), Some("one of 'record' or 'alert' must be set")]),
        // Groupname must not be empty (both)
        ("no group name", "groups:\n  - rules:\n      - record: r\n        expr: up\n", [Some("group name must not be empty"), Some("group name must not be empty")]),
        // field foo not found in type rulefmt.RuleGroup(s) (both)
        ("unknown group field", "groups:\n  - name: g\n    foo: 1\n    rules: []\n", [Some("rules/x.yml:3: invalid YAML: groups[0]: unknown field `foo`"), Some("unknown field `foo`")]),
        ("unknown top-level field", "groups: []\nfoo: 1\n", [Some("unknown field `foo`"), Some("unknown field `foo`")]),
        // SUCCESS: 1 rules found (both; the second document, with a broken expr, is never read):
        // promstack refuses the file on purpose.
        (
            "two YAML documents",
            "groups:\n  - name: g\n    rules:\n      - record: r\n        expr: up\n---\ngroups:\n  - name: h\n    rules:\n      \
             - record: r\n        expr: 'sum('\n",
            [
                Some("rules/x.yml: the file holds 2 YAML documents (separated by ---); Prometheus would load the first and ignore the rest without a word, so promstack refuses it"),
                Some("the file holds 2 YAML documents"),
            ],
        ),
        // mapping key "a" already defined at line 7 (both)
        ("duplicate label", "groups:\n  - name: g\n    rules:\n      - alert: A\n        expr: up\n        labels:\n          a: x\n          a: y\n", [Some("rules/x.yml:7: invalid YAML: groups[0].rules[0].labels: \"a\" is repeated in the same mapping"), Some("\"a\" is repeated")]),
        // mapping key "expr" already defined at line 5 (both)
        ("duplicate field", "groups:\n  - name: g\n    rules:\n      - alert: A\n        expr: up\n        expr: down\n", [Some("rules/x.yml:4: invalid YAML: groups[0].rules[0]: duplicate field `expr`"), Some("duplicate field `expr`")]),
        // cannot unmarshal !!map into string (both)
        ("a mapping as a label value", "groups:\n  - name: g\n    rules:\n      - alert: A\n        expr: up\n        labels:\n          nested: {a: b}\n", [Some("invalid YAML"), Some("invalid YAML")]),
        // SUCCESS (both): scalars of any type are strings to Go's decoder
        ("a number as expr", "groups:\n  - name: g\n    rules:\n      - record: r\n        expr: 5\n", [None, None]),
        ("a number as group name", "groups:\n  - name: 5\n    rules:\n      - record: r\n        expr: up\n", [None, None]),
        (
            "scalars as names and values",
            "groups:\n  - name: g\n    rules:\n      - alert: 5\n        expr: up\n        labels:\n          sev: 1\n          \
             b: true\n          c: null\n        annotations: null\n",
            [None, None],
        ),
        // SUCCESS (both): zero durations and a negative limit
        ("zeros", "groups:\n  - name: g\n    interval: 0\n    limit: -1\n    rules:\n      - alert: A\n        expr: up\n        for: 0\n", [None, None]),
        ("day and week units", "groups:\n  - name: g\n    rules:\n      - alert: A\n        expr: up\n        for: 1d\n        keep_firing_for: 1w\n", [None, None]),
        // SUCCESS: 2 rules found (both)
        ("flow style", "groups:\n- name: g\n  rules:\n  - {alert: A, expr: up}\n  - {record: \"r\", expr: \"sum(up)\"}\n", [None, None]),
        // SUCCESS (both): a document start marker and a trailing empty document are one document
        ("document markers", "---\ngroups:\n  - name: g\n    rules:\n      - record: r\n        expr: up\n---\n", [None, None]),
        // FAILED (both): annotation "summary": template: __alert_A:1: undefined variable "$label" — and nothing
        // about the recording rule's label, whose templates Prometheus does not parse
        (
            "alert templates are parsed, recording rule labels are not",
            "groups:\n  - name: g\n    rules:\n      - alert: A\n        expr: up == 0\n        annotations:\n          \
             summary: \"{{ $label.instance }} down\"\n      - record: r\n        expr: up\n        labels:\n          \
             x: \"{{ $nope }}\"\n",
            [
                Some("rules/x.yml:4: rule \"A\": annotation \"summary\": template: undefined variable \"$label\""),
                Some("annotation \"summary\": template: undefined variable \"$label\""),
            ],
        ),
    ];

    #[test]
    fn rule_files_are_judged_as_each_version_judges_them() {
        for (name, text, expected) in FILES {
            for (target, expected) in [v2(), v3()].iter().zip(expected) {
                match (verdict(text, target), expected) {
                    (None, None) => {}
                    (Some(problems), Some(needle)) => {
                        assert!(problems.contains(needle), "{name} on {target}: {needle:?} not in\n{problems}")
                    }
                    (got, _) => panic!("{name} on {target}: expected {expected:?}, got {got:?}"),
                }
            }
        }
    }
}
