//! The function's settings, all from environment variables. Each variable is read here and only
//! here, with a literal `std::env::var("NAME")`, so the deployment template can be checked
//! against this file.

use std::path::PathBuf;
use std::time::Duration;

use crate::error::Error;
use crate::targets::LabelFilter;

/// The EFS access point as the Lambdas mount it (`PROMETHEUS_CONFIG_DIR`, as config-updater).
pub const DEFAULT_CONFIG_DIR: &str = "/mnt/prometheus";
/// Where file_sd files go under it, as the DESIGN's EFS table fixes; `FILE_SD_DIR` overrides.
pub const FILE_SD_SUBDIR: &str = "file_sd/ecs";
pub const DEFAULT_FILE_SD_DIR: &str = "/mnt/prometheus/file_sd/ecs";

/// How long a writer waits for another invocation's lock on a cluster's file.
pub const DEFAULT_LOCK_TIMEOUT: Duration = Duration::from_secs(20);

/// Attempts per AWS call (the SDK's standard retry mode: exponential backoff with jitter,
/// throttling and transient errors retried).
pub const DEFAULT_AWS_MAX_ATTEMPTS: u32 = 5;

#[derive(Debug, Clone)]
pub struct Config {
    /// Directory of the `<cluster>.json` file_sd files (and of the `.state/` records).
    pub file_sd_dir: PathBuf,
    /// Clusters the scheduled reconcile covers; empty means every cluster in the account/region.
    pub clusters: Vec<String>,
    /// Optional docker label (and value) a container must carry to be scraped.
    pub filter: Option<LabelFilter>,
    pub lock_timeout: Duration,
    pub aws_max_attempts: u32,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            file_sd_dir: PathBuf::from(DEFAULT_FILE_SD_DIR),
            clusters: Vec::new(),
            filter: None,
            lock_timeout: DEFAULT_LOCK_TIMEOUT,
            aws_max_attempts: DEFAULT_AWS_MAX_ATTEMPTS,
        }
    }
}

impl Config {
    /// Reads the environment; a malformed value is an error naming the variable.
    pub fn from_env() -> Result<Self, Error> {
        let mut config = Config::default();
        if let Some(dir) = non_empty(std::env::var("PROMETHEUS_CONFIG_DIR").ok()) {
            config.file_sd_dir = PathBuf::from(dir).join(FILE_SD_SUBDIR);
        }
        if let Some(dir) = non_empty(std::env::var("FILE_SD_DIR").ok()) {
            config.file_sd_dir = PathBuf::from(dir);
        }
        if let Some(list) = non_empty(std::env::var("CLUSTERS").ok()) {
            config.clusters = parse_clusters(&list);
        }
        if let Some(filter) = non_empty(std::env::var("FILTER_LABEL").ok()) {
            config.filter = Some(LabelFilter::parse(&filter).map_err(|e| Error::Config(format!("FILTER_LABEL: {e}")))?);
        }
        if let Some(secs) = non_empty(std::env::var("LOCK_TIMEOUT_SECS").ok()) {
            let secs: u64 = secs
                .parse()
                .map_err(|_| Error::Config(format!("LOCK_TIMEOUT_SECS={secs:?} is not a whole number of seconds")))?;
            config.lock_timeout = Duration::from_secs(secs);
        }
        if let Some(n) = non_empty(std::env::var("AWS_API_MAX_ATTEMPTS").ok()) {
            config.aws_max_attempts = match n.parse::<u32>() {
                Ok(n) if n >= 1 => n,
                _ => return Err(Error::Config(format!("AWS_API_MAX_ATTEMPTS={n:?} must be a number >= 1"))),
            };
        }
        Ok(config)
    }
}

fn non_empty(value: Option<String>) -> Option<String> {
    value.map(|v| v.trim().to_string()).filter(|v| !v.is_empty())
}

/// `a, b ,c` → `["a", "b", "c"]`; cluster ARNs are reduced to names.
pub fn parse_clusters(list: &str) -> Vec<String> {
    list.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| crate::task::cluster_name(s).to_string())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clusters_are_trimmed_and_arns_reduced_to_names() {
        assert_eq!(
            parse_clusters(" prod, arn:aws:ecs:eu-west-1:123:cluster/batch ,,"),
            ["prod", "batch"]
        );
    }
}
