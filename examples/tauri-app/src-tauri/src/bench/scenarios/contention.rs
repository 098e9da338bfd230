//! Contention: 2, 4 and 8 windows each add one to the same counter 200 times
//! at full speed, all at once, with three ways of writing:
//!
//! * `act`: the `increment` action, run in Rust on the latest state;
//! * `update`: `handle.update()`, a compare-and-set whose conflict carries the
//!   current state, so the loser retries at once;
//! * `update, refetch`: the same compare-and-set as `update()` did before
//!   conflicts carried the state: after each conflict the window refetches the
//!   snapshot (`handle.refresh()`) before it retries.
//!
//! Each window counts the `REVISION_CONFLICT` answers its writes met and the
//! longest run of them in a row (by wrapping its transport); the time to
//! finish is taken here, from the start signal until the last window is done.
//! The total is checked: no increment may be lost.

use std::time::{Duration, Instant};

use serde_json::{json, Value};
use tauri_plugin_state_sync::StateSyncExt;

use super::{Bench, Result};

/// The contended topic: `{ "value": n }`, with the action `increment { by }`.
pub(in crate::bench) const CONTENDED: &str = "bench-counter";
/// The numbers of writing windows.
const WRITERS: [usize; 3] = [2, 4, 8];
/// Increments per window.
const INCREMENTS: u64 = 200;
/// The ways of writing, as the page names them, with their label in the table.
const STRATEGIES: [(&str, &str); 3] = [
    ("act", "`act('increment')`"),
    ("update", "`update()`, conflict carries the state"),
    (
        "update-refetch",
        "`update()` before: refetch after each conflict",
    ),
];
const RUN_TIMEOUT: Duration = Duration::from_secs(180);

/// One run: `windows` windows writing with `strategy`.
pub(in crate::bench) struct Run {
    pub(in crate::bench) windows: usize,
    pub(in crate::bench) strategy: &'static str,
    /// `REVISION_CONFLICT` answers per window.
    pub(in crate::bench) conflicts: Vec<u64>,
    /// The longest run of consecutive conflicts in any window.
    pub(in crate::bench) longest: u64,
    /// From the start signal until the last window finished.
    pub(in crate::bench) finish: Duration,
}

impl Bench<'_> {
    /// Every strategy with 2, 4 and 8 of the receiving windows writing.
    pub(super) fn contention(&mut self) -> Result<Vec<Run>> {
        let mut runs = Vec::new();
        for windows in WRITERS {
            let writers: Vec<String> = self.receivers.iter().take(windows).cloned().collect();
            if writers.len() < windows {
                return Err(format!(
                    "contention needs {windows} windows, {} are open",
                    writers.len()
                )
                .into());
            }
            for (strategy, label) in STRATEGIES {
                eprintln!("bench: contention, {windows} windows, {strategy}");
                runs.push(self.contend(&writers, strategy, label)?);
            }
        }
        Ok(runs)
    }

    fn contend(&mut self, writers: &[String], strategy: &str, label: &'static str) -> Result<Run> {
        let start = self
            .app
            .state_sync()
            .set(CONTENDED, json!({ "value": 0 }))?;
        self.ask(writers, "contend-open")?;
        let began = Instant::now();
        let instruction = json!({ "op": "contend", "strategy": strategy, "times": INCREMENTS });
        for label in writers {
            self.instruct(label, &instruction)?;
        }
        let reports: Vec<Value> = writers
            .iter()
            .map(|label| self.await_done(label, "contend", RUN_TIMEOUT))
            .collect::<Result<_>>()?;
        let finish = began.elapsed();
        self.ask(writers, "contend-close")?;

        let end = self.app.state_sync().get(CONTENDED)?;
        let expected = INCREMENTS * writers.len() as u64;
        if end.data["value"] != json!(expected) {
            return Err(format!(
                "{strategy}: the counter ended at {}, not {expected}",
                end.data
            )
            .into());
        }
        if end.revision.get() - start.revision.get() != expected {
            return Err(format!(
                "{strategy}: {} revisions for {expected} increments",
                end.revision.get() - start.revision.get()
            )
            .into());
        }
        let field = |report: &Value, name: &str| {
            report[name]
                .as_u64()
                .ok_or_else(|| format!("a window reported no `{name}`: {report}"))
        };
        let conflicts = reports
            .iter()
            .map(|r| field(r, "conflicts"))
            .collect::<Result<Vec<_>, _>>()?;
        let longest = reports
            .iter()
            .map(|r| field(r, "longest"))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Run {
            windows: writers.len(),
            strategy: label,
            conflicts,
            longest: longest.into_iter().max().unwrap_or(0),
            finish,
        })
    }
}
