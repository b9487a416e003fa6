//! The Metric Streams JSON output format: newline-delimited objects, one datapoint of one metric
//! each, `value` holding `min`, `max`, `sum`, `count` and any additional statistic under its own
//! name (`p99`, `p99.9`, `TM(25%:75%)`); `timestamp` in epoch milliseconds.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::{Datum, RecordError};

#[derive(Deserialize)]
struct Line {
    account_id: String,
    region: String,
    namespace: String,
    metric_name: String,
    #[serde(default)]
    dimensions: BTreeMap<String, String>,
    timestamp: i64,
    /// Statistic → value; their order does not matter for the series.
    value: BTreeMap<String, f64>,
}

/// The polling path's name of a JSON `value` key: the four defaults are lower case in the
/// stream; additional statistics are already named as CloudWatch names them.
pub fn statistic_name(key: &str) -> &str {
    match key {
        "min" => "Minimum",
        "max" => "Maximum",
        "sum" => "Sum",
        "count" => "SampleCount",
        other => other,
    }
}

/// Every line of one record; a line that does not parse is reported and the others are kept.
pub fn decode(index: usize, data: &[u8]) -> (Vec<Datum>, Vec<RecordError>) {
    let mut out = Vec::new();
    let mut errors = Vec::new();
    for (n, line) in data.split(|b| *b == b'\n').enumerate() {
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        match serde_json::from_slice::<Line>(line) {
            Ok(l) => out.push(Datum {
                account_id: l.account_id,
                region: l.region,
                namespace: l.namespace,
                metric_name: l.metric_name,
                dimensions: l.dimensions.into_iter().collect(),
                timestamp_ms: l.timestamp,
                statistics: l.value.into_iter().map(|(k, v)| (statistic_name(&k).to_string(), v)).collect(),
            }),
            Err(e) => errors.push(RecordError { record: index, message: format!("JSON line {}: {e}", n + 1) }),
        }
    }
    (out, errors)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The sample of the AWS docs' "CloudWatch metric stream output in JSON format" page, on one
    /// line as the stream sends it.
    pub const DOCS_SAMPLE: &str = r#"{"metric_stream_name":"MyMetricStream","account_id":"1234567890","region":"us-east-1","namespace":"AWS/EC2","metric_name":"DiskWriteOps","dimensions":{"InstanceId":"i-123456789012"},"timestamp":1611929698000,"value":{"count":3.0,"sum":20.0,"max":18.0,"min":0.0,"p99":17.56,"p99.9":17.8764,"TM(25%:75%)":16.43},"unit":"Seconds"}"#;

    #[test]
    fn the_docs_sample_decodes() {
        let (data, errors) = decode(0, DOCS_SAMPLE.as_bytes());
        assert_eq!(errors, []);
        assert_eq!(data.len(), 1);
        let d = &data[0];
        assert_eq!(d.account_id, "1234567890");
        assert_eq!(d.region, "us-east-1");
        assert_eq!(d.namespace, "AWS/EC2");
        assert_eq!(d.metric_name, "DiskWriteOps");
        assert_eq!(d.dimensions, [("InstanceId".to_string(), "i-123456789012".to_string())]);
        assert_eq!(d.timestamp_ms, 1611929698000);
        assert_eq!(d.statistic("SampleCount"), Some(3.0));
        assert_eq!(d.statistic("Sum"), Some(20.0));
        assert_eq!(d.statistic("Maximum"), Some(18.0));
        assert_eq!(d.statistic("Minimum"), Some(0.0));
        assert_eq!(d.statistic("p99"), Some(17.56));
        assert_eq!(d.statistic("p99.9"), Some(17.8764));
        assert_eq!(d.statistic("TM(25%:75%)"), Some(16.43));
        assert_eq!(d.statistics.len(), 7);
    }

    #[test]
    fn lines_are_newline_delimited_and_a_bad_one_is_reported_alone() {
        let other = DOCS_SAMPLE.replace("DiskWriteOps", "DiskReadOps");
        let record = format!("{DOCS_SAMPLE}\n{{\"namespace\": 1}}\n{other}\n");
        let (data, errors) = decode(4, record.as_bytes());
        assert_eq!(data.iter().map(|d| d.metric_name.as_str()).collect::<Vec<_>>(), ["DiskWriteOps", "DiskReadOps"]);
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].record, 4);
        assert!(errors[0].message.starts_with("JSON line 2: "), "{}", errors[0]);
    }

    #[test]
    fn a_metric_without_dimensions_has_none() {
        let line = DOCS_SAMPLE.replace(r#""dimensions":{"InstanceId":"i-123456789012"},"#, "");
        let (data, errors) = decode(0, line.as_bytes());
        assert_eq!(errors, []);
        assert_eq!(data[0].dimensions, []);
    }
}
