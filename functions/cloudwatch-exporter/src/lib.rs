//! cloudwatch-exporter: CloudWatch metrics to Prometheus remote write on a schedule, a drop-in
//! for YACE (same config file, same metric names), run by an EventBridge schedule.
//!
//! `handle` loads the YACE config, runs the jobs ([`run::run`]) and returns the run's summary;
//! `verify_config` is the CLI's `verify-config FILE`. AWS is reached through
//! [`aws::CloudWatchApi`] (`Deps::api`), so tests can wrap or replace it.

pub mod aws;
pub mod cache;
pub mod collect;
pub mod discovery;
pub mod enhanced;
pub mod export;
pub mod naming;
pub mod query;
pub mod report;
pub mod resources;
pub mod run;
pub mod services;
pub mod settings;
pub mod state;
pub mod statics;
pub mod yace;

use aws_config::SdkConfig;
use aws_lambda_events::eventbridge::EventBridgeEvent;
use aws_sdk_s3::error::DisplayErrorContext;
use lambda_runtime::{Diagnostic, LambdaEvent};
use promstack::remote_write;

use aws::{AwsApi, CloudWatchApi};
pub use report::Summary;
use settings::{ConfigSource, Settings};
use state::{StateError, StateStore};
use yace::{ConfigError, ExporterConfig};

/// Why an invocation failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("settings: {0}")]
    Settings(String),
    #[error("reading the config {source_name}: {message}")]
    ConfigRead { source_name: String, message: String },
    #[error("config {source_name}: {error}")]
    Config { source_name: String, error: ConfigError },
    #[error("state: {0}")]
    State(#[from] StateError),
    #[error(transparent)]
    RemoteWrite(#[from] remote_write::Error),
    #[error("every job failed: {0}")]
    AllJobsFailed(String),
    #[error("the run's deadline passed while {0}; nothing was pushed")]
    Deadline(String),
}

impl Error {
    fn error_type(&self) -> &'static str {
        match self {
            Error::Settings(_) => "Settings",
            Error::ConfigRead { .. } => "ConfigRead",
            Error::Config { .. } => "Config",
            Error::State(StateError::Conflict { .. }) => "StateConflict",
            Error::State(_) => "State",
            Error::RemoteWrite(e) if e.is_retryable() => "RemoteWriteUnavailable",
            Error::RemoteWrite(_) => "RemoteWrite",
            Error::AllJobsFailed(_) => "AllJobsFailed",
            Error::Deadline(_) => "Deadline",
        }
    }
}

impl From<Error> for Diagnostic {
    fn from(e: Error) -> Self {
        Diagnostic { error_type: e.error_type().to_string(), error_message: e.to_string() }
    }
}

/// What the handler needs, built once per container. `api` is what the runs ask AWS.
pub struct Deps<A = AwsApi> {
    pub settings: Settings,
    pub api: A,
    pub s3: aws_sdk_s3::Client,
    pub remote_write: remote_write::Client,
    pub state: Option<StateStore>,
    /// The account of the function's own credentials, asked once per process (`aws::connect`).
    pub own_account: tokio::sync::OnceCell<String>,
    /// Each role's account alias, asked once per process (`aws::AccountAliases`).
    pub account_aliases: aws::AccountAliases,
}

impl Deps<AwsApi> {
    /// The SDK-backed deps.
    pub fn new(settings: Settings, sdk: SdkConfig) -> Result<Self, Error> {
        Self::with_api(AwsApi::new(&sdk, settings.aws_max_attempts), settings, &sdk)
    }

    /// From the environment (see `settings`).
    pub async fn from_env() -> Result<Self, Error> {
        let settings = Settings::from_env().map_err(Error::Settings)?;
        Self::new(settings, promstack::aws::sdk_config().await)
    }
}

impl<A: CloudWatchApi> Deps<A> {
    /// Deps whose runs ask `api` (the state, config and remote write still go through `sdk`).
    pub fn with_api(api: A, settings: Settings, sdk: &SdkConfig) -> Result<Self, Error> {
        let s3_config =
            aws_sdk_s3::config::Builder::from(sdk).force_path_style(promstack::aws::uses_custom_endpoint(sdk)).build();
        let s3 = aws_sdk_s3::Client::from_conf(s3_config);
        let mut rw = remote_write::Config::new(settings.remote_write_url.clone());
        rw.auth = settings.remote_write_auth(sdk).map_err(Error::Settings)?;
        rw.retry.max_retries = settings.remote_write_max_retries;
        let remote_write = remote_write::Client::new(rw)?;
        let state = settings.state.as_ref().map(|l| StateStore::new(s3.clone(), &l.bucket, &l.key));
        Ok(Self {
            settings,
            api,
            s3,
            remote_write,
            state,
            own_account: tokio::sync::OnceCell::new(),
            account_aliases: Default::default(),
        })
    }

    /// Reads and checks the YACE config (every invocation, so an edit on EFS or S3 takes effect
    /// at the next run).
    pub async fn load_config(&self) -> Result<ExporterConfig, Error> {
        let source_name = match &self.settings.config {
            ConfigSource::Path(p) => p.clone(),
            ConfigSource::S3 { bucket, key } => format!("s3://{bucket}/{key}"),
        };
        let text = match &self.settings.config {
            ConfigSource::Path(p) => std::fs::read_to_string(p)
                .map_err(|e| Error::ConfigRead { source_name: source_name.clone(), message: e.to_string() })?,
            ConfigSource::S3 { bucket, key } => {
                let read = |message: String| Error::ConfigRead { source_name: source_name.clone(), message };
                let out = self
                    .s3
                    .get_object()
                    .bucket(bucket)
                    .key(key)
                    .send()
                    .await
                    .map_err(|e| read(DisplayErrorContext(&e).to_string()))?;
                let bytes = out.body.collect().await.map_err(|e| read(e.to_string()))?.into_bytes();
                String::from_utf8(bytes.to_vec()).map_err(|e| read(e.to_string()))?
            }
        };
        let config = ExporterConfig::from_yaml(&text)
            .map_err(|error| Error::Config { source_name: source_name.clone(), error })?;
        // Once per run: what loads but is ignored or deprecated, as YACE logs it.
        for warning in &config.warnings {
            tracing::warn!(config = %source_name, location = %warning.location, "{}", warning.message);
        }
        Ok(config)
    }
}

/// The Lambda handler: one run per scheduled event.
pub async fn handle<A: CloudWatchApi>(event: LambdaEvent<EventBridgeEvent>, deps: &Deps<A>) -> Result<Summary, Error> {
    let config = deps.load_config().await?;
    // A context without a deadline (0: a local invocation, a test) bounds nothing.
    let deadline =
        (event.context.deadline > 0).then(|| push_deadline(event.context.deadline, std::time::SystemTime::now()));
    run::run_until(deps, &config, event.payload.id.as_deref(), deadline).await
}

/// The instant the run's pushes must end: the invocation's deadline (ms since the epoch, from the
/// Lambda context) less [`run::PERSIST_MARGIN`] for writing the state and giving the lease back.
pub fn push_deadline(deadline_ms: u64, now: std::time::SystemTime) -> tokio::time::Instant {
    let deadline = std::time::UNIX_EPOCH + std::time::Duration::from_millis(deadline_ms);
    let left = deadline.duration_since(now).unwrap_or_default().saturating_sub(run::PERSIST_MARGIN);
    tokio::time::Instant::now() + left
}

/// `cloudwatch-exporter verify-config FILE`: the config's problem, or `Ok` with a one-line
/// description of what it exports followed by one line per warning (the config still loads).
pub fn verify_config(path: &str) -> Result<String, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{path}: {e}"))?;
    let config = ExporterConfig::from_yaml(&text).map_err(|e| format!("{path}: {e}"))?;
    let metrics: usize = config.jobs.iter().map(|j| j.metrics.len()).sum();
    let mut out = format!("{path}: ok ({} jobs, {metrics} metrics)", config.jobs.len());
    for warning in &config.warnings {
        out.push_str(&format!("\n{path}: warning: {warning}"));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schedule_event_round_trips() {
        let bytes = include_bytes!("../../../events/cloudwatch-exporter-schedule.json");
        let event: EventBridgeEvent = serde_json::from_slice(bytes).unwrap();
        assert_eq!(event.detail_type, "Scheduled Event");
        assert_eq!(event.source, "aws.events");
        assert!(event.id.is_some());
        let again: EventBridgeEvent = serde_json::from_str(&serde_json::to_string(&event).unwrap()).unwrap();
        assert_eq!(event, again);
        let original: serde_json::Value = serde_json::from_slice(bytes).unwrap();
        assert_eq!(serde_json::to_value(&event).unwrap(), original, "nothing lost");
    }

    #[test]
    fn the_push_deadline_leaves_the_margin_before_the_invocations() {
        let now = std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_700_000_000);
        let before = tokio::time::Instant::now();
        let in_300s = 1_700_000_000_000 + 300_000;
        let got = push_deadline(in_300s, now);
        let left = got.duration_since(before);
        let expected = std::time::Duration::from_secs(300) - run::PERSIST_MARGIN;
        assert!(left >= expected && left < expected + std::time::Duration::from_secs(1), "{left:?}");
        // Already past: no time to push at all.
        let got = push_deadline(1_700_000_000_000 - 5_000, now);
        assert!(got.duration_since(before) < std::time::Duration::from_secs(1));
    }

    #[test]
    fn errors_have_a_type_for_lambda() {
        let d: Diagnostic = Error::Settings("x".into()).into();
        assert_eq!(d.error_type, "Settings");
        let d: Diagnostic = Error::Config {
            source_name: "f.yml".into(),
            error: ConfigError { location: "discovery.jobs[0].type".into(), message: "unknown".into() },
        }
        .into();
        assert_eq!(d.error_type, "Config");
        assert_eq!(d.error_message, "config f.yml: discovery.jobs[0].type: unknown");
    }
}
