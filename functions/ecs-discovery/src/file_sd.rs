//! The file_sd files on EFS and the state record behind them.
//!
//! One file per cluster, `<FILE_SD_DIR>/<cluster>.json`: an event concerns one task of one
//! cluster, so each update rewrites exactly one file, atomically. Next to the files,
//! `.state/<cluster>.promstack-state` records per task the last `version` applied, whether it
//! runs, and its targets: that is what lets an old or repeated event be recognised and ignored,
//! and what the file is rendered from. `.state/<cluster>.lock` serialises read-modify-write
//! across concurrent invocations (and hosts, on EFS). No name under `.state/` and no temp name
//! ends in `.json`, so no file_sd glob picks them up.
//!
//! File names: ECS allows cluster names of up to 255 bytes, but a directory entry may have no
//! more than 255 (NAME_MAX), and the record's temp file adds 48 to the name. So `<cluster>` above
//! is the cluster's [`file_stem`]: the name itself up to [`MAX_VERBATIM_STEM`] bytes (the names
//! that always worked keep their files), a head of the name and a hash of all of it beyond. The
//! full name stays in the record and in every target's `cluster` label.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use promstack::files::{remove_durable, write_atomic, FileLock, TEMP_NAME_EXTRA, TEMP_SUFFIX};
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
/// The longest name of a directory entry on Linux filesystems, EFS included.
const NAME_MAX: usize = 255;
/// The longest stem kept verbatim: the record's temp file, `.<stem>.promstack-state.<16 hex
/// digits>.promstack-tmp`, is the longest name made from a stem.
pub const MAX_VERBATIM_STEM: usize = NAME_MAX - STATE_SUFFIX.len() - TEMP_NAME_EXTRA;
/// Hex digits of the hash in a hashed stem.
const STEM_HASH_DIGITS: usize = 16;

/// The name a cluster's file, record and lock are stored under: the cluster name itself when it
/// is at most [`MAX_VERBATIM_STEM`] bytes, else its head, a dot and a hash of the whole name, in
/// [`MAX_VERBATIM_STEM`] bytes. ECS names have no dots, so a hashed stem is never another
/// cluster's name; and a stem is its own stem, so a stem read back from the directory finds its
/// files.
pub fn file_stem(cluster: &str) -> Cow<'_, str> {
    if cluster.len() <= MAX_VERBATIM_STEM {
        return Cow::Borrowed(cluster);
    }
    let head_max = MAX_VERBATIM_STEM - 1 - STEM_HASH_DIGITS;
    let head_end = (0..=head_max).rev().find(|&i| cluster.is_char_boundary(i)).unwrap_or(0);
    Cow::Owned(format!("{}.{:016x}", &cluster[..head_end], fnv1a64(cluster.as_bytes())))
}

/// FNV-1a, 64 bits: stable across Rust releases (std's hasher is not promised to be), and no
/// dependency. A collision is detected: the record names its cluster (see `update_blocking`).
fn fnv1a64(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3))
}

/// Everything known about one cluster's tasks.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ClusterState {
    pub format: u32,
    /// The cluster's full name (records written before names could be hashed have none; their
    /// stem is the name).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cluster: Option<String>,
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
        Self { format: STATE_FORMAT, cluster: None, seq: 0, tasks: BTreeMap::new() }
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

    /// `<dir>/<stem>.json`, what Prometheus reads ([`file_stem`]: the cluster name unless long).
    pub fn file_path(&self, cluster: &str) -> PathBuf {
        self.dir.join(format!("{}.json", file_stem(cluster)))
    }

    pub fn state_path(&self, cluster: &str) -> PathBuf {
        self.dir.join(STATE_DIR).join(format!("{}{STATE_SUFFIX}", file_stem(cluster)))
    }

    fn lock_path(&self, cluster: &str) -> PathBuf {
        self.dir.join(STATE_DIR).join(format!("{}.lock", file_stem(cluster)))
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
    /// before the record, so Prometheus sees a change as soon as possible; if the record's write
    /// then fails, the file is put back as it was (file and record agree again), and the error
    /// says so; only if that fails too is the error a [`FileAheadOfRecord`].
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
            Ok(ClusterState { cluster: Some(owner), .. }) if owner != cluster => {
                let path = self.state_path(cluster);
                let msg = format!("{} is the record of cluster {owner}, whose name hashes alike", path.display());
                return Err(io::Error::new(io::ErrorKind::AlreadyExists, msg));
            }
            other => other,
        };
        let previous = current.as_ref().ok().cloned();
        let (new_state, extra) = match change(current) {
            Ok(s) => s,
            Err(e) => return Ok(Err(e)),
        };
        let state_changed = new_state.is_some();
        let Some(mut state) = new_state.or(previous) else {
            // A damaged record and no new one: leave everything as it is.
            return Ok(Ok(Written { state_changed: false, file_written: false, targets: 0, extra }));
        };
        if state_changed {
            state.cluster = Some(cluster.to_string());
        }
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
            if let Err(e) = write_atomic(&self.state_path(cluster), &bytes) {
                return Err(if file_written { put_back(&file, on_disk.as_deref(), e) } else { e });
            }
        }
        Ok(Ok(Written { state_changed, file_written, targets: state.targets().count(), extra }))
    }

    /// The clusters that have a record here, each by its [`file_stem`] (which every method
    /// accepts in place of the name), with its record's `seq` (`None`: damaged).
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
            // Not a stem this store makes: not ours to read or retire.
            if cluster.is_empty() || cluster.starts_with('.') || file_stem(cluster) != cluster {
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
        remove_durable(&self.state_path(cluster)).map_err(|record_error| {
            io::Error::other(RecordOutlivesFile { file: self.file_path(cluster), record_error })
        })?;
        // The lock file stays: removing it while others may wait on it would let two writers
        // hold "the" lock on different inodes.
        Ok(true)
    }

    /// Temp files a crashed writer of this cluster left behind. Only this cluster's, and only
    /// under its lock, so no live writer's temp file is removed.
    fn remove_own_temps(&self, cluster: &str) {
        let stem = file_stem(cluster);
        let prefixes = [format!(".{stem}.json."), format!(".{stem}{STATE_SUFFIX}.")];
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

/// The file_sd file was written, its record was not, and putting the file back failed too: the
/// file has the new targets and the record the old ones, until the next update of the cluster
/// (an event's retry, or the reconcile) writes both.
#[derive(Debug, thiserror::Error)]
#[error("{record_error}; putting {} back as it was failed too ({restore_error}): it has targets its record does not", file.display())]
pub struct FileAheadOfRecord {
    pub file: PathBuf,
    pub record_error: io::Error,
    pub restore_error: io::Error,
}

/// A retired cluster's file was removed but its record could not be: the next reconcile, seeing
/// the record unchanged, retires the cluster again.
#[derive(Debug, thiserror::Error)]
#[error("{} removed, but not its record: {record_error}", file.display())]
pub struct RecordOutlivesFile {
    pub file: PathBuf,
    pub record_error: io::Error,
}

/// After the record's write failed: the file as it was before the update (`None`: there was no
/// file), so that file and record agree.
fn put_back(file: &Path, before: Option<&[u8]>, record_error: io::Error) -> io::Error {
    let restored = match before {
        Some(bytes) => write_atomic(file, bytes),
        None => remove_durable(file),
    };
    match restored {
        Ok(()) => io::Error::new(record_error.kind(), format!("{record_error}; {} put back as it was", file.display())),
        Err(restore_error) => {
            io::Error::other(FileAheadOfRecord { file: file.to_path_buf(), record_error, restore_error })
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

    fn put_task(store: &FileSdStore, cluster: &str, addr: &str) -> io::Result<Written> {
        store
            .update_blocking(cluster, |current| {
                let mut s = current.unwrap();
                s.seq += 1;
                let targets = vec![target(addr)];
                s.tasks
                    .insert(addr.into(), TaskRecord { version: 1, running: true, seq: s.seq, changed_at: 0, targets });
                Ok::<_, ()>((Some(s), ()))
            })
            .map(Result::unwrap)
    }

    #[test]
    fn names_that_always_worked_keep_their_file_names_and_longer_ones_are_hashed() {
        assert_eq!(MAX_VERBATIM_STEM, 207);
        for len in [1, 207] {
            let name = "c".repeat(len);
            assert_eq!(file_stem(&name), name.as_str());
        }
        let (a, b) = ("c".repeat(208), format!("{}d", "c".repeat(254)));
        for long in [&a, &b] {
            let stem = file_stem(long);
            assert_eq!(stem.len(), MAX_VERBATIM_STEM, "{stem}");
            assert!(stem.starts_with(&"c".repeat(190)) && stem.contains('.'), "{stem}");
            assert_eq!(file_stem(&stem), stem, "a stem is its own stem");
        }
        // Names that differ only past the head get different stems.
        assert_ne!(file_stem(&"c".repeat(255)), file_stem(&b));
        // Pinned: a stem must not change between releases, or a deploy would orphan the files.
        assert_eq!(&file_stem(&"c".repeat(208))[190..], format!(".{:016x}", fnv1a64("c".repeat(208).as_bytes())));
        assert_eq!(fnv1a64(b"a"), 0xaf63_dc4c_8601_ec8c);
    }

    #[test]
    fn every_valid_cluster_name_gets_its_file_and_its_record() {
        let dir = tempfile::tempdir().unwrap();
        let store = FileSdStore::new(dir.path(), Duration::from_secs(5));
        for len in [1, 207, 208, 219, 255] {
            let name = format!("{}{}", "n".repeat(len - 1), len % 10);
            let w = put_task(&store, &name, "10.0.0.1:9100").unwrap_or_else(|e| panic!("{len} characters: {e}"));
            assert!(w.file_written && w.state_changed, "{len}");
            assert!(store.file_path(&name).exists(), "{len}: no file");
            let record = store.read_state(&name).unwrap_or_else(|_| panic!("{len}: record unreadable"));
            assert_eq!(record.cluster.as_deref(), Some(name.as_str()), "{len}: the record names its cluster");
            // A second update reads the record back: out-of-order protection holds.
            assert_eq!(put_task(&store, &name, "10.0.0.2:9100").unwrap().targets, 2, "{len}");
        }
        let recorded: Vec<_> = store.recorded_clusters().unwrap().into_iter().map(|(stem, _)| stem).collect();
        assert_eq!(recorded.len(), 5, "{recorded:?}");
        // Each stem reads the record of its cluster, and retires it.
        for stem in recorded {
            assert!(store.read_state(&stem).unwrap().cluster.is_some_and(|c| file_stem(&c) == stem));
            assert!(store.retire_blocking(&stem, Some(2)).unwrap(), "{stem}");
        }
        let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(left, [".state"]);
    }

    #[test]
    fn a_record_that_cannot_be_written_puts_the_file_back() {
        let dir = tempfile::tempdir().unwrap();
        let store = FileSdStore::new(dir.path(), Duration::from_secs(5));
        // The change function puts a directory where the record goes, which the rename cannot
        // replace, so the record's write fails after the file's.
        let update_with_unwritable_record = |cluster: &str| {
            let record = store.state_path(cluster);
            store
                .update_blocking(cluster, |current| {
                    let mut s = current.unwrap();
                    let _ = std::fs::remove_file(&record);
                    std::fs::create_dir_all(record.join("occupied")).unwrap();
                    s.seq += 1;
                    let targets = vec![target("10.0.0.2:9100")];
                    s.tasks.insert(
                        "b".into(),
                        TaskRecord { version: 1, running: true, seq: s.seq, changed_at: 0, targets },
                    );
                    Ok::<_, ()>((Some(s), ()))
                })
                .unwrap_err()
        };
        put_task(&store, "prod", "10.0.0.1:9100").unwrap();
        let before = std::fs::read(store.file_path("prod")).unwrap();
        let err = update_with_unwritable_record("prod");
        assert!(err.to_string().contains("put back as it was"), "{err}");
        assert!(err.get_ref().is_none_or(|e| !e.is::<FileAheadOfRecord>()), "{err}");
        assert_eq!(std::fs::read(store.file_path("prod")).unwrap(), before, "the file is as it was");
        // A new cluster's file, which was not there before, is removed again.
        let err = update_with_unwritable_record("new");
        assert!(err.to_string().contains("put back as it was"), "{err}");
        assert!(!store.file_path("new").exists());
    }

    #[test]
    fn a_record_of_another_cluster_under_the_same_stem_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let store = FileSdStore::new(dir.path(), Duration::from_secs(5));
        let name = "x".repeat(230);
        put_task(&store, &name, "10.0.0.1:9100").unwrap();
        // As if another name hashed alike: the record under this stem names a different cluster.
        let mut record = store.read_state(&name).unwrap();
        record.cluster = Some("y".repeat(230));
        std::fs::write(store.state_path(&name), serde_json::to_vec(&record).unwrap()).unwrap();
        let file = std::fs::read(store.file_path(&name)).unwrap();
        let err = put_task(&store, &name, "10.0.0.2:9100").unwrap_err();
        assert!(err.to_string().contains(&format!("record of cluster {}", "y".repeat(230))), "{err}");
        assert_eq!(std::fs::read(store.file_path(&name)).unwrap(), file, "nothing written");
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
