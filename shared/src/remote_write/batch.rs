//! Cuts a push into requests bounded by samples and bytes. Series keep their order, and a series
//! with more samples than fit is continued in the next request, so its samples still arrive in
//! timestamp order.

use super::encode::encoded_len_in_request;
use super::proto::TimeSeries;

/// Upper bounds for one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Samples per request (Prometheus' own remote-write queue sends at most 2,000 by default).
    pub max_samples: usize,
    /// Uncompressed protobuf bytes per request.
    pub max_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self { max_samples: 2_000, max_bytes: 4 << 20 }
    }
}

/// One request's worth of series.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Batch {
    pub series: Vec<TimeSeries>,
}

impl Batch {
    pub fn samples(&self) -> usize {
        self.series.iter().map(|s| s.samples.len()).sum()
    }

    /// Splits in two halves by series, or, for a single series, by samples. `None` when the
    /// batch is one sample and cannot be split further.
    pub fn split(self) -> Option<(Batch, Batch)> {
        let mut series = self.series;
        if series.len() > 1 {
            let right = series.split_off(series.len() / 2);
            return Some((Batch { series }, Batch { series: right }));
        }
        let mut only = series.pop()?;
        if only.samples.len() < 2 {
            return None;
        }
        let right_samples = only.samples.split_off(only.samples.len() / 2);
        let right = TimeSeries { labels: only.labels.clone(), samples: right_samples };
        Some((Batch { series: vec![only] }, Batch { series: vec![right] }))
    }
}

/// Cuts `series` into batches within `limits`. Empty series are left out.
pub fn batches(series: Vec<TimeSeries>, limits: Limits) -> Vec<Batch> {
    let max_samples = limits.max_samples.max(1);
    let mut out = Vec::new();
    let mut current = Batch::default();
    let (mut samples, mut bytes) = (0usize, 0usize);

    for mut ts in series {
        while !ts.samples.is_empty() {
            let room = max_samples - samples;
            let take = ts.samples.len().min(room);
            let piece = if take == ts.samples.len() {
                std::mem::take(&mut ts)
            } else {
                let rest = ts.samples.split_off(take);
                let head = TimeSeries { labels: ts.labels.clone(), samples: std::mem::take(&mut ts.samples) };
                ts.samples = rest;
                head
            };
            let len = encoded_len_in_request(&piece);
            if !current.series.is_empty() && bytes + len > limits.max_bytes {
                out.push(std::mem::take(&mut current));
                samples = 0;
                bytes = 0;
            }
            samples += piece.samples.len();
            bytes += len;
            current.series.push(piece);
            if samples >= max_samples {
                out.push(std::mem::take(&mut current));
                samples = 0;
                bytes = 0;
            }
        }
    }
    if !current.series.is_empty() {
        out.push(current);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::proto::{Label, Sample};
    use super::*;

    fn ts(name: &str, n: usize) -> TimeSeries {
        TimeSeries {
            labels: vec![Label { name: "__name__".into(), value: name.into() }],
            samples: (0..n).map(|i| Sample { value: i as f64, timestamp: i as i64 }).collect(),
        }
    }

    #[test]
    fn respects_sample_limit_and_keeps_series_order() {
        let input = vec![ts("a", 3), ts("b", 4), ts("c", 1), ts("d", 0)];
        let out = batches(input, Limits { max_samples: 5, max_bytes: usize::MAX });
        let shape: Vec<Vec<(String, usize)>> = out
            .iter()
            .map(|b| b.series.iter().map(|s| (s.labels[0].value.clone(), s.samples.len())).collect())
            .collect();
        assert_eq!(
            shape,
            vec![vec![("a".to_string(), 3), ("b".to_string(), 2)], vec![("b".to_string(), 2), ("c".to_string(), 1)],]
        );
        // b's samples stay in order across the two requests.
        assert_eq!(out[0].series[1].samples.last().unwrap().timestamp, 1);
        assert_eq!(out[1].series[0].samples[0].timestamp, 2);
    }

    #[test]
    fn respects_byte_limit() {
        let input: Vec<TimeSeries> = (0..100).map(|i| ts(&format!("series_{i:03}"), 1)).collect();
        let one = encoded_len_in_request(&input[0]);
        let out = batches(input, Limits { max_samples: 1000, max_bytes: one * 10 });
        assert_eq!(out.len(), 10);
        assert!(out.iter().all(|b| b.series.len() == 10));
    }

    #[test]
    fn split_goes_down_to_single_samples() {
        let b = Batch { series: vec![ts("a", 1), ts("b", 3)] };
        let (l, r) = b.split().unwrap();
        assert_eq!((l.series.len(), r.series.len()), (1, 1));
        assert!(l.split().is_none(), "one series with one sample cannot split");
        let (rl, rr) = r.split().unwrap();
        assert_eq!((rl.samples(), rr.samples()), (1, 2));
        assert_eq!(rr.series[0].labels, rl.series[0].labels);
    }
}
