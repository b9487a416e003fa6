//! Files on the shared EFS volume. Prometheus (on another host) must never read a half-written
//! file, and a failed run must leave the previous file whole: every write goes to a temp file in
//! the same directory, is fsynced, renamed over the target, and the directory is fsynced.
//! Read-modify-write of a shared file is serialised with an advisory lock that works across
//! hosts on NFS (EFS) and across threads of one process (open file description locks).

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Suffix of temp files. It matches none of the globs Prometheus is pointed at (`*.yml`,
/// `*.yaml`, `*.json`), and temp names also start with a dot.
pub const TEMP_SUFFIX: &str = ".promstack-tmp";

/// Bytes a temp file's name adds to the name of the file it replaces: a leading dot, a dot and 16
/// hex digits, and [`TEMP_SUFFIX`]. A name longer than NAME_MAX (255 bytes) minus this cannot be
/// written atomically.
pub const TEMP_NAME_EXTRA: usize = 1 + 1 + 16 + TEMP_SUFFIX.len();

/// The temp file name [`write_atomic`] uses for a file named `file_name`.
fn temp_name(file_name: &str) -> String {
    format!(".{file_name}.{:016x}{TEMP_SUFFIX}", fastrand::u64(..))
}

/// Writes `contents` to `path` atomically: readers see the old file or the new one, never a
/// mix, and on error the old file is untouched and no temp file is left behind.
pub fn write_atomic(path: &Path, contents: &[u8]) -> io::Result<()> {
    let dir = parent_dir(path)?;
    let file_name = path
        .file_name()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, format!("{} has no file name", path.display())))?
        .to_string_lossy();
    let temp = dir.join(temp_name(&file_name));
    let result = (|| {
        let mut file = OpenOptions::new().write(true).create_new(true).open(&temp)?;
        file.write_all(contents)?;
        file.sync_all()?;
        drop(file);
        fs::rename(&temp, path)?;
        sync_dir(&dir)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&temp);
    }
    result.map_err(|e| io::Error::new(e.kind(), format!("writing {}: {e}", path.display())))
}

/// Removes `path` (missing is fine) and makes the removal durable.
pub fn remove_durable(path: &Path) -> io::Result<()> {
    match fs::remove_file(path) {
        Ok(()) => sync_dir(&parent_dir(path)?),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(io::Error::new(e.kind(), format!("removing {}: {e}", path.display()))),
    }
}

/// Removes temp files that a crashed writer left in `dir` (not recursive).
pub fn remove_stale_temps(dir: &Path) -> io::Result<usize> {
    let mut removed = 0;
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        if entry.file_name().to_string_lossy().ends_with(TEMP_SUFFIX) {
            fs::remove_file(entry.path())?;
            removed += 1;
        }
    }
    Ok(removed)
}

fn parent_dir(path: &Path) -> io::Result<PathBuf> {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => Ok(p.to_path_buf()),
        Some(_) => Ok(PathBuf::from(".")),
        None => Err(io::Error::new(io::ErrorKind::InvalidInput, format!("{} has no parent", path.display()))),
    }
}

fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

/// An exclusive advisory lock on a lock file, held until dropped.
///
/// It is an open-file-description lock (`F_OFD_SETLK`): the Linux NFS client (EFS) turns it into
/// an NFSv4 lock that other hosts see, and unlike a classic POSIX lock it also excludes other
/// threads of the same process, so concurrent invocations in tests behave like separate Lambdas.
#[derive(Debug)]
pub struct FileLock {
    file: File,
    path: PathBuf,
}

impl FileLock {
    /// Waits up to `timeout` for the lock on `path` (created if missing).
    pub fn acquire(path: &Path, timeout: Duration) -> io::Result<Self> {
        let file = OpenOptions::new().read(true).write(true).create(true).truncate(false).open(path)?;
        let deadline = Instant::now() + timeout;
        let mut wait = Duration::from_millis(2);
        loop {
            match ofd_lock(&file) {
                Ok(()) => return Ok(Self { file, path: path.to_path_buf() }),
                Err(e) if matches!(e.raw_os_error(), Some(libc::EAGAIN) | Some(libc::EACCES)) => {
                    if Instant::now() >= deadline {
                        return Err(io::Error::new(
                            io::ErrorKind::TimedOut,
                            format!("lock {} still held by another writer after {timeout:?}", path.display()),
                        ));
                    }
                    std::thread::sleep(wait.min(deadline.saturating_duration_since(Instant::now())));
                    wait = (wait * 2).min(Duration::from_millis(100));
                }
                Err(e) => return Err(io::Error::new(e.kind(), format!("locking {}: {e}", path.display()))),
            }
        }
    }

    /// As [`FileLock::acquire`], without blocking the async runtime.
    pub async fn acquire_async(path: PathBuf, timeout: Duration) -> io::Result<Self> {
        tokio::task::spawn_blocking(move || Self::acquire(&path, timeout)).await.map_err(io::Error::other)?
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for FileLock {
    fn drop(&mut self) {
        // Closing the descriptor releases the lock too; unlock explicitly all the same so the
        // release does not wait for the last duplicate of the descriptor.
        let mut fl = flock_struct(libc::F_UNLCK);
        // SAFETY: valid fd and a fully initialised flock struct.
        unsafe { libc::fcntl(self.file.as_raw_fd(), libc::F_OFD_SETLK, &mut fl) };
    }
}

fn flock_struct(kind: i32) -> libc::flock {
    // SAFETY: flock is plain old data; zero is a valid value for every field.
    let mut fl: libc::flock = unsafe { std::mem::zeroed() };
    fl.l_type = kind as libc::c_short;
    fl.l_whence = libc::SEEK_SET as libc::c_short;
    fl.l_start = 0;
    fl.l_len = 0; // the whole file
    fl
}

fn ofd_lock(file: &File) -> io::Result<()> {
    let mut fl = flock_struct(libc::F_WRLCK);
    // SAFETY: valid fd and a fully initialised flock struct; l_pid must be 0 for OFD locks.
    let rc = unsafe { libc::fcntl(file.as_raw_fd(), libc::F_OFD_SETLK, &mut fl) };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_replace_and_leave_no_temp() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("targets.json");
        write_atomic(&path, b"one").unwrap();
        write_atomic(&path, b"two").unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"two");
        let names: Vec<_> = fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(names, ["targets.json"]);
    }

    #[test]
    fn failed_write_keeps_the_old_state_and_cleans_up() {
        let dir = tempfile::tempdir().unwrap();
        // The target is a non-empty directory: the rename fails after the temp file was written.
        let target = dir.path().join("rules.yml");
        fs::create_dir(&target).unwrap();
        fs::write(target.join("keep"), b"x").unwrap();
        let err = write_atomic(&target, b"new").unwrap_err();
        assert!(err.to_string().contains("rules.yml"), "{err}");
        assert_eq!(fs::read(target.join("keep")).unwrap(), b"x");
        let names: Vec<_> = fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(names, ["rules.yml"], "no temp file left behind");
    }

    #[test]
    fn temp_names_match_no_prometheus_glob() {
        let name = format!(".rules.yml.0123456789abcdef{TEMP_SUFFIX}");
        for ext in [".yml", ".yaml", ".json"] {
            assert!(!name.ends_with(ext));
        }
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join(&name), b"").unwrap();
        fs::write(dir.path().join("real.yml"), b"").unwrap();
        assert_eq!(remove_stale_temps(dir.path()).unwrap(), 1);
        assert!(dir.path().join("real.yml").exists());
    }

    #[test]
    fn temp_names_add_exactly_temp_name_extra_bytes() {
        for name in ["a", "prod.json", &"x".repeat(200)] {
            assert_eq!(temp_name(name).len(), name.len() + TEMP_NAME_EXTRA, "{name}");
        }
    }

    #[test]
    fn lock_excludes_other_threads_and_times_out() {
        let dir = tempfile::tempdir().unwrap();
        let lock_path = dir.path().join(".lock");
        let held = FileLock::acquire(&lock_path, Duration::from_secs(1)).unwrap();
        let p = lock_path.clone();
        let err =
            std::thread::spawn(move || FileLock::acquire(&p, Duration::from_millis(50)).unwrap_err()).join().unwrap();
        assert_eq!(err.kind(), io::ErrorKind::TimedOut);
        drop(held);
        FileLock::acquire(&lock_path, Duration::from_millis(50)).unwrap();
    }

    #[test]
    fn lock_serialises_read_modify_write() {
        let dir = tempfile::tempdir().unwrap();
        let counter = dir.path().join("counter");
        let lock_path = dir.path().join(".counter.lock");
        write_atomic(&counter, b"0").unwrap();
        let threads: Vec<_> = (0..8)
            .map(|_| {
                let (counter, lock_path) = (counter.clone(), lock_path.clone());
                std::thread::spawn(move || {
                    for _ in 0..25 {
                        let _lock = FileLock::acquire(&lock_path, Duration::from_secs(10)).unwrap();
                        let n: u64 = fs::read_to_string(&counter).unwrap().parse().unwrap();
                        std::thread::yield_now();
                        write_atomic(&counter, (n + 1).to_string().as_bytes()).unwrap();
                    }
                })
            })
            .collect();
        threads.into_iter().for_each(|t| t.join().unwrap());
        assert_eq!(fs::read_to_string(&counter).unwrap(), "200");
    }
}
