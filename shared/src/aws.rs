//! The one place that builds the AWS SDK configuration, so every function reaches the same AWS:
//! the real one in Lambda, or a local emulator named by `AWS_ENDPOINT_URL` (moto in the tests,
//! or on a laptop under `cargo lambda watch`).

use aws_config::{BehaviorVersion, Region, SdkConfig};

/// Explicit settings; `None` means "as the environment says".
#[derive(Debug, Clone, Default)]
pub struct AwsSettings {
    /// Overrides `AWS_ENDPOINT_URL`.
    pub endpoint_url: Option<String>,
    /// Overrides `AWS_REGION` / `AWS_DEFAULT_REGION`.
    pub region: Option<String>,
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
    loader.load().await
}

/// Whether requests go to a custom endpoint (an emulator): S3 then needs path-style addressing,
/// since `bucket.127.0.0.1` does not resolve.
pub fn uses_custom_endpoint(config: &SdkConfig) -> bool {
    config.endpoint_url().is_some()
}
