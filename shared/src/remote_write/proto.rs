//! The Remote-Write 1.0 messages (`prometheus/prompb/types.proto` and `remote.proto`), written as
//! prost structs so that no `protoc` is needed at build time. Only the fields Remote-Write 1.0
//! sends are declared; decoding skips the others.

/// `prometheus.WriteRequest`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct WriteRequest {
    #[prost(message, repeated, tag = "1")]
    pub timeseries: Vec<TimeSeries>,
}

/// `prometheus.TimeSeries`: labels sorted by name, samples in timestamp order.
#[derive(Clone, PartialEq, prost::Message)]
pub struct TimeSeries {
    #[prost(message, repeated, tag = "1")]
    pub labels: Vec<Label>,
    #[prost(message, repeated, tag = "2")]
    pub samples: Vec<Sample>,
}

/// `prometheus.Label`.
#[derive(Clone, PartialEq, Eq, Hash, prost::Message)]
pub struct Label {
    #[prost(string, tag = "1")]
    pub name: String,
    #[prost(string, tag = "2")]
    pub value: String,
}

/// `prometheus.Sample`: a value and its timestamp in milliseconds since the Unix epoch.
#[derive(Clone, Copy, PartialEq, prost::Message)]
pub struct Sample {
    #[prost(double, tag = "1")]
    pub value: f64,
    #[prost(int64, tag = "2")]
    pub timestamp: i64,
}

impl TimeSeries {
    /// The series in Prometheus' own notation, `name{a="b", c="d"}`, for reports and logs.
    pub fn display_name(&self) -> String {
        display_name(&self.labels)
    }
}

/// `labels` in Prometheus' own notation, `name{a="b", c="d"}`.
pub(crate) fn display_name(labels: &[Label]) -> String {
    let name = labels.iter().find(|l| l.name == "__name__").map(|l| l.value.as_str()).unwrap_or("");
    let rest: Vec<String> =
        labels.iter().filter(|l| l.name != "__name__").map(|l| format!("{}={:?}", l.name, l.value)).collect();
    format!("{name}{{{}}}", rest.join(", "))
}
