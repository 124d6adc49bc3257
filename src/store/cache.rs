//! A prebuilt lookup beside the store, so that a process loads only the patterns that could
//! fire on its text: a hook on its command (DESIGN.md §10: the hook runs on every agent command;
//! loading and indexing 10,000 patterns per process costs several times the budget), `check` on
//! the scripts it was given.
//!
//! The cache file (`<store>.hook-cache`) holds every usable pattern as one JSON line, plus
//! *anchors*: for each pattern, lowercased literals one of which must appear in a command (or,
//! for `explain`, in the output) for the pattern to match at all. A reader reads the small
//! header, keeps the patterns whose anchor occurs in its text (plus the few with no anchor, those
//! of the command's operation classes, and one pattern for each system tag only patterns use, so
//! the small index knows the same target names), and builds a [`PatternIndex`] of just those.
//! The anchors are a superset filter, so the small index gives the same findings as the full one.
//! The store's load problems are kept too, so `check` reports them as a full load would.
//!
//! The cache is keyed by the store's knowledge version ([`Store::knowledge_version`]), which
//! SQLite triggers move on every change to patterns, hosts and clients, from forewarn or any
//! other SQLite client, and not on recorded occurrences: the hook records one after every
//! recognised failure, and a key that moved with it would make the next hook pay a full load.
//! A stale cache is rebuilt after the next reader that misses. Reading the version means opening
//! SQLite, which costs a hook more than the rest of its work, so `<store>.hook-cache.key` keeps
//! the last version read with the store files' size and mtime: while those are unchanged, no
//! reader opens the store at all. The cached patterns'
//! `occurrence_count` and `last_seen` may therefore be behind the store; the hook shows a count
//! only after recording, and that one is the fresh count `record_occurrence` returns.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use crate::engine::index::{self, check_regex, is_plain_name};
use crate::engine::pattern::SYNTAX_PREFIX;
use crate::engine::target::SYSTEM_TAGS;
use crate::engine::{Client, Host, Pattern, PatternIndex, Problem};
use crate::script::Language;
use crate::store::Store;

const MAGIC: &str = "forewarn-hook-cache";
/// Bumped whenever the layout, the anchor rules or the meaning of the key change.
const FORMAT: u32 = 4;

/// What a hook needs the patterns for.
pub enum Need<'a> {
    /// Scanning a command: `haystack` is the lowercased command text plus the parsed command
    /// names and texts; `ops` the operation classes of its commands.
    Before {
        haystack: &'a str,
        ops: &'a [&'a str],
    },
    /// Explaining output: `haystack` is the lowercased output.
    After { haystack: &'a str },
    /// Checking scripts: each text as [`script_haystack`] gives it. Every operation-triggered
    /// pattern is loaded (finding a script's operation classes would mean parsing it whole).
    Check { haystacks: &'a [String] },
}

/// A rebuild that has held its lock this long is taken to have died.
const STALE_LOCK: std::time::Duration = std::time::Duration::from_secs(60);

/// `<store>.hook-cache`.
pub fn path_for(store: &Path) -> PathBuf {
    let name = store
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "patterns.db".into());
    store.with_file_name(format!("{name}.hook-cache"))
}

/// The version of the store's knowledge the cache is keyed on; `None` when it cannot be read.
pub fn store_key(store: &Store) -> Option<String> {
    store.knowledge_version().ok().map(|v| v.to_string())
}

/// The store files as the file system sees them: size and modification time of the database and
/// its WAL. Any commit, by any process, changes one of them.
fn file_stamp(store: &Path) -> Option<String> {
    let stamp = |p: &Path| -> String {
        match std::fs::metadata(p) {
            Ok(m) => {
                let mtime = m
                    .modified()
                    .ok()
                    .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                    .map_or(0, |d| d.as_nanos());
                format!("{}.{mtime}", m.len())
            }
            Err(_) => "-".into(),
        }
    };
    std::fs::metadata(store).ok()?;
    let mut wal = store.as_os_str().to_owned();
    wal.push("-wal");
    Some(format!("{}:{}", stamp(store), stamp(Path::new(&wal))))
}

/// `<store>.hook-cache.key`: the knowledge version last read from the store, with the file stamp
/// it was read at.
fn key_path(store: &Path) -> PathBuf {
    let mut p = path_for(store).into_os_string();
    p.push(".key");
    PathBuf::from(p)
}

/// The knowledge version, without opening SQLite, when the store files have not changed since it
/// was last read ([`remember_key`]). Opening the store costs a hook more than the rest of its
/// work (SQLite creates and removes the WAL each time), and most hooks follow one that already
/// read the version.
pub fn remembered_key(store: &Path) -> Option<String> {
    let text = std::fs::read_to_string(key_path(store)).ok()?;
    let (key, stamp) = text.trim_end().split_once('\t')?;
    (file_stamp(store)? == stamp).then(|| key.to_string())
}

/// Remembers `key` for the store files as they are now; call it after the store is closed (the
/// close removes the WAL, which is part of the stamp). Failing to write is only slower.
pub fn remember_key(store: &Path, key: &str) {
    let Some(stamp) = file_stamp(store) else {
        return;
    };
    let path = key_path(store);
    let mut tmp = path.clone().into_os_string();
    tmp.push(format!(".{}", std::process::id()));
    let tmp = PathBuf::from(tmp);
    if std::fs::write(&tmp, format!("{key}\t{stamp}\n")).is_err()
        || std::fs::rename(&tmp, &path).is_err()
    {
        let _ = std::fs::remove_file(&tmp);
    }
}

/// The index of the patterns `need` could use, when a cache for exactly knowledge version `key`
/// exists; `None` on a miss (the caller loads the store and writes a new cache).
pub fn load(store: &Path, key: &str, need: &Need) -> Option<PatternIndex> {
    read(store, key, need).map(|(index, _)| index)
}

/// [`load`], with the problems the full load of the store met (each as its message), so a
/// caller that reports them says the same as after a full load.
pub fn load_with_problems(
    store: &Path,
    key: &str,
    need: &Need,
) -> Option<(PatternIndex, Vec<String>)> {
    read(store, key, need)
}

/// The wanted pattern lines are read in one go (from the first to the last) instead of one by
/// one when there are more than this many of them and they fill at least a quarter of that
/// stretch: a hook wanting 71 patterns scattered over a 9 MB cache must not read all of it.
const READ_ALL: usize = 64;

fn read(store: &Path, key: &str, need: &Need) -> Option<(PatternIndex, Vec<String>)> {
    let file = File::open(path_for(store)).ok()?;
    let mut reader = BufReader::with_capacity(64 * 1024, file);
    let mut first = String::new();
    reader.read_line(&mut first).ok()?;
    let mut words = first.trim_end().splitn(4, ' ');
    if words.next()? != MAGIC || words.next()?.parse::<u32>().ok()? != FORMAT {
        return None;
    }
    let header_len: u64 = words.next()?.parse().ok()?;
    if words.next()? != key {
        return None;
    }
    let mut header = String::new();
    reader
        .by_ref()
        .take(header_len)
        .read_to_string(&mut header)
        .ok()?;
    let blobs_start = first.len() as u64 + header_len;

    let mut hosts: Vec<Host> = Vec::new();
    let mut clients: Vec<Client> = Vec::new();
    let mut offsets: Vec<u64> = Vec::new();
    let mut wanted: Vec<usize> = Vec::new();
    let mut problems: Vec<String> = Vec::new();
    // For `Check`: every anchor, searched for in the texts at once below.
    let mut anchors: Vec<(std::borrow::Cow<'_, str>, &str)> = Vec::new();
    for line in header.lines() {
        let (tag, rest) = line.split_at_checked(2)?;
        match (tag, need) {
            ("H ", _) => hosts = serde_json::from_str(rest).ok()?,
            ("C ", _) => clients = serde_json::from_str(rest).ok()?,
            ("X ", _) => offsets = parse_list(rest)?,
            ("T ", _) => wanted.extend(parse_list::<usize>(rest)?),
            ("P ", _) => problems.push(unescape(rest).into_owned()),
            ("A ", Need::Before { .. } | Need::Check { .. }) | ("F ", Need::After { .. }) => {
                wanted.extend(parse_list::<usize>(rest)?)
            }
            ("B ", Need::Before { haystack, .. }) | ("E ", Need::After { haystack }) => {
                let (anchor, ords) = rest.split_once('\t')?;
                if haystack.contains(unescape(anchor).as_ref()) {
                    wanted.extend(parse_list::<usize>(ords)?);
                }
            }
            ("B ", Need::Check { .. }) => {
                let (anchor, ords) = rest.split_once('\t')?;
                anchors.push((unescape(anchor), ords));
            }
            ("O ", Need::Before { ops, .. }) => {
                let (op, ords) = rest.split_once('\t')?;
                if ops.contains(&op) {
                    wanted.extend(parse_list::<usize>(ords)?);
                }
            }
            ("O ", Need::Check { .. }) => {
                let (_, ords) = rest.split_once('\t')?;
                wanted.extend(parse_list::<usize>(ords)?);
            }
            _ => {}
        }
    }
    if let (Need::Check { haystacks }, false) = (need, anchors.is_empty()) {
        // Ten thousand anchors over a long script: one automaton, not one search per anchor.
        let ac = aho_corasick::AhoCorasick::new(anchors.iter().map(|(a, _)| a.as_ref())).ok()?;
        let mut hit = vec![false; anchors.len()];
        for text in haystacks.iter() {
            for m in ac.find_overlapping_iter(text.as_str()) {
                hit[m.pattern().as_usize()] = true;
            }
        }
        for ((_, ords), _) in anchors.iter().zip(&hit).filter(|(_, &h)| h) {
            wanted.extend(parse_list::<usize>(ords)?);
        }
    }
    wanted.sort_unstable();
    wanted.dedup();
    let mut file = reader.into_inner();
    let size = |ord: usize| offsets.get(ord + 1)?.checked_sub(*offsets.get(ord)?);
    let wanted_bytes: u64 = wanted.iter().map(|&o| size(o).unwrap_or(0)).sum();
    let stretch = match (wanted.first(), wanted.last()) {
        (Some(&a), Some(&b)) => offsets
            .get(b + 1)
            .zip(offsets.get(a))
            .map_or(0, |(e, s)| e.saturating_sub(*s)),
        _ => 0,
    };
    let patterns = if wanted.len() > READ_ALL && wanted_bytes.saturating_mul(4) >= stretch {
        // One read of the stretch that holds them, into a buffer of its exact size (growing
        // one would touch twice the memory, and fresh pages are most of the cost here).
        let first = *offsets.get(*wanted.first()?)?;
        let end = *offsets.get(*wanted.last()? + 1)?;
        let mut blobs = vec![0u8; usize::try_from(end.checked_sub(first)?).ok()?];
        file.seek(SeekFrom::Start(blobs_start + first)).ok()?;
        file.read_exact(&mut blobs).ok()?;
        decode_all(&blobs, first, &offsets, &wanted)?
    } else {
        let mut patterns = Vec::with_capacity(wanted.len());
        let mut buf = Vec::new();
        for ord in wanted {
            let (start, end) = (*offsets.get(ord)?, *offsets.get(ord + 1)?);
            buf.resize((end - start) as usize, 0);
            file.seek(SeekFrom::Start(blobs_start + start)).ok()?;
            file.read_exact(&mut buf).ok()?;
            patterns.push(serde_json::from_slice::<Pattern>(&buf).ok()?);
        }
        patterns
    };
    Some((PatternIndex::build(patterns, hosts, clients), problems))
}

/// The wanted pattern lines of `blobs` (which starts at offset `base`) decoded, in order, split over two threads (decoding
/// thousands of patterns is most of a `check` cache hit).
fn decode_all(blobs: &[u8], base: u64, offsets: &[u64], wanted: &[usize]) -> Option<Vec<Pattern>> {
    let decode = |ords: &[usize]| -> Option<Vec<Pattern>> {
        ords.iter()
            .map(|&ord| {
                let start = usize::try_from(offsets.get(ord)?.checked_sub(base)?).ok()?;
                let end = usize::try_from(offsets.get(ord + 1)?.checked_sub(base)?).ok()?;
                serde_json::from_slice::<Pattern>(blobs.get(start..end)?).ok()
            })
            .collect()
    };
    let (a, b) = wanted.split_at(wanted.len() / 2);
    let (a, b) = std::thread::scope(|s| {
        let first = s.spawn(|| decode(a));
        let second = decode(b);
        (first.join().ok().flatten(), second)
    });
    let mut patterns = a?;
    patterns.extend(b?);
    Some(patterns)
}

/// The text a command's patterns must have an anchor in, and the operation classes of its
/// commands: the command as written plus every command the parser found in it (names are
/// resolved: paths, quotes, `.exe`, PowerShell aliases and encoded commands are gone).
pub fn command_haystack(command: &str, language: Language) -> (String, Vec<&'static str>) {
    let mut hay = command.to_lowercase();
    let mut ops = Vec::new();
    for c in crate::script::parse(command, language).commands {
        hay.push('\n');
        hay.push_str(&c.name.to_lowercase());
        hay.push('\n');
        hay.push_str(&c.text.to_lowercase());
        ops.extend(crate::engine::operations::classify(&c));
    }
    ops.sort_unstable();
    ops.dedup();
    (hay, ops)
}

/// The text a script's patterns must have an anchor in, for [`Need::Check`]. A bash script
/// names its commands with words of its own text, or of strings it hands to a shell (`bash -c`,
/// `ssh`, `eval`), which differ from the text only by quotes and escapes: the text, and the text
/// without them, hold every name. Anything else (PowerShell with its aliases and encoded
/// commands, batch, bash that runs PowerShell or uses `$'…'` escapes) is parsed as the hook
/// parses a command, so the haystack holds the names the engine will see.
pub fn script_haystack(text: &str, language: Language) -> String {
    let lower = text.to_lowercase();
    let plain = language == Language::Bash
        && !lower.contains("pwsh")
        && !lower.contains("powershell")
        && !lower.contains("$'");
    if !plain {
        return command_haystack(text, language).0;
    }
    let stripped = |c: char| matches!(c, '\'' | '"' | '\\' | '`' | '^' | '\n' | '\r');
    if !lower.contains(stripped) {
        return lower;
    }
    let mut hay = String::with_capacity(lower.len() * 2 + 1);
    hay.push_str(&lower);
    hay.push('\n');
    hay.extend(lower.chars().filter(|&c| !stripped(c)));
    hay
}

fn lock_path(store: &Path) -> PathBuf {
    let mut p = path_for(store).into_os_string();
    p.push(".lock");
    PathBuf::from(p)
}

/// Starts `forewarn --store STORE hook --rebuild-cache` detached (no stdio, its own process
/// group), unless a rebuild is already running. Never fails: the cache is only an optimisation.
pub fn spawn_rebuild(store: &Path) {
    let lock = lock_path(store);
    if let Ok(age) = std::fs::metadata(&lock).and_then(|m| m.modified()) {
        if age.elapsed().is_ok_and(|a| a < STALE_LOCK) {
            return;
        }
        let _ = std::fs::remove_file(&lock);
    }
    if std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&lock)
        .is_err()
    {
        return;
    }
    let Ok(exe) = std::env::current_exe() else {
        let _ = std::fs::remove_file(&lock);
        return;
    };
    let mut cmd = std::process::Command::new(exe);
    cmd.arg("--store")
        .arg(store)
        .args(["hook", "--rebuild-cache"])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    #[cfg(unix)]
    {
        use std::os::unix::process::CommandExt;
        cmd.process_group(0);
    }
    if cmd.spawn().is_err() {
        let _ = std::fs::remove_file(&lock);
    }
}

/// Loads the whole store and writes the cache, when the knowledge did not change while it was
/// read (the version only grows, so the same version before and after means nothing did; else
/// once more), and releases the lock [`spawn_rebuild`] took.
pub fn rebuild(store: &Path) {
    if let Ok(opened) = Store::open(store) {
        for _ in 0..3 {
            let Some(key) = store_key(&opened) else { break };
            let Ok((index, problems)) = opened.load_index() else {
                break;
            };
            if store_key(&opened).as_deref() == Some(key.as_str()) {
                if let Err(e) = write(store, &key, &index, &problems) {
                    tracing::debug!(
                        "cannot write the hook cache beside {}: {e}",
                        store.display()
                    );
                }
                break;
            }
        }
    }
    let _ = std::fs::remove_file(lock_path(store));
}

/// Writes the cache for `index` under `key` (atomically: a reader sees the old or the new file);
/// `problems` are those the load of the store met.
pub fn write(
    store: &Path,
    key: &str,
    index: &PatternIndex,
    problems: &[Problem],
) -> std::io::Result<()> {
    // A target name is known when a host or a pattern uses it as a tag (`PatternIndex::target`):
    // one pattern per tag that only patterns use keeps every such name known in a small index.
    let mut tags: BTreeMap<String, usize> = SYSTEM_TAGS
        .iter()
        .map(|t| (t.to_lowercase(), usize::MAX))
        .chain(
            index
                .hosts()
                .iter()
                .flat_map(|h| &h.system_tags)
                .map(|t| (t.trim().to_lowercase(), usize::MAX)),
        )
        .collect();
    let mut before: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    let mut before_always = Vec::new();
    let mut by_op: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    let mut errors: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    let mut errors_always = Vec::new();
    let mut blobs = Vec::new();
    let mut offsets = vec![0u64];
    for (ord, p) in index.patterns().iter().enumerate() {
        serde_json::to_writer(&mut blobs, p)?;
        blobs.push(b'\n');
        offsets.push(blobs.len() as u64);
        for tag in &p.affected_systems {
            tags.entry(tag.trim().to_lowercase()).or_insert(ord);
        }
        for entry in &p.triggering_commands {
            match command_anchors(entry) {
                Some(anchors) => {
                    for a in anchors {
                        before.entry(a).or_default().push(ord);
                    }
                }
                None => before_always.push(ord),
            }
        }
        for op in &p.triggering_operations {
            by_op.entry(op.trim().to_lowercase()).or_default().push(ord);
        }
        if let Some(ep) = p.error_pattern.as_deref().map(str::trim) {
            if !ep.is_empty() {
                match error_anchors(ep) {
                    Some(anchors) => {
                        for a in anchors {
                            errors.entry(a).or_default().push(ord);
                        }
                    }
                    None => errors_always.push(ord),
                }
            }
        }
    }
    let mut header = String::new();
    header.push_str(&format!("H {}\n", serde_json::to_string(index.hosts())?));
    header.push_str(&format!("C {}\n", serde_json::to_string(index.clients())?));
    header.push_str(&format!("X {}\n", join(&offsets)));
    header.push_str(&format!("A {}\n", join(&before_always)));
    header.push_str(&format!("F {}\n", join(&errors_always)));
    let tagged: Vec<usize> = tags.into_values().filter(|&o| o != usize::MAX).collect();
    header.push_str(&format!("T {}\n", join(&tagged)));
    for p in problems {
        header.push_str(&format!("P {}\n", escape(&p.to_string())));
    }
    for (a, ords) in &before {
        header.push_str(&format!("B {}\t{}\n", escape(a), join(ords)));
    }
    for (op, ords) in &by_op {
        header.push_str(&format!("O {}\t{}\n", escape(op), join(ords)));
    }
    for (a, ords) in &errors {
        header.push_str(&format!("E {}\t{}\n", escape(a), join(ords)));
    }

    let target = path_for(store);
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = target.with_file_name(format!(".{name}.{}.tmp", std::process::id()));
    let result = (|| {
        let mut f = std::io::BufWriter::new(File::create(&tmp)?);
        writeln!(f, "{MAGIC} {FORMAT} {} {key}", header.len())?;
        f.write_all(header.as_bytes())?;
        f.write_all(&blobs)?;
        // No fsync: a torn file fails to parse and is rebuilt, like a stale one.
        f.flush()?;
        drop(f);
        std::fs::rename(&tmp, &target)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// Lowercased literals one of which appears in any command a triggering entry matches; `None`
/// when there is no such set (the pattern is then always loaded). Plain names are their own
/// anchor; for a regex, its required prefix up to the first blank (the command name part, so
/// continuation lines inside the arguments cannot hide it); for `syntax:`, its required prefix.
fn command_anchors(entry: &str) -> Option<Vec<String>> {
    if let Some(re) = entry.strip_prefix(SYNTAX_PREFIX) {
        return prefix_literals(re);
    }
    let entry = entry.trim();
    if is_plain_name(entry) {
        return Some(vec![entry.to_lowercase()]);
    }
    let lits = prefix_literals(entry)?;
    lits.into_iter()
        .map(|l| {
            let word = l.split_whitespace().next().unwrap_or("").to_string();
            (!word.is_empty()).then_some(word)
        })
        .collect()
}

/// The same for an error_pattern: a regex's required prefix, or (not a regex) its longest
/// keyword, all of which must appear.
fn error_anchors(ep: &str) -> Option<Vec<String>> {
    match check_regex(ep) {
        Ok(()) => prefix_literals(ep),
        Err(_) => ep
            .split_whitespace()
            .max_by_key(|w| w.len())
            .map(|w| vec![w.to_lowercase()]),
    }
}

/// The engine index's own required-prefix literals (same bounds, same lowercasing), so the cache
/// anchors a pattern exactly where the index files it.
fn prefix_literals(re: &str) -> Option<Vec<String>> {
    index::prefix_literals(re).map(|lits| lits.into_iter().map(|(l, _)| l).collect())
}

fn join<T: std::fmt::Display>(items: &[T]) -> String {
    items
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(",")
}

fn parse_list<T: std::str::FromStr>(s: &str) -> Option<Vec<T>> {
    if s.is_empty() {
        return Some(Vec::new());
    }
    s.split(',').map(|x| x.parse().ok()).collect()
}

/// Anchors live on tab-separated lines: backslash, tab, newline and carriage return are escaped.
fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c => out.push(c),
        }
    }
    out
}

fn unescape(s: &str) -> std::borrow::Cow<'_, str> {
    if !s.contains('\\') {
        return std::borrow::Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('t') => out.push('\t'),
            Some('n') => out.push('\n'),
            Some('r') => out.push('\r'),
            Some(other) => out.push(other),
            None => out.push('\\'),
        }
    }
    std::borrow::Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::PatternType;

    fn pattern(id: &str, commands: &[&str], error: &str) -> Pattern {
        Pattern {
            error_pattern: Some(error.into()),
            triggering_commands: commands.iter().map(|s| s.to_string()).collect(),
            root_cause: "c".into(),
            recommended_solution: "s".into(),
            ..Pattern::new(id, PatternType::CommandCompatibility, id, "d")
        }
    }

    #[test]
    fn anchors_are_required_literals() {
        assert_eq!(
            command_anchors("Get-LocalUser"),
            Some(vec!["get-localuser".into()])
        );
        assert_eq!(
            command_anchors(r"sed\s+(-[a-zA-Z]+\s+)*-i"),
            Some(vec!["sed".into()])
        );
        assert_eq!(
            command_anchors("syntax:\\[Net\\.ServicePointManager\\]"),
            Some(vec!["[net.servicepointmanager]".into()])
        );
        assert_eq!(command_anchors(r".*\.exe"), None);
        assert_eq!(
            error_anchors("python: command not found"),
            Some(vec!["python: command not found".into()])
        );
        assert_eq!(
            error_anchors("unbalanced ( paren"),
            Some(vec!["unbalanced".into()])
        );
    }

    #[test]
    fn escaping_round_trips() {
        for s in ["plain", "a\tb", "back\\slash\n", "\\t literal"] {
            assert_eq!(unescape(&escape(s)), s);
        }
    }

    #[test]
    fn a_fresh_cache_loads_only_what_can_match_and_a_stale_one_misses() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("p.db");
        let store = Store::open_with(
            &path,
            crate::store::OpenOptions {
                seed_defaults: false,
            },
        )
        .unwrap();
        let row = serde_json::json!({"id": "stored", "pattern_type": "command_compatibility",
            "pattern_signature": "s", "failure_description": "d", "severity": "major",
            "triggering_commands": ["stored"]});
        store.add_pattern(row).unwrap();
        // The cache's content need not come from the store: only its key is checked.
        let index = PatternIndex::build(
            vec![
                pattern("py", &["python"], "python: command not found"),
                pattern("sed", &[r"sed\s+-i"], "sed: unrecognized option"),
                pattern("any", &[r".*\.exe"], "(weird|odd) failure\t"),
            ],
            vec![Host {
                hostname: "OLDSRV".into(),
                system_tags: vec!["powershell-2.0".into()],
                ..Host::default()
            }],
            vec![],
        );
        let key = store_key(&store).unwrap();
        write(&path, &key, &index, &[]).unwrap();

        let before = |text: &str| {
            let idx = load(
                &path,
                &key,
                &Need::Before {
                    haystack: text,
                    ops: &[],
                },
            )
            .unwrap();
            let mut ids: Vec<String> = idx.patterns().iter().map(|p| p.id.clone()).collect();
            ids.sort();
            (ids, idx.hosts().len())
        };
        assert_eq!(before("python x.py"), (vec!["any".into(), "py".into()], 1));
        assert_eq!(
            before("sed -i s/a/b/ f"),
            (vec!["any".into(), "sed".into()], 1)
        );
        let after = |store: &Store| {
            load(
                store.path(),
                &store_key(store)?,
                &Need::After {
                    haystack: "bash: python: command not found",
                },
            )
        };
        let ids: Vec<String> = after(&store)
            .unwrap()
            .patterns()
            .iter()
            .map(|p| p.id.clone())
            .collect();
        assert_eq!(ids, ["py"]);
        // The loaded pattern is the whole pattern.
        assert_eq!(
            after(&store).unwrap().get("py").unwrap(),
            index.get("py").unwrap()
        );

        // Recording an occurrence, even from another process, keeps the cache...
        let other = Store::open(&path).unwrap();
        other.record_occurrence("stored", Some("web1")).unwrap();
        assert!(
            after(&store).is_some(),
            "a recorded occurrence invalidated it"
        );
        // ...a change to the knowledge does not.
        let row = serde_json::json!({"id": "new", "pattern_type": "command_compatibility",
            "pattern_signature": "n", "failure_description": "d", "severity": "major",
            "triggering_commands": ["new"]});
        other.add_pattern(row).unwrap();
        assert!(after(&store).is_none(), "a new pattern kept it");
    }

    #[test]
    fn a_small_index_knows_every_target_name_and_the_load_problems() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("p.db");
        let index = PatternIndex::build(
            vec![
                Pattern {
                    affected_systems: vec!["acme-os".into()],
                    ..pattern("acme", &["acmetool"], "acme failed")
                },
                pattern("py", &["python"], "python: command not found"),
                pattern("sed", &["sed"], "sed: unknown option"),
            ],
            vec![],
            vec![],
        );
        assert!(index.target("acme-os").is_some());
        let problem = Problem {
            pattern_id: "bad".into(),
            message: "triggering_commands is not a JSON array\tof strings".into(),
        };
        write(&path, "7", &index, std::slice::from_ref(&problem)).unwrap();
        let haystacks = ["python x.py".to_string()];
        let needs = [
            Need::Before {
                haystack: "python x.py",
                ops: &[],
            },
            Need::Check {
                haystacks: &haystacks,
            },
        ];
        for need in &needs {
            let (small, problems) = load_with_problems(&path, "7", need).unwrap();
            // acmetool is not in the text, but its tag must not become an unknown target.
            assert!(small.get("py").is_some() && small.get("sed").is_none());
            assert!(small.target("acme-os").is_some(), "acme-os unknown");
            assert!(small.target("acme-typo").is_none());
            assert_eq!(problems, [problem.to_string()]);
        }
        // Anchors are searched for in every text `check` was given.
        let haystacks = ["echo".to_string(), "run python now".to_string()];
        let small = load(
            &path,
            "7",
            &Need::Check {
                haystacks: &haystacks,
            },
        )
        .unwrap();
        assert!(small.get("py").is_some() && small.get("sed").is_none());
    }

    #[test]
    fn a_remembered_key_holds_only_while_the_store_files_are_unchanged() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("p.db");
        let store = Store::open(&path).unwrap();
        let key = store_key(&store).unwrap();
        drop(store);
        assert_eq!(remembered_key(&path), None, "nothing remembered yet");
        remember_key(&path, &key);
        assert_eq!(remembered_key(&path).as_deref(), Some(key.as_str()));
        // Any commit, even one that keeps the knowledge version, changes the files: the next
        // hook reads the version from SQLite again instead of trusting a stale stamp.
        let id = Store::open(&path).unwrap().load().unwrap().patterns[0]
            .id
            .clone();
        Store::open(&path)
            .unwrap()
            .record_occurrence(&id, None)
            .unwrap();
        assert_eq!(remembered_key(&path), None);
    }
}
