//! The file_sd files on EFS and the state record behind them.
//!
//! One file per cluster, `<FILE_SD_DIR>/<cluster>.json`: an event concerns one task of one
//! cluster, so each update rewrites exactly one file, atomically. Next to the files,
//! `.state/<cluster>.promstack-state` records per task the last `version` applied, whether it
//! runs, and its targets: that is what lets an old or repeated event be recognised and ignored,
//! and what the file is rendered from. `.state/<cluster>.lock` serialises read-modify-write
//! across concurrent invocations (and hosts, on EFS). No name under `.state/` and no temp name
//! ends in `.json`, so no file_sd glob picks them up.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use promstack::files::{remove_durable, write_atomic, FileLock, TEMP_SUFFIX};
use serde::{Deserialize, Serialize};

use crate::targets::Target;

/// The record format; a different number is treated as damaged.
pub const STATE_FORMAT: u32 = 1;
/// A stopped task's record is kept this long so a late RUNNING event for it is still recognised
/// as older; EventBridge retries deliveries for up to 24 h, but in practice late events arrive
/// within minutes, and the reconcile removes any target a very late event might bring back.
pub const STOPPED_RETENTION: Duration = Duration::from_secs(6 * 3600);
const STATE_DIR: &str = ".state";
const STATE_SUFFIX: &str = ".promstack-state";

/// Everything known about one cluster's tasks.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ClusterState {
    pub format: u32,
    /// Incremented on every write; a record's `seq` says when it last changed, so a reconcile
    /// can tell which records changed after it started listing.
    pub seq: u64,
    pub tasks: BTreeMap<String, TaskRecord>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TaskRecord {
    /// The ECS task version this record reflects (0 when ECS did not say).
    pub version: i64,
    pub running: bool,
    pub seq: u64,
    /// Unix seconds of the last change (drives the removal of old stopped records).
    pub changed_at: u64,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub targets: Vec<Target>,
}

impl ClusterState {
    pub fn new() -> Self {
        Self { format: STATE_FORMAT, seq: 0, tasks: BTreeMap::new() }
    }

    /// Targets of running tasks, in a stable order (by task ARN, then as built).
    pub fn targets(&self) -> impl Iterator<Item = &Target> {
        self.tasks.values().filter(|r| r.running).flat_map(|r| r.targets.iter())
    }

    /// Drops stopped records older than the retention.
    pub fn prune(&mut self, now: u64) {
        let keep = STOPPED_RETENTION.as_secs();
        self.tasks.retain(|_, r| r.running || now.saturating_sub(r.changed_at) < keep);
    }
}

/// Renders the file_sd JSON: one target group per line, so diffs and `grep` stay readable.
pub fn render(state: &ClusterState) -> String {
    let mut out = String::from("[");
    let mut first = true;
    for t in state.targets() {
        out.push_str(if first { "\n" } else { ",\n" });
        first = false;
        // Serialising strings and maps of strings cannot fail.
        let _ = write!(out, "{}", serde_json::to_string(&t.group()).unwrap_or_default());
    }
    out.push_str(if first { "]\n" } else { "\n]\n" });
    out
}

pub fn now_secs() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

/// Why a state record could not be used.
#[derive(Debug)]
pub enum ReadStateError {
    Io(io::Error),
    Damaged(String),
}

/// What an update did; `extra` is what the change function returned besides the new record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Written<X = ()> {
    pub state_changed: bool,
    pub file_written: bool,
    /// Targets in the file after the update.
    pub targets: usize,
    pub extra: X,
}

/// The file_sd directory of one deployment.
#[derive(Debug, Clone)]
pub struct FileSdStore {
    dir: PathBuf,
    lock_timeout: Duration,
}

impl FileSdStore {
    pub fn new(dir: impl Into<PathBuf>, lock_timeout: Duration) -> Self {
        Self { dir: dir.into(), lock_timeout }
    }

    /// `<dir>/<cluster>.json`, what Prometheus reads.
    pub fn file_path(&self, cluster: &str) -> PathBuf {
        self.dir.join(format!("{cluster}.json"))
    }

    pub fn state_path(&self, cluster: &str) -> PathBuf {
        self.dir.join(STATE_DIR).join(format!("{cluster}{STATE_SUFFIX}"))
    }

    fn lock_path(&self, cluster: &str) -> PathBuf {
        self.dir.join(STATE_DIR).join(format!("{cluster}.lock"))
    }

    /// The cluster's record; a missing one is empty.
    pub fn read_state(&self, cluster: &str) -> Result<ClusterState, ReadStateError> {
        read_state_at(&self.state_path(cluster))
    }

    /// Read-modify-write of a cluster's record and file under the cluster's lock, on a blocking
    /// thread. `change` gets the current record (or why it is damaged) and returns the new one
    /// (`None` for "no change") plus anything the caller wants back, or an error that aborts
    /// with nothing written. The file is rewritten whenever its content differs from what the
    /// record renders, so a damaged or stale file is repaired by any update. The file is written
    /// before the record: if the record's write fails, the invocation fails and its retry writes
    /// both again.
    pub async fn update<F, X, E>(&self, cluster: &str, change: F) -> Result<Result<Written<X>, E>, io::Error>
    where
        F: FnOnce(Result<ClusterState, ReadStateError>) -> Result<(Option<ClusterState>, X), E> + Send + 'static,
        X: Send + 'static,
        E: Send + 'static,
    {
        let store = self.clone();
        let cluster = cluster.to_string();
        tokio::task::spawn_blocking(move || store.update_blocking(&cluster, change)).await.map_err(io::Error::other)?
    }

    /// [`FileSdStore::update`] on the calling thread.
    pub fn update_blocking<F, X, E>(&self, cluster: &str, change: F) -> Result<Result<Written<X>, E>, io::Error>
    where
        F: FnOnce(Result<ClusterState, ReadStateError>) -> Result<(Option<ClusterState>, X), E>,
    {
        std::fs::create_dir_all(self.dir.join(STATE_DIR))?;
        let _lock = FileLock::acquire(&self.lock_path(cluster), self.lock_timeout)?;
        self.remove_own_temps(cluster);
        let current = match self.read_state(cluster) {
            Err(ReadStateError::Io(e)) => return Err(e),
            other => other,
        };
        let previous = current.as_ref().ok().cloned();
        let (new_state, extra) = match change(current) {
            Ok(s) => s,
            Err(e) => return Ok(Err(e)),
        };
        let state_changed = new_state.is_some();
        let Some(state) = new_state.or(previous) else {
            // A damaged record and no new one: leave everything as it is.
            return Ok(Ok(Written { state_changed: false, file_written: false, targets: 0, extra }));
        };
        let rendered = render(&state);
        let file = self.file_path(cluster);
        let on_disk = match std::fs::read(&file) {
            Ok(bytes) => Some(bytes),
            Err(e) if e.kind() == io::ErrorKind::NotFound => None,
            Err(e) => return Err(e),
        };
        let file_written = on_disk.as_deref() != Some(rendered.as_bytes());
        if file_written {
            write_atomic(&file, rendered.as_bytes())?;
        }
        if state_changed {
            let bytes = serde_json::to_vec(&state).map_err(io::Error::other)?;
            write_atomic(&self.state_path(cluster), &bytes)?;
        }
        Ok(Ok(Written { state_changed, file_written, targets: state.targets().count(), extra }))
    }

    /// The clusters that have a record here, each with its record's `seq` (`None`: damaged).
    pub fn recorded_clusters(&self) -> io::Result<Vec<(String, Option<u64>)>> {
        let entries = match std::fs::read_dir(self.dir.join(STATE_DIR)) {
            Ok(e) => e,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(e),
        };
        let mut out = Vec::new();
        for entry in entries {
            let name = entry?.file_name().to_string_lossy().into_owned();
            let Some(cluster) = name.strip_suffix(STATE_SUFFIX) else { continue };
            if cluster.is_empty() || cluster.starts_with('.') {
                continue;
            }
            let seq = match self.read_state(cluster) {
                Ok(s) => Some(s.seq),
                Err(ReadStateError::Damaged(_)) => None,
                Err(ReadStateError::Io(e)) => return Err(e),
            };
            out.push((cluster.to_string(), seq));
        }
        out.sort();
        Ok(out)
    }

    /// Removes a cluster's file and then its record, under its lock, for a cluster this
    /// deployment no longer covers. Only if the record is still as it was seen (`seq`, or still
    /// damaged for `None`): a record an event changed since belongs to a live cluster and stays.
    /// Returns whether the cluster was removed.
    pub fn retire_blocking(&self, cluster: &str, seen: Option<u64>) -> io::Result<bool> {
        let _lock = FileLock::acquire(&self.lock_path(cluster), self.lock_timeout)?;
        let now = match self.read_state(cluster) {
            Ok(s) => Some(s.seq),
            Err(ReadStateError::Damaged(_)) => None,
            Err(ReadStateError::Io(e)) => return Err(e),
        };
        if now != seen || !self.state_path(cluster).exists() {
            return Ok(false);
        }
        self.remove_own_temps(cluster);
        // The file first: once it is gone Prometheus drops the targets; a failure before the
        // record goes leaves the record, and the next reconcile retires the cluster again.
        remove_durable(&self.file_path(cluster))?;
        remove_durable(&self.state_path(cluster))?;
        // The lock file stays: removing it while others may wait on it would let two writers
        // hold "the" lock on different inodes.
        Ok(true)
    }

    /// Temp files a crashed writer of this cluster left behind. Only this cluster's, and only
    /// under its lock, so no live writer's temp file is removed.
    fn remove_own_temps(&self, cluster: &str) {
        let prefixes = [format!(".{cluster}.json."), format!(".{cluster}{STATE_SUFFIX}.")];
        for dir in [self.dir.clone(), self.dir.join(STATE_DIR)] {
            let Ok(entries) = std::fs::read_dir(&dir) else { continue };
            for entry in entries.flatten() {
                let name = entry.file_name().to_string_lossy().into_owned();
                if name.ends_with(TEMP_SUFFIX) && prefixes.iter().any(|p| name.starts_with(p.as_str())) {
                    tracing::warn!(path = %entry.path().display(), "removing a temp file left by a crashed writer");
                    let _ = std::fs::remove_file(entry.path());
                }
            }
        }
    }
}

fn read_state_at(path: &Path) -> Result<ClusterState, ReadStateError> {
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(ClusterState::new()),
        Err(e) => return Err(ReadStateError::Io(e)),
    };
    let state: ClusterState = serde_json::from_slice(&bytes).map_err(|e| ReadStateError::Damaged(e.to_string()))?;
    if state.format != STATE_FORMAT {
        return Err(ReadStateError::Damaged(format!("format {} (expected {STATE_FORMAT})", state.format)));
    }
    Ok(state)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(addr: &str) -> Target {
        Target { address: addr.into(), labels: BTreeMap::from([("job".to_string(), "x".to_string())]) }
    }

    fn record(running: bool, targets: Vec<Target>) -> TaskRecord {
        TaskRecord { version: 1, running, seq: 1, changed_at: 0, targets }
    }

    #[test]
    fn renders_file_sd_json_prometheus_reads() {
        let mut s = ClusterState::new();
        assert_eq!(render(&s), "[]\n");
        s.tasks.insert("a".into(), record(true, vec![target("10.0.0.1:9100")]));
        s.tasks.insert("b".into(), record(false, vec![target("10.0.0.2:9100")]));
        let v: serde_json::Value = serde_json::from_str(&render(&s)).unwrap();
        assert_eq!(v, serde_json::json!([{"targets": ["10.0.0.1:9100"], "labels": {"job": "x"}}]));
    }

    #[test]
    fn renders_one_compact_group_per_line_that_config_updater_accepts() {
        let mut s = ClusterState::new();
        s.tasks.insert("a".into(), record(true, vec![target("10.0.0.1:9100"), target("10.0.0.1:9200")]));
        s.tasks.insert("b".into(), record(true, vec![target("10.0.0.2:9100")]));
        let text = render(&s);
        assert_eq!(
            text,
            "[\n{\"targets\":[\"10.0.0.1:9100\"],\"labels\":{\"job\":\"x\"}},\n\
             {\"targets\":[\"10.0.0.1:9200\"],\"labels\":{\"job\":\"x\"}},\n\
             {\"targets\":[\"10.0.0.2:9100\"],\"labels\":{\"job\":\"x\"}}\n]\n"
        );
        // The shared target-group type reads back what was written, and finds nothing to refuse.
        let groups: Vec<promstack::file_sd::TargetGroup> = serde_json::from_str(&text).unwrap();
        assert_eq!(groups.len(), 3);
        groups.iter().for_each(|g| g.check().unwrap());
    }

    #[test]
    fn prune_keeps_running_and_recent_stopped_records() {
        let mut s = ClusterState::new();
        s.tasks.insert("run".into(), record(true, vec![]));
        s.tasks.insert("old".into(), record(false, vec![]));
        let mut recent = record(false, vec![]);
        recent.changed_at = 1_000_000;
        s.tasks.insert("recent".into(), recent);
        s.prune(1_000_000 + 10);
        assert_eq!(s.tasks.keys().collect::<Vec<_>>(), ["recent", "run"]);
    }

    #[tokio::test]
    async fn update_writes_file_and_state_and_repairs_a_damaged_file() {
        let dir = tempfile::tempdir().unwrap();
        let store = FileSdStore::new(dir.path(), Duration::from_secs(5));
        let w = store
            .update("prod", |s| {
                let mut s = s.map_err(|_| ())?;
                s.seq += 1;
                s.tasks.insert("a".into(), record(true, vec![target("10.0.0.1:1")]));
                Ok::<_, ()>((Some(s), ()))
            })
            .await
            .unwrap()
            .unwrap();
        assert!(w.state_changed && w.file_written);
        let file = store.file_path("prod");
        let good = std::fs::read_to_string(&file).unwrap();
        std::fs::write(&file, b"{garbage").unwrap();
        let w = store.update("prod", |_| Ok::<_, ()>((None, ()))).await.unwrap().unwrap();
        assert!(!w.state_changed && w.file_written);
        assert_eq!(std::fs::read_to_string(&file).unwrap(), good);
        // Nothing that a `*.json` glob matches besides the file itself.
        let json: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .filter(|n| n.ends_with(".json"))
            .collect();
        assert_eq!(json, ["prod.json"]);
    }

    #[tokio::test]
    async fn an_aborted_update_writes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let store = FileSdStore::new(dir.path(), Duration::from_secs(5));
        let r = store.update("prod", |_| Err::<(Option<ClusterState>, ()), _>("no")).await.unwrap();
        assert_eq!(r.unwrap_err(), "no");
        assert!(!store.file_path("prod").exists());
        assert!(!store.state_path("prod").exists());
    }

    #[test]
    fn a_damaged_record_is_reported() {
        let dir = tempfile::tempdir().unwrap();
        let store = FileSdStore::new(dir.path(), Duration::from_secs(5));
        std::fs::create_dir_all(store.state_path("p").parent().unwrap()).unwrap();
        std::fs::write(store.state_path("p"), b"not json").unwrap();
        assert!(matches!(store.read_state("p"), Err(ReadStateError::Damaged(_))));
    }

    #[test]
    fn a_cluster_is_retired_only_if_its_record_did_not_change_since_it_was_seen() {
        let dir = tempfile::tempdir().unwrap();
        let store = FileSdStore::new(dir.path(), Duration::from_secs(1));
        let put = |cluster: &str, addr: &str| {
            store
                .update_blocking(cluster, |current| {
                    let mut s = current.unwrap();
                    s.seq += 1;
                    s.tasks.insert(
                        addr.into(),
                        TaskRecord {
                            version: 1,
                            running: true,
                            seq: s.seq,
                            changed_at: 0,
                            targets: vec![target(addr)],
                        },
                    );
                    Ok::<_, ()>((Some(s), ()))
                })
                .unwrap()
                .unwrap();
        };
        put("old", "a:1");
        put("live", "b:1");
        let seen = store.recorded_clusters().unwrap();
        assert_eq!(seen, [("live".to_string(), Some(1)), ("old".to_string(), Some(1))]);
        // An event changes "live" after the listing: it stays.
        put("live", "c:1");
        assert!(!store.retire_blocking("live", seen[0].1).unwrap());
        assert!(store.file_path("live").exists());
        assert!(store.retire_blocking("old", seen[1].1).unwrap());
        assert!(!store.file_path("old").exists() && !store.state_path("old").exists());
        assert_eq!(store.recorded_clusters().unwrap(), [("live".to_string(), Some(2))]);
        // Nothing left to retire is not an error.
        assert!(!store.retire_blocking("old", Some(1)).unwrap());
    }
}
