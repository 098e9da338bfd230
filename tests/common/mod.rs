//! A mock-runtime app with the plugin, its real permission files loaded into
//! the ACL, and capabilities granted per window, so every call goes through
//! Tauri's IPC and permission checks.

#![allow(dead_code)]

use std::{
    collections::BTreeMap,
    path::Path,
    sync::{Arc, Mutex},
};

use serde_json::Value;
use tauri::{
    ipc::{CallbackFn, CapabilityBuilder, InvokeBody, RuntimeAuthority},
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
        let app = mock_builder()
            .plugin(builder.build())
            .build(context)
            .expect("build the mock app");
        let events = Arc::new(Mutex::new(Vec::new()));
        let sink = events.clone();
        app.listen(INVALIDATION_EVENT, move |event| {
            let payload: Invalidation =
                serde_json::from_str(event.payload()).expect("invalidation payload");
            sink.lock().unwrap().push(payload);
        });
        Harness { app, events }
    }

    /// Opens a window labelled `label`, granted `permissions` by a capability
    /// of its own (none at all when empty).
    pub fn window(&self, label: &str, permissions: &[&str]) -> WebviewWindow<MockRuntime> {
        let window = WebviewWindowBuilder::new(&self.app, label, WebviewUrl::default())
            .build()
            .expect("open a mock window");
        if !permissions.is_empty() {
            let capability = permissions.iter().fold(
                CapabilityBuilder::new(format!("test-{label}")).window(label),
                |capability, permission| capability.permission(*permission),
            );
            self.app.add_capability(capability).expect("add capability");
        }
        window
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

    /// The invalidation events emitted since the last call.
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
