//! Which metric and label names Prometheus accepts: one rule for the remote-write client, the
//! config repository's validation and the exporter's naming.
//!
//! Prometheus 3 also accepts any UTF-8 name (quoted in PromQL); promstack checks the classic
//! rules that every Prometheus accepts. [`Scheme`] names both, so following the server's version
//! later means choosing the scheme, not rewriting the checks.

/// The label that holds a series' metric name.
pub const METRIC_NAME_LABEL: &str = "__name__";

/// A naming scheme, as Prometheus's `model.ValidationScheme`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    /// Metric names `[a-zA-Z_:][a-zA-Z0-9_:]*`, label names `[a-zA-Z_][a-zA-Z0-9_]*`.
    Legacy,
    /// Any non-empty UTF-8 string (Prometheus 3's default).
    Utf8,
}

impl Scheme {
    /// The scheme promstack checks names against.
    pub const CURRENT: Scheme = Scheme::Legacy;

    pub fn is_metric_name(self, name: &str) -> bool {
        match self {
            Scheme::Legacy => {
                let mut bytes = name.bytes();
                matches!(bytes.next(), Some(b'a'..=b'z' | b'A'..=b'Z' | b'_' | b':'))
                    && bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b':')
            }
            Scheme::Utf8 => !name.is_empty(),
        }
    }

    pub fn is_label_name(self, name: &str) -> bool {
        match self {
            Scheme::Legacy => {
                let mut bytes = name.bytes();
                matches!(bytes.next(), Some(b'a'..=b'z' | b'A'..=b'Z' | b'_'))
                    && bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_')
            }
            Scheme::Utf8 => !name.is_empty(),
        }
    }

    /// The metric-name rule in words, for error messages.
    pub fn metric_name_rule(self) -> &'static str {
        match self {
            Scheme::Legacy => "must match [a-zA-Z_:][a-zA-Z0-9_:]*",
            Scheme::Utf8 => "must not be empty",
        }
    }

    /// The label-name rule in words, for error messages.
    pub fn label_name_rule(self) -> &'static str {
        match self {
            Scheme::Legacy => "must match [a-zA-Z_][a-zA-Z0-9_]*",
            Scheme::Utf8 => "must not be empty",
        }
    }
}

/// Whether `name` is a valid metric name under [`Scheme::CURRENT`].
pub fn is_metric_name(name: &str) -> bool {
    Scheme::CURRENT.is_metric_name(name)
}

/// Whether `name` is a valid label name under [`Scheme::CURRENT`].
pub fn is_label_name(name: &str) -> bool {
    Scheme::CURRENT.is_label_name(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn legacy_metric_names() {
        for good in ["up", "ns:rule_total", ":x", "_a1", "A", "aws_ec2_cpuutilization_average"] {
            assert!(Scheme::Legacy.is_metric_name(good), "{good:?}");
        }
        for bad in ["", "9up", "a-b", "a.b", "naïve", "a b", "é"] {
            assert!(!Scheme::Legacy.is_metric_name(bad), "{bad:?}");
        }
    }

    #[test]
    fn legacy_label_names() {
        for good in ["job", "_a1", "__name__", "dimension_InstanceId", "A"] {
            assert!(Scheme::Legacy.is_label_name(good), "{good:?}");
        }
        // A colon is for metric names (recording rules) only.
        for bad in ["", "9a", "a-b", "a:b", ":a", "naïve", "bad-name"] {
            assert!(!Scheme::Legacy.is_label_name(bad), "{bad:?}");
        }
    }

    #[test]
    fn utf8_names_only_need_to_be_non_empty() {
        for name in ["naïve", "a-b", "9up", "http.server.duration", "a b"] {
            assert!(Scheme::Utf8.is_metric_name(name) && Scheme::Utf8.is_label_name(name), "{name:?}");
        }
        assert!(!Scheme::Utf8.is_metric_name("") && !Scheme::Utf8.is_label_name(""));
    }

    #[test]
    fn the_current_scheme_is_legacy() {
        // Prometheus 2 refuses UTF-8 names; switching is a decision for all three users at once.
        assert_eq!(Scheme::CURRENT, Scheme::Legacy);
        assert!(is_metric_name("ns:rule") && !is_metric_name("a-b"));
        assert!(is_label_name("job") && !is_label_name("a:b"));
    }
}
