//! `forewarn check`: scan files, directories or stdin and report in the chosen format.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Mutex;

use clap::ValueEnum;

use super::report::{self, FileReport, Format};
use super::{error, EXIT_ERROR};
use crate::config::{Config, ConfigError};
use crate::engine::scan::SPARSE_MIN_BYTES;
use crate::engine::{self, PatternIndex, Severity};
use crate::script::Language;
use crate::store::{cache, Store};
use crate::text::LineIndex;

/// Bytes looked at to decide that a file is binary (as git and ripgrep do: a NUL byte).
const BINARY_SNIFF: usize = 8192;

#[derive(Debug, clap::Args)]
pub struct CheckArgs {
    /// Files or directories to check (directories are walked honouring .gitignore); `-` reads stdin.
    #[arg(value_name = "PATH", default_value = ".")]
    pub paths: Vec<PathBuf>,
    /// The system the scripts run on: a host name or alias from the store, or a system tag.
    #[arg(long, env = "FOREWARN_TARGET", value_name = "T")]
    pub target: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
    /// Lowest severity reported (default: the config's `severity`, else info).
    #[arg(long, value_name = "LEVEL", value_parser = parse_severity)]
    pub severity: Option<Severity>,
    /// Lowest severity that makes the exit code 1.
    #[arg(long, value_name = "LEVEL", value_parser = parse_severity, default_value = "major")]
    pub fail_on: Severity,
    /// Treat every file (and stdin) as this language: powershell, bash or batch.
    #[arg(long, value_name = "L", value_parser = parse_language)]
    pub language: Option<Language>,
    /// Colour in the human format: auto (a terminal without NO_COLOR), always or never.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

pub(crate) fn parse_severity(s: &str) -> Result<Severity, String> {
    s.parse()
}

pub(crate) fn parse_language(s: &str) -> Result<Language, String> {
    Language::from_name(s)
        .ok_or_else(|| format!("unknown language `{s}` (expected powershell, bash or batch)"))
}

/// Opens the store and builds the index, reporting every unusable pattern once on stderr.
pub(crate) fn load_index(
    store_flag: Option<&Path>,
    config: &Config,
) -> Result<PatternIndex, ExitCode> {
    let path = Store::resolve_path(store_flag, Some(config));
    let store = Store::open(&path).map_err(|e| {
        error(e);
        ExitCode::from(EXIT_ERROR)
    })?;
    let (index, problems) = store.load_index().map_err(|e| {
        error(e);
        ExitCode::from(EXIT_ERROR)
    })?;
    for p in problems {
        error(format_args!("{}: skipping {p}", path.display()));
    }
    Ok(index)
}

/// The index `jobs` need: from the pattern cache beside the store when it is fresh (only the
/// patterns whose anchors occur in the texts, see [`cache`]), else the whole store (and a
/// detached process writes the cache for the next run). `FOREWARN_HOOK_CACHE=0` always reads the
/// store, and so does a large script whose names only a whole parse would show
/// ([`cache::check_haystack`]). Either way the findings are the same, and so are the
/// store problems reported.
fn load_index_for(
    store_flag: Option<&Path>,
    config: &Config,
    jobs: &[Job],
) -> Result<PatternIndex, ExitCode> {
    if std::env::var("FOREWARN_HOOK_CACHE").is_ok_and(|v| v == "0") {
        return load_index(store_flag, config);
    }
    let haystacks: Option<Vec<Vec<String>>> = jobs
        .iter()
        .map(|j| cache::check_haystack(&j.text, j.lang))
        .collect();
    let Some(haystacks) = haystacks else {
        return load_index(store_flag, config);
    };
    let haystacks: Vec<String> = haystacks.into_iter().flatten().collect();
    let path = Store::resolve_path(store_flag, Some(config));
    let targets: Vec<Option<&str>> = jobs.iter().map(|j| j.target.as_deref()).collect();
    let need = cache::Need::Check {
        haystacks: &haystacks,
        targets: &targets,
    };
    let cached = |index: PatternIndex, problems: Vec<String>| {
        for p in problems {
            error(format_args!("{}: skipping {p}", path.display()));
        }
        tracing::debug!("patterns from the cache ({} loaded)", index.len());
        index
    };
    // While the store files are unchanged since the version was last read, SQLite stays closed.
    if let Some(key) = cache::remembered_key(&path) {
        if let Some((index, problems)) = cache::load_with_problems(&path, &key, &need) {
            return Ok(cached(index, problems));
        }
    }
    let store = Store::open(&path).map_err(|e| {
        error(e);
        ExitCode::from(EXIT_ERROR)
    })?;
    if let Some(key) = cache::store_key(&store) {
        if let Some((index, problems)) = cache::load_with_problems(&path, &key, &need) {
            drop(store);
            cache::remember_key(&path, &key);
            return Ok(cached(index, problems));
        }
    }
    let (index, problems) = store.load_index().map_err(|e| {
        error(e);
        ExitCode::from(EXIT_ERROR)
    })?;
    drop(store);
    for p in problems {
        error(format_args!("{}: skipping {p}", path.display()));
    }
    cache::spawn_rebuild(&path);
    Ok(index)
}

/// The configuration of each directory, discovered once.
#[derive(Default)]
struct Configs {
    by_dir: HashMap<PathBuf, std::rc::Rc<Config>>,
    reported: Vec<ConfigError>,
}

impl Configs {
    fn for_file(&mut self, file: &Path) -> std::rc::Rc<Config> {
        let dir = file.parent().map(Path::to_path_buf).unwrap_or_default();
        if let Some(c) = self.by_dir.get(&dir) {
            return c.clone();
        }
        let (config, err) = Config::discover(if dir.as_os_str().is_empty() {
            Path::new(".")
        } else {
            &dir
        });
        if let Some(e) = err {
            if !self.reported.contains(&e) {
                error(&e);
                self.reported.push(e);
            }
        }
        let config = std::rc::Rc::new(config);
        self.by_dir.insert(dir, config.clone());
        config
    }
}

pub fn run(args: CheckArgs, store_flag: Option<PathBuf>) -> ExitCode {
    // `FOREWARN_TARGET=` (set, empty) names no target.
    let cli_target = args.target.clone().filter(|t| !t.trim().is_empty());
    let mut configs = Configs::default();
    let first = args
        .paths
        .first()
        .filter(|p| p.as_os_str() != "-")
        .cloned()
        .unwrap_or_else(|| PathBuf::from("."));
    let root_config = configs.for_file(&if first.is_dir() {
        first.join("x")
    } else {
        first.clone()
    });
    let min_severity = args
        .severity
        .or(root_config.severity)
        .unwrap_or(Severity::Info);

    let mut jobs = Vec::new();
    let mut seen = std::collections::HashSet::new();
    let mut io_errors = 0usize;
    let mut files = 0usize;
    for path in &args.paths {
        if path.as_os_str() == "-" {
            let mut bytes = Vec::new();
            if let Err(e) = std::io::stdin().read_to_end(&mut bytes) {
                error(format_args!("<stdin>: {e}"));
                return ExitCode::from(EXIT_ERROR);
            }
            let text =
                decode_bom(&bytes).unwrap_or_else(|| String::from_utf8_lossy(&bytes).into_owned());
            let first_line = text.lines().next().unwrap_or("");
            let Some(lang) = args.language.or_else(|| Language::from_shebang(first_line)) else {
                error("reading stdin needs --language (powershell, bash or batch) or a #! line");
                return ExitCode::from(EXIT_ERROR);
            };
            let config = configs.for_file(Path::new("./-"));
            files += 1;
            let (target, target_from) = match &cli_target {
                Some(t) => (Some(t.clone()), CLI_TARGET.to_string()),
                None => (config.target.clone(), config_target_origin(&config)),
            };
            jobs.push(Job {
                path: "<stdin>".into(),
                text,
                lang,
                target,
                target_from,
                lexed: None,
            });
            continue;
        }
        if !path.exists() {
            error(format_args!(
                "{}: no such file or directory",
                path.display()
            ));
            io_errors += 1;
            continue;
        }
        let explicit = path.is_file();
        for entry in walk(path) {
            let file = match entry {
                Ok(f) => f,
                Err(e) => {
                    error(e);
                    io_errors += 1;
                    continue;
                }
            };
            // The same file named twice (`a.sh ./a.sh`, or a file inside a directory also given)
            // is checked once.
            if !seen.insert(std::fs::canonicalize(&file).unwrap_or_else(|_| file.clone())) {
                continue;
            }
            let config = configs.for_file(&file);
            if !explicit && config.excludes(&file) {
                continue;
            }
            let bytes = match std::fs::read(&file) {
                Ok(b) => b,
                Err(e) => {
                    error(format_args!("{}: {e}", file.display()));
                    io_errors += 1;
                    continue;
                }
            };
            let decoded = decode_bom(&bytes);
            if decoded.is_none() && bytes[..bytes.len().min(BINARY_SNIFF)].contains(&0) {
                if explicit || args.language.is_some() || Language::detect(&file, "").is_some() {
                    error(format_args!("{}: skipped: binary file", file.display()));
                }
                continue;
            }
            // Valid UTF-8 (the usual case) becomes the text without a copy.
            let text = decoded.unwrap_or_else(|| {
                String::from_utf8(bytes)
                    .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
            });
            let Some(lang) = args.language.or_else(|| Language::detect(&file, &text)) else {
                if explicit {
                    error(format_args!(
                        "{}: skipped: unknown script language (name it with --language)",
                        file.display()
                    ));
                }
                continue;
            };
            files += 1;
            let (target, target_from) = match (config.mapped_target(&file), &cli_target) {
                (Some(t), _) => (Some(t.to_string()), mapped_target_origin(&config)),
                (None, Some(t)) => (Some(t.clone()), CLI_TARGET.to_string()),
                (None, None) => (config.target.clone(), config_target_origin(&config)),
            };
            jobs.push(Job {
                path: display_path(&file),
                text,
                lang,
                target,
                target_from,
                lexed: None,
            });
        }
    }

    // The files are read first: their text decides which patterns the index needs. Meanwhile
    // the large ones are lexed on the core the loading leaves idle (the lexer needs no patterns),
    // until the index is ready: what is left is lexed in the scan, where files run side by side.
    let started = std::time::Instant::now();
    let loading = |jobs: &[Job]| load_index_for(store_flag.as_deref(), &root_config, jobs);
    let loaded = match jobs.iter().any(|j| j.text.len() >= SPARSE_MIN_BYTES) {
        false => loading(&jobs),
        true => {
            let ready = AtomicBool::new(false);
            let (loaded, lexed) = std::thread::scope(|s| {
                let lexer = s.spawn(|| {
                    jobs.iter()
                        .map(|j| match ready.load(Ordering::Relaxed) {
                            true => None,
                            false => engine::prelex(&j.text, j.lang),
                        })
                        .collect::<Vec<_>>()
                });
                let loaded = loading(&jobs);
                ready.store(true, Ordering::Relaxed);
                (loaded, lexer.join())
            });
            for (job, lexed) in jobs.iter_mut().zip(lexed.unwrap_or_default()) {
                job.lexed = lexed;
            }
            loaded
        }
    };
    let index = match loaded {
        Ok(i) => i,
        Err(code) => return code,
    };
    tracing::debug!(
        "{} patterns indexed in {:?}",
        index.len(),
        started.elapsed()
    );
    let started = std::time::Instant::now();
    let reports = check_all(jobs, &index, min_severity);
    tracing::debug!("{files} files scanned in {:?}", started.elapsed());
    // Each unknown name once per place it came from, with the first file that met it.
    let mut unknown: Vec<(String, &str, &str, usize)> = Vec::new();
    for r in &reports {
        for (name, from) in &r.unknown_targets {
            let key = name.to_lowercase();
            match unknown
                .iter_mut()
                .find(|(k, _, f, _)| *k == key && f == from)
            {
                Some(seen) => seen.3 += 1,
                None => unknown.push((key, name, from, 1)),
            }
        }
    }
    unknown.sort_by(|a, b| (&a.0, a.2).cmp(&(&b.0, b.2)));
    let warnings: Vec<String> = unknown
        .into_iter()
        .map(|(_, name, from, _)| unknown_target_message(name, Some(from)))
        .collect();
    for w in &warnings {
        error(w);
    }
    let color = match args.color {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            use std::io::IsTerminal;
            std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
                && std::io::stdout().is_terminal()
        }
    };
    let out = std::io::stdout();
    let mut out = std::io::BufWriter::new(out.lock());
    let started = std::time::Instant::now();
    let run = report::Run {
        files,
        color,
        shown_from: min_severity,
        warnings: &warnings,
    };
    let written =
        report::write(&mut out, args.format, &reports, &index, run).and_then(|_| out.flush());
    tracing::debug!("report written in {:?}", started.elapsed());
    if let Err(e) = written {
        // A closed pipe (`forewarn check | head`) is not an error of ours.
        if e.kind() != std::io::ErrorKind::BrokenPipe {
            error(format_args!("writing the report: {e}"));
            return ExitCode::from(EXIT_ERROR);
        }
    }
    // A configuration that could not be read must not quietly weaken a CI gate: the check ran
    // with defaults and reported, but the run fails as a usage error.
    if io_errors > 0 || !configs.reported.is_empty() {
        return ExitCode::from(EXIT_ERROR);
    }
    let failing = reports
        .iter()
        .flat_map(|r| &r.findings)
        .any(|f| f.severity >= args.fail_on);
    // The process ends here: freeing the index and the reports piece by piece (thousands of
    // patterns, compiled regexes, texts) would only delay the exit.
    std::mem::forget(index);
    std::mem::forget(reports);
    ExitCode::from(u8::from(failing))
}

/// One file to check, read and resolved.
struct Job {
    path: String,
    text: String,
    lang: Language,
    target: Option<String>,
    /// Where `target` came from, for a message when no host or tag has that name.
    target_from: String,
    /// Lexed while the patterns loaded, if it was.
    lexed: Option<engine::Prepared>,
}

const CLI_TARGET: &str = "--target or FOREWARN_TARGET";

fn mapped_target_origin(config: &Config) -> String {
    match &config.file {
        Some(f) => format!("[targets] of {}", f.display()),
        None => "[targets]".into(),
    }
}

fn config_target_origin(config: &Config) -> String {
    match &config.file {
        Some(f) => format!("`target` of {}", f.display()),
        None => "the configuration's `target`".into(),
    }
}

impl Job {
    /// Scans the text and keeps the findings at or above `min_severity`.
    fn check(self, index: &PatternIndex, min_severity: Severity) -> FileReport {
        let mut scan = engine::scan_prepared(
            &self.text,
            self.lang,
            self.target.as_deref(),
            index,
            self.lexed,
        );
        let mut hidden = [0usize; 4];
        scan.findings.retain(|f| {
            let shown = f.severity >= min_severity;
            if !shown {
                hidden[f.severity as usize] += 1;
            }
            shown
        });
        FileReport {
            // Where each name came from: the file's own directive, the job's target, or a
            // host the script sends code to.
            unknown_targets: scan
                .unknown_targets
                .into_iter()
                .map(|name| {
                    let is = |t: &Option<String>| {
                        t.as_deref().is_some_and(|t| t.eq_ignore_ascii_case(&name))
                    };
                    let from = if is(&scan.target) && scan.target != self.target {
                        format!("the `forewarn: target=` directive in {}", self.path)
                    } else if is(&self.target) {
                        self.target_from.clone()
                    } else {
                        format!("a host {} sends code to", self.path)
                    };
                    (name, from)
                })
                .collect(),
            path: self.path,
            lines: LineIndex::new(&self.text),
            text: self.text,
            language: self.lang,
            findings: scan.findings,
            positions: Default::default(),
            hidden,
        }
    }
}

/// Checks every job on all cores (the engine is pure and the index shared), keeping their order.
fn check_all(jobs: Vec<Job>, index: &PatternIndex, min_severity: Severity) -> Vec<FileReport> {
    // One file needs no count of the cores (reading the cgroup limits is several system calls).
    let threads = match jobs.len() {
        0 | 1 => 1,
        n => std::thread::available_parallelism().map_or(1, |c| c.get().min(n)),
    };
    if threads <= 1 {
        return jobs
            .into_iter()
            .map(|j| j.check(index, min_severity))
            .collect();
    }
    let jobs: Vec<Mutex<Option<Job>>> = jobs.into_iter().map(|j| Mutex::new(Some(j))).collect();
    let done: Vec<Mutex<Option<FileReport>>> = jobs.iter().map(|_| Mutex::new(None)).collect();
    let next = AtomicUsize::new(0);
    std::thread::scope(|scope| {
        for _ in 0..threads {
            scope.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(slot) = jobs.get(i) else { break };
                let job = slot.lock().unwrap_or_else(|e| e.into_inner()).take();
                if let Some(job) = job {
                    let report = job.check(index, min_severity);
                    *done[i].lock().unwrap_or_else(|e| e.into_inner()) = Some(report);
                }
            });
        }
    });
    done.into_iter()
        .filter_map(|m| m.into_inner().unwrap_or_else(|e| e.into_inner()))
        .collect()
}

/// What the CLI says of a target name that is neither a host nor a known tag; `from` says where
/// the name came from (a directive, the configuration, the command line, a remote host).
pub(crate) fn unknown_target_message(name: &str, from: Option<&str>) -> String {
    let from = from.map(|f| format!(" (from {f})")).unwrap_or_default();
    // `target=macos, freebsd` in a directive: a script runs on one system at a time.
    let hint = match name.contains(',') {
        true => " (a target is one host or tag, not a list)",
        false => "",
    };
    format!(
        "unknown target `{name}`{from}{hint}: not a host in the store (`forewarn store host list`) nor \
         a system tag any pattern uses; checked as if no target were set (scoped findings are at \
         most minor)"
    )
}

/// Text with a byte-order mark: UTF-8 without it, or UTF-16 (what Windows PowerShell 5.1's
/// `Out-File` and `>` write) decoded. `None` when there is no BOM.
fn decode_bom(bytes: &[u8]) -> Option<String> {
    let utf16 = |le: bool| {
        let units = bytes[2..].chunks_exact(2).map(|c| {
            if le {
                u16::from_le_bytes([c[0], c[1]])
            } else {
                u16::from_be_bytes([c[0], c[1]])
            }
        });
        char::decode_utf16(units)
            .map(|c| c.unwrap_or(char::REPLACEMENT_CHARACTER))
            .collect()
    };
    match bytes {
        [0xEF, 0xBB, 0xBF, rest @ ..] => Some(String::from_utf8_lossy(rest).into_owned()),
        [0xFF, 0xFE, ..] => Some(utf16(true)),
        [0xFE, 0xFF, ..] => Some(utf16(false)),
        _ => None,
    }
}

/// The files below `path` (or `path` itself), honouring .gitignore, in a stable order.
fn walk(path: &Path) -> Vec<Result<PathBuf, String>> {
    if path.is_file() {
        return vec![Ok(path.to_path_buf())];
    }
    let mut out: Vec<Result<PathBuf, String>> = ignore::WalkBuilder::new(path)
        .hidden(false)
        .require_git(false)
        .filter_entry(|e| e.file_name() != ".git")
        .build()
        .filter_map(|entry| match entry {
            Ok(e) if e.file_type().is_some_and(|t| t.is_file()) => Some(Ok(e.into_path())),
            Ok(_) => None,
            Err(e) => Some(Err(e.to_string())),
        })
        .collect();
    out.sort_by(|a, b| match (a, b) {
        (Ok(a), Ok(b)) => a.cmp(b),
        _ => std::cmp::Ordering::Equal,
    });
    out
}

/// Paths are shown as given, with `/` separators, normalised in every format (see
/// [`normalize_lexically`]).
fn display_path(path: &Path) -> String {
    normalize_lexically(&path.to_string_lossy().replace('\\', "/"))
}

/// A `/`-separated path with `.` and `name/..` taken out, as text: no symlink is followed (the
/// file was read by the path as given; this is how it is shown), so `legacy/../legacy/x.ps1`
/// is `legacy/x.ps1` and `./a.sh` is `a.sh`. Its root stays as written — `/`, a UNC `//server`,
/// a drive `C:/` or `C:` —, a `..` above a relative start is kept (`../x.sh`) and one above the
/// root dropped (`/..` is `/`). `..` is applied to the text, so after a symlinked directory
/// (`link/../x.sh`, read from the link target's parent) the path shown may name another file
/// than the one read; files are told apart by their canonical path, not by this one.
fn normalize_lexically(path: &str) -> String {
    let drive =
        path.len() >= 2 && path.as_bytes()[0].is_ascii_alphabetic() && path.as_bytes()[1] == b':';
    let root_len = if let Some(unc) = path.strip_prefix("//") {
        // `//server/share/…`: the server and share are the root.
        let mut parts = unc.splitn(3, '/');
        let server = parts.next().unwrap_or("");
        let share = parts.next().map_or(0, |s| s.len() + 1);
        2 + server.len() + share
    } else if path.starts_with('/') {
        1
    } else if drive {
        2 + usize::from(path.as_bytes().get(2) == Some(&b'/'))
    } else {
        0
    };
    let (root, rest) = path.split_at(root_len.min(path.len()));
    let absolute = root.ends_with('/') || root.starts_with("//");
    let mut parts: Vec<&str> = Vec::new();
    for part in rest.split('/') {
        match part {
            "" | "." => {}
            ".." => match parts.last() {
                Some(&last) if last != ".." => {
                    parts.pop();
                }
                // Above the root is the root.
                _ if absolute => {}
                _ => parts.push(".."),
            },
            _ => parts.push(part),
        }
    }
    let mut out = root.to_string();
    if root.starts_with("//") && !parts.is_empty() && !out.ends_with('/') {
        out.push('/');
    }
    out.push_str(&parts.join("/"));
    if out.is_empty() {
        out.push('.');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_normalised_as_text() {
        for (given, shown) in [
            ("legacy/../legacy/x.ps1", "legacy/x.ps1"),
            ("./a.sh", "a.sh"),
            ("a/./b//c.sh", "a/b/c.sh"),
            ("../x.sh", "../x.sh"),
            ("a/../../x.sh", "../x.sh"),
            ("../../a/../x.sh", "../../x.sh"),
            ("a/b/../..", "."),
            ("/tmp/../tmp/x.sh", "/tmp/x.sh"),
            ("/../x.sh", "/x.sh"),
            ("/", "/"),
            ("C:/scripts/../x.ps1", "C:/x.ps1"),
            ("C:/../x.ps1", "C:/x.ps1"),
            ("C:a/../x.ps1", "C:x.ps1"),
            ("C:../x.ps1", "C:../x.ps1"),
            ("//server/share/a/../x.ps1", "//server/share/x.ps1"),
            ("//server/share/../x.ps1", "//server/share/x.ps1"),
            ("//server", "//server"),
            ("..x/y", "..x/y"),
            ("a/.../b", "a/.../b"),
            ("", "."),
        ] {
            assert_eq!(normalize_lexically(given), shown, "{given}");
        }
        assert_eq!(
            display_path(Path::new("legacy/../legacy/x.ps1")),
            "legacy/x.ps1"
        );
    }
}
