//! The run's state in S3: per-series watermarks (the newest datapoint already pushed, for
//! `addCloudwatchTimestamp: true`), the discovery cache, the last event handled, and a lease.
//!
//! Every write is conditional on the version read (`If-Match` on the ETag, `If-None-Match: *`
//! for the first), so two overlapping runs cannot both take the lease, and a run whose lease was
//! taken over cannot overwrite the newer state.

use std::collections::BTreeMap;

use aws_sdk_s3::error::DisplayErrorContext;
use aws_sdk_s3::primitives::ByteStream;
use serde::{Deserialize, Serialize};

use crate::discovery::Discovered;

/// What a run leaves for the next.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct State {
    #[serde(default)]
    pub lease: Option<Lease>,
    /// The EventBridge event id of the last run that completed; the same id again is a duplicate.
    #[serde(default)]
    pub last_event_id: Option<String>,
    /// Series key → timestamp (ms) of the newest datapoint pushed.
    #[serde(default)]
    pub watermarks: BTreeMap<String, i64>,
    /// Discovery key → what was found, and when.
    #[serde(default)]
    pub discovery: BTreeMap<String, CachedDiscovery>,
}

/// A run holds the state until `until_ms`: runs starting before then leave it alone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Lease {
    pub owner: String,
    pub until_ms: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CachedDiscovery {
    pub fetched_ms: i64,
    pub found: Discovered,
}

/// The state and the version it was read at (`None`: no state object yet).
#[derive(Debug, Clone, Default)]
pub struct Versioned {
    pub state: State,
    pub etag: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum StateError {
    /// Another run wrote the state since it was read.
    #[error("s3://{bucket}/{key} changed since it was read (another run)")]
    Conflict { bucket: String, key: String },
    #[error("s3://{bucket}/{key}: {message}")]
    Io { bucket: String, key: String, message: String },
}

/// Where the state lives.
#[derive(Debug, Clone)]
pub struct StateStore {
    s3: aws_sdk_s3::Client,
    bucket: String,
    key: String,
}

impl StateStore {
    pub fn new(s3: aws_sdk_s3::Client, bucket: impl Into<String>, key: impl Into<String>) -> Self {
        Self { s3, bucket: bucket.into(), key: key.into() }
    }

    fn io(&self, message: String) -> StateError {
        StateError::Io { bucket: self.bucket.clone(), key: self.key.clone(), message }
    }

    pub async fn load(&self) -> Result<Versioned, StateError> {
        let out = match self.s3.get_object().bucket(&self.bucket).key(&self.key).send().await {
            Ok(out) => out,
            Err(e) if e.as_service_error().is_some_and(|s| s.is_no_such_key()) => return Ok(Versioned::default()),
            Err(e) => return Err(self.io(format!("GetObject: {}", DisplayErrorContext(&e)))),
        };
        let etag = out.e_tag().map(str::to_string);
        let bytes = out.body.collect().await.map_err(|e| self.io(format!("reading: {e}")))?.into_bytes();
        let state = serde_json::from_slice(&bytes).map_err(|e| self.io(format!("not a state file: {e}")))?;
        Ok(Versioned { state, etag })
    }

    /// Writes `state` if the object is still at `expected` (`None`: if there is none yet);
    /// returns the new version.
    pub async fn save(&self, state: &State, expected: Option<&str>) -> Result<String, StateError> {
        let body = serde_json::to_vec(state).map_err(|e| self.io(e.to_string()))?;
        let mut req = self
            .s3
            .put_object()
            .bucket(&self.bucket)
            .key(&self.key)
            .content_type("application/json")
            .body(ByteStream::from(body));
        req = match expected {
            Some(etag) => req.if_match(etag),
            None => req.if_none_match("*"),
        };
        match req.send().await {
            Ok(out) => Ok(out.e_tag().unwrap_or_default().to_string()),
            Err(e) => {
                let status = e.raw_response().map(|r| r.status().as_u16());
                if matches!(status, Some(412) | Some(409)) {
                    Err(StateError::Conflict { bucket: self.bucket.clone(), key: self.key.clone() })
                } else {
                    Err(self.io(format!("PutObject: {}", DisplayErrorContext(&e))))
                }
            }
        }
    }
}
