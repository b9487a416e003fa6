//! Prometheus's file_sd format: a file holds a list of target groups, each a list of `host:port`
//! targets and the labels they share. ecs-discovery writes such files; config-updater checks the
//! static ones a config repository ships. Both use [`TargetGroup`], so they agree on the format.

use std::borrow::Cow;
use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::names;

/// One target group. It borrows when written (ecs-discovery renders from its state record
/// without copying) and owns when read. Unknown fields are refused, as Prometheus does for YAML.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TargetGroup<'a> {
    pub targets: Vec<Cow<'a, str>>,
    #[serde(default)]
    pub labels: Cow<'a, BTreeMap<String, String>>,
}

/// Why Prometheus would refuse a target group.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TargetGroupError {
    #[error("invalid label name {0:?}")]
    InvalidLabelName(String),
    #[error("empty target {0:?}")]
    EmptyTarget(String),
}

impl TargetGroup<'_> {
    /// The first thing in the group Prometheus would refuse: a label name it does not accept, or
    /// a blank target.
    pub fn check(&self) -> Result<(), TargetGroupError> {
        if let Some(name) = self.labels.keys().find(|n| !names::is_label_name(n)) {
            return Err(TargetGroupError::InvalidLabelName(name.clone()));
        }
        if let Some(target) = self.targets.iter().find(|t| t.trim().is_empty()) {
            return Err(TargetGroupError::EmptyTarget(target.to_string()));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_borrowed_group_serialises_as_prometheus_reads_it() {
        let labels =
            BTreeMap::from([("job".to_string(), "api".to_string()), ("__scheme__".to_string(), "https".to_string())]);
        let group = TargetGroup { targets: vec![Cow::Borrowed("10.0.0.1:9100")], labels: Cow::Borrowed(&labels) };
        let json = serde_json::to_string(&group).unwrap();
        assert_eq!(json, r#"{"targets":["10.0.0.1:9100"],"labels":{"__scheme__":"https","job":"api"}}"#);
        let back: TargetGroup = serde_json::from_str(&json).unwrap();
        assert_eq!(back, group);
        back.check().unwrap();
    }

    #[test]
    fn labels_are_optional_and_unknown_fields_refused() {
        let group: TargetGroup = serde_json::from_str(r#"{"targets": ["h:1"]}"#).unwrap();
        assert!(group.labels.is_empty());
        let err = serde_json::from_str::<TargetGroup>(r#"{"target": ["h:1"]}"#).unwrap_err();
        assert!(err.to_string().contains("unknown field `target`"), "{err}");
    }

    #[test]
    fn check_names_what_prometheus_would_refuse() {
        let group: TargetGroup = serde_json::from_str(r#"{"targets": ["h:1"], "labels": {"bad-name": "x"}}"#).unwrap();
        assert_eq!(group.check(), Err(TargetGroupError::InvalidLabelName("bad-name".into())));
        assert_eq!(group.check().unwrap_err().to_string(), "invalid label name \"bad-name\"");
        let group: TargetGroup = serde_json::from_str(r#"{"targets": ["h:1", " "]}"#).unwrap();
        assert_eq!(group.check().unwrap_err().to_string(), "empty target \" \"");
    }
}
