//! `forewarn store …` (patterns, hosts and clients in the shared store) and `forewarn insights`
//! (the markdown digest of patterns not yet reviewed). Errors are `forewarn: <message>` on
//! stderr; exit 0 ok, 1 lint problems, 2 usage, I/O and store errors.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Subcommand, ValueEnum};
use serde_json::{json, Map, Value};

use super::check::parse_severity;
use super::{error, out, outln, EXIT_ERROR};
use crate::config::Config;
use crate::engine::{Pattern, PatternType, Problem, Severity};
use crate::store::{HostSpec, OpenOptions, Store, StoreError};

/// Exit code of `store lint` when it finds problems.
const EXIT_PROBLEMS: u8 = 1;

#[derive(Debug, clap::Args)]
pub struct StoreArgs {
    #[command(subcommand)]
    pub command: StoreCommand,
}

#[derive(Debug, Subcommand)]
pub enum StoreCommand {
    /// Create the store (seeded with the default library) or migrate an existing one.
    Init {
        /// Create it empty, without the default library.
        #[arg(long)]
        no_defaults: bool,
    },
    /// Print the store's path (from --store, FOREWARN_STORE, the config, or the default).
    Path,
    /// List the patterns: id, severity, type, occurrences, signature.
    List {
        #[arg(long, value_enum, default_value_t = OutputFormat::Human)]
        format: OutputFormat,
        /// Include inactive patterns.
        #[arg(long)]
        all: bool,
    },
    /// Show every field of one pattern (its id or a unique start of it).
    Show {
        id: String,
        #[arg(long, value_enum, default_value_t = OutputFormat::Human)]
        format: OutputFormat,
    },
    /// Add a pattern from flags, or from a JSON file holding one pattern object.
    Add(Box<AddArgs>),
    /// Import an interchange file (`-` reads stdin): all rows or none.
    Import {
        #[arg(value_name = "FILE")]
        file: PathBuf,
    },
    /// Export the whole store as interchange JSON (to stdout without FILE).
    Export {
        #[arg(value_name = "FILE")]
        file: Option<PathBuf>,
    },
    /// List every stored pattern that cannot work (bad regex, bad JSON, unknown type or severity,
    /// a tag or operation class nothing knows, an id that is not a UUID) and every host whose
    /// names clash or whose tags match nothing.
    Lint,
    /// Record one occurrence of a pattern: count + 1, last_seen = now. Prints the new count.
    Record {
        id: String,
        /// The host it happened on: a hostname or alias of `forewarn store host list`.
        #[arg(long, value_name = "NAME")]
        host: Option<String>,
    },
    /// Counts by severity and type, hosts, clients, the most frequent patterns, recent occurrences.
    Stats,
    /// Hosts (the `infrastructure` table).
    #[command(subcommand)]
    Host(HostCommand),
    /// Clients (the owners of hosts).
    #[command(subcommand)]
    Client(ClientCommand),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    Human,
    Json,
}

#[derive(Debug, Subcommand)]
pub enum HostCommand {
    /// Add a host. Its client must exist already (`forewarn store client add NAME`).
    Add {
        hostname: String,
        /// Another name it answers to (FQDN, IP, short name). Repeatable.
        #[arg(long = "alias", value_name = "A")]
        aliases: Vec<String>,
        /// A system tag it belongs to, matched against affected_systems (e.g. powershell-2.0): a
        /// documented tag (docs/patterns.md) or one the store already uses. Repeatable.
        #[arg(long = "tag", value_name = "T")]
        tags: Vec<String>,
        /// A site-specific tag outside the documented vocabulary that this host introduces;
        /// patterns may then name it in affected_systems. Repeatable.
        #[arg(long = "site-tag", value_name = "T")]
        site_tags: Vec<String>,
        #[arg(long, value_name = "TEXT")]
        os: Option<String>,
        #[arg(long, value_name = "TEXT")]
        os_version: Option<String>,
        /// The client that owns it, by name; it must exist.
        #[arg(long, value_name = "NAME")]
        client: Option<String>,
    },
    /// List the hosts.
    List {
        #[arg(long, value_enum, default_value_t = OutputFormat::Human)]
        format: OutputFormat,
    },
    /// Remove a host (and the patterns scoped to it).
    Remove { hostname: String },
}

#[derive(Debug, Subcommand)]
pub enum ClientCommand {
    /// Add a client.
    Add { name: String },
    /// List the clients and how many hosts each has.
    List {
        #[arg(long, value_enum, default_value_t = OutputFormat::Human)]
        format: OutputFormat,
    },
}

#[derive(Debug, clap::Args)]
pub struct AddArgs {
    /// A JSON file (`-` = stdin) holding one pattern object in the interchange format.
    #[arg(long, value_name = "FILE", conflicts_with_all = [
        "pattern_type", "signature", "error_pattern", "affected_systems", "commands", "operations",
        "description", "root_cause", "solution", "alternatives", "severity", "fix_replace",
        "fix_with", "fix_title", "fix_applied_if", "references", "host", "client", "inactive"])]
    pub json: Option<PathBuf>,
    /// pattern_type: command_compatibility, version_mismatch, permission_denied,
    /// service_unavailable, configuration_error or environmental_limitation.
    #[arg(long = "type", value_name = "TYPE", value_parser = parse_type, required_unless_present = "json")]
    pub pattern_type: Option<PatternType>,
    /// pattern_signature: a one-line title (at most 500 characters).
    #[arg(long, value_name = "TEXT", required_unless_present = "json")]
    pub signature: Option<String>,
    /// error_pattern: a regex (or keywords) recognising the failure in command output.
    #[arg(long, value_name = "REGEX")]
    pub error_pattern: Option<String>,
    /// affected_systems: a system tag this applies on. Repeatable.
    #[arg(long = "affected-system", value_name = "TAG")]
    pub affected_systems: Vec<String>,
    /// triggering_commands: a regex matched from the command's name (`syntax:…` for constructs). Repeatable.
    #[arg(long = "command", value_name = "REGEX")]
    pub commands: Vec<String>,
    /// triggering_operations: an operation class (package_install, service_control, …). Repeatable.
    #[arg(long = "operation", value_name = "OP")]
    pub operations: Vec<String>,
    /// failure_description: what the user sees fail.
    #[arg(long, value_name = "TEXT", required_unless_present = "json")]
    pub description: Option<String>,
    /// root_cause: why it fails.
    #[arg(long, value_name = "TEXT")]
    pub root_cause: Option<String>,
    /// recommended_solution: what to do instead.
    #[arg(long, value_name = "TEXT")]
    pub solution: Option<String>,
    /// alternative_approaches: another way around it. Repeatable.
    #[arg(long = "alternative", value_name = "TEXT")]
    pub alternatives: Vec<String>,
    /// severity: blocking, major, minor or info.
    #[arg(long, value_name = "LEVEL", value_parser = parse_severity, default_value = "major")]
    pub severity: Severity,
    /// fix.replace: a regex over the matched text (needs --fix-with).
    #[arg(long, value_name = "REGEX", requires = "fix_with")]
    pub fix_replace: Option<String>,
    /// fix.with: the replacement (`$1` refers to a group; needs --fix-replace).
    #[arg(long, value_name = "TEXT", requires = "fix_replace")]
    pub fix_with: Option<String>,
    /// fix.title: the quick fix's label.
    #[arg(long, value_name = "TEXT", requires = "fix_replace")]
    pub fix_title: Option<String>,
    /// fix.applied_if: a regex recognising the fix already in the script's code before the
    /// command (in the same session); such a command is not reported.
    #[arg(long, value_name = "REGEX")]
    pub fix_applied_if: Option<String>,
    /// references: a source link. Repeatable.
    #[arg(long = "reference", value_name = "URL")]
    pub references: Vec<String>,
    /// infrastructure_id: scope the pattern to this host (by hostname or alias).
    #[arg(long, value_name = "HOSTNAME")]
    pub host: Option<String>,
    /// client_id: scope the pattern to this client (by name).
    #[arg(long, value_name = "NAME")]
    pub client: Option<String>,
    /// Store it inactive (never reported until activated).
    #[arg(long)]
    pub inactive: bool,
}

fn parse_type(s: &str) -> Result<PatternType, String> {
    s.parse()
}

#[derive(Debug, clap::Args)]
pub struct InsightsArgs {
    /// Where to write the digest (default: stdout). An existing file gets a new section appended.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
}

/// The store path the user means, reporting (not failing on) a broken config file.
fn store_path(flag: Option<&Path>) -> PathBuf {
    if flag.is_some() {
        return Store::resolve_path(flag, None);
    }
    let (config, err) = Config::discover(Path::new("."));
    if let Some(e) = err {
        error(e);
    }
    Store::resolve_path(None, Some(&config))
}

fn fail(e: impl std::fmt::Display) -> ExitCode {
    error(e);
    ExitCode::from(EXIT_ERROR)
}

fn open(flag: Option<&Path>, options: OpenOptions) -> Result<Store, ExitCode> {
    Store::open_with(&store_path(flag), options).map_err(fail)
}

pub fn run(args: StoreArgs, store_flag: Option<PathBuf>) -> ExitCode {
    let flag = store_flag.as_deref();
    let result = match args.command {
        StoreCommand::Path => {
            outln!("{}", store_path(flag).display());
            Ok(ExitCode::SUCCESS)
        }
        StoreCommand::Init { no_defaults } => init(flag, no_defaults),
        command => open(flag, OpenOptions::default()).and_then(|store| match command {
            StoreCommand::List { format, all } => list(&store, format, all),
            StoreCommand::Show { id, format } => show(&store, &id, format),
            StoreCommand::Add(add_args) => add(&store, *add_args),
            StoreCommand::Import { file } => import(&store, &file),
            StoreCommand::Export { file } => export(&store, file.as_deref()),
            StoreCommand::Lint => lint(&store),
            StoreCommand::Record { id, host } => {
                let count = match host.as_deref() {
                    Some(name) => store.record_occurrence_on_host(&id, name).map_err(fail)?,
                    None => store.record_occurrence(&id, None).map_err(fail)?,
                };
                outln!("{count}");
                Ok(ExitCode::SUCCESS)
            }
            StoreCommand::Stats => stats(&store),
            StoreCommand::Host(cmd) => host(&store, cmd),
            StoreCommand::Client(cmd) => client(&store, cmd),
            StoreCommand::Init { .. } | StoreCommand::Path => unreachable!("handled above"),
        }),
    };
    result.unwrap_or_else(|code| code)
}

type Outcome = Result<ExitCode, ExitCode>;

fn init(flag: Option<&Path>, no_defaults: bool) -> Outcome {
    let store = open(
        flag,
        OpenOptions {
            seed_defaults: !no_defaults,
        },
    )?;
    let snap = store.load().map_err(fail)?;
    let version = store.schema_version().map_err(fail)?;
    let path = store.path().display();
    let n = snap.patterns.len() + snap.problems.len();
    if store.was_created() {
        if no_defaults {
            outln!("created {path} (schema version {version}, empty)");
        } else {
            outln!("created {path} (schema version {version}, {n} default patterns)");
        }
    } else {
        outln!(
            "{path} exists (schema version {version}, {n} patterns, {} hosts, {} clients){}",
            snap.hosts.len(),
            snap.clients.len(),
            if no_defaults {
                "; --no-defaults only applies when creating"
            } else {
                ""
            }
        );
    }
    if store.is_read_only() {
        outln!("note: the store is read-only here");
    }
    Ok(ExitCode::SUCCESS)
}

/// Reports undecodable rows on stderr, as `check` does.
fn report_problems(store: &Store, problems: &[Problem]) {
    for p in problems {
        error(format_args!("{}: skipping {p}", store.path().display()));
    }
}

/// The shortest id prefix (at least 8 characters) that tells every id apart, as git abbreviates.
pub(crate) fn short_id_len(ids: &[&str]) -> usize {
    let mut sorted: Vec<&str> = ids.to_vec();
    sorted.sort_unstable();
    let mut len = 8;
    for pair in sorted.windows(2) {
        let common = pair[0]
            .chars()
            .zip(pair[1].chars())
            .take_while(|(a, b)| a.eq_ignore_ascii_case(b))
            .count();
        len = len.max(common + 1);
    }
    len
}

pub(crate) fn short(id: &str, len: usize) -> String {
    id.chars().take(len).collect()
}

fn sort_patterns(patterns: &mut [Pattern]) {
    patterns.sort_by(|a, b| {
        b.severity
            .cmp(&a.severity)
            .then_with(|| a.pattern_type.as_str().cmp(b.pattern_type.as_str()))
            .then_with(|| a.pattern_signature.cmp(&b.pattern_signature))
    });
}

fn print_json(value: &impl serde::Serialize) -> Outcome {
    let text = serde_json::to_string_pretty(value).map_err(fail)?;
    outln!("{text}");
    Ok(ExitCode::SUCCESS)
}

fn list(store: &Store, format: OutputFormat, all: bool) -> Outcome {
    let snap = store.load().map_err(fail)?;
    report_problems(store, &snap.problems);
    let total = snap.patterns.len();
    let mut patterns: Vec<Pattern> = snap
        .patterns
        .into_iter()
        .filter(|p| all || p.is_active)
        .collect();
    sort_patterns(&mut patterns);
    if format == OutputFormat::Json {
        return print_json(&patterns);
    }
    let ids: Vec<&str> = patterns.iter().map(|p| p.id.as_str()).collect();
    let w = short_id_len(&ids);
    let mut out = String::new();
    out.push_str(&format!(
        "{:<w$}  {:<8}  {:<24}  {:>5}  SIGNATURE\n",
        "ID", "SEVERITY", "TYPE", "COUNT"
    ));
    for p in &patterns {
        out.push_str(&format!(
            "{:<w$}  {:<8}  {:<24}  {:>5}  {}{}\n",
            short(&p.id, w),
            p.severity.as_str(),
            p.pattern_type.as_str(),
            p.occurrence_count,
            p.pattern_signature,
            if p.is_active { "" } else { "  (inactive)" }
        ));
    }
    let hidden = total - patterns.len();
    out.push_str(&format!(
        "{} patterns{}\n",
        patterns.len(),
        if hidden > 0 {
            format!(" ({hidden} inactive not shown; --all shows them)")
        } else {
            String::new()
        }
    ));
    out!("{out}");
    Ok(ExitCode::SUCCESS)
}

fn show(store: &Store, id: &str, format: OutputFormat) -> Outcome {
    let p = store.pattern(id).map_err(fail)?;
    if format == OutputFormat::Json {
        return print_json(&p);
    }
    let snap = store.load().map_err(fail)?;
    let host = p.infrastructure_id.as_ref().map(|hid| {
        snap.hosts
            .iter()
            .find(|h| &h.id == hid)
            .map_or_else(|| hid.clone(), |h| format!("{} ({hid})", h.hostname))
    });
    let client = p.client_id.as_ref().map(|cid| {
        snap.clients
            .iter()
            .find(|c| &c.id == cid)
            .map_or_else(|| cid.clone(), |c| format!("{} ({cid})", c.name))
    });
    let opt = |v: &Option<String>| v.clone().unwrap_or_default();
    let fix = p.fix.as_ref().map(|f| {
        let edit = f
            .is_edit()
            .then(|| format!("replace /{}/ with `{}`", f.replace, f.with));
        let applied = f.applied_if.as_ref().map(|a| format!("applied if /{a}/"));
        format!(
            "{}{}",
            f.title
                .as_ref()
                .map(|t| format!("{t}: "))
                .unwrap_or_default(),
            edit.into_iter()
                .chain(applied)
                .collect::<Vec<_>>()
                .join("; ")
        )
    });
    let fields: Vec<(&str, Vec<String>)> = vec![
        ("id", vec![p.id.clone()]),
        ("pattern_signature", vec![p.pattern_signature.clone()]),
        ("pattern_type", vec![p.pattern_type.to_string()]),
        ("severity", vec![p.severity.to_string()]),
        ("is_active", vec![p.is_active.to_string()]),
        ("failure_description", vec![p.failure_description.clone()]),
        ("root_cause", vec![p.root_cause.clone()]),
        ("recommended_solution", vec![p.recommended_solution.clone()]),
        ("alternative_approaches", p.alternative_approaches.clone()),
        ("error_pattern", vec![opt(&p.error_pattern)]),
        ("triggering_commands", p.triggering_commands.clone()),
        ("triggering_operations", p.triggering_operations.clone()),
        ("affected_systems", p.affected_systems.clone()),
        ("infrastructure", host.into_iter().collect()),
        ("client", client.into_iter().collect()),
        ("fix", fix.into_iter().collect()),
        ("references", p.references.clone()),
        ("occurrence_count", vec![p.occurrence_count.to_string()]),
        ("first_seen", vec![opt(&p.first_seen)]),
        ("last_seen", vec![opt(&p.last_seen)]),
        ("added_to_insights", vec![p.added_to_insights.to_string()]),
        ("created_at", vec![opt(&p.created_at)]),
        ("updated_at", vec![opt(&p.updated_at)]),
    ];
    let mut out = String::new();
    for (name, values) in fields {
        let values: Vec<&String> = values.iter().filter(|v| !v.is_empty()).collect();
        match values.as_slice() {
            [] => out.push_str(&format!("{name:<23} -\n")),
            [one]
                if !matches!(
                    name,
                    "alternative_approaches"
                        | "triggering_commands"
                        | "triggering_operations"
                        | "affected_systems"
                        | "references"
                ) =>
            {
                out.push_str(&format!("{name:<23} {one}\n"))
            }
            many => {
                out.push_str(&format!("{name}\n"));
                for v in many {
                    out.push_str(&format!("  - {v}\n"));
                }
            }
        }
    }
    out!("{out}");
    Ok(ExitCode::SUCCESS)
}

fn read_input(file: &Path) -> Result<String, ExitCode> {
    let mut bytes = Vec::new();
    let read = if file.as_os_str() == "-" {
        std::io::stdin().read_to_end(&mut bytes).map(|_| ())
    } else {
        std::fs::File::open(file).and_then(|mut f| f.read_to_end(&mut bytes).map(|_| ()))
    };
    read.map_err(|e| fail(format_args!("{}: {e}", display_name(file))))?;
    String::from_utf8(bytes)
        .map_err(|e| fail(format_args!("{}: not UTF-8 text ({e})", display_name(file))))
}

fn display_name(file: &Path) -> String {
    if file.as_os_str() == "-" {
        "<stdin>".into()
    } else {
        file.display().to_string()
    }
}

/// A validation failure that lists several problems, one per line.
fn fail_listing(what: &str, e: StoreError, verdict: &str) -> ExitCode {
    match e {
        StoreError::Invalid(lines) if lines.contains('\n') => {
            let n = lines.lines().count();
            let mut msg = format!("{what}: {n} problems, {verdict}:");
            for line in lines.lines() {
                msg.push_str("\n  ");
                msg.push_str(line);
            }
            fail(msg)
        }
        StoreError::Invalid(line) => fail(format_args!("{what}: {line} ({verdict})")),
        other => fail(other),
    }
}

/// Which flag sets each key, to name the flag in validation messages.
const FLAG_OF_KEY: [(&str, &str); 15] = [
    ("pattern_signature", "--signature"),
    ("pattern_type", "--type"),
    ("error_pattern", "--error-pattern"),
    ("affected_systems", "--affected-system"),
    ("triggering_commands", "--command"),
    ("triggering_operations", "--operation"),
    ("failure_description", "--description"),
    ("root_cause", "--root-cause"),
    ("recommended_solution", "--solution"),
    ("alternative_approaches", "--alternative"),
    ("fix.replace", "--fix-replace"),
    ("fix.with", "--fix-with"),
    ("fix.title", "--fix-title"),
    ("fix.applied_if", "--fix-applied-if"),
    ("references", "--reference"),
];

fn name_flags(message: &str) -> String {
    let mut out = message.to_string();
    for (key, flag) in FLAG_OF_KEY {
        if out.contains(key) && !out.contains(flag) {
            out = out.replacen(key, &format!("{flag} ({key})"), 1);
        }
    }
    out
}

fn add(store: &Store, args: AddArgs) -> Outcome {
    let (row, from_flags) = match &args.json {
        Some(file) => {
            let text = read_input(file)?;
            let value: Value = serde_json::from_str(&text)
                .map_err(|e| fail(format_args!("{}: not valid JSON: {e}", display_name(file))))?;
            if !value.is_object() {
                return Err(fail(format_args!(
                    "{}: expected one pattern object (use `forewarn store import` for a list)",
                    display_name(file)
                )));
            }
            (value, false)
        }
        None => (row_from_flags(store, &args)?, true),
    };
    match store.add_pattern(row) {
        Ok(id) => {
            outln!("{id}");
            Ok(ExitCode::SUCCESS)
        }
        Err(StoreError::Invalid(msg)) if from_flags => {
            let msg = msg.lines().map(name_flags).collect::<Vec<_>>().join("\n");
            Err(fail_listing(
                "store add",
                StoreError::Invalid(msg),
                "nothing added",
            ))
        }
        Err(e) => Err(fail_listing("store add", e, "nothing added")),
    }
}

fn row_from_flags(store: &Store, args: &AddArgs) -> Result<Value, ExitCode> {
    let mut row = Map::new();
    let mut set = |k: &str, v: Value| {
        row.insert(k.to_string(), v);
    };
    if let Some(t) = args.pattern_type {
        set("pattern_type", json!(t.as_str()));
    }
    set("pattern_signature", json!(args.signature));
    set("error_pattern", json!(args.error_pattern));
    set("affected_systems", json!(args.affected_systems));
    set("triggering_commands", json!(args.commands));
    set("triggering_operations", json!(args.operations));
    set("failure_description", json!(args.description));
    set(
        "root_cause",
        json!(args.root_cause.clone().unwrap_or_default()),
    );
    set(
        "recommended_solution",
        json!(args.solution.clone().unwrap_or_default()),
    );
    set("alternative_approaches", json!(args.alternatives));
    set("severity", json!(args.severity.as_str()));
    set("references", json!(args.references));
    set("is_active", json!(!args.inactive));
    let mut fix = serde_json::Map::new();
    if let (Some(replace), Some(with)) = (&args.fix_replace, &args.fix_with) {
        fix.insert("replace".into(), json!(replace));
        fix.insert("with".into(), json!(with));
        if let Some(title) = &args.fix_title {
            fix.insert("title".into(), json!(title));
        }
    }
    if let Some(applied_if) = &args.fix_applied_if {
        fix.insert("applied_if".into(), json!(applied_if));
    }
    if !fix.is_empty() {
        set("fix", Value::Object(fix));
    }
    if args.host.is_some() || args.client.is_some() {
        let snap = store.load().map_err(fail)?;
        if let Some(name) = &args.host {
            let host = snap
                .hosts
                .iter()
                .find(|h| h.is_named(name))
                .ok_or_else(|| {
                    fail(format_args!(
                        "--host: no host is named `{name}` (see `forewarn store host list`)"
                    ))
                })?;
            set("infrastructure_id", json!(host.id));
        }
        if let Some(name) = &args.client {
            let client = snap
                .clients
                .iter()
                .find(|c| c.name == *name)
                .ok_or_else(|| {
                    fail(format_args!(
                        "--client: no client is named `{name}` (see `forewarn store client list`)"
                    ))
                })?;
            set("client_id", json!(client.id));
        }
    }
    Ok(Value::Object(row))
}

fn import(store: &Store, file: &Path) -> Outcome {
    let text = read_input(file)?;
    let summary = store
        .import(&text)
        .map_err(|e| fail_listing(&display_name(file), e, "nothing imported"))?;
    outln!("imported {}: {summary}", display_name(file));
    Ok(ExitCode::SUCCESS)
}

fn export(store: &Store, file: Option<&Path>) -> Outcome {
    let (export, problems) = store.export().map_err(fail)?;
    for p in &problems {
        error(format_args!(
            "{}: not exported: {p} (fix it, then export again)",
            store.path().display()
        ));
    }
    let mut text = serde_json::to_string_pretty(&export).map_err(fail)?;
    text.push('\n');
    match file.filter(|f| f.as_os_str() != "-") {
        None => {
            let mut stdout = std::io::stdout().lock();
            match stdout
                .write_all(text.as_bytes())
                .and_then(|_| stdout.flush())
            {
                // `store export | head`: the reader stopped; nothing was lost in the store.
                Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {}
                r => r.map_err(|e| fail(format_args!("<stdout>: {e}")))?,
            }
        }
        Some(file) => {
            std::fs::write(file, text)
                .map_err(|e| fail(format_args!("{}: {e}", file.display())))?;
            eprintln!(
                "exported {} patterns, {} hosts, {} clients to {}",
                export.failure_patterns.len(),
                export.infrastructure.len(),
                export.clients.len(),
                file.display()
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// A problem as `store lint` prints it: `pattern ID: …` or `host NAME: …`.
fn describe(p: &Problem) -> String {
    match p.pattern_id.strip_prefix("host:") {
        Some(host) => format!("host {host}: {}", p.message),
        None => p.to_string(),
    }
}

fn lint(store: &Store) -> Outcome {
    let lint = store.lint().map_err(fail)?;
    let path = store.path().display();
    let (skipped, flawed) = (lint.skipped.len(), lint.flawed.len());
    if skipped + flawed == 0 {
        outln!(
            "{path}: {} patterns, {} hosts, {} clients: OK",
            lint.patterns,
            lint.hosts,
            lint.clients
        );
        return Ok(ExitCode::SUCCESS);
    }
    for p in lint.skipped.iter().chain(&lint.flawed) {
        outln!("{path}: {}", describe(p));
    }
    let plural = |n: usize| if n == 1 { "" } else { "s" };
    let mut parts = Vec::new();
    if skipped > 0 {
        parts.push(format!(
            "{skipped} skipped by check, explain, the language server and hooks"
        ));
    }
    if flawed > 0 {
        parts.push(format!("{flawed} in rows that still load"));
    }
    outln!(
        "{} problem{} ({})",
        skipped + flawed,
        plural(skipped + flawed),
        parts.join("; ")
    );
    Ok(ExitCode::from(EXIT_PROBLEMS))
}

fn stats(store: &Store) -> Outcome {
    let s = store.stats().map_err(fail)?;
    let mut out = format!("store: {}\n", store.path().display());
    out.push_str(&format!(
        "patterns: {} ({} active, {} inactive); {} not yet in insights\n",
        s.patterns,
        s.active,
        s.patterns - s.active,
        s.pending_insights
    ));
    let join = |rows: &[(String, i64)]| {
        rows.iter()
            .map(|(k, n)| format!("{k} {n}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    out.push_str(&format!("by severity: {}\n", join(&s.by_severity)));
    out.push_str(&format!("by type: {}\n", join(&s.by_type)));
    out.push_str(&format!("hosts: {}, clients: {}\n", s.hosts, s.clients));
    out.push_str("\nmost frequent:\n");
    if s.top.is_empty() {
        out.push_str("  no occurrences recorded yet\n");
    }
    let ids: Vec<&str> = s.top.iter().map(|t| t.0.as_str()).collect();
    let w = short_id_len(&ids);
    for (id, sig, count, last) in &s.top {
        out.push_str(&format!(
            "  {count:>5}  {}  {sig}  (last seen {})\n",
            short(id, w),
            last.as_deref().unwrap_or("-")
        ));
    }
    out.push_str("\nrecent occurrences:\n");
    if s.recent.is_empty() {
        out.push_str("  none recorded\n");
    }
    for o in &s.recent {
        out.push_str(&format!(
            "  {}  {}  {}  {}\n",
            o.seen_at,
            short(&o.pattern_id, w),
            o.host.as_deref().unwrap_or("-"),
            o.signature
        ));
    }
    out!("{out}");
    Ok(ExitCode::SUCCESS)
}

fn host(store: &Store, cmd: HostCommand) -> Outcome {
    match cmd {
        HostCommand::Add {
            hostname,
            aliases,
            tags,
            site_tags,
            os,
            os_version,
            client,
        } => {
            let spec = HostSpec {
                hostname,
                aliases,
                system_tags: tags,
                site_tags,
                os,
                os_version,
                client,
            };
            let host = store.add_host(&spec).map_err(fail)?;
            outln!("added host {} ({})", host.hostname, host.id);
            Ok(ExitCode::SUCCESS)
        }
        HostCommand::List { format } => {
            let snap = store.load().map_err(fail)?;
            if format == OutputFormat::Json {
                return print_json(&snap.hosts);
            }
            let names: HashMap<&str, &str> = snap
                .clients
                .iter()
                .map(|c| (c.id.as_str(), c.name.as_str()))
                .collect();
            let mut out = format!(
                "{:<20}  {:<14}  {:<16}  {:<8}  {:<36}  ALIASES\n",
                "HOSTNAME", "CLIENT", "OS", "VERSION", "TAGS"
            );
            for h in &snap.hosts {
                out.push_str(&format!(
                    "{:<20}  {:<14}  {:<16}  {:<8}  {:<36}  {}\n",
                    h.hostname,
                    h.client_id
                        .as_deref()
                        .map(|id| names.get(id).copied().unwrap_or(id))
                        .unwrap_or("-"),
                    h.os.as_deref().unwrap_or("-"),
                    h.os_version.as_deref().unwrap_or("-"),
                    if h.system_tags.is_empty() {
                        "-".to_string()
                    } else {
                        h.system_tags.join(",")
                    },
                    h.aliases.join(",")
                ));
            }
            out.push_str(&format!("{} hosts\n", snap.hosts.len()));
            out!("{out}");
            Ok(ExitCode::SUCCESS)
        }
        HostCommand::Remove { hostname } => {
            let (hostname, scoped) = store.remove_host(&hostname).map_err(fail)?;
            if scoped > 0 {
                outln!(
                    "removed host {hostname} and the {scoped} pattern{} scoped to it",
                    if scoped == 1 { "" } else { "s" }
                );
            } else {
                outln!("removed host {hostname}");
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn client(store: &Store, cmd: ClientCommand) -> Outcome {
    match cmd {
        ClientCommand::Add { name } => {
            let c = store.add_client(&name).map_err(fail)?;
            outln!("added client {} ({})", c.name, c.id);
            Ok(ExitCode::SUCCESS)
        }
        ClientCommand::List { format } => {
            let clients = store.clients_with_host_counts().map_err(fail)?;
            if format == OutputFormat::Json {
                let rows: Vec<Value> = clients
                    .iter()
                    .map(|(c, n)| json!({"id": c.id, "name": c.name, "hosts": n}))
                    .collect();
                return print_json(&rows);
            }
            let mut out = format!("{:<24}  {:>5}  ID\n", "NAME", "HOSTS");
            for (c, n) in &clients {
                out.push_str(&format!("{:<24}  {n:>5}  {}\n", c.name, c.id));
            }
            out.push_str(&format!("{} clients\n", clients.len()));
            out!("{out}");
            Ok(ExitCode::SUCCESS)
        }
    }
}

pub fn run_insights(args: InsightsArgs, store_flag: Option<PathBuf>) -> ExitCode {
    insights(args, store_flag.as_deref()).unwrap_or_else(|code| code)
}

fn insights(args: InsightsArgs, flag: Option<&Path>) -> Outcome {
    let store = open(flag, OpenOptions::default())?;
    if store.is_read_only() {
        return Err(fail(format_args!(
            "{}: the store is read-only here, so the digested patterns could not be marked",
            store.path().display()
        )));
    }
    let (mut patterns, problems) = store.pending_insights().map_err(fail)?;
    report_problems(&store, &problems);
    if patterns.is_empty() {
        eprintln!("no active patterns are waiting for the insights; nothing written");
        return Ok(ExitCode::SUCCESS);
    }
    sort_patterns(&mut patterns);
    let date = chrono::Utc::now().format("%Y-%m-%d %H:%M UTC").to_string();
    match &args.out {
        None => {
            let text = digest(&patterns, &date, true);
            let mut stdout = std::io::stdout().lock();
            stdout
                .write_all(text.as_bytes())
                .and_then(|_| stdout.flush())
                .map_err(|e| fail(format_args!("<stdout>: {e}")))?;
        }
        Some(file) => {
            let exists = file.exists();
            let text = digest(&patterns, &date, !exists);
            let written = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(file)
                .and_then(|mut f| {
                    // A file that does not end its last line gets one before the new section.
                    let sep = if exists && needs_newline(file) {
                        "\n"
                    } else {
                        ""
                    };
                    f.write_all(format!("{sep}{text}").as_bytes())?;
                    f.sync_all()
                });
            written.map_err(|e| fail(format_args!("{}: {e}", file.display())))?;
        }
    }
    let ids: Vec<String> = patterns.iter().map(|p| p.id.clone()).collect();
    let marked = store.mark_in_insights(&ids).map_err(fail)?;
    let place = args
        .out
        .as_ref()
        .map_or_else(|| "stdout".to_string(), |f| f.display().to_string());
    eprintln!(
        "wrote {} pattern{} to {place}; marked {marked} as added to insights",
        patterns.len(),
        if patterns.len() == 1 { "" } else { "s" }
    );
    Ok(ExitCode::SUCCESS)
}

fn needs_newline(file: &Path) -> bool {
    std::fs::read(file)
        .map(|b| !b.is_empty() && !b.ends_with(b"\n"))
        .unwrap_or(false)
}

/// One line of user text inside a markdown list item.
fn inline(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The markdown digest: grouped by severity (worst first), then type.
fn digest(patterns: &[Pattern], date: &str, with_title: bool) -> String {
    let mut out = String::new();
    if with_title {
        out.push_str("# forewarn insights\n\n");
        out.push_str(
            "Failure patterns from the forewarn store, added here once each by `forewarn insights`.\n\n",
        );
    }
    out.push_str(&format!(
        "## {date}: {} new pattern{}\n",
        patterns.len(),
        if patterns.len() == 1 { "" } else { "s" }
    ));
    for severity in Severity::ALL {
        let of_severity: Vec<&Pattern> =
            patterns.iter().filter(|p| p.severity == severity).collect();
        if of_severity.is_empty() {
            continue;
        }
        let mut title = severity.as_str().to_string();
        title[..1].make_ascii_uppercase();
        out.push_str(&format!("\n### {title} ({})\n", of_severity.len()));
        for t in PatternType::ALL {
            let of_type: Vec<&&Pattern> =
                of_severity.iter().filter(|p| p.pattern_type == t).collect();
            if of_type.is_empty() {
                continue;
            }
            out.push_str(&format!("\n#### {}\n", t.as_str()));
            for p in of_type {
                out.push_str(&format!("\n##### {}\n\n", inline(&p.pattern_signature)));
                let mut item = |label: &str, value: &str| {
                    if !value.trim().is_empty() {
                        out.push_str(&format!("- **{label}:** {}\n", inline(value)));
                    }
                };
                item("What fails", &p.failure_description);
                item("Root cause", &p.root_cause);
                item("Solution", &p.recommended_solution);
                item("Alternatives", &p.alternative_approaches.join("; "));
                item(
                    "Affected systems",
                    &if p.affected_systems.is_empty() {
                        "all".to_string()
                    } else {
                        p.affected_systems.join(", ")
                    },
                );
                item(
                    "Occurrences",
                    &format!(
                        "{} (first seen {}, last seen {})",
                        p.occurrence_count,
                        p.first_seen.as_deref().unwrap_or("-"),
                        p.last_seen.as_deref().unwrap_or("-")
                    ),
                );
                item("Sources", &p.references.join(", "));
                item("Pattern id", &format!("`{}`", p.id));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_ids_grow_until_unique() {
        let ids = [
            "5f0c1a52-9a0e-4c57-8a57-1a4f0f3d2b01",
            "5f0c1a52-9a0e-4c57-8a57-1a4f0f3d2b02",
            "0000aaaa-0000",
        ];
        assert_eq!(short_id_len(&ids), 36);
        assert_eq!(short_id_len(&["abcdef01-x", "abcdef02-x"]), 8);
        assert_eq!(short_id_len(&["abcdef01-x", "abcdef01-y"]), 10);
    }

    #[test]
    fn flag_names_are_added_to_key_messages() {
        assert_eq!(
            name_flags("triggering_commands entry `(` is not a valid regex"),
            "--command (triggering_commands) entry `(` is not a valid regex"
        );
    }
}
