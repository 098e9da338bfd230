//! The smoke run of every fuzz target in CI: replays the committed corpus
//! (`fuzz/corpus/<target>`, the fuzzer's seeds) and every input a fuzz run
//! found to crash (`fuzz/regressions/<target>`) through the same entry
//! points that `bash .ci/fuzz` fuzzes. Built only with `--features fuzzing`.
//!
//! With `STATE_SYNC_FUZZ_MUTATIONS=N`, each target also runs N inputs made
//! by mutating its seeds at random (not coverage-guided: for machines where
//! the afl build of `bash .ci/fuzz` is out of reach). An input that breaks a
//! rule is saved in `fuzz/regressions/<target>/`.

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

/// Runs `check` on every input of `target`, naming the input that fails,
/// then on the mutations asked for.
fn replay(target: &str, check: impl Fn(&[u8])) {
    let kept = inputs(target);
    for (path, bytes) in &kept {
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| check(bytes)));
        assert!(outcome.is_ok(), "{target}: {} breaks a rule", path.display());
    }
    let count: u64 = std::env::var("STATE_SYNC_FUZZ_MUTATIONS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    if count == 0 {
        return;
    }
    let mut rng = fastrand::Rng::with_seed(count);
    let seeds: Vec<&[u8]> = kept.iter().map(|(_, bytes)| bytes.as_slice()).collect();
    for run in 0..count {
        let input = mutate(&mut rng, &seeds);
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| check(&input)));
        if outcome.is_err() {
            let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/regressions").join(target);
            fs::create_dir_all(&dir).unwrap();
            let path = dir.join(format!("mutation-{count}-{run}"));
            fs::write(&path, &input).unwrap();
            panic!("{target}: mutation {run} breaks a rule; saved as {}", path.display());
        }
    }
    eprintln!("{target}: {count} mutated inputs kept every rule");
}

/// One seed changed by one to four random edits, or two seeds spliced.
fn mutate(rng: &mut fastrand::Rng, seeds: &[&[u8]]) -> Vec<u8> {
    const TOKENS: &[&[u8]] = &[
        b"{", b"}", b"[", b"]", b",", b":", b"\"", b"null", b"0", b"-1", b"1e3", b"\"a\"",
        b"\"expectedRevision\"", b"\"data\"", b"\"revision\"", b"\"lease\"",
        b"\"schemaVersion\"", b"\\u0000", b"18446744073709551615", b"[[[[[[[[", b"{\"a\":",
    ];
    let mut input = seeds[rng.usize(..seeds.len())].to_vec();
    for _ in 0..rng.usize(1..=4) {
        let at = rng.usize(..=input.len());
        match rng.u8(..5) {
            0 if !input.is_empty() => {
                let end = rng.usize(at.min(input.len() - 1)..input.len());
                input.drain(at.min(end)..end);
            }
            1 if at < input.len() => input[at] ^= 1 << rng.u8(..8),
            2 => {
                let token = TOKENS[rng.usize(..TOKENS.len())];
                for _ in 0..rng.usize(1..=3) {
                    input.splice(at..at, token.iter().copied());
                }
            }
            3 => {
                let other = seeds[rng.usize(..seeds.len())];
                let from = rng.usize(..=other.len());
                input.splice(at..at, other[from..].iter().copied());
            }
            _ => input.insert(at, rng.u8(..)),
        }
    }
    input
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
