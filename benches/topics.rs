//! `cargo bench --bench topics`: set, patch and snapshot on a small and a
//! 1 MB topic, with no subscribers and with 8 Rust subscribers that wake and
//! read every change.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, BatchSize, Criterion};
use serde_json::{json, Value};
use tauri::test::{mock_builder, mock_context, noop_assets, MockRuntime};
use tauri_plugin_state_sync::{Builder, StateSync, StateSyncExt};

fn small() -> Value {
    json!({"theme": "dark", "lang": "en", "zoom": 1, "flag": false})
}

/// About 1 MB of JSON: 10,000 todo items and a flag.
fn large() -> Value {
    let items: Vec<Value> = (0..10_000)
        .map(|i| json!({"id": i, "title": format!("todo item number {i:>6} with some padding text"), "done": i % 3 == 0, "tags": ["work", "home"]}))
        .collect();
    json!({"items": items, "flag": false})
}

fn app(initial: Value, subscribers: usize) -> (tauri::App<MockRuntime>, StateSync<MockRuntime>) {
    let app = mock_builder()
        .plugin(Builder::new().topic("t", initial).build())
        .build(mock_context(noop_assets()))
        .expect("mock app");
    let sync = app.state_sync().clone();
    for _ in 0..subscribers {
        let mut rx = sync.subscribe("t").unwrap();
        tauri::async_runtime::spawn(async move {
            while rx.changed().await.is_ok() {
                black_box(rx.borrow_and_update().revision);
            }
        });
    }
    (app, sync)
}

fn bench(c: &mut Criterion) {
    let big = large();
    eprintln!("large value: {} bytes of JSON", serde_json::to_vec(&big).unwrap().len());
    for (size, value) in [("small", small()), ("1MB", big)] {
        for subscribers in [0, 8] {
            let (_app, sync) = app(value.clone(), subscribers);
            let mut group = c.benchmark_group(format!("{size}/{subscribers}-subscribers"));
            if size == "1MB" {
                group.sample_size(20);
            }

            let mut flip = false;
            group.bench_function("set", |b| {
                b.iter_batched(
                    || {
                        flip = !flip;
                        let mut next = value.clone();
                        next["flag"] = json!(flip);
                        next
                    },
                    |next| sync.set("t", next).unwrap(),
                    BatchSize::LargeInput,
                )
            });

            let mut n = 0u64;
            group.bench_function("patch", |b| {
                b.iter(|| {
                    n += 1;
                    sync.patch("t", json!({"flag": n})).unwrap()
                })
            });

            group.bench_function("snapshot", |b| {
                b.iter(|| serde_json::to_vec(&sync.get("t").unwrap()).unwrap())
            });
            group.finish();
        }
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
