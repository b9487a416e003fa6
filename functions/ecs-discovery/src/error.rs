//! The one error type of the function. Every message names what it concerns (a task ARN or a
//! cluster) so a failed invocation in the logs says which task's targets were not updated.

use lambda_runtime::Diagnostic;

use crate::file_sd::{FileAheadOfRecord, RecordOutlivesFile};

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The event is not a task state change we can read. Retrying cannot help.
    #[error("malformed event for task {task}: {reason}")]
    MalformedEvent { task: String, reason: String },

    /// Neither an ECS task state change nor a scheduled event.
    #[error("unsupported event: {0}")]
    UnsupportedEvent(String),

    /// An ECS or EC2 call failed (after the SDK's retries). The file is untouched.
    #[error("{subject}: {operation} failed: {message}")]
    Aws { subject: String, operation: &'static str, message: String },

    /// The cluster's state record cannot be read; only the reconcile may rebuild it, since an
    /// event alone cannot know the other tasks' targets.
    #[error("task {task}: the state record {path} is damaged ({reason}); the scheduled reconcile rebuilds it")]
    DamagedState { task: String, path: String, reason: String },

    /// Reading or writing the file_sd file, its state record, or its lock.
    #[error("cluster {cluster}: {source}")]
    Io { cluster: String, source: std::io::Error },

    /// The file_sd file changed but its state record could not follow: a written file that could
    /// not be put back ([`FileAheadOfRecord`]), or a retired cluster's removed file whose record
    /// stays ([`RecordOutlivesFile`]). The next update or reconcile of the cluster makes them agree.
    #[error("cluster {cluster}: {source}")]
    FileAndRecordDiffer { cluster: String, source: std::io::Error },

    /// An environment variable is malformed; nothing works until the template is fixed.
    #[error("configuration: {0}")]
    Config(#[from] promstack::settings::SettingError),

    /// A cluster the reconcile was to cover is not known to ECS (a typo in `CLUSTERS`, or a
    /// deleted cluster). Retrying cannot help; the configuration must change.
    #[error("cluster {cluster} not found ({reason}): check CLUSTERS")]
    ClusterNotFound { cluster: String, reason: String },

    /// The reconcile of some clusters failed; the others were written.
    #[error("reconcile failed for {} cluster(s): {}", .0.len(), .0.join("; "))]
    Reconcile(Vec<String>),
}

impl Error {
    /// Whether running the same invocation again may succeed.
    pub fn retryable(&self) -> bool {
        matches!(
            self,
            Error::Aws { .. }
                | Error::Io { .. }
                | Error::FileAndRecordDiffer { .. }
                | Error::DamagedState { .. }
                | Error::Reconcile(_)
        )
    }

    /// A failed read-modify-write of `cluster`'s file and record.
    pub fn store(cluster: &str, source: std::io::Error) -> Self {
        let cluster = cluster.to_string();
        if source.get_ref().is_some_and(|e| e.is::<FileAheadOfRecord>() || e.is::<RecordOutlivesFile>()) {
            Error::FileAndRecordDiffer { cluster, source }
        } else {
            Error::Io { cluster, source }
        }
    }

    /// What the failure did to the file_sd files, for the log: only a file its record could not
    /// follow, or a reconcile's other clusters, were changed.
    pub fn file_sd_effect(&self) -> &'static str {
        match self {
            Error::FileAndRecordDiffer { .. } => "the file_sd file changed but its state record did not",
            Error::Reconcile(_) => "the other clusters were written; each failed one is logged with what it left",
            _ => "file_sd left as it was",
        }
    }

    fn error_type(&self) -> &'static str {
        match self {
            Error::MalformedEvent { .. } => "MalformedEvent",
            Error::UnsupportedEvent(_) => "UnsupportedEvent",
            Error::Aws { .. } => "AwsCallFailed",
            Error::DamagedState { .. } => "DamagedState",
            Error::Io { .. } => "FileSdWriteFailed",
            Error::FileAndRecordDiffer { .. } => "FileSdAndRecordDiffer",
            Error::Config(_) => "Configuration",
            Error::ClusterNotFound { .. } => "ClusterNotFound",
            Error::Reconcile(_) => "ReconcileFailed",
        }
    }
}

impl From<Error> for Diagnostic {
    fn from(error: Error) -> Self {
        let retry = if error.retryable() { "retryable" } else { "not retryable" };
        Diagnostic { error_type: error.error_type().to_string(), error_message: format!("{error} ({retry})") }
    }
}

#[cfg(test)]
mod tests {
    use std::io;

    use super::*;

    /// The log says "file_sd left as it was" only for failures that left it so.
    #[test]
    fn only_failures_that_changed_nothing_claim_the_files_are_as_they_were() {
        let unchanged = Error::store("prod", io::Error::other("lock timed out"));
        assert!(matches!(unchanged, Error::Io { .. }));
        assert_eq!(unchanged.file_sd_effect(), "file_sd left as it was");
        let ahead = FileAheadOfRecord {
            file: "prod.json".into(),
            record_error: io::Error::other("ENOSPC"),
            restore_error: io::Error::other("EIO"),
        };
        let outlives = RecordOutlivesFile { file: "prod.json".into(), record_error: io::Error::other("EIO") };
        for source in [io::Error::other(ahead), io::Error::other(outlives)] {
            let e = Error::store("prod", source);
            assert!(matches!(e, Error::FileAndRecordDiffer { .. }), "{e:?}");
            assert!(!e.file_sd_effect().contains("left as it was"), "{e}");
            assert!(e.retryable() && e.to_string().starts_with("cluster prod: "), "{e}");
        }
        assert!(!Error::Reconcile(vec![]).file_sd_effect().contains("left as it was"));
    }
}
