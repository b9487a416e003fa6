//! The function's settings, all from environment variables, all read here (the README's table and
//! `template.yaml` list the same names).

use std::time::Duration;

use promstack::remote_write::Auth;

/// Where the YACE config comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfigSource {
    /// A file: bundled with the function, or on the EFS mount.
    Path(String),
    /// `s3://bucket/key`.
    S3 { bucket: String, key: String },
}

impl ConfigSource {
    pub fn parse(value: &str) -> Result<Self, String> {
        match value.strip_prefix("s3://") {
            Some(rest) => match rest.split_once('/') {
                Some((bucket, key)) if !bucket.is_empty() && !key.is_empty() => {
                    Ok(ConfigSource::S3 { bucket: bucket.into(), key: key.into() })
                }
                _ => Err(format!("{value:?} is not s3://BUCKET/KEY")),
            },
            None if value.is_empty() => Err("empty path".into()),
            None => Ok(ConfigSource::Path(value.into())),
        }
    }
}

/// How remote write authenticates; resolved into [`Auth`] once the AWS config is known (SigV4).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthSetting {
    None,
    Basic { username: String, password: String },
    Bearer(String),
    SigV4 { region: Option<String> },
}

/// Where the run's state (watermarks, discovery cache, lease) lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StateLocation {
    pub bucket: String,
    pub key: String,
}

#[derive(Debug, Clone)]
pub struct Settings {
    pub config: ConfigSource,
    pub remote_write_url: String,
    pub auth: AuthSetting,
    pub state: Option<StateLocation>,
    /// How long ListMetrics / tagging results are reused.
    pub discovery_refresh: Duration,
    /// How far back a run fetches after missed runs (older datapoints are counted as dropped).
    pub max_backfill: Duration,
    /// GetMetricData calls in flight at once, per region and account.
    pub get_metric_data_concurrency: usize,
    /// How long a run holds the state before another run may take it over; longer than the
    /// function's timeout.
    pub lease: Duration,
    /// Retries of one remote-write request before the invocation fails.
    pub remote_write_max_retries: u32,
}

fn var(name: &str, value: Result<String, std::env::VarError>) -> Result<Option<String>, String> {
    match value {
        Ok(v) if v.trim().is_empty() => Ok(None),
        Ok(v) => Ok(Some(v.trim().to_string())),
        Err(std::env::VarError::NotPresent) => Ok(None),
        Err(e) => Err(format!("{name}: {e}")),
    }
}

fn seconds(name: &str, value: Option<String>, default: u64) -> Result<Duration, String> {
    match value {
        None => Ok(Duration::from_secs(default)),
        Some(v) => v
            .parse::<u64>()
            .map(Duration::from_secs)
            .map_err(|_| format!("{name}: {v:?} is not a whole number of seconds")),
    }
}

fn required(name: &str, value: Option<String>) -> Result<String, String> {
    value.ok_or_else(|| format!("{name} is not set"))
}

impl Settings {
    /// Reads every variable; the error names the variable at fault.
    pub fn from_env() -> Result<Self, String> {
        let config = required("EXPORTER_CONFIG", var("EXPORTER_CONFIG", std::env::var("EXPORTER_CONFIG"))?)?;
        let config = ConfigSource::parse(&config).map_err(|e| format!("EXPORTER_CONFIG: {e}"))?;
        let remote_write_url =
            required("REMOTE_WRITE_URL", var("REMOTE_WRITE_URL", std::env::var("REMOTE_WRITE_URL"))?)?;
        let auth_kind = var("REMOTE_WRITE_AUTH", std::env::var("REMOTE_WRITE_AUTH"))?.unwrap_or_else(|| "none".into());
        let auth = match auth_kind.as_str() {
            "none" => AuthSetting::None,
            "basic" => AuthSetting::Basic {
                username: required(
                    "REMOTE_WRITE_USERNAME",
                    var("REMOTE_WRITE_USERNAME", std::env::var("REMOTE_WRITE_USERNAME"))?,
                )?,
                password: required(
                    "REMOTE_WRITE_PASSWORD",
                    var("REMOTE_WRITE_PASSWORD", std::env::var("REMOTE_WRITE_PASSWORD"))?,
                )?,
            },
            "bearer" => AuthSetting::Bearer(required(
                "REMOTE_WRITE_BEARER_TOKEN",
                var("REMOTE_WRITE_BEARER_TOKEN", std::env::var("REMOTE_WRITE_BEARER_TOKEN"))?,
            )?),
            "sigv4" => AuthSetting::SigV4 {
                region: var("REMOTE_WRITE_SIGV4_REGION", std::env::var("REMOTE_WRITE_SIGV4_REGION"))?,
            },
            other => return Err(format!("REMOTE_WRITE_AUTH: {other:?} is not one of none, basic, bearer, sigv4")),
        };
        let state = match var("STATE_BUCKET", std::env::var("STATE_BUCKET"))? {
            None => None,
            Some(bucket) => Some(StateLocation {
                bucket,
                key: var("STATE_KEY", std::env::var("STATE_KEY"))?
                    .unwrap_or_else(|| "cloudwatch-exporter/state.json".into()),
            }),
        };
        let concurrency = var("GET_METRIC_DATA_CONCURRENCY", std::env::var("GET_METRIC_DATA_CONCURRENCY"))?;
        let get_metric_data_concurrency = match concurrency {
            None => 5,
            Some(v) => v
                .parse::<usize>()
                .ok()
                .filter(|n| *n > 0)
                .ok_or_else(|| format!("GET_METRIC_DATA_CONCURRENCY: {v:?} is not a positive number"))?,
        };
        Ok(Settings {
            config,
            remote_write_url,
            auth,
            state,
            discovery_refresh: seconds(
                "DISCOVERY_REFRESH_SECONDS",
                var("DISCOVERY_REFRESH_SECONDS", std::env::var("DISCOVERY_REFRESH_SECONDS"))?,
                300,
            )?,
            max_backfill: seconds(
                "MAX_BACKFILL_SECONDS",
                var("MAX_BACKFILL_SECONDS", std::env::var("MAX_BACKFILL_SECONDS"))?,
                3600,
            )?,
            get_metric_data_concurrency,
            lease: seconds("STATE_LEASE_SECONDS", var("STATE_LEASE_SECONDS", std::env::var("STATE_LEASE_SECONDS"))?, 900)?,
            remote_write_max_retries: match var("REMOTE_WRITE_MAX_RETRIES", std::env::var("REMOTE_WRITE_MAX_RETRIES"))? {
                None => 8,
                Some(v) => v.parse().map_err(|_| format!("REMOTE_WRITE_MAX_RETRIES: {v:?} is not a whole number"))?,
            },
        })
    }

    /// The remote-write auth, with the AWS credentials for SigV4.
    pub fn remote_write_auth(&self, sdk: &aws_config::SdkConfig) -> Result<Auth, String> {
        Ok(match &self.auth {
            AuthSetting::None => Auth::None,
            AuthSetting::Basic { username, password } => {
                Auth::Basic { username: username.clone(), password: password.clone() }
            }
            AuthSetting::Bearer(token) => Auth::Bearer(token.clone()),
            AuthSetting::SigV4 { region } => {
                let region = region
                    .clone()
                    .or_else(|| sdk.region().map(|r| r.to_string()))
                    .ok_or("REMOTE_WRITE_AUTH=sigv4 needs REMOTE_WRITE_SIGV4_REGION or AWS_REGION")?;
                let credentials =
                    sdk.credentials_provider().ok_or("REMOTE_WRITE_AUTH=sigv4: no AWS credentials")?;
                Auth::SigV4(promstack::remote_write::SigV4::aps(region, credentials))
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_source_is_a_path_or_an_s3_uri() {
        assert_eq!(ConfigSource::parse("/var/task/yace.yml").unwrap(), ConfigSource::Path("/var/task/yace.yml".into()));
        assert_eq!(
            ConfigSource::parse("s3://cfg/exporter/yace.yml").unwrap(),
            ConfigSource::S3 { bucket: "cfg".into(), key: "exporter/yace.yml".into() }
        );
        assert!(ConfigSource::parse("s3://bucket-only").is_err());
        assert!(ConfigSource::parse("").is_err());
    }
}
