//! The function's configuration, read from environment variables in this one place (each with a
//! literal `std::env::var("NAME")`, so the names can be checked against the SAM template).

use std::collections::BTreeMap;
use std::path::PathBuf;

use crate::fetch::GitAuth;
use crate::layout::Layout;
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
            other => Err(Error::Settings(format!("BITBUCKET_FLAVOR must be cloud or datacenter, not {other:?}"))),
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
    /// Variables available to `$(VAR)` in the template: the function's environment.
    pub template_vars: BTreeMap<String, String>,
}

fn var(value: Result<String, std::env::VarError>) -> Option<String> {
    value.ok().map(|v| v.trim().to_string()).filter(|v| !v.is_empty())
}

fn required(name: &str, value: Result<String, std::env::VarError>) -> Result<String, Error> {
    var(value).ok_or_else(|| Error::Settings(format!("environment variable {name} is not set")))
}

fn number<T: std::str::FromStr>(name: &str, value: Result<String, std::env::VarError>, default: T) -> Result<T, Error> {
    match var(value) {
        None => Ok(default),
        Some(v) => v.parse().map_err(|_| Error::Settings(format!("{name} must be a number, not {v:?}"))),
    }
}

impl Settings {
    /// Reads the environment. Missing required variables are an error that names them.
    pub fn from_env() -> Result<Self, Error> {
        let repo_url = required("CONFIG_REPO_URL", std::env::var("CONFIG_REPO_URL"))?;
        let branch = var(std::env::var("CONFIG_REPO_BRANCH")).unwrap_or_else(|| "main".into());
        let repository = required("BITBUCKET_REPOSITORY", std::env::var("BITBUCKET_REPOSITORY"))?;
        let flavor = Flavor::parse(&var(std::env::var("BITBUCKET_FLAVOR")).unwrap_or_else(|| "cloud".into()))?;
        let api_url = var(std::env::var("BITBUCKET_API_URL")).unwrap_or_else(|| match flavor {
            Flavor::Cloud => "https://api.bitbucket.org".into(),
            // Data Center has no default host: fall back to the clone URL's origin.
            Flavor::DataCenter => origin_of(&repo_url),
        });
        let webhook_secret_arn = required("WEBHOOK_SECRET_ARN", std::env::var("WEBHOOK_SECRET_ARN"))?;
        let token_secret_arn = required("BITBUCKET_TOKEN_SECRET_ARN", std::env::var("BITBUCKET_TOKEN_SECRET_ARN"))?;
        let prometheus_dir =
            PathBuf::from(var(std::env::var("PROMETHEUS_CONFIG_DIR")).unwrap_or_else(|| "/mnt/prometheus".into()));
        let prometheus_urls: Vec<String> = required("PROMETHEUS_URL", std::env::var("PROMETHEUS_URL"))?
            .split(',')
            .map(|u| u.trim().to_string())
            .filter(|u| !u.is_empty())
            .collect();
        let function = var(std::env::var("AWS_LAMBDA_FUNCTION_NAME")).unwrap_or_else(|| "config-updater".into());
        let status_link = var(std::env::var("BUILD_STATUS_LINK"))
            .unwrap_or_else(|| format!("https://console.aws.amazon.com/lambda/home#/functions/{function}"));
        let git_auth = match var(std::env::var("CONFIG_REPO_AUTH")) {
            None if flavor == Flavor::Cloud => GitAuth::Basic { user: "x-token-auth".into() },
            None => GitAuth::Bearer,
            Some(v) => GitAuth::parse(&v)
                .ok_or_else(|| Error::Settings(format!("CONFIG_REPO_AUTH must be bearer, basic or basic:<user>, not {v:?}")))?,
        };
        let layout = layout_from_env();
        let limits = limits_from_env()?;
        Ok(Settings {
            repo_url,
            branch,
            repository,
            flavor,
            api_url: api_url.trim_end_matches('/').to_string(),
            webhook_secret_arn,
            token_secret_arn,
            prometheus_dir,
            prometheus_urls,
            status_link,
            git_auth,
            layout,
            limits,
            template_vars: template_vars(std::env::vars()),
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
pub fn layout_from_env() -> Layout {
    let defaults = Layout::default();
    Layout {
        template: var(std::env::var("CONFIG_TEMPLATE_PATH")).unwrap_or(defaults.template),
        rules_dir: var(std::env::var("CONFIG_RULES_DIR")).unwrap_or(defaults.rules_dir),
        file_sd_dir: var(std::env::var("CONFIG_FILE_SD_DIR")).unwrap_or(defaults.file_sd_dir),
    }
}

/// Repo size limits from `CONFIG_MAX_FILES` and `CONFIG_MAX_BYTES`.
pub fn limits_from_env() -> Result<Limits, Error> {
    let d = Limits::default();
    Ok(Limits {
        max_files: number("CONFIG_MAX_FILES", std::env::var("CONFIG_MAX_FILES"), d.max_files)?,
        max_bytes: number("CONFIG_MAX_BYTES", std::env::var("CONFIG_MAX_BYTES"), d.max_bytes)?,
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
        let env = [("CLUSTER", "prod"), ("AWS_SECRET_ACCESS_KEY", "x"), ("AWS_SESSION_TOKEN", "y"), ("AWS_REGION", "eu-west-1")];
        let vars = template_vars(env.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        assert_eq!(vars.keys().collect::<Vec<_>>(), ["AWS_REGION", "CLUSTER"]);
    }

    #[test]
    fn flavor_names() {
        assert_eq!(Flavor::parse("Cloud").unwrap(), Flavor::Cloud);
        assert_eq!(Flavor::parse("datacenter").unwrap(), Flavor::DataCenter);
        assert!(Flavor::parse("gitlab").unwrap_err().to_string().contains("BITBUCKET_FLAVOR"));
    }
}
