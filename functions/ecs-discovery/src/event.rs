//! The events the function is invoked with: EventBridge "ECS Task State Change" (one task, as
//! ECS saw it at `detail.version`) and the scheduled event that starts a reconcile.
//!
//! Parsing is lenient where ECS is (unknown fields are ignored, most fields optional) and strict
//! where correctness needs it: without the task and cluster ARNs, the task definition, the
//! status and the version, an event cannot be applied safely and is rejected.

use serde::Deserialize;
use serde_json::Value;

use crate::error::Error;
use crate::task::{ContainerState, PortBinding, TaskSnapshot};

pub const TASK_STATE_CHANGE: &str = "ECS Task State Change";
pub const SCHEDULED_EVENT: &str = "Scheduled Event";

/// What an invocation asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Invocation {
    TaskChange(Box<TaskSnapshot>),
    Reconcile,
}

/// Classifies and parses an incoming event.
pub fn parse(event: &Value) -> Result<Invocation, Error> {
    let detail_type = event.get("detail-type").and_then(Value::as_str);
    match detail_type {
        Some(TASK_STATE_CHANGE) => {
            let detail = event
                .get("detail")
                .ok_or_else(|| Error::MalformedEvent { task: "(unknown)".into(), reason: "no `detail`".into() })?;
            parse_task_detail(detail).map(|t| Invocation::TaskChange(Box::new(t)))
        }
        Some(SCHEDULED_EVENT) => Ok(Invocation::Reconcile),
        Some(other) => Err(Error::UnsupportedEvent(format!(
            "detail-type {other:?} (expected {TASK_STATE_CHANGE:?} or {SCHEDULED_EVENT:?})"
        ))),
        None => Err(Error::UnsupportedEvent("no `detail-type`: not an EventBridge event".into())),
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Detail {
    task_arn: Option<String>,
    cluster_arn: Option<String>,
    task_definition_arn: Option<String>,
    group: Option<String>,
    last_status: Option<String>,
    desired_status: Option<String>,
    version: Option<i64>,
    launch_type: Option<String>,
    availability_zone: Option<String>,
    container_instance_arn: Option<String>,
    #[serde(default)]
    attachments: Vec<Attachment>,
    #[serde(default)]
    containers: Vec<Container>,
}

#[derive(Deserialize)]
struct Attachment {
    #[serde(rename = "type")]
    kind: Option<String>,
    #[serde(default)]
    details: Vec<NameValue>,
}

#[derive(Deserialize)]
struct NameValue {
    name: Option<String>,
    value: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Container {
    name: Option<String>,
    #[serde(default)]
    network_bindings: Vec<Binding>,
    #[serde(default)]
    network_interfaces: Vec<Interface>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Binding {
    container_port: Option<i64>,
    host_port: Option<i64>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Interface {
    private_ipv4_address: Option<String>,
}

/// ENI attachments are typed `eni` in events and `ElasticNetworkInterface` in DescribeTasks.
pub fn is_eni_attachment(kind: &str) -> bool {
    kind.eq_ignore_ascii_case("eni") || kind == "ElasticNetworkInterface"
}

/// Reads the `detail` of an "ECS Task State Change" event.
pub fn parse_task_detail(detail: &Value) -> Result<TaskSnapshot, Error> {
    let task_hint = detail.get("taskArn").and_then(Value::as_str).unwrap_or("(unknown)").to_string();
    let malformed = |reason: String| Error::MalformedEvent { task: task_hint.clone(), reason };
    let d = Detail::deserialize(detail).map_err(|e| malformed(format!("detail: {e}")))?;
    let require = |v: Option<String>, field: &str| {
        v.filter(|s| !s.is_empty()).ok_or_else(|| malformed(format!("detail.{field} is missing")))
    };
    let task_arn = require(d.task_arn, "taskArn")?;
    let cluster_arn = require(d.cluster_arn, "clusterArn")?;
    let task_definition_arn = require(d.task_definition_arn, "taskDefinitionArn")?;
    let last_status = require(d.last_status, "lastStatus")?;
    // Without a version an old event could undo a newer one: refuse it.
    let version = d.version.ok_or_else(|| malformed("detail.version is missing".into()))?;
    let eni_ip = d
        .attachments
        .iter()
        .filter(|a| a.kind.as_deref().is_some_and(is_eni_attachment))
        .flat_map(|a| a.details.iter())
        .find(|kv| kv.name.as_deref() == Some("privateIPv4Address"))
        .and_then(|kv| kv.value.clone());
    let mut containers = Vec::with_capacity(d.containers.len());
    for c in d.containers {
        let name = c.name.ok_or_else(|| malformed("a container has no name".into()))?;
        let mut bindings = Vec::new();
        for b in c.network_bindings {
            let (Some(cp), Some(hp)) = (b.container_port, b.host_port) else { continue };
            let port =
                |p: i64| u16::try_from(p).map_err(|_| malformed(format!("container {name}: port {p} out of range")));
            bindings.push(PortBinding { container_port: port(cp)?, host_port: port(hp)? });
        }
        let private_ip = c.network_interfaces.into_iter().find_map(|i| i.private_ipv4_address);
        containers.push(ContainerState { name, bindings, private_ip });
    }
    Ok(TaskSnapshot {
        task_arn,
        cluster_arn,
        task_definition_arn,
        group: d.group,
        last_status,
        desired_status: d.desired_status,
        version: Some(version),
        launch_type: d.launch_type,
        availability_zone: d.availability_zone,
        container_instance_arn: d.container_instance_arn,
        eni_ip,
        containers,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn running() -> Value {
        json!({
            "detail-type": TASK_STATE_CHANGE,
            "source": "aws.ecs",
            "detail": {
                "taskArn": "arn:aws:ecs:us-east-1:1:task/prod/abc",
                "clusterArn": "arn:aws:ecs:us-east-1:1:cluster/prod",
                "taskDefinitionArn": "arn:aws:ecs:us-east-1:1:task-definition/app:3",
                "lastStatus": "RUNNING", "desiredStatus": "RUNNING", "version": 4,
                "someFutureField": {"x": 1},
                "attachments": [{"type": "eni", "details": [{"name": "privateIPv4Address", "value": "10.0.0.5"}]}],
                "containers": [{"name": "web", "networkBindings": [{"containerPort": 9100, "hostPort": 32768, "bindIP": "0.0.0.0"}]}]
            }
        })
    }

    #[test]
    fn reads_a_task_change_and_ignores_unknown_fields() {
        let Invocation::TaskChange(t) = parse(&running()).unwrap() else { panic!() };
        assert_eq!(t.version, Some(4));
        assert_eq!(t.eni_ip.as_deref(), Some("10.0.0.5"));
        assert_eq!(t.cluster_name(), "prod");
        assert_eq!(t.task_id(), "abc");
        assert_eq!(t.containers[0].bindings, [PortBinding { container_port: 9100, host_port: 32768 }]);
        assert!(t.is_running());
    }

    #[test]
    fn both_eni_attachment_spellings_count() {
        let mut e = running();
        e["detail"]["attachments"][0]["type"] = json!("ElasticNetworkInterface");
        let Invocation::TaskChange(t) = parse(&e).unwrap() else { panic!() };
        assert_eq!(t.eni_ip.as_deref(), Some("10.0.0.5"));
    }

    #[test]
    fn an_event_without_version_is_rejected_naming_the_task() {
        let mut e = running();
        e["detail"].as_object_mut().unwrap().remove("version");
        let err = parse(&e).unwrap_err().to_string();
        assert!(err.contains("task/prod/abc") && err.contains("version"), "{err}");
    }

    #[test]
    fn wrong_types_are_rejected_naming_the_task() {
        let mut e = running();
        e["detail"]["version"] = json!("four");
        let err = parse(&e).unwrap_err().to_string();
        assert!(err.contains("task/prod/abc"), "{err}");
    }

    #[test]
    fn scheduled_events_reconcile_and_others_are_refused() {
        assert_eq!(parse(&json!({"detail-type": "Scheduled Event", "detail": {}})).unwrap(), Invocation::Reconcile);
        assert!(matches!(parse(&json!({"detail-type": "EC2 thing"})), Err(Error::UnsupportedEvent(_))));
        assert!(matches!(parse(&json!({"hello": 1})), Err(Error::UnsupportedEvent(_))));
    }

    #[test]
    fn desired_stopped_means_not_running() {
        let mut e = running();
        e["detail"]["desiredStatus"] = json!("STOPPED");
        let Invocation::TaskChange(t) = parse(&e).unwrap() else { panic!() };
        assert!(!t.is_running());
    }
}
