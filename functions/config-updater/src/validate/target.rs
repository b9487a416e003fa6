//! The Prometheus that will load what is validated: its version and the `--enable-feature` flags
//! it runs with. Rules differ between versions (`holt_winters` is Prometheus 2's name for
//! `double_exponential_smoothing`, UTF-8 names are valid from 3.0) and some functions exist only
//! behind a flag, so validation judges a repo for the Prometheus that is deployed.

use std::collections::BTreeSet;
use std::fmt;

/// A Prometheus version and its enabled feature flags.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub major: u32,
    pub minor: u32,
    /// The `--enable-feature` values, one per flag (a comma-separated flag is split).
    pub features: BTreeSet<String>,
}

/// The template's default `PrometheusVersion` (a test keeps the two equal).
pub const DEFAULT_VERSION: &str = "v3.16.0";

impl Default for Target {
    /// What the template deploys when `PrometheusVersion` is not given, with no feature flag.
    fn default() -> Self {
        Target::parse(DEFAULT_VERSION, "").expect("the default version parses")
    }
}

impl Target {
    /// `version` as the template and the image tags write it (`v3.16.0`, `3.5.3`, `2.42`, `3`);
    /// `features` as `--enable-feature` takes it (comma-separated, blanks ignored).
    pub fn parse(version: &str, features: &str) -> Result<Self, String> {
        let bad = || format!("{version:?} is not a Prometheus version (expected e.g. v3.5.0)");
        let digits = version.trim().trim_start_matches('v');
        let mut parts = digits.split(['.', '+', '-']);
        let major: u32 = parts.next().and_then(|p| p.parse().ok()).ok_or_else(bad)?;
        let minor: u32 = match parts.next() {
            None | Some("") => 0,
            Some(p) => p.parse().map_err(|_| bad())?,
        };
        if !(2..=3).contains(&major) {
            return Err(format!("Prometheus {major}.x is not supported (2.x and 3.x are)"));
        }
        let features = features.split(',').map(str::trim).filter(|f| !f.is_empty()).map(str::to_string).collect();
        Ok(Target { major, minor, features })
    }

    /// Whether this is Prometheus 3 or later.
    pub fn is_v3(&self) -> bool {
        self.major >= 3
    }

    /// Whether this version is at least `major.minor`.
    pub fn at_least(&self, major: u32, minor: u32) -> bool {
        (self.major, self.minor) >= (major, minor)
    }

    /// `Prometheus 3.5`: the version alone, for messages that name their flag themselves.
    pub fn version(&self) -> String {
        format!("Prometheus {}.{}", self.major, self.minor)
    }

    /// Whether `--enable-feature=<name>` is set.
    pub fn feature(&self, name: &str) -> bool {
        self.features.contains(name)
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Prometheus {}.{}", self.major, self.minor)?;
        if !self.features.is_empty() {
            let features: Vec<&str> = self.features.iter().map(String::as_str).collect();
            write!(f, " (--enable-feature={})", features.join(","))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_as_tags_and_packages_write_them() {
        let t = Target::parse("v3.16.0", "").unwrap();
        assert_eq!((t.major, t.minor, t.is_v3()), (3, 16, true));
        let t = Target::parse("2.42.0+ds", " promql-experimental-functions, ,exemplar-storage").unwrap();
        assert_eq!((t.major, t.minor, t.is_v3()), (2, 42, false));
        assert!(t.feature("promql-experimental-functions") && t.feature("exemplar-storage"));
        assert_eq!(t.to_string(), "Prometheus 2.42 (--enable-feature=exemplar-storage,promql-experimental-functions)");
        assert!(Target::parse("3", "").unwrap().at_least(3, 0));
        assert!(!Target::parse("3.4.1", "").unwrap().at_least(3, 5));
        assert!(Target::parse("latest", "").unwrap_err().contains("not a Prometheus version"));
        assert!(Target::parse("v1.8.2", "").unwrap_err().contains("1.x is not supported"));
    }
}
