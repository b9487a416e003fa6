//! Static file_sd files: a list of target groups, `{targets: [host:port, ...], labels: {...}}`,
//! as JSON (`.json`) or YAML (`.yml`, `.yaml`).

use promstack::file_sd::TargetGroup;

use super::{yaml_problem, Problem};

pub fn check(file: &str, text: &str) -> Result<(), Problem> {
    let groups: Vec<TargetGroup> = if file.ends_with(".json") {
        serde_json::from_str(text)
            .map_err(|e| Problem::new(file, Some(e.line()), None, format!("not a list of target groups: {e}")))?
    } else {
        serde_norway::from_str(text).map_err(|e| yaml_problem(file, &e))?
    };
    for (i, group) in groups.iter().enumerate() {
        if let Err(e) = group.check() {
            return Err(Problem::new(file, None, None, format!("target group {}: {e}", i + 1)));
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

    #[test]
    fn problems_name_the_group() {
        let err = check("a.yml", "- targets: ['h:1']\n- targets: ['h:2']\n  labels:\n    bad-name: x\n").unwrap_err();
        assert_eq!(err.to_string(), "a.yml: target group 2: invalid label name \"bad-name\"");
        let err = check("a.json", r#"[{"targets": ["h:1", ""]}]"#).unwrap_err();
        assert_eq!(err.to_string(), "a.json: target group 1: empty target \"\"");
    }

    #[test]
    fn what_ecs_discovery_writes_passes() {
        // The one-group-per-line JSON ecs-discovery renders, with its `__` labels.
        let text = "[\n{\"targets\":[\"10.0.0.1:9100\"],\"labels\":{\"__metrics_path__\":\"/m\",\"job\":\"api\"}}\n]\n";
        check("ecs.json", text).unwrap();
    }
}
