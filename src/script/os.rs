//! Operating-system detection in scripts: which OS families a branch can run on.
//!
//! Portable scripts pick their commands by asking the system what it is (`if [ "$(uname)" =
//! Darwin ]; then sysctl -n hw.ncpu; else nproc; fi`, `case $OSTYPE in darwin*) …`). The walks
//! read those conditions when they are static — a probe (`$(uname)`, `$(uname -s)`,
//! `` `uname` ``, `$(uname -o)`, `$OSTYPE`) compared with a literal or a glob — and give every
//! command the [`OsSet`] of families it can run on ([`super::Command::os`]). The engine then drops
//! the patterns whose systems all lie outside that set.
//!
//! A comparison is decided against what each family's systems really answer (sample values per
//! probe, several releases and flavours each): a family is *possible* when one of its values
//! matches, *certain* when all do. The branch taken when the comparison succeeds runs on the
//! possible families; the other one on every family but the certain ones. A value no known
//! family gives (`SunOS`, a typo) stands for [`OsSet::OTHER`]. `$OSTYPE` is read as bash and zsh
//! set it (dash and BusyBox `sh` leave it empty; a script that tests it expects a shell that
//! sets it).
//!
//! Conditions combine as [`OsSplit::and`], [`OsSplit::or`] and [`OsSplit::negated`] say, inside
//! one test too. A check at the top level that ends the script when it fails is an [`Ending`]:
//! it holds for all the code after it, in whatever pieces the document is parsed.

use std::ops::{BitAnd, BitOr, Not};

/// A set of operating-system families, as bits. [`OsSet::ANY`] is every family: nothing known.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct OsSet(u8);

impl OsSet {
    pub const NONE: OsSet = OsSet(0);
    pub const LINUX: OsSet = OsSet(1);
    pub const DARWIN: OsSet = OsSet(1 << 1);
    pub const FREEBSD: OsSet = OsSet(1 << 2);
    pub const OPENBSD: OsSet = OsSet(1 << 3);
    pub const NETBSD: OsSet = OsSet(1 << 4);
    /// Windows, also under MSYS2, Git Bash, MinGW and Cygwin.
    pub const WINDOWS: OsSet = OsSet(1 << 5);
    /// Any system none of the others names (Solaris, AIX, Haiku, GNU Hurd, …).
    pub const OTHER: OsSet = OsSet(1 << 6);
    pub const ANY: OsSet = OsSet((1 << 7) - 1);

    /// Each family with its name, for messages and tests.
    pub const FAMILIES: [(OsSet, &'static str); 7] = [
        (OsSet::LINUX, "linux"),
        (OsSet::DARWIN, "darwin"),
        (OsSet::FREEBSD, "freebsd"),
        (OsSet::OPENBSD, "openbsd"),
        (OsSet::NETBSD, "netbsd"),
        (OsSet::WINDOWS, "windows"),
        (OsSet::OTHER, "other"),
    ];

    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    pub fn is_any(self) -> bool {
        self == OsSet::ANY
    }

    /// Whether the two sets share a family.
    pub fn meets(self, other: OsSet) -> bool {
        self.0 & other.0 != 0
    }

    /// The names of the families in the set.
    pub fn names(self) -> Vec<&'static str> {
        OsSet::FAMILIES
            .iter()
            .filter(|(f, _)| self.meets(*f))
            .map(|(_, n)| *n)
            .collect()
    }
}

impl Default for OsSet {
    fn default() -> OsSet {
        OsSet::ANY
    }
}

impl BitAnd for OsSet {
    type Output = OsSet;
    fn bitand(self, rhs: OsSet) -> OsSet {
        OsSet(self.0 & rhs.0)
    }
}

impl BitOr for OsSet {
    type Output = OsSet;
    fn bitor(self, rhs: OsSet) -> OsSet {
        OsSet(self.0 | rhs.0)
    }
}

impl Not for OsSet {
    type Output = OsSet;
    fn not(self) -> OsSet {
        OsSet(!self.0 & OsSet::ANY.0)
    }
}

/// What a condition proves about the OS: the families on which it can succeed, and those on
/// which it can fail. Both [`OsSet::ANY`] when it says nothing.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct OsSplit {
    pub if_true: OsSet,
    pub if_false: OsSet,
}

impl OsSplit {
    pub fn negated(self) -> OsSplit {
        OsSplit {
            if_true: self.if_false,
            if_false: self.if_true,
        }
    }

    /// `a && b`: both succeeded, or one of them failed (the second only after the first
    /// succeeded).
    pub fn and(self, b: OsSplit) -> OsSplit {
        OsSplit {
            if_true: self.if_true & b.if_true,
            if_false: self.if_false | (self.if_true & b.if_false),
        }
    }

    /// `a || b`: one of them succeeded (the second only after the first failed), or both
    /// failed.
    pub fn or(self, b: OsSplit) -> OsSplit {
        OsSplit {
            if_true: self.if_true | (self.if_false & b.if_true),
            if_false: self.if_false & b.if_false,
        }
    }
}

/// What a script asks the system to learn what it is, and whether it lowercases the answer
/// (`$(uname -s | tr '[:upper:]' '[:lower:]')`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Probe {
    pub asks: Asks,
    pub lowercased: bool,
}

/// The question a [`Probe`] asks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Asks {
    /// `uname`, `uname -s`: the kernel name (`Linux`, `Darwin`, `MINGW64_NT-10.0-19045`).
    Kernel,
    /// `uname -o`: the operating system (`GNU/Linux`, `Darwin`, `Msys`).
    Os,
    /// bash's `$OSTYPE` (`linux-gnu`, `darwin23.0`, `msys`).
    OsType,
}

impl Probe {
    /// The probe a shell word reads, if it reads one: `"$(uname)"`, `` `uname -s` ``,
    /// `$(uname -o)`, `$OSTYPE`, `"${OSTYPE}"`, `$(uname | tr '[:upper:]' '[:lower:]')` (not a
    /// variable set elsewhere, not `${OSTYPE%%-*}`).
    pub fn of_word(word: &str) -> Option<Probe> {
        let w = word.trim();
        let w = w
            .strip_prefix('"')
            .and_then(|w| w.strip_suffix('"'))
            .unwrap_or(w);
        if matches!(w, "$OSTYPE" | "${OSTYPE}") {
            return Some(Probe {
                asks: Asks::OsType,
                lowercased: false,
            });
        }
        let inner = w
            .strip_prefix("$(")
            .and_then(|w| w.strip_suffix(')'))
            .or_else(|| w.strip_prefix('`').and_then(|w| w.strip_suffix('`')))?;
        let (uname, tr) = match inner.split_once('|') {
            Some((uname, tr)) => (uname, Some(tr)),
            None => (inner, None),
        };
        let mut parts = uname.split_whitespace();
        if !matches!(
            parts.next(),
            Some("uname" | "/bin/uname" | "/usr/bin/uname")
        ) {
            return None;
        }
        let asks = match parts.next() {
            None | Some("-s" | "--kernel-name") => Asks::Kernel,
            Some("-o" | "--operating-system") => Asks::Os,
            _ => return None,
        };
        if parts.next().is_some() {
            return None;
        }
        let lowercased = match tr {
            None => false,
            Some(tr) => {
                let words: Vec<&str> = tr
                    .split_whitespace()
                    .map(|w| w.trim_matches(['\'', '"']))
                    .collect();
                match words[..] {
                    ["tr", "[:upper:]", "[:lower:]"] | ["tr", "A-Z", "a-z"] => true,
                    _ => return None,
                }
            }
        };
        Some(Probe { asks, lowercased })
    }

    /// What `probe == <what matches>` proves: it succeeds on the families one of whose values
    /// match (a value none matches: [`OsSet::OTHER`]), and fails on all but those every value
    /// of which matches.
    pub fn split(self, matches: impl Fn(&str) -> bool) -> OsSplit {
        let mut possible = OsSet::NONE;
        let mut certain = OsSet::NONE;
        for (family, _) in OsSet::FAMILIES {
            let values = self.asks.values(family);
            let hits = values
                .iter()
                .filter(|v| match self.lowercased {
                    true => matches(&v.to_ascii_lowercase()),
                    false => matches(v),
                })
                .count();
            if hits > 0 {
                possible = possible | family;
            }
            if hits == values.len() {
                certain = certain | family;
            }
        }
        if possible.is_empty() {
            possible = OsSet::OTHER;
        }
        OsSplit {
            if_true: possible,
            if_false: !certain,
        }
    }
}

impl Asks {
    /// What each family's systems answer.
    fn values(self, family: OsSet) -> &'static [&'static str] {
        use OsSet as F;
        match (self, family) {
            (Asks::Kernel, F::LINUX) => &["Linux"],
            (Asks::Kernel, F::DARWIN) => &["Darwin"],
            (Asks::Kernel, F::FREEBSD) => &["FreeBSD"],
            (Asks::Kernel, F::OPENBSD) => &["OpenBSD"],
            (Asks::Kernel, F::NETBSD) => &["NetBSD"],
            (Asks::Kernel, F::WINDOWS) => &[
                "MINGW64_NT-10.0-19045",
                "MINGW32_NT-6.1-7601",
                "MSYS_NT-10.0-22631",
                "CYGWIN_NT-10.0-19045",
                "CYGWIN_NT-6.1-WOW64",
            ],
            (Asks::Kernel, _) => &["SunOS", "AIX", "HP-UX", "Haiku", "GNU", "DragonFly", "QNX"],
            (Asks::Os, F::LINUX) => &["GNU/Linux", "Linux", "Android"],
            (Asks::Os, F::DARWIN) => &["Darwin"],
            (Asks::Os, F::FREEBSD) => &["FreeBSD"],
            (Asks::Os, F::OPENBSD) => &["OpenBSD"],
            (Asks::Os, F::NETBSD) => &["NetBSD"],
            (Asks::Os, F::WINDOWS) => &["Msys", "Cygwin", "MS/Windows"],
            (Asks::Os, _) => &["Solaris", "illumos", "AIX", "Haiku", "GNU", "DragonFly"],
            (Asks::OsType, F::LINUX) => &[
                "linux-gnu",
                "linux-musl",
                "linux-gnueabihf",
                "linux-android",
                "linux",
            ],
            (Asks::OsType, F::DARWIN) => &["darwin19.6.0", "darwin20", "darwin23.0", "darwin24"],
            (Asks::OsType, F::FREEBSD) => &["freebsd12.4", "freebsd13.2", "freebsd14.1"],
            (Asks::OsType, F::OPENBSD) => &["openbsd7.4"],
            (Asks::OsType, F::NETBSD) => &["netbsd", "netbsd10.0"],
            (Asks::OsType, F::WINDOWS) => &["msys", "cygwin", "mingw32"],
            (Asks::OsType, _) => &["solaris2.11", "aix7.2", "haiku", "gnu", "dragonfly6.4"],
        }
    }
}

/// What a check at the top level of a script that ends the script when it fails proves for
/// all the code after it: `[ "$(uname)" = Linux ] || exit 1`, `command -v jq >/dev/null || {
/// echo "need jq" >&2; exit 1; }`, `if ! command -v jq; then …; exit 1; fi`, `if (-not
/// $IsLinux) { throw "…" }`. Only a check at the top level ends the script: `exit` in a
/// function, loop or branch ends (or skips) only that. It is read from the document's top-level
/// statements, so that a document parsed in pieces (the sparse path, the language server's
/// chunks) gives every later piece what a whole parse gives it.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Ending {
    /// Where the check ends: the code from here on runs only after it passed.
    pub from: usize,
    /// The OS families the code after it can run on.
    pub os: OsSet,
    /// The command names it proved present (as the walk of the language names commands).
    pub names: Vec<String>,
    /// The lowest PowerShell version it proved (`if ($PSVersionTable.PSVersion.Major -lt 5) {
    /// throw … }`).
    pub min_powershell: Option<(u32, u32)>,
    /// The lowest Windows NT version it proved, should the code run on Windows (`if
    /// ([Environment]::OSVersion.Version -lt [version]'6.2') { throw … }`).
    pub min_windows: Option<(u32, u32, u32)>,
    /// The lowest PowerShell the script's own `#Requires` lines let run it (`#Requires -Version
    /// 5.1`, see `powershell::requires`): no older PowerShell reads any of it, so this holds
    /// for its `syntax:` constructs too, where the other facts do not. Set from the start of
    /// the document only.
    pub required: Option<(u32, u32)>,
}

impl Default for Ending {
    fn default() -> Ending {
        Ending {
            from: 0,
            os: OsSet::ANY,
            names: Vec::new(),
            min_powershell: None,
            min_windows: None,
            required: None,
        }
    }
}

impl Ending {
    /// Whether it proves nothing.
    pub fn is_empty(&self) -> bool {
        self.os.is_any()
            && self.names.is_empty()
            && self.min_powershell.is_none()
            && self.min_windows.is_none()
            && self.required.is_none()
    }

    /// Everything `endings` prove together, from the start: what holds after all of them.
    pub fn all(endings: &[Ending]) -> Ending {
        let mut all = Ending::default();
        for e in endings {
            all.os = all.os & e.os;
            for n in &e.names {
                if !all.names.contains(n) && all.names.len() < MAX_ENDING_NAMES {
                    all.names.push(n.clone());
                }
            }
            all.min_powershell = all.min_powershell.max(e.min_powershell);
            all.min_windows = all.min_windows.max(e.min_windows);
            all.required = all.required.max(e.required);
        }
        all
    }
}

/// The checks that end the script in one document, ready to say what holds at an offset: a
/// script may hold thousands (an agent's `command -v a || exit 1; a; command -v b || exit 1; …`),
/// so what holds after each is folded once, not looked up per command.
#[derive(Clone, Debug, Default)]
pub(crate) struct Passed {
    /// Where each check ends, in order, with the OS families, the PowerShell version and the
    /// Windows release all the checks up to it prove.
    froms: Vec<usize>,
    os: Vec<OsSet>,
    min: Vec<Option<(u32, u32)>>,
    windows: Vec<Option<(u32, u32, u32)>>,
    /// Each name proven present, and where the first check that proves it ends.
    names: rustc_hash::FxHashMap<String, usize>,
    /// What the script's `#Requires` lines declare ([`Ending::required`]).
    required: Option<(u32, u32)>,
}

impl Passed {
    pub(crate) fn new(mut endings: Vec<Ending>) -> Passed {
        endings.sort_by_key(|e| e.from);
        let mut passed = Passed::default();
        let (mut os, mut min, mut windows) = (OsSet::ANY, None, None);
        for e in endings {
            os = os & e.os;
            min = min.max(e.min_powershell);
            windows = windows.max(e.min_windows);
            passed.required = passed.required.max(e.required);
            passed.froms.push(e.from);
            passed.os.push(os);
            passed.min.push(min);
            passed.windows.push(windows);
            // The first names in the document, as many as [`Ending::all`] keeps.
            for n in e.names {
                if passed.names.len() < MAX_ENDING_NAMES || passed.names.contains_key(&n) {
                    passed.names.entry(n).or_insert(e.from);
                }
            }
        }
        passed
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.froms.is_empty()
    }

    /// The OS families and the lowest PowerShell the checks ended by `at` prove.
    pub(crate) fn at(&self, at: usize) -> (OsSet, Option<(u32, u32)>) {
        match self.froms.partition_point(|&f| f <= at).checked_sub(1) {
            Some(i) => (self.os[i], self.min[i]),
            None => (OsSet::ANY, None),
        }
    }

    /// The lowest PowerShell the script's `#Requires` lines declare, for all of it.
    pub(crate) fn required(&self) -> Option<(u32, u32)> {
        self.required
    }

    /// The lowest Windows release the checks ended by `at` prove.
    pub(crate) fn windows_at(&self, at: usize) -> Option<(u32, u32, u32)> {
        let i = self.froms.partition_point(|&f| f <= at).checked_sub(1)?;
        self.windows[i]
    }

    /// Whether a check ended by `at` proved `name` present.
    pub(crate) fn proves(&self, name: &str, at: usize) -> bool {
        self.names.get(name).is_some_and(|&from| from <= at)
    }
}

/// The Windows NT versions `(major, minor, build)` Windows releases report, oldest first: the
/// first and last build of each release from 2000 to Windows 7 / Server 2008 R2, then a build
/// of each Windows 10/11 and Server release. Build numbers grow from one release to the next,
/// so a build alone tells the release (`.Build -ge 17763` is Server 2019 / Windows 10 1809 or
/// later). WMI reports the version as text, compared as text: these are the strings it gives.
pub const NT_RELEASES: &[(u32, u32, u32)] = &[
    (5, 0, 2195),
    (5, 1, 2600),
    (5, 2, 3790),
    (6, 0, 6000),
    (6, 0, 6003),
    (6, 1, 7600),
    (6, 1, 7601),
    (6, 2, 9200),
    (6, 3, 9600),
    (10, 0, 10240),
    (10, 0, 14393),
    (10, 0, 17763),
    (10, 0, 19045),
    (10, 0, 20348),
    (10, 0, 22000),
    (10, 0, 22631),
    (10, 0, 26100),
];

/// The lowest NT version whose build is `build` or later: `9200` is 6.2.9200, `17763` is
/// 10.0.17763; `None` below Windows 2000.
pub fn nt_release_of_build(build: u32) -> Option<(u32, u32, u32)> {
    let i = NT_RELEASES
        .partition_point(|r| r.2 <= build)
        .checked_sub(1)?;
    let (major, minor, _) = NT_RELEASES[i];
    Some((major, minor, build))
}

/// How many names the checks of one document may prove present for the rest of it (the
/// first ones in the document): the language server keeps what they prove with every chunk.
const MAX_ENDING_NAMES: usize = 64;

/// Whether `text` may hold a check that ends the script ([`Ending`]): the words such a check
/// needs. bash: `exit`; one of `||`, `&&`, `then`; and one of `[`, `test`, `command`, `type`,
/// `hash`, `which` (a condition that proves something holds a test or a lookup). PowerShell, in
/// any case: `if`; one of `throw`, `exit`, `return`; and one of `Get-Command`, `gcm`, `$Is`,
/// `OSVersion`, `$env:OS`, `PSVersionTable`, `$Host`, `Get-Host`, `Win32_OperatingSystem`. Whatever holds a part that passes passes too, so
/// a piece of a document that holds such a check is never skipped.
pub fn may_end_script(text: &str, lang: super::Language) -> bool {
    match lang {
        super::Language::Bash => {
            text.contains("exit")
                && (text.contains("||") || text.contains("&&") || text.contains("then"))
                && ["[", "test", "command", "type", "hash", "which"]
                    .iter()
                    .any(|w| text.contains(w))
        }
        super::Language::PowerShell => {
            static WORDS: std::sync::OnceLock<Option<aho_corasick::AhoCorasick>> =
                std::sync::OnceLock::new();
            let Some(ac) = WORDS
                .get_or_init(|| {
                    aho_corasick::AhoCorasick::builder()
                        .ascii_case_insensitive(true)
                        .build([
                            "if",
                            "throw",
                            "exit",
                            "return",
                            "get-command",
                            "gcm",
                            "$is",
                            "osversion",
                            "$env:os",
                            "psversiontable",
                            "$host",
                            "get-host",
                            "win32_operatingsystem",
                        ])
                        .ok()
                })
                .as_ref()
            else {
                return true;
            };
            // Seen: `if`, a word that ends the script, a word a proving condition holds.
            let mut seen = [false; 3];
            for m in ac.find_overlapping_iter(text) {
                let kind = match m.pattern().as_usize() {
                    0 => 0,
                    1..=3 => 1,
                    _ => 2,
                };
                seen[kind] = true;
                if seen == [true; 3] {
                    return true;
                }
            }
            false
        }
        super::Language::Batch => false,
    }
}

/// Whether the statement at `start` of `src` starts its line: only such a statement is read as
/// a check that ends the script (see [`may_start_ending`]).
pub(crate) fn starts_line(src: &str, start: usize) -> bool {
    // Back over blanks only: a one-line script of thousands of statements stays linear.
    let b = src.as_bytes();
    let mut i = start.min(b.len());
    while i > 0 && matches!(b[i - 1], b' ' | b'\t') {
        i -= 1;
    }
    i == 0 || b[i - 1] == b'\n'
}

/// Whether a stretch of a document that starts between top-level statements may start with a
/// check that ends the script: in PowerShell an `if`, in bash no function definition and no
/// compound command but `if` (`for`, `while`, `until`, `select`, `case`, `{`, `(`).
/// [`Ending`]s are only read from statements that start their line, and a lexer cuts a document
/// at every line start between top-level statements, so the stretch that holds one starts
/// with it.
pub fn may_start_ending(stretch: &str, lang: super::Language) -> bool {
    let t = stretch.trim_start();
    let word_end = t
        .find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | ':')))
        .unwrap_or(t.len());
    let (word, rest) = t.split_at(word_end);
    match lang {
        super::Language::Bash => {
            let compound = matches!(
                word,
                "for" | "while" | "until" | "select" | "case" | "function" | "coproc"
            ) || (word.is_empty() && rest.starts_with(['{', '(']));
            let definition = !word.is_empty() && rest.trim_start().starts_with('(');
            !(compound || definition)
        }
        super::Language::PowerShell => word.eq_ignore_ascii_case("if"),
        super::Language::Batch => false,
    }
}

/// The checks that end the script among the top-level statements of the document `src`.
pub fn endings(src: &str, lang: super::Language) -> Vec<Ending> {
    match lang {
        super::Language::Bash => super::bash::endings(src),
        super::Language::PowerShell => super::powershell::endings(src),
        super::Language::Batch => Vec::new(),
    }
}

thread_local! {
    /// What the checks before the piece of a document being parsed prove ([`after_checks`]).
    static PASSED: std::cell::RefCell<Option<Ending>> = const { std::cell::RefCell::new(None) };
}

/// Runs `parse` on a piece of a document as if the checks before it that end the script
/// (`passed`, see [`Ending::all`]) had passed: the language server parses a document's
/// statements in chunks, and a check in one chunk holds for the chunks after it.
pub fn after_checks<T>(passed: Option<Ending>, parse: impl FnOnce() -> T) -> T {
    let before = PASSED.with(|p| p.replace(passed.filter(|e| !e.is_empty())));
    let out = parse();
    PASSED.with(|p| *p.borrow_mut() = before);
    out
}

/// What [`after_checks`] says holds from the start of the piece parsed now.
pub(crate) fn passed() -> Option<Ending> {
    PASSED.with(|p| p.borrow().clone())
}

/// Each variable set once to an OS probe, where it is set, and the probe.
pub type ProbeVars = Vec<(String, usize, Probe)>;

/// Variables the script sets once, to an OS probe (`os=$(uname -s)`, `export OS_TYPE="$OSTYPE"`),
/// each with where it is set: a comparison of the variable after that point compares the probe.
/// Read from the text, not the tree, so that a file parsed in pieces (where the assignment and
/// the comparison fall in different pieces) reads them as a whole parse does. A name set more
/// than once is left out: which value a comparison sees would need the flow.
pub fn probe_variables(src: &str) -> ProbeVars {
    let mut found: Vec<(String, usize, Probe)> = Vec::new();
    let mut seen_lines = Vec::new();
    for (at, _) in src
        .match_indices("uname")
        .chain(src.match_indices("OSTYPE"))
    {
        let start = src[..at].rfind('\n').map_or(0, |i| i + 1);
        if seen_lines.contains(&start) {
            continue;
        }
        seen_lines.push(start);
        let end = src[at..].find('\n').map_or(src.len(), |i| at + i);
        let line = src[start..end].trim();
        let line = ["export ", "local ", "readonly ", "declare "]
            .iter()
            .find_map(|k| line.strip_prefix(k))
            .map_or(line, str::trim_start);
        let Some((name, value)) = line.split_once('=') else {
            continue;
        };
        let valid = |c: char| c.is_ascii_alphanumeric() || c == '_';
        if name.is_empty()
            || !name.chars().all(valid)
            || name.starts_with(|c: char| c.is_ascii_digit())
        {
            continue;
        }
        let value = value
            .split(" #")
            .next()
            .unwrap_or(value)
            .trim_end_matches(';')
            .trim();
        if let Some(probe) = Probe::of_word(value) {
            found.push((name.to_string(), start, probe));
        }
    }
    // Every other assignment of the name (`os=other`, `os+=x`, `read os`) makes it unknown.
    found.retain(|(name, at, _)| {
        let assigned = |i: usize| {
            src[..i]
                .chars()
                .next_back()
                .is_none_or(|c| !(c.is_ascii_alphanumeric() || c == '_' || c == '$'))
        };
        let sets = src
            .match_indices(&format!("{name}="))
            .chain(src.match_indices(&format!("{name}+=")))
            .filter(|(i, _)| assigned(*i))
            .count();
        let reads = src.match_indices(&format!("read {name}")).count()
            + src.match_indices(&format!("read -r {name}")).count();
        sets == 1 && reads == 0 && src[*at..].contains(&format!("{name}="))
    });
    found
}

/// The name a word reads as a plain variable: `$os`, `"$os"`, `${os}`, `"${os}"`.
pub fn variable_read(word: &str) -> Option<&str> {
    let w = word.trim();
    let w = w
        .strip_prefix('"')
        .and_then(|w| w.strip_suffix('"'))
        .unwrap_or(w);
    let name = w.strip_prefix('$')?;
    let name = name
        .strip_prefix('{')
        .and_then(|n| n.strip_suffix('}'))
        .unwrap_or(name);
    (!name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
        .then_some(name)
}

/// A shell pattern as written (`linux*`, `"darwin"*`, `[Dd]arwin`, `'Linux'`, `*bsd*`) as an
/// anchored regex, or `None` when it depends on an expansion or uses extended globs.
pub fn glob_regex(pattern: &str) -> Option<regex::Regex> {
    let mut re = String::from("^(?:");
    let mut chars = pattern.chars().peekable();
    let literal =
        |re: &mut String, c: char| re.push_str(&regex::escape(c.encode_utf8(&mut [0; 4])));
    while let Some(c) = chars.next() {
        match c {
            '\\' => literal(&mut re, chars.next()?),
            '\'' => loop {
                match chars.next()? {
                    '\'' => break,
                    c => literal(&mut re, c),
                }
            },
            '"' => loop {
                match chars.next()? {
                    '"' => break,
                    '$' | '`' | '\\' => return None,
                    c => literal(&mut re, c),
                }
            },
            '*' => re.push_str(".*"),
            '?' => re.push('.'),
            '[' => {
                re.push('[');
                if matches!(chars.peek(), Some('!' | '^')) {
                    chars.next();
                    re.push('^');
                }
                let mut first = true;
                loop {
                    match chars.next()? {
                        ']' if !first => break,
                        '-' => re.push('-'),
                        c @ ('[' | '\\' | '$' | '\'' | '"' | '`') => {
                            // A character class, a quote or an escape inside brackets: not read.
                            let _ = c;
                            return None;
                        }
                        c => literal(&mut re, c),
                    }
                    first = false;
                }
                re.push(']');
            }
            '$' | '`' | '(' | ')' | '|' => return None,
            c => literal(&mut re, c),
        }
    }
    re.push_str(")$");
    regex::Regex::new(&re).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(asks: Asks, glob: &str) -> (Vec<&'static str>, Vec<&'static str>) {
        let probe = Probe {
            asks,
            lowercased: false,
        };
        let re = glob_regex(glob).unwrap();
        let s = probe.split(|v| re.is_match(v));
        (s.if_true.names(), s.if_false.names())
    }

    #[test]
    fn probes_are_read_from_words() {
        let asks = |w: &str| Probe::of_word(w).filter(|p| !p.lowercased).map(|p| p.asks);
        assert_eq!(asks(r#""$(uname)""#), Some(Asks::Kernel));
        assert_eq!(asks("$(uname -s)"), Some(Asks::Kernel));
        assert_eq!(asks("`uname`"), Some(Asks::Kernel));
        assert_eq!(asks(r#""$(uname -o)""#), Some(Asks::Os));
        assert_eq!(asks("$OSTYPE"), Some(Asks::OsType));
        assert_eq!(asks(r#""${OSTYPE}""#), Some(Asks::OsType));
        for w in [
            "$(uname | tr A-Z a-z)",
            r#""$(uname -s | tr '[:upper:]' '[:lower:]')""#,
        ] {
            let p = Probe::of_word(w).unwrap();
            assert!(p.lowercased && p.asks == Asks::Kernel, "{w}");
            assert_eq!(p.split(|v| v == "darwin").if_true, OsSet::DARWIN);
        }
        for not in [
            "$os",
            "$(uname -r)",
            "$(uname | tr a-z A-Z)",
            "$(uname | head -c3)",
            "$(uname -s -r)",
            "${OSTYPE%%-*}",
        ] {
            assert_eq!(Probe::of_word(not), None, "{not}");
        }
    }

    #[test]
    fn comparisons_split_the_families() {
        assert_eq!(
            split(Asks::Kernel, "Darwin"),
            (
                vec!["darwin"],
                vec!["linux", "freebsd", "openbsd", "netbsd", "windows", "other"]
            )
        );
        assert_eq!(split(Asks::OsType, "linux*").0, ["linux"]);
        assert!(!split(Asks::OsType, "linux*").1.contains(&"linux"));
        // `linux-gnu` is not every Linux (`linux-musl` on Alpine): the other branch may run there.
        assert_eq!(split(Asks::OsType, "linux-gnu*").0, ["linux"]);
        assert!(split(Asks::OsType, "linux-gnu*").1.contains(&"linux"));
        assert_eq!(
            split(Asks::OsType, "*bsd*").0,
            ["freebsd", "openbsd", "netbsd"]
        );
        assert_eq!(split(Asks::OsType, "\"darwin\"*").0, ["darwin"]);
        assert_eq!(split(Asks::Kernel, "MINGW*").0, ["windows"]);
        assert_eq!(split(Asks::Kernel, "[Dd]arwin").0, ["darwin"]);
        // No family answers this: only a system forewarn does not know.
        assert_eq!(split(Asks::Kernel, "SunOS").0, ["other"]);
        assert_eq!(split(Asks::Kernel, "darwin").0, ["other"]);
        // `*` is everything: the other branch never runs.
        assert!(split(Asks::Kernel, "*").1.is_empty());
        assert_eq!(split(Asks::Kernel, "*").0.len(), 7);
    }

    #[test]
    fn globs_that_depend_on_expansions_are_not_read() {
        for g in ["$os", "@(Linux|Darwin)", "\"$x\"*", "[[:alpha:]]*", "[abc"] {
            assert!(glob_regex(g).is_none(), "{g}");
        }
        assert!(glob_regex("a.b").unwrap().is_match("a.b"));
        assert!(!glob_regex("a.b").unwrap().is_match("axb"));
        assert!(glob_regex("'*'").unwrap().is_match("*"));
        assert!(!glob_regex("'*'").unwrap().is_match("x"));
    }

    #[test]
    fn the_words_of_a_check_that_ends_the_script_are_read_cheaply() {
        use super::super::Language::{Bash, PowerShell};
        for (text, lang) in [
            ("[ \"$(uname)\" = Linux ] || exit 1", Bash),
            ("command -v jq >/dev/null || { echo no; exit 1; }", Bash),
            ("if ! type jq; then\n  exit 1\nfi", Bash),
            ("If (-Not $IsLinux) { Throw 'no' }", PowerShell),
            ("if (-not (gcm jq -ea 0)) { exit 1 }", PowerShell),
        ] {
            assert!(may_end_script(text, lang), "{text}");
            assert!(may_start_ending(text, lang), "{text}");
            // Whatever holds it may hold one too.
            assert!(
                may_end_script(&format!("echo a\n{text}\necho b"), lang),
                "{text}"
            );
        }
        for (text, lang) in [
            ("[ -d /srv ] && echo ok", Bash),
            ("cd /srv || exhale", Bash),
            ("if ($x) { Write-Host 'exit' }", PowerShell),
            ("function f { if ($IsLinux) { a } }", PowerShell),
        ] {
            assert!(!may_end_script(text, lang), "{text}");
        }
        // A function definition or a compound command starts no such check; an `if` does.
        for start in [
            "f() { exit 1; }",
            "f () {",
            "function f {",
            "for a in b; do",
            "{ a; }",
        ] {
            assert!(!may_start_ending(start, Bash), "{start}");
        }
        for start in [
            "  if [ x ]; then",
            "[[ a ]] || exit",
            "! command -v a || exit",
        ] {
            assert!(may_start_ending(start, Bash), "{start}");
        }
        assert!(!may_start_ending("function f { }", PowerShell));
        assert!(!may_start_ending("iff", PowerShell));
        assert!(starts_line("a\n  b", 4));
        assert!(!starts_line("a; b", 3));
    }

    #[test]
    fn endings_fold_into_what_holds_after_all_of_them() {
        let a = Ending {
            from: 3,
            os: OsSet::LINUX | OsSet::DARWIN,
            names: vec!["jq".into()],
            min_powershell: Some((5, 0)),
            min_windows: None,
            required: None,
        };
        let b = Ending {
            from: 9,
            os: OsSet::LINUX,
            names: vec!["jq".into(), "tac".into()],
            min_powershell: None,
            min_windows: Some((6, 2, 0)),
            required: Some((5, 1)),
        };
        let all = Ending::all(&[a, b]);
        assert_eq!(all.from, 0);
        assert_eq!(all.os, OsSet::LINUX);
        assert_eq!(all.names, ["jq", "tac"]);
        assert_eq!(all.min_powershell, Some((5, 0)));
        assert_eq!(all.min_windows, Some((6, 2, 0)));
        assert_eq!(all.required, Some((5, 1)));
        assert!(Ending::all(&[]).is_empty());
    }

    #[test]
    fn lists_combine_splits() {
        let darwin = OsSplit {
            if_true: OsSet::DARWIN,
            if_false: !OsSet::DARWIN,
        };
        let unknown = OsSplit::default();
        // `[ darwin ] && x`: true only on darwin; false anywhere (x may fail).
        assert_eq!(darwin.and(unknown).if_true, OsSet::DARWIN);
        assert!(darwin.and(unknown).if_false.is_any());
        // `[ darwin ] || x`: false only off darwin.
        assert_eq!(darwin.or(unknown).if_false, !OsSet::DARWIN);
        assert_eq!(darwin.negated().if_true, !OsSet::DARWIN);
    }
}
