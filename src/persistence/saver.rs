//! Saving persisted topics: debounced after changes, on `flush`, and at exit.
//!
//! Each persisted topic has its own save lock, held for the file I/O of that
//! topic only. It is never taken while a topic's data lock is held, and the
//! data lock is never taken while it is held: a save reads a snapshot (an
//! `Arc` clone) and writes it out, so commands and writers never wait on
//! the disk.

use std::{
    collections::HashMap,
    path::{Path, PathBuf},
    sync::{Arc, Mutex, MutexGuard},
    time::Duration,
};

use tauri::{AppHandle, Runtime};
use tokio::time::{timeout_at, Instant};

use super::{
    file::{self, LEASE_SPAN},
    Persistence, PersistenceError, ProblemKind,
};
use crate::{invalidation::Delivery, topic::TopicCell, Error, Result, Revision};

/// Called with every persistence problem, in addition to the log and the event.
pub(crate) type Hook = Arc<dyn Fn(&PersistenceError) + Send + Sync>;

/// Timing and location shared by every persisted topic.
#[derive(Clone)]
pub(crate) struct Settings {
    pub(crate) dir: PathBuf,
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

    /// Writes the current snapshot of `cell` unless it is already on disk.
    ///
    /// A `clean` save (at exit) sets the lease to the revision itself, so the
    /// next start resumes exactly there.
    fn save(&self, cell: &TopicCell, clean: bool) -> std::io::Result<bool> {
        let Some(mut on_disk) = self.lock() else {
            return Ok(false);
        };
        let snapshot = cell.snapshot();
        let lease = if clean {
            snapshot.revision
        } else {
            Revision::new(snapshot.revision.get().saturating_add(LEASE_SPAN))
        };
        if let Some(saved) = *on_disk {
            let fresh = saved.revision == snapshot.revision;
            if fresh && (!clean || saved.lease == lease) {
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

/// The persisted topics of an app and the problems met with them.
pub(crate) struct Persister {
    topics: HashMap<Arc<str>, Arc<PersistedTopic>>,
    settings: Settings,
    problems: Mutex<Vec<PersistenceError>>,
}

/// The outcome of loading one topic: what to start it with.
pub(crate) struct Start {
    pub(crate) data: serde_json::Value,
    pub(crate) revision: Revision,
}

impl Persister {
    pub(crate) fn new(settings: Settings) -> Self {
        Persister {
            topics: HashMap::new(),
            settings,
            problems: Mutex::new(Vec::new()),
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

    /// Loads `topic` from disk, reporting and recovering from any problem,
    /// and registers it for saving. Runs at setup, before any window exists.
    pub(crate) fn load<R: Runtime>(
        &mut self,
        app: &AppHandle<R>,
        topic: &str,
        options: Persistence,
        initial: serde_json::Value,
        schema: Option<&crate::topic::Schema>,
    ) -> Start {
        let path = Self::path_of(&self.settings.dir, topic);
        let mut saving = true;
        file::remove_stale_temporaries(&path);
        let start = match file::load(&path, &options, schema, topic) {
            Ok(None) => Start {
                data: initial,
                revision: Revision::ZERO,
            },
            Ok(Some(loaded)) => Start {
                data: options.restore(loaded.data, &initial),
                revision: loaded.revision,
            },
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
                Start {
                    data: initial,
                    revision: file::fallback_revision(problem.seen),
                }
            }
        };
        self.topics.insert(
            topic.into(),
            Arc::new(PersistedTopic {
                name: topic.into(),
                path,
                options,
                on_disk: saving.then(|| Mutex::new(None)),
            }),
        );
        start
    }

    /// Writes every persisted topic once, taking this run's revision lease,
    /// and starts the debounced saver of each.
    pub(crate) fn start<R: Runtime>(
        self: &Arc<Self>,
        app: &AppHandle<R>,
        cell_of: impl Fn(&str) -> Result<Arc<TopicCell>>,
    ) {
        let Settings { debounce, max_wait, .. } = self.settings;
        for topic in self.topics.values() {
            let Ok(cell) = cell_of(&topic.name) else { continue };
            if let Err(err) = topic.save(&cell, false) {
                self.report_save(app, topic, &err);
            }
            if topic.on_disk.is_some() {
                tauri::async_runtime::spawn(debounced_saves(
                    app.clone(),
                    self.clone(),
                    topic.clone(),
                    cell,
                    debounce,
                    max_wait,
                ));
            }
        }
    }

    /// Saves every persisted topic that changed since its last save.
    pub(crate) fn flush<R: Runtime>(
        &self,
        app: &AppHandle<R>,
        clean: bool,
        cell_of: impl Fn(&str) -> Result<Arc<TopicCell>>,
    ) -> Result<()> {
        let mut first_error = None;
        for topic in self.topics.values() {
            let Ok(cell) = cell_of(&topic.name) else { continue };
            if let Err(err) = topic.save(&cell, clean) {
                self.report_save(app, topic, &err);
                first_error.get_or_insert(Error::Persistence {
                    topic: Some(topic.name.to_string()),
                    message: err.to_string(),
                });
            }
        }
        first_error.map_or(Ok(()), Err)
    }

    pub(crate) fn problems(&self) -> Vec<PersistenceError> {
        self.problems.lock().unwrap_or_else(|p| p.into_inner()).clone()
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
        self.problems
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(problem);
    }
}

/// Saves `topic` once changes have paused for `debounce`, or at the latest
/// `max_wait` after the first unsaved change. Ends when the topic is removed.
async fn debounced_saves<R: Runtime>(
    app: AppHandle<R>,
    persister: Arc<Persister>,
    topic: Arc<PersistedTopic>,
    cell: Arc<TopicCell>,
    debounce: Duration,
    max_wait: Duration,
) {
    let mut changes = cell.subscribe();
    while changes.changed().await.is_ok() {
        let latest = Instant::now() + max_wait;
        loop {
            let deadline = (Instant::now() + debounce).min(latest);
            match timeout_at(deadline, changes.changed()).await {
                Ok(Ok(())) => continue,
                Ok(Err(_)) | Err(_) => break,
            }
        }
        let (saving, cell) = (topic.clone(), cell.clone());
        let saved = tauri::async_runtime::spawn_blocking(move || saving.save(&cell, false)).await;
        match saved {
            Ok(Ok(_)) => {}
            Ok(Err(err)) => persister.report_save(&app, &topic, &err),
            Err(join) => log::error!("state-sync: saving `{}` panicked: {join}", topic.name),
        }
    }
}
