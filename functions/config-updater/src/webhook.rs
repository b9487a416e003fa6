//! Bitbucket webhooks: the signature check and what a delivery asks for.
//!
//! Cloud and Data Center sign the raw body with HMAC-SHA256 of the webhook secret and send
//! `X-Hub-Signature: sha256=<hex>`; the event name is in `X-Event-Key`. Cloud pushes are
//! `repo:push`, Data Center's `repo:refs_changed`; pull requests are `pullrequest:created` /
//! `pullrequest:updated` (Cloud) and `pr:opened` / `pr:from_ref_updated` (Data Center);
//! Data Center's "test connection" is `diagnostics:ping`.

use hmac::{Hmac, Mac};
use serde_json::Value;
use sha2::Sha256;

/// Bodies larger than this are refused before anything else is done with them.
pub const MAX_BODY_BYTES: usize = 256 * 1024;
pub const SIGNATURE_HEADER: &str = "x-hub-signature";
pub const EVENT_HEADER: &str = "x-event-key";

/// Why a signature is not accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("the X-Hub-Signature header is missing")]
    Missing,
    #[error("the X-Hub-Signature header is not sha256=<hex>")]
    Malformed,
    #[error("the X-Hub-Signature does not match the body")]
    Mismatch,
}

/// Checks `header` (`sha256=<hex>`) against HMAC-SHA256(secret, body), in constant time.
pub fn verify_signature(secret: &[u8], body: &[u8], header: Option<&str>) -> Result<(), SignatureError> {
    let header = header.map(str::trim).filter(|h| !h.is_empty()).ok_or(SignatureError::Missing)?;
    let hex_digest = header.strip_prefix("sha256=").ok_or(SignatureError::Malformed)?;
    let expected = hex::decode(hex_digest).map_err(|_| SignatureError::Malformed)?;
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes a key of any length");
    mac.update(body);
    mac.verify_slice(&expected).map_err(|_| SignatureError::Mismatch)
}

/// `sha256=<hex>` for `body` (the sending side; tests and the demo sign with it).
pub fn sign(secret: &[u8], body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes a key of any length");
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// What a (verified) delivery asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Delivery {
    Ping,
    /// The configured branch moved to `commit`.
    Push {
        commit: String,
    },
    /// A pull request's source branch is at `commit`: validate only, report on that commit.
    PullRequest {
        id: u64,
        branch: String,
        commit: String,
    },
    /// Nothing to do, and why.
    Ignored(String),
}

/// Reads a delivery of event `event_key` for `repository` (`workspace/repo` or `PROJECT/repo`,
/// compared case-insensitively) and `branch`.
pub fn parse(event_key: &str, body: &Value, repository: &str, branch: &str) -> Delivery {
    if event_key == "diagnostics:ping" {
        return Delivery::Ping;
    }
    let known = [
        "repo:push",
        "repo:refs_changed",
        "pullrequest:created",
        "pullrequest:updated",
        "pr:opened",
        "pr:from_ref_updated",
    ];
    if !known.contains(&event_key) {
        return Delivery::Ignored(format!("event {event_key:?} is not handled (only pushes and pull requests)"));
    }
    let from = repository_name(&body["repository"]);
    // Data Center pull-request events carry the repository on the target ref only.
    let from = if from.is_empty() { repository_name(&body["pullRequest"]["toRef"]["repository"]) } else { from };
    if !from.eq_ignore_ascii_case(repository) {
        return Delivery::Ignored(format!("repository {from:?} is not the configured {repository:?}"));
    }
    match event_key {
        "repo:push" => {
            let changes = body["push"]["changes"].as_array().map(Vec::as_slice).unwrap_or_default();
            let hit = changes.iter().rev().find_map(|c| {
                let new = &c["new"];
                (new["type"] == "branch" && new["name"] == branch)
                    .then(|| new["target"]["hash"].as_str().unwrap_or_default())
            });
            push(hit, changes.iter().any(|c| c["old"]["name"] == branch && c["new"].is_null()), branch)
        }
        "repo:refs_changed" => {
            let changes = body["changes"].as_array().map(Vec::as_slice).unwrap_or_default();
            let ours = |c: &&Value| {
                c["ref"]["type"] == "BRANCH"
                    && (c["ref"]["displayId"] == branch || c["refId"] == format!("refs/heads/{branch}").as_str())
            };
            let deleted = changes.iter().filter(ours).any(|c| c["type"] == "DELETE");
            let hit = changes
                .iter()
                .filter(ours)
                .rfind(|c| c["type"] != "DELETE")
                .map(|c| c["toHash"].as_str().unwrap_or_default());
            push(hit, deleted, branch)
        }
        "pullrequest:created" | "pullrequest:updated" => {
            let pr = &body["pullrequest"];
            pull_request(
                pr["id"].as_u64(),
                pr["source"]["branch"]["name"].as_str(),
                pr["source"]["commit"]["hash"].as_str(),
            )
        }
        _ => {
            let pr = &body["pullRequest"];
            pull_request(pr["id"].as_u64(), pr["fromRef"]["displayId"].as_str(), pr["fromRef"]["latestCommit"].as_str())
        }
    }
}

fn push(hit: Option<&str>, deleted: bool, branch: &str) -> Delivery {
    match hit {
        Some(commit) if is_hash(commit) => Delivery::Push { commit: commit.to_string() },
        Some(other) => Delivery::Ignored(format!("the push names no commit for {branch:?} ({other:?})")),
        None if deleted => Delivery::Ignored(format!("branch {branch:?} was deleted; the deployed release stays")),
        None => Delivery::Ignored(format!("the push does not change branch {branch:?}")),
    }
}

fn pull_request(id: Option<u64>, branch: Option<&str>, commit: Option<&str>) -> Delivery {
    match (id, branch, commit) {
        (Some(id), Some(branch), Some(commit)) if is_hash(commit) => {
            Delivery::PullRequest { id, branch: branch.to_string(), commit: commit.to_string() }
        }
        _ => Delivery::Ignored("the pull request names no source branch and commit".into()),
    }
}

/// Bitbucket Cloud PR payloads carry 12-character abbreviations; pushes carry full hashes.
fn is_hash(s: &str) -> bool {
    (7..=64).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_hexdigit())
}

/// `workspace/repo` (Cloud `full_name`) or `PROJECT/repo` (Data Center project key and slug).
fn repository_name(repo: &Value) -> String {
    if let Some(full) = repo["full_name"].as_str() {
        return full.to_string();
    }
    match (repo["project"]["key"].as_str(), repo["slug"].as_str()) {
        (Some(project), Some(slug)) => format!("{project}/{slug}"),
        _ => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const SECRET: &[u8] = b"It's a Secret to Everybody";

    #[test]
    fn signatures() {
        let body = b"Hello, World!";
        let good = sign(SECRET, body);
        // The example from GitHub's webhook documentation (same scheme as Bitbucket).
        assert_eq!(good, "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17");
        assert_eq!(verify_signature(SECRET, body, Some(&good)), Ok(()));
        assert_eq!(verify_signature(SECRET, b"Hello, World?", Some(&good)), Err(SignatureError::Mismatch));
        assert_eq!(verify_signature(b"other", body, Some(&good)), Err(SignatureError::Mismatch));
        assert_eq!(verify_signature(SECRET, body, None), Err(SignatureError::Missing));
        assert_eq!(verify_signature(SECRET, body, Some("")), Err(SignatureError::Missing));
        assert_eq!(verify_signature(SECRET, body, Some("sha1=abcd")), Err(SignatureError::Malformed));
        assert_eq!(verify_signature(SECRET, body, Some("sha256=zz")), Err(SignatureError::Malformed));
        assert_eq!(verify_signature(SECRET, body, Some(&good[..21])), Err(SignatureError::Mismatch));
    }

    const HASH: &str = "0123456789abcdef0123456789abcdef01234567";

    #[test]
    fn cloud_push() {
        let body = json!({"repository": {"full_name": "ops/Prom-Config"}, "push": {"changes": [
            {"new": {"type": "branch", "name": "feature", "target": {"hash": "aaaaaaaaaaaa"}}},
            {"new": {"type": "branch", "name": "main", "target": {"hash": HASH}}, "old": {"name": "main"}},
        ]}});
        assert_eq!(parse("repo:push", &body, "ops/prom-config", "main"), Delivery::Push { commit: HASH.into() });
        assert!(
            matches!(parse("repo:push", &body, "ops/prom-config", "prod"), Delivery::Ignored(r) if r.contains("does not change branch \"prod\""))
        );
        assert!(
            matches!(parse("repo:push", &body, "ops/other", "main"), Delivery::Ignored(r) if r.contains("not the configured"))
        );
        let deleted = json!({"repository": {"full_name": "ops/prom-config"}, "push": {"changes": [{"new": null, "old": {"name": "main"}}]}});
        assert!(
            matches!(parse("repo:push", &deleted, "ops/prom-config", "main"), Delivery::Ignored(r) if r.contains("deleted"))
        );
    }

    #[test]
    fn data_center_push_and_ping() {
        let body = json!({"eventKey": "repo:refs_changed", "repository": {"slug": "prom-config", "project": {"key": "OPS"}},
            "changes": [{"ref": {"id": "refs/heads/main", "displayId": "main", "type": "BRANCH"}, "refId": "refs/heads/main", "fromHash": "0000000000000000000000000000000000000000", "toHash": HASH, "type": "UPDATE"}]});
        assert_eq!(
            parse("repo:refs_changed", &body, "OPS/prom-config", "main"),
            Delivery::Push { commit: HASH.into() }
        );
        assert_eq!(parse("diagnostics:ping", &json!({"test": true}), "OPS/prom-config", "main"), Delivery::Ping);
        assert!(
            matches!(parse("repo:comment:added", &body, "OPS/prom-config", "main"), Delivery::Ignored(r) if r.contains("repo:comment:added"))
        );
    }

    #[test]
    fn pull_requests() {
        let cloud = json!({"repository": {"full_name": "ops/prom-config"}, "pullrequest": {"id": 7, "source": {"branch": {"name": "feature"}, "commit": {"hash": "0123456789ab"}}}});
        assert_eq!(
            parse("pullrequest:updated", &cloud, "ops/prom-config", "main"),
            Delivery::PullRequest { id: 7, branch: "feature".into(), commit: "0123456789ab".into() }
        );
        let dc = json!({"pullRequest": {"id": 3, "fromRef": {"displayId": "fix", "latestCommit": HASH},
            "toRef": {"displayId": "main", "repository": {"slug": "prom-config", "project": {"key": "OPS"}}}}});
        assert_eq!(
            parse("pr:opened", &dc, "OPS/prom-config", "main"),
            Delivery::PullRequest { id: 3, branch: "fix".into(), commit: HASH.into() }
        );
    }
}
