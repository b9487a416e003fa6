//! The function's settings, all from environment variables, all read here through
//! `promstack::settings::Env` (the README's table and `template.yaml` list the same names).

use std::path::{Path, PathBuf};
use std::time::Duration;

use promstack::settings::{
    aws_api_max_attempts, Env, SettingError, DEFAULT_AWS_API_MAX_ATTEMPTS, DEFAULT_PROMETHEUS_CONFIG_DIR,
};

use crate::error::Error;
use crate::targets::LabelFilter;

/// Where file_sd files go under the volume, as the DESIGN's EFS table fixes; `FILE_SD_DIR` overrides.
pub const FILE_SD_SUBDIR: &str = "file_sd/ecs";

/// How long a writer waits for another invocation's lock on a cluster's file.
pub const DEFAULT_LOCK_TIMEOUT: Duration = Duration::from_secs(20);

#[derive(Debug, Clone)]
pub struct Config {
    /// Directory of the `<cluster>.json` file_sd files (and of the `.state/` records).
    pub file_sd_dir: PathBuf,
    /// Clusters the scheduled reconcile covers; empty means every cluster in the account/region.
    pub clusters: Vec<String>,
    /// The function's region (`AWS_REGION`, which Lambda sets and the SDK client uses): the only
    /// one it discovers. `None` outside Lambda when unset; nothing is then checked against it.
    pub region: Option<String>,
    /// The `CLUSTERS` entries given as ARNs, whose account is checked once the function's own is
    /// known (see `Deps::account`).
    pub cluster_arns: Vec<String>,
    /// Optional docker label (and value) a container must carry to be scraped.
    pub filter: Option<LabelFilter>,
    pub lock_timeout: Duration,
    /// Attempts per AWS call (the SDK's standard retry mode).
    pub aws_max_attempts: u32,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            file_sd_dir: Path::new(DEFAULT_PROMETHEUS_CONFIG_DIR).join(FILE_SD_SUBDIR),
            clusters: Vec::new(),
            region: None,
            cluster_arns: Vec::new(),
            filter: None,
            lock_timeout: DEFAULT_LOCK_TIMEOUT,
            aws_max_attempts: DEFAULT_AWS_API_MAX_ATTEMPTS,
        }
    }
}

impl Config {
    /// Reads the process environment; a malformed value is an error naming the variable.
    pub fn from_env() -> Result<Self, Error> {
        Self::read(&Env::from_process())
    }

    /// Reads `env`; unset variables take the defaults above.
    pub fn read(env: &Env) -> Result<Self, Error> {
        env.retired("LOCK_TIMEOUT_SECS", "LOCK_TIMEOUT_SECONDS")?;
        let prometheus_dir = env.or("PROMETHEUS_CONFIG_DIR", PathBuf::from(DEFAULT_PROMETHEUS_CONFIG_DIR))?;
        let region = env.optional::<String>("AWS_REGION")?;
        let clusters = env.optional::<String>("CLUSTERS")?.unwrap_or_default();
        check_cluster_regions(&clusters, region.as_deref())?;
        Ok(Config {
            file_sd_dir: env.or("FILE_SD_DIR", prometheus_dir.join(FILE_SD_SUBDIR))?,
            clusters: parse_clusters(&clusters),
            cluster_arns: clusters
                .split(',')
                .map(str::trim)
                .filter(|c| crate::task::arn_scope(c).is_some())
                .map(String::from)
                .collect(),
            region,
            filter: env.parsed("FILTER_LABEL", "NAME or NAME=VALUE", |v| LabelFilter::parse(v).ok())?,
            lock_timeout: env.seconds("LOCK_TIMEOUT_SECONDS", DEFAULT_LOCK_TIMEOUT)?,
            aws_max_attempts: aws_api_max_attempts(env)?,
        })
    }
}

/// `a, b ,c` → `["a", "b", "c"]`; cluster ARNs are reduced to names.
pub fn parse_clusters(list: &str) -> Vec<String> {
    list.split(',').map(str::trim).filter(|s| !s.is_empty()).map(|s| crate::task::cluster_name(s).to_string()).collect()
}

/// A cluster ARN of another region would be reduced to its name and that name looked up in this
/// region: a different cluster, or none. Refused instead, naming the ARN.
fn check_cluster_regions(list: &str, region: Option<&str>) -> Result<(), SettingError> {
    let Some(region) = region else { return Ok(()) };
    let foreign =
        list.split(',').map(str::trim).find(|c| crate::task::arn_scope(c).is_some_and(|s| s.region != region));
    match foreign {
        Some(arn) => {
            let expected =
                format!("a cluster of this function's region {region} (AWS_REGION): one deployment per region");
            Err(SettingError::invalid("CLUSTERS", arn, &expected))
        }
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(pairs: &[(&str, &str)]) -> Result<Config, Error> {
        Config::read(&Env::from_pairs(pairs.iter().copied()))
    }

    #[test]
    fn unset_variables_give_the_defaults_on_the_efs_mount() {
        let config = read(&[("PROMETHEUS_CONFIG_DIR", " "), ("CLUSTERS", "")]).unwrap();
        assert_eq!(config.file_sd_dir, Path::new("/mnt/prometheus/file_sd/ecs"));
        assert!(config.clusters.is_empty());
        assert!(config.filter.is_none());
        assert_eq!(config.lock_timeout, Duration::from_secs(20));
        assert_eq!(config.aws_max_attempts, 5);
    }

    #[test]
    fn every_variable_is_read() {
        let config = read(&[
            ("PROMETHEUS_CONFIG_DIR", "/tmp/efs"),
            ("CLUSTERS", "prod, arn:aws:ecs:eu-west-1:123:cluster/batch"),
            ("FILTER_LABEL", "prometheus.io/scrape=true"),
            ("LOCK_TIMEOUT_SECONDS", "7"),
            ("AWS_API_MAX_ATTEMPTS", "2"),
        ])
        .unwrap();
        assert_eq!(config.file_sd_dir, Path::new("/tmp/efs/file_sd/ecs"));
        assert_eq!(config.clusters, ["prod", "batch"]);
        let filter = config.filter.unwrap();
        assert_eq!((filter.name.as_str(), filter.value.as_deref()), ("prometheus.io/scrape", Some("true")));
        assert_eq!(config.lock_timeout, Duration::from_secs(7));
        assert_eq!(config.aws_max_attempts, 2);
        let overridden = read(&[("PROMETHEUS_CONFIG_DIR", "/tmp/efs"), ("FILE_SD_DIR", "/tmp/sd")]).unwrap();
        assert_eq!(overridden.file_sd_dir, Path::new("/tmp/sd"));
    }

    #[test]
    fn a_bad_value_names_its_variable() {
        let cases = [
            ("LOCK_TIMEOUT_SECONDS", "20s", "a whole number of seconds"),
            ("AWS_API_MAX_ATTEMPTS", "0", "a whole number above 0"),
            ("FILTER_LABEL", "=x", "NAME or NAME=VALUE"),
        ];
        for (name, value, expected) in cases {
            let Err(Error::Config(e)) = read(&[(name, value)]) else { panic!("{name}={value:?} was accepted") };
            assert_eq!(e, SettingError::invalid(name, value, expected));
        }
    }

    /// The old name of LOCK_TIMEOUT_SECONDS must not be silently ignored.
    #[test]
    fn the_old_lock_timeout_name_is_refused_with_the_new_one() {
        let Err(Error::Config(e)) = read(&[("LOCK_TIMEOUT_SECS", "30")]) else { panic!("the old name was accepted") };
        assert!(e.to_string().contains("set LOCK_TIMEOUT_SECONDS instead"), "{e}");
    }

    /// A cluster ARN is reduced to its name, looked up in the function's region: one of another
    /// region would silently be a different cluster.
    #[test]
    fn a_cluster_arn_of_another_region_is_refused() {
        let arn = "arn:aws:ecs:eu-west-1:123:cluster/batch";
        let Err(Error::Config(e)) = read(&[("AWS_REGION", "us-east-1"), ("CLUSTERS", &format!("prod, {arn}"))]) else {
            panic!("an eu-west-1 cluster was accepted in us-east-1")
        };
        assert!(e.to_string().contains(arn) && e.to_string().contains("CLUSTERS"), "{e}");
        let config = read(&[("AWS_REGION", "eu-west-1"), ("CLUSTERS", &format!("prod, {arn}"))]).unwrap();
        assert_eq!(
            (config.clusters, config.region.as_deref()),
            (vec!["prod".to_string(), "batch".into()], Some("eu-west-1"))
        );
        assert_eq!(config.cluster_arns, [arn], "kept for the account check");
    }

    #[test]
    fn clusters_are_trimmed_and_arns_reduced_to_names() {
        assert_eq!(parse_clusters(" prod, arn:aws:ecs:eu-west-1:123:cluster/batch ,,"), ["prod", "batch"]);
    }
}
