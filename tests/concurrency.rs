//! Many writers, one topic: compare-and-set never loses an update.

mod common;

use std::{
    collections::HashMap,
    sync::{
        atomic::{AtomicBool, Ordering},
        Barrier, Mutex,
    },
    thread,
};

use serde_json::{json, Value};
use tauri_plugin_state_sync::{Builder, Error, Revision, StateSyncExt, WriteOutcome};

use common::Harness;

const THREADS: usize = 8;
const INCREMENTS: u64 = 250;

/// Race: two read-modify-write increments read the same revision; the
/// compare-and-set of the slower one must fail instead of overwriting.
#[test]
fn concurrent_compare_and_set_increments_lose_no_update() {
    let harness = Harness::new(Builder::new().topic("counter", 0));
    let sync = harness.app.state_sync().clone();
    let barrier = Barrier::new(THREADS);

    let outcomes: Vec<Vec<WriteOutcome>> = thread::scope(|scope| {
        let workers: Vec<_> = (0..THREADS)
            .map(|_| {
                let sync = sync.clone();
                let barrier = &barrier;
                scope.spawn(move || {
                    barrier.wait();
                    let mut mine = Vec::new();
                    while (mine.len() as u64) < INCREMENTS {
                        let current = sync.get("counter").unwrap();
                        let next = current.data.as_u64().unwrap() + 1;
                        match sync.compare_and_set("counter", current.revision, next) {
                            Ok(outcome) => mine.push(outcome),
                            Err(Error::Conflict { .. }) => {}
                            Err(other) => panic!("unexpected error: {other}"),
                        }
                    }
                    mine
                })
            })
            .collect();
        workers.into_iter().map(|w| w.join().unwrap()).collect()
    });

    let total = THREADS as u64 * INCREMENTS;
    let final_snapshot = sync.get("counter").unwrap();
    assert_eq!(*final_snapshot.data, json!(total), "no increment was lost");
    assert_eq!(final_snapshot.revision, Revision::new(total));

    let mut all: Vec<u64> = Vec::new();
    for mine in &outcomes {
        for pair in mine.windows(2) {
            assert!(pair[0].revision < pair[1].revision, "each writer sees its revisions rise");
        }
        for outcome in mine {
            assert_eq!(outcome.revision.get(), outcome.previous_revision.get() + 1);
            all.push(outcome.revision.get());
        }
    }
    all.sort_unstable();
    assert_eq!(all, (1..=total).collect::<Vec<_>>(), "every revision is produced exactly once");

    // Changes that queue while a batch is on its way leave together, so an
    // announcement may stand for several revisions: they rise, and the last
    // one, which may leave after the writers returned, is the final revision.
    let mut announced: Vec<u64> = Vec::new();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while announced.last() != Some(&total) && std::time::Instant::now() < deadline {
        announced.extend(harness.take_events().iter().map(|e| e.revision.get()));
        thread::sleep(std::time::Duration::from_millis(5));
    }
    assert_eq!(announced.last(), Some(&total), "the final revision is announced");
    assert!(announced.windows(2).all(|w| w[0] < w[1]), "announcements rise: {announced:?}");
}

/// Race: blind `update` closures on several threads must each apply on top
/// of the latest value, never on a stale copy.
#[test]
fn concurrent_update_closures_lose_no_update() {
    let harness = Harness::new(Builder::new().topic("counter", 0));
    let sync = harness.app.state_sync().clone();
    thread::scope(|scope| {
        for _ in 0..THREADS {
            let sync = sync.clone();
            scope.spawn(move || {
                for _ in 0..INCREMENTS {
                    sync.update("counter", |v| *v = json!(v.as_u64().unwrap() + 1)).unwrap();
                }
            });
        }
    });
    let total = THREADS as u64 * INCREMENTS;
    let snapshot = sync.get("counter").unwrap();
    assert_eq!((snapshot.revision.get(), &*snapshot.data), (total, &json!(total)));
}

/// Race: windows writing concurrently through IPC with compare-and-set
/// retries, as the guest binding's `update` does.
#[test]
fn concurrent_ipc_writers_with_compare_and_set_lose_no_update() {
    let harness = Harness::new(Builder::new().topic("counter", 0));
    let windows: Vec<_> = (0..4)
        .map(|i| harness.window(&format!("w{i}"), &["state-sync:default"]))
        .collect();
    const PER_WINDOW: u64 = 50;
    thread::scope(|scope| {
        for window in &windows {
            scope.spawn(move || {
                let mut done = 0;
                while done < PER_WINDOW {
                    let snapshot = common::invoke(window, "snapshot", json!({"topic": "counter"})).unwrap();
                    let next = snapshot["data"].as_u64().unwrap() + 1;
                    let args = json!({"topic": "counter", "data": next, "expectedRevision": snapshot["revision"]});
                    match common::invoke(window, "set", args) {
                        Ok(_) => done += 1,
                        Err(err) => assert_eq!(err["code"], "REVISION_CONFLICT"),
                    }
                }
            });
        }
    });
    let snapshot = harness.app.state_sync().get("counter").unwrap();
    assert_eq!(*snapshot.data, json!(4 * PER_WINDOW));
    assert_eq!(snapshot.revision.get(), 4 * PER_WINDOW);
}

/// Race (issue 11, item 2): a write that looked the topic up before
/// `remove` committed after it, and the topic registered again under the
/// same name then started at that write's revision with other data: one
/// revision named two contents.
#[test]
fn race_between_a_write_and_remove_never_lets_one_revision_name_two_contents() {
    const ROUNDS: usize = 1_000;
    let harness = Harness::new(Builder::new().topic("t", json!("initial")));
    let sync = harness.app.state_sync().clone();
    let done = AtomicBool::new(false);
    // Every (revision, data) pair that some writer or registration made.
    let named: Mutex<Vec<(u64, Value)>> = Mutex::new(vec![(0, json!("initial"))]);

    thread::scope(|scope| {
        for writer in 0..3 {
            let (sync, done, named) = (sync.clone(), &done, &named);
            scope.spawn(move || {
                let mut n = 0u64;
                while !done.load(Ordering::Relaxed) {
                    n += 1;
                    let data = json!([writer, n]);
                    match sync.set("t", &data) {
                        Ok(outcome) if outcome.changed() => {
                            named.lock().unwrap().push((outcome.revision.get(), data));
                        }
                        Ok(_) => {}
                        Err(err) => assert_eq!(err.code(), "UNKNOWN_TOPIC", "{err}"),
                    }
                }
            });
        }
        let (sync, done, named) = (sync.clone(), &done, &named);
        scope.spawn(move || {
            for round in 0..ROUNDS {
                let last = sync.remove("t").unwrap();
                named.lock().unwrap().push((last.revision.get(), Value::clone(&last.data)));
                let data = json!(["registered", round]);
                let again = sync.register("t", &data).unwrap();
                named.lock().unwrap().push((again.revision.get(), data));
                thread::yield_now();
            }
            done.store(true, Ordering::Relaxed);
        });
    });

    let mut contents: HashMap<u64, Value> = HashMap::new();
    for (revision, data) in named.into_inner().unwrap() {
        let first = contents.entry(revision).or_insert_with(|| data.clone());
        assert_eq!(*first, data, "revision {revision} names two contents");
    }
}
