//! The Metric Streams OpenTelemetry formats: each record holds one or more
//! `ExportMetricsServiceRequest` messages, each preceded by its length as an unsigned varint.
//! Every metric is a Summary: `sum`, `count`, and quantile values (0 = Minimum, 1 = Maximum,
//! 0.99 = p99, ...); the CloudWatch timestamp is the data point's `time_unix_nano` (the end of
//! the period).
//!
//! The message types below are the subset of opentelemetry-proto that CloudWatch fills, with the
//! field numbers of its v1.0.0 release. Version 0.7.0 differs only where these types can hold
//! both: its `InstrumentationLibraryMetrics` sits at the same field as 1.0's `ScopeMetrics` with
//! the same shape, its `DoubleSummary` at the same field as `Summary`, and its data points carry
//! `labels` (string pairs, field 1, which 1.0 reserves) instead of `attributes` (field 7). So one
//! decoder reads both formats.

use prost::Message;

use super::Datum;

#[derive(Clone, PartialEq, Message)]
pub struct ExportMetricsServiceRequest {
    #[prost(message, repeated, tag = "1")]
    pub resource_metrics: Vec<ResourceMetrics>,
}

#[derive(Clone, PartialEq, Message)]
pub struct ResourceMetrics {
    #[prost(message, optional, tag = "1")]
    pub resource: Option<Resource>,
    /// 1.0 `scope_metrics`; 0.7 `instrumentation_library_metrics`.
    #[prost(message, repeated, tag = "2")]
    pub scope_metrics: Vec<ScopeMetrics>,
}

#[derive(Clone, PartialEq, Message)]
pub struct Resource {
    #[prost(message, repeated, tag = "1")]
    pub attributes: Vec<KeyValue>,
}

#[derive(Clone, PartialEq, Message)]
pub struct ScopeMetrics {
    #[prost(message, repeated, tag = "2")]
    pub metrics: Vec<Metric>,
}

#[derive(Clone, PartialEq, Message)]
pub struct Metric {
    #[prost(string, tag = "1")]
    pub name: String,
    #[prost(string, tag = "3")]
    pub unit: String,
    /// 1.0 `summary`; 0.7 `double_summary`.
    #[prost(message, optional, tag = "11")]
    pub summary: Option<Summary>,
}

#[derive(Clone, PartialEq, Message)]
pub struct Summary {
    #[prost(message, repeated, tag = "1")]
    pub data_points: Vec<SummaryDataPoint>,
}

#[derive(Clone, PartialEq, Message)]
pub struct SummaryDataPoint {
    /// 0.7 only.
    #[prost(message, repeated, tag = "1")]
    pub labels: Vec<StringKeyValue>,
    #[prost(fixed64, tag = "2")]
    pub start_time_unix_nano: u64,
    #[prost(fixed64, tag = "3")]
    pub time_unix_nano: u64,
    #[prost(fixed64, tag = "4")]
    pub count: u64,
    #[prost(double, tag = "5")]
    pub sum: f64,
    #[prost(message, repeated, tag = "6")]
    pub quantile_values: Vec<ValueAtQuantile>,
    /// 1.0 only.
    #[prost(message, repeated, tag = "7")]
    pub attributes: Vec<KeyValue>,
}

#[derive(Clone, PartialEq, Message)]
pub struct ValueAtQuantile {
    #[prost(double, tag = "1")]
    pub quantile: f64,
    #[prost(double, tag = "2")]
    pub value: f64,
}

#[derive(Clone, PartialEq, Message)]
pub struct StringKeyValue {
    #[prost(string, tag = "1")]
    pub key: String,
    #[prost(string, tag = "2")]
    pub value: String,
}

#[derive(Clone, PartialEq, Message)]
pub struct KeyValue {
    #[prost(string, tag = "1")]
    pub key: String,
    #[prost(message, optional, tag = "2")]
    pub value: Option<AnyValue>,
}

#[derive(Clone, PartialEq, Message)]
pub struct AnyValue {
    #[prost(oneof = "any_value::Value", tags = "1, 2, 3, 4, 6")]
    pub value: Option<any_value::Value>,
}

pub mod any_value {
    #[derive(Clone, PartialEq, prost::Oneof)]
    pub enum Value {
        #[prost(string, tag = "1")]
        StringValue(String),
        #[prost(bool, tag = "2")]
        BoolValue(bool),
        #[prost(int64, tag = "3")]
        IntValue(i64),
        #[prost(double, tag = "4")]
        DoubleValue(f64),
        #[prost(message, tag = "6")]
        KvlistValue(super::KeyValueList),
    }
}

#[derive(Clone, PartialEq, Message)]
pub struct KeyValueList {
    #[prost(message, repeated, tag = "1")]
    pub values: Vec<KeyValue>,
}

impl KeyValue {
    pub fn string(key: &str, value: &str) -> Self {
        KeyValue { key: key.into(), value: Some(AnyValue { value: Some(any_value::Value::StringValue(value.into())) }) }
    }

    fn as_str(&self) -> Option<&str> {
        match &self.value.as_ref()?.value {
            Some(any_value::Value::StringValue(s)) => Some(s.as_str()),
            _ => None,
        }
    }
}

/// The statistic a quantile stands for, named as the polling path names it: 0 is `Minimum`,
/// 1 is `Maximum`, anything else `p` and the percentile (0.99 → `p99`, 0.999 → `p99.9`).
pub fn quantile_statistic(quantile: f64) -> String {
    if quantile == 0.0 {
        return "Minimum".into();
    }
    if quantile == 1.0 {
        return "Maximum".into();
    }
    // Rounded: 0.999 * 100 is 99.89999999999999 in binary floating point.
    let percent = (quantile * 100.0 * 1e6).round() / 1e6;
    format!("p{percent}")
}

/// Every datapoint of one record: its length-delimited messages, one after the other.
pub fn decode(mut data: &[u8]) -> Result<Vec<Datum>, String> {
    let mut out = Vec::new();
    let mut n = 0;
    while !data.is_empty() {
        n += 1;
        let message = ExportMetricsServiceRequest::decode_length_delimited(&mut data)
            .map_err(|e| format!("OpenTelemetry message {n}: {e}"))?;
        data_of(&message, &mut out).map_err(|e| format!("OpenTelemetry message {n}: {e}"))?;
    }
    Ok(out)
}

fn data_of(message: &ExportMetricsServiceRequest, out: &mut Vec<Datum>) -> Result<(), String> {
    for rm in &message.resource_metrics {
        let attributes = rm.resource.as_ref().map_or(&[][..], |r| &r.attributes[..]);
        let resource = |key: &str| attributes.iter().find(|a| a.key == key).and_then(KeyValue::as_str);
        let account_id = resource("cloud.account.id").ok_or("no resource attribute cloud.account.id")?;
        let region = resource("cloud.region").ok_or("no resource attribute cloud.region")?;
        for metric in rm.scope_metrics.iter().flat_map(|s| &s.metrics) {
            let Some(summary) = &metric.summary else {
                return Err(format!("metric {:?} is not a Summary", metric.name));
            };
            for point in &summary.data_points {
                out.push(datum(account_id, region, &metric.name, point)?);
            }
        }
    }
    Ok(())
}

fn datum(account_id: &str, region: &str, metric: &str, point: &SummaryDataPoint) -> Result<Datum, String> {
    let mut namespace = None;
    let mut metric_name = None;
    let mut dimensions = Vec::new();
    // 1.0: Namespace, MetricName and Dimensions (a key-value list) as attributes.
    for a in &point.attributes {
        match (a.key.as_str(), a.value.as_ref().and_then(|v| v.value.as_ref())) {
            ("Namespace", Some(any_value::Value::StringValue(s))) => namespace = Some(s.clone()),
            ("MetricName", Some(any_value::Value::StringValue(s))) => metric_name = Some(s.clone()),
            ("Dimensions", Some(any_value::Value::KvlistValue(list))) => {
                for d in &list.values {
                    let value =
                        d.as_str().ok_or_else(|| format!("dimension {:?} of {metric:?} is not a string", d.key))?;
                    dimensions.push((d.key.clone(), value.to_string()));
                }
            }
            _ => {}
        }
    }
    // 0.7: Namespace and MetricName labels, and one label per dimension.
    for l in &point.labels {
        match l.key.as_str() {
            "Namespace" => namespace = Some(l.value.clone()),
            "MetricName" => metric_name = Some(l.value.clone()),
            _ => dimensions.push((l.key.clone(), l.value.clone())),
        }
    }
    let namespace = namespace.ok_or_else(|| format!("metric {metric:?} has no Namespace attribute"))?;
    let metric_name = metric_name.ok_or_else(|| format!("metric {metric:?} has no MetricName attribute"))?;
    let mut statistics = Vec::with_capacity(2 + point.quantile_values.len());
    for q in &point.quantile_values {
        statistics.push((quantile_statistic(q.quantile), q.value));
    }
    statistics.push(("Sum".to_string(), point.sum));
    statistics.push(("SampleCount".to_string(), point.count as f64));
    Ok(Datum {
        account_id: account_id.to_string(),
        region: region.to_string(),
        namespace,
        metric_name,
        dimensions,
        timestamp_ms: (point.time_unix_nano / 1_000_000) as i64,
        statistics,
    })
}

/// Builds records in the stream's OpenTelemetry 1.0 encoding: for tests and the bench.
pub mod build {
    use super::*;

    /// One Summary data point as CloudWatch streams it (quantiles 0 and 1 are Minimum and Maximum).
    pub struct Point<'a> {
        pub namespace: &'a str,
        pub metric_name: &'a str,
        pub dimensions: &'a [(&'a str, &'a str)],
        pub end_ms: i64,
        pub sum: f64,
        pub count: u64,
        pub quantiles: &'a [(f64, f64)],
    }

    /// An `ExportMetricsServiceRequest` of `points` from one account and region.
    pub fn request(account_id: &str, region: &str, points: &[Point<'_>]) -> ExportMetricsServiceRequest {
        let resource = Resource {
            attributes: vec![
                KeyValue::string("cloud.provider", "aws"),
                KeyValue::string("cloud.account.id", account_id),
                KeyValue::string("cloud.region", region),
                KeyValue::string(
                    "aws.exporter.arn",
                    &format!("arn:aws:cloudwatch:{region}:{account_id}:metric-stream/MyMetricStream"),
                ),
            ],
        };
        let metrics = points
            .iter()
            .map(|p| Metric {
                name: format!("amazonaws.com/{}/{}", p.namespace, p.metric_name),
                unit: "1".into(),
                summary: Some(Summary {
                    data_points: vec![SummaryDataPoint {
                        labels: vec![],
                        start_time_unix_nano: ((p.end_ms - 60_000) as u64) * 1_000_000,
                        time_unix_nano: (p.end_ms as u64) * 1_000_000,
                        count: p.count,
                        sum: p.sum,
                        quantile_values: p
                            .quantiles
                            .iter()
                            .map(|(quantile, value)| ValueAtQuantile { quantile: *quantile, value: *value })
                            .collect(),
                        attributes: vec![
                            KeyValue::string("Namespace", p.namespace),
                            KeyValue::string("MetricName", p.metric_name),
                            KeyValue {
                                key: "Dimensions".into(),
                                value: Some(AnyValue {
                                    value: Some(any_value::Value::KvlistValue(KeyValueList {
                                        values: p.dimensions.iter().map(|(k, v)| KeyValue::string(k, v)).collect(),
                                    })),
                                }),
                            },
                        ],
                    }],
                }),
            })
            .collect();
        ExportMetricsServiceRequest {
            resource_metrics: vec![ResourceMetrics {
                resource: Some(resource),
                scope_metrics: vec![ScopeMetrics { metrics }],
            }],
        }
    }

    /// A record: each message length-delimited, one after the other.
    pub fn record(messages: &[ExportMetricsServiceRequest]) -> Vec<u8> {
        let mut out = Vec::new();
        for m in messages {
            m.encode_length_delimited(&mut out).expect("a Vec grows");
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::build::{record, request, Point};
    use super::*;

    /// The sample of the AWS docs' "CloudWatch metric stream output in OpenTelemetry 1.0.0 format"
    /// page: DynamoDB ConsumedReadCapacityUnits of one table, start 60 s, end 120 s (in ns),
    /// count 1, sum 1, quantiles 0 → 1, 0.99 → 1, 0.999 → 1, 1 → 1.
    fn docs_sample() -> ExportMetricsServiceRequest {
        let point = Point {
            namespace: "AWS/DynamoDB",
            metric_name: "ConsumedReadCapacityUnits",
            dimensions: &[("TableName", "MyTable")],
            end_ms: 120_000,
            sum: 1.0,
            count: 1,
            quantiles: &[(0.0, 1.0), (0.99, 1.0), (0.999, 1.0), (1.0, 1.0)],
        };
        request("123456789012", "us-east-1", &[point])
    }

    #[test]
    fn the_docs_sample_decodes() {
        let data = decode(&record(&[docs_sample()])).unwrap();
        assert_eq!(data.len(), 1);
        let d = &data[0];
        assert_eq!((d.account_id.as_str(), d.region.as_str()), ("123456789012", "us-east-1"));
        assert_eq!((d.namespace.as_str(), d.metric_name.as_str()), ("AWS/DynamoDB", "ConsumedReadCapacityUnits"));
        assert_eq!(d.dimensions, [("TableName".to_string(), "MyTable".to_string())]);
        assert_eq!(d.timestamp_ms, 120_000, "the end of the period");
        let stats: Vec<(&str, f64)> = d.statistics.iter().map(|(n, v)| (n.as_str(), *v)).collect();
        assert_eq!(
            stats,
            [("Minimum", 1.0), ("p99", 1.0), ("p99.9", 1.0), ("Maximum", 1.0), ("Sum", 1.0), ("SampleCount", 1.0)]
        );
    }

    #[test]
    fn a_record_holds_several_length_delimited_messages() {
        let mut second = docs_sample();
        second.resource_metrics[0].scope_metrics[0].metrics[0].summary.as_mut().unwrap().data_points[0]
            .time_unix_nano = 180_000_000_000;
        let data = decode(&record(&[docs_sample(), second])).unwrap();
        assert_eq!(data.iter().map(|d| d.timestamp_ms).collect::<Vec<_>>(), [120_000, 180_000]);
        let mut cut = record(&[docs_sample(), docs_sample()]);
        cut.truncate(cut.len() - 3);
        let e = decode(&cut).unwrap_err();
        assert!(e.starts_with("OpenTelemetry message 2: "), "{e}");
    }

    #[test]
    fn opentelemetry_0_7_labels_are_read_too() {
        let mut m = docs_sample();
        let point = &mut m.resource_metrics[0].scope_metrics[0].metrics[0].summary.as_mut().unwrap().data_points[0];
        point.attributes.clear();
        point.labels = [("Namespace", "AWS/DynamoDB"), ("MetricName", "ConsumedReadCapacityUnits"), ("TableName", "T")]
            .iter()
            .map(|(k, v)| StringKeyValue { key: k.to_string(), value: v.to_string() })
            .collect();
        let data = decode(&record(&[m])).unwrap();
        assert_eq!(data[0].namespace, "AWS/DynamoDB");
        assert_eq!(data[0].metric_name, "ConsumedReadCapacityUnits");
        assert_eq!(data[0].dimensions, [("TableName".to_string(), "T".to_string())]);
    }

    #[test]
    fn quantiles_are_named_as_the_polling_path_names_percentiles() {
        assert_eq!(quantile_statistic(0.0), "Minimum");
        assert_eq!(quantile_statistic(1.0), "Maximum");
        assert_eq!(quantile_statistic(0.5), "p50");
        assert_eq!(quantile_statistic(0.99), "p99");
        assert_eq!(quantile_statistic(0.999), "p99.9");
        assert_eq!(quantile_statistic(0.9999), "p99.99");
    }

    #[test]
    fn what_is_not_a_stream_record_is_refused_with_the_reason() {
        let mut m = docs_sample();
        m.resource_metrics[0].resource = None;
        assert_eq!(
            decode(&record(&[m])).unwrap_err(),
            "OpenTelemetry message 1: no resource attribute cloud.account.id"
        );
        assert!(decode(b"\x05abc").is_err());
    }
}
