//! The rendered `prometheus.yml` as the deployed Prometheus version loads it: every field of every
//! section is one that version knows (Prometheus decodes its config strictly) and has the right
//! shape, durations parse, relabel configs pass `relabel`'s checks, service discovery kinds exist,
//! static targets are `host:port`, job names are unique, scrape timeouts fit their intervals,
//! file_sd paths are valid, and `rule_files` patterns are valid globs, relative, and match every
//! deployed rule file.

use std::collections::HashSet;

use serde_norway::{Mapping, Value};

use super::lines::Lines;
use super::schema::{self, Field, Fields, Kind, Version};
use super::{constraints, duration, glob_match, kind, relabel, yaml_problem, Problem, Target};

/// Prometheus' defaults when `global` does not say.
const DEFAULT_SCRAPE_INTERVAL_MS: u64 = 60_000;

/// Checks the rendered config. `rules` are `(repo path, deployed path)` of every rule file.
pub fn check(file: &str, rendered: &str, rules: &[(String, String)], target: &Target) -> Vec<Problem> {
    let root: Value = match serde_norway::from_str(rendered) {
        Ok(v) => v,
        Err(e) => return vec![yaml_problem(file, &e)],
    };
    let root = match root {
        Value::Mapping(m) => m,
        Value::Null => Mapping::new(),
        other => return vec![Problem::new(file, Some(1), None, format!("expected a mapping, found {}", kind(&other)))],
    };
    let lines = Lines::new(rendered);
    let mut walk = Walk { lines: &lines, target, version: (target.major, target.minor), found: Vec::new() };
    walk.section(&Value::Mapping(root.clone()), schema::TOP, &Place::root());
    walk.global(&root);
    walk.rule_files(&root, rules);
    walk.scrape_configs(&root);
    walk.unique_names(&root, "remote_write");
    walk.unique_names(&root, "remote_read");
    walk.found.into_iter().map(|(line, message)| Problem::new(file, line, None, message)).collect()
}

/// Where in the document a section is: its path for messages, its line, and its job.
#[derive(Clone)]
struct Place {
    path: String,
    line: Option<usize>,
    root: bool,
    job: Option<String>,
}

impl Place {
    fn root() -> Self {
        Place { path: String::new(), line: None, root: true, job: None }
    }

    /// What a message about a value here starts with: the job inside a scrape config, nothing at
    /// the top and in `global`, else the path.
    fn prefix(&self) -> String {
        match &self.job {
            Some(job) => format!("job {job:?}: "),
            None if self.root || self.path == "global" => String::new(),
            None => format!("{}: ", self.path),
        }
    }

    /// The place for a message about the section itself: `job "a": relabel_configs[0]` inside a
    /// scrape config, else the path.
    fn label(&self) -> String {
        match &self.job {
            Some(job) => match self.path.split_once('.') {
                Some((_, rest)) => format!("job {job:?}: {rest}"),
                None => format!("job {job:?}"),
            },
            None => self.path.clone(),
        }
    }

    fn field(&self, name: &str, line: Option<usize>) -> Place {
        let path = if self.root { name.to_string() } else { format!("{}.{name}", self.path) };
        Place { path, line, root: false, job: self.job.clone() }
    }

    fn item(&self, index: usize, line: Option<usize>) -> Place {
        Place { path: format!("{}[{index}]", self.path), line, root: false, job: self.job.clone() }
    }
}

struct Walk<'a> {
    lines: &'a Lines<'a>,
    target: &'a Target,
    version: Version,
    found: Vec<(Option<usize>, String)>,
}

impl Walk<'_> {
    fn report(&mut self, line: Option<usize>, message: String) {
        self.found.push((line, message));
    }

    fn release(&self) -> String {
        format!("Prometheus {}.{}", self.version.0, self.version.1)
    }

    /// The line of `key` below `place` (the place's own line when it cannot be told).
    fn key_line(&self, place: &Place, key: &str) -> Option<usize> {
        if place.root {
            self.lines.child(None, key)
        } else {
            place.line.and_then(|l| self.lines.child(Some(l), key)).or(place.line)
        }
    }

    /// Checks a mapping against `fields`: unknown fields, and each known field's value.
    fn section(&mut self, value: &Value, fields: Fields, place: &Place) {
        let map = match value {
            Value::Null => return,
            Value::Mapping(map) => map,
            other => {
                let what = if place.root { "the document".to_string() } else { place.path.clone() };
                self.report(place.line, format!("{what} must be a mapping, found {}", kind(other)));
                return;
            }
        };
        let discovers = std::ptr::eq(fields, schema::SCRAPE) || std::ptr::eq(fields, schema::ALERTMANAGER);
        for (key, value) in map {
            let Some(key) = key.as_str() else {
                self.report(place.line, format!("{}keys must be strings", place.prefix()));
                continue;
            };
            let line = self.key_line(place, key);
            if discovers && (key == "static_configs" || key.ends_with("_sd_configs")) {
                self.discovery(key, value, &place.field(key, line));
                continue;
            }
            match fields.iter().find(|f| f.name == key && f.known_in(self.version)) {
                Some(field) => self.value(field, value, &place.field(key, line), place),
                None => {
                    let message = self.unknown(key, fields, place);
                    self.report(line, message);
                }
            }
        }
        for (key, message) in constraints::check(fields, map, self.target) {
            let line = if key.is_empty() { place.line } else { self.key_line(place, key) };
            let prefix = if place.root { String::new() } else { format!("{}: ", place.label()) };
            self.report(line, format!("{prefix}{message}"));
        }
    }

    /// The message for a field `fields` does not have in this version.
    fn unknown(&self, key: &str, fields: Fields, place: &Place) -> String {
        let release = self.release();
        let mut message = if place.root {
            format!("unknown top-level field {key:?} ({release})")
        } else {
            format!("field {key:?} not found in {} ({release})", place.path)
        };
        if let Some(other) = fields.iter().find(|f| f.name == key) {
            match other.until {
                Some((major, minor)) if self.version >= (major, minor) => {
                    message.push_str(&format!("; it was removed in Prometheus {major}.{minor}"))
                }
                _ => message.push_str(&format!("; it needs Prometheus {}.{} or later", other.since.0, other.since.1)),
            }
        } else if let Some(close) = closest(key, fields.iter().filter(|f| f.known_in(self.version)).map(|f| f.name)) {
            message.push_str(&format!("; did you mean {close:?}?"));
        }
        message
    }

    /// Checks one field's value; `place` is the field, `parent` the section it is in.
    fn value(&mut self, field: &Field, value: &Value, place: &Place, parent: &Place) {
        if value.is_null() {
            return;
        }
        let name = field.name;
        let wrong = |expected: &str| format!("{}{name} must be {expected}, found {}", parent.prefix(), kind(value));
        match field.kind {
            Kind::Duration => match value {
                Value::String(_) | Value::Number(_) => {
                    let text = scalar(value);
                    if let Err(e) = duration::parse(&text) {
                        let line = self.lines.find(place.line, &text).filter(|l| Some(*l) == place.line).or(place.line);
                        self.report(line, format!("{}{name}: {e}", parent.prefix()));
                    }
                }
                _ => self.report(place.line, wrong("a duration")),
            },
            Kind::Bool => {
                let ok = matches!(value, Value::Bool(_))
                    || value.as_str().is_some_and(|s| YAML11_BOOLS.contains(&s));
                if !ok {
                    self.report(place.line, wrong("true or false"));
                }
            }
            Kind::Int => {
                if !value.is_i64() && !value.is_u64() {
                    self.report(place.line, wrong("an integer"));
                }
            }
            Kind::Float => {
                if !value.is_number() {
                    self.report(place.line, wrong("a number"));
                }
            }
            Kind::Str | Kind::Size | Kind::Url => {
                if !is_scalar(value) {
                    self.report(place.line, wrong("a string"));
                }
            }
            Kind::Strings => match value.as_sequence() {
                Some(items) if items.iter().all(is_scalar) => {}
                _ => self.report(place.line, wrong("a list of strings")),
            },
            Kind::StrMap => match value.as_mapping() {
                Some(map) if map.values().all(|v| is_scalar(v) || v.is_null()) => {}
                _ => self.report(place.line, wrong("a mapping of strings")),
            },
            Kind::Params => match value.as_mapping() {
                Some(map) if map.values().all(|v| v.as_sequence().is_some_and(|s| s.iter().all(is_scalar))) => {}
                _ => self.report(place.line, wrong("a mapping of lists of strings")),
            },
            Kind::Any => {}
            Kind::Struct(fields) => self.section(value, fields, place),
            Kind::Structs(fields) => {
                let Some(items) = value.as_sequence() else {
                    self.report(place.line, wrong("a list"));
                    return;
                };
                for (i, item) in items.iter().enumerate() {
                    let line = self.lines.item(place.line, i).or(place.line);
                    let mut item_place = place.item(i, line);
                    if item.is_null() {
                        self.report(line, format!("{}: empty or null section", item_place.label()));
                        continue;
                    }
                    if std::ptr::eq(fields, schema::SCRAPE) {
                        item_place.job = item.get("job_name").and_then(Value::as_str).map(str::to_string);
                    }
                    self.section(item, fields, &item_place);
                }
            }
            Kind::Relabels => {
                let Some(items) = value.as_sequence() else {
                    self.report(place.line, wrong("a list of relabel configs"));
                    return;
                };
                for (i, item) in items.iter().enumerate() {
                    let line = self.lines.item(place.line, i).or(place.line);
                    let item_place = place.item(i, line);
                    if item.is_null() {
                        self.report(line, format!("{}: empty or null relabeling rule", item_place.label()));
                        continue;
                    }
                    self.section(item, schema::RELABEL, &item_place);
                    let Some(map) = item.as_mapping() else { continue };
                    for (key, message) in relabel::check(map, self.target) {
                        let line = self.key_line(&item_place, key);
                        self.report(line, format!("{}: {message}", item_place.label()));
                    }
                }
            }
        }
    }

    /// A `static_configs` or `<kind>_sd_configs` list.
    fn discovery(&mut self, key: &str, value: &Value, place: &Place) {
        let kind_name = key.strip_suffix("_sd_configs").unwrap_or("static");
        let known = schema::SD_KINDS.iter().find(|(k, _)| *k == kind_name);
        match known {
            _ if key == "static_configs" => {}
            Some((_, since)) if self.version >= *since => {}
            Some((_, since)) => {
                let message = format!(
                    "field {key:?} not found in {} ({}); {kind_name} service discovery needs Prometheus {}.{} or later",
                    place.path.rsplit_once('.').map_or("", |p| p.0),
                    self.release(),
                    since.0,
                    since.1
                );
                self.report(place.line, message);
                return;
            }
            None => {
                let kinds = schema::SD_KINDS.iter().filter(|(_, s)| self.version >= *s).map(|(k, _)| *k);
                let mut message = format!(
                    "field {key:?} not found in {} ({}): not a service discovery kind",
                    place.path.rsplit_once('.').map_or("", |p| p.0),
                    self.release()
                );
                if let Some(close) = closest(kind_name, kinds) {
                    message.push_str(&format!("; did you mean \"{close}_sd_configs\"?"));
                }
                self.report(place.line, message);
                return;
            }
        }
        let Some(fields) = schema::sd_fields(kind_name) else { return };
        let parent = Place { path: place.path.clone(), ..place.clone() };
        let Some(items) = value.as_sequence() else {
            if !value.is_null() {
                self.report(place.line, format!("{}{key} must be a list, found {}", place.prefix(), kind(value)));
            }
            return;
        };
        for (i, item) in items.iter().enumerate() {
            let line = self.lines.item(place.line, i).or(place.line);
            let item_place = parent.item(i, line);
            if item.is_null() {
                self.report(line, format!("{}empty or null section in {key}", place.prefix()));
                continue;
            }
            self.section(item, fields, &item_place);
            if kind_name == "static" {
                self.static_targets(item, &item_place);
            }
        }
    }

    /// `host:port` targets and valid label names, as `targetgroup` and `CheckTargetAddress` want.
    fn static_targets(&mut self, group: &Value, place: &Place) {
        for target in group.get("targets").and_then(Value::as_sequence).into_iter().flatten() {
            let address = scalar(target);
            if address.contains('/') {
                let line = self.lines.find(place.line, &address).or(place.line);
                self.report(line, format!("{}{address:?} is not a valid hostname (a target is host:port, without scheme or path)", place.prefix()));
            }
        }
        for name in group.get("labels").and_then(Value::as_mapping).into_iter().flat_map(|m| m.keys()) {
            let name = scalar(name);
            if !relabel::is_label_name(&name, self.target) {
                let line = self.lines.find(place.line, &name).or(place.line);
                self.report(line, format!("{}{name:?} is not a valid label name ({})", place.prefix(), self.release()));
            }
        }
    }

    /// The global scrape timeout fits the global interval.
    fn global(&mut self, root: &Mapping) {
        let Some(global) = root.get("global").and_then(Value::as_mapping) else { return };
        let ms = |field: &str| global.get(field).and_then(|v| duration::parse(&scalar(v)).ok());
        let interval = ms("scrape_interval").unwrap_or(DEFAULT_SCRAPE_INTERVAL_MS);
        if let Some(timeout) = ms("scrape_timeout") {
            if timeout > interval {
                let line = self.lines.child(self.lines.child(None, "global"), "scrape_timeout");
                self.report(line, "global scrape_timeout is greater than scrape_interval".into());
            }
        }
        for name in global.get("external_labels").and_then(Value::as_mapping).into_iter().flat_map(|m| m.keys()) {
            let name = scalar(name);
            if !relabel::is_label_name(&name, self.target) {
                let line = self.lines.child(self.lines.child(self.lines.child(None, "global"), "external_labels"), &name);
                self.report(line, format!("external_labels: {name:?} is not a valid label name ({})", self.release()));
            }
        }
    }

    fn rule_files(&mut self, root: &Mapping, rules: &[(String, String)]) {
        let key_line = self.lines.child(None, "rule_files");
        match root.get("rule_files") {
            None | Some(Value::Null) => {
                if let Some((repo_path, _)) = rules.first() {
                    self.report(
                        None,
                        format!("rule_files is not set, so the rules in {repo_path} (and any others) would not be loaded"),
                    );
                }
            }
            Some(Value::Sequence(patterns)) => {
                let patterns: Vec<String> = patterns.iter().map(scalar).collect();
                for (i, pattern) in patterns.iter().enumerate() {
                    let line = self.lines.item(key_line, i).or(key_line);
                    if pattern.starts_with('/') || pattern.split('/').any(|c| c == "..") {
                        self.report(
                            line,
                            format!("rule_files pattern {pattern:?} must be relative to prometheus.yml and stay inside it (e.g. rules.d/*.yml)"),
                        );
                    }
                    if let Some(problem) = glob_problem(pattern) {
                        self.report(line, format!("rule_files pattern {pattern:?}: {problem}"));
                    }
                }
                for (repo_path, target) in rules {
                    if !patterns.iter().any(|p| glob_match(p.trim_start_matches("./"), target)) {
                        self.report(key_line, format!("{repo_path} is deployed to {target}, which no rule_files pattern matches"));
                    }
                }
            }
            Some(_) => {}
        }
        let files_line = self.lines.child(None, "scrape_config_files");
        for (i, pattern) in root.get("scrape_config_files").and_then(Value::as_sequence).into_iter().flatten().enumerate() {
            let pattern = scalar(pattern);
            if let Some(problem) = glob_problem(&pattern) {
                let line = self.lines.item(files_line, i).or(files_line);
                self.report(line, format!("scrape_config_files pattern {pattern:?}: {problem}"));
            }
        }
    }

    /// Job names (present, unique), scrape timeouts within intervals, and file_sd paths.
    fn scrape_configs(&mut self, root: &Mapping) {
        let Some(Value::Sequence(jobs)) = root.get("scrape_configs") else { return };
        let global = root.get("global");
        let global_ms = |field: &str, default: u64| {
            global.and_then(|g| g.get(field)).and_then(|v| duration::parse(&scalar(v)).ok()).unwrap_or(default)
        };
        let global_interval = global_ms("scrape_interval", DEFAULT_SCRAPE_INTERVAL_MS);
        let key_line = self.lines.child(None, "scrape_configs");
        let mut seen = HashSet::new();
        for (i, job) in jobs.iter().enumerate() {
            let line = self.lines.item(key_line, i).or(key_line);
            let Some(job) = job.as_mapping() else { continue }; // reported by the section walk
            let name = match job.get("job_name") {
                Some(v) if is_scalar(v) && !scalar(v).is_empty() => scalar(v),
                _ => {
                    self.report(line, format!("scrape config #{} has no job_name", i + 1));
                    continue;
                }
            };
            if !seen.insert(name.clone()) {
                self.report(line, format!("job_name {name:?} is used by more than one scrape config"));
            }
            let ms = |field: &str| job.get(field).and_then(|v| duration::parse(&scalar(v)).ok());
            let interval = ms("scrape_interval").unwrap_or(global_interval);
            if ms("scrape_timeout").is_some_and(|timeout| timeout > interval) {
                self.report(line, format!("job {name:?}: scrape_timeout is greater than scrape_interval"));
            }
            if let Some(scheme) = job.get("scheme").map(scalar) {
                if scheme != "http" && scheme != "https" && !scheme.is_empty() {
                    let at = self.lines.child(line, "scheme").or(line);
                    self.report(at, format!("job {name:?}: scheme {scheme:?} is not supported (http or https)"));
                }
            }
            for sd in job.get("file_sd_configs").and_then(Value::as_sequence).into_iter().flatten() {
                for path in sd.get("files").and_then(Value::as_sequence).into_iter().flatten() {
                    let path = scalar(path);
                    if !is_file_sd_path(&path) {
                        self.report(
                            self.lines.find(line, &path).or(line),
                            format!("job {name:?}: file_sd path {path:?} is not valid (it must end in .json, .yml or .yaml, with * only in the file name)"),
                        );
                    }
                }
            }
        }
    }

    /// `remote_write` and `remote_read` names are unique (unnamed ones get a hash), and each has a url.
    fn unique_names(&mut self, root: &Mapping, section: &str) {
        let Some(Value::Sequence(items)) = root.get(section) else { return };
        let key_line = self.lines.child(None, section);
        let mut seen = HashSet::new();
        for (i, item) in items.iter().enumerate() {
            let line = self.lines.item(key_line, i).or(key_line);
            if item.is_null() {
                continue; // reported by the section walk
            }
            if item.get("url").is_none_or(Value::is_null) {
                self.report(line, format!("{section}[{i}]: url for {} is empty", section.replace('_', " ")));
            }
            let name = item.get("name").map(scalar).unwrap_or_default();
            if !name.is_empty() && !seen.insert(name.clone()) {
                self.report(line, format!("{section}[{i}]: found multiple {} configs with name {name:?}", section.replace('_', " ")));
            }
        }
    }
}

/// yaml.v2 (YAML 1.1) reads these plain scalars as booleans.
const YAML11_BOOLS: [&str; 22] = [
    "y", "Y", "yes", "Yes", "YES", "n", "N", "no", "No", "NO", "true", "True", "TRUE", "false", "False", "FALSE",
    "on", "On", "ON", "off", "Off", "OFF",
];

fn is_scalar(value: &Value) -> bool {
    matches!(value, Value::String(_) | Value::Number(_) | Value::Bool(_))
}

fn scalar(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        _ => String::new(),
    }
}

/// The candidate closest to `word` by edit distance, if close enough to be a likely typo.
fn closest<'a>(word: &str, candidates: impl Iterator<Item = &'a str>) -> Option<&'a str> {
    candidates
        .map(|c| (edit_distance(word, c), c))
        .filter(|(d, c)| *d <= 2.max(c.len() / 4))
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut previous = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let substitution = previous + usize::from(ca != *cb);
            previous = row[j + 1];
            row[j + 1] = substitution.min(row[j] + 1).min(row[j + 1] + 1);
        }
    }
    row[b.len()]
}

/// Why Prometheus refuses a `rule_files` or `scrape_config_files` pattern: its own rule
/// (`^[^*]*(\*[^/]*)?$`: a `*` only in the last path segment), then Go's `filepath.Glob`, which
/// refuses a malformed pattern (`ErrBadPattern`: an unclosed `[`, an empty or open range, a
/// trailing `\`).
fn glob_problem(pattern: &str) -> Option<String> {
    if let Some(star) = pattern.find('*') {
        if pattern[star..].contains('/') {
            return Some("invalid path (a * is allowed only in the last path segment)".into());
        }
    }
    let chars: Vec<char> = pattern.chars().collect();
    let bad = Some("syntax error in pattern (Go's filepath.Glob refuses it)".to_string());
    let mut i = 0;
    // One class member (`getEsc`): not `-` or `]`, and `\x` is x.
    let member = |i: &mut usize| -> bool {
        match chars.get(*i) {
            None | Some('-') | Some(']') => false,
            Some('\\') => {
                *i += 2;
                *i <= chars.len()
            }
            Some(_) => {
                *i += 1;
                true
            }
        }
    };
    while i < chars.len() {
        match chars[i] {
            '\\' => {
                if i + 1 >= chars.len() {
                    return bad;
                }
                i += 2;
            }
            '[' => {
                i += 1;
                if chars.get(i) == Some(&'^') {
                    i += 1;
                }
                let mut ranges = 0;
                loop {
                    if chars.get(i) == Some(&']') && ranges > 0 {
                        i += 1;
                        break;
                    }
                    if !member(&mut i) {
                        return bad;
                    }
                    if chars.get(i) == Some(&'-') {
                        i += 1;
                        if !member(&mut i) {
                            return bad;
                        }
                    }
                    ranges += 1;
                }
            }
            _ => i += 1,
        }
    }
    None
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

#[cfg(test)]
mod scratch_differential {
    #[test]
    #[ignore]
    fn dump() {
        let mut out = String::new();
        for (dir, version) in [("v2.42.0", "2.42"), ("v3.5.3", "3.5")] {
            let target = super::Target::parse(version, "").unwrap();
            let mut entries: Vec<_> = std::fs::read_dir(format!("/tmp/schema/cases/{dir}")).unwrap().flatten().map(|e| e.path()).collect();
            entries.sort();
            for path in entries {
                if path.extension().is_none_or(|e| e != "yml") { continue; }
                let text = std::fs::read_to_string(&path).unwrap();
                let problems = super::check("prometheus.yml", &text, &[], &target);
                let problems: Vec<_> = problems.iter().filter(|p| !p.message.contains("must be relative")).map(|p| p.to_string().replace('\n', " ")).collect();
                let name = format!("{dir}/{}", path.file_name().unwrap().to_str().unwrap());
                out.push_str(&format!("{name}\t{}\t{}\n", if problems.is_empty() { "ok" } else { "bad" }, problems.join(" | ")));
            }
        }
        std::fs::write("/tmp/schema/ours.tsv", out).unwrap();
    }
}
