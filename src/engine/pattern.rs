//! The failure pattern as the engine sees it: the upstream `failure_patterns` row with its JSON
//! columns decoded. The store converts rows to and from this type; nothing here does I/O.

use serde::{Deserialize, Serialize};
use std::collections::HashSet;
use std::fmt;
use std::str::FromStr;

use super::operations;
use super::target::SYSTEM_TAGS;

/// How bad a failure is. Ordered: `Info < Minor < Major < Blocking`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Minor,
    Major,
    Blocking,
}

impl Severity {
    pub const ALL: [Severity; 4] = [
        Severity::Blocking,
        Severity::Major,
        Severity::Minor,
        Severity::Info,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Minor => "minor",
            Severity::Major => "major",
            Severity::Blocking => "blocking",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Severity {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "info" | "hint" => Ok(Severity::Info),
            "minor" | "information" => Ok(Severity::Minor),
            "major" | "warning" => Ok(Severity::Major),
            "blocking" | "error" => Ok(Severity::Blocking),
            _ => Err(format!(
                "unknown severity `{s}` (expected blocking, major, minor or info)"
            )),
        }
    }
}

/// The upstream `pattern_type` values.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PatternType {
    CommandCompatibility,
    VersionMismatch,
    PermissionDenied,
    ServiceUnavailable,
    ConfigurationError,
    EnvironmentalLimitation,
}

impl PatternType {
    pub const ALL: [PatternType; 6] = [
        PatternType::CommandCompatibility,
        PatternType::VersionMismatch,
        PatternType::PermissionDenied,
        PatternType::ServiceUnavailable,
        PatternType::ConfigurationError,
        PatternType::EnvironmentalLimitation,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            PatternType::CommandCompatibility => "command_compatibility",
            PatternType::VersionMismatch => "version_mismatch",
            PatternType::PermissionDenied => "permission_denied",
            PatternType::ServiceUnavailable => "service_unavailable",
            PatternType::ConfigurationError => "configuration_error",
            PatternType::EnvironmentalLimitation => "environmental_limitation",
        }
    }
}

impl fmt::Display for PatternType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for PatternType {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        PatternType::ALL
            .into_iter()
            .find(|t| t.as_str() == s.trim())
            .ok_or_else(|| {
                format!(
                    "unknown pattern_type `{s}` (expected one of {})",
                    PatternType::ALL.map(|t| t.as_str()).join(", ")
                )
            })
    }
}

/// forewarn's `fix` column: a machine-applicable edit of the matched text, with the regex
/// crate's replacement syntax (`$1`), and how to tell that the fix is already in place.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct Fix {
    #[serde(default)]
    pub title: Option<String>,
    /// A regex over the matched text; empty when the fix is no edit of it (only `applied_if`).
    #[serde(default)]
    pub replace: String,
    #[serde(default)]
    pub with: String,
    /// A regex that recognises the fix already applied: where it matches the script's code
    /// (not a comment or a data string) before the command, in code that runs in the same
    /// session (the file's target, or the same remote block), the failure cannot happen and
    /// the pattern is not reported there. E.g. the TLS 1.2 patterns' `SecurityProtocol = …Tls12`.
    #[serde(default)]
    pub applied_if: Option<String>,
}

impl Fix {
    /// Whether the fix edits the matched text (it may only say when it is applied).
    pub fn is_edit(&self) -> bool {
        !self.replace.is_empty()
    }
}

/// `replace` and `with` are written only for an edit, `applied_if` only when set, so a fix
/// exports as it was imported.
impl Serialize for Fix {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = s.serialize_map(None)?;
        if let Some(title) = &self.title {
            map.serialize_entry("title", title)?;
        }
        if self.is_edit() || !self.with.is_empty() {
            map.serialize_entry("replace", &self.replace)?;
            map.serialize_entry("with", &self.with)?;
        }
        if let Some(applied_if) = &self.applied_if {
            map.serialize_entry("applied_if", applied_if)?;
        }
        map.end()
    }
}

/// One failure pattern. Field names are the store's column names, which are also the
/// interchange format's keys (DESIGN.md §2.3).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pattern {
    #[serde(default)]
    pub id: String,
    #[serde(default)]
    pub infrastructure_id: Option<String>,
    #[serde(default)]
    pub client_id: Option<String>,
    pub pattern_type: PatternType,
    pub pattern_signature: String,
    #[serde(default)]
    pub error_pattern: Option<String>,
    #[serde(default)]
    pub affected_systems: Vec<String>,
    #[serde(default)]
    pub triggering_commands: Vec<String>,
    #[serde(default)]
    pub triggering_operations: Vec<String>,
    pub failure_description: String,
    #[serde(default)]
    pub root_cause: String,
    #[serde(default)]
    pub recommended_solution: String,
    #[serde(default)]
    pub alternative_approaches: Vec<String>,
    #[serde(default = "one")]
    pub occurrence_count: i64,
    #[serde(default)]
    pub first_seen: Option<String>,
    #[serde(default)]
    pub last_seen: Option<String>,
    #[serde(default = "default_severity")]
    pub severity: Severity,
    #[serde(default = "yes", with = "int_bool")]
    pub is_active: bool,
    #[serde(default, with = "int_bool")]
    pub added_to_insights: bool,
    #[serde(default)]
    pub created_at: Option<String>,
    #[serde(default)]
    pub updated_at: Option<String>,
    #[serde(default)]
    pub fix: Option<Fix>,
    /// Where the knowledge comes from (documentation pages, issue threads).
    #[serde(default)]
    pub references: Vec<String>,
}

fn one() -> i64 {
    1
}
fn yes() -> bool {
    true
}
#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fix_that_would_delete_the_command_is_a_problem() {
        let mut p: Pattern = serde_json::from_value(serde_json::json!({
            "id": "x", "pattern_type": "command_compatibility", "pattern_signature": "s",
            "failure_description": "d", "triggering_commands": ["foo"],
            "fix": {"replace": "^(foo)", "with": "$9"}
        }))
        .unwrap();
        assert!(p.problems()[0].contains("`$9`"), "{:?}", p.problems());
        p.fix.as_mut().unwrap().with = "${1}2".into();
        assert!(p.problems().is_empty(), "{:?}", p.problems());
        p.triggering_commands.clear();
        assert!(p.problems()[0].contains("nothing triggers it"));
    }

    #[test]
    fn missing_command_patterns_are_told_by_their_error_text() {
        let with_error = |e: Option<&str>| {
            let mut p = Pattern::new("x", PatternType::CommandCompatibility, "s", "d");
            p.error_pattern = e.map(str::to_string);
            p.is_missing_command()
        };
        for missing in [
            "nproc: command not found",
            "systemctl: (command )?not found",
            "(env: can't execute 'bash'|bash: not found|/bin/bash: not found)",
            "The term '(Get-LocalUser|New-LocalUser)' is not recognized",
            "'wmic(\\.exe)?' is not recognized as an internal or external command",
            "zsh: command not found: tac",
            "env: 'python': No such file or directory",
        ] {
            assert!(with_error(Some(missing)), "{missing}");
        }
        for other in [
            "System has not been booted with systemd as init system \\(PID 1\\)",
            "Failed to start x.service: Unit x.service not found",
            "The command 'Send-MailMessage' is obsolete",
            "A parameter cannot be found that matches parameter name 'Parallel'",
            "ERROR: No files found with the specified search criteria",
            "",
        ] {
            assert!(!with_error(Some(other)), "{other}");
        }
        assert!(!with_error(None), "a pattern without an error text");
    }

    #[test]
    fn the_default_library_names_its_missing_commands() {
        let library = crate::store::default_patterns();
        let by_sig = |needle: &str| {
            library
                .iter()
                .find(|p| p.pattern_signature.contains(needle))
                .unwrap_or_else(|| panic!("no `{needle}` pattern"))
                .is_missing_command()
        };
        assert!(by_sig("LocalAccounts cmdlets"));
        assert!(by_sig("bare python"));
        assert!(by_sig("wmic is removed"));
        assert!(!by_sig("systemctl fails in containers"));
        assert!(!by_sig("wmic is deprecated"));
        assert!(!by_sig("Send-MailMessage"));
        let missing = library.iter().filter(|p| p.is_missing_command()).count();
        assert!(missing > 40 && missing < library.len() - 20, "{missing}");
    }

    #[test]
    fn unknown_tags_and_operations_are_named_with_a_suggestion() {
        let mut p = Pattern::new("x", PatternType::CommandCompatibility, "s", "d");
        p.triggering_commands = vec!["foo".into()];
        p.affected_systems = vec!["macOS".into(), "macoss".into(), "acme-legacy".into()];
        p.triggering_operations = vec!["Package_Install".into(), "package-instal".into()];
        let none = HashSet::new();
        let problems = p.unknown_names(&none);
        assert_eq!(problems.len(), 3, "{problems:?}");
        assert!(
            problems[0].contains("`macoss`") && problems[0].ends_with("(did you mean `macos`?)"),
            "{problems:?}"
        );
        assert!(
            problems[1].contains("`acme-legacy`") && !problems[1].contains("did you mean"),
            "{problems:?}"
        );
        assert!(
            problems[2].contains("class `package-instal`")
                && problems[2].ends_with("(did you mean `package_install`?)"),
            "{problems:?}"
        );
        // A tag a host of the store carries is the site's own vocabulary.
        let site: HashSet<String> = ["acme-legacy".to_string()].into();
        assert_eq!(p.unknown_names(&site).len(), 2);
        // The default library names only documented tags and classes.
        for q in crate::store::default_patterns() {
            assert_eq!(q.unknown_names(&none), Vec::<String>::new(), "{}", q.id);
        }
    }

    #[test]
    fn ids_are_uuids_in_text_form() {
        assert!(is_uuid("0d6c3f0e-5b7a-4c1e-9a57-2f4b8e1d6a90"));
        assert!(is_uuid("0D6C3F0E-5B7A-4C1E-9A57-2F4B8E1D6A90"));
        for not in [
            "",
            "p1",
            "0d6c3f0e5b7a4c1e9a572f4b8e1d6a90",
            "{0d6c3f0e-5b7a-4c1e-9a57-2f4b8e1d6a90}",
            "0d6c3f0e-5b7a-4c1e-9a57-2f4b8e1d6a9g",
            "0d6c3f0e-5b7a-4c1e-9a57_2f4b8e1d6a90",
        ] {
            assert!(!is_uuid(not), "{not}");
        }
    }

    #[test]
    fn replacement_groups_follow_the_regex_crate() {
        assert_eq!(
            replacement_groups("python3 $1 ${name}x $$9 $ab_c-d"),
            vec!["1", "name", "ab_c"]
        );
    }
}

fn default_severity() -> Severity {
    Severity::Major
}

/// SQLite stores booleans as 0/1; the interchange format accepts both `true` and `1`.
mod int_bool {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(v: &bool, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_bool(*v)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum B {
            Bool(bool),
            Int(i64),
        }
        Ok(match B::deserialize(d)? {
            B::Bool(b) => b,
            B::Int(i) => i != 0,
        })
    }
}

/// The capture groups a replacement string refers to (`$1`, `$name`, `${name}`; `$$` is a `$`),
/// with the regex crate's rules: a bare reference takes the longest run of `[_0-9A-Za-z]`.
fn replacement_groups(with: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = with;
    while let Some(i) = rest.find('$') {
        rest = &rest[i + 1..];
        if let Some(r) = rest.strip_prefix('$') {
            rest = r;
        } else if let Some(r) = rest.strip_prefix('{') {
            if let Some(end) = r.find('}') {
                out.push(&r[..end]);
                rest = &r[end + 1..];
            }
        } else {
            let end = rest
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(rest.len());
            if end > 0 {
                out.push(&rest[..end]);
            }
            rest = &rest[end..];
        }
    }
    out
}

/// What makes a fix's `applied_if` unusable, and a fix that says nothing.
fn applied_if_problems(fix: &Fix) -> Vec<String> {
    let mut out = Vec::new();
    if !fix.is_edit() && !fix.with.is_empty() {
        out.push(format!(
            "fix.with `{}` has no fix.replace to say what it replaces",
            fix.with
        ));
    }
    match fix.applied_if.as_deref() {
        None if !fix.is_edit() => {
            out.push("fix has neither replace/with nor applied_if, so it does nothing".to_string())
        }
        None => {}
        Some(re) if re.trim().is_empty() => out.push(
            "fix.applied_if is empty: it would match everywhere and hide every finding".into(),
        ),
        Some(re) => match regex_syntax::ParserBuilder::new().build().parse(re) {
            Err(e) => out.push(format!(
                "fix.applied_if `{re}` is not a valid regex: {}",
                e.to_string().lines().last().unwrap_or("").trim()
            )),
            Ok(hir) if hir.properties().minimum_len() == Some(0) => out.push(format!(
                "fix.applied_if `{re}` can match empty text, so it would hide every finding"
            )),
            Ok(_) => {}
        },
    }
    out
}

/// What shells print when a command does not exist, as `error_pattern`s spell it (lowercase):
/// bash and zsh (`X: command not found`, and the library's `X: (command )?not found`), dash and
/// BusyBox sh (`sh: 1: X: not found`), PowerShell (`The term 'X' is not recognized as the name
/// of a cmdlet`) and cmd (`'X' is not recognized as an internal or external command`), env
/// (`env: can't execute 'X'`, `env: 'X': No such file or directory`), a missing interpreter
/// path (`/usr/bin/X: No such file or directory`) and fish (`Unknown command: X`).
const MISSING_COMMAND_TEXTS: &[&str] = &[
    "command not found",
    "command )?not found",
    ": not found",
    "is not recognized",
    "can't execute",
    "no such file or directory",
    "unknown command",
];

/// Whether `id` is a UUID in the 36-character text form the schema's ids use (DESIGN.md §2.1),
/// e.g. `0d6c3f0e-5b7a-4c1e-9a57-2f4b8e1d6a90`, in either case.
pub fn is_uuid(id: &str) -> bool {
    id.len() == 36 && uuid::Uuid::try_parse(id).is_ok()
}

/// `" (did you mean `X`?)"` for the known name closest to `wrong`, when one is close enough to
/// be a typo of it (a few edits, as rustc and clap suggest).
pub fn did_you_mean<'a>(wrong: &str, known: impl Iterator<Item = &'a str>) -> String {
    let limit = (wrong.chars().count() / 3).clamp(1, 3);
    known
        .map(|k| (strsim::damerau_levenshtein(wrong, k), k))
        .filter(|(d, _)| *d <= limit)
        .min()
        .map(|(_, k)| format!(" (did you mean `{k}`?)"))
        .unwrap_or_default()
}

/// Where a triggering entry written as `syntax:…` names a language construct, not a command.
pub const SYNTAX_PREFIX: &str = "syntax:";

impl Pattern {
    /// A pattern with the required fields set and every other column at the store's default
    /// (active, severity major, seen once, no scope, no triggers yet).
    pub fn new(
        id: impl Into<String>,
        pattern_type: PatternType,
        signature: impl Into<String>,
        description: impl Into<String>,
    ) -> Pattern {
        Pattern {
            id: id.into(),
            infrastructure_id: None,
            client_id: None,
            pattern_type,
            pattern_signature: signature.into(),
            error_pattern: None,
            affected_systems: Vec::new(),
            triggering_commands: Vec::new(),
            triggering_operations: Vec::new(),
            failure_description: description.into(),
            root_cause: String::new(),
            recommended_solution: String::new(),
            alternative_approaches: Vec::new(),
            occurrence_count: one(),
            first_seen: None,
            last_seen: None,
            severity: default_severity(),
            is_active: true,
            added_to_insights: false,
            created_at: None,
            updated_at: None,
            fix: None,
            references: Vec::new(),
        }
    }

    /// Whether this pattern predicts that its command is missing on the target: its
    /// `error_pattern` is a "not found" message ([`MISSING_COMMAND_TEXTS`]). A lookup of the
    /// command's own name (`command -v X && X`) proves such a failure cannot happen; a pattern
    /// about a command that exists and fails (`systemctl` where systemd is not PID 1) or
    /// without an error text (a deprecation) is not answered by a lookup.
    pub fn is_missing_command(&self) -> bool {
        self.error_pattern.as_deref().is_some_and(|e| {
            let e = e.to_ascii_lowercase();
            MISSING_COMMAND_TEXTS.iter().any(|t| e.contains(t))
        })
    }

    /// Every problem that would stop this pattern from working: triggering regexes and the fix's
    /// regexes (`replace`, `applied_if`) that do not compile. (Unknown types, severities and malformed JSON columns are
    /// caught when the row is decoded, before a `Pattern` exists.)
    pub fn problems(&self) -> Vec<String> {
        let mut out = self.field_problems();
        for entry in &self.triggering_commands {
            let re = entry.strip_prefix(SYNTAX_PREFIX).unwrap_or(entry);
            if re.trim().is_empty() {
                out.push(format!("triggering_commands entry `{entry}` is empty"));
            } else if let Err(e) = crate::engine::index::check_regex(re) {
                out.push(format!(
                    "triggering_commands entry `{entry}` is not a valid regex: {e}"
                ));
            }
        }
        out
    }

    /// The problems of [`Pattern::problems`] other than the triggering regexes (the index checks
    /// those while it parses them anyway).
    pub(crate) fn field_problems(&self) -> Vec<String> {
        let mut out = Vec::new();
        if self.pattern_signature.trim().is_empty() {
            out.push("pattern_signature is empty".to_string());
        }
        if self.pattern_signature.chars().count() > 500 {
            out.push("pattern_signature is longer than 500 characters".to_string());
        }
        if self.triggering_commands.is_empty()
            && self.triggering_operations.is_empty()
            && self
                .error_pattern
                .as_deref()
                .is_none_or(|e| e.trim().is_empty())
        {
            out.push(
                "nothing triggers it: no triggering_commands, triggering_operations or error_pattern"
                    .to_string(),
            );
        }
        if let Some(fix) = &self.fix {
            out.extend(applied_if_problems(fix));
        }
        if let Some(fix) = self.fix.as_ref().filter(|f| f.is_edit()) {
            match regex::Regex::new(&fix.replace) {
                Err(e) => out.push(format!(
                    "fix.replace `{}` is not a valid regex: {}",
                    fix.replace,
                    e.to_string().lines().last().unwrap_or("").trim()
                )),
                Ok(re) => {
                    for group in replacement_groups(&fix.with) {
                        let exists = match group.parse::<usize>() {
                            Ok(n) => n < re.captures_len(),
                            Err(_) => re.capture_names().flatten().any(|n| n == group),
                        };
                        if !exists {
                            out.push(format!(
                                "fix.with refers to group `${group}`, which fix.replace `{}` does not \
                                 have (it would be replaced by nothing)",
                                fix.replace
                            ));
                        }
                    }
                }
            }
        }
        out
    }

    /// The names in this pattern that match nothing forewarn knows, so the entry can never
    /// fire: an `affected_systems` tag that is neither documented ([`SYSTEM_TAGS`]) nor in
    /// `site_tags` (the lowercased tags the store's hosts carry), and a `triggering_operations`
    /// class outside the built-in taxonomy ([`operations::ALL`]). Tags and classes compare
    /// lowercased, as matching does. The store refuses such a pattern and `store lint` lists
    /// it; the index still loads it (its other entries work).
    pub fn unknown_names(&self, site_tags: &HashSet<String>) -> Vec<String> {
        let mut out = Vec::new();
        for tag in &self.affected_systems {
            let t = tag.trim().to_lowercase();
            if !SYSTEM_TAGS.contains(&t.as_str()) && !site_tags.contains(&t) {
                let known = SYSTEM_TAGS
                    .iter()
                    .copied()
                    .chain(site_tags.iter().map(String::as_str));
                out.push(format!(
                    "affected_systems tag `{tag}` is neither a documented tag (docs/patterns.md) \
                     nor a tag of a host in the store, so it matches no target{}",
                    did_you_mean(&t, known)
                ));
            }
        }
        for op in &self.triggering_operations {
            let o = op.trim().to_lowercase();
            if !operations::ALL.contains(&o.as_str()) {
                out.push(format!(
                    "triggering_operations class `{op}` is not one forewarn knows ({}), so no \
                     command triggers it{}",
                    operations::ALL.join(", "),
                    did_you_mean(&o, operations::ALL.iter().copied())
                ));
            }
        }
        out
    }

    /// The one-line message of a finding: what fails, and why.
    pub fn message(&self) -> String {
        let desc = self.failure_description.trim().trim_end_matches('.');
        let cause = self.root_cause.trim();
        if cause.is_empty() {
            format!("{desc}.")
        } else {
            format!("{desc}: {cause}")
        }
    }

    /// Whether this pattern names where it applies (otherwise it applies everywhere).
    pub fn is_scoped(&self) -> bool {
        !self.affected_systems.is_empty()
            || self.infrastructure_id.is_some()
            || self.client_id.is_some()
    }
}
