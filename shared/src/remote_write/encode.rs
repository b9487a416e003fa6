//! Request bodies and headers: a `WriteRequest` encoded straight from the series (no copy into an
//! owned message) and compressed with snappy's block format, as the spec requires.
//!
//! A series' labels are the bulk of a body (about 230 of the 250 bytes of a one-sample exporter
//! series) and never change, so a [`Series`] encodes them once, when it is built ([`Labels`]), and
//! every request that carries it (each batch, replica, retry and split part) copies those bytes and
//! encodes only the samples. Walking a million separately allocated label strings per request was
//! what made the encoder several times slower than snappy alone.

use std::cell::RefCell;

use bytes::{Bytes, BytesMut};
use prost::encoding::{encode_varint, encoded_len_varint};
use prost::Message;

use super::batch::Piece;
use super::proto::{Label, Sample, TimeSeries};
use super::series::Series;

/// The headers Remote-Write 1.0 requires on every request.
pub mod headers {
    pub const CONTENT_ENCODING: (&str, &str) = ("content-encoding", "snappy");
    pub const CONTENT_TYPE: (&str, &str) = ("content-type", "application/x-protobuf");
    pub const VERSION: (&str, &str) = ("x-prometheus-remote-write-version", "0.1.0");
    pub const USER_AGENT: &str = concat!("promstack/", env!("CARGO_PKG_VERSION"));
}

/// Field number of `WriteRequest.timeseries`.
const TIMESERIES_TAG: u32 = 1;
/// Keys (field number and wire type) of the fields written by hand below, as prost writes them.
const TIMESERIES_KEY: u8 = 0x0a; // WriteRequest.timeseries, length-delimited
const SAMPLE_KEY: u8 = 0x12; // TimeSeries.samples, length-delimited
const VALUE_KEY: u8 = 0x09; // Sample.value, 64-bit
const TIMESTAMP_KEY: u8 = 0x10; // Sample.timestamp, varint
/// Field number of `TimeSeries.labels`.
const LABELS_TAG: u32 = 1;

/// A label set and its wire form (the `labels` fields of a `TimeSeries`), encoded once.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct Labels {
    list: Vec<Label>,
    bytes: Bytes,
}

/// Label bytes are written one after another into chunks of this size (a thread's own), so a
/// request built from series in the order they were made reads them as one stream, not from a
/// separate allocation per series; reading scattered label bytes cost more than snappy itself.
/// A chunk is freed with the last series whose labels are in it, and each thread keeps the one it
/// writes into: what stays allocated is bounded by the series alive, so churn needs no eviction.
const LABEL_CHUNK: usize = 256 << 10;

thread_local! {
    static LABEL_ARENA: RefCell<BytesMut> = RefCell::new(BytesMut::new());
}

impl Labels {
    /// Encodes `list` (sorted by name, as a series sends it).
    pub(crate) fn new(list: Vec<Label>) -> Self {
        let len: usize = list.iter().map(|l| 1 + encoded_len_varint(l.encoded_len() as u64) + l.encoded_len()).sum();
        let bytes = LABEL_ARENA.with(|arena| {
            let mut arena = arena.borrow_mut();
            if arena.capacity() - arena.len() < len {
                *arena = BytesMut::with_capacity(LABEL_CHUNK.max(len));
            }
            for label in &list {
                prost::encoding::message::encode(LABELS_TAG, label, &mut *arena);
            }
            arena.split().freeze()
        });
        Self { list, bytes }
    }

    pub(crate) fn list(&self) -> &[Label] {
        &self.list
    }

    /// The encoded `labels` fields; equal label sets have equal bytes.
    pub(crate) fn bytes(&self) -> &Bytes {
        &self.bytes
    }

    pub(crate) fn into_list(self) -> Vec<Label> {
        self.list
    }
}

/// Snappy compresses its input in independent blocks of 64 KiB (`snap`'s `MAX_BLOCK_SIZE`): a body
/// is the varint of the whole length, then each block's elements. So the protobuf is written one
/// block at a time into a buffer that stays in cache and each block is compressed as soon as it is
/// full, instead of writing the whole protobuf out to memory and reading it back; the bytes are
/// the same as compressing the whole protobuf at once (a test compares them).
const SNAPPY_BLOCK: usize = 1 << 16;
/// Room kept at the start of the compressed buffer for the length varint (at most 5 bytes below
/// snappy's 4 GiB limit), which is known only at the end.
const HEADER_ROOM: usize = 5;
/// The most bytes one `TimeSeries.samples` field takes: key, length, value field (9), timestamp
/// field (11).
const MAX_SAMPLE_LEN: usize = 22;

/// Encodes and compresses request bodies, reusing its buffers between calls.
pub struct Encoder {
    /// The whole protobuf ([`Encoder::encode_proto`]), or the block being written from owned
    /// messages ([`Encoder::encode`]).
    proto: Vec<u8>,
    /// The block being written from encoded labels: kept zeroed-once and written at `pos`, so a
    /// series is a few slice copies, with no growth check or zeroing per write (those cost as much
    /// as the copying on one-sample series).
    scratch: Vec<u8>,
    pos: usize,
    out: Compressed,
}

/// The compressed body so far.
struct Compressed {
    /// Kept between requests: zeroing and faulting in a fresh buffer of snappy's worst-case size
    /// for every request cost more than the compression itself (see the bench).
    bytes: Vec<u8>,
    /// Compressed bytes so far (after [`HEADER_ROOM`]) and uncompressed bytes they hold.
    end: usize,
    total: usize,
    snappy: snap::raw::Encoder,
}

impl Default for Encoder {
    fn default() -> Self {
        Self::new()
    }
}

impl Encoder {
    pub fn new() -> Self {
        Self {
            proto: Vec::new(),
            scratch: Vec::new(),
            pos: 0,
            out: Compressed { bytes: Vec::new(), end: HEADER_ROOM, total: 0, snappy: snap::raw::Encoder::new() },
        }
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

    /// The request body: protobuf, then snappy block compression. Encodes every label (the
    /// first sight of them); [`Encoder::encode_series`] reuses the labels a [`Series`] encoded.
    pub fn encode(&mut self, series: &[TimeSeries]) -> Vec<u8> {
        self.out.begin();
        self.proto.clear();
        self.proto.reserve(2 * SNAPPY_BLOCK);
        for s in series {
            prost::encoding::message::encode(TIMESERIES_TAG, s, &mut self.proto);
            if self.proto.len() >= SNAPPY_BLOCK {
                let full = self.out.compress_full_blocks(&self.proto);
                self.proto.drain(..full);
            }
        }
        self.out.compress_blocks(&self.proto);
        self.proto.clear();
        self.out.finish()
    }

    /// The request body for `series`, copying the label bytes each encoded when it was built.
    pub fn encode_series(&mut self, series: &[Series]) -> Vec<u8> {
        self.begin();
        for group in series.chunks(TOUCH_AHEAD) {
            touch(group.iter().map(Series::unsorted_samples));
            for s in group {
                self.put_series(s.label_bytes(), &s.wire_samples());
            }
        }
        self.finish()
    }

    /// The request body for `pieces` (the client's batches).
    pub(crate) fn encode_pieces(&mut self, pieces: &[Piece]) -> Vec<u8> {
        self.begin();
        for group in pieces.chunks(TOUCH_AHEAD) {
            touch(group.iter().map(|p| &p.samples[..]));
            for p in group {
                self.put_series(&p.wire, &p.samples);
            }
        }
        self.finish()
    }

    fn begin(&mut self) {
        self.out.begin();
        self.pos = 0;
        if self.scratch.len() < 2 * SNAPPY_BLOCK {
            self.scratch.resize(2 * SNAPPY_BLOCK, 0);
        }
    }

    /// One `WriteRequest.timeseries` field at `pos`, byte for byte what prost writes for the owned
    /// message; then the full blocks are compressed and what is left moves to the start.
    fn put_series(&mut self, labels: &[u8], samples: &[Sample]) {
        // The length prefix is written last, in the room its largest possible value needs.
        let most = labels.len() + samples.len() * MAX_SAMPLE_LEN;
        let room = encoded_len_varint(most as u64);
        if self.pos + 1 + room + most > self.scratch.len() {
            // Only a series bigger than a block gets here (say thousands of samples).
            self.scratch.resize(self.pos + 1 + room + most, 0);
        }
        let out = &mut self.scratch[self.pos..];
        let body_at = 1 + room;
        let mut end = body_at + labels.len();
        out[body_at..end].copy_from_slice(labels);
        for s in samples {
            end += write_sample(&mut out[end..], s);
        }
        let body = end - body_at;
        let prefix = encoded_len_varint(body as u64);
        if prefix < room {
            out.copy_within(body_at..end, 1 + prefix);
            end -= room - prefix;
        }
        out[0] = TIMESERIES_KEY;
        write_varint(body as u64, &mut out[1..]);
        self.pos += end;
        if self.pos >= SNAPPY_BLOCK {
            let full = self.out.compress_full_blocks(&self.scratch[..self.pos]);
            self.scratch.copy_within(full..self.pos, 0);
            self.pos -= full;
        }
    }

    fn finish(&mut self) -> Vec<u8> {
        self.out.compress_blocks(&self.scratch[..self.pos]);
        self.pos = 0;
        self.out.finish()
    }
}

impl Compressed {
    fn begin(&mut self) {
        self.end = HEADER_ROOM;
        self.total = 0;
    }

    /// Compresses the whole blocks at the start of `proto`; returns how many bytes they were (the
    /// rest waits for more bytes to fill its block).
    fn compress_full_blocks(&mut self, proto: &[u8]) -> usize {
        let full = proto.len() / SNAPPY_BLOCK * SNAPPY_BLOCK;
        self.compress_blocks(&proto[..full]);
        full
    }

    /// Compresses `proto` as blocks of [`SNAPPY_BLOCK`] (the last one may be shorter).
    fn compress_blocks(&mut self, proto: &[u8]) {
        for block in proto.chunks(SNAPPY_BLOCK) {
            self.compress_block(block);
        }
    }

    /// Compresses `block` as one snappy block and appends its elements.
    fn compress_block(&mut self, block: &[u8]) {
        // `compress` writes the block's own length varint first: it goes over the last bytes
        // written so far, which are put back after.
        let header = encoded_len_varint(block.len() as u64);
        let at = self.end - header;
        let needed = at + snap::raw::max_compress_len(block.len());
        if self.bytes.len() < needed {
            self.bytes.resize(needed.max(2 * self.bytes.len()), 0);
        }
        let mut kept = [0u8; 3];
        kept[..header].copy_from_slice(&self.bytes[at..self.end]);
        let n = self
            .snappy
            .compress(block, &mut self.bytes[at..])
            .expect("the output buffer has snappy's maximum compressed length");
        self.bytes[at..self.end].copy_from_slice(&kept[..header]);
        self.end = at + n;
        self.total += block.len();
    }

    /// The body: the whole length's varint, then every block's elements.
    fn finish(&mut self) -> Vec<u8> {
        if self.total == 0 {
            return vec![0];
        }
        let mut header = Vec::with_capacity(HEADER_ROOM);
        encode_varint(self.total as u64, &mut header);
        let start = HEADER_ROOM - header.len();
        self.bytes[start..HEADER_ROOM].copy_from_slice(&header);
        self.bytes[start..self.end].to_vec()
    }
}

/// Encodes and compresses one request body (see [`Encoder`] to reuse buffers).
pub fn encode_request(series: &[TimeSeries]) -> Vec<u8> {
    Encoder::new().encode(series)
}

/// Bytes that `series` takes inside a `WriteRequest` (tag, length prefix and message).
pub(crate) fn encoded_len_in_request(series: &TimeSeries) -> usize {
    let len = series.encoded_len();
    1 + encoded_len_varint(len as u64) + len
}

/// Bytes that a series of `labels` and `samples` takes inside a `WriteRequest`.
pub(crate) fn piece_len_in_request(labels: &Labels, samples: &[Sample]) -> usize {
    let len = series_len(labels.bytes(), samples);
    1 + encoded_len_varint(len as u64) + len
}

fn series_len(labels: &[u8], samples: &[Sample]) -> usize {
    labels.len() + samples.iter().map(|s| 2 + sample_len(s)).sum::<usize>()
}

/// A `Sample` message's length, proto3 defaults left out as prost leaves them out (`-0.0 == 0.0`).
fn sample_len(s: &Sample) -> usize {
    let value = if s.value != 0.0 { 9 } else { 0 };
    let timestamp = if s.timestamp != 0 { 1 + encoded_len_varint(s.timestamp as u64) } else { 0 };
    value + timestamp
}

/// Series whose samples are read ahead together, see [`touch`].
const TOUCH_AHEAD: usize = 8;

/// Reads the first and last sample of each series before any is written. Each series' samples
/// have an allocation of their own, usually not in cache: read this way the misses overlap,
/// instead of each stalling the writing of its series in turn. Plain reads, so it works the same
/// on every architecture.
fn touch<'a>(samples: impl Iterator<Item = &'a [Sample]>) {
    let mut seen = 0i64;
    for s in samples {
        if let (Some(first), Some(last)) = (s.first(), s.last()) {
            seen ^= first.timestamp ^ last.timestamp;
        }
    }
    std::hint::black_box(seen);
}

/// One `TimeSeries.samples` field at the start of `out`; returns its length.
#[inline]
fn write_sample(out: &mut [u8], s: &Sample) -> usize {
    out[0] = SAMPLE_KEY;
    let mut n = 2;
    if s.value != 0.0 {
        out[n] = VALUE_KEY;
        out[n + 1..n + 9].copy_from_slice(&s.value.to_le_bytes());
        n += 9;
    }
    if s.timestamp != 0 {
        out[n] = TIMESTAMP_KEY;
        n += 1 + write_varint(s.timestamp as u64, &mut out[n + 1..]);
    }
    // At most 9 + 11 bytes: the length is one byte.
    out[1] = (n - 2) as u8;
    n
}

#[inline]
fn write_varint(mut value: u64, out: &mut [u8]) -> usize {
    let mut n = 0;
    while value >= 0x80 {
        out[n] = value as u8 | 0x80;
        value >>= 7;
        n += 1;
    }
    out[n] = value as u8;
    n + 1
}

#[cfg(test)]
mod tests {
    use super::super::proto::WriteRequest;
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

    /// The body from labels encoded once is byte for byte the body from the owned message, on
    /// the wire format's edges too.
    #[test]
    fn encoded_labels_give_byte_identical_bodies() {
        let long = "x".repeat(300);
        let mut input = series(300);
        input.push(TimeSeries {
            labels: vec![
                Label { name: "__name__".into(), value: long.clone() },
                Label { name: "k".into(), value: "v".into() },
            ],
            samples: vec![
                Sample { value: 0.0, timestamp: 0 },
                Sample { value: -0.0, timestamp: -1 },
                Sample { value: f64::NAN, timestamp: i64::MAX },
                Sample { value: f64::INFINITY, timestamp: i64::MIN },
                Sample { value: 1.5, timestamp: 127 },
                Sample { value: -2.0, timestamp: 128 },
            ],
        });
        input.push(TimeSeries {
            labels: (0..40).map(|i| Label { name: format!("l{i:02}"), value: long.clone() }).collect(),
            samples: (0..50).map(|k| Sample { value: k as f64, timestamp: 1_700_000_000_000 + k * 60_000 }).collect(),
        });
        let owned = WriteRequest { timeseries: input.clone() }.encode_to_vec();
        let mut enc = Encoder::new();
        let pieces: Vec<Piece> = input.iter().cloned().map(Piece::from_proto).collect();
        let body = enc.encode_pieces(&pieces);
        assert_eq!(snap::raw::Decoder::new().decompress_vec(&body).unwrap(), owned);
        assert_eq!(body, enc.encode(&input), "the same compressed bytes as the first-sight path");
        let lengths: usize = pieces.iter().map(|p| piece_len_in_request(&p.labels, &p.samples)).sum();
        assert_eq!(lengths, owned.len());

        // Through `Series`: built once, its labels encoded at construction.
        let built: Vec<Series> = input[..300]
            .iter()
            .map(|ts| {
                let mut s = Series::from_labels(ts.labels.clone()).unwrap();
                for p in ts.samples.iter().rev() {
                    s.push(p.timestamp, p.value); // out of order: sent sorted all the same
                }
                s
            })
            .collect();
        assert_eq!(enc.encode_series(&built), enc.encode(&input[..300]));
    }

    /// The length prefix is written in the room the largest possible body needs, then moved up
    /// when the body came out shorter: around the one- and two-byte varint edges (127/128 and
    /// 16383/16384 bytes) the bodies are still prost's, byte for byte.
    #[test]
    fn series_lengths_around_the_varint_edges_match_prost() {
        let mut enc = Encoder::new();
        for (lo, hi) in [(60, 140), (16_250, 16_400)] {
            for len in lo..hi {
                for samples in 0..4i64 {
                    let input = vec![TimeSeries {
                        labels: vec![Label { name: "__name__".into(), value: "v".repeat(len) }],
                        samples: (0..samples).map(|k| Sample { value: k as f64, timestamp: k * 1_000 }).collect(),
                    }];
                    let owned = WriteRequest { timeseries: input.clone() }.encode_to_vec();
                    let pieces: Vec<Piece> = input.into_iter().map(Piece::from_proto).collect();
                    let body = enc.encode_pieces(&pieces);
                    assert_eq!(snap::raw::Decoder::new().decompress_vec(&body).unwrap(), owned, "{len} {samples}");
                }
            }
        }
    }

    /// Written and compressed block by block, a body is the one-shot compression of the whole
    /// protobuf, across 64 KiB boundaries and for an empty request too.
    #[test]
    fn block_by_block_bodies_match_one_shot_compression() {
        let mut enc = Encoder::new();
        for n in [0, 1, 2, 1_000, 2_184, 2_185, 7_000, 20_000] {
            let input = series(n);
            let owned = WriteRequest { timeseries: input.clone() }.encode_to_vec();
            let one_shot = snap::raw::Encoder::new().compress_vec(&owned).unwrap();
            assert_eq!(enc.encode(&input), one_shot, "{n} series, {} bytes", owned.len());
            let pieces: Vec<Piece> = input.into_iter().map(Piece::from_proto).collect();
            assert_eq!(enc.encode_pieces(&pieces), one_shot, "{n} pieces");
        }
    }
}
