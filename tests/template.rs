//! template.yaml against the functions' code: every environment variable a function reads is set
//! for it in the template, and every variable the template sets is read.
//!
//! How "reads" is found (the convention the settings modules follow): a string literal passed as
//! the name to one of the reading methods of `promstack::settings::Env` (`env.or("NAME", ..)`,
//! `env.optional::<T>("NAME")`, ...: [`ENV_READERS`]), or to `env::var(..)` / `env::var_os(..)`
//! (any path prefix, e.g. `std::env::var("NAME")`), in the function's crate
//! (`functions/<name>/src`) or in the shared crate (`shared/src`), outside comments and outside
//! `#[cfg(test)]` modules (everything after the first `#[cfg(test)]` line of a file). Three kinds
//! of names are handled apart, each in a short list below with its reason:
//! - names the Lambda runtime sets (reading them needs nothing from the template; setting them is
//!   an error, since Lambda reserves them);
//! - names read on purpose but left unset by this stack (per function), e.g. credentials that must
//!   not be plain environment variables;
//! - `$(VAR)` names for config-updater's template rendering, which reads the whole environment
//!   (`env::vars()`): the function resource lists them under `Metadata.TemplateVariables`.
//!
//! Every rust-cargolambda function resource is matched to its crate by `CodeUri`, and every crate
//! under `functions/` must have one.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde_norway::Value;

/// Set by Lambda in every function's environment (reserved or always present).
const LAMBDA_RUNTIME_VARS: &[&str] = &[
    "_HANDLER",
    "_X_AMZN_TRACE_ID",
    "AWS_DEFAULT_REGION",
    "AWS_REGION",
    "AWS_EXECUTION_ENV",
    "AWS_LAMBDA_FUNCTION_NAME",
    "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
    "AWS_LAMBDA_FUNCTION_VERSION",
    "AWS_LAMBDA_INITIALIZATION_TYPE",
    "AWS_LAMBDA_LOG_GROUP_NAME",
    "AWS_LAMBDA_LOG_STREAM_NAME",
    "AWS_ACCESS_KEY",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_LAMBDA_RUNTIME_API",
    "LAMBDA_TASK_ROOT",
    "LAMBDA_RUNTIME_DIR",
];

/// Read by a function but deliberately not set by this stack: (crate, or one function's logical
/// id when the crate runs as more than one function, variable, why).
const READ_BUT_NOT_SET: &[(&str, &str, &str)] = &[
    (
        "cloudwatch-exporter",
        "REMOTE_WRITE_USERNAME",
        "basic auth is for an external receiver; a password must not be a plain environment variable (the stack writes to its own Prometheus, REMOTE_WRITE_AUTH=none)",
    ),
    ("cloudwatch-exporter", "REMOTE_WRITE_PASSWORD", "as REMOTE_WRITE_USERNAME"),
    ("cloudwatch-exporter", "REMOTE_WRITE_BEARER_TOKEN", "a token must not be a plain environment variable"),
    (
        "cloudwatch-exporter",
        "REMOTE_WRITE_SIGV4_REGION",
        "only read with REMOTE_WRITE_AUTH=sigv4 (Amazon Managed Prometheus), and then AWS_REGION is the default",
    ),
    (
        "CloudwatchExporterFunction",
        "FIREHOSE_ACCESS_KEY_SECRET_ARN",
        "only read with EXPORTER_MODE=metric-stream: the polling function (EXPORTER_MODE=polling) takes no Firehose deliveries",
    ),
    (
        "ecs-discovery",
        "FILE_SD_DIR",
        "an override for local runs; deployed, the directory follows from PROMETHEUS_CONFIG_DIR (the EFS mount), set once",
    ),
];

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

// ------------------------------------------------------------------ the code side ---------------

/// Rust source without comments, each string literal replaced by `"#N"` (N indexes the returned
/// contents; the literal's newlines are kept so line numbers hold), so that text inside a comment
/// or a string is never taken for code.
fn lex(src: &str) -> (String, Vec<String>) {
    let b = src.as_bytes();
    let mut out = String::with_capacity(src.len());
    let mut literals = Vec::new();
    let mut literal = |out: &mut String, content: &str| {
        out.push_str(&format!("\"#{}", literals.len()));
        out.extend(std::iter::repeat_n('\n', content.matches('\n').count()));
        out.push('"');
        literals.push(content.to_string());
    };
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c == b'/' && b.get(i + 1) == Some(&b'/') {
            while i < b.len() && b[i] != b'\n' {
                i += 1;
            }
        } else if c == b'/' && b.get(i + 1) == Some(&b'*') {
            let mut depth = 0;
            while i < b.len() {
                if b[i] == b'/' && b.get(i + 1) == Some(&b'*') {
                    depth += 1;
                    i += 2;
                } else if b[i] == b'*' && b.get(i + 1) == Some(&b'/') {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    if b[i] == b'\n' {
                        out.push('\n');
                    }
                    i += 1;
                }
            }
            out.push(' ');
        } else if c == b'r' && matches!(b.get(i + 1), Some(b'"') | Some(b'#')) && !is_ident(b, i) {
            // raw string r"..." / r#"..."#
            let mut j = i + 1;
            let mut hashes = 0;
            while b.get(j) == Some(&b'#') {
                hashes += 1;
                j += 1;
            }
            if b.get(j) != Some(&b'"') {
                out.push('r');
                i += 1;
                continue;
            }
            let start = j + 1;
            let mut end = start;
            while end < b.len() && !(b[end] == b'"' && (0..hashes).all(|k| b.get(end + 1 + k) == Some(&b'#'))) {
                end += 1;
            }
            literal(&mut out, &src[start..end.min(b.len())]);
            i = (end + 1 + hashes).min(b.len());
        } else if c == b'"' {
            let start = i + 1;
            let mut end = start;
            while end < b.len() && b[end] != b'"' {
                end += if b[end] == b'\\' { 2 } else { 1 };
            }
            let end = end.min(b.len());
            literal(&mut out, &src[start..end]);
            i = (end + 1).min(b.len());
        } else if c == b'\'' {
            // A char literal ('x', '\n', '"') or a lifetime ('a): copy a literal whole, so a
            // quote inside it does not open a string.
            let end = if b.get(i + 1) == Some(&b'\\') {
                src[i + 2..].find('\'').map(|k| i + 2 + k + 1)
            } else {
                let ch_len = src[i + 1..].chars().next().map_or(0, char::len_utf8);
                (b.get(i + 1 + ch_len) == Some(&b'\'')).then_some(i + 2 + ch_len)
            };
            let end = end.unwrap_or(i + 1);
            out.push_str(&src[i..end]);
            i = end;
        } else {
            let ch = src[i..].chars().next().unwrap();
            out.push(ch);
            i += ch.len_utf8();
        }
    }
    (out, literals)
}

fn is_ident(b: &[u8], i: usize) -> bool {
    i > 0 && (b[i - 1].is_ascii_alphanumeric() || b[i - 1] == b'_')
}

/// A file's code without its `#[cfg(test)]` module(s) (everything from the first one on).
struct Code {
    text: String,
    literals: Vec<String>,
}

fn runtime_code(src: &str) -> Code {
    let (mut text, literals) = lex(src);
    if let Some(at) = text.find("#[cfg(test)]") {
        text.truncate(at);
    }
    Code { text, literals }
}

/// The methods of `promstack::settings::Env` that read a variable; the name is their first argument.
/// (`retired` is not one: it only refuses an old name that is still set.)
const ENV_READERS: &[&str] = &["optional", "or", "required", "seconds", "list", "parsed"];

/// Names passed as string literals to a reading method of `Env` or to `env::var(` /
/// `env::var_os(`, with the line of each.
fn env_reads(code: &Code) -> Vec<(String, usize)> {
    let text = &code.text;
    let mut found = Vec::new();
    let patterns = ["env::var".to_string(), "env::var_os".to_string()];
    let methods = ENV_READERS.iter().map(|m| format!(".{m}"));
    for pat in patterns.into_iter().chain(methods) {
        let mut from = 0;
        while let Some(k) = text[from..].find(&pat) {
            let at = from + k;
            from = at + pat.len();
            if text[from..].starts_with(|c: char| c.is_ascii_alphanumeric() || c == '_') {
                continue; // a longer name (`env::var_os` while looking for `env::var`)
            }
            let Some(rest) = skip_turbofish(text[from..].trim_start()).strip_prefix('(') else { continue };
            let Some(rest) = rest.trim_start().strip_prefix("\"#") else { continue };
            let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
            let Some(name) = digits.parse::<usize>().ok().and_then(|n| code.literals.get(n)) else { continue };
            if !name.is_empty() && name.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'_') {
                found.push((name.clone(), text[..at].matches('\n').count() + 1));
            }
        }
    }
    found.sort_by_key(|(_, line)| *line);
    found
}

/// `::<T>` (nested generics included) at the start of `s` skipped: `optional::<u32>(` is a call.
fn skip_turbofish(s: &str) -> &str {
    let Some(rest) = s.strip_prefix("::<") else { return s };
    let mut depth = 1;
    for (i, c) in rest.char_indices() {
        match c {
            '<' => depth += 1,
            '>' => depth -= 1,
            _ => {}
        }
        if depth == 0 {
            return rest[i + 1..].trim_start();
        }
    }
    s
}

/// Whether the code hands the whole environment to something (`env::vars()`).
fn reads_whole_environment(code: &Code) -> bool {
    code.text.contains("env::vars()") || code.text.contains("env::vars_os()")
}

#[derive(Debug, Default)]
struct CodeReads {
    /// name → first place it is read (`path:line`).
    names: BTreeMap<String, String>,
    whole_environment: Option<String>,
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    let mut entries: Vec<_> = entries.flatten().map(|e| e.path()).collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

fn code_reads(dirs: &[PathBuf]) -> CodeReads {
    let mut reads = CodeReads::default();
    for dir in dirs {
        let mut files = Vec::new();
        rust_files(dir, &mut files);
        for file in files {
            let src = std::fs::read_to_string(&file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
            let code = runtime_code(&src);
            let shown = file.strip_prefix(root()).unwrap_or(&file).display().to_string();
            for (name, line) in env_reads(&code) {
                reads.names.entry(name).or_insert_with(|| format!("{shown}:{line}"));
            }
            if reads_whole_environment(&code) && reads.whole_environment.is_none() {
                reads.whole_environment = Some(shown);
            }
        }
    }
    reads
}

// ------------------------------------------------------------------ the template side -----------

#[derive(Debug)]
struct TemplateFunction {
    logical_id: String,
    code_uri: String,
    binary: Option<String>,
    env: BTreeSet<String>,
    template_variables: BTreeSet<String>,
}

/// `!Ref`, `!Sub`, `!If` ... parse as tagged values; a key lookup looks through none of them.
fn get<'a>(v: &'a Value, key: &str) -> Option<&'a Value> {
    v.as_mapping().and_then(|m| m.get(key))
}

fn env_names(holder: &Value, what: &str) -> Result<BTreeSet<String>, String> {
    let Some(env) = get(holder, "Environment") else { return Ok(BTreeSet::new()) };
    let vars = get(env, "Variables")
        .and_then(Value::as_mapping)
        .ok_or_else(|| format!("{what}: Environment.Variables must be a literal mapping so it can be checked"))?;
    vars.keys()
        .map(|k| k.as_str().map(str::to_string).ok_or_else(|| format!("{what}: environment key {k:?} is not a string")))
        .collect()
}

fn string_list(v: Option<&Value>, what: &str) -> Result<BTreeSet<String>, String> {
    match v {
        None => Ok(BTreeSet::new()),
        Some(Value::Sequence(items)) => items
            .iter()
            .map(|i| i.as_str().map(str::to_string).ok_or_else(|| format!("{what}: {i:?} is not a string")))
            .collect(),
        Some(other) => Err(format!("{what}: expected a list of names, got {other:?}")),
    }
}

/// The Rust functions of a SAM template (BuildMethod rust-cargolambda), with Globals merged in.
fn template_functions(yaml: &str) -> Result<Vec<TemplateFunction>, String> {
    let doc: Value = serde_norway::from_str(yaml).map_err(|e| format!("template does not parse: {e}"))?;
    let globals = get(&doc, "Globals").and_then(|g| get(g, "Function"));
    let global_env = match globals {
        Some(g) => env_names(g, "Globals.Function")?,
        None => BTreeSet::new(),
    };
    let resources = get(&doc, "Resources").and_then(Value::as_mapping).ok_or("template has no Resources")?;
    let mut out = Vec::new();
    for (id, res) in resources {
        let id = id.as_str().ok_or("a resource id is not a string")?.to_string();
        if get(res, "Type").and_then(Value::as_str) != Some("AWS::Serverless::Function") {
            continue;
        }
        let meta = get(res, "Metadata");
        if meta.and_then(|m| get(m, "BuildMethod")).and_then(Value::as_str) != Some("rust-cargolambda") {
            continue;
        }
        let props = get(res, "Properties").ok_or_else(|| format!("{id}: no Properties"))?;
        let code_uri = get(props, "CodeUri")
            .and_then(Value::as_str)
            .ok_or_else(|| format!("{id}: CodeUri must be a literal path to the function's crate"))?
            .trim_end_matches('/')
            .to_string();
        let binary = meta
            .and_then(|m| get(m, "BuildProperties"))
            .and_then(|p| get(p, "Binary"))
            .and_then(Value::as_str)
            .map(str::to_string);
        let mut env = global_env.clone();
        env.extend(env_names(props, &id)?);
        let template_variables =
            string_list(meta.and_then(|m| get(m, "TemplateVariables")), &format!("{id}: Metadata.TemplateVariables"))?;
        out.push(TemplateFunction { logical_id: id, code_uri, binary, env, template_variables });
    }
    Ok(out)
}

// ------------------------------------------------------------------ the comparison --------------

fn crate_name(code_uri: &str) -> &str {
    code_uri.rsplit('/').next().unwrap_or(code_uri)
}

/// Every mismatch between one function's template entry and the code it runs.
fn mismatches(f: &TemplateFunction, reads: &CodeReads, read_but_not_set: &[(&str, &str, &str)]) -> Vec<String> {
    let krate = crate_name(&f.code_uri);
    let who = format!("function {} ({})", f.logical_id, f.code_uri);
    let excused: BTreeMap<&str, &str> = read_but_not_set
        .iter()
        .filter(|(c, _, _)| *c == krate || *c == f.logical_id)
        .map(|(_, n, why)| (*n, *why))
        .collect();
    let runtime: BTreeSet<&str> = LAMBDA_RUNTIME_VARS.iter().copied().collect();
    let mut problems = Vec::new();

    for (name, place) in &reads.names {
        if f.env.contains(name) || runtime.contains(name.as_str()) || excused.contains_key(name.as_str()) {
            continue;
        }
        problems.push(format!("{who}: {name} is read ({place}) but template.yaml does not set it"));
    }
    for name in &f.env {
        if runtime.contains(name.as_str()) {
            problems.push(format!("{who}: {name} is set by the Lambda runtime; template.yaml must not set it"));
        } else if let Some(why) = excused.get(name.as_str()) {
            problems.push(format!("{who}: {name} is listed as deliberately unset ({why}) but template.yaml sets it"));
        } else if !reads.names.contains_key(name) && !f.template_variables.contains(name) {
            problems.push(format!(
                "{who}: template.yaml sets {name} but the function never reads it \
                 (no env.or(\"{name}\", ..) or other Env read, nor env::var(\"{name}\"), \
                 in functions/{krate}/src or shared/src)"
            ));
        }
    }
    for name in &f.template_variables {
        if !f.env.contains(name) {
            problems.push(format!("{who}: {name} is listed in Metadata.TemplateVariables but not set"));
        }
        if reads.whole_environment.is_none() {
            problems.push(format!(
                "{who}: Metadata.TemplateVariables lists {name}, but the function never reads its whole environment (env::vars())"
            ));
        }
    }
    for (name, why) in &excused {
        if !reads.names.contains_key(*name) {
            problems.push(format!(
                "{who}: {name} is listed as read-but-not-set ({why}) but the function no longer reads it: drop it from the list"
            ));
        }
    }
    problems
}

fn check_repo(yaml: &str) -> Vec<String> {
    match template_functions(yaml) {
        Ok(functions) => check_functions(&functions),
        Err(e) => vec![e],
    }
}

fn check_functions(functions: &[TemplateFunction]) -> Vec<String> {
    let mut problems = Vec::new();
    let mut wired = BTreeSet::new();
    for f in functions {
        let dir = root().join(&f.code_uri);
        let manifest = dir.join("Cargo.toml");
        let Ok(cargo) = std::fs::read_to_string(&manifest) else {
            problems.push(format!("function {}: CodeUri {} has no Cargo.toml", f.logical_id, f.code_uri));
            continue;
        };
        if let Some(bin) = &f.binary {
            if !cargo.contains(&format!("name = \"{bin}\"")) {
                problems.push(format!(
                    "function {}: BuildProperties.Binary {bin} is not a target of {}",
                    f.logical_id, f.code_uri
                ));
            }
        }
        wired.insert(f.code_uri.clone());
        let reads = code_reads(&[dir.join("src"), root().join("shared/src")]);
        problems.extend(mismatches(f, &reads, READ_BUT_NOT_SET));
    }
    // Every function crate that exists is deployed.
    let mut crates: Vec<_> = std::fs::read_dir(root().join("functions")).expect("functions/").flatten().collect();
    crates.sort_by_key(|e| e.path());
    for entry in crates {
        if entry.path().join("Cargo.toml").exists() {
            let uri = format!("functions/{}", entry.file_name().to_string_lossy());
            if !wired.contains(&uri) {
                problems.push(format!(
                    "{uri} is a function crate but template.yaml has no rust-cargolambda function with CodeUri: {uri}"
                ));
            }
        }
    }
    problems
}

#[test]
fn every_variable_a_function_reads_is_set_and_every_one_set_is_read() {
    let yaml = std::fs::read_to_string(root().join("template.yaml")).expect("template.yaml");
    let functions = template_functions(&yaml).unwrap();
    // The exporter's crate runs twice: polling (CloudwatchExporterFunction) and, with
    // MetricStreamEnabled, Firehose deliveries (MetricStreamFunction).
    assert_eq!(functions.len(), 4, "four Rust functions: {functions:#?}");
    let problems = check_repo(&yaml);
    assert!(problems.is_empty(), "template.yaml and the functions disagree:\n  {}", problems.join("\n  "));
}

// ------------------------------------------------------------------ the two stack modes ---------

/// What a deploy must give: the parameters without a default.
const REQUIRED: &[(&str, &str)] = &[
    ("VpcId", "vpc-0123456789abcdef0"),
    ("PrivateSubnet1", "subnet-0123456789abcdef0"),
    ("PrivateSubnet2", "subnet-0123456789abcdef1"),
    ("AccountAlias", "shop-prod"),
    ("Product", "shop"),
    ("ConfigRepoUrl", "https://bitbucket.org/ops/prometheus-config.git"),
    ("BitbucketRepository", "ops/prometheus-config"),
    ("WebhookSecretArn", "arn:aws:secretsmanager:us-east-1:123456789012:secret:webhook"),
    ("BitbucketTokenSecretArn", "arn:aws:secretsmanager:us-east-1:123456789012:secret:token"),
];

/// A functions-only deploy against existing parts (the values scripts/check-template.sh lints).
const FUNCTIONS_ONLY: &[(&str, &str)] = &[
    ("StackMode", "functions-only"),
    ("ExistingFileSystemId", "fs-0123456789abcdef0"),
    ("ExistingLambdaSecurityGroupIds", "sg-0123456789abcdef0"),
    ("ExistingPrometheusUrls", "http://prometheus-a.internal:9090,http://prometheus-b.internal:9090"),
    ("ExistingRemoteWriteUrl", "http://prometheus-a.internal:9090/api/v1/write"),
    ("ExistingBucket", "metrics-state"),
    ("ExistingClusterName", "monitoring"),
];

/// The deploys the template is checked in: each mode, plus the optional parts switched on.
fn modes() -> Vec<(&'static str, Vec<(&'static str, &'static str)>)> {
    let with = |extra: &[(&'static str, &'static str)]| REQUIRED.iter().chain(extra).copied().collect::<Vec<_>>();
    let optional = [
        ("PrivateSubnet3", "subnet-0123456789abcdef2"),
        ("CreateInterfaceEndpoints", "true"),
        ("PrivateRouteTableIds", "rtb-0123456789abcdef0"),
        ("AlarmTopicArn", "arn:aws:sns:us-east-1:123456789012:oncall"),
        ("DiscoveryClusterArns", "arn:aws:ecs:us-east-1:123456789012:cluster/shop"),
        ("ExporterAssumeRoleArns", "arn:aws:iam::210987654321:role/cloudwatch-read"),
        ("MetricStreamEnabled", "true"),
    ];
    let mut whole_all = with(&optional);
    whole_all.extend([
        ("QueryCertificateArn", "arn:aws:acm:us-east-1:123456789012:certificate/abc"),
        ("AlertmanagerPasswordSecretArn", "arn:aws:secretsmanager:us-east-1:123456789012:secret:am"),
        ("PrometheusFeatures", "promql-experimental-functions"),
    ]);
    let mut functions_only_all = with(FUNCTIONS_ONLY);
    functions_only_all.extend(optional);
    functions_only_all.push(("ExistingAccessPointId", "fsap-0123456789abcdef0"));
    vec![
        ("whole", with(&[])),
        ("whole, every option", whole_all),
        ("functions-only", with(FUNCTIONS_ONLY)),
        ("functions-only, existing access point, every option", functions_only_all),
    ]
}

fn repo_template() -> harness::template::Template {
    harness::template::Template::repo()
}

/// The env-var check of the test above, in each mode: the variables are those the evaluated
/// template sets (an `!If` to `AWS::NoValue` sets none), and each value resolves (no reference to
/// a resource the mode does not create).
#[test]
fn every_variable_a_function_reads_is_set_and_every_one_set_is_read_in_both_stack_modes() {
    let yaml = std::fs::read_to_string(root().join("template.yaml")).expect("template.yaml");
    let template = repo_template();
    for (mode, values) in modes() {
        let deployment = template.deploy(&values).unwrap_or_else(|e| panic!("{mode}: {e}"));
        let mut functions = template_functions(&yaml).unwrap();
        // A function under a condition this deploy does not meet sets nothing.
        functions.retain(|f| deployment.creates(&f.logical_id).unwrap());
        for f in &mut functions {
            let env = deployment.function_environment(&f.logical_id).unwrap_or_else(|e| panic!("{mode}: {e}"));
            f.env = env.into_keys().collect();
        }
        let problems = check_functions(&functions);
        assert!(problems.is_empty(), "{mode}: template.yaml and the functions disagree:\n  {}", problems.join("\n  "));
    }
}

#[test]
fn every_reference_of_every_mode_is_to_something_the_mode_creates() {
    let template = repo_template();
    for (mode, values) in modes() {
        let deployment = template.deploy(&values).unwrap();
        let problems = deployment.dangling_references().unwrap_or_else(|e| panic!("{mode}: {e}"));
        assert!(problems.is_empty(), "{mode}:\n  {}", problems.join("\n  "));
        assert_eq!(deployment.rule_failures().unwrap(), Vec::<String>::new(), "{mode}");
    }
}

#[test]
fn functions_only_creates_the_three_functions_and_what_they_alone_need() {
    let template = repo_template();
    let values: Vec<_> = REQUIRED.iter().chain(FUNCTIONS_ONLY).copied().collect();
    let created = template.deploy(&values).unwrap().created_resources().unwrap();
    let expected = [
        "MountTargetsReady",
        "ConfigAccessPoint",
        "ExporterLogGroup",
        "CloudwatchExporterFunction",
        "ConfigUpdaterLogGroup",
        "ConfigUpdaterFunction",
        "ConfigSyncFunction",
        "ConfigSync",
        "DiscoveryLogGroup",
        "EcsDiscoveryFunction",
        "EventDeadLetterQueue",
        "EventDeadLetterQueuePolicy",
        "AlarmTopic",
        "EventDeadLetterQueueAlarm",
        "ExporterErrorsAlarm",
        "ExporterThrottlesAlarm",
        "ExporterDurationAlarm",
        "ConfigUpdaterErrorsAlarm",
        "ConfigUpdaterThrottlesAlarm",
        "ConfigUpdaterDurationAlarm",
        "DiscoveryErrorsAlarm",
        "DiscoveryThrottlesAlarm",
        "DiscoveryDurationAlarm",
    ];
    assert_eq!(created, expected);

    // An existing access point is used as it is; the stack creates none.
    let mut with_access_point = values.clone();
    with_access_point.push(("ExistingAccessPointId", "fsap-0123456789abcdef0"));
    let created = template.deploy(&with_access_point).unwrap().created_resources().unwrap();
    assert!(!created.iter().any(|r| r == "ConfigAccessPoint"), "{created:?}");

    // The whole stack creates everything functions-only does, and the parts around it.
    let whole = template.deploy(REQUIRED).unwrap().created_resources().unwrap();
    let missing: Vec<_> = expected.iter().filter(|r| !whole.iter().any(|w| w == *r)).collect();
    assert!(missing.is_empty(), "{missing:?}");
    for part in
        ["Cluster", "ConfigFileSystem", "DataBucket", "PrometheusService", "CompactorService", "LambdaSecurityGroup"]
    {
        assert!(whole.iter().any(|w| w == part), "whole creates {part}");
    }
}

/// functions-only points every function at the existing parts, the whole stack at its own.
#[test]
fn each_mode_points_the_functions_at_its_prometheus_bucket_and_volume() {
    let template = repo_template();
    let whole = template.deploy(REQUIRED).unwrap();
    let values: Vec<_> = REQUIRED.iter().chain(FUNCTIONS_ONLY).copied().collect();
    let existing = template.deploy(&values).unwrap();
    let env = |d: &harness::template::Deployment, f: &str, name: &str| d.function_environment(f).unwrap()[name].clone();

    assert_eq!(
        env(&whole, "CloudwatchExporterFunction", "REMOTE_WRITE_URL"),
        "http://prometheus.prometheus.local:9090/api/v1/write"
    );
    assert_eq!(env(&whole, "ConfigUpdaterFunction", "PROMETHEUS_URL"), "http://prometheus.prometheus.local:9090");
    assert_eq!(env(&whole, "CloudwatchExporterFunction", "STATE_BUCKET"), "<resource:DataBucket>");
    assert_eq!(env(&whole, "ConfigUpdaterFunction", "CLUSTER"), "<resource:Cluster>");

    assert_eq!(
        env(&existing, "CloudwatchExporterFunction", "REMOTE_WRITE_URL"),
        "http://prometheus-a.internal:9090/api/v1/write"
    );
    assert_eq!(
        env(&existing, "ConfigUpdaterFunction", "PROMETHEUS_URL"),
        "http://prometheus-a.internal:9090,http://prometheus-b.internal:9090"
    );
    assert_eq!(env(&existing, "CloudwatchExporterFunction", "STATE_BUCKET"), "metrics-state");
    assert_eq!(
        env(&existing, "CloudwatchExporterFunction", "EXPORTER_CONFIG"),
        "s3://metrics-state/cloudwatch-exporter/config.yml"
    );
    assert_eq!(env(&existing, "ConfigUpdaterFunction", "CLUSTER"), "monitoring");

    for function in ["ConfigUpdaterFunction", "EcsDiscoveryFunction"] {
        let props = existing.properties(function).unwrap();
        assert_eq!(props["VpcConfig"]["SecurityGroupIds"], Value::from(vec!["sg-0123456789abcdef0"]), "{function}");
        assert_eq!(props["FileSystemConfigs"][0]["Arn"], "<resource:ConfigAccessPoint.Arn>", "{function}");
        let mount = &props["Policies"][0]["Statement"];
        let efs =
            mount.as_sequence().unwrap().iter().find(|s| s["Action"][0] == "elasticfilesystem:ClientMount").unwrap();
        assert_eq!(
            efs["Resource"], "arn:aws:elasticfilesystem:us-east-1:123456789012:file-system/fs-0123456789abcdef0",
            "{function}"
        );
    }
    let mut with_access_point = values.clone();
    with_access_point.push(("ExistingAccessPointId", "fsap-0123456789abcdef0"));
    let props = template.deploy(&with_access_point).unwrap().properties("EcsDiscoveryFunction").unwrap();
    assert_eq!(
        props["FileSystemConfigs"][0]["Arn"],
        "arn:aws:elasticfilesystem:us-east-1:123456789012:access-point/fsap-0123456789abcdef0"
    );
}

/// A functions-only deploy that leaves an existing part unnamed is refused by the template's
/// Rules before anything is created, with the parameter it needs.
#[test]
fn functions_only_without_the_existing_parts_is_refused_by_the_rules() {
    let template = repo_template();
    let mut values: Vec<_> = REQUIRED.to_vec();
    values.push(("StackMode", "functions-only"));
    let failures = template.deploy(&values).unwrap().rule_failures().unwrap();
    let named: Vec<&str> = failures.iter().filter_map(|f| f.split_whitespace().nth(3)).collect();
    assert_eq!(
        named,
        [
            "ExistingFileSystemId",
            "ExistingLambdaSecurityGroupIds",
            "ExistingPrometheusUrls",
            "ExistingRemoteWriteUrl",
            "ExistingBucket",
            "ExistingClusterName"
        ],
        "{failures:#?}"
    );
    // One missing part: one failure.
    let mut values: Vec<_> = REQUIRED.iter().chain(FUNCTIONS_ONLY).copied().collect();
    values.retain(|(name, _)| *name != "ExistingBucket");
    let failures = template.deploy(&values).unwrap().rule_failures().unwrap();
    assert_eq!(failures.len(), 1, "{failures:?}");
    assert!(failures[0].contains("ExistingBucket"), "{failures:?}");
}

// ------------------------------------------------------------------ the stack watches itself ----

/// Each Rust function: a `live` alias, and Errors, Throttles and Duration alarms on it that notify
/// the alarm topic, Duration at 80% of the function's timeout (so a timeout change moves it).
#[test]
fn every_rust_function_has_an_alias_and_errors_throttles_and_duration_alarms() {
    let yaml = std::fs::read_to_string(root().join("template.yaml")).expect("template.yaml");
    let doc: Value = serde_norway::from_str(&yaml).unwrap();
    let template = repo_template();
    for (mode, values) in modes() {
        let deployment = template.deploy(&values).unwrap();
        let topic = match values.iter().find(|(n, _)| *n == "AlarmTopicArn") {
            Some((_, arn)) => arn.to_string(),
            None => "<resource:AlarmTopic>".to_string(),
        };
        let mut alarms_by_function: BTreeMap<String, BTreeMap<String, Value>> = BTreeMap::new();
        for id in deployment.created_resources().unwrap() {
            if doc["Resources"][id.as_str()]["Type"].as_str() != Some("AWS::CloudWatch::Alarm") {
                continue;
            }
            let alarm = deployment.properties(&id).unwrap();
            assert_eq!(alarm["AlarmActions"], Value::from(vec![topic.clone()]), "{mode}: {id}");
            assert_eq!(alarm["OKActions"], Value::from(vec![topic.clone()]), "{mode}: {id}");
            if alarm["Namespace"] == "AWS/Lambda" {
                let dimension = &alarm["Dimensions"][0];
                assert_eq!(dimension["Name"], "FunctionName", "{mode}: {id}");
                let function =
                    dimension["Value"].as_str().unwrap().trim_start_matches("<resource:").trim_end_matches('>');
                let metric = alarm["MetricName"].as_str().unwrap().to_string();
                alarms_by_function.entry(function.to_string()).or_default().insert(metric, alarm.clone());
            }
        }
        let globals = &doc["Globals"]["Function"];
        for f in template_functions(&yaml).unwrap() {
            if !deployment.creates(&f.logical_id).unwrap() {
                continue;
            }
            let props = &doc["Resources"][f.logical_id.as_str()]["Properties"];
            assert_eq!(props["AutoPublishAlias"], "live", "{}", f.logical_id);
            let alarms = alarms_by_function
                .get(&f.logical_id)
                .unwrap_or_else(|| panic!("{mode}: {} has no alarms", f.logical_id));
            assert_eq!(
                alarms.keys().collect::<Vec<_>>(),
                ["Duration", "Errors", "Throttles"],
                "{mode}: {}",
                f.logical_id
            );
            let timeout = props["Timeout"].as_u64().or(globals["Timeout"].as_u64()).unwrap();
            let duration = &alarms["Duration"];
            assert_eq!(duration["Threshold"].as_u64(), Some(timeout * 1000 * 8 / 10), "{mode}: {}", f.logical_id);
            assert_eq!(duration["Statistic"], "Maximum", "{}", f.logical_id);
            for metric in ["Errors", "Throttles"] {
                assert_eq!(alarms[metric]["Threshold"].as_u64(), Some(1), "{}: {metric}", f.logical_id);
            }
        }
    }
}

/// Every EventBridge target (the schedules and the ECS task rule) retries and dead-letters to the
/// encrypted queue, whose policy admits exactly those rules, and whose depth is alarmed.
#[test]
fn every_eventbridge_target_retries_and_dead_letters_to_an_encrypted_queue() {
    let yaml = std::fs::read_to_string(root().join("template.yaml")).expect("template.yaml");
    let doc: Value = serde_norway::from_str(&yaml).unwrap();
    let template = repo_template();
    let deployment = template.deploy(REQUIRED).unwrap();
    let mut rules = Vec::new();
    for f in template_functions(&yaml).unwrap() {
        if !deployment.creates(&f.logical_id).unwrap() {
            continue;
        }
        let props = deployment.properties(&f.logical_id).unwrap();
        for (name, event) in props["Events"].as_mapping().into_iter().flatten() {
            let kind = event["Type"].as_str().unwrap();
            let at = format!("{}.Events.{}", f.logical_id, name.as_str().unwrap());
            let rule_name = match kind {
                "Schedule" => &event["Properties"]["Name"],
                "EventBridgeRule" => &event["Properties"]["RuleName"],
                other => panic!("{at}: event type {other} is not checked here"),
            };
            rules.push(format!("arn:aws:events:us-east-1:123456789012:rule/{}", rule_name.as_str().unwrap()));
            let retry = &event["Properties"]["RetryPolicy"];
            assert!(retry["MaximumRetryAttempts"].as_u64().is_some_and(|n| n > 0), "{at}: {retry:?}");
            assert!(retry["MaximumEventAgeInSeconds"].as_u64().is_some(), "{at}: {retry:?}");
            assert_eq!(event["Properties"]["DeadLetterConfig"]["Arn"], "<resource:EventDeadLetterQueue.Arn>", "{at}");
        }
        // Asynchronous runs that fail after Lambda's retries land in the same queue.
        if !props["Events"].is_null() {
            assert_eq!(
                props["EventInvokeConfig"]["DestinationConfig"]["OnFailure"]["Destination"],
                "<resource:EventDeadLetterQueue.Arn>",
                "{}",
                f.logical_id
            );
        }
    }
    assert_eq!(rules.len(), 3, "{rules:?}");
    let policy = deployment.properties("EventDeadLetterQueuePolicy").unwrap();
    let statement = &policy["PolicyDocument"]["Statement"][0];
    assert_eq!(statement["Principal"]["Service"], "events.amazonaws.com");
    let admitted: Vec<String> = statement["Condition"]["ArnEquals"]["aws:SourceArn"]
        .as_sequence()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap().to_string())
        .collect();
    rules.sort();
    let mut admitted_sorted = admitted.clone();
    admitted_sorted.sort();
    assert_eq!(admitted_sorted, rules, "the queue admits exactly the stack's rules");
    let queue = deployment.properties("EventDeadLetterQueue").unwrap();
    assert_eq!(queue["SqsManagedSseEnabled"], true);
    let alarm = deployment.properties("EventDeadLetterQueueAlarm").unwrap();
    assert_eq!(alarm["Namespace"], "AWS/SQS");
    assert_eq!(alarm["Dimensions"][0]["Value"], "<resource:EventDeadLetterQueue.QueueName>");
    assert_eq!(doc["Resources"]["EventDeadLetterQueue"]["Condition"], Value::Null, "both modes have it");
}

/// thanos-compact deletes blocks by resolution; no lifecycle rule expires Thanos blocks under it
/// (a rule ages objects by upload time and could leave half a block, which halts the compactor).
#[test]
fn only_the_compactor_expires_thanos_blocks_and_it_never_runs_twice() {
    let template = repo_template();
    let deployment = template.deploy(REQUIRED).unwrap();
    let bucket = deployment.properties("DataBucket").unwrap();
    for rule in bucket["LifecycleConfiguration"]["Rules"].as_sequence().unwrap() {
        assert!(rule["ExpirationInDays"].is_null() && rule["ExpirationDate"].is_null(), "{rule:?}");
    }
    let service = deployment.properties("CompactorService").unwrap();
    assert_eq!(service["DesiredCount"].as_u64(), Some(1));
    assert_eq!(service["DeploymentConfiguration"]["MaximumPercent"].as_u64(), Some(100));
    assert_eq!(service["DeploymentConfiguration"]["MinimumHealthyPercent"].as_u64(), Some(0));
    let compact = deployment.container("CompactorTaskDefinition", "thanos-compact").unwrap();
    assert_eq!(compact.command[..2], ["compact", "--wait"]);
    assert!(!compact.command.iter().any(|a| a.starts_with("--downsampling.disable")), "{:?}", compact.command);
    assert_eq!(compact.flag("retention.resolution-raw"), Some("30d"));
    assert_eq!(compact.flag("retention.resolution-5m"), Some("180d"));
    assert_eq!(compact.flag("retention.resolution-1h"), Some("395d"));
    // thanos-compact refuses to start when a resolution is dropped before the next one is made
    // from it (raw under 40h, 5m under 10 days; 0d is "for ever").
    let hours = |d: &str| -> u64 {
        let (n, unit) = d.split_at(d.len() - 1);
        n.parse::<u64>().unwrap()
            * match unit {
                "d" => 24,
                "w" => 24 * 7,
                "y" => 24 * 365,
                other => panic!("{other}"),
            }
    };
    let raw = hours(compact.flag("retention.resolution-raw").unwrap());
    let five_minutes = hours(compact.flag("retention.resolution-5m").unwrap());
    assert!(raw == 0 || raw >= 40, "raw retention {raw}h");
    assert!(five_minutes == 0 || five_minutes >= 240, "5m retention {five_minutes}h");
    let query = deployment.container("ThanosQueryTaskDefinition", "thanos-query").unwrap();
    assert!(query.command.iter().any(|a| a == "--query.auto-downsampling"), "{:?}", query.command);
    let task = deployment.properties("CompactorTaskDefinition").unwrap();
    assert_eq!(task["EphemeralStorage"]["SizeInGiB"], "100");
    let role = deployment.properties("CompactorTaskRole").unwrap();
    let actions = &role["Policies"][0]["PolicyDocument"]["Statement"][1]["Action"];
    assert!(actions.as_sequence().unwrap().iter().any(|a| a == "s3:DeleteObject"), "{actions:?}");
    let logs = deployment.properties("CompactorTaskDefinition").unwrap()["ContainerDefinitions"][1]["LogConfiguration"]
        ["Options"]["awslogs-group"]
        .clone();
    assert_eq!(logs, "<resource:CompactorLogGroup>", "its own log group");
}

/// The functions that mount the EFS access point look for Prometheus' config directory where it is
/// mounted (docs/development.md: `/mnt/prometheus` in Lambdas), and those that do not, do not mount it.
#[test]
fn functions_that_mount_efs_point_prometheus_config_dir_at_the_mount() {
    let yaml = std::fs::read_to_string(root().join("template.yaml")).expect("template.yaml");
    let doc: Value = serde_norway::from_str(&yaml).unwrap();
    let mut mounted = Vec::new();
    for f in template_functions(&yaml).unwrap() {
        let props = &doc["Resources"][f.logical_id.as_str()]["Properties"];
        let mount = props["FileSystemConfigs"][0]["LocalMountPath"].as_str();
        let dir = props["Environment"]["Variables"]["PROMETHEUS_CONFIG_DIR"].as_str();
        match (mount, dir) {
            (Some(mount), Some(dir)) => {
                assert_eq!(
                    mount, "/mnt/prometheus",
                    "{}: the Lambdas mount the volume at /mnt/prometheus",
                    f.logical_id
                );
                assert_eq!(dir, mount, "{}: PROMETHEUS_CONFIG_DIR is not the EFS mount", f.logical_id);
                mounted.push(f.code_uri.clone());
            }
            (None, None) => {}
            (mount, dir) => panic!("{}: EFS mount {mount:?} but PROMETHEUS_CONFIG_DIR {dir:?}", f.logical_id),
        }
    }
    assert_eq!(mounted, ["functions/config-updater", "functions/ecs-discovery"], "the functions that write to EFS");
}

/// `$(NAME)` references outside YAML comments, as config-updater renders them.
fn template_references(yaml: &str) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    for line in yaml.lines().filter(|l| !l.trim_start().starts_with('#')) {
        let mut rest = line;
        while let Some(at) = rest.find("$(") {
            rest = &rest[at + 2..];
            if let Some(end) = rest.find(')') {
                let name = &rest[..end];
                if !name.is_empty() && name.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'_') {
                    names.insert(name.to_string());
                }
            }
        }
    }
    names
}

#[test]
fn the_example_config_repo_renders_with_the_variables_the_stack_sets() {
    let yaml = std::fs::read_to_string(root().join("template.yaml")).expect("template.yaml");
    let updater = template_functions(&yaml)
        .unwrap()
        .into_iter()
        .find(|f| f.code_uri == "functions/config-updater")
        .expect("config-updater in template.yaml");
    let example = root().join("examples/config-repo/prometheus.yml");
    // The example repo is written alongside this test; until it lands there is nothing to compare.
    let Ok(text) = std::fs::read_to_string(&example) else {
        eprintln!("{} does not exist yet: not checked", example.display());
        return;
    };
    let used = template_references(&text);
    assert!(!used.is_empty(), "examples/config-repo/prometheus.yml references no $(VAR): nothing to check");
    let missing: Vec<_> = used.difference(&updater.template_variables).collect();
    assert!(
        missing.is_empty(),
        "examples/config-repo/prometheus.yml uses {missing:?}, which function {} does not list in \
         Metadata.TemplateVariables (and set): a deploy of the example would stop on an unset variable",
        updater.logical_id
    );
}

#[test]
fn template_references_skip_comments_and_non_names() {
    let refs = template_references("# $(IN_COMMENT)\na: $(ONE)-$(TWO)\nregex: '$(foo bar'\nb: $()\n");
    assert_eq!(refs.into_iter().collect::<Vec<_>>(), ["ONE", "TWO"]);
}

#[test]
fn every_rust_function_is_arm64_al2023_with_the_bootstrap_handler() {
    let yaml = std::fs::read_to_string(root().join("template.yaml")).expect("template.yaml");
    let doc: Value = serde_norway::from_str(&yaml).unwrap();
    let globals = get(&doc, "Globals").and_then(|g| get(g, "Function"));
    let setting = |props: &Value, key: &str| get(props, key).or_else(|| globals.and_then(|g| get(g, key))).cloned();
    for f in template_functions(&yaml).unwrap() {
        let props = get(&doc["Resources"][f.logical_id.as_str()], "Properties").unwrap();
        assert_eq!(setting(props, "Runtime"), Some(Value::from("provided.al2023")), "{}", f.logical_id);
        assert_eq!(setting(props, "Handler"), Some(Value::from("bootstrap")), "{}", f.logical_id);
        assert_eq!(
            setting(props, "Architectures"),
            Some(Value::Sequence(vec![Value::from("arm64")])),
            "{}",
            f.logical_id
        );
    }
}

// ------------------------------------------------------------------ the checker itself ----------

const SAMPLE: &str = r#"
Transform: AWS::Serverless-2016-10-31
Globals:
  Function:
    Environment:
      Variables:
        SHARED_SETTING: x
Resources:
  Bucket:
    Type: AWS::S3::Bucket
  Exporter:
    Type: AWS::Serverless::Function
    Metadata:
      BuildMethod: rust-cargolambda
      TemplateVariables: [PRODUCT]
    Properties:
      CodeUri: functions/exporter/
      Environment:
        Variables:
          STATE_BUCKET: !Ref Bucket
          URL: !Sub http://${Bucket}:9090
          MODE: !If [Cond, a, b]
          PRODUCT: shop
  Python:
    Type: AWS::Serverless::Function
    Properties:
      Environment:
        Variables:
          IGNORED: because-not-rust
"#;

fn reads_of(src: &str) -> CodeReads {
    let code = runtime_code(src);
    CodeReads {
        names: env_reads(&code).into_iter().map(|(n, l)| (n, format!("lib.rs:{l}"))).collect(),
        whole_environment: reads_whole_environment(&code).then(|| "lib.rs".into()),
    }
}

#[test]
fn short_form_tags_and_globals_are_read_from_a_template() {
    let functions = template_functions(SAMPLE).unwrap();
    assert_eq!(functions.len(), 1, "only rust-cargolambda functions: {functions:?}");
    let f = &functions[0];
    assert_eq!(f.logical_id, "Exporter");
    assert_eq!(f.code_uri, "functions/exporter");
    let names: Vec<_> = f.env.iter().map(String::as_str).collect();
    assert_eq!(names, ["MODE", "PRODUCT", "SHARED_SETTING", "STATE_BUCKET", "URL"]);
}

#[test]
fn a_variable_read_but_not_set_is_named_with_its_function_and_place() {
    let f = &template_functions(SAMPLE).unwrap()[0];
    let reads = reads_of(
        "fn a() {\n let _ = std::env::var(\"STATE_BUCKET\");\n let _ = std::env::var( \"URL\");\n \
         let _ = env::var(\"MODE\");\n let _ = std::env::var_os(\"SHARED_SETTING\");\n let _ = std::env::vars();\n \
         let _ = std::env::var(\"LOCK_TIMEOUT\");\n}\n",
    );
    let problems = mismatches(f, &reads, &[]);
    assert_eq!(
        problems,
        ["function Exporter (functions/exporter): LOCK_TIMEOUT is read (lib.rs:7) but template.yaml does not set it"]
    );
}

#[test]
fn a_variable_set_but_never_read_is_named() {
    let f = &template_functions(SAMPLE).unwrap()[0];
    let reads = reads_of(
        "fn a() { env::var(\"STATE_BUCKET\"); env::var(\"URL\"); env::var(\"SHARED_SETTING\"); env::vars(); }",
    );
    let problems = mismatches(f, &reads, &[]);
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(problems[0].starts_with(
        "function Exporter (functions/exporter): template.yaml sets MODE but the function never reads it"
    ));
}

#[test]
fn template_variables_need_a_function_that_reads_its_whole_environment() {
    let f = &template_functions(SAMPLE).unwrap()[0];
    let reads = reads_of(
        "fn a() { env::var(\"STATE_BUCKET\"); env::var(\"URL\"); env::var(\"MODE\"); env::var(\"SHARED_SETTING\"); }",
    );
    let problems = mismatches(f, &reads, &[]);
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(problems[0].contains("lists PRODUCT, but the function never reads its whole environment"), "{problems:?}");
}

#[test]
fn comments_tests_and_strings_are_not_reads() {
    let src = r##"
//! Each name is read with a literal `std::env::var("DOC_NAME")`.
/* env::var("BLOCK_NAME") */
fn a() -> &'static str {
    let url = "https://example.com/env::var(";  // env::var("LINE_NAME")
    let q = '"';
    let _ = std::env::var("REAL");
    let r = r#"env::var("RAW")"#;
    url
}
#[cfg(test)]
mod tests { fn t() { std::env::var("TEST_ONLY").ok(); } }
"##;
    let reads = env_reads(&runtime_code(src));
    assert_eq!(reads, [("REAL".to_string(), 7)]);
}

#[test]
fn reads_through_the_settings_helper_are_found_with_or_without_a_turbofish() {
    let src = r#"
fn read(env: &Env) -> Result<Settings, SettingError> {
    let dir = env.or("PROMETHEUS_CONFIG_DIR", PathBuf::from("/mnt/prometheus"))?;
    let n = env.optional::<NonZeroU32>( "MAX_ATTEMPTS")?;
    let urls: Vec<_> = env
        .list("PROMETHEUS_URL")?;
    let m = env.required::<Vec<Option<u8>>>("NESTED")?;
    env.seconds("LOCK_TIMEOUT_SECONDS", DEFAULT)?;
    env.parsed("FILTER_LABEL", "NAME or NAME=VALUE", |v| LabelFilter::parse(v).ok())?;
    env.retired("OLD_NAME", "NEW_NAME")?;
    let text = some.or(other).unwrap_or("NOT_A_READ");
    env.optionally("NOT_A_READER_EITHER");
    let k = std::env::var_os(name);
}
#[cfg(test)]
mod tests { fn t() { env.or("TEST_ONLY", 1); } }
"#;
    let names: Vec<_> = env_reads(&runtime_code(src)).into_iter().map(|(n, line)| format!("{n}:{line}")).collect();
    assert_eq!(
        names,
        [
            "PROMETHEUS_CONFIG_DIR:3",
            "MAX_ATTEMPTS:4",
            "PROMETHEUS_URL:6",
            "NESTED:7",
            "LOCK_TIMEOUT_SECONDS:8",
            "FILTER_LABEL:9"
        ]
    );
}

#[test]
fn runtime_variables_are_never_set_and_excuses_must_stay_true() {
    let yaml = SAMPLE.replace("PRODUCT: shop", "PRODUCT: shop\n          AWS_REGION: eu-west-1");
    let f = &template_functions(&yaml).unwrap()[0];
    let reads = reads_of(
        "fn a() { env::var(\"STATE_BUCKET\"); env::var(\"URL\"); env::var(\"MODE\"); env::var(\"SHARED_SETTING\"); \
         env::var(\"AWS_LAMBDA_FUNCTION_NAME\"); env::vars(); }",
    );
    let problems = mismatches(f, &reads, &[("exporter", "OLD_SECRET", "secrets are not env vars")]);
    assert_eq!(problems.len(), 2, "{problems:?}");
    assert!(problems[0].contains("AWS_REGION is set by the Lambda runtime"), "{problems:?}");
    assert!(problems[1].contains("OLD_SECRET is listed as read-but-not-set"), "{problems:?}");
}

// ------------------------------------------------------------------ the deploy-time sync shim ---

/// One request: method, path, headers (names lower-cased), body.
type Received = (String, String, Vec<(String, String)>, String);

/// An HTTP server that answers every request 200 and keeps each one: the pre-signed URL
/// CloudFormation gives a custom resource for its answer.
struct ResponseUrl {
    port: u16,
    received: std::sync::Arc<std::sync::Mutex<Vec<Received>>>,
}

impl ResponseUrl {
    fn start() -> Self {
        use std::io::{BufRead, BufReader, Read, Write};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().unwrap().port();
        let received = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let sink = received.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut line = String::new();
                if reader.read_line(&mut line).is_err() {
                    continue;
                }
                let mut parts = line.split_whitespace();
                let (method, path) = (parts.next().unwrap_or("").to_string(), parts.next().unwrap_or("").to_string());
                let mut headers = Vec::new();
                loop {
                    let mut h = String::new();
                    if reader.read_line(&mut h).unwrap_or(0) == 0 || h == "\r\n" {
                        break;
                    }
                    if let Some((k, v)) = h.trim_end().split_once(':') {
                        headers.push((k.trim().to_ascii_lowercase(), v.trim().to_string()));
                    }
                }
                let len =
                    headers.iter().find(|(k, _)| k == "content-length").and_then(|(_, v)| v.parse().ok()).unwrap_or(0);
                let mut body = vec![0; len];
                let _ = reader.read_exact(&mut body);
                sink.lock().unwrap().push((method, path, headers, String::from_utf8_lossy(&body).into_owned()));
                let _ = stream.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
            }
        });
        ResponseUrl { port, received }
    }
}

/// The inline Python of the ConfigSync custom resource, run against moto's Lambda: it invokes
/// config-updater with `{"action": "sync"}`, and every request type gets exactly one answer on the
/// response URL (a missing answer would hold the stack until the timeout).
#[tokio::test(flavor = "multi_thread")]
async fn the_config_sync_custom_resource_invokes_sync_and_always_answers_cloudformation() {
    let yaml = std::fs::read_to_string(root().join("template.yaml")).expect("template.yaml");
    let doc: Value = serde_norway::from_str(&yaml).unwrap();
    let shim = doc["Resources"]["ConfigSyncFunction"]["Properties"]["InlineCode"]
        .as_str()
        .expect("ConfigSyncFunction.Properties.InlineCode");
    assert_eq!(doc["Resources"]["ConfigSyncFunction"]["Properties"]["Handler"].as_str(), Some("index.handler"));

    let moto = harness::Moto::start();
    // moto's Lambda without Docker: an invocation returns its payload.
    moto.control("/moto-api/config", serde_json::json!({"lambda": {"use_docker": false}})).await;
    let responses = ResponseUrl::start();

    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("index.py"), shim).unwrap();
    std::fs::write(
        dir.path().join("drive.py"),
        r##"
import io, json, sys, zipfile
import boto3
sys.path.insert(0, sys.argv[1])
import index

base_url, mode = sys.argv[2], sys.argv[3]
if mode == "moto":
    role = boto3.client("iam").create_role(RoleName="config-updater", AssumeRolePolicyDocument=json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]}))["Role"]["Arn"]
    code = io.BytesIO()
    with zipfile.ZipFile(code, "w") as z:
        z.writestr("bootstrap", "#!/bin/sh\n")
    boto3.client("lambda").create_function(FunctionName="stack-config-updater", Runtime="provided.al2023", Role=role,
                                           Handler="bootstrap", Code={"ZipFile": code.getvalue()})
    cases = ["Create", "Update", "Delete"]
else:  # the Lambda API cannot be reached
    cases = ["Create", "Delete"]
for i, request_type in enumerate(cases):
    index.handler({"RequestType": request_type, "ResponseURL": f"{base_url}/{mode}/{i}",
                   "StackId": "arn:aws:cloudformation:us-east-1:123456789012:stack/promstack/1",
                   "RequestId": f"{mode}-{i}", "LogicalResourceId": "ConfigSync",
                   "ResourceType": "AWS::CloudFormation::CustomResource",
                   "ResourceProperties": {"ServiceToken": "arn:shim", "FunctionName": "stack-config-updater"}}, None)
"##,
    )
    .unwrap();
    let python = harness::Moto::binary().with_file_name("python");
    let drive = |mode: &str, endpoint: &str| {
        let out = std::process::Command::new(&python)
            .arg(dir.path().join("drive.py"))
            .arg(dir.path())
            .arg(format!("http://127.0.0.1:{}/response", responses.port))
            .arg(mode)
            .env("AWS_ENDPOINT_URL", endpoint)
            .env("AWS_ACCESS_KEY_ID", "testing")
            .env("AWS_SECRET_ACCESS_KEY", "testing")
            .env("AWS_DEFAULT_REGION", "us-east-1")
            .env_remove("AWS_PROFILE")
            .output()
            .unwrap_or_else(|e| panic!("{}: {e}", python.display()));
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        if !out.status.success() {
            moto.fail(format!(
                "the shim's driver ({mode}) failed ({}):\n{stdout}\n{}",
                out.status,
                String::from_utf8_lossy(&out.stderr)
            ));
        }
        stdout
    };
    let stdout = drive("moto", &moto.endpoint());
    let unreachable = format!("http://127.0.0.1:{}", harness::free_port());
    let stdout_unreachable = drive("unreachable", &unreachable);

    let received = responses.received.lock().unwrap().clone();
    let paths: Vec<_> = received.iter().map(|r| r.1.as_str()).collect();
    assert_eq!(
        paths,
        [
            "/response/moto/0",
            "/response/moto/1",
            "/response/moto/2",
            "/response/unreachable/0",
            "/response/unreachable/1"
        ],
        "one answer per request\n{stdout}\n{stdout_unreachable}"
    );
    let mut statuses = Vec::new();
    for (method, path, headers, body) in &received {
        assert_eq!(method, "PUT", "{path}");
        // A pre-signed S3 URL: the signature covers no content type, so none may be sent.
        let content_type = headers.iter().find(|(k, _)| k == "content-type").map(|(_, v)| v.as_str());
        assert!(matches!(content_type, None | Some("")), "{path}: content-type {content_type:?}");
        let answer: serde_json::Value = serde_json::from_str(body).unwrap_or_else(|e| panic!("{path}: {e}: {body}"));
        let id = path.trim_start_matches("/response/").replace('/', "-");
        assert_eq!(answer["RequestId"], id.as_str());
        assert_eq!(answer["LogicalResourceId"], "ConfigSync");
        assert_eq!(answer["StackId"], "arn:aws:cloudformation:us-east-1:123456789012:stack/promstack/1");
        // The same physical id on every update, so CloudFormation never replaces (deletes) it.
        assert_eq!(answer["PhysicalResourceId"], "config-sync");
        statuses.push((
            answer["Status"].as_str().unwrap().to_string(),
            answer["Reason"].as_str().unwrap_or("").to_string(),
        ));
    }
    let only: Vec<_> = statuses.iter().map(|(s, _)| s.as_str()).collect();
    assert_eq!(only, ["SUCCESS", "SUCCESS", "SUCCESS", "FAILED", "SUCCESS"], "{statuses:?}");
    // The failure says why, for the stack events.
    assert!(statuses[3].1.contains("127.0.0.1"), "{statuses:?}");

    // What config-updater was sent (moto's Lambda echoes the payload back): the sync action.
    let synced: Vec<serde_json::Value> = stdout
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|v| v.get("sync").is_some())
        .collect();
    assert_eq!(synced.len(), 2, "{stdout}");
    for s in &synced {
        assert_eq!(s["sync"], "stack-config-updater");
        assert_eq!(s["function_error"], serde_json::Value::Null);
        let payload: serde_json::Value = serde_json::from_str(s["payload"].as_str().unwrap()).unwrap();
        assert_eq!(payload, serde_json::json!({"action": "sync"}));
    }
}

// ------------------------------------------------------------------ the evaluator's modes -------

const MODES_SAMPLE: &str = r#"
Parameters:
  Mode: {Type: String, Default: whole}
  Existing: {Type: String, Default: ''}
  Groups: {Type: CommaDelimitedList, Default: ''}
Rules:
  NeedsExisting:
    RuleCondition: !Equals [!Ref Mode, lean]
    Assertions:
      - Assert: !Not [!Equals [!Ref Existing, '']]
        AssertDescription: lean needs Existing
      - Assert: !Not [!Contains [!Ref Groups, '']]
        AssertDescription: lean needs Groups
Conditions:
  Whole: !Equals [!Ref Mode, whole]
Resources:
  Bucket:
    Type: AWS::S3::Bucket
    Condition: Whole
  Fn:
    Type: AWS::Serverless::Function
    DependsOn: [Bucket]
    Properties:
      Environment:
        Variables:
          BUCKET: !If [Whole, !Ref Bucket, !Ref Existing]
          ARN: !Sub '${Bucket.Arn}/x'
          ONLY_WHOLE: !If [Whole, 'yes', !Ref AWS::NoValue]
Outputs:
  Url:
    Value: !GetAtt FnUrl.FunctionUrl
  Alias:
    Value: !Ref Fn.Alias
  Missing:
    Value: !GetAtt Nothing.Arn
"#;

#[test]
fn the_evaluator_refuses_what_a_mode_does_not_create_and_applies_the_rules() {
    let template = harness::template::Template::parse(MODES_SAMPLE).unwrap();
    let whole = template.deploy(&[]).unwrap();
    assert_eq!(whole.created_resources().unwrap(), ["Bucket", "Fn"]);
    assert_eq!(
        whole.dangling_references().unwrap(),
        ["output Missing: !GetAtt: Nothing is not a resource of the template"],
        "a name SAM generates from a function (FnUrl, Fn.Alias) is that function's"
    );
    assert_eq!(whole.function_environment("Fn").unwrap()["ONLY_WHOLE"], "yes");
    assert!(whole.rule_failures().unwrap().is_empty());

    let lean = template.deploy(&[("Mode", "lean"), ("Existing", "shared-bucket")]).unwrap();
    assert_eq!(lean.created_resources().unwrap(), ["Fn"]);
    assert_eq!(
        lean.dangling_references().unwrap(),
        [
            "Fn.Properties: Environment: Variables: ARN: !Sub: Bucket is not created in this deploy (its Condition is false)",
            "Fn.DependsOn: Bucket is not created in this deploy",
            "output Missing: !GetAtt: Nothing is not a resource of the template"
        ]
    );
    assert!(lean.properties("Bucket").unwrap_err().contains("Bucket is not created"));
    assert_eq!(lean.rule_failures().unwrap(), ["lean needs Groups"]);
    let lean = template.deploy(&[("Mode", "lean"), ("Groups", "sg-1,sg-2")]).unwrap();
    assert_eq!(lean.rule_failures().unwrap(), ["lean needs Existing"]);
}

/// The stream asks CloudWatch for the percentiles of each metric listed (up to four
/// `Namespace:MetricName` pairs), in one statistics configuration; without percentiles it asks for
/// none.
#[test]
fn metric_stream_percentiles_cover_every_metric_listed() {
    let template = repo_template();
    let stream = |extra: &[(&'static str, &'static str)]| {
        let values: Vec<_> = REQUIRED.iter().chain(&[("MetricStreamEnabled", "true")]).chain(extra).copied().collect();
        template.deploy(&values).unwrap().properties("MetricStream").unwrap()
    };
    let pairs = |config: &Value| -> Vec<String> {
        config["IncludeMetrics"]
            .as_sequence()
            .unwrap()
            .iter()
            .map(|m| format!("{}:{}", m["Namespace"].as_str().unwrap(), m["MetricName"].as_str().unwrap()))
            .collect()
    };

    let none = stream(&[]);
    assert!(none["StatisticsConfigurations"].is_null(), "{none:?}");

    let one = stream(&[("MetricStreamPercentiles", "p99")]);
    let configs = one["StatisticsConfigurations"].as_sequence().unwrap();
    assert_eq!(configs.len(), 1);
    assert_eq!(pairs(&configs[0]), ["AWS/ApplicationELB:TargetResponseTime"]);

    let four = stream(&[
        ("MetricStreamPercentiles", "p50,p99,p99.9"),
        (
            "MetricStreamPercentileMetrics",
            "AWS/ApplicationELB:TargetResponseTime,AWS/ApiGateway:Latency,AWS/Lambda:Duration,AWS/SQS:ApproximateAgeOfOldestMessage",
        ),
    ]);
    let configs = four["StatisticsConfigurations"].as_sequence().unwrap();
    assert_eq!(configs.len(), 1);
    let statistics: Vec<&str> =
        configs[0]["AdditionalStatistics"].as_sequence().unwrap().iter().map(|s| s.as_str().unwrap()).collect();
    assert_eq!(statistics, ["p50", "p99", "p99.9"]);
    assert_eq!(
        pairs(&configs[0]),
        [
            "AWS/ApplicationELB:TargetResponseTime",
            "AWS/ApiGateway:Latency",
            "AWS/Lambda:Duration",
            "AWS/SQS:ApproximateAgeOfOldestMessage"
        ]
    );

    let two = stream(&[
        ("MetricStreamPercentiles", "p99"),
        ("MetricStreamPercentileMetrics", "AWS/ApiGateway:Latency,AWS/Lambda:Duration"),
    ]);
    assert_eq!(pairs(&two["StatisticsConfigurations"][0]), ["AWS/ApiGateway:Latency", "AWS/Lambda:Duration"]);
}
