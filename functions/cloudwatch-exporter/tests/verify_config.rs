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
    let out = verify("discovery:\n  jobs:\n    - type: AWS/EC2\n      regions: [us-east-1]\n      roundingPeriod: 60\n      metrics: [{name: CPUUtilization, statistics: [Average]}]\n");
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("discovery.jobs[0]: unknown field `roundingPeriod`"), "{err}");
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
