//! The JSON interchange format (DESIGN.md §2.3): export, and an all-or-nothing import that
//! validates every row first and reports every fault with the row's index, id and key.
//!
//! The format is `{"clients": […], "infrastructure": […], "failure_patterns": […]}` with the
//! column names as keys and the JSON-array columns as real arrays; a bare array is read as
//! `failure_patterns` alone.

use std::collections::HashSet;

use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};
use serde_json::{Map, Value};

use super::admin::{name_clash, site_tags};
use super::rows;
use super::{Store, StoreError};
use crate::engine::pattern::is_uuid;
use crate::engine::{Client, Host, Pattern, PatternType, Problem, Severity};

/// What an import changed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ImportSummary {
    pub clients_added: usize,
    pub clients_updated: usize,
    pub hosts_added: usize,
    pub hosts_updated: usize,
    pub patterns_added: usize,
    pub patterns_updated: usize,
    /// The ids of the imported patterns, in file order (new ones included).
    pub pattern_ids: Vec<String>,
}

impl std::fmt::Display for ImportSummary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} patterns added, {} updated; {} hosts added, {} updated; {} clients added, {} updated",
            self.patterns_added,
            self.patterns_updated,
            self.hosts_added,
            self.hosts_updated,
            self.clients_added,
            self.clients_updated
        )
    }
}

const TOP_KEYS: [&str; 3] = ["clients", "infrastructure", "failure_patterns"];
const CLIENT_KEYS: [&str; 2] = ["id", "name"];
const HOST_KEYS: [&str; 7] = [
    "id",
    "client_id",
    "hostname",
    "aliases",
    "os",
    "os_version",
    "system_tags",
];
/// Every key a pattern row may have: the columns.
pub(crate) const PATTERN_KEYS: [&str; 23] = [
    "id",
    "infrastructure_id",
    "client_id",
    "pattern_type",
    "pattern_signature",
    "error_pattern",
    "affected_systems",
    "triggering_commands",
    "triggering_operations",
    "failure_description",
    "root_cause",
    "recommended_solution",
    "alternative_approaches",
    "occurrence_count",
    "first_seen",
    "last_seen",
    "severity",
    "is_active",
    "added_to_insights",
    "created_at",
    "updated_at",
    "fix",
    "references",
];
const PATTERN_LISTS: [&str; 5] = [
    "affected_systems",
    "triggering_commands",
    "triggering_operations",
    "alternative_approaches",
    "references",
];
const PATTERN_TEXTS: [&str; 12] = [
    "infrastructure_id",
    "client_id",
    "pattern_signature",
    "error_pattern",
    "failure_description",
    "root_cause",
    "recommended_solution",
    "first_seen",
    "last_seen",
    "created_at",
    "updated_at",
    "pattern_type",
];
/// Columns that keep their stored (or default) value when an imported row leaves them out.
const KEPT_WHEN_ABSENT: [&str; 7] = [
    "occurrence_count",
    "first_seen",
    "last_seen",
    "is_active",
    "added_to_insights",
    "created_at",
    "updated_at",
];

/// The length of an id: a UUID's text form, what the schema's VARCHAR(36) holds.
const MAX_ID: usize = 36;

struct PatternRow {
    pattern: Pattern,
    /// Which of [`KEPT_WHEN_ABSENT`] the row gave.
    given: HashSet<&'static str>,
}

/// A parsed, validated import.
pub(crate) struct Document {
    clients: Vec<Client>,
    hosts: Vec<Host>,
    patterns: Vec<PatternRow>,
}

impl Document {
    /// Its patterns, as the engine takes them.
    pub(crate) fn into_patterns(self) -> Vec<Pattern> {
        self.patterns.into_iter().map(|row| row.pattern).collect()
    }
}

/// Parses `text` and checks every row on its own (types, keys, regexes). Cross-row checks that
/// need the store (references, unique names) happen in [`validate_against`].
pub(crate) fn parse(text: &str) -> Result<Document, Vec<String>> {
    let value: Value =
        serde_json::from_str(text).map_err(|e| vec![format!("not valid JSON: {e}")])?;
    let mut errors = Vec::new();
    let (clients, hosts, patterns) = match value {
        Value::Array(items) => (Vec::new(), Vec::new(), items),
        Value::Object(mut obj) => {
            for key in obj.keys() {
                if !TOP_KEYS.contains(&key.as_str()) {
                    errors.push(format!(
                        "unknown top-level key `{key}` (expected clients, infrastructure, failure_patterns)"
                    ));
                }
            }
            let mut take = |key: &str| match obj.remove(key) {
                None | Some(Value::Null) => Vec::new(),
                Some(Value::Array(items)) => items,
                Some(other) => {
                    errors.push(format!("`{key}` must be an array, not {}", kind(&other)));
                    Vec::new()
                }
            };
            (take("clients"), take("infrastructure"), take("failure_patterns"))
        }
        other => {
            return Err(vec![format!(
                "expected an object {{\"clients\", \"infrastructure\", \"failure_patterns\"}} or an array of patterns, not {}",
                kind(&other)
            )])
        }
    };
    let mut doc = Document {
        clients: Vec::new(),
        hosts: Vec::new(),
        patterns: Vec::new(),
    };
    for (i, item) in clients.into_iter().enumerate() {
        match parse_client(item) {
            Ok(c) => doc.clients.push(c),
            Err((id, e)) => errors.extend(e.into_iter().map(|e| format!("clients[{i}]{id}: {e}"))),
        }
    }
    for (i, item) in hosts.into_iter().enumerate() {
        match parse_host(item) {
            Ok(h) => doc.hosts.push(h),
            Err((id, e)) => errors.extend(
                e.into_iter()
                    .map(|e| format!("infrastructure[{i}]{id}: {e}")),
            ),
        }
    }
    for (i, item) in patterns.into_iter().enumerate() {
        match parse_pattern(item) {
            Ok(p) => doc.patterns.push(p),
            Err((id, e)) => errors.extend(
                e.into_iter()
                    .map(|e| format!("failure_patterns[{i}]{id}: {e}")),
            ),
        }
    }
    check_duplicates(&doc, &mut errors);
    if errors.is_empty() {
        Ok(doc)
    } else {
        Err(errors)
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

/// `" (id X)"` for messages, when the row has a string id.
fn id_label(obj: &Map<String, Value>) -> String {
    match obj.get("id").and_then(Value::as_str) {
        Some(id) if !id.is_empty() => format!(" (id {id})"),
        _ => String::new(),
    }
}

type RowError = (String, Vec<String>);

fn object(item: Value) -> Result<Map<String, Value>, RowError> {
    match item {
        Value::Object(obj) => Ok(obj),
        other => Err((
            String::new(),
            vec![format!("expected an object, not {}", kind(&other))],
        )),
    }
}

fn check_keys(obj: &Map<String, Value>, allowed: &[&str], errors: &mut Vec<String>) {
    for key in obj.keys() {
        if !allowed.contains(&key.as_str()) {
            errors.push(format!("unknown key `{key}`"));
        }
    }
}

/// Checks the id, and gives a row without one a new UUID.
fn check_id(obj: &mut Map<String, Value>, errors: &mut Vec<String>) {
    match obj.get("id") {
        None | Some(Value::Null) => {
            obj.insert("id".into(), Value::String(uuid::Uuid::new_v4().to_string()));
        }
        Some(Value::String(s)) if s.trim().is_empty() => {
            obj.insert("id".into(), Value::String(uuid::Uuid::new_v4().to_string()));
        }
        Some(Value::String(s)) if !is_uuid(s) => errors.push(format!(
            "id `{s}` is not a UUID (ids are {MAX_ID}-character UUID text such as \
             0d6c3f0e-5b7a-4c1e-9a57-2f4b8e1d6a90; leave the id out and one is made)"
        )),
        Some(Value::String(_)) => {}
        Some(other) => errors.push(format!("id must be a string, not {}", kind(other))),
    }
}

fn check_text(obj: &Map<String, Value>, key: &str, errors: &mut Vec<String>) {
    match obj.get(key) {
        None | Some(Value::Null) | Some(Value::String(_)) => {}
        Some(other) => errors.push(format!("{key} must be a string, not {}", kind(other))),
    }
}

/// Tags and operation classes are matched lowercased: they are stored that way, trimmed, so
/// the store, its exports and `store show` spell them one way.
fn lowercase_list(obj: &mut Map<String, Value>, key: &str) {
    if let Some(Value::Array(items)) = obj.get_mut(key) {
        for item in items {
            if let Value::String(s) = item {
                *s = s.trim().to_lowercase();
            }
        }
    }
}

/// A JSON-array column: null or absent is empty; otherwise an array of strings.
fn check_list(obj: &mut Map<String, Value>, key: &str, errors: &mut Vec<String>) {
    match obj.get(key) {
        None => {}
        Some(Value::Null) => {
            obj.remove(key);
        }
        Some(Value::Array(items)) => {
            for (j, item) in items.iter().enumerate() {
                if !item.is_string() {
                    errors.push(format!("{key}[{j}] must be a string, not {}", kind(item)));
                }
            }
        }
        Some(other) => errors.push(format!(
            "{key} must be an array of strings, not {}",
            kind(other)
        )),
    }
}

fn parse_client(item: Value) -> Result<Client, RowError> {
    let mut obj = object(item)?;
    let label = id_label(&obj);
    let mut errors = Vec::new();
    check_keys(&obj, &CLIENT_KEYS, &mut errors);
    check_id(&mut obj, &mut errors);
    match obj.get("name") {
        Some(Value::String(s)) if !s.trim().is_empty() => {}
        Some(Value::String(_)) => errors.push("name is empty".into()),
        None | Some(Value::Null) => errors.push("name is missing".into()),
        Some(other) => errors.push(format!("name must be a string, not {}", kind(other))),
    }
    if !errors.is_empty() {
        return Err((label, errors));
    }
    serde_json::from_value(Value::Object(obj)).map_err(|e| (label, vec![e.to_string()]))
}

fn parse_host(item: Value) -> Result<Host, RowError> {
    let mut obj = object(item)?;
    let label = match obj.get("hostname").and_then(Value::as_str) {
        Some(h) => format!(" (hostname {h})"),
        None => id_label(&obj),
    };
    let mut errors = Vec::new();
    check_keys(&obj, &HOST_KEYS, &mut errors);
    check_id(&mut obj, &mut errors);
    for key in ["client_id", "os", "os_version"] {
        check_text(&obj, key, &mut errors);
    }
    for key in ["aliases", "system_tags"] {
        check_list(&mut obj, key, &mut errors);
    }
    lowercase_list(&mut obj, "system_tags");
    match obj.get("hostname") {
        Some(Value::String(s)) => {
            if let Err(e) = super::admin::check_hostname(s) {
                errors.push(e);
            }
        }
        None | Some(Value::Null) => errors.push("hostname is missing".into()),
        Some(other) => errors.push(format!("hostname must be a string, not {}", kind(other))),
    }
    if !errors.is_empty() {
        return Err((label, errors));
    }
    serde_json::from_value(Value::Object(obj)).map_err(|e| (label, vec![e.to_string()]))
}

fn parse_pattern(item: Value) -> Result<PatternRow, RowError> {
    let mut obj = object(item)?;
    let label = id_label(&obj);
    let mut errors = Vec::new();
    check_keys(&obj, &PATTERN_KEYS, &mut errors);
    check_id(&mut obj, &mut errors);
    for key in PATTERN_TEXTS {
        check_text(&obj, key, &mut errors);
    }
    for key in PATTERN_LISTS {
        check_list(&mut obj, key, &mut errors);
    }
    lowercase_list(&mut obj, "affected_systems");
    lowercase_list(&mut obj, "triggering_operations");
    for key in ["pattern_type", "pattern_signature", "failure_description"] {
        if matches!(obj.get(key), None | Some(Value::Null)) {
            errors.push(format!("{key} is missing"));
        }
    }
    if let Some(Value::String(t)) = obj.get("pattern_type") {
        if let Err(e) = t.parse::<PatternType>() {
            errors.push(format!("pattern_type: {e}"));
        }
    }
    match obj.get("severity") {
        None => {}
        Some(Value::String(s)) => match s.parse::<Severity>() {
            // The aliases FromStr accepts (error, warning, …) are stored by their real name.
            Ok(sev) => {
                obj.insert("severity".into(), Value::String(sev.as_str().into()));
            }
            Err(e) => errors.push(format!("severity: {e}")),
        },
        Some(other) => errors.push(format!("severity must be a string, not {}", kind(other))),
    }
    match obj.get("occurrence_count") {
        None => {}
        Some(Value::Number(n)) if n.as_i64().is_some_and(|n| n >= 0) => {}
        Some(other) => errors.push(format!(
            "occurrence_count must be a non-negative integer, not {other}"
        )),
    }
    for key in ["is_active", "added_to_insights"] {
        match obj.get(key) {
            None | Some(Value::Bool(_)) => {}
            Some(Value::Number(n)) if n.as_i64().is_some() => {}
            Some(other) => errors.push(format!("{key} must be true/false or 1/0, not {other}")),
        }
    }
    match obj.get("fix") {
        None | Some(Value::Null) => {}
        Some(Value::Object(fix)) => {
            for key in fix.keys() {
                if !["title", "replace", "with", "applied_if"].contains(&key.as_str()) {
                    errors.push(format!(
                        "fix: unknown key `{key}` (expected title, replace, with, applied_if)"
                    ));
                }
            }
            // An edit needs both halves; a fix that only says when it is applied needs neither.
            let given = |key: &str| !matches!(fix.get(key), None | Some(Value::Null));
            if given("replace") || given("with") || !given("applied_if") {
                for key in ["replace", "with"] {
                    if !fix.get(key).is_some_and(Value::is_string) {
                        errors.push(format!("fix.{key} must be a string"));
                    }
                }
            }
            for key in ["title", "applied_if"] {
                if fix.get(key).is_some_and(|t| !t.is_string() && !t.is_null()) {
                    errors.push(format!("fix.{key} must be a string"));
                }
            }
        }
        Some(other) => errors.push(format!(
            "fix must be an object {{\"title\", \"replace\", \"with\", \"applied_if\"}} or null, not {}",
            kind(other)
        )),
    }
    if !errors.is_empty() {
        return Err((label, errors));
    }
    let given: HashSet<&'static str> = KEPT_WHEN_ABSENT
        .into_iter()
        .filter(|k| !matches!(obj.get(*k), None | Some(Value::Null)))
        .collect();
    let pattern: Pattern = serde_json::from_value(Value::Object(obj))
        .map_err(|e| (label.clone(), vec![e.to_string()]))?;
    let problems = pattern.problems();
    if !problems.is_empty() {
        return Err((label, problems));
    }
    Ok(PatternRow { pattern, given })
}

fn check_duplicates(doc: &Document, errors: &mut Vec<String>) {
    let mut seen = HashSet::new();
    for (i, c) in doc.clients.iter().enumerate() {
        if !seen.insert(("client id", c.id.clone())) {
            errors.push(format!("clients[{i}]: id {} appears twice", c.id));
        }
        if !seen.insert(("client name", c.name.to_lowercase())) {
            errors.push(format!("clients[{i}]: name `{}` appears twice", c.name));
        }
    }
    for (i, h) in doc.hosts.iter().enumerate() {
        if !seen.insert(("host id", h.id.clone())) {
            errors.push(format!("infrastructure[{i}]: id {} appears twice", h.id));
        }
    }
    for (i, p) in doc.patterns.iter().enumerate() {
        if !seen.insert(("pattern id", p.pattern.id.clone())) {
            errors.push(format!(
                "failure_patterns[{i}]: id {} appears twice",
                p.pattern.id
            ));
        }
    }
}

/// Checks what needs the store: every referenced client and host exists (in the file or the
/// store), no client name and no host name (hostname or alias) belongs to another row, and
/// every pattern names only tags and operation classes forewarn or the hosts know.
fn validate_against(conn: &Connection, doc: &Document) -> rusqlite::Result<Vec<String>> {
    let mut errors = Vec::new();
    let exists = |table: &str, id: &str| -> rusqlite::Result<bool> {
        conn.query_row(
            &format!("SELECT 1 FROM {table} WHERE id = ?1"),
            [id],
            |_| Ok(()),
        )
        .optional()
        .map(|r| r.is_some())
    };
    let client_ids: HashSet<&str> = doc.clients.iter().map(|c| c.id.as_str()).collect();
    let host_ids: HashSet<&str> = doc.hosts.iter().map(|h| h.id.as_str()).collect();
    let stored = super::admin::hosts(conn)?;
    let kept: Vec<&Host> = stored
        .iter()
        .filter(|h| !host_ids.contains(h.id.as_str()))
        .collect();
    for (i, c) in doc.clients.iter().enumerate() {
        let owner: Option<String> = conn
            .query_row("SELECT id FROM clients WHERE name = ?1", [&c.name], |r| {
                r.get(0)
            })
            .optional()?;
        if let Some(owner) = owner.filter(|o| *o != c.id) {
            errors.push(format!(
                "clients[{i}] (id {}): the name `{}` already belongs to client {owner}",
                c.id, c.name
            ));
        }
    }
    for (i, h) in doc.hosts.iter().enumerate() {
        if let Some(cid) = &h.client_id {
            if !client_ids.contains(cid.as_str()) && !exists("clients", cid)? {
                errors.push(format!(
                    "infrastructure[{i}] (hostname {}): client_id {cid} is neither in the file nor in the store",
                    h.hostname
                ));
            }
        }
        // Every name a host answers to must be its alone: `--target` and `ssh HOST` would
        // pick either host. Stored hosts the file replaces are judged by their new rows.
        let others = kept
            .iter()
            .copied()
            .chain(doc.hosts[..i].iter())
            .filter(|o| o.id != h.id);
        let names = std::iter::once(("hostname", &h.hostname))
            .chain(h.aliases.iter().map(|a| ("alias", a)));
        for (what, name) in names {
            if let Some(owner) = name_clash(others.clone(), name) {
                errors.push(format!(
                    "infrastructure[{i}] (hostname {}): {what} `{name}` is already {owner}",
                    h.hostname
                ));
            }
        }
    }
    // A pattern may name the documented tags and the tags its store's hosts carry.
    let tags = site_tags(kept.iter().copied().chain(&doc.hosts));
    for (i, row) in doc.patterns.iter().enumerate() {
        let p = &row.pattern;
        for problem in p.unknown_names(&tags) {
            errors.push(format!("failure_patterns[{i}] (id {}): {problem}", p.id));
        }
        if let Some(hid) = &p.infrastructure_id {
            if !host_ids.contains(hid.as_str()) && !exists("infrastructure", hid)? {
                errors.push(format!(
                    "failure_patterns[{i}] (id {}): infrastructure_id {hid} is neither in the file nor in the store",
                    p.id
                ));
            }
        }
        if let Some(cid) = &p.client_id {
            if !client_ids.contains(cid.as_str()) && !exists("clients", cid)? {
                errors.push(format!(
                    "failure_patterns[{i}] (id {}): client_id {cid} is neither in the file nor in the store",
                    p.id
                ));
            }
        }
    }
    Ok(errors)
}

/// Validates `text` and writes it on `conn` (the caller's transaction). Either every row is
/// written or the error lists every fault and nothing is.
pub(crate) fn import_text(conn: &Connection, text: &str) -> Result<ImportSummary, StoreError> {
    let doc = parse(text).map_err(|e| StoreError::Invalid(e.join("\n")))?;
    import_document(conn, &doc)
}

pub(crate) fn import_document(
    conn: &Connection,
    doc: &Document,
) -> Result<ImportSummary, StoreError> {
    let sql = |e: rusqlite::Error| StoreError::Invalid(format!("writing the import failed: {e}"));
    let errors = validate_against(conn, doc).map_err(sql)?;
    if !errors.is_empty() {
        return Err(StoreError::Invalid(errors.join("\n")));
    }
    let mut summary = ImportSummary::default();
    for c in &doc.clients {
        let existed = conn
            .execute(
                "UPDATE clients SET name = ?2 WHERE id = ?1",
                params![c.id, c.name],
            )
            .map_err(sql)?
            > 0;
        if existed {
            summary.clients_updated += 1;
        } else {
            conn.execute(
                "INSERT INTO clients (id, name) VALUES (?1, ?2)",
                params![c.id, c.name],
            )
            .map_err(sql)?;
            summary.clients_added += 1;
        }
    }
    for h in &doc.hosts {
        let values = params![
            h.id,
            h.client_id,
            h.hostname,
            rows::to_json_list(&h.aliases),
            h.os,
            h.os_version,
            rows::to_json_list(&h.system_tags)
        ];
        let existed = conn
            .execute(
                "UPDATE infrastructure SET client_id = ?2, hostname = ?3, aliases = ?4, os = ?5,
                     os_version = ?6, system_tags = ?7, updated_at = CURRENT_TIMESTAMP
                 WHERE id = ?1",
                values,
            )
            .map_err(sql)?
            > 0;
        if existed {
            summary.hosts_updated += 1;
        } else {
            conn.execute(
                "INSERT INTO infrastructure (id, client_id, hostname, aliases, os, os_version, system_tags)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                values,
            )
            .map_err(sql)?;
            summary.hosts_added += 1;
        }
    }
    for row in &doc.patterns {
        if write_pattern(conn, row).map_err(sql)? {
            summary.patterns_updated += 1;
        } else {
            summary.patterns_added += 1;
        }
        summary.pattern_ids.push(row.pattern.id.clone());
    }
    Ok(summary)
}

/// Inserts or updates one pattern. Columns the row left out keep their stored value on update
/// and take the schema default on insert. Returns whether the id existed.
fn write_pattern(conn: &Connection, row: &PatternRow) -> rusqlite::Result<bool> {
    let p = &row.pattern;
    let given = |k: &str| row.given.contains(k);
    let opt_i = |k: &str, v: i64| given(k).then_some(v);
    let opt_s = |k: &str, v: &Option<String>| if given(k) { v.clone() } else { None };
    let existed = conn
        .query_row(
            "SELECT 1 FROM failure_patterns WHERE id = ?1",
            [&p.id],
            |_| Ok(()),
        )
        .optional()?
        .is_some();
    let values = params![
        p.id,                                                   // 1
        p.infrastructure_id,                                    // 2
        p.client_id,                                            // 3
        p.pattern_type.as_str(),                                // 4
        p.pattern_signature,                                    // 5
        p.error_pattern,                                        // 6
        rows::to_json_list(&p.affected_systems),                // 7
        rows::to_json_list(&p.triggering_commands),             // 8
        rows::to_json_list(&p.triggering_operations),           // 9
        p.failure_description,                                  // 10
        p.root_cause,                                           // 11
        p.recommended_solution,                                 // 12
        rows::to_json_list(&p.alternative_approaches),          // 13
        opt_i("occurrence_count", p.occurrence_count),          // 14
        opt_s("first_seen", &p.first_seen),                     // 15
        opt_s("last_seen", &p.last_seen),                       // 16
        p.severity.as_str(),                                    // 17
        opt_i("is_active", p.is_active as i64),                 // 18
        opt_i("added_to_insights", p.added_to_insights as i64), // 19
        opt_s("created_at", &p.created_at),                     // 20
        opt_s("updated_at", &p.updated_at),                     // 21
        rows::to_json_fix(p.fix.as_ref()),                      // 22
        rows::to_json_list(&p.references),                      // 23
    ];
    if existed {
        conn.execute(
            r#"UPDATE failure_patterns SET
                infrastructure_id = ?2, client_id = ?3, pattern_type = ?4, pattern_signature = ?5,
                error_pattern = ?6, affected_systems = ?7, triggering_commands = ?8,
                triggering_operations = ?9, failure_description = ?10, root_cause = ?11,
                recommended_solution = ?12, alternative_approaches = ?13,
                occurrence_count = COALESCE(?14, occurrence_count),
                first_seen = COALESCE(?15, first_seen), last_seen = COALESCE(?16, last_seen),
                severity = ?17, is_active = COALESCE(?18, is_active),
                added_to_insights = COALESCE(?19, added_to_insights),
                created_at = COALESCE(?20, created_at),
                updated_at = COALESCE(?21, CURRENT_TIMESTAMP),
                fix = ?22, "references" = ?23
               WHERE id = ?1"#,
            values,
        )?;
    } else {
        conn.execute(
            r#"INSERT INTO failure_patterns (id, infrastructure_id, client_id, pattern_type,
                pattern_signature, error_pattern, affected_systems, triggering_commands,
                triggering_operations, failure_description, root_cause, recommended_solution,
                alternative_approaches, occurrence_count, first_seen, last_seen, severity,
                is_active, added_to_insights, created_at, updated_at, fix, "references")
               VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13,
                COALESCE(?14, 1), COALESCE(?15, CURRENT_TIMESTAMP), COALESCE(?16, CURRENT_TIMESTAMP),
                ?17, COALESCE(?18, 1), COALESCE(?19, 0), COALESCE(?20, CURRENT_TIMESTAMP),
                COALESCE(?21, CURRENT_TIMESTAMP), ?22, ?23)"#,
            values,
        )?;
    }
    Ok(existed)
}

impl Store {
    /// Imports an interchange document (or a bare array of patterns), all or nothing.
    pub fn import(&self, text: &str) -> Result<ImportSummary, StoreError> {
        self.writable()?;
        let doc = parse(text).map_err(|e| StoreError::Invalid(e.join("\n")))?;
        self.import_parsed(&doc)
    }

    fn import_parsed(&self, doc: &Document) -> Result<ImportSummary, StoreError> {
        let mut conn = self.conn();
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(|e| self.sql(e))?;
        let summary = import_document(&tx, doc)?;
        tx.commit().map_err(|e| self.sql(e))?;
        Ok(summary)
    }

    /// Adds one new pattern given as a JSON object (the interchange row); returns its id.
    /// An id that exists already is refused: updating is `import`'s job.
    pub fn add_pattern(&self, row: Value) -> Result<String, StoreError> {
        self.writable()?;
        let given_id = row
            .get("id")
            .and_then(Value::as_str)
            .is_some_and(|s| !s.trim().is_empty());
        let text = Value::Array(vec![row]).to_string();
        let doc = parse(&text).map_err(|e| {
            StoreError::Invalid(
                e.iter()
                    .map(|m| m.replacen("failure_patterns[0]", "pattern", 1))
                    .collect::<Vec<_>>()
                    .join("\n"),
            )
        })?;
        let id = doc.patterns[0].pattern.id.clone();
        let taken = self
            .conn()
            .query_row(
                "SELECT 1 FROM failure_patterns WHERE id = ?1",
                [&id],
                |_| Ok(()),
            )
            .optional()
            .map_err(|e| self.sql(e))?
            .is_some();
        if taken {
            return Err(StoreError::Invalid(format!(
                "a pattern with id {id} exists already (use `forewarn store import` to update it)"
            )));
        }
        // An id this call made up means nothing to the user: the row is just "pattern".
        let label = match given_id {
            true => format!("failure_patterns[0] (id {id})"),
            false => format!("failure_patterns[0] (id {id}): "),
        };
        let name = if given_id { "pattern" } else { "pattern: " };
        self.import_parsed(&doc).map_err(|e| match e {
            StoreError::Invalid(m) => StoreError::Invalid(
                m.lines()
                    .map(|l| l.replacen(&label, name, 1))
                    .collect::<Vec<_>>()
                    .join("\n"),
            ),
            other => other,
        })?;
        Ok(id)
    }

    /// The whole store in the interchange format, and the pattern rows left out because they
    /// do not decode.
    pub fn export(&self) -> Result<(Export, Vec<Problem>), StoreError> {
        let snap = self.load()?;
        let problems = snap
            .problems
            .into_iter()
            .filter(|p| !p.pattern_id.starts_with("host:"))
            .collect();
        let export = Export {
            clients: snap.clients,
            infrastructure: snap.hosts,
            failure_patterns: snap.patterns,
        };
        Ok((export, problems))
    }
}

/// A whole store in the interchange format; serializes with the keys in table and column order.
#[derive(Debug, Default, serde::Serialize)]
pub struct Export {
    pub clients: Vec<Client>,
    pub infrastructure: Vec<Host>,
    pub failure_patterns: Vec<Pattern>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fresh() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open_with(
            &dir.path().join("s.db"),
            super::super::OpenOptions {
                seed_defaults: false,
            },
        )
        .unwrap();
        (dir, store)
    }

    use super::super::test_uid;

    fn minimal(id: &str) -> Value {
        serde_json::json!({"id": test_uid(id), "pattern_type": "command_compatibility",
            "pattern_signature": "sig", "failure_description": "desc", "severity": "minor",
            "triggering_commands": ["foo"]})
    }

    #[test]
    fn every_invalid_row_is_reported_and_nothing_is_written() {
        let (_d, store) = fresh();
        let doc = serde_json::json!({"failure_patterns": [
            minimal("ok-1"),
            {"id": test_uid("bad-1"), "pattern_type": "oops", "pattern_signature": "s",
             "failure_description": "d", "severity": "fatal"},
            {"id": test_uid("bad-2"), "pattern_type": "permission_denied", "pattern_signature": "s",
             "failure_description": "d", "triggering_commands": ["("], "affected_systems": "x"},
            {"id": test_uid("bad-3"), "pattern_type": "permission_denied", "pattern_signature": "x".repeat(501),
             "failure_description": "d", "severty": "info"},
        ]});
        let err = store.import(&doc.to_string()).unwrap_err().to_string();
        assert!(
            err.contains(&format!(
                "failure_patterns[1] (id {}): pattern_type: unknown pattern_type `oops`",
                test_uid("bad-1")
            )),
            "{err}"
        );
        assert!(
            err.contains(&format!(
                "failure_patterns[1] (id {}): severity: unknown severity `fatal`",
                test_uid("bad-1")
            )),
            "{err}"
        );
        assert!(
            err.contains(&format!(
                "failure_patterns[2] (id {}): affected_systems must be an array",
                test_uid("bad-2")
            )),
            "{err}"
        );
        assert!(
            err.contains(&format!(
                "failure_patterns[3] (id {}): unknown key `severty`",
                test_uid("bad-3")
            )),
            "{err}"
        );
        // The regex and length faults of rows whose types are fine are found too.
        let doc2 = serde_json::json!([
            {"id": test_uid("bad-4"), "pattern_type": "permission_denied", "pattern_signature": "x".repeat(501),
             "failure_description": "d", "triggering_commands": ["("]}]);
        let err2 = store.import(&doc2.to_string()).unwrap_err().to_string();
        assert!(err2.contains("longer than 500"), "{err2}");
        assert!(err2.contains("`(` is not a valid regex"), "{err2}");
        assert_eq!(store.load().unwrap().patterns.len(), 0, "nothing imported");
    }

    #[test]
    fn import_keeps_ids_assigns_missing_ones_and_upserts() {
        let (_d, store) = fresh();
        let mut no_id = minimal("x");
        no_id.as_object_mut().unwrap().remove("id");
        let s = store
            .import(&Value::Array(vec![minimal("keep-me"), no_id]).to_string())
            .unwrap();
        assert_eq!((s.patterns_added, s.patterns_updated), (2, 0));
        let snap = store.load().unwrap();
        assert_eq!(snap.patterns[0].id, test_uid("keep-me"));
        assert!(uuid::Uuid::parse_str(&snap.patterns[1].id).is_ok());
        store.record_occurrence(&test_uid("keep-me"), None).unwrap();
        let mut changed = minimal("keep-me");
        changed["pattern_signature"] = "new sig".into();
        let s = store
            .import(&Value::Array(vec![changed]).to_string())
            .unwrap();
        assert_eq!((s.patterns_added, s.patterns_updated), (0, 1));
        let p = store.pattern(&test_uid("keep-me")).unwrap();
        assert_eq!(p.pattern_signature, "new sig");
        assert_eq!(p.occurrence_count, 2, "a count the file leaves out is kept");
    }

    #[test]
    fn unknown_tags_and_operations_are_refused_naming_the_row_and_the_field() {
        let (_d, store) = fresh();
        let mut p = minimal("p1");
        p["affected_systems"] = serde_json::json!(["macOS", "macoss"]);
        p["triggering_operations"] = serde_json::json!(["package-install"]);
        let err = store
            .import(&Value::Array(vec![minimal("ok"), p]).to_string())
            .unwrap_err()
            .to_string();
        let row = format!("failure_patterns[1] (id {})", test_uid("p1"));
        assert!(
            err.contains(&format!("{row}: affected_systems tag `macoss` is neither"))
                && err.contains("(did you mean `macos`?)"),
            "{err}"
        );
        assert!(
            err.contains(&format!(
                "{row}: triggering_operations class `package-install` is not one forewarn knows"
            )),
            "{err}"
        );
        assert!(
            !err.contains("`macOS`"),
            "a documented tag in capitals is fine: {err}"
        );
        assert_eq!(store.load().unwrap().patterns.len(), 0, "nothing imported");

        let err = store
            .import(
                &serde_json::json!([{"id": "p1", "pattern_type": "permission_denied",
                "pattern_signature": "s", "failure_description": "d",
                "triggering_commands": ["foo"]}])
                .to_string(),
            )
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("failure_patterns[0] (id p1): id `p1` is not a UUID"),
            "{err}"
        );
    }

    #[test]
    fn a_host_introduces_its_site_tags_and_tags_are_stored_lowercased() {
        let (_d, store) = fresh();
        let mut p = minimal("p1");
        p["affected_systems"] = serde_json::json!(["ACME-legacy", "MacOS"]);
        p["triggering_operations"] = serde_json::json!([" Package_Install"]);
        let alone = store
            .import(&Value::Array(vec![p.clone()]).to_string())
            .unwrap_err()
            .to_string();
        assert!(alone.contains("tag `acme-legacy` is neither"), "{alone}");
        let doc = serde_json::json!({
            "infrastructure": [{"hostname": "web1", "system_tags": ["Acme-Legacy", "debian-12"]}],
            "failure_patterns": [p]});
        store.import(&doc.to_string()).unwrap();
        let snap = store.load().unwrap();
        assert_eq!(snap.hosts[0].system_tags, ["acme-legacy", "debian-12"]);
        assert_eq!(snap.patterns[0].affected_systems, ["acme-legacy", "macos"]);
        assert_eq!(snap.patterns[0].triggering_operations, ["package_install"]);
        // Once a host of the store carries it, a later pattern may name it.
        let mut q = minimal("q1");
        q["affected_systems"] = serde_json::json!(["acme-legacy"]);
        store.add_pattern(q).unwrap();
        // A file that replaces the host without the tag takes it away.
        let host_id = snap.hosts[0].id.clone();
        let mut r = minimal("r1");
        r["affected_systems"] = serde_json::json!(["acme-legacy"]);
        let doc = serde_json::json!({
            "infrastructure": [{"id": host_id, "hostname": "web1", "system_tags": ["debian-12"]}],
            "failure_patterns": [r]});
        let err = store.import(&doc.to_string()).unwrap_err().to_string();
        assert!(err.contains("tag `acme-legacy` is neither"), "{err}");
    }

    #[test]
    fn a_name_two_hosts_would_answer_to_is_refused() {
        let (_d, store) = fresh();
        let doc = serde_json::json!({"infrastructure": [
            {"hostname": "acme-web01", "aliases": ["web01.acme.lan"]}]});
        store.import(&doc.to_string()).unwrap();
        let first = store.load().unwrap().hosts[0].clone();
        let doc = serde_json::json!({"infrastructure": [
            {"hostname": "h2", "aliases": ["ACME-WEB01"]},
            {"hostname": "h3", "aliases": ["web01.acme.lan"]},
            {"hostname": "h4"},
            {"hostname": "h5", "aliases": ["h4"]},
            {"hostname": "web01.acme.lan"}]});
        let err = store.import(&doc.to_string()).unwrap_err().to_string();
        for expected in [
            "infrastructure[0] (hostname h2): alias `ACME-WEB01` is already the hostname of host acme-web01",
            "infrastructure[1] (hostname h3): alias `web01.acme.lan` is already an alias of host acme-web01",
            "infrastructure[3] (hostname h5): alias `h4` is already the hostname of host h4",
            "infrastructure[4] (hostname web01.acme.lan): hostname `web01.acme.lan` is already an alias of host acme-web01",
        ] {
            assert!(err.contains(expected), "{expected}\n{err}");
        }
        assert_eq!(err.lines().count(), 4, "{err}");
        // A host's own row imported again is no clash (export → import updates in place).
        let doc = serde_json::json!({"infrastructure": [first]});
        store.import(&doc.to_string()).unwrap();
    }

    #[test]
    fn references_must_exist_in_the_file_or_the_store() {
        let (_d, store) = fresh();
        let mut p = minimal("p1");
        let client = test_uid("client");
        p["client_id"] = client.clone().into();
        let err = store
            .import(&Value::Array(vec![p.clone()]).to_string())
            .unwrap_err();
        assert!(err.to_string().contains(&format!(
            "client_id {client} is neither in the file nor in the store"
        )));
        let doc = serde_json::json!({"clients": [{"id": client, "name": "Acme"}], "failure_patterns": [p]});
        store.import(&doc.to_string()).unwrap();
        assert_eq!(store.load().unwrap().clients[0].name, "Acme");
    }

    #[test]
    fn the_embedded_library_imports_cleanly() {
        let doc = parse(super::super::DEFAULT_LIBRARY).unwrap_or_else(|e| panic!("{e:#?}"));
        assert!(!doc.patterns.is_empty());
        for row in &doc.patterns {
            assert!(
                uuid::Uuid::parse_str(&row.pattern.id).is_ok(),
                "default pattern ids are UUIDs: {}",
                row.pattern.id
            );
            assert!(
                !row.pattern.references.is_empty(),
                "{} names its source",
                row.pattern.id
            );
        }
    }

    #[test]
    fn bad_json_is_named() {
        let (_d, store) = fresh();
        let err = store
            .import("{\"failure_patterns\": [")
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("not valid JSON"), "{err}");
        let err = store.import("{\"patterns\": []}").unwrap_err().to_string();
        assert!(err.contains("unknown top-level key `patterns`"), "{err}");
    }
}
