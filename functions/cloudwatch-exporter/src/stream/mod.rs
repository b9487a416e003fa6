//! CloudWatch Metric Streams through Amazon Data Firehose: the same binary as the polling
//! exporter, selected by `EXPORTER_MODE=metric-stream`, invoked through its Function URL by a
//! Firehose HTTP endpoint destination. Each request's records (JSON, OpenTelemetry 1.0 or 0.7)
//! become the series the polling path would push for the same metric and statistic, with
//! CloudWatch's timestamps, through the same remote-write client.
//!
//! - [`firehose`]: the HTTP endpoint contract (request body, access key, responses);
//! - [`json`], [`otlp`]: the two record formats, decoded into [`Datum`]s;
//! - [`associate`]: `name` and tag labels from the config's jobs and their tagged resources;
//! - [`series`]: a datum's statistics as the polling path's series;
//! - [`access_key`]: the access key from Secrets Manager, kept for the warm container;
//! - [`handler`]: one request, top to bottom.

pub mod access_key;
pub mod associate;
pub mod firehose;
pub mod handler;
pub mod json;
pub mod otlp;
pub mod series;

/// One datapoint of one metric as a stream delivers it: every statistic of one period.
#[derive(Debug, Clone, PartialEq)]
pub struct Datum {
    pub account_id: String,
    pub region: String,
    pub namespace: String,
    pub metric_name: String,
    /// As the record lists them (sorted when the series is made).
    pub dimensions: Vec<(String, String)>,
    /// CloudWatch's timestamp of the datapoint, in milliseconds.
    pub timestamp_ms: i64,
    /// Statistic (as the polling path names it: `Minimum`, `Maximum`, `Sum`, `SampleCount`,
    /// `p99`, `TM(25%:75%)`, ...) → value, in the record's order.
    pub statistics: Vec<(String, f64)>,
}

impl Datum {
    /// The value of one statistic, if the record had it.
    pub fn statistic(&self, name: &str) -> Option<f64> {
        self.statistics.iter().find(|(n, _)| n == name).map(|(_, v)| *v)
    }
}

/// A record (or a part of one) that could not be read: reported, and the rest of the request goes on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("record {record}: {message}")]
pub struct RecordError {
    /// Its index in the request's `records`.
    pub record: usize,
    pub message: String,
}

/// Decodes one record's bytes, whatever the stream's output format: a JSON record starts with
/// `{` (after any whitespace), an OpenTelemetry record with the varint length of its first message.
pub fn decode_record(index: usize, data: &[u8]) -> (Vec<Datum>, Vec<RecordError>) {
    let first = data.iter().find(|b| !b.is_ascii_whitespace());
    match first {
        None => (vec![], vec![RecordError { record: index, message: "the record is empty".into() }]),
        Some(b'{') => json::decode(index, data),
        Some(_) => match otlp::decode(data) {
            Ok(data) => (data, vec![]),
            Err(message) => (vec![], vec![RecordError { record: index, message }]),
        },
    }
}
