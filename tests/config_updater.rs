//! config-updater against real servers: a real Prometheus (lifecycle API on) reading the test's
//! stand-in for the EFS volume, a real `git http-backend` serving a repo the test commits to,
//! moto for Secrets Manager, and a local Bitbucket status API that records what it is sent.

use std::collections::BTreeMap;
use std::path::Path;

use config_updater::check::check_dir;
use config_updater::deploy::{self, Applied};
use config_updater::layout::Layout;
use config_updater::settings::Limits;
use config_updater::Error;
use harness::config_updater::{example_repo, vars};
use harness::Prometheus;
use serde_json::Value;

async fn config_yaml(prom: &Prometheus) -> String {
    prom.api("/api/v1/status/config").await["yaml"].as_str().unwrap().to_string()
}

/// `group/rule` names Prometheus has loaded.
async fn loaded_rules(prom: &Prometheus) -> Vec<String> {
    let data = prom.api("/api/v1/rules").await;
    let mut out = Vec::new();
    for group in data["groups"].as_array().unwrap() {
        for rule in group["rules"].as_array().unwrap() {
            out.push(format!("{}/{}", group["name"].as_str().unwrap(), rule["name"].as_str().unwrap()));
        }
    }
    out.sort();
    out
}

fn read_tree(root: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap().flatten() {
            let path = entry.path();
            let rel = path.strip_prefix(root).unwrap().to_string_lossy().into_owned();
            if rel == ".promstack" {
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

harness::prometheus_matrix! {
#[tokio::test(flavor = "multi_thread")]
async fn example_repo_deploys_and_a_rejected_release_is_rolled_back() {
    let volume = tempfile::tempdir().unwrap();
    let prom = Prometheus::builder().config_dir(volume.path()).start();
    let urls = vec![prom.url()];

    let release = check_dir(
        &example_repo(),
        &Layout::default(),
        Limits::default(),
        &vars(),
        &config_updater::validate::Target::default(),
    )
    .unwrap_or_else(|p| panic!("{}", config_updater::validate::describe(&p)));
    deploy::prepare(volume.path()).unwrap();
    let applied = deploy::apply(volume.path(), "c1", "main", &release, &urls).await.unwrap();
    let Applied::Deployed { previous: None, replicas, .. } = applied else { panic!("{applied:?}") };
    assert_eq!(replicas.len(), 1);
    let yaml = config_yaml(&prom).await;
    assert!(yaml.contains("cluster: itest"), "{yaml}");
    assert!(yaml.contains("file_sd/ecs/*.json"), "{yaml}");
    let rules = loaded_rules(&prom).await;
    assert!(rules.contains(&"prometheus/TargetDown".to_string()), "{rules:?}");
    assert!(rules.contains(&"ecs/ecs:up:by_host".to_string()), "{rules:?}");
    assert_eq!(deploy::read_record(volume.path()).unwrap().unwrap().commit, "c1");

    // The same commit again: nothing to do.
    assert_eq!(deploy::apply(volume.path(), "c1", "main", &release, &urls).await.unwrap(), Applied::Unchanged);

    // A rule our checks accept (promql-parser knows Prometheus 3 functions) but Prometheus 2.42
    // rejects: the reload fails, the previous release comes back and is reloaded.
    let before = read_tree(volume.path());
    let mut bad = release.clone();
    bad.files.insert(
        "rules.d/forecast.yml".into(),
        b"groups:\n  - name: forecast\n    rules:\n      - alert: LoadRising\n        expr: double_exponential_smoothing(node_load1[10m], 0.5, 0.5) > 10\n".to_vec(),
    );
    bad.files.remove("rules.d/ecs.yml");
    let err = deploy::apply(volume.path(), "c2", "main", &bad, &urls).await.unwrap_err();
    let Error::Reload(message) = &err else { panic!("{err}") };
    assert!(message.contains("c2") && message.contains("restored and reloaded"), "{message}");
    assert_eq!(read_tree(volume.path()), before, "the volume is back to the previous release");
    assert_eq!(deploy::read_record(volume.path()).unwrap().unwrap().commit, "c1");
    let rules = loaded_rules(&prom).await;
    assert!(rules.contains(&"ecs/ecs:up:by_host".to_string()), "{rules:?}");
    assert!(!rules.iter().any(|r| r.starts_with("forecast/")), "{rules:?}");
    let info: Value = prom.api("/api/v1/status/runtimeinfo").await;
    assert_eq!(info["reloadConfigSuccess"], true, "the rollback reloaded cleanly: {info}");

    // A good next release removes the files its commit removed.
    let mut next = release.clone();
    next.files.remove("rules.d/ecs.yml");
    deploy::apply(volume.path(), "c3", "main", &next, &urls).await.unwrap();
    assert!(!volume.path().join("rules.d/ecs.yml").exists());
    assert!(volume.path().join(".promstack/previous/rules.d/ecs.yml").exists(), "the previous release is kept");
    let rules = loaded_rules(&prom).await;
    assert!(!rules.iter().any(|r| r.starts_with("ecs/")), "{rules:?}");
}
}

// ---------------------------------------------------------------------------------------------
// The whole function: webhook → fetch from a real git server → validate → deploy → reload →
// build status, with secrets in moto (the stack is `harness::config_updater::Stack`).

use config_updater::fetch::GitAuth;
use config_updater::handler::{handle_value, HttpResponse};
use config_updater::settings::Flavor;
use config_updater::Deps;
use harness::config_updater::{cloud_push, Stack, REPOSITORY, TOKEN, WEBHOOK_SECRET};
use harness::git::GitServer;

fn data_center_push(commit: &str) -> Value {
    serde_json::json!({"eventKey": "repo:refs_changed", "repository": {"slug": "prometheus-config", "project": {"key": "ops"}},
        "changes": [{"ref": {"id": "refs/heads/main", "displayId": "main", "type": "BRANCH"}, "refId": "refs/heads/main",
                     "fromHash": "0000000000000000000000000000000000000000", "toHash": commit, "type": "UPDATE"}]})
}

fn result_of(response: &HttpResponse) -> String {
    response.body_json()["result"].as_str().unwrap_or_default().to_string()
}

const DISK_RULE: &str = "groups:\n  - name: disk\n    rules:\n      - alert: DiskFull\n        expr: node_filesystem_avail_bytes / node_filesystem_size_bytes < 0.05\n        for: 10m\n";

harness::prometheus_matrix! {
#[tokio::test(flavor = "multi_thread")]
async fn signed_pushes_deploy_and_duplicates_and_older_commits_do_nothing() {
    let (s, c1) = Stack::start().await;
    let response = s.push(&c1).await;
    assert_eq!(response.status_code, 200, "{response:?}");
    assert_eq!(result_of(&response), "deployed", "{response:?}");
    assert!(config_yaml(&s.prom).await.contains("cluster: itest"));
    let rules = loaded_rules(&s.prom).await;
    assert!(rules.contains(&"prometheus/TargetDown".to_string()), "{rules:?}");
    assert_eq!(s.bitbucket.states_for(&c1), ["INPROGRESS", "SUCCESSFUL"]);
    let status = s.bitbucket.last_for(&c1).unwrap();
    assert!(status.path.starts_with("/2.0/repositories/ops/prometheus-config/commit/"), "{status:?}");
    assert!(status.description.contains("deployed"), "{status:?}");
    assert_eq!(
        std::fs::read(s.volume.path().join("_prometheus.yml")).unwrap(),
        std::fs::read(example_repo().join("prometheus.yml")).unwrap()
    );
    assert!(s.volume.path().join("file_sd/static/hosts.json").exists());

    // A second commit through a Data Center delivery: a new rule, a removed one.
    s.git.edit(&[("rules/disk.yml", Some(DISK_RULE)), ("rules/ecs.yml", None)]);
    let c2 = s.git.commit("disk alert; no ECS rules");
    let response = s.signed("repo:refs_changed", &data_center_push(&c2)).await;
    assert_eq!(result_of(&response), "deployed", "{response:?}");
    let rules = loaded_rules(&s.prom).await;
    assert!(rules.contains(&"disk/DiskFull".to_string()), "{rules:?}");
    assert!(!rules.iter().any(|r| r.starts_with("ecs/")), "{rules:?}");
    assert!(!s.volume.path().join("rules.d/ecs.yml").exists());
    let record = deploy::read_record(s.volume.path()).unwrap().unwrap();
    assert_eq!(record.commit, c2);
    assert_eq!(s.bitbucket.states_for(&c2), ["INPROGRESS", "SUCCESSFUL"]);

    // The same delivery again (Bitbucket redelivers): nothing fetched, nothing written.
    let git_requests = s.git.requests();
    let before = read_tree(s.volume.path());
    let response = s.push(&c2).await;
    assert_eq!(result_of(&response), "unchanged", "{response:?}");
    assert_eq!(s.git.requests(), git_requests, "a duplicate does not even fetch");
    assert_eq!(read_tree(s.volume.path()), before);

    // The older commit's delivery arrives late: the newer head stays deployed.
    let response = s.push(&c1).await;
    assert_eq!(response.status_code, 200, "{response:?}");
    let body = response.body_json();
    assert_eq!(body["result"], "unchanged", "{body}");
    assert_eq!(body["commit"], c2.as_str(), "{body}");
    assert_eq!(body["newer_than_pushed"], true, "{body}");
    assert_eq!(read_tree(s.volume.path()), before);
    assert_eq!(deploy::read_record(s.volume.path()).unwrap().unwrap().commit, c2);
    assert!(loaded_rules(&s.prom).await.contains(&"disk/DiskFull".to_string()));
}
}

harness::prometheus_matrix! {
#[tokio::test(flavor = "multi_thread")]
async fn missing_or_wrong_signatures_get_401_and_change_nothing() {
    let (s, c1) = Stack::start().await;
    let before = read_tree(s.volume.path());
    let body = cloud_push(&c1);
    for signature in [
        None,
        Some(String::new()),
        Some(config_updater::webhook::sign(b"not-the-secret", body.to_string().as_bytes())),
        Some("sha256=00".into()),
        Some(config_updater::webhook::sign(WEBHOOK_SECRET.as_bytes(), b"another body")),
    ] {
        let response = s.deliver("repo:push", &body, signature.clone()).await;
        assert_eq!(response.status_code, 401, "{signature:?}: {response:?}");
        assert!(response.body_json()["error"].as_str().unwrap().contains("X-Hub-Signature"), "{response:?}");
    }
    assert_eq!(s.git.requests(), 0, "nothing was fetched");
    assert!(s.bitbucket.statuses().is_empty(), "no status was posted");
    assert_eq!(read_tree(s.volume.path()), before, "nothing was written");
    assert!(!s.volume.path().join(".promstack").exists());
    assert!(loaded_rules(&s.prom).await.is_empty());
}
}

harness::prometheus_matrix! {
#[tokio::test(flavor = "multi_thread")]
async fn pings_ignored_events_and_bad_bodies() {
    let (s, _) = Stack::start().await;
    let response = s.signed("diagnostics:ping", &serde_json::json!({"test": true})).await;
    assert_eq!((response.status_code, result_of(&response)), (200, "ping".to_string()), "{response:?}");
    let response =
        s.signed("repo:commit_comment_created", &serde_json::json!({"repository": {"full_name": REPOSITORY}})).await;
    assert_eq!(response.status_code, 202, "{response:?}");
    assert!(response.body_json()["message"].as_str().unwrap().contains("repo:commit_comment_created"));
    let other_branch = serde_json::json!({"repository": {"full_name": REPOSITORY}, "push": {"changes": [
        {"new": {"type": "branch", "name": "feature", "target": {"hash": "0123456789abcdef0123456789abcdef01234567"}}}]}});
    let response = s.signed("repo:push", &other_branch).await;
    assert_eq!(response.status_code, 202, "{response:?}");
    assert!(response.body_json()["message"].as_str().unwrap().contains("\"main\""), "{response:?}");
    let other_repo = serde_json::json!({"repository": {"full_name": "someone/else"}, "push": {"changes": []}});
    let response = s.signed("repo:push", &other_repo).await;
    assert_eq!(response.status_code, 202, "{response:?}");
    assert!(response.body_json()["message"].as_str().unwrap().contains("someone/else"), "{response:?}");

    // Not JSON (signed correctly): 400. Too big: 413, before the signature is even checked.
    let raw = "this is not json";
    let request = serde_json::json!({"headers": {"x-event-key": "repo:push",
        "x-hub-signature": config_updater::webhook::sign(WEBHOOK_SECRET.as_bytes(), raw.as_bytes())}, "body": raw,
        "requestContext": {"http": {"method": "POST"}}});
    let response: HttpResponse = serde_json::from_value(handle_value(request, &s.deps).await.unwrap()).unwrap();
    assert_eq!(response.status_code, 400, "{response:?}");
    assert!(response.body_json()["error"].as_str().unwrap().contains("not JSON"), "{response:?}");
    let big = serde_json::json!({"repository": {"full_name": REPOSITORY}, "padding": "x".repeat(300 * 1024)});
    let response = s.signed("repo:push", &big).await;
    assert_eq!(response.status_code, 413, "{response:?}");
    assert_eq!(s.git.requests(), 0);
    assert!(s.bitbucket.statuses().is_empty());
    assert!(!s.volume.path().join(".promstack").exists());
}
}

harness::prometheus_matrix! {
#[tokio::test(flavor = "multi_thread")]
async fn invalid_rules_and_rejected_configs_leave_prometheus_on_the_old_release() {
    let (mut s, c1) = Stack::start().await;
    assert_eq!(result_of(&s.push(&c1).await), "deployed");
    let before = read_tree(s.volume.path());
    let rules_before = loaded_rules(&s.prom).await;

    // An invalid rule: FAILED with file, line and rule; nothing written.
    s.git.edit(&[("rules/disk.yml", Some("groups:\n  - name: disk\n    rules:\n      - alert: DiskFull\n        expr: sum(rate(node_disk_io_time_seconds_total[5m])\n"))]);
    let bad = s.git.commit("broken rule");
    let response = s.push(&bad).await;
    assert_eq!(response.status_code, 422, "{response:?}");
    assert_eq!(s.bitbucket.states_for(&bad), ["INPROGRESS", "FAILED"]);
    let status = s.bitbucket.last_for(&bad).unwrap();
    assert!(status.description.contains("rules/disk.yml:4: rule \"DiskFull\": expr does not parse"), "{status:?}");
    assert_eq!(read_tree(s.volume.path()), before, "nothing was written");
    assert_eq!(loaded_rules(&s.prom).await, rules_before);

    // Valid for the Prometheus config-updater is told it deploys (3.16 with experimental functions),
    // refused by the one running (a function it lacks or has not enabled): rolled back.
    s.deps.settings.prometheus =
        config_updater::validate::Target::parse("v3.16.0", "promql-experimental-functions").unwrap();
    s.git.edit(&[("rules/disk.yml", Some("groups:\n  - name: disk\n    rules:\n      - alert: LoadRising\n        expr: double_exponential_smoothing(node_load1[10m], 0.5, 0.5) > 10\n"))]);
    let rejected = s.git.commit("prometheus 3 only");
    let response = s.push(&rejected).await;
    assert_eq!(response.status_code, 422, "{response:?}");
    assert_eq!(s.bitbucket.states_for(&rejected), ["INPROGRESS", "FAILED"]);
    let status = s.bitbucket.last_for(&rejected).unwrap();
    assert!(status.description.contains("restored"), "{status:?}");
    assert_eq!(read_tree(s.volume.path()), before, "the previous release is back");
    assert_eq!(deploy::read_record(s.volume.path()).unwrap().unwrap().commit, c1);
    assert_eq!(loaded_rules(&s.prom).await, rules_before);
    assert_eq!(s.prom.api("/api/v1/status/runtimeinfo").await["reloadConfigSuccess"], true);

    // A symlink in the repo: refused, naming it.
    s.git.edit(&[("rules/disk.yml", None)]);
    std::os::unix::fs::symlink("/etc/passwd", s.git.work().join("rules/passwd.yml")).unwrap();
    let link = s.git.commit("symlink");
    let response = s.push(&link).await;
    assert_eq!(response.status_code, 422, "{response:?}");
    let status = s.bitbucket.last_for(&link).unwrap();
    assert_eq!(status.state, "FAILED");
    assert!(status.description.contains("rules/passwd.yml: symlinks are not allowed"), "{status:?}");
    assert_eq!(read_tree(s.volume.path()), before);

    // A tree entry named `..` (git refuses to create one, a crafted push need not).
    std::fs::remove_file(s.git.work().join("rules/passwd.yml")).unwrap();
    let escape = s.git.commit_with_raw_entry("..", "x.yml", DISK_RULE, "path escape");
    let response = s.push(&escape).await;
    assert_eq!(response.status_code, 422, "{response:?}");
    let status = s.bitbucket.last_for(&escape).unwrap();
    assert!(status.description.contains("../x.yml: path leaves the repository root"), "{status:?}");
    assert_eq!(read_tree(s.volume.path()), before);
    assert_eq!(loaded_rules(&s.prom).await, rules_before);
}
}

harness::prometheus_matrix! {
#[tokio::test(flavor = "multi_thread")]
async fn concurrent_deliveries_deploy_the_head_once() {
    let (s, _) = Stack::start().await;
    s.git.edit(&[("rules/disk.yml", Some(DISK_RULE))]);
    let c2 = s.git.commit("disk alert");
    s.git.edit(&[("rules/disk.yml", Some(&DISK_RULE.replace("0.05", "0.02")))]);
    let c3 = s.git.commit("tighter disk alert");
    let (a, b) = tokio::join!(s.push(&c2), s.push(&c3));
    let results = [result_of(&a), result_of(&b)];
    assert_eq!(results.iter().filter(|r| *r == "deployed").count(), 1, "{a:?}\n{b:?}");
    assert_eq!(results.iter().filter(|r| *r == "unchanged").count(), 1, "{a:?}\n{b:?}");
    assert_eq!(deploy::read_record(s.volume.path()).unwrap().unwrap().commit, c3);
    assert_eq!(
        std::fs::read_to_string(s.volume.path().join("rules.d/disk.yml")).unwrap(),
        DISK_RULE.replace("0.05", "0.02")
    );
    let rules = s.prom.api("/api/v1/rules").await.to_string();
    assert!(rules.contains("0.02") && !rules.contains("0.05"), "{rules}");
    assert_eq!(s.bitbucket.last_for(&c2).unwrap().state, "SUCCESSFUL");
    assert_eq!(s.bitbucket.last_for(&c3).unwrap().state, "SUCCESSFUL");
}
}

harness::prometheus_matrix! {
#[tokio::test(flavor = "multi_thread")]
async fn sync_deploys_the_branch_head_and_pull_requests_only_validate() {
    let (s, c1) = Stack::start().await;
    let outcome = handle_value(serde_json::json!({"action": "sync"}), &s.deps).await.unwrap();
    assert_eq!(outcome["result"], "deployed", "{outcome}");
    assert_eq!(outcome["commit"], c1.as_str());
    assert!(loaded_rules(&s.prom).await.contains(&"prometheus/TargetDown".to_string()));
    let outcome = handle_value(serde_json::json!({"action": "sync"}), &s.deps).await.unwrap();
    assert_eq!(outcome["result"], "unchanged", "{outcome}");
    let err = handle_value(serde_json::json!({"action": "nuke"}), &s.deps).await.unwrap_err();
    assert!(err.to_string().contains("sync"), "{err}");

    // A pull request from a branch: validated and reported on its commit, nothing deployed.
    let before = read_tree(s.volume.path());
    s.git.checkout("feature");
    s.git.edit(&[("rules/disk.yml", Some(DISK_RULE))]);
    let good = s.git.commit_to("feature", "disk alert");
    let pr = |commit: &str| {
        serde_json::json!({"repository": {"full_name": REPOSITORY},
        "pullrequest": {"id": 7, "source": {"branch": {"name": "feature"}, "commit": {"hash": &commit[..12]}}, "destination": {"branch": {"name": "main"}}}})
    };
    let response = s.signed("pullrequest:created", &pr(&good)).await;
    assert_eq!(result_of(&response), "validated", "{response:?}");
    assert_eq!(s.bitbucket.states_for(&good), ["SUCCESSFUL"], "posted on the full hash");
    s.git.edit(&[(
        "rules/disk.yml",
        // `bad name` is a valid name from Prometheus 3 (UTF-8); `for` on a recording rule never is.
        Some("groups:\n  - name: disk\n    rules:\n      - record: bad name\n        expr: up\n        for: 5m\n"),
    )]);
    let bad = s.git.commit_to("feature", "bad recording rule");
    let response = s.signed("pullrequest:updated", &pr(&bad)).await;
    assert_eq!(response.status_code, 422, "{response:?}");
    let status = s.bitbucket.last_for(&bad).unwrap();
    assert_eq!(status.state, "FAILED");
    assert!(status.description.contains("rules/disk.yml:4: rule \"bad name\""), "{status:?}");
    assert_eq!(read_tree(s.volume.path()), before, "pull requests never deploy");
}
}

harness::prometheus_matrix! {
#[tokio::test(flavor = "multi_thread")]
async fn a_refused_token_is_a_clean_retryable_error() {
    let (s, c1) = Stack::start().await;
    let git = GitServer::start("another-token");
    git.replace_with(&example_repo());
    git.commit("example");
    let mut settings = s.deps.settings.clone();
    settings.repo_url = git.url();
    let sdk = s.moto.sdk_config().await;
    let deps = Deps::new(settings, &sdk);
    let err = config_updater::rollout::sync(&deps).await.unwrap_err();
    assert!(err.is_retryable(), "{err}");
    assert!(err.to_string().contains("refused the access token (HTTP 401)"), "{err}");
    assert!(git.requests() >= 1);
    assert!(deploy::read_record(s.volume.path()).unwrap().is_none());
    let _ = c1;
}
}

harness::prometheus_matrix! {
#[tokio::test(flavor = "multi_thread")]
async fn the_sample_events_run_through_the_handler() {
    let (s, head) = Stack::start().await;
    let event = |bytes: &[u8]| -> Value { serde_json::from_slice(bytes).unwrap() };
    // The sample push names a commit the test repo does not have: the branch head is deployed.
    let out = handle_value(event(include_bytes!("../events/config-updater-cloud-push.json")), &s.deps).await.unwrap();
    let response: HttpResponse = serde_json::from_value(out).unwrap();
    let body = response.body_json();
    assert_eq!((response.status_code, body["result"].as_str()), (200, Some("deployed")), "{response:?}");
    assert_eq!(body["commit"], head.as_str());
    assert_eq!(body["newer_than_pushed"], true);
    assert_eq!(s.bitbucket.states_for("6f1ed002ab5595859014ebf0951522d9a8d7a1c2"), ["INPROGRESS", "SUCCESSFUL"]);
    assert_eq!(s.bitbucket.states_for(&head), ["SUCCESSFUL"], "the deployed head gets a status too");
    let out =
        handle_value(event(include_bytes!("../events/config-updater-datacenter-ping.json")), &s.deps).await.unwrap();
    assert_eq!(out["statusCode"], 200, "{out}");
    let out = handle_value(event(include_bytes!("../events/config-updater-sync.json")), &s.deps).await.unwrap();
    assert_eq!(out["result"], "unchanged", "{out}");
}
}

harness::prometheus_matrix! {
#[tokio::test(flavor = "multi_thread")]
async fn data_center_flavor_and_every_replica_reloads() {
    let (s, _) = Stack::start().await;
    // A second replica reading the same volume, both named in PROMETHEUS_URL.
    let replica = Prometheus::builder().config_dir(s.volume.path()).start();
    let mut settings = s.deps.settings.clone();
    settings.flavor = Flavor::DataCenter;
    settings.git_auth = GitAuth::Bearer;
    settings.repository = "OPS/prometheus-config".into();
    settings.prometheus_urls = vec![s.prom.url(), replica.url()];
    let deps = Deps::new(settings, &s.moto.sdk_config().await);
    s.git.edit(&[("rules/disk.yml", Some(DISK_RULE))]);
    let commit = s.git.commit("disk alert");
    let body = data_center_push(&commit);
    let sig = config_updater::webhook::sign(WEBHOOK_SECRET.as_bytes(), body.to_string().as_bytes());
    let request = serde_json::json!({"headers": {"x-event-key": "repo:refs_changed", "x-hub-signature": sig}, "body": body.to_string(),
        "requestContext": {"http": {"method": "POST"}}});
    let response: HttpResponse = serde_json::from_value(handle_value(request, &deps).await.unwrap()).unwrap();
    assert_eq!(result_of(&response), "deployed", "{response:?}");
    assert_eq!(response.body_json()["replicas"].as_array().unwrap().len(), 2, "{response:?}");
    for prom in [&s.prom, &replica] {
        assert!(loaded_rules(prom).await.contains(&"disk/DiskFull".to_string()));
    }
    let status = s.bitbucket.last_for(&commit).unwrap();
    assert_eq!(status.path, format!("/rest/build-status/1.0/commits/{commit}"));
    assert_eq!(status.state, "SUCCESSFUL");
}
}

#[tokio::test(flavor = "multi_thread")]
async fn fetch_is_shallow_and_limited() {
    use config_updater::fetch::{fetch, FetchRequest};
    let git = GitServer::start(TOKEN);
    git.replace_with(&example_repo());
    git.commit("one");
    git.edit(&[("rules/disk.yml", Some(DISK_RULE))]);
    let head = git.commit("two");
    let request = |limits: Limits, branch: &str| FetchRequest {
        url: git.url(),
        branch: branch.into(),
        authorization: Some(GitAuth::Bearer.header(TOKEN)),
        limits,
    };
    let fetched = fetch(request(Limits::default(), "main")).await.unwrap_or_else(|e| panic!("{e}\n{}", git.log()));
    assert_eq!(fetched.commit, head);
    let paths: Vec<&str> = fetched.files.iter().map(|f| f.path.as_str()).collect();
    assert_eq!(
        paths,
        [
            "README.md",
            "file_sd/hosts.json",
            "prometheus.yml",
            "rules/disk.yml",
            "rules/ecs.yml",
            "rules/prometheus.yml"
        ]
    );
    let err = fetch(request(Limits { max_files: 3, max_bytes: 1 << 20 }, "main")).await.unwrap_err();
    assert!(matches!(&err, Error::Invalid(m) if m.contains("more than 3 files")), "{err}");
    let err = fetch(request(Limits { max_files: 100, max_bytes: 500 }, "main")).await.unwrap_err();
    assert!(matches!(&err, Error::Invalid(m) if m.contains("more than 500 bytes")), "{err}");
    let err = fetch(request(Limits::default(), "no-such-branch")).await.unwrap_err();
    assert!(err.to_string().contains("no-such-branch"), "{err}");
}
