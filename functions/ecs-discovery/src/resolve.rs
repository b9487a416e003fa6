//! From task snapshots to targets: the AWS lookups targets need, made once per batch and cached
//! where the answer cannot change.
//!
//! - Task definitions: events carry no docker labels, so each task's definition is read; a
//!   revision never changes, so it is cached per ARN for the life of the Lambda container.
//! - Container instance IPs (bridge and host mode only): DescribeContainerInstances, then EC2
//!   DescribeInstances, 100 per request; an instance keeps its private IP for its whole life, so
//!   they are cached per container instance ARN.

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex};

use crate::apply::Observed;
use crate::aws::{ApiError, Ec2Api, EcsApi, DESCRIBE_BATCH, EC2_BATCH};
use crate::error::Error;
use crate::targets::{self, LabelFilter, SkipCounts};
use crate::task::{TaskDefinition, TaskSnapshot};

/// What the Lambda container remembers between invocations.
#[derive(Debug, Default)]
pub struct Cache {
    definitions: Mutex<HashMap<String, Arc<TaskDefinition>>>,
    instance_ips: Mutex<HashMap<String, String>>,
}

impl Cache {
    /// Adds a definition as if it had been read (benches use it to leave AWS out).
    pub fn insert_definition(&self, definition: TaskDefinition) {
        let arn = definition.arn.clone();
        lock(&self.definitions).insert(arn, Arc::new(definition));
    }

    pub fn definition(&self, arn: &str) -> Option<Arc<TaskDefinition>> {
        lock(&self.definitions).get(arn).cloned()
    }

    pub fn insert_instance_ip(&self, container_instance_arn: &str, ip: &str) {
        lock(&self.instance_ips).insert(container_instance_arn.to_string(), ip.to_string());
    }

    fn instance_ip(&self, container_instance_arn: &str) -> Option<String> {
        lock(&self.instance_ips).get(container_instance_arn).cloned()
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

fn aws_error(subject: &str, e: ApiError) -> Error {
    Error::Aws { subject: subject.to_string(), operation: e.operation, message: e.message }
}

/// Targets of `tasks` (all of one cluster), and the containers skipped for want of a usable
/// target, by cause. `subject` names what a failed instance lookup concerns (the task for an
/// event, the cluster for a reconcile); a failed task definition lookup names the task. Any
/// failure fails the whole batch, so nothing is half-applied.
pub async fn observe<A: EcsApi + Ec2Api>(
    api: &A,
    cache: &Cache,
    filter: Option<&LabelFilter>,
    cluster: &str,
    tasks: Vec<TaskSnapshot>,
    subject: &str,
) -> Result<(Vec<Observed>, SkipCounts), Error> {
    // Task definitions of the running tasks, each read once.
    let mut definitions: HashMap<String, Arc<TaskDefinition>> = HashMap::new();
    for task in tasks.iter().filter(|t| t.is_running()) {
        if definitions.contains_key(&task.task_definition_arn) {
            continue;
        }
        let definition = match cache.definition(&task.task_definition_arn) {
            Some(d) => d,
            None => {
                let d = api
                    .describe_task_definition(&task.task_definition_arn)
                    .await
                    .map_err(|e| aws_error(&format!("task {}", task.task_arn), e))?;
                let d = Arc::new(d);
                lock(&cache.definitions).insert(task.task_definition_arn.clone(), d.clone());
                d
            }
        };
        definitions.insert(task.task_definition_arn.clone(), definition);
    }

    // Container instance IPs, for the tasks that need them.
    let wanted: BTreeSet<String> = tasks
        .iter()
        .filter(|t| t.is_running())
        .filter(|t| targets::needs_instance_ip(t, &definitions[&t.task_definition_arn], filter))
        .filter_map(|t| t.container_instance_arn.clone())
        .filter(|arn| cache.instance_ip(arn).is_none())
        .collect();
    if !wanted.is_empty() {
        lookup_instance_ips(api, cache, cluster, &wanted.into_iter().collect::<Vec<_>>(), subject).await?;
    }

    let mut observed = Vec::with_capacity(tasks.len());
    let mut skip_counts = SkipCounts::new();
    for task in tasks {
        let running = task.is_running();
        let mut built = Vec::new();
        if running {
            let definition = &definitions[&task.task_definition_arn];
            let ip = task.container_instance_arn.as_deref().and_then(|arn| cache.instance_ip(arn));
            let (targets, skipped) = targets::build(&task, definition, ip.as_deref(), filter);
            for s in skipped {
                tracing::warn!(task_arn = %task.task_arn, container = %s.container, cause = s.cause.as_str(), reason = %s.reason, "container skipped: no usable target");
                *skip_counts.entry(s.cause).or_default() += 1;
            }
            built = targets;
        }
        observed.push(Observed { task_arn: task.task_arn, version: task.version, running, targets: built });
    }
    Ok((observed, skip_counts))
}

async fn lookup_instance_ips<A: EcsApi + Ec2Api>(
    api: &A,
    cache: &Cache,
    cluster: &str,
    container_instances: &[String],
    subject: &str,
) -> Result<(), Error> {
    let mut instance_of = HashMap::new();
    for chunk in container_instances.chunks(DESCRIBE_BATCH) {
        let found = api.describe_container_instances(cluster, chunk).await.map_err(|e| aws_error(subject, e))?;
        instance_of.extend(found.into_iter().map(|(ci, ec2)| (ec2, ci)));
    }
    let ids: Vec<String> = instance_of.keys().cloned().collect();
    for chunk in ids.chunks(EC2_BATCH) {
        let ips = api.instance_private_ips(chunk).await.map_err(|e| aws_error(subject, e))?;
        for (instance, ip) in ips {
            if let Some(ci) = instance_of.get(&instance) {
                cache.insert_instance_ip(ci, &ip);
            }
        }
    }
    Ok(())
}
