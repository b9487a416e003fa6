//! ecs-discovery against real servers: moto server as ECS and EC2, and a real Prometheus whose
//! `file_sd_configs` read the files the function writes. Every assertion on targets is made on
//! Prometheus' `/api/v1/targets`, i.e. on what Prometheus understood from the file.
//!
//! moto gaps (see docs/development.md, What moto cannot cover): DescribeTasks returns only the
//! first container and no `networkBindings`, so bridge mode is exercised through events, which
//! carry them (events are built from what moto's DescribeTasks returns, plus the bindings, version
//! and AZ ECS adds).

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use aws_sdk_ecs::types::{Compatibility, ContainerDefinition, LaunchType, NetworkMode, PortMapping};
use ecs_discovery::aws::AwsApi;
use ecs_discovery::{Config, Deps, Error, Outcome};
use harness::ecs::{eni_ip, ContainerInstance, EcsWorld};
use harness::{Moto, Prometheus};
use serde_json::{json, Value};

const CLUSTER: &str = "prod";
const TIMEOUT: Duration = Duration::from_secs(30);

/// One test's world: moto with a cluster, a VPC and an EC2 container instance; a Prometheus whose
/// config dir stands in for the EFS mount; the function's dependencies aimed at both.
struct World {
    aws: EcsWorld,
    prometheus: Prometheus,
    deps: Arc<Deps<AwsApi>>,
    _mount: tempfile::TempDir,
    file_sd_dir: PathBuf,
    container_instance: ContainerInstance,
}

impl World {
    async fn start() -> World {
        let aws = EcsWorld::start(Moto::start(), &[CLUSTER]).await;
        let container_instance = aws.register_container_instance(CLUSTER).await;
        let sdk = &aws.sdk;

        let mount = tempfile::tempdir().unwrap();
        let file_sd_dir = mount.path().join("file_sd/ecs");
        std::fs::create_dir_all(&file_sd_dir).unwrap();
        // Locally Prometheus watches the directory with inotify; on EFS it relies on the refresh.
        let prometheus = Prometheus::builder()
            .config_dir(mount.path())
            .config(
                "global:\n  scrape_interval: 1h\nscrape_configs:\n  - job_name: ecs\n    file_sd_configs:\n      - files: ['file_sd/ecs/*.json']\n        refresh_interval: 1s\n",
            )
            .start();
        let config = Config {
            file_sd_dir: file_sd_dir.clone(),
            clusters: vec![CLUSTER.to_string()],
            aws_max_attempts: 2,
            ..Config::default()
        };
        let deps = Arc::new(Deps::new(AwsApi::new(sdk, config.aws_max_attempts), config));
        World { aws, prometheus, deps, _mount: mount, file_sd_dir, container_instance }
    }

    fn file(&self) -> PathBuf {
        self.file_sd_dir.join(format!("{CLUSTER}.json"))
    }

    /// A Fargate (awsvpc) definition with the community tool's labels and a second endpoint.
    async fn register_awsvpc_definition(&self) -> String {
        let labels = [
            ("PROMETHEUS_EXPORTER_PORT", "9100"),
            ("PROMETHEUS_EXPORTER_PATH", "/custom/metrics"),
            ("PROMETHEUS_EXPORTER_JOB_NAME", "api"),
            ("PROMETHEUS_EXPORTER_ADMIN_PORT", "9200"),
            ("PROMETHEUS_EXPORTER_ADMIN_SCHEME", "https"),
        ];
        self.aws.register_fargate("api", &labels).await
    }

    /// An EC2 bridge definition with the CloudWatch agent's labels and a dynamic host port.
    async fn register_bridge_definition(&self) -> String {
        let jmx = ContainerDefinition::builder()
            .name("jmx")
            .image("example/jmx:1")
            .memory(128)
            .port_mappings(PortMapping::builder().container_port(9404).host_port(0).build())
            .docker_labels("ECS_PROMETHEUS_EXPORTER_PORT", "9404")
            .docker_labels("ECS_PROMETHEUS_METRICS_PATH", "/jmx")
            .docker_labels("ECS_PROMETHEUS_JOB_NAME", "jmx")
            .build();
        self.aws.register("batch", NetworkMode::Bridge, Compatibility::Ec2, jmx).await
    }

    async fn run_fargate(&self, definition: &str, count: i32) -> Vec<aws_sdk_ecs::types::Task> {
        self.aws.run_fargate(CLUSTER, definition, count, Some("service:api")).await
    }

    async fn run_bridge(&self, definition: &str) -> aws_sdk_ecs::types::Task {
        let mut tasks = self
            .aws
            .ecs
            .run_task()
            .cluster(CLUSTER)
            .task_definition(definition)
            .launch_type(LaunchType::Ec2)
            .send()
            .await
            .unwrap_or_else(|e| self.aws.moto.fail(format!("run_task: {e:?}")))
            .tasks
            .unwrap();
        assert_eq!(tasks.len(), 1, "moto placed the bridge task");
        tasks.remove(0)
    }

    /// The EventBridge event ECS would send for `task` at `version`: built from what moto's
    /// DescribeTasks returns, with the ENI attachment typed `eni` as in events.
    async fn event(&self, task_arn: &str, version: i64, last_status: &str, bindings: &[(u16, u16)]) -> Value {
        let described =
            self.aws.ecs.describe_tasks().cluster(CLUSTER).tasks(task_arn).send().await.unwrap().tasks.unwrap();
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
        let containers: Vec<Value> = t
            .containers()
            .iter()
            .map(|c| {
                let b: Vec<Value> = bindings
                    .iter()
                    .map(|(cp, hp)| json!({"bindIP": "0.0.0.0", "containerPort": cp, "hostPort": hp, "protocol": "tcp"}))
                    .collect();
                json!({"name": c.name(), "image": c.image(), "lastStatus": last_status, "networkBindings": b, "networkInterfaces": []})
            })
            .collect();
        let desired = if last_status == "STOPPED" { "STOPPED" } else { "RUNNING" };
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
                "group": t.group(),
                "lastStatus": last_status,
                "desiredStatus": desired,
                "version": version,
                "launchType": t.launch_type().map(|l| l.as_str()).filter(|s| !s.is_empty()),
                "availabilityZone": "us-east-1a",
                "containerInstanceArn": t.container_instance_arn(),
                "attachments": attachments,
                "containers": containers,
                "aFieldFromTheFuture": {"nested": true},
            }
        })
    }

    async fn send(&self, event: &Value) -> Result<Outcome, Error> {
        ecs_discovery::handle_value(event, &self.deps).await
    }

    /// The schedule's sample event through the Lambda handler.
    async fn reconcile(&self) -> Outcome {
        let payload = serde_json::from_slice(include_bytes!("../events/ecs-discovery-schedule.json")).unwrap();
        let event = lambda_runtime::LambdaEvent { payload, context: lambda_runtime::Context::default() };
        ecs_discovery::handle(event, &self.deps).await.unwrap_or_else(|e| self.aws.moto.fail(format!("reconcile: {e}")))
    }

    /// Waits until Prometheus' active targets are exactly the addresses of `want`, each with
    /// the labels listed for it (other labels are not compared). `scrapeUrl` is the URL
    /// Prometheus built from `__scheme__`, the address and `__metrics_path__`.
    async fn expect_targets(&self, want: BTreeMap<String, BTreeMap<String, String>>) {
        let mut last = BTreeMap::new();
        let found = tokio::time::timeout(TIMEOUT, async {
            loop {
                let mut got = BTreeMap::new();
                for t in self.prometheus.active_targets().await {
                    let addr = t["labels"]["instance"].as_str().unwrap_or_default().to_string();
                    let picked: BTreeMap<String, String> = want
                        .get(&addr)
                        .map(|w| {
                            w.keys()
                                .filter_map(|k| {
                                    let v = if k == "scrapeUrl" { &t["scrapeUrl"] } else { &t["labels"][k] };
                                    v.as_str().map(|v| (k.clone(), v.to_string()))
                                })
                                .collect()
                        })
                        .unwrap_or_default();
                    got.insert(addr, picked);
                }
                if got == want {
                    return;
                }
                last = got;
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        })
        .await;
        if found.is_err() {
            self.prometheus.fail(format!(
                "timed out waiting for active targets {want:?}; last seen {last:?}\nfile: {}",
                self.file_text()
            ));
        }
    }

    fn file_text(&self) -> String {
        std::fs::read_to_string(self.file()).unwrap_or_else(|e| format!("({e})"))
    }
}

fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

fn task_id(arn: &str) -> &str {
    arn.rsplit('/').next().unwrap()
}

harness::prometheus_matrix! {
#[tokio::test(flavor = "multi_thread")]
async fn running_and_stopped_events_in_any_order_drive_prometheus_targets() {
    let w = World::start().await;
    let api_def = w.register_awsvpc_definition().await;
    let batch_def = w.register_bridge_definition().await;
    let api = w.run_fargate(&api_def, 1).await.remove(0);
    let batch = w.run_bridge(&batch_def).await;
    let api_arn = api.task_arn().unwrap().to_string();
    let batch_arn = batch.task_arn().unwrap().to_string();
    assert_eq!(batch.container_instance_arn(), Some(w.container_instance.arn.as_str()));
    let ip = eni_ip(&api);

    let out = w.send(&w.event(&api_arn, 3, "RUNNING", &[]).await).await.unwrap();
    assert!(matches!(out, Outcome::Applied { task_targets: 2, running: true, .. }), "{out:?}");
    // Bridge: the host port bound to the labelled container port, on the instance's IP.
    let out = w.send(&w.event(&batch_arn, 2, "RUNNING", &[(9404, 32768)]).await).await.unwrap();
    assert!(matches!(out, Outcome::Applied { task_targets: 1, file_targets: 3, .. }), "{out:?}");

    let api_labels = |endpoint: Option<&str>, job: &str, url: String| {
        let mut l = labels(&[
            ("job", job),
            ("scrapeUrl", &url),
            ("cluster", CLUSTER),
            ("service", "api"),
            ("task_name", "api"),
            ("task_revision", "1"),
            ("task_id", task_id(&api_arn)),
            ("container_name", "web"),
            ("launch_type", "FARGATE"),
            ("availability_zone", "us-east-1a"),
        ]);
        if let Some(e) = endpoint {
            l.insert("endpoint".into(), e.into());
        }
        l
    };
    let mut want = BTreeMap::from([
        (format!("{ip}:9100"), api_labels(None, "api", format!("http://{ip}:9100/custom/metrics"))),
        // The second endpoint has no job label of its own: the scrape config's job applies.
        (format!("{ip}:9200"), api_labels(Some("admin"), "ecs", format!("https://{ip}:9200/metrics"))),
        (
            format!("{}:32768", w.container_instance.private_ip),
            labels(&[
                ("job", "jmx"),
                ("scrapeUrl", &format!("http://{}:32768/jmx", w.container_instance.private_ip)),
                ("cluster", CLUSTER),
                ("task_name", "batch"),
                ("task_id", task_id(&batch_arn)),
                ("container_name", "jmx"),
                ("launch_type", "EC2"),
            ]),
        ),
    ]);
    w.expect_targets(want.clone()).await;

    // Duplicate and out-of-order deliveries change nothing.
    let before = w.file_text();
    let dup = w.send(&w.event(&api_arn, 3, "RUNNING", &[]).await).await.unwrap();
    assert!(matches!(&dup, Outcome::Ignored { reason, .. } if reason.contains("duplicate")), "{dup:?}");
    let old = w.send(&w.event(&api_arn, 2, "PENDING", &[]).await).await.unwrap();
    assert!(matches!(&old, Outcome::Ignored { reason, .. } if reason.contains("out of order")), "{old:?}");
    assert_eq!(w.file_text(), before);

    // STOPPED removes the task's targets...
    let out = w.send(&w.event(&api_arn, 5, "STOPPED", &[]).await).await.unwrap();
    assert!(matches!(out, Outcome::Applied { running: false, file_targets: 1, .. }), "{out:?}");
    want.retain(|addr, _| addr.starts_with(&w.container_instance.private_ip));
    w.expect_targets(want.clone()).await;
    // ...and the RUNNING event delivered after it does not bring them back.
    let late = w.send(&w.event(&api_arn, 4, "RUNNING", &[]).await).await.unwrap();
    assert!(matches!(late, Outcome::Ignored { .. }), "{late:?}");
    w.expect_targets(want).await;
    assert!(!w.file_text().contains(&ip), "{}", w.file_text());
}
}

harness::prometheus_matrix! {
#[tokio::test(flavor = "multi_thread")]
async fn reconcile_repairs_missed_events_a_corrupted_file_and_a_damaged_record() {
    let w = World::start().await;
    let def = w.register_awsvpc_definition().await;
    let tasks = w.run_fargate(&def, 2).await;
    let ips: Vec<String> = tasks.iter().map(eni_ip).collect();
    let arns: Vec<String> = tasks.iter().map(|t| t.task_arn().unwrap().to_string()).collect();
    let want_all = |ips: &[String]| -> BTreeMap<String, BTreeMap<String, String>> {
        ips.iter()
            .flat_map(|ip| {
                [
                    (format!("{ip}:9100"), labels(&[("cluster", CLUSTER)])),
                    (format!("{ip}:9200"), labels(&[("cluster", CLUSTER)])),
                ]
            })
            .collect()
    };

    // No event was ever received: the reconcile finds both tasks.
    let out = w.reconcile().await;
    let Outcome::Reconciled { clusters, .. } = &out else { panic!("{out:?}") };
    assert_eq!((clusters[0].running_tasks, clusters[0].targets), (2, 4), "{out:?}");
    w.expect_targets(want_all(&ips)).await;

    // A task stops and its STOPPED event is lost: the file is stale until the next reconcile.
    w.aws.ecs.stop_task().cluster(CLUSTER).task(&arns[0]).send().await.unwrap();
    assert!(w.file_text().contains(&ips[0]));
    w.reconcile().await;
    w.expect_targets(want_all(&ips[1..])).await;

    // The file is damaged (Prometheus keeps its last good targets meanwhile); the reconcile
    // writes it whole again.
    std::fs::write(w.file(), b"[{\"targets\": [\"10.").unwrap();
    let out = w.reconcile().await;
    let Outcome::Reconciled { clusters, .. } = &out else { panic!("{out:?}") };
    assert!(clusters[0].file_written, "{out:?}");
    let parsed: Value = serde_json::from_str(&w.file_text()).expect("the file is JSON again");
    assert_eq!(parsed.as_array().unwrap().len(), 2);
    w.expect_targets(want_all(&ips[1..])).await;

    // The state record is damaged: an event cannot know the other tasks' targets, so it fails,
    // naming the task, and leaves the file alone; the reconcile rebuilds the record.
    let record = w.deps.store.state_path(CLUSTER);
    std::fs::write(&record, b"{\"format\": 1, \"tasks\": ").unwrap();
    let before = w.file_text();
    let err = w.send(&w.event(&arns[1], 9, "STOPPED", &[]).await).await.unwrap_err();
    assert!(matches!(err, Error::DamagedState { .. }), "{err}");
    assert!(err.to_string().contains(&arns[1]), "{err}");
    assert_eq!(w.file_text(), before);
    w.reconcile().await;
    w.deps.store.read_state(CLUSTER).expect("the record is readable again");
    w.expect_targets(want_all(&ips[1..])).await;
}
}

harness::prometheus_matrix! {
#[tokio::test(flavor = "multi_thread")]
async fn a_cluster_that_is_no_longer_covered_loses_its_file_at_the_next_reconcile() {
    let w = World::start().await;
    let def = w.register_awsvpc_definition().await;
    let ip = eni_ip(&w.run_fargate(&def, 1).await[0]);
    // A deployment that covers every cluster (CLUSTERS unset) writes this one's file.
    let sdk = w.aws.moto.sdk_config().await;
    let every = Deps::new(AwsApi::new(&sdk, 2), Config { clusters: Vec::new(), ..w.deps.config.clone() });
    let out = ecs_discovery::reconcile(&every).await.unwrap();
    let Outcome::Reconciled { clusters, retired, .. } = &out else { panic!("{out:?}") };
    assert_eq!((clusters.len(), retired.len()), (1, 0), "{out:?}");
    let both = BTreeMap::from([
        (format!("{ip}:9100"), labels(&[("cluster", CLUSTER)])),
        (format!("{ip}:9200"), labels(&[("cluster", CLUSTER)])),
    ]);
    w.expect_targets(both.clone()).await;

    // CLUSTERS now names another cluster only: this one's file and record go, and Prometheus
    // drops its targets instead of scraping them forever.
    w.aws.ecs.create_cluster().cluster_name("batch").send().await.unwrap();
    let narrowed = Deps::new(AwsApi::new(&sdk, 2), Config { clusters: vec!["batch".into()], ..w.deps.config.clone() });
    let out = ecs_discovery::reconcile(&narrowed).await.unwrap();
    let Outcome::Reconciled { retired, .. } = &out else { panic!("{out:?}") };
    assert_eq!(retired, &[CLUSTER.to_string()], "{out:?}");
    assert!(!w.file().exists());
    assert!(!w.deps.store.state_path(CLUSTER).exists());
    assert!(w.file_sd_dir.join("batch.json").exists(), "the covered cluster's (empty) file is written");
    w.expect_targets(BTreeMap::new()).await;

    // Covered again: the next reconcile brings the targets back.
    let out = ecs_discovery::reconcile(&every).await.unwrap();
    let Outcome::Reconciled { retired, .. } = &out else { panic!("{out:?}") };
    assert!(retired.is_empty(), "{out:?}");
    w.expect_targets(both).await;
}
}

harness::prometheus_matrix! {
#[tokio::test(flavor = "multi_thread")]
async fn malformed_events_and_failed_aws_calls_leave_the_file_untouched_and_name_the_task() {
    let w = World::start().await;
    let def = w.register_awsvpc_definition().await;
    let task = w.run_fargate(&def, 1).await.remove(0);
    let arn = task.task_arn().unwrap().to_string();
    let good = w.event(&arn, 2, "RUNNING", &[]).await;
    w.send(&good).await.unwrap();
    let ip = eni_ip(&task);
    let want = BTreeMap::from([
        (format!("{ip}:9100"), labels(&[("task_id", task_id(&arn))])),
        (format!("{ip}:9200"), labels(&[("task_id", task_id(&arn))])),
    ]);
    w.expect_targets(want.clone()).await;
    let file_before = std::fs::read(w.file()).unwrap();
    let record_before = std::fs::read(w.deps.store.state_path(CLUSTER)).unwrap();

    let mut bad_version = good.clone();
    bad_version["detail"]["version"] = json!("three");
    bad_version["detail"]["lastStatus"] = json!("STOPPED");
    let mut no_cluster = good.clone();
    no_cluster["detail"].as_object_mut().unwrap().remove("clusterArn");
    no_cluster["detail"]["version"] = json!(7);
    let mut bad_port = good.clone();
    bad_port["detail"]["version"] = json!(8);
    bad_port["detail"]["containers"][0]["networkBindings"] = json!([{"containerPort": 9100, "hostPort": 99999}]);
    // A task definition ECS does not know: DescribeTaskDefinition fails.
    let mut unknown_definition = good.clone();
    unknown_definition["detail"]["version"] = json!(9);
    unknown_definition["detail"]["taskDefinitionArn"] =
        json!("arn:aws:ecs:us-east-1:123456789012:task-definition/nope:1");

    for (what, event, kind) in [
        ("version of the wrong type", bad_version, "MalformedEvent"),
        ("no clusterArn", no_cluster, "MalformedEvent"),
        ("port out of range", bad_port, "MalformedEvent"),
        ("unknown task definition", unknown_definition, "AwsCallFailed"),
    ] {
        let err = w.send(&event).await.expect_err(what);
        assert!(err.to_string().contains(&arn), "{what}: {err}");
        let diagnostic = lambda_runtime::Diagnostic::from(err);
        assert_eq!(diagnostic.error_type, kind, "{what}: {}", diagnostic.error_message);
        assert_eq!(std::fs::read(w.file()).unwrap(), file_before, "{what}: file changed");
        assert_eq!(std::fs::read(w.deps.store.state_path(CLUSTER)).unwrap(), record_before, "{what}: record changed");
    }
    w.expect_targets(want).await;
}
}

/// xorshift64*: a seeded shuffle, so a failing order can be replayed (`ECS_TEST_SEED`).
fn shuffle<T>(items: &mut [T], seed: u64) {
    let mut s = seed.max(1);
    for i in (1..items.len()).rev() {
        s ^= s >> 12;
        s ^= s << 25;
        s ^= s >> 27;
        let j = (s.wrapping_mul(0x2545_F491_4F6C_DD1D) % (i as u64 + 1)) as usize;
        items.swap(i, j);
    }
}

harness::prometheus_matrix! {
#[tokio::test(flavor = "multi_thread")]
async fn fifty_concurrent_events_in_random_order_with_duplicates_end_with_the_true_targets() {
    let w = World::start().await;
    let def = w.register_awsvpc_definition().await;
    let tasks = w.run_fargate(&def, 12).await;
    assert_eq!(tasks.len(), 12);

    // Each task's life as ECS reports it: PENDING (v1), RUNNING (v2), and for every third task
    // STOPPED (v3). The true set is the RUNNING tasks' targets.
    let mut events = Vec::new();
    let mut want = BTreeMap::new();
    for (i, t) in tasks.iter().enumerate() {
        let arn = t.task_arn().unwrap();
        events.push(w.event(arn, 1, "PENDING", &[]).await);
        events.push(w.event(arn, 2, "RUNNING", &[]).await);
        if i % 3 == 0 {
            events.push(w.event(arn, 3, "STOPPED", &[]).await);
        } else {
            let ip = eni_ip(t);
            want.insert(format!("{ip}:9100"), labels(&[("task_id", task_id(arn))]));
            want.insert(format!("{ip}:9200"), labels(&[("task_id", task_id(arn))]));
        }
    }
    // Duplicates up to 50 events (every other event delivered twice, as EventBridge may).
    let unique = events.len();
    for i in 0..(50 - unique) {
        events.push(events[(i * 7) % unique].clone());
    }
    assert_eq!(events.len(), 50);
    let seed =
        std::env::var("ECS_TEST_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or_else(|| harness::now_ms() as u64);
    shuffle(&mut events, seed);
    eprintln!("event order seed: {seed} (ECS_TEST_SEED={seed} replays it)");

    let mut handles = Vec::new();
    for event in events {
        let deps = w.deps.clone();
        handles.push(tokio::spawn(async move { ecs_discovery::handle_value(&event, &deps).await }));
    }
    let mut applied = 0;
    for h in handles {
        match h.await.unwrap() {
            Ok(Outcome::Applied { .. }) => applied += 1,
            Ok(_) => {}
            Err(e) => w.aws.moto.fail(format!("seed {seed}: event failed: {e}")),
        }
    }
    // Every distinct (task, version) is applied at most once.
    assert!(applied <= unique, "seed {seed}: {applied} applied of {unique} distinct events");

    let file: Value = serde_json::from_str(&w.file_text()).unwrap();
    let in_file: BTreeSet<String> =
        file.as_array().unwrap().iter().map(|g| g["targets"][0].as_str().unwrap().to_string()).collect();
    assert_eq!(in_file, want.keys().cloned().collect::<BTreeSet<_>>(), "seed {seed}");
    w.expect_targets(want).await;
}
}

/// Counts the AWS requests the function makes (each trait method is one request).
struct Counting {
    inner: AwsApi,
    calls: std::sync::Mutex<BTreeMap<&'static str, usize>>,
}

impl Counting {
    fn count(&self, operation: &'static str) {
        *self.calls.lock().unwrap().entry(operation).or_default() += 1;
    }
    fn take(&self) -> BTreeMap<&'static str, usize> {
        std::mem::take(&mut *self.calls.lock().unwrap())
    }
}

impl ecs_discovery::aws::EcsApi for Counting {
    async fn list_clusters(
        &self,
        next_token: Option<String>,
    ) -> Result<ecs_discovery::aws::Page, ecs_discovery::aws::ApiError> {
        self.count("ListClusters");
        self.inner.list_clusters(next_token).await
    }
    async fn list_running_tasks(
        &self,
        cluster: &str,
        next_token: Option<String>,
    ) -> Result<ecs_discovery::aws::Page, ecs_discovery::aws::ApiError> {
        self.count("ListTasks");
        self.inner.list_running_tasks(cluster, next_token).await
    }
    async fn describe_tasks(
        &self,
        cluster: &str,
        task_arns: &[String],
    ) -> Result<Vec<ecs_discovery::task::TaskSnapshot>, ecs_discovery::aws::ApiError> {
        assert!(task_arns.len() <= 100, "DescribeTasks takes at most 100 tasks");
        self.count("DescribeTasks");
        self.inner.describe_tasks(cluster, task_arns).await
    }
    async fn describe_task_definition(
        &self,
        arn: &str,
    ) -> Result<ecs_discovery::task::TaskDefinition, ecs_discovery::aws::ApiError> {
        self.count("DescribeTaskDefinition");
        self.inner.describe_task_definition(arn).await
    }
    async fn describe_container_instances(
        &self,
        cluster: &str,
        arns: &[String],
    ) -> Result<Vec<(String, String)>, ecs_discovery::aws::ApiError> {
        self.count("DescribeContainerInstances");
        self.inner.describe_container_instances(cluster, arns).await
    }
}

impl ecs_discovery::aws::Ec2Api for Counting {
    async fn instance_private_ips(
        &self,
        instance_ids: &[String],
    ) -> Result<std::collections::HashMap<String, String>, ecs_discovery::aws::ApiError> {
        self.count("DescribeInstances");
        self.inner.instance_private_ips(instance_ids).await
    }
}

harness::prometheus_matrix! {
/// Scale: a reconcile of 1,000 running tasks makes the fewest AWS requests possible and
/// Prometheus ends with all 2,000 targets.
#[tokio::test(flavor = "multi_thread")]
async fn reconcile_of_1000_tasks_makes_the_minimum_of_aws_calls() {
    let w = World::start().await;
    let def = w.register_awsvpc_definition().await;
    let mut tasks = Vec::new();
    for _ in 0..10 {
        tasks.extend(w.run_fargate(&def, 100).await);
    }
    assert_eq!(tasks.len(), 1000);
    let sdk = w.aws.moto.sdk_config().await;
    let counting = Counting { inner: AwsApi::new(&sdk, 2), calls: Default::default() };
    let deps = Deps::new(counting, w.deps.config.clone());

    let started = std::time::Instant::now();
    let out = ecs_discovery::reconcile(&deps).await.unwrap();
    let elapsed = started.elapsed();
    let Outcome::Reconciled { clusters, .. } = &out else { panic!("{out:?}") };
    assert_eq!((clusters[0].running_tasks, clusters[0].targets), (1000, 2000));
    // The minimum: ListTasks pages (moto answers all 1,000 ARNs in one page; AWS in 10 of
    // 100), DescribeTasks in batches of 100, the one task definition once, no instance lookups
    // for awsvpc.
    let calls = deps.api.take();
    eprintln!("reconcile of 1000 tasks: {calls:?} in {elapsed:?}");
    assert_eq!(calls, BTreeMap::from([("ListTasks", 1), ("DescribeTasks", 10), ("DescribeTaskDefinition", 1)]));
    // A second run: the definition is cached.
    ecs_discovery::reconcile(&deps).await.unwrap();
    assert_eq!(deps.api.take(), BTreeMap::from([("ListTasks", 1), ("DescribeTasks", 10)]));

    let seen = w
        .prometheus
        .eventually(TIMEOUT, "2000 active targets", || async {
            let n = w.prometheus.active_targets().await.len();
            (n == 2000).then_some(n)
        })
        .await;
    assert_eq!(seen, 2000);
}
}
