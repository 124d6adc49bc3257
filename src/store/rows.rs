//! Rows to values and back: decoding a `failure_patterns` or `infrastructure` row into the
//! engine's types, naming every column that does not decode, and the column lists the
//! queries share.

use rusqlite::types::ValueRef;
use rusqlite::Row;

use crate::engine::{Client, Fix, Host, Pattern, PatternType, Problem, Severity};

/// Every `failure_patterns` column, in table order; `decode_pattern` reads them by position.
pub(crate) const PATTERN_COLUMNS: &str = "id, infrastructure_id, client_id, pattern_type, \
     pattern_signature, error_pattern, affected_systems, triggering_commands, \
     triggering_operations, failure_description, root_cause, recommended_solution, \
     alternative_approaches, occurrence_count, first_seen, last_seen, severity, is_active, \
     added_to_insights, created_at, updated_at, fix, \"references\"";

pub(crate) const HOST_COLUMNS: &str =
    "id, client_id, hostname, aliases, os, os_version, system_tags";

/// A cell as text: numbers are written out, NULL is `None`, a blob is a problem.
fn text(row: &Row, i: usize, column: &str) -> Result<Option<String>, String> {
    match row.get_ref(i).map_err(|e| format!("{column}: {e}"))? {
        ValueRef::Null => Ok(None),
        ValueRef::Text(t) => Ok(Some(String::from_utf8_lossy(t).into_owned())),
        ValueRef::Integer(n) => Ok(Some(n.to_string())),
        ValueRef::Real(f) => Ok(Some(f.to_string())),
        ValueRef::Blob(_) => Err(format!("{column} holds binary data, not text")),
    }
}

fn integer(row: &Row, i: usize, column: &str, default: i64) -> Result<i64, String> {
    match row.get_ref(i).map_err(|e| format!("{column}: {e}"))? {
        ValueRef::Null => Ok(default),
        ValueRef::Integer(n) => Ok(n),
        ValueRef::Real(f) if f.fract() == 0.0 => Ok(f as i64),
        ValueRef::Text(t) => {
            let s = String::from_utf8_lossy(t);
            match s.trim().to_ascii_lowercase().as_str() {
                "true" => Ok(1),
                "false" => Ok(0),
                other => other
                    .parse()
                    .map_err(|_| format!("{column} `{s}` is not an integer")),
            }
        }
        _ => Err(format!("{column} is not an integer")),
    }
}

/// A JSON-array column: NULL is the empty list; anything else must be an array of strings.
pub(crate) fn json_list(value: Option<&str>, column: &str) -> Result<Vec<String>, String> {
    match value {
        None => Ok(Vec::new()),
        Some(s) => serde_json::from_str::<Vec<String>>(s).map_err(|e| {
            format!(
                "{column} is not a JSON array of strings ({}): {}",
                one_line(&e.to_string()),
                shorten(s)
            )
        }),
    }
}

fn json_fix(value: Option<&str>) -> Result<Option<Fix>, String> {
    match value.map(str::trim) {
        None | Some("null") => Ok(None),
        Some(s) => serde_json::from_str::<Fix>(s).map(Some).map_err(|e| {
            format!(
                "fix is not a JSON object {{\"title\", \"replace\", \"with\", \"applied_if\"}} ({}): {}",
                one_line(&e.to_string()),
                shorten(s)
            )
        }),
    }
}

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// A stored value quoted in a message, cut so one bad row cannot flood the terminal.
fn shorten(s: &str) -> String {
    const MAX: usize = 60;
    if s.chars().count() <= MAX {
        format!("`{s}`")
    } else {
        format!("`{}…`", s.chars().take(MAX).collect::<String>())
    }
}

/// Decodes a row selected with [`PATTERN_COLUMNS`]. Every column that does not decode is named
/// in the one problem returned, so `store lint` shows all of a row's faults at once.
pub(crate) fn decode_pattern(row: &Row) -> Result<Pattern, Problem> {
    let mut errors: Vec<String> = Vec::new();
    let mut take = |r: Result<Option<String>, String>| -> Option<String> {
        r.unwrap_or_else(|e| {
            errors.push(e);
            None
        })
    };
    let id = take(text(row, 0, "id"));
    let infrastructure_id = take(text(row, 1, "infrastructure_id"));
    let client_id = take(text(row, 2, "client_id"));
    let pattern_type = take(text(row, 3, "pattern_type"));
    let signature = take(text(row, 4, "pattern_signature"));
    let error_pattern = take(text(row, 5, "error_pattern"));
    let affected = take(text(row, 6, "affected_systems"));
    let commands = take(text(row, 7, "triggering_commands"));
    let operations = take(text(row, 8, "triggering_operations"));
    let description = take(text(row, 9, "failure_description"));
    let root_cause = take(text(row, 10, "root_cause"));
    let solution = take(text(row, 11, "recommended_solution"));
    let alternatives = take(text(row, 12, "alternative_approaches"));
    let first_seen = take(text(row, 14, "first_seen"));
    let last_seen = take(text(row, 15, "last_seen"));
    let severity = take(text(row, 16, "severity"));
    let created_at = take(text(row, 19, "created_at"));
    let updated_at = take(text(row, 20, "updated_at"));
    let fix = take(text(row, 21, "fix"));
    let references = take(text(row, 22, "references"));

    let mut ok = |r: Result<Vec<String>, String>| -> Vec<String> {
        r.unwrap_or_else(|e| {
            errors.push(e);
            Vec::new()
        })
    };
    let affected_systems = ok(json_list(affected.as_deref(), "affected_systems"));
    let triggering_commands = ok(json_list(commands.as_deref(), "triggering_commands"));
    let triggering_operations = ok(json_list(operations.as_deref(), "triggering_operations"));
    let alternative_approaches = ok(json_list(alternatives.as_deref(), "alternative_approaches"));
    let references = ok(json_list(references.as_deref(), "references"));
    let fix = json_fix(fix.as_deref()).unwrap_or_else(|e| {
        errors.push(e);
        None
    });
    let pattern_type = match pattern_type.as_deref().map(str::parse::<PatternType>) {
        Some(Ok(t)) => Some(t),
        Some(Err(e)) => {
            errors.push(e);
            None
        }
        None => {
            errors.push("pattern_type is missing".into());
            None
        }
    };
    let severity = match severity.as_deref().map(str::parse::<Severity>) {
        Some(Ok(s)) => Some(s),
        Some(Err(e)) => {
            errors.push(e);
            None
        }
        None => {
            errors.push("severity is missing".into());
            None
        }
    };
    let mut int = |i, column, default| {
        integer(row, i, column, default).unwrap_or_else(|e| {
            errors.push(e);
            default
        })
    };
    let occurrence_count = int(13, "occurrence_count", 1);
    let is_active = int(17, "is_active", 1) != 0;
    let added_to_insights = int(18, "added_to_insights", 0) != 0;

    let id = id.unwrap_or_default();
    if id.is_empty() {
        errors.push("id is empty".into());
    }
    match (pattern_type, severity, errors.is_empty()) {
        (Some(pattern_type), Some(severity), true) => Ok(Pattern {
            id,
            infrastructure_id,
            client_id,
            pattern_type,
            pattern_signature: signature.unwrap_or_default(),
            error_pattern,
            affected_systems,
            triggering_commands,
            triggering_operations,
            failure_description: description.unwrap_or_default(),
            root_cause: root_cause.unwrap_or_default(),
            recommended_solution: solution.unwrap_or_default(),
            alternative_approaches,
            occurrence_count,
            first_seen,
            last_seen,
            severity,
            is_active,
            added_to_insights,
            created_at,
            updated_at,
            fix,
            references,
        }),
        _ => Err(Problem {
            pattern_id: if id.is_empty() { "(no id)".into() } else { id },
            message: errors.join("; "),
        }),
    }
}

/// Decodes a row selected with [`HOST_COLUMNS`]. A malformed JSON column is a problem for that
/// host (named `host:HOSTNAME`); the host is still returned without the bad list so that it
/// resolves by name.
pub(crate) fn decode_host(row: &Row) -> Result<(Host, Option<Problem>), rusqlite::Error> {
    let mut errors = Vec::new();
    let mut cell = |i: usize, column: &str| {
        text(row, i, column).unwrap_or_else(|e| {
            errors.push(e);
            None
        })
    };
    let id = cell(0, "id").unwrap_or_default();
    let client_id = cell(1, "client_id");
    let hostname = cell(2, "hostname").unwrap_or_default();
    let aliases = cell(3, "aliases");
    let os = cell(4, "os");
    let os_version = cell(5, "os_version");
    let tags = cell(6, "system_tags");
    let aliases = json_list(aliases.as_deref(), "aliases").unwrap_or_else(|e| {
        errors.push(e);
        Vec::new()
    });
    let system_tags = json_list(tags.as_deref(), "system_tags").unwrap_or_else(|e| {
        errors.push(e);
        Vec::new()
    });
    let host = Host {
        id,
        client_id,
        hostname,
        aliases,
        os,
        os_version,
        system_tags,
    };
    let problem = (!errors.is_empty()).then(|| Problem {
        pattern_id: format!("host:{}", host.hostname),
        message: errors.join("; "),
    });
    Ok((host, problem))
}

pub(crate) fn decode_client(row: &Row) -> Result<Client, rusqlite::Error> {
    Ok(Client {
        id: text(row, 0, "id").ok().flatten().unwrap_or_default(),
        name: text(row, 1, "name").ok().flatten().unwrap_or_default(),
    })
}

/// A list as its JSON column text.
pub(crate) fn to_json_list(items: &[String]) -> String {
    serde_json::to_string(items).unwrap_or_else(|_| "[]".into())
}

pub(crate) fn to_json_fix(fix: Option<&Fix>) -> Option<String> {
    fix.and_then(|f| serde_json::to_string(f).ok())
}
