//! Where things are in the config repository and where they go on the EFS volume.
//!
//! | repo (configurable)   | EFS                                   |
//! |-----------------------|---------------------------------------|
//! | `prometheus.yml`      | `prometheus.yml` (rendered), `_prometheus.yml` (verbatim) |
//! | `rules/**/*.yml`      | `rules.d/**/*.yml`                    |
//! | `file_sd/**`          | `file_sd/static/**`                   |
//!
//! Other files in the repo (README, CI config) are not deployed.

use std::collections::BTreeMap;

/// The rendered config Prometheus reads.
pub const RENDERED_CONFIG: &str = "prometheus.yml";
/// The template as committed, for humans diffing what was rendered.
pub const TEMPLATE_COPY: &str = "_prometheus.yml";
/// Where rule files are deployed; `rule_files` patterns point here.
pub const RULES_TARGET: &str = "rules.d";
/// Where the repo's static file_sd files are deployed (ecs-discovery owns `file_sd/ecs`).
pub const FILE_SD_TARGET: &str = "file_sd/static";

/// The repo's layout; every path is relative to the repo root, `/`-separated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layout {
    pub template: String,
    pub rules_dir: String,
    pub file_sd_dir: String,
}

impl Default for Layout {
    fn default() -> Self {
        Layout { template: "prometheus.yml".into(), rules_dir: "rules".into(), file_sd_dir: "file_sd".into() }
    }
}

/// One file of a commit (or of a checked-out directory), its path relative to the repo root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RepoFile {
    pub path: String,
    pub contents: Vec<u8>,
}

/// What a repo file becomes on the volume.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Template,
    Rules,
    FileSd,
    /// Not deployed.
    Ignored,
}

impl Layout {
    /// The role of `path` and, for deployed files, its path under the volume root.
    pub fn place(&self, path: &str) -> (Role, Option<String>) {
        if path == self.template {
            return (Role::Template, Some(RENDERED_CONFIG.into()));
        }
        if let Some(rest) = under(path, &self.rules_dir) {
            if rest.ends_with(".yml") || rest.ends_with(".yaml") {
                return (Role::Rules, Some(format!("{RULES_TARGET}/{rest}")));
            }
            return (Role::Ignored, None);
        }
        if let Some(rest) = under(path, &self.file_sd_dir) {
            return (Role::FileSd, Some(format!("{FILE_SD_TARGET}/{rest}")));
        }
        (Role::Ignored, None)
    }
}

fn under<'a>(path: &'a str, dir: &str) -> Option<&'a str> {
    let dir = dir.trim_matches('/');
    if dir.is_empty() {
        return None;
    }
    path.strip_prefix(dir)?.strip_prefix('/').filter(|rest| !rest.is_empty())
}

/// A validated release: every file to write, by path under the volume root.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Release {
    pub files: BTreeMap<String, Vec<u8>>,
    pub summary: Summary,
}

/// What a release holds, for the build status and logs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Summary {
    pub rule_files: usize,
    pub groups: usize,
    pub rules: usize,
    pub file_sd_files: usize,
}

impl std::fmt::Display for Summary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} rules in {} groups from {} rule files, {} static file_sd files",
            self.rules, self.groups, self.rule_files, self.file_sd_files
        )
    }
}

/// Whether a path from a repo is safe to place under a directory: relative, no `..`, `.` or
/// empty components, no NUL.
pub fn is_safe_relative_path(path: &str) -> bool {
    !path.is_empty()
        && !path.starts_with('/')
        && !path.contains('\0')
        && !path.contains('\\')
        && path.split('/').all(|c| !c.is_empty() && c != "." && c != "..")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_layout_places_files() {
        let l = Layout::default();
        assert_eq!(l.place("prometheus.yml"), (Role::Template, Some("prometheus.yml".into())));
        assert_eq!(l.place("rules/node.yml"), (Role::Rules, Some("rules.d/node.yml".into())));
        assert_eq!(l.place("rules/team/a.yaml"), (Role::Rules, Some("rules.d/team/a.yaml".into())));
        assert_eq!(l.place("rules/README.md"), (Role::Ignored, None));
        assert_eq!(l.place("file_sd/db.json"), (Role::FileSd, Some("file_sd/static/db.json".into())));
        assert_eq!(l.place("rulesx/a.yml"), (Role::Ignored, None));
        assert_eq!(l.place("README.md"), (Role::Ignored, None));
    }

    #[test]
    fn unsafe_paths() {
        for bad in ["", "/etc/passwd", "../x", "rules/../../x", "a//b", "./a", "a\\b"] {
            assert!(!is_safe_relative_path(bad), "{bad:?}");
        }
        assert!(is_safe_relative_path("rules/a..b.yml"));
    }
}
