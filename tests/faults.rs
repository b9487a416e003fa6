//! Each function under the faults of `harness::faults`, against the real servers: it must end in
//! a state the README promises (Failure modes): nothing half-written, nothing recorded that did
//! not happen, and nothing lost that a retry could deliver (the failure is reported retryable).
//!
//! config-updater: pushes delivered at once (the template's reserved concurrency, the volume's
//! lock), a Prometheus that resets, answers 503 or hangs on the reload, a volume that refuses to
//! grow a file (`EFBIG`), and a Secrets Manager endpoint that stalls. With their features on
//! (`make test` turns on all): ecs-discovery under an ECS endpoint that stalls, and
//! cloudwatch-exporter's remote write reset or refused.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use config_updater::check::check_dir;
use config_updater::deploy::{self, Applied, RecordState};
use config_updater::handler::{handle_value, HttpResponse};
use config_updater::layout::{Layout, Release};
use config_updater::settings::Limits;
use config_updater::{Deps, Error};
use harness::config_updater::{example_repo, loaded_rules, push_with, vars, Stack};
use harness::faults::{in_fault_child, run_with_file_size_limit, Fault, FaultyProxy, Plan, StalledEndpoint};
use harness::Prometheus;
use promstack::files::{FileLock, TEMP_SUFFIX};

/// A rule file whose alert fires below `threshold`: each commit of a test carries its own.
fn disk_rule(threshold: &str) -> String {
    format!(
        "groups:\n  - name: disk\n    rules:\n      - alert: DiskFull\n        expr: node_filesystem_avail_bytes / \
         node_filesystem_size_bytes < {threshold}\n        for: 10m\n"
    )
}

fn result_of(response: &HttpResponse) -> String {
    response.body_json()["result"].as_str().unwrap_or_default().to_string()
}

fn record(root: &Path) -> (String, RecordState) {
    let r = deploy::read_record(root).unwrap().expect("a release record");
    (r.commit, r.state)
}

/// The stack's function with other settings (a proxy in front of Prometheus, a shorter lock wait).
async fn deps_with(s: &Stack, change: impl FnOnce(&mut config_updater::Settings)) -> Deps {
    let mut settings = s.deps.settings.clone();
    change(&mut settings);
    Deps::new(settings, &s.moto.sdk_config().await)
}

/// Every file under `root` (`.promstack` too), relative, with its contents.
fn read_tree(root: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap().flatten() {
            let path = entry.path();
            let rel = path.strip_prefix(root).unwrap().to_string_lossy().into_owned();
            if path.is_dir() {
                stack.push(path);
            } else if rel != deploy::LOCK_FILE {
                out.insert(rel, std::fs::read(&path).unwrap());
            }
        }
    }
    out
}

fn assert_no_temp_files(root: &Path) {
    let temps: Vec<String> = read_tree(root).into_keys().filter(|p| p.ends_with(TEMP_SUFFIX)).collect();
    assert!(temps.is_empty(), "temp files left on the volume: {temps:?}");
}

/// A value of config-updater's function in template.yaml (`Properties` path).
fn template_property(path: &[&str]) -> serde_norway::Value {
    let text = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("template.yaml")).unwrap();
    let template: serde_norway::Value = serde_norway::from_str(&text).unwrap();
    let mut value = &template["Resources"]["ConfigUpdaterFunction"]["Properties"];
    for key in path {
        value = &value[*key];
    }
    value.clone()
}

/// The deliveries the template lets run at once (more get 429 from the Function URL, which
/// Bitbucket never resends).
fn reserved_concurrency() -> usize {
    template_property(&["ReservedConcurrentExecutions"]).as_u64().expect("ReservedConcurrentExecutions") as usize
}

#[test]
fn the_template_leaves_room_for_concurrent_deliveries_and_answers_a_waiting_one_before_lambda_kills_it() {
    // Six pushes during one deploy, and a pull request's validation beside them.
    assert!(reserved_concurrency() >= 7, "ReservedConcurrentExecutions {}", reserved_concurrency());
    let lock_wait: u64 =
        template_property(&["Environment", "Variables", "LOCK_TIMEOUT_SECONDS"]).as_str().unwrap().parse().unwrap();
    let timeout = template_property(&["Timeout"]).as_u64().unwrap();
    // A delivery that waited in vain still has the time to answer 503 (Bitbucket resends it);
    // one that got the lock has the time of a deploy (fetch, write, reload: seconds).
    assert!(lock_wait * 2 <= timeout, "LOCK_TIMEOUT_SECONDS {lock_wait}, Timeout {timeout}");
}

/// An unsigned push, as anyone can send one to the Function URL.
async fn unsigned(deps: &Deps) -> HttpResponse {
    let request = serde_json::json!({"headers": {"x-event-key": "repo:push"}, "body": "{}",
        "requestContext": {"http": {"method": "POST", "path": "/"}}, "version": "2.0", "rawPath": "/"});
    serde_json::from_value(handle_value(request, deps).await.unwrap()).unwrap()
}

harness::prometheus_matrix! {
// One version: the lock, the fetch of the head and the answers are under test; the reload they
// end in is tested on both versions in tests/config_updater.rs.
only prometheus_3_5;
#[tokio::test(flavor = "multi_thread")]
async fn six_pushes_delivered_at_once_each_end_deployed_or_retryable_and_the_last_commit_is_deployed() {
    let (s, c0) = Stack::start().await;
    assert_eq!(result_of(&s.push(&c0).await), "deployed");
    // Each reload takes a while, so deploys overlap deliveries; a short lock wait makes some
    // deliveries give up (503) as they would behind a long deploy.
    let proxy = FaultyProxy::start(&s.prom.url(), Plan::always("/", Fault::Slow(Duration::from_millis(300))));
    let deps = Arc::new(
        deps_with(&s, |settings| {
            settings.prometheus_urls = vec![proxy.url()];
            settings.lock_timeout = Duration::from_secs(2);
        })
        .await,
    );
    // Six pushes, each delivered from its own task as soon as it is committed, and unsigned
    // requests filling the rest of the template's slots.
    let slots = reserved_concurrency();
    let mut pushes = Vec::new();
    let mut commits = Vec::new();
    for i in 1..=6 {
        s.git.edit(&[("rules/disk.yml", Some(&disk_rule(&format!("0.0{i}"))))]);
        let commit = s.git.commit(&format!("disk alert at {i}%"));
        let (deps, c) = (deps.clone(), commit.clone());
        pushes.push(tokio::spawn(async move { push_with(&deps, &c).await }));
        commits.push(commit);
    }
    let floods: Vec<_> = (6..slots)
        .map(|_| {
            let deps = deps.clone();
            tokio::spawn(async move { unsigned(&deps).await })
        })
        .collect();
    for flood in floods {
        assert_eq!(flood.await.unwrap().status_code, 401);
    }
    let mut retry = Vec::new();
    let mut results = Vec::new();
    for (push, commit) in pushes.into_iter().zip(&commits) {
        let response = push.await.unwrap();
        match response.status_code {
            200 => results.push(result_of(&response)),
            503 => retry.push(commit.clone()),
            _ => panic!("a push must end deployed (200) or retryable (503): {response:?}"),
        }
    }
    assert!(results.iter().any(|r| r == "deployed"), "{results:?}");
    // Bitbucket resends each 503.
    for commit in &retry {
        let response = push_with(&deps, commit).await;
        assert_eq!(response.status_code, 200, "the resent delivery of {commit}: {response:?}");
    }
    let last = commits.last().unwrap();
    assert_eq!(record(s.volume.path()), (last.clone(), RecordState::Deployed));
    let on_volume = std::fs::read_to_string(s.volume.path().join("rules.d/disk.yml")).unwrap();
    assert_eq!(on_volume, disk_rule("0.06"));
    let rules = s.prom.api("/api/v1/rules").await.to_string();
    assert!(rules.contains("< 0.06") && !(1..6).any(|i| rules.contains(&format!("< 0.0{i}"))), "{rules}");
    for commit in &commits {
        assert_eq!(s.bitbucket.last_for(commit).unwrap().state, "SUCCESSFUL", "{commit}");
    }
    assert_no_temp_files(s.volume.path());
    eprintln!("first round: {results:?}; {} of 6 resent after a 503", retry.len());
}
}

harness::prometheus_matrix! {
only prometheus_3_5;
#[tokio::test(flavor = "multi_thread")]
async fn a_push_whose_delivery_gave_up_on_the_lock_is_deployed_by_a_delivery_that_waited() {
    let (s, c0) = Stack::start().await;
    assert_eq!(result_of(&s.push(&c0).await), "deployed");
    let root = s.volume.path();
    // Another delivery's deploy holds the volume's lock (a Lambda in another slot).
    let held = FileLock::acquire(&deploy::lock_path(root), Duration::from_secs(5)).unwrap();
    s.git.edit(&[("rules/disk.yml", Some(&disk_rule("0.01")))]);
    let c1 = s.git.commit("disk alert at 1%");
    let deps = Arc::new(deps_with(&s, |_| {}).await);
    let waiting = {
        let (deps, c1) = (deps.clone(), c1.clone());
        tokio::spawn(async move { push_with(&deps, &c1).await })
    };
    // The next push's delivery waits less than the deploy takes, and gives up.
    s.git.edit(&[("rules/disk.yml", Some(&disk_rule("0.02")))]);
    let c2 = s.git.commit("disk alert at 2%");
    let impatient = deps_with(&s, |settings| settings.lock_timeout = Duration::from_secs(1)).await;
    let response = push_with(&impatient, &c2).await;
    assert_eq!(response.status_code, 503, "retryable: {response:?}");
    assert!(response.body_json()["error"].as_str().unwrap().contains("lock"), "{response:?}");
    drop(held);

    // The delivery that waited fetches the branch head under the lock: c2, not its own c1.
    let response = waiting.await.unwrap();
    assert_eq!((response.status_code, result_of(&response)), (200, "deployed".into()), "{response:?}");
    let body = response.body_json();
    assert_eq!((body["commit"].as_str(), body["newer_than_pushed"].as_bool()), (Some(c2.as_str()), Some(true)));
    assert_eq!(record(root), (c2.clone(), RecordState::Deployed), "before anything is resent");
    let rules = s.prom.api("/api/v1/rules").await.to_string();
    assert!(rules.contains("< 0.02"), "{rules}");
    assert_eq!(s.bitbucket.last_for(&c2).unwrap().state, "SUCCESSFUL");

    // Bitbucket resends c2's delivery: nothing left to do.
    let response = push_with(&deps, &c2).await;
    assert_eq!((response.status_code, result_of(&response)), (200, "unchanged".into()), "{response:?}");
}
}

harness::prometheus_matrix! {
// One version: the faults are the proxy's, before Prometheus sees the request.
only prometheus_3_5;
#[tokio::test(flavor = "multi_thread")]
async fn a_prometheus_that_resets_answers_503_or_hangs_on_the_reload_leaves_the_release_pending_and_503() {
    let (s, c0) = Stack::start().await;
    assert_eq!(result_of(&s.push(&c0).await), "deployed");
    let rules_before = loaded_rules(&s.prom).await;
    let proxy = FaultyProxy::start(&s.prom.url(), Plan::always("/-/reload", Fault::Reset));
    let deps = deps_with(&s, |settings| settings.prometheus_urls = vec![proxy.url()]).await;
    s.git.edit(&[("rules/disk.yml", Some(&disk_rule("0.05")))]);
    let c1 = s.git.commit("disk alert");

    // Reset, an answer from something in front of Prometheus (503), and no answer at all.
    for fault in [Fault::Reset, Fault::Status(503), Fault::Hang] {
        proxy.set_plan(Plan::always("/-/reload", fault));
        let started = Instant::now();
        let response = push_with(&deps, &c1).await;
        assert_eq!(response.status_code, 503, "{fault:?}: retryable: {response:?}");
        let error = response.body_json()["error"].as_str().unwrap().to_string();
        assert!(error.contains("pending"), "{fault:?}: {error}");
        assert_eq!(record(s.volume.path()), (c1.clone(), RecordState::Pending), "{fault:?}");
        assert_eq!(loaded_rules(&s.prom).await, rules_before, "{fault:?}: Prometheus never got the reload");
        assert_eq!(s.bitbucket.last_for(&c1).unwrap().state, "INPROGRESS", "{fault:?}");
        assert_no_temp_files(s.volume.path());
        // The reload's own timeout ends a hang well inside the function's.
        assert!(started.elapsed() < Duration::from_secs(60), "{fault:?}: {:?}", started.elapsed());
        assert_eq!(proxy.applied(), [("POST /-/reload".to_string(), fault)], "one reload, and it met the fault");
    }

    // Slow but there: the resent delivery waits for it and records the release deployed.
    proxy.set_plan(Plan::always("/-/reload", Fault::Slow(Duration::from_secs(2))));
    let response = push_with(&deps, &c1).await;
    assert_eq!((response.status_code, result_of(&response)), (200, "deployed".into()), "{response:?}");
    assert_eq!(record(s.volume.path()), (c1.clone(), RecordState::Deployed));
    assert!(loaded_rules(&s.prom).await.contains(&"disk/DiskFull".to_string()));
    assert_eq!(s.bitbucket.last_for(&c1).unwrap().state, "SUCCESSFUL");
}
}

/// The example repo, validated for the default target (what the child and its parent deploy
/// first).
fn example_release() -> Release {
    check_dir(&example_repo(), &Layout::default(), Limits::default(), &vars(), &Default::default())
        .unwrap_or_else(|p| panic!("{}", config_updater::validate::describe(&p)))
}

/// The example repo plus a 128 KiB rule file (1,000 recording rules).
fn release_with_a_big_rule_file() -> Release {
    let mut release = example_release();
    let mut text = String::from("groups:\n  - name: big\n    rules:\n");
    for i in 0..1000 {
        text.push_str(&format!("      - record: big:rule_{i:04}:sum\n        expr: sum(up) + {i} * 0\n"));
    }
    assert!(text.len() > BIG_FILE_LIMIT as usize * 2, "{}", text.len());
    release.files.insert("rules.d/big.yml".into(), text.into_bytes());
    release
}

/// What the child's files may grow to: every file of the example release and its record fit,
/// the big rule file does not.
const BIG_FILE_LIMIT: u64 = 16 * 1024;
const VOLUME_ENV: &str = "PROMSTACK_FAULT_VOLUME";
const PROMETHEUS_ENV: &str = "PROMSTACK_FAULT_PROMETHEUS";

/// Run by the test below in a child process whose files cannot grow past [`BIG_FILE_LIMIT`].
#[tokio::test]
#[ignore = "runs only in the child process that a_write_the_volume_refuses_leaves_the_previous_release_whole starts"]
async fn child_applies_a_release_on_a_volume_that_refuses_to_grow_a_file() {
    if !in_fault_child() {
        return;
    }
    let root = std::path::PathBuf::from(std::env::var(VOLUME_ENV).unwrap());
    let urls = vec![std::env::var(PROMETHEUS_ENV).unwrap()];
    let err = deploy::apply(&root, "c2", "main", &release_with_a_big_rule_file(), &urls).await.unwrap_err();
    eprintln!("apply under the limit: {err}");
    let Error::Volume { path, source } = &err else { panic!("expected a volume error: {err}") };
    // The kernel's EFBIG (27), whose kind and text the write keeps.
    assert_eq!(source.kind(), std::io::ErrorKind::FileTooLarge, "{err}");
    assert!(source.to_string().contains("os error 27"), "{err}");
    assert!(path.ends_with("rules.d/big.yml"), "{path}");
    assert!(err.is_retryable(), "a resent delivery may find room: {err}");
}

harness::prometheus_matrix! {
only prometheus_3_5;
#[tokio::test(flavor = "multi_thread")]
async fn a_write_the_volume_refuses_leaves_the_previous_release_whole() {
    let volume = tempfile::tempdir().unwrap();
    let root = volume.path();
    let prom = Prometheus::builder().config_dir(root).start();
    deploy::prepare(root).unwrap();
    let applied = deploy::apply(root, "c1", "main", &example_release(), &[prom.url()]).await.unwrap();
    assert!(matches!(applied, Applied::Deployed { .. }), "{applied:?}");
    let before = read_tree(root);
    let rules_before = loaded_rules(&prom).await;

    let env = [(VOLUME_ENV, root.display().to_string()), (PROMETHEUS_ENV, prom.url())];
    run_with_file_size_limit(
        "child_applies_a_release_on_a_volume_that_refuses_to_grow_a_file",
        BIG_FILE_LIMIT,
        &env,
    );
    // `previous/` may now hold a copy of c1, the release being replaced, as before any write.
    let outside_previous = |tree: BTreeMap<String, Vec<u8>>| -> BTreeMap<String, Vec<u8>> {
        tree.into_iter().filter(|(path, _)| !path.starts_with(deploy::PREVIOUS_DIR)).collect()
    };
    assert_eq!(
        outside_previous(read_tree(root)),
        outside_previous(before),
        "the files and the record are as they were"
    );
    assert_no_temp_files(root);
    assert_eq!(record(root), ("c1".into(), RecordState::Deployed));
    assert_eq!(loaded_rules(&prom).await, rules_before, "nothing was reloaded");

    // With room again, the retry deploys it.
    let applied = deploy::apply(root, "c2", "main", &release_with_a_big_rule_file(), &[prom.url()]).await.unwrap();
    assert!(matches!(applied, Applied::Deployed { .. }), "{applied:?}");
    assert!(loaded_rules(&prom).await.contains(&"big/big:rule_0999:sum".to_string()));
}
}

harness::prometheus_matrix! {
// One version: Prometheus is never reached.
only prometheus_3_5;
#[tokio::test(flavor = "multi_thread")]
async fn a_stalled_secrets_manager_is_a_prompt_503_and_nothing_is_fetched() {
    let (s, c0) = Stack::start().await;
    let stalled = StalledEndpoint::start();
    let sdk = sdk_config_for(&stalled, s.deps.settings.aws_max_attempts).await;
    let deps = Deps::new(s.deps.settings.clone(), &sdk);
    let started = Instant::now();
    let response = tokio::time::timeout(Duration::from_secs(60), push_with(&deps, &c0))
        .await
        .unwrap_or_else(|_| panic!("no answer after 60 s ({} connection(s))", stalled.connections()));
    assert_eq!(response.status_code, 503, "retryable: {response:?}");
    assert!(stalled.connections() >= 1);
    assert_eq!(s.git.requests(), 0, "nothing was fetched");
    assert!(deploy::read_record(s.volume.path()).unwrap().is_none(), "nothing was written");
    eprintln!("answered in {:?}", started.elapsed());
}
}

/// The SDK configuration as the functions' mains build it, pointed at `endpoint`, with the
/// operation timeout cut from 60 s to 3 s so a stalled call ends quickly here (that the default
/// is set is `tests/remote_write_limits.rs`' test).
async fn sdk_config_for(endpoint: &StalledEndpoint, max_attempts: u32) -> aws_config::SdkConfig {
    promstack::aws::sdk_config_with(promstack::aws::AwsSettings {
        endpoint_url: Some(endpoint.url()),
        region: Some("us-east-1".into()),
        operation_timeout: Some(Duration::from_secs(3)),
    })
    .await
    .into_builder()
    .credentials_provider(aws_credential_types::provider::SharedCredentialsProvider::new(
        aws_credential_types::Credentials::new("testing", "testing", None, None, "test"),
    ))
    .retry_config(aws_config::retry::RetryConfig::standard().with_max_attempts(max_attempts))
    .build()
}

/// ecs-discovery under an ECS endpoint that stalls.
#[cfg(feature = "ecs-discovery")]
mod ecs_discovery_faults {
    use super::*;
    use ecs_discovery::aws::AwsApi;
    use ecs_discovery::Config;

    #[tokio::test(flavor = "multi_thread")]
    async fn a_stalled_ecs_endpoint_fails_the_reconcile_retryably_and_writes_nothing() {
        let stalled = StalledEndpoint::start();
        let mount = tempfile::tempdir().unwrap();
        let config =
            Config { file_sd_dir: mount.path().join("file_sd"), clusters: vec!["prod".into()], ..Config::default() };
        let sdk = sdk_config_for(&stalled, config.aws_max_attempts).await;
        let deps = ecs_discovery::Deps::new(AwsApi::new(&sdk, config.aws_max_attempts), config);
        let result = tokio::time::timeout(Duration::from_secs(60), ecs_discovery::reconcile(&deps))
            .await
            .unwrap_or_else(|_| panic!("no answer after 60 s ({} connection(s))", stalled.connections()));
        let err = result.expect_err("a reconcile that cannot reach ECS fails");
        assert!(err.retryable(), "{err}");
        let files: Vec<String> = read_tree(mount.path()).into_keys().collect();
        assert!(files.is_empty(), "nothing is written: {files:?}");
    }
}

/// cloudwatch-exporter's remote write through a proxy that resets or refuses it.
#[cfg(feature = "cloudwatch-exporter")]
mod cloudwatch_exporter_faults {
    use super::*;
    use aws_lambda_events::eventbridge::EventBridgeEvent;
    use aws_sdk_cloudwatch::primitives::DateTime;
    use aws_sdk_cloudwatch::types::{Dimension, MetricDatum};
    use cloudwatch_exporter::settings::Settings;
    use harness::{now_secs, Moto};
    use lambda_runtime::{Context, LambdaEvent};
    use promstack::settings::Env;

    const CONFIG: &str = harness::TIMESTAMPED_QUEUE_CONFIG;
    const SELECTOR: &str = r#"aws_myapp_latency_average{dimension_Queue="jobs"}"#;
    const WRITE_PATH: &str = "/api/v1/write";

    fn event(id: &str) -> LambdaEvent<EventBridgeEvent> {
        let mut e: EventBridgeEvent =
            serde_json::from_slice(include_bytes!("../events/cloudwatch-exporter-schedule.json")).unwrap();
        e.id = Some(id.to_string());
        LambdaEvent { payload: e, context: Context::default() }
    }

    /// The start of a minute with at least 10 s left in it.
    async fn minute() -> i64 {
        let now = now_secs();
        if now % 60.0 > 50.0 {
            tokio::time::sleep(Duration::from_secs_f64(61.0 - now % 60.0)).await;
        }
        (now_secs() as i64).div_euclid(60) * 60
    }

    /// `SELECTOR` over the last hour as (timestamp s, value).
    async fn samples(p: &Prometheus) -> Vec<(i64, f64)> {
        let r = p.query(&format!("{SELECTOR}[1h]")).await;
        r.first()
            .map(|s| {
                s["values"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|v| (v[0].as_f64().unwrap() as i64, v[1].as_str().unwrap().parse().unwrap()))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The exporter's environment: `CONFIG` at `config_path`, remote write through `proxy`, state in
    /// the bucket `state`.
    fn env_pairs(config_path: &Path, proxy: &FaultyProxy) -> Vec<(&'static str, String)> {
        vec![
            ("EXPORTER_CONFIG", config_path.display().to_string()),
            ("REMOTE_WRITE_URL", format!("{}{WRITE_PATH}", proxy.url())),
            ("STATE_BUCKET", "state".to_string()),
        ]
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn a_stalled_cloudwatch_endpoint_fails_the_run() {
        let stalled = StalledEndpoint::start();
        let dir = tempfile::tempdir().unwrap();
        let config_path = dir.path().join("yace.yml");
        // No watermarks (they need a state bucket): the run goes straight to CloudWatch.
        let config = CONFIG.replace("    addCloudwatchTimestamp: true\n    exportAllDataPoints: true\n", "");
        std::fs::write(&config_path, config).unwrap();
        let env = Env::from_pairs([
            ("EXPORTER_CONFIG", config_path.display().to_string()),
            ("REMOTE_WRITE_URL", format!("{}{WRITE_PATH}", stalled.url())),
        ]);
        let settings = Settings::read(&env).unwrap();
        let sdk = sdk_config_for(&stalled, settings.aws_max_attempts).await;
        let deps = cloudwatch_exporter::Deps::new(settings, sdk).unwrap();
        let result = tokio::time::timeout(Duration::from_secs(60), cloudwatch_exporter::handle(event("s"), &deps))
            .await
            .unwrap_or_else(|_| panic!("no answer after 60 s ({} connection(s))", stalled.connections()));
        // Scheduled: the run fails, and the next one (a minute later) tries again.
        let err = result.expect_err("a run that cannot reach CloudWatch fails");
        assert!(!matches!(err, cloudwatch_exporter::Error::Settings(_)), "{err}");
        assert!(stalled.connections() >= 1, "{err}");
    }

    harness::prometheus_matrix! {
    // One version: the faults are the proxy's; remote write to both versions is tested in
    // tests/cloudwatch_exporter.rs.
    only prometheus_3_5;
    #[tokio::test(flavor = "multi_thread")]
    async fn a_remote_write_reset_or_refused_moves_no_watermark_and_the_next_run_delivers_each_sample_once() {
        let prom = Prometheus::start(harness::prometheus::EMPTY_CONFIG);
        let moto = Moto::start();
        let dir = tempfile::tempdir().unwrap();
        let config_path = dir.path().join("yace.yml");
        std::fs::write(&config_path, CONFIG).unwrap();
        let sdk = moto.sdk_config().await;
        aws_sdk_s3::Client::new(&sdk).create_bucket().bucket("state").send().await.unwrap();
        let cw = aws_sdk_cloudwatch::Client::new(&sdk);
        let m = minute().await;
        let points = [(m - 540, 1.0), (m - 480, 2.0), (m - 420, 3.0)];
        let data = points
            .iter()
            .map(|(ts, v)| {
                MetricDatum::builder()
                    .metric_name("Latency")
                    .dimensions(Dimension::builder().name("Queue").value("jobs").build())
                    .timestamp(DateTime::from_secs(*ts))
                    .value(*v)
                    .build()
            })
            .collect();
        cw.put_metric_data().namespace("MyApp").set_metric_data(Some(data)).send().await.unwrap();

        let proxy = FaultyProxy::start(&prom.url(), Plan::always(WRITE_PATH, Fault::Reset));
        let mut pairs = env_pairs(&config_path, &proxy);
        pairs.push(("REMOTE_WRITE_MAX_RETRIES", "1".to_string()));
        let env = Env::from_pairs(pairs);
        let deps = cloudwatch_exporter::Deps::new(Settings::read(&env).unwrap(), sdk.clone()).unwrap();
        for (id, fault) in [("a", Fault::Reset), ("b", Fault::Status(503))] {
            proxy.set_plan(Plan::always(WRITE_PATH, fault));
            match cloudwatch_exporter::handle(event(id), &deps).await {
                Err(cloudwatch_exporter::Error::RemoteWrite(e)) => assert!(e.is_retryable(), "{fault:?}: {e}"),
                other => panic!("{fault:?}: a run whose every push fails must fail: {other:?}"),
            }
            assert_eq!(samples(&prom).await, [], "{fault:?}");
        }
        // A receiver that never answers: the push times out (30 s, no retry here), as retryable.
        proxy.set_plan(Plan::always(WRITE_PATH, Fault::Hang));
        let mut once = env_pairs(&config_path, &proxy);
        once.push(("REMOTE_WRITE_MAX_RETRIES", "0".to_string()));
        let settings = Settings::read(&Env::from_pairs(once)).unwrap();
        let no_retry = cloudwatch_exporter::Deps::new(settings, sdk.clone()).unwrap();
        let started = Instant::now();
        match cloudwatch_exporter::handle(event("h"), &no_retry).await {
            Err(cloudwatch_exporter::Error::RemoteWrite(e)) => assert!(e.is_retryable(), "{e}"),
            other => panic!("a run whose push hangs must fail: {other:?}"),
        }
        assert!(started.elapsed() < Duration::from_secs(45), "{:?}", started.elapsed());
        assert_eq!(samples(&prom).await, []);

        // The next run's first push is refused and its retry lands: every sample once, none lost.
        proxy.set_plan(Plan::nth(WRITE_PATH, 1, Fault::Status(503)));
        let run = cloudwatch_exporter::handle(event("c"), &deps).await.unwrap();
        assert_eq!(run.samples_pushed, 3, "{run:?}");
        assert_eq!(samples(&prom).await, points);
        let applied: Vec<Fault> = proxy.applied().into_iter().map(|(_, fault)| fault).collect();
        assert!(applied.len() >= 2 && applied[0] == Fault::Status(503), "{applied:?}");
        assert!(applied[1..].iter().all(|f| *f == Fault::Pass), "{applied:?}");
        let idle = cloudwatch_exporter::handle(event("d"), &deps).await.unwrap();
        assert_eq!(idle.samples_pushed, 0, "nothing recorded twice: {idle:?}");
        assert_eq!(samples(&prom).await, points);
    }
    }
}
