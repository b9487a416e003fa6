//! A static target as Prometheus builds it from its group, the way `promtool check config` judges
//! it: the address and the group's labels, the job's defaults (scrape configs: `scrape.PopulateLabels`;
//! Alertmanagers: `notifier.AlertmanagerFromGroup`), then the job's `relabel_configs`, then what
//! Prometheus refuses in the result. A target the rules drop is fine.

use serde_norway::{Mapping, Value};

use super::{scalar, DEFAULT_SCRAPE_INTERVAL_MS};
use crate::validate::duration;
use crate::validate::relabel::apply::{self, Labels, Rule};
use crate::validate::Target;

/// Prometheus' global scrape timeout when `global` does not say.
const DEFAULT_SCRAPE_TIMEOUT_MS: u64 = 10_000;

/// The targets of one scrape config or Alertmanager config.
pub struct Owner {
    /// What every target starts with (besides its address and its group's labels).
    defaults: Vec<(String, String)>,
    /// Prometheus 3 does not overwrite `__param_*` labels a group already has; 2 does.
    params: Vec<(String, String)>,
    /// `None`: a rule is not valid for the version, which is reported on its own.
    rules: Option<Vec<Rule>>,
    scrape: bool,
}

impl Owner {
    /// `config` is the scrape config (`scrape`) or the Alertmanager config; `global` the
    /// document's `global` section.
    pub fn new(config: &Mapping, scrape: bool, global: Option<&Value>, target: &Target) -> Owner {
        let text = |key: &str| config.get(key).map(scalar).filter(|v| !v.is_empty());
        let scheme = text("scheme").unwrap_or_else(|| "http".into());
        let mut defaults = Vec::new();
        let mut params = Vec::new();
        if scrape {
            let (interval, timeout) = interval_and_timeout(config, global);
            defaults.push(("job".into(), text("job_name").unwrap_or_default()));
            defaults.push(("__scrape_interval__".into(), go_duration(interval)));
            defaults.push(("__scrape_timeout__".into(), go_duration(timeout)));
            defaults.push(("__metrics_path__".into(), text("metrics_path").unwrap_or_else(|| "/metrics".into())));
            defaults.push(("__scheme__".into(), scheme));
            for (name, values) in config.get("params").and_then(Value::as_mapping).into_iter().flatten() {
                if let Some(first) = values.as_sequence().and_then(|v| v.first()) {
                    params.push((format!("__param_{}", scalar(name)), scalar(first)));
                }
            }
        } else {
            let version = text("api_version").unwrap_or_else(|| "v2".into());
            let prefix = text("path_prefix").unwrap_or_default();
            defaults.push(("__scheme__".into(), scheme));
            defaults.push(("__alerts_path__".into(), clean_path(&format!("/{prefix}/api/{version}/alerts"))));
        }
        let rules = match config.get("relabel_configs") {
            Some(Value::Sequence(configs)) => apply::compile(configs, target),
            _ => Some(Vec::new()),
        };
        Owner { defaults, params, rules, scrape }
    }

    /// Whether the job relabels its targets (so their addresses are judged after the rules).
    pub fn relabels(&self) -> bool {
        self.rules.as_ref().is_none_or(|r| !r.is_empty())
    }

    /// What Prometheus refuses in the target `address` of a group with `group_labels`, after
    /// relabelling; `None` when it is fine, dropped, or the rules cannot be applied.
    pub fn problem(&self, address: &str, group_labels: &[(String, String)], target: &Target) -> Option<String> {
        let rules = self.rules.as_ref()?;
        let mut labels = Labels::new();
        labels.insert("__address__".into(), address.to_string());
        for (name, value) in group_labels {
            labels.entry(name.clone()).or_insert_with(|| value.clone());
        }
        labels.retain(|_, v| !v.is_empty());
        for (name, value) in &self.defaults {
            if self.scrape {
                labels.entry(name.clone()).or_insert_with(|| value.clone());
            } else {
                // An Alertmanager's scheme and path come before the group's labels, which overwrite them.
                if !group_labels.iter().any(|(n, _)| n == name) {
                    labels.insert(name.clone(), value.clone());
                }
            }
        }
        for (name, value) in &self.params {
            if !target.is_v3() || !labels.contains_key(name) {
                labels.insert(name.clone(), value.clone());
            }
        }
        labels.retain(|_, v| !v.is_empty());
        if !apply::process(&mut labels, rules, target) {
            return None;
        }
        let get = |name: &str| labels.get(name).map(String::as_str).unwrap_or_default();
        let relabelled = |what: &str| {
            if rules.is_empty() {
                what.to_string()
            } else {
                format!("after relabel_configs, {what}")
            }
        };
        if !self.scrape {
            return check_address(get("__address__")).err().map(|e| relabelled(&e));
        }
        let mut addr = get("__address__").to_string();
        if addr.is_empty() {
            return Some(relabelled("the target has no __address__ (no address)"));
        }
        // Prometheus 2 adds the scheme's port to an address without one (unless told not to).
        if !target.is_v3() && !target.feature("no-default-scrape-port") {
            let needs_port = split_host_port(&addr).is_none() && split_host_port(&format!("{addr}:1234")).is_some();
            if needs_port {
                match get("__scheme__") {
                    "http" | "" => addr.push_str(":80"),
                    "https" => addr.push_str(":443"),
                    other => return Some(relabelled(&format!("__scheme__ {other:?} is an invalid scheme"))),
                }
            }
        }
        if let Err(e) = check_address(&addr) {
            return Some(relabelled(&e));
        }
        let duration = |name: &str, what: &str| match duration::parse(get(name)) {
            Err(e) => Err(relabelled(&format!("error parsing scrape {what} {name}: {e}"))),
            Ok(0) => Err(relabelled(&format!("scrape {what} ({name}) cannot be 0"))),
            Ok(ms) => Ok(ms),
        };
        let interval = match duration("__scrape_interval__", "interval") {
            Ok(ms) => ms,
            Err(e) => return Some(e),
        };
        let timeout = match duration("__scrape_timeout__", "timeout") {
            Ok(ms) => ms,
            Err(e) => return Some(e),
        };
        if timeout > interval {
            return Some(relabelled(&format!(
                "scrape timeout cannot be greater than scrape interval ({:?} > {:?})",
                get("__scrape_timeout__"),
                get("__scrape_interval__")
            )));
        }
        None
    }
}

/// `config.CheckTargetAddress`: a target is host:port, not a URL.
fn check_address(address: &str) -> Result<(), String> {
    if address.contains('/') {
        return Err(format!("{address:?} is not a valid hostname (a target is host:port, without scheme or path)"));
    }
    Ok(())
}

/// The job's scrape interval and timeout as Prometheus fills them in from `global` and its defaults.
fn interval_and_timeout(job: &Mapping, global: Option<&Value>) -> (u64, u64) {
    let ms = |section: Option<&Value>, field: &str| {
        section.and_then(|s| s.get(field)).and_then(|v| duration::parse(&scalar(v)).ok()).filter(|&ms| ms > 0)
    };
    let global_interval = ms(global, "scrape_interval").unwrap_or(DEFAULT_SCRAPE_INTERVAL_MS);
    let global_timeout = ms(global, "scrape_timeout").unwrap_or(DEFAULT_SCRAPE_TIMEOUT_MS.min(global_interval));
    let job = Value::Mapping(job.clone());
    let interval = ms(Some(&job), "scrape_interval").unwrap_or(global_interval);
    let timeout = ms(Some(&job), "scrape_timeout").unwrap_or(global_timeout.min(interval));
    (interval, timeout)
}

/// `model.Duration.String`: `1m`, `1h30m`, `90d` (years and weeks only when exact), `0s`.
fn go_duration(ms: u64) -> String {
    if ms == 0 {
        return "0s".into();
    }
    const DAY: u64 = 86_400_000;
    let units: [(&str, u64, bool); 7] = [
        ("y", 365 * DAY, true),
        ("w", 7 * DAY, true),
        ("d", DAY, false),
        ("h", 3_600_000, false),
        ("m", 60_000, false),
        ("s", 1_000, false),
        ("ms", 1, false),
    ];
    let mut rest = ms;
    let mut text = String::new();
    for (unit, size, exact) in units {
        if (exact && rest % size != 0) || rest / size == 0 {
            continue;
        }
        text.push_str(&format!("{}{unit}", rest / size));
        rest %= size;
    }
    text
}

/// Go's `path.Clean` for an absolute path: no empty, `.` or `..` segments.
fn clean_path(path: &str) -> String {
    let mut segments: Vec<&str> = Vec::new();
    for segment in path.split('/') {
        match segment {
            "" | "." => {}
            ".." => {
                segments.pop();
            }
            s => segments.push(s),
        }
    }
    format!("/{}", segments.join("/"))
}

/// Go's `net.SplitHostPort`: `(host, port)`, or `None` when the port is missing or the
/// brackets and colons do not make one address.
fn split_host_port(hostport: &str) -> Option<(&str, &str)> {
    let colon = hostport.rfind(':')?;
    let (host, from, to) = if hostport.starts_with('[') {
        let end = hostport.find(']')?;
        if end + 1 != colon {
            return None;
        }
        (&hostport[1..end], 1, end + 1)
    } else {
        let host = &hostport[..colon];
        if host.contains(':') {
            return None;
        }
        (host, 0, 0)
    };
    if hostport[from..].contains('[') || hostport[to..].contains(']') {
        return None;
    }
    Some((host, &hostport[colon + 1..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_print_as_go_prints_them() {
        for (ms, text) in [(0, "0s"), (60_000, "1m"), (90_000, "1m30s"), (5_400_000, "1h30m"), (1_500, "1s500ms")] {
            assert_eq!(go_duration(ms), text);
        }
        assert_eq!(go_duration(14 * 86_400_000), "2w");
        assert_eq!(go_duration(15 * 86_400_000), "15d");
        assert_eq!(go_duration(365 * 86_400_000), "1y");
    }

    #[test]
    fn host_and_port_split_as_go_splits_them() {
        assert_eq!(split_host_port("a:80"), Some(("a", "80")));
        assert_eq!(split_host_port("[::1]:80"), Some(("::1", "80")));
        assert_eq!(split_host_port("a:"), Some(("a", "")));
        for bad in ["a", "::1", "[::1]", "a:b:c", "[a]b:1", "a]:1", "[a:1"] {
            assert_eq!(split_host_port(bad), None, "{bad}");
        }
        assert_eq!(clean_path("/alertmanager/../api/v2/alerts"), "/api/v2/alerts");
        assert_eq!(clean_path("//api/v2/alerts"), "/api/v2/alerts");
    }
}
