//! ecs-discovery's EventBridge event: classification and the parse of an ECS task state change.
#![no_main]

use ecs_discovery::event::{self, Invocation};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(value) = serde_json::from_slice::<serde_json::Value>(data) else { return };
    if let Ok(Invocation::TaskChange(task)) = event::parse(&value) {
        // What the handler relies on after a parse: the required fields are there.
        assert!(!task.task_arn.is_empty() && !task.cluster_arn.is_empty(), "{task:?}");
    }
    // The detail alone, as the reconcile's comparison reads it.
    if let Some(detail) = value.get("detail") {
        let _ = event::parse_task_detail(detail);
    }
});
