//! The IPC commands. Each one parses its arguments, checks the calling
//! webview's scope for every topic it names (see `scope`), and makes one call
//! into [`crate::StateSync`]; the rules live there.
//!
//! Arguments are parsed here rather than by Tauri so that every malformed
//! call answers with the plugin's typed [`Error`], and unknown argument names
//! are refused: a misspelt `expectedRevision` must not turn a compare-and-set
//! into a blind write.

use serde::{de::DeserializeOwned, Deserialize};
use serde_json::Value;
use tauri::{
    ipc::{CommandScope, InvokeBody, JavaScriptChannelId, Request},
    command, AppHandle, Runtime, Webview,
};

use crate::{
    models::{Snapshot, Source, TopicInfo, TopicSnapshot, WriteOutcome},
    persistence::PersistenceError,
    scope::{Access, TopicPattern, TopicScope},
    state_sync::Change,
    validate_topic_name, Error, Result, Revision, StateSyncExt,
};

/// The scope Tauri resolved for this call from the webview's capabilities.
type Scope = CommandScope<TopicPattern>;

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
#[serde(deny_unknown_fields)]
struct SubscribeArgs {
    topic: String,
    channel: JavaScriptChannelId,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct UnsubscribeArgs {
    id: u64,
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

/// The caller's read scope; a read command also tells delivery about it, so
/// that a scope changed at run time reaches the cache.
fn readable<R: Runtime>(webview: &Webview<R>, scope: &Scope) -> TopicScope {
    let scope = TopicScope::from(scope);
    webview.state_sync().delivery().observe(webview, &scope);
    scope
}

/// The caller's write scope.
fn writable<R: Runtime>(webview: &Webview<R>, scope: &Scope) -> TopicScope {
    let scope = TopicScope::from(scope);
    webview.state_sync().delivery().note(&scope);
    scope
}

/// Checks a topic a window names: a malformed name first, then the scope,
/// before anything reveals whether the topic exists.
fn permit(scope: &TopicScope, topic: &str, access: Access) -> Result<()> {
    validate_topic_name(topic)?;
    scope.check(topic, access)
}

#[command]
pub(crate) async fn snapshot<R: Runtime>(
    webview: Webview<R>,
    request: Request<'_>,
    scope: Scope,
) -> Result<Snapshot> {
    let args: SnapshotArgs = parse(&request)?;
    permit(&readable(&webview, &scope), &args.topic, Access::Read)?;
    webview.state_sync().get(&args.topic)
}

#[command]
pub(crate) async fn snapshots<R: Runtime>(
    webview: Webview<R>,
    request: Request<'_>,
    scope: Scope,
) -> Result<Vec<TopicSnapshot>> {
    let args: SnapshotsArgs = parse(&request)?;
    let read = readable(&webview, &scope);
    // Every topic is checked before any is read, so a refusal reveals nothing.
    for topic in &args.topics {
        permit(&read, topic, Access::Read)?;
    }
    webview.state_sync().get_many(&args.topics)
}

#[command]
pub(crate) async fn topics<R: Runtime>(webview: Webview<R>, scope: Scope) -> Result<Vec<TopicInfo>> {
    readable(&webview, &scope).filter(webview.state_sync().topics(), |info| &info.topic)
}

#[command]
pub(crate) async fn subscribe<R: Runtime>(
    webview: Webview<R>,
    request: Request<'_>,
    scope: Scope,
) -> Result<u64> {
    let args: SubscribeArgs = parse(&request)?;
    let read = readable(&webview, &scope);
    permit(&read, &args.topic, Access::Read)?;
    let channel = args.channel.channel_on(webview.clone());
    Ok(webview.state_sync().delivery().subscribers.subscribe(
        webview.label(),
        webview.window().label(),
        read,
        &args.topic,
        channel,
    ))
}

#[command]
pub(crate) async fn unsubscribe<R: Runtime>(webview: Webview<R>, request: Request<'_>) -> Result<()> {
    let args: UnsubscribeArgs = parse(&request)?;
    webview
        .state_sync()
        .delivery()
        .subscribers
        .unsubscribe(webview.label(), args.id);
    Ok(())
}

#[command]
pub(crate) async fn set<R: Runtime>(
    webview: Webview<R>,
    request: Request<'_>,
    scope: Scope,
) -> Result<WriteOutcome> {
    let args: SetArgs = parse(&request)?;
    permit(&writable(&webview, &scope), &args.topic, Access::Write)?;
    let sync = webview.state_sync();
    sync.check_payload(&args.data)?;
    let expected = expected(args.expected_revision)?;
    sync.write(&args.topic, Change::Replace(args.data), expected, source(&webview))
}

#[command]
pub(crate) async fn patch<R: Runtime>(
    webview: Webview<R>,
    request: Request<'_>,
    scope: Scope,
) -> Result<WriteOutcome> {
    let args: PatchArgs = parse(&request)?;
    permit(&writable(&webview, &scope), &args.topic, Access::Write)?;
    let sync = webview.state_sync();
    sync.check_payload(&args.patch)?;
    let expected = expected(args.expected_revision)?;
    sync.write(&args.topic, Change::Merge(args.patch), expected, source(&webview))
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
    webview: Webview<R>,
    scope: Scope,
) -> Result<Vec<PersistenceError>> {
    let problems = webview.state_sync().persistence_errors();
    readable(&webview, &scope).filter(problems, |problem| &problem.topic)
}
