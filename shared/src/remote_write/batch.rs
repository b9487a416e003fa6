//! Cuts a push into requests bounded by samples and bytes. Series keep their order, and a series
//! with more samples than fit is continued in the next request, so its samples still arrive in
//! timestamp order. The client cuts [`Piece`]s (labels already encoded); [`batches`] does the same
//! for wire-form series.

use std::collections::HashSet;
use std::sync::Arc;

use bytes::Bytes;

use super::encode::{encoded_len_in_request, piece_len_in_request, Labels};
use super::proto::{Sample, TimeSeries};

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
    cut(series, limits).into_iter().map(|series| Batch { series }).collect()
}

/// A series' part of one request: its labels, encoded once, and some of its samples in order.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Piece {
    pub labels: Arc<Labels>,
    /// `labels`' bytes again, here, so a request reads them without going through the `Arc`.
    pub wire: Bytes,
    pub samples: Vec<Sample>,
}

impl Piece {
    pub(crate) fn new(labels: Arc<Labels>, samples: Vec<Sample>) -> Self {
        Self { wire: labels.bytes().clone(), labels, samples }
    }

    /// A wire-form series, its labels encoded here (the first sight of them).
    pub(crate) fn from_proto(series: TimeSeries) -> Self {
        Self::new(Arc::new(Labels::new(series.labels)), series.samples)
    }

    /// The rest of this series: its labels and `samples`.
    fn with(&self, samples: Vec<Sample>) -> Self {
        Self { labels: Arc::clone(&self.labels), wire: self.wire.clone(), samples }
    }
}

/// One request's worth of pieces.
#[derive(Debug, Clone, PartialEq, Default)]
pub(crate) struct WireBatch {
    pub pieces: Vec<Piece>,
}

/// Cuts `pieces` into requests within `limits`. Empty pieces are left out.
pub(crate) fn cut_pieces(pieces: Vec<Piece>, limits: Limits) -> Vec<WireBatch> {
    cut(pieces, limits).into_iter().map(|pieces| WireBatch { pieces }).collect()
}

/// What [`cut`] needs of a series.
trait Cuttable: Default {
    fn len(&self) -> usize;
    /// Bytes it takes in a request.
    fn bytes(&self) -> usize;
    /// Its first `n` samples, with its labels; it keeps the rest.
    fn take_front(&mut self, n: usize) -> Self;
}

impl Cuttable for TimeSeries {
    fn len(&self) -> usize {
        self.samples.len()
    }
    fn bytes(&self) -> usize {
        encoded_len_in_request(self)
    }
    fn take_front(&mut self, n: usize) -> Self {
        let rest = self.samples.split_off(n);
        TimeSeries { labels: self.labels.clone(), samples: std::mem::replace(&mut self.samples, rest) }
    }
}

impl Default for Piece {
    fn default() -> Self {
        Self::new(Arc::new(Labels::new(Vec::new())), Vec::new())
    }
}

impl Cuttable for Piece {
    fn len(&self) -> usize {
        self.samples.len()
    }
    fn bytes(&self) -> usize {
        piece_len_in_request(&self.labels, &self.samples)
    }
    fn take_front(&mut self, n: usize) -> Self {
        let rest = self.samples.split_off(n);
        let front = std::mem::replace(&mut self.samples, rest);
        self.with(front)
    }
}

fn cut<T: Cuttable>(series: Vec<T>, limits: Limits) -> Vec<Vec<T>> {
    let max_samples = limits.max_samples.max(1);
    let mut out = Vec::new();
    let mut current = Vec::new();
    let (mut samples, mut bytes) = (0usize, 0usize);

    for mut ts in series {
        while ts.len() > 0 {
            let room = max_samples - samples;
            let take = ts.len().min(room);
            let piece = if take == ts.len() { std::mem::take(&mut ts) } else { ts.take_front(take) };
            let len = piece.bytes();
            if !current.is_empty() && bytes + len > limits.max_bytes {
                out.push(std::mem::take(&mut current));
                samples = 0;
                bytes = 0;
            }
            samples += piece.len();
            bytes += len;
            current.push(piece);
            if samples >= max_samples {
                out.push(std::mem::take(&mut current));
                samples = 0;
                bytes = 0;
            }
        }
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
}

impl WireBatch {
    pub(crate) fn samples(&self) -> usize {
        self.pieces.iter().map(|p| p.samples.len()).sum()
    }

    /// Halves by series, or, for a single series, by samples (the older half first). `None` for
    /// one sample.
    pub(crate) fn split(self) -> Option<(WireBatch, WireBatch)> {
        let mut pieces = self.pieces;
        if pieces.len() > 1 {
            let right = pieces.split_off(pieces.len() / 2);
            return Some((WireBatch { pieces }, WireBatch { pieces: right }));
        }
        let mut only = pieces.pop()?;
        if only.samples.len() < 2 {
            return None;
        }
        let right = only.samples.split_off(only.samples.len() / 2);
        let right = only.with(right);
        Some((WireBatch { pieces: vec![only] }, WireBatch { pieces: vec![right] }))
    }

    /// Up to `parts` batches of whole series, in order, as even in series as they can be.
    pub(crate) fn split_series(self, parts: usize) -> Vec<WireBatch> {
        let parts = parts.clamp(1, self.pieces.len().max(1));
        let (len, mut rest) = (self.pieces.len(), self.pieces.into_iter());
        (0..parts)
            .map(|i| WireBatch { pieces: rest.by_ref().take((i + 1) * len / parts - i * len / parts).collect() })
            .collect()
    }

    /// The oldest and newest timestamps, `None` when empty.
    pub(crate) fn time_range(&self) -> Option<(i64, i64)> {
        let mut samples = self.pieces.iter().flat_map(|s| s.samples.iter().map(|p| p.timestamp));
        let first = samples.next()?;
        Some(samples.fold((first, first), |(lo, hi), t| (lo.min(t), hi.max(t))))
    }

    /// A timestamp that cuts the samples in two non-empty parts (`< cut` and `>= cut`) as even as
    /// the timestamps allow; `None` when every sample has one timestamp.
    pub(crate) fn time_cut(&self) -> Option<i64> {
        let mut times: Vec<i64> = self.pieces.iter().flat_map(|s| s.samples.iter().map(|p| p.timestamp)).collect();
        times.sort_unstable();
        let (oldest, middle) = (*times.first()?, times[times.len() / 2]);
        if middle > oldest {
            return Some(middle);
        }
        times.into_iter().find(|&t| t > oldest)
    }

    /// The samples older than `cut`, and the others; each series keeps its place in both.
    pub(crate) fn split_at_time(self, cut: i64) -> (WireBatch, WireBatch) {
        let (mut older, mut newer) = (WireBatch::default(), WireBatch::default());
        for mut ts in self.pieces {
            // Samples are in timestamp order within a series.
            let at = ts.samples.partition_point(|p| p.timestamp < cut);
            let later = ts.samples.split_off(at);
            if !later.is_empty() {
                newer.pieces.push(ts.with(later));
            }
            if !ts.samples.is_empty() {
                older.pieces.push(ts);
            }
        }
        (older, newer)
    }

    /// Whether a series has samples in both batches: then landing `newer` before `older` would make
    /// the older samples of that series out of order.
    pub(crate) fn shares_series_with(&self, newer: &WireBatch) -> bool {
        // Equal label sets encode to equal bytes.
        let labels: HashSet<&[u8]> = self.pieces.iter().map(|p| &p.wire[..]).collect();
        newer.pieces.iter().any(|p| labels.contains(&p.wire[..]))
    }
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

    #[test]
    fn pieces_are_cut_as_series_are() {
        let input: Vec<TimeSeries> = (0..50).map(|i| ts(&format!("series_{i:02}"), i % 7)).collect();
        for limits in [Limits { max_samples: 5, max_bytes: usize::MAX }, Limits { max_samples: 1000, max_bytes: 200 }] {
            let pieces = input.iter().cloned().map(Piece::from_proto).collect();
            let ours: Vec<Vec<(String, Vec<Sample>)>> = cut_pieces(pieces, limits)
                .iter()
                .map(|b| b.pieces.iter().map(|p| (p.labels.list()[0].value.clone(), p.samples.clone())).collect())
                .collect();
            let theirs: Vec<Vec<(String, Vec<Sample>)>> = batches(input.clone(), limits)
                .iter()
                .map(|b| b.series.iter().map(|s| (s.labels[0].value.clone(), s.samples.clone())).collect())
                .collect();
            assert_eq!(ours, theirs, "{limits:?}");
        }
    }
}
