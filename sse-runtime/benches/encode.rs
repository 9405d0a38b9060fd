//! Micro-benchmarks for encoding one event: `cargo bench -p sse-runtime --bench encode`.

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use sse_runtime::{Encoder, Event};

fn encode(c: &mut Criterion) {
    let mut group = c.benchmark_group("encode");
    for size in [64, 1024, 16 * 1024] {
        let data = "x".repeat(size);
        group.throughput(Throughput::Bytes(size as u64));
        let plain = Event::new().data(data.clone());
        group.bench_function(format!("data only, {size} B"), |b| {
            let mut encoder = Encoder::new();
            b.iter(|| black_box(encoder.encode(black_box(&plain)).unwrap()));
        });
        let full = Event::new()
            .event("update")
            .id("1700000000000-42")
            .retry(Duration::from_secs(3))
            .data(data.clone());
        group.bench_function(format!("all fields, {size} B"), |b| {
            let mut encoder = Encoder::new();
            b.iter(|| black_box(encoder.encode(black_box(&full)).unwrap()));
        });
    }
    // Line breaks make the encoder split data into several `data:` lines.
    let lines = "line of text\n".repeat(64);
    group.throughput(Throughput::Bytes(lines.len() as u64));

    let multi = Event::new().data(lines);
    group.bench_function("64 data lines", |b| {
        let mut encoder = Encoder::new();
        b.iter(|| black_box(encoder.encode(black_box(&multi)).unwrap()));
    });
    group.finish();
}

criterion_group!(benches, encode);
criterion_main!(benches);
