//! Applying a validated release to the volume Prometheus reads, then reloading every replica.
//!
//! Under `.promstack/` (the caller holds `.promstack/lock` for the whole fetch-validate-apply,
//! so two deliveries never interleave): `release.json` records the commit on the volume, its
//! files, and whether every replica confirmed it (`deployed`) or not yet (`pending`: the run
//! died, or a replica was unreachable; the next delivery or sync writes and reloads it again);
//! `previous/` holds the last confirmed release, file by file, with its `release.json`.
//! Break-glass: [`write_without_reload`] (`sync --no-reload`) writes a release while Prometheus
//! is down and records it `written` (no replica was asked; Prometheus reads it when it starts,
//! and the next delivery or sync writes and reloads it like a pending one), and
//! [`restore_previous`] puts `previous/` back and reloads it.
//! Files the new release drops are removed first (and directories left empty with them), so a
//! path may change between file and directory; then each file is written atomically, the
//! rendered `prometheus.yml` last. If any replica refuses the reload, the previous release is
//! written back and reloaded.

use std::collections::{BTreeMap, BTreeSet};
use std::io;
use std::path::{Path, PathBuf};

use promstack::files::{remove_durable, remove_stale_temps, write_atomic};
use serde::{Deserialize, Serialize};

use crate::layout::{Release, Summary, RENDERED_CONFIG};
use crate::reload::{reload_all, ReloadReport};
use crate::Error;

pub const STATE_DIR: &str = ".promstack";
pub const LOCK_FILE: &str = ".promstack/lock";
pub const RECORD_FILE: &str = ".promstack/release.json";
pub const PREVIOUS_DIR: &str = ".promstack/previous";

/// What is on the volume: written after the files (pending), then again once every replica
/// confirmed the reload (deployed); read before the next deploy.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Record {
    pub commit: String,
    /// Records written before this field existed were written after the reload: deployed.
    #[serde(default)]
    pub state: RecordState,
    #[serde(default)]
    pub branch: String,
    /// Seconds since the epoch.
    #[serde(default)]
    pub deployed_at: u64,
    /// Every file of the release, relative to the volume root.
    pub files: Vec<String>,
    #[serde(default)]
    pub summary: Summary,
}

/// Whether every Prometheus replica confirmed the recorded release.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RecordState {
    /// Written; not every replica has confirmed it yet.
    Pending,
    /// Written by `sync --no-reload`, and no replica was asked to reload it: Prometheus reads it
    /// when it starts, and the next delivery or sync writes and reloads it, as a pending one.
    Written,
    #[default]
    Deployed,
}

/// The result of [`apply`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Applied {
    /// Written and reloaded on every replica.
    Deployed { previous: Option<String>, replicas: Vec<String>, removed: Vec<String> },
    /// Written without a reload ([`write_without_reload`]), recorded `written`.
    Written { previous: Option<String>, removed: Vec<String> },
    /// The commit is already deployed: nothing written, nothing reloaded.
    Unchanged,
}

/// Reads the deployed release's record, if any.
pub fn read_record(root: &Path) -> Result<Option<Record>, Error> {
    read_record_at(&root.join(RECORD_FILE))
}

fn read_record_at(path: &Path) -> Result<Option<Record>, Error> {
    let path = path.to_path_buf();
    match std::fs::read(&path) {
        Ok(bytes) => serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|e| volume(&path, io::Error::new(io::ErrorKind::InvalidData, e))),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(volume(&path, e)),
    }
}

fn volume(path: &Path, source: io::Error) -> Error {
    Error::Volume { path: path.display().to_string(), source }
}

/// The files of the live release as they are now (`None`: absent), for rollback.
type Snapshot = BTreeMap<String, Option<Vec<u8>>>;

fn snapshot(root: &Path, paths: impl IntoIterator<Item = String>) -> Result<Snapshot, Error> {
    let mut out = Snapshot::new();
    for rel in paths {
        let path = root.join(&rel);
        let contents = match std::fs::read(&path) {
            Ok(c) => Some(c),
            // A directory there, or a file where a parent directory would be: no file at `rel`.
            Err(e) if is_absent(&e) => None,
            Err(e) => return Err(volume(&path, e)),
        };
        out.insert(rel, contents);
    }
    Ok(out)
}

fn is_absent(e: &io::Error) -> bool {
    matches!(e.kind(), io::ErrorKind::NotFound | io::ErrorKind::NotADirectory | io::ErrorKind::IsADirectory)
}

fn write_file(root: &Path, rel: &str, contents: &[u8]) -> Result<(), Error> {
    let path = root.join(rel);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(|e| volume(parent, e))?;
    }
    write_atomic(&path, contents).map_err(|e| volume(&path, e))
}

/// Removes `remove`, then writes `files` (the rendered config last). Removing first lets a path
/// change kind: `a.yml` a directory in the new release where it was a file, or the other way.
fn write_release(root: &Path, files: &BTreeMap<String, Vec<u8>>, remove: &[String]) -> Result<(), Error> {
    for rel in remove {
        remove_file_and_empty_parents(root, rel)?;
    }
    for (rel, contents) in files.iter().filter(|(rel, _)| rel.as_str() != RENDERED_CONFIG) {
        write_file(root, rel, contents)?;
    }
    if let Some(config) = files.get(RENDERED_CONFIG) {
        write_file(root, RENDERED_CONFIG, config)?;
    }
    Ok(())
}

/// Removes the file at `rel` (if it is one) and then each parent directory it leaves empty, up
/// to (not including) `root`.
fn remove_file_and_empty_parents(root: &Path, rel: &str) -> Result<(), Error> {
    let path = root.join(rel);
    match std::fs::symlink_metadata(&path) {
        Ok(m) if m.is_file() => remove_durable(&path).map_err(|e| volume(&path, e))?,
        Ok(_) => return Ok(()),
        Err(e) if is_absent(&e) => return Ok(()),
        Err(e) => return Err(volume(&path, e)),
    }
    let mut dir = path.parent();
    while let Some(d) = dir.filter(|d| *d != root && d.starts_with(root)) {
        match std::fs::remove_dir(d) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::DirectoryNotEmpty || is_absent(&e) => break,
            Err(e) => return Err(volume(d, e)),
        }
        dir = d.parent();
    }
    Ok(())
}

fn write_record(root: &Path, record: &Record) -> Result<(), Error> {
    let bytes = serde_json::to_vec_pretty(record).expect("a record serialises");
    write_file(root, RECORD_FILE, &bytes)
}

/// Keeps a copy of the confirmed release being replaced under `.promstack/previous/`.
fn keep_previous(root: &Path, record: Option<&Record>, snapshot: &Snapshot) -> Result<(), Error> {
    let dir = root.join(PREVIOUS_DIR);
    match std::fs::remove_dir_all(&dir) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => return Err(volume(&dir, e)),
    }
    for (rel, contents) in snapshot {
        if let Some(contents) = contents {
            write_file(&dir, rel, contents)?;
        }
    }
    if let Some(record) = record {
        write_file(&dir, "release.json", &serde_json::to_vec_pretty(record).expect("a record serialises"))?;
    }
    Ok(())
}

/// Removes temp files a crashed run left next to the release's files (they match no glob, but
/// they should not pile up on the volume).
fn clean_stale_temps<'a>(root: &Path, paths: impl Iterator<Item = &'a String>) {
    let dirs: BTreeSet<PathBuf> = paths.filter_map(|p| root.join(p).parent().map(Path::to_path_buf)).collect();
    for dir in dirs.iter().filter(|d| d.is_dir()) {
        if let Ok(n) = remove_stale_temps(dir) {
            if n > 0 {
                tracing::info!(dir = %dir.display(), removed = n, "stale temp files removed");
            }
        }
    }
}

/// Puts `record` back as the record, or removes the record when there was none.
fn restore_record(root: &Path, record: Option<&Record>) -> Result<(), Error> {
    match record {
        Some(record) => write_record(root, record),
        None => {
            let path = root.join(RECORD_FILE);
            remove_durable(&path).map_err(|e| volume(&path, e))
        }
    }
}

/// The last confirmed release as `previous/` keeps it, over `paths` and its own files: what to
/// roll back to (`None`: no file there).
fn rollback_target(root: &Path, paths: &BTreeSet<String>) -> Result<(Option<Record>, Snapshot), Error> {
    let dir = root.join(PREVIOUS_DIR);
    let record = read_record_at(&dir.join("release.json"))?;
    let mut all = paths.clone();
    all.extend(record.iter().flat_map(|r| r.files.iter()).filter(|p| crate::layout::is_safe_relative_path(p)).cloned());
    Ok((record, snapshot(&dir, all)?))
}

/// Restores `snapshot`: files that existed are written back, files that did not are removed.
fn restore(root: &Path, snapshot: &Snapshot) -> Result<(), Error> {
    let files: BTreeMap<String, Vec<u8>> =
        snapshot.iter().filter_map(|(k, v)| v.as_ref().map(|v| (k.clone(), v.clone()))).collect();
    let absent: Vec<String> = snapshot.iter().filter(|(_, v)| v.is_none()).map(|(k, _)| k.clone()).collect();
    write_release(root, &files, &absent)
}

/// Writes `release` for `commit` and reloads every Prometheus in `urls`; records it deployed once
/// every replica confirmed it. A replica that refuses it: the last confirmed release is restored
/// and reloaded. A replica that cannot be reached: the release stays, recorded pending, for the
/// next delivery or sync to finish. The caller holds the lock.
pub async fn apply(
    root: &Path,
    commit: &str,
    branch: &str,
    release: &Release,
    urls: &[String],
) -> Result<Applied, Error> {
    apply_release(root, commit, branch, release, Some(urls)).await
}

/// Writes `release` for `commit` and asks no replica to reload it (break-glass, while Prometheus
/// is down): recorded `written`, so the next delivery or sync does not take it for deployed and
/// writes and reloads it. The caller holds the lock.
pub async fn write_without_reload(
    root: &Path,
    commit: &str,
    branch: &str,
    release: &Release,
) -> Result<Applied, Error> {
    apply_release(root, commit, branch, release, None).await
}

/// [`apply`], and with `urls` `None`, [`write_without_reload`].
async fn apply_release(
    root: &Path,
    commit: &str,
    branch: &str,
    release: &Release,
    urls: Option<&[String]>,
) -> Result<Applied, Error> {
    let current = read_record(root)?;
    if current.as_ref().is_some_and(|r| r.commit == commit && r.state == RecordState::Deployed) {
        tracing::info!(commit, "already deployed");
        return Ok(Applied::Unchanged);
    }
    if let Some(pending) = current.as_ref().filter(|r| r.state != RecordState::Deployed) {
        tracing::info!(commit, pending = %pending.commit, state = ?pending.state, "the recorded release was never confirmed; writing it again");
    }
    let new_paths: BTreeSet<&String> = release.files.keys().collect();
    let removed: Vec<String> = current
        .iter()
        .flat_map(|r| r.files.iter())
        .filter(|p| !new_paths.contains(p) && crate::layout::is_safe_relative_path(p))
        .cloned()
        .collect();
    clean_stale_temps(root, release.files.keys().chain(removed.iter()));
    let touched: BTreeSet<String> = release.files.keys().cloned().chain(removed.iter().cloned()).collect();
    let before = snapshot(root, touched.clone())?;
    let record_before = current.clone();
    // `previous/` holds the last confirmed release: a pending or written one never replaces it.
    let confirmed = match current.as_ref() {
        Some(r) if r.state != RecordState::Deployed => read_record_at(&root.join(PREVIOUS_DIR).join("release.json"))?,
        _ => {
            keep_previous(root, current.as_ref(), &before)?;
            current.clone()
        }
    };

    let mut record = Record {
        commit: commit.to_string(),
        state: if urls.is_some() { RecordState::Pending } else { RecordState::Written },
        branch: branch.to_string(),
        deployed_at: now_secs(),
        files: release.files.keys().cloned().collect(),
        summary: release.summary,
    };
    write_or_put_back(root, &release.files, &removed, &record, &before, record_before.as_ref())?;
    let Some(urls) = urls else {
        tracing::info!(commit, files = record.files.len(), removed = removed.len(), "release written; no reload asked");
        return Ok(Applied::Written { previous: confirmed.map(|r| r.commit), removed });
    };
    tracing::info!(commit, files = record.files.len(), removed = removed.len(), "release written, pending");

    let report = reload_all(urls).await;
    // The first release of a fresh stack is written before Prometheus' service starts (the
    // template's deploy-time sync): its Cloud Map name has no record yet and there is nothing to
    // roll back to. Prometheus reads this release when it starts.
    let first_release_before_prometheus = confirmed.is_none() && report.no_replica_running();
    if first_release_before_prometheus {
        tracing::info!(commit, failure = %report.describe_failures(), "first release written; no Prometheus replica is running yet to reload");
    }
    if report.ok() || first_release_before_prometheus {
        record.state = RecordState::Deployed;
        write_record(root, &record)?;
        tracing::info!(commit, replicas = report.reloaded.len(), "release confirmed");
        return Ok(Applied::Deployed { previous: confirmed.map(|r| r.commit), replicas: report.reloaded, removed });
    }
    if !report.refused() && !report.no_replica_running() {
        // Found but not reachable (restarting, a 5xx): nothing says the config is wrong.
        tracing::warn!(commit, failure = %report.describe_failures(), "reload not confirmed; the release stays pending");
        return Err(Error::Unconfirmed { commit: short(commit).to_string(), failures: report.failed });
    }
    let failure = report.describe_failures();
    tracing::warn!(commit, %failure, "reload failed, restoring the previous release");
    let restored = roll_back(root, &touched, urls).await;
    if report.refused() {
        Err(Error::Reload(format!("Prometheus did not take commit {} ({restored}): {failure}", short(commit))))
    } else {
        Err(Error::NoReplica { commit: short(commit).to_string(), restored, failures: failure })
    }
}

fn now_secs() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

/// Writes `files` (removing `remove`) and then `record`. When a write fails part-way (volume
/// full, permissions), puts `before` and `record_before` back: the record too even when the
/// files could not all be restored.
fn write_or_put_back(
    root: &Path,
    files: &BTreeMap<String, Vec<u8>>,
    remove: &[String],
    record: &Record,
    before: &Snapshot,
    record_before: Option<&Record>,
) -> Result<(), Error> {
    let Err(e) = write_release(root, files, remove).and_then(|()| write_record(root, record)) else {
        return Ok(());
    };
    let files = restore(root, before);
    let rec = restore_record(root, record_before);
    match files.and(rec) {
        Ok(()) => Err(e),
        Err(restore) => Err(Error::Restore { failed: Box::new(e), restore: Box::new(restore) }),
    }
}

/// What [`restore_previous`] put back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Restored {
    /// The commit of the release restored.
    pub commit: String,
    /// The commit it replaced, if a release was recorded.
    pub replaced: Option<String>,
    pub replicas: Vec<String>,
    pub removed: Vec<String>,
}

/// Puts the release kept in `.promstack/previous/` back (files it lacks removed, each file written
/// atomically, the record last) and reloads every replica; records it deployed once every replica
/// confirmed it. The release it replaces becomes `previous/` when it was confirmed, so a second
/// restore goes back again. No previous release, or one with a file missing: an error, and
/// nothing changed. A reload that fails leaves the restored release recorded pending. The caller
/// holds the lock.
pub async fn restore_previous(root: &Path, urls: &[String]) -> Result<Restored, Error> {
    let dir = root.join(PREVIOUS_DIR);
    let Some(previous) = read_record_at(&dir.join("release.json"))? else {
        return Err(Error::NoPrevious(format!("{} holds no release.json", dir.display())));
    };
    let mut files = BTreeMap::new();
    for rel in previous.files.iter().filter(|p| crate::layout::is_safe_relative_path(p)) {
        let path = dir.join(rel);
        match std::fs::read(&path) {
            Ok(contents) => files.insert(rel.clone(), contents),
            Err(e) if is_absent(&e) => {
                let message = format!("{} lists {rel}, which is not there", dir.join("release.json").display());
                return Err(Error::NoPrevious(message));
            }
            Err(e) => return Err(volume(&path, e)),
        };
    }
    let current = read_record(root)?;
    let removed: Vec<String> = current
        .iter()
        .flat_map(|r| r.files.iter())
        .filter(|p| !files.contains_key(*p) && crate::layout::is_safe_relative_path(p))
        .cloned()
        .collect();
    clean_stale_temps(root, files.keys().chain(removed.iter()));
    let touched: BTreeSet<String> = files.keys().cloned().chain(removed.iter().cloned()).collect();
    let before = snapshot(root, touched)?;
    let mut record = Record { state: RecordState::Pending, deployed_at: now_secs(), ..previous.clone() };
    write_or_put_back(root, &files, &removed, &record, &before, current.as_ref())?;
    tracing::info!(commit = %record.commit, files = files.len(), removed = removed.len(), "previous release written back");
    if let Some(replaced) = current.as_ref().filter(|r| r.state == RecordState::Deployed) {
        let kept: Snapshot = before
            .iter()
            .filter(|(rel, _)| replaced.files.contains(rel))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        if let Err(e) = keep_previous(root, Some(replaced), &kept) {
            tracing::warn!(error = %e, "the replaced release could not be kept as the previous one");
        }
    }
    let report = reload_all(urls).await;
    if !report.ok() {
        let failure = report.describe_failures();
        tracing::warn!(commit = %record.commit, %failure, "the restored release was not reloaded");
        return Err(Error::Reload(format!(
            "the previous release {} is back on the volume (recorded pending; Prometheus reads it when it starts), but \
             reloading it failed: {failure}",
            short(&record.commit)
        )));
    }
    record.state = RecordState::Deployed;
    write_record(root, &record)?;
    tracing::info!(commit = %record.commit, replicas = report.reloaded.len(), "previous release restored and confirmed");
    Ok(Restored { commit: record.commit, replaced: current.map(|r| r.commit), replicas: report.reloaded, removed })
}

/// Writes the last confirmed release back over `touched` and reloads it; says how that went.
/// The record is restored even when files could not be: then it is pending and lists every file
/// that may be on the volume, so the next delivery writes everything again and removes the rest.
async fn roll_back(root: &Path, touched: &BTreeSet<String>, urls: &[String]) -> String {
    let (mut record, files) = match rollback_target(root, touched) {
        Ok(target) => target,
        Err(e) => {
            tracing::error!(error = %e, "the previous release cannot be read");
            return format!("the previous release could not be read: {e}");
        }
    };
    let mut problems = Vec::new();
    if let Err(e) = restore(root, &files) {
        tracing::error!(error = %e, "restoring the previous release's files failed");
        problems.push(format!("restoring its files failed: {e}"));
        let mut unsure = record.take().unwrap_or_default();
        unsure.state = RecordState::Pending;
        let files: BTreeSet<String> = unsure.files.iter().chain(touched).cloned().collect();
        unsure.files = files.into_iter().collect();
        record = Some(unsure);
    }
    if let Err(e) = restore_record(root, record.as_ref()) {
        tracing::error!(error = %e, "restoring the previous record failed");
        problems.push(format!("restoring its record failed: {e}"));
    }
    if !problems.is_empty() {
        return format!("the previous release was not fully restored: {}", problems.join("; "));
    }
    let again: ReloadReport = reload_all(urls).await;
    if again.ok() {
        "the previous release was restored and reloaded".to_string()
    } else {
        format!("the previous release was restored, but reloading it failed too: {}", again.describe_failures())
    }
}

pub fn short(commit: &str) -> &str {
    &commit[..commit.len().min(12)]
}

/// The lock file path under `root`.
pub fn lock_path(root: &Path) -> PathBuf {
    root.join(LOCK_FILE)
}

/// Creates `.promstack/` so the lock can be taken.
pub fn prepare(root: &Path) -> Result<(), Error> {
    let dir = root.join(STATE_DIR);
    std::fs::create_dir_all(&dir).map_err(|e| volume(&dir, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn release(files: &[(&str, &str)]) -> Release {
        Release {
            files: files.iter().map(|(k, v)| (k.to_string(), v.as_bytes().to_vec())).collect(),
            summary: Summary::default(),
        }
    }

    #[test]
    fn restore_puts_back_and_removes() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        write_release(root, &release(&[("prometheus.yml", "old"), ("rules.d/a.yml", "a")]).files, &[]).unwrap();
        let before = snapshot(root, ["prometheus.yml".into(), "rules.d/a.yml".into(), "rules.d/b.yml".into()]).unwrap();
        write_release(
            root,
            &release(&[("prometheus.yml", "new"), ("rules.d/b.yml", "b")]).files,
            &["rules.d/a.yml".into()],
        )
        .unwrap();
        assert!(!root.join("rules.d/a.yml").exists());
        restore(root, &before).unwrap();
        assert_eq!(std::fs::read_to_string(root.join("prometheus.yml")).unwrap(), "old");
        assert_eq!(std::fs::read_to_string(root.join("rules.d/a.yml")).unwrap(), "a");
        assert!(!root.join("rules.d/b.yml").exists());
    }

    #[test]
    fn stale_temps_are_cleaned() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("rules.d")).unwrap();
        let stale = dir.path().join(format!("rules.d/.a.yml.0123{}", promstack::files::TEMP_SUFFIX));
        std::fs::write(&stale, "half").unwrap();
        std::fs::write(dir.path().join("rules.d/keep.yml"), "x").unwrap();
        clean_stale_temps(dir.path(), ["rules.d/a.yml".to_string(), "prometheus.yml".to_string()].iter());
        assert!(!stale.exists());
        assert!(dir.path().join("rules.d/keep.yml").exists());
    }

    #[test]
    fn record_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(read_record(dir.path()).unwrap(), None);
        let record = Record { commit: "abc".into(), files: vec!["prometheus.yml".into()], ..Record::default() };
        write_record(dir.path(), &record).unwrap();
        assert_eq!(read_record(dir.path()).unwrap(), Some(record));
    }

    /// Every directory under `root` (but `.promstack`), relative.
    fn dirs(root: &Path) -> Vec<String> {
        let mut out = Vec::new();
        let mut stack = vec![root.to_path_buf()];
        while let Some(dir) = stack.pop() {
            for entry in std::fs::read_dir(&dir).unwrap().flatten() {
                let rel = entry.path().strip_prefix(root).unwrap().to_string_lossy().into_owned();
                if entry.path().is_dir() && rel != STATE_DIR {
                    stack.push(entry.path());
                    out.push(rel);
                }
            }
        }
        out.sort();
        out
    }

    #[test]
    fn a_path_may_change_kind_and_empty_directories_are_removed() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        write_release(root, &release(&[("rules.d/team.yml", "file"), ("rules.d/old/deep/x.yml", "x")]).files, &[])
            .unwrap();
        // The file becomes a directory; `old/deep/` empties.
        let as_dir = release(&[("rules.d/team.yml/a.yml", "a")]);
        let removed = ["rules.d/team.yml".to_string(), "rules.d/old/deep/x.yml".to_string()];
        write_release(root, &as_dir.files, &removed).unwrap();
        assert_eq!(std::fs::read_to_string(root.join("rules.d/team.yml/a.yml")).unwrap(), "a");
        assert_eq!(dirs(root), ["rules.d", "rules.d/team.yml"]);
        // And back: the directory becomes a file again.
        write_release(root, &release(&[("rules.d/team.yml", "file again")]).files, &["rules.d/team.yml/a.yml".into()])
            .unwrap();
        assert_eq!(std::fs::read_to_string(root.join("rules.d/team.yml")).unwrap(), "file again");
        assert_eq!(dirs(root), ["rules.d"]);
        // A snapshot sees no file where a directory is, or under a file.
        let snap = snapshot(root, ["rules.d".into(), "rules.d/team.yml/a.yml".into()]).unwrap();
        assert_eq!(snap.values().collect::<Vec<_>>(), [&None, &None]);
    }

    #[test]
    fn old_records_without_a_state_read_as_deployed() {
        let old = br#"{"commit": "abc", "branch": "main", "deployed_at": 1, "files": ["prometheus.yml"]}"#;
        let record: Record = serde_json::from_slice(old).unwrap();
        assert_eq!(record.state, RecordState::Deployed);
        let pending = Record { state: RecordState::Pending, ..record };
        assert_eq!(serde_json::to_value(&pending).unwrap()["state"], "pending");
    }

    #[tokio::test]
    async fn a_failed_write_restores_the_files_and_the_record() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        let first = release(&[("prometheus.yml", "old\n"), ("rules.d/a.yml", "a")]);
        apply(root, "c1", "main", &first, &[NO_REPLICA_YET.into()]).await.unwrap();
        // A file no release wrote where `file_sd/` would go: the write fails after `rules.d/`.
        std::fs::write(root.join("file_sd"), "in the way").unwrap();
        let second = release(&[("prometheus.yml", "new\n"), ("rules.d/b.yml", "b"), ("file_sd/static/h.json", "[]")]);
        let err = apply(root, "c2", "main", &second, &[NO_REPLICA_YET.into()]).await.unwrap_err();
        assert!(matches!(&err, Error::Volume { path, .. } if path.ends_with("file_sd/static")), "{err}");
        assert_eq!(std::fs::read_to_string(root.join("rules.d/a.yml")).unwrap(), "a");
        assert!(!root.join("rules.d/b.yml").exists());
        assert_eq!(std::fs::read_to_string(root.join("prometheus.yml")).unwrap(), "old\n");
        let record = read_record(root).unwrap().unwrap();
        assert_eq!((record.commit.as_str(), record.state), ("c1", RecordState::Deployed));
    }

    #[tokio::test]
    async fn a_rollback_whose_files_cannot_be_restored_still_restores_the_record_as_pending() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        let c0 = Record { commit: "c0".into(), files: vec!["file_sd/static/h.json".into()], ..Record::default() };
        let kept = root.join(PREVIOUS_DIR);
        write_file(&kept, "file_sd/static/h.json", b"[]").unwrap();
        write_file(&kept, "release.json", &serde_json::to_vec(&c0).unwrap()).unwrap();
        let c1 = Record { commit: "c1".into(), state: RecordState::Pending, ..Record::default() };
        write_record(root, &c1).unwrap();
        // A file where `file_sd/` must be a directory: the files cannot be put back.
        std::fs::write(root.join("file_sd"), "in the way").unwrap();
        let said = roll_back(root, &BTreeSet::from(["prometheus.yml".to_string()]), &[]).await;
        assert!(said.contains("not fully restored") && said.contains("file_sd"), "{said}");
        let record = read_record(root).unwrap().unwrap();
        assert_eq!((record.commit.as_str(), record.state), ("c0", RecordState::Pending));
        assert_eq!(record.files, ["file_sd/static/h.json", "prometheus.yml"], "every file that may be there");
    }

    #[tokio::test]
    async fn a_previous_release_with_a_file_missing_is_not_restored() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        let first = release(&[("prometheus.yml", "a\n"), ("rules.d/a.yml", "a")]);
        apply(root, "c1", "main", &first, &[NO_REPLICA_YET.into()]).await.unwrap();
        let second = release(&[("prometheus.yml", "b\n")]);
        write_without_reload(root, "c2", "main", &second).await.unwrap();
        assert_eq!(read_record(root).unwrap().unwrap().state, RecordState::Written);
        std::fs::remove_file(root.join(PREVIOUS_DIR).join("rules.d/a.yml")).unwrap();
        let err = restore_previous(root, &[NO_REPLICA_YET.into()]).await.unwrap_err();
        assert!(matches!(&err, Error::NoPrevious(m) if m.contains("lists rules.d/a.yml")), "{err}");
        assert_eq!(std::fs::read_to_string(root.join("prometheus.yml")).unwrap(), "b\n");
        assert_eq!(read_record(root).unwrap().unwrap().commit, "c2");
    }

    /// `.invalid` never resolves (RFC 6761): a Prometheus service that has no task yet.
    const NO_REPLICA_YET: &str = "http://prometheus.promstack-test.invalid:9090";

    #[tokio::test]
    async fn the_first_release_is_written_when_no_prometheus_runs_yet() {
        let dir = tempfile::tempdir().unwrap();
        let rel = release(&[("prometheus.yml", "global: {}\n"), ("rules.d/a.yml", "groups: []\n")]);
        let applied = apply(dir.path(), "c1", "main", &rel, &[NO_REPLICA_YET.into()]).await.unwrap();
        match applied {
            Applied::Deployed { replicas, previous, .. } => {
                assert!(replicas.is_empty());
                assert_eq!(previous, None);
            }
            other => panic!("expected Deployed, got {other:?}"),
        }
        assert_eq!(std::fs::read_to_string(dir.path().join("prometheus.yml")).unwrap(), "global: {}\n");
        assert_eq!(read_record(dir.path()).unwrap().unwrap().commit, "c1");
    }

    #[tokio::test]
    async fn a_later_release_with_no_replica_to_reload_is_rolled_back() {
        let dir = tempfile::tempdir().unwrap();
        let first = release(&[("prometheus.yml", "old\n")]);
        apply(dir.path(), "c1", "main", &first, &[NO_REPLICA_YET.into()]).await.unwrap();
        let second = release(&[("prometheus.yml", "new\n")]);
        let err = apply(dir.path(), "c2", "main", &second, &[NO_REPLICA_YET.into()]).await.unwrap_err();
        assert!(err.to_string().contains("resolv"), "{err}");
        assert_eq!(std::fs::read_to_string(dir.path().join("prometheus.yml")).unwrap(), "old\n");
        assert_eq!(read_record(dir.path()).unwrap().unwrap().commit, "c1");
    }
}
