//! `config-updater check DIR`: the checks a push runs, on a checked-out config repository, so
//! the repo's own pipeline can run them before it merges (like `promtool check config`).

use std::collections::BTreeMap;
use std::path::Path;

use crate::layout::{Layout, Release, RepoFile};
use crate::settings::Limits;
use crate::validate::{self, Problem, Target};

/// Reads every file under `dir` (skipping `.git`), with the same rules a fetched commit
/// follows: no symlinks, UTF-8 paths, within `limits`.
pub fn read_dir(dir: &Path, limits: Limits) -> Result<Vec<RepoFile>, Vec<Problem>> {
    let mut files = Vec::new();
    let mut problems = Vec::new();
    let mut total: u64 = 0;
    let mut stack = vec![dir.to_path_buf()];
    while let Some(current) = stack.pop() {
        let entries = match std::fs::read_dir(&current) {
            Ok(e) => e,
            Err(e) => {
                problems.push(Problem::new(&current.display().to_string(), None, None, format!("cannot read: {e}")));
                continue;
            }
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let rel = path.strip_prefix(dir).unwrap_or(&path);
            let Some(rel) = rel.to_str().map(|s| s.replace('\\', "/")) else {
                problems.push(Problem::new(&rel.display().to_string(), None, None, "path is not UTF-8"));
                continue;
            };
            let Ok(kind) = entry.file_type() else { continue };
            if kind.is_symlink() {
                problems.push(Problem::new(&rel, None, None, "symlinks are not allowed in the config repository"));
            } else if kind.is_dir() {
                if rel != ".git" {
                    stack.push(path);
                }
            } else if kind.is_file() {
                match std::fs::read(&path) {
                    Ok(contents) => {
                        total += contents.len() as u64;
                        files.push(RepoFile { path: rel, contents });
                    }
                    Err(e) => problems.push(Problem::new(&rel, None, None, format!("cannot read: {e}"))),
                }
            }
        }
    }
    if files.len() > limits.max_files {
        problems.push(Problem::new(
            ".",
            None,
            None,
            format!("{} files, more than the limit of {}", files.len(), limits.max_files),
        ));
    }
    if total > limits.max_bytes {
        problems.push(Problem::new(
            ".",
            None,
            None,
            format!("{total} bytes, more than the limit of {}", limits.max_bytes),
        ));
    }
    files.sort_by(|a, b| a.path.cmp(&b.path));
    if problems.is_empty() {
        Ok(files)
    } else {
        Err(problems)
    }
}

/// Checks the repository checked out at `dir`.
pub fn check_dir(
    dir: &Path,
    layout: &Layout,
    limits: Limits,
    vars: &BTreeMap<String, String>,
    target: &Target,
) -> Result<Release, Vec<Problem>> {
    let files = read_dir(dir, limits)?;
    validate::check_repo(&files, layout, vars, target)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_example_repo_passes() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/config-repo");
        let vars: BTreeMap<String, String> = [("CLUSTER", "demo"), ("ACCOUNT_ALIAS", "demo"), ("PRODUCT", "demo")]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let release = check_dir(&dir, &Layout::default(), Limits::default(), &vars, &Target::default())
            .unwrap_or_else(|p| panic!("{}", validate::describe(&p)));
        assert!(release.files.contains_key("prometheus.yml"));
        assert!(release.summary.rules > 0);
        let err =
            check_dir(&dir, &Layout::default(), Limits::default(), &BTreeMap::new(), &Target::default()).unwrap_err();
        assert!(validate::describe(&err).contains("$(CLUSTER)"));
    }

    #[test]
    fn symlinks_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("prometheus.yml"), "global: {}\n").unwrap();
        std::os::unix::fs::symlink("/etc/passwd", dir.path().join("rules.yml")).unwrap();
        let err = read_dir(dir.path(), Limits::default()).unwrap_err();
        assert_eq!(validate::describe(&err), "rules.yml: symlinks are not allowed in the config repository");
    }

    #[test]
    fn limits_apply() {
        let dir = tempfile::tempdir().unwrap();
        for i in 0..3 {
            std::fs::write(dir.path().join(format!("{i}.txt")), "xxxx").unwrap();
        }
        let err = read_dir(dir.path(), Limits { max_files: 2, max_bytes: 10 }).unwrap_err();
        let all = validate::describe(&err);
        assert!(all.contains("3 files, more than the limit of 2") && all.contains("12 bytes"), "{all}");
    }
}
