//! Operating config-updater, against the real servers of `harness::config_updater::Stack` (git
//! http-backend, moto, a real Prometheus per version): the break-glass actions, `sync` without a
//! reload while Prometheus is down and `restore-previous`, invoked as the console and the CLI
//! invoke them; and the function's own series, pushed to Prometheus' remote-write receiver.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant};

use config_updater::deploy::{self, RecordState};
use config_updater::handler::{handle_value, HttpResponse};
use config_updater::own_series::{self, Counts, OwnSeries};
use config_updater::{Deps, Error};
use harness::config_updater::{loaded_rules, Stack};
use harness::Prometheus;
use serde_json::{json, Value};

const DISK_RULE: &str = "groups:\n  - name: disk\n    rules:\n      - alert: DiskFull\n        expr: node_filesystem_avail_bytes / node_filesystem_size_bytes < 0.05\n        for: 10m\n";

fn result_of(response: &HttpResponse) -> String {
    response.body_json()["result"].as_str().unwrap_or_default().to_string()
}

fn record(root: &Path) -> (String, RecordState) {
    let r = deploy::read_record(root).unwrap().expect("a release record");
    (r.commit, r.state)
}

/// Every file under `root`, `.promstack/` included when `with_state`.
fn read_tree(root: &Path, with_state: bool) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap().flatten() {
            let path = entry.path();
            let rel = path.strip_prefix(root).unwrap().to_string_lossy().into_owned();
            if rel == ".promstack" && !with_state {
                continue;
            }
            if path.is_dir() {
                stack.push(path);
            } else {
                out.insert(rel, std::fs::read(&path).unwrap());
            }
        }
    }
    out
}

/// A direct invocation, as the Lambda console sends it: the outcome Lambda returns, or the
/// invocation's error.
async fn invoke(deps: &Deps, event: Value) -> Result<Value, Error> {
    handle_value(event, deps).await
}

/// The stack's function with `PROMETHEUS_URL` a name that resolves to nothing: Prometheus' ECS
/// service with no running task (its Cloud Map name then has no record).
async fn deps_with_no_prometheus_running(s: &Stack) -> Deps {
    let mut settings = s.deps.settings.clone();
    // `.invalid` never resolves (RFC 6761).
    settings.prometheus_urls = vec!["http://prometheus.promstack-test.invalid:9090".into()];
    Deps::new(settings, &s.moto.sdk_config().await)
}

harness::prometheus_matrix! {
#[tokio::test(flavor = "multi_thread")]
async fn sync_without_reload_writes_a_fix_while_prometheus_is_down_and_it_loads_it_when_it_starts() {
    let (mut s, c1) = Stack::start().await;
    assert_eq!(result_of(&s.push(&c1).await), "deployed");
    s.git.edit(&[("rules/disk.yml", Some(DISK_RULE))]);
    let c2 = s.git.commit("the fix: a disk alert");
    s.prom.stop();
    let down = deps_with_no_prometheus_running(&s).await;

    // A plain sync cannot deliver it: no replica confirms, so the previous release comes back.
    let err = invoke(&down, json!({"action": "sync"})).await.unwrap_err();
    assert!(matches!(err, Error::NoReplica { .. }), "{err}");
    assert_eq!(record(s.volume.path()), (c1.clone(), RecordState::Deployed));
    assert!(!s.volume.path().join("rules.d/disk.yml").exists(), "rolled back");

    // Break-glass: written, not reloaded, and recorded so.
    let outcome = invoke(&down, json!({"action": "sync", "reload": false})).await.unwrap();
    assert_eq!(outcome["result"], "written", "{outcome}");
    assert_eq!(outcome["commit"], c2.as_str(), "{outcome}");
    assert!(outcome["message"].as_str().unwrap().contains("without a reload"), "{outcome}");
    assert_eq!(std::fs::read_to_string(s.volume.path().join("rules.d/disk.yml")).unwrap(), DISK_RULE);
    assert_eq!(record(s.volume.path()), (c2.clone(), RecordState::Written));
    let kept: deploy::Record =
        serde_json::from_slice(&std::fs::read(s.volume.path().join(".promstack/previous/release.json")).unwrap()).unwrap();
    assert_eq!(kept.commit, c1, "the last confirmed release is still the one to go back to");

    // Prometheus starts and reads the release from the volume.
    s.prom.restart();
    assert!(loaded_rules(&s.prom).await.contains(&"disk/DiskFull".to_string()));

    // The next sync does not take the written release for deployed: it reloads it and confirms it.
    let outcome = invoke(&s.deps, json!({"action": "sync"})).await.unwrap();
    assert_eq!((outcome["result"].as_str(), outcome["commit"].as_str()), (Some("deployed"), Some(c2.as_str())));
    assert_eq!(outcome["replicas"].as_array().unwrap().len(), 1, "{outcome}");
    assert_eq!(record(s.volume.path()), (c2.clone(), RecordState::Deployed));
    let info: Value = s.prom.api("/api/v1/status/runtimeinfo").await;
    assert_eq!(info["reloadConfigSuccess"], true, "{info}");
}
}

harness::prometheus_matrix! {
#[tokio::test(flavor = "multi_thread")]
async fn a_written_release_is_reloaded_by_the_next_push_of_the_same_commit() {
    let (s, c1) = Stack::start().await;
    assert_eq!(result_of(&s.push(&c1).await), "deployed");
    s.git.edit(&[("rules/disk.yml", Some(DISK_RULE))]);
    let c2 = s.git.commit("disk alert");
    // Prometheus is up, but --no-reload asks it nothing: it still runs c1's rules.
    let outcome = invoke(&s.deps, json!({"action": "sync", "reload": false})).await.unwrap();
    assert_eq!(outcome["result"], "written", "{outcome}");
    assert!(!loaded_rules(&s.prom).await.contains(&"disk/DiskFull".to_string()));
    // The webhook's delivery of that commit is not a duplicate: it reloads.
    let response = s.push(&c2).await;
    assert_eq!((response.status_code, result_of(&response)), (200, "deployed".into()), "{response:?}");
    assert!(loaded_rules(&s.prom).await.contains(&"disk/DiskFull".to_string()));
    assert_eq!(record(s.volume.path()), (c2, RecordState::Deployed));
}
}

harness::prometheus_matrix! {
#[tokio::test(flavor = "multi_thread")]
async fn restore_previous_puts_the_previous_release_back_and_reloads_it() {
    let (s, a) = Stack::start().await;
    assert_eq!(result_of(&s.push(&a).await), "deployed");
    let files_a = read_tree(s.volume.path(), false);
    let rules_a = loaded_rules(&s.prom).await;
    assert!(rules_a.iter().any(|r| r.starts_with("ecs/")), "{rules_a:?}");
    s.git.edit(&[("rules/disk.yml", Some(DISK_RULE)), ("rules/ecs.yml", None)]);
    let b = s.git.commit("disk alert; no ECS rules");
    assert_eq!(result_of(&s.push(&b).await), "deployed");
    let files_b = read_tree(s.volume.path(), false);
    let rules_b = loaded_rules(&s.prom).await;
    assert_ne!(files_a, files_b);

    let outcome = invoke(&s.deps, json!({"action": "restore-previous"})).await.unwrap();
    assert_eq!(outcome["result"], "restored", "{outcome}");
    assert_eq!(outcome["commit"], a.as_str(), "{outcome}");
    assert_eq!(outcome["replicas"].as_array().unwrap().len(), 1, "{outcome}");
    assert_eq!(read_tree(s.volume.path(), false), files_a, "the volume holds A's files, and only those");
    assert_eq!(record(s.volume.path()), (a.clone(), RecordState::Deployed));
    assert_eq!(loaded_rules(&s.prom).await, rules_a, "Prometheus reloaded A");

    // B, confirmed before, is now the previous release: a second restore goes back to it.
    let outcome = invoke(&s.deps, json!({"action": "restore-previous"})).await.unwrap();
    assert_eq!(outcome["commit"], b.as_str(), "{outcome}");
    assert_eq!(read_tree(s.volume.path(), false), files_b);
    assert_eq!(loaded_rules(&s.prom).await, rules_b);
    assert_eq!(record(s.volume.path()), (b, RecordState::Deployed));
}
}

harness::prometheus_matrix! {
#[tokio::test(flavor = "multi_thread")]
async fn restore_previous_without_a_previous_release_is_an_error_and_changes_nothing() {
    let (s, c1) = Stack::start().await;
    // A fresh volume: nothing at all.
    let err = invoke(&s.deps, json!({"action": "restore-previous"})).await.unwrap_err();
    assert!(matches!(err, Error::NoPrevious(_)), "{err}");
    assert!(read_tree(s.volume.path(), false).keys().all(|k| k == "prometheus.yml"), "only the harness' own file");
    // One release deployed: there is nothing before it.
    assert_eq!(result_of(&s.push(&c1).await), "deployed");
    let before = read_tree(s.volume.path(), true);
    let rules = loaded_rules(&s.prom).await;
    let err = invoke(&s.deps, json!({"action": "restore-previous"})).await.unwrap_err();
    assert_eq!(err.kind(), "ConfigUpdater.NoPreviousRelease");
    assert!(!err.is_retryable());
    let message = err.to_string();
    assert!(message.contains("no previous release") && message.contains("nothing was changed"), "{message}");
    assert!(message.contains(".promstack/previous"), "names the directory: {message}");
    let mut after = read_tree(s.volume.path(), true);
    after.remove(".promstack/lock");
    let mut before = before;
    before.remove(".promstack/lock");
    assert_eq!(after, before, "files and record intact");
    assert_eq!(loaded_rules(&s.prom).await, rules);
    // An action it does not know names the ones it does.
    let err = invoke(&s.deps, json!({"action": "rollback"})).await.unwrap_err();
    assert!(err.to_string().contains("restore-previous") && err.to_string().contains("\"reload\": false"), "{err}");
    let err = invoke(&s.deps, json!({"action": "sync", "reload": "no"})).await.unwrap_err();
    assert!(err.to_string().contains("\"reload\" is \"no\""), "{err}");
}
}

/// The latest value of `name` (with `selector`) in `prom`, and its labels.
async fn latest(prom: &Prometheus, name: &str, selector: &str) -> Option<(f64, Value)> {
    let results = prom.query(&format!("{name}{{{selector}}}")).await;
    assert!(results.len() <= 1, "{name}{{{selector}}}: {results:?}");
    results.first().map(|r| (r["value"][1].as_str().unwrap().parse().unwrap(), r["metric"].clone()))
}

harness::prometheus_matrix! {
#[tokio::test(flavor = "multi_thread")]
async fn deploys_show_in_the_own_series_with_the_extra_labels() {
    let (mut s, c1) = Stack::start().await;
    let extra = vec![("stack".to_string(), "itest".to_string())];
    s.deps.own_series = Some(OwnSeries::new(&s.prom.write_url(), extra).unwrap());
    let started = harness::now_secs();
    assert_eq!(result_of(&s.push(&c1).await), "deployed");

    let (value, labels) = latest(&s.prom, own_series::DEPLOYS_TOTAL, "result=\"deployed\"").await.expect("pushed");
    assert_eq!(value, 1.0);
    assert_eq!(labels["stack"], "itest", "EXTRA_LABELS are added: {labels}");
    for result in ["unchanged", "invalid", "failed", "pending"] {
        let (value, _) = latest(&s.prom, own_series::DEPLOYS_TOTAL, &format!("result=\"{result}\"")).await.unwrap();
        assert_eq!(value, 0.0, "{result}");
    }
    let (at, _) = latest(&s.prom, own_series::LAST_SUCCESSFUL_DEPLOY, "").await.unwrap();
    assert!(at >= started.floor() && at <= harness::now_secs() + 1.0, "{at} vs {started}");
    assert_eq!(latest(&s.prom, own_series::RELOAD_FAILURES_TOTAL, "").await.unwrap().0, 0.0);

    // An invalid push: the invalid counter moves, nothing else does.
    s.git.edit(&[("rules/disk.yml", Some("groups:\n  - name: disk\n    rules:\n      - alert: DiskFull\n        expr: up ==\n"))]);
    let bad = s.git.commit("a rule that does not parse");
    let response = s.push(&bad).await;
    assert_eq!(response.status_code, 422, "{response:?}");
    let (value, _) = latest(&s.prom, own_series::DEPLOYS_TOTAL, "result=\"invalid\"").await.unwrap();
    assert_eq!(value, 1.0);
    assert_eq!(latest(&s.prom, own_series::DEPLOYS_TOTAL, "result=\"deployed\"").await.unwrap().0, 1.0);
    assert_eq!(latest(&s.prom, own_series::LAST_SUCCESSFUL_DEPLOY, "").await.unwrap().0, at);

    // A duplicate delivery of the deployed commit counts as unchanged.
    assert_eq!(result_of(&s.push(&c1).await), "unchanged");
    assert_eq!(latest(&s.prom, own_series::DEPLOYS_TOTAL, "result=\"unchanged\"").await.unwrap().0, 1.0);

    // The totals live on the volume, so the next invocation (a new Lambda) goes on from them.
    let counts = own_series::read_counts(s.volume.path()).unwrap();
    assert_eq!(counts.deploys.values().sum::<u64>(), 3, "{counts:?}");
}
}

harness::prometheus_matrix! {
#[tokio::test(flavor = "multi_thread")]
async fn a_reload_failure_is_counted_and_a_failed_push_never_fails_the_deploy() {
    let (mut s, c1) = Stack::start().await;
    assert_eq!(result_of(&s.push(&c1).await), "deployed");
    // Prometheus down: the push of the own series fails (logged), the deploy answers as before,
    // and the counts are kept for the next push.
    s.deps.own_series = Some(OwnSeries::new(&s.prom.write_url(), vec![]).unwrap());
    s.git.edit(&[("rules/disk.yml", Some(DISK_RULE))]);
    let c2 = s.git.commit("disk alert");
    s.prom.stop();
    let response = s.push(&c2).await;
    assert_eq!(response.status_code, 503, "the deploy's own answer: {response:?}");
    let counts = own_series::read_counts(s.volume.path()).unwrap();
    assert_eq!((counts.deploys.get("pending").copied(), counts.reload_failures), (Some(1), 1), "{counts:?}");

    // Back up: the redelivery deploys, and the push carries both counts.
    s.prom.restart();
    assert_eq!(result_of(&s.push(&c2).await), "deployed");
    let (pending, _) = latest(&s.prom, own_series::DEPLOYS_TOTAL, "result=\"pending\"").await.unwrap();
    let (deployed, _) = latest(&s.prom, own_series::DEPLOYS_TOTAL, "result=\"deployed\"").await.unwrap();
    assert_eq!((pending, deployed), (1.0, 1.0));
    assert_eq!(latest(&s.prom, own_series::RELOAD_FAILURES_TOTAL, "").await.unwrap().0, 1.0);
}
}

#[tokio::test]
async fn a_push_to_a_receiver_that_never_answers_gives_up_within_its_budget() {
    // Accepts connections (the kernel's backlog) and never answers a request.
    let hanging = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/api/v1/write", hanging.local_addr().unwrap());
    let own = OwnSeries::new(&url, vec![]).unwrap();
    let mut counts = Counts::default();
    counts.count(own_series::DeployResult::Deployed, false, harness::now_ms());
    let started = Instant::now();
    own.push(&counts).await;
    let took = started.elapsed();
    assert!(took >= Duration::from_millis(900), "it did wait for an answer: {took:?}");
    assert!(took <= own_series::PUSH_BUDGET + Duration::from_secs(1), "{took:?}");
}

harness::prometheus_matrix! {
#[tokio::test(flavor = "multi_thread")]
async fn older_totals_pushed_late_never_make_a_counter_go_down() {
    let prom = Prometheus::builder().start();
    let own = OwnSeries::new(&prom.write_url(), vec![]).unwrap();
    // Two invocations count one after the other; the first one's push arrives last.
    let mut first = Counts::default();
    first.count(own_series::DeployResult::Deployed, false, harness::now_ms() - 1_000);
    let mut second = first.clone();
    second.count(own_series::DeployResult::Deployed, false, harness::now_ms());
    own.push(&second).await;
    own.push(&first).await;
    let (value, _) = latest(&prom, own_series::DEPLOYS_TOTAL, "result=\"deployed\"").await.unwrap();
    assert_eq!(value, 2.0, "the later total stands");
    let resets = prom.query("resets(config_updater_deploys_total{result=\"deployed\"}[5m])").await;
    assert_eq!(resets[0]["value"][1], "0", "{resets:?}");
}
}
