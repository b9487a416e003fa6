//! `cloudwatch-exporter verify-config FILE`, as a config repo's pipeline runs it: exit 0, or the
//! error (field and place) and exit 1.

use std::process::Command;

fn verify(yaml: &str) -> std::process::Output {
    let dir = tempfile_dir();
    let path = dir.join("yace.yml");
    std::fs::write(&path, yaml).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_cloudwatch-exporter")).arg("verify-config").arg(&path).output().unwrap();
    std::fs::remove_dir_all(&dir).ok();
    out
}

fn tempfile_dir() -> std::path::PathBuf {
    use std::sync::atomic::{AtomicU32, Ordering};
    static N: AtomicU32 = AtomicU32::new(0);
    let dir =
        std::env::temp_dir().join(format!("cwe-verify-{}-{}", std::process::id(), N.fetch_add(1, Ordering::Relaxed)));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn the_example_configs_pass() {
    for file in ["demo.yml", "full.yml"] {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/yace/").to_string() + file;
        let out =
            Command::new(env!("CARGO_BIN_EXE_cloudwatch-exporter")).arg("verify-config").arg(&path).output().unwrap();
        assert!(out.status.success(), "{file}: {}", String::from_utf8_lossy(&out.stderr));
        assert!(String::from_utf8_lossy(&out.stdout).contains(": ok ("));
    }
}

#[test]
fn a_bad_config_exits_1_naming_the_field() {
    let out = verify("discovery:\n  jobs:\n    - type: AWS/EC2\n      regions: [us-east-1]\n      roundingPeriods: 60\n      metrics: [{name: CPUUtilization, statistics: [Average]}]\n");
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("discovery.jobs[0]: unknown field `roundingPeriods` (did you mean `roundingPeriod`?)"),
        "{err}"
    );
    assert!(err.contains("line 5"), "{err}");
    let out = verify("discovery:\n  jobs:\n    - type: AWS/EC2\n      regions: [us-east-1]\n      metrics: [{name: CPUUtilization, statistics: [Median]}]\n");
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr)
        .contains("discovery.jobs[0].metrics[0].statistics[0]: unknown statistic \"Median\""));
    let out = Command::new(env!("CARGO_BIN_EXE_cloudwatch-exporter"))
        .args(["verify-config", "/nonexistent/yace.yml"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn warnings_are_printed_and_the_config_still_passes() {
    let out = verify("apiVersion: v1alpha1\ndiscovery:\n  jobs:\n    - type: AWS/EC2\n      regions: [us-east-1]\n      roundingPeriod: 60\n      delay: 120\n      metrics: [{name: CPUUtilization, statistics: [Average], delay: 300}]\n");
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 3, "{stdout}");
    assert!(lines[0].ends_with(": ok (1 jobs, 1 metrics)"), "{stdout}");
    assert!(lines[1].contains(": warning: discovery.jobs[0].roundingPeriod: deprecated"), "{stdout}");
    assert!(lines[2].contains(": warning: discovery.jobs[0].metrics[0].delay: ignored"), "{stdout}");
}

/// YACE's own examples (tests/yace-configs, from YACE 1a0ddb1e examples/ and docker-compose/)
/// pass `verify-config`, including examples/lambda_edge.yml's static job-level period.
#[test]
fn yaces_example_configs_pass() {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/yace-configs");
    let mut files = Vec::new();
    for dir in ["examples", "docker-compose"] {
        for entry in std::fs::read_dir(format!("{root}/{dir}")).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "yml" || e == "yaml") {
                files.push(path);
            }
        }
    }
    assert_eq!(files.len(), 38);
    for path in files {
        let out =
            Command::new(env!("CARGO_BIN_EXE_cloudwatch-exporter")).arg("verify-config").arg(&path).output().unwrap();
        assert!(out.status.success(), "{}: {}", path.display(), String::from_utf8_lossy(&out.stderr));
        let stdout = String::from_utf8_lossy(&out.stdout);
        if path.ends_with("examples/lambda_edge.yml") {
            assert!(stdout.contains("warning: static[0].period: ignored"), "{stdout}");
        }
    }
}
