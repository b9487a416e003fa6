//! ecs-discovery with cluster names of every valid length (ECS allows 1 to 255 letters, digits,
//! hyphens and underscores), against moto server as ECS and EC2, a real directory standing in
//! for the EFS volume, and a real Prometheus reading the files through `file_sd_configs`.
//!
//! A directory entry's name may be no longer than 255 bytes, and the state record's temp file
//! adds 48 to the cluster's name: from 208 characters the record used not to be written (each
//! event then started from an empty record), from 219 nothing was.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use ecs_discovery::aws::AwsApi;
use ecs_discovery::{Config, Deps, Outcome};
use harness::ecs::{eni_ip, EcsWorld};
use harness::{Moto, Prometheus};
use serde_json::{json, Value};

const TIMEOUT: Duration = Duration::from_secs(30);
/// Directory entry names longer than this are refused by Linux filesystems (ENAMETOOLONG).
const NAME_MAX: usize = 255;

/// A valid ECS cluster name of exactly `len` characters that uses every allowed kind of
/// character and ends in its length, so names of different lengths differ in their last bytes.
/// No name is part of another's ARN: moto's ListTasks picks a cluster's tasks by substring.
fn cluster_name(len: usize) -> String {
    let tail = format!("_{len}");
    let head: String = "Ab9-".chars().cycle().take(len.saturating_sub(tail.len())).collect();
    let name = if len > tail.len() { format!("{head}{tail}") } else { "Z".repeat(len) };
    assert_eq!(name.len(), len);
    name
}

/// moto with one Fargate task running in each of `clusters`; a Prometheus whose config dir
/// stands in for the EFS mount.
struct World {
    aws: EcsWorld,
    prometheus: Prometheus,
    _mount: tempfile::TempDir,
    file_sd_dir: PathBuf,
    /// Per cluster: its one task's ARN and ENI IP.
    tasks: BTreeMap<String, (String, String)>,
}

impl World {
    async fn start(clusters: &[String]) -> World {
        let aws = EcsWorld::start(Moto::start(), clusters).await;
        let definition = aws.register_fargate("api", &[("PROMETHEUS_EXPORTER_PORT", "9100")]).await;
        let mut tasks = BTreeMap::new();
        for cluster in clusters {
            let task = aws.run_fargate(cluster, &definition, 1, None).await.remove(0);
            tasks.insert(cluster.clone(), (task.task_arn().unwrap().to_string(), eni_ip(&task)));
        }
        let mount = tempfile::tempdir().unwrap();
        let file_sd_dir = mount.path().join("file_sd/ecs");
        std::fs::create_dir_all(&file_sd_dir).unwrap();
        let prometheus = Prometheus::builder()
            .config_dir(mount.path())
            .config(
                "global:\n  scrape_interval: 1h\nscrape_configs:\n  - job_name: ecs\n    file_sd_configs:\n      - files: ['file_sd/ecs/*.json']\n        refresh_interval: 1s\n",
            )
            .start();
        World { aws, prometheus, _mount: mount, file_sd_dir, tasks }
    }

    /// The function's dependencies, covering `clusters`.
    fn deps(&self, clusters: &[String]) -> Arc<Deps<AwsApi>> {
        let config = Config {
            file_sd_dir: self.file_sd_dir.clone(),
            clusters: clusters.to_vec(),
            aws_max_attempts: 2,
            ..Config::default()
        };
        Arc::new(Deps::new(AwsApi::new(&self.aws.sdk, config.aws_max_attempts), config))
    }

    /// The RUNNING event ECS would send for `cluster`'s task at `version`, from what moto's
    /// DescribeTasks returns (the ENI attachment typed `eni` as in events).
    async fn running_event(&self, cluster: &str, version: i64) -> Value {
        let (task_arn, _) = &self.tasks[cluster];
        let described =
            self.aws.ecs.describe_tasks().cluster(cluster).tasks(task_arn).send().await.unwrap().tasks.unwrap();
        let t = &described[0];
        let attachments: Vec<Value> = t
            .attachments()
            .iter()
            .map(|a| {
                let details: Vec<Value> =
                    a.details().iter().map(|d| json!({"name": d.name(), "value": d.value()})).collect();
                json!({"id": a.id(), "type": "eni", "status": "ATTACHED", "details": details})
            })
            .collect();
        json!({
            "version": "0",
            "id": format!("{task_arn}-{version}"),
            "detail-type": "ECS Task State Change",
            "source": "aws.ecs",
            "account": "123456789012",
            "time": "2026-01-01T00:00:00Z",
            "region": "us-east-1",
            "resources": [task_arn],
            "detail": {
                "taskArn": task_arn,
                "clusterArn": t.cluster_arn(),
                "taskDefinitionArn": t.task_definition_arn(),
                "lastStatus": "RUNNING",
                "desiredStatus": "RUNNING",
                "version": version,
                "launchType": "FARGATE",
                "availabilityZone": "us-east-1a",
                "attachments": attachments,
                "containers": [{"name": "web", "lastStatus": "RUNNING", "networkInterfaces": []}],
            }
        })
    }

    /// Waits until Prometheus' active targets, as `instance` → `cluster` label, are `want`.
    async fn expect_targets(&self, want: &BTreeMap<String, String>) {
        let mut last = BTreeMap::new();
        let found = tokio::time::timeout(TIMEOUT, async {
            loop {
                last = self
                    .prometheus
                    .active_targets()
                    .await
                    .iter()
                    .map(|t| {
                        let label = |name: &str| t["labels"][name].as_str().unwrap_or_default().to_string();
                        (label("instance"), label("cluster"))
                    })
                    .collect();
                if &last == want {
                    return;
                }
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        })
        .await;
        if found.is_err() {
            self.prometheus.fail(format!("timed out waiting for targets {want:?}; last seen {last:?}"));
        }
    }
}

/// Every name in `dir` (recursively), with its length.
fn names_under(dir: &Path) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name().into_string().unwrap();
        if entry.file_type().unwrap().is_dir() {
            out.extend(names_under(&entry.path()));
        }
        out.push((name.len(), name));
    }
    out
}

harness::prometheus_matrix! {
/// Names of 1, 207 (the longest that always worked), 208 (the first whose record was lost),
/// 219 (the first that wrote nothing) and 255 (ECS' limit) characters: each event writes the
/// cluster's file and record, a repeated event is recognised from the record, Prometheus loads
/// every file with the full name in the `cluster` label, the reconcile finds them in step, and
/// clusters no longer covered are retired whatever their name's length.
#[tokio::test(flavor = "multi_thread")]
async fn every_valid_cluster_name_length_gets_a_file_and_a_record_prometheus_and_reconcile_agree_with() {
    let clusters: Vec<String> = [1, 207, 208, 219, 255].into_iter().map(cluster_name).collect();
    let w = World::start(&clusters).await;
    let deps = w.deps(&clusters);
    let mut want = BTreeMap::new();
    for cluster in &clusters {
        let len = cluster.len();
        let out = ecs_discovery::handle_value(&w.running_event(cluster, 3).await, &deps)
            .await
            .unwrap_or_else(|e| w.aws.moto.fail(format!("{len} characters: the event failed: {e}")));
        assert!(matches!(&out, Outcome::Applied { cluster: c, file_targets: 1, .. } if c == cluster), "{len}: {out:?}");
        assert!(deps.store.file_path(cluster).exists(), "{len}: no file_sd file");
        let record: Value = std::fs::read(deps.store.state_path(cluster))
            .map(|bytes| serde_json::from_slice(&bytes).unwrap())
            .unwrap_or_else(|e| panic!("{len} characters: no state record: {e}"));
        assert_eq!(record["tasks"][&w.tasks[cluster].0]["version"], 3, "{len}: {record}");
        assert_eq!(record["cluster"], cluster.as_str(), "{len}: the record names the full cluster name");
        // The record is read back: the same event again is a duplicate, not applied anew.
        let again = ecs_discovery::handle_value(&w.running_event(cluster, 3).await, &deps).await.unwrap();
        assert!(matches!(&again, Outcome::Ignored { reason, .. } if reason.contains("duplicate")), "{len}: {again:?}");
        want.insert(format!("{}:9100", w.tasks[cluster].1), cluster.clone());
    }
    // Names that always worked keep their file names: prometheus.yml globs point at them.
    for cluster in clusters.iter().filter(|c| c.len() <= 207) {
        assert_eq!(deps.store.file_path(cluster), w.file_sd_dir.join(format!("{cluster}.json")));
    }
    let too_long: Vec<_> = names_under(&w.file_sd_dir).into_iter().filter(|(len, _)| *len > NAME_MAX).collect();
    assert!(too_long.is_empty(), "{too_long:?}");
    let json_files = names_under(&w.file_sd_dir).into_iter().filter(|(_, n)| n.ends_with(".json")).count();
    assert_eq!(json_files, clusters.len(), "one file_sd file per cluster, nothing else a glob matches");
    w.expect_targets(&want).await;

    // The scheduled reconcile finds each cluster's task (DescribeTasks tells more than the event,
    // so the first one may rewrite labels); the second finds every record in step.
    for pass in [1, 2] {
        let out = ecs_discovery::reconcile(&deps).await.unwrap_or_else(|e| w.aws.moto.fail(format!("reconcile: {e}")));
        let Outcome::Reconciled { clusters: reports, retired, .. } = &out else { panic!("{out:?}") };
        assert!(retired.is_empty(), "{out:?}");
        let seen: Vec<_> = reports.iter().map(|r| (r.cluster.len(), r.running_tasks, r.targets)).collect();
        assert_eq!(seen, [(1, 1, 1), (207, 1, 1), (208, 1, 1), (219, 1, 1), (255, 1, 1)], "{out:?}");
        if pass == 2 {
            assert!(reports.iter().all(|r| !r.state_changed && !r.file_written), "{out:?}");
        }
    }
    w.expect_targets(&want).await;

    // Covering only the shortest: the others' files and records go, whatever their length, and
    // the report names them in full.
    let deps = w.deps(&clusters[..1]);
    let out = ecs_discovery::reconcile(&deps).await.unwrap_or_else(|e| w.aws.moto.fail(format!("reconcile: {e}")));
    let Outcome::Reconciled { retired, .. } = &out else { panic!("{out:?}") };
    let mut retired = retired.clone();
    retired.sort_by_key(String::len);
    assert_eq!(retired, clusters[1..], "{out:?}");
    for cluster in &clusters[1..] {
        assert!(!deps.store.file_path(cluster).exists() && !deps.store.state_path(cluster).exists(), "{}", cluster.len());
    }
    want.retain(|_, c| c == &clusters[0]);
    w.expect_targets(&want).await;
}
}

/// Files are keyed by cluster name, and names are unique only within an account and region. One
/// deployment discovers its own account and region (its ECS client and EventBridge rule reach no
/// other), so an event forwarded from another region's or account's bus, for a cluster of the same
/// name, is ignored instead of writing foreign targets into the home cluster's file.
#[tokio::test(flavor = "multi_thread")]
async fn a_same_named_cluster_of_another_region_or_account_does_not_share_the_file() {
    let clusters = vec!["prod".to_string()];
    let w = World::start(&clusters).await;
    let mut deps = Deps::new(AwsApi::new(&w.aws.sdk, 2), w.deps(&clusters).config.clone());
    deps.config.region = Some("us-east-1".into());
    let mut context = lambda_runtime::Context::default();
    context.invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:ecs-discovery".into();
    let invoke = |payload: Value| {
        let event = lambda_runtime::LambdaEvent { payload, context: context.clone() };
        ecs_discovery::handle(event, &deps)
    };
    let home = w.running_event("prod", 3).await;
    let out = invoke(home.clone()).await.unwrap_or_else(|e| w.aws.moto.fail(format!("home event: {e}")));
    assert!(matches!(out, Outcome::Applied { file_targets: 1, .. }), "{out:?}");
    let file = deps.store.file_path("prod");
    let before = std::fs::read_to_string(&file).unwrap();

    // The same cluster name elsewhere: another task, another address, a newer version.
    let elsewhere = |from: &str, to: &str| {
        let text = home.to_string().replace(from, to).replace(&w.tasks["prod"].1, "10.9.9.9");
        let mut event: Value = serde_json::from_str(&text).unwrap();
        event["detail"]["version"] = json!(7);
        event["detail"]["taskArn"] = json!(format!("{}0", event["detail"]["taskArn"].as_str().unwrap()));
        event
    };
    for (event, wanted) in [
        (elsewhere(":us-east-1:123456789012:", ":eu-west-1:123456789012:"), "region eu-west-1"),
        (elsewhere(":us-east-1:123456789012:", ":us-east-1:210987654321:"), "account 210987654321"),
    ] {
        let out = invoke(event).await.unwrap_or_else(|e| w.aws.moto.fail(format!("{wanted}: {e}")));
        assert!(matches!(&out, Outcome::Ignored { reason, .. } if reason.contains(wanted)), "{wanted}: {out:?}");
    }
    assert_eq!(std::fs::read_to_string(&file).unwrap(), before, "the home cluster's file is unchanged");
    w.expect_targets(&BTreeMap::from([(format!("{}:9100", w.tasks["prod"].1), "prod".to_string())])).await;
}
