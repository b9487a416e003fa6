//! The AWS capabilities the function needs, as small traits, and the SDK-backed type that
//! implements them. Each trait method is exactly one API request (pagination is the caller's
//! loop), so wrapping the traits counts AWS calls precisely.

use std::collections::{BTreeMap, HashMap};
use std::future::Future;

use aws_config::retry::RetryConfig;
use aws_config::SdkConfig;
use aws_sdk_ecs::config::http::HttpResponse;
use aws_sdk_ecs::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_ecs::types::DesiredStatus;

use crate::event::is_eni_attachment;
use crate::task::{ContainerDefinition, ContainerState, PortBinding, TaskDefinition, TaskSnapshot};

/// The most tasks (and container instances) ECS describes per request.
pub const DESCRIBE_BATCH: usize = 100;
/// The page size the reconcile asks ListTasks / ListClusters for (their maximum).
pub const LIST_PAGE: i32 = 100;
/// Instance IDs per DescribeInstances request.
pub const EC2_BATCH: usize = 100;

/// A failed AWS request, after the SDK's retries.
#[derive(Debug, Clone)]
pub struct ApiError {
    pub operation: &'static str,
    pub message: String,
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.operation, self.message)
    }
}

/// One page of a list call.
#[derive(Debug, Clone, Default)]
pub struct Page {
    pub items: Vec<String>,
    pub next_token: Option<String>,
}

/// What the function asks ECS.
pub trait EcsApi: Send + Sync {
    fn list_clusters(&self, next_token: Option<String>) -> impl Future<Output = Result<Page, ApiError>> + Send;
    /// Task ARNs whose desired status is RUNNING.
    fn list_running_tasks(
        &self,
        cluster: &str,
        next_token: Option<String>,
    ) -> impl Future<Output = Result<Page, ApiError>> + Send;
    /// At most [`DESCRIBE_BATCH`] tasks; tasks ECS no longer knows are left out.
    fn describe_tasks(
        &self,
        cluster: &str,
        task_arns: &[String],
    ) -> impl Future<Output = Result<Vec<TaskSnapshot>, ApiError>> + Send;
    fn describe_task_definition(&self, arn: &str) -> impl Future<Output = Result<TaskDefinition, ApiError>> + Send;
    /// At most [`DESCRIBE_BATCH`] container instances: (container instance ARN, EC2 instance ID).
    fn describe_container_instances(
        &self,
        cluster: &str,
        arns: &[String],
    ) -> impl Future<Output = Result<Vec<(String, String)>, ApiError>> + Send;
}

/// What the function asks EC2.
pub trait Ec2Api: Send + Sync {
    /// At most [`EC2_BATCH`] instances: instance ID → private IPv4 address.
    fn instance_private_ips(
        &self,
        instance_ids: &[String],
    ) -> impl Future<Output = Result<HashMap<String, String>, ApiError>> + Send;
}

/// The SDK clients, with the standard retry mode (throttling and transient errors are retried
/// with exponential backoff and jitter).
#[derive(Debug, Clone)]
pub struct AwsApi {
    ecs: aws_sdk_ecs::Client,
    ec2: aws_sdk_ec2::Client,
}

impl AwsApi {
    pub fn new(sdk: &SdkConfig, max_attempts: u32) -> Self {
        let retry = RetryConfig::standard().with_max_attempts(max_attempts);
        let ecs = aws_sdk_ecs::config::Builder::from(sdk).retry_config(retry.clone()).build();
        let ec2 = aws_sdk_ec2::config::Builder::from(sdk).retry_config(retry).build();
        Self { ecs: aws_sdk_ecs::Client::from_conf(ecs), ec2: aws_sdk_ec2::Client::from_conf(ec2) }
    }
}

fn api_error<E: ProvideErrorMetadata + std::error::Error + 'static>(
    operation: &'static str,
) -> impl FnOnce(SdkError<E, HttpResponse>) -> ApiError {
    move |e| ApiError { operation, message: promstack::aws::describe(&e) }
}

impl EcsApi for AwsApi {
    async fn list_clusters(&self, next_token: Option<String>) -> Result<Page, ApiError> {
        let out = self
            .ecs
            .list_clusters()
            .max_results(LIST_PAGE)
            .set_next_token(next_token)
            .send()
            .await
            .map_err(api_error("ECS ListClusters"))?;
        Ok(Page { items: out.cluster_arns.unwrap_or_default(), next_token: out.next_token })
    }

    async fn list_running_tasks(&self, cluster: &str, next_token: Option<String>) -> Result<Page, ApiError> {
        let out = self
            .ecs
            .list_tasks()
            .cluster(cluster)
            .desired_status(DesiredStatus::Running)
            .max_results(LIST_PAGE)
            .set_next_token(next_token)
            .send()
            .await
            .map_err(api_error("ECS ListTasks"))?;
        Ok(Page { items: out.task_arns.unwrap_or_default(), next_token: out.next_token })
    }

    async fn describe_tasks(&self, cluster: &str, task_arns: &[String]) -> Result<Vec<TaskSnapshot>, ApiError> {
        let out = self
            .ecs
            .describe_tasks()
            .cluster(cluster)
            .set_tasks(Some(task_arns.to_vec()))
            .send()
            .await
            .map_err(api_error("ECS DescribeTasks"))?;
        for f in out.failures() {
            tracing::info!(
                arn = f.arn().unwrap_or_default(),
                reason = f.reason().unwrap_or_default(),
                "DescribeTasks left a task out"
            );
        }
        Ok(out.tasks.unwrap_or_default().into_iter().filter_map(snapshot_from_sdk).collect())
    }

    async fn describe_task_definition(&self, arn: &str) -> Result<TaskDefinition, ApiError> {
        let out = self
            .ecs
            .describe_task_definition()
            .task_definition(arn)
            .send()
            .await
            .map_err(api_error("ECS DescribeTaskDefinition"))?;
        let td = out.task_definition.ok_or_else(|| ApiError {
            operation: "ECS DescribeTaskDefinition",
            message: format!("no task definition in the answer for {arn}"),
        })?;
        Ok(definition_from_sdk(arn, td))
    }

    async fn describe_container_instances(
        &self,
        cluster: &str,
        arns: &[String],
    ) -> Result<Vec<(String, String)>, ApiError> {
        let out = self
            .ecs
            .describe_container_instances()
            .cluster(cluster)
            .set_container_instances(Some(arns.to_vec()))
            .send()
            .await
            .map_err(api_error("ECS DescribeContainerInstances"))?;
        Ok(out
            .container_instances
            .unwrap_or_default()
            .into_iter()
            .filter_map(|ci| Some((ci.container_instance_arn?, ci.ec2_instance_id?)))
            .collect())
    }
}

impl Ec2Api for AwsApi {
    async fn instance_private_ips(&self, instance_ids: &[String]) -> Result<HashMap<String, String>, ApiError> {
        // With explicit instance IDs EC2 answers them all at once (no pagination).
        let out = self
            .ec2
            .describe_instances()
            .set_instance_ids(Some(instance_ids.to_vec()))
            .send()
            .await
            .map_err(api_error("EC2 DescribeInstances"))?;
        Ok(out
            .reservations
            .unwrap_or_default()
            .into_iter()
            .flat_map(|r| r.instances.unwrap_or_default())
            .filter_map(|i| Some((i.instance_id?, i.private_ip_address?)))
            .collect())
    }
}

/// DescribeTasks' task → [`TaskSnapshot`] (`None` when ECS left out the ARNs).
pub fn snapshot_from_sdk(t: aws_sdk_ecs::types::Task) -> Option<TaskSnapshot> {
    let eni_ip = t
        .attachments()
        .iter()
        .filter(|a| a.r#type().is_some_and(is_eni_attachment))
        .flat_map(|a| a.details())
        .find(|kv| kv.name() == Some("privateIPv4Address"))
        .and_then(|kv| kv.value().map(str::to_string));
    let containers = t
        .containers()
        .iter()
        .filter_map(|c| {
            Some(ContainerState {
                name: c.name()?.to_string(),
                bindings: c
                    .network_bindings()
                    .iter()
                    .filter_map(|b| {
                        Some(PortBinding {
                            container_port: u16::try_from(b.container_port?).ok()?,
                            host_port: u16::try_from(b.host_port?).ok()?,
                        })
                    })
                    .collect(),
                private_ip: c.network_interfaces().iter().find_map(|n| n.private_ipv4_address().map(str::to_string)),
            })
        })
        .collect();
    Some(TaskSnapshot {
        task_arn: t.task_arn?,
        cluster_arn: t.cluster_arn?,
        task_definition_arn: t.task_definition_arn?,
        group: t.group,
        last_status: t.last_status.unwrap_or_default(),
        desired_status: t.desired_status,
        // The SDK reads a missing version as 0; ECS versions start at 1.
        version: (t.version > 0).then_some(t.version),
        launch_type: t.launch_type.map(|l| l.as_str().to_string()),
        availability_zone: t.availability_zone,
        container_instance_arn: t.container_instance_arn,
        eni_ip,
        containers,
    })
}

/// DescribeTaskDefinition's answer → [`TaskDefinition`].
pub fn definition_from_sdk(requested_arn: &str, td: aws_sdk_ecs::types::TaskDefinition) -> TaskDefinition {
    let fargate_only = td.requires_compatibilities().iter().any(|c| c.as_str() == "FARGATE")
        && !td.requires_compatibilities().iter().any(|c| c.as_str() == "EC2");
    TaskDefinition {
        arn: td.task_definition_arn.clone().unwrap_or_else(|| requested_arn.to_string()),
        family: td.family.clone().unwrap_or_default(),
        revision: td.revision,
        network_mode: td.network_mode.as_ref().map(|m| m.as_str().to_string()),
        fargate_only,
        containers: td
            .container_definitions
            .unwrap_or_default()
            .into_iter()
            .map(|c| ContainerDefinition {
                name: c.name.unwrap_or_default(),
                image: c.image,
                docker_labels: c.docker_labels.unwrap_or_default().into_iter().collect::<BTreeMap<_, _>>(),
            })
            .collect(),
    }
}
