//! TypeScript generation (cargo feature `typescript`): what sample Rust types
//! become, the two generated files the TypeScript tests check
//! (`guest-js/test/types/*.gen.ts`), and the round trip of the shared vectors
//! (`guest-js/test/types/vectors.json`) through the Rust types.
//!
//! Run with `cargo test --features typescript --test typescript`; it rewrites
//! the generated files, and CI fails when they differ from the committed ones.

use std::{collections::BTreeMap, fs, path::PathBuf};

use serde::{de::DeserializeOwned, Deserialize, Serialize};
use serde_json::{json, Value};
use tauri_plugin_state_sync::{typescript::wire_types, ActionError, Builder, Error, Revision};
use ts_rs::TS;

/// A struct with renamed, optional, defaulted, 64-bit, nested and map fields.
#[derive(Serialize, Deserialize, TS, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
struct Profile {
    user_name: String,
    /// Optional: always sent, `null` when absent.
    nick: Option<String>,
    /// Filled in when missing on input, always sent on output.
    #[serde(default)]
    zoom: u8,
    /// Left out when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    note: Option<String>,
    followers: u64,
    balance: i64,
    shape: Shape,
    id: Id,
    theme: Theme,
    command: Command,
    tags: BTreeMap<String, u32>,
    address: Address,
    history: Vec<Shape>,
    seen_at: Revision,
}

/// An internally tagged enum.
#[derive(Serialize, Deserialize, TS, Debug, PartialEq)]
#[serde(tag = "kind", rename_all = "snake_case")]
enum Shape {
    Circle { radius: f64 },
    Square { side: f64 },
}

/// An untagged enum.
#[derive(Serialize, Deserialize, TS, Debug, PartialEq)]
#[serde(untagged)]
enum Id {
    Number(u32),
    Text(String),
}

/// An externally tagged enum (serde's default).
#[derive(Serialize, Deserialize, TS, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
enum Command {
    Stop,
    Move { x: i32, y: i32 },
    Say(String),
}

/// A unit-only enum.
#[derive(Serialize, Deserialize, TS, Debug, PartialEq)]
#[serde(rename_all = "lowercase")]
enum Theme {
    Light,
    Dark,
}

/// A nested struct.
#[derive(Serialize, Deserialize, TS, Debug, PartialEq)]
struct Address {
    city: String,
    zip: Option<String>,
}

/// The type an app gives an untyped topic for TypeScript only.
#[derive(TS)]
#[allow(dead_code)] // only its TypeScript form is used
struct Counter {
    value: u32,
}

/// The argument of the sample `rename` action, renamed like `Profile`.
#[derive(Deserialize, TS)]
#[serde(rename_all = "camelCase")]
struct Rename {
    new_name: String,
}

fn rename(profile: &mut Profile, Rename { new_name }: Rename) -> Result<(), ActionError> {
    profile.user_name = new_name;
    Ok(())
}

/// The sample `reshape` action: its argument is a type a topic uses too.
fn reshape(profile: &mut Profile, shape: Shape) -> Result<(), ActionError> {
    profile.shape = shape;
    Ok(())
}

/// The sample untyped `append` action.
fn append(log: &Value, entry: &Value) -> Result<Value, ActionError> {
    let mut next = log.as_array().cloned().ok_or("the log must be a list")?;
    next.push(entry.clone());
    Ok(Value::Array(next))
}

/// The topics and actions of the type-level and round-trip tests of the
/// binding.
fn sample_app() -> Builder {
    Builder::new()
        .typed_topic("theme", Theme::Light)
        .typed_topic("profile", sample_profile())
        .typed_action("profile", "rename", rename)
        .typed_action("profile", "reshape", reshape)
        .topic("log", json!([]))
        .action("log", "append", append)
        .topic("counter", json!({ "value": 0 }))
        .declare_type::<Counter>("counter")
}

fn sample_profile() -> Profile {
    Profile {
        user_name: "ada".into(),
        nick: None,
        zoom: 1,
        note: None,
        followers: 0,
        balance: 0,
        shape: Shape::Circle { radius: 1.0 },
        id: Id::Number(1),
        theme: Theme::Light,
        command: Command::Stop,
        tags: BTreeMap::new(),
        address: Address {
            city: "Paris".into(),
            zip: None,
        },
        history: Vec::new(),
        seen_at: Revision::ZERO,
    }
}

fn guest_types_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("guest-js/test/types")
}

fn declaration<'a>(file: &'a str, name: &str) -> &'a str {
    let start = file
        .find(&format!("export type {name} "))
        .unwrap_or_else(|| panic!("no declaration of {name} in:\n{file}"));
    let end = file[start..].find(";\n").expect("declarations end with ;") + start;
    &file[start..=end]
}

#[test]
fn struct_fields_follow_serde_renames_options_and_defaults() {
    let file = sample_app().typescript().unwrap();
    let profile = declaration(&file, "Profile");
    // rename_all = "camelCase"
    assert!(profile.contains("userName: string,"), "{profile}");
    // Option without default: always sent, null when None.
    assert!(profile.contains("nick: string | null,"), "{profile}");
    // default alone: Rust always writes it, so it is required.
    assert!(profile.contains("zoom: number,"), "{profile}");
    // default + skip_serializing_if: may be absent.
    assert!(profile.contains("note?: string | null,"), "{profile}");
    // nested types and maps are referenced, and declared once.
    assert!(profile.contains("address: Address,"), "{profile}");
    assert!(
        profile.contains("tags: { [key in string]: number },"),
        "{profile}"
    );
    assert!(profile.contains("history: Array<Shape>,"), "{profile}");
    assert_eq!(
        declaration(&file, "Address"),
        "export type Address = { city: string, zip: string | null, };"
    );
}

#[test]
fn u64_and_i64_are_numbers_and_revisions_are_strings() {
    let file = sample_app().typescript().unwrap();
    let profile = declaration(&file, "Profile");
    // serde_json writes them as JSON numbers; JSON.parse reads numbers.
    assert!(profile.contains("followers: number,"), "{profile}");
    assert!(profile.contains("balance: number,"), "{profile}");
    assert!(!file.contains("bigint"), "{file}");
    // A Revision is a canonical decimal string on the wire.
    assert!(profile.contains("seenAt: Revision,"), "{profile}");
    assert!(file.contains("export type Revision = string;"), "{file}");
}

#[test]
fn tagged_untagged_and_unit_enums_become_unions() {
    let file = sample_app().typescript().unwrap();
    assert_eq!(
        declaration(&file, "Shape"),
        r#"export type Shape = { "kind": "circle", radius: number, } | { "kind": "square", side: number, };"#
    );
    assert_eq!(
        declaration(&file, "Id"),
        "export type Id = number | string;"
    );
    assert_eq!(
        declaration(&file, "Command"),
        r#"export type Command = "stop" | { "move": { x: number, y: number, } } | { "say": string };"#
    );
    assert_eq!(
        declaration(&file, "Theme"),
        r#"export type Theme = "light" | "dark";"#
    );
}

#[test]
fn every_topic_is_in_the_augmentation_sorted_untyped_ones_unknown() {
    let file = sample_app().typescript().unwrap();
    let augmentation = &file[file.find("declare module").expect("an augmentation")..];
    let topics = &augmentation[..augmentation.find("  interface TopicActions").unwrap()];
    assert_eq!(
        topics,
        concat!(
            "declare module \"tauri-plugin-state-sync-api\" {\n",
            "  interface Topics {\n",
            "    \"counter\": Counter;\n",
            "    \"log\": unknown;\n",
            "    \"profile\": Profile;\n",
            "    \"theme\": Theme;\n",
            "  }\n",
        )
    );
}

#[test]
fn actions_are_a_second_augmentation_sorted_with_their_argument_types() {
    let file = sample_app().typescript().unwrap();
    let actions = &file[file.find("  interface TopicActions").expect("the actions")..];
    // Only topics with actions; typed arguments by their Rust type, untyped
    // ones `unknown`.
    assert_eq!(
        actions,
        concat!(
            "  interface TopicActions {\n",
            "    \"log\": {\n",
            "      \"append\": unknown;\n",
            "    };\n",
            "    \"profile\": {\n",
            "      \"rename\": Rename;\n",
            "      \"reshape\": Shape;\n",
            "    };\n",
            "  }\n",
            "}\n",
        )
    );
    // An argument type follows serde's renames, and one a topic also uses is
    // declared once.
    assert_eq!(
        declaration(&file, "Rename"),
        "export type Rename = { newName: string, };"
    );
    assert_eq!(file.matches("export type Shape ").count(), 1, "{file}");
}

#[test]
fn a_builder_without_actions_has_an_empty_actions_augmentation() {
    let file = Builder::new().topic("log", json!([])).typescript().unwrap();
    assert!(
        file.ends_with("  interface TopicActions {\n  }\n}\n"),
        "{file}"
    );
}

#[test]
fn actions_setup_would_refuse_are_refused_by_the_export() {
    let undeclared = sample_app()
        .action("logs", "append", append)
        .typescript()
        .unwrap_err();
    assert!(
        matches!(undeclared, Error::UnknownTopic { ref topic } if topic == "logs"),
        "{undeclared}"
    );
    let taken = sample_app()
        .typed_action("profile", "rename", rename)
        .typescript()
        .unwrap_err();
    assert!(
        matches!(taken, Error::ActionExists { ref topic, ref action } if topic == "profile" && action == "rename"),
        "{taken}"
    );
    let untyped_topic = sample_app()
        .typed_action("log", "rename", rename)
        .typescript()
        .unwrap_err();
    assert_eq!(untyped_topic.code(), "TYPE_MISMATCH", "{untyped_topic}");
    let other_type = sample_app()
        .typed_action("theme", "rename", rename)
        .typescript()
        .unwrap_err();
    assert!(
        matches!(other_type, Error::TypeMismatch { ref topic, .. } if topic == "theme"),
        "{other_type}"
    );
}

#[test]
fn the_file_does_not_depend_on_declaration_order() {
    let reordered = Builder::new()
        .topic("counter", json!({ "value": 0 }))
        .declare_type::<Counter>("counter")
        .action("log", "append", append)
        .topic("log", json!([]))
        .typed_action("profile", "reshape", reshape)
        .typed_action("profile", "rename", rename)
        .typed_topic("profile", sample_profile())
        .typed_topic("theme", Theme::Dark);
    assert_eq!(
        reordered.typescript().unwrap(),
        sample_app().typescript().unwrap()
    );
}

/// The export error for `declare_type::<Counter>(topic)` on the sample app.
fn declare_counter_error(topic: &str) -> Error {
    let err = sample_app()
        .declare_type::<Counter>(topic)
        .typescript()
        .unwrap_err();
    assert_eq!(err.code(), "TYPE_EXPORT_FAILED");
    err
}

#[test]
fn a_declared_type_for_an_undeclared_topic_is_refused() {
    let err = declare_counter_error("countr");
    assert!(
        err.to_string()
            .contains("`countr`, which is not a declared topic"),
        "{err}"
    );
}

#[test]
fn a_declared_type_for_a_typed_topic_is_refused() {
    let err = declare_counter_error("theme");
    assert!(err.to_string().contains("`theme` is typed"), "{err}");
}

#[test]
fn duplicate_and_malformed_topic_names_are_refused_as_at_setup() {
    let duplicate = sample_app()
        .topic("log", json!(null))
        .typescript()
        .unwrap_err();
    assert!(
        matches!(duplicate, Error::TopicExists { ref topic } if topic == "log"),
        "{duplicate}"
    );
    let malformed = Builder::new()
        .topic("bad name", json!(0))
        .typescript()
        .unwrap_err();
    assert_eq!(malformed.code(), "INVALID_TOPIC");
}

#[allow(dead_code)] // only their TypeScript forms are used
mod first {
    /// One `Item`.
    #[derive(ts_rs::TS)]
    pub struct Item {
        pub x: u8,
    }
}

#[allow(dead_code)]
mod second {
    /// Another `Item`.
    #[derive(ts_rs::TS)]
    pub struct Item {
        pub y: String,
    }
}

#[test]
fn two_rust_types_with_one_typescript_name_are_refused() {
    let err = Builder::new()
        .topic("a", json!({}))
        .declare_type::<first::Item>("a")
        .topic("b", json!({}))
        .declare_type::<second::Item>("b")
        .typescript()
        .unwrap_err();
    assert_eq!(err.code(), "TYPE_EXPORT_FAILED");
    assert!(err.to_string().contains("`Item`"), "{err}");
}

#[test]
fn export_into_a_missing_directory_fails_naming_the_path() {
    let path = std::env::temp_dir().join("state-sync-no-such-dir/topics.ts");
    let err = sample_app().export_types(&path).unwrap_err();
    assert_eq!(err.code(), "TYPE_EXPORT_FAILED");
    assert!(err.to_string().contains("state-sync-no-such-dir"), "{err}");
    assert!(!path.exists());
}

/// Writes the sample topics' file that `guest-js/test/types` compiles against.
#[test]
fn sample_topics_file_is_exported() {
    let path = guest_types_dir().join("topics.gen.ts");
    sample_app().export_types(&path).unwrap();
    assert_eq!(
        fs::read_to_string(&path).unwrap(),
        sample_app().typescript().unwrap()
    );
}

/// Writes the plugin's wire types that `guest-js/test/types/wire.ts` checks the
/// hand-written binding against.
#[test]
fn wire_types_are_exported_with_string_revisions_and_every_error_code() {
    let wire = wire_types();
    // Field docs become JSDoc inside the declarations; the fields themselves:
    let outcome = declaration(&wire, "WriteOutcome");
    for field in [
        "\nrevision: Revision,",
        "\npreviousRevision: Revision,",
        "\nexact: boolean,",
    ] {
        assert!(outcome.contains(field), "{field:?} missing from {outcome}");
    }
    let snapshot = declaration(&wire, "TopicSnapshot");
    for field in [
        "\ntopic: string,",
        "\nrevision: Revision,",
        "\ndata: unknown,",
    ] {
        assert!(
            snapshot.contains(field),
            "{field:?} missing from {snapshot}"
        );
    }
    assert!(wire.contains("export type Revision = string;"), "{wire}");
    assert!(!wire.contains("bigint"), "{wire}");
    for code in [
        "UNKNOWN_TOPIC",
        "REVISION_CONFLICT",
        "SERIALIZATION",
        "TYPE_EXPORT_FAILED",
    ] {
        assert!(
            wire.contains(&format!("  | \"{code}\"")),
            "{code} missing:\n{wire}"
        );
    }
    assert!(wire.contains("export const INVALIDATION_EVENT = \"state-sync://invalidate\";"));
    let path = guest_types_dir().join("wire.gen.ts");
    fs::write(&path, &wire).unwrap();
    assert_eq!(fs::read_to_string(&path).unwrap(), wire);
}

/// The vectors shared with `guest-js/test/types.test.ts`.
#[derive(Deserialize)]
struct Vectors {
    accepted: Vec<Vector>,
    rejected: Vec<Vector>,
}

#[derive(Deserialize)]
struct Vector {
    #[serde(rename = "type")]
    ty: String,
    data: Value,
}

fn vectors() -> Vectors {
    let text = fs::read_to_string(guest_types_dir().join("vectors.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

/// Deserializes `data` into `T` and serializes it back.
fn round_trip<T: Serialize + DeserializeOwned>(data: &Value) -> Result<Value, String> {
    let typed: T = serde_json::from_value(data.clone()).map_err(|e| e.to_string())?;
    Ok(serde_json::to_value(typed).unwrap())
}

fn through_rust(vector: &Vector) -> Result<Value, String> {
    match vector.ty.as_str() {
        "Profile" => round_trip::<Profile>(&vector.data),
        "Shape" => round_trip::<Shape>(&vector.data),
        "Id" => round_trip::<Id>(&vector.data),
        "Command" => round_trip::<Command>(&vector.data),
        "Theme" => round_trip::<Theme>(&vector.data),
        "Address" => round_trip::<Address>(&vector.data),
        other => panic!("no sample type {other}"),
    }
}

#[test]
fn vectors_typescript_accepts_round_trip_through_rust_unchanged() {
    let vectors = vectors();
    assert!(vectors.accepted.len() >= 10);
    for vector in &vectors.accepted {
        let back = through_rust(vector)
            .unwrap_or_else(|err| panic!("Rust refused {} {}: {err}", vector.ty, vector.data));
        assert_eq!(back, vector.data, "{} changed in the round trip", vector.ty);
    }
}

#[test]
fn vectors_typescript_rejects_are_rejected_by_rust() {
    let vectors = vectors();
    assert!(vectors.rejected.len() >= 5);
    for vector in &vectors.rejected {
        assert!(
            through_rust(vector).is_err(),
            "Rust accepted {} {}",
            vector.ty,
            vector.data
        );
    }
}

#[test]
fn u64_above_two_to_the_53_survives_rust_exactly() {
    let vector = vectors()
        .accepted
        .into_iter()
        .find(|v| v.data.get("followers").and_then(Value::as_u64) > Some(1 << 53))
        .expect("a vector with a u64 above 2^53");
    let back = round_trip::<Profile>(&vector.data).unwrap();
    assert_eq!(
        back["followers"].as_u64(),
        vector.data["followers"].as_u64()
    );
}
