//! The demo's benchmark mode, started by `.ci/bench` with `STATE_SYNC_BENCH=1`.
//!
//! Instead of the three demo windows, the app opens one writer window and
//! up to eight receiving windows on `bench.html` (`src/bench/main.ts`), each
//! holding the bench topics through the real guest binding. A driver thread
//! ([`scenarios`]) writes, waits for the windows to acknowledge, and prints
//! the table ([`report`]) before the app exits.
//!
//! Every time is taken here, in Rust, with [`Instant`]: WebKit's
//! `performance.now()` has a 1 ms resolution. A window acknowledges each
//! revision it applies with the `bench_ack` command, which timestamps it on
//! arrival: it is synchronous, so it runs at once on the main thread, where
//! IPC requests arrive, without a hop to the async runtime. It only pushes to
//! a log under a mutex, so it never blocks the main thread.

mod report;
mod scenarios;

use std::{
    sync::{Condvar, Mutex, MutexGuard},
    time::{Duration, Instant},
};

use serde_json::Value;
use tauri::{AppHandle, Manager, State, Webview};
use tauri_plugin_state_sync::{Builder, HistoryLimits, Snapshot, StateSyncExt};

use scenarios::contention::CONTENDED;

/// The environment variable that turns the demo into the benchmark.
const BENCH_ENV: &str = "STATE_SYNC_BENCH";

/// Errors of the benchmark driver: it only reports them and exits.
type Result<T, E = Box<dyn std::error::Error + Send + Sync>> = std::result::Result<T, E>;

/// The environment variable that turns pushed patches and the change
/// history off (`STATE_SYNC_BENCH_PUSH=off`): every change is then an
/// invalidation that windows answer with a full snapshot, the path before
/// deltas, for comparison.
const PUSH_ENV: &str = "STATE_SYNC_BENCH_PUSH";

/// Whether the bench runs the path before deltas.
fn pulling() -> bool {
    std::env::var_os(PUSH_ENV).is_some_and(|v| v == "off")
}

/// The push limit of the bench: the plugin's default, or 0 with `STATE_SYNC_BENCH_PUSH=off`.
fn push_limit() -> usize {
    match pulling() {
        true => 0,
        false => tauri_plugin_state_sync::DEFAULT_PUSH_LIMIT,
    }
}

/// The environment variable that sets the push interval in milliseconds
/// (`STATE_SYNC_BENCH_INTERVAL_MS=4`, `bash .ci/bench batched`).
const INTERVAL_ENV: &str = "STATE_SYNC_BENCH_INTERVAL_MS";

/// The push interval of the bench: the plugin's default unless set.
fn push_interval() -> std::time::Duration {
    std::env::var(INTERVAL_ENV)
        .ok()
        .and_then(|ms| ms.parse().ok())
        .map_or(tauri_plugin_state_sync::DEFAULT_PUSH_INTERVAL, std::time::Duration::from_millis)
}

/// The history of every bench topic: the plugin's default, or none with `STATE_SYNC_BENCH_PUSH=off`.
fn history() -> HistoryLimits {
    match pulling() {
        true => HistoryLimits::off(),
        false => HistoryLimits::new(),
    }
}

/// Whether the benchmark runs only its contention part (`STATE_SYNC_BENCH=contention`).
fn contention_only() -> bool {
    std::env::var_os(BENCH_ENV).is_some_and(|v| v == "contention")
}

/// Whether the app was started in benchmark mode.
pub fn requested() -> bool {
    std::env::var_os(BENCH_ENV).is_some_and(|v| !v.is_empty() && v != "0")
}

/// Runs the benchmark instead of the demo: no demo windows and no persisted
/// topics, only the bench topics and windows. Exits with status 1 if a
/// scenario fails or times out.
pub fn run(mut context: tauri::Context) {
    // The demo windows of tauri.conf.json would receive every event too.
    context.config_mut().app.windows.clear();
    tauri::Builder::default()
        .plugin(
            Builder::new()
                .topic(scenarios::SMALL, serde_json::json!({ "seq": 0 }))
                .topic(scenarios::LARGE, scenarios::large_state())
                .topic(scenarios::LARGE_LIST, scenarios::large_list())
                .push_limit(push_limit())
                .history_limits(history())
                .push_interval(push_interval())
                .topic(CONTENDED, serde_json::json!({ "value": 0 }))
                .action(CONTENDED, "increment", |counter, args| {
                    let by = args["by"].as_i64().ok_or("`by` must be an integer")?;
                    let value = counter["value"].as_i64().unwrap_or(0);
                    Ok(serde_json::json!({ "value": value + by }))
                })
                .build(),
        )
        .manage(Probe::default())
        .invoke_handler(tauri::generate_handler![
            bench_ack,
            bench_done,
            bench_large,
            bench_mark,
            bench_noop
        ])
        .setup(|app| {
            let app = app.handle().clone();
            std::thread::spawn(move || {
                let code = match scenarios::drive(&app, contention_only()) {
                    Ok(()) => 0,
                    Err(err) => {
                        eprintln!("bench: {err}");
                        1
                    }
                };
                app.exit(code);
            });
            Ok(())
        })
        .run(context)
        .expect("error while running the state-sync benchmark");
}

/// A revision a window applied, as acknowledged by `bench_ack`.
struct Ack {
    label: String,
    topic: String,
    revision: String,
    at: Instant,
}

/// A window's answer to an instruction of the driver (`window.__bench.run`).
struct Done {
    label: String,
    op: String,
    outcome: Result<Value, String>,
}

/// What the windows told Rust, with arrival times.
#[derive(Default)]
struct Log {
    acks: Vec<Ack>,
    /// Arrivals of `bench_mark`: the writer is about to write.
    marks: Vec<Instant>,
    /// Arrivals of `bench_noop`, the bare invoke.
    noops: Vec<Instant>,
    done: Vec<Done>,
}

/// The log shared by the commands (which record) and the driver (which waits).
#[derive(Default)]
struct Probe {
    log: Mutex<Log>,
    changed: Condvar,
}

impl Probe {
    fn lock(&self) -> MutexGuard<'_, Log> {
        self.log
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn record(&self, change: impl FnOnce(&mut Log)) {
        change(&mut self.lock());
        self.changed.notify_all();
    }

    /// Waits until `check` returns `Some`, for at most `timeout`; the error
    /// names `what` it waited for.
    fn wait<T>(
        &self,
        what: &str,
        timeout: Duration,
        mut check: impl FnMut(&mut Log) -> Option<T>,
    ) -> Result<T> {
        let deadline = Instant::now() + timeout;
        let mut log = self.lock();
        loop {
            if let Some(found) = check(&mut log) {
                return Ok(found);
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(format!("timed out after {timeout:?} waiting for {what}").into());
            }
            log = self
                .changed
                .wait_timeout(log, left)
                .unwrap_or_else(|poisoned| poisoned.into_inner())
                .0;
        }
    }
}

/// A window applied `revision` of `topic` (`"ping"` for the bare emit).
#[tauri::command]
fn bench_ack(webview: Webview, probe: State<'_, Probe>, topic: String, revision: String) {
    let at = Instant::now();
    let label = webview.label().to_owned();
    probe.record(|log| {
        log.acks.push(Ack {
            label,
            topic,
            revision,
            at,
        })
    });
}

/// The writer window is about to write: the clock of a window write starts here.
#[tauri::command]
fn bench_mark(probe: State<'_, Probe>) {
    let at = Instant::now();
    probe.record(|log| log.marks.push(at));
}

/// The bare invoke of the floor: does nothing but note its arrival. Async,
/// like the plugin's commands.
#[tauri::command]
async fn bench_noop(app: AppHandle) {
    let at = Instant::now();
    probe(&app).record(|log| log.noops.push(at));
}

/// The bare invoke returning the 1 MB state, in the snapshot's own JSON
/// shape. Async, like the plugin's `snapshot` command.
#[tauri::command]
async fn bench_large(app: AppHandle) -> tauri_plugin_state_sync::Result<Snapshot> {
    let at = Instant::now();
    probe(&app).record(|log| log.noops.push(at));
    app.state_sync().get(scenarios::LARGE)
}

/// A window finished the instruction `op`, with its result or its error.
#[tauri::command]
fn bench_done(
    webview: Webview,
    probe: State<'_, Probe>,
    op: String,
    result: Option<Value>,
    error: Option<String>,
) {
    let label = webview.label().to_owned();
    let outcome = match error {
        Some(error) => Err(error),
        None => Ok(result.unwrap_or(Value::Null)),
    };
    probe.record(|log| log.done.push(Done { label, op, outcome }));
}

/// The probe, from any manager.
fn probe<M: Manager<tauri::Wry>>(manager: &M) -> State<'_, Probe> {
    manager.state::<Probe>()
}
