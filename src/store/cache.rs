//! A prebuilt lookup beside the store, so that a process loads only the patterns that could
//! fire on its text: a hook on its command (DESIGN.md §10: the hook runs on every agent command;
//! loading and indexing 10,000 patterns per process costs several times the budget), `check` on
//! the scripts it was given.
//!
//! The cache file (`<store>.hook-cache`) holds every usable pattern as one JSON line, plus
//! *anchors*: for each pattern, lowercased literals one of which must appear in a command (or,
//! for `explain`, in the output) for the pattern to match at all. A reader keeps the patterns
//! whose anchor occurs in its text (plus the few with no anchor, those of the command's
//! operation classes, and one pattern for each system tag only patterns use, so the small index
//! knows the same target names), and builds a [`PatternIndex`] of just those. The hook reads a
//! small text header (the error anchors, which only `explain` needs, come last); `check`, whose
//! scripts hold thousands of words, reads a binary section laid out for it instead (anchors as
//! ready hash tables, scopes decoded only for the patterns found: `CheckSection`). Reading the
//! patterns is one positioned read per wanted line (or run of close lines), on two threads for
//! `check`. A cache that does not decode, or is cut short, is a miss that says so.
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
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use crate::engine::index::{self, check_regex, is_plain_name, word_ranges};
use crate::engine::pattern::SYNTAX_PREFIX;
use crate::engine::target::SYSTEM_TAGS;
use crate::engine::{Client, Host, Pattern, PatternIndex, PatternType, Problem, Target};
use crate::script::{Language, Parsed};
use crate::store::Store;

const MAGIC: &str = "forewarn-hook-cache";
/// Bumped whenever the layout, the anchor rules or the meaning of the key change.
const FORMAT: u32 = 6;

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
    /// Checking scripts: the parts of each text as [`check_haystack`] gives them, and the
    /// target each text is checked for. An anchor counts only where
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
    load_with_problems(store, key, need).map(|(index, _)| index)
}

/// [`load`], with the problems the full load of the store met (each as its message), so a
/// caller that reports them says the same as after a full load.
pub fn load_with_problems(
    store: &Path,
    key: &str,
    need: &Need,
) -> Option<(PatternIndex, Vec<String>)> {
    match read(store, key, need) {
        Ok(found) => Some(found),
        Err(Miss::Stale) => None,
        // A cache of this version that does not decode was not written whole by this format
        // (a disk error, or a bug): said once, and the caller's rebuild replaces it.
        Err(Miss::Damaged) => {
            tracing::warn!(
                "{}: the pattern cache is damaged; reading the store instead (it is rebuilt)",
                path_for(store).display()
            );
            None
        }
    }
}

/// Why the cache could not answer.
#[derive(Debug, PartialEq, Eq)]
enum Miss {
    /// No cache, another format, or another knowledge version: the usual miss.
    Stale,
    /// The right format and version, but its content does not decode.
    Damaged,
}

/// Wanted pattern lines closer than this are read together: one read of a few hundred bytes
/// too many costs less than one more system call.
const READ_GAP: u64 = 2048;

/// From this many wanted patterns on, reading and decoding is split over two threads (decoding
/// thousands of patterns is most of a `check` cache hit).
const PARALLEL_FROM: usize = 64;

/// The cache file: a first line `MAGIC FORMAT HEADER_LEN ERRORS_LEN CHECK_LEN KEY`, the text
/// header the hook reads (its error anchors last), the binary section `check` reads
/// ([`CheckSection`]), then one JSON line per pattern.
fn read(store: &Path, key: &str, need: &Need) -> Result<(PatternIndex, Vec<String>), Miss> {
    let file = File::open(path_for(store)).map_err(|_| Miss::Stale)?;
    // The first line is short: one read holds it.
    let mut first = [0u8; 256];
    let read = (&file).read(&mut first).map_err(|_| Miss::Stale)?;
    let first = &first[..read];
    let line_end = first.iter().position(|&b| b == b'\n');
    let line = line_end.and_then(|n| std::str::from_utf8(&first[..n]).ok());
    let mut words = line.unwrap_or("").split(' ');
    if words.next() != Some(MAGIC)
        || words.next().and_then(|w| w.parse::<u32>().ok()) != Some(FORMAT)
    {
        return Err(Miss::Stale);
    }
    let lens: Vec<Option<u64>> = (0..3)
        .map(|_| words.next().and_then(|w| w.parse().ok()))
        .collect();
    if words.next() != Some(key) || words.next().is_some() {
        return Err(Miss::Stale);
    }
    (|| {
        let (header_len, errors_len, check_len) = (lens[0]?, lens[1]?, lens[2]?);
        let header_start = u64::try_from(line_end?).ok()? + 1;
        let check_start = header_start
            .checked_add(header_len)?
            .checked_add(errors_len)?;
        let blobs_start = check_start.checked_add(check_len)?;
        match need {
            Need::Check { haystacks, targets } => {
                let mut section = vec![0; usize::try_from(check_len).ok()?];
                read_exact_at(&file, &mut section, check_start).ok()?;
                CheckSection::decode(&section)?.load(&file, blobs_start, haystacks, targets)
            }
            Need::Before { .. } | Need::After { .. } => {
                // The error anchors (most of the header) only matter to output.
                let len = match need {
                    Need::After { .. } => header_len.checked_add(errors_len)?,
                    _ => header_len,
                };
                let mut header = vec![0; usize::try_from(len).ok()?];
                read_exact_at(&file, &mut header, header_start).ok()?;
                read_header(&file, blobs_start, &String::from_utf8(header).ok()?, need)
            }
        }
    })()
    .ok_or(Miss::Damaged)
}

/// The hook's read: the patterns whose anchors occur in its command (or output).
fn read_header(
    file: &File,
    blobs_start: u64,
    header: &str,
    need: &Need,
) -> Option<(PatternIndex, Vec<String>)> {
    let mut hosts: Vec<Host> = Vec::new();
    let mut clients: Vec<Client> = Vec::new();
    let mut offsets: Vec<u64> = Vec::new();
    let mut wanted: Vec<usize> = Vec::new();
    let mut problems: Vec<String> = Vec::new();
    for line in header.lines() {
        let (tag, rest) = line.split_at_checked(2)?;
        match (tag, need) {
            ("H ", _) => hosts = serde_json::from_str(rest).ok()?,
            ("C ", _) => clients = serde_json::from_str(rest).ok()?,
            ("X ", _) => offsets = parse_list(rest)?,
            ("T ", _) => wanted.extend(parse_list::<usize>(rest)?),
            ("P ", _) => problems.push(unescape(rest).into_owned()),
            ("A ", Need::Before { .. }) | ("F ", Need::After { .. }) => {
                wanted.extend(parse_list::<usize>(rest)?)
            }
            ("B " | "S " | "W ", Need::Before { haystack, .. })
            | ("E ", Need::After { haystack }) => {
                let (anchor, ords) = rest.split_once('\t')?;
                if haystack.contains(unescape(anchor).as_ref()) {
                    wanted.extend(parse_list::<usize>(ords)?);
                }
            }
            ("O ", Need::Before { ops, .. }) => {
                let (op, ords) = rest.split_once('\t')?;
                if ops.contains(&op) {
                    wanted.extend(parse_list::<usize>(ords)?);
                }
            }
            _ => {}
        }
    }
    if !is_whole(file, blobs_start, offsets.last().copied()) {
        return None;
    }
    wanted.sort_unstable();
    wanted.dedup();
    let patterns = read_patterns(file, blobs_start, &|o| offsets.get(o).copied(), &wanted)?;
    Some((PatternIndex::build(patterns, hosts, clients), problems))
}

/// What `check` reads of the cache, in binary, so that a hit decodes nothing it does not use:
/// the anchors are hash tables as written (a word of the script is looked up without building
/// a map of ten thousand anchors first), and a pattern's scope is decoded only when one of its
/// anchors was found. Parsing the text header for this was a seventh of a `check` process.
///
/// Layout: a sequence of blocks, each a little-endian `u32` byte length and its bytes; lists of
/// numbers are little-endian `u32`s (pattern offsets `u64`s). See [`write_check_section`].
struct CheckSection<'a> {
    hosts: Vec<Host>,
    clients: Vec<Client>,
    problems: Vec<String>,
    /// Where each pattern's line starts in the blobs, and where the last ends.
    offsets: U64s<'a>,
    /// Patterns with a triggering entry that has no anchor: loaded whatever the text.
    always: U32s<'a>,
    /// One pattern per system tag only patterns use (see [`write`]).
    tagged: U32s<'a>,
    inactive: U32s<'a>,
    /// One pattern of an operation class, if any (see [`CheckSection::load`]).
    operation: U32s<'a>,
    /// Each pattern's scope (systems, host and client), as a number.
    scope_of: U32s<'a>,
    /// Each scope as JSON: `(affected_systems, infrastructure_id, client_id)`, ending where
    /// `scope_ends` says.
    scope_ends: U32s<'a>,
    scopes: &'a [u8],
    anchors: AnchorTable<'a>,
}

/// Reads a [`CheckSection`]'s blocks; `None` past the end.
struct Blocks<'a>(&'a [u8]);

impl<'a> Blocks<'a> {
    fn bytes(&mut self) -> Option<&'a [u8]> {
        let (len, rest) = self.0.split_first_chunk::<4>()?;
        let len = usize::try_from(u32::from_le_bytes(*len)).ok()?;
        let (block, rest) = rest.split_at_checked(len)?;
        self.0 = rest;
        Some(block)
    }

    fn u32s(&mut self) -> Option<U32s<'a>> {
        let b = self.bytes()?;
        (b.len() % 4 == 0).then_some(U32s(b))
    }

    fn u64s(&mut self) -> Option<U64s<'a>> {
        let b = self.bytes()?;
        (b.len() % 8 == 0).then_some(U64s(b))
    }
}

/// A block of little-endian `u32`s, read where it lies (copying the tables out would touch a
/// few hundred kilobytes more of fresh memory, each page a fault).
#[derive(Clone, Copy)]
struct U32s<'a>(&'a [u8]);

impl<'a> U32s<'a> {
    fn len(self) -> usize {
        self.0.len() / 4
    }

    fn get(self, i: usize) -> Option<u32> {
        let at = i.checked_mul(4)?;
        let b = self.0.get(at..at.checked_add(4)?)?;
        Some(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    /// Items `range`.
    fn slice(self, range: std::ops::Range<usize>) -> Option<U32s<'a>> {
        let (start, end) = (range.start.checked_mul(4)?, range.end.checked_mul(4)?);
        self.0.get(start..end).map(U32s)
    }

    fn iter(self) -> impl Iterator<Item = u32> + 'a {
        self.0
            .chunks_exact(4)
            .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]))
    }

    fn ords(self) -> impl Iterator<Item = usize> + 'a {
        self.iter().map(|o| o as usize)
    }
}

/// A block of little-endian `u64`s, read where it lies.
#[derive(Clone, Copy)]
struct U64s<'a>(&'a [u8]);

impl U64s<'_> {
    fn get(self, i: usize) -> Option<u64> {
        let at = i.checked_mul(8)?;
        let b = self.0.get(at..at.checked_add(8)?)?;
        Some(u64::from_le_bytes([
            b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7],
        ]))
    }

    fn last(self) -> Option<u64> {
        self.get((self.0.len() / 8).checked_sub(1)?)
    }
}

/// Writes what [`Blocks`] reads.
#[derive(Default)]
struct BlockWriter(Vec<u8>);

impl BlockWriter {
    fn bytes(&mut self, b: &[u8]) -> std::io::Result<()> {
        let len = u32::try_from(b.len()).map_err(|_| std::io::ErrorKind::FileTooLarge)?;
        self.0.extend_from_slice(&len.to_le_bytes());
        self.0.extend_from_slice(b);
        Ok(())
    }

    fn u32s(&mut self, items: impl IntoIterator<Item = usize>) -> std::io::Result<()> {
        let mut b = Vec::new();
        for n in items {
            let n = u32::try_from(n).map_err(|_| std::io::ErrorKind::FileTooLarge)?;
            b.extend_from_slice(&n.to_le_bytes());
        }
        self.bytes(&b)
    }

    fn u64s(&mut self, items: &[u64]) -> std::io::Result<()> {
        let b: Vec<u8> = items.iter().flat_map(|n| n.to_le_bytes()).collect();
        self.bytes(&b)
    }
}

impl<'a> CheckSection<'a> {
    fn decode(section: &'a [u8]) -> Option<CheckSection<'a>> {
        let mut b = Blocks(section);
        Some(CheckSection {
            hosts: serde_json::from_slice(b.bytes()?).ok()?,
            clients: serde_json::from_slice(b.bytes()?).ok()?,
            problems: serde_json::from_slice(b.bytes()?).ok()?,
            offsets: b.u64s()?,
            always: b.u32s()?,
            tagged: b.u32s()?,
            inactive: b.u32s()?,
            operation: b.u32s()?,
            scope_of: b.u32s()?,
            scope_ends: b.u32s()?,
            scopes: b.bytes()?,
            anchors: AnchorTable::decode(&mut b)?,
        })
    }

    /// The patterns `check` needs for `haystacks` (see [`Need::Check`]).
    fn load(
        self,
        file: &File,
        blobs_start: u64,
        haystacks: &[String],
        targets: &[Option<&str>],
    ) -> Option<(PatternIndex, Vec<String>)> {
        if !is_whole(file, blobs_start, self.offsets.last()) {
            return None;
        }
        let offset = |o: usize| self.offsets.get(o);
        let mut wanted: Vec<usize> = self.always.ords().collect();
        let tagged: Vec<usize> = self.tagged.ords().collect();
        // Code that may run elsewhere, or a directive that may name another target: every
        // pattern may count there.
        let (hit, elsewhere) = self.anchors.found(haystacks, crate::script::CHANGES_HOST)?;
        for (e, _) in hit.iter().enumerate().filter(|(_, &h)| h) {
            wanted.extend(self.anchors.ords(e)?.ords());
        }
        let alone = !elsewhere && !haystacks.iter().any(|h| h.contains("forewarn"));
        if alone && !targets.is_empty() {
            let known = PatternIndex::build(
                read_patterns(file, blobs_start, &offset, &tagged)?,
                self.hosts.clone(),
                self.clients.clone(),
            );
            let targets: Option<Vec<Target>> =
                targets.iter().map(|t| known.target((*t)?)).collect();
            if let Some(targets) = targets {
                let keep = self.applicable(&targets, &wanted)?;
                let mut keep = keep.into_iter();
                wanted.retain(|_| keep.next().unwrap_or(true));
            }
        }
        // One operation pattern whatever the text: the engine classifies commands only when
        // the index has some, and a classified command resolves its target like one with
        // candidates (see `command_anchors`), so the small index must have some too.
        wanted.extend(self.operation.ords());
        wanted.extend(tagged);
        wanted.sort_unstable();
        wanted.dedup();
        let patterns = read_patterns(file, blobs_start, &offset, &wanted)?;
        Some((
            PatternIndex::build(patterns, self.hosts, self.clients),
            self.problems,
        ))
    }

    /// Whether each of `ords` is active and applies on one of `targets`, asked of
    /// [`Target::applies`] once per scope met.
    fn applicable(&self, targets: &[Target], ords: &[usize]) -> Option<Vec<bool>> {
        let mut inactive = vec![false; self.scope_of.len()];
        for o in self.inactive.ords() {
            *inactive.get_mut(o)? = true;
        }
        let mut known: Vec<Option<bool>> = vec![None; self.scope_ends.len()];
        let mut probe = Pattern::new("", PatternType::CommandCompatibility, "", "");
        let mut keep = Vec::with_capacity(ords.len());
        for &o in ords {
            let s = self.scope_of.get(o)? as usize;
            let applies = match *known.get(s)? {
                Some(a) => a,
                None => {
                    let start = match s {
                        0 => 0,
                        _ => self.scope_ends.get(s - 1)? as usize,
                    };
                    let scope = self.scopes.get(start..self.scope_ends.get(s)? as usize)?;
                    (
                        probe.affected_systems,
                        probe.infrastructure_id,
                        probe.client_id,
                    ) = serde_json::from_slice(scope).ok()?;
                    let a = targets.iter().any(|t| t.applies(&probe));
                    known[s] = Some(a);
                    a
                }
            };
            keep.push(applies && !*inactive.get(o)?);
        }
        Some(keep)
    }
}

/// The stable hash of the anchor tables (FNV-1a): the writer and every reader must agree, and a
/// word's prefixes are hashed on the way to the whole word.
const HASH_START: u32 = 0x811c_9dc5;

fn hash_step(h: u32, b: u8) -> u32 {
    (h ^ u32::from(b)).wrapping_mul(0x0100_0193)
}

fn anchor_hash(text: &[u8]) -> u32 {
    text.iter().fold(HASH_START, |h, &b| hash_step(h, b))
}

/// The anchors of a cache, for [`Need::Check`]: those made of name characters in two
/// open-addressing hash tables (whole words, and starts of words), the few others searched for
/// with a small automaton. An entry is an anchor text with its pattern ordinals (an anchor that
/// is a pattern's and an operation class's name has one entry).
struct AnchorTable<'a> {
    hashes: U32s<'a>,
    /// Entry `e`'s text ends at `text_ends[e]` in `texts` (and starts where `e - 1`'s ends).
    text_ends: U32s<'a>,
    texts: &'a [u8],
    ord_ends: U32s<'a>,
    ords: U32s<'a>,
    /// Slots (a power of two of them) holding entry + 1, 0 when empty.
    words: U32s<'a>,
    starts: U32s<'a>,
    /// The lengths of the start anchors, ascending.
    start_lens: U32s<'a>,
    /// Pairs: entry, and its [`Bound`] as a number.
    others: U32s<'a>,
}

impl<'a> AnchorTable<'a> {
    fn decode(b: &mut Blocks<'a>) -> Option<AnchorTable<'a>> {
        let t = AnchorTable {
            hashes: b.u32s()?,
            text_ends: b.u32s()?,
            texts: b.bytes()?,
            ord_ends: b.u32s()?,
            ords: b.u32s()?,
            words: b.u32s()?,
            starts: b.u32s()?,
            start_lens: b.u32s()?,
            others: b.u32s()?,
        };
        let sized = |slots: U32s| slots.len() == 0 || slots.len().is_power_of_two();
        let n = t.hashes.len();
        (t.text_ends.len() == n && t.ord_ends.len() == n && sized(t.words) && sized(t.starts))
            .then_some(t)
    }

    fn span(ends: U32s, e: usize) -> Option<std::ops::Range<usize>> {
        let start = match e {
            0 => 0,
            _ => ends.get(e - 1)? as usize,
        };
        Some(start..ends.get(e)? as usize)
    }

    fn text(&self, e: usize) -> Option<&'a [u8]> {
        self.texts.get(Self::span(self.text_ends, e)?)
    }

    fn ords(&self, e: usize) -> Option<U32s<'a>> {
        self.ords.slice(Self::span(self.ord_ends, e)?)
    }

    /// The entry of `slots` whose text is `word` (hashed `h`).
    fn probe(&self, slots: U32s, h: u32, word: &[u8]) -> Option<usize> {
        let mask = slots.len().wrapping_sub(1);
        let mut i = h as usize & mask;
        for _ in 0..slots.len() {
            let e = (slots.get(i)? as usize).checked_sub(1)?;
            if self.hashes.get(e) == Some(h) && self.text(e) == Some(word) {
                return Some(e);
            }
            i = (i + 1) & mask;
        }
        None
    }

    /// Which entries stand where their bound requires in some haystack, and whether one of
    /// `names` is a word of one. A large search is split in two halves (each haystack cut at a
    /// line end near its middle), searched at once.
    fn found(&self, haystacks: &[String], names: &[&str]) -> Option<(Vec<bool>, bool)> {
        let search = Search::new(self, names)?;
        let mut halves = (Vec::new(), Vec::new());
        for hay in haystacks {
            let b = hay.as_bytes();
            // The second half is the calling thread's, which builds the automaton first.
            let mid = b.len() / 20 * 11;
            let mid = b[mid..]
                .iter()
                .position(|&c| c == b'\n')
                .map_or(b.len(), |n| mid + n);
            halves.0.push((b, 0..mid));
            halves.1.push((b, mid..b.len()));
        }
        let run = |ranges: &[(&[u8], std::ops::Range<usize>)]| -> Option<(Vec<bool>, bool)> {
            let mut hit = vec![false; self.hashes.len()];
            let mut named = false;
            for (hay, range) in ranges {
                search.run(hay, range.clone(), &mut hit, &mut named);
            }
            Some((hit, named))
        };
        let bytes: usize = haystacks.iter().map(String::len).sum();
        if bytes < PARALLEL_SEARCH_FROM {
            halves.0.append(&mut halves.1);
            return run(&halves.0);
        }
        let (first, second) = std::thread::scope(|s| {
            let first = s.spawn(|| run(&halves.0));
            // Built while the other thread looks up its words.
            search.automaton();
            let second = run(&halves.1);
            (first.join().ok().flatten(), second)
        });
        let (mut hit, named) = first?;
        let (more, also_named) = second?;
        for (h, m) in hit.iter_mut().zip(more) {
            *h |= m;
        }
        Some((hit, named || also_named))
    }
}

/// From this many bytes of haystack on, [`AnchorTable::found`] searches on two threads.
const PARALLEL_SEARCH_FROM: usize = 128 * 1024;

/// What [`AnchorTable::found`] looks up, ready to search any part of a haystack.
struct Search<'t, 'a> {
    table: &'t AnchorTable<'a>,
    /// Names searched for besides the anchors, with their hashes.
    names: Vec<(u32, &'t [u8])>,
    /// Bit `h % 64` of a name's hash: most words are no name without a comparison.
    name_bits: u64,
    min_start: usize,
    is_start_len: Vec<bool>,
    /// The first bytes of the anchors (and names): a word that starts otherwise is no anchor
    /// and is not hashed.
    first: [bool; 256],
    start_first: [bool; 256],
    /// The anchors that are not all name characters, each with its bound and entry, found by
    /// an automaton (built once, by the first thread that needs it); the longest is `longest`
    /// bytes.
    others: Vec<(&'a [u8], Bound, usize)>,
    ac: std::sync::OnceLock<Option<aho_corasick::AhoCorasick>>,
    longest: usize,
}

impl<'t, 'a> Search<'t, 'a> {
    fn new(table: &'t AnchorTable<'a>, names: &'t [&'t str]) -> Option<Search<'t, 'a>> {
        let names: Vec<(u32, &[u8])> = names
            .iter()
            .map(|n| (anchor_hash(n.as_bytes()), n.as_bytes()))
            .collect();
        let name_bits = names.iter().fold(0u64, |m, (h, _)| m | 1 << (h % 64));
        let max_start = table.start_lens.iter().max().map_or(0, |l| l as usize);
        let min_start = table
            .start_lens
            .iter()
            .min()
            .map_or(usize::MAX, |l| l as usize);
        let mut is_start_len = vec![false; max_start + 1];
        for l in table.start_lens.iter() {
            *is_start_len.get_mut(l as usize)? = true;
        }
        let mut first = [false; 256];
        let mut start_first = [false; 256];
        for (slots, lead) in [(table.words, &mut first), (table.starts, &mut start_first)] {
            for slot in slots.iter().filter(|&s| s != 0) {
                if let Some(&b) = table.text(slot as usize - 1).and_then(<[u8]>::first) {
                    lead[usize::from(b)] = true;
                }
            }
        }
        for (_, name) in &names {
            if let Some(&b) = name.first() {
                first[usize::from(b)] = true;
            }
        }
        let pairs: Vec<u32> = table.others.iter().collect();
        let mut others = Vec::with_capacity(pairs.len() / 2);
        for pair in pairs.chunks_exact(2) {
            let e = pair[0] as usize;
            let bound = [Bound::Anywhere, Bound::Start, Bound::Word]
                .get(pair[1] as usize)
                .copied()?;
            others.push((table.text(e)?, bound, e));
        }
        let longest = others.iter().map(|(a, _, _)| a.len()).max().unwrap_or(0);
        Some(Search {
            table,
            names,
            name_bits,
            min_start,
            is_start_len,
            first,
            start_first,
            others,
            ac: std::sync::OnceLock::new(),
            longest,
        })
    }

    /// The automaton of the other anchors (`None` when there are none, or it cannot be built:
    /// then every pattern with such an anchor is loaded).
    fn automaton(&self) -> Option<&aho_corasick::AhoCorasick> {
        self.ac
            .get_or_init(|| match self.others.is_empty() {
                true => None,
                false => aho_corasick::AhoCorasick::new(self.others.iter().map(|(a, _, _)| a)).ok(),
            })
            .as_ref()
    }

    /// Marks in `hit` the entries that stand in `b[range]` (a match of the automaton counts
    /// where it starts), and sets `named` when a name is a word there. `range` starts and ends
    /// at a line end or at an end of `b`: no word crosses it.
    fn run(&self, b: &[u8], range: std::ops::Range<usize>, hit: &mut [bool], named: &mut bool) {
        let t = self.table;
        let Some(part) = b.get(range.clone()) else {
            return;
        };
        for std::ops::Range { start, end } in word_ranges(part, is_name_byte) {
            let word = &part[start..end];
            let lead = usize::from(part[start]);
            let h = if self.start_first[lead] && word.len() >= self.min_start {
                // Each prefix of a start anchor's length is looked up on the way.
                let mut h = HASH_START;
                for (n, &c) in word.iter().enumerate() {
                    h = hash_step(h, c);
                    if self.is_start_len.get(n + 1) == Some(&true) {
                        if let Some(e) = t.probe(t.starts, h, &word[..=n]) {
                            hit[e] = true;
                        }
                    }
                }
                h
            } else if self.first[lead] {
                anchor_hash(word)
            } else {
                continue;
            };
            if let Some(e) = t.probe(t.words, h, word) {
                hit[e] = true;
            }
            if self.name_bits & (1 << (h % 64)) != 0 {
                *named |= self.names.contains(&(h, word));
            }
        }
        if self.others.is_empty() {
            return;
        }
        let Some(ac) = self.automaton() else {
            for &(_, _, e) in &self.others {
                hit[e] = true;
            }
            return;
        };
        // Matches that start in the range, whatever follows it.
        let end = range.end.saturating_add(self.longest).min(b.len());
        let input = aho_corasick::Input::new(b).range(range.start..end);
        for m in ac.find_overlapping_iter(input) {
            if m.start() >= range.end {
                continue;
            }
            let (_, bound, e) = self.others[m.pattern().as_usize()];
            let starts =
                bound == Bound::Anywhere || m.start() == 0 || !is_name_byte(b[m.start() - 1]);
            let ends = bound != Bound::Word || b.get(m.end()).is_none_or(|&c| !is_name_byte(c));
            if starts && ends {
                hit[e] = true;
            }
        }
    }
}

/// Writes the [`CheckSection`] of a cache: `anchors` are those of the triggering commands and
/// of the operation classes' command names, each with its pattern ordinals.
#[allow(clippy::too_many_arguments)]
fn write_check_section(
    index: &PatternIndex,
    problems: &[Problem],
    offsets: &[u64],
    always: &[usize],
    tagged: &[usize],
    inactive: &[usize],
    operation: Option<usize>,
    scopes: &BTreeMap<String, Vec<usize>>,
    anchors: &BTreeMap<(String, Bound), Vec<usize>>,
) -> std::io::Result<Vec<u8>> {
    let mut w = BlockWriter::default();
    w.bytes(serde_json::to_string(index.hosts())?.as_bytes())?;
    w.bytes(serde_json::to_string(index.clients())?.as_bytes())?;
    let problems: Vec<String> = problems.iter().map(ToString::to_string).collect();
    w.bytes(serde_json::to_string(&problems)?.as_bytes())?;
    w.u64s(offsets)?;
    w.u32s(always.iter().copied())?;
    w.u32s(tagged.iter().copied())?;
    w.u32s(inactive.iter().copied())?;
    w.u32s(operation)?;
    let mut scope_of = vec![0; index.patterns().len()];
    let (mut scope_ends, mut scope_texts) = (Vec::new(), Vec::new());
    for (s, (scope, ords)) in scopes.iter().enumerate() {
        for &o in ords {
            scope_of[o] = s;
        }
        scope_texts.extend_from_slice(scope.as_bytes());
        scope_ends.push(scope_texts.len());
    }
    w.u32s(scope_of)?;
    w.u32s(scope_ends)?;
    w.bytes(&scope_texts)?;

    let (mut hashes, mut text_ends, mut texts) = (Vec::new(), Vec::new(), Vec::new());
    let (mut ord_ends, mut ords) = (Vec::new(), Vec::new());
    let (mut words, mut starts, mut start_lens, mut others) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for (e, ((text, bound), list)) in anchors.iter().enumerate() {
        hashes.push(anchor_hash(text.as_bytes()) as usize);
        texts.extend_from_slice(text.as_bytes());
        text_ends.push(texts.len());
        ords.extend_from_slice(list);
        ord_ends.push(ords.len());
        let named = !text.is_empty() && text.bytes().all(is_name_byte);
        match bound {
            Bound::Word if named => words.push(e),
            Bound::Start if named => {
                starts.push(e);
                start_lens.push(text.len());
            }
            _ => others.extend([e, *bound as usize]),
        }
    }
    start_lens.sort_unstable();
    start_lens.dedup();
    let table = |entries: &[usize]| -> Vec<usize> {
        if entries.is_empty() {
            return Vec::new();
        }
        // At most half full: a miss (most words) ends at an empty slot soon.
        let mut slots = vec![0; (entries.len() * 2).next_power_of_two()];
        let mask = slots.len() - 1;
        for &e in entries {
            let mut i = hashes[e] & mask;
            while slots[i] != 0 {
                i = (i + 1) & mask;
            }
            slots[i] = e + 1;
        }
        slots
    };
    let (words, starts) = (table(&words), table(&starts));
    for list in [hashes, text_ends] {
        w.u32s(list)?;
    }
    w.bytes(&texts)?;
    w.u32s(ord_ends)?;
    w.u32s(ords)?;
    w.u32s(words)?;
    w.u32s(starts)?;
    w.u32s(start_lens)?;
    w.u32s(others)?;
    Ok(w.0)
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

/// Whether `file` ends where its last pattern line does: a file cut short (a torn write, a full
/// disk) is damaged even where the lines a reader wants are still there.
fn is_whole(file: &File, blobs_start: u64, blobs_len: Option<u64>) -> bool {
    let end = blobs_len.and_then(|len| blobs_start.checked_add(len));
    end.is_some() && file.metadata().is_ok_and(|m| Some(m.len()) == end)
}

/// The pattern lines `wanted` (sorted ordinals) of the cache `file`, decoded, in order. Each is
/// read on its own (or with close neighbours): a `check` that wants a quarter of a 9 MB cache
/// would spend more copying all of it than reading its lines one by one.
fn read_patterns(
    file: &File,
    blobs_start: u64,
    offset: &(dyn Fn(usize) -> Option<u64> + Sync),
    wanted: &[usize],
) -> Option<Vec<Pattern>> {
    let read = |ords: &[usize]| -> Option<Vec<Pattern>> {
        let mut patterns = Vec::with_capacity(ords.len());
        let mut buf = Vec::new();
        let mut i = 0;
        while i < ords.len() {
            // A run of lines read at once: from this one to the last that follows closely.
            let first = offset(ords[i])?;
            let mut j = i + 1;
            while j < ords.len()
                && offset(ords[j])?.saturating_sub(offset(ords[j - 1] + 1)?) <= READ_GAP
            {
                j += 1;
            }
            let end = offset(ords[j - 1] + 1)?;
            buf.resize(usize::try_from(end.checked_sub(first)?).ok()?, 0);
            read_exact_at(file, &mut buf, blobs_start.checked_add(first)?).ok()?;
            for &ord in &ords[i..j] {
                let start = usize::try_from(offset(ord)?.checked_sub(first)?).ok()?;
                let end = usize::try_from(offset(ord + 1)?.checked_sub(first)?).ok()?;
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
    parsed_haystack(command, &crate::script::parse(command, language))
}

/// [`command_haystack`] of a command already parsed (`parsed`).
pub fn parsed_haystack(command: &str, parsed: &Parsed) -> (String, Vec<&'static str>) {
    let mut hay = command.to_lowercase();
    let mut ops = Vec::new();
    for c in &parsed.commands {
        hay.push('\n');
        hay.push_str(&c.name.to_lowercase());
        hay.push('\n');
        hay.push_str(&c.text.to_lowercase());
        ops.extend(crate::engine::operations::classify(c));
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

/// Whether [`script_haystack`] must parse the whole of `text` (`lower`, lowercased): a large
/// script that does is better checked against the whole store (a parse of half a megabyte of
/// PowerShell takes a quarter of a second; the engine parses only the statements that may
/// matter).
fn parses_large(text: &str, lower: &str, language: Language) -> bool {
    text.len() >= 64 * 1024 && !is_plain(lower, language)
}

/// [`script_haystack`] in parts (the text, and its lines that lose quotes or escapes, rather
/// than one copy of both: the anchors are searched for in each), or `None` for a large script
/// that only a whole parse would show the names of (`parses_large`).
pub fn check_haystack(text: &str, language: Language) -> Option<Vec<String>> {
    let lower = text.to_lowercase();
    (!parses_large(text, &lower, language)).then(|| haystack_parts(text, lower, language))
}

/// The text a script's patterns must have an anchor in, for [`Need::Check`]. A bash script
/// names its commands with words of its own text, or of strings it hands to a shell (`bash -c`,
/// `ssh`, `eval`), which differ from the text only by quotes and escapes: the text, and the text
/// without them, hold every name. Anything else (PowerShell with its aliases and encoded
/// commands, batch, bash that runs PowerShell or uses `$'…'` escapes) is parsed as the hook
/// parses a command, so the haystack holds the names the engine will see.
pub fn script_haystack(text: &str, language: Language) -> String {
    haystack_parts(text, text.to_lowercase(), language).join("\n")
}

/// Bytes a bash haystack leaves out (quotes, escapes, carriage returns), and line ends.
static STRIPPED_OR_LINE_END: [bool; 256] = {
    let mut table = [false; 256];
    let special = b"'\"\\`^\r\n";
    let mut i = 0;
    while i < special.len() {
        table[special[i] as usize] = true;
        i += 1;
    }
    table
};

/// [`script_haystack`]'s parts: `lower` (the lowercased `text`), then, for bash, its lines that
/// lose something without their quotes and escapes.
fn haystack_parts(text: &str, lower: String, language: Language) -> Vec<String> {
    if !is_plain(&lower, language) {
        return vec![command_haystack(text, language).0];
    }
    let special = |c: u8| STRIPPED_OR_LINE_END[usize::from(c)];
    if !lower.bytes().any(|c| c != b'\n' && special(c)) {
        return vec![lower];
    }
    // Quotes and escapes go, so `p''ython` and `py\thon` show their names as whole words; a
    // line continuation goes as a whole (`too\⏎l1` runs `tool1`), other line ends stay, so
    // that the last word of a line is not glued to the first of the next. A line that loses
    // nothing is already in the text: it is not repeated (nor copied until it loses a byte).
    let b = lower.as_bytes();
    let mut hay = Vec::with_capacity(b.len() / 2);
    // Where the current line starts in `b`, and whether it lost something (it is being copied).
    let (mut line, mut changed) = (0, false);
    let mut i = 0;
    loop {
        let Some(n) = b[i..].iter().position(|&c| special(c)) else {
            if changed {
                hay.extend_from_slice(&b[i..]);
            }
            break;
        };
        let j = i + n;
        if b[j] == b'\n' {
            if changed {
                hay.extend_from_slice(&b[i..=j]);
            }
            (line, changed, i) = (j + 1, false, j + 1);
            continue;
        }
        if changed {
            hay.extend_from_slice(&b[i..j]);
        } else {
            hay.extend_from_slice(&b[line..j]);
            changed = true;
        }
        i = match (b.get(j + 1), b.get(j + 2)) {
            _ if b[j] != b'\\' => j + 1,
            (Some(b'\n'), _) => j + 2,
            (Some(b'\r'), Some(b'\n')) => j + 3,
            (Some(b'\\'), _) => {
                hay.push(b'\\');
                j + 2
            }
            _ => j + 1,
        };
    }
    // Only ASCII bytes were left out: the rest is still UTF-8.
    match String::from_utf8(hay) {
        Ok(lines) => vec![lower, lines],
        Err(_) => vec![lower],
    }
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
    for p in problems {
        header.push_str(&format!("P {}\n", escape(&p.to_string())));
    }
    for ((a, bound), ords) in &before {
        header.push_str(&format!("{}{}\t{}\n", bound.tag(), escape(a), join(ords)));
    }
    // An operation class is a set of command names (`operations::classify` goes by the
    // name first): `check` loads a class's patterns where one of its names is a word.
    let mut check_anchors = before.clone();
    for (op, ords) in &by_op {
        header.push_str(&format!("O {}\t{}\n", escape(op), join(ords)));
        for name in crate::engine::operations::command_names_of(op) {
            check_anchors
                .entry((name.to_lowercase(), Bound::Word))
                .or_default()
                .extend(ords);
        }
    }
    for ords in check_anchors.values_mut() {
        ords.sort_unstable();
        ords.dedup();
    }
    let check = write_check_section(
        index,
        problems,
        &offsets,
        &before_always,
        &tagged,
        &inactive,
        by_op.values().find_map(|ords| ords.first().copied()),
        &scopes,
        &check_anchors,
    )?;
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
            "{MAGIC} {FORMAT} {} {} {} {key}",
            header.len(),
            error_lines.len(),
            check.len()
        )?;
        f.write_all(header.as_bytes())?;
        f.write_all(error_lines.as_bytes())?;
        f.write_all(&check)?;
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

    /// The bash haystack as first written, byte by byte: what the faster one must equal.
    fn haystack_byte_by_byte(lower: &str) -> String {
        let stripped = |b: u8| matches!(b, b'\'' | b'"' | b'\\' | b'`' | b'^' | b'\r');
        if !lower.bytes().any(stripped) {
            return lower.to_string();
        }
        let b = lower.as_bytes();
        let mut hay = b.to_vec();
        hay.push(b'\n');
        let (mut line, mut changed) = (hay.len(), false);
        let mut i = 0;
        while i < b.len() {
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
                    i += 1;
                    if !stripped(c) {
                        hay.push(c);
                        continue;
                    }
                }
            }
            changed = true;
        }
        if !changed {
            hay.truncate(line);
        }
        String::from_utf8(hay).unwrap()
    }

    #[test]
    fn the_bash_haystack_is_the_byte_by_byte_one() {
        // Every string of up to five of these pieces: each escape and line end next to each
        // other, at the start, the end and inside words.
        let pieces = [
            "a", "bc", "'", "\"", "\\", "\n", "\r", "\\\n", "\\\r\n", "\\\\", "`", "^", " ", "é",
        ];
        let mut texts = vec![String::new()];
        let mut all = Vec::new();
        for _ in 0..5 {
            let mut longer = Vec::new();
            for t in &texts {
                for p in pieces {
                    longer.push(format!("{t}{p}"));
                }
            }
            all.extend(texts);
            texts = longer;
        }
        all.extend(texts);
        for text in &all {
            assert_eq!(
                script_haystack(text, Language::Bash),
                haystack_byte_by_byte(text),
                "{text:?}"
            );
        }
        let big = crate::synthetic::bash_script(300, 300, 3);
        assert_eq!(
            script_haystack(&big, Language::Bash),
            haystack_byte_by_byte(&big.to_lowercase())
        );
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
        let row = serde_json::json!({"id": crate::store::test_uid("stored"), "pattern_type": "command_compatibility",
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
        other
            .record_occurrence(&crate::store::test_uid("stored"), Some("web1"))
            .unwrap();
        assert!(
            after(&store).is_some(),
            "a recorded occurrence invalidated it"
        );
        // ...a change to the knowledge does not.
        let row = serde_json::json!({"id": crate::store::test_uid("new"), "pattern_type": "command_compatibility",
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
    fn a_damaged_cache_is_a_miss_and_an_older_format_a_quiet_one() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("p.db");
        let patterns = crate::synthetic::patterns(300, 5);
        let script = crate::synthetic::bash_script(200, 300, 6);
        let index = PatternIndex::build(patterns, vec![], vec![]);
        write(&path, "9", &index, &[]).unwrap();
        let hay = [script_haystack(&script, Language::Bash)];
        let targets = [Some("debian-12")];
        let need = Need::Check {
            haystacks: &hay,
            targets: &targets,
        };
        let whole = std::fs::read(path_for(&path)).unwrap();
        let ids = || -> Result<Vec<String>, Miss> {
            let (small, _) = read(&path, "9", &need)?;
            Ok(small.patterns().iter().map(|p| p.id.clone()).collect())
        };
        let good = ids().unwrap();
        assert!(!good.is_empty());
        let line_end = whole.iter().position(|&b| b == b'\n').unwrap();
        let head = String::from_utf8(whole[..line_end].to_vec()).unwrap();
        let lens: Vec<usize> = head
            .split(' ')
            .skip(2)
            .take(3)
            .map(|n| n.parse().unwrap())
            .collect();
        let section = line_end + 1 + lens[0] + lens[1];
        let blobs = section + lens[2];

        // Cut anywhere in the section or the patterns: a miss that says so, never a panic.
        for cut in (section..whole.len()).step_by(4099) {
            std::fs::write(path_for(&path), &whole[..cut]).unwrap();
            assert_eq!(ids(), Err(Miss::Damaged), "cut at {cut}");
            let hook = Need::Before {
                haystack: "tool1 x",
                ops: &[],
            };
            assert!(read(&path, "9", &hook).is_err_and(|m| m == Miss::Damaged));
        }
        // Bytes changed in the section: whatever it decodes to, it does not panic.
        for at in (section..blobs).step_by(101) {
            let mut bad = whole.clone();
            bad[at] ^= 0xA5;
            std::fs::write(path_for(&path), &bad).unwrap();
            let _ = ids();
        }
        // Another format or another version is a plain miss.
        let older = head.replacen(&format!(" {FORMAT} "), " 5 ", 1);
        let mut old = older.into_bytes();
        old.extend_from_slice(&whole[line_end..]);
        std::fs::write(path_for(&path), &old).unwrap();
        assert_eq!(ids(), Err(Miss::Stale));
        std::fs::write(path_for(&path), &whole).unwrap();
        assert_eq!(ids().unwrap(), good);
        assert!(read(&path, "10", &need).is_err_and(|m| m == Miss::Stale));
    }

    #[test]
    fn a_large_search_in_two_halves_finds_what_one_pass_finds() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("p.db");
        let index = PatternIndex::build(crate::synthetic::patterns(3000, 7), vec![], vec![]);
        write(&path, "1", &index, &[]).unwrap();
        let whole = std::fs::read(path_for(&path)).unwrap();
        let line_end = whole.iter().position(|&b| b == b'\n').unwrap();
        let head = String::from_utf8(whole[..line_end].to_vec()).unwrap();
        let lens: Vec<usize> = head
            .split(' ')
            .skip(2)
            .take(3)
            .map(|n| n.parse().unwrap())
            .collect();
        let start = line_end + 1 + lens[0] + lens[1];
        let section = CheckSection::decode(&whole[start..start + lens[2]]).unwrap();
        let script = crate::synthetic::bash_script(6000, 3000, 8);
        let haystacks = check_haystack(&script, Language::Bash).unwrap();
        assert!(haystacks.iter().map(String::len).sum::<usize>() >= PARALLEL_SEARCH_FROM);
        let names = ["tool17", "kubectl", "docker"];
        let (halves, named) = section.anchors.found(&haystacks, &names).unwrap();
        let search = Search::new(&section.anchors, &names).unwrap();
        let mut one_pass = vec![false; halves.len()];
        let mut one_named = false;
        for hay in &haystacks {
            search.run(hay.as_bytes(), 0..hay.len(), &mut one_pass, &mut one_named);
        }
        assert_eq!(halves, one_pass);
        assert_eq!(named, one_named);
        assert!(halves.iter().filter(|&&h| h).count() > 100);
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
