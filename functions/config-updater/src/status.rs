//! Bitbucket build statuses on a commit: INPROGRESS when a delivery starts, then SUCCESSFUL or
//! FAILED with the validation or reload message, so the config repo shows the deploy's outcome.
//!
//! Cloud: `POST /2.0/repositories/{workspace}/{repo}/commit/{hash}/statuses/build`;
//! Data Center: `POST /rest/build-status/1.0/commits/{hash}`. Same JSON body on both.

use std::time::Duration;

use serde::Serialize;

use crate::settings::Flavor;
use crate::Error;

/// The status key: one status per commit, updated in place by later posts.
pub const KEY: &str = "promstack-config-updater";
/// Descriptions longer than this are cut (Data Center stores 255 characters).
pub const MAX_DESCRIPTION: usize = 255;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum State {
    Inprogress,
    Successful,
    Failed,
}

#[derive(Debug, Serialize)]
struct Body<'a> {
    state: State,
    key: &'a str,
    name: &'a str,
    url: &'a str,
    description: String,
}

/// Posts build statuses for one repository.
#[derive(Debug, Clone)]
pub struct StatusClient {
    http: reqwest::Client,
    flavor: Flavor,
    api_url: String,
    repository: String,
    link: String,
}

impl StatusClient {
    pub fn new(flavor: Flavor, api_url: &str, repository: &str, link: &str) -> Self {
        let http = reqwest::Client::builder().timeout(Duration::from_secs(5)).build().expect("reqwest client");
        StatusClient {
            http,
            flavor,
            api_url: api_url.trim_end_matches('/').to_string(),
            repository: repository.to_string(),
            link: link.to_string(),
        }
    }

    pub fn url_for(&self, commit: &str) -> String {
        match self.flavor {
            Flavor::Cloud => {
                format!("{}/2.0/repositories/{}/commit/{commit}/statuses/build", self.api_url, self.repository)
            }
            Flavor::DataCenter => format!("{}/rest/build-status/1.0/commits/{commit}", self.api_url),
        }
    }

    /// Posts `state` on `commit`, authenticated with the access token.
    pub async fn post(&self, token: &str, commit: &str, state: State, description: &str) -> Result<(), Error> {
        let body = Body {
            state,
            key: KEY,
            name: "Prometheus config deploy",
            url: &self.link,
            description: truncate(description),
        };
        let url = self.url_for(commit);
        let response = self
            .http
            .post(&url)
            .bearer_auth(token)
            .json(&body)
            .send()
            .await
            .map_err(|e| Error::Status(format!("{url}: {e}")))?;
        let status = response.status();
        if status.is_success() {
            tracing::info!(commit, ?state, "build status posted");
            Ok(())
        } else {
            let text = response.text().await.unwrap_or_default();
            Err(Error::Status(format!("{url} answered {status}: {}", truncate(&text))))
        }
    }
}

fn truncate(s: &str) -> String {
    if s.chars().count() <= MAX_DESCRIPTION {
        return s.to_string();
    }
    let mut out: String = s.chars().take(MAX_DESCRIPTION - 1).collect();
    out.push('…');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_per_flavor() {
        let cloud = StatusClient::new(Flavor::Cloud, "https://api.bitbucket.org/", "ops/prom", "https://x");
        assert_eq!(
            cloud.url_for("abc"),
            "https://api.bitbucket.org/2.0/repositories/ops/prom/commit/abc/statuses/build"
        );
        let dc = StatusClient::new(Flavor::DataCenter, "https://git.example.com", "OPS/prom", "https://x");
        assert_eq!(dc.url_for("abc"), "https://git.example.com/rest/build-status/1.0/commits/abc");
    }

    #[test]
    fn states_and_long_descriptions() {
        assert_eq!(serde_json::to_string(&State::Inprogress).unwrap(), "\"INPROGRESS\"");
        let long = "x".repeat(1000);
        assert_eq!(truncate(&long).chars().count(), MAX_DESCRIPTION);
        assert_eq!(truncate("short"), "short");
    }
}
