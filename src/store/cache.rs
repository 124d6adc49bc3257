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
//! Reading them is one positioned read per wanted line (or run of close lines), on two threads
//! for `check`; the error anchors, which only `explain` needs, come last in the header.
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
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};

use crate::engine::index::{self, check_regex, is_plain_name, word_ranges};
use crate::engine::pattern::SYNTAX_PREFIX;
use crate::engine::target::SYSTEM_TAGS;
use crate::engine::{Client, Host, Pattern, PatternIndex, PatternType, Problem, Target};
use crate::script::Language;
use crate::store::Store;

const MAGIC: &str = "forewarn-hook-cache";
/// Bumped whenever the layout, the anchor rules or the meaning of the key change.
const FORMAT: u32 = 5;

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
    /// Checking scripts: each text as [`script_haystack`] gives it, and the target each is
    /// checked for. An anchor counts only where
    /// it stands as a command name could (a whole word, or a word's start for a regex prefix
    /// the name may continue); an operation class's patterns are loaded where one of the class's
    /// command names is a word (finding the classes themselves would mean parsing the scripts).
    ///
    /// When every text has a known target, runs on it alone (no command that sends code to
    /// another system, no `forewarn:` directive that could name another target), only the
    /// active patterns that apply on one of the targets can give a finding: only those are
    /// loaded (with the few that keep the target names known).
    Check {
        haystacks: &'a [String],
        targets: &'a [Option<&'a str>],
    },
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

/// Wanted pattern lines closer than this are read together: one read of a few hundred bytes
/// too many costs less than one more system call.
const READ_GAP: u64 = 2048;

/// From this many wanted patterns on, reading and decoding is split over two threads (decoding
/// thousands of patterns is most of a `check` cache hit).
const PARALLEL_FROM: usize = 64;

fn read(store: &Path, key: &str, need: &Need) -> Option<(PatternIndex, Vec<String>)> {
    let file = File::open(path_for(store)).ok()?;
    let mut reader = BufReader::with_capacity(64 * 1024, file);
    let mut first = String::new();
    reader.read_line(&mut first).ok()?;
    let mut words = first.trim_end().splitn(5, ' ');
    if words.next()? != MAGIC || words.next()?.parse::<u32>().ok()? != FORMAT {
        return None;
    }
    let header_len: u64 = words.next()?.parse().ok()?;
    let errors_len: u64 = words.next()?.parse().ok()?;
    if words.next()? != key {
        return None;
    }
    let mut header = String::new();
    reader
        .by_ref()
        .take(header_len)
        .read_to_string(&mut header)
        .ok()?;
    // The error anchors (most of the header) only matter to output: only `After` reads them.
    if let Need::After { .. } = need {
        reader
            .by_ref()
            .take(errors_len)
            .read_to_string(&mut header)
            .ok()?;
    }
    let blobs_start = (first.len() as u64)
        .checked_add(header_len)?
        .checked_add(errors_len)?;

    let mut hosts: Vec<Host> = Vec::new();
    let mut clients: Vec<Client> = Vec::new();
    let mut offsets: Vec<u64> = Vec::new();
    let mut wanted: Vec<usize> = Vec::new();
    let mut problems: Vec<String> = Vec::new();
    // For `Check`: every anchor, searched for in the texts at once below.
    let mut anchors = Anchors::default();
    if let Need::Check { .. } = need {
        // About one anchor per 40 bytes of header: no map grows ten times over.
        anchors.words.reserve(header.len() / 40);
    }
    let mut any_operation = None;
    let mut tagged: Vec<usize> = Vec::new();
    let mut scopes: Vec<(std::borrow::Cow<'_, str>, &str)> = Vec::new();
    let mut inactive: Vec<usize> = Vec::new();
    for line in header.lines() {
        let (tag, rest) = line.split_at_checked(2)?;
        match (tag, need) {
            ("H ", _) => hosts = serde_json::from_str(rest).ok()?,
            ("C ", _) => clients = serde_json::from_str(rest).ok()?,
            ("X ", _) => offsets = parse_list(rest)?,
            ("T ", _) => tagged = parse_list(rest)?,
            ("P ", _) => problems.push(unescape(rest).into_owned()),
            ("A ", Need::Before { .. } | Need::Check { .. }) | ("F ", Need::After { .. }) => {
                wanted.extend(parse_list::<usize>(rest)?)
            }
            ("B " | "S " | "W ", Need::Before { haystack, .. })
            | ("E ", Need::After { haystack }) => {
                let (anchor, ords) = rest.split_once('\t')?;
                if haystack.contains(unescape(anchor).as_ref()) {
                    wanted.extend(parse_list::<usize>(ords)?);
                }
            }
            ("B " | "S " | "W ", Need::Check { .. }) => {
                let (anchor, ords) = rest.split_once('\t')?;
                anchors.add(Bound::from_tag(tag)?, anchor, ords);
            }
            ("O ", Need::Before { ops, .. }) => {
                let (op, ords) = rest.split_once('\t')?;
                if ops.contains(&op) {
                    wanted.extend(parse_list::<usize>(ords)?);
                }
            }
            // One operation pattern whatever the text: the engine classifies commands only when
            // the index has some, and a classified command resolves its target like one with
            // candidates (see `command_anchors`), so the small index must have some too.
            ("O ", Need::Check { .. }) if any_operation.is_none() => {
                let (_, ords) = rest.split_once('\t')?;
                any_operation = parse_list::<usize>(ords)?.first().copied();
            }
            ("Z ", Need::Check { .. }) => {
                let (scope, ords) = rest.split_once('\t')?;
                scopes.push((unescape(scope), ords));
            }
            ("I ", Need::Check { .. }) => inactive = parse_list(rest)?,
            ("N ", Need::Check { .. }) => {
                let (name, ords) = rest.split_once('\t')?;
                anchors.add(Bound::Word, name, ords);
            }
            _ => {}
        }
    }
    let file = reader.into_inner();
    if let Need::Check { haystacks, targets } = need {
        // Code that may run elsewhere, or a directive that may name another target: every
        // pattern may count there.
        let elsewhere: Vec<usize> = crate::script::CHANGES_HOST
            .iter()
            .map(|name| anchors.add(Bound::Word, name, ""))
            .collect();
        let hit = anchors.found(haystacks)?;
        for (k, &h) in hit.iter().enumerate() {
            if h && !anchors.ords[k].is_empty() {
                wanted.extend(parse_list::<usize>(anchors.ords[k])?);
            }
        }
        let alone =
            !elsewhere.iter().any(|&k| hit[k]) && !haystacks.iter().any(|h| h.contains("forewarn"));
        if alone && !targets.is_empty() {
            let known = PatternIndex::build(
                read_patterns(&file, blobs_start, &offsets, &tagged)?,
                hosts.clone(),
                clients.clone(),
            );
            let targets: Option<Vec<Target>> =
                targets.iter().map(|t| known.target((*t)?)).collect();
            if let Some(targets) = targets {
                let keep = applicable(&targets, &scopes, &inactive, offsets.len())?;
                wanted.retain(|&o| keep.get(o).copied().unwrap_or(true));
            }
        }
        wanted.extend(any_operation);
    }
    wanted.extend(tagged);
    wanted.sort_unstable();
    wanted.dedup();
    let patterns = read_patterns(&file, blobs_start, &offsets, &wanted)?;
    Some((PatternIndex::build(patterns, hosts, clients), problems))
}

/// Which patterns (by ordinal, `0..len`) are active and apply on one of `targets`, asked of
/// [`Target::applies`] once per distinct scope (systems, host and client) of the cache.
fn applicable(
    targets: &[Target],
    scopes: &[(std::borrow::Cow<'_, str>, &str)],
    inactive: &[usize],
    len: usize,
) -> Option<Vec<bool>> {
    let mut keep = vec![false; len];
    for (scope, ords) in scopes {
        let (systems, host, client): (Vec<String>, Option<String>, Option<String>) =
            serde_json::from_str(scope).ok()?;
        let pattern = Pattern {
            affected_systems: systems,
            infrastructure_id: host,
            client_id: client,
            ..Pattern::new("", PatternType::CommandCompatibility, "", "")
        };
        if targets.iter().any(|t| t.applies(&pattern)) {
            for o in parse_list::<usize>(ords)? {
                *keep.get_mut(o)? = true;
            }
        }
    }
    for &o in inactive {
        *keep.get_mut(o)? = false;
    }
    Some(keep)
}

/// Where an anchor must stand in a text for its pattern to be loaded by `check`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Bound {
    /// Anywhere: a `syntax:` literal, or a required prefix that does not begin with a name.
    Anywhere,
    /// At the start of a word: a regex's required prefix, which the command name may continue.
    Start,
    /// A whole word: the command name itself. `tool1` in a script does not load `tool12`.
    Word,
}

impl Bound {
    fn tag(self) -> &'static str {
        match self {
            Bound::Anywhere => "B ",
            Bound::Start => "S ",
            Bound::Word => "W ",
        }
    }

    fn from_tag(tag: &str) -> Option<Bound> {
        [Bound::Anywhere, Bound::Start, Bound::Word]
            .into_iter()
            .find(|b| b.tag() == tag)
    }
}

/// Characters of a command name, as the engine's prefilter counts them (`index::continues_name`):
/// a name in a text has none of them on either side.
fn is_name_byte(b: u8) -> bool {
    NAME_BYTES[usize::from(b)]
}

/// [`is_name_byte`] as a table: the test runs on every byte of every script `check` reads.
static NAME_BYTES: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        table[b] = c.is_ascii_alphanumeric() || c == b'_' || c == b'-';
        b += 1;
    }
    table
};

/// The anchors of a cache, for [`Need::Check`]: those made of name characters are looked up
/// word by word in hash maps (building an automaton over ten thousand of them would cost more
/// than the search); the few others go through a small automaton.
#[derive(Default)]
struct Anchors<'h> {
    /// Each anchor's pattern ordinals, as the header lists them; `hit` says which were found.
    ords: Vec<&'h str>,
    hit: Vec<bool>,
    /// The anchor added before with the same text and kind (`usize::MAX`: none): a name may be
    /// a pattern's and an operation class's.
    same: Vec<usize>,
    words: rustc_hash::FxHashMap<&'h str, usize>,
    starts: rustc_hash::FxHashMap<&'h str, usize>,
    start_lens: Vec<usize>,
    /// Bit `n` is set when some word or start anchor is `n` bytes long (63: that long or longer).
    lens: u64,
    /// Bit `b` is set when some word or start anchor begins with byte `b`.
    first: [u64; 4],
    others: Vec<(std::borrow::Cow<'h, str>, Bound, usize)>,
}

impl<'h> Anchors<'h> {
    /// Adds an anchor; its number in [`Anchors::found`]'s answer.
    fn add(&mut self, bound: Bound, anchor: &'h str, ords: &'h str) -> usize {
        let k = self.ords.len();
        self.ords.push(ords);
        self.hit.push(false);
        let named = !anchor.is_empty() && anchor.bytes().all(is_name_byte);
        match bound {
            Bound::Word if named => {
                self.same
                    .push(self.words.insert(anchor, k).unwrap_or(usize::MAX));
            }
            Bound::Start if named => {
                self.same
                    .push(self.starts.insert(anchor, k).unwrap_or(usize::MAX));
                if let Err(i) = self.start_lens.binary_search(&anchor.len()) {
                    self.start_lens.insert(i, anchor.len());
                }
            }
            _ => {
                self.same.push(usize::MAX);
                self.others.push((unescape(anchor), bound, k));
                return k;
            }
        }
        self.lens |= 1 << anchor.len().min(63);
        let b = anchor.as_bytes()[0];
        self.first[usize::from(b >> 6)] |= 1 << (b & 63);
        k
    }

    /// Marks anchor `k` found, and those with the same text.
    fn mark(hit: &mut [bool], same: &[usize], mut k: usize) {
        while let Some(h) = hit.get_mut(k) {
            if *h {
                break;
            }
            *h = true;
            k = same[k];
        }
    }

    /// Whether each anchor stands where its bound requires in some haystack.
    fn found(&mut self, haystacks: &[String]) -> Option<Vec<bool>> {
        let ac = match self.others.is_empty() {
            true => None,
            false => Some(
                aho_corasick::AhoCorasick::new(self.others.iter().map(|(a, _, _)| a.as_ref()))
                    .ok()?,
            ),
        };
        for hay in haystacks {
            let b = hay.as_bytes();
            for std::ops::Range { start, end: i } in word_ranges(b, is_name_byte) {
                if self.first[usize::from(b[start] >> 6)] & (1 << (b[start] & 63)) == 0 {
                    continue;
                }
                // Name bytes are ASCII: both ends are character boundaries.
                let word = &hay[start..i];
                if self.lens & (1 << word.len().min(63)) != 0 {
                    if let Some(&k) = self.words.get(word) {
                        Self::mark(&mut self.hit, &self.same, k);
                    }
                }
                for &len in &self.start_lens {
                    if len > word.len() {
                        break;
                    }
                    if let Some(&k) = self.starts.get(&word[..len]) {
                        Self::mark(&mut self.hit, &self.same, k);
                    }
                }
            }
            let Some(ac) = &ac else { continue };
            for m in ac.find_overlapping_iter(hay.as_str()) {
                let (_, bound, k) = self.others[m.pattern().as_usize()];
                let starts =
                    bound == Bound::Anywhere || m.start() == 0 || !is_name_byte(b[m.start() - 1]);
                let ends = bound != Bound::Word || b.get(m.end()).is_none_or(|&c| !is_name_byte(c));
                if starts && ends {
                    self.hit[k] = true;
                }
            }
        }
        Some(std::mem::take(&mut self.hit))
    }
}

/// The pattern lines `wanted` (sorted ordinals) of the cache `file`, decoded, in order. Each is
/// read on its own (or with close neighbours): a `check` that wants a quarter of a 9 MB cache
/// would spend more copying all of it than reading its lines one by one.
fn read_patterns(
    file: &File,
    blobs_start: u64,
    offsets: &[u64],
    wanted: &[usize],
) -> Option<Vec<Pattern>> {
    let read = |ords: &[usize]| -> Option<Vec<Pattern>> {
        let mut patterns = Vec::with_capacity(ords.len());
        let mut buf = Vec::new();
        let mut i = 0;
        while i < ords.len() {
            // A run of lines read at once: from this one to the last that follows closely.
            let first = *offsets.get(ords[i])?;
            let mut j = i + 1;
            while j < ords.len()
                && offsets
                    .get(ords[j])?
                    .saturating_sub(*offsets.get(ords[j - 1] + 1)?)
                    <= READ_GAP
            {
                j += 1;
            }
            let end = *offsets.get(ords[j - 1] + 1)?;
            buf.resize(usize::try_from(end.checked_sub(first)?).ok()?, 0);
            read_exact_at(file, &mut buf, blobs_start.checked_add(first)?).ok()?;
            for &ord in &ords[i..j] {
                let start = usize::try_from(offsets.get(ord)? - first).ok()?;
                let end = usize::try_from(offsets.get(ord + 1)?.checked_sub(first)?).ok()?;
                patterns.push(serde_json::from_slice::<Pattern>(buf.get(start..end)?).ok()?);
            }
            i = j;
        }
        Some(patterns)
    };
    if wanted.len() < PARALLEL_FROM || !cfg!(any(unix, windows)) {
        return read(wanted);
    }
    let (a, b) = wanted.split_at(wanted.len() / 2);
    let (a, b) = std::thread::scope(|s| {
        let first = s.spawn(|| read(a));
        let second = read(b);
        (first.join().ok().flatten(), second)
    });
    let mut patterns = a?;
    patterns.extend(b?);
    Some(patterns)
}

/// Reads `buf.len()` bytes at `offset` without using the file's cursor, so that two threads
/// can read one file (elsewhere, callers read from one thread only).
fn read_exact_at(file: &File, buf: &mut [u8], offset: u64) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        std::os::unix::fs::FileExt::read_exact_at(file, buf, offset)
    }
    #[cfg(windows)]
    {
        let (mut buf, mut offset) = (buf, offset);
        while !buf.is_empty() {
            match std::os::windows::fs::FileExt::seek_read(file, buf, offset) {
                Ok(0) => return Err(std::io::ErrorKind::UnexpectedEof.into()),
                Ok(n) => {
                    buf = &mut std::mem::take(&mut buf)[n..];
                    offset += n as u64;
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }
    #[cfg(not(any(unix, windows)))]
    {
        use std::io::{Seek, SeekFrom};
        let mut file = file;
        file.seek(SeekFrom::Start(offset))?;
        file.read_exact(buf)
    }
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

/// Whether the names in `lower` (a script's lowercased text) are words of the text itself, up
/// to quotes and escapes; otherwise [`script_haystack`] has to parse the script.
fn is_plain(lower: &str, language: Language) -> bool {
    language == Language::Bash
        && !lower.contains("pwsh")
        && !lower.contains("powershell")
        && !lower.contains("$'")
}

/// Whether [`script_haystack`] must parse the whole of `text`: a large script that does is
/// better checked against the whole store (a parse of half a megabyte of PowerShell takes a
/// quarter of a second; the engine parses only the statements that may matter).
pub fn haystack_parses_large(text: &str, language: Language) -> bool {
    text.len() >= 64 * 1024 && !is_plain(&text.to_lowercase(), language)
}

/// The text a script's patterns must have an anchor in, for [`Need::Check`]. A bash script
/// names its commands with words of its own text, or of strings it hands to a shell (`bash -c`,
/// `ssh`, `eval`), which differ from the text only by quotes and escapes: the text, and the text
/// without them, hold every name. Anything else (PowerShell with its aliases and encoded
/// commands, batch, bash that runs PowerShell or uses `$'…'` escapes) is parsed as the hook
/// parses a command, so the haystack holds the names the engine will see.
pub fn script_haystack(text: &str, language: Language) -> String {
    let lower = text.to_lowercase();
    if !is_plain(&lower, language) {
        return command_haystack(text, language).0;
    }
    let stripped = |b: u8| matches!(b, b'\'' | b'"' | b'\\' | b'`' | b'^' | b'\r');
    if !lower.bytes().any(stripped) {
        return lower;
    }
    // Quotes and escapes go, so `p''ython` and `py\thon` show their names as whole words; a
    // line continuation goes as a whole (`too\⏎l1` runs `tool1`), other line ends stay, so
    // that the last word of a line is not glued to the first of the next. A line that loses
    // nothing is already in the text: it is not repeated.
    let b = lower.as_bytes();
    let mut hay = Vec::with_capacity(b.len() * 2 + 1);
    hay.extend_from_slice(b);
    hay.push(b'\n');
    let (mut line, mut changed) = (hay.len(), false);
    let mut i = 0;
    while i < b.len() {
        // A line with nothing to strip (a continuation starts with a backslash) loses nothing:
        // it is skipped whole rather than copied and taken back.
        if !changed && hay.len() == line {
            let end = lower[i..].find('\n').map_or(b.len(), |n| i + n);
            if !b[i..end].iter().any(|&c| stripped(c)) {
                i = end + 1;
                continue;
            }
        }
        match (b[i], b.get(i + 1), b.get(i + 2)) {
            (b'\\', Some(b'\n'), _) => i += 2,
            (b'\\', Some(b'\r'), Some(b'\n')) => i += 3,
            (b'\\', Some(b'\\'), _) => {
                hay.push(b'\\');
                i += 2;
            }
            (b'\n', _, _) => {
                if changed {
                    hay.push(b'\n');
                } else {
                    hay.truncate(line);
                }
                (line, changed) = (hay.len(), false);
                i += 1;
                continue;
            }
            (c, _, _) => {
                if !stripped(c) {
                    hay.push(c);
                    i += 1;
                    continue;
                }
                i += 1;
            }
        }
        changed = true;
    }
    if !changed {
        hay.truncate(line);
    }
    // Only ASCII bytes were left out: the rest is still UTF-8.
    String::from_utf8(hay).unwrap_or(lower)
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
    let mut before: BTreeMap<(String, Bound), Vec<usize>> = BTreeMap::new();
    let mut before_always = Vec::new();
    let mut by_op: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    let mut errors: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    let mut errors_always = Vec::new();
    let mut scopes: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    let mut inactive = Vec::new();
    let mut blobs = Vec::new();
    let mut offsets = vec![0u64];
    for (ord, p) in index.patterns().iter().enumerate() {
        serde_json::to_writer(&mut blobs, p)?;
        blobs.push(b'\n');
        offsets.push(blobs.len() as u64);
        for tag in &p.affected_systems {
            tags.entry(tag.trim().to_lowercase()).or_insert(ord);
        }
        let scope = (&p.affected_systems, &p.infrastructure_id, &p.client_id);
        scopes
            .entry(serde_json::to_string(&scope)?)
            .or_default()
            .push(ord);
        if !p.is_active {
            inactive.push(ord);
        }
        for entry in &p.triggering_commands {
            match command_anchors(entry) {
                Some(anchors) => {
                    for a in anchors {
                        let list = before.entry(a).or_default();
                        if list.last() != Some(&ord) {
                            list.push(ord);
                        }
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
    header.push_str(&format!("I {}\n", join(&inactive)));
    for (scope, ords) in &scopes {
        header.push_str(&format!("Z {}\t{}\n", escape(scope), join(ords)));
    }
    for p in problems {
        header.push_str(&format!("P {}\n", escape(&p.to_string())));
    }
    for ((a, bound), ords) in &before {
        header.push_str(&format!("{}{}\t{}\n", bound.tag(), escape(a), join(ords)));
    }
    // An operation class is a set of command names (`operations::classify` goes by the
    // name first): `check` loads a class's patterns where one of its names is a word.
    let mut by_op_name: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for (op, ords) in &by_op {
        header.push_str(&format!("O {}\t{}\n", escape(op), join(ords)));
        for name in crate::engine::operations::command_names_of(op) {
            by_op_name
                .entry(name.to_lowercase())
                .or_default()
                .extend(ords);
        }
    }
    for (name, ords) in &mut by_op_name {
        ords.sort_unstable();
        ords.dedup();
        header.push_str(&format!("N {}\t{}\n", escape(name), join(ords)));
    }
    // After the rest, so that a reader that does not explain output can skip them.
    let mut error_lines = String::new();
    for (a, ords) in &errors {
        error_lines.push_str(&format!("E {}\t{}\n", escape(a), join(ords)));
    }

    let target = path_for(store);
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = target.with_file_name(format!(".{name}.{}.tmp", std::process::id()));
    let result = (|| {
        let mut f = std::io::BufWriter::new(File::create(&tmp)?);
        writeln!(
            f,
            "{MAGIC} {FORMAT} {} {} {key}",
            header.len(),
            error_lines.len()
        )?;
        f.write_all(header.as_bytes())?;
        f.write_all(error_lines.as_bytes())?;
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

/// Lowercased literals one of which appears in any command a triggering entry matches, each
/// with where it stands; `None` when there is no such set (the pattern is then always loaded).
/// They mirror where the index files the entry, so that a command has candidates in the small
/// index exactly when it has some in the full one (a command's candidates, not only its
/// findings, show: they resolve its target, and an unknown host is reported): a plain name, and
/// a regex's literal that gives the whole name (it reaches a blank, or is a whole match), are
/// whole words; any other regex literal starts a word (the name may continue it: `tool1\s+…`
/// is tried on `tool12`); a `syntax:` literal stands anywhere.
fn command_anchors(entry: &str) -> Option<Vec<(String, Bound)>> {
    if let Some(re) = entry.strip_prefix(SYNTAX_PREFIX) {
        let lits = index::prefix_literals(re)?;
        return Some(
            lits.into_iter()
                .map(|(l, _)| (l, Bound::Anywhere))
                .collect(),
        );
    }
    let entry = entry.trim();
    if is_plain_name(entry) {
        return Some(vec![(entry.to_lowercase(), Bound::Word)]);
    }
    let lits = index::prefix_literals(entry)?;
    Some(
        lits.into_iter()
            .map(|(lit, exact)| match lit.find(char::is_whitespace) {
                Some(i) => (lit[..i].to_string(), Bound::Word),
                None if exact => (lit, Bound::Word),
                None => (lit, Bound::Start),
            })
            .collect(),
    )
}

/// The same for an error_pattern: a regex's required prefix, or (not a regex) its longest
/// keyword, all of which must appear.
fn error_anchors(ep: &str) -> Option<Vec<String>> {
    match check_regex(ep) {
        Ok(()) => index::prefix_literals(ep).map(|lits| lits.into_iter().map(|(l, _)| l).collect()),
        Err(_) => ep
            .split_whitespace()
            .max_by_key(|w| w.len())
            .map(|w| vec![w.to_lowercase()]),
    }
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

    /// The ids of the patterns `check` loads from the cache at `path` (version "1") for `text`.
    fn loaded_for_check(path: &Path, text: &str, lang: Language) -> Vec<String> {
        let hay = [script_haystack(text, lang)];
        let need = Need::Check {
            haystacks: &hay,
            targets: &[],
        };
        let small = load(path, "1", &need).unwrap();
        let mut ids: Vec<String> = small.patterns().iter().map(|p| p.id.clone()).collect();
        ids.sort();
        ids
    }
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
        let one = |a: &str, b: Bound| Some(vec![(a.to_string(), b)]);
        assert_eq!(
            command_anchors("Get-LocalUser"),
            one("get-localuser", Bound::Word)
        );
        // Where the index files them: the name up to the blank, a whole match, or a prefix.
        assert_eq!(command_anchors("python3 -c"), one("python3", Bound::Word));
        assert_eq!(
            command_anchors(r"python3\.11"),
            one("python3.11", Bound::Word)
        );
        assert_eq!(
            command_anchors(r"sed\s+(-[a-zA-Z]+\s+)*-i"),
            one("sed", Bound::Start)
        );
        assert_eq!(
            command_anchors("syntax:\\[Net\\.ServicePointManager\\]"),
            one("[net.servicepointmanager]", Bound::Anywhere)
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
    fn check_loads_a_name_only_where_it_stands_as_a_whole_word() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("p.db");
        let index = PatternIndex::build(
            vec![
                pattern("t1", &["tool1"], "e"),
                pattern("t12", &["tool12"], "e"),
                pattern("t12re", &[r"tool12\s+--x"], "e"),
                pattern("t1prefix", &[r"tool1.*"], "e"),
                pattern("py311", &[r"python3\.11 -V"], "e"),
                pattern("syn", &["syntax:@@op1@@"], "e"),
            ],
            vec![],
            vec![],
        );
        write(&path, "1", &index, &[]).unwrap();
        let ids = |text: &str| loaded_for_check(&path, text, Language::Bash);
        // `tool1234` is none of the names; the prefix entries may match it.
        assert_eq!(ids("tool1234 -x\n"), ["t12re", "t1prefix"]);
        assert_eq!(ids("/usr/bin/tool1 -x\n"), ["t1", "t1prefix"]);
        assert_eq!(ids("x=$(tool12|wc)\n"), ["t12", "t12re", "t1prefix"]);
        assert_eq!(ids("xtool12 a-tool12 b_tool1\n"), Vec::<String>::new());
        // Quotes, escapes and continuations inside a name, and names at the end of a line.
        assert_eq!(ids("t''ool\\\n12 a\n"), ["t12", "t12re", "t1prefix"]);
        assert_eq!(ids("a\\\\\nt'o'ol1\n"), ["t1", "t1prefix"]);
        assert_eq!(ids("echo 'x' tool1\nb\n"), ["t1", "t1prefix"]);
        // A name with a dot is found by the small automaton, as a whole word too; a `syntax:`
        // literal stands anywhere.
        assert_eq!(ids("python3.11 -V\n"), ["py311"]);
        assert_eq!(ids("python3.111 -V\n"), Vec::<String>::new());
        assert_eq!(ids("echo x@@op1@@y\n"), ["syn"]);
    }

    #[test]
    fn a_bash_haystack_adds_the_lines_that_lose_quotes_or_escapes_once_more() {
        let hay = |t: &str| script_haystack(t, Language::Bash);
        assert_eq!(hay("ls\nGREP x\n"), "ls\ngrep x\n");
        assert_eq!(hay("ls\np''y a\nb\n"), "ls\np''y a\nb\n\npy a\n");
        // A continuation joins its lines; an escaped backslash stays.
        assert_eq!(hay("a \\\nb\nc\n"), "a \\\nb\nc\n\na b\n");
        assert_eq!(hay("a\\\\\nb\n"), "a\\\\\nb\n\na\\\n");
    }

    #[test]
    fn check_for_known_targets_loads_only_the_active_patterns_that_apply_there() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("p.db");
        let on = |id: &str, systems: &[&str]| Pattern {
            affected_systems: systems.iter().map(|s| s.to_string()).collect(),
            ..pattern(id, &["tool1"], "e")
        };
        let index = PatternIndex::build(
            vec![
                on("everywhere", &[]),
                on("debian", &["debian-12"]),
                on("alpine", &["Alpine"]),
                on("acme", &["acme-os"]),
                Pattern {
                    is_active: false,
                    ..on("off", &["debian-12"])
                },
                Pattern {
                    infrastructure_id: Some("h1".into()),
                    ..on("web1", &["macos"])
                },
            ],
            vec![Host {
                id: "h1".into(),
                hostname: "web1".into(),
                system_tags: vec!["rhel-9".into()],
                ..Host::default()
            }],
            vec![],
        );
        write(&path, "1", &index, &[]).unwrap();
        let ids = |text: &str, targets: &[Option<&str>]| {
            let hay = [script_haystack(text, Language::Bash)];
            let need = Need::Check {
                haystacks: &hay,
                targets,
            };
            let small = load(&path, "1", &need).unwrap();
            let mut ids: Vec<String> = small.patterns().iter().map(|p| p.id.clone()).collect();
            ids.sort();
            ids
        };
        let all = ["acme", "alpine", "debian", "everywhere", "off", "web1"];
        // `acme` stays whatever the target: the only pattern naming `acme-os` keeps it known.
        assert_eq!(
            ids("tool1\n", &[Some("debian-12")]),
            ["acme", "debian", "everywhere"]
        );
        assert_eq!(
            ids("tool1\n", &[Some("DEBIAN-12"), Some("alpine")]),
            ["acme", "alpine", "debian", "everywhere"]
        );
        // A host: its tags, and the patterns about it.
        assert_eq!(
            ids("tool1\n", &[Some("WEB1")]),
            ["acme", "everywhere", "web1"]
        );
        // No target, an unknown one, code sent elsewhere or a directive: everything.
        assert_eq!(ids("tool1\n", &[Some("debian-12"), None]), all);
        assert_eq!(ids("tool1\n", &[Some("debian-13")]), all);
        assert_eq!(ids("tool1\nssh web1 tool1\n", &[Some("debian-12")]), all);
        assert_eq!(
            ids("# forewarn: target=alpine\ntool1\n", &[Some("debian-12")]),
            all
        );
    }

    #[test]
    fn check_loads_an_operation_class_where_one_of_its_commands_is_a_word() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("p.db");
        let op = |id: &str, op: &str| Pattern {
            triggering_operations: vec![op.into()],
            ..pattern(id, &[], "e")
        };
        let index = PatternIndex::build(
            vec![
                op("install1", crate::engine::operations::PACKAGE_INSTALL),
                op("install2", crate::engine::operations::PACKAGE_INSTALL),
                op("remote", crate::engine::operations::REMOTE_EXECUTION),
            ],
            vec![],
            vec![],
        );
        write(&path, "1", &index, &[]).unwrap();
        let ids = |text: &str, lang: Language| loaded_for_check(&path, text, lang);
        // One operation pattern is always there (the engine classifies commands only when
        // the index has some); a class comes whole where one of its commands is.
        assert_eq!(ids("echo sshd apt-getter\n", Language::Bash), ["install1"]);
        assert_eq!(
            ids("apt-get install -y x\n", Language::Bash),
            ["install1", "install2"]
        );
        assert_eq!(
            ids("ssh web1 uptime\n", Language::Bash),
            ["install1", "remote"]
        );
        assert_eq!(
            ids("Invoke-Command -ScriptBlock { x }\n", Language::PowerShell),
            ["install1", "remote"]
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
                targets: &[],
            },
            // With a target the patterns that cannot apply are left out, not the tags.
            Need::Check {
                haystacks: &haystacks,
                targets: &[Some("debian-12")],
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
                targets: &[],
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
