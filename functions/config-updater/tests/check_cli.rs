//! `config-updater check DIR`, the binary itself: exit 0 on a good repo, every problem and exit 1
//! on a bad one (what a config repo's pipeline runs before it merges).

use std::path::Path;
use std::process::Command;

fn check(dir: &Path, cluster: Option<&str>) -> (i32, String, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_config-updater"));
    // The example's other template variables; CLUSTER is the one the tests leave out or set.
    cmd.arg("check").arg(dir).env_remove("CLUSTER").env("ACCOUNT_ALIAS", "demo").env("PRODUCT", "demo");
    if let Some(c) = cluster {
        cmd.env("CLUSTER", c);
    }
    let out = cmd.output().unwrap();
    (
        out.status.code().unwrap(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn the_example_repo_passes() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/config-repo");
    let (code, stdout, stderr) = check(&dir, Some("ci"));
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(stdout.contains("OK: 35 rules in 8 groups from 4 rule files"), "{stdout}");
}

#[test]
fn every_problem_is_listed_and_the_exit_code_is_1() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    std::fs::create_dir_all(root.join("rules")).unwrap();
    std::fs::write(
        root.join("prometheus.yml"),
        "global:\n  external_labels:\n    cluster: $(CLUSTER)\nrule_files: [rules.d/*.yml]\n",
    )
    .unwrap();
    std::fs::write(root.join("rules/a.yml"), "groups:\n  - name: a\n    rules:\n      - alert: A\n        expr: up ==\n      - record: b\n        alert: B\n        expr: up\n").unwrap();
    std::fs::write(root.join("rules/latin1.yml"), b"groups: [] # caf\xe9\n").unwrap();
    let (code, _, stderr) = check(root, None);
    assert_eq!(code, 1, "{stderr}");
    for needle in [
        "prometheus.yml:3: $(CLUSTER) references an environment variable that is not set",
        "rules/a.yml:4: rule \"A\": expr does not parse as PromQL",
        "rules/a.yml:6: rule \"B\": only one of 'record' and 'alert' may be set",
        "rules/latin1.yml: not UTF-8",
        "4 problem(s)",
    ] {
        assert!(stderr.contains(needle), "missing {needle:?} in\n{stderr}");
    }
    let (code, _, stderr) = check(&root.join("missing"), Some("x"));
    assert_eq!(code, 1, "{stderr}");
    let out = Command::new(env!("CARGO_BIN_EXE_config-updater")).arg("bogus").output().unwrap();
    assert_eq!(out.status.code(), Some(2));
}
