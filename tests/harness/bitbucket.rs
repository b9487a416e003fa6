//! A local stand-in for the Bitbucket build-status API (Cloud and Data Center paths alike): it
//! records every status it is sent, answers 201 to a request with the expected bearer token and
//! 401 to anything else.

use std::sync::{Arc, Mutex};

use serde_json::Value;

use crate::git::{respond, HttpServer};

/// A status as Bitbucket received it.
#[derive(Debug, Clone)]
pub struct ReceivedStatus {
    /// The request path, e.g. `/2.0/repositories/ops/prom/commit/<hash>/statuses/build`.
    pub path: String,
    /// The commit hash from the path.
    pub commit: String,
    pub state: String,
    pub description: String,
    pub body: Value,
}

pub struct BitbucketApi {
    http: HttpServer,
    received: Arc<Mutex<Vec<ReceivedStatus>>>,
}

impl BitbucketApi {
    pub fn start(token: &str) -> Self {
        let received = Arc::new(Mutex::new(Vec::new()));
        let store = received.clone();
        let expected = format!("Bearer {token}");
        let http = HttpServer::start(move |request, stream| {
            if request.headers.get("authorization") != Some(&expected) {
                respond(stream, 401, &[], b"{\"error\": \"bad token\"}");
                return;
            }
            let commit = commit_of(&request.path);
            let Some(commit) = commit.filter(|_| request.method == "POST") else {
                respond(stream, 404, &[], b"{\"error\": \"no such resource\"}");
                return;
            };
            let body: Value = serde_json::from_slice(&request.body).unwrap_or(Value::Null);
            store.lock().unwrap().push(ReceivedStatus {
                path: request.path.clone(),
                commit,
                state: body["state"].as_str().unwrap_or_default().to_string(),
                description: body["description"].as_str().unwrap_or_default().to_string(),
                body: body.clone(),
            });
            respond(stream, 201, &[("Content-Type".into(), "application/json".into())], body.to_string().as_bytes());
        });
        BitbucketApi { http, received }
    }

    /// The API root (`BITBUCKET_API_URL`).
    pub fn url(&self) -> String {
        self.http.url()
    }

    /// Every status received so far, in order.
    pub fn statuses(&self) -> Vec<ReceivedStatus> {
        self.received.lock().unwrap().clone()
    }

    /// The states posted on `commit`, in order.
    pub fn states_for(&self, commit: &str) -> Vec<String> {
        self.statuses().into_iter().filter(|s| s.commit == commit).map(|s| s.state).collect()
    }

    /// The last status posted on `commit`.
    pub fn last_for(&self, commit: &str) -> Option<ReceivedStatus> {
        self.statuses().into_iter().rfind(|s| s.commit == commit)
    }
}

/// `/2.0/repositories/{ws}/{repo}/commit/{hash}/statuses/build` or
/// `/rest/build-status/1.0/commits/{hash}`.
fn commit_of(path: &str) -> Option<String> {
    let parts: Vec<&str> = path.trim_matches('/').split('/').collect();
    match parts.as_slice() {
        ["2.0", "repositories", _, _, "commit", hash, "statuses", "build"] => Some(hash.to_string()),
        ["rest", "build-status", "1.0", "commits", hash] => Some(hash.to_string()),
        _ => None,
    }
}
