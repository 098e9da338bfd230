//! The IPC commands. Each one parses its arguments, checks the calling
//! webview's scope for every topic it names (see `scope`), and makes one call
//! into [`crate::StateSync`]; the rules live there.
//!
//! Arguments are parsed here rather than by Tauri so that every malformed
//! call answers with the plugin's typed [`Error`], and unknown argument names
//! are refused: a misspelt `expectedRevision` must not turn a compare-and-set
//! into a blind write, and neither must `expectedRevision: null`. Argument
//! values nested deeper than [`crate::MAX_DEPTH`] are refused before anything
//! recursive touches them.
//!
//! What a write's answer reveals of a topic (the data a conflict or an
//! action outcome carries) is checked in one place, [`may_read`].

use serde::{de::DeserializeOwned, Deserialize};
use serde_json::Value;
use tauri::{
    ipc::{CommandScope, InvokeBody, JavaScriptChannelId, Request},
    command, AppHandle, Runtime, Webview,
};

use crate::{
    depth,
    models::{ActionOutcome, CatchUp, PatchOutcome, Source, TopicCatchUp, TopicInfo, WriteOutcome},
    persistence::PersistenceError,
    scope::{Access, TopicPattern, TopicScope},
    state_sync::Change,
    validate_topic_name, Error, Result, Revision, StateSyncExt,
};

/// The scope Tauri resolved for this call from the webview's capabilities.
type Scope = CommandScope<TopicPattern>;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct SnapshotArgs {
    pub(crate) topic: String,
    /// The revision the window has: answer with the change since then.
    #[serde(default, deserialize_with = "present")]
    pub(crate) since: Option<Value>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct SnapshotsArgs {
    pub(crate) topics: Vec<String>,
    /// The revision the window has of some of `topics`, by topic.
    #[serde(default, deserialize_with = "present")]
    pub(crate) since: Option<serde_json::Map<String, Value>>,
}

/// The arguments of a command that takes none: `{}`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct NoArgs {}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct SetArgs {
    pub(crate) topic: String,
    pub(crate) data: Value,
    #[serde(default, deserialize_with = "present")]
    pub(crate) expected_revision: Option<Value>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct SubscribeArgs {
    pub(crate) topic: String,
    pub(crate) channel: JavaScriptChannelId,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct UnsubscribeArgs {
    pub(crate) id: u64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct PatchArgs {
    pub(crate) topic: String,
    pub(crate) patch: Value,
    #[serde(default, deserialize_with = "present")]
    pub(crate) expected_revision: Option<Value>,
}

/// An argument that was given, whatever its value: `null` is a value to
/// refuse as a revision, not a way to leave the argument out.
fn present<'de, D: serde::Deserializer<'de>, T: Deserialize<'de>>(deserializer: D) -> Result<Option<T>, D::Error> {
    T::deserialize(deserializer).map(Some)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ActArgs {
    pub(crate) topic: String,
    pub(crate) action: String,
    #[serde(default)]
    pub(crate) args: Value,
}

/// Deserializes a command's arguments, naming the offending one on failure.
fn parse<T: DeserializeOwned>(request: &Request<'_>) -> Result<T> {
    match request.body() {
        InvokeBody::Json(args) => parse_json(args),
        InvokeBody::Raw(_) => Err(Error::invalid_argument(
            None,
            "expected a JSON object of arguments, got raw bytes",
        )),
    }
}

/// [`parse`] for arguments already read as JSON.
pub(crate) fn parse_json<T: DeserializeOwned>(args: &Value) -> Result<T> {
    if !args.is_object() {
        // Serde would read a struct from an array too, by position.
        return Err(Error::invalid_argument(
            None,
            format!("expected a JSON object of arguments, got {}", kind(args)),
        ));
    }
    check_depth(args)?;
    serde_path_to_error::deserialize(args).map_err(|err| {
        let path = err.path().to_string();
        let argument = (path != ".").then_some(path);
        Error::invalid_argument(argument, err.into_inner().to_string())
    })
}

/// What sort of JSON value `value` is, for error messages.
fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Refuses arguments whose values nest deeper than [`crate::MAX_DEPTH`],
/// measured without recursion. The object holding the arguments is one
/// level more.
fn check_depth(args: &Value) -> Result<()> {
    if depth::exceeds(args, depth::MAX_DEPTH + 1) {
        return Err(Error::TooDeep {
            limit: depth::MAX_DEPTH,
        });
    }
    Ok(())
}

pub(crate) fn expected(revision: Option<Value>) -> Result<Option<Revision>> {
    revision.as_ref().map(Revision::from_json).transpose()
}

/// The `since` of each of `topics`, from the map `since` of `snapshots`: a
/// key that is not one of `topics` is refused, naming it.
fn since_of_each(topics: &[String], since: Option<serde_json::Map<String, Value>>) -> Result<Vec<(&str, Option<Revision>)>> {
    let since = since.unwrap_or_default();
    if let Some(stray) = since.keys().find(|key| !topics.contains(key)) {
        return Err(Error::invalid_argument(
            Some(format!("since.{stray}")),
            "names a topic that is not in `topics`",
        ));
    }
    topics
        .iter()
        .map(|topic| Ok((topic.as_str(), since.get(topic).map(Revision::from_json).transpose()?)))
        .collect()
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

/// Whether `webview` may read `topic`, and so may receive its data in the
/// answer to a write: the one place that decides it, from the read scope
/// (the scope of `snapshot`, which every read permission grants), not from
/// the write scope the write command was called with.
fn may_read<R: Runtime>(webview: &Webview<R>, topic: &str) -> bool {
    match TopicScope::of_command(webview, "snapshot") {
        Ok(Some(scope)) => scope.permits(topic).unwrap_or(false),
        _ => false,
    }
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
    webview: Webview<R>,
    request: Request<'_>,
    scope: Scope,
) -> Result<CatchUp> {
    let args: SnapshotArgs = parse(&request)?;
    permit(&readable(&webview, &scope), &args.topic, Access::Read)?;
    let sync = webview.state_sync();
    match expected(args.since)? {
        Some(since) => sync.get_since(&args.topic, since),
        None => sync.get(&args.topic).map(CatchUp::Snapshot),
    }
}

#[command]
pub(crate) async fn snapshots<R: Runtime>(
    webview: Webview<R>,
    request: Request<'_>,
    scope: Scope,
) -> Result<Vec<TopicCatchUp>> {
    let args: SnapshotsArgs = parse(&request)?;
    let read = readable(&webview, &scope);
    // Every topic is checked before any is read, so a refusal reveals nothing.
    for topic in &args.topics {
        permit(&read, topic, Access::Read)?;
    }
    let topics = since_of_each(&args.topics, args.since)?;
    webview.state_sync().get_many_since(&topics)
}

#[command]
pub(crate) async fn topics<R: Runtime>(
    webview: Webview<R>,
    request: Request<'_>,
    scope: Scope,
) -> Result<Vec<TopicInfo>> {
    let NoArgs {} = parse(&request)?;
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
pub(crate) async fn unsubscribe<R: Runtime>(
    webview: Webview<R>,
    request: Request<'_>,
) -> Result<()> {
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
    let result = sync.write(&args.topic, Change::Replace(args.data), expected, source(&webview));
    answer(&webview, &args.topic, result)
}

#[command]
pub(crate) async fn patch<R: Runtime>(
    webview: Webview<R>,
    request: Request<'_>,
    scope: Scope,
) -> Result<PatchOutcome> {
    let args: PatchArgs = parse(&request)?;
    permit(&writable(&webview, &scope), &args.topic, Access::Write)?;
    let sync = webview.state_sync();
    sync.check_payload(&args.patch)?;
    let expected = expected(args.expected_revision)?;
    let written = sync
        .cell(&args.topic)
        .and_then(|cell| sync.write_pushed(&cell, Change::Merge(args.patch), expected, source(&webview)));
    let patch = written.as_ref().ok().and_then(|written| written.pushed.clone());
    let outcome = answer(&webview, &args.topic, written.map(|written| written.outcome))?;
    Ok(PatchOutcome { outcome, patch })
}

#[command]
pub(crate) async fn act<R: Runtime>(
    webview: Webview<R>,
    request: Request<'_>,
    scope: Scope,
) -> Result<ActionOutcome> {
    let args: ActArgs = parse(&request)?;
    permit(&writable(&webview, &scope), &args.topic, Access::Write)?;
    let sync = webview.state_sync();
    sync.check_payload(&args.args)?;
    let mut outcome = sync.act_as(&args.topic, &args.action, &args.args, source(&webview))?;
    if !may_read(&webview, &args.topic) {
        outcome.data = None;
    }
    Ok(outcome)
}

#[command]
pub(crate) async fn flush<R: Runtime>(app: AppHandle<R>, request: Request<'_>) -> Result<()> {
    let NoArgs {} = parse(&request)?;
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
    request: Request<'_>,
    scope: Scope,
) -> Result<Vec<PersistenceError>> {
    let NoArgs {} = parse(&request)?;
    let problems = webview.state_sync().persistence_errors();
    readable(&webview, &scope).filter(problems, |problem| &problem.topic)
}
