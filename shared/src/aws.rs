//! The one place that builds the AWS SDK configuration, so every function reaches the same AWS:
//! the real one in Lambda, or a local emulator named by `AWS_ENDPOINT_URL` (moto in the tests,
//! or on a laptop under `cargo lambda watch`).

use std::time::Duration;

use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};

/// Bounds on every SDK call, so a stalled endpoint cannot hold a run past its function timeout.
/// One attempt gets `ATTEMPT_TIMEOUT`; the call with all its retries gets `OPERATION_TIMEOUT`.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
pub const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(20);
pub const OPERATION_TIMEOUT: Duration = Duration::from_secs(60);

/// Explicit settings; `None` means "as the environment says".
#[derive(Debug, Clone, Default)]
pub struct AwsSettings {
    /// Overrides `AWS_ENDPOINT_URL`.
    pub endpoint_url: Option<String>,
    /// Overrides `AWS_REGION` / `AWS_DEFAULT_REGION`.
    pub region: Option<String>,
    /// Overrides [`OPERATION_TIMEOUT`] and [`ATTEMPT_TIMEOUT`] (the attempt gets at most the
    /// operation's time).
    pub operation_timeout: Option<Duration>,
}

/// The SDK configuration from the environment (region, credentials, and `AWS_ENDPOINT_URL`,
/// which aws-config honours for every service).
pub async fn sdk_config() -> SdkConfig {
    sdk_config_with(AwsSettings::default()).await
}

/// The SDK configuration with explicit overrides (tests run several emulators in one process,
/// so they cannot share one `AWS_ENDPOINT_URL`).
pub async fn sdk_config_with(settings: AwsSettings) -> SdkConfig {
    let mut loader = aws_config::defaults(BehaviorVersion::latest());
    if let Some(url) = settings.endpoint_url {
        loader = loader.endpoint_url(url);
    }
    if let Some(region) = settings.region {
        loader = loader.region(Region::new(region));
    }
    let operation = settings.operation_timeout.unwrap_or(OPERATION_TIMEOUT);
    loader = loader.timeout_config(
        TimeoutConfig::builder()
            .connect_timeout(CONNECT_TIMEOUT.min(operation))
            .operation_attempt_timeout(ATTEMPT_TIMEOUT.min(operation))
            .operation_timeout(operation)
            .build(),
    );
    loader.load().await
}

/// Whether requests go to a custom endpoint (an emulator): S3 then needs path-style addressing,
/// since `bucket.127.0.0.1` does not resolve.
pub fn uses_custom_endpoint(config: &SdkConfig) -> bool {
    config.endpoint_url().is_some()
}
