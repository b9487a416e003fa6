//! What a push, a sync and a pull request do, whatever carried them: fetch the commit,
//! validate it, deploy it and reload Prometheus, and post the outcome as a build status.
//!
//! A push deploys the branch *head*, fetched under the volume's lock: two deliveries never
//! interleave, a duplicate finds its commit already recorded and does nothing, and an older
//! push arriving after a newer one finds the newer head already deployed. A pull request is
//! only validated; nothing is written.
//!
//! Break-glass, for when Prometheus is down or a release must be undone by hand: a sync without
//! the reload ([`sync_with`]), and [`restore_previous`]. Every deploy, sync and restore is then
//! counted in the function's own series ([`crate::own_series`]).

use promstack::files::FileLock;
use serde::{Deserialize, Serialize};

use crate::deploy::{self, Applied};
use crate::fetch::{self, FetchRequest, Fetched};
use crate::layout::Summary;
use crate::own_series::{self, DeployResult, OwnSeries};
use crate::secrets::Secrets;
use crate::status::{State, StatusClient};
use crate::validate;
use crate::{Error, Settings};

/// Everything the function uses, built once per cold start.
pub struct Deps {
    pub settings: Settings,
    pub secrets: Secrets,
    pub status: StatusClient,
    /// Where the own series go; `None` (no `REMOTE_WRITE_URL`): nothing is counted or pushed.
    pub own_series: Option<OwnSeries>,
}

impl Deps {
    /// Without own series; see [`Deps::with_own_series`].
    pub fn new(settings: Settings, sdk: &aws_config::SdkConfig) -> Self {
        let status = StatusClient::new(settings.flavor, &settings.api_url, &settings.repository, &settings.status_link);
        Deps { secrets: Secrets::new(sdk), status, settings, own_series: None }
    }

    pub fn with_own_series(mut self, own_series: Option<OwnSeries>) -> Self {
        self.own_series = own_series;
        self
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
    /// Written by a sync without the reload; recorded `written`.
    Written,
    /// The previous release was put back and reloaded.
    Restored,
    Unchanged,
    Validated,
    Ignored,
    Ping,
}

impl Outcome {
    pub(crate) fn new(result: Result_, message: impl Into<String>) -> Self {
        Outcome {
            result,
            commit: None,
            pushed: None,
            newer_than_pushed: false,
            message: message.into(),
            replicas: vec![],
            summary: None,
        }
    }
}

/// Deploys the branch head (first start, or by hand).
pub async fn sync(deps: &Deps) -> Result<Outcome, Error> {
    sync_with(deps, true).await
}

/// Deploys the branch head; with `reload` false (break-glass, Prometheus down) only writes it:
/// fetched, validated and written as a sync does, recorded `written`, no replica asked.
pub async fn sync_with(deps: &Deps, reload: bool) -> Result<Outcome, Error> {
    let result = match deps.secrets.get(&deps.settings.token_secret_arn).await {
        Ok(token) => deploy_head(deps, &token, None, reload).await,
        Err(e) => Err(e),
    };
    count_and_push(deps, &result).await;
    result
}

/// A push of `commit`: deploys the branch head and reports on the pushed commit.
pub async fn push(deps: &Deps, commit: &str) -> Result<Outcome, Error> {
    let result = match deps.secrets.get(&deps.settings.token_secret_arn).await {
        Ok(token) => deploy_head(deps, &token, Some(commit), true).await,
        Err(e) => Err(e),
    };
    count_and_push(deps, &result).await;
    result
}

/// Puts the release kept in `.promstack/previous/` back and reloads it, under the volume's lock.
/// The next push or sync deploys the branch head again: revert the commit in the repository to
/// keep the restored release.
pub async fn restore_previous(deps: &Deps) -> Result<Outcome, Error> {
    let result = restore_locked(deps).await;
    count_and_push(deps, &result).await;
    result
}

async fn restore_locked(deps: &Deps) -> Result<Outcome, Error> {
    let settings = &deps.settings;
    let root = settings.prometheus_dir.as_path();
    deploy::prepare(root)?;
    let lock = FileLock::acquire_async(deploy::lock_path(root), settings.lock_timeout)
        .await
        .map_err(|e| Error::Volume { path: deploy::lock_path(root).display().to_string(), source: e })?;
    let restored = deploy::restore_previous(root, &settings.prometheus_urls).await;
    drop(lock);
    let restored = restored?;
    let replaced =
        restored.replaced.as_deref().map(|c| format!(" in place of {}", deploy::short(c))).unwrap_or_default();
    let mut outcome = Outcome::new(
        Result_::Restored,
        format!(
            "restored the previous release {}{replaced}; {} file(s) removed; reloaded {} Prometheus replica(s)",
            deploy::short(&restored.commit),
            restored.removed.len(),
            restored.replicas.len()
        ),
    );
    outcome.commit = Some(restored.commit);
    outcome.replicas = restored.replicas;
    tracing::info!(message = %outcome.message, "restore-previous");
    Ok(outcome)
}

/// Counts what a deploy, sync or restore came to on the volume and pushes the totals, when own
/// series are set up. Nothing here fails the invocation.
async fn count_and_push(deps: &Deps, result: &Result<Outcome, Error>) {
    let (Some(own), Some(counted)) = (&deps.own_series, DeployResult::of(result)) else { return };
    match own_series::count(&deps.settings.prometheus_dir, counted, own_series::reload_failed(result)).await {
        Ok(counts) => own.push(&counts).await,
        Err(e) => tracing::warn!(error = %e, "own series not counted"),
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
/// commit (and on the head, when it is a different one). `pushed` is the commit a push named;
/// `reload` false writes the release without reloading (see [`sync_with`]).
pub async fn deploy_head(deps: &Deps, token: &str, pushed: Option<&str>, reload: bool) -> Result<Outcome, Error> {
    let settings = &deps.settings;
    let root = settings.prometheus_dir.as_path();
    if let Some(pushed) = pushed {
        post_status(deps, token, pushed, State::Inprogress, "validating and deploying").await;
    }
    deploy::prepare(root)?;
    let lock = FileLock::acquire_async(deploy::lock_path(root), settings.lock_timeout)
        .await
        .map_err(|e| Error::Volume { path: deploy::lock_path(root).display().to_string(), source: e })?;
    let result = deploy_locked(deps, token, pushed, reload).await;
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
            // Written, not yet confirmed: Bitbucket redelivers (503), and that delivery finishes it.
            Err(e @ Error::Unconfirmed { .. }) => {
                post_status(deps, token, commit, State::Inprogress, &e.to_string()).await
            }
            Err(e) => post_status(deps, token, commit, State::Failed, &e.to_string()).await,
        }
    }
    result
}

async fn deploy_locked(deps: &Deps, token: &str, pushed: Option<&str>, reload: bool) -> Result<Outcome, Error> {
    let settings = &deps.settings;
    let root = settings.prometheus_dir.as_path();
    let record = deploy::read_record(root)?;
    if let (Some(pushed), Some(record)) = (pushed, &record) {
        // A pending record was never confirmed: deploy it again (write and reload).
        if record.commit == pushed && record.state == deploy::RecordState::Deployed {
            let mut o =
                Outcome::new(Result_::Unchanged, format!("commit {} is already deployed", deploy::short(pushed)));
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
    let release = validate::check_repo(&files, &settings.layout, &settings.template_vars, &settings.prometheus)
        .map_err(|p| Error::Invalid(format!("commit {}:\n{}", deploy::short(&commit), validate::describe(&p))))?;
    outcome.summary = Some(release.summary);
    let applied = if reload {
        deploy::apply(root, &commit, &settings.branch, &release, &settings.prometheus_urls).await?
    } else {
        deploy::write_without_reload(root, &commit, &settings.branch, &release).await?
    };
    let head_note = if newer {
        format!(" (the branch head, newer than the pushed {})", deploy::short(pushed.unwrap_or_default()))
    } else {
        String::new()
    };
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
        Applied::Written { removed, .. } => {
            outcome.result = Result_::Written;
            outcome.message = format!(
                "wrote {}{head_note} without a reload: {}; {} file(s) removed; recorded \"written\": Prometheus reads it \
                 when it starts, and the next push or sync reloads it",
                deploy::short(&commit),
                release.summary,
                removed.len()
            );
        }
    }
    tracing::info!(commit, result = ?outcome.result, message = %outcome.message, "deploy");
    Ok(outcome)
}

/// A pull request: fetch its branch, validate, report on the commit validated (the branch head).
/// Nothing is written.
pub async fn validate_pull_request(
    deps: &Deps,
    token: &str,
    id: u64,
    branch: &str,
    commit: &str,
) -> Result<Outcome, Error> {
    let settings = &deps.settings;
    let fetched = fetch::fetch(fetch_request(settings, token, branch)).await;
    let (target, result) = match fetched {
        Err(e) => (commit.to_string(), Err(e)),
        Ok(f) => {
            // The status goes on what was validated: the branch head as fetched, which is a later
            // commit than the webhook's when the branch moved on (and the full hash where Cloud
            // names the PR's commit by a 12-character abbreviation).
            let target = f.commit.clone();
            let newer = !f.commit.starts_with(commit);
            let checked =
                validate::check_repo(&f.files, &settings.layout, &settings.template_vars, &settings.prometheus)
                    .map_err(|p| {
                        Error::Invalid(format!("commit {}:\n{}", deploy::short(&f.commit), validate::describe(&p)))
                    })
                    .map(|release| {
                        let mut o = Outcome::new(
                            Result_::Validated,
                            format!("pull request #{id}: {} is valid: {}", deploy::short(&f.commit), release.summary),
                        );
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

    #[test]
    fn outcomes_serialise() {
        let mut o = Outcome::new(Result_::Deployed, "ok");
        o.commit = Some("6f1ed002ab5595859014ebf0951522d9a8d7a1c2".into());
        let v = serde_json::to_value(&o).unwrap();
        assert_eq!(v["result"], "deployed");
        assert_eq!(serde_json::from_value::<Outcome>(v).unwrap(), o);
    }
}
