//! The subscriber contract, generated from the code: docs/events.md and one JSON Schema per
//! event type under docs/events/ (`annals docs events`). A test fails when the committed files
//! differ from what the code generates, so the document cannot drift from the code.
mod markdown;
pub mod schemas;

use std::path::Path;

pub use markdown::Facts;

/// Where the files go, relative to the repository root.
pub const DOCUMENT: &str = "docs/events.md";
pub const SCHEMAS_DIR: &str = "docs/events";
pub const ENVELOPE_SCHEMA: &str = "envelope.json";
/// The command that writes them.
pub const REGENERATE: &str = "cargo run -- docs events";

/// A generated file: its path relative to the repository root, and its contents.
#[derive(Debug, Clone, PartialEq)]
pub struct File {
    pub path: String,
    pub contents: String,
}

fn json(value: &serde_json::Value) -> String {
    let mut text = serde_json::to_string_pretty(value).unwrap_or_default();
    text.push('\n');
    text
}

/// Every file of the contract.
pub fn generate() -> Vec<File> {
    let catalogue = schemas::catalogue();
    let envelope = schemas::envelope();
    let facts = Facts {
        stream: crate::config::DEFAULT_NATS_STREAM,
        subject_prefix: crate::config::DEFAULT_SUBJECT_PREFIX,
        duplicate_window_minutes: crate::adapters::nats::DUPLICATE_WINDOW.as_secs() / 60,
        schemas_dir: SCHEMAS_DIR,
    };
    let mut files = vec![
        File {
            path: DOCUMENT.into(),
            contents: markdown::render(&facts, &envelope, &catalogue),
        },
        File {
            path: format!("{SCHEMAS_DIR}/{ENVELOPE_SCHEMA}"),
            contents: json(&envelope),
        },
    ];
    for event in catalogue.iter().flat_map(|f| &f.events) {
        files.push(File {
            path: format!("{SCHEMAS_DIR}/{}", event.file_name()),
            contents: json(&event.schema),
        });
    }
    files
}

/// Writes every file under `root` and removes schemas of event types that no longer exist.
/// Returns the paths written.
pub fn write(root: &Path) -> std::io::Result<Vec<String>> {
    let files = generate();
    let dir = root.join(SCHEMAS_DIR);
    std::fs::create_dir_all(&dir)?;
    for entry in std::fs::read_dir(&dir)? {
        let path = entry?.path();
        let known = files.iter().any(|f| root.join(&f.path) == path);
        if !known && path.extension().is_some_and(|e| e == "json") {
            std::fs::remove_file(path)?;
        }
    }
    for file in &files {
        std::fs::write(root.join(&file.path), &file.contents)?;
    }
    Ok(files.into_iter().map(|f| f.path).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The CI drift check: the committed contract is what the code generates.
    #[test]
    fn the_committed_contract_is_what_the_code_generates() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let files = generate();
        let mut stale = vec![];
        for file in &files {
            let committed = std::fs::read_to_string(root.join(&file.path)).unwrap_or_default();
            if committed != file.contents {
                stale.push(file.path.clone());
            }
        }
        let extra: Vec<String> = std::fs::read_dir(root.join(SCHEMAS_DIR))
            .map(|entries| {
                entries
                    .filter_map(|e| e.ok())
                    .map(|e| format!("{SCHEMAS_DIR}/{}", e.file_name().to_string_lossy()))
                    .filter(|p| !files.iter().any(|f| &f.path == p))
                    .collect()
            })
            .unwrap_or_default();
        stale.extend(extra);
        assert!(
            stale.is_empty(),
            "the subscriber contract is out of date with the code: {} differ; regenerate with \
             `{REGENERATE}` and commit the result",
            stale.join(", ")
        );
    }

    #[test]
    fn every_event_type_of_the_domain_is_in_the_catalogue_with_its_version() {
        let catalogue = schemas::catalogue();
        let user = catalogue
            .iter()
            .find(|f| f.aggregate_type == "user")
            .unwrap();
        let registered = user
            .events
            .iter()
            .find(|e| e.name == "UserRegistered")
            .unwrap();
        assert_eq!(registered.version, "2.0");
        assert_eq!(registered.history.len(), 1);
        for family in annals_domain::catalogue::families() {
            let variants = serde_json::to_value((family.schema)()).unwrap()["oneOf"]
                .as_array()
                .map_or(0, Vec::len);
            let listed = catalogue
                .iter()
                .find(|f| f.aggregate_type == family.aggregate_type)
                .map_or(0, |f| f.events.len());
            assert_eq!(listed, variants, "every {} event", family.aggregate_type);
            assert!(listed > 0);
        }
        let all: usize = catalogue.iter().map(|f| f.events.len()).sum();
        assert_eq!(all, generate().len() - 2, "one schema file per event type");
    }

    #[test]
    fn secrets_are_not_in_the_schemas() {
        for event in schemas::catalogue().iter().flat_map(|f| &f.events) {
            let text = event.schema.to_string();
            for secret in [
                "password_hash",
                "token_hash",
                "otp_secret",
                "code_hashes",
                "secret_hash",
            ] {
                assert!(!text.contains(secret), "{} mentions {secret}", event.name);
            }
        }
    }
}
