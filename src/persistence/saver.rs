//! Saving persisted topics: a first save when the topic is created, debounced
//! saves after changes, `flush`, the last save when it is removed, and the
//! flush at exit.
//!
//! Persistence hangs off the topic's own lifecycle. A persisted topic's cell
//! holds its [`PersistedTopic`] (the file and what is on disk); creating the
//! topic subscribes to its change stream *before* the first save, so no
//! change can fall between the two, and spawns [`debounced_saves`], which
//! holds only that subscription. Removing the topic drops the cell, which
//! closes the stream: subscribers see their channel close, the saver writes
//! the final state and ends. There is no second list of persisted topics:
//! `flush` walks the live topics.
//!
//! Each persisted topic has its own save lock, held for the file I/O of that
//! topic only. It is never taken while a topic's data lock is held, and the
//! data lock is never taken while it is held: a save reads a snapshot (an
//! `Arc` clone) and writes it out, so commands and writers never wait on
//! the disk.

use std::{
    path::{Path, PathBuf},
    sync::{Arc, Mutex, MutexGuard},
    time::Duration,
};

use tauri::{AppHandle, Runtime};
use tokio::{
    sync::watch,
    time::{timeout_at, Instant},
};

use super::{
    file::{self, LEASE_SPAN},
    problems::Problems,
    Persistence, PersistenceError, ProblemKind,
};
use crate::{invalidation::Delivery, models::Snapshot, topic::TopicCell, Error, Result, Revision};

/// Called with every persistence problem, in addition to the log and the event.
pub(crate) type Hook = Arc<dyn Fn(&PersistenceError) + Send + Sync>;

/// Timing and location shared by every persisted topic.
#[derive(Clone)]
pub(crate) struct Settings {
    /// The persist directory, or why it could not be resolved.
    pub(crate) dir: std::result::Result<PathBuf, String>,
    pub(crate) debounce: Duration,
    pub(crate) max_wait: Duration,
    pub(crate) hook: Option<Hook>,
    /// Where problems are announced to windows.
    pub(crate) delivery: Arc<Delivery>,
}

/// What is on disk for one topic.
#[derive(Clone, Copy)]
struct OnDisk {
    revision: Revision,
    lease: Revision,
}

/// The file of one persisted topic and what this run last wrote to it.
pub(crate) struct PersistedTopic {
    name: Arc<str>,
    path: PathBuf,
    options: Persistence,
    /// `None` when saving is suspended for this run (failed migration, newer
    /// schema): the file is left as it is.
    on_disk: Option<Mutex<Option<OnDisk>>>,
}

impl PersistedTopic {
    fn lock(&self) -> Option<MutexGuard<'_, Option<OnDisk>>> {
        self.on_disk
            .as_ref()
            .map(|m| m.lock().unwrap_or_else(|poisoned| poisoned.into_inner()))
    }

    /// Writes the snapshot `read` returns unless it is already on disk.
    ///
    /// A snapshot older than what is on disk is never written over it. A `clean` save (at exit, or once the
    /// topic is removed) sets the lease to the revision itself, so the next
    /// start resumes exactly there.
    fn save(&self, read: impl FnOnce() -> Snapshot, clean: bool) -> std::io::Result<bool> {
        let Some(mut on_disk) = self.lock() else {
            return Ok(false);
        };
        let snapshot = read();
        let lease = if clean {
            snapshot.revision
        } else {
            Revision::new(snapshot.revision.get().saturating_add(LEASE_SPAN))
        };
        if let Some(saved) = *on_disk {
            let fresh = saved.revision == snapshot.revision;
            let stale = saved.revision > snapshot.revision;
            if stale || fresh && (!clean || saved.lease == lease) {
                return Ok(false);
            }
        }
        file::save(&self.path, &snapshot.data, snapshot.revision, lease, &self.options)?;
        *on_disk = Some(OnDisk {
            revision: snapshot.revision,
            lease,
        });
        Ok(true)
    }
}

/// Loads, saves and reports for every persisted topic of an app.
pub(crate) struct Persister {
    settings: Settings,
    problems: Problems,
}

/// The outcome of loading one topic: what to start it with, and its file.
pub(crate) struct Start {
    pub(crate) data: serde_json::Value,
    pub(crate) revision: Revision,
    pub(crate) file: Arc<PersistedTopic>,
}

impl Persister {
    pub(crate) fn new(settings: Settings) -> Self {
        Persister {
            settings,
            problems: Problems::default(),
        }
    }

    /// The file of `topic`: its name with every byte outside `[A-Za-z0-9_.-]`
    /// percent-encoded, so `user/prefs` becomes `user%2Fprefs.json`.
    pub(crate) fn path_of(dir: &Path, topic: &str) -> PathBuf {
        let mut name = String::with_capacity(topic.len() + 5);
        for byte in topic.bytes() {
            if byte.is_ascii_alphanumeric() || b"_.-".contains(&byte) {
                name.push(byte as char);
            } else {
                name.push_str(&format!("%{byte:02X}"));
            }
        }
        name.push_str(".json");
        dir.join(name)
    }

    /// Loads `topic` from disk, reporting and recovering from any problem
    /// with its file. Does blocking file I/O.
    ///
    /// # Errors
    ///
    /// [`Error::Persistence`] if the persist directory could not be resolved.
    pub(crate) fn load<R: Runtime>(
        &self,
        app: &AppHandle<R>,
        topic: &str,
        options: Persistence,
        initial: serde_json::Value,
        schema: Option<&crate::topic::Schema>,
    ) -> Result<Start> {
        let dir = self.settings.dir.as_ref().map_err(|message| Error::Persistence {
            topic: Some(topic.to_owned()),
            message: message.clone(),
        })?;
        let path = Self::path_of(dir, topic);
        let mut saving = true;
        file::remove_stale_temporaries(&path);
        let (data, revision) = match file::load(&path, &options, schema, topic) {
            Ok(None) => (initial, Revision::ZERO),
            Ok(Some(loaded)) => (options.restore(loaded.data, &initial), loaded.revision),
            Err(problem) => {
                let moved_to = match problem.kind {
                    ProblemKind::Migration | ProblemKind::NewerSchema => {
                        saving = false;
                        None
                    }
                    kind => file::move_aside(&path, kind)
                        .map(|to| to.display().to_string())
                        .ok(),
                };
                self.report(
                    app,
                    PersistenceError {
                        topic: topic.to_owned(),
                        kind: problem.kind,
                        message: problem.message,
                        file: path.display().to_string(),
                        moved_to,
                    },
                );
                (initial, file::fallback_revision(problem.seen))
            }
        };
        let file = Arc::new(PersistedTopic {
            name: topic.into(),
            path,
            options,
            on_disk: saving.then(|| Mutex::new(None)),
        });
        Ok(Start { data, revision, file })
    }

    /// Starts saving a topic just created with `file`: `changes` must have
    /// been subscribed to when the topic was created, before this first save,
    /// which takes this run's revision lease. Then spawns its debounced saver.
    pub(crate) fn watch<R: Runtime>(
        self: &Arc<Self>,
        app: &AppHandle<R>,
        file: Arc<PersistedTopic>,
        mut changes: watch::Receiver<Snapshot>,
    ) {
        if let Err(err) = file.save(|| changes.borrow_and_update().clone(), false) {
            self.report_save(app, &file, &err);
        }
        if file.on_disk.is_some() {
            tauri::async_runtime::spawn(debounced_saves(app.clone(), self.clone(), file, changes));
        }
    }

    /// Saves every persisted topic among `cells` that changed since its last save.
    pub(crate) fn flush<R: Runtime>(
        &self,
        app: &AppHandle<R>,
        clean: bool,
        cells: impl IntoIterator<Item = Arc<TopicCell>>,
    ) -> Result<()> {
        let mut first_error = None;
        for cell in cells {
            if let Err(err) = self.save_cell(app, &cell, clean) {
                first_error.get_or_insert(err);
            }
        }
        first_error.map_or(Ok(()), Err)
    }

    /// Saves `cell` if it is persisted and changed, reporting a failure.
    pub(crate) fn save_cell<R: Runtime>(&self, app: &AppHandle<R>, cell: &TopicCell, clean: bool) -> Result<()> {
        let Some(file) = cell.persisted() else { return Ok(()) };
        file.save(|| cell.snapshot(), clean).map(drop).map_err(|err| {
            self.report_save(app, file, &err);
            Error::Persistence {
                topic: Some(file.name.to_string()),
                message: err.to_string(),
            }
        })
    }

    pub(crate) fn problems(&self) -> Vec<PersistenceError> {
        self.problems.list()
    }

    fn report_save<R: Runtime>(&self, app: &AppHandle<R>, topic: &PersistedTopic, err: &std::io::Error) {
        self.report(
            app,
            PersistenceError {
                topic: topic.name.to_string(),
                kind: ProblemKind::Save,
                message: err.to_string(),
                file: topic.path.display().to_string(),
                moved_to: None,
            },
        );
    }

    fn report<R: Runtime>(&self, app: &AppHandle<R>, problem: PersistenceError) {
        log::error!("state-sync: {problem}");
        if let Some(hook) = &self.settings.hook {
            hook(&problem);
        }
        self.settings.delivery.announce_problem(app, &problem);
        self.problems.keep(problem);
    }
}

/// Saves `file` once changes have paused for the debounce time, or at the
/// latest the maximum wait after the first unsaved change.
///
/// Holds only a subscription to the topic, never the topic itself. When the
/// topic is removed the stream closes: the final state is saved with a clean
/// lease (no write can follow it) and the task ends.
async fn debounced_saves<R: Runtime>(
    app: AppHandle<R>,
    persister: Arc<Persister>,
    file: Arc<PersistedTopic>,
    mut changes: watch::Receiver<Snapshot>,
) {
    let Settings { debounce, max_wait, .. } = persister.settings;
    let mut open = true;
    while open {
        open = changes.changed().await.is_ok();
        if open {
            let latest = Instant::now() + max_wait;
            loop {
                let deadline = (Instant::now() + debounce).min(latest);
                match timeout_at(deadline, changes.changed()).await {
                    Ok(Ok(())) => continue,
                    Ok(Err(_)) => open = false,
                    Err(_elapsed) => {}
                }
                break;
            }
        }
        let (saving, latest) = (file.clone(), changes.borrow_and_update().clone());
        let clean = !open;
        let saved = tauri::async_runtime::spawn_blocking(move || saving.save(|| latest, clean)).await;
        match saved {
            Ok(Ok(_)) => {}
            Ok(Err(err)) => persister.report_save(&app, &file, &err),
            Err(join) => log::error!("state-sync: saving `{}` panicked: {join}", file.name),
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    /// Bug: the saver held the topic's cell, so a removed persisted topic's
    /// saver task never ended.
    #[test]
    fn the_saver_of_a_dropped_topic_saves_its_last_state_and_ends() {
        let app = tauri::test::mock_app();
        let dir = std::env::temp_dir().join(format!("state-sync-saver-ends-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let persister = Arc::new(Persister::new(Settings {
            dir: Ok(dir.clone()),
            debounce: Duration::from_secs(60),
            max_wait: Duration::from_secs(60),
            hook: None,
            delivery: Arc::new(Delivery::new(crate::Broadcast::default(), crate::DEFAULT_PUSH_LIMIT, crate::DEFAULT_PUSH_INTERVAL)),
        }));
        let start = persister.load(app.handle(), "t", Persistence::new(), json!(0), None).unwrap();
        let file = Arc::downgrade(&start.file);
        let cell = TopicCell::new("t".into(), start.data, start.revision, None).persisted_to(Some(start.file.clone()));
        persister.watch(app.handle(), start.file, cell.subscribe());
        let outcome = cell
            .write(None, "test", 0, |_| Ok(crate::topic::Proposal::new(Arc::new(json!(1)), true)))
            .map(|written| written.outcome)
            .unwrap();
        drop(cell);

        let started = std::time::Instant::now();
        while file.upgrade().is_some() {
            assert!(started.elapsed() < Duration::from_secs(5), "the saver task still runs");
            std::thread::sleep(Duration::from_millis(5));
        }
        let saved: serde_json::Value =
            serde_json::from_slice(&std::fs::read(dir.join("t.json")).unwrap()).unwrap();
        assert_eq!(saved["data"], 1, "the change pending in the debounce is saved");
        assert_eq!(saved["revision"], outcome.revision.to_string());
        assert_eq!(saved["lease"], outcome.revision.to_string(), "with a clean lease: nothing can follow it");
    }
}
