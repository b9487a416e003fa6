//! The rendered `prometheus.yml` holds together: it parses, has only known top-level sections,
//! valid durations, unique job names, scrape timeouts within intervals, valid file_sd paths, and
//! `rule_files` patterns that are relative and match every deployed rule file.

use serde_norway::{Mapping, Value};

use super::{duration, glob_match, kind, yaml_problem, Problem, Target};

const TOP_LEVEL: [&str; 11] = [
    "global",
    "alerting",
    "rule_files",
    "scrape_config_files",
    "scrape_configs",
    "storage",
    "tracing",
    "remote_write",
    "remote_read",
    "otlp",
    "runtime",
];

/// Prometheus' defaults when `global` does not say.
const DEFAULT_SCRAPE_INTERVAL_MS: u64 = 60_000;
const DEFAULT_SCRAPE_TIMEOUT_MS: u64 = 10_000;

/// Checks the rendered config. `rules` are `(repo path, deployed path)` of every rule file.
pub fn check(file: &str, rendered: &str, rules: &[(String, String)], _target: &Target) -> Vec<Problem> {
    let mut problems = Vec::new();
    let root: Value = match serde_norway::from_str(rendered) {
        Ok(v) => v,
        Err(e) => return vec![yaml_problem(file, &e)],
    };
    let root = match root {
        Value::Mapping(m) => m,
        Value::Null => Mapping::new(),
        other => return vec![Problem::new(file, Some(1), None, format!("expected a mapping, found {}", kind(&other)))],
    };
    let lines = Lines(rendered);
    let mut report = |line: Option<usize>, message: String| problems.push(Problem::new(file, line, None, message));

    for key in root.keys() {
        match key.as_str() {
            Some(k) if TOP_LEVEL.contains(&k) => {}
            Some(k) => report(lines.key(k, 0), format!("unknown top-level field {k:?}")),
            None => report(None, "top-level keys must be strings".into()),
        }
    }

    let global = root.get("global").and_then(Value::as_mapping);
    let mut global_interval = DEFAULT_SCRAPE_INTERVAL_MS;
    let mut global_timeout = DEFAULT_SCRAPE_TIMEOUT_MS;
    if let Some(global) = global {
        for field in ["scrape_interval", "scrape_timeout", "evaluation_interval", "rule_query_offset"] {
            if let Some(ms) = duration_field(global, field, &lines, &mut report) {
                match field {
                    "scrape_interval" => global_interval = ms,
                    "scrape_timeout" => global_timeout = ms,
                    _ => {}
                }
            }
        }
        if global.get("scrape_timeout").is_some() && global_timeout > global_interval {
            report(lines.key("scrape_timeout", 0), "global scrape_timeout is greater than scrape_interval".into());
        }
    }

    match root.get("rule_files") {
        None | Some(Value::Null) => {
            if let Some((repo_path, _)) = rules.first() {
                report(
                    None,
                    format!("rule_files is not set, so the rules in {repo_path} (and any others) would not be loaded"),
                );
            }
        }
        Some(Value::Sequence(patterns)) => {
            let patterns: Vec<&str> = patterns.iter().filter_map(Value::as_str).collect();
            for pattern in &patterns {
                if pattern.starts_with('/') || pattern.split('/').any(|c| c == "..") {
                    report(
                        lines.value(pattern),
                        format!("rule_files pattern {pattern:?} must be relative to prometheus.yml and stay inside it (e.g. rules.d/*.yml)"),
                    );
                }
            }
            for (repo_path, target) in rules {
                if !patterns.iter().any(|p| glob_match(p.trim_start_matches("./"), target)) {
                    report(
                        lines.key("rule_files", 0),
                        format!("{repo_path} is deployed to {target}, which no rule_files pattern matches"),
                    );
                }
            }
        }
        Some(other) => report(lines.key("rule_files", 0), format!("rule_files must be a list, found {}", kind(other))),
    }

    match root.get("scrape_configs") {
        None | Some(Value::Null) => {}
        Some(Value::Sequence(jobs)) => {
            let mut seen = std::collections::HashSet::new();
            let job_lines = lines.all("job_name:");
            for (i, job) in jobs.iter().enumerate() {
                let line = job_lines.get(i).copied();
                let Some(job) = job.as_mapping() else {
                    report(lines.key("scrape_configs", 0), format!("scrape config #{} is not a mapping", i + 1));
                    continue;
                };
                let name = match job.get("job_name") {
                    Some(Value::String(s)) if !s.is_empty() => s.clone(),
                    _ => {
                        report(line, format!("scrape config #{} has no job_name", i + 1));
                        continue;
                    }
                };
                if !seen.insert(name.clone()) {
                    report(line, format!("job_name {name:?} is used by more than one scrape config"));
                }
                let mut job_report = |l: Option<usize>, m: String| report(l.or(line), format!("job {name:?}: {m}"));
                let interval =
                    duration_field(job, "scrape_interval", &lines, &mut job_report).unwrap_or(global_interval);
                let timeout = duration_field(job, "scrape_timeout", &lines, &mut job_report);
                if let Some(timeout) = timeout {
                    if timeout > interval {
                        job_report(None, "scrape_timeout is greater than scrape_interval".into());
                    }
                }
                if let Some(Value::Sequence(sds)) = job.get("file_sd_configs") {
                    for sd in sds.iter().filter_map(Value::as_mapping) {
                        duration_field(sd, "refresh_interval", &lines, &mut job_report);
                        for path in sd.get("files").and_then(Value::as_sequence).into_iter().flatten() {
                            let path = path.as_str().unwrap_or_default();
                            if !is_file_sd_path(path) {
                                job_report(
                                    lines.value(path),
                                    format!("file_sd path {path:?} is not valid (it must end in .json, .yml or .yaml, with * only in the file name)"),
                                );
                            }
                        }
                    }
                }
            }
        }
        Some(other) => {
            report(lines.key("scrape_configs", 0), format!("scrape_configs must be a list, found {}", kind(other)))
        }
    }
    problems
}

fn duration_field(
    map: &Mapping,
    field: &str,
    lines: &Lines,
    report: &mut impl FnMut(Option<usize>, String),
) -> Option<u64> {
    let value = map.get(field)?;
    let text = match value {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        other => {
            report(lines.key(field, 0), format!("{field} must be a duration, found {}", kind(other)));
            return None;
        }
    };
    match duration::parse(&text) {
        Ok(ms) => Some(ms),
        Err(e) => {
            report(lines.value_of_key(field, &text), format!("{field}: {e}"));
            None
        }
    }
}

/// Prometheus' file_sd pattern rule: `^[^*]*(\*[^/]*)?\.(json|yml|yaml|JSON|YML|YAML)$`.
fn is_file_sd_path(path: &str) -> bool {
    let lower = path.to_ascii_lowercase();
    let ext_ok = [".json", ".yml", ".yaml"].iter().any(|e| lower.ends_with(e)) && path.len() > 4;
    let star_ok = match path.find('*') {
        None => true,
        Some(i) => !path[i + 1..].contains('*') && !path[i..].contains('/'),
    };
    ext_ok && star_ok
}

/// Finds lines in the source for messages (the parsed value has no spans).
struct Lines<'a>(&'a str);

impl Lines<'_> {
    /// The first line where `key:` starts (after indentation and `- `), at least `min_indent` in.
    fn key(&self, key: &str, min_indent: usize) -> Option<usize> {
        let needle = format!("{key}:");
        self.0.lines().enumerate().find_map(|(i, line)| {
            let indent = line.len() - line.trim_start().len();
            let content = line.trim_start();
            let content = content.strip_prefix("- ").unwrap_or(content);
            (indent >= min_indent && content.starts_with(&needle)).then_some(i + 1)
        })
    }

    /// Every line where `needle` starts (after indentation and `- `).
    fn all(&self, needle: &str) -> Vec<usize> {
        self.0
            .lines()
            .enumerate()
            .filter(|(_, line)| {
                let content = line.trim_start();
                content.strip_prefix("- ").unwrap_or(content).starts_with(needle)
            })
            .map(|(i, _)| i + 1)
            .collect()
    }

    fn value(&self, value: &str) -> Option<usize> {
        self.0.lines().position(|line| line.contains(value)).map(|i| i + 1)
    }

    fn value_of_key(&self, key: &str, value: &str) -> Option<usize> {
        let needle = format!("{key}:");
        self.0.lines().position(|line| line.contains(&needle) && line.contains(value)).map(|i| i + 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problems(yaml: &str, rules: &[(&str, &str)]) -> String {
        let rules: Vec<(String, String)> = rules.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect();
        check("prometheus.yml", yaml, &rules, &Target::default())
            .iter()
            .map(|p| p.to_string())
            .collect::<Vec<_>>()
            .join("\n")
    }

    #[test]
    fn a_sound_config_passes() {
        let yaml = "global:\n  scrape_interval: 15s\n  evaluation_interval: 30s\nrule_files:\n  - rules.d/*.yml\nscrape_configs:\n  - job_name: a\n    static_configs: [{targets: ['h:1']}]\n  - job_name: ecs\n    file_sd_configs:\n      - files: ['file_sd/ecs/*.json']\n        refresh_interval: 30s\n";
        assert_eq!(problems(yaml, &[("rules/a.yml", "rules.d/a.yml")]), "");
        assert_eq!(problems("", &[]), "");
    }

    #[test]
    fn problems_are_named_with_lines() {
        let yaml = "global:\n  scrape_interval: 15 seconds\nrule_files:\n  - /etc/prometheus/rules/*.yml\nscrape_configs:\n  - job_name: a\n    scrape_interval: 10s\n    scrape_timeout: 20s\n  - job_name: a\n    file_sd_configs:\n      - files: ['file_sd/*/x.json']\n        refresh_interval: often\nscrape_confgs: []\n";
        let all = problems(yaml, &[("rules/a.yml", "rules.d/a.yml")]);
        for needle in [
            "prometheus.yml:2: scrape_interval: \"15 seconds\" is not a valid duration",
            "prometheus.yml:4: rule_files pattern \"/etc/prometheus/rules/*.yml\" must be relative",
            "prometheus.yml:3: rules/a.yml is deployed to rules.d/a.yml, which no rule_files pattern matches",
            "prometheus.yml:6: job \"a\": scrape_timeout is greater than scrape_interval",
            "prometheus.yml:9: job_name \"a\" is used by more than one scrape config",
            "prometheus.yml:11: job \"a\": file_sd path \"file_sd/*/x.json\" is not valid",
            "prometheus.yml:12: job \"a\": refresh_interval: \"often\" is not a valid duration",
            "prometheus.yml:13: unknown top-level field \"scrape_confgs\"",
        ] {
            assert!(all.contains(needle), "missing {needle:?} in\n{all}");
        }
    }

    #[test]
    fn yaml_errors_have_lines() {
        let all = problems("global:\n  scrape_interval: 15s\n bad: [\n", &[]);
        assert!(all.starts_with("prometheus.yml:3: invalid YAML"), "{all}");
    }
}
