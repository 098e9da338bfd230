//! `cargo bench --bench topics`: set, patch and snapshot on a small and a
//! 1 MB topic, with no subscribers and with 8 Rust subscribers that wake and
//! read every change; the same writes with the change history off; `since`
//! pulls answered from the history; and a `patch` of a typed 1 MB topic.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, measurement::WallTime, BatchSize, BenchmarkGroup, Criterion};
use serde_json::{json, Value};
use tauri::test::{mock_builder, mock_context, noop_assets, MockRuntime};
use tauri_plugin_state_sync::{Builder, HistoryLimits, Revision, StateSync, StateSyncExt};

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

/// About 400 bytes of JSON: twenty short keys.
fn medium() -> Value {
    Value::Object((0..20).map(|i| (format!("key{i:02}"), json!(format!("value {i}")))).collect())
}

fn app(initial: Value, subscribers: usize) -> (tauri::App<MockRuntime>, StateSync<MockRuntime>) {
    app_with(Builder::new(), initial, subscribers)
}

fn app_with(builder: Builder, initial: Value, subscribers: usize) -> (tauri::App<MockRuntime>, StateSync<MockRuntime>) {
    let app = mock_builder()
        .plugin(builder.topic("t", initial).build())
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

/// `set` of the whole value with one key flipped (the diff for the history
/// included), on the large value `set` and `apply_patch` of one array
/// element changed, and `patch` of one key, on the topic `t` holding `value`.
fn bench_writes(group: &mut BenchmarkGroup<'_, WallTime>, sync: &StateSync<MockRuntime>, value: &Value) {
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

    if value.get("items").is_some() {
        group.bench_function("set-one-element", |b| {
            b.iter_batched(
                || {
                    flip = !flip;
                    let mut next = value.clone();
                    next["items"][4_321]["done"] = json!(flip);
                    next
                },
                |next| sync.set("t", next).unwrap(),
                BatchSize::LargeInput,
            )
        });
    }

    if value.get("items").is_some() {
        let mut n = 0u64;
        group.bench_function("apply-patch-one-element", |b| {
            b.iter(|| {
                n += 1;
                let op = json!([{"op": "replace", "path": "/items/4321/done", "value": n}]);
                sync.apply_patch("t", op).unwrap()
            })
        });
    }

    let mut n = 0u64;
    group.bench_function("patch", |b| {
        b.iter(|| {
            n += 1;
            sync.patch("t", json!({"flag": n})).unwrap()
        })
    });
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
            bench_writes(&mut group, &sync, &value);
            group.bench_function("snapshot", |b| {
                b.iter(|| serde_json::to_vec(&sync.get("t").unwrap()).unwrap())
            });
            group.finish();
        }
    }
}

/// The same writes with the history off, for comparison with the rows
/// above, which keep every change's patch.
fn bench_without_history(c: &mut Criterion) {
    for (size, value) in [("small", small()), ("1MB", large())] {
        let (_app, sync) = app_with(Builder::new().history_limits(HistoryLimits::off()), value.clone(), 0);
        let mut group = c.benchmark_group(format!("{size}/history-off"));
        if size == "1MB" {
            group.sample_size(20);
        }
        bench_writes(&mut group, &sync, &value);
        group.finish();
    }
}

/// `get_since` serialized to JSON, as the `snapshot` command answers it:
/// from one change back, from several (5 on the small topic, whose longer
/// chains are larger than its data; 100 on the large one), and from the
/// current revision.
fn bench_since(c: &mut Criterion) {
    for (size, value, several) in [("400B", medium(), 5), ("1MB", large(), 100)] {
        let (_app, sync) = app(value, 0);
        let key = if size == "1MB" { "flag" } else { "key07" };
        for n in 0..100u64 {
            sync.patch("t", json!({ key: format!("v{n:03}") })).unwrap();
        }
        let now = sync.get("t").unwrap().revision.get();
        let mut group = c.benchmark_group(format!("{size}/since"));
        for (name, back) in [("1-change".to_owned(), 1), (format!("{several}-changes"), several), ("current".to_owned(), 0)] {
            let since = Revision::new(now - back);
            assert!(
                matches!(sync.get_since("t", since).unwrap(), tauri_plugin_state_sync::CatchUp::Delta(_)),
                "{size} since {name} is a delta"
            );
            group.bench_function(&name, |b| {
                b.iter(|| serde_json::to_vec(&sync.get_since("t", since).unwrap()).unwrap())
            });
        }
        group.finish();
    }
}

/// The large value as a Rust type, for a typed topic.
#[derive(serde::Serialize, serde::Deserialize)]
struct Todos {
    items: Vec<Todo>,
    flag: Value,
}

#[derive(serde::Serialize, serde::Deserialize)]
struct Todo {
    id: u64,
    title: String,
    done: bool,
    tags: Vec<String>,
}

/// A one-key `patch` of a typed topic: the merged value is validated
/// against its Rust type, which walks all of it.
fn bench_typed(c: &mut Criterion) {
    let todos: Todos = serde_json::from_value(large()).unwrap();
    let app = mock_builder()
        .plugin(Builder::new().typed_topic("t", todos).build())
        .build(mock_context(noop_assets()))
        .expect("mock app");
    let sync = app.state_sync().clone();
    let mut group = c.benchmark_group("1MB/typed");
    group.sample_size(20);
    let mut n = 0u64;
    group.bench_function("patch", |b| {
        b.iter(|| {
            n += 1;
            sync.patch("t", json!({"flag": n})).unwrap()
        })
    });
    group.finish();
}

criterion_group!(benches, bench, bench_without_history, bench_since, bench_typed);
criterion_main!(benches);
