//! The one place that builds the AWS SDK configuration, so every function reaches the same AWS:
//! the real one in Lambda, or a local emulator named by `AWS_ENDPOINT_URL` (moto in the tests,
//! or on a laptop under `cargo lambda watch`); and the one way their SDK errors become messages
//! ([`describe`]).

use std::time::Duration;

use aws_config::environment::region::EnvironmentVariableRegionProvider;
use aws_config::meta::region::RegionProviderChain;
use aws_config::profile::ProfileFileRegionProvider;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;

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

/// What is logged when no region is found: the SDK would otherwise ask the EC2 instance metadata
/// service, which outside AWS means seconds of retries and kilobytes of warnings.
pub const NO_REGION: &str = "no AWS region: set AWS_REGION (Lambda sets it; on a laptop, e.g. AWS_REGION=eu-west-1)";

/// The region from `AWS_REGION` / `AWS_DEFAULT_REGION`, else the AWS profile's. Never from the
/// instance metadata service: Lambda always sets `AWS_REGION`, so only a run outside AWS gets here
/// without one, and there the metadata service does not answer.
pub async fn region_from_environment() -> Option<Region> {
    RegionProviderChain::first_try(EnvironmentVariableRegionProvider::new())
        .or_else(ProfileFileRegionProvider::new())
        .region()
        .await
}

/// The SDK configuration with explicit overrides (tests run several emulators in one process,
/// so they cannot share one `AWS_ENDPOINT_URL`). Without a region, it logs [`NO_REGION`] once and
/// the SDK's calls fail with "no region" rather than wait on the instance metadata service.
pub async fn sdk_config_with(settings: AwsSettings) -> SdkConfig {
    let mut loader = aws_config::defaults(BehaviorVersion::latest());
    if let Some(url) = settings.endpoint_url {
        loader = loader.endpoint_url(url);
    }
    let region = match settings.region {
        Some(region) => Some(Region::new(region)),
        None => region_from_environment().await,
    };
    if region.is_none() {
        tracing::warn!("{NO_REGION}");
    }
    loader = loader.region(region);
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

/// An SDK error as a person reads it: the service's error code and message
/// (`ResourceNotFoundException: Secrets Manager can't find the specified secret.`), not the
/// error's `Debug`, which dumps the whole response with its headers. A call that got no answer
/// from the service (a timeout, a refused connection, no credentials) is its chain of causes.
pub fn describe<E>(error: &SdkError<E, HttpResponse>) -> String
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    if let SdkError::ServiceError(service) = error {
        let status = service.raw().status().as_u16();
        let e = service.err();
        match (e.code(), e.message().filter(|m| !m.is_empty())) {
            (Some(code), Some(message)) => return format!("{code}: {message}"),
            (Some(code), None) => return format!("{code} (HTTP {status})"),
            (None, Some(message)) => return format!("HTTP {status}: {message}"),
            (None, None) => return format!("HTTP {status} without an error code: {}", causes(e)),
        }
    }
    causes(error)
}

/// An error and its sources, `: `-separated, each once (hyper repeats an I/O error as its own
/// source); unlike `DisplayErrorContext`, without the last one's `Debug`.
fn causes(error: &(dyn std::error::Error + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut next = Some(error);
    while let Some(e) = next {
        let text = e.to_string();
        if parts.last() != Some(&text) {
            parts.push(text);
        }
        next = e.source();
    }
    parts.join(": ")
}

#[cfg(test)]
mod tests {
    use aws_smithy_runtime_api::client::result::ServiceError;
    use aws_smithy_types::body::SdkBody;
    use aws_smithy_types::error::metadata::ErrorMetadata;
    use aws_smithy_types::error::operation::BuildError;

    use super::*;

    /// An operation error as the SDK's generated ones are: metadata read from the response.
    #[derive(Debug)]
    struct OperationError(ErrorMetadata);

    impl std::fmt::Display for OperationError {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            write!(f, "unhandled error ({:?})", self.0.code())
        }
    }

    impl std::error::Error for OperationError {}

    impl ProvideErrorMetadata for OperationError {
        fn meta(&self) -> &ErrorMetadata {
            &self.0
        }
    }

    fn service_error(status: u16, code: Option<&str>, message: Option<&str>) -> SdkError<OperationError, HttpResponse> {
        let mut meta = ErrorMetadata::builder();
        if let Some(code) = code {
            meta = meta.code(code);
        }
        if let Some(message) = message {
            meta = meta.message(message);
        }
        let raw = HttpResponse::new(status.try_into().unwrap(), SdkBody::from("<Error>...</Error>"));
        SdkError::ServiceError(ServiceError::builder().source(OperationError(meta.build())).raw(raw).build())
    }

    #[test]
    fn a_service_error_is_its_code_and_message() {
        let e = service_error(400, Some("ThrottlingException"), Some("Rate exceeded"));
        assert_eq!(describe(&e), "ThrottlingException: Rate exceeded");
        // S3's HEAD answers have no body, so no message.
        assert_eq!(describe(&service_error(404, Some("NotFound"), None)), "NotFound (HTTP 404)");
        assert_eq!(describe(&service_error(500, None, Some("internal"))), "HTTP 500: internal");
        assert_eq!(describe(&service_error(502, None, None)), "HTTP 502 without an error code: unhandled error (None)");
    }

    #[test]
    fn an_error_without_an_answer_is_its_causes() {
        let e: SdkError<OperationError, HttpResponse> =
            SdkError::construction_failure(BuildError::missing_field("secret_id", "the secret to read"));
        let text = describe(&e);
        assert_eq!(text, "failed to construct request: secret_id was missing: the secret to read");
    }
}
