//! The driver: opens the bench windows, runs every scenario with 1, 4 and 8
//! receiving windows, then the [`contention`] runs, and hands the figures to
//! [`super::report`].
//!
//! Each write waits until every receiving window has acknowledged it before
//! the next one starts, so the latencies never overlap. Within one window
//! count, the floor and our two write paths alternate in rounds, so that a
//! slow spell of the machine weighs on all of them alike.

use std::{
    thread,
    time::{Duration, Instant},
};

use serde_json::{json, Value};
use tauri::{AppHandle, Emitter, Manager, WebviewUrl, WebviewWindowBuilder};
use tauri_plugin_state_sync::{
    ChannelMessage, Invalidation, PushedChange, PushedInvalidation, StateSyncExt, RUST_SOURCE_ID,
};

pub(super) mod contention;

use super::{
    probe,
    report::{self, Burst, Figures, InvokeFloor, LargeBytes, Latency},
    Result,
};

/// The small topic: `{ "seq": n }`.
pub(super) const SMALL: &str = "bench";
/// The topic of about 1 MB, changed by one small key.
pub(super) const LARGE: &str = "bench-large";
/// The topic of about 1 MB holding one array, changed by one element.
pub(super) const LARGE_LIST: &str = "bench-large-list";
/// The event of the bare-emit floor.
const PING: &str = "bench://ping";
/// The window that writes in the window-write scenario; it receives nothing.
const WRITER: &str = "bench-writer";

/// The numbers of receiving windows measured.
const WINDOW_COUNTS: [usize; 3] = [1, 4, 8];
/// Latency writes per scenario: discarded warm-up, then rounds.
const WARM_UP: usize = 20;
const ROUNDS: usize = 10;
const PER_ROUND: usize = 50;
/// Sequential bare invokes in the writer window.
const INVOKES: u64 = 500;
const LARGE_INVOKES: u64 = 20;
/// The burst: this many writes from Rust, evenly spread over `BURST_SPAN`.
pub(super) const BURST_WRITES: u32 = 1_000;
const BURST_SPAN: Duration = Duration::from_secs(1);
const BURSTS: usize = 5;
/// Writes of the 1 MB state: discarded warm-up, then measured.
const LARGE_WARM_UP: usize = 20;
const LARGE_WRITES: usize = 250;
/// Items of the 1 MB state and the length of each one's text.
const LARGE_ITEMS: usize = 10_000;
const LARGE_ITEM_LEN: usize = 84;

/// Time for the windows to finish loading after new ones open (their first
/// fetches, and the other windows' focus resyncs): there is no event that
/// says "idle", so this one wait is fixed.
const SETTLE: Duration = Duration::from_secs(1);
const READY_TIMEOUT: Duration = Duration::from_secs(60);
const STEP_TIMEOUT: Duration = Duration::from_secs(20);
const BURST_TIMEOUT: Duration = Duration::from_secs(60);

/// The initial data of [`LARGE`]: `{ "tick": 0, "items": { ... } }`, about 1 MB of JSON.
pub(super) fn large_state() -> Value {
    let items: serde_json::Map<String, Value> = (0..LARGE_ITEMS)
        .map(|i| {
            let text = format!("item {i:05}: the quick brown fox jumps over the lazy dog ");
            let text: String = text.chars().cycle().take(LARGE_ITEM_LEN).collect();
            (format!("item-{i:05}"), Value::String(text))
        })
        .collect();
    json!({ "tick": 0, "items": items })
}

/// The initial data of [`LARGE_LIST`]: `{ "list": [ { "id", "text", "done" }, ... ] }`, about 1 MB of JSON.
pub(super) fn large_list() -> Value {
    let list: Vec<Value> = (0..LARGE_ITEMS)
        .map(|i| {
            let text: String = format!("item {i:05}: the quick brown fox ").chars().cycle().take(LARGE_ITEM_LEN - 20).collect();
            json!({ "id": i, "text": text, "done": false })
        })
        .collect();
    json!({ "list": list })
}

/// Runs every scenario and prints the tables; only the contention runs when
/// `contention_only` (`bash .ci/bench contention`).
pub(super) fn drive(app: &AppHandle, contention_only: bool) -> Result<()> {
    let started = Instant::now();
    let mut bench = Bench {
        app,
        receivers: Vec::new(),
        seq: 0,
    };
    bench.open(WRITER, 0)?;
    let mut figures = Vec::new();
    for count in WINDOW_COUNTS {
        while bench.receivers.len() < count {
            let label = format!("bench-{}", bench.receivers.len() + 1);
            bench.open(&label, bench.receivers.len() + 1)?;
            bench.receivers.push(label);
        }
        thread::sleep(SETTLE);
        if !contention_only {
            eprintln!("bench: measuring with {count} receiving window(s)");
            figures.push(bench.measure()?);
        }
    }
    let runs = bench.contention()?;
    report::print(&figures, &runs, started.elapsed());
    Ok(())
}

/// One write: when its clock started, and when each window acknowledged it.
type Sample = (Instant, Vec<Instant>);

struct Bench<'a> {
    app: &'a AppHandle,
    /// The labels of the receiving windows, which acknowledge every change.
    receivers: Vec<String>,
    /// Makes every write different, so none is a no-op.
    seq: u64,
}

impl Bench<'_> {
    fn next_seq(&mut self) -> u64 {
        self.seq += 1;
        self.seq
    }

    /// Opens a bench window in grid cell `slot` and waits until it is hydrated.
    fn open(&self, label: &str, slot: usize) -> Result<()> {
        let (column, row) = (slot % 4, slot / 4);
        WebviewWindowBuilder::new(self.app, label, WebviewUrl::App("bench.html".into()))
            .title(format!("state-sync bench · {label}"))
            .inner_size(340.0, 270.0)
            .position(10.0 + 355.0 * column as f64, 10.0 + 295.0 * row as f64)
            .focused(false)
            .build()?;
        self.await_done(label, "ready", READY_TIMEOUT)?;
        Ok(())
    }

    /// Sends an instruction to the page of `label` (`window.__bench.run`).
    fn instruct(&self, label: &str, instruction: &Value) -> Result<()> {
        let window = self
            .app
            .get_webview_window(label)
            .ok_or_else(|| format!("no window `{label}`"))?;
        window.eval(format!("window.__bench.run({instruction})"))?;
        Ok(())
    }

    /// Waits for the answer of `label` to the instruction `op`, and takes it.
    fn await_done(&self, label: &str, op: &str, timeout: Duration) -> Result<Value> {
        let what = format!("window `{label}` to finish `{op}`");
        let outcome = probe(self.app).wait(&what, timeout, |log| {
            let at = log
                .done
                .iter()
                .position(|d| d.label == label && d.op == op)?;
            Some(log.done.remove(at).outcome)
        })?;
        outcome.map_err(|error| format!("window `{label}` failed `{op}`: {error}").into())
    }

    /// Sends `op` to `labels` and collects their answers, in order.
    fn ask<'l>(
        &self,
        labels: impl IntoIterator<Item = &'l String>,
        op: &str,
    ) -> Result<Vec<Value>> {
        let labels: Vec<&String> = labels.into_iter().collect();
        for label in &labels {
            self.instruct(label, &json!({ "op": op }))?;
        }
        labels
            .iter()
            .map(|label| self.await_done(label, op, STEP_TIMEOUT))
            .collect()
    }

    fn ask_writer(&self, instruction: Value) -> Result<Value> {
        let op = instruction["op"].as_str().unwrap_or_default().to_owned();
        self.instruct(WRITER, &instruction)?;
        self.await_done(WRITER, &op, STEP_TIMEOUT)
    }

    fn clear_log(&self) {
        probe(self.app).record(|log| {
            log.acks.clear();
            log.marks.clear();
            log.noops.clear();
        });
    }

    /// Waits until every receiving window acknowledged `revision` of `topic`;
    /// returns the arrival time of each acknowledgement.
    fn await_acks(&self, topic: &str, revision: &str, timeout: Duration) -> Result<Vec<Instant>> {
        let count = self.receivers.len();
        let what = format!("{count} window(s) to apply `{topic}` at revision {revision}");
        probe(self.app).wait(&what, timeout, |log| {
            let times: Vec<Instant> = self
                .receivers
                .iter()
                .filter_map(|label| {
                    log.acks
                        .iter()
                        .find(|a| &a.label == label && a.topic == topic && a.revision == revision)
                        .map(|a| a.at)
                })
                .collect();
            (times.len() == count).then_some(times)
        })
    }

    /// The floor: a bare `emit` to a listener in every receiving window, which
    /// acknowledges it with the same invoke as a change.
    fn emit_floor(&mut self) -> Result<(Instant, Vec<Instant>)> {
        let seq = self.next_seq();
        self.clear_log();
        let start = Instant::now();
        self.app.emit(PING, json!({ "seq": seq }))?;
        Ok((
            start,
            self.await_acks("ping", &seq.to_string(), STEP_TIMEOUT)?,
        ))
    }

    /// A `set` of the small topic from Rust; the clock starts just before it.
    fn rust_write(&mut self) -> Result<(Instant, Vec<Instant>)> {
        let seq = self.next_seq();
        self.clear_log();
        let start = Instant::now();
        let outcome = self.app.state_sync().set(SMALL, json!({ "seq": seq }))?;
        let revision = outcome.revision.to_string();
        Ok((start, self.await_acks(SMALL, &revision, STEP_TIMEOUT)?))
    }

    /// A `set` of the small topic from the writer window. The clock starts
    /// when its `bench_mark` invoke reaches Rust; the page awaits that
    /// invoke's reply and then calls `set` at once.
    fn window_write(&mut self) -> Result<(Instant, Vec<Instant>)> {
        let seq = self.next_seq();
        let revision = (self.app.state_sync().get(SMALL)?.revision.get() + 1).to_string();
        self.clear_log();
        self.instruct(WRITER, &json!({ "op": "write", "seq": seq }))?;
        let acks = self.await_acks(SMALL, &revision, STEP_TIMEOUT)?;
        let written = self.await_done(WRITER, "write", STEP_TIMEOUT)?;
        if written["revision"] != revision.as_str() {
            return Err(format!(
                "the writer wrote revision {}, not {revision}",
                written["revision"]
            )
            .into());
        }
        let start = probe(self.app).lock().marks.first().copied();
        Ok((start.ok_or("the writer's mark is missing")?, acks))
    }

    /// `count` sequential bare invokes of `op` in the writer window: the
    /// page's mean, and the intervals between their arrivals in Rust.
    fn invoke_floor(&self, op: &str, count: u64) -> Result<InvokeFloor> {
        self.clear_log();
        let page = self.ask_writer(json!({ "op": op, "count": count }))?;
        let page_mean_ms = page.as_f64().ok_or("the page reported no mean")?;
        let arrivals = std::mem::take(&mut probe(self.app).lock().noops);
        let intervals = arrivals.windows(2).map(|w| w[1] - w[0]).collect();
        Ok(InvokeFloor {
            page_mean_ms,
            intervals,
        })
    }

    /// 1,000 writes from Rust, evenly spread over one second: `set`s of the
    /// small topic, or with `large` one-key `patch`es of the 1 MB topic.
    fn burst(&mut self, large: bool) -> Result<Burst> {
        self.ask(&self.receivers, "reset")?;
        self.clear_log();
        let topic = if large { LARGE } else { SMALL };
        let start = Instant::now();
        let mut last = None;
        for i in 0..BURST_WRITES {
            let due = start + BURST_SPAN * i / BURST_WRITES;
            if let Some(early) = due.checked_duration_since(Instant::now()) {
                thread::sleep(early);
            }
            let seq = self.next_seq();
            let at = Instant::now();
            let sync = self.app.state_sync();
            let outcome = match large {
                true => sync.patch(LARGE, json!({ "tick": seq }))?,
                false => sync.set(SMALL, json!({ "seq": seq }))?,
            };
            last = Some((at, outcome));
        }
        let span = start.elapsed();
        let (last_at, outcome) = last.ok_or("no writes")?;
        let revision = outcome.revision.to_string();
        let acks = self.await_acks(topic, &revision, BURST_TIMEOUT)?;
        let converged = acks.iter().max().map_or(Duration::ZERO, |t| *t - last_at);
        let fetches = fetch_counts(&self.ask(&self.receivers, "report")?, topic)?;
        Ok(Burst {
            span,
            converged,
            fetches,
        })
    }

    /// Changes one small key of the 1 MB topic from Rust.
    fn large_write(&mut self) -> Result<(Instant, Vec<Instant>)> {
        let seq = self.next_seq();
        self.clear_log();
        let start = Instant::now();
        let outcome = self.app.state_sync().patch(LARGE, json!({ "tick": seq }))?;
        let revision = outcome.revision.to_string();
        Ok((start, self.await_acks(LARGE, &revision, STEP_TIMEOUT)?))
    }

    /// Changes one element of the 1 MB array from Rust, with `apply_patch`:
    /// one RFC 6902 operation, applied in place.
    fn large_list_write(&mut self) -> Result<(Instant, Vec<Instant>)> {
        let seq = self.next_seq();
        self.clear_log();
        let start = Instant::now();
        let at = (seq as usize * 7_919) % LARGE_ITEMS;
        let op = json!([{ "op": "replace", "path": format!("/list/{at}/done"), "value": seq }]);
        let outcome = self.app.state_sync().apply_patch(LARGE_LIST, op)?;
        let revision = outcome.revision.to_string();
        Ok((start, self.await_acks(LARGE_LIST, &revision, STEP_TIMEOUT)?))
    }

    /// What crossed IPC per window for the last change of `topic`: its
    /// channel message as delivery sent it (with the patch when that was
    /// within the push limit), and the fetches the windows made.
    fn bytes(&self, topic: &str, writes: usize) -> Result<LargeBytes> {
        let fetches = fetch_counts(&self.ask(&self.receivers, "report")?, topic)?;
        let sync = self.app.state_sync();
        let snapshot = sync.get(topic)?;
        let from = tauri_plugin_state_sync::Revision::new(snapshot.revision.get() - 1);
        let mut event = PushedInvalidation {
            invalidation: Invalidation::new(topic, snapshot.revision, RUST_SOURCE_ID),
            change: None,
        };
        if let tauri_plugin_state_sync::CatchUp::Delta(delta) = sync.get_since(topic, from)? {
            if delta.patch.len() <= super::push_limit() {
                event.change = Some(PushedChange { from, patch: delta.patch });
            }
        }
        let event = ChannelMessage::Invalidate(event);
        Ok(LargeBytes {
            state: serde_json::to_vec(&*snapshot.data)?.len(),
            event: serde_json::to_vec(&event)?.len(),
            // What a window behind by this one change pulls: the change, or
            // the snapshot when the history does not reach back.
            pull: serde_json::to_vec(&sync.get_since(topic, from)?)?.len(),
            fetches_per_update: fetches.iter().sum::<u64>() as f64 / (fetches.len() * writes) as f64,
        })
    }

    /// Every scenario with the windows open now.
    fn measure(&mut self) -> Result<Figures> {
        let mut figures = Figures {
            windows: self.receivers.len(),
            emit: Latency::default(),
            rust_write: Latency::default(),
            window_write: Latency::default(),
            large: Latency::default(),
            large_list: Latency::default(),
            invoke: self.invoke_floor("invoke", INVOKES)?,
            invoke_large: self.invoke_floor("invoke-large", LARGE_INVOKES)?,
            bursts: Vec::new(),
            large_bursts: Vec::new(),
            large_bytes: LargeBytes::default(),
            large_list_bytes: LargeBytes::default(),
        };

        for _ in 0..WARM_UP {
            self.emit_floor()?;
            self.rust_write()?;
        }
        self.ask_writer(json!({ "op": "open" }))?;
        for _ in 0..WARM_UP {
            self.window_write()?;
        }
        self.ask_writer(json!({ "op": "close" }))?;
        for _ in 0..ROUNDS {
            for _ in 0..PER_ROUND {
                figures.emit.add(self.emit_floor()?);
            }
            for _ in 0..PER_ROUND {
                figures.rust_write.add(self.rust_write()?);
            }
            // The writer holds the topic only while it writes, so that in the
            // other scenarios exactly the receiving windows listen.
            self.ask_writer(json!({ "op": "open" }))?;
            for _ in 0..PER_ROUND {
                figures.window_write.add(self.window_write()?);
            }
            self.ask_writer(json!({ "op": "close" }))?;
        }

        for _ in 0..BURSTS {
            figures.bursts.push(self.burst(false)?);
        }
        for _ in 0..BURSTS {
            figures.large_bursts.push(self.burst(true)?);
        }

        (figures.large, figures.large_bytes) = self.large_series(LARGE, Self::large_write)?;
        (figures.large_list, figures.large_list_bytes) = self.large_series(LARGE_LIST, Self::large_list_write)?;
        Ok(figures)
    }

    /// The latencies of `write` to the 1 MB topic `topic`, after a discarded
    /// warm-up, and what crossed IPC per window for its last change.
    fn large_series(
        &mut self,
        topic: &str,
        write: fn(&mut Self) -> Result<Sample>,
    ) -> Result<(Latency, LargeBytes)> {
        self.ask(&self.receivers, "reset")?;
        let mut latency = Latency::default();
        for i in 0..LARGE_WARM_UP + LARGE_WRITES {
            let sample = write(self)?;
            if i >= LARGE_WARM_UP {
                latency.add(sample);
            }
        }
        Ok((latency, self.bytes(topic, LARGE_WARM_UP + LARGE_WRITES)?))
    }
}

/// The fetch counts of `topic` in the windows' `report` answers: a window
/// that fetched nothing since its `reset` has no entry.
fn fetch_counts(reports: &[Value], topic: &str) -> Result<Vec<u64>> {
    reports
        .iter()
        .map(|r| match r.get(topic) {
            None if r.is_object() => Ok(0),
            count => count.and_then(Value::as_u64).ok_or_else(|| {
                format!("a window reported no fetch counts for `{topic}`: {r}").into()
            }),
        })
        .collect()
}
