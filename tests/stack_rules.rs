//! The stack's own rules and dashboard: `examples/config-repo/rules/promstack*.yml` and
//! `dashboards/promstack.json`.
//!
//! - The rules' unit tests (`examples/config-repo/tests/*.test.yml`) pass with the promtool of each
//!   Prometheus version (2.42 and 3.5), and cover every alert firing and staying quiet and every
//!   recording rule.
//! - Each alert's `runbook_url` is a section of `docs/operations.md`.
//! - config-updater's own check (what a push runs) accepts the example repo with the rules, for
//!   each version, and does not deploy their unit tests.
//! - Every dashboard query parses (promtool and config-updater's check, each version) and returns
//!   data from a Prometheus fed by the three functions against the harness: moto, the git server,
//!   and config-updater, the exporter and ecs-discovery configured from their environment, as in
//!   Lambda, with `REMOTE_WRITE_URL` set so each pushes its own series.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use aws_lambda_events::eventbridge::EventBridgeEvent;
use aws_sdk_cloudwatch::primitives::DateTime;
use aws_sdk_cloudwatch::types::MetricDatum;
use config_updater::check::check_dir;
use config_updater::layout::Layout;
use config_updater::settings::Limits;
use config_updater::validate::{describe, Target};
use harness::config_updater::{example_repo, push_with, vars, Stack, REPOSITORY};
use harness::ecs::EcsWorld;
use harness::{matrix, now_secs, Prometheus};
use lambda_runtime::{Context, LambdaEvent};
use promstack::settings::Env;
use serde_json::{json, Value};
use serde_norway::Value as Yaml;

/// Where the rules' runbook links point; users replace it (docs/operations.md, "Runbook links").
const RUNBOOK_BASE: &str = "https://docs.promstack.example/operations.md#";

/// The rule files of the stack, and the unit-test files that cover them (paths in the example repo).
const RULE_FILES: &[&str] = &["rules/promstack.yml", "rules/promstack-yace.yml"];
const TEST_FILES: &[&str] = &["tests/promstack.test.yml", "tests/promstack-yace.test.yml"];

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).to_path_buf()
}

fn yaml(path: &Path) -> Yaml {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_norway::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Every rule of the stack's rule files: (`alert` or `record`, name, the rule).
fn stack_rules() -> Vec<(&'static str, String, Yaml)> {
    let mut out = Vec::new();
    for file in RULE_FILES {
        for group in yaml(&example_repo().join(file))["groups"].as_sequence().unwrap() {
            for rule in group["rules"].as_sequence().unwrap() {
                let (kind, name) = match (rule.get("alert"), rule.get("record")) {
                    (Some(a), _) => ("alert", a),
                    (_, Some(r)) => ("record", r),
                    _ => panic!("{file}: a rule that is neither an alert nor a recording rule: {rule:?}"),
                };
                out.push((kind, name.as_str().unwrap().to_string(), rule.clone()));
            }
        }
    }
    out
}

/// The promtool of `version`, checked to be that version.
fn promtool(version: matrix::Version) -> PathBuf {
    version.check(&version.promtool()).unwrap_or_else(|e| panic!("{e}"))
}

fn output_text(out: &std::process::Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

#[test]
fn the_rules_unit_tests_pass_with_each_prometheus_versions_promtool() {
    for version in matrix::Version::ALL {
        let out = Command::new(promtool(version))
            .args(["test", "rules"])
            .args(TEST_FILES)
            .current_dir(example_repo())
            .output()
            .unwrap();
        assert!(out.status.success(), "promtool {version} test rules failed:\n{}", output_text(&out));
    }
}

#[test]
fn every_alert_is_tested_firing_and_quiet_and_every_recording_rule_is_tested() {
    let mut fires = BTreeSet::new();
    let mut quiet = BTreeSet::new();
    let mut exprs = BTreeSet::new();
    let mut covered_files = BTreeSet::new();
    for file in TEST_FILES {
        let tests = yaml(&example_repo().join(file));
        for rule_file in tests["rule_files"].as_sequence().unwrap() {
            covered_files.insert(rule_file.as_str().unwrap().trim_start_matches("../").to_string());
        }
        for case in tests["tests"].as_sequence().unwrap() {
            for t in case.get("alert_rule_test").and_then(Yaml::as_sequence).into_iter().flatten() {
                let name = t["alertname"].as_str().unwrap().to_string();
                let firing = t.get("exp_alerts").and_then(Yaml::as_sequence).is_some_and(|a| !a.is_empty());
                if firing {
                    fires.insert(name)
                } else {
                    quiet.insert(name)
                };
            }
            for t in case.get("promql_expr_test").and_then(Yaml::as_sequence).into_iter().flatten() {
                exprs.insert(t["expr"].as_str().unwrap().to_string());
            }
        }
    }
    assert_eq!(covered_files, RULE_FILES.iter().map(|f| f.to_string()).collect(), "a rule file without unit tests");
    let mut missing = Vec::new();
    for (kind, name, _) in stack_rules() {
        match kind {
            "alert" if !fires.contains(&name) => missing.push(format!("{name}: no test where it fires")),
            "alert" if !quiet.contains(&name) => missing.push(format!("{name}: no test where it stays quiet")),
            "record" if !exprs.contains(&name) => missing.push(format!("{name}: no promql_expr_test")),
            _ => {}
        }
    }
    assert!(missing.is_empty(), "untested rules:\n{}", missing.join("\n"));
}

#[test]
fn each_alerts_runbook_url_is_a_section_of_the_operations_doc() {
    let doc = std::fs::read_to_string(root().join("docs/operations.md")).unwrap();
    let headings: BTreeSet<&str> = doc.lines().filter_map(|l| l.strip_prefix("### ")).map(str::trim).collect();
    let mut wrong = Vec::new();
    let alerts: Vec<_> = stack_rules().into_iter().filter(|(kind, _, _)| *kind == "alert").collect();
    assert!(alerts.len() >= 10, "the stack's alerts are missing: {}", alerts.len());
    for (_, name, rule) in alerts {
        let url = rule["annotations"]["runbook_url"].as_str().unwrap_or("");
        // GitHub, Bitbucket Server and most renderers derive the anchor from the heading so.
        let expected = format!("{RUNBOOK_BASE}{}", name.to_lowercase());
        if url != expected {
            wrong.push(format!("{name}: runbook_url {url:?}, expected {expected:?}"));
        }
        if !headings.contains(name.as_str()) {
            wrong.push(format!("{name}: docs/operations.md has no heading \"### {name}\""));
        }
        if rule["labels"]["severity"].as_str().is_none() {
            wrong.push(format!("{name}: no severity label"));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

/// A heading's anchor as GitHub and Bitbucket Server make it: lower case, punctuation dropped,
/// spaces to `-`.
fn slug(heading: &str) -> String {
    heading
        .trim()
        .to_lowercase()
        .chars()
        .filter(|c| c.is_alphanumeric() || *c == ' ' || *c == '-' || *c == '_')
        .map(|c| if c == ' ' { '-' } else { c })
        .collect()
}

#[test]
fn the_links_between_the_operations_and_migration_docs_reach_a_heading() {
    let docs = ["operations.md", "migration.md"];
    let read = |name: &str| std::fs::read_to_string(root().join("docs").join(name)).unwrap();
    let anchors: BTreeMap<&str, BTreeSet<String>> = docs
        .iter()
        .map(|d| {
            (*d, read(d).lines().filter(|l| l.starts_with('#')).map(|l| slug(l.trim_start_matches('#'))).collect())
        })
        .collect();
    let mut broken = Vec::new();
    for doc in docs {
        let text = read(doc);
        for link in text.split("](").skip(1).filter_map(|rest| rest.split(')').next()) {
            let (file, anchor) = link.split_once('#').unwrap_or((link, ""));
            let target = if file.is_empty() { doc } else { file };
            let Some(known) = anchors.get(target) else {
                if file.ends_with(".md") {
                    broken.push(format!("{doc}: link to {link}: no such doc"));
                }
                continue;
            };
            if !anchor.is_empty() && !known.contains(anchor) {
                broken.push(format!("{doc}: link to {link}: no such heading"));
            }
        }
    }
    assert!(broken.is_empty(), "{}", broken.join("\n"));
}

/// The Prometheus versions config-updater validates for, as promtool_differential.rs names them.
fn targets() -> Vec<(matrix::Version, Target)> {
    matrix::Version::ALL.iter().map(|v| (*v, Target::parse(&v.name(), "").unwrap())).collect()
}

#[test]
fn config_updater_deploys_the_stack_rules_and_not_their_unit_tests() {
    for (version, target) in targets() {
        let release = check_dir(&example_repo(), &Layout::default(), Limits::default(), &vars(), &target)
            .unwrap_or_else(|p| panic!("config-updater refuses the example repo for {version}:\n{}", describe(&p)));
        for deployed in ["rules.d/promstack.yml", "rules.d/promstack-yace.yml"] {
            assert!(release.files.contains_key(deployed), "{version}: {deployed} not in {:?}", release.files.keys());
        }
        assert!(
            !release.files.keys().any(|k| k.contains("test")),
            "{version}: unit tests deployed: {:?}",
            release.files.keys()
        );
    }
}

// ---------------------------------------------------------------------------------------------
// The dashboard.

/// One query of the dashboard: the panel's title, the target's refId, the PromQL as in the JSON.
struct PanelQuery {
    panel: String,
    ref_id: String,
    expr: String,
}

fn dashboard() -> Value {
    let path = root().join("dashboards/promstack.json");
    serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn panel_queries(dashboard: &Value) -> Vec<PanelQuery> {
    let mut out = Vec::new();
    for panel in dashboard["panels"].as_array().unwrap() {
        if panel["type"] == "row" {
            continue;
        }
        let title = panel["title"].as_str().unwrap().to_string();
        let targets = panel["targets"].as_array().unwrap_or_else(|| panic!("panel {title:?} has no targets"));
        assert!(!targets.is_empty(), "panel {title:?} has no query");
        assert_eq!(panel["datasource"]["uid"], "${datasource}", "panel {title:?} does not use the datasource variable");
        for target in targets {
            out.push(PanelQuery {
                panel: title.clone(),
                ref_id: target["refId"].as_str().unwrap().to_string(),
                expr: target["expr"].as_str().unwrap().to_string(),
            });
        }
    }
    out
}

/// The PromQL Grafana sends for `expr`: its variables at the values a whole-day view with every
/// cluster selected gives them.
fn as_sent(expr: &str) -> String {
    let sent = expr.replace("$__range", "1d").replace("$cluster", ".*");
    assert!(!sent.contains('$'), "a dashboard variable this test does not know in {expr:?}");
    sent
}

#[test]
fn the_dashboard_has_a_prometheus_datasource_variable_and_every_query_parses_for_each_version() {
    let dashboard = dashboard();
    assert!(dashboard["schemaVersion"].as_u64().unwrap() >= 39, "schemaVersion {}", dashboard["schemaVersion"]);
    let variables = dashboard["templating"]["list"].as_array().unwrap();
    assert!(
        variables.iter().any(|v| v["name"] == "datasource" && v["type"] == "datasource" && v["query"] == "prometheus"),
        "no Prometheus datasource variable: {variables:?}"
    );
    let queries = panel_queries(&dashboard);
    assert!(queries.len() >= 15, "the dashboard's queries are missing: {}", queries.len());

    // Each query as a recording rule in a config repo: promtool and config-updater parse it as
    // Prometheus would.
    let repo = tempfile::tempdir().unwrap();
    std::fs::write(repo.path().join("prometheus.yml"), "rule_files:\n  - rules.d/*.yml\n").unwrap();
    std::fs::create_dir(repo.path().join("rules")).unwrap();
    let mut rules = String::from("groups:\n  - name: dashboard\n    rules:\n");
    for (i, q) in queries.iter().enumerate() {
        // A JSON string is a YAML scalar.
        rules += &format!("      - record: dashboard_query_{i}\n        expr: {}\n", json!(as_sent(&q.expr)));
    }
    let file = repo.path().join("rules/dashboard.yml");
    std::fs::write(&file, &rules).unwrap();
    for (version, target) in targets() {
        let out = Command::new(promtool(version)).args(["check", "rules"]).arg(&file).output().unwrap();
        assert!(out.status.success(), "promtool {version} refuses a dashboard query:\n{}\n{rules}", output_text(&out));
        if let Err(problems) = check_dir(repo.path(), &Layout::default(), Limits::default(), &BTreeMap::new(), &target)
        {
            panic!("config-updater ({version}) refuses a dashboard query:\n{}\n{rules}", describe(&problems));
        }
    }
}

/// The exporter's config: one custom-namespace metric, read every run.
const EXPORTER_CONFIG: &str = r#"
apiVersion: v1alpha1
customNamespace:
  - name: shop
    namespace: MyApp
    regions: [us-east-1]
    period: 60
    length: 600
    metrics:
      - name: Orders
        statistics: [Sum]
"#;

async fn secret_arn(sm: &aws_sdk_secretsmanager::Client, name: &str) -> String {
    sm.describe_secret().secret_id(name).send().await.unwrap().arn().unwrap().to_string()
}

/// config-updater, configured from its environment, deploys the example repo (the stack's rules
/// with it) to the stack's Prometheus.
async fn deploy_with_config_updater(stack: &Stack, commit: &str, sdk: &aws_config::SdkConfig) {
    let sm = aws_sdk_secretsmanager::Client::new(sdk);
    let env = Env::from_pairs([
        ("CONFIG_REPO_URL", stack.git.url()),
        ("CONFIG_REPO_AUTH", "basic:x-token-auth".to_string()),
        ("BITBUCKET_REPOSITORY", REPOSITORY.to_string()),
        ("BITBUCKET_API_URL", stack.bitbucket.url()),
        ("WEBHOOK_SECRET_ARN", secret_arn(&sm, "config-updater/webhook").await),
        ("BITBUCKET_TOKEN_SECRET_ARN", secret_arn(&sm, "config-updater/token").await),
        ("PROMETHEUS_URL", stack.prom.url()),
        ("PROMETHEUS_CONFIG_DIR", stack.volume.path().display().to_string()),
        ("PROMETHEUS_VERSION", stack.prom.version().name()),
        ("REMOTE_WRITE_URL", stack.prom.write_url()),
        ("EXTRA_LABELS", "job=config-updater".to_string()),
    ]);
    let settings = config_updater::Settings::read(&env, vars().into_iter()).unwrap();
    let own = config_updater::settings::own_series(&env).unwrap().expect("REMOTE_WRITE_URL is set");
    let own_series = config_updater::own_series::OwnSeries::new(&own.remote_write_url, own.extra_labels).unwrap();
    let deps = config_updater::Deps::new(settings, sdk).with_own_series(Some(own_series));
    let response = push_with(&deps, commit).await;
    assert_eq!(response.status_code, 200, "{response:?}");
    assert_eq!(response.body_json()["result"], "deployed", "{response:?}");
}

/// One exporter run, configured from its environment, on datapoints of the last minutes.
async fn run_the_exporter(prom: &Prometheus, sdk: &aws_config::SdkConfig, dir: &Path) {
    let cw = aws_sdk_cloudwatch::Client::new(sdk);
    let now = now_secs() as i64;
    let data: Vec<MetricDatum> = (1..=5)
        .map(|i| {
            MetricDatum::builder()
                .metric_name("Orders")
                .timestamp(DateTime::from_secs(now - 60 * i))
                .value(i as f64)
                .build()
        })
        .collect();
    cw.put_metric_data().namespace("MyApp").set_metric_data(Some(data)).send().await.unwrap();
    let config = dir.join("yace.yml");
    std::fs::write(&config, EXPORTER_CONFIG).unwrap();
    let env = Env::from_pairs([
        ("EXPORTER_CONFIG", config.display().to_string()),
        ("REMOTE_WRITE_URL", prom.write_url()),
        ("EXTRA_LABELS", "job=cloudwatch-exporter".to_string()),
    ]);
    let settings = cloudwatch_exporter::settings::Settings::read(&env).unwrap();
    let deps = cloudwatch_exporter::Deps::new(settings, sdk.clone()).unwrap();
    let mut event: EventBridgeEvent =
        serde_json::from_slice(include_bytes!("../events/cloudwatch-exporter-schedule.json")).unwrap();
    event.id = Some("stack-rules-run".into());
    let summary = cloudwatch_exporter::handle(LambdaEvent { payload: event, context: Context::default() }, &deps)
        .await
        .unwrap_or_else(|e| prom.fail(format!("exporter run: {e}")));
    assert!(summary.samples_pushed > 0, "the run pushed nothing: {summary:?}");
}

/// One running Fargate task with the community tool's port label in cluster `prod`, and an
/// ecs-discovery reconcile, configured from its environment, writing into the stack's volume.
async fn discover_with_ecs_discovery(stack: &Stack, sdk: &aws_config::SdkConfig) {
    let aws = EcsWorld::start(&stack.moto, &["prod"]).await;
    let definition = aws.register_fargate("api", &[("PROMETHEUS_EXPORTER_PORT", "9100")]).await;
    aws.run_fargate("prod", &definition, 1, Some("service:api")).await;

    let env = Env::from_pairs([
        ("PROMETHEUS_CONFIG_DIR", stack.volume.path().display().to_string()),
        ("CLUSTERS", "prod".to_string()),
        ("AWS_REGION", "us-east-1".to_string()),
        ("REMOTE_WRITE_URL", stack.prom.write_url()),
        ("EXTRA_LABELS", "job=ecs-discovery".to_string()),
    ]);
    let config = ecs_discovery::Config::read(&env).unwrap();
    let deps = ecs_discovery::Deps::new(ecs_discovery::aws::AwsApi::new(sdk, config.aws_max_attempts), config);
    let payload = serde_json::from_slice(include_bytes!("../events/ecs-discovery-schedule.json")).unwrap();
    ecs_discovery::handle(LambdaEvent { payload, context: Context::default() }, &deps)
        .await
        .unwrap_or_else(|e| stack.moto.fail(format!("reconcile: {e}")));
}

#[tokio::test(flavor = "multi_thread")]
async fn every_dashboard_query_returns_data_from_a_stack_fed_by_the_three_functions() {
    let (stack, commit) = Stack::start().await;
    let sdk = stack.moto.sdk_config().await;
    deploy_with_config_updater(&stack, &commit, &sdk).await;
    let dir = tempfile::tempdir().unwrap();
    run_the_exporter(&stack.prom, &sdk, dir.path()).await;
    discover_with_ecs_discovery(&stack, &sdk).await;

    // The example config scrapes file_sd/ecs every 30 s and evaluates the rules every 30 s:
    // poll until every query answers, or report those that never did.
    let queries = panel_queries(&dashboard());
    let deadline = tokio::time::Instant::now() + Duration::from_secs(150);
    let mut empty: Vec<&PanelQuery> = queries.iter().collect();
    while !empty.is_empty() && tokio::time::Instant::now() < deadline {
        let mut still = Vec::new();
        for q in empty {
            if stack.prom.query(&as_sent(&q.expr)).await.is_empty() {
                still.push(q);
            }
        }
        empty = still;
        if !empty.is_empty() {
            tokio::time::sleep(Duration::from_secs(3)).await;
        }
    }
    // The stack's rules, deployed by config-updater, evaluate on the fed data without an error.
    // A rule loaded moments ago says "unknown" until its group's first evaluation: wait for that.
    let promstack_groups = |v: &serde_json::Value| -> Vec<serde_json::Value> {
        let all = v["groups"].as_array().cloned().unwrap_or_default();
        all.into_iter().filter(|g| g["name"].as_str().is_some_and(|n| n.starts_with("promstack"))).collect()
    };
    let mut groups = promstack_groups(&stack.prom.api("/api/v1/rules").await);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(90);
    while groups
        .iter()
        .flat_map(|g| g["rules"].as_array().cloned().unwrap_or_default())
        .any(|r| r["health"] == "unknown")
        && tokio::time::Instant::now() < deadline
    {
        tokio::time::sleep(Duration::from_secs(2)).await;
        groups = promstack_groups(&stack.prom.api("/api/v1/rules").await);
    }
    let mut evaluated = 0;
    for group in &groups {
        for rule in group["rules"].as_array().unwrap() {
            assert_eq!(rule["health"], "ok", "rule {} of group {}: {}", rule["name"], group["name"], rule["lastError"]);
            evaluated += 1;
        }
    }
    let expected = stack_rules().len();
    assert_eq!(evaluated, expected, "Prometheus evaluates {evaluated} of the stack's {expected} rules");

    let report: Vec<String> =
        empty.iter().map(|q| format!("{} ({}): {}", q.panel, q.ref_id, as_sent(&q.expr))).collect();
    assert!(
        report.is_empty(),
        "{} of {} dashboard queries return no data from the fed stack:\n{}",
        report.len(),
        queries.len(),
        report.join("\n")
    );
}
