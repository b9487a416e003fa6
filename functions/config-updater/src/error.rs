//! The function's one error type.

use lambda_runtime::Diagnostic;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The environment is missing something: nothing works until the template is fixed.
    #[error("configuration: {0}")]
    Settings(#[from] promstack::settings::SettingError),
    /// A secret could not be read from Secrets Manager.
    #[error("reading secret {arn}: {message}")]
    Secret { arn: String, message: String },
    /// The commit could not be fetched (network, auth, or a repo we refuse to read).
    #[error("fetching the config repository: {0}")]
    Fetch(String),
    /// The commit's files break the rules (symlinks, paths, limits) or fail validation.
    #[error("the config repository is invalid:\n{0}")]
    Invalid(String),
    /// Writing to or reading from the EFS volume failed.
    #[error("writing the release to {path}: {source}")]
    Volume { path: String, source: std::io::Error },
    /// Prometheus did not take the new config (the previous release was restored).
    #[error("{0}")]
    Reload(String),
    /// The release is written but not every replica confirmed it (unreachable, restarting, a
    /// 5xx): the record says "pending", and the next delivery or sync reloads again.
    #[error(
        "commit {commit} is written but not yet loaded by every Prometheus replica (it stays pending; a redelivery \
         or sync reloads again): {}",
        crate::reload::describe(failures, false)
    )]
    Unconfirmed { commit: String, failures: Vec<crate::reload::ReloadFailure> },
    /// No Prometheus replica was found to load a release that replaces another one (its service
    /// has no running task): the previous release was restored, a redelivery tries again.
    #[error("no Prometheus replica is running to load commit {commit} ({restored}): {failures}")]
    NoReplica { commit: String, restored: String, failures: String },
    /// A write failed part-way, and putting the previous files back failed too.
    #[error("{failed}; restoring what was there failed too: {restore}")]
    Restore { failed: Box<Error>, restore: Box<Error> },
    /// The Bitbucket build-status API refused or failed.
    #[error("posting the build status: {0}")]
    Status(String),
    /// The invocation is neither a Function URL request nor a direct-invoke action.
    #[error("unsupported invocation: {0}")]
    Invocation(String),
    /// `restore-previous` found no release kept under `.promstack/previous/`: nothing was changed.
    #[error("there is no previous release to restore ({0}); nothing was changed")]
    NoPrevious(String),
    /// The own series cannot be set up (`REMOTE_WRITE_URL`, `EXTRA_LABELS`).
    #[error("own series: {0}")]
    OwnSeries(String),
}

impl Error {
    /// A short, stable name for logs and Lambda's `errorType`.
    pub fn kind(&self) -> &'static str {
        match self {
            Error::Settings(_) => "ConfigUpdater.Settings",
            Error::Secret { .. } => "ConfigUpdater.Secret",
            Error::Fetch(_) => "ConfigUpdater.Fetch",
            Error::Invalid(_) => "ConfigUpdater.InvalidConfig",
            Error::Volume { .. } => "ConfigUpdater.Volume",
            Error::Reload(_) => "ConfigUpdater.ReloadFailed",
            Error::Unconfirmed { .. } => "ConfigUpdater.ReloadUnconfirmed",
            Error::NoReplica { .. } => "ConfigUpdater.NoReplica",
            Error::Restore { .. } => "ConfigUpdater.Volume",
            Error::Status(_) => "ConfigUpdater.BuildStatus",
            Error::Invocation(_) => "ConfigUpdater.Invocation",
            Error::NoPrevious(_) => "ConfigUpdater.NoPreviousRelease",
            Error::OwnSeries(_) => "ConfigUpdater.OwnSeries",
        }
    }

    /// Whether a retry (a redelivery, or the next sync) can help without a new commit.
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            Error::Secret { .. }
                | Error::Fetch(_)
                | Error::Volume { .. }
                | Error::Status(_)
                | Error::Unconfirmed { .. }
                | Error::NoReplica { .. }
                | Error::Restore { .. }
        )
    }

    /// What an HTTP caller may read: everything, except where a secret could not be read (its
    /// ARN names the account, the SDK error the setup), which only the log gets.
    pub fn public_message(&self) -> String {
        match self {
            Error::Secret { .. } => SECRET_UNAVAILABLE.into(),
            other => other.to_string(),
        }
    }
}

/// The answer to a caller when a secret could not be read.
pub const SECRET_UNAVAILABLE: &str =
    "a secret the function needs could not be read; try again later (the details are in the function's log)";

impl From<Error> for Diagnostic {
    fn from(e: Error) -> Diagnostic {
        let retry = if e.is_retryable() { " (retryable)" } else { "" };
        Diagnostic { error_type: e.kind().to_string(), error_message: format!("{e}{retry}") }
    }
}
