//! Applying one task state change to a cluster file of 1,000 targets: the function's own time,
//! AWS left out (the task definition is already cached, as it is after a container's first
//! event; awsvpc needs no instance lookup). Each iteration is a real update on disk: lock,
//! read the state record, apply, render, atomic write (fsync, rename) of file and record.
//! Also prints the peak heap one such event takes (a counting allocator).
//! `cargo bench -p ecs-discovery --bench apply_event`

use std::alloc::{GlobalAlloc, Layout, System};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};

use criterion::{criterion_group, criterion_main, Criterion};
use ecs_discovery::aws::AwsApi;
use ecs_discovery::file_sd::{ClusterState, TaskRecord};
use ecs_discovery::targets::Target;
use ecs_discovery::task::{ContainerDefinition, TaskDefinition};
use ecs_discovery::{handle_value, Config, Deps, Outcome};
use serde_json::{json, Value};

struct Counting;
static CURRENT: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let now = CURRENT.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
        PEAK.fetch_max(now, Ordering::Relaxed);
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        CURRENT.fetch_sub(layout.size(), Ordering::Relaxed);
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

const CLUSTER_ARN: &str = "arn:aws:ecs:us-east-1:111122223333:cluster/prod";
const DEFINITION: &str = "arn:aws:ecs:us-east-1:111122223333:task-definition/api:7";
const TARGETS: usize = 1_000;

fn task_arn(i: usize) -> String {
    format!("arn:aws:ecs:us-east-1:111122223333:task/prod/{i:032x}")
}

/// A target as the function builds them (the ECS facts as labels).
fn target(i: usize) -> Target {
    let labels: BTreeMap<String, String> = [
        ("cluster", "prod".to_string()),
        ("cluster_arn", CLUSTER_ARN.to_string()),
        ("container_name", "web".to_string()),
        ("docker_image", "example/web:1".to_string()),
        ("job", "api".to_string()),
        ("launch_type", "FARGATE".to_string()),
        ("availability_zone", "us-east-1a".to_string()),
        ("service", "api".to_string()),
        ("task_arn", task_arn(i)),
        ("task_group", "service:api".to_string()),
        ("task_id", format!("{i:032x}")),
        ("task_name", "api".to_string()),
        ("task_revision", "7".to_string()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    Target { address: format!("10.0.{}.{}:9100", i / 250, i % 250), labels }
}

fn event(version: i64, running: bool) -> Value {
    let status = if running { "RUNNING" } else { "STOPPED" };
    json!({
        "detail-type": "ECS Task State Change",
        "source": "aws.ecs",
        "detail": {
            "taskArn": task_arn(TARGETS), "clusterArn": CLUSTER_ARN, "taskDefinitionArn": DEFINITION,
            "group": "service:api", "lastStatus": status, "desiredStatus": status, "version": version,
            "launchType": "FARGATE", "availabilityZone": "us-east-1a",
            "attachments": [{"type": "eni", "details": [{"name": "privateIPv4Address", "value": "10.9.9.9"}]}],
            "containers": [{"name": "web", "lastStatus": status}]
        }
    })
}

fn apply_one_event(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let sdk = aws_config::SdkConfig::builder()
        .behavior_version(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new("us-east-1"))
        .build();
    let config = Config { file_sd_dir: dir.path().to_path_buf(), ..Config::default() };
    let deps = Deps::new(AwsApi::new(&sdk, 1), config);
    deps.cache.insert_definition(TaskDefinition {
        arn: DEFINITION.into(),
        family: "api".into(),
        revision: 7,
        network_mode: Some("awsvpc".into()),
        fargate_only: true,
        containers: vec![ContainerDefinition {
            name: "web".into(),
            image: Some("example/web:1".into()),
            docker_labels: [("PROMETHEUS_EXPORTER_PORT".to_string(), "9100".to_string())].into(),
        }],
    });
    // 1,000 running tasks with one target each.
    deps.store
        .update_blocking("prod", |_| {
            let mut s = ClusterState::new();
            for i in 0..TARGETS {
                let r = TaskRecord {
                    version: 2,
                    running: true,
                    seq: 1,
                    changed_at: u64::MAX / 2,
                    targets: vec![target(i)],
                };
                s.tasks.insert(task_arn(i), r);
            }
            Ok::<_, ()>((Some(s), ()))
        })
        .unwrap()
        .unwrap();
    let file_bytes = std::fs::metadata(deps.store.file_path("prod")).unwrap().len();
    let record_bytes = std::fs::metadata(deps.store.state_path("prod")).unwrap().len();

    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
    // Each event is newer than the last and flips the task between running and stopped, so
    // every iteration changes the file (1,000 or 1,001 targets).
    let mut version = 10;
    let mut next = || {
        version += 1;
        event(version, version % 2 == 0)
    };

    let e = next();
    let before = CURRENT.load(Ordering::Relaxed);
    PEAK.store(before, Ordering::Relaxed);
    let out = rt.block_on(handle_value(&e, &deps)).unwrap();
    assert!(matches!(out, Outcome::Applied { .. }), "{out:?}");
    let peak = PEAK.load(Ordering::Relaxed) - before;
    eprintln!(
        "apply one event to {TARGETS} targets: file {file_bytes} B, state record {record_bytes} B, peak heap of the event {:.1} MiB",
        peak as f64 / (1024.0 * 1024.0)
    );

    let mut group = c.benchmark_group("apply_event");
    group.sample_size(50);
    group.bench_function("1000_targets", |b| {
        b.iter_batched(&mut next, |e| rt.block_on(handle_value(&e, &deps)).unwrap(), criterion::BatchSize::SmallInput)
    });
    // The same without the disk: parse + apply + render, what the 5 ms goal is about when the
    // file system is slow (EFS adds its latency per fsync/rename on top).
    let state = deps.store.read_state("prod").unwrap();
    group.bench_function("1000_targets_in_memory", |b| {
        b.iter_batched(
            || (state.clone(), next()),
            |(s, e)| {
                let ecs_discovery::event::Invocation::TaskChange(task) = ecs_discovery::event::parse(&e).unwrap()
                else {
                    unreachable!()
                };
                let observed = ecs_discovery::apply::Observed {
                    task_arn: task.task_arn.clone(),
                    version: task.version,
                    running: task.is_running(),
                    targets: vec![target(TARGETS)],
                };
                let s = ecs_discovery::apply::apply_event(Ok(s), observed, 0).unwrap().unwrap();
                (ecs_discovery::file_sd::render(&s), serde_json::to_vec(&s).unwrap())
            },
            criterion::BatchSize::SmallInput,
        )
    });
    group.finish();
}

criterion_group!(benches, apply_one_event);
criterion_main!(benches);
