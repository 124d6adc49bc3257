//! The editor's settings under `forewarn` (DESIGN.md §6, §8), as they arrive in
//! `initializationOptions` and `workspace/didChangeConfiguration`.
//!
//! Parsing never fails as a whole: a key with a value of the wrong shape is left at its default
//! and named in a message the server logs, so one typo never costs the user every other setting.

use std::path::{Path, PathBuf};
use std::time::Duration;

use globset::{Glob, GlobMatcher};
use serde_json::Value;

use crate::engine::Severity;

/// The quiet period after the last keystroke before a document is scanned.
pub const DEFAULT_DEBOUNCE: Duration = Duration::from_millis(120);
/// Longer than this and typing would feel unanswered; a value above it is clamped.
const MAX_DEBOUNCE_MS: u64 = 5_000;

/// The settings in force. Every field is optional: `None` defers to the config file, the
/// environment or the built-in default.
#[derive(Clone, Debug, Default)]
pub struct Settings {
    pub store: Option<PathBuf>,
    pub target: Option<String>,
    pub severity: Option<Severity>,
    /// `(glob, target)`, in the order the client sent them; globs are matched against a
    /// document's path relative to its workspace folder.
    pub targets: Vec<(GlobMatcher, String)>,
    pub debounce: Option<Duration>,
}

impl Settings {
    /// Reads settings from `value`: either the `forewarn` section itself or an object that
    /// holds it under `forewarn`. Returns the settings and one message per key that was not
    /// usable (the key keeps its default).
    pub fn from_json(value: &Value) -> (Settings, Vec<String>) {
        let mut settings = Settings::default();
        let mut problems = Vec::new();
        let section = match value.get("forewarn") {
            Some(inner) => inner,
            None => value,
        };
        let obj = match section {
            Value::Object(obj) => obj,
            Value::Null => return (settings, problems),
            other => {
                problems.push(format!(
                    "settings: `forewarn` should be an object, not {}",
                    kind(other)
                ));
                return (settings, problems);
            }
        };
        for (key, v) in obj {
            if v.is_null() {
                continue;
            }
            let full = format!("forewarn.{key}");
            match key.as_str() {
                "store" => match v.as_str().map(str::trim) {
                    Some("") => {}
                    Some(s) => settings.store = Some(PathBuf::from(s)),
                    None => problems.push(expected(&full, "a path (string)", v)),
                },
                "target" => match v.as_str().map(str::trim) {
                    Some("") => {}
                    Some(s) => settings.target = Some(s.to_string()),
                    None => problems.push(expected(&full, "a target name (string)", v)),
                },
                "severity" => match v.as_str().map(str::parse::<Severity>) {
                    Some(Ok(s)) => settings.severity = Some(s),
                    Some(Err(e)) => problems.push(format!("settings: `{full}`: {e}")),
                    None => problems.push(expected(&full, "blocking, major, minor or info", v)),
                },
                "targets" => match v {
                    Value::Object(map) => {
                        for (glob, target) in map {
                            let key = format!("{full}.\"{glob}\"");
                            let Some(target) = target.as_str().filter(|t| !t.trim().is_empty())
                            else {
                                problems.push(expected(&key, "a target name (string)", target));
                                continue;
                            };
                            match Glob::new(glob) {
                                Ok(g) => settings
                                    .targets
                                    .push((g.compile_matcher(), target.trim().to_string())),
                                Err(e) => {
                                    problems.push(format!("settings: `{key}`: invalid glob: {e}"))
                                }
                            }
                        }
                    }
                    _ => problems.push(expected(&full, "an object of glob → target", v)),
                },
                "debounceMs" | "debounce_ms" | "debounce" => match v.as_u64() {
                    Some(ms) => {
                        settings.debounce = Some(Duration::from_millis(ms.min(MAX_DEBOUNCE_MS)))
                    }
                    None => problems.push(expected(&full, "a number of milliseconds ≥ 0", v)),
                },
                // Client-side settings (e.g. the VS Code extension's `forewarn.path`) are not ours.
                "path" | "trace" | "enable" | "args" => {}
                _ => problems.push(format!("settings: unknown key `{full}` (ignored)")),
            }
        }
        (settings, problems)
    }

    /// The target `[targets]` globs give `path`, matched relative to `root` when the document is
    /// inside it, else against the whole path.
    pub fn target_for(&self, path: &Path, root: Option<&Path>) -> Option<&str> {
        let rel = root.and_then(|r| path.strip_prefix(r).ok()).unwrap_or(path);
        self.targets
            .iter()
            .find(|(m, _)| m.is_match(rel) || m.is_match(path))
            .map(|(_, t)| t.as_str())
    }

    pub fn debounce(&self) -> Duration {
        self.debounce.unwrap_or(DEFAULT_DEBOUNCE)
    }
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn expected(key: &str, what: &str, got: &Value) -> String {
    format!(
        "settings: `{key}` should be {what}, not {} (keeping the default)",
        kind(got)
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_every_key_nested_or_not() {
        let v = json!({"forewarn": {"store": "/tmp/p.db", "target": "D2TESTNAS", "severity": "minor",
            "targets": {"win/**": "OLDSRV"}, "debounceMs": 50}});
        let (s, problems) = Settings::from_json(&v);
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(s.store.as_deref(), Some(Path::new("/tmp/p.db")));
        assert_eq!(s.target.as_deref(), Some("D2TESTNAS"));
        assert_eq!(s.severity, Some(Severity::Minor));
        assert_eq!(s.debounce(), Duration::from_millis(50));
        assert_eq!(
            s.target_for(Path::new("/ws/win/a.ps1"), Some(Path::new("/ws"))),
            Some("OLDSRV")
        );
        assert_eq!(
            s.target_for(Path::new("/ws/lin/a.sh"), Some(Path::new("/ws"))),
            None
        );
        let (flat, _) = Settings::from_json(&json!({"target": "x"}));
        assert_eq!(flat.target.as_deref(), Some("x"));
    }

    #[test]
    fn bad_values_are_named_and_keep_defaults() {
        let v = json!({"forewarn": {"severity": "loud", "target": 3, "debounceMs": -1,
            "targets": {"[": "x", "ok/**": 5}, "colour": true}});
        let (s, problems) = Settings::from_json(&v);
        assert_eq!(s.severity, None);
        assert_eq!(s.target, None);
        assert_eq!(s.debounce(), DEFAULT_DEBOUNCE);
        assert!(s.targets.is_empty());
        for key in [
            "forewarn.severity",
            "forewarn.target",
            "forewarn.debounceMs",
            "forewarn.targets.\"[\"",
            "forewarn.targets.\"ok/**\"",
            "forewarn.colour",
        ] {
            assert!(
                problems.iter().any(|p| p.contains(key)),
                "{key} not named in {problems:?}"
            );
        }
        let (_, problems) = Settings::from_json(&json!({"forewarn": "nope"}));
        assert_eq!(problems.len(), 1);
    }
}
