//! `cargo bench --bench delivery`: what announcing one change costs with 8
//! windows, through Tauri's IPC on the mock runtime with real capabilities.
//!
//! * `broadcast`: 8 windows with `state-sync:default` and no subscription;
//!   the change goes out as the broadcast event only.
//! * `channels`: the same 8 windows each subscribed to the topic; the change
//!   goes to each window's channel (the broadcast stays on: no scope).
//! * `scoped`: 8 windows with scopes, each subscribed; 4 may read the topic
//!   and receive it, 4 may not and their subscriptions are skipped. No
//!   broadcast.
//!
//! Each figure is one `patch` of a small topic from Rust, including delivery
//! up to the point where a channel message leaves for the page (Tauri's
//! channel interceptor, which stores it).

#[path = "../tests/common/mod.rs"]
mod common;

use criterion::{criterion_group, criterion_main, Criterion};
use serde_json::json;
use tauri_plugin_state_sync::{Builder, StateSyncExt};

use common::{scoped, Harness};

const WINDOWS: usize = 8;

fn app() -> Harness {
    Harness::new(Builder::new().topic("t", json!({"n": 0})).topic("other", 0))
}

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("patch with 8 windows");

    let broadcast = app();
    for i in 0..WINDOWS {
        broadcast.window(&format!("w{i}"), &["state-sync:default"]);
    }

    let channels = app();
    for i in 0..WINDOWS {
        let window = channels.window(&format!("w{i}"), &["state-sync:default"]);
        channels.subscribe(&window, "t").unwrap();
    }

    let restricted = app();
    for i in 0..WINDOWS {
        let label = format!("w{i}");
        let allow = if i.is_multiple_of(2) { ["t"] } else { ["other"] };
        restricted.grant(scoped(&label, &label, &["state-sync:read"], &allow, &[]));
        let window = restricted.open(&label);
        // The odd windows are refused: they never receive `t`.
        let _ = restricted.subscribe(&window, "t");
    }
    assert_eq!(restricted.app.state_sync().readers_of("t").len(), WINDOWS / 2);

    for (name, harness) in [("broadcast", &broadcast), ("channels", &channels), ("scoped", &restricted)] {
        let sync = harness.app.state_sync().clone();
        let mut n = 0u64;
        group.bench_function(name, |b| {
            b.iter(|| {
                n += 1;
                sync.patch("t", json!({"n": n})).unwrap();
                if n.is_multiple_of(1024) {
                    harness.clear_received();
                    harness.take_events();
                }
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
