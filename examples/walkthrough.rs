//! A tour of the Rust API on Tauri's mock runtime, printing what windows
//! would see: the invalidation events, the snapshots they would pull, and the
//! errors their writes would get.
//!
//! Run it with `cargo run --example walkthrough`.

use serde::{Deserialize, Serialize};
use serde_json::json;
use tauri::{
    test::{mock_builder, mock_context, noop_assets},
    Listener,
};
use tauri_plugin_state_sync::{Builder, Revision, StateSyncExt, INVALIDATION_EVENT};

#[derive(Serialize, Deserialize, Default)]
struct Settings {
    theme: String,
    #[serde(default)]
    zoom: u8,
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let app = mock_builder()
        .plugin(
            Builder::new()
                .typed_topic("settings", Settings { theme: "light".into(), zoom: 1 })
                .topic("todos", json!({ "items": [] }))
                .build(),
        )
        .build(mock_context(noop_assets()))?;

    app.listen(INVALIDATION_EVENT, |event| {
        println!("  event  {INVALIDATION_EVENT} {}", event.payload());
    });
    let sync = app.state_sync();
    let show = |topic: &str| -> Result<(), Box<dyn std::error::Error>> {
        println!("  pull   {topic} -> {}", serde_json::to_string(&sync.get(topic)?)?);
        Ok(())
    };

    println!("Windows start by pulling each topic:");
    show("settings")?;
    show("todos")?;

    println!("\nRust patches the todos; windows get an event and pull:");
    sync.patch("todos", json!({ "items": [{ "title": "write docs", "done": false }] }))?;
    show("todos")?;

    println!("\nA typed update bumps the revision by one:");
    let settings = sync.typed::<Settings>("settings")?;
    settings.update(|s| s.zoom += 1)?;
    show("settings")?;

    println!("\nWriting the same value again is a no-op: no event, same revision:");
    let outcome = sync.patch("settings", json!({ "zoom": 2 }))?;
    println!("  outcome {}", serde_json::to_string(&outcome)?);

    println!("\nA compare-and-set on a stale revision is refused; a window would receive:");
    let err = sync
        .compare_and_set("settings", Revision::ZERO, json!({ "theme": "dark" }))
        .expect_err("stale revision");
    println!("  error  {}", serde_json::to_string(&err)?);

    println!("\nData that does not fit a typed topic is refused, naming the field:");
    let err = sync.set("settings", json!({ "theme": "dark", "zoom": "huge" })).expect_err("bad zoom");
    println!("  error  {}", serde_json::to_string(&err)?);

    println!("\nEvery topic and its revision:");
    println!("  topics {}", serde_json::to_string(&sync.topics())?);
    Ok(())
}
