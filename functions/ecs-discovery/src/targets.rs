//! From a task definition's docker labels and a running task to Prometheus targets.
//!
//! Labels read (unchanged from the community ECS discovery tool and the CloudWatch agent):
//! - `PROMETHEUS_EXPORTER_PORT` (container port, required), `PROMETHEUS_EXPORTER_PATH`,
//!   `PROMETHEUS_EXPORTER_SCHEME`, `PROMETHEUS_EXPORTER_JOB_NAME`, `PROMETHEUS_EXPORTER_SERVER_NAME`;
//! - `ECS_PROMETHEUS_EXPORTER_PORT`, `ECS_PROMETHEUS_METRICS_PATH`, `ECS_PROMETHEUS_JOB_NAME`;
//! - more endpoints per container: `PROMETHEUS_EXPORTER_<NAME>_PORT` with the same optional
//!   `_PATH`, `_SCHEME`, `_JOB_NAME`, `_SERVER_NAME` suffixes; such a target carries
//!   `endpoint="<name>"` (lower case).

use std::borrow::Cow;
use std::collections::BTreeMap;

use promstack::file_sd::TargetGroup;
use serde::{Deserialize, Serialize};

use crate::task::{NetworkMode, TaskDefinition, TaskSnapshot};

pub const PORT: &str = "PROMETHEUS_EXPORTER_PORT";
pub const PATH: &str = "PROMETHEUS_EXPORTER_PATH";
pub const SCHEME: &str = "PROMETHEUS_EXPORTER_SCHEME";
pub const JOB_NAME: &str = "PROMETHEUS_EXPORTER_JOB_NAME";
pub const SERVER_NAME: &str = "PROMETHEUS_EXPORTER_SERVER_NAME";
pub const CW_PORT: &str = "ECS_PROMETHEUS_EXPORTER_PORT";
pub const CW_PATH: &str = "ECS_PROMETHEUS_METRICS_PATH";
pub const CW_JOB_NAME: &str = "ECS_PROMETHEUS_JOB_NAME";
const PREFIX: &str = "PROMETHEUS_EXPORTER_";
/// The `endpoint` label of the CloudWatch agent's labels when the container also has a
/// different `PROMETHEUS_EXPORTER_PORT`.
pub const CW_ENDPOINT_NAME: &str = "cwagent";

/// One scrape target: `address` is `host:port`; `labels` are what Prometheus gets (including
/// `job`, `__metrics_path__`, `__scheme__` when set).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Target {
    pub address: String,
    pub labels: BTreeMap<String, String>,
}

impl Target {
    /// The target as a file_sd target group of its own, borrowing its address and labels.
    pub fn group(&self) -> TargetGroup<'_> {
        TargetGroup { targets: vec![Cow::Borrowed(&self.address)], labels: Cow::Borrowed(&self.labels) }
    }
}

/// The `FILTER_LABEL` setting: `NAME` (label present) or `NAME=VALUE` (label has that value).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LabelFilter {
    pub name: String,
    pub value: Option<String>,
}

impl LabelFilter {
    pub fn parse(s: &str) -> Result<Self, String> {
        let (name, value) = match s.split_once('=') {
            Some((n, v)) => (n.trim(), Some(v.trim().to_string())),
            None => (s.trim(), None),
        };
        if name.is_empty() {
            return Err(format!("{s:?}: expected NAME or NAME=VALUE"));
        }
        Ok(Self { name: name.to_string(), value })
    }

    pub fn matches(&self, labels: &BTreeMap<String, String>) -> bool {
        match (labels.get(&self.name), &self.value) {
            (None, _) => false,
            (Some(_), None) => true,
            (Some(v), Some(want)) => v == want,
        }
    }
}

/// A scrape endpoint a container declares through its labels.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    /// `None` for the container's main endpoint.
    pub name: Option<String>,
    pub port: u16,
    pub path: Option<String>,
    pub scheme: Option<String>,
    pub job: Option<String>,
    pub server_name: Option<String>,
}

/// A container (or one of its endpoints) that has labels but yields no target, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    pub container: String,
    pub cause: SkipCause,
    /// The cause in words, with the label or port at fault, for the log.
    pub reason: String,
}

/// Why a labelled container yields no target, as a short stable token: the `reason` label of
/// `ecs_discovery_containers_skipped`, so alerts and dashboards can rely on the set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SkipCause {
    /// A `*_PORT` label that is not a port number.
    InvalidPortLabel,
    /// A `*_SCHEME` label that is neither http nor https.
    InvalidSchemeLabel,
    /// awsvpc: the task has no ENI private IPv4 address (yet).
    NoTaskIp,
    /// bridge: no host port is bound to the labelled container port.
    NoPortBinding,
    /// bridge or host: the container instance's IP could not be found.
    NoInstanceIp,
    /// Network mode `none`: nothing can reach the container.
    NetworkModeNone,
}

impl SkipCause {
    pub const ALL: [SkipCause; 6] = [
        SkipCause::InvalidPortLabel,
        SkipCause::InvalidSchemeLabel,
        SkipCause::NoTaskIp,
        SkipCause::NoPortBinding,
        SkipCause::NoInstanceIp,
        SkipCause::NetworkModeNone,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            SkipCause::InvalidPortLabel => "invalid_port_label",
            SkipCause::InvalidSchemeLabel => "invalid_scheme_label",
            SkipCause::NoTaskIp => "no_task_ip",
            SkipCause::NoPortBinding => "no_port_binding",
            SkipCause::NoInstanceIp => "no_instance_ip",
            SkipCause::NetworkModeNone => "network_mode_none",
        }
    }
}

/// Skipped containers (and endpoints) by cause.
pub type SkipCounts = BTreeMap<SkipCause, usize>;

/// Why something is skipped: its cause and the words for the log.
type Unusable = (SkipCause, String);

/// Whether a container asks to be scraped at all (any port label).
pub fn is_labelled(labels: &BTreeMap<String, String>) -> bool {
    labels.contains_key(PORT) || labels.contains_key(CW_PORT) || labels.keys().any(|k| extra_endpoint_name(k).is_some())
}

fn extra_endpoint_name(key: &str) -> Option<&str> {
    let name = key.strip_prefix(PREFIX)?.strip_suffix("_PORT")?;
    (!name.is_empty()).then_some(name)
}

fn port(labels: &BTreeMap<String, String>, key: &str) -> Result<Option<u16>, Unusable> {
    match labels.get(key) {
        None => Ok(None),
        Some(v) => match v.trim().parse::<u16>() {
            Ok(p) if p > 0 => Ok(Some(p)),
            _ => Err((SkipCause::InvalidPortLabel, format!("{key}={v:?} is not a port number"))),
        },
    }
}

fn scheme(labels: &BTreeMap<String, String>, key: &str) -> Result<Option<String>, Unusable> {
    match labels.get(key).map(|s| s.trim().to_ascii_lowercase()) {
        None => Ok(None),
        Some(s) if s == "http" || s == "https" => Ok(Some(s)),
        Some(s) => Err((SkipCause::InvalidSchemeLabel, format!("{key}={s:?} is neither http nor https"))),
    }
}

fn text(labels: &BTreeMap<String, String>, key: &str) -> Option<String> {
    labels.get(key).map(|s| s.trim()).filter(|s| !s.is_empty()).map(str::to_string)
}

/// The endpoints a container's labels declare, and the ones that are unusable.
pub fn endpoints(container: &str, labels: &BTreeMap<String, String>) -> (Vec<Endpoint>, Vec<Skipped>) {
    let mut found = Vec::new();
    let mut skipped = Vec::new();
    let mut skip =
        |(cause, reason): Unusable| skipped.push(Skipped { container: container.to_string(), cause, reason });

    let main = port(labels, PORT).and_then(|p| Ok((p, scheme(labels, SCHEME)?)));
    match main {
        Ok((Some(port), scheme)) => found.push(Endpoint {
            name: None,
            port,
            path: text(labels, PATH),
            scheme,
            job: text(labels, JOB_NAME),
            server_name: text(labels, SERVER_NAME).map(|s| s.trim_end_matches('/').to_string()),
        }),
        Ok((None, _)) => {}
        Err(e) => skip(e),
    }
    match port(labels, CW_PORT) {
        Ok(Some(port)) => {
            let cw = Endpoint {
                name: None,
                port,
                path: text(labels, CW_PATH),
                scheme: None,
                job: text(labels, CW_JOB_NAME),
                server_name: None,
            };
            match found.first() {
                None => found.push(cw),
                // Both label sets for the same port describe one endpoint: keep the first.
                Some(main) if main.port == cw.port => {}
                Some(_) => found.push(Endpoint { name: Some(CW_ENDPOINT_NAME.into()), ..cw }),
            }
        }
        Ok(None) => {}
        Err(e) => skip(e),
    }
    for key in labels.keys() {
        let Some(name) = extra_endpoint_name(key) else { continue };
        let field = |suffix: &str| format!("{PREFIX}{name}_{suffix}");
        let endpoint = port(labels, key).and_then(|p| Ok((p, scheme(labels, &field("SCHEME"))?)));
        match endpoint {
            Ok((Some(port), scheme)) => found.push(Endpoint {
                name: Some(name.to_ascii_lowercase()),
                port,
                path: text(labels, &field("PATH")),
                scheme,
                job: text(labels, &field("JOB_NAME")),
                server_name: text(labels, &field("SERVER_NAME")).map(|s| s.trim_end_matches('/').to_string()),
            }),
            Ok((None, _)) => {}
            Err(e) => skip(e),
        }
    }
    (found, skipped)
}

/// Target label names. `task_arn`, `task_name`, `task_revision`, `task_group`, `cluster_arn`,
/// `container_name`, `docker_image` are the community tool's, so its users' relabelling keeps
/// working; the others add the ECS facts it lacks.
pub mod label {
    pub const JOB: &str = "job";
    pub const METRICS_PATH: &str = "__metrics_path__";
    pub const SCHEME: &str = "__scheme__";
    pub const CLUSTER: &str = "cluster";
    pub const CLUSTER_ARN: &str = "cluster_arn";
    pub const SERVICE: &str = "service";
    pub const TASK_GROUP: &str = "task_group";
    pub const TASK_NAME: &str = "task_name";
    pub const TASK_REVISION: &str = "task_revision";
    pub const TASK_ARN: &str = "task_arn";
    pub const TASK_ID: &str = "task_id";
    pub const CONTAINER_NAME: &str = "container_name";
    pub const DOCKER_IMAGE: &str = "docker_image";
    pub const LAUNCH_TYPE: &str = "launch_type";
    pub const AVAILABILITY_ZONE: &str = "availability_zone";
    pub const ENDPOINT: &str = "endpoint";
}

/// Whether targets of this task need its container instance's IP (bridge and host mode), i.e.
/// whether the ECS and EC2 instance lookups are worth making.
pub fn needs_instance_ip(task: &TaskSnapshot, definition: &TaskDefinition, filter: Option<&LabelFilter>) -> bool {
    matches!(definition.network_mode_for(task), NetworkMode::Bridge | NetworkMode::Host)
        && definition
            .containers
            .iter()
            .any(|c| is_labelled(&c.docker_labels) && filter.is_none_or(|f| f.matches(&c.docker_labels)))
}

/// The targets of a running task; containers without a usable address are returned as skipped.
pub fn build(
    task: &TaskSnapshot,
    definition: &TaskDefinition,
    instance_ip: Option<&str>,
    filter: Option<&LabelFilter>,
) -> (Vec<Target>, Vec<Skipped>) {
    let mode = definition.network_mode_for(task);
    let mut targets = Vec::new();
    let mut skipped = Vec::new();
    for container in &definition.containers {
        if !is_labelled(&container.docker_labels) {
            continue;
        }
        if let Some(f) = filter {
            if !f.matches(&container.docker_labels) {
                tracing::debug!(task_arn = %task.task_arn, container = %container.name, filter = %f.name, "container does not match FILTER_LABEL");
                continue;
            }
        }
        let (endpoints, bad) = endpoints(&container.name, &container.docker_labels);
        skipped.extend(bad);
        let running = task.container(&container.name);
        for endpoint in endpoints {
            let host_port = match address(mode, task, running, instance_ip, endpoint.port) {
                Ok(hp) => hp,
                Err((cause, reason)) => {
                    let reason = match &endpoint.name {
                        Some(n) => format!("endpoint {n}: {reason}"),
                        None => reason,
                    };
                    skipped.push(Skipped { container: container.name.clone(), cause, reason });
                    continue;
                }
            };
            let (ip, port) = host_port;
            let host = endpoint.server_name.clone().unwrap_or(ip);
            let mut labels = facts(task, definition, &container.name, container.image.as_deref());
            let mut set = |k: &str, v: Option<String>| {
                if let Some(v) = v {
                    labels.insert(k.to_string(), v);
                }
            };
            set(label::JOB, endpoint.job);
            set(label::METRICS_PATH, endpoint.path);
            set(label::SCHEME, endpoint.scheme);
            set(label::ENDPOINT, endpoint.name);
            targets.push(Target { address: format!("{host}:{port}"), labels });
        }
    }
    (targets, skipped)
}

fn address(
    mode: NetworkMode,
    task: &TaskSnapshot,
    running: Option<&crate::task::ContainerState>,
    instance_ip: Option<&str>,
    container_port: u16,
) -> Result<(String, u16), Unusable> {
    let unknown_instance_ip =
        |mode: &str| (SkipCause::NoInstanceIp, format!("{mode} mode: the container instance's IP is unknown"));
    match mode {
        NetworkMode::Awsvpc => {
            let ip = task.eni_ip.clone().or_else(|| running.and_then(|c| c.private_ip.clone()));
            ip.map(|ip| (ip, container_port))
                .ok_or_else(|| (SkipCause::NoTaskIp, "awsvpc task has no ENI private IPv4 address yet".to_string()))
        }
        NetworkMode::Bridge => {
            let binding = running
                .and_then(|c| c.bindings.iter().find(|b| b.container_port == container_port))
                .ok_or_else(|| {
                    let reason = format!("bridge mode: no network binding for container port {container_port}");
                    (SkipCause::NoPortBinding, reason)
                })?;
            let ip = instance_ip.ok_or_else(|| unknown_instance_ip("bridge"))?;
            Ok((ip.to_string(), binding.host_port))
        }
        NetworkMode::Host => {
            let ip = instance_ip.ok_or_else(|| unknown_instance_ip("host"))?;
            Ok((ip.to_string(), container_port))
        }
        NetworkMode::None => {
            Err((SkipCause::NetworkModeNone, "network mode none: the container cannot be reached".to_string()))
        }
    }
}

fn facts(
    task: &TaskSnapshot,
    definition: &TaskDefinition,
    container: &str,
    image: Option<&str>,
) -> BTreeMap<String, String> {
    let mut l = BTreeMap::new();
    let mut put = |k: &str, v: &str| {
        if !v.is_empty() {
            l.insert(k.to_string(), v.to_string());
        }
    };
    put(label::CLUSTER, task.cluster_name());
    put(label::CLUSTER_ARN, &task.cluster_arn);
    if let Some(group) = &task.group {
        put(label::TASK_GROUP, group);
        if let Some(service) = group.strip_prefix("service:") {
            put(label::SERVICE, service);
        }
    }
    put(label::TASK_NAME, &definition.family);
    put(label::TASK_REVISION, &definition.revision.to_string());
    put(label::TASK_ARN, &task.task_arn);
    put(label::TASK_ID, task.task_id());
    put(label::CONTAINER_NAME, container);
    put(label::DOCKER_IMAGE, image.unwrap_or_default());
    put(label::LAUNCH_TYPE, task.launch_type.as_deref().unwrap_or_default());
    put(label::AVAILABILITY_ZONE, task.availability_zone.as_deref().unwrap_or_default());
    l
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::task::{ContainerDefinition, ContainerState, PortBinding};

    fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    fn task(mode_eni: bool) -> TaskSnapshot {
        TaskSnapshot {
            task_arn: "arn:aws:ecs:us-east-1:1:task/prod/t1".into(),
            cluster_arn: "arn:aws:ecs:us-east-1:1:cluster/prod".into(),
            task_definition_arn: "arn:aws:ecs:us-east-1:1:task-definition/app:7".into(),
            group: Some("service:api".into()),
            last_status: "RUNNING".into(),
            desired_status: Some("RUNNING".into()),
            version: Some(3),
            launch_type: Some(if mode_eni { "FARGATE" } else { "EC2" }.into()),
            availability_zone: Some("us-east-1a".into()),
            container_instance_arn: None,
            eni_ip: mode_eni.then(|| "10.0.0.9".to_string()),
            containers: vec![ContainerState {
                name: "web".into(),
                bindings: vec![PortBinding { container_port: 9100, host_port: 32771 }],
                private_ip: None,
            }],
        }
    }

    fn definition(mode: &str, docker_labels: BTreeMap<String, String>) -> TaskDefinition {
        TaskDefinition {
            arn: "arn:aws:ecs:us-east-1:1:task-definition/app:7".into(),
            family: "app".into(),
            revision: 7,
            network_mode: Some(mode.into()),
            fargate_only: false,
            containers: vec![
                ContainerDefinition { name: "web".into(), image: Some("img:1".into()), docker_labels },
                ContainerDefinition { name: "sidecar".into(), image: None, docker_labels: BTreeMap::new() },
            ],
        }
    }

    #[test]
    fn awsvpc_uses_the_eni_ip_and_carries_the_ecs_facts() {
        let d = definition("awsvpc", labels(&[(PORT, "9100"), (PATH, "/m"), (SCHEME, "HTTPS"), (JOB_NAME, "api")]));
        let (targets, skipped) = build(&task(true), &d, None, None);
        assert!(skipped.is_empty(), "{skipped:?}");
        assert_eq!(targets.len(), 1);
        let t = &targets[0];
        assert_eq!(t.address, "10.0.0.9:9100");
        let want = [
            ("job", "api"),
            ("__metrics_path__", "/m"),
            ("__scheme__", "https"),
            ("cluster", "prod"),
            ("service", "api"),
            ("task_group", "service:api"),
            ("task_name", "app"),
            ("task_revision", "7"),
            ("task_id", "t1"),
            ("container_name", "web"),
            ("docker_image", "img:1"),
            ("launch_type", "FARGATE"),
            ("availability_zone", "us-east-1a"),
        ];
        for (k, v) in want {
            assert_eq!(t.labels.get(k).map(String::as_str), Some(v), "label {k}");
        }
        assert!(!t.labels.contains_key("endpoint"));
    }

    #[test]
    fn bridge_uses_the_bound_host_port_and_instance_ip() {
        let d = definition("bridge", labels(&[(PORT, "9100")]));
        let (targets, _) = build(&task(false), &d, Some("172.31.0.4"), None);
        assert_eq!(targets[0].address, "172.31.0.4:32771");
        let (targets, skipped) = build(&task(false), &d, None, None);
        assert!(targets.is_empty());
        assert!(skipped[0].reason.contains("IP is unknown"), "{skipped:?}");
    }

    #[test]
    fn bridge_without_a_binding_for_the_port_is_skipped_with_the_reason() {
        let d = definition("bridge", labels(&[(PORT, "8080")]));
        let (targets, skipped) = build(&task(false), &d, Some("172.31.0.4"), None);
        assert!(targets.is_empty());
        assert_eq!(skipped[0].container, "web");
        assert!(skipped[0].reason.contains("8080"), "{skipped:?}");
    }

    #[test]
    fn host_mode_uses_the_container_port() {
        let d = definition("host", labels(&[(PORT, "9100")]));
        let (targets, _) = build(&task(false), &d, Some("172.31.0.4"), None);
        assert_eq!(targets[0].address, "172.31.0.4:9100");
    }

    #[test]
    fn several_endpoints_per_container_are_named() {
        let d = definition(
            "awsvpc",
            labels(&[
                (PORT, "9100"),
                ("PROMETHEUS_EXPORTER_ADMIN_PORT", "9200"),
                ("PROMETHEUS_EXPORTER_ADMIN_PATH", "/admin/metrics"),
                ("PROMETHEUS_EXPORTER_ADMIN_JOB_NAME", "admin"),
                (CW_PORT, "9300"),
                (CW_PATH, "/cw"),
            ]),
        );
        let (mut targets, skipped) = build(&task(true), &d, None, None);
        assert!(skipped.is_empty());
        targets.sort_by(|a, b| a.address.cmp(&b.address));
        let got: Vec<_> = targets
            .iter()
            .map(|t| {
                (
                    t.address.as_str(),
                    t.labels.get("endpoint").map(String::as_str),
                    t.labels.get("__metrics_path__").map(String::as_str),
                )
            })
            .collect();
        assert_eq!(
            got,
            [
                ("10.0.0.9:9100", None, None),
                ("10.0.0.9:9200", Some("admin"), Some("/admin/metrics")),
                ("10.0.0.9:9300", Some("cwagent"), Some("/cw")),
            ]
        );
        assert_eq!(targets[1].labels["job"], "admin");
    }

    #[test]
    fn cloudwatch_agent_labels_alone_make_a_target_and_merge_with_the_same_port() {
        let d = definition("awsvpc", labels(&[(CW_PORT, "9404"), (CW_PATH, "/jmx"), (CW_JOB_NAME, "jmx")]));
        let (targets, _) = build(&task(true), &d, None, None);
        assert_eq!(targets.len(), 1);
        assert_eq!(targets[0].labels["job"], "jmx");
        assert_eq!(targets[0].labels["__metrics_path__"], "/jmx");
        let d = definition("awsvpc", labels(&[(PORT, "9404"), (CW_PORT, "9404")]));
        assert_eq!(build(&task(true), &d, None, None).0.len(), 1);
    }

    #[test]
    fn bad_ports_and_schemes_are_skipped_with_the_reason() {
        let d = definition(
            "awsvpc",
            labels(&[(PORT, "http"), ("PROMETHEUS_EXPORTER_X_PORT", "1"), ("PROMETHEUS_EXPORTER_X_SCHEME", "ftp")]),
        );
        let (targets, skipped) = build(&task(true), &d, None, None);
        assert!(targets.is_empty());
        let reasons: Vec<_> = skipped.iter().map(|s| s.reason.as_str()).collect();
        assert!(reasons[0].contains("PROMETHEUS_EXPORTER_PORT=\"http\""), "{reasons:?}");
        assert!(reasons[1].contains("ftp"), "{reasons:?}");
    }

    #[test]
    fn server_name_replaces_the_host() {
        let d = definition("awsvpc", labels(&[(PORT, "443"), (SERVER_NAME, "api.example.com/")]));
        assert_eq!(build(&task(true), &d, None, None).0[0].address, "api.example.com:443");
    }

    #[test]
    fn the_filter_label_selects_containers() {
        let d = definition("awsvpc", labels(&[(PORT, "9100"), ("SCRAPE", "yes")]));
        let f = |s| LabelFilter::parse(s).unwrap();
        assert_eq!(build(&task(true), &d, None, Some(&f("SCRAPE"))).0.len(), 1);
        assert_eq!(build(&task(true), &d, None, Some(&f("SCRAPE=yes"))).0.len(), 1);
        assert_eq!(build(&task(true), &d, None, Some(&f("SCRAPE=no"))).0.len(), 0);
        assert_eq!(build(&task(true), &d, None, Some(&f("OTHER"))).0.len(), 0);
        assert!(LabelFilter::parse("=x").is_err());
    }

    /// Each cause has its own token, and the tokens are the `reason` values dashboards use.
    #[test]
    fn every_skip_carries_its_cause() {
        let bad_labels = labels(&[(PORT, "http"), (CW_PORT, "9300"), ("PROMETHEUS_EXPORTER_X_PORT", "9400")]);
        let mut bad_labels_scheme = bad_labels.clone();
        bad_labels_scheme.insert("PROMETHEUS_EXPORTER_X_SCHEME".into(), "ftp".into());
        let cases = [
            ("awsvpc", bad_labels_scheme, true, None, vec![SkipCause::InvalidPortLabel, SkipCause::InvalidSchemeLabel]),
            ("awsvpc", labels(&[(PORT, "9100")]), false, None, vec![SkipCause::NoTaskIp]),
            ("bridge", labels(&[(PORT, "8080")]), false, Some("172.31.0.4"), vec![SkipCause::NoPortBinding]),
            ("bridge", labels(&[(PORT, "9100")]), false, None, vec![SkipCause::NoInstanceIp]),
            ("host", labels(&[(PORT, "9100")]), false, None, vec![SkipCause::NoInstanceIp]),
            ("none", labels(&[(PORT, "9100")]), false, None, vec![SkipCause::NetworkModeNone]),
        ];
        for (mode, docker_labels, eni, ip, want) in cases {
            let (_, skipped) = build(&task(eni), &definition(mode, docker_labels), ip, None);
            let got: Vec<SkipCause> = skipped.iter().map(|s| s.cause).collect();
            assert_eq!(got, want, "{mode}: {skipped:?}");
        }
        for cause in SkipCause::ALL {
            assert_eq!(serde_json::to_value(cause).unwrap(), cause.as_str(), "the outcome's name is the label's");
        }
        let tokens: Vec<&str> = SkipCause::ALL.iter().map(|c| c.as_str()).collect();
        assert_eq!(
            tokens,
            [
                "invalid_port_label",
                "invalid_scheme_label",
                "no_task_ip",
                "no_port_binding",
                "no_instance_ip",
                "network_mode_none"
            ]
        );
    }
}
