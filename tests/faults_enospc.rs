//! Each function on a volume that fills up: a real `ENOSPC` from a real filesystem. Each test runs
//! in a child process in its own user and mount namespace (`harness::faults::run_in_mount_namespace`),
//! which mounts a 1 MiB tmpfs over the function's volume and fills it so that only a chosen number
//! of pages is free. Stepping that number up one page at a time from none, the update gets further
//! at each step before a write meets the full volume, until it fits: at every step the function must
//! end as docs/development.md promises (Failure modes), with nothing half-written and nothing recorded that
//! did not happen, and report the failure as one a retry can get past.
//!
//! cloudwatch-exporter keeps its state in S3, not on a filesystem: it has no write to fill up.

use std::collections::BTreeMap;
use std::path::Path;

use harness::faults::{fill_leaving, in_fault_child, mount_small_filesystem, run_in_mount_namespace};
use promstack::files::TEMP_SUFFIX;

/// The tmpfs over the volume; the filler takes all of it but the pages a step leaves free.
const VOLUME_BYTES: u64 = 1024 * 1024;
/// tmpfs hands out space in pages.
const PAGE: u64 = 4096;
/// Enough pages for every update below, so a loop that never succeeds ends.
const MAX_FREE_PAGES: u64 = 200;
/// The filler's name on the volume, which no function reads or writes.
const FILLER: &str = "filler.bin";

/// Every file under `root`, relative, with its contents (the filler and `skip` left out).
fn read_tree(root: &Path, skip: impl Fn(&str) -> bool) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap().flatten() {
            let path = entry.path();
            let rel = path.strip_prefix(root).unwrap().to_string_lossy().into_owned();
            if path.is_dir() {
                stack.push(path);
            } else if rel != FILLER && !skip(&rel) {
                out.insert(rel, std::fs::read(&path).unwrap());
            }
        }
    }
    out
}

fn assert_no_temp_files(root: &Path, step: &str) {
    let temps: Vec<String> = read_tree(root, |_| false).into_keys().filter(|p| p.ends_with(TEMP_SUFFIX)).collect();
    assert!(temps.is_empty(), "{step}: temp files left on the volume: {temps:?}");
}

/// config-updater: a push whose release does not fit on the EFS volume.
mod config_updater_on_a_full_volume {
    use super::*;
    use config_updater::deploy::{self, RecordState};
    use harness::config_updater::{loaded_rules, Stack};

    /// 1,000 recording rules, 64 KiB: 17 pages, more than the whole example release.
    fn big_rule_file() -> String {
        let mut text = String::from("groups:\n  - name: big\n    rules:\n");
        for i in 0..1000 {
            text.push_str(&format!("      - record: big:rule_{i:04}:sum\n        expr: sum(up) + {i} * 0\n"));
        }
        text
    }

    /// The release on the volume: its files and its record. Not `previous/`, which keeps a copy of
    /// the release being replaced and is written (and may be left part-written) before the release
    /// is, nor the function's other state under `.promstack/`.
    fn release_files(root: &Path) -> BTreeMap<String, Vec<u8>> {
        read_tree(root, |rel| rel.starts_with(".promstack/") && rel != deploy::RECORD_FILE)
    }

    fn record(root: &Path) -> (String, RecordState) {
        let r = deploy::read_record(root).unwrap().expect("a release record");
        (r.commit, r.state)
    }

    /// Run by the test below in its own mount namespace.
    #[tokio::test(flavor = "multi_thread")]
    #[ignore = "runs only in the child process that a_push_on_a_full_volume_answers_503_and_leaves_the_previous_release_whole starts"]
    async fn child_pushes_a_release_onto_a_volume_with_ever_more_room() {
        if !in_fault_child() {
            return;
        }
        let (s, c1) = Stack::start().await;
        let root = s.volume.path();
        // Over the stack's EFS directory: its Prometheus, started by this process, reads it there.
        mount_small_filesystem(root, VOLUME_BYTES);
        let response = s.push(&c1).await;
        assert_eq!(response.status_code, 200, "the example release fits: {response:?}");
        let before = release_files(root);
        let rules_before = loaded_rules(&s.prom).await;

        s.git.edit(&[("rules/big.yml", Some(&big_rule_file()))]);
        let c2 = s.git.commit("1,000 recording rules");
        // The files whose writes met the full volume, over all the steps.
        let mut refused = Vec::new();
        for pages in 0..=MAX_FREE_PAGES {
            let step = format!("{pages} page(s) free");
            let filler = fill_leaving(&root.join(FILLER), pages * PAGE);
            let response = s.push(&c2).await;
            filler.release();
            if response.status_code == 200 {
                assert_eq!(response.body_json()["result"], "deployed", "{step}: {response:?}");
                break;
            }
            // Bitbucket redelivers a push answered with a 5xx.
            assert_eq!(response.status_code, 503, "{step}: a full volume is retryable: {response:?}");
            let error = response.body_json()["error"].as_str().unwrap_or_default().to_string();
            assert!(error.contains("No space left on device (os error 28)"), "{step}: {error}");
            let path = error.trim_start_matches("writing the release to ").split(": ").next().unwrap().to_string();
            assert!(path.starts_with(&root.display().to_string()), "{step}: the error names the file: {error}");
            assert_eq!(release_files(root), before, "{step}: the release and its record are as they were");
            assert_no_temp_files(root, &step);
            assert_eq!(record(root), (c1.clone(), RecordState::Deployed), "{step}: nothing is recorded");
            assert_eq!(loaded_rules(&s.prom).await, rules_before, "{step}: nothing was reloaded");
            assert!(pages < MAX_FREE_PAGES, "never deployed, even with {pages} pages free; last: {error}");
            refused.push(path);
        }
        eprintln!("writes refused for want of space, one per step: {refused:?}");
        let under_previous = format!("{}/{}", root.display(), deploy::PREVIOUS_DIR);
        assert!(
            refused.iter().any(|p| p.starts_with(&under_previous)),
            "the copy of c1 met the full volume: {refused:?}"
        );
        assert!(refused.iter().any(|p| p.ends_with("big.yml")), "the new rule file met the full volume: {refused:?}");

        // With room enough, the redelivery deployed it, and c1 is kept as the previous release.
        assert_eq!(record(root), (c2.clone(), RecordState::Deployed));
        assert!(loaded_rules(&s.prom).await.contains(&"big/big:rule_0999:sum".to_string()));
        let kept = std::fs::read(root.join(deploy::PREVIOUS_DIR).join("release.json")).unwrap();
        let kept: deploy::Record = serde_json::from_slice(&kept).unwrap();
        assert_eq!(kept.commit, c1, "previous/ keeps the release that was replaced");
        assert_no_temp_files(root, "deployed");
        assert_eq!(s.bitbucket.last_for(&c2).unwrap().state, "SUCCESSFUL");
    }

    #[test]
    fn a_push_on_a_full_volume_answers_503_and_leaves_the_previous_release_whole() {
        let output = run_in_mount_namespace(
            "config_updater_on_a_full_volume::child_pushes_a_release_onto_a_volume_with_ever_more_room",
            &[],
        );
        let stderr = String::from_utf8_lossy(&output.stderr);
        let summary = stderr.lines().find(|l| l.contains("writes refused for want of space"));
        eprintln!("{}", summary.unwrap_or_else(|| panic!("the child reported no steps: {stderr}")));
    }
}

/// ecs-discovery: a reconcile whose file_sd file and state record do not fit on the volume.
mod ecs_discovery_on_a_full_volume {
    use super::*;
    use ecs_discovery::aws::AwsApi;
    use ecs_discovery::file_sd::{self, ClusterState};
    use ecs_discovery::{Config, Deps, Outcome};
    use harness::ecs::EcsWorld;
    use harness::Moto;

    const CLUSTER: &str = "prod";

    /// moto as ECS with a cluster and a Fargate task definition whose container has a metrics
    /// port; returns what `run` needs.
    struct Ecs {
        aws: EcsWorld,
        definition: String,
    }

    impl Ecs {
        async fn start() -> Ecs {
            let aws = EcsWorld::start(Moto::start(), &[CLUSTER]).await;
            let labels = [("PROMETHEUS_EXPORTER_PORT", "9100"), ("PROMETHEUS_EXPORTER_JOB_NAME", "api")];
            let definition = aws.register_fargate("api", &labels).await;
            Ecs { aws, definition }
        }

        async fn run(&self, count: i32) {
            self.aws.run_fargate(CLUSTER, &self.definition, count, None).await;
        }
    }

    /// The file and the record of the cluster, as bytes.
    fn file_and_record(store: &file_sd::FileSdStore) -> (Vec<u8>, Vec<u8>) {
        (std::fs::read(store.file_path(CLUSTER)).unwrap(), std::fs::read(store.state_path(CLUSTER)).unwrap())
    }

    fn targets_in_file(store: &file_sd::FileSdStore) -> usize {
        let file: serde_json::Value = serde_json::from_slice(&file_and_record(store).0).unwrap();
        file.as_array().unwrap().len()
    }

    /// Run by the test below in its own mount namespace.
    #[tokio::test(flavor = "multi_thread")]
    #[ignore = "runs only in the child process that a_reconcile_on_a_full_volume_fails_retryably_with_file_and_record_agreeing starts"]
    async fn child_reconciles_onto_a_volume_with_ever_more_room() {
        if !in_fault_child() {
            return;
        }
        let world = Ecs::start().await;
        let mount = tempfile::tempdir().unwrap();
        mount_small_filesystem(mount.path(), VOLUME_BYTES);
        let config = Config {
            file_sd_dir: mount.path().join("file_sd/ecs"),
            clusters: vec![CLUSTER.to_string()],
            aws_max_attempts: 2,
            ..Config::default()
        };
        let deps = Deps::new(AwsApi::new(&world.aws.sdk, config.aws_max_attempts), config);
        world.run(1).await;
        let outcome = ecs_discovery::reconcile(&deps).await.unwrap_or_else(|e| world.aws.moto.fail(e));
        assert!(matches!(outcome, Outcome::Reconciled { .. }), "{outcome:?}");
        assert_eq!(targets_in_file(&deps.store), 1);
        let before = file_and_record(&deps.store);

        // 40 more tasks: their targets take more pages in the file, and more in the record.
        for _ in 0..4 {
            world.run(10).await;
        }
        let (mut file_refused, mut record_refused) = (0, 0);
        for pages in 0..=MAX_FREE_PAGES {
            let step = format!("{pages} page(s) free");
            let filler = fill_leaving(&mount.path().join(FILLER), pages * PAGE);
            let result = ecs_discovery::reconcile(&deps).await;
            filler.release();
            let err = match result {
                Ok(outcome) => {
                    assert!(matches!(outcome, Outcome::Reconciled { .. }), "{step}: {outcome:?}");
                    break;
                }
                Err(e) => e,
            };
            let message = err.to_string();
            assert!(err.retryable(), "{step}: a full volume is retryable: {message}");
            assert!(message.contains("No space left on device (os error 28)"), "{step}: {message}");
            assert_eq!(file_and_record(&deps.store), before, "{step}: the file and the record are as they were");
            let record: ClusterState = deps.store.read_state(CLUSTER).unwrap();
            assert_eq!(file_sd::render(&record).as_bytes(), before.0, "{step}: the file is what the record renders");
            assert_no_temp_files(mount.path(), &step);
            assert!(pages < MAX_FREE_PAGES, "never written, even with {pages} pages free; last: {message}");
            // The file is written first; when the record's write then fails, the file is put back.
            if message.contains("put back as it was") {
                assert!(message.contains(".promstack-state"), "{step}: the error names the record: {message}");
                record_refused += 1;
            } else {
                let file = deps.store.file_path(CLUSTER).display().to_string();
                assert!(message.contains(&file), "{step}: the error names the file: {message}");
                file_refused += 1;
            }
        }
        eprintln!("steps refused for want of space: {file_refused} at the file, {record_refused} at the record");
        assert!(file_refused > 0, "the file's write met the full volume");
        assert!(record_refused > 0, "the record's write met the full volume after the file's was done");

        assert_eq!(targets_in_file(&deps.store), 41, "with room enough, every task's target is in the file");
        let record = deps.store.read_state(CLUSTER).unwrap();
        assert_eq!(file_sd::render(&record).as_bytes(), file_and_record(&deps.store).0);
        assert_no_temp_files(mount.path(), "written");
    }

    #[test]
    fn a_reconcile_on_a_full_volume_fails_retryably_with_file_and_record_agreeing() {
        let output = run_in_mount_namespace(
            "ecs_discovery_on_a_full_volume::child_reconciles_onto_a_volume_with_ever_more_room",
            &[],
        );
        let stderr = String::from_utf8_lossy(&output.stderr);
        let summary = stderr.lines().find(|l| l.contains("steps refused for want of space"));
        eprintln!("{}", summary.unwrap_or_else(|| panic!("the child reported no steps: {stderr}")));
    }
}
