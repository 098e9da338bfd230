//! The IPC commands. Each one parses its arguments and makes one call into
//! [`crate::StateSync`]; the rules live there.
//!
//! Arguments are parsed here rather than by Tauri so that every malformed
//! call answers with the plugin's typed [`Error`], and unknown argument names
//! are refused: a misspelt `expectedRevision` must not turn a compare-and-set
//! into a blind write.
//!
//! What a write's answer reveals of a topic (the data a conflict or an
//! action outcome carries) is checked in one place, [`may_read`].

use serde::{de::DeserializeOwned, Deserialize};
use serde_json::Value;
use tauri::{
    ipc::{InvokeBody, Request},
    command, AppHandle, Runtime, Webview,
};

use crate::{
    models::{ActionOutcome, Snapshot, Source, TopicInfo, TopicSnapshot, WriteOutcome},
    persistence::PersistenceError,
    state_sync::Change,
    Error, Result, Revision, StateSyncExt,
};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SnapshotArgs {
    topic: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SnapshotsArgs {
    topics: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct SetArgs {
    topic: String,
    data: Value,
    #[serde(default)]
    expected_revision: Option<Value>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct PatchArgs {
    topic: String,
    patch: Value,
    #[serde(default)]
    expected_revision: Option<Value>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ActArgs {
    topic: String,
    action: String,
    #[serde(default)]
    args: Value,
}

/// Deserializes a command's arguments, naming the offending one on failure.
fn parse<T: DeserializeOwned>(request: &Request<'_>) -> Result<T> {
    match request.body() {
        InvokeBody::Json(args) => serde_path_to_error::deserialize(args).map_err(|err| {
            let path = err.path().to_string();
            let argument = (path != ".").then_some(path);
            Error::invalid_argument(argument, err.into_inner().to_string())
        }),
        InvokeBody::Raw(_) => Err(Error::invalid_argument(
            None,
            "expected a JSON object of arguments, got raw bytes",
        )),
    }
}

fn expected(revision: Option<Value>) -> Result<Option<Revision>> {
    revision.as_ref().map(Revision::from_json).transpose()
}

fn source<R: Runtime>(webview: &Webview<R>) -> Source {
    Source::Webview(webview.label().to_owned())
}

/// Whether `webview` may read `topic`, and so may receive its data in the
/// answer to a write: the one place that decides it. Today a window may read
/// every topic when its capabilities allow the `snapshot` command.
fn may_read<R: Runtime>(webview: &Webview<R>, _topic: &str) -> bool {
    matches!(
        webview.resolve_command_scope::<Value>("state-sync", "snapshot"),
        Ok(Some(_))
    )
}

/// The answer to a write from `webview`: a conflict keeps the data it
/// carries only for a window that may read the topic.
fn answer<R: Runtime>(
    webview: &Webview<R>,
    topic: &str,
    result: Result<WriteOutcome>,
) -> Result<WriteOutcome> {
    result.map_err(|err| match err {
        Error::Conflict { .. } if !may_read(webview, topic) => err.without_data(),
        err => err,
    })
}

#[command]
pub(crate) async fn snapshot<R: Runtime>(
    app: AppHandle<R>,
    request: Request<'_>,
) -> Result<Snapshot> {
    let args: SnapshotArgs = parse(&request)?;
    app.state_sync().get(&args.topic)
}

#[command]
pub(crate) async fn snapshots<R: Runtime>(
    app: AppHandle<R>,
    request: Request<'_>,
) -> Result<Vec<TopicSnapshot>> {
    let args: SnapshotsArgs = parse(&request)?;
    app.state_sync().get_many(&args.topics)
}

#[command]
pub(crate) async fn topics<R: Runtime>(app: AppHandle<R>) -> Result<Vec<TopicInfo>> {
    Ok(app.state_sync().topics())
}

#[command]
pub(crate) async fn set<R: Runtime>(
    webview: Webview<R>,
    request: Request<'_>,
) -> Result<WriteOutcome> {
    let args: SetArgs = parse(&request)?;
    let sync = webview.state_sync();
    sync.check_payload(&args.data)?;
    let expected = expected(args.expected_revision)?;
    let result = sync.write(&args.topic, Change::Replace(args.data), expected, source(&webview));
    answer(&webview, &args.topic, result)
}

#[command]
pub(crate) async fn patch<R: Runtime>(
    webview: Webview<R>,
    request: Request<'_>,
) -> Result<WriteOutcome> {
    let args: PatchArgs = parse(&request)?;
    let sync = webview.state_sync();
    sync.check_payload(&args.patch)?;
    let expected = expected(args.expected_revision)?;
    let result = sync.write(&args.topic, Change::Merge(args.patch), expected, source(&webview));
    answer(&webview, &args.topic, result)
}

#[command]
pub(crate) async fn act<R: Runtime>(
    webview: Webview<R>,
    request: Request<'_>,
) -> Result<ActionOutcome> {
    let args: ActArgs = parse(&request)?;
    let sync = webview.state_sync();
    sync.check_payload(&args.args)?;
    let mut outcome = sync.act_as(&args.topic, &args.action, &args.args, source(&webview))?;
    if !may_read(&webview, &args.topic) {
        outcome.data = None;
    }
    Ok(outcome)
}

#[command]
pub(crate) async fn flush<R: Runtime>(app: AppHandle<R>) -> Result<()> {
    let flushing = app.clone();
    tauri::async_runtime::spawn_blocking(move || flushing.state_sync().flush())
        .await
        .map_err(|err| Error::Persistence {
            topic: None,
            message: format!("the flush task failed: {err}"),
        })?
}

#[command]
pub(crate) async fn persistence_errors<R: Runtime>(
    app: AppHandle<R>,
) -> Result<Vec<PersistenceError>> {
    Ok(app.state_sync().persistence_errors())
}
