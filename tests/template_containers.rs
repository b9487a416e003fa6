//! template.yaml's Prometheus container, run: its exact `Command` (evaluated from the template by
//! `harness::template`, parameters at their defaults) starts the Prometheus 3.5 binary, with each
//! of the container's mount points moved to a directory and only `--web.listen-address` added (a
//! free loopback port instead of the container's 9090). The config volume is written by the real
//! functions, as on EFS: config-updater deploys `examples/config-repo` and ecs-discovery writes
//! the targets of a task it finds in moto's ECS. The test then checks what the stack relies on:
//! the flags parse, rules and file_sd targets load, remote write and `/-/reload` work, nothing is
//! written to the config volume (mounted read-only), and `replica: ${HOSTNAME}` in external labels
//! (docs/deploy.md, "The config repository") expands.
//!
//! The other containers that run a binary of the Prometheus ecosystem are Thanos (sidecar, store,
//! query): Thanos is not installed here (`make setup` installs only Prometheus), so they are not
//! run; their flags that must agree with the Prometheus container are checked instead.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use config_updater::check::check_dir;
use config_updater::deploy::{self, Applied};
use config_updater::layout::{Layout, Release};
use config_updater::settings::Limits;
use config_updater::validate::{describe, Target};
use ecs_discovery::aws::AwsApi;
use ecs_discovery::{Config, Deps, Outcome};
use harness::ecs::EcsWorld;
use harness::template::{Container, Template};
use harness::{free_port, now_ms, Moto, ServerProcess};
use promstack::remote_write::{self, Series};
use promstack::settings::Env;
use serde_json::Value;

/// Where `make setup` unpacks Prometheus 3.5 (Debian's package), under `$HOME`.
const PROMETHEUS_3_5: &str = ".cache/promstack/prometheus-3.5.3/usr/bin/prometheus";
/// The version of that binary, for config-updater's validation.
const PROMETHEUS_3_5_VERSION: &str = "3.5.3";
/// What ECS would set as the task's host name; `${HOSTNAME}` in external labels becomes this.
const TASK_HOSTNAME: &str = "ip-10-0-1-23.ec2.internal";
const CLUSTER: &str = "prod";
const TIMEOUT: Duration = Duration::from_secs(30);

fn prometheus_3_5() -> PathBuf {
    let home = std::env::var_os("HOME").expect("HOME is set");
    let path = Path::new(&home).join(PROMETHEUS_3_5);
    assert!(path.is_file(), "{} is missing: run make setup", path.display());
    path
}

fn repo_path(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)
}

/// The `$(VAR)`s config-updater renders: the example repo's and those of docs/deploy.md's example.
fn template_vars() -> BTreeMap<String, String> {
    [("CLUSTER", "itest"), ("ACCOUNT_ALIAS", "acme-prod"), ("PRODUCT", "shop")]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// The deployed Prometheus config-updater validates for: this binary with the container's flags.
fn target(container: &Container) -> Target {
    Target::parse(PROMETHEUS_3_5_VERSION, container.flag("enable-feature").unwrap_or("")).unwrap()
}

/// config-updater's checks on a config repository checked out at `dir`.
fn release(dir: &Path, target: &Target) -> Release {
    check_dir(dir, &Layout::default(), Limits::default(), &template_vars(), target)
        .unwrap_or_else(|p| panic!("{}: {}", dir.display(), describe(&p)))
}

/// The first release, deployed before Prometheus starts (the template's ConfigSync runs before
/// the Prometheus service): no replica to reload yet.
async fn deploy_first(efs: &Path, container: &Container) {
    let release = release(&repo_path("examples/config-repo"), &target(container));
    deploy::prepare(efs).unwrap();
    let applied = deploy::apply(efs, "c1", "main", &release, &[]).await.unwrap();
    assert!(matches!(applied, Applied::Deployed { previous: None, .. }), "{applied:?}");
}

/// The template's container running locally.
struct LocalContainer {
    container: Container,
    process: ServerProcess,
    port: u16,
    http: reqwest::Client,
    _task_storage: Vec<tempfile::TempDir>,
    _log_dir: tempfile::TempDir,
}

impl LocalContainer {
    /// Starts `container` with the Prometheus 3.5 binary: its EFS volume is `efs`, each other
    /// volume (task storage) a fresh directory; the environment is the container's own plus the
    /// `HOSTNAME` ECS sets. Waits until Prometheus is ready.
    fn start(container: Container, efs: &Path) -> Self {
        assert_eq!(container.program().as_deref(), Some("/bin/prometheus"), "{} runs Prometheus", container.id());
        let mut task_storage = Vec::new();
        let mut volumes = BTreeMap::new();
        for mount in &container.mount_points {
            let dir = if mount.efs {
                efs.to_path_buf()
            } else {
                let dir = tempfile::tempdir().unwrap();
                let path = dir.path().to_path_buf();
                task_storage.push(dir);
                path
            };
            volumes.insert(mount.container_path.clone(), dir);
        }
        assert!(container.flag("web.listen-address").is_none(), "the test sets the listen address itself");
        let args = container.local_args(&volumes).unwrap_or_else(|e| panic!("{e}"));
        let port = free_port();
        let mut command = Command::new(prometheus_3_5());
        command.args(&args).arg(format!("--web.listen-address=127.0.0.1:{port}"));
        command.env_clear().envs(&container.environment).env("HOSTNAME", TASK_HOSTNAME);
        // The image's WORKDIR, where relative paths would land.
        if let Some(workdir) = container.image_defaults().and_then(|d| container.host_path(d.workdir, &volumes).ok()) {
            command.current_dir(workdir);
        }
        let log_dir = tempfile::tempdir().unwrap();
        let mut process = ServerProcess::spawn(&container.id(), command, &log_dir.path().join("log"), "make setup");
        process.wait_http_ok(port, "/-/ready", Duration::from_secs(60));
        LocalContainer {
            container,
            process,
            port,
            http: reqwest::Client::new(),
            _task_storage: task_storage,
            _log_dir: log_dir,
        }
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn fail(&self, message: impl std::fmt::Display) -> ! {
        self.process.fail(format!("{}: {message}\nargs: {:?}", self.container.id(), self.container.command))
    }

    /// `GET path`: status and body.
    async fn get(&self, path_and_query: &str) -> (u16, String) {
        let url = format!("{}{path_and_query}", self.url());
        let response = self.http.get(&url).send().await.unwrap_or_else(|e| self.fail(format!("GET {url}: {e}")));
        let status = response.status().as_u16();
        (status, response.text().await.unwrap_or_else(|e| self.fail(format!("GET {url}: {e}"))))
    }

    /// The whole JSON answer of an API call.
    async fn answer(&self, path_and_query: &str) -> Value {
        let (_, body) = self.get(path_and_query).await;
        serde_json::from_str(&body).unwrap_or_else(|e| self.fail(format!("GET {path_and_query}: {e}: {body}")))
    }

    /// `data` of a successful API answer.
    async fn api(&self, path_and_query: &str) -> Value {
        let v = self.answer(path_and_query).await;
        if v["status"] != "success" {
            self.fail(format!("GET {path_and_query} answered {v}"));
        }
        v["data"].clone()
    }

    async fn query(&self, promql: &str) -> Value {
        self.answer(&format!("/api/v1/query?query={}", harness::prometheus::urlencode(promql))).await
    }

    /// A gauge of Prometheus' own `/metrics`.
    async fn own_metric(&self, name: &str) -> f64 {
        let (_, body) = self.get("/metrics").await;
        let line = body.lines().find(|l| l.split([' ', '{']).next() == Some(name));
        let value = line.and_then(|l| l.rsplit(' ').next()).and_then(|v| v.parse().ok());
        value.unwrap_or_else(|| self.fail(format!("no {name} in /metrics")))
    }

    /// The loaded config's external labels (`/api/v1/status/config`).
    async fn external_labels(&self) -> BTreeMap<String, String> {
        let yaml = self.api("/api/v1/status/config").await["yaml"].as_str().unwrap_or_default().to_string();
        let config: serde_norway::Value = serde_norway::from_str(&yaml).unwrap();
        config["global"]["external_labels"]
            .as_mapping()
            .into_iter()
            .flatten()
            .map(|(k, v)| (k.as_str().unwrap().to_string(), v.as_str().unwrap_or_default().to_string()))
            .collect()
    }

    /// `group/rule` for every rule loaded.
    async fn loaded_rules(&self) -> BTreeSet<String> {
        let data = self.api("/api/v1/rules").await;
        let mut out = BTreeSet::new();
        for group in data["groups"].as_array().into_iter().flatten() {
            for rule in group["rules"].as_array().into_iter().flatten() {
                out.insert(format!("{}/{}", group["name"].as_str().unwrap(), rule["name"].as_str().unwrap()));
            }
        }
        out
    }

    /// Waits until every target of the file_sd file `file` is an active target with the file's
    /// labels (`__scheme__` and `__metrics_path__` as its scrape URL).
    async fn expect_file_sd_targets(&self, file: &Path) {
        let text = std::fs::read_to_string(file).unwrap_or_else(|e| self.fail(format!("{}: {e}", file.display())));
        let groups: Value = if file.extension().is_some_and(|e| e == "json") {
            serde_json::from_str(&text).unwrap()
        } else {
            serde_norway::from_str(&text).unwrap()
        };
        let mut want = Vec::new();
        for group in groups.as_array().unwrap_or_else(|| self.fail(format!("{}: not a list", file.display()))) {
            let labels: BTreeMap<String, String> = group["labels"]
                .as_object()
                .into_iter()
                .flatten()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_string()))
                .collect();
            for address in group["targets"].as_array().unwrap() {
                want.push((address.as_str().unwrap().to_string(), labels.clone()));
            }
        }
        assert!(!want.is_empty(), "{} lists no target: {text}", file.display());
        let deadline = tokio::time::Instant::now() + TIMEOUT;
        loop {
            let active = self.api("/api/v1/targets?state=active").await["activeTargets"].clone();
            let missing: Vec<&(String, BTreeMap<String, String>)> = want
                .iter()
                .filter(|(address, labels)| {
                    !active.as_array().into_iter().flatten().any(|t| target_matches(t, address, labels))
                })
                .collect();
            if missing.is_empty() {
                return;
            }
            if tokio::time::Instant::now() > deadline {
                self.fail(format!("targets of {} not active: {missing:?}\nactive: {active:#}", file.display()));
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
}

/// Whether the active target `t` is `address` with `labels` from a file_sd file.
fn target_matches(t: &Value, address: &str, labels: &BTreeMap<String, String>) -> bool {
    if t["discoveredLabels"]["__address__"] != address {
        return false;
    }
    let scheme = labels.get("__scheme__").map_or("http", String::as_str);
    let path = labels.get("__metrics_path__").map_or("/metrics", String::as_str);
    t["scrapeUrl"] == format!("{scheme}://{address}{path}")
        && labels.iter().filter(|(k, _)| !k.starts_with("__")).all(|(k, v)| t["labels"][k] == v.as_str())
}

/// ECS in moto with one running Fargate task whose container carries the scrape labels, and
/// ecs-discovery (configured as the template configures it: the volume root in
/// `PROMETHEUS_CONFIG_DIR`) reconciling the cluster into `efs`. Returns moto (to keep it running)
/// and the file ecs-discovery wrote.
async fn discover_one_task(efs: &Path) -> (Moto, PathBuf) {
    let aws = EcsWorld::start(Moto::start(), &[CLUSTER]).await;
    let labels = [("PROMETHEUS_EXPORTER_PORT", "9100"), ("PROMETHEUS_EXPORTER_JOB_NAME", "api")];
    let definition = aws.register_fargate("api", &labels).await;
    aws.run_fargate(CLUSTER, &definition, 1, None).await;

    let efs_dir = efs.to_str().unwrap();
    let config = Config::read(&Env::from_pairs([("PROMETHEUS_CONFIG_DIR", efs_dir), ("CLUSTERS", CLUSTER)])).unwrap();
    let deps = Arc::new(Deps::new(AwsApi::new(&aws.sdk, 2), config));
    let outcome = ecs_discovery::reconcile(&deps).await.unwrap_or_else(|e| aws.moto.fail(format!("reconcile: {e}")));
    let Outcome::Reconciled { clusters, .. } = &outcome else { panic!("{outcome:?}") };
    assert_eq!((clusters[0].running_tasks, clusters[0].targets), (1, 1), "{outcome:?}");
    let file = deps.store.file_path(CLUSTER);
    (aws.moto, file)
}

/// docs/deploy.md's example `prometheus.yml` (section "The config repository"), with
/// `replica: ${HOSTNAME}`.
fn deploy_md_example_config() -> String {
    let deploy_md = std::fs::read_to_string(repo_path("docs/deploy.md")).unwrap();
    let section = deploy_md.split("### The config repository").nth(1);
    let section = section.expect("docs/deploy.md has \"The config repository\"");
    let block = section.split("```yaml\n").nth(1).expect("that section has a yaml block");
    block.split("```").next().unwrap().to_string()
}

/// Every file under `dir` with its size and modification time.
fn tree(dir: &Path) -> BTreeMap<PathBuf, (u64, std::time::SystemTime)> {
    let mut out = BTreeMap::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let meta = entry.metadata().unwrap();
        if meta.is_dir() {
            out.extend(tree(&entry.path()));
        } else {
            out.insert(entry.path(), (meta.len(), meta.modified().unwrap()));
        }
    }
    out
}

/// A copy of `from` (a config repository) in `to`.
fn copy_tree(from: &Path, to: &Path) {
    for entry in std::fs::read_dir(from).unwrap().flatten() {
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            std::fs::create_dir_all(&target).unwrap();
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// The groups and rules of the example repo's rule files, as `group/rule`.
fn example_rules() -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for entry in std::fs::read_dir(repo_path("examples/config-repo/rules")).unwrap().flatten() {
        let file: serde_norway::Value =
            serde_norway::from_str(&std::fs::read_to_string(entry.path()).unwrap()).unwrap();
        for group in file["groups"].as_sequence().unwrap() {
            for rule in group["rules"].as_sequence().unwrap() {
                let name = rule.get("record").or_else(|| rule.get("alert")).and_then(|n| n.as_str()).unwrap();
                out.insert(format!("{}/{name}", group["name"].as_str().unwrap()));
            }
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread")]
async fn the_template_prometheus_command_runs_on_prometheus_3_5_with_what_the_functions_write() {
    let container = Template::repo().deploy(&[]).unwrap().container("PrometheusTaskDefinition", "prometheus").unwrap();
    let efs = tempfile::tempdir().unwrap();
    deploy_first(efs.path(), &container).await;
    let (_moto, ecs_file) = discover_one_task(efs.path()).await;

    // The flags parse: the process started and is ready. The template's health check answers.
    let config_mount = container.mount_points.iter().find(|m| m.efs).expect("the config volume is mounted");
    assert!(config_mount.read_only, "{}: the config volume is mounted read-only", container.id());
    let volume_before = tree(efs.path());
    let prom = LocalContainer::start(container.clone(), efs.path());
    let health = container.health_check.clone().expect("the container has a health check");
    let url = health.iter().find(|a| a.starts_with("http://")).expect("the health check fetches a URL");
    let (authority, path) = url["http://".len()..].split_once('/').unwrap();
    let port: u16 = authority.rsplit(':').next().unwrap().parse().unwrap();
    assert!(container.container_ports.contains(&port), "{url}: port {port} is the container's");
    assert_eq!(prom.get(&format!("/{path}")).await.0, 200, "GET {url}");

    // Rules: every group and rule of the example repo.
    assert_eq!(prom.loaded_rules().await, example_rules());
    // Targets: what ecs-discovery wrote, and the repo's own file_sd file (deployed to file_sd/static/).
    let written: Value = serde_json::from_str(&std::fs::read_to_string(&ecs_file).unwrap()).unwrap();
    assert_eq!(written[0]["labels"]["cluster"], CLUSTER, "{written}");
    assert_eq!(written[0]["labels"]["container_name"], "web", "{written}");
    prom.expect_file_sd_targets(&ecs_file).await;
    prom.expect_file_sd_targets(&efs.path().join("file_sd/static/hosts.json")).await;
    let want = [("account_alias", "acme-prod"), ("product", "shop"), ("cluster", "itest"), ("replica", TASK_HOSTNAME)];
    assert_eq!(prom.external_labels().await, want.into_iter().map(|(k, v)| (k.to_string(), v.to_string())).collect());

    // Remote write: the receiver the template enables takes what the exporter's client sends.
    let t = now_ms();
    let mut series = Series::new("promstack_template_check", [("source", "remote_write")]).unwrap();
    series.push(t, 42.0);
    let client = remote_write::Client::new(remote_write::Config::new(format!("{}/api/v1/write", prom.url()))).unwrap();
    let report = client.push(&[series]).await.unwrap_or_else(|e| prom.fail(format!("remote write: {e}")));
    assert_eq!(report.samples_sent, 1, "{report:?}");
    let answer = prom.query("promstack_template_check").await;
    assert_eq!(answer["data"]["result"][0]["value"][1], "42", "{answer}");
    // Only Prometheus ran since: it wrote nothing to the volume the task mounts read-only.
    let volume_after = tree(efs.path());
    let changed: Vec<&PathBuf> = volume_before
        .keys()
        .chain(volume_after.keys())
        .filter(|p| volume_before.get(*p) != volume_after.get(*p))
        .collect();
    assert!(changed.is_empty(), "Prometheus wrote to its read-only config volume: {changed:?}");

    // Reload: config-updater deploys a changed release (docs/deploy.md's example prometheus.yml) and
    // calls /-/reload (the template's --web.enable-lifecycle); Prometheus takes it.
    let repo = tempfile::tempdir().unwrap();
    copy_tree(&repo_path("examples/config-repo"), repo.path());
    std::fs::write(repo.path().join("prometheus.yml"), deploy_md_example_config()).unwrap();
    let second = release(repo.path(), &target(&container));
    let loaded_before = prom.own_metric("prometheus_config_last_reload_success_timestamp_seconds").await;
    // The timestamp is in whole seconds: the reload must land in a later one.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let applied = deploy::apply(efs.path(), "c2", "main", &second, &[prom.url()]).await;
    let applied = applied.unwrap_or_else(|e| prom.fail(format!("deploy: {e}")));
    let Applied::Deployed { previous, replicas, .. } = &applied else { prom.fail(format!("{applied:?}")) };
    assert_eq!((previous.as_deref(), replicas.len()), (Some("c1"), 1), "{applied:?}");
    assert_eq!(prom.own_metric("prometheus_config_last_reload_successful").await, 1.0);
    assert!(prom.own_metric("prometheus_config_last_reload_success_timestamp_seconds").await > loaded_before);

    // `replica: ${HOSTNAME}` became the task's host name, and a series leaves with it.
    let labels = prom.external_labels().await;
    let want = [("account_alias", "acme-prod"), ("product", "shop"), ("cluster", "itest"), ("replica", TASK_HOSTNAME)];
    assert_eq!(labels, want.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(), "docs/deploy.md's example");
    let (status, federated) = prom.get("/federate?match%5B%5D=promstack_template_check").await;
    let line = federated.lines().find(|l| l.starts_with("promstack_template_check{"));
    let line = line.unwrap_or_else(|| prom.fail(format!("/federate ({status}) has no pushed series: {federated}")));
    assert!(line.contains(&format!("replica=\"{TASK_HOSTNAME}\"")), "{line}");
    assert_eq!(prom.loaded_rules().await, example_rules(), "docs/deploy.md's example keeps rules.d/*.yml");
    prom.expect_file_sd_targets(&ecs_file).await;
}

/// The part of template.yaml that passes `PrometheusFeatures` to Prometheus (issue #12): the
/// parameter, its condition and the `!If` item of the container's `Command`, on their own.
const FEATURES_TEMPLATE: &str = r#"
Parameters:
  PrometheusVersion: {Type: String, Default: v3.16.0}
  PrometheusFeatures: {Type: String, Default: ''}
Conditions:
  HasPrometheusFeatures: !Not [!Equals [!Ref PrometheusFeatures, '']]
Resources:
  ConfigFileSystem: {Type: AWS::EFS::FileSystem}
  PrometheusTaskDefinition:
    Type: AWS::ECS::TaskDefinition
    Properties:
      Volumes:
        - Name: config
          EFSVolumeConfiguration: {FilesystemId: !Ref ConfigFileSystem, TransitEncryption: ENABLED}
        - Name: tsdb
      ContainerDefinitions:
        - Name: prometheus
          Image: !Sub quay.io/prometheus/prometheus:${PrometheusVersion}
          Command:
            - --config.file=/etc/prometheus/prometheus.yml
            - --storage.tsdb.path=/prometheus
            - !If [HasPrometheusFeatures, !Sub '--enable-feature=${PrometheusFeatures}', !Ref AWS::NoValue]
          MountPoints:
            - {SourceVolume: config, ContainerPath: /etc/prometheus, ReadOnly: true}
            - {SourceVolume: tsdb, ContainerPath: /prometheus}
"#;

/// An experimental PromQL function: Prometheus 3 refuses it without the feature flag.
const EXPERIMENTAL_FUNCTION: &str = "sort_by_label";
const EXPERIMENTAL_FEATURE: &str = "promql-experimental-functions";

/// `PrometheusFeatures` left empty gives no `--enable-feature`, and Prometheus 3.5 refuses an
/// experimental function; set, the flag parses and the function works.
async fn feature_flag_reaches_prometheus(template: &Template) {
    for (features, enabled) in [("", false), (EXPERIMENTAL_FEATURE, true)] {
        let deployment = template.deploy(&[("PrometheusFeatures", features)]).unwrap();
        let container = deployment.container("PrometheusTaskDefinition", "prometheus").unwrap();
        let flags: Vec<&String> = container.command.iter().filter(|a| a.starts_with("--enable-feature")).collect();
        let want = format!("--enable-feature={EXPERIMENTAL_FEATURE}");
        assert_eq!(flags, if enabled { vec![&want] } else { vec![] }, "PrometheusFeatures={features:?}");

        let efs = tempfile::tempdir().unwrap();
        deploy_first(efs.path(), &container).await;
        let prom = LocalContainer::start(container, efs.path());
        let answer = prom.query(&format!("{EXPERIMENTAL_FUNCTION}(vector(1), \"job\")")).await;
        if enabled {
            assert_eq!(answer["status"], "success", "{answer}");
        } else {
            assert_eq!(answer["status"], "error", "{answer}");
            let refusal = format!("function \"{EXPERIMENTAL_FUNCTION}\" is not enabled");
            assert!(answer["error"].as_str().unwrap_or_default().contains(&refusal), "{answer}");
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_prometheus_features_item_passes_the_flag_to_prometheus_3_5() {
    feature_flag_reaches_prometheus(&Template::parse(FEATURES_TEMPLATE).unwrap()).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_template_prometheus_features_parameter_passes_the_flag_to_prometheus_3_5() {
    feature_flag_reaches_prometheus(&Template::repo()).await;
}

/// Every container of the template, by the program it runs: only the Prometheus container runs
/// a binary this machine has (the test above runs it). Thanos is not installed (`make setup`
/// installs only Prometheus), so its containers are not run; the flags that tie the sidecar to
/// Prometheus are checked against the Prometheus container.
#[test]
fn every_container_is_run_here_or_tied_to_the_prometheus_container() {
    let containers = Template::repo().deploy(&[]).unwrap().containers().unwrap();
    let by_program = |program: &str| -> Vec<String> {
        containers.iter().filter(|c| c.program().as_deref() == Some(program)).map(Container::id).collect()
    };
    assert_eq!(by_program("/bin/prometheus"), ["PrometheusTaskDefinition/prometheus"]);
    let others: Vec<(String, Option<String>)> = containers
        .iter()
        .filter(|c| !matches!(c.program().as_deref(), Some("/bin/prometheus" | "/bin/thanos" | "/bin/sh")))
        .map(|c| (c.id(), c.program()))
        .collect();
    assert!(others.is_empty(), "containers running something this test does not account for: {others:?}");
    assert_eq!(
        by_program("/bin/thanos"),
        [
            "PrometheusTaskDefinition/thanos-sidecar",
            "ThanosStoreTaskDefinition/thanos-store",
            "CompactorTaskDefinition/thanos-compact",
            "ThanosQueryTaskDefinition/thanos-query"
        ]
    );
    // The sidecar uploads to the bucket and prefix the store reads and the compactor compacts.
    let objstore = |name: &str| containers.iter().find(|c| c.name == name).and_then(|c| c.flag("objstore.config"));
    assert!(objstore("thanos-sidecar").is_some());
    assert_eq!(objstore("thanos-store"), objstore("thanos-sidecar"));
    assert_eq!(objstore("thanos-compact"), objstore("thanos-sidecar"));

    let prometheus = containers.iter().find(|c| c.name == "prometheus").unwrap();
    let sidecar = containers.iter().find(|c| c.name == "thanos-sidecar").unwrap();
    assert_eq!(sidecar.command.first().map(String::as_str), Some("sidecar"));
    // The sidecar uploads the blocks Prometheus writes: the same path, on the same task volume.
    let tsdb = prometheus.flag("storage.tsdb.path").expect("--storage.tsdb.path");
    assert_eq!(sidecar.flag("tsdb.path"), Some(tsdb));
    let volume_of = |c: &Container| c.mount_points.iter().find(|m| m.container_path == tsdb).map(|m| m.volume.clone());
    assert!(volume_of(prometheus).is_some() && volume_of(prometheus) == volume_of(sidecar), "{tsdb} is shared");
    // It reaches Prometheus on the port Prometheus listens on (its default, 9090: the command
    // sets no --web.listen-address) and the container exposes.
    assert!(prometheus.flag("web.listen-address").is_none());
    assert_eq!(sidecar.flag("prometheus.url"), Some("http://localhost:9090"));
    assert_eq!(prometheus.container_ports, [9090]);
}

// ------------------------------------------------------------------ the evaluator ---------------

#[test]
fn the_evaluator_follows_conditions_parameters_and_no_value() {
    let template = Template::parse(FEATURES_TEMPLATE).unwrap();
    let deployment = template.deploy(&[]).unwrap();
    assert!(!deployment.condition("HasPrometheusFeatures").unwrap());
    let container = deployment.container("PrometheusTaskDefinition", "prometheus").unwrap();
    assert_eq!(container.image, "quay.io/prometheus/prometheus:v3.16.0");
    assert_eq!(container.command, ["--config.file=/etc/prometheus/prometheus.yml", "--storage.tsdb.path=/prometheus"]);
    let efs: Vec<(&str, bool, bool)> =
        container.mount_points.iter().map(|m| (m.container_path.as_str(), m.efs, m.read_only)).collect();
    assert_eq!(efs, [("/etc/prometheus", true, true), ("/prometheus", false, false)]);

    let deployment = template.deploy(&[("PrometheusFeatures", "a,b"), ("PrometheusVersion", "v3.5.0")]).unwrap();
    assert!(deployment.condition("HasPrometheusFeatures").unwrap());
    let container = deployment.container("PrometheusTaskDefinition", "prometheus").unwrap();
    assert_eq!(container.command.last().unwrap(), "--enable-feature=a,b");
    assert_eq!(container.image, "quay.io/prometheus/prometheus:v3.5.0");

    let err = template.deploy(&[("PrometheusFeature", "a")]).err().unwrap();
    assert_eq!(err, "PrometheusFeature is not a parameter of the template");
}

#[test]
fn container_paths_move_to_their_volumes_and_resources_are_refused() {
    let yaml = FEATURES_TEMPLATE.replace(
        "            - --storage.tsdb.path=/prometheus\n",
        "            - --storage.tsdb.path=/prometheus\n            - /etc/prometheus/rules\n            - --query.max-samples=5\n",
    );
    let template = Template::parse(&yaml).unwrap();
    let container = template.deploy(&[]).unwrap().container("PrometheusTaskDefinition", "prometheus").unwrap();
    let volumes = BTreeMap::from([
        ("/etc/prometheus".to_string(), PathBuf::from("/tmp/efs")),
        ("/prometheus".to_string(), PathBuf::from("/tmp/tsdb")),
    ]);
    assert_eq!(
        container.local_args(&volumes).unwrap(),
        [
            "--config.file=/tmp/efs/prometheus.yml",
            "--storage.tsdb.path=/tmp/tsdb",
            "/tmp/efs/rules",
            "--query.max-samples=5"
        ]
    );
    assert_eq!(
        container.host_path("/usr/share/prometheus", &volumes).unwrap_err(),
        "PrometheusTaskDefinition/prometheus: /usr/share/prometheus is on none of the container's volumes"
    );
    // `/prometheusx` is not under the mount `/prometheus`.
    assert!(container.host_path("/prometheusx/wal", &volumes).is_err());

    let yaml =
        FEATURES_TEMPLATE.replace("--storage.tsdb.path=/prometheus", "!Sub '--web.external-url=${ConfigFileSystem}'");
    let template = Template::parse(&yaml).unwrap();
    let container = template.deploy(&[]).unwrap().container("PrometheusTaskDefinition", "prometheus").unwrap();
    assert_eq!(container.command[1], "--web.external-url=<resource:ConfigFileSystem>");
    let err = container.local_args(&volumes).unwrap_err();
    assert!(err.contains("refers to a resource that exists only once deployed"), "{err}");
}

/// config-updater validates for the template's default Prometheus when `PROMETHEUS_VERSION` is
/// not set (`config-updater check` on a laptop): the two defaults are one.
#[test]
fn config_updater_defaults_to_the_prometheus_version_the_template_deploys() {
    let template = Template::repo();
    let deployment = template.deploy(&[]).unwrap();
    let reference: serde_norway::Value = serde_norway::from_str("!Ref PrometheusVersion").unwrap();
    let deployed = deployment.eval(&reference).unwrap().and_then(|v| v.as_str().map(str::to_string));
    assert_eq!(deployed.as_deref(), Some(config_updater::validate::target::DEFAULT_VERSION));
}
