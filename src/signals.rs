//! Stopping on SIGINT (Ctrl+C) and SIGTERM as a clean exit, not a crash.
//!
//! See [`crate::Builder::stop_on_signals`] for what the user sees. The first
//! signal saves every persisted topic with its lease (durable even if the
//! exit is then cut short) and asks Tauri to exit, so the normal exit path
//! runs and the plugin's exit flush gives the lease up. A second signal, a
//! runtime that cannot exit, or an exit that has not finished within
//! [`EXIT_GRACE`] ends the process with the signal's default action, so the
//! handler never makes the process hard to stop.

use std::time::Duration;

use tauri::{AppHandle, Runtime};

/// How long the exit that a first signal starts may take before the process
/// ends as the signal would have ended it. The topics were saved before the
/// exit began, so cutting it short loses nothing that was acknowledged.
pub(crate) const EXIT_GRACE: Duration = Duration::from_secs(10);

/// Installs the handler for the life of the process, on a thread of its own.
/// A failure to install is logged: the app runs, as it would without one.
#[cfg(unix)]
pub(crate) fn stop_on_signals<R: Runtime>(app: &AppHandle<R>) {
    use signal_hook::{
        consts::{SIGINT, SIGTERM},
        iterator::Signals,
        low_level::{emulate_default_handler, signal_name},
    };
    use tauri::Manager;

    let mut signals = match Signals::new([SIGINT, SIGTERM]) {
        Ok(signals) => signals,
        Err(err) => {
            log::warn!("state-sync: cannot handle SIGINT and SIGTERM: {err}");
            return;
        }
    };
    let app = app.clone();
    let spawned = std::thread::Builder::new()
        .name("state-sync-signals".into())
        .spawn(move || {
            let mut stopping = false;
            for signal in signals.forever() {
                let name = signal_name(signal).unwrap_or("signal");
                if stopping {
                    log::warn!("state-sync: {name} again: ending the process now");
                    let _ = emulate_default_handler(signal);
                    continue;
                }
                stopping = true;
                log::info!("state-sync: {name}: saving persisted topics and exiting");
                // An exit that hangs (a window that never closes, an app's
                // own exit handler that blocks) must not keep the process up.
                let watchdog = std::thread::Builder::new()
                    .name("state-sync-exit-watchdog".into())
                    .spawn(move || {
                        std::thread::sleep(EXIT_GRACE);
                        log::error!(
                            "state-sync: the exit after {name} did not finish within {EXIT_GRACE:?}; ending the process as {name} would"
                        );
                        let _ = emulate_default_handler(signal);
                    });
                if let Err(err) = watchdog {
                    log::warn!("state-sync: cannot start the exit watchdog: {err}");
                }
                if let Some(sync) = app.try_state::<crate::StateSync<R>>() {
                    // Failures are reported by the persister; the exit goes on.
                    let _ = sync.flush();
                }
                // A signal must always end the process: if this runtime
                // cannot exit (the mock runtime panics), the default action does.
                let exit = std::panic::AssertUnwindSafe(|| app.exit(128 + signal));
                if std::panic::catch_unwind(exit).is_err() {
                    log::error!("state-sync: the app cannot exit; ending the process as {name} would");
                    let _ = emulate_default_handler(signal);
                }
            }
        });
    if let Err(err) = spawned {
        log::warn!("state-sync: cannot start the signal thread: {err}");
    }
}

/// Other platforms have no SIGINT or SIGTERM to handle.
#[cfg(not(unix))]
pub(crate) fn stop_on_signals<R: Runtime>(_app: &AppHandle<R>) {}
