//! config-updater against real servers: a real Prometheus (lifecycle API on) reading the test's
//! stand-in for the EFS volume, a real `git http-backend` serving a repo the test commits to,
//! moto for Secrets Manager, and a local Bitbucket status API that records what it is sent.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use config_updater::check::check_dir;
use config_updater::deploy::{self, Applied};
use config_updater::layout::Layout;
use config_updater::settings::Limits;
use config_updater::Error;
use harness::Prometheus;
use serde_json::Value;

fn example_repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/config-repo")
}

fn vars() -> BTreeMap<String, String> {
    [("CLUSTER".to_string(), "itest".to_string())].into()
}

async fn config_yaml(prom: &Prometheus) -> String {
    prom.api("/api/v1/status/config").await["yaml"].as_str().unwrap().to_string()
}

/// `group/rule` names Prometheus has loaded.
async fn loaded_rules(prom: &Prometheus) -> Vec<String> {
    let data = prom.api("/api/v1/rules").await;
    let mut out = Vec::new();
    for group in data["groups"].as_array().unwrap() {
        for rule in group["rules"].as_array().unwrap() {
            out.push(format!("{}/{}", group["name"].as_str().unwrap(), rule["name"].as_str().unwrap()));
        }
    }
    out.sort();
    out
}

fn read_tree(root: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap().flatten() {
            let path = entry.path();
            let rel = path.strip_prefix(root).unwrap().to_string_lossy().into_owned();
            if rel == ".promstack" {
                continue;
            }
            if path.is_dir() {
                stack.push(path);
            } else {
                out.insert(rel, std::fs::read(&path).unwrap());
            }
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread")]
async fn example_repo_deploys_and_a_rejected_release_is_rolled_back() {
    let volume = tempfile::tempdir().unwrap();
    let prom = Prometheus::builder().config_dir(volume.path()).start();
    let urls = vec![prom.url()];

    let release = check_dir(&example_repo(), &Layout::default(), Limits::default(), &vars())
        .unwrap_or_else(|p| panic!("{}", config_updater::validate::describe(&p)));
    deploy::prepare(volume.path()).unwrap();
    let applied = deploy::apply(volume.path(), "c1", "main", &release, &urls).await.unwrap();
    let Applied::Deployed { previous: None, replicas, .. } = applied else { panic!("{applied:?}") };
    assert_eq!(replicas.len(), 1);
    let yaml = config_yaml(&prom).await;
    assert!(yaml.contains("cluster: itest"), "{yaml}");
    assert!(yaml.contains("file_sd/ecs/*.json"), "{yaml}");
    let rules = loaded_rules(&prom).await;
    assert!(rules.contains(&"prometheus/TargetDown".to_string()), "{rules:?}");
    assert!(rules.contains(&"ecs/ecs:up:by_host".to_string()), "{rules:?}");
    assert_eq!(deploy::read_record(volume.path()).unwrap().unwrap().commit, "c1");

    // The same commit again: nothing to do.
    assert_eq!(deploy::apply(volume.path(), "c1", "main", &release, &urls).await.unwrap(), Applied::Unchanged);

    // A rule our checks accept (promql-parser knows Prometheus 3 functions) but Prometheus 2.42
    // rejects: the reload fails, the previous release comes back and is reloaded.
    let before = read_tree(volume.path());
    let mut bad = release.clone();
    bad.files.insert(
        "rules.d/forecast.yml".into(),
        b"groups:\n  - name: forecast\n    rules:\n      - alert: LoadRising\n        expr: double_exponential_smoothing(node_load1[10m], 0.5, 0.5) > 10\n".to_vec(),
    );
    bad.files.remove("rules.d/ecs.yml");
    let err = deploy::apply(volume.path(), "c2", "main", &bad, &urls).await.unwrap_err();
    let Error::Reload(message) = &err else { panic!("{err}") };
    assert!(message.contains("c2") && message.contains("restored and reloaded"), "{message}");
    assert_eq!(read_tree(volume.path()), before, "the volume is back to the previous release");
    assert_eq!(deploy::read_record(volume.path()).unwrap().unwrap().commit, "c1");
    let rules = loaded_rules(&prom).await;
    assert!(rules.contains(&"ecs/ecs:up:by_host".to_string()), "{rules:?}");
    assert!(!rules.iter().any(|r| r.starts_with("forecast/")), "{rules:?}");
    let info: Value = prom.api("/api/v1/status/runtimeinfo").await;
    assert_eq!(info["reloadConfigSuccess"], true, "the rollback reloaded cleanly: {info}");

    // A good next release removes the files its commit removed.
    let mut next = release.clone();
    next.files.remove("rules.d/ecs.yml");
    deploy::apply(volume.path(), "c3", "main", &next, &urls).await.unwrap();
    assert!(!volume.path().join("rules.d/ecs.yml").exists());
    assert!(volume.path().join(".promstack/previous/rules.d/ecs.yml").exists(), "the previous release is kept");
    let rules = loaded_rules(&prom).await;
    assert!(!rules.iter().any(|r| r.starts_with("ecs/")), "{rules:?}");
}
