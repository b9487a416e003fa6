//! Remote-write request bodies: promstack's encoder (protobuf straight from the series, then snappy)
//! beside `prometheus_remote_write` (a published encoder) and beside snappy alone on the same
//! protobuf bytes, which no encoder can beat. Two shapes: many samples per series (a backfill) and
//! one sample per series (an exporter run). promstack's encoder three times: warm (series built
//! before, their labels encoded then: every request after a series' first), the client's request
//! (the same series as the client holds them for a request, cut into pieces once per push) and
//! cold (labels encoded from their strings in the request: the first sight of them).
//!
//! `cargo bench -p promstack-shared --bench remote_write_encode`; the bytes per sample are printed
//! once per shape before the timings.

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use prometheus_remote_write as published;
use promstack::remote_write::proto::{Label, Sample, TimeSeries};
use promstack::remote_write::{Encoder, Series};

/// Series shaped like the exporter's: a CloudWatch metric name and YACE's labels, sorted.
fn shape(series: usize, samples: usize) -> Vec<TimeSeries> {
    let start = 1_764_000_000_000i64;
    (0..series)
        .map(|i| {
            let mut labels = vec![
                Label { name: "__name__".into(), value: "aws_ec2_cpuutilization_average".into() },
                Label { name: "account_id".into(), value: "123456789012".into() },
                Label { name: "dimension_InstanceId".into(), value: format!("i-{:017x}", i * 7919) },
                Label { name: "job".into(), value: "cloudwatch".into() },
                Label {
                    name: "name".into(),
                    value: format!("arn:aws:ec2:eu-west-1:123456789012:instance/i-{:017x}", i * 7919),
                },
                Label { name: "region".into(), value: "eu-west-1".into() },
            ];
            labels.sort_by(|a, b| a.name.cmp(&b.name));
            let samples = (0..samples)
                .map(|k| Sample {
                    value: ((i * 31 + k * 17) % 1000) as f64 / 10.0,
                    timestamp: start + k as i64 * 60_000,
                })
                .collect();
            TimeSeries { labels, samples }
        })
        .collect()
}

fn to_published(series: &[TimeSeries]) -> published::WriteRequest {
    published::WriteRequest {
        timeseries: series
            .iter()
            .map(|s| published::TimeSeries {
                labels: s
                    .labels
                    .iter()
                    .map(|l| published::Label { name: l.name.clone(), value: l.value.clone() })
                    .collect(),
                samples: s
                    .samples
                    .iter()
                    .map(|p| published::Sample { value: p.value, timestamp: p.timestamp })
                    .collect(),
            })
            .collect(),
    }
}

fn bench_shape(c: &mut Criterion, name: &str, series: usize, samples: usize) {
    let input = shape(series, samples);
    let total = (series * samples) as u64;
    let built: Vec<Series> = input
        .iter()
        .map(|ts| {
            let mut s = Series::from_labels(ts.labels.clone()).unwrap();
            ts.samples.iter().for_each(|p| _ = s.push(p.timestamp, p.value));
            s
        })
        .collect();
    let mut encoder = Encoder::new();
    let proto = encoder.encode_proto(&input).to_vec();
    let body = encoder.encode(&input);
    assert_eq!(encoder.encode_series(&built), body, "warm and cold bodies are byte-identical");
    let theirs = to_published(&input).encode_compressed().unwrap();
    println!(
        "{name}: {total} samples, protobuf {:.1} B/sample, snappy body {:.1} B/sample \
         (promstack) / {:.1} B/sample (prometheus_remote_write)",
        proto.len() as f64 / total as f64,
        body.len() as f64 / total as f64,
        theirs.len() as f64 / total as f64,
    );

    let mut group = c.benchmark_group(name);
    group.throughput(Throughput::Elements(total));
    group.sample_size(20);
    group.bench_function("promstack warm encode+compress", |b| b.iter(|| encoder.encode_series(&built)));
    let request = promstack::remote_write::bench::Request::new(&built);
    assert_eq!(request.encode(&mut encoder), body, "the client's request path gives the same body");
    group.bench_function("promstack client request encode+compress", |b| b.iter(|| request.encode(&mut encoder)));
    group.bench_function("promstack cold encode+compress", |b| b.iter(|| encoder.encode(&input)));
    let request = to_published(&input);
    group.bench_function("prometheus_remote_write encode_compressed", |b| {
        // It takes the request by value; the clone is setup, not measured.
        b.iter_batched(|| request.clone(), |r| r.encode_compressed().unwrap(), BatchSize::LargeInput)
    });
    let mut snappy = snap::raw::Encoder::new();
    let mut out = vec![0; snap::raw::max_compress_len(proto.len())];
    group.bench_function("snappy alone (floor)", |b| b.iter(|| snappy.compress(&proto, &mut out).unwrap()));
    group.finish();
}

fn remote_write_encode(c: &mut Criterion) {
    bench_shape(c, "10k_series_x_10_samples", 10_000, 10);
    bench_shape(c, "100k_series_x_1_sample", 100_000, 1);
}

criterion_group!(benches, remote_write_encode);
criterion_main!(benches);
