//! The servers config-updater works with, started together: moto holding the webhook secret and
//! the Bitbucket token in Secrets Manager, a real `git http-backend` serving the config repo, the
//! local Bitbucket status API, and a real Prometheus reading the stand-in EFS directory. Shared by
//! `tests/config_updater.rs` and the webhook-to-reload bench.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use config_updater::fetch::GitAuth;
use config_updater::handler::{handle_value, HttpResponse};
use config_updater::layout::Layout;
use config_updater::settings::{Flavor, Limits};
use config_updater::{Deps, Settings};
use serde_json::Value;

use crate::bitbucket::BitbucketApi;
use crate::git::GitServer;
use crate::{Moto, Prometheus};

/// The example config repository (`examples/config-repo/`).
pub fn example_repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/config-repo")
}

/// The template variables the example repo needs.
pub fn vars() -> BTreeMap<String, String> {
    [("CLUSTER", "itest"), ("ACCOUNT_ALIAS", "acme-prod"), ("PRODUCT", "shop")]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// The secret the sample events in `events/` are signed with.
pub const WEBHOOK_SECRET: &str = "demo-webhook-secret";
pub const TOKEN: &str = "bitbucket-access-token";
pub const REPOSITORY: &str = "ops/prometheus-config";

/// Every server config-updater talks to, and the function's dependencies wired to them.
pub struct Stack {
    pub deps: Deps,
    pub git: GitServer,
    pub bitbucket: BitbucketApi,
    pub prom: Prometheus,
    pub volume: tempfile::TempDir,
    pub moto: Moto,
}

impl Stack {
    /// Every server, the example repo committed to `main` (not deployed yet).
    pub async fn start() -> (Stack, String) {
        let moto = Moto::start();
        let sdk = moto.sdk_config().await;
        let sm = aws_sdk_secretsmanager::Client::new(&sdk);
        let mut arns = Vec::new();
        for (name, value) in [("webhook", WEBHOOK_SECRET), ("token", TOKEN)] {
            let out =
                sm.create_secret().name(format!("config-updater/{name}")).secret_string(value).send().await.unwrap();
            arns.push(out.arn().unwrap().to_string());
        }
        let git = GitServer::start(TOKEN);
        git.replace_with(&example_repo());
        let first = git.commit("example config");
        let bitbucket = BitbucketApi::start(TOKEN);
        let volume = tempfile::tempdir().unwrap();
        let prom = Prometheus::builder().config_dir(volume.path()).start();
        let settings = Settings {
            repo_url: git.url(),
            branch: "main".into(),
            repository: REPOSITORY.into(),
            flavor: Flavor::Cloud,
            api_url: bitbucket.url(),
            webhook_secret_arn: arns[0].clone(),
            token_secret_arn: arns[1].clone(),
            prometheus_dir: volume.path().to_path_buf(),
            prometheus_urls: vec![prom.url()],
            status_link: "https://console.example/config-updater".into(),
            // Bitbucket Cloud's way: basic auth with the fixed user x-token-auth.
            git_auth: GitAuth::Basic { user: "x-token-auth".into() },
            layout: Layout::default(),
            limits: Limits::default(),
            lock_timeout: config_updater::settings::DEFAULT_LOCK_TIMEOUT,
            aws_max_attempts: promstack::settings::DEFAULT_AWS_API_MAX_ATTEMPTS,
            template_vars: vars(),
            // config-updater validates for the release it deploys to: the one under test.
            prometheus: config_updater::validate::Target {
                major: prom.version().release().0,
                minor: prom.version().release().1,
                features: Default::default(),
            },
        };
        let deps = Deps::new(settings, &sdk);
        (Stack { deps, git, bitbucket, prom, volume, moto }, first)
    }

    pub async fn deliver(&self, event_key: &str, body: &Value, signature: Option<String>) -> HttpResponse {
        let raw = body.to_string();
        let mut headers = serde_json::Map::new();
        headers.insert("x-event-key".into(), event_key.into());
        headers.insert("content-type".into(), "application/json".into());
        if let Some(sig) = signature {
            headers.insert("x-hub-signature".into(), sig.into());
        }
        let request = serde_json::json!({
            "version": "2.0", "rawPath": "/", "headers": headers, "body": raw, "isBase64Encoded": false,
            "requestContext": {"http": {"method": "POST", "path": "/"}},
        });
        let value = handle_value(request, &self.deps).await.expect("a webhook always gets an HTTP answer");
        serde_json::from_value(value).unwrap()
    }

    pub async fn signed(&self, event_key: &str, body: &Value) -> HttpResponse {
        let sig = config_updater::webhook::sign(WEBHOOK_SECRET.as_bytes(), body.to_string().as_bytes());
        self.deliver(event_key, body, Some(sig)).await
    }

    pub async fn push(&self, commit: &str) -> HttpResponse {
        self.signed("repo:push", &cloud_push(commit)).await
    }
}

pub fn cloud_push(commit: &str) -> Value {
    serde_json::json!({"repository": {"full_name": REPOSITORY}, "push": {"changes": [
        {"new": {"type": "branch", "name": "main", "target": {"hash": commit}}, "old": {"type": "branch", "name": "main"}}]}})
}

/// A signed `repo:push` for `commit` handled by `deps` (another `PROMETHEUS_URL`, another
/// Secrets Manager endpoint) instead of the stack's own.
pub async fn push_with(deps: &Deps, commit: &str) -> HttpResponse {
    let body = cloud_push(commit).to_string();
    let signature = config_updater::webhook::sign(WEBHOOK_SECRET.as_bytes(), body.as_bytes());
    let request = serde_json::json!({
        "version": "2.0", "rawPath": "/", "body": body, "isBase64Encoded": false,
        "headers": {"x-event-key": "repo:push", "content-type": "application/json", "x-hub-signature": signature},
        "requestContext": {"http": {"method": "POST", "path": "/"}},
    });
    let value = handle_value(request, deps).await.expect("a webhook always gets an HTTP answer");
    serde_json::from_value(value).unwrap()
}

/// `group/rule` names `prom` has loaded, sorted.
pub async fn loaded_rules(prom: &Prometheus) -> Vec<String> {
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
