//! The rendered `prometheus.yml` as the deployed Prometheus version loads it: every field of every
//! section is one that version knows (Prometheus decodes its config strictly) and has the right
//! shape, durations parse, relabel configs pass `relabel`'s checks, service discovery kinds exist,
//! static targets are `host:port`, job names are unique, scrape timeouts fit their intervals,
//! file_sd paths are valid, and `rule_files` patterns are valid globs, relative, and match every
//! deployed rule file. Static targets are judged after their job's relabelling (`static_targets`).

mod static_targets;

use std::collections::HashSet;

use serde_norway::{Mapping, Value};

use super::lines::Lines;
use super::schema::{self, Field, Fields, Kind, Version};
use super::{constraints, duration, glob_match, kind, relabel, yaml_problem, Problem, Target};

/// Prometheus' defaults when `global` does not say.
const DEFAULT_SCRAPE_INTERVAL_MS: u64 = 60_000;

/// Checks the rendered config. `rules` are `(repo path, deployed path)` of every rule file.
pub fn check(file: &str, rendered: &str, rules: &[(String, String)], target: &Target) -> Vec<Problem> {
    let mut root: Value = match serde_norway::from_str(rendered) {
        Ok(v) => v,
        Err(e) => return vec![yaml_problem(file, &e)],
    };
    // Go's YAML decoder applies merge keys (`<<: *base`), so a config may share settings that way.
    if let Err(e) = root.apply_merge() {
        return vec![yaml_problem(file, &e)];
    }
    let empty = Mapping::new();
    let map = match &root {
        Value::Mapping(m) => m,
        Value::Null => &empty,
        other => return vec![Problem::new(file, Some(1), None, format!("expected a mapping, found {}", kind(other)))],
    };
    let lines = Lines::new(rendered);
    let global = map.get("global");
    let mut walk = Walk { lines: &lines, target, version: (target.major, target.minor), global, found: Vec::new() };
    walk.section(&root, schema::TOP, &Place::root());
    walk.global(map);
    walk.rule_files(map, rules);
    walk.scrape_configs(map);
    walk.unique_names(map, "remote_write");
    walk.unique_names(map, "remote_read");
    walk.found.extend(binary_scalars(rendered));
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
    /// The document's `global` section, whose scrape interval and timeout jobs inherit.
    global: Option<&'a Value>,
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
        let scrape = std::ptr::eq(fields, schema::SCRAPE);
        let owner = (scrape || std::ptr::eq(fields, schema::ALERTMANAGER))
            .then(|| static_targets::Owner::new(map, scrape, self.global, self.target));
        for (key, value) in map {
            let Some(key) = key.as_str() else {
                self.report(place.line, format!("{}keys must be strings", place.prefix()));
                continue;
            };
            let line = self.key_line(place, key);
            if let Some(owner) = owner.as_ref().filter(|_| key == "static_configs" || key.ends_with("_sd_configs")) {
                self.discovery(key, value, &place.field(key, line), owner);
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
                        self.report(place.line, format!("{}{name}: {e}", parent.prefix()));
                    }
                }
                _ => self.report(place.line, wrong("a duration")),
            },
            Kind::Bool => {
                let ok = matches!(value, Value::Bool(_)) || value.as_str().is_some_and(|s| YAML11_BOOLS.contains(&s));
                if !ok {
                    self.report(place.line, wrong("true or false"));
                }
            }
            Kind::Int => {
                if !value.is_number() {
                    self.report(place.line, wrong("an integer"));
                }
            }
            Kind::Uint => {
                if !value.is_number() || value.as_f64().is_some_and(|n| n < 0.0) {
                    let found = if value.is_number() { "a negative number" } else { kind(value) };
                    self.report(
                        place.line,
                        format!("{}{name} must be an integer of 0 or more, found {found}", parent.prefix()),
                    );
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
            Kind::MapOf(fields) => {
                let Some(map) = value.as_mapping() else {
                    self.report(place.line, wrong("a mapping"));
                    return;
                };
                for (key, item) in map {
                    let key = scalar(key);
                    let line = self.key_line(place, &key);
                    self.section(item, fields, &place.field(&key, line));
                }
            }
            Kind::Struct(fields) => self.section(value, fields, place),
            Kind::Structs(fields) => {
                let Some(items) = value.as_sequence() else {
                    self.report(place.line, wrong("a list"));
                    return;
                };
                let item_lines = self.lines.items(place.line);
                for (i, item) in items.iter().enumerate() {
                    let line = item_lines.get(i).copied().or(place.line);
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
                let item_lines = self.lines.items(place.line);
                for (i, item) in items.iter().enumerate() {
                    let line = item_lines.get(i).copied().or(place.line);
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

    /// A `static_configs` or `<kind>_sd_configs` list of the scrape or Alertmanager config `owner`.
    fn discovery(&mut self, key: &str, value: &Value, place: &Place, owner: &static_targets::Owner) {
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
        let Some(items) = value.as_sequence() else {
            if !value.is_null() {
                self.report(place.line, format!("{}{key} must be a list, found {}", place.prefix(), kind(value)));
            }
            return;
        };
        let item_lines = self.lines.items(place.line);
        for (i, item) in items.iter().enumerate() {
            let line = item_lines.get(i).copied().or(place.line);
            let item_place = place.item(i, line);
            if item.is_null() {
                self.report(line, format!("{}empty or null section in {key}", place.prefix()));
                continue;
            }
            self.section(item, fields, &item_place);
            if kind_name == "static" {
                self.static_targets(item, &item_place, owner);
            }
        }
    }

    /// `host:port` targets and valid label names, as `targetgroup` and `CheckTargetAddress` want;
    /// then each target as Prometheus builds it, after `owner`'s relabel_configs (which may rewrite
    /// `__address__`, so with rules the targets as written are not judged).
    fn static_targets(&mut self, group: &Value, place: &Place, owner: &static_targets::Owner) {
        let group_labels: Vec<(String, String)> = group
            .get("labels")
            .and_then(Value::as_mapping)
            .into_iter()
            .flatten()
            .map(|(name, value)| (scalar(name), scalar(value)))
            .collect();
        for target in group.get("targets").and_then(Value::as_sequence).into_iter().flatten() {
            let address = scalar(target);
            let line = self.lines.find(place.line, &address).or(place.line);
            if !owner.relabels() && address.contains('/') {
                self.report(
                    line,
                    format!(
                        "{}{address:?} is not a valid hostname (a target is host:port, without scheme or path)",
                        place.prefix()
                    ),
                );
                continue;
            }
            if let Some(problem) = owner.problem(&address, &group_labels, self.target) {
                self.report(line, format!("{}target {address:?}: {problem}", place.prefix()));
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

    /// What `global` must agree with: its scrape timeout with its interval, its name validation
    /// with OTLP's translation (3.x), and its external label names with the version.
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
        let legacy = global.get("metric_name_validation_scheme").map(scalar).is_some_and(|s| s == "legacy");
        let strategy = root.get("otlp").and_then(|o| o.get("translation_strategy")).map(scalar).unwrap_or_default();
        if self.target.is_v3() && legacy && (strategy == "NoTranslation" || strategy == "NoUTF8EscapingWithSuffixes") {
            let line = self.lines.child(self.lines.child(None, "otlp"), "translation_strategy");
            self.report(line, format!("OTLP translation strategy {strategy:?} is not allowed when UTF8 is disabled"));
        }
        for name in global.get("external_labels").and_then(Value::as_mapping).into_iter().flat_map(|m| m.keys()) {
            let name = scalar(name);
            if !relabel::is_label_name(&name, self.target) {
                let line =
                    self.lines.child(self.lines.child(self.lines.child(None, "global"), "external_labels"), &name);
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
                        format!(
                            "rule_files is not set, so the rules in {repo_path} (and any others) would not be loaded"
                        ),
                    );
                }
            }
            Some(Value::Sequence(patterns)) => {
                let patterns: Vec<String> = patterns.iter().map(scalar).collect();
                let pattern_lines = self.lines.items(key_line);
                for (i, pattern) in patterns.iter().enumerate() {
                    let line = pattern_lines.get(i).copied().or(key_line);
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
                        self.report(
                            key_line,
                            format!("{repo_path} is deployed to {target}, which no rule_files pattern matches"),
                        );
                    }
                }
            }
            Some(_) => {}
        }
        let files_line = self.lines.child(None, "scrape_config_files");
        for (i, pattern) in
            root.get("scrape_config_files").and_then(Value::as_sequence).into_iter().flatten().enumerate()
        {
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
        let job_lines = self.lines.items(key_line);
        let mut seen = HashSet::new();
        for (i, job) in jobs.iter().enumerate() {
            let line = job_lines.get(i).copied().or(key_line);
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
            if self.target.at_least(3, 4) {
                self.escaping(global, job, &name, line);
            }
            let ms = |field: &str| job.get(field).and_then(|v| duration::parse(&scalar(v)).ok());
            let interval = ms("scrape_interval").unwrap_or(global_interval);
            if ms("scrape_timeout").is_some_and(|timeout| timeout > interval) {
                self.report(line, format!("job {name:?}: scrape_timeout is greater than scrape_interval"));
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

    /// From Prometheus 3.4 a job's metric name escaping (its own, the global one, or what the
    /// validation scheme implies) must be one that exists, and `allow-utf-8` needs UTF-8 validation.
    fn escaping(&mut self, global: Option<&Value>, job: &Mapping, name: &str, line: Option<usize>) {
        let setting = |field: &str| {
            let own = job.get(field).map(scalar).filter(|v| !v.is_empty());
            own.or_else(|| global.and_then(|g| g.get(field)).map(scalar).filter(|v| !v.is_empty()))
        };
        let validation = setting("metric_name_validation_scheme").unwrap_or_else(|| "utf8".into());
        // An unset escaping comes from the global one, whose default follows the global validation.
        let global_legacy =
            global.and_then(|g| g.get("metric_name_validation_scheme")).is_some_and(|v| scalar(v) == "legacy");
        let default_escaping = if global_legacy { "underscores" } else { "allow-utf-8" };
        let escaping = setting("metric_name_escaping_scheme").unwrap_or_else(|| default_escaping.into());
        match escaping.as_str() {
            "allow-utf-8" if validation != "utf8" => self.report(
                line,
                format!("job {name:?}: utf8 metric names requested but validation scheme is not set to UTF8"),
            ),
            "allow-utf-8" | "underscores" | "dots" | "values" => {}
            other => self.report(
                line,
                format!("job {name:?}: unknown name escaping method {other:?}, must be one of 'allow-utf-8', 'underscores', 'dots', or 'values'"),
            ),
        }
    }

    /// `remote_write` and `remote_read` names are unique (unnamed ones get a hash), and each has a url.
    fn unique_names(&mut self, root: &Mapping, section: &str) {
        let Some(Value::Sequence(items)) = root.get(section) else { return };
        let key_line = self.lines.child(None, section);
        let item_lines = self.lines.items(key_line);
        let mut seen = HashSet::new();
        for (i, item) in items.iter().enumerate() {
            let line = item_lines.get(i).copied().or(key_line);
            if item.is_null() {
                continue; // reported by the section walk
            }
            if item.get("url").is_none_or(Value::is_null) {
                self.report(line, format!("{section}[{i}]: url for {} is empty", section.replace('_', " ")));
            }
            let name = item.get("name").map(scalar).unwrap_or_default();
            if !name.is_empty() && !seen.insert(name.clone()) {
                self.report(
                    line,
                    format!("{section}[{i}]: found multiple {} configs with name {name:?}", section.replace('_', " ")),
                );
            }
        }
    }
}

/// `!!binary "..."` scalars: Go's decoder turns them into their base64-decoded bytes (refusing bad
/// base64), while the parser here keeps the text; bytes that are not UTF-8 make an invalid label
/// name or value in every version.
fn binary_scalars(text: &str) -> Vec<(Option<usize>, String)> {
    use base64::Engine;
    let mut found = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let mut rest = line;
        while let Some(at) = rest.find("!!binary") {
            rest = rest[at + "!!binary".len()..].trim_start();
            let value = match rest.chars().next() {
                Some(quote @ ('"' | '\'')) => rest[1..].split(quote).next().unwrap_or_default(),
                _ => rest.split([' ', ',', '}', ']', '#']).next().unwrap_or_default(),
            };
            let encoded: String = value.chars().filter(|c| !c.is_whitespace()).collect();
            match base64::engine::general_purpose::STANDARD.decode(&encoded) {
                Err(_) => found.push((Some(i + 1), format!("!!binary value {value:?} contains invalid base64 data"))),
                Ok(bytes) if std::str::from_utf8(&bytes).is_err() => found.push((
                    Some(i + 1),
                    format!(
                        "!!binary value {value:?} is not UTF-8 text once decoded, so not a valid label name or value"
                    ),
                )),
                Ok(_) => {}
            }
        }
    }
    found
}

/// yaml.v2 (YAML 1.1) also reads these plain scalars as booleans; the YAML 1.2 parser here gives
/// them as strings. (`true`/`false` come as booleans unless quoted, and quoted Go refuses them.)
const YAML11_BOOLS: [&str; 16] =
    ["y", "Y", "yes", "Yes", "YES", "n", "N", "no", "No", "NO", "on", "On", "ON", "off", "Off", "OFF"];

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

    /// Problems on Prometheus 3.0 (the messages name the version).
    fn problems(yaml: &str, rules: &[(&str, &str)]) -> String {
        let rules: Vec<(String, String)> = rules.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect();
        check("prometheus.yml", yaml, &rules, &Target::parse("3.0", "").unwrap())
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

    /// Each case went through `promtool check config` (`--syntax-only`, except for the rule_files
    /// globs, which only the full check expands) of Prometheus 2.42.0 (Debian 12) and 3.5.3 (Debian
    /// unstable). The two columns are their verdicts: `None` accepted, `Some(text)` refused, where
    /// `text` is part of promstack's message.
    const CASES: &[(&str, &str, Option<&str>, Option<&str>)] = &[
        ("always_classic", "scrape_configs:\n  - job_name: a\n    always_scrape_classic_histograms: true\n", Some("field \"always_scrape_classic_histograms\" not found in scrape_configs[0] (Prometheus 2.42); it needs Prometheus 3.0 or later"), None),
        ("am_sigv4", "alerting:\n  alertmanagers:\n    - sigv4:\n        region: eu-west-1\n      static_configs:\n        - targets: ['am:9093']\n", Some("field \"sigv4\" not found in alerting.alertmanagers[0] (Prometheus 2.42); it needs Prometheus 2.48 or later"), None),
        ("am_v1", "alerting:\n  alertmanagers:\n    - api_version: v1\n      static_configs:\n        - targets: ['am:9093']\n", None, Some("expected Alertmanager api version to be one of [\"v2\"] but got v1")),
        ("auth_basic", "scrape_configs:\n  - job_name: a\n    authorization:\n      type: Basic\n      credentials: x\n", Some("authorization type cannot be set to \"basic\""), Some("authorization type cannot be set to \"basic\"")),
        ("bearer_both", "scrape_configs:\n  - job_name: a\n    bearer_token: t\n    bearer_token_file: /f\n", Some("at most one of bearer_token & bearer_token_file must be configured"), Some("at most one of bearer_token & bearer_token_file must be configured")),
        ("body_size", "scrape_configs:\n  - job_name: a\n    body_size_limit: 100\n", Some("body_size_limit: \"100\" is not a size"), Some("body_size_limit: \"100\" is not a size")),
        ("body_size_ok", "scrape_configs:\n  - job_name: a\n    body_size_limit: 10MB\n", None, None),
        ("brace_literal", "scrape_configs:\n  - job_name: a\n    relabel_configs:\n      - source_labels: [a]\n        regex: 'a{,3}'\n        target_label: b\n", None, None),
        ("dup_rw", "remote_write:\n  - url: http://a/w\n    name: x\n  - url: http://b/w\n    name: x\n", Some("found multiple remote write configs with name \"x\""), Some("found multiple remote write configs with name \"x\"")),
        ("ec2_empty", "scrape_configs:\n  - job_name: a\n    ec2_sd_configs:\n      - region: eu-west-1\n        filters:\n          - name: tag:env\n            values: []\n", Some("EC2 SD configuration filter values cannot be empty"), Some("EC2 SD configuration filter values cannot be empty")),
        ("enable_compression", "scrape_configs:\n  - job_name: a\n    enable_compression: false\n", Some("field \"enable_compression\" not found in scrape_configs[0] (Prometheus 2.42); it needs Prometheus 2.49 or later"), None),
        ("escape_1", "scrape_configs:\n  - job_name: a\n    relabel_configs:\n      - source_labels: [a]\n        regex: '(a)\\1'\n        target_label: b\n", Some("invalid escape sequence \\1"), Some("invalid escape sequence \\1")),
        ("external_dash", "global:\n  external_labels:\n    aws-region: eu\n", Some("external_labels: \"aws-region\" is not a valid label name"), None),
        ("flag_x", "scrape_configs:\n  - job_name: a\n    relabel_configs:\n      - source_labels: [a]\n        regex: '(?x) a b'\n        target_label: b\n", Some("invalid or unsupported Perl syntax `(?x`"), Some("invalid or unsupported Perl syntax `(?x`")),
        ("float_duration", "global:\n  scrape_interval: 1.5m\n", Some("scrape_interval: \"1.5m\" is not a valid duration"), Some("scrape_interval: \"1.5m\" is not a valid duration")),
        ("foo_sd", "scrape_configs:\n  - job_name: a\n    foo_sd_configs:\n      - x: 1\n", Some("field \"foo_sd_configs\" not found in scrape_configs[0] (Prometheus 2.42): not a service discovery kind"), Some("field \"foo_sd_configs\" not found in scrape_configs[0] (Prometheus 3.5): not a service discovery kind")),
        ("glob_bracket", "rule_files:\n  - 'rules.d/[a.yml'\n", Some("syntax error in pattern"), Some("syntax error in pattern")),
        ("glob_dir_star", "rule_files:\n  - 'rules.d/*/x.yml'\n", Some("a * is allowed only in the last path segment"), Some("a * is allowed only in the last path segment")),
        ("global_typo", "global:\n  scrape_intervall: 15s\n", Some("did you mean \"scrape_interval\"?"), Some("did you mean \"scrape_interval\"?")),
        ("hashmod_ok", "scrape_configs:\n  - job_name: a\n    relabel_configs:\n      - source_labels: [__address__]\n        modulus: 4\n        target_label: __tmp_hash\n        action: hashmod\n", None, None),
        ("http_sd_typo", "scrape_configs:\n  - job_name: a\n    http_sd_configs:\n      - url: http://sd/targets\n        refresh_interva: 1m\n", Some("field \"refresh_interva\" not found in scrape_configs[0].http_sd_configs[0] (Prometheus 2.42); did you mean \"refresh_interval\"?"), Some("field \"refresh_interva\" not found in scrape_configs[0].http_sd_configs[0] (Prometheus 3.5); did you mean \"refresh_interval\"?")),
        ("keep_dropped", "scrape_configs:\n  - job_name: a\n    keep_dropped_targets: 10\n", Some("field \"keep_dropped_targets\" not found in scrape_configs[0] (Prometheus 2.42); it needs Prometheus 2.47 or later"), None),
        ("keepequal_regex", "scrape_configs:\n  - job_name: a\n    metric_relabel_configs:\n      - source_labels: [a]\n        target_label: b\n        regex: (.*)\n        action: keepequal\n", Some("keepequal action requires only 'source_labels' and `target_label`, and no other fields"), Some("keepequal action requires only 'source_labels' and `target_label`, and no other fields")),
        ("label_dash", "scrape_configs:\n  - job_name: a\n    static_configs:\n      - targets: ['h:9090']\n        labels:\n          team-name: x\n", Some("\"team-name\" is not a valid label name"), None),
        ("labeldrop_src", "scrape_configs:\n  - job_name: a\n    metric_relabel_configs:\n      - source_labels: [a]\n        regex: tmp_.*\n        action: labeldrop\n", Some("labeldrop action requires only 'regex', and no other fields"), Some("labeldrop action requires only 'regex', and no other fields")),
        ("lookahead", "scrape_configs:\n  - job_name: a\n    relabel_configs:\n      - source_labels: [a]\n        regex: 'a(?=b)'\n        target_label: b\n", Some("invalid or unsupported Perl syntax `(?=`"), Some("invalid or unsupported Perl syntax `(?=`")),
        ("lowercase_ok", "scrape_configs:\n  - job_name: a\n    relabel_configs:\n      - source_labels: [job]\n        action: lowercase\n        target_label: job_lower\n", None, None),
        ("named_group", "scrape_configs:\n  - job_name: a\n    relabel_configs:\n      - source_labels: [__address__]\n        regex: '(?<host>[^:]+):.*'\n        target_label: host\n", Some("invalid or unsupported Perl syntax `(?<`"), None),
        ("nested_rep", "scrape_configs:\n  - job_name: a\n    relabel_configs:\n      - source_labels: [a]\n        regex: 'a**'\n        target_label: b\n", Some("invalid nested repetition operator"), Some("invalid nested repetition operator")),
        ("no_proxy", "scrape_configs:\n  - job_name: a\n    proxy_url: http://p:3128\n    no_proxy: localhost\n", Some("field \"no_proxy\" not found in scrape_configs[0] (Prometheus 2.42); it needs Prometheus 2.43 or later"), None),
        ("oauth_noid", "scrape_configs:\n  - job_name: a\n    oauth2:\n      token_url: http://t\n      client_secret: s\n", Some("oauth2 client_id must be configured"), Some("oauth2 client_id must be configured")),
        ("otlp", "otlp:\n  promote_resource_attributes: [service.name]\n", Some("unknown top-level field \"otlp\" (Prometheus 2.42); it needs Prometheus 2.55 or later"), None),
        ("protocols", "global:\n  scrape_protocols: [PrometheusText1.0.0]\n", Some("field \"scrape_protocols\" not found in global (Prometheus 2.42); it needs Prometheus 2.49 or later"), None),
        ("queue_typo", "remote_write:\n  - url: http://r/api/v1/write\n    queue_config:\n      max_shard: 5\n", Some("field \"max_shard\" not found in remote_write[0].queue_config (Prometheus 2.42); did you mean \"max_shards\"?"), Some("field \"max_shard\" not found in remote_write[0].queue_config (Prometheus 3.5); did you mean \"max_shards\"?")),
        ("quote_qe", "scrape_configs:\n  - job_name: a\n    relabel_configs:\n      - source_labels: [a]\n        regex: '\\Q1.2\\E'\n        target_label: b\n", None, None),
        ("quoted_int", "scrape_configs:\n  - job_name: a\n    sample_limit: '10'\n", Some("sample_limit must be an integer of 0 or more, found a string"), Some("sample_limit must be an integer of 0 or more, found a string")),
        ("repeat_1001", "scrape_configs:\n  - job_name: a\n    relabel_configs:\n      - source_labels: [a]\n        regex: 'a{1001}'\n        target_label: b\n", Some("invalid repeat count"), Some("invalid repeat count")),
        ("round_robin", "remote_write:\n  - url: http://r/api/v1/write\n    round_robin_dns: true\n", Some("field \"round_robin_dns\" not found in remote_write[0] (Prometheus 2.42); it needs Prometheus 3.1 or later"), None),
        ("runtime", "runtime:\n  gogc: 50\n", Some("unknown top-level field \"runtime\" (Prometheus 2.42); it needs Prometheus 2.53 or later"), None),
        ("rw_header", "remote_write:\n  - url: http://r/api/v1/write\n    headers:\n      Content-Type: x\n", Some("Content-Type is a reserved header. It must not be changed"), Some("Content-Type is a reserved header. It must not be changed")),
        ("rw_nourl", "remote_write:\n  - name: x\n", Some("url for remote write is empty"), Some("url for remote write is empty")),
        ("scheme_ftp", "scrape_configs:\n  - job_name: a\n    scheme: ftp\n", None, None),
        ("target_dash", "scrape_configs:\n  - job_name: a\n    relabel_configs:\n      - source_labels: [__address__]\n        target_label: foo-bar\n", Some("\"foo-bar\" is invalid 'target_label' for replace action"), None),
        ("timeout", "scrape_configs:\n  - job_name: a\n    scrape_interval: 10s\n    scrape_timeout: 20s\n", Some("scrape_timeout is greater than scrape_interval"), Some("scrape_timeout is greater than scrape_interval")),
        ("tls_typo", "scrape_configs:\n  - job_name: a\n    tls_config:\n      insecure_skip_verfy: true\n", Some("field \"insecure_skip_verfy\" not found in scrape_configs[0].tls_config (Prometheus 2.42); did you mean \"insecure_skip_verify\"?"), Some("field \"insecure_skip_verfy\" not found in scrape_configs[0].tls_config (Prometheus 3.5); did you mean \"insecure_skip_verify\"?")),
        ("top_typo", "scrape_config:\n  - job_name: a\n", Some("unknown top-level field \"scrape_config\" (Prometheus 2.42); did you mean \"scrape_configs\"?"), Some("unknown top-level field \"scrape_config\" (Prometheus 3.5); did you mean \"scrape_configs\"?")),
        ("tracing", "tracing:\n  sampling_fraction: 1\n", Some("tracing endpoint must be set"), Some("tracing endpoint must be set")),
        ("typo", "scrape_configs:\n  - job_name: a\n    scrape_interal: 5s\n", Some("did you mean \"scrape_interval\"?"), Some("did you mean \"scrape_interval\"?")),
        ("unbalanced_ok", "scrape_configs:\n  - job_name: a\n    relabel_configs:\n      - source_labels: [a]\n        regex: 'a)|(b'\n        target_label: b\n", None, None),
        // Prometheus v3.5.3 cmd/promtool/testdata/url_in_scrape_targetgroup_with_relabel_config.good.yml:
        // the rules rewrite __address__ to `good`, so the target as written is not what is judged.
        ("url_target_relabeled", "scrape_configs:\n  - job_name: prometheus\n    relabel_configs:\n      - source_labels: [__address__]\n        target_label: __param_target\n      - target_label: __address__\n        replacement: good\n    static_configs:\n      - targets:\n          - http://good\n", None, None),
        ("url_target", "scrape_configs:\n  - job_name: a\n    static_configs:\n      - targets: ['http://h:9090']\n", Some("\"http://h:9090\" is not a valid hostname"), Some("\"http://h:9090\" is not a valid hostname")),
        ("utf8_source", "scrape_configs:\n  - job_name: a\n    relabel_configs:\n      - source_labels: [service.name]\n        target_label: svc\n", Some("\"service.name\" is not a valid label name"), None),
        ("metrics_path_number", "scrape_configs:\n  - job_name: a\n    metrics_path: 123\n", None, None),
        ("quoted_bool", "scrape_configs:\n  - job_name: a\n    honor_labels: \"true\"\n", Some("honor_labels must be true or false, found a string"), Some("honor_labels must be true or false, found a string")),
        ("int_bool", "scrape_configs:\n  - job_name: a\n    honor_labels: 1\n", Some("honor_labels must be true or false, found a number"), Some("honor_labels must be true or false, found a number")),
        ("float_limit", "scrape_configs:\n  - job_name: a\n    sample_limit: 1.5\n", None, None),
        ("negative_limit", "scrape_configs:\n  - job_name: a\n    sample_limit: -1\n", Some("sample_limit must be an integer of 0 or more, found a negative number"), Some("sample_limit must be an integer of 0 or more, found a negative number")),
        ("scalar_params", "scrape_configs:\n  - job_name: a\n    params: {a: b}\n", Some("params must be a mapping of lists of strings"), Some("params must be a mapping of lists of strings")),
        ("list_params", "scrape_configs:\n  - job_name: a\n    params: {a: [1, 2]}\n", None, None),
        ("number_duration", "scrape_configs:\n  - job_name: a\n    scrape_interval: 30\n", Some("scrape_interval: \"30\" is not a valid duration"), Some("scrape_interval: \"30\" is not a valid duration")),
        ("on_bool", "scrape_configs:\n  - job_name: a\n    honor_labels: on\n", None, None),
        // Prometheus v3.5.3 config/testdata/scrape_config_utf8_conflicting.bad.yml (2.42: no such fields)
        ("utf8_conflicting", "global:\n  metric_name_validation_scheme: legacy\n  metric_name_escaping_scheme: allow-utf-8\nscrape_configs:\n  - job_name: prometheus\n", Some("field \"metric_name_validation_scheme\" not found in global (Prometheus 2.42); it needs Prometheus 2.55 or later"), Some("prometheus.yml:5: job \"prometheus\": utf8 metric names requested but validation scheme is not set to UTF8")),
        // Prometheus v3.5.3 config/testdata/otlp_allow_utf8.incompatible.yml
        ("otlp_legacy", "global:\n  metric_name_validation_scheme: legacy\notlp:\n  translation_strategy: NoUTF8EscapingWithSuffixes\n", Some("unknown top-level field \"otlp\""), Some("prometheus.yml:4: OTLP translation strategy \"NoUTF8EscapingWithSuffixes\" is not allowed when UTF8 is disabled")),
        ("merge_key", "scrape_configs:\n  - &base\n    job_name: a\n    scrape_interval: 30s\n  - <<: *base\n    job_name: b\n", None, None),
        // Prometheus main config/testdata/scrape_config_local_infer_escaping.yml
        ("infer_escaping", "scrape_configs:\n  - job_name: prometheus\n    metric_name_validation_scheme: legacy\n", Some("field \"metric_name_validation_scheme\" not found in scrape_configs[0] (Prometheus 2.42); it needs Prometheus 2.55 or later"), Some("job \"prometheus\": utf8 metric names requested but validation scheme is not set to UTF8")),
        ("tls_version", "scrape_configs:\n  - job_name: a\n    tls_config:\n      min_version: TLS1.2\n", Some("prometheus.yml:4: job \"a\": tls_config: unknown TLS version: TLS1.2"), Some("prometheus.yml:4: job \"a\": tls_config: unknown TLS version: TLS1.2")),
        ("scrape_tls_cert_without_key", "scrape_configs:\n  - job_name: a\n    tls_config:\n      cert_file: /c.pem\n", Some("prometheus.yml:3: job \"a\": client cert file \"/c.pem\" specified without client key file"), Some("prometheus.yml:3: job \"a\": tls_config: exactly one of key or key_file must be configured when a client certificate is configured")),
        ("tls_cert_without_key", "remote_read:\n  - url: http://r/read\n    tls_config:\n      cert_file: /c.pem\n", None, Some("prometheus.yml:3: remote_read[0].tls_config: exactly one of key or key_file must be configured when a client certificate is configured")),
        ("http_header_typo", "scrape_configs:\n  - job_name: a\n    http_headers:\n      X-Team:\n        value: [a]\n", Some("field \"http_headers\" not found in scrape_configs[0] (Prometheus 2.42); it needs Prometheus 2.53 or later"), Some("prometheus.yml:5: field \"value\" not found in scrape_configs[0].http_headers.X-Team (Prometheus 3.5); did you mean \"values\"?")),
        ("http_header_reserved", "scrape_configs:\n  - job_name: a\n    http_headers:\n      User-Agent:\n        values: [a]\n", Some("field \"http_headers\" not found"), Some("setting header \"User-Agent\" is not allowed")),
        // Prometheus main config/testdata/labelname.bad.yml and labelmap.bad.yml
        ("binary_label", "global:\n  external_labels:\n    !!binary \"/w==\": value\n", Some("prometheus.yml:3: !!binary value \"/w==\" is not UTF-8 text once decoded"), Some("prometheus.yml:3: !!binary value \"/w==\" is not UTF-8 text once decoded")),
        ("binary_bad_base64", "scrape_configs:\n  - job_name: a\n    relabel_configs:\n      - action: labelmap\n        replacement: !!binary \"/w==$1\"\n", Some("prometheus.yml:5: !!binary value \"/w==$1\" contains invalid base64 data"), Some("prometheus.yml:5: !!binary value \"/w==$1\" contains invalid base64 data")),
        ("binary_job_name", "scrape_configs:\n  - job_name: !!binary \"YQ==\"\n", None, None),
        ("escaped_label", "global:\n  external_labels:\n    \"\\xff\": value\n", Some("\"ÿ\" is not a valid label name"), None),
        ("yes_bool", "scrape_configs:\n  - job_name: a\n    honor_labels: yes\n", None, None),
    ];

    #[test]
    fn each_field_is_judged_for_the_deployed_version_as_promtool_does() {
        let mut failures = Vec::new();
        for (name, yaml, v2, v3) in CASES {
            for (version, expected) in [("2.42", v2), ("3.5", v3)] {
                let target = Target::parse(version, "").unwrap();
                let found = super::super::describe(&check("prometheus.yml", yaml, &[], &target));
                match expected {
                    None if !found.is_empty() => {
                        failures.push(format!("{name} on {version}: expected valid, got\n{found}"))
                    }
                    Some(needle) if !found.contains(needle) => {
                        failures.push(format!("{name} on {version}: expected {needle:?}, got\n{found}"))
                    }
                    _ => {}
                }
            }
        }
        assert!(failures.is_empty(), "{}", failures.join("\n"));
    }

    /// `promtool check config` of 2.42.0 and 3.5.3 (the same verdict on both) on a `rule_files`
    /// entry, with rules.d/a.yml present: "syntax error in pattern" is Go's `filepath.ErrBadPattern`.
    /// (Both also say "does not point to an existing file" for a valid pattern that matches
    /// nothing; Prometheus itself loads such a config.)
    #[test]
    fn rule_file_globs_are_refused_as_go_refuses_them() {
        let bad = [
            "rules.d/[a.yml",
            r"rules.d/a\",
            "rules.d/[]a].yml",
            "rules.d/[a-].yml",
            "rules.d/[^]",
            "rules.d/[-a].yml",
        ];
        let good = [
            "rules.d/[z-a].yml",
            "rules.d/[a.yml]",
            r"rules.d/\[a].yml",
            r"rules.d/[\]].yml",
            "rules.d/[a-c]*.yml",
            "rules.d/*.y?l",
            r"rules.d/[\-a].yml",
        ];
        for pattern in bad {
            assert_eq!(
                glob_problem(pattern).as_deref(),
                Some("syntax error in pattern (Go's filepath.Glob refuses it)"),
                "{pattern}"
            );
        }
        for pattern in good {
            assert_eq!(glob_problem(pattern), None, "{pattern}");
        }
        // Prometheus' own rule (`invalid rule file path`): a * only in the last segment.
        assert!(glob_problem("rules.d/*/a.yml").unwrap().contains("only in the last path segment"));
        assert_eq!(glob_problem("rules.d/a*b*.yml"), None);
        let all = problems("rule_files:\n  - rules.d/*.yml\n  - 'rules.d/[a.yml'\n", &[]);
        assert!(
            all.contains("prometheus.yml:3: rule_files pattern \"rules.d/[a.yml\": syntax error in pattern"),
            "{all}"
        );
    }

    /// Prometheus images build every service discovery; Debian's packages leave some out, so their
    /// promtool refuses kinds the deployed Prometheus knows: 2.42 (Debian 12) refuses
    /// `kubernetes_sd_configs` and `consul_sd_configs`, 3.5.3 (Debian unstable) `azure_sd_configs`,
    /// `consul_sd_configs`, `openstack_sd_configs` and `stackit_sd_configs` ("field ... not found in
    /// type config.ScrapeConfig"). Here the upstream list decides.
    #[test]
    fn service_discovery_kinds_follow_the_upstream_release() {
        let job = |sd: &str| format!("scrape_configs:\n  - job_name: a\n    {sd}:\n      - {{}}\n");
        let minimal =
            |sd: &str, config: &str| format!("scrape_configs:\n  - job_name: a\n    {sd}:\n      - {config}\n");
        for version in ["2.42", "3.5"] {
            let target = Target::parse(version, "").unwrap();
            for (kind, config) in [
                ("kubernetes_sd_configs", "{role: pod}"),
                ("consul_sd_configs", "{}"),
                ("azure_sd_configs", "{subscription_id: s, tenant_id: t, client_id: c, client_secret: x}"),
                ("openstack_sd_configs", "{role: instance, region: r}"),
                ("ec2_sd_configs", "{region: eu-west-1}"),
            ] {
                let found = check("prometheus.yml", &minimal(kind, config), &[], &target);
                assert!(found.is_empty(), "{kind} on {version}: {found:?}");
            }
        }
        let stackit = job("stackit_sd_configs");
        assert!(check("prometheus.yml", &stackit, &[], &Target::parse("3.5", "").unwrap()).is_empty());
        let old = super::super::describe(&check("prometheus.yml", &stackit, &[], &Target::parse("3.4", "").unwrap()));
        assert!(old.contains("prometheus.yml:3: field \"stackit_sd_configs\" not found in scrape_configs[0] (Prometheus 3.4); stackit service discovery needs Prometheus 3.5 or later"), "{old}");
        let ecs = super::super::describe(&check(
            "prometheus.yml",
            &job("ecs_sd_configs"),
            &[],
            &Target::parse("3.5", "").unwrap(),
        ));
        assert!(ecs.contains("ecs service discovery needs Prometheus 3.8 or later"), "{ecs}");
        // Their own rules, promtool's verdicts: NS records need 2.49 (and then a port).
        for (kind, config, on_2, on_3) in [
            (
                "dns_sd_configs",
                "{names: [x], type: NS}",
                "invalid DNS-SD records type NS",
                "a port is required in DNS-SD configs",
            ),
            (
                "http_sd_configs",
                "{url: 'ftp://x'}",
                "URL scheme must be 'http' or 'https'",
                "URL scheme must be 'http' or 'https'",
            ),
            (
                "file_sd_configs",
                "{files: []}",
                "must contain at least one path name",
                "must contain at least one path name",
            ),
            (
                "kubernetes_sd_configs",
                "{role: pods}",
                "unknown Kubernetes SD role \"pods\"",
                "unknown Kubernetes SD role \"pods\"",
            ),
        ] {
            for (version, needle) in [("2.42", on_2), ("3.5", on_3)] {
                let found = check("prometheus.yml", &minimal(kind, config), &[], &Target::parse(version, "").unwrap());
                let found = super::super::describe(&found);
                assert!(found.contains(needle), "{kind} on {version}: expected {needle:?} in {found}");
            }
        }
        // From Prometheus v3.5.3 config/testdata (refused by promtool 2.42; Debian's 3.5 has no azure).
        for (file, yaml, needle) in [
            ("azure_client_id_missing.bad.yml", "scrape_configs:\n  - job_name: azure\n    azure_sd_configs:\n      - subscription_id: 11AAAA11-A11A-111A-A111-1111A1111A11\n        tenant_id: BBBB222B-B2B2-2B22-B222-2BB2222BB2B2\n        client_id:\n        client_secret: mysecret\n", "azure SD configuration requires a client_id"),
            ("azure_authentication_method.bad.yml", "scrape_configs:\n  - job_name: a\n    azure_sd_configs:\n      - authentication_method: invalid\n        subscription_id: 11AAAA11-A11A-111A-A111-1111A1111A11\n", "unknown authentication_type \"invalid\""),
            ("eureka_invalid_server.bad.yml", "scrape_configs:\n  - job_name: eureka\n    eureka_sd_configs:\n      - server: eureka.com\n", "eureka_sd: invalid eureka server URL"),
            ("marathon_authtoken_basicauth.bad.yml", "scrape_configs:\n  - job_name: prometheus\n\n    marathon_sd_configs:\n      - servers:\n          - \"https://localhost:1234\"\n\n        auth_token: 1234\n        basic_auth:\n          username: user\n          password: password\n", "marathon_sd: at most one of basic_auth, auth_token & auth_token_file must be configured"),
            ("uyuni_no_server.bad.yml", "scrape_configs:\n  - job_name: uyuni\n    uyuni_sd_configs:\n      - server:\n", "Uyuni SD configuration requires server host"),
            ("puppetdb_no_query.bad.yml", "scrape_configs:\n  - job_name: a\n    puppetdb_sd_configs:\n      - url: http://puppetserver/\n", "query missing"),
        ] {
            for version in ["2.42", "3.5"] {
                let found = super::super::describe(&check("prometheus.yml", yaml, &[], &Target::parse(version, "").unwrap()));
                assert!(found.contains(needle), "{file} on {version}: expected {needle:?} in {found}");
            }
        }
        // Prometheus v3.5.3 config/testdata/kubernetes_selectors_{pod,duplicated_role,incorrect_selector}.bad.yml,
        // refused by promtool 3.5 (Debian's 2.42 has no kubernetes).
        for (yaml, needle) in [
            ("scrape_configs:\n  - job_name: prometheus\n    kubernetes_sd_configs:\n      - role: pod\n        selectors:\n          - role: \"node\"\n            label: \"foo=bar\"\n            field: \"metadata.status=Running\"\n", "prometheus.yml:5: job \"prometheus\": kubernetes_sd_configs[0]: pod role supports only pod selectors"),
            ("scrape_configs:\n  - job_name: prometheus\n    kubernetes_sd_configs:\n      - role: endpoints\n        selectors:\n          - role: \"pod\"\n            label: \"foo=bar\"\n            field: \"metadata.status=Running\"\n          - role: \"pod\"\n            label: \"foo=bar\"\n            field: \"metadata.status=Running\"\n", "duplicated selector role: pod"),
            // kubernetes_selectors_incorrect_selector.bad.yml
            ("scrape_configs:\n  - job_name: prometheus\n    kubernetes_sd_configs:\n      - role: endpoints\n        selectors:\n          - role: \"pod\"\n            field: \"metadata.status-Running\"\n", "invalid selector: 'metadata.status-Running'; can't understand 'metadata.status-Running'"),
        ] {
            let found = super::super::describe(&check("prometheus.yml", yaml, &[], &Target::parse("3.5", "").unwrap()));
            assert!(found.contains(needle), "expected {needle:?} in {found}");
        }
        // Every kind is checked field by field.
        let docker = "scrape_configs:\n  - job_name: a\n    docker_sd_configs:\n      - host: unix:///var/run/docker.sock\n        refresh_intervall: 30s\n";
        let found = problems(docker, &[]);
        assert!(found.contains("prometheus.yml:5: field \"refresh_intervall\" not found in scrape_configs[0].docker_sd_configs[0] (Prometheus 3.0); did you mean \"refresh_interval\"?"), "{found}");
        let typo = "scrape_configs:\n  - job_name: a\n    ec2_sd_configs:\n      - region: eu-west-1\n        port: 9100\n        rol_arn: arn:aws:iam::1:role/r\n";
        let found = problems(typo, &[]);
        assert!(found.contains("prometheus.yml:6: field \"rol_arn\" not found in scrape_configs[0].ec2_sd_configs[0] (Prometheus 3.0); did you mean \"role_arn\"?"), "{found}");
    }

    #[test]
    fn nested_problems_have_the_line_of_their_key() {
        let yaml = "global:\n  scrape_interval: 15s\nremote_write:\n  - url: http://a/w\n    queue_config:\n      capacity: 100\n      max_shard: 4\n  - url: http://b/w\n    write_relabel_configs:\n      - source_labels: [__name__]\n        regex: 'go_.*'\n        action: drop\n      - action: labeldrop\n        regex: '(?x)tmp'\nscrape_configs:\n  - job_name: a\n    basic_auth:\n      username: u\n      pasword: p\n    static_configs:\n      - targets: ['h:1']\n        labels:\n          team: x\n";
        let all = problems(yaml, &[]);
        for needle in [
            "prometheus.yml:7: field \"max_shard\" not found in remote_write[0].queue_config (Prometheus 3.0); did you mean \"max_shards\"?",
            "prometheus.yml:14: remote_write[1].write_relabel_configs[1]: regex \"(?x)tmp\" does not compile in Go's RE2: invalid or unsupported Perl syntax `(?x`",
            "prometheus.yml:19: field \"pasword\" not found in scrape_configs[0].basic_auth (Prometheus 3.0); did you mean \"password\"?",
        ] {
            assert!(all.contains(needle), "missing {needle:?} in\n{all}");
        }
        assert_eq!(all.lines().count(), 3, "{all}");
    }

    #[test]
    fn a_field_of_another_release_says_which() {
        let yaml = "scrape_configs:\n  - job_name: a\n    scrape_classic_histograms: true\n";
        let on_3 = super::super::describe(&check("prometheus.yml", yaml, &[], &Target::parse("3.5", "").unwrap()));
        assert!(on_3.ends_with("field \"scrape_classic_histograms\" not found in scrape_configs[0] (Prometheus 3.5); it was removed in Prometheus 3.0"), "{on_3}");
        assert!(check("prometheus.yml", yaml, &[], &Target::parse("2.50", "").unwrap()).is_empty());
        let on_2_42 = super::super::describe(&check("prometheus.yml", yaml, &[], &Target::parse("2.42", "").unwrap()));
        assert!(on_2_42.ends_with("it needs Prometheus 2.45 or later"), "{on_2_42}");
    }

    /// The example repo's template, rendered, passes `promtool check config --syntax-only` of both
    /// 2.42 and 3.5.
    #[test]
    fn the_example_config_passes_on_both_versions() {
        let template = include_str!("../../../../examples/config-repo/prometheus.yml");
        let rendered = template.replace("$(CLUSTER)", "demo");
        let rules = [("rules/ecs.yml".to_string(), "rules.d/ecs.yml".to_string())];
        for version in ["2.42", "3.5", "3.16"] {
            let found = check("prometheus.yml", &rendered, &rules, &Target::parse(version, "").unwrap());
            assert!(found.is_empty(), "{version}: {found:?}");
        }
    }

    #[test]
    fn yaml_errors_have_lines() {
        let all = problems("global:\n  scrape_interval: 15s\n bad: [\n", &[]);
        assert!(all.starts_with("prometheus.yml:3: invalid YAML"), "{all}");
    }
}
