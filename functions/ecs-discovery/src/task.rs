//! What the function knows about a task and its task definition, whichever way it learnt it (an
//! EventBridge event or DescribeTasks): the two sources are reduced to these types so target
//! building does not care where the facts came from.

use std::collections::BTreeMap;

/// A task as ECS last reported it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskSnapshot {
    pub task_arn: String,
    pub cluster_arn: String,
    pub task_definition_arn: String,
    /// `service:NAME` for service tasks, `family:NAME` for standalone ones.
    pub group: Option<String>,
    pub last_status: String,
    pub desired_status: Option<String>,
    /// ECS increments it on every state change of the task; `None` when the source has none
    /// (moto's DescribeTasks).
    pub version: Option<i64>,
    pub launch_type: Option<String>,
    pub availability_zone: Option<String>,
    pub container_instance_arn: Option<String>,
    /// The private IPv4 address of the task's ENI (awsvpc), from its attachments.
    pub eni_ip: Option<String>,
    pub containers: Vec<ContainerState>,
}

/// One running container: its port bindings (bridge/host) and interfaces (awsvpc).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ContainerState {
    pub name: String,
    pub bindings: Vec<PortBinding>,
    pub private_ip: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PortBinding {
    pub container_port: u16,
    pub host_port: u16,
}

impl TaskSnapshot {
    /// Targets exist only while the task runs and ECS does not want it stopped: once the
    /// desired status is STOPPED the containers are being shut down.
    pub fn is_running(&self) -> bool {
        self.last_status == "RUNNING" && self.desired_status.as_deref() != Some("STOPPED")
    }

    pub fn cluster_name(&self) -> &str {
        cluster_name(&self.cluster_arn)
    }

    pub fn task_id(&self) -> &str {
        self.task_arn.rsplit('/').next().unwrap_or(&self.task_arn)
    }

    pub fn container(&self, name: &str) -> Option<&ContainerState> {
        self.containers.iter().find(|c| c.name == name)
    }
}

/// `arn:aws:ecs:REGION:ACCOUNT:cluster/NAME` → `NAME`; a bare name is returned as is.
pub fn cluster_name(cluster: &str) -> &str {
    match cluster.split_once(":cluster/") {
        Some((_, name)) => name,
        None => cluster,
    }
}

/// Where an ARN (`arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE`) lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ArnScope<'a> {
    pub region: &'a str,
    pub account: &'a str,
}

/// The region and account of an ARN; `None` for a bare name (or anything else without them).
pub fn arn_scope(arn: &str) -> Option<ArnScope<'_>> {
    let mut parts = arn.splitn(6, ':');
    let (Some("arn"), Some(_partition), Some(_service), Some(region), Some(account), Some(_resource)) =
        (parts.next(), parts.next(), parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return None;
    };
    Some(ArnScope { region, account }).filter(|s| !s.region.is_empty() && !s.account.is_empty())
}

/// How the task's containers are reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NetworkMode {
    /// The task's own ENI (Fargate always): ENI IP + container port.
    Awsvpc,
    /// Docker bridge on an EC2 instance: instance IP + the host port bound to the container port.
    Bridge,
    /// The instance's network: instance IP + container port.
    Host,
    /// No network: nothing to scrape.
    None,
}

impl NetworkMode {
    /// ECS' `networkMode`; when it is absent ECS uses bridge on EC2 (Linux) and awsvpc on Fargate.
    pub fn from_ecs(mode: Option<&str>, fargate: bool) -> Self {
        match mode {
            Some("awsvpc") => NetworkMode::Awsvpc,
            Some("host") => NetworkMode::Host,
            Some("none") => NetworkMode::None,
            Some("bridge") => NetworkMode::Bridge,
            _ if fargate => NetworkMode::Awsvpc,
            _ => NetworkMode::Bridge,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            NetworkMode::Awsvpc => "awsvpc",
            NetworkMode::Bridge => "bridge",
            NetworkMode::Host => "host",
            NetworkMode::None => "none",
        }
    }
}

/// The parts of a task definition that decide targets. A revision never changes, so it is
/// cached per ARN.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskDefinition {
    pub arn: String,
    pub family: String,
    pub revision: i32,
    /// `None` when ECS did not say (the default then depends on the launch type).
    pub network_mode: Option<String>,
    pub fargate_only: bool,
    pub containers: Vec<ContainerDefinition>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContainerDefinition {
    pub name: String,
    pub image: Option<String>,
    pub docker_labels: BTreeMap<String, String>,
}

impl TaskDefinition {
    pub fn network_mode_for(&self, task: &TaskSnapshot) -> NetworkMode {
        let fargate = self.fargate_only || task.launch_type.as_deref() == Some("FARGATE");
        NetworkMode::from_ecs(self.network_mode.as_deref(), fargate)
    }
}
