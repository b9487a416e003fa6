//! Static file_sd files: a list of target groups, `{targets: [host:port, ...], labels: {...}}`,
//! as JSON (`.json`) or YAML (`.yml`, `.yaml`).

use std::collections::BTreeMap;

use serde::Deserialize;

use super::{is_label_name, yaml_problem, Problem};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TargetGroup {
    targets: Vec<String>,
    #[serde(default)]
    labels: BTreeMap<String, String>,
}

pub fn check(file: &str, text: &str) -> Result<(), Problem> {
    let groups: Vec<TargetGroup> = if file.ends_with(".json") {
        serde_json::from_str(text)
            .map_err(|e| Problem::new(file, Some(e.line()), None, format!("not a list of target groups: {e}")))?
    } else {
        serde_norway::from_str(text).map_err(|e| yaml_problem(file, &e))?
    };
    for (i, group) in groups.iter().enumerate() {
        if let Some(name) = group.labels.keys().find(|n| !is_label_name(n)) {
            return Err(Problem::new(file, None, None, format!("target group {}: invalid label name {name:?}", i + 1)));
        }
        if let Some(t) = group.targets.iter().find(|t| t.trim().is_empty()) {
            return Err(Problem::new(file, None, None, format!("target group {}: empty target {t:?}", i + 1)));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::check;

    #[test]
    fn json_and_yaml_target_groups() {
        check("a.json", r#"[{"targets": ["h:1"], "labels": {"env": "x"}}]"#).unwrap();
        check("a.yml", "- targets: ['h:1']\n  labels:\n    env: x\n").unwrap();
        assert!(check("a.json", r#"{"targets": []}"#).unwrap_err().to_string().starts_with("a.json:1: not a list"));
        assert!(check("a.yml", "- targets: ['h:1']\n  labels:\n    bad-name: x\n").is_err());
        assert!(check("a.yml", "- target: ['h:1']\n").unwrap_err().to_string().starts_with("a.yml:1:"));
    }
}
