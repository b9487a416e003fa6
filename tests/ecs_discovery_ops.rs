//! ecs-discovery as operators see it, against real servers: moto as ECS and EC2, and a real
//! Prometheus that reads the file_sd files and receives the function's own series by remote
//! write. A typo in `CLUSTERS` keeps every file; the own series (`ecs_discovery_*`) are queryable
//! with the values of the invocation; a push that fails leaves the file work done.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use ecs_discovery::aws::AwsApi;
use ecs_discovery::own_series::PUSH_BUDGET;
use ecs_discovery::targets::SkipCause;
use ecs_discovery::{handle_value, ClusterNotFound, Config, Deps, Outcome};
use harness::ecs::{eni_ip, EcsWorld};
use harness::{Moto, Prometheus};
use serde_json::{json, Value};

const CLUSTER: &str = "prod";
const TIMEOUT: Duration = Duration::from_secs(30);
/// The label `EXTRA_LABELS` puts on every own series here.
const EXTRA: (&str, &str) = ("stack", "ops-test");

/// moto with the `prod` cluster and a subnet for awsvpc tasks; a Prometheus whose config dir
/// stands in for the EFS mount.
struct World {
    aws: EcsWorld,
    prometheus: Prometheus,
    _mount: tempfile::TempDir,
    file_sd_dir: PathBuf,
}

impl World {
    async fn start() -> World {
        let aws = EcsWorld::start(Moto::start(), &[CLUSTER]).await;
        let mount = tempfile::tempdir().unwrap();
        let file_sd_dir = mount.path().join("file_sd/ecs");
        std::fs::create_dir_all(&file_sd_dir).unwrap();
        let prometheus = Prometheus::builder()
            .config_dir(mount.path())
            .config(
                "global:\n  scrape_interval: 1h\nscrape_configs:\n  - job_name: ecs\n    file_sd_configs:\n      - files: ['file_sd/ecs/*.json']\n        refresh_interval: 1s\n",
            )
            .start();
        World { aws, prometheus, _mount: mount, file_sd_dir }
    }

    /// The function's dependencies covering `clusters`, pushing its own series to `write_url`.
    fn deps(&self, clusters: &[&str], write_url: Option<String>) -> Deps<AwsApi> {
        let config = Config {
            file_sd_dir: self.file_sd_dir.clone(),
            clusters: clusters.iter().map(|c| c.to_string()).collect(),
            aws_max_attempts: 2,
            remote_write_url: write_url,
            extra_labels: vec![(EXTRA.0.to_string(), EXTRA.1.to_string())],
            ..Config::default()
        };
        Deps::new(AwsApi::new(&self.aws.sdk, config.aws_max_attempts), config)
    }

    fn pushing(&self, clusters: &[&str]) -> Deps<AwsApi> {
        self.deps(clusters, Some(self.prometheus.write_url()))
    }

    fn file(&self, cluster: &str) -> PathBuf {
        self.file_sd_dir.join(format!("{cluster}.json"))
    }

    /// The schedule's event through the handler, as the Lambda runs it (own series included).
    async fn reconcile(&self, deps: &Deps<AwsApi>) -> Outcome {
        let event = json!({"detail-type": "Scheduled Event", "source": "aws.events", "detail": {}});
        handle_value(&event, deps).await.unwrap_or_else(|e| self.aws.moto.fail(format!("reconcile: {e}")))
    }

    /// Waits until Prometheus' active targets are exactly `want` (addresses).
    async fn expect_targets(&self, want: &[String]) {
        let want: BTreeSet<String> = want.iter().cloned().collect();
        self.prometheus
            .eventually(TIMEOUT, &format!("active targets {want:?}"), || async {
                let got: BTreeSet<String> = self
                    .prometheus
                    .active_targets()
                    .await
                    .iter()
                    .filter_map(|t| t["labels"]["instance"].as_str().map(String::from))
                    .collect();
                (got == want).then_some(())
            })
            .await
    }

    /// Waits until `promql` answers exactly `want`: (the series' labels other than `__name__`
    /// and the `EXTRA_LABELS` one, value), in any order. Every series must carry the extra label.
    async fn expect_series(&self, promql: &str, want: &[(&[(&str, &str)], f64)]) {
        let mut want: Vec<(Vec<(String, String)>, f64)> = want
            .iter()
            .map(|(labels, v)| (labels.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(), *v))
            .collect();
        want.sort_by(|a, b| a.0.cmp(&b.0));
        self.prometheus
            .eventually(TIMEOUT, &format!("{promql} to be {want:?}"), || async {
                let mut got = Vec::new();
                for s in self.prometheus.query(promql).await {
                    let metric = s["metric"].as_object().cloned().unwrap_or_default();
                    if metric.get(EXTRA.0).and_then(Value::as_str) != Some(EXTRA.1) {
                        return None;
                    }
                    let labels: Vec<(String, String)> = metric
                        .iter()
                        .filter(|(k, _)| *k != "__name__" && *k != EXTRA.0)
                        .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
                        .collect();
                    let value: f64 = s["value"][1].as_str()?.parse().ok()?;
                    got.push((labels, value));
                }
                got.sort_by(|a, b| a.0.cmp(&b.0));
                (got == want).then_some(())
            })
            .await
    }

    /// The value of the one series `promql` answers with, once there is one.
    async fn value(&self, promql: &str) -> f64 {
        self.prometheus
            .eventually(TIMEOUT, promql, || async {
                let result = self.prometheus.query(promql).await;
                result.first()?["value"][1].as_str()?.parse().ok()
            })
            .await
    }
}

harness::prometheus_matrix! {
#[tokio::test(flavor = "multi_thread")]
async fn a_typo_in_clusters_keeps_every_file_and_says_which_cluster_was_not_found() {
    let w = World::start().await;
    w.aws.ecs.create_cluster().cluster_name("batch").send().await.unwrap();
    let api = w.aws.register_fargate("api", &[("PROMETHEUS_EXPORTER_PORT", "9100")]).await;
    let prod_target = format!("{}:9100", eni_ip(&w.aws.run_fargate(CLUSTER, &api, 1, None).await[0]));
    let batch_target = format!("{}:9100", eni_ip(&w.aws.run_fargate("batch", &api, 1, None).await[0]));
    let out = w.reconcile(&w.pushing(&[CLUSTER, "batch"])).await;
    let Outcome::Reconciled { clusters, not_found, .. } = &out else { panic!("{out:?}") };
    assert_eq!((clusters.len(), not_found.len()), (2, 0), "{out:?}");
    w.expect_targets(&[prod_target.clone(), batch_target.clone()]).await;
    let files_before = (std::fs::read(w.file(CLUSTER)).unwrap(), std::fs::read(w.file("batch")).unwrap());

    // "prod" mistyped: before, the reconcile retired prod's file (and batch's) and its targets vanished.
    let out = w.reconcile(&w.pushing(&["prdo"])).await;
    let Outcome::Reconciled { clusters, retired, not_found } = &out else { panic!("{out:?}") };
    assert!(clusters.is_empty() && retired.is_empty(), "{out:?}");
    assert_eq!(not_found.len(), 1, "{out:?}");
    let ClusterNotFound { cluster, reason } = &not_found[0];
    assert_eq!(cluster, "prdo");
    assert!(reason.contains("ListTasks") && reason.contains("ClusterNotFoundException"), "{reason}");
    assert_eq!((std::fs::read(w.file(CLUSTER)).unwrap(), std::fs::read(w.file("batch")).unwrap()), files_before);
    assert!(!w.file("prdo").exists(), "no file for a cluster that does not exist");
    // (The first reconcile's series, 0 for prod and batch, stay in the query's lookback.)
    w.expect_series("ecs_discovery_clusters_not_found == 1", &[(&[("cluster", "prdo")], 1.0)]).await;

    // Beside a cluster that is found: that one is reconciled, and batch, no longer covered, is
    // still kept while prdo is missing.
    let out = w.reconcile(&w.pushing(&[CLUSTER, "prdo"])).await;
    let Outcome::Reconciled { clusters, retired, not_found } = &out else { panic!("{out:?}") };
    assert_eq!(clusters.iter().map(|c| (c.cluster.as_str(), c.targets)).collect::<Vec<_>>(), [(CLUSTER, 1)]);
    assert!(retired.is_empty(), "{out:?}");
    assert_eq!(not_found.iter().map(|n| n.cluster.as_str()).collect::<Vec<_>>(), ["prdo"]);
    assert_eq!(std::fs::read(w.file("batch")).unwrap(), files_before.1);
    w.expect_series(
        "ecs_discovery_clusters_not_found{cluster=~\"prod|prdo\"}",
        &[(&[("cluster", "prdo")], 1.0), (&[("cluster", CLUSTER)], 0.0)],
    )
    .await;
    w.expect_targets(&[prod_target.clone(), batch_target]).await;

    // Typo fixed: every configured cluster is found, and batch's file is retired again.
    let out = w.reconcile(&w.pushing(&[CLUSTER])).await;
    let Outcome::Reconciled { retired, not_found, .. } = &out else { panic!("{out:?}") };
    assert_eq!((retired.as_slice(), not_found.len()), (&["batch".to_string()][..], 0), "{out:?}");
    assert!(!w.file("batch").exists());
    w.expect_targets(&[prod_target]).await;
}
}

harness::prometheus_matrix! {
#[tokio::test(flavor = "multi_thread")]
async fn own_series_after_a_reconcile_and_an_event_carry_their_values() {
    let w = World::start().await;
    let api = w.aws.register_fargate("api", &[("PROMETHEUS_EXPORTER_PORT", "9100")]).await;
    // A container whose port label is not a number: labelled for scraping, yet no target.
    let broken = w.aws.register_fargate("broken", &[("PROMETHEUS_EXPORTER_PORT", "metrics")]).await;
    let tasks = w.aws.run_fargate(CLUSTER, &api, 2, None).await;
    w.aws.run_fargate(CLUSTER, &broken, 1, None).await;
    let deps = w.pushing(&[CLUSTER]);

    let before = harness::now_secs().floor();
    let out = w.reconcile(&deps).await;
    let after = harness::now_secs().ceil();
    let Outcome::Reconciled { clusters, .. } = &out else { panic!("{out:?}") };
    assert_eq!((clusters[0].running_tasks, clusters[0].targets), (3, 2), "{out:?}");
    assert_eq!(clusters[0].containers_skipped, [(SkipCause::InvalidPortLabel, 1)].into(), "{out:?}");
    w.expect_series("ecs_discovery_targets", &[(&[("cluster", CLUSTER)], 2.0)]).await;
    // Every reason of the cluster, the zeros too, so a fixed label brings its series to 0.
    let reasons: Vec<[(&str, &str); 2]> = SkipCause::ALL.iter().map(|c| [("cluster", CLUSTER), ("reason", c.as_str())]).collect();
    let skipped: Vec<(&[(&str, &str)], f64)> = reasons
        .iter()
        .map(|labels| (&labels[..], if labels[1].1 == "invalid_port_label" { 1.0 } else { 0.0 }))
        .collect();
    w.expect_series("ecs_discovery_containers_skipped", &skipped).await;
    w.expect_series("ecs_discovery_clusters_not_found", &[(&[("cluster", CLUSTER)], 0.0)]).await;
    let success = w.value("ecs_discovery_last_success_timestamp_seconds{cluster=\"prod\"}").await;
    assert!((before..=after).contains(&success), "{before} <= {success} <= {after}");

    // One task stops (the event ECS sends): the targets series follows the file.
    let stopped = &tasks[0];
    let event = json!({
        "detail-type": "ECS Task State Change",
        "source": "aws.ecs",
        "detail": {
            "taskArn": stopped.task_arn(),
            "clusterArn": stopped.cluster_arn(),
            "taskDefinitionArn": stopped.task_definition_arn(),
            "lastStatus": "STOPPED",
            "desiredStatus": "STOPPED",
            "version": 2,
        }
    });
    let out = handle_value(&event, &deps).await.unwrap();
    assert!(matches!(out, Outcome::Applied { file_targets: 1, running: false, .. }), "{out:?}");
    w.expect_series("ecs_discovery_targets", &[(&[("cluster", CLUSTER)], 1.0)]).await;
    w.expect_targets(&[format!("{}:9100", eni_ip(&tasks[1]))]).await;
}
}

/// Prometheus unreachable: the reconcile's files are written and the invocation succeeds, within
/// the push's budget.
#[tokio::test(flavor = "multi_thread")]
async fn a_push_that_fails_leaves_the_file_work_done() {
    let w = World::start().await;
    let api = w.aws.register_fargate("api", &[("PROMETHEUS_EXPORTER_PORT", "9100")]).await;
    let ip = eni_ip(&w.aws.run_fargate(CLUSTER, &api, 1, None).await[0]);
    let closed = harness::free_port();
    let deps = w.deps(&[CLUSTER], Some(format!("http://127.0.0.1:{closed}/api/v1/write")));
    let started = Instant::now();
    let out = w.reconcile(&deps).await;
    assert!(started.elapsed() < PUSH_BUDGET + Duration::from_secs(10), "took {:?}", started.elapsed());
    let Outcome::Reconciled { clusters, .. } = &out else { panic!("{out:?}") };
    assert_eq!(clusters[0].targets, 1, "{out:?}");
    let file: Value = serde_json::from_slice(&std::fs::read(w.file(CLUSTER)).unwrap()).unwrap();
    assert_eq!(file[0]["targets"][0], format!("{ip}:9100"));
}
