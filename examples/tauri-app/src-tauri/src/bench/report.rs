//! The figures of one window count, and the table printed at the end.

use std::time::{Duration, Instant};

use super::scenarios::{contention::Run, BURST_WRITES};

/// Latencies of one scenario: every window's acknowledgement of every write
/// (`each`), and the slowest window's of every write (`every`).
#[derive(Default)]
pub(super) struct Latency {
    each: Vec<Duration>,
    every: Vec<Duration>,
}

impl Latency {
    /// Adds one write: when its clock started, and when each window acknowledged it.
    pub(super) fn add(&mut self, (start, acks): (Instant, Vec<Instant>)) {
        let times: Vec<Duration> = acks
            .iter()
            .map(|at| at.saturating_duration_since(start))
            .collect();
        self.every.extend(times.iter().max());
        self.each.extend(times);
    }

    fn writes(&self) -> usize {
        self.every.len()
    }
}

/// Sequential bare invokes: the page's mean (its clock has 1 ms resolution,
/// so only a mean over many is meaningful) and the arrival intervals in Rust.
pub(super) struct InvokeFloor {
    pub(super) page_mean_ms: f64,
    pub(super) intervals: Vec<Duration>,
}

/// One burst of writes.
pub(super) struct Burst {
    /// From the first write to the return of the last.
    pub(super) span: Duration,
    /// From the last write until the last window applied it.
    pub(super) converged: Duration,
    /// Snapshot fetches of each window during the burst.
    pub(super) fetches: Vec<u64>,
}

/// What crosses IPC when one key of the 1 MB state changes.
#[derive(Default)]
pub(super) struct LargeBytes {
    /// The topic's data, as JSON.
    pub(super) state: usize,
    /// The invalidation as sent on a window's subscription channel, as JSON.
    pub(super) event: usize,
    /// The `snapshot` command's response to a window one change behind,
    /// with `since`, as JSON: the change, or the full snapshot.
    pub(super) pull: usize,
    /// Snapshot fetches per window and update.
    pub(super) fetches_per_update: f64,
}

/// Everything measured with one number of receiving windows.
pub(super) struct Figures {
    pub(super) windows: usize,
    pub(super) emit: Latency,
    pub(super) rust_write: Latency,
    pub(super) window_write: Latency,
    pub(super) large: Latency,
    pub(super) large_list: Latency,
    pub(super) invoke: InvokeFloor,
    pub(super) invoke_large: InvokeFloor,
    pub(super) bursts: Vec<Burst>,
    /// The same with one-key patches of the 1 MB topic.
    pub(super) large_bursts: Vec<Burst>,
    pub(super) large_bytes: LargeBytes,
    pub(super) large_list_bytes: LargeBytes,
}

/// The `q` quantile by nearest rank, in ms.
fn quantile(samples: &[Duration], q: f64) -> f64 {
    let mut sorted = samples.to_vec();
    sorted.sort();
    let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len().max(1));
    sorted
        .get(rank - 1)
        .map_or(f64::NAN, |d| d.as_secs_f64() * 1e3)
}

fn p50(samples: &[Duration]) -> f64 {
    quantile(samples, 0.5)
}

fn p99(samples: &[Duration]) -> f64 {
    quantile(samples, 0.99)
}

/// A figure and its ratio to the floor: `1.23 (2.1×)`.
fn vs(value: f64, floor: f64) -> String {
    format!("{value:.2} ({:.1}×)", value / floor)
}

/// Prints the tables, in Markdown, to stdout.
pub(super) fn print(all: &[Figures], runs: &[Run], elapsed: Duration) {
    let mut out = String::new();
    let mut line = |text: String| {
        out.push_str(&text);
        out.push('\n');
    };
    contention(runs, &mut line);
    let Some(first) = all.first() else {
        line(format!("The app ran for {:.0} s.", elapsed.as_secs_f64()));
        return print!("{out}");
    };
    line(String::new());
    line(match super::push_limit() {
        0 => "Pushed patches and the change history: off (`STATE_SYNC_BENCH_PUSH=off`): every change is an invalidation, and windows pull the full snapshot.".into(),
        limit => format!(
            "Pushed patches: on, up to {limit} B (the plugin's default push limit); push interval {} ms.",
            super::push_interval().as_millis()
        ),
    });
    line(String::new());

    line("## Floor: bare Tauri IPC, same run (ms)".into());
    line(String::new());
    line("| receiving windows | emit → listener → ack, each window p50 / p99 | every window p50 / p99 | invoke round trip: page mean, Rust p50 / p99 | invoke returning the 1 MB state: page mean, Rust p50 / p99 |".into());
    line("|---|---|---|---|---|".into());
    for f in all {
        line(format!(
            "| {} | {:.2} / {:.2} | {:.2} / {:.2} | {:.3}, {:.3} / {:.3} | {:.1}, {:.1} / {:.1} |",
            f.windows,
            p50(&f.emit.each),
            p99(&f.emit.each),
            p50(&f.emit.every),
            p99(&f.emit.every),
            f.invoke.page_mean_ms,
            p50(&f.invoke.intervals),
            p99(&f.invoke.intervals),
            f.invoke_large.page_mean_ms,
            p50(&f.invoke_large.intervals),
            p99(&f.invoke_large.intervals),
        ));
    }

    line(String::new());
    line("## Propagation latency (ms; in parentheses, the ratio to the floor)".into());
    line(String::new());
    line("| scenario | receiving windows | each window p50 | each window p99 | every window p50 | every window p99 |".into());
    line("|---|---|---|---|---|---|".into());
    for f in all {
        let floor = [
            p50(&f.emit.each),
            p99(&f.emit.each),
            p50(&f.emit.every),
            p99(&f.emit.every),
        ];
        // A window write needs one invoke to reach Rust before the emit.
        let invoke = [f.invoke.page_mean_ms, p99(&f.invoke.intervals)];
        let large_invoke = [f.invoke_large.page_mean_ms, p99(&f.invoke_large.intervals)];
        let rows = [
            ("write in Rust (floor: emit)", &f.rust_write, [0.0; 2]),
            (
                "write in a window (floor: invoke + emit)",
                &f.window_write,
                invoke,
            ),
            (
                "1 MB state, one key changed in Rust (floor: emit + 1 MB invoke)",
                &f.large,
                large_invoke,
            ),
            (
                "1 MB array, one element changed in Rust (floor: emit + 1 MB invoke)",
                &f.large_list,
                large_invoke,
            ),
        ];
        for (name, latency, extra) in rows {
            line(format!(
                "| {name} | {} | {} | {} | {} | {} |",
                f.windows,
                vs(p50(&latency.each), floor[0] + extra[0]),
                vs(p99(&latency.each), floor[1] + extra[1]),
                vs(p50(&latency.every), floor[2] + extra[0]),
                vs(p99(&latency.every), floor[3] + extra[1]),
            ));
        }
    }

    line(String::new());
    line(format!(
        "## Burst: {BURST_WRITES} writes from Rust in one second, {} bursts per row",
        first.bursts.len()
    ));
    line(String::new());
    line("| state | receiving windows | writes took (ms) | fetches per window: mean / max | every window converged, after the last write (ms): median / max | median vs emit floor, every window p50 |".into());
    line("|---|---|---|---|---|---|".into());
    for f in all {
        for (state, bursts) in [("small, `set`", &f.bursts), ("1 MB, one-key `patch`", &f.large_bursts)] {
            let fetches: Vec<u64> = bursts.iter().flat_map(|b| b.fetches.iter().copied()).collect();
            let mean = fetches.iter().sum::<u64>() as f64 / fetches.len().max(1) as f64;
            let converged: Vec<Duration> = bursts.iter().map(|b| b.converged).collect();
            let spans: Vec<Duration> = bursts.iter().map(|b| b.span).collect();
            line(format!(
                "| {state} | {} | {:.0} | {mean:.1} / {} | {:.2} / {:.2} | {:.1}× |",
                f.windows,
                p50(&spans),
                fetches.iter().max().unwrap_or(&0),
                p50(&converged),
                quantile(&converged, 1.0),
                p50(&converged) / p50(&f.emit.every),
            ));
        }
    }
    line(String::new());
    line("## 1 MB state changed by one key or one array element: bytes over IPC per update".into());
    line(String::new());
    line("| change | receiving windows | state (JSON) | channel message | pull response (since the revision before) | fetches per window and update | bytes per window and update |".into());
    line("|---|---|---|---|---|---|---|".into());
    for f in all {
        for (name, b) in [("one key", &f.large_bytes), ("one array element", &f.large_list_bytes)] {
            line(format!(
                "| {name} | {} | {} B | {} B | {} B | {:.2} | {:.0} B |",
                f.windows,
                b.state,
                b.event,
                b.pull,
                b.fetches_per_update,
                b.event as f64 + b.fetches_per_update * b.pull as f64,
            ));
        }
    }
    line(String::new());
    line(format!(
        "Samples per row: {} writes for each latency row ({} for the 1 MB state), {} bare invokes ({} returning 1 MB). The app ran for {:.0} s.",
        first.rust_write.writes(),
        first.large.writes(),
        first.invoke.intervals.len() + 1,
        first.invoke_large.intervals.len() + 1,
        elapsed.as_secs_f64(),
    ));
    print!("{out}");
}

/// The contention table: one row per number of windows and way of writing.
fn contention(runs: &[Run], line: &mut impl FnMut(String)) {
    line("## Contention: windows each adding one 200 times to one counter, all at once".into());
    line(String::new());
    line("| writing windows | how | exact total | conflicts per window: mean / max | longest run of conflicts | time to finish (ms) |".into());
    line("|---|---|---|---|---|---|".into());
    for run in runs {
        let total: u64 = run.conflicts.iter().sum();
        let mean = total as f64 / run.conflicts.len().max(1) as f64;
        line(format!(
            "| {} | {} | yes | {:.1} / {} | {} | {:.0} |",
            run.windows,
            run.strategy,
            mean,
            run.conflicts.iter().max().unwrap_or(&0),
            run.longest,
            run.finish.as_secs_f64() * 1e3,
        ));
    }
}
