//! How every function reads its settings from environment variables: one typed reader ([`Env`]),
//! one error that names the variable, the bad value and what was expected ([`SettingError`]), and
//! the defaults that more than one function shares.
//!
//! The convention: a value is trimmed, and an empty value is the same as an unset one; a value that
//! is not UTF-8 is an error (never silently unset); durations are whole seconds in `*_SECONDS`.
//! Each call site passes the variable's name as a string literal, so the names can be checked
//! against the deployment template.

use std::collections::HashMap;
use std::ffi::OsString;
use std::num::{NonZeroU32, NonZeroU64, NonZeroUsize};
use std::path::PathBuf;
use std::time::Duration;

/// Where the Lambdas mount the EFS access point (the template's `LocalMountPath`): the default of
/// `PROMETHEUS_CONFIG_DIR` in every function that writes to the volume.
pub const DEFAULT_PROMETHEUS_CONFIG_DIR: &str = "/mnt/prometheus";

/// Attempts per AWS call when `AWS_API_MAX_ATTEMPTS` is unset (the SDK's standard retry mode:
/// exponential backoff with jitter, throttling and transient errors retried).
pub const DEFAULT_AWS_API_MAX_ATTEMPTS: u32 = 5;

/// A setting that cannot be used; the message names the variable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SettingError {
    #[error("environment variable {name} is not set")]
    Missing { name: String },
    #[error("environment variable {name}={value:?} is not {expected}")]
    Invalid { name: String, value: String, expected: String },
    /// Shown lossily: the bytes that are not UTF-8 become U+FFFD.
    #[error("environment variable {name}={value:?} is not valid UTF-8")]
    NotUnicode { name: String, value: String },
    /// An old name that is still set would otherwise be ignored without a word.
    #[error("environment variable {old} was renamed {new}: set {new} instead")]
    Renamed { old: String, new: String },
}

impl SettingError {
    pub fn missing(name: &str) -> Self {
        SettingError::Missing { name: name.to_string() }
    }

    pub fn invalid(name: &str, value: &str, expected: &str) -> Self {
        SettingError::Invalid { name: name.to_string(), value: value.to_string(), expected: expected.to_string() }
    }
}

/// A type a setting can hold: how to read it from the (trimmed, non-empty) text, and what a valid
/// value looks like, for the error.
pub trait FromSetting: Sized {
    /// Completes "`NAME="value"` is not ...".
    const EXPECTED: &'static str;
    fn from_setting(text: &str) -> Option<Self>;
}

impl FromSetting for String {
    const EXPECTED: &'static str = "text";
    fn from_setting(text: &str) -> Option<Self> {
        Some(text.to_string())
    }
}

impl FromSetting for PathBuf {
    const EXPECTED: &'static str = "a path";
    fn from_setting(text: &str) -> Option<Self> {
        Some(PathBuf::from(text))
    }
}

macro_rules! from_setting_by_parse {
    ($expected:literal: $($t:ty),+) => {$(
        impl FromSetting for $t {
            const EXPECTED: &'static str = $expected;
            fn from_setting(text: &str) -> Option<Self> {
                text.parse().ok()
            }
        }
    )+};
}
from_setting_by_parse!("a whole number": u16, u32, u64, usize);
from_setting_by_parse!("a whole number above 0": NonZeroU32, NonZeroU64, NonZeroUsize);

/// Where settings are read from: the process environment, or a fixed set of variables (tests run
/// in parallel threads and must not change the process environment under each other).
#[derive(Debug, Clone)]
pub struct Env {
    /// `None`: the process environment, read when a setting is asked for.
    fixed: Option<HashMap<String, OsString>>,
}

impl Env {
    pub fn from_process() -> Self {
        Env { fixed: None }
    }

    /// Exactly these variables and no others.
    pub fn from_pairs<K: Into<String>, V: Into<OsString>>(pairs: impl IntoIterator<Item = (K, V)>) -> Self {
        Env { fixed: Some(pairs.into_iter().map(|(k, v)| (k.into(), v.into())).collect()) }
    }

    /// Every variable, untrimmed, for templates that may name any of them (config-updater's
    /// `$(VAR)`); a name or value that is not UTF-8 is an error, as for a single setting.
    pub fn all(&self) -> Result<Vec<(String, String)>, SettingError> {
        let raw: Vec<(OsString, OsString)> = match &self.fixed {
            None => std::env::vars_os().collect(),
            Some(vars) => vars.iter().map(|(k, v)| (OsString::from(k), v.clone())).collect(),
        };
        raw.into_iter()
            .map(|(name, value)| {
                let name = name.into_string().map_err(|n| SettingError::NotUnicode {
                    name: n.to_string_lossy().into_owned(),
                    value: value.to_string_lossy().into_owned(),
                })?;
                let value = value.into_string().map_err(|v| SettingError::NotUnicode {
                    name: name.clone(),
                    value: v.to_string_lossy().into_owned(),
                })?;
                Ok((name, value))
            })
            .collect()
    }

    /// The trimmed value, `None` when unset or empty.
    fn text(&self, name: &str) -> Result<Option<String>, SettingError> {
        let raw = match &self.fixed {
            None => std::env::var_os(name),
            Some(vars) => vars.get(name).cloned(),
        };
        let Some(raw) = raw else { return Ok(None) };
        let text = raw.into_string().map_err(|raw| SettingError::NotUnicode {
            name: name.to_string(),
            value: raw.to_string_lossy().into_owned(),
        })?;
        let text = text.trim();
        Ok((!text.is_empty()).then(|| text.to_string()))
    }

    /// The value, or `None` when unset.
    pub fn optional<T: FromSetting>(&self, name: &str) -> Result<Option<T>, SettingError> {
        self.parsed(name, T::EXPECTED, T::from_setting)
    }

    /// The value, or `default` when unset.
    pub fn or<T: FromSetting>(&self, name: &str, default: T) -> Result<T, SettingError> {
        Ok(self.optional(name)?.unwrap_or(default))
    }

    /// The value; unset is an error.
    pub fn required<T: FromSetting>(&self, name: &str) -> Result<T, SettingError> {
        self.optional(name)?.ok_or_else(|| SettingError::missing(name))
    }

    /// A whole number of seconds, or `default` when unset.
    pub fn seconds(&self, name: &str, default: Duration) -> Result<Duration, SettingError> {
        Ok(self.parsed(name, "a whole number of seconds", |v| v.parse().ok())?.map_or(default, Duration::from_secs))
    }

    /// A comma-separated list, each item trimmed, empty items dropped; unset is an empty list.
    pub fn list(&self, name: &str) -> Result<Vec<String>, SettingError> {
        Ok(self
            .text(name)?
            .map(|v| v.split(',').map(str::trim).filter(|s| !s.is_empty()).map(str::to_string).collect())
            .unwrap_or_default())
    }

    /// A value of a function's own type; `parse` says `None` for a value that is not `expected`.
    pub fn parsed<T>(
        &self,
        name: &str,
        expected: &str,
        parse: impl FnOnce(&str) -> Option<T>,
    ) -> Result<Option<T>, SettingError> {
        match self.text(name)? {
            None => Ok(None),
            Some(v) => parse(&v).map(Some).ok_or_else(|| SettingError::invalid(name, &v, expected)),
        }
    }

    /// Refuses a setting's old name while it is still set, so a deployment that sets it learns the
    /// new name instead of silently getting the default.
    pub fn retired(&self, old: &str, new: &str) -> Result<(), SettingError> {
        match self.text(old)? {
            None => Ok(()),
            Some(_) => Err(SettingError::Renamed { old: old.to_string(), new: new.to_string() }),
        }
    }
}

/// `AWS_API_MAX_ATTEMPTS`: attempts per AWS call, read the same way by every function.
pub fn aws_api_max_attempts(env: &Env) -> Result<u32, SettingError> {
    let default = NonZeroU32::new(DEFAULT_AWS_API_MAX_ATTEMPTS).expect("the default is above 0");
    Ok(env.or("AWS_API_MAX_ATTEMPTS", default)?.get())
}

/// Label pairs as every function reads `EXTRA_LABELS`: `name=value,name=value`, blanks around names,
/// values and commas ignored. `None` when a pair is malformed, a name is not a label name, starts
/// with `__`, is one the function sets itself (`own`), or is given twice, or a value is empty.
pub fn parse_label_pairs(text: &str, own: impl Fn(&str) -> bool) -> Option<Vec<(String, String)>> {
    let mut labels: Vec<(String, String)> = Vec::new();
    for pair in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (name, value) = pair.split_once('=')?;
        let (name, value) = (name.trim(), value.trim());
        if !crate::names::is_label_name(name)
            || name.starts_with("__")
            || own(name)
            || value.is_empty()
            || labels.iter().any(|(n, _)| n == name)
        {
            return None;
        }
        labels.push((name.to_string(), value.to_string()));
    }
    Some(labels)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Env {
        Env::from_pairs(pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())))
    }

    #[test]
    fn values_are_trimmed_and_parsed_to_their_type() {
        let e = env(&[("DIR", "  /mnt/x \n"), ("N", " 42 "), ("ATTEMPTS", "3")]);
        assert_eq!(e.required::<String>("DIR").unwrap(), "/mnt/x");
        assert_eq!(e.optional::<PathBuf>("DIR").unwrap(), Some(PathBuf::from("/mnt/x")));
        assert_eq!(e.or("N", 7u64).unwrap(), 42);
        assert_eq!(e.optional::<NonZeroU32>("ATTEMPTS").unwrap().map(NonZeroU32::get), Some(3));
    }

    #[test]
    fn unset_and_empty_are_the_same_and_take_the_default() {
        let e = env(&[("EMPTY", ""), ("BLANK", "  \t ")]);
        for name in ["EMPTY", "BLANK", "UNSET"] {
            assert_eq!(e.optional::<String>(name).unwrap(), None, "{name}");
            assert_eq!(e.or(name, 7usize).unwrap(), 7, "{name}");
            assert_eq!(e.seconds(name, Duration::from_secs(20)).unwrap(), Duration::from_secs(20), "{name}");
            assert_eq!(e.list(name).unwrap(), Vec::<String>::new(), "{name}");
            assert_eq!(e.required::<String>(name).unwrap_err(), SettingError::missing(name), "{name}");
            let message = e.required::<String>(name).unwrap_err().to_string();
            assert_eq!(message, format!("environment variable {name} is not set"));
        }
    }

    #[test]
    fn a_bad_value_is_named_with_its_variable_and_what_was_expected() {
        let e = env(&[("N", "12x"), ("ZERO", "0"), ("TIMEOUT", "20s"), ("NEG", "-1")]);
        assert_eq!(e.or("N", 1u32).unwrap_err().to_string(), r#"environment variable N="12x" is not a whole number"#);
        assert_eq!(
            e.optional::<NonZeroUsize>("ZERO").unwrap_err().to_string(),
            r#"environment variable ZERO="0" is not a whole number above 0"#
        );
        assert_eq!(
            e.seconds("TIMEOUT", Duration::ZERO).unwrap_err(),
            SettingError::invalid("TIMEOUT", "20s", "a whole number of seconds")
        );
        assert_eq!(e.required::<u64>("NEG").unwrap_err(), SettingError::invalid("NEG", "-1", "a whole number"));
    }

    #[test]
    fn seconds_are_whole_seconds() {
        let e = env(&[("LEASE_SECONDS", " 360 "), ("ZERO_SECONDS", "0")]);
        assert_eq!(e.seconds("LEASE_SECONDS", Duration::ZERO).unwrap(), Duration::from_secs(360));
        assert_eq!(e.seconds("ZERO_SECONDS", Duration::from_secs(9)).unwrap(), Duration::ZERO);
    }

    #[test]
    fn lists_are_comma_separated_and_trimmed() {
        let e = env(&[("URLS", " http://a:9090, http://b:9090 ,,")]);
        assert_eq!(e.list("URLS").unwrap(), ["http://a:9090", "http://b:9090"]);
    }

    #[test]
    fn a_function_type_is_parsed_with_its_own_parser() {
        let e = env(&[("MODE", "Fast"), ("BAD", "slow")]);
        let parse = |v: &str| v.eq_ignore_ascii_case("fast").then_some(1);
        assert_eq!(e.parsed("MODE", "fast", parse).unwrap(), Some(1));
        assert_eq!(e.parsed("UNSET", "fast", parse).unwrap(), None);
        let message = e.parsed("BAD", "fast", parse).unwrap_err().to_string();
        assert_eq!(message, r#"environment variable BAD="slow" is not fast"#);
    }

    #[cfg(unix)]
    #[test]
    fn a_value_that_is_not_utf8_is_an_error_not_unset() {
        use std::os::unix::ffi::OsStringExt;
        let e = Env::from_pairs([("DIR", OsString::from_vec(b"/mnt/\xff".to_vec()))]);
        let want = SettingError::NotUnicode { name: "DIR".into(), value: "/mnt/\u{fffd}".into() };
        assert_eq!(e.optional::<String>("DIR").unwrap_err(), want);
        assert_eq!(e.or("DIR", PathBuf::from("/default")).unwrap_err(), want);
        assert_eq!(e.list("DIR").unwrap_err(), want);
        assert_eq!(e.retired("DIR", "NEW_DIR").unwrap_err(), want);
        assert!(want.to_string().starts_with("environment variable DIR="), "{want}");
        assert!(want.to_string().ends_with("is not valid UTF-8"), "{want}");
    }

    #[test]
    fn an_old_name_that_is_still_set_is_refused_with_the_new_one() {
        let e = env(&[("LOCK_TIMEOUT_SECS", "20"), ("OLD_EMPTY", "")]);
        assert_eq!(
            e.retired("LOCK_TIMEOUT_SECS", "LOCK_TIMEOUT_SECONDS").unwrap_err().to_string(),
            "environment variable LOCK_TIMEOUT_SECS was renamed LOCK_TIMEOUT_SECONDS: set LOCK_TIMEOUT_SECONDS instead"
        );
        assert_eq!(e.retired("OLD_EMPTY", "NEW"), Ok(()));
        assert_eq!(e.retired("NEVER_SET", "NEW"), Ok(()));
    }

    #[test]
    fn aws_api_max_attempts_defaults_to_5_and_is_at_least_1() {
        assert_eq!(aws_api_max_attempts(&env(&[])).unwrap(), DEFAULT_AWS_API_MAX_ATTEMPTS);
        assert_eq!(aws_api_max_attempts(&env(&[("AWS_API_MAX_ATTEMPTS", "2")])).unwrap(), 2);
        assert_eq!(
            aws_api_max_attempts(&env(&[("AWS_API_MAX_ATTEMPTS", "0")])).unwrap_err(),
            SettingError::invalid("AWS_API_MAX_ATTEMPTS", "0", "a whole number above 0")
        );
    }

    /// The process environment is read when a setting is asked for (PATH is set in every test run).
    #[test]
    fn the_process_environment_is_read_through_the_same_rules() {
        let path = std::env::var("PATH").expect("PATH is set");
        assert_eq!(Env::from_process().optional::<String>("PATH").unwrap().as_deref(), Some(path.trim()));
    }

    #[test]
    fn all_variables_are_listed_and_a_non_utf8_one_is_named() {
        use std::os::unix::ffi::OsStringExt;
        let env = Env::from_pairs([("A", OsString::from(" x ")), ("B", OsString::from("y"))]);
        let mut all = env.all().unwrap();
        all.sort();
        assert_eq!(all, [("A".to_string(), " x ".to_string()), ("B".to_string(), "y".to_string())]);
        let bad = Env::from_pairs([("A", OsString::from("x")), ("BAD", OsString::from_vec(vec![0x66, 0xff]))]);
        let e = bad.all().unwrap_err();
        assert_eq!(e.to_string(), "environment variable BAD=\"f\u{fffd}\" is not valid UTF-8");
    }

    #[test]
    fn label_pairs_are_trimmed_and_refused_when_reserved_repeated_or_empty() {
        let own = |n: &str| n == "cluster";
        assert_eq!(
            parse_label_pairs(" job=yace, instance = prod-eu ,", own),
            Some(vec![("job".into(), "yace".into()), ("instance".into(), "prod-eu".into())])
        );
        assert_eq!(parse_label_pairs("", own), Some(vec![]));
        for bad in ["job", "job=", "cluster=a", "__name__=x", "__x=y", "job=a,job=b", "1x=a", "a-b=c"] {
            assert_eq!(parse_label_pairs(bad, own), None, "{bad:?} must be refused");
        }
    }
}
