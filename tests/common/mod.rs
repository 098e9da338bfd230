//! A mock-runtime app with the plugin, its real permission files loaded into
//! the ACL, and capabilities granted per window, so every call goes through
//! Tauri's IPC and permission checks.

#![allow(dead_code)]

use std::{
    collections::{BTreeMap, HashMap},
    path::Path,
    sync::{
        atomic::{AtomicU32, Ordering},
        Arc, Mutex,
    },
};

use serde_json::{json, Value};
use tauri::{
    ipc::{CallbackFn, CapabilityBuilder, InvokeBody, InvokeResponseBody, RuntimeAuthority},
    test::{mock_builder, mock_context, noop_assets, MockRuntime, INVOKE_KEY},
    utils::acl::{
        manifest::{Manifest, PermissionFile},
        resolved::Resolved,
    },
    webview::InvokeRequest,
    App, Listener, Manager, WebviewUrl, WebviewWindow, WebviewWindowBuilder,
};
use tauri_plugin_state_sync::{Builder, Invalidation, INVALIDATION_EVENT};

pub struct Harness {
    pub app: App<MockRuntime>,
    events: Arc<Mutex<Vec<Invalidation>>>,
    /// What each webview's page received on its channels, by webview label.
    channels: Arc<Mutex<HashMap<String, Vec<String>>>>,
    next_channel: AtomicU32,
}

/// The plugin's ACL manifest, read from `permissions/` as an app build would.
fn plugin_manifest() -> Manifest {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("permissions");
    let mut files = Vec::new();
    let mut dirs = vec![root];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(dir).expect("read permissions dir") {
            let path = entry.expect("dir entry").path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|ext| ext == "toml") {
                let text = std::fs::read_to_string(&path).expect("read permission file");
                let file: PermissionFile = toml::from_str(&text)
                    .unwrap_or_else(|err| panic!("{}: {err}", path.display()));
                files.push(file);
            }
        }
    }
    Manifest::new(files, None)
}

impl Harness {
    /// An app with the plugin built from `builder` and no windows yet.
    pub fn new(builder: Builder) -> Self {
        let mut context = mock_context(noop_assets());
        let acl = BTreeMap::from([("state-sync".to_owned(), plugin_manifest())]);
        *context.runtime_authority_mut() = RuntimeAuthority::new(acl, Resolved::default());
        let channels: Arc<Mutex<HashMap<String, Vec<String>>>> = Arc::default();
        let inbox = channels.clone();
        let app = mock_builder()
            // The point where a channel message leaves for the page: record
            // it for the webview it was addressed to.
            .channel_interceptor(move |webview, _callback, _index, body| {
                let InvokeResponseBody::Json(json) = body else {
                    panic!("a raw channel message");
                };
                let mut inbox = inbox.lock().unwrap();
                inbox.entry(webview.label().to_owned()).or_default().push(json.clone());
                true
            })
            .plugin(builder.build())
            .build(context)
            .expect("build the mock app");
        let events = Arc::new(Mutex::new(Vec::new()));
        let sink = events.clone();
        // `listen_any` hears what a page listening with the plain `listen()`
        // (target "any") hears: every emitted event, whatever its target.
        app.listen_any(INVALIDATION_EVENT, move |event| {
            let payload: Invalidation =
                serde_json::from_str(event.payload()).expect("invalidation payload");
            sink.lock().unwrap().push(payload);
        });
        Harness {
            app,
            events,
            channels,
            next_channel: AtomicU32::new(1),
        }
    }

    /// Opens a window labelled `label`, granted `permissions` by a capability
    /// of its own (none at all when empty).
    pub fn window(&self, label: &str, permissions: &[&str]) -> WebviewWindow<MockRuntime> {
        if !permissions.is_empty() {
            let capability = permissions.iter().fold(
                CapabilityBuilder::new(format!("test-{label}")).window(label),
                |capability, permission| capability.permission(*permission),
            );
            self.grant(capability);
        }
        self.open(label)
    }

    /// Opens a window labelled `label` with whatever capabilities name it.
    pub fn open(&self, label: &str) -> WebviewWindow<MockRuntime> {
        WebviewWindowBuilder::new(&self.app, label, WebviewUrl::default())
            .build()
            .expect("open a mock window")
    }

    /// Adds a capability to the running app.
    pub fn grant(&self, capability: CapabilityBuilder) {
        self.app.add_capability(capability).expect("add capability");
    }

    /// Subscribes `window` to `topic` through a fresh channel, as a page does.
    pub fn subscribe(&self, window: &WebviewWindow<MockRuntime>, topic: &str) -> Result<Value, Value> {
        let id = self.next_channel.fetch_add(1, Ordering::Relaxed);
        invoke(window, "subscribe", json!({"topic": topic, "channel": format!("__CHANNEL__:{id}")}))
    }

    /// The channel messages the page in `label` received since the last call.
    pub fn received(&self, label: &str) -> Vec<Value> {
        let messages = self.channels.lock().unwrap().remove(label).unwrap_or_default();
        messages
            .iter()
            .map(|json| serde_json::from_str(json).expect("JSON channel message"))
            .collect()
    }

    /// The channel messages the page in `label` received since the last
    /// [`received`](Self::received), leaving them there.
    pub fn peek(&self, label: &str) -> Vec<Value> {
        let channels = self.channels.lock().unwrap();
        channels
            .get(label)
            .into_iter()
            .flatten()
            .map(|json| serde_json::from_str(json).expect("JSON channel message"))
            .collect()
    }

    /// Forgets the channel messages received so far, without reading them.
    pub fn clear_received(&self) {
        self.channels.lock().unwrap().clear();
    }

    /// Invokes `plugin:state-sync|<command>` from `window` through real IPC.
    pub fn invoke(
        &self,
        window: &WebviewWindow<MockRuntime>,
        command: &str,
        args: Value,
    ) -> Result<Value, Value> {
        invoke(window, command, args)
    }

    /// The broadcast invalidation events emitted since the last call.
    pub fn take_events(&self) -> Vec<Invalidation> {
        std::mem::take(&mut *self.events.lock().unwrap())
    }

    pub fn handle(&self) -> tauri::AppHandle<MockRuntime> {
        self.app.app_handle().clone()
    }
}

/// Invokes `plugin:state-sync|<command>` from `window` through real IPC.
pub fn invoke(window: &WebviewWindow<MockRuntime>, command: &str, args: Value) -> Result<Value, Value> {
    let request = InvokeRequest {
        cmd: format!("plugin:state-sync|{command}"),
        callback: CallbackFn(0),
        error: CallbackFn(1),
        url: "tauri://localhost".parse().unwrap(),
        body: InvokeBody::Json(args),
        headers: Default::default(),
        invoke_key: INVOKE_KEY.to_string(),
    };
    tauri::test::get_ipc_response(window, request)
        .map(|body| body.deserialize::<Value>().expect("JSON response"))
}

/// A capability `identifier` for the window `window` that grants each of
/// `permissions` with the scope `allow` minus `deny` (topic patterns).
pub fn scoped(identifier: &str, window: &str, permissions: &[&str], allow: &[&str], deny: &[&str]) -> CapabilityBuilder {
    let entries = |patterns: &[&str]| -> Vec<Value> { patterns.iter().map(|p| json!({"topic": p})).collect() };
    permissions.iter().fold(CapabilityBuilder::new(identifier).window(window), |capability, permission| {
        capability.permission_scoped(*permission, entries(allow), entries(deny))
    })
}

/// An object nested `depth` levels deep (`{"a": {"a": ... 0}}`), built
/// without recursion.
pub fn nested(depth: usize) -> Value {
    let mut value = Value::from(0);
    for _ in 0..depth {
        // By hand: `json!` would copy `value` recursively.
        value = Value::Object([("a".to_owned(), value)].into_iter().collect());
    }
    value
}
