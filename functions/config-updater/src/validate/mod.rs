//! Validation of a config repository before anything is written: layout, `$(VAR)` rendering,
//! the Prometheus config, every rule file, every static file_sd file. Pure functions, so the
//! `check DIR` subcommand and a push run exactly the same checks. Every problem is reported
//! (not only the first), each naming the file, the line and the rule where known.

pub mod config;
pub mod constraints;
pub mod duration;
pub mod file_sd;
pub mod gotemplate;
pub mod lines;
pub mod nesting;
pub mod promql;
pub mod promql_version;
pub mod relabel;
pub mod rules;
pub mod schema;
pub mod target;

use std::collections::BTreeMap;
use std::fmt;

use serde::Deserialize;

use crate::layout::{is_safe_relative_path, Layout, Release, RepoFile, Role, Summary, TEMPLATE_COPY};
use crate::render;
pub use target::Target;

/// One thing wrong with the repo.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub file: String,
    /// 1-based line, where known.
    pub line: Option<usize>,
    /// The rule (alert or record name), for problems inside a rule.
    pub rule: Option<String>,
    pub message: String,
}

impl Problem {
    pub fn new(file: &str, line: Option<usize>, rule: Option<String>, message: impl Into<String>) -> Self {
        Problem { file: file.to_string(), line, rule, message: message.into() }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file)?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
        }
        if let Some(rule) = &self.rule {
            write!(f, ": rule {rule:?}")?;
        }
        write!(f, ": {}", self.message)
    }
}

/// All problems, one per line.
pub fn describe(problems: &[Problem]) -> String {
    problems.iter().map(|p| p.to_string()).collect::<Vec<_>>().join("\n")
}

/// Checks the files of one commit and builds the release to deploy. `vars` are the variables
/// `$(VAR)` may reference.
pub fn check_repo(
    files: &[RepoFile],
    layout: &Layout,
    vars: &BTreeMap<String, String>,
    prometheus: &Target,
) -> Result<Release, Vec<Problem>> {
    let mut problems = Vec::new();
    let mut release = Release::default();
    let mut summary = Summary::default();
    let mut template = None;
    let mut rule_targets = Vec::new();
    let mut rule_results = check_rule_files(files, layout, prometheus);
    for file in files {
        if !is_safe_relative_path(&file.path) {
            problems.push(Problem::new(&file.path, None, None, "path leaves the repository root"));
            continue;
        }
        let (role, target) = layout.place(&file.path);
        let Some(target) = target else { continue };
        let is_text = role != Role::FileSd || is_structured(&file.path);
        let text = match std::str::from_utf8(&file.contents) {
            Ok(text) => Some(text),
            Err(e) if is_text => {
                problems.push(Problem::new(&file.path, None, None, format!("not UTF-8 text ({e})")));
                continue;
            }
            Err(_) => None,
        };
        match role {
            Role::Template => template = Some((file, text.unwrap_or_default())),
            Role::Rules => match rule_results
                .remove(&file.path)
                .unwrap_or_else(|| rules::check(&file.path, text.unwrap_or_default(), prometheus))
            {
                Ok(counts) => {
                    summary.rule_files += 1;
                    summary.groups += counts.groups;
                    summary.rules += counts.rules;
                    rule_targets.push((file.path.clone(), target.clone()));
                    release.files.insert(target, file.contents.clone());
                }
                Err(p) => problems.extend(p),
            },
            Role::FileSd => {
                if let Some(text) = text.filter(|_| is_structured(&file.path)) {
                    if let Err(p) = file_sd::check(&file.path, text) {
                        problems.push(p);
                        continue;
                    }
                }
                summary.file_sd_files += 1;
                release.files.insert(target, file.contents.clone());
            }
            Role::Ignored => {}
        }
    }
    match template {
        None => problems.push(Problem::new(&layout.template, None, None, "the Prometheus config template is missing")),
        Some((file, text)) => match render::render(text, vars) {
            Err(unset) => problems.extend(unset.into_iter().map(|u| {
                Problem::new(
                    &file.path,
                    Some(u.line),
                    None,
                    format!("$({}) references an environment variable that is not set", u.name),
                )
            })),
            Ok(rendered) => {
                problems.extend(config::check(&file.path, &rendered, &rule_targets, prometheus));
                release.files.insert(crate::layout::RENDERED_CONFIG.into(), rendered.into_bytes());
                release.files.insert(TEMPLATE_COPY.into(), file.contents.clone());
            }
        },
    }
    if problems.is_empty() {
        release.summary = summary;
        Ok(release)
    } else {
        Err(problems)
    }
}

/// Checks every rule file up front, spread over the available cores (PromQL parsing is most of
/// the time); the results are taken in file order by [`check_repo`].
fn check_rule_files(
    files: &[RepoFile],
    layout: &Layout,
    target: &Target,
) -> BTreeMap<String, Result<rules::RuleCounts, Vec<Problem>>> {
    let work: Vec<(&str, &str)> = files
        .iter()
        .filter(|f| is_safe_relative_path(&f.path) && layout.place(&f.path).0 == Role::Rules)
        .filter_map(|f| std::str::from_utf8(&f.contents).ok().map(|t| (f.path.as_str(), t)))
        .collect();
    let threads = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1).min(8);
    let chunk = if threads < 2 || work.len() < 8 { work.len().max(1) } else { work.len().div_ceil(threads) };
    // Parsing recurses once per level of an expression: each thread has the stack that the
    // nesting bound (`nesting.rs`, checked before parsing) was measured for.
    std::thread::scope(|scope| {
        let handles: Vec<_> = work
            .chunks(chunk)
            .map(|part| {
                std::thread::Builder::new()
                    .name("rule-check".into())
                    .stack_size(nesting::PARSE_STACK)
                    .spawn_scoped(scope, move || {
                        let mut promql = promql::Checker::default();
                        part.iter()
                            .map(|(p, t)| (p.to_string(), rules::check_with(p, t, &mut promql, target)))
                            .collect::<Vec<_>>()
                    })
                    .expect("spawning a rule-check thread")
            })
            .collect();
        handles.into_iter().flat_map(|h| h.join().expect("a rule check panicked")).collect()
    })
}

fn is_structured(path: &str) -> bool {
    [".json", ".yml", ".yaml"].iter().any(|ext| path.ends_with(ext))
}

/// A YAML error as a problem with its line.
pub(crate) fn yaml_problem(file: &str, e: &serde_norway::Error) -> Problem {
    let line = e.location().map(|l| l.line());
    // serde_norway appends "at line X column Y"; the line is already in the prefix.
    let message = e.to_string();
    let message = message.split(" at line ").next().unwrap_or(&message).to_string();
    Problem::new(file, line, None, format!("invalid YAML: {message}"))
}

/// Go's YAML decoder turns any scalar into a string field; so does this (`priority: 1`).
pub(crate) fn scalar<'de, D: serde::Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    let value = serde_norway::Value::deserialize(d)?;
    scalar_string(value).map_err(serde::de::Error::custom)
}

/// A mapping of names to scalars as Go's decoder reads it into `map[string]string`: any scalar
/// value as a string, `null` as no entries, and a repeated name refused.
pub(crate) fn scalar_map<'de, D: serde::Deserializer<'de>>(d: D) -> Result<BTreeMap<String, String>, D::Error> {
    struct Labels;
    impl<'de> serde::de::Visitor<'de> for Labels {
        type Value = BTreeMap<String, String>;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("a mapping of names to strings")
        }
        fn visit_unit<E: serde::de::Error>(self) -> Result<Self::Value, E> {
            Ok(BTreeMap::new())
        }
        fn visit_none<E: serde::de::Error>(self) -> Result<Self::Value, E> {
            Ok(BTreeMap::new())
        }
        fn visit_some<D: serde::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
            d.deserialize_map(self)
        }
        fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            use serde::de::Error;
            let mut out = BTreeMap::new();
            while let Some((name, value)) = map.next_entry::<String, serde_norway::Value>()? {
                let value = scalar_string(value).map_err(A::Error::custom)?;
                if out.insert(name.clone(), value).is_some() {
                    return Err(A::Error::custom(format!("{name:?} is repeated in the same mapping")));
                }
            }
            Ok(out)
        }
    }
    d.deserialize_option(Labels)
}

fn scalar_string(value: serde_norway::Value) -> Result<String, String> {
    use serde_norway::Value;
    match value {
        Value::Null => Ok(String::new()),
        Value::Bool(b) => Ok(b.to_string()),
        Value::Number(n) => Ok(n.to_string()),
        Value::String(s) => Ok(s),
        other => Err(format!("expected a string, found {}", kind(&other))),
    }
}

pub(crate) fn kind(value: &serde_norway::Value) -> &'static str {
    use serde_norway::Value;
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Sequence(_) => "a list",
        Value::Mapping(_) => "a mapping",
        Value::Tagged(_) => "a tagged value",
    }
}

/// Go's `filepath.Match` for the patterns Prometheus globs (`*` and `?` stop at `/`, `[...]`).
pub fn glob_match(pattern: &str, path: &str) -> bool {
    fn go(p: &[char], s: &[char]) -> bool {
        match p.first() {
            None => s.is_empty(),
            Some('*') => (0..=s.len()).take_while(|&i| i == 0 || s[i - 1] != '/').any(|i| go(&p[1..], &s[i..])),
            Some('?') => matches!(s.first(), Some(c) if *c != '/') && go(&p[1..], &s[1..]),
            Some('[') => {
                let Some(end) = p.iter().position(|&c| c == ']') else { return false };
                let Some(&c) = s.first() else { return false };
                let class = &p[1..end];
                let (negate, class) = match class.first() {
                    Some('^') | Some('!') => (true, &class[1..]),
                    _ => (false, class),
                };
                let mut hit = false;
                let mut i = 0;
                while i < class.len() {
                    if i + 2 < class.len() && class[i + 1] == '-' {
                        hit |= class[i] <= c && c <= class[i + 2];
                        i += 3;
                    } else {
                        hit |= class[i] == c;
                        i += 1;
                    }
                }
                hit != negate && c != '/' && go(&p[end + 1..], &s[1..])
            }
            Some(&c) => s.first() == Some(&c) && go(&p[1..], &s[1..]),
        }
    }
    let p: Vec<char> = pattern.chars().collect();
    let s: Vec<char> = path.chars().collect();
    go(&p, &s)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(path: &str, text: &str) -> RepoFile {
        RepoFile { path: path.into(), contents: text.as_bytes().to_vec() }
    }

    const TEMPLATE: &str = "global:\n  scrape_interval: 15s\n  external_labels:\n    cluster: $(CLUSTER)\nrule_files:\n  - rules.d/*.yml\nscrape_configs:\n  - job_name: prometheus\n    static_configs:\n      - targets: ['127.0.0.1:9090']\n";
    const RULES: &str = "groups:\n  - name: a\n    rules:\n      - alert: Down\n        expr: up == 0\n";

    fn vars() -> BTreeMap<String, String> {
        [("CLUSTER".to_string(), "prod".to_string())].into()
    }

    #[test]
    fn a_valid_repo_becomes_a_release() {
        let files = [
            file("prometheus.yml", TEMPLATE),
            file("rules/a.yml", RULES),
            file("file_sd/db.json", r#"[{"targets": ["10.0.0.1:9100"], "labels": {"env": "prod"}}]"#),
            file("README.md", "hello"),
        ];
        let release = check_repo(&files, &Layout::default(), &vars(), &Target::default()).unwrap();
        let names: Vec<_> = release.files.keys().cloned().collect();
        assert_eq!(names, ["_prometheus.yml", "file_sd/static/db.json", "prometheus.yml", "rules.d/a.yml"]);
        assert!(String::from_utf8_lossy(&release.files["prometheus.yml"]).contains("cluster: prod"));
        assert_eq!(release.files["_prometheus.yml"], TEMPLATE.as_bytes());
        assert_eq!(release.summary, Summary { rule_files: 1, groups: 1, rules: 1, file_sd_files: 1 });
    }

    #[test]
    fn every_problem_is_reported() {
        let files = [
            file("prometheus.yml", TEMPLATE),
            file("rules/a.yml", "groups:\n  - name: a\n    rules:\n      - alert: Bad\n        expr: up ==\n"),
            file("rules/b.yml", "groups: [\n"),
            file("rules/latin1.yml", ""),
            file("file_sd/x.json", "{}"),
        ];
        let mut files = files.to_vec();
        files[3].contents = vec![b'a', 0xff, b'\n'];
        let problems = check_repo(&files, &Layout::default(), &BTreeMap::new(), &Target::default()).unwrap_err();
        let all = describe(&problems);
        for needle in [
            "prometheus.yml:4: $(CLUSTER) references an environment variable that is not set",
            "rules/a.yml:4: rule \"Bad\": expr does not parse",
            "rules/b.yml:",
            "rules/latin1.yml: not UTF-8",
            "file_sd/x.json",
        ] {
            assert!(all.contains(needle), "missing {needle:?} in\n{all}");
        }
    }

    #[test]
    fn many_rule_files_are_checked_in_parallel_and_reported_in_order() {
        let mut files = vec![file("prometheus.yml", TEMPLATE)];
        for i in 0..40 {
            let text = if i % 10 == 3 {
                format!("groups:\n  - name: g{i}\n    rules:\n      - record: r{i}\n        expr: rate(x)\n")
            } else {
                RULES.replace("name: a", &format!("name: g{i}"))
            };
            files.push(RepoFile { path: format!("rules/f{i:02}.yml"), contents: text.into_bytes() });
        }
        let problems = check_repo(&files, &Layout::default(), &vars(), &Target::default()).unwrap_err();
        let names: Vec<&str> = problems.iter().map(|p| p.file.as_str()).collect();
        assert_eq!(names, ["rules/f03.yml", "rules/f13.yml", "rules/f23.yml", "rules/f33.yml"]);
        assert!(
            problems[0].to_string().starts_with("rules/f03.yml:4: rule \"r3\": expr does not parse"),
            "{}",
            problems[0]
        );
        files.retain(|f| !f.path.ends_with('3') && !f.path.ends_with("3.yml"));
        assert_eq!(check_repo(&files, &Layout::default(), &vars(), &Target::default()).unwrap().summary.rule_files, 36);
    }

    /// 100,000 parentheses in one rule, or 40,000 in each of 8 files, overflowed the stack and
    /// aborted the process; now each is a problem naming its file and rule.
    #[test]
    fn hostile_nesting_is_a_problem_not_an_abort() {
        let nested = |n: usize| format!("{}up{}", "(".repeat(n), ")".repeat(n));
        let rule = |name: &str, expr: &str| {
            format!("groups:\n  - name: g\n    rules:\n      - record: {name}\n        expr: '{expr}'\n")
        };
        for (count, depth) in [(1, 100_000), (8, 40_000)] {
            let mut files = vec![file("prometheus.yml", TEMPLATE)];
            for i in 0..count {
                files.push(file(&format!("rules/deep{i}.yml"), &rule(&format!("deep{i}"), &nested(depth))));
            }
            files.push(file("rules/fine.yml", RULES));
            let problems = check_repo(&files, &Layout::default(), &vars(), &Target::default()).unwrap_err();
            assert_eq!(problems.len(), count, "{}", describe(&problems));
            for (i, p) in problems.iter().enumerate() {
                let text = p.to_string();
                assert!(text.starts_with(&format!("rules/deep{i}.yml:4: rule \"deep{i}\": ")), "{text}");
                assert!(text.contains(&format!("nests {depth} levels deep")), "{text}");
            }
        }
    }

    #[test]
    fn missing_template_and_unsafe_paths() {
        let files = [file("rules/../../etc/x.yml", RULES)];
        let all = describe(&check_repo(&files, &Layout::default(), &vars(), &Target::default()).unwrap_err());
        assert!(all.contains("rules/../../etc/x.yml: path leaves the repository root"), "{all}");
        assert!(all.contains("prometheus.yml: the Prometheus config template is missing"), "{all}");
    }

    #[test]
    fn rules_not_covered_by_rule_files_are_errors() {
        let files = [file("prometheus.yml", TEMPLATE), file("rules/team/a.yml", RULES)];
        let all = describe(&check_repo(&files, &Layout::default(), &vars(), &Target::default()).unwrap_err());
        assert!(
            all.contains("rules/team/a.yml is deployed to rules.d/team/a.yml, which no rule_files pattern matches"),
            "{all}"
        );
    }

    #[test]
    fn globs_follow_go() {
        assert!(glob_match("rules.d/*.yml", "rules.d/a.yml"));
        assert!(!glob_match("rules.d/*.yml", "rules.d/team/a.yml"));
        assert!(glob_match("rules.d/*/*.yml", "rules.d/team/a.yml"));
        assert!(glob_match("rules.d/[ab]?.y*", "rules.d/b1.yaml"));
        assert!(!glob_match("rules.d/[^ab].yml", "rules.d/a.yml"));
    }
}
