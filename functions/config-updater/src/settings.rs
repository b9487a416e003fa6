//! The function's configuration, read from environment variables in this one place through
//! `promstack::settings::Env` (the README's table and `template.yaml` list the same names).

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use promstack::settings::{aws_api_max_attempts, Env, SettingError, DEFAULT_PROMETHEUS_CONFIG_DIR};

use crate::fetch::GitAuth;
use crate::layout::Layout;
use crate::validate::Target;
use crate::Error;

/// Which Bitbucket the config repository lives on: the build-status API differs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flavor {
    /// bitbucket.org: `/2.0/repositories/{workspace}/{repo}/commit/{hash}/statuses/build`.
    Cloud,
    /// Bitbucket Server / Data Center: `/rest/build-status/1.0/commits/{hash}`.
    DataCenter,
}

impl Flavor {
    pub fn parse(s: &str) -> Result<Self, Error> {
        match s.trim().to_ascii_lowercase().as_str() {
            "cloud" => Ok(Flavor::Cloud),
            "datacenter" | "data-center" | "server" => Ok(Flavor::DataCenter),
            _ => Err(Error::Settings(SettingError::invalid("BITBUCKET_FLAVOR", s, "cloud or datacenter"))),
        }
    }
}

/// Size limits on what a fetched commit may hold, so a bad push cannot fill /tmp or EFS.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub max_files: usize,
    pub max_bytes: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits { max_files: 2_000, max_bytes: 32 * 1024 * 1024 }
    }
}

/// How long a delivery waits for another one's deploy to finish (`LOCK_TIMEOUT_SECONDS`).
pub const DEFAULT_LOCK_TIMEOUT: Duration = Duration::from_secs(60);

/// Everything the handler needs to know, built once per cold start.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Git smart-HTTP URL of the config repository.
    pub repo_url: String,
    /// The branch that is deployed; pushes to other branches are ignored.
    pub branch: String,
    /// `workspace/repo` (Cloud) or `PROJECT/repo` (Data Center); webhooks for others are ignored.
    pub repository: String,
    pub flavor: Flavor,
    /// Bitbucket REST API root (`https://api.bitbucket.org` or the Data Center base URL).
    pub api_url: String,
    /// Secrets Manager ARN of the webhook's HMAC secret.
    pub webhook_secret_arn: String,
    /// Secrets Manager ARN of the access token used for git and the build-status API.
    pub token_secret_arn: String,
    /// The EFS mount that Prometheus reads as its config directory.
    pub prometheus_dir: PathBuf,
    /// Prometheus base URLs; each host name is resolved to all its addresses (every replica).
    pub prometheus_urls: Vec<String>,
    /// The link a build status points at.
    pub status_link: String,
    /// How the token authenticates git (default by flavor: Cloud basic `x-token-auth`, DC bearer).
    pub git_auth: GitAuth,
    pub layout: Layout,
    pub limits: Limits,
    /// How long a delivery waits for the volume's lock while another one deploys.
    pub lock_timeout: Duration,
    /// Attempts per AWS call (Secrets Manager), the SDK's standard retry mode.
    pub aws_max_attempts: u32,
    /// Variables available to `$(VAR)` in the template: the function's environment.
    pub template_vars: BTreeMap<String, String>,
    /// The Prometheus the release is validated for (`PROMETHEUS_VERSION`, `PROMETHEUS_FEATURES`).
    pub prometheus: Target,
}

impl Settings {
    /// Reads the process environment. Missing required variables are an error that names them.
    pub fn from_env() -> Result<Self, Error> {
        let env = Env::from_process();
        let vars = env.all()?;
        Self::read(&env, vars.into_iter())
    }

    /// Reads `env`; `vars` are the variables `$(VAR)` may use.
    pub fn read(env: &Env, vars: impl Iterator<Item = (String, String)>) -> Result<Self, Error> {
        let repo_url: String = env.required("CONFIG_REPO_URL")?;
        let flavor = match env.optional::<String>("BITBUCKET_FLAVOR")? {
            None => Flavor::Cloud,
            Some(v) => Flavor::parse(&v)?,
        };
        let api_url = env.optional::<String>("BITBUCKET_API_URL")?.unwrap_or_else(|| match flavor {
            Flavor::Cloud => "https://api.bitbucket.org".into(),
            // Data Center has no default host: fall back to the clone URL's origin.
            Flavor::DataCenter => origin_of(&repo_url),
        });
        let prometheus_urls = env.list("PROMETHEUS_URL")?;
        if prometheus_urls.is_empty() {
            return Err(SettingError::missing("PROMETHEUS_URL").into());
        }
        let function = env.or("AWS_LAMBDA_FUNCTION_NAME", "config-updater".to_string())?;
        let status_link = env.optional("BUILD_STATUS_LINK")?;
        let git_auth = match env.parsed("CONFIG_REPO_AUTH", "bearer, basic or basic:<user>", GitAuth::parse)? {
            Some(auth) => auth,
            None if flavor == Flavor::Cloud => GitAuth::Basic { user: "x-token-auth".into() },
            None => GitAuth::Bearer,
        };
        Ok(Settings {
            branch: env.or("CONFIG_REPO_BRANCH", "main".to_string())?,
            repository: env.required("BITBUCKET_REPOSITORY")?,
            flavor,
            api_url: api_url.trim_end_matches('/').to_string(),
            webhook_secret_arn: env.required("WEBHOOK_SECRET_ARN")?,
            token_secret_arn: env.required("BITBUCKET_TOKEN_SECRET_ARN")?,
            prometheus_dir: env.or("PROMETHEUS_CONFIG_DIR", PathBuf::from(DEFAULT_PROMETHEUS_CONFIG_DIR))?,
            prometheus_urls,
            status_link: status_link
                .unwrap_or_else(|| format!("https://console.aws.amazon.com/lambda/home#/functions/{function}")),
            git_auth,
            layout: layout(env)?,
            limits: limits(env)?,
            lock_timeout: env.seconds("LOCK_TIMEOUT_SECONDS", DEFAULT_LOCK_TIMEOUT)?,
            aws_max_attempts: aws_api_max_attempts(env)?,
            template_vars: template_vars(vars),
            prometheus: target(env)?,
            repo_url,
        })
    }
}

/// The variables `$(VAR)` may use: the environment, minus the Lambda's own credentials (a
/// template must not be able to copy them onto the volume).
pub fn template_vars(env: impl Iterator<Item = (String, String)>) -> BTreeMap<String, String> {
    const HIDDEN: [&str; 3] = ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"];
    env.filter(|(k, _)| !HIDDEN.contains(&k.as_str())).collect()
}

/// The repo layout from `CONFIG_TEMPLATE_PATH`, `CONFIG_RULES_DIR`, `CONFIG_FILE_SD_DIR`.
pub fn layout(env: &Env) -> Result<Layout, Error> {
    let defaults = Layout::default();
    Ok(Layout {
        template: env.or("CONFIG_TEMPLATE_PATH", defaults.template)?,
        rules_dir: env.or("CONFIG_RULES_DIR", defaults.rules_dir)?,
        file_sd_dir: env.or("CONFIG_FILE_SD_DIR", defaults.file_sd_dir)?,
    })
}

/// The deployed Prometheus: `PROMETHEUS_VERSION` (the image tag, default the template's `v3.16.0`) and
/// `PROMETHEUS_FEATURES` (its `--enable-feature` values, comma-separated).
pub fn target(env: &Env) -> Result<Target, Error> {
    let version: String = env.or("PROMETHEUS_VERSION", crate::validate::target::DEFAULT_VERSION.to_string())?;
    let features: String = env.or("PROMETHEUS_FEATURES", String::new())?;
    Target::parse(&version, &features)
        .map_err(|e| Error::Settings(SettingError::invalid("PROMETHEUS_VERSION", &version, &e)))
}

/// Repo size limits from `CONFIG_MAX_FILES` and `CONFIG_MAX_BYTES`.
pub fn limits(env: &Env) -> Result<Limits, Error> {
    let defaults = Limits::default();
    Ok(Limits {
        max_files: env.or("CONFIG_MAX_FILES", defaults.max_files)?,
        max_bytes: env.or("CONFIG_MAX_BYTES", defaults.max_bytes)?,
    })
}

/// `https://host:port` of a URL (the Data Center REST API lives on the same host as git).
fn origin_of(url: &str) -> String {
    let after_scheme = url.find("://").map(|i| i + 3).unwrap_or(0);
    let end = url[after_scheme..].find('/').map(|i| i + after_scheme).unwrap_or(url.len());
    url[..end].to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origin_keeps_scheme_host_and_port() {
        assert_eq!(origin_of("https://git.example.com:7990/scm/ops/prom.git"), "https://git.example.com:7990");
        assert_eq!(origin_of("http://127.0.0.1:8080"), "http://127.0.0.1:8080");
    }

    #[test]
    fn credentials_are_not_template_variables() {
        let env = [
            ("CLUSTER", "prod"),
            ("AWS_SECRET_ACCESS_KEY", "x"),
            ("AWS_SESSION_TOKEN", "y"),
            ("AWS_REGION", "eu-west-1"),
        ];
        let vars = template_vars(env.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        assert_eq!(vars.keys().collect::<Vec<_>>(), ["AWS_REGION", "CLUSTER"]);
    }

    const REQUIRED: [(&str, &str); 5] = [
        ("CONFIG_REPO_URL", "https://bitbucket.org/ops/prometheus-config.git"),
        ("BITBUCKET_REPOSITORY", "ops/prometheus-config"),
        ("WEBHOOK_SECRET_ARN", "arn:webhook"),
        ("BITBUCKET_TOKEN_SECRET_ARN", "arn:token"),
        ("PROMETHEUS_URL", "http://prometheus.local:9090"),
    ];

    fn read(extra: &[(&str, &str)]) -> Result<Settings, Error> {
        let env = Env::from_pairs(REQUIRED.iter().chain(extra).copied());
        Settings::read(&env, std::iter::empty())
    }

    #[test]
    fn unset_variables_take_the_documented_defaults() {
        let s = read(&[("CONFIG_REPO_BRANCH", ""), ("AWS_LAMBDA_FUNCTION_NAME", "stack-config-updater")]).unwrap();
        assert_eq!(s.branch, "main");
        assert_eq!(s.flavor, Flavor::Cloud);
        assert_eq!(s.api_url, "https://api.bitbucket.org");
        assert_eq!(s.prometheus_dir, PathBuf::from("/mnt/prometheus"));
        assert_eq!(s.prometheus_urls, ["http://prometheus.local:9090"]);
        assert_eq!(s.status_link, "https://console.aws.amazon.com/lambda/home#/functions/stack-config-updater");
        assert_eq!(s.git_auth, GitAuth::Basic { user: "x-token-auth".into() });
        assert_eq!(s.layout, Layout::default());
        assert_eq!((s.limits.max_files, s.limits.max_bytes), (2_000, 32 * 1024 * 1024));
        assert_eq!(s.lock_timeout, Duration::from_secs(60));
        assert_eq!(s.aws_max_attempts, 5);
    }

    #[test]
    fn every_variable_is_read() {
        let s = read(&[
            ("BITBUCKET_FLAVOR", "datacenter"),
            ("CONFIG_REPO_AUTH", "basic:deploy"),
            ("PROMETHEUS_URL", "http://a:9090, http://b:9090"),
            ("PROMETHEUS_CONFIG_DIR", "/tmp/efs"),
            ("CONFIG_RULES_DIR", "alerts"),
            ("CONFIG_MAX_FILES", "10"),
            ("LOCK_TIMEOUT_SECONDS", "5"),
            ("AWS_API_MAX_ATTEMPTS", "3"),
        ])
        .unwrap();
        assert_eq!(s.flavor, Flavor::DataCenter);
        assert_eq!(s.api_url, "https://bitbucket.org", "Data Center's API lives on the clone URL's host");
        assert_eq!(s.git_auth, GitAuth::Basic { user: "deploy".into() });
        assert_eq!(s.prometheus_urls, ["http://a:9090", "http://b:9090"]);
        assert_eq!(s.prometheus_dir, PathBuf::from("/tmp/efs"));
        assert_eq!(s.layout.rules_dir, "alerts");
        assert_eq!(s.limits.max_files, 10);
        assert_eq!(s.lock_timeout, Duration::from_secs(5));
        assert_eq!(s.aws_max_attempts, 3);
    }

    #[test]
    fn a_missing_or_bad_variable_is_named() {
        let without_url = Env::from_pairs(REQUIRED.iter().filter(|(k, _)| *k != "CONFIG_REPO_URL").copied());
        let Err(Error::Settings(e)) = Settings::read(&without_url, std::iter::empty()) else { panic!("accepted") };
        assert_eq!(e, SettingError::missing("CONFIG_REPO_URL"));
        let Err(Error::Settings(e)) = read(&[("PROMETHEUS_URL", " , ")]) else { panic!("no PROMETHEUS_URL accepted") };
        assert_eq!(e, SettingError::missing("PROMETHEUS_URL"));
        let cases = [
            ("CONFIG_MAX_BYTES", "32M", "a whole number"),
            ("CONFIG_REPO_AUTH", "token", "bearer, basic or basic:<user>"),
            ("LOCK_TIMEOUT_SECONDS", "1m", "a whole number of seconds"),
            ("AWS_API_MAX_ATTEMPTS", "0", "a whole number above 0"),
        ];
        for (name, value, expected) in cases {
            let Err(Error::Settings(e)) = read(&[(name, value)]) else { panic!("{name}={value:?} was accepted") };
            assert_eq!(e, SettingError::invalid(name, value, expected));
        }
    }

    #[test]
    fn the_deployed_prometheus_is_read_with_its_flags() {
        assert_eq!(read(&[]).unwrap().prometheus, Target::parse("v3.16.0", "").unwrap());
        let s = read(&[("PROMETHEUS_VERSION", "v3.16.0"), ("PROMETHEUS_FEATURES", "promql-experimental-functions")])
            .unwrap();
        assert_eq!((s.prometheus.major, s.prometheus.minor), (3, 16));
        assert!(s.prometheus.feature("promql-experimental-functions"));
        let Err(Error::Settings(e)) = read(&[("PROMETHEUS_VERSION", "latest")]) else { panic!("latest accepted") };
        assert!(e.to_string().contains("PROMETHEUS_VERSION"), "{e}");
    }

    #[test]
    fn flavor_names() {
        assert_eq!(Flavor::parse("Cloud").unwrap(), Flavor::Cloud);
        assert_eq!(Flavor::parse("datacenter").unwrap(), Flavor::DataCenter);
        assert!(Flavor::parse("gitlab").unwrap_err().to_string().contains("BITBUCKET_FLAVOR"));
    }
}
