//! The on-disk form of a persisted topic, and how it is read back.
//!
//! A topic's file is a JSON object in the format of `tauri-plugin-store`, so
//! the official store APIs can read it:
//!
//! ```json
//! { "data": { "theme": "dark" }, "revision": "12", "lease": "1048588", "schemaVersion": 2 }
//! ```
//!
//! * `revision` is the revision of `data`.
//! * `lease` is the highest revision the running app may hand out before it
//!   saves again. A clean exit writes `lease == revision`; after a crash the
//!   topic resumes at `lease + 1`, above any revision the crashed run could
//!   have shown a window, so a revision never names two contents.
//! * `schemaVersion` selects the migrations to run at load.

use std::{
    fs,
    io::{self, Write},
    path::{Path, PathBuf},
};

use serde_json::{Map, Value};

use super::{Persistence, ProblemKind};
use crate::{
    depth,
    topic::{Schema, Unknown},
    Error, Revision,
};

/// How far ahead of the saved revision a running app may go between saves.
pub(crate) const LEASE_SPAN: u64 = 1 << 20;

/// A topic read back from disk.
#[derive(Debug, PartialEq)]
pub(crate) struct Loaded {
    pub(crate) data: Value,
    /// The revision to resume at.
    pub(crate) revision: Revision,
}

/// Why a file could not be used, and what the loader learned before failing.
#[derive(Debug)]
pub(crate) struct Problem {
    pub(crate) kind: ProblemKind,
    pub(crate) message: String,
    /// The highest revision the file proves was handed out, when readable.
    pub(crate) seen: Option<Revision>,
}

impl Problem {
    fn new(kind: ProblemKind, message: impl Into<String>, seen: Option<Revision>) -> Self {
        Problem {
            kind,
            message: message.into(),
            seen,
        }
    }
}

/// Reads `path`. `Ok(None)` means there is no file yet.
pub(crate) fn load(
    path: &Path,
    options: &Persistence,
    schema: Option<&Schema>,
    topic: &str,
) -> Result<Option<Loaded>, Problem> {
    let bytes = match read_regular(path) {
        Ok(bytes) => bytes,
        Err(err) if err.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(err) if err.kind() == io::ErrorKind::InvalidInput => {
            return Err(Problem::new(ProblemKind::NotAFile, err.to_string(), None))
        }
        Err(err) => return Err(Problem::new(ProblemKind::Unreadable, err.to_string(), None)),
    };
    let corrupt = |message: String| Problem::new(ProblemKind::Corrupt, message, None);
    let Value::Object(mut file) = serde_json::from_slice::<Value>(&bytes)
        .map_err(|err| corrupt(format!("not valid JSON: {err}")))?
    else {
        return Err(corrupt("the file is not a JSON object".into()));
    };
    let revision = header_revision(&file, "revision")?
        .ok_or_else(|| corrupt("the `revision` field is missing".into()))?;
    let lease = header_revision(&file, "lease")?.unwrap_or(revision).max(revision);
    let resume = if lease > revision {
        // The last run did not exit cleanly: skip everything it may have used.
        lease.next().unwrap_or(lease)
    } else {
        revision
    };
    let seen = Some(lease);
    let version = match file.get("schemaVersion") {
        None => 1,
        Some(value) => value
            .as_u64()
            .and_then(|v| u32::try_from(v).ok())
            .ok_or_else(|| corrupt(format!("`schemaVersion` must be a small integer, not {value}")))?,
    };
    let mut data = file
        .remove("data")
        .ok_or_else(|| Problem::new(ProblemKind::Corrupt, "the `data` field is missing", seen))?;
    if depth::exceeds(&data, depth::MAX_DEPTH) {
        return Err(Problem::new(ProblemKind::TooDeep, Error::TooDeep { limit: depth::MAX_DEPTH }.to_string(), seen));
    }

    if version > options.version {
        return Err(Problem::new(
            ProblemKind::NewerSchema,
            format!(
                "the file has schema version {version}, newer than this app's {}",
                options.version
            ),
            seen,
        ));
    }
    for from in version..options.version {
        let migrate = options.migrations.get(&from).ok_or_else(|| {
            Problem::new(
                ProblemKind::Migration,
                format!("no migration from schema version {from} to {}", from + 1),
                seen,
            )
        })?;
        let failed = |err: &dyn std::fmt::Display| {
            Problem::new(
                ProblemKind::Migration,
                format!("migration from schema version {from} to {} failed: {err}", from + 1),
                seen,
            )
        };
        data = migrate(data).map_err(|err| failed(&err))?;
        data = depth::accept(data).map_err(|err| failed(&err))?;
    }
    if let Some(schema) = schema {
        data = schema
            .validate(topic, data, Unknown::Drop)
            .map_err(|err| Problem::new(ProblemKind::InvalidData, err.to_string(), seen))?
            .0;
    }
    Ok(Some(Loaded {
        data,
        revision: resume,
    }))
}

fn header_revision(file: &Map<String, Value>, field: &str) -> Result<Option<Revision>, Problem> {
    file.get(field)
        .map(|value| {
            Revision::from_json(value).map_err(|err| {
                Problem::new(ProblemKind::Corrupt, format!("`{field}`: {err}"), None)
            })
        })
        .transpose()
}

/// The suffix of this plugin's temporary files. It marks them as ours: at
/// load, only files named `.<topic>.json.<random>.state-sync-tmp` are deleted.
pub(crate) const TEMP_SUFFIX: &str = ".state-sync-tmp";

/// Writes the file atomically: a temporary file in the same directory is
/// written, fsynced and renamed over `path`, and the directory is fsynced,
/// so a crash at any moment leaves either the old file or the new one.
///
/// The temporary file is named `.<topic>.json.<random>.state-sync-tmp`
/// (created by `tempfile`, readable by its owner only), so that the leftover
/// of a save killed mid-way can be told apart from anyone else's file.
pub(crate) fn save(
    path: &Path,
    data: &Value,
    revision: Revision,
    lease: Revision,
    options: &Persistence,
) -> io::Result<()> {
    /// The file, borrowing the data rather than copying it into a new `Value`.
    #[derive(serde::Serialize)]
    #[serde(rename_all = "camelCase")]
    struct File<'a> {
        data: &'a Value,
        revision: Revision,
        lease: Revision,
        schema_version: u32,
    }
    let data = options.filter(data);
    let file = File {
        data: &data,
        revision,
        lease,
        schema_version: options.version,
    };
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    fs::create_dir_all(dir)?;
    let mut prefix = std::ffi::OsString::from(".");
    prefix.push(path.file_name().unwrap_or_default());
    prefix.push(".");
    let mut temporary = tempfile::Builder::new()
        .prefix(&prefix)
        .suffix(TEMP_SUFFIX)
        .tempfile_in(dir)?;
    // serde_json writes token by token: buffer, or each token is a syscall.
    let mut buffered = io::BufWriter::new(temporary.as_file_mut());
    serde_json::to_writer_pretty(&mut buffered, &file)?;
    buffered.write_all(b"\n")?;
    buffered.flush()?;
    drop(buffered);
    temporary.as_file().sync_all()?;
    // On failure the temporary file is deleted when `temporary` drops.
    temporary.persist(path).map_err(|err| err.error)?;
    #[cfg(unix)]
    fs::File::open(dir)?.sync_all()?;
    Ok(())
}

/// Deletes the temporary files of saves killed mid-way next to `path`: only
/// `.<name>.<random>.state-sync-tmp`, the names [`save`] gives them, so a
/// user's `.settings.json.backup` is never touched. Runs at load, before this
/// process saves the topic.
pub(crate) fn remove_stale_temporaries(path: &Path) {
    let (Some(dir), Some(name)) = (path.parent(), path.file_name()) else {
        return;
    };
    let prefix = format!(".{}.", name.to_string_lossy());
    let Ok(entries) = fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let file_name = entry.file_name();
        let file_name = file_name.to_string_lossy();
        let ours = file_name
            .strip_prefix(&prefix)
            .and_then(|rest| rest.strip_suffix(TEMP_SUFFIX))
            .is_some_and(|random| !random.is_empty() && random.bytes().all(|b| b.is_ascii_alphanumeric()));
        if ours && entry.file_type().is_ok_and(|kind| kind.is_file()) {
            if let Err(err) = fs::remove_file(entry.path()) {
                log::warn!("state-sync: could not remove stale {}: {err}", entry.path().display());
            }
        }
    }
}

/// Reads `path` if it is a regular file (or a link to one).
///
/// Anything else fails with [`io::ErrorKind::InvalidInput`] naming what it
/// is. The file is opened without blocking, so a FIFO at the path cannot hold
/// up setup waiting for a writer, and checked after opening, so what is read
/// is what was checked.
fn read_regular(path: &Path) -> io::Result<Vec<u8>> {
    let mut options = fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(libc::O_NONBLOCK);
    }
    let mut file = options.open(path)?;
    let kind = file.metadata()?.file_type();
    if !kind.is_file() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("the path is {}, not a regular file", describe(kind)),
        ));
    }
    let mut bytes = Vec::new();
    io::Read::read_to_end(&mut file, &mut bytes)?;
    Ok(bytes)
}

/// What a non-regular file is, for people.
fn describe(kind: fs::FileType) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if kind.is_fifo() {
            return "a FIFO";
        }
        if kind.is_socket() {
            return "a socket";
        }
        if kind.is_block_device() || kind.is_char_device() {
            return "a device";
        }
    }
    if kind.is_dir() {
        "a directory"
    } else {
        "something other than a file"
    }
}

/// Moves an unusable file out of the way, keeping it, and returns where to.
pub(crate) fn move_aside(path: &Path, kind: ProblemKind) -> io::Result<PathBuf> {
    let stamp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis())
        .unwrap_or_default();
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(format!(".{}-{stamp}", kind.as_str()));
    let target = path.with_file_name(name);
    fs::rename(path, &target)?;
    Ok(target)
}

/// A revision to start from when a file's history is lost: the current time
/// in milliseconds, far above any count a previous run could have reached.
pub(crate) fn fallback_revision(seen: Option<Revision>) -> Revision {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or_default();
    match seen {
        Some(seen) => seen.next().unwrap_or(seen),
        None => Revision::new(now),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn dir() -> PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "state-sync-file-{}-{:?}",
            std::process::id(),
            std::thread::current().id()
        ));
        let _ = fs::remove_dir_all(&dir);
        dir
    }

    #[test]
    fn a_missing_file_loads_as_nothing() {
        let path = dir().join("nope.json");
        assert_eq!(load(&path, &Persistence::new(), None, "t").unwrap(), None);
    }

    #[test]
    fn a_clean_file_resumes_at_its_revision() {
        let path = dir().join("deep/missing/dirs/t.json");
        save(&path, &json!({"a": 1}), Revision::new(5), Revision::new(5), &Persistence::new()).unwrap();
        let loaded = load(&path, &Persistence::new(), None, "t").unwrap().unwrap();
        assert_eq!(loaded, Loaded { data: json!({"a": 1}), revision: Revision::new(5) });
    }

    #[test]
    fn an_unclean_file_resumes_above_its_lease() {
        let path = dir().join("t.json");
        save(&path, &json!(1), Revision::new(5), Revision::new(5 + LEASE_SPAN), &Persistence::new()).unwrap();
        let loaded = load(&path, &Persistence::new(), None, "t").unwrap().unwrap();
        assert_eq!(loaded.revision, Revision::new(6 + LEASE_SPAN));
    }

    #[test]
    fn omitted_keys_are_not_written() {
        let path = dir().join("t.json");
        let options = Persistence::new().omit_keys(["token"]);
        save(&path, &json!({"user": "ada", "token": "secret"}), Revision::ZERO, Revision::ZERO, &options).unwrap();
        let text = fs::read_to_string(&path).unwrap();
        assert!(!text.contains("secret"), "{text}");
        assert!(text.contains("ada"));
    }

    #[test]
    fn migrations_run_in_order_from_the_file_version() {
        let path = dir().join("t.json");
        save(&path, &json!({"n": 1}), Revision::new(3), Revision::new(3), &Persistence::new()).unwrap();
        let options = Persistence::new()
            .version(3)
            .migration(2, |mut v| {
                v["n"] = json!(v["n"].as_i64().unwrap() * 10);
                Ok(v)
            })
            .migration(1, |mut v| {
                v["n"] = json!(v["n"].as_i64().unwrap() + 1);
                Ok(v)
            });
        let loaded = load(&path, &options, None, "t").unwrap().unwrap();
        assert_eq!(loaded.data, json!({"n": 20}));
    }

    #[test]
    fn unusable_files_are_classified() {
        let path = dir().join("t.json");
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        let cases: [(&[u8], ProblemKind); 5] = [
            (b"{\"data\": {\"a\": 1}, \"revis", ProblemKind::Corrupt),
            (b"", ProblemKind::Corrupt),
            (b"[1, 2]", ProblemKind::Corrupt),
            (b"{\"data\": 1, \"revision\": \"01\"}", ProblemKind::Corrupt),
            (b"{\"data\": 1, \"revision\": \"4\", \"schemaVersion\": 9}", ProblemKind::NewerSchema),
        ];
        for (bytes, kind) in cases {
            fs::write(&path, bytes).unwrap();
            let problem = load(&path, &Persistence::new(), None, "t").unwrap_err();
            assert_eq!(problem.kind, kind, "{}", String::from_utf8_lossy(bytes));
        }
    }
}
