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
        if (exact && !rest.is_multiple_of(size)) || rest / size == 0 {
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

    /// Each config went through `promtool check config --syntax-only` of 2.42.0 (Debian 12) and
    /// 3.5.3; the columns are their verdicts, `true` for valid. Every case relabels a static target
    /// (or a default label it starts with) and judges what comes out.
    const CASES: &[(&str, &str, bool, bool)] = &[
        ("alert_address_emptied", "alerting:\n  alertmanagers:\n    - relabel_configs:\n        - source_labels: [nothing]\n          target_label: __address__\n      static_configs:\n        - targets: ['good:80']\n", true, true),
        ("alert_made_url", "alerting:\n  alertmanagers:\n    - relabel_configs:\n        - source_labels: [__address__]\n          target_label: __address__\n          replacement: 'x/$1'\n      static_configs:\n        - targets: ['good:80']\n", false, false),
        ("alert_path_seen", "alerting:\n  alertmanagers:\n    - path_prefix: /am/\n      relabel_configs:\n        - source_labels: [__alerts_path__, __scheme__]\n          regex: '/am/api/v2/alerts;https'\n          action: drop\n      scheme: https\n      static_configs:\n        - targets: ['http://bad']\n", true, true),
        ("alert_url_kept", "alerting:\n  alertmanagers:\n    - relabel_configs:\n        - source_labels: [__address__]\n          target_label: __param_target\n      static_configs:\n        - targets: ['http://bad']\n", false, false),
        ("alert_url_replaced", "alerting:\n  alertmanagers:\n    - relabel_configs:\n        - target_label: __address__\n          replacement: good\n      static_configs:\n        - targets: ['http://bad']\n", true, true),
        ("scrape_address_emptied", "scrape_configs:\n  - job_name: a\n    relabel_configs:\n      - source_labels: [nothing]\n        target_label: __address__\n    static_configs:\n      - targets: ['good:80']\n", false, false),
        ("scrape_address_from_label", "scrape_configs:\n  - job_name: a\n    relabel_configs:\n      - source_labels: [url]\n        target_label: __address__\n    static_configs:\n      - targets: ['good:80']\n        labels:\n          url: http://x/y\n", false, false),
        ("scrape_address_made_url", "scrape_configs:\n  - job_name: a\n    relabel_configs:\n      - source_labels: [__address__]\n        regex: '(.*)'\n        target_label: __address__\n        replacement: 'http://$1/x'\n    static_configs:\n      - targets: ['good:80']\n", false, false),
        ("scrape_ascii_boundary", "scrape_configs:\n  - job_name: a\n    relabel_configs:\n      - source_labels: [x]\n        regex: 'é\\bx'\n        action: drop\n    static_configs:\n      - targets: ['http://bad']\n        labels:\n          x: éx\n", true, true),
        ("scrape_digit_ascii", "scrape_configs:\n  - job_name: a\n    relabel_configs:\n      - source_labels: [x]\n        regex: '\\d+'\n        action: drop\n    static_configs:\n      - targets: ['http://bad']\n        labels:\n          x: \"٣\"\n", false, false),
        ("scrape_dot_newline", "scrape_configs:\n  - job_name: a\n    relabel_configs:\n      - source_labels: [__address__, x]\n        separator: \"\\n\"\n        regex: 'http://bad.y'\n        action: drop\n    static_configs:\n      - targets: ['http://bad']\n        labels:\n          x: y\n", false, true),
        ("scrape_dropequal_keeps", "scrape_configs:\n  - job_name: a\n    relabel_configs:\n      - action: dropequal\n        source_labels: [__address__]\n        target_label: other\n    static_configs:\n      - targets: ['http://bad']\n", false, false),
        ("scrape_group_label_interval_bad", "scrape_configs:\n  - job_name: a\n    static_configs:\n      - targets: ['good:80']\n        labels:\n          __scrape_interval__: soon\n", false, false),
        ("scrape_hashmod_drop", "scrape_configs:\n  - job_name: a\n    relabel_configs:\n      - source_labels: [__address__]\n        modulus: 4\n        target_label: shard\n        action: hashmod\n      - source_labels: [shard]\n        regex: '3'\n        action: keep\n    static_configs:\n      - targets: ['http://a', 'http://b', 'http://e']\n", true, true),
        ("scrape_hashmod_kept", "scrape_configs:\n  - job_name: a\n    relabel_configs:\n      - source_labels: [__address__]\n        modulus: 4\n        target_label: shard\n        action: hashmod\n      - source_labels: [shard]\n        regex: '3'\n        action: keep\n    static_configs:\n      - targets: ['http://a', 'http://c']\n", false, false),
        ("scrape_hashmod_one", "scrape_configs:\n  - job_name: a\n    relabel_configs:\n      - source_labels: [__address__]\n        modulus: 1000\n        target_label: shard\n        action: hashmod\n      - source_labels: [shard]\n        regex: '347'\n        action: drop\n    static_configs:\n      - targets: ['http://bad']\n", true, true),
        ("scrape_interval_1m30", "scrape_configs:\n  - job_name: a\n    scrape_interval: 90s\n    scrape_timeout: 5s\n    relabel_configs:\n      - source_labels: [__scrape_interval__, __scrape_timeout__]\n        regex: '1m30s;5s'\n        action: drop\n    static_configs:\n      - targets: ['http://bad']\n", true, true),
        ("scrape_interval_default_seen", "global:\n  scrape_interval: 15s\nscrape_configs:\n  - job_name: a\n    relabel_configs:\n      - source_labels: [__scrape_interval__, __scrape_timeout__]\n        regex: '15s;10s'\n        action: drop\n    static_configs:\n      - targets: ['http://bad']\n", true, true),
        ("scrape_interval_relabelled_bad", "scrape_configs:\n  - job_name: a\n    relabel_configs:\n      - target_label: __scrape_interval__\n        replacement: soon\n    static_configs:\n      - targets: ['good:80']\n", false, false),
        ("scrape_interval_zero", "scrape_configs:\n  - job_name: a\n    relabel_configs:\n      - target_label: __scrape_interval__\n        replacement: 0s\n    static_configs:\n      - targets: ['good:80']\n", false, false),
        ("scrape_job_default_seen", "scrape_configs:\n  - job_name: web\n    relabel_configs:\n      - source_labels: [job, __metrics_path__, __scheme__]\n        regex: 'web;/metrics;http'\n        action: drop\n    static_configs:\n      - targets: ['http://bad']\n", true, true),
        ("scrape_keepequal_drops", "scrape_configs:\n  - job_name: a\n    relabel_configs:\n      - action: keepequal\n        source_labels: [__address__]\n        target_label: other\n    static_configs:\n      - targets: ['http://bad']\n", true, true),
        ("scrape_labeldrop_address", "scrape_configs:\n  - job_name: a\n    relabel_configs:\n      - action: labeldrop\n        regex: '__address__'\n    static_configs:\n      - targets: ['good:80']\n", false, false),
        ("scrape_labelkeep", "scrape_configs:\n  - job_name: a\n    relabel_configs:\n      - action: labelkeep\n        regex: '__address__|__scrape_.*'\n    static_configs:\n      - targets: ['good:80']\n", true, true),
        ("scrape_labelmap_address", "scrape_configs:\n  - job_name: a\n    relabel_configs:\n      - action: labelmap\n        regex: 'tmp_(.*)'\n        replacement: '__${1}__'\n    static_configs:\n      - targets: ['good:80']\n        labels:\n          tmp_address: x/y\n", false, false),
        ("scrape_lowercase_drop", "scrape_configs:\n  - job_name: a\n    relabel_configs:\n      - source_labels: [__address__]\n        target_label: low\n        action: lowercase\n      - source_labels: [low]\n        regex: 'http://bad'\n        action: drop\n    static_configs:\n      - targets: ['HTTP://BAD']\n", true, true),
        ("scrape_named_group", "scrape_configs:\n  - job_name: a\n    relabel_configs:\n      - source_labels: [__address__]\n        regex: '(?P<h>[^:]+):.*'\n        target_label: __address__\n        replacement: 'http://${h}'\n    static_configs:\n      - targets: ['good:80']\n", false, false),
        ("scrape_param_seen", "scrape_configs:\n  - job_name: a\n    params:\n      module: [http_2xx, other]\n    relabel_configs:\n      - source_labels: [__param_module]\n        regex: 'http_2xx'\n        action: drop\n    static_configs:\n      - targets: ['http://bad']\n", true, true),
        ("scrape_scheme_relabelled_ftp", "scrape_configs:\n  - job_name: a\n    relabel_configs:\n      - target_label: __scheme__\n        replacement: ftp\n    static_configs:\n      - targets: ['good']\n", false, true),
        ("scrape_scheme_relabelled_ftp_port", "scrape_configs:\n  - job_name: a\n    relabel_configs:\n      - target_label: __scheme__\n        replacement: ftp\n    static_configs:\n      - targets: ['good:80']\n", true, true),
        ("scrape_target_expanded_invalid", "scrape_configs:\n  - job_name: a\n    relabel_configs:\n      - source_labels: [x]\n        regex: '(.*)'\n        target_label: '${1}'\n        replacement: 'http://bad'\n    static_configs:\n      - targets: ['good:80']\n        labels:\n          x: __address__\n", false, false),
        ("scrape_timeout_relabelled_long", "scrape_configs:\n  - job_name: a\n    relabel_configs:\n      - target_label: __scrape_timeout__\n        replacement: 2m\n    static_configs:\n      - targets: ['good:80']\n", false, false),
        ("scrape_uppercase_drop", "scrape_configs:\n  - job_name: a\n    relabel_configs:\n      - source_labels: [__address__]\n        target_label: up\n        action: uppercase\n      - source_labels: [up]\n        regex: 'HTTP://BAD'\n        action: drop\n    static_configs:\n      - targets: ['http://bad']\n", true, true),
        ("scrape_url_dropped", "scrape_configs:\n  - job_name: a\n    relabel_configs:\n      - source_labels: [__address__]\n        regex: 'http://.*'\n        action: drop\n    static_configs:\n      - targets: ['http://bad', 'good:80']\n", true, true),
        ("scrape_url_kept", "scrape_configs:\n  - job_name: a\n    relabel_configs:\n      - source_labels: [__address__]\n        target_label: __param_target\n    static_configs:\n      - targets: ['http://bad']\n", false, false),
        ("scrape_url_kept_by_keep", "scrape_configs:\n  - job_name: a\n    relabel_configs:\n      - source_labels: [__address__]\n        regex: 'http://.*'\n        action: keep\n    static_configs:\n      - targets: ['http://bad', 'good:80']\n", false, false),
        ("scrape_url_replaced", "scrape_configs:\n  - job_name: a\n    relabel_configs:\n      - target_label: __address__\n        replacement: good\n    static_configs:\n      - targets: ['http://bad']\n", true, true),
    ];

    #[test]
    fn static_targets_are_judged_after_relabelling_as_promtool_judges_them() {
        let mut wrong = Vec::new();
        for (name, yaml, on_2, on_3) in CASES {
            for (version, valid) in [("2.42", on_2), ("3.5", on_3)] {
                let found = super::super::check("prometheus.yml", yaml, &[], &Target::parse(version, "").unwrap());
                if found.is_empty() != *valid {
                    let found = crate::validate::describe(&found);
                    wrong.push(format!(
                        "{name} on {version}: promtool says {}, got {found:?}",
                        if *valid { "valid" } else { "invalid" }
                    ));
                }
            }
        }
        assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    }

    /// Runs every config of `CASES` through promtool 2.42 and 3.5.3, to show the verdicts
    /// recorded there are promtool's.
    #[test]
    #[ignore = "runs promtool 2.42 and 3.5.3 as installed by make setup"]
    fn cases_record_what_promtool_says() {
        let home = std::env::var("HOME").expect("HOME");
        let tools =
            ["/usr/bin/promtool".to_string(), format!("{home}/.cache/promstack/prometheus-3.5.3/usr/bin/promtool")];
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("prometheus.yml");
        for (name, yaml, on_2, on_3) in CASES {
            std::fs::write(&file, yaml).unwrap();
            for (tool, valid) in tools.iter().zip([on_2, on_3]) {
                let output =
                    std::process::Command::new(tool).args(["check", "config", "--syntax-only"]).arg(&file).output();
                let output = output.unwrap_or_else(|e| panic!("{tool}: {e} (run make setup)"));
                let printed =
                    String::from_utf8_lossy(&output.stdout).to_string() + &String::from_utf8_lossy(&output.stderr);
                assert_eq!(output.status.success(), *valid, "{name} on {tool}: {printed}");
            }
        }
    }

    /// promtool's own test files (cmd/promtool/testdata/url_in_scrape_targetgroup_with_relabel_config.bad.yml
    /// at v3.5.3), with where and why.
    #[test]
    fn a_url_left_by_the_rules_names_the_target_and_its_line() {
        let yaml = "scrape_configs:\n  - job_name: prometheus\n    relabel_configs:\n      - source_labels: [__address__]\n        target_label: __param_target\n    static_configs:\n      - targets:\n          - http://bad\n";
        for version in ["2.42", "3.5"] {
            let found = super::super::check("prometheus.yml", yaml, &[], &Target::parse(version, "").unwrap());
            assert_eq!(
                crate::validate::describe(&found),
                "prometheus.yml:8: job \"prometheus\": target \"http://bad\": after relabel_configs, \"http://bad\" is not a valid hostname (a target is host:port, without scheme or path)",
                "{version}"
            );
        }
        let scheme = "scrape_configs:\n  - job_name: a\n    relabel_configs:\n      - target_label: __scheme__\n        replacement: ftp\n    static_configs:\n      - targets: ['good']\n";
        let found = super::super::check("prometheus.yml", scheme, &[], &Target::parse("2.42", "").unwrap());
        assert!(crate::validate::describe(&found).contains("__scheme__ \"ftp\" is an invalid scheme"), "{found:?}");
        // With no-default-scrape-port, Prometheus 2 adds no port, so the scheme does not matter.
        let found = super::super::check(
            "prometheus.yml",
            scheme,
            &[],
            &Target::parse("2.42", "no-default-scrape-port").unwrap(),
        );
        assert!(found.is_empty(), "{found:?}");
    }

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
