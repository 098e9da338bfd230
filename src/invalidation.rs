//! The one place where events leave the plugin.
//!
//! Every change to every topic is announced through [`announce`], and every
//! persistence problem through [`announce_problem`]. Restricting delivery to
//! the windows allowed to read a topic belongs here.

use tauri::{AppHandle, Emitter, Runtime};

use crate::{
    models::{Invalidation, INVALIDATION_EVENT},
    persistence::{PersistenceError, PERSISTENCE_ERROR_EVENT},
};

/// Emits `event` to every listener, Rust and webview alike.
///
/// The change is already committed when this runs, so a failed emit is logged
/// and not returned: windows that miss the event heal on their next resync.
pub(crate) fn announce<R: Runtime>(app: &AppHandle<R>, event: &Invalidation) {
    if let Err(err) = app.emit(INVALIDATION_EVENT, event) {
        log::warn!(
            "state-sync: could not announce `{}` at revision {}: {err}",
            event.topic,
            event.revision
        );
    }
}

/// Emits a persistence problem to every listener. Failures are logged.
pub(crate) fn announce_problem<R: Runtime>(app: &AppHandle<R>, problem: &PersistenceError) {
    if let Err(err) = app.emit(PERSISTENCE_ERROR_EVENT, problem) {
        log::warn!("state-sync: could not emit {PERSISTENCE_ERROR_EVENT}: {err}");
    }
}
