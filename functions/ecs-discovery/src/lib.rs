//! ecs-discovery: keeps Prometheus file_sd targets on EFS in step with ECS.
//!
//! Two triggers: an EventBridge "ECS Task State Change" updates one task's targets; a schedule
//! reconciles whole clusters from ListTasks/DescribeTasks, repairing missed events, drift and
//! damaged files. Both end in [`file_sd::FileSdStore::update`], a read-modify-write of the
//! cluster's state record and `<cluster>.json` under the cluster's lock.

pub mod apply;
pub mod aws;
pub mod config;
pub mod error;
pub mod event;
pub mod file_sd;
pub mod resolve;
pub mod targets;
pub mod task;

use std::sync::OnceLock;

use lambda_runtime::LambdaEvent;
use serde::Serialize;
use serde_json::Value;

use crate::apply::{apply_event, apply_reconcile, Unchanged};
use crate::aws::{Ec2Api, EcsApi, DESCRIBE_BATCH};
pub use crate::config::Config;
pub use crate::error::Error;
use crate::event::Invocation;
use crate::file_sd::{file_stem, now_secs, FileSdStore, ReadStateError};
use crate::resolve::Cache;
use crate::task::TaskSnapshot;

/// ECS' limit on a cluster name's length.
pub const MAX_CLUSTER_NAME: usize = 255;

/// Everything a handler needs, built once per Lambda container.
#[derive(Debug)]
pub struct Deps<A> {
    pub api: A,
    pub config: Config,
    pub store: FileSdStore,
    pub cache: Cache,
    /// The function's own account, from the Lambda context's function ARN on the first
    /// invocation (unknown outside Lambda): the only one it discovers.
    pub account: OnceLock<String>,
}

impl<A: EcsApi + Ec2Api> Deps<A> {
    pub fn new(api: A, config: Config) -> Self {
        let store = FileSdStore::new(config.file_sd_dir.clone(), config.lock_timeout);
        Self { api, config, store, cache: Cache::default(), account: OnceLock::new() }
    }
}

/// What an invocation did (the Lambda's response, and the demo's output).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum Outcome {
    /// The event was newer than the record: the task's targets were updated.
    Applied { task_arn: String, cluster: String, version: i64, running: bool, task_targets: usize, file_targets: usize },
    /// The event was old, repeated, or for a cluster this deployment does not cover.
    Ignored { task_arn: String, reason: String },
    /// `retired`: clusters no longer covered, whose files were removed.
    Reconciled { clusters: Vec<ClusterReport>, retired: Vec<String> },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ClusterReport {
    pub cluster: String,
    pub running_tasks: usize,
    pub targets: usize,
    pub state_changed: bool,
    pub file_written: bool,
}

/// The Lambda handler.
pub async fn handle<A: EcsApi + Ec2Api>(event: LambdaEvent<Value>, deps: &Deps<A>) -> Result<Outcome, Error> {
    if let Some(function) = task::arn_scope(&event.context.invoked_function_arn) {
        let _ = deps.account.set(function.account.to_string());
    }
    handle_value(&event.payload, deps).await
}

/// The handler on a bare event (the local `invoke` mode and tests).
pub async fn handle_value<A: EcsApi + Ec2Api>(event: &Value, deps: &Deps<A>) -> Result<Outcome, Error> {
    let outcome = match event::parse(event)? {
        Invocation::TaskChange(task) => apply_task_change(*task, deps).await,
        Invocation::Reconcile => reconcile(deps).await,
    };
    if let Err(e) = &outcome {
        tracing::error!(error = %e, "invocation failed; {}", e.file_sd_effect());
    }
    outcome
}

/// Applies one task state change to its cluster's file.
pub async fn apply_task_change<A: EcsApi + Ec2Api>(task: TaskSnapshot, deps: &Deps<A>) -> Result<Outcome, Error> {
    let cluster = task.cluster_name().to_string();
    let task_arn = task.task_arn.clone();
    check_cluster_name(&cluster, &task_arn)?;
    if let Some(reason) = outside_home(&task.cluster_arn, deps) {
        tracing::warn!(task_arn = %task_arn, %reason, "event ignored");
        return Ok(Outcome::Ignored { task_arn, reason });
    }
    if !deps.config.clusters.is_empty() && !deps.config.clusters.contains(&cluster) {
        let reason = format!("cluster {cluster} is not in CLUSTERS");
        tracing::info!(task_arn = %task_arn, %reason, "event ignored");
        return Ok(Outcome::Ignored { task_arn, reason });
    }
    let version = task.version.unwrap_or(0);
    // Cheap pre-check without the lock: an event that is already old needs no AWS call. The
    // decision that counts is taken again under the lock.
    if let Ok(state) = deps.store.read_state(&cluster) {
        if let Some(r) = state.tasks.get(&task_arn) {
            if r.version >= version {
                let reason = ignored_reason(version, r.version);
                tracing::info!(task_arn = %task_arn, version, recorded = r.version, "event ignored: {reason}");
                return Ok(Outcome::Ignored { task_arn, reason });
            }
        }
    }
    let subject = format!("task {task_arn}");
    let mut observed =
        resolve::observe(&deps.api, &deps.cache, deps.config.filter.as_ref(), &cluster, vec![task], &subject).await?;
    let observed = observed.pop().expect("one task in, one out");
    let running = observed.running;
    let task_targets = observed.targets.len();
    let state_path = deps.store.state_path(&cluster).display().to_string();
    let now = now_secs();
    let written = deps
        .store
        .update(&cluster, {
            let task_arn = task_arn.clone();
            move |current| match apply_event(current, observed, now) {
                Ok(Ok(state)) => Ok((Some(state), None)),
                Ok(Err(u)) => Ok((None, Some(u))),
                Err(Error::DamagedState { reason, .. }) => {
                    Err(Error::DamagedState { task: task_arn, path: state_path, reason })
                }
                Err(e) => Err(e),
            }
        })
        .await
        .map_err(|source| Error::store(&cluster, source))??;
    match written.extra {
        Some(u) => {
            let recorded = match u {
                Unchanged::Duplicate { recorded } | Unchanged::Older { recorded } => recorded,
            };
            let reason = ignored_reason(version, recorded);
            tracing::info!(task_arn = %task_arn, version, recorded, file_repaired = written.file_written, "event ignored: {reason}");
            Ok(Outcome::Ignored { task_arn, reason })
        }
        None => {
            tracing::info!(task_arn = %task_arn, %cluster, version, running, task_targets, file_targets = written.targets, "file_sd updated");
            Ok(Outcome::Applied { task_arn, cluster, version, running, task_targets, file_targets: written.targets })
        }
    }
}

/// Why a cluster is not this deployment's to discover. Its ECS and EC2 clients reach only the
/// function's own account and region, and files are keyed by cluster name: an event forwarded
/// from another account's or region's bus would otherwise write a same-named cluster's file.
fn outside_home<A>(cluster_arn: &str, deps: &Deps<A>) -> Option<String> {
    let cluster = task::arn_scope(cluster_arn)?;
    if let Some(region) = deps.config.region.as_deref().filter(|r| *r != cluster.region) {
        return Some(format!(
            "cluster {cluster_arn} is in region {}; this deployment discovers {region}",
            cluster.region
        ));
    }
    let account = deps.account.get().filter(|a| *a != cluster.account)?;
    Some(format!(
        "cluster {cluster_arn} is in account {}; this deployment discovers account {account}",
        cluster.account
    ))
}

fn ignored_reason(version: i64, recorded: i64) -> String {
    if version == recorded {
        format!("duplicate: version {version} already applied")
    } else {
        format!("out of order: version {version} is older than the applied {recorded}")
    }
}

/// Cluster names become file names: refuse anything that could leave the directory, or that ECS
/// would not accept as a name (1 to 255 letters, digits, hyphens and underscores).
fn check_cluster_name(cluster: &str, task_arn: &str) -> Result<(), Error> {
    let ok = !cluster.is_empty()
        && cluster.len() <= MAX_CLUSTER_NAME
        && !cluster.starts_with('.')
        && cluster.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if ok {
        Ok(())
    } else {
        Err(Error::MalformedEvent {
            task: task_arn.to_string(),
            reason: format!("cluster name {cluster:?} is not an ECS cluster name (1 to {MAX_CLUSTER_NAME} letters, digits, - and _)"),
        })
    }
}

/// Rebuilds every configured cluster's file from what ECS reports. A cluster whose AWS calls
/// fail keeps its file; the others are still written, and the invocation then fails.
///
/// Then the files of clusters this deployment no longer covers (taken out of `CLUSTERS`) are
/// removed with their records, so Prometheus stops scraping targets that cannot come back. (A
/// deleted cluster stays listed as INACTIVE for a while and cannot have had tasks when it was
/// deleted, so its file is already empty.) Only records seen before the clusters were listed,
/// and unchanged since, are removed: an event for a cluster created meanwhile keeps its file.
pub async fn reconcile<A: EcsApi + Ec2Api>(deps: &Deps<A>) -> Result<Outcome, Error> {
    check_cluster_accounts(deps)?;
    let store_err = |source: std::io::Error| Error::Io { cluster: "(file_sd directory)".into(), source };
    let store = deps.store.clone();
    let recorded = tokio::task::spawn_blocking(move || store.recorded_clusters())
        .await
        .map_err(|e| store_err(std::io::Error::other(e)))?
        .map_err(store_err)?;
    let clusters =
        if deps.config.clusters.is_empty() { list_clusters(&deps.api).await? } else { deps.config.clusters.clone() };
    let mut retired = Vec::new();
    // Records are listed by file stem, which for a long name is not the name.
    let covered: Vec<String> = clusters.iter().map(|c| file_stem(c).into_owned()).collect();
    for (stem, seen) in recorded.into_iter().filter(|(stem, _)| !covered.contains(stem)) {
        let store = deps.store.clone();
        let name = stem.clone();
        let (cluster, removed) = tokio::task::spawn_blocking(move || {
            let cluster = store.read_state(&name).ok().and_then(|s| s.cluster).unwrap_or_else(|| name.clone());
            store.retire_blocking(&name, seen).map(|removed| (cluster, removed))
        })
        .await
        .map_err(|e| store_err(std::io::Error::other(e)))?
        .map_err(|source| Error::store(&stem, source))?;
        if removed {
            tracing::info!(%cluster, "cluster no longer covered: its file_sd file and record removed");
            retired.push(cluster);
        }
    }
    let mut reports = Vec::new();
    let mut failures = Vec::new();
    for cluster in clusters {
        match reconcile_cluster(&cluster, deps).await {
            Ok(r) => {
                tracing::info!(cluster = %r.cluster, running_tasks = r.running_tasks, targets = r.targets, file_written = r.file_written, "cluster reconciled");
                reports.push(r)
            }
            Err(e) => {
                tracing::error!(%cluster, error = %e, "reconcile failed; {}", e.file_sd_effect());
                failures.push(e.to_string());
            }
        }
    }
    if failures.is_empty() {
        Ok(Outcome::Reconciled { clusters: reports, retired })
    } else {
        Err(Error::Reconcile(failures))
    }
}

/// A `CLUSTERS` ARN of another account would be reduced to its name and that name looked up in
/// this account: a different cluster, or none. Refused once the function's account is known.
fn check_cluster_accounts<A>(deps: &Deps<A>) -> Result<(), Error> {
    let Some(account) = deps.account.get() else { return Ok(()) };
    let foreign =
        deps.config.cluster_arns.iter().find(|arn| task::arn_scope(arn).is_some_and(|s| s.account != account));
    match foreign {
        Some(arn) => {
            let expected = format!("a cluster of this function's account {account}: one deployment per account");
            Err(Error::Config(promstack::settings::SettingError::invalid("CLUSTERS", arn, &expected)))
        }
        None => Ok(()),
    }
}

async fn list_clusters<A: EcsApi>(api: &A) -> Result<Vec<String>, Error> {
    let mut clusters = Vec::new();
    let mut token = None;
    loop {
        let page = api.list_clusters(token).await.map_err(|e| Error::Aws {
            subject: "all clusters".into(),
            operation: e.operation,
            message: e.message,
        })?;
        clusters.extend(page.items.iter().map(|arn| task::cluster_name(arn).to_string()));
        token = page.next_token;
        if token.is_none() {
            return Ok(clusters);
        }
    }
}

pub async fn reconcile_cluster<A: EcsApi + Ec2Api>(cluster: &str, deps: &Deps<A>) -> Result<ClusterReport, Error> {
    let subject = format!("cluster {cluster}");
    let aws = |e: aws::ApiError| Error::Aws { subject: subject.clone(), operation: e.operation, message: e.message };
    check_cluster_name(cluster, &subject)?;
    // Records that change after this point (events applied while ECS is listed) are newer than
    // the listing; see `apply_reconcile`.
    let started_at_seq = match deps.store.read_state(cluster) {
        Ok(s) => s.seq,
        Err(ReadStateError::Damaged(reason)) => {
            tracing::warn!(%cluster, %reason, "state record damaged: rebuilding it from ECS");
            0
        }
        Err(ReadStateError::Io(source)) => return Err(Error::Io { cluster: cluster.to_string(), source }),
    };
    let mut arns = Vec::new();
    let mut token = None;
    loop {
        let page = deps.api.list_running_tasks(cluster, token).await.map_err(aws)?;
        arns.extend(page.items);
        token = page.next_token;
        if token.is_none() {
            break;
        }
    }
    let mut tasks = Vec::with_capacity(arns.len());
    for chunk in arns.chunks(DESCRIBE_BATCH) {
        tasks.extend(deps.api.describe_tasks(cluster, chunk).await.map_err(aws)?);
    }
    let running_tasks = tasks.iter().filter(|t| t.is_running()).count();
    let observed =
        resolve::observe(&deps.api, &deps.cache, deps.config.filter.as_ref(), cluster, tasks, &subject).await?;
    let now = now_secs();
    let written = deps
        .store
        .update(cluster, move |current| Ok::<_, Error>((apply_reconcile(current, started_at_seq, observed, now), ())))
        .await
        .map_err(|source| Error::store(cluster, source))??;
    Ok(ClusterReport {
        cluster: cluster.to_string(),
        running_tasks,
        targets: written.targets,
        state_changed: written.state_changed,
        file_written: written.file_written,
    })
}

/// Handler tests on the sample events in `events/`. The task definition is put in the cache as
/// if read before, so these need no AWS; the same paths against moto are in
/// `tests/ecs_discovery.rs`.
#[cfg(test)]
mod handler_tests {
    use super::*;
    use aws_lambda_events::eventbridge::EventBridgeEvent;
    use lambda_runtime::Context;
    use std::collections::BTreeMap;

    const RUNNING: &[u8] = include_bytes!("../../../events/ecs-discovery-running.json");
    const STOPPED: &[u8] = include_bytes!("../../../events/ecs-discovery-stopped.json");
    const SCHEDULE: &[u8] = include_bytes!("../../../events/ecs-discovery-schedule.json");

    fn deps(dir: &std::path::Path) -> Deps<aws::AwsApi> {
        // Never called: no endpoint, no credentials.
        let sdk = aws_config::SdkConfig::builder()
            .behavior_version(aws_config::BehaviorVersion::latest())
            .region(aws_config::Region::new("us-east-1"))
            .build();
        let config = Config { file_sd_dir: dir.to_path_buf(), clusters: vec!["prod".into()], ..Config::default() };
        let deps = Deps::new(aws::AwsApi::new(&sdk, 1), config);
        let labels: BTreeMap<String, String> =
            [("PROMETHEUS_EXPORTER_PORT", "9100"), ("PROMETHEUS_EXPORTER_JOB_NAME", "api")]
                .into_iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect();
        deps.cache.insert_definition(task::TaskDefinition {
            arn: "arn:aws:ecs:us-east-1:111122223333:task-definition/api:7".into(),
            family: "api".into(),
            revision: 7,
            network_mode: Some("awsvpc".into()),
            fargate_only: true,
            containers: vec![task::ContainerDefinition {
                name: "web".into(),
                image: Some("example/web:1".into()),
                docker_labels: labels,
            }],
        });
        deps
    }

    fn event(bytes: &[u8]) -> LambdaEvent<Value> {
        LambdaEvent { payload: serde_json::from_slice(bytes).unwrap(), context: Context::default() }
    }

    #[test]
    fn the_samples_survive_a_serde_round_trip() {
        for bytes in [RUNNING, STOPPED, SCHEDULE] {
            let original: Value = serde_json::from_slice(bytes).unwrap();
            let typed: EventBridgeEvent<Value> = serde_json::from_slice(bytes).unwrap();
            assert_eq!(serde_json::to_value(&typed).unwrap(), original);
        }
    }

    #[tokio::test]
    async fn running_then_stopped_then_a_late_running() {
        let dir = tempfile::tempdir().unwrap();
        let deps = deps(dir.path());
        let out = handle(event(RUNNING), &deps).await.unwrap();
        assert!(matches!(out, Outcome::Applied { version: 3, running: true, task_targets: 1, .. }), "{out:?}");
        let file: Value = serde_json::from_slice(&std::fs::read(dir.path().join("prod.json")).unwrap()).unwrap();
        assert_eq!(file[0]["targets"][0], "10.0.1.25:9100");
        assert_eq!(file[0]["labels"]["job"], "api");
        assert_eq!(file[0]["labels"]["service"], "api");
        assert_eq!(file[0]["labels"]["task_id"], "a1b2c3d4e5f60718293a4b5c6d7e8f90");

        let out = handle(event(STOPPED), &deps).await.unwrap();
        assert!(matches!(out, Outcome::Applied { version: 5, running: false, file_targets: 0, .. }), "{out:?}");
        assert_eq!(std::fs::read_to_string(dir.path().join("prod.json")).unwrap(), "[]\n");

        let out = handle(event(RUNNING), &deps).await.unwrap();
        assert!(matches!(&out, Outcome::Ignored { reason, .. } if reason.contains("out of order")), "{out:?}");
        assert_eq!(std::fs::read_to_string(dir.path().join("prod.json")).unwrap(), "[]\n");
    }

    #[tokio::test]
    async fn an_event_for_another_cluster_is_ignored() {
        let dir = tempfile::tempdir().unwrap();
        let mut deps = deps(dir.path());
        deps.config.clusters = vec!["staging".into()];
        let out = handle(event(RUNNING), &deps).await.unwrap();
        assert!(matches!(&out, Outcome::Ignored { reason, .. } if reason.contains("CLUSTERS")), "{out:?}");
        assert!(!dir.path().join("prod.json").exists());
    }

    /// Checked before any AWS call, so these deps (no endpoint) answer.
    #[tokio::test]
    async fn a_reconcile_refuses_a_clusters_arn_of_another_account() {
        let dir = tempfile::tempdir().unwrap();
        let mut deps = deps(dir.path());
        deps.config.cluster_arns = vec!["arn:aws:ecs:us-east-1:999988887777:cluster/prod".into()];
        let mut context = Context::default();
        context.invoked_function_arn = "arn:aws:lambda:us-east-1:111122223333:function:ecs-discovery".into();
        let event = LambdaEvent { payload: serde_json::from_slice(SCHEDULE).unwrap(), context };
        let err = handle(event, &deps).await.unwrap_err();
        assert!(matches!(err, Error::Config(_)) && !err.retryable(), "{err:?}");
        assert!(
            err.to_string().contains("999988887777:cluster/prod") && err.to_string().contains("111122223333"),
            "{err}"
        );
    }

    #[test]
    fn the_schedule_sample_asks_for_a_reconcile() {
        assert_eq!(event::parse(&serde_json::from_slice(SCHEDULE).unwrap()).unwrap(), Invocation::Reconcile);
    }
}
