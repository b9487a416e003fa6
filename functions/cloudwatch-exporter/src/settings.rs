//! The function's settings, all from environment variables, all read here through
//! `promstack::settings::Env` (the README's table and `template.yaml` list the same names).

use std::num::NonZeroUsize;
use std::time::Duration;

use promstack::remote_write::Auth;
use promstack::settings::{aws_api_max_attempts, Env, SettingError};

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
    /// Attempts per AWS call (CloudWatch, tagging, STS), the SDK's standard retry mode.
    pub aws_max_attempts: u32,
    /// YACE's `-labels-snake-case`: `dimension_*`, `tag_*` and `custom_tag_*` names in snake case.
    pub labels_snake_case: bool,
    /// Labels put on every pushed series (`EXTRA_LABELS=job=yace,instance=prod`): what the
    /// Prometheus scrape added to YACE's series.
    pub extra_labels: Vec<(String, String)>,
}

const DEFAULT_GET_METRIC_DATA_CONCURRENCY: NonZeroUsize = NonZeroUsize::new(5).unwrap();

const EXTRA_LABELS_EXPECTED: &str = "comma-separated name=value pairs, each name a valid label name used once, \
    none of __name__, name, region, account_id, account_alias, api, reason or dimension_*, tag_*, custom_tag_* \
    (the exporter's own labels), no empty value";

/// Whether the exporter sets label `name` itself on some series (YACE's labels, and those of
/// its own `cloudwatch_exporter_run_*` series): an extra label must not collide with it.
fn is_exporter_label(name: &str) -> bool {
    matches!(name, "name" | "region" | "account_id" | "account_alias" | "api" | "reason")
        || ["dimension_", "tag_", "custom_tag_", "__"].iter().any(|p| name.starts_with(p))
}

/// `EXTRA_LABELS`: `name=value,name=value`; `None` when a pair is malformed, a name invalid,
/// reserved or given twice, or a value empty.
fn parse_extra_labels(text: &str) -> Option<Vec<(String, String)>> {
    promstack::settings::parse_label_pairs(text, is_exporter_label)
}

/// What the function does when invoked (`EXPORTER_MODE`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Unset or `polling`: a run per scheduled event (GetMetricData).
    Polling,
    /// `metric-stream`: Firehose deliveries of a CloudWatch Metric Stream through the Function URL.
    MetricStream,
}

/// `EXPORTER_MODE`.
pub fn mode(env: &Env) -> Result<Mode, SettingError> {
    let mode = env.parsed("EXPORTER_MODE", "polling or metric-stream", |v| match v {
        "polling" => Some(Mode::Polling),
        "metric-stream" => Some(Mode::MetricStream),
        _ => None,
    })?;
    Ok(mode.unwrap_or(Mode::Polling))
}

/// `FIREHOSE_ACCESS_KEY_SECRET_ARN`: the secret holding the key Firehose sends (metric-stream mode).
pub fn firehose_access_key_secret_arn(env: &Env) -> Result<String, SettingError> {
    env.required("FIREHOSE_ACCESS_KEY_SECRET_ARN")
}

impl Settings {
    /// Reads the process environment; the error names the variable at fault.
    pub fn from_env() -> Result<Self, String> {
        Self::read(&Env::from_process()).map_err(|e| e.to_string())
    }

    /// Reads `env`; unset variables take the defaults in the README's table.
    pub fn read(env: &Env) -> Result<Self, SettingError> {
        let config = env
            .parsed("EXPORTER_CONFIG", "a path or s3://BUCKET/KEY", |v| ConfigSource::parse(v).ok())?
            .ok_or_else(|| SettingError::missing("EXPORTER_CONFIG"))?;
        let auth = match env.or("REMOTE_WRITE_AUTH", "none".to_string())?.as_str() {
            "none" => AuthSetting::None,
            "basic" => AuthSetting::Basic {
                username: env.required("REMOTE_WRITE_USERNAME")?,
                password: env.required("REMOTE_WRITE_PASSWORD")?,
            },
            "bearer" => AuthSetting::Bearer(env.required("REMOTE_WRITE_BEARER_TOKEN")?),
            "sigv4" => AuthSetting::SigV4 { region: env.optional("REMOTE_WRITE_SIGV4_REGION")? },
            other => return Err(SettingError::invalid("REMOTE_WRITE_AUTH", other, "none, basic, bearer or sigv4")),
        };
        let state = match env.optional("STATE_BUCKET")? {
            None => None,
            Some(bucket) => {
                Some(StateLocation { bucket, key: env.or("STATE_KEY", "cloudwatch-exporter/state.json".to_string())? })
            }
        };
        Ok(Settings {
            config,
            remote_write_url: env.required("REMOTE_WRITE_URL")?,
            auth,
            state,
            discovery_refresh: env.seconds("DISCOVERY_REFRESH_SECONDS", Duration::from_secs(300))?,
            max_backfill: env.seconds("MAX_BACKFILL_SECONDS", Duration::from_secs(3600))?,
            get_metric_data_concurrency: env
                .or("GET_METRIC_DATA_CONCURRENCY", DEFAULT_GET_METRIC_DATA_CONCURRENCY)?
                .get(),
            lease: env.seconds("STATE_LEASE_SECONDS", Duration::from_secs(900))?,
            remote_write_max_retries: env.or("REMOTE_WRITE_MAX_RETRIES", 8)?,
            aws_max_attempts: aws_api_max_attempts(env)?,
            labels_snake_case: env
                .parsed("LABELS_SNAKE_CASE", "true or false", |v| match v {
                    "true" => Some(true),
                    "false" => Some(false),
                    _ => None,
                })?
                .unwrap_or(false),
            extra_labels: env.parsed("EXTRA_LABELS", EXTRA_LABELS_EXPECTED, parse_extra_labels)?.unwrap_or_default(),
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
                let credentials = sdk.credentials_provider().ok_or("REMOTE_WRITE_AUTH=sigv4: no AWS credentials")?;
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

    fn read(pairs: &[(&str, &str)]) -> Result<Settings, SettingError> {
        Settings::read(&Env::from_pairs(pairs.iter().copied()))
    }

    const REQUIRED: [(&str, &str); 2] =
        [("EXPORTER_CONFIG", "s3://cfg/yace.yml"), ("REMOTE_WRITE_URL", "http://prometheus:9090/api/v1/write")];

    #[test]
    fn unset_variables_take_the_documented_defaults() {
        let s = read(&REQUIRED).unwrap();
        assert_eq!(s.config, ConfigSource::S3 { bucket: "cfg".into(), key: "yace.yml".into() });
        assert_eq!(s.auth, AuthSetting::None);
        assert_eq!(s.state, None);
        assert_eq!(s.discovery_refresh, Duration::from_secs(300));
        assert_eq!(s.max_backfill, Duration::from_secs(3600));
        assert_eq!(s.get_metric_data_concurrency, 5);
        assert_eq!(s.lease, Duration::from_secs(900));
        assert_eq!(s.remote_write_max_retries, 8);
        assert_eq!(s.aws_max_attempts, 5);
        assert!(!s.labels_snake_case);
        assert_eq!(s.extra_labels, []);
    }

    #[test]
    fn labels_snake_case_and_extra_labels_are_read() {
        let mut pairs = REQUIRED.to_vec();
        pairs.extend([("LABELS_SNAKE_CASE", "true"), ("EXTRA_LABELS", " job=yace, instance = prod-eu ,")]);
        let s = read(&pairs).unwrap();
        assert!(s.labels_snake_case);
        assert_eq!(s.extra_labels, [("job".into(), "yace".into()), ("instance".into(), "prod-eu".into())]);
        let refused = [
            "job",
            "job=",
            "1job=x",
            "__name__=x",
            "__meta=x",
            "name=x",
            "region=x",
            "account_alias=x",
            "reason=x",
            "tag_team=x",
            "dimension_InstanceId=x",
            "custom_tag_env=x",
            "job=a,job=b",
        ];
        for value in refused {
            let mut pairs = REQUIRED.to_vec();
            pairs.push(("EXTRA_LABELS", value));
            assert_eq!(
                read(&pairs).unwrap_err(),
                SettingError::invalid("EXTRA_LABELS", value, EXTRA_LABELS_EXPECTED),
                "{value}"
            );
        }
        let mut pairs = REQUIRED.to_vec();
        pairs.push(("LABELS_SNAKE_CASE", "yes"));
        assert_eq!(read(&pairs).unwrap_err(), SettingError::invalid("LABELS_SNAKE_CASE", "yes", "true or false"));
    }

    #[test]
    fn every_variable_is_read() {
        let mut pairs = REQUIRED.to_vec();
        pairs.extend([
            ("REMOTE_WRITE_AUTH", "basic"),
            ("REMOTE_WRITE_USERNAME", "u"),
            ("REMOTE_WRITE_PASSWORD", "p"),
            ("STATE_BUCKET", "data"),
            ("STATE_LEASE_SECONDS", "360"),
            ("GET_METRIC_DATA_CONCURRENCY", "2"),
            ("AWS_API_MAX_ATTEMPTS", "3"),
        ]);
        let s = read(&pairs).unwrap();
        assert_eq!(s.auth, AuthSetting::Basic { username: "u".into(), password: "p".into() });
        let state = StateLocation { bucket: "data".into(), key: "cloudwatch-exporter/state.json".into() };
        assert_eq!(s.state, Some(state));
        assert_eq!(s.lease, Duration::from_secs(360));
        assert_eq!(s.get_metric_data_concurrency, 2);
        assert_eq!(s.aws_max_attempts, 3);
    }

    #[test]
    fn the_mode_is_polling_unless_metric_stream_is_asked() {
        let env = |pairs: &[(&str, &str)]| Env::from_pairs(pairs.iter().copied());
        assert_eq!(mode(&env(&[])).unwrap(), Mode::Polling);
        assert_eq!(mode(&env(&[("EXPORTER_MODE", "polling")])).unwrap(), Mode::Polling);
        assert_eq!(mode(&env(&[("EXPORTER_MODE", "metric-stream")])).unwrap(), Mode::MetricStream);
        assert_eq!(
            mode(&env(&[("EXPORTER_MODE", "stream")])).unwrap_err(),
            SettingError::invalid("EXPORTER_MODE", "stream", "polling or metric-stream")
        );
        assert_eq!(
            firehose_access_key_secret_arn(&env(&[])).unwrap_err(),
            SettingError::missing("FIREHOSE_ACCESS_KEY_SECRET_ARN")
        );
    }

    #[test]
    fn a_missing_or_bad_variable_is_named() {
        assert_eq!(read(&REQUIRED[1..]).unwrap_err(), SettingError::missing("EXPORTER_CONFIG"));
        let cases = [
            ("EXPORTER_CONFIG", "s3://bucket-only", "a path or s3://BUCKET/KEY"),
            ("REMOTE_WRITE_AUTH", "oauth", "none, basic, bearer or sigv4"),
            ("GET_METRIC_DATA_CONCURRENCY", "0", "a whole number above 0"),
            ("MAX_BACKFILL_SECONDS", "1h", "a whole number of seconds"),
        ];
        for (name, value, expected) in cases {
            let mut pairs = REQUIRED.to_vec();
            pairs.push((name, value));
            assert_eq!(read(&pairs).unwrap_err(), SettingError::invalid(name, value, expected));
        }
        let bearer = [REQUIRED[0], REQUIRED[1], ("REMOTE_WRITE_AUTH", "bearer")];
        assert_eq!(read(&bearer).unwrap_err(), SettingError::missing("REMOTE_WRITE_BEARER_TOKEN"));
    }
}
