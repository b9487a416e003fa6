//! A validated series: the label set is checked once, when the series is built, so a bad label
//! is a clear error at the caller instead of a 400 from Prometheus that rolls back a whole batch.

use std::borrow::Cow;
use std::sync::Arc;

use bytes::Bytes;
use smallvec::SmallVec;

use super::batch::Piece;
use super::encode::Labels;
use super::proto::{Label, Sample, TimeSeries};
use crate::names::{self, Scheme, METRIC_NAME_LABEL};

/// Why a label set cannot be sent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LabelError {
    #[error("the series has no metric name (label __name__)")]
    MissingName,
    #[error("invalid metric name {0:?}: {rule}", rule = Scheme::CURRENT.metric_name_rule())]
    InvalidMetricName(String),
    #[error("empty label name")]
    EmptyName,
    #[error("invalid label name {0:?}: {rule}", rule = Scheme::CURRENT.label_name_rule())]
    InvalidName(String),
    #[error("label {0:?} has an empty value (remote write forbids empty values; leave the label out)")]
    EmptyValue(String),
    #[error("label {0:?} appears twice")]
    Duplicate(String),
}

/// One series: sorted, validated labels (`__name__` included) and its samples. The labels are
/// encoded for the wire once, here, and shared by every request that carries the series.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    labels: Arc<Labels>,
    /// `labels`' bytes again, here, so a request reads them without going through the `Arc`.
    wire: Bytes,
    /// Held inline up to two (an exporter run pushes one or two per series), so a request reads
    /// them with the series instead of from an allocation of their own.
    samples: SmallVec<[Sample; 2]>,
    sorted: bool,
}

impl Series {
    /// A series named `name` with the given labels (any order).
    pub fn new<K, V>(name: &str, labels: impl IntoIterator<Item = (K, V)>) -> Result<Self, LabelError>
    where
        K: Into<String>,
        V: Into<String>,
    {
        let mut all = vec![Label { name: METRIC_NAME_LABEL.into(), value: name.into() }];
        all.extend(labels.into_iter().map(|(k, v)| Label { name: k.into(), value: v.into() }));
        Self::from_labels(all)
    }

    /// A series from a full label set that must include `__name__`.
    pub fn from_labels(mut labels: Vec<Label>) -> Result<Self, LabelError> {
        labels.sort_unstable_by(|a, b| a.name.cmp(&b.name));
        for pair in labels.windows(2) {
            if pair[0].name == pair[1].name {
                return Err(LabelError::Duplicate(pair[0].name.clone()));
            }
        }
        let mut has_name = false;
        for label in &labels {
            if label.name.is_empty() {
                return Err(LabelError::EmptyName);
            }
            if label.name == METRIC_NAME_LABEL {
                has_name = true;
                if !names::is_metric_name(&label.value) {
                    return Err(LabelError::InvalidMetricName(label.value.clone()));
                }
                continue;
            }
            if !names::is_label_name(&label.name) {
                return Err(LabelError::InvalidName(label.name.clone()));
            }
            if label.value.is_empty() {
                return Err(LabelError::EmptyValue(label.name.clone()));
            }
        }
        if !has_name {
            return Err(LabelError::MissingName);
        }
        let labels = Labels::new(labels);
        Ok(Self { wire: labels.bytes().clone(), labels: Arc::new(labels), samples: SmallVec::new(), sorted: true })
    }

    /// Adds a sample (timestamp in milliseconds). Samples may come in any order; they are sent
    /// in timestamp order, and for a timestamp given twice the last value given wins.
    pub fn push(&mut self, timestamp_ms: i64, value: f64) -> &mut Self {
        if let Some(last) = self.samples.last() {
            if last.timestamp >= timestamp_ms {
                self.sorted = false;
            }
        }
        self.samples.push(Sample { value, timestamp: timestamp_ms });
        self
    }

    /// The metric name.
    pub fn name(&self) -> &str {
        self.labels().iter().find(|l| l.name == METRIC_NAME_LABEL).map_or("", |l| l.value.as_str())
    }

    /// Labels, sorted by name, `__name__` included.
    pub fn labels(&self) -> &[Label] {
        self.labels.list()
    }

    /// The value of label `name`, if set.
    pub fn label(&self, name: &str) -> Option<&str> {
        self.labels().iter().find(|l| l.name == name).map(|l| l.value.as_str())
    }

    /// Samples in timestamp order.
    pub fn samples(&mut self) -> &[Sample] {
        self.normalise();
        &self.samples
    }

    pub fn len(&self) -> usize {
        self.samples.len()
    }

    pub fn is_empty(&self) -> bool {
        self.samples.is_empty()
    }

    /// The wire form, samples in timestamp order.
    pub fn into_proto(mut self) -> TimeSeries {
        self.normalise();
        let labels = Arc::try_unwrap(self.labels).map_or_else(|shared| shared.list().to_vec(), Labels::into_list);
        TimeSeries { labels, samples: self.samples.into_vec() }
    }

    /// The wire form without consuming the series.
    pub fn to_proto(&self) -> TimeSeries {
        TimeSeries { labels: self.labels().to_vec(), samples: self.wire_samples().into_owned() }
    }

    /// The labels as encoded for the wire.
    pub(crate) fn label_bytes(&self) -> &[u8] {
        &self.wire
    }

    /// Samples in timestamp order, without sorting the series in place.
    pub(crate) fn wire_samples(&self) -> Cow<'_, [Sample]> {
        if self.sorted {
            return Cow::Borrowed(&self.samples);
        }
        let mut samples = self.samples.clone();
        normalise(&mut samples);
        Cow::Owned(samples.into_vec())
    }

    /// The samples as pushed, in any order.
    pub(crate) fn unsorted_samples(&self) -> &[Sample] {
        &self.samples
    }

    /// The series as the client cuts it into requests (labels shared, not copied).
    pub(crate) fn piece(&self) -> Piece {
        Piece::new(Arc::clone(&self.labels), self.wire_samples().into_owned())
    }

    fn normalise(&mut self) {
        if !self.sorted {
            normalise(&mut self.samples);
            self.sorted = true;
        }
    }
}

/// Timestamp order; for a timestamp given twice, the last value given.
fn normalise(samples: &mut SmallVec<[Sample; 2]>) {
    // Stable sort, then keep the last sample given for each timestamp.
    samples.sort_by_key(|s| s.timestamp);
    let mut kept = 0usize;
    for i in 0..samples.len() {
        let s = samples[i];
        match kept.checked_sub(1) {
            Some(last) if samples[last].timestamp == s.timestamp => samples[last] = s,
            _ => {
                samples[kept] = s;
                kept += 1;
            }
        }
    }
    samples.truncate(kept);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_sorted_with_name_first_class() {
        let s = Series::new("up", [("zone", "a"), ("job", "x"), ("Alpha", "y")]).unwrap();
        let names: Vec<&str> = s.labels().iter().map(|l| l.name.as_str()).collect();
        assert_eq!(names, ["Alpha", "__name__", "job", "zone"]);
        assert_eq!(s.name(), "up");
        assert_eq!(s.label("job"), Some("x"));
    }

    #[test]
    fn bad_label_sets_are_errors_not_drops() {
        assert_eq!(Series::new("up", [("job", "")]).unwrap_err(), LabelError::EmptyValue("job".into()));
        assert_eq!(Series::new("up", [("", "x")]).unwrap_err(), LabelError::EmptyName);
        assert_eq!(Series::new("up", [("job", "a"), ("job", "b")]).unwrap_err(), LabelError::Duplicate("job".into()));
        assert_eq!(Series::new("up", [("__name__", "again")]).unwrap_err(), LabelError::Duplicate("__name__".into()));
        assert_eq!(Series::new("9up", [("a", "b")]).unwrap_err(), LabelError::InvalidMetricName("9up".into()));
        assert_eq!(Series::new("up", [("a-b", "c")]).unwrap_err(), LabelError::InvalidName("a-b".into()));
        assert_eq!(
            Series::from_labels(vec![Label { name: "job".into(), value: "x".into() }]).unwrap_err(),
            LabelError::MissingName
        );
        assert!(Series::new("ns:rule_total", [("_a1", "v")]).is_ok());
    }

    #[test]
    fn samples_go_out_in_timestamp_order_last_value_wins() {
        let mut s = Series::new("up", [("a", "b")]).unwrap();
        s.push(3000, 3.0).push(1000, 1.0).push(2000, 2.0).push(1000, 10.0);
        let ts = s.into_proto();
        let got: Vec<(i64, f64)> = ts.samples.iter().map(|x| (x.timestamp, x.value)).collect();
        assert_eq!(got, [(1000, 10.0), (2000, 2.0), (3000, 3.0)]);
    }

    #[test]
    fn display_name_reads_like_promql() {
        let s = Series::new("up", [("job", "a\"b")]).unwrap();
        assert_eq!(s.to_proto().display_name(), r#"up{job="a\"b"}"#);
    }
}
