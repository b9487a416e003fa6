//! `config-updater check` against `promtool check`: over a corpus of public rule files and
//! Prometheus configs (`tests/promtool-corpus/`, sources in its SOURCES.md), promstack must judge
//! every file valid or invalid as promtool does, for each Prometheus version it is checked for.
//!
//! Each corpus file is placed in a minimal config repository and checked with
//! [`config_updater::check::check_dir`], the code `config-updater check DIR` and a push run: a rule
//! file as `rules/corpus.yml` beside a template whose `rule_files` covers it, a config as the
//! template itself. promtool reads the same file:
//! - `promtool check rules FILE`;
//! - `promtool check config --syntax-only FILE`: the config is judged on its own. Without
//!   `--syntax-only`, promtool also opens every file the config names (rule files, TLS
//!   certificates, credentials, file_sd and scrape_config_files) and fails on the absent ones,
//!   which says nothing about the config; promstack checks rule and file_sd files where they are,
//!   in the repository.
//!
//! Only the verdicts are compared (the wording differs). A disagreement fails the test unless it is
//! in [`EXCEPTIONS`], where promstack is stricter than promtool on purpose, or promtool's verdict
//! is not the deployed Prometheus' ([`DEBIAN_OMITTED_SD`]).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use config_updater::check::check_dir;
use config_updater::layout::Layout;
use config_updater::settings::Limits;
use config_updater::validate::{describe, Target};
use harness::matrix;

/// How many files are checked at once (each runs promtool twice).
const THREADS: usize = 4;

/// The template a corpus rule file is checked beside.
const RULES_TEMPLATE: &str = "rule_files:\n  - rules.d/*.yml\n";

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Verdict {
    Valid,
    Invalid,
}

impl std::fmt::Display for Verdict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Verdict::Valid => "valid",
            Verdict::Invalid => "invalid",
        })
    }
}

/// A disagreement that is right: promstack is deliberately stricter than promtool.
struct Exception {
    /// Path under `tests/promtool-corpus/`.
    file: &'static str,
    /// A [`Version`]'s name, or "*" for all.
    version: &'static str,
    promtool: Verdict,
    promstack: Verdict,
    why: &'static str,
}

const MULTI_DOCUMENT: &str = "a second YAML document: Prometheus loads only the first and silently drops the rest, \
     so promstack refuses the file rather than deploy rules that never run";
const ABSOLUTE_RULE_FILES: &str = "an absolute rule_files path: promstack deploys rule files beside prometheus.yml on \
     the volume, so a pattern outside it would load nothing the repository holds";

const EXCEPTIONS: &[Exception] = &[
    Exception {
        file: "rules/prometheus-main/rules/fixtures/rules_multi_doc.yaml",
        version: "*",
        promtool: Verdict::Valid,
        promstack: Verdict::Invalid,
        why: MULTI_DOCUMENT,
    },
    Exception {
        file: "rules/pint/0175_strict_multi_doc__rules_strict.yml",
        version: "*",
        promtool: Verdict::Valid,
        promstack: Verdict::Invalid,
        why: MULTI_DOCUMENT,
    },
    Exception {
        file: "config/prometheus-main/config/testdata/rules_abs_path.good.yml",
        version: "*",
        promtool: Verdict::Valid,
        promstack: Verdict::Invalid,
        why: ABSOLUTE_RULE_FILES,
    },
    Exception {
        file: "config/prometheus-main/cmd/promtool/testdata/config_with_rule_files.yml",
        version: "*",
        promtool: Verdict::Valid,
        promstack: Verdict::Invalid,
        why: ABSOLUTE_RULE_FILES,
    },
];

/// Service discoveries upstream Prometheus has at a version but the Debian build of promtool used
/// here leaves out (Debian's packages are built without them). The deployed Prometheus is the
/// upstream image, so when promtool's only complaint is one of these fields, its verdict is not
/// the deployed Prometheus' and the file is not compared at that version. Found by comparing
/// upstream's `plugins/plugins.go` at v2.42.0 and v3.5.3 with the fields the Debian promtool rejects.
const DEBIAN_OMITTED_SD: &[(&str, &[&str])] = &[
    (
        "2.42",
        &["consul_sd_configs", "kubernetes_sd_configs", "kuma_sd_configs", "linode_sd_configs", "nomad_sd_configs"],
    ),
    (
        "3.5",
        &[
            "azure_sd_configs",
            "consul_sd_configs",
            "kuma_sd_configs",
            "nomad_sd_configs",
            "openstack_sd_configs",
            "stackit_sd_configs",
        ],
    ),
];

/// A Prometheus version (with its `--enable-feature` flags) the corpus is checked for.
struct Version {
    name: &'static str,
    promtool: PathBuf,
    /// The `--enable-feature` value, given to promtool and to the [`Target`] alike.
    features: &'static str,
    target: Target,
    /// Whether configs are checked too (the feature flags here change only PromQL).
    configs: bool,
}

fn versions() -> Vec<Version> {
    // The matrix's binaries (`make setup`), each checked to be the version it is taken for.
    let promtool = |release: matrix::Version| release.check(&release.promtool()).unwrap_or_else(|e| panic!("{e}"));
    let (v2, v3) = (promtool(matrix::Version::V2_42), promtool(matrix::Version::V3_5));
    let version = |name, promtool: &PathBuf, features, configs| Version {
        name,
        promtool: promtool.clone(),
        features,
        target: Target::parse(name.split('+').next().unwrap(), features).unwrap(),
        configs,
    };
    vec![
        version("2.42", &v2, "", true),
        version("3.5", &v3, "", true),
        // Prometheus 2.42 has no experimental functions; 3.5 gates them behind this flag.
        version("3.5+experimental", &v3, "promql-experimental-functions", false),
    ]
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    Rules,
    Config,
}

fn corpus_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/promtool-corpus")
}

/// Every corpus file, as a path relative to the corpus root, with its kind (from its top directory).
fn corpus() -> Vec<(String, Kind)> {
    let root = corpus_root();
    let mut files = Vec::new();
    for (top, kind) in [("rules", Kind::Rules), ("config", Kind::Config)] {
        let mut stack = vec![root.join(top)];
        while let Some(dir) = stack.pop() {
            for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())).flatten() {
                let path = entry.path();
                if path.is_dir() {
                    stack.push(path);
                } else {
                    let rel = path.strip_prefix(&root).unwrap().to_str().expect("UTF-8 corpus paths").to_string();
                    files.push((rel, kind));
                }
            }
        }
    }
    files.sort();
    files
}

/// One side's judgement of a file.
#[derive(Debug, Clone)]
struct Judgement {
    verdict: Verdict,
    message: String,
}

/// promtool's judgement, run from the corpus root so its messages name the corpus path.
fn promtool(version: &Version, file: &str, kind: Kind) -> Judgement {
    let mut command = Command::new(&version.promtool);
    if !version.features.is_empty() {
        command.arg(format!("--enable-feature={}", version.features));
    }
    match kind {
        Kind::Rules => command.args(["check", "rules", file]),
        Kind::Config => command.args(["check", "config", "--syntax-only", file]),
    };
    let output =
        command.current_dir(corpus_root()).output().unwrap_or_else(|e| panic!("{}: {e}", version.promtool.display()));
    let message = String::from_utf8_lossy(&output.stderr)
        .lines()
        .map(|l| l.trim().trim_start_matches("FAILED:").trim())
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join(" / ")
        .replace(&format!("parsing YAML file {file}: "), "")
        .replace(&format!("{file}: "), "");
    let verdict = match output.status.code() {
        Some(0) => Verdict::Valid,
        Some(1) => Verdict::Invalid,
        other => panic!("promtool {} on {file}: exit {other:?}: {message}", version.name),
    };
    Judgement { verdict, message }
}

/// Whether promtool's only complaint is a service discovery its Debian build leaves out.
fn only_debian_omitted_sd(version: &Version, message: &str) -> bool {
    let release = version.name.split('+').next().unwrap_or(version.name);
    let omitted = DEBIAN_OMITTED_SD.iter().find(|(v, _)| *v == release).map(|(_, sds)| *sds).unwrap_or(&[]);
    let complaints: Vec<&str> = message.split(" / ").filter(|l| l.starts_with("line ")).collect();
    message.contains("yaml: unmarshal errors:")
        && !complaints.is_empty()
        && complaints
            .iter()
            .all(|l| omitted.iter().any(|sd| l.ends_with(&format!("field {sd} not found in type config.ScrapeConfig"))))
}

/// A minimal config repository holding one corpus file.
fn repo_for(file: &str, kind: Kind) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let contents = std::fs::read(corpus_root().join(file)).unwrap();
    match kind {
        Kind::Rules => {
            std::fs::write(dir.path().join("prometheus.yml"), RULES_TEMPLATE).unwrap();
            std::fs::create_dir(dir.path().join("rules")).unwrap();
            std::fs::write(dir.path().join("rules/corpus.yml"), contents).unwrap();
        }
        Kind::Config => std::fs::write(dir.path().join("prometheus.yml"), contents).unwrap(),
    }
    dir
}

fn promstack(repo: &Path, version: &Version) -> Judgement {
    match check_dir(repo, &Layout::default(), Limits::default(), &BTreeMap::new(), &version.target) {
        Ok(_) => Judgement { verdict: Verdict::Valid, message: String::new() },
        Err(problems) => Judgement { verdict: Verdict::Invalid, message: describe(&problems).replace('\n', " / ") },
    }
}

/// What became of one file at one version.
enum Comparison {
    Agree,
    /// promtool's verdict is its Debian build's, not the deployed Prometheus' (its message).
    NoOracle(String),
    Exception(usize),
    Disagree {
        promtool: Judgement,
        promstack: Judgement,
    },
}

struct Row {
    file: String,
    kind: Kind,
    version: &'static str,
    promtool: Verdict,
    comparison: Comparison,
}

fn compare(file: &str, kind: Kind, versions: &[Version]) -> Vec<Row> {
    let repo = repo_for(file, kind);
    versions
        .iter()
        .filter(|version| kind == Kind::Rules || version.configs)
        .map(|version| {
            let theirs = promtool(version, file, kind);
            let ours = promstack(repo.path(), version);
            let comparison = if theirs.verdict == ours.verdict {
                Comparison::Agree
            } else if theirs.verdict == Verdict::Invalid && only_debian_omitted_sd(version, &theirs.message) {
                Comparison::NoOracle(theirs.message.clone())
            } else if let Some(i) = EXCEPTIONS.iter().position(|e| {
                e.file == file
                    && (e.version == "*" || e.version == version.name)
                    && e.promtool == theirs.verdict
                    && e.promstack == ours.verdict
            }) {
                Comparison::Exception(i)
            } else {
                Comparison::Disagree { promtool: theirs.clone(), promstack: ours }
            };
            Row { file: file.to_string(), kind, version: version.name, promtool: theirs.verdict, comparison }
        })
        .collect()
}

fn shorten(message: &str) -> String {
    const MAX: usize = 1200;
    if message.chars().count() <= MAX {
        return message.to_string();
    }
    format!("{}...", message.chars().take(MAX).collect::<String>())
}

/// The source of a corpus file: its second path component (`rules/<source>/...`).
fn source_of(file: &str) -> &str {
    file.split('/').nth(1).unwrap_or(file)
}

#[test]
fn promstack_agrees_with_promtool_on_the_corpus() {
    let versions = versions();
    let files = corpus();
    assert!(files.len() > 500, "the corpus is missing files: {} found", files.len());
    let next = AtomicUsize::new(0);
    let rows = Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for _ in 0..THREADS {
            scope.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some((file, kind)) = files.get(i) else { break };
                let out = compare(file, *kind, &versions);
                rows.lock().unwrap().extend(out);
            });
        }
    });
    let mut rows = rows.into_inner().unwrap();
    rows.sort_by(|a, b| (a.version, &a.file).cmp(&(b.version, &b.file)));

    // Per version: files, agreements, exceptions, not comparable, disagreements.
    let mut summary = String::from(
        "version | files | agree | documented exceptions | not comparable (Debian promtool lacks an SD) | disagree\n",
    );
    for version in &versions {
        let of = |pred: &dyn Fn(&Comparison) -> bool| {
            rows.iter().filter(|r| r.version == version.name && pred(&r.comparison)).count()
        };
        summary += &format!(
            "{} | {} | {} | {} | {} | {}\n",
            version.name,
            of(&|_| true),
            of(&|c| matches!(c, Comparison::Agree)),
            of(&|c| matches!(c, Comparison::Exception(_))),
            of(&|c| matches!(c, Comparison::NoOracle(_))),
            of(&|c| matches!(c, Comparison::Disagree { .. })),
        );
    }
    // Per source: files and promtool's verdicts at each version.
    summary += "\nsource | kind | files";
    for version in &versions {
        summary += &format!(" | {0} valid | {0} invalid", version.name);
    }
    summary += "\n";
    let mut sources: BTreeMap<(&str, &str), Vec<&Row>> = BTreeMap::new();
    for row in &rows {
        let kind = if row.kind == Kind::Rules { "rules" } else { "config" };
        sources.entry((source_of(&row.file), kind)).or_default().push(row);
    }
    for ((source, kind), of_source) in &sources {
        let files: BTreeSet<&str> = of_source.iter().map(|r| r.file.as_str()).collect();
        summary += &format!("{source} | {kind} | {}", files.len());
        for version in &versions {
            let count = |v: Verdict| of_source.iter().filter(|r| r.version == version.name && r.promtool == v).count();
            summary += &format!(" | {} | {}", count(Verdict::Valid), count(Verdict::Invalid));
        }
        summary += "\n";
    }
    println!("{summary}");
    for row in &rows {
        if let Comparison::NoOracle(message) = &row.comparison {
            println!("not compared: {} | {} | promtool: {}", row.version, row.file, shorten(message));
        }
    }

    let mut failures = Vec::new();
    for row in &rows {
        if let Comparison::Disagree { promtool, promstack } = &row.comparison {
            failures.push(format!(
                "{} | {} | promtool {}: {} | promstack {}: {}",
                row.version,
                row.file,
                promtool.verdict,
                shorten(&promtool.message),
                promstack.verdict,
                shorten(&promstack.message),
            ));
        }
    }
    let used: BTreeSet<usize> = rows
        .iter()
        .filter_map(|r| match r.comparison {
            Comparison::Exception(i) => Some(i),
            _ => None,
        })
        .collect();
    for (i, e) in EXCEPTIONS.iter().enumerate().filter(|(i, _)| !used.contains(i)) {
        failures.push(format!(
            "stale exception #{i}: {} ({}: promtool {}, promstack {}) no longer disagrees; remove it",
            e.file, e.version, e.promtool, e.promstack
        ));
    }
    assert!(
        failures.is_empty(),
        "{} disagreements with promtool (version | file | promtool | promstack):\n{}\n\n{summary}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn every_exception_names_a_corpus_file_and_a_reason() {
    let files: BTreeSet<String> = corpus().into_iter().map(|(f, _)| f).collect();
    for e in EXCEPTIONS {
        assert!(files.contains(e.file), "exception for {} which is not in the corpus", e.file);
        let known = e.version == "*" || versions().iter().any(|v| v.name == e.version);
        assert!(known, "{}: version {:?}", e.file, e.version);
        assert_ne!(e.promtool, e.promstack, "{}: an exception is a disagreement", e.file);
        assert!(!e.why.is_empty(), "{}: no reason", e.file);
    }
}

#[test]
fn every_corpus_source_is_cited() {
    let sources_md = std::fs::read_to_string(corpus_root().join("SOURCES.md")).unwrap();
    let sources: BTreeSet<String> = corpus().iter().map(|(f, _)| source_of(f).to_string()).collect();
    for source in sources {
        assert!(sources_md.contains(&format!("`{source}/`")), "SOURCES.md does not cite the corpus source {source}/");
    }
}

#[test]
fn only_a_lone_debian_omitted_sd_excuses_promtool() {
    let versions = versions();
    let (v2, v3) = (&versions[0], &versions[1]);
    let kubernetes =
        "yaml: unmarshal errors: / line 21: field kubernetes_sd_configs not found in type config.ScrapeConfig";
    assert!(only_debian_omitted_sd(v2, kubernetes));
    assert!(!only_debian_omitted_sd(v3, kubernetes), "3.5's Debian promtool has kubernetes_sd_configs");
    let with_another = format!("{kubernetes} / line 14: field keep_dropped_targets not found in type config.plain");
    assert!(!only_debian_omitted_sd(v2, &with_another));
    assert!(!only_debian_omitted_sd(v2, "EC2 SD configuration requires a region"));
}
