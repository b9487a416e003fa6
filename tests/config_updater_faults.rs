//! config-updater on a bad day, against the real servers of `harness::config_updater::Stack`: a
//! run cut off during the reload, a Prometheus that is down, a repo path that changes between
//! file and directory, Secrets Manager failing before the caller is authenticated, and a pull
//! request whose branch moved on after the webhook was sent.

use std::net::TcpListener;
use std::path::Path;
use std::time::Duration;

use config_updater::deploy::{self, RecordState};
use config_updater::handler::{handle_value, HttpResponse};
use config_updater::Deps;
use harness::config_updater::{cloud_push, loaded_rules, push_with, Stack, REPOSITORY};
use serde_json::Value;

const DISK_RULE: &str = "groups:\n  - name: disk\n    rules:\n      - alert: DiskFull\n        expr: node_filesystem_avail_bytes / node_filesystem_size_bytes < 0.05\n        for: 10m\n";

fn result_of(response: &HttpResponse) -> String {
    response.body_json()["result"].as_str().unwrap_or_default().to_string()
}

fn record(root: &Path) -> (String, RecordState) {
    let r = deploy::read_record(root).unwrap().expect("a release record");
    (r.commit, r.state)
}

/// The stack's function, but reloading a "Prometheus" that accepts connections and never
/// answers: the delivery hangs in the reload, where a Lambda timeout would kill it.
async fn deps_with_hanging_prometheus(s: &Stack) -> (Deps, tokio::net::TcpListener) {
    let hanging = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let mut settings = s.deps.settings.clone();
    settings.prometheus_urls = vec![format!("http://{}", hanging.local_addr().unwrap())];
    (Deps::new(settings, &s.moto.sdk_config().await), hanging)
}

/// Delivers a push of `commit` and drops the run (as a Lambda timeout kills it) as soon as it
/// connects to reload the hanging Prometheus: after the write, before any confirmation.
async fn cut_off_during_the_reload(deps: &Deps, hanging: &tokio::net::TcpListener, commit: &str) {
    tokio::select! {
        response = push_with(deps, commit) => panic!("the delivery was expected to hang in the reload: {response:?}"),
        accepted = hanging.accept() => drop(accepted.unwrap()),
    }
}

harness::prometheus_matrix! {
#[tokio::test(flavor = "multi_thread")]
async fn a_run_cut_off_during_the_reload_is_finished_by_the_redelivery_or_by_sync() {
    let (s, c1) = Stack::start().await;
    assert_eq!(result_of(&s.push(&c1).await), "deployed");
    let (hanging, listener) = deps_with_hanging_prometheus(&s).await;

    // The run dies after writing, before any replica confirmed (as a Lambda timeout would).
    s.git.edit(&[("rules/disk.yml", Some(DISK_RULE))]);
    let c2 = s.git.commit("disk alert");
    cut_off_during_the_reload(&hanging, &listener, &c2).await;
    assert_eq!(record(s.volume.path()), (c2.clone(), RecordState::Pending));
    assert!(s.volume.path().join("rules.d/disk.yml").exists(), "the files were written");
    assert!(!loaded_rules(&s.prom).await.contains(&"disk/DiskFull".to_string()), "Prometheus still runs c1");
    assert_eq!(s.bitbucket.states_for(&c2), ["INPROGRESS"]);

    // Bitbucket redelivers: the pending release is reloaded, then recorded deployed.
    let response = s.push(&c2).await;
    assert_eq!((response.status_code, result_of(&response)), (200, "deployed".into()), "{response:?}");
    assert!(loaded_rules(&s.prom).await.contains(&"disk/DiskFull".to_string()));
    assert_eq!(record(s.volume.path()), (c2.clone(), RecordState::Deployed));
    assert_eq!(s.bitbucket.states_for(&c2), ["INPROGRESS", "INPROGRESS", "SUCCESSFUL"]);

    // Cut off again; this time `sync` finishes the job.
    let tighter = DISK_RULE.replace("0.05", "0.02");
    s.git.edit(&[("rules/disk.yml", Some(&tighter))]);
    let c3 = s.git.commit("tighter disk alert");
    cut_off_during_the_reload(&hanging, &listener, &c3).await;
    assert_eq!(record(s.volume.path()), (c3.clone(), RecordState::Pending));
    let rules = s.prom.api("/api/v1/rules").await.to_string();
    assert!(rules.contains("0.05") && !rules.contains("0.02"), "Prometheus still runs c2: {rules}");
    let outcome = handle_value(serde_json::json!({"action": "sync"}), &s.deps).await.unwrap();
    assert_eq!(
        (outcome["result"].as_str(), outcome["commit"].as_str()),
        (Some("deployed"), Some(c3.as_str())),
        "{outcome}"
    );
    let rules = s.prom.api("/api/v1/rules").await.to_string();
    assert!(rules.contains("0.02") && !rules.contains("0.05"), "{rules}");
    assert_eq!(record(s.volume.path()), (c3.clone(), RecordState::Deployed));
    let outcome = handle_value(serde_json::json!({"action": "sync"}), &s.deps).await.unwrap();
    assert_eq!(outcome["result"], "unchanged", "{outcome}");
}
}

harness::prometheus_matrix! {
#[tokio::test(flavor = "multi_thread")]
async fn a_stopped_prometheus_is_503_and_the_release_stays_pending_until_it_reloads() {
    let (mut s, c1) = Stack::start().await;
    assert_eq!(result_of(&s.push(&c1).await), "deployed");
    s.git.edit(&[("rules/disk.yml", Some(DISK_RULE))]);
    let c2 = s.git.commit("disk alert");

    s.prom.stop();
    let response = s.push(&c2).await;
    assert_eq!(response.status_code, 503, "retryable: Bitbucket redelivers it: {response:?}");
    let error = response.body_json()["error"].as_str().unwrap().to_string();
    assert!(error.contains("pending") && error.contains("could not be reached"), "{error}");
    assert_eq!(record(s.volume.path()), (c2.clone(), RecordState::Pending));
    assert!(s.volume.path().join("rules.d/disk.yml").exists(), "not rolled back");
    assert_eq!(s.bitbucket.states_for(&c2), ["INPROGRESS", "INPROGRESS"], "not FAILED: it is not over");
    let err = config_updater::rollout::sync(&s.deps).await.unwrap_err();
    assert!(err.is_retryable(), "{err}");
    assert_eq!(err.kind(), "ConfigUpdater.ReloadUnconfirmed");
    assert_eq!(record(s.volume.path()), (c2.clone(), RecordState::Pending));

    // Prometheus is back: the redelivery reloads it and records the release deployed.
    s.prom.restart();
    let response = s.push(&c2).await;
    assert_eq!((response.status_code, result_of(&response)), (200, "deployed".into()), "{response:?}");
    assert_eq!(response.body_json()["replicas"].as_array().unwrap().len(), 1);
    assert_eq!(record(s.volume.path()), (c2.clone(), RecordState::Deployed));
    assert!(loaded_rules(&s.prom).await.contains(&"disk/DiskFull".to_string()));
    assert_eq!(s.bitbucket.last_for(&c2).unwrap().state, "SUCCESSFUL");
}
}

/// Every directory under `root` (but `.promstack`), relative, sorted.
fn dirs(root: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap().flatten() {
            let rel = entry.path().strip_prefix(root).unwrap().to_string_lossy().into_owned();
            if entry.path().is_dir() && rel != ".promstack" {
                stack.push(entry.path());
                out.push(rel);
            }
        }
    }
    out.sort();
    out
}

fn group(name: &str) -> String {
    format!("groups:\n  - name: {name}\n    rules:\n      - record: {name}:up\n        expr: sum(up)\n")
}

/// The `instance` of every active target of the `static` job, sorted.
async fn static_targets(s: &Stack) -> Vec<String> {
    let mut out: Vec<String> = s
        .prom
        .active_targets()
        .await
        .iter()
        .filter(|t| t["labels"]["job"] == "static")
        .map(|t| t["labels"]["instance"].as_str().unwrap_or_default().to_string())
        .collect();
    out.sort();
    out
}

harness::prometheus_matrix! {
#[tokio::test(flavor = "multi_thread")]
async fn a_path_that_changes_between_file_and_directory_deploys_both_ways() {
    let (s, _) = Stack::start().await;
    let template = std::fs::read_to_string(s.git.work().join("prometheus.yml")).unwrap();
    // Prometheus allows a wildcard in the last path element only.
    let template = template
        .replace("'file_sd/static/*.json',", "'file_sd/static/*.json', 'file_sd/static/dc/*.json',")
        .replace("  - rules.d/*.yml\n", "  - rules.d/*.yml\n  - rules.d/old/deep/*.yml\n");
    assert!(template.contains("file_sd/static/dc/*.json") && template.contains("rules.d/old/deep/*.yml"));
    s.git.edit(&[
        ("prometheus.yml", Some(&template)),
        ("file_sd/dc", Some("[]\n")),
        ("rules/old/deep/x.yml", Some(&group("deep"))),
        ("rules/shape.yml", Some(&group("shape_1"))),
    ]);
    let c1 = s.git.commit("file_sd/dc is a file");
    let response = s.push(&c1).await;
    assert_eq!((response.status_code, result_of(&response)), (200, "deployed".into()), "{response:?}");
    assert!(s.volume.path().join("file_sd/static/dc").is_file());
    let rules = loaded_rules(&s.prom).await;
    assert!(rules.contains(&"shape_1/shape_1:up".to_string()) && rules.contains(&"deep/deep:up".into()), "{rules:?}");

    // `file_sd/dc` becomes a directory; `rules/old/` goes.
    std::fs::remove_file(s.git.work().join("file_sd/dc")).unwrap();
    let dc = r#"[{"targets": ["dc-host-1:9100"], "labels": {"site": "dc"}}]"#;
    s.git.edit(&[
        ("file_sd/dc/hosts.json", Some(dc)),
        ("rules/old/deep/x.yml", None),
        ("rules/shape.yml", Some(&group("shape_2"))),
    ]);
    let c2 = s.git.commit("file_sd/dc is a directory");
    let response = s.push(&c2).await;
    assert_eq!((response.status_code, result_of(&response)), (200, "deployed".into()), "{response:?}");
    let rules = loaded_rules(&s.prom).await;
    assert!(rules.contains(&"shape_2/shape_2:up".to_string()), "{rules:?}");
    assert!(!rules.iter().any(|r| r.starts_with("deep/")), "{rules:?}");
    assert!(s.volume.path().join("file_sd/static/dc/hosts.json").is_file());
    assert_eq!(dirs(s.volume.path()), ["file_sd", "file_sd/static", "file_sd/static/dc", "rules.d"]);
    s.prom
        .eventually(Duration::from_secs(30), "the dc host as a target", || async {
            static_targets(&s).await.contains(&"dc-host-1:9100".to_string()).then_some(())
        })
        .await;

    // And back to a file: the directory it leaves empty goes.
    std::fs::remove_dir_all(s.git.work().join("file_sd/dc")).unwrap();
    s.git.edit(&[("file_sd/dc", Some("[]\n")), ("rules/shape.yml", Some(&group("shape_3")))]);
    let c3 = s.git.commit("file_sd/dc is a file again");
    let response = s.push(&c3).await;
    assert_eq!((response.status_code, result_of(&response)), (200, "deployed".into()), "{response:?}");
    assert!(loaded_rules(&s.prom).await.contains(&"shape_3/shape_3:up".to_string()));
    assert!(s.volume.path().join("file_sd/static/dc").is_file());
    assert_eq!(dirs(s.volume.path()), ["file_sd", "file_sd/static", "rules.d"]);
    assert_eq!(record(s.volume.path()), (c3, RecordState::Deployed));
    s.prom
        .eventually(Duration::from_secs(30), "the dc host gone", || async {
            (!static_targets(&s).await.contains(&"dc-host-1:9100".to_string())).then_some(())
        })
        .await;
}
}

/// What a body must not tell an unauthenticated caller about a secret it could not read.
fn assert_tells_nothing(response: &HttpResponse, arn: &str) {
    assert_eq!(response.status_code, 503, "{response:?}");
    let body = String::from_utf8_lossy(response.body.as_deref().unwrap_or_default()).into_owned();
    let account = arn.split(':').nth(4).unwrap();
    for secret in
        [arn, account, "us-east-1", "arn:", "config-updater/", "ResourceNotFound", "dispatch", "error sending"]
    {
        assert!(!body.contains(secret), "the body gives away {secret:?}: {body}");
    }
    let error = response.body_json()["error"].as_str().unwrap_or_default().to_string();
    assert!(error.contains("could not be read") && error.contains("log"), "{body}");
}

/// An unsigned push of `body`, as anyone on the internet can send one to the Function URL.
async fn unsigned(deps: &Deps, body: &Value) -> HttpResponse {
    let request = serde_json::json!({"headers": {"x-event-key": "repo:push"}, "body": body.to_string(),
        "requestContext": {"http": {"method": "POST"}}});
    serde_json::from_value(handle_value(request, deps).await.unwrap()).unwrap()
}

harness::prometheus_matrix! {
#[tokio::test(flavor = "multi_thread")]
async fn secrets_manager_failures_tell_the_caller_nothing_about_the_secret() {
    let (s, c1) = Stack::start().await;
    let body = cloud_push(&c1);
    // The webhook secret is gone (deleted, or the ARN is wrong).
    let gone = s.deps.settings.webhook_secret_arn.replace("config-updater/webhook", "config-updater/gone");
    let mut settings = s.deps.settings.clone();
    settings.webhook_secret_arn = gone.clone();
    let deps = Deps::new(settings, &s.moto.sdk_config().await);
    assert_tells_nothing(&unsigned(&deps, &body).await, &gone);

    // Secrets Manager cannot be reached.
    let closed = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let sdk = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new("us-east-1"))
        .endpoint_url(format!("http://{closed}"))
        .credentials_provider(aws_credential_types::Credentials::new("testing", "testing", None, None, "test"))
        .retry_config(aws_config::retry::RetryConfig::standard().with_max_attempts(1))
        .load()
        .await;
    let deps = Deps::new(s.deps.settings.clone(), &sdk);
    assert_tells_nothing(&unsigned(&deps, &body).await, &s.deps.settings.webhook_secret_arn);

    // Signed, but the access token is gone: the same short answer.
    let mut settings = s.deps.settings.clone();
    let gone = settings.token_secret_arn.replace("config-updater/token", "config-updater/gone");
    settings.token_secret_arn = gone.clone();
    let deps = Deps::new(settings, &s.moto.sdk_config().await);
    assert_tells_nothing(&push_with(&deps, &c1).await, &gone);
    assert_eq!(s.git.requests(), 0, "nothing was fetched");
    assert!(s.bitbucket.statuses().is_empty());
}
}

harness::prometheus_matrix! {
#[tokio::test(flavor = "multi_thread")]
async fn a_pull_request_status_goes_on_the_commit_that_was_validated() {
    let (s, _) = Stack::start().await;
    s.git.checkout("feature");
    s.git.edit(&[("rules/disk.yml", Some(DISK_RULE))]);
    let named = s.git.commit_to("feature", "disk alert");
    s.git.edit(&[("rules/disk.yml", Some(&DISK_RULE.replace("0.05", "0.02")))]);
    let head = s.git.commit_to("feature", "tighter disk alert");
    let pr = |commit: &str| -> Value {
        serde_json::json!({"repository": {"full_name": REPOSITORY},
        "pullrequest": {"id": 7, "source": {"branch": {"name": "feature"}, "commit": {"hash": &commit[..12]}},
                        "destination": {"branch": {"name": "main"}}}})
    };

    // The webhook names `named`; the branch has moved on to `head`, which is what is validated.
    let response = s.signed("pullrequest:updated", &pr(&named)).await;
    assert_eq!(result_of(&response), "validated", "{response:?}");
    let body = response.body_json();
    assert_eq!((body["commit"].as_str(), body["newer_than_pushed"].as_bool()), (Some(head.as_str()), Some(true)));
    assert_eq!(s.bitbucket.states_for(&head), ["SUCCESSFUL"]);
    assert!(s.bitbucket.states_for(&named).is_empty() && s.bitbucket.states_for(&named[..12]).is_empty());

    // A broken head under a webhook that names a good commit: FAILED on the head.
    s.git.edit(&[(
        "rules/disk.yml",
        // Invalid on every version (a name with a space is a valid record name from Prometheus 3).
        Some("groups:\n  - name: disk\n    rules:\n      - record: disk_used\n        expr: up ==\n"),
    )]);
    let broken = s.git.commit_to("feature", "expression that does not parse");
    let response = s.signed("pullrequest:updated", &pr(&head)).await;
    assert_eq!(response.status_code, 422, "{response:?}");
    assert_eq!(s.bitbucket.states_for(&broken), ["FAILED"]);
    assert_eq!(s.bitbucket.states_for(&head), ["SUCCESSFUL"], "nothing more on the commit the webhook named");
}
}

/// The process's peak resident set (`VmHWM`), in bytes.
fn peak_rss() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|l| l.starts_with("VmHWM:")).expect("VmHWM in /proc/self/status");
    line.split_whitespace().nth(1).unwrap().parse::<u64>().unwrap() * 1024
}

harness::prometheus_matrix! {
// One version: the commit is refused while fetching, before any Prometheus is asked.
only prometheus_3_5;
#[tokio::test(flavor = "multi_thread")]
async fn a_gigabyte_of_zeros_is_refused_while_fetching_in_bounded_memory() {
    let (s, c1) = Stack::start().await;
    assert_eq!(result_of(&s.push(&c1).await), "deployed");
    let before = deploy::read_record(s.volume.path()).unwrap();
    // 1 GiB of zeros, a sparse file, so neither the test nor git holds it in memory: it packs
    // to about 1 MB.
    std::fs::File::create(s.git.work().join("zeros.bin")).unwrap().set_len(1 << 30).unwrap();
    let hostile = s.git.commit("1 GiB of zeros");

    let response = s.push(&hostile).await;
    let peak = peak_rss();
    assert!(peak < 256 << 20, "peak RSS {} MiB", peak >> 20);
    assert_eq!(response.status_code, 422, "not retryable: a redelivery would fail the same way: {response:?}");
    let error = response.body_json()["error"].as_str().unwrap().to_string();
    assert!(error.contains("more than 33554432 bytes (CONFIG_MAX_BYTES)"), "{error}");
    assert_eq!(s.bitbucket.last_for(&hostile).unwrap().state, "FAILED");
    assert_eq!(deploy::read_record(s.volume.path()).unwrap(), before, "nothing was written");

    // Under the per-file limit but over the total: refused from the headers, naming the path.
    std::fs::remove_file(s.git.work().join("zeros.bin")).unwrap();
    for name in ["a", "b", "c"] {
        std::fs::File::create(s.git.work().join(format!("{name}.bin"))).unwrap().set_len(12 << 20).unwrap();
    }
    let three = s.git.commit("3 x 12 MiB of zeros");
    let response = s.push(&three).await;
    assert_eq!(response.status_code, 422, "{response:?}");
    let error = response.body_json()["error"].as_str().unwrap().to_string();
    assert!(error.contains("more than 33554432 bytes of files (CONFIG_MAX_BYTES), reached at c.bin"), "{error}");
    assert!(peak_rss() < 256 << 20, "peak RSS {} MiB", peak_rss() >> 20);
}
}
