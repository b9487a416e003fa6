//! Request bodies and headers: a `WriteRequest` encoded straight from a slice of series (no copy
//! into an owned message) and compressed with snappy's block format, as the spec requires.

use prost::Message;

use super::proto::TimeSeries;

/// The headers Remote-Write 1.0 requires on every request.
pub mod headers {
    pub const CONTENT_ENCODING: (&str, &str) = ("content-encoding", "snappy");
    pub const CONTENT_TYPE: (&str, &str) = ("content-type", "application/x-protobuf");
    pub const VERSION: (&str, &str) = ("x-prometheus-remote-write-version", "0.1.0");
    pub const USER_AGENT: &str = concat!("promstack/", env!("CARGO_PKG_VERSION"));
}

/// Field number of `WriteRequest.timeseries`.
const TIMESERIES_TAG: u32 = 1;

/// Encodes and compresses request bodies, reusing its buffers between calls.
pub struct Encoder {
    proto: Vec<u8>,
    /// Sized for snappy's worst case once and kept: zeroing and faulting in a fresh buffer of
    /// that size for every request cost more than the compression itself (see the bench).
    compressed: Vec<u8>,
    snappy: snap::raw::Encoder,
}

impl Default for Encoder {
    fn default() -> Self {
        Self::new()
    }
}

impl Encoder {
    pub fn new() -> Self {
        Self { proto: Vec::new(), compressed: Vec::new(), snappy: snap::raw::Encoder::new() }
    }

    /// The uncompressed protobuf of a `WriteRequest` holding `series`.
    pub fn encode_proto(&mut self, series: &[TimeSeries]) -> &[u8] {
        self.proto.clear();
        let len: usize = series.iter().map(encoded_len_in_request).sum();
        self.proto.reserve(len);
        for s in series {
            prost::encoding::message::encode(TIMESERIES_TAG, s, &mut self.proto);
        }
        &self.proto
    }

    /// The request body: protobuf, then snappy block compression.
    pub fn encode(&mut self, series: &[TimeSeries]) -> Vec<u8> {
        self.encode_proto(series);
        let max = snap::raw::max_compress_len(self.proto.len());
        if self.compressed.len() < max {
            self.compressed.resize(max, 0);
        }
        let n = self
            .snappy
            .compress(&self.proto, &mut self.compressed)
            .expect("the output buffer has snappy's maximum compressed length");
        self.compressed[..n].to_vec()
    }
}

/// Encodes and compresses one request body (see [`Encoder`] to reuse buffers).
pub fn encode_request(series: &[TimeSeries]) -> Vec<u8> {
    Encoder::new().encode(series)
}

/// Bytes that `series` takes inside a `WriteRequest` (tag, length prefix and message).
pub(crate) fn encoded_len_in_request(series: &TimeSeries) -> usize {
    let len = series.encoded_len();
    1 + prost::encoding::encoded_len_varint(len as u64) + len
}

#[cfg(test)]
mod tests {
    use super::super::proto::{Label, Sample, WriteRequest};
    use super::*;

    fn series(n: usize) -> Vec<TimeSeries> {
        (0..n)
            .map(|i| TimeSeries {
                labels: vec![
                    Label { name: "__name__".into(), value: "m".into() },
                    Label { name: "i".into(), value: i.to_string() },
                ],
                samples: vec![Sample { value: i as f64, timestamp: 1000 + i as i64 }],
            })
            .collect()
    }

    #[test]
    fn body_decodes_to_the_same_write_request() {
        let input = series(50);
        let body = encode_request(&input);
        let proto = snap::raw::Decoder::new().decompress_vec(&body).unwrap();
        let decoded = WriteRequest::decode(proto.as_slice()).unwrap();
        assert_eq!(decoded.timeseries, input);
        // Byte-identical to prost's own encoding of the owned message.
        let owned = WriteRequest { timeseries: input.clone() }.encode_to_vec();
        assert_eq!(proto, owned);
        let sum: usize = input.iter().map(encoded_len_in_request).sum();
        assert_eq!(sum, owned.len());
    }

    #[test]
    fn encoder_reuses_buffers_without_leaking_old_bytes() {
        let mut enc = Encoder::new();
        let big = enc.encode(&series(100));
        let small = enc.encode(&series(2));
        assert!(small.len() < big.len());
        let proto = snap::raw::Decoder::new().decompress_vec(&small).unwrap();
        assert_eq!(WriteRequest::decode(proto.as_slice()).unwrap().timeseries.len(), 2);
    }

    /// The wire format's edges (multi-byte length varints, proto3 defaults that are left out,
    /// NaN, negative timestamps, empty series): the body and the length the batcher counts
    /// agree with prost's encoding of the owned message.
    #[test]
    fn edge_cases_match_prost_byte_for_byte() {
        let long = "x".repeat(300);
        let input = vec![
            TimeSeries {
                labels: vec![
                    Label { name: "__name__".into(), value: long.clone() },
                    Label { name: String::new(), value: "v".into() },
                    Label { name: "k".into(), value: String::new() },
                ],
                samples: vec![
                    Sample { value: 0.0, timestamp: 0 },
                    Sample { value: -0.0, timestamp: -1 },
                    Sample { value: f64::NAN, timestamp: i64::MAX },
                    Sample { value: f64::INFINITY, timestamp: i64::MIN },
                    Sample { value: 1.5, timestamp: 127 },
                    Sample { value: -2.0, timestamp: 128 },
                ],
            },
            TimeSeries { labels: vec![], samples: vec![] },
            TimeSeries {
                labels: (0..40).map(|i| Label { name: format!("l{i}"), value: long.clone() }).collect(),
                samples: vec![],
            },
        ];
        let ours = Encoder::new().encode_proto(&input).to_vec();
        assert_eq!(ours, WriteRequest { timeseries: input.clone() }.encode_to_vec());
        let sum: usize = input.iter().map(encoded_len_in_request).sum();
        assert_eq!(sum, ours.len());
    }
}
