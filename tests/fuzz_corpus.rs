//! The smoke run of every fuzz target in CI: replays the committed corpus
//! (`fuzz/corpus/<target>`, the fuzzer's seeds) and every input a fuzz run
//! found to crash (`fuzz/regressions/<target>`) through the same entry
//! points that `bash .ci/fuzz` fuzzes. Built only with `--features fuzzing`.

mod common;

use std::{
    fs,
    path::{Path, PathBuf},
};

use tauri_plugin_state_sync::{fuzzing, Builder, StateSyncExt};

use common::Harness;

/// Every input kept for `target`, with its path for failure messages.
fn inputs(target: &str) -> Vec<(PathBuf, Vec<u8>)> {
    let fuzz = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz");
    let mut inputs = Vec::new();
    for kind in ["corpus", "regressions"] {
        let Ok(entries) = fs::read_dir(fuzz.join(kind).join(target)) else {
            continue;
        };
        for entry in entries {
            let path = entry.expect("read a corpus entry").path();
            let bytes = fs::read(&path).expect("read a corpus file");
            inputs.push((path, bytes));
        }
    }
    assert!(!inputs.is_empty(), "no corpus for {target}");
    inputs.sort();
    inputs
}

/// Runs `check` on every input of `target`, naming the input that fails.
fn replay(target: &str, check: impl Fn(&[u8])) {
    for (path, bytes) in inputs(target) {
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| check(&bytes)));
        assert!(outcome.is_ok(), "{target}: {} breaks a rule", path.display());
    }
}

#[test]
fn the_command_arguments_corpus_keeps_every_rule() {
    replay("command_arguments", fuzzing::command_arguments);
}

#[test]
fn the_revision_corpus_keeps_every_rule() {
    replay("revision", fuzzing::revision);
}

#[test]
fn the_merge_patches_corpus_keeps_every_rule() {
    let harness = Harness::new(Builder::new());
    let sync = harness.app.state_sync();
    replay("merge_patches", |bytes| fuzzing::merge_patches(sync, "fuzz", bytes));
}

#[test]
fn the_persisted_file_corpus_keeps_every_rule() {
    let dir = std::env::temp_dir().join(format!("state-sync-fuzz-corpus-{}", std::process::id()));
    replay("persisted_file", |bytes| fuzzing::persisted_file(&dir, bytes));
    let _ = fs::remove_dir_all(&dir);
}
