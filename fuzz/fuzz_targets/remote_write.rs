//! shared remote_write: the encoder's input (label sets built from CloudWatch dimensions and tags,
//! samples), cut into batches and split on a 400, and the handling of a response's status and
//! Retry-After. Properties: a series that validates encodes to a WriteRequest that decodes to the
//! same series, and to the same body whether its labels were encoded when it was built or in the
//! request; batching and splitting keep every sample, in order, within the limits; no status
//! panics; no wait is longer than the policy's cap.
#![no_main]

use std::time::Duration;

use libfuzzer_sys::fuzz_target;
use promstack::remote_write::bench::Request;
use promstack::remote_write::proto::{Label, TimeSeries, WriteRequest};
use promstack::remote_write::{batches, encode_request, Disposition, Encoder, Limits, RetryPolicy, Series};
use prost::Message;

fuzz_target!(|data: &[u8]| {
    if data.len() < 8 {
        return;
    }
    let (head, rest) = data.split_at(8);
    let status = u16::from_le_bytes([head[0], head[1]]);
    let _ = Disposition::of(status);
    let policy = RetryPolicy::default();
    let retry_after = Duration::from_secs(u64::from(u16::from_le_bytes([head[2], head[3]])));
    let delay = policy.delay(u32::from(head[4]), Some(retry_after));
    assert!(delay <= policy.max_delay, "a wait of {delay:?} is over the cap");
    let limits = Limits { max_samples: usize::from(head[5]), max_bytes: usize::from(head[6]) * 16 };

    // `name\x1fvalue` pairs separated by \x1e, then samples as 16-byte (timestamp, value) records.
    let Some(split) = rest.iter().position(|&b| b == 0) else { return };
    let (labels, samples) = (&rest[..split], &rest[split + 1..]);
    let Ok(labels) = std::str::from_utf8(labels) else { return };
    let labels: Vec<Label> = labels
        .split('\x1e')
        .map(|pair| {
            let (name, value) = pair.split_once('\x1f').unwrap_or((pair, ""));
            Label { name: name.into(), value: value.into() }
        })
        .collect();
    let Ok(mut series) = Series::from_labels(labels) else { return };
    for chunk in samples.chunks_exact(16) {
        let ts = i64::from_le_bytes(chunk[..8].try_into().expect("8 bytes"));
        let value = f64::from_le_bytes(chunk[8..].try_into().expect("8 bytes"));
        series.push(ts, value);
    }
    let n = usize::from(head[7] % 4) + 1;
    let built: Vec<Series> = (0..n).map(|_| series.clone()).collect();
    let proto = series.into_proto();
    let copies: Vec<TimeSeries> = (0..n).map(|_| proto.clone()).collect();

    let body = encode_request(&copies);
    // The paths that copy the label bytes a series encoded when it was built (the bench's warm
    // path and the client's requests) write the same bytes as encoding the owned messages.
    let mut encoder = Encoder::new();
    assert!(encoder.encode_series(&built) == body, "the warm path's body differs");
    assert!(Request::new(&built).encode(&mut encoder) == body, "the client's request body differs");
    let raw = snap::raw::Decoder::new().decompress_vec(&body).expect("the body is snappy");
    let decoded = WriteRequest::decode(raw.as_slice()).expect("the body is a WriteRequest");
    assert_eq!(decoded.timeseries.len(), copies.len());
    for (got, sent) in decoded.timeseries.iter().zip(&copies) {
        assert_eq!(got.labels, sent.labels);
        assert_eq!(got.samples.len(), sent.samples.len());
        for (g, s) in got.samples.iter().zip(&sent.samples) {
            // Bit for bit (a staleness NaN keeps its payload), but for -0.0: protobuf 3 writes no
            // field for a zero value of either sign (as prost and Prometheus' Go encoder do), so
            // it arrives as 0.0.
            let same_value = g.value.to_bits() == s.value.to_bits() || (g.value == 0.0 && s.value == 0.0);
            assert!(g.timestamp == s.timestamp && same_value, "{g:?} != {s:?}");
        }
    }

    let total: usize = copies.iter().map(|s| s.samples.len()).sum();
    let cut = batches(copies, limits);
    assert_eq!(cut.iter().map(|b| b.samples()).sum::<usize>(), total, "batching lost or added samples");
    for batch in cut {
        assert!(batch.samples() <= limits.max_samples.max(1), "a batch is over the sample limit");
        let before = batch.samples();
        if let Some((left, right)) = batch.split() {
            assert_eq!(left.samples() + right.samples(), before, "a split lost or added samples");
            assert!(left.samples() > 0 && right.samples() > 0, "a split left an empty half");
        }
    }
});
