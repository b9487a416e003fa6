//! The two invocations: a Bitbucket webhook through the Function URL (payload format 2.0), and
//! `{"action": "sync"}`, which deploys the branch head without a webhook (first start).
//!
//! A push deploys the branch *head*, fetched under the volume's lock: two deliveries never
//! interleave, a duplicate finds its commit already recorded and does nothing, and an older
//! push arriving after a newer one finds the newer head already deployed.

use std::collections::BTreeMap;

use base64::Engine;
use lambda_runtime::LambdaEvent;
use promstack::files::FileLock;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::deploy::{self, Applied};
use crate::fetch::{self, FetchRequest, Fetched};
use crate::layout::Summary;
use crate::secrets::Secrets;
use crate::status::{State, StatusClient};
use crate::validate;
use crate::webhook::{self, Delivery};
use crate::{Error, Settings};

/// Everything the handler uses, built once per cold start.
pub struct Deps {
    pub settings: Settings,
    pub secrets: Secrets,
    pub status: StatusClient,
}

impl Deps {
    pub fn new(settings: Settings, sdk: &aws_config::SdkConfig) -> Self {
        let status = StatusClient::new(settings.flavor, &settings.api_url, &settings.repository, &settings.status_link);
        Deps { secrets: Secrets::new(sdk), status, settings }
    }
}

/// What an invocation did; the response body of a webhook and the result of a sync.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Outcome {
    pub result: Result_,
    /// The commit deployed or validated (the branch head when it was fetched).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commit: Option<String>,
    /// The commit the webhook named.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pushed: Option<String>,
    /// The fetched head is a later commit than the pushed one.
    #[serde(default)]
    pub newer_than_pushed: bool,
    pub message: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub replicas: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<Summary>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Result_ {
    Deployed,
    Unchanged,
    Validated,
    Ignored,
    Ping,
}

impl Outcome {
    fn new(result: Result_, message: impl Into<String>) -> Self {
        Outcome { result, commit: None, pushed: None, newer_than_pushed: false, message: message.into(), replicas: vec![], summary: None }
    }
}

/// The Function URL request fields the handler reads (API Gateway HTTP payload 2.0).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HttpRequest {
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    #[serde(default)]
    pub body: Option<String>,
    #[serde(default)]
    pub is_base64_encoded: bool,
}

/// The Function URL response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HttpResponse {
    pub status_code: u16,
    pub headers: BTreeMap<String, String>,
    pub body: String,
}

impl HttpResponse {
    fn json(status_code: u16, body: Value) -> Self {
        HttpResponse {
            status_code,
            headers: [("content-type".to_string(), "application/json".to_string())].into(),
            body: body.to_string(),
        }
    }

    fn error(status_code: u16, message: impl std::fmt::Display) -> Self {
        Self::json(status_code, json!({"error": message.to_string()}))
    }

    fn outcome(status_code: u16, outcome: &Outcome) -> Self {
        Self::json(status_code, serde_json::to_value(outcome).expect("an outcome serialises"))
    }

    /// The body as JSON (tests and the demo read it).
    pub fn body_json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or(Value::Null)
    }
}

/// The Lambda handler: `{"action": "sync"}` or a Function URL request.
pub async fn handle(event: LambdaEvent<Value>, deps: &Deps) -> Result<Value, Error> {
    handle_value(event.payload, deps).await
}

pub async fn handle_value(payload: Value, deps: &Deps) -> Result<Value, Error> {
    if let Some(action) = payload.get("action") {
        return match action.as_str() {
            Some("sync") => Ok(serde_json::to_value(sync(deps).await?).expect("an outcome serialises")),
            _ => Err(Error::Invocation(format!("unknown action {action}; the only action is \"sync\""))),
        };
    }
    if payload.get("requestContext").is_none() && payload.get("headers").is_none() {
        return Err(Error::Invocation("expected a Function URL request or {\"action\": \"sync\"}".into()));
    }
    let request: HttpRequest = serde_json::from_value(payload).map_err(|e| Error::Invocation(format!("not a Function URL request: {e}")))?;
    Ok(serde_json::to_value(webhook_request(&request, deps).await).expect("a response serialises"))
}

/// Deploys the branch head (first start, or by hand).
pub async fn sync(deps: &Deps) -> Result<Outcome, Error> {
    let token = deps.secrets.get(&deps.settings.token_secret_arn).await?;
    deploy_head(deps, &token, None).await
}

/// A webhook delivery. Nothing happens before the signature is verified.
pub async fn webhook_request(request: &HttpRequest, deps: &Deps) -> HttpResponse {
    let body = match &request.body {
        None => Vec::new(),
        Some(b) if request.is_base64_encoded => match base64::engine::general_purpose::STANDARD.decode(b) {
            Ok(bytes) => bytes,
            Err(e) => return HttpResponse::error(400, format!("the body is not valid base64: {e}")),
        },
        Some(b) => b.as_bytes().to_vec(),
    };
    if body.len() > webhook::MAX_BODY_BYTES {
        return HttpResponse::error(413, format!("the body is {} bytes, more than the limit of {}", body.len(), webhook::MAX_BODY_BYTES));
    }
    let header = |name: &str| request.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str());
    let secret = match deps.secrets.get(&deps.settings.webhook_secret_arn).await {
        Ok(s) => s,
        Err(e) => {
            tracing::error!(error = %e, "webhook secret unavailable");
            return HttpResponse::error(503, e);
        }
    };
    if let Err(e) = webhook::verify_signature(secret.as_bytes(), &body, header(webhook::SIGNATURE_HEADER)) {
        tracing::warn!(error = %e, "webhook refused");
        return HttpResponse::error(401, e);
    }
    let Some(event_key) = header(webhook::EVENT_HEADER) else {
        return HttpResponse::error(400, "the X-Event-Key header is missing");
    };
    let payload: Value = match serde_json::from_slice(&body) {
        Ok(v) => v,
        Err(e) => return HttpResponse::error(400, format!("the body is not JSON: {e}")),
    };
    let settings = &deps.settings;
    let delivery = webhook::parse(event_key, &payload, &settings.repository, &settings.branch);
    tracing::info!(event_key, ?delivery, "webhook");
    let result = match delivery {
        Delivery::Ping => return HttpResponse::outcome(200, &Outcome::new(Result_::Ping, "pong")),
        Delivery::Ignored(reason) => return HttpResponse::outcome(202, &Outcome::new(Result_::Ignored, reason)),
        Delivery::Push { commit } => match deps.secrets.get(&settings.token_secret_arn).await {
            Ok(token) => deploy_head(deps, &token, Some(&commit)).await,
            Err(e) => Err(e),
        },
        Delivery::PullRequest { id, branch, commit } => match deps.secrets.get(&settings.token_secret_arn).await {
            Ok(token) => validate_pull_request(deps, &token, id, &branch, &commit).await,
            Err(e) => Err(e),
        },
    };
    match result {
        Ok(outcome) => HttpResponse::outcome(200, &outcome),
        // Bitbucket resends on 5xx only: ask for a redelivery when trying again can help.
        Err(e) if e.is_retryable() => HttpResponse::error(503, e),
        Err(e) => HttpResponse::error(422, e),
    }
}

fn fetch_request(settings: &Settings, token: &str, branch: &str) -> FetchRequest {
    FetchRequest {
        url: settings.repo_url.clone(),
        branch: branch.to_string(),
        authorization: Some(settings.git_auth.header(token)),
        limits: settings.limits,
    }
}

async fn post_status(deps: &Deps, token: &str, commit: &str, state: State, description: &str) {
    if let Err(e) = deps.status.post(token, commit, state, description).await {
        tracing::warn!(commit, error = %e, "build status not posted");
    }
}

/// Fetches, validates and deploys the branch head, under the lock; statuses on the pushed
/// commit (and on the head, when it is a different one).
async fn deploy_head(deps: &Deps, token: &str, pushed: Option<&str>) -> Result<Outcome, Error> {
    let settings = &deps.settings;
    let root = settings.prometheus_dir.as_path();
    if let Some(pushed) = pushed {
        post_status(deps, token, pushed, State::Inprogress, "validating and deploying").await;
    }
    deploy::prepare(root)?;
    let lock = FileLock::acquire_async(deploy::lock_path(root), settings.lock_timeout)
        .await
        .map_err(|e| Error::Volume { path: deploy::lock_path(root).display().to_string(), source: e })?;
    let result = deploy_locked(deps, token, pushed).await;
    drop(lock);
    let statuses: Vec<&str> = match &result {
        Ok(o) => {
            let mut v: Vec<&str> = pushed.into_iter().collect();
            if o.newer_than_pushed && o.result == Result_::Deployed {
                v.extend(o.commit.as_deref());
            }
            v
        }
        Err(_) => pushed.into_iter().collect(),
    };
    for commit in statuses {
        match &result {
            Ok(o) => post_status(deps, token, commit, State::Successful, &o.message).await,
            Err(e) => post_status(deps, token, commit, State::Failed, &e.to_string()).await,
        }
    }
    result
}

async fn deploy_locked(deps: &Deps, token: &str, pushed: Option<&str>) -> Result<Outcome, Error> {
    let settings = &deps.settings;
    let root = settings.prometheus_dir.as_path();
    let record = deploy::read_record(root)?;
    if let (Some(pushed), Some(record)) = (pushed, &record) {
        if record.commit == pushed {
            let mut o = Outcome::new(Result_::Unchanged, format!("commit {} is already deployed", deploy::short(pushed)));
            o.commit = Some(pushed.to_string());
            o.pushed = Some(pushed.to_string());
            return Ok(o);
        }
    }
    let fetched = fetch::fetch(fetch_request(settings, token, &settings.branch)).await?;
    let Fetched { commit, files, .. } = fetched;
    let newer = pushed.is_some_and(|p| p != commit);
    let mut outcome = Outcome::new(Result_::Unchanged, String::new());
    outcome.commit = Some(commit.clone());
    outcome.pushed = pushed.map(str::to_string);
    outcome.newer_than_pushed = newer;
    let release = validate::check_repo(&files, &settings.layout, &settings.template_vars)
        .map_err(|p| Error::Invalid(format!("commit {}:\n{}", deploy::short(&commit), validate::describe(&p))))?;
    outcome.summary = Some(release.summary);
    let applied = deploy::apply(root, &commit, &settings.branch, &release, &settings.prometheus_urls).await?;
    let head_note = if newer { format!(" (the branch head, newer than the pushed {})", deploy::short(pushed.unwrap_or_default())) } else { String::new() };
    match applied {
        Applied::Unchanged => {
            outcome.message = format!("commit {}{head_note} is already deployed", deploy::short(&commit));
        }
        Applied::Deployed { replicas, removed, .. } => {
            outcome.result = Result_::Deployed;
            outcome.message = format!(
                "deployed {}{head_note}: {}; {} file(s) removed; reloaded {} Prometheus replica(s)",
                deploy::short(&commit),
                release.summary,
                removed.len(),
                replicas.len()
            );
            outcome.replicas = replicas;
        }
    }
    tracing::info!(commit, result = ?outcome.result, message = %outcome.message, "deploy");
    Ok(outcome)
}

/// A pull request: fetch its branch, validate, report on its commit. Nothing is written.
async fn validate_pull_request(deps: &Deps, token: &str, id: u64, branch: &str, commit: &str) -> Result<Outcome, Error> {
    let settings = &deps.settings;
    let fetched = fetch::fetch(fetch_request(settings, token, branch)).await;
    let (target, result) = match fetched {
        Err(e) => (commit.to_string(), Err(e)),
        Ok(f) => {
            // Cloud names the PR's commit by a 12-character abbreviation; post on the full hash.
            let target = if f.commit.starts_with(commit) { f.commit.clone() } else { commit.to_string() };
            let newer = !f.commit.starts_with(commit);
            let checked = validate::check_repo(&f.files, &settings.layout, &settings.template_vars)
                .map_err(|p| Error::Invalid(format!("commit {}:\n{}", deploy::short(&f.commit), validate::describe(&p))))
                .map(|release| {
                    let mut o = Outcome::new(Result_::Validated, format!("pull request #{id}: {} is valid: {}", deploy::short(&f.commit), release.summary));
                    o.commit = Some(f.commit.clone());
                    o.pushed = Some(commit.to_string());
                    o.newer_than_pushed = newer;
                    o.summary = Some(release.summary);
                    o
                });
            (target, checked)
        }
    };
    match &result {
        Ok(o) => post_status(deps, token, &target, State::Successful, &o.message).await,
        Err(e) => post_status(deps, token, &target, State::Failed, &e.to_string()).await,
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The secret the sample events in `events/` are signed with.
    const SAMPLE_SECRET: &[u8] = b"demo-webhook-secret";

    fn sample(bytes: &[u8]) -> (Value, HttpRequest) {
        let value: Value = serde_json::from_slice(bytes).unwrap();
        let again: Value = serde_json::from_slice(&serde_json::to_vec(&value).unwrap()).unwrap();
        assert_eq!(value, again, "a serde round trip keeps the event whole");
        (value.clone(), serde_json::from_value(value).unwrap())
    }

    fn delivery(bytes: &[u8], repository: &str) -> Delivery {
        let (_, request) = sample(bytes);
        let body = request.body.as_deref().unwrap().as_bytes();
        webhook::verify_signature(SAMPLE_SECRET, body, request.headers.get("x-hub-signature").map(String::as_str)).unwrap();
        let payload: Value = serde_json::from_slice(body).unwrap();
        webhook::parse(&request.headers["x-event-key"], &payload, repository, "main")
    }

    const HEAD: &str = "6f1ed002ab5595859014ebf0951522d9a8d7a1c2";

    #[test]
    fn sample_events_parse_and_verify() {
        let cloud = delivery(include_bytes!("../../../events/config-updater-cloud-push.json"), "ops/prometheus-config");
        assert_eq!(cloud, Delivery::Push { commit: HEAD.into() });
        let dc = delivery(include_bytes!("../../../events/config-updater-datacenter-push.json"), "OPS/prometheus-config");
        assert_eq!(dc, Delivery::Push { commit: HEAD.into() });
        let ping = delivery(include_bytes!("../../../events/config-updater-datacenter-ping.json"), "OPS/prometheus-config");
        assert_eq!(ping, Delivery::Ping);
        let pr = delivery(include_bytes!("../../../events/config-updater-cloud-pullrequest.json"), "ops/prometheus-config");
        assert_eq!(pr, Delivery::PullRequest { id: 42, branch: "tune-alerts".into(), commit: HEAD[..12].into() });
        let (sync, _) = sample(include_bytes!("../../../events/config-updater-sync.json"));
        assert_eq!(sync["action"], "sync");
    }

    #[test]
    fn outcomes_serialise() {
        let mut o = Outcome::new(Result_::Deployed, "ok");
        o.commit = Some(HEAD.into());
        let v = serde_json::to_value(&o).unwrap();
        assert_eq!(v["result"], "deployed");
        assert_eq!(serde_json::from_value::<Outcome>(v).unwrap(), o);
    }
}
