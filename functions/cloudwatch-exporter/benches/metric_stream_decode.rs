//! One Firehose delivery of 500 Metric Streams records, from the gzip body to the remote-write
//! request body (protobuf + snappy) the push would send: parse and inflate, base64, decode the
//! records, name and label the series (a metric no job covers: `name="global"`, so no AWS
//! lookup), encode. Both record formats; each record holds one datapoint with p99 besides the
//! four default statistics (six series per record with Average).
//!
//! `cargo bench -p cloudwatch-exporter --bench metric_stream_decode`; the peak heap of one
//! delivery (a counting allocator) is printed once per format before the timings.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

use cloudwatch_exporter::stream::associate::Placement;
use cloudwatch_exporter::stream::firehose::{self, Delivery, Record};
use cloudwatch_exporter::stream::otlp::build::{record, request, Point};
use cloudwatch_exporter::stream::series::{self, Batch};
use cloudwatch_exporter::stream::{decode_record, Datum};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use promstack::remote_write::encode_request;

const RECORDS: usize = 500;

/// The heap in use and its peak since the last reset.
struct Counting;
static IN_USE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let now = IN_USE.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
        PEAK.fetch_max(now, Ordering::Relaxed);
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        IN_USE.fetch_sub(layout.size(), Ordering::Relaxed);
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

fn json_record(i: usize) -> Vec<u8> {
    format!(
        r#"{{"metric_stream_name":"promstack","account_id":"123456789012","region":"eu-west-1","namespace":"AWS/EC2","metric_name":"CPUUtilization","dimensions":{{"InstanceId":"i-{i:017x}"}},"timestamp":1764000000000,"value":{{"count":5.0,"sum":{}.5,"max":90.0,"min":1.0,"p99":88.5}},"unit":"Percent"}}"#,
        i % 400
    )
    .into_bytes()
}

fn otlp_record(i: usize) -> Vec<u8> {
    let instance = format!("i-{i:017x}");
    let dimensions = [("InstanceId", instance.as_str())];
    let point = Point {
        namespace: "AWS/EC2",
        metric_name: "CPUUtilization",
        dimensions: &dimensions,
        end_ms: 1_764_000_000_000,
        sum: (i % 400) as f64 + 0.5,
        count: 5,
        quantiles: &[(0.0, 1.0), (0.99, 88.5), (1.0, 90.0)],
    };
    record(&[request("123456789012", "eu-west-1", &[point])])
}

/// The gzip body of one delivery of `records`.
fn body(records: impl Iterator<Item = Vec<u8>>) -> Vec<u8> {
    let delivery = Delivery {
        request_id: "ed4acda5-034f-9f42-bba1-f29aea6d7d8f".into(),
        timestamp: 1_764_000_060_000,
        records: records.map(|r| Record::new(&r)).collect(),
    };
    firehose::gzip(&serde_json::to_vec(&delivery).unwrap())
}

/// Body to remote-write request body; the number of series.
fn decode_to_push(body: &[u8]) -> (usize, Vec<u8>) {
    let delivery = firehose::parse(body, Some("gzip")).unwrap();
    let mut data: Vec<Datum> = Vec::new();
    for (i, r) in delivery.records.iter().enumerate() {
        let (d, errors) = decode_record(i, &r.bytes().unwrap());
        assert!(errors.is_empty(), "{errors:?}");
        data.extend(d);
    }
    let mut batch = Batch::default();
    for d in &data {
        let labels = series::labels(d, &Placement::Unconfigured, false).unwrap();
        batch.add(d, &labels);
    }
    let series: Vec<_> = batch.into_series().into_iter().map(|s| s.into_proto()).collect();
    (series.len(), encode_request(&series))
}

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("metric_stream_decode");
    group.throughput(Throughput::Elements(RECORDS as u64));
    for (format, body) in
        [("json", body((0..RECORDS).map(json_record))), ("opentelemetry1.0", body((0..RECORDS).map(otlp_record)))]
    {
        let before = IN_USE.load(Ordering::Relaxed);
        PEAK.store(before, Ordering::Relaxed);
        let (series, encoded) = decode_to_push(&body);
        let peak = PEAK.load(Ordering::Relaxed) - before;
        println!(
            "{format}: {RECORDS} records, gzip body {} B, {series} series, remote-write body {} B, peak heap {:.2} MiB",
            body.len(),
            encoded.len(),
            peak as f64 / (1 << 20) as f64
        );
        group.bench_function(format, |b| b.iter(|| decode_to_push(std::hint::black_box(&body))));
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
