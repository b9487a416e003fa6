//! The run's state in S3, and the lease protocol around it. One object holds the per-series
//! watermarks (the newest datapoint already pushed, for `addCloudwatchTimestamp: true`), the
//! window each series was last read over (so a run skips the query when no new datapoint can
//! exist), the discovery cache, the last event handled, and a lease.
//!
//! A run [`acquire`](StateStore::acquire)s the state (or is told why to stand down), and gives it
//! back with [`commit`](StateStore::commit) once its samples landed, or
//! [`release`](StateStore::release) when the push failed (no watermark moves). Every write is
//! conditional on the version read (`If-Match` on the ETag, `If-None-Match: *` for the first), so
//! two overlapping runs cannot both take the lease, and a run whose lease was taken over cannot
//! overwrite the newer state.

use std::collections::{BTreeMap, HashSet};

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
    /// Series key → the window it was last read over, and the value pushed then. Rewritten by
    /// every successful run with the series that run exported, so it holds exactly the current
    /// series.
    #[serde(default)]
    pub last_read: BTreeMap<String, LastRead>,
}

/// The last read of one series: the period and end (s) of its window, and for
/// `addCloudwatchTimestamp: false` the value pushed (`None`: NaN, which JSON cannot hold).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct LastRead {
    pub period: i64,
    pub end: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<f64>,
}

impl LastRead {
    /// Whether a read over `period` ending at `end` can hold a datapoint this read did not: a
    /// window with the same period and end covers the same buckets.
    pub fn has_news(&self, period: i64, end: i64) -> bool {
        self.period != period || end > self.end
    }
}

impl State {
    /// Why a run starting at `now_ms` for `event_id` must leave the state alone, if it must.
    pub fn reason_to_skip(&self, event_id: Option<&str>, now_ms: i64) -> Option<String> {
        if let (Some(id), Some(last)) = (event_id, self.last_event_id.as_deref()) {
            if id == last {
                return Some(format!("duplicate invocation: event {id} was already handled"));
            }
        }
        match &self.lease {
            Some(lease) if lease.until_ms > now_ms => {
                Some(format!("another run ({}) holds the state until {} ms", lease.owner, lease.until_ms))
            }
            _ => None,
        }
    }

    /// Takes in what a run leaves: fresh discovery replaces the cached entry, entries no job
    /// references any more are dropped (so the object does not grow with every edit of the
    /// config), watermarks move forward only, and those older than the horizon are dropped.
    pub fn apply(&mut self, update: Update) {
        self.discovery.extend(update.discovery);
        self.discovery.retain(|key, _| update.referenced.contains(key));
        for (key, ts) in update.watermarks {
            let e = self.watermarks.entry(key).or_insert(ts);
            *e = (*e).max(ts);
        }
        self.watermarks.retain(|_, ts| *ts >= update.horizon_ms);
        if let Some(last_read) = update.last_read {
            self.last_read = last_read;
        }
    }
}

/// What a run gives back with the state.
#[derive(Debug, Clone, Default)]
pub struct Update {
    /// Discovery done this run, by cache key.
    pub discovery: Vec<(String, CachedDiscovery)>,
    /// The cache keys of the current config's jobs (`cache::referenced_keys`); a scope that
    /// failed this run is still referenced and keeps its entry.
    pub referenced: HashSet<String>,
    /// Series key → newest timestamp pushed; empty when the push failed.
    pub watermarks: Vec<(String, i64)>,
    /// A watermark older than this (ms) bounds nothing any more: the run never reaches back so far.
    pub horizon_ms: i64,
    /// The last reads of the series a run exported, replacing the old ones; `None` (a run whose
    /// push failed) keeps them.
    pub last_read: Option<BTreeMap<String, LastRead>>,
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
    /// The account it was found in: reused only for the same account.
    #[serde(default)]
    pub account_id: String,
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
            Err(e) => return Err(self.io(format!("GetObject: {}", promstack::aws::describe(&e)))),
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
                    Err(self.io(format!("PutObject: {}", promstack::aws::describe(&e))))
                }
            }
        }
    }
}

/// The outcome of [`StateStore::acquire`].
#[derive(Debug)]
pub enum Acquired {
    /// This run holds the lease.
    Held(Held),
    /// Why this run does nothing (a duplicate invocation, another run in progress).
    Skipped(String),
}

/// The state as this run took it, and the version its lease was written at.
#[derive(Debug)]
pub struct Held {
    state: State,
    etag: String,
}

impl Held {
    pub fn state(&self) -> &State {
        &self.state
    }
}

impl StateStore {
    /// Takes the lease for `lease_ms` from `now_ms`, unless the event was handled already or
    /// another run holds it (then, or if another run wrote first, the reason to stand down).
    pub async fn acquire(
        &self,
        owner: &str,
        now_ms: i64,
        lease_ms: i64,
        event_id: Option<&str>,
    ) -> Result<Acquired, StateError> {
        let v = self.load().await?;
        if let Some(reason) = v.state.reason_to_skip(event_id, now_ms) {
            return Ok(Acquired::Skipped(reason));
        }
        let mut state = v.state;
        state.lease = Some(Lease { owner: owner.to_string(), until_ms: now_ms + lease_ms });
        match self.save(&state, v.etag.as_deref()).await {
            Ok(etag) => Ok(Acquired::Held(Held { state, etag })),
            Err(StateError::Conflict { .. }) => Ok(Acquired::Skipped("another run took the state first".into())),
            Err(e) => Err(e),
        }
    }

    /// Gives the lease back after a run whose samples did not land: the event is not recorded as
    /// handled, so the next run retries the same datapoints at once (`update` carries no watermark).
    pub async fn release(&self, held: Held, update: Update) -> Result<(), StateError> {
        let Held { mut state, etag } = held;
        state.apply(update);
        state.lease = None;
        self.save(&state, Some(&etag)).await.map(drop)
    }

    /// Records a completed run: its update, the event as handled, the lease given back.
    pub async fn commit(&self, held: Held, update: Update, event_id: Option<&str>) -> Result<(), StateError> {
        let Held { mut state, etag } = held;
        state.apply(update);
        state.lease = None;
        state.last_event_id = event_id.map(str::to_string);
        self.save(&state, Some(&etag)).await.map(drop)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cached(fetched_ms: i64) -> CachedDiscovery {
        CachedDiscovery { fetched_ms, account_id: "123456789012".into(), found: Discovered::default() }
    }

    #[test]
    fn a_run_stands_down_for_a_handled_event_or_a_held_lease() {
        let mut state = State { last_event_id: Some("e1".into()), ..Default::default() };
        assert!(state.reason_to_skip(Some("e1"), 0).unwrap().contains("duplicate invocation: event e1"));
        assert_eq!(state.reason_to_skip(Some("e2"), 0), None);
        assert_eq!(state.reason_to_skip(None, 0), None, "an event without id is never a duplicate");
        state.lease = Some(Lease { owner: "run-a".into(), until_ms: 1_000 });
        assert!(state.reason_to_skip(Some("e2"), 999).unwrap().contains("another run (run-a)"));
        assert_eq!(state.reason_to_skip(Some("e2"), 1_000), None, "an expired lease is taken over");
    }

    #[test]
    fn watermarks_only_move_forward_and_expire_at_the_horizon() {
        let mut state = State::default();
        state.watermarks.insert("a".into(), 500);
        state.watermarks.insert("old".into(), 10);
        state.apply(Update {
            watermarks: vec![("a".into(), 400), ("b".into(), 600)],
            horizon_ms: 100,
            ..Default::default()
        });
        assert_eq!(state.watermarks, BTreeMap::from([("a".into(), 500), ("b".into(), 600)]));
    }

    #[test]
    fn discovery_no_job_references_is_pruned_and_fresh_discovery_replaces_the_cached() {
        let mut state = State::default();
        state.discovery.insert("kept".into(), cached(1));
        state.discovery.insert("edited-away".into(), cached(1));
        state.apply(Update {
            discovery: vec![("kept".into(), cached(2)), ("new".into(), cached(2))],
            referenced: HashSet::from(["kept".into(), "new".into(), "unreachable-this-run".into()]),
            ..Default::default()
        });
        assert_eq!(state.discovery, BTreeMap::from([("kept".into(), cached(2)), ("new".into(), cached(2))]));
    }
}
