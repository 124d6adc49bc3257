//! In-file directives (DESIGN.md §4–5): `forewarn: target=HOST`, `forewarn: ignore[=…]`,
//! `forewarn: disable-file`, written in a comment of the script's language.

use crate::script::Language;

/// How many lines at the top of a file may carry a `target=` directive.
const TARGET_DIRECTIVE_LINES: usize = 20;

/// A suppression: which patterns it silences (`None` = every pattern).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ignore {
    /// 0-based line the suppression applies to.
    pub line: usize,
    /// Signatures or id prefixes; `None` silences every pattern.
    pub only: Option<Vec<String>>,
}

/// Everything the directives of one file say, and the functions it defines.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Directives {
    pub target: Option<String>,
    pub disable_file: bool,
    pub ignores: Vec<Ignore>,
    /// Functions the script defines, with where each definition starts: after it, a command of
    /// that name runs the function (`nproc() { sysctl -n hw.ncpu; }` as a shim on macOS), so
    /// no pattern about the command being missing applies. Read from the lines that open a
    /// definition, over the whole file, so that a file parsed in pieces agrees with a whole
    /// parse.
    pub(crate) functions: std::sync::OnceLock<Option<Functions>>,
    /// The file's language, which says how to read its function definitions.
    pub(crate) lang: Option<Language>,
    /// When a piece of a larger file is scanned alone: the patterns whose fix the file's
    /// earlier code already applied where the file runs (`fix.applied_if`), each with where
    /// it takes effect, in the piece's offsets (see `engine::applied`).
    pub(crate) applied: Vec<(String, usize)>,
    /// PowerShell: the script's `#Requires` lines that name a lowest PowerShell, read from the
    /// whole text (`script::powershell::requires`), so that a file scanned in pieces reports
    /// each line once, where the target runs an older PowerShell (the parse reads them too,
    /// for what they prove of the code).
    pub(crate) requires: crate::script::powershell::Requires,
}

/// The functions of a file in `lang`: each name (lowercased where the language ignores case)
/// and where its first definition starts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Functions {
    lang: Language,
    first: rustc_hash::FxHashMap<String, usize>,
}

impl Directives {
    /// The file's target: the in-file directive, else `default` (configuration, command line).
    pub fn target_or(&self, default: Option<&str>) -> Option<String> {
        self.target.clone().or_else(|| default.map(str::to_string))
    }

    /// The functions `src` (the file these directives are from) defines, read on first use:
    /// only a finding about a missing command asks, and a large file may define hundreds.
    fn functions(&self, src: &str) -> Option<&Functions> {
        let lang = self.lang?;
        self.functions
            .get_or_init(|| defined_functions(src, lang))
            .as_ref()
    }

    /// Whether the file `src` (the one these directives are from) defines any function (see
    /// [`Directives::defines`]).
    pub fn has_functions(&self, src: &str) -> bool {
        self.functions(src).is_some()
    }

    /// Whether the command `name` written at `at` in the file `src`, in the file's own `lang`,
    /// runs a function the file defined before it: it is called by its bare name as the first
    /// word of a statement (see [`called_bare`]).
    pub fn defines(&self, src: &str, name: &str, lang: Language, at: usize) -> bool {
        let Some(f) = self.functions(src).filter(|f| f.lang == lang) else {
            return false;
        };
        if !called_bare(src, at, lang) {
            return false;
        }
        let start = match lang.case_insensitive() {
            true => f.first.get(&name.to_lowercase()),
            false => f.first.get(name),
        };
        start.is_some_and(|&start| start < at)
    }

    pub fn parse(src: &str, lang: Language) -> Directives {
        let mut d = Directives {
            lang: Some(lang),
            ..Directives::default()
        };
        // The keywords are read in any case (`# FOREWARN: IGNORE`, `REM Forewarn: Target=X`),
        // as cmd reads `REM` and PowerShell its keywords; ids and signatures keep theirs.
        // Only the lines that hold one are read, each once, their numbers counted on from the
        // last.
        let (mut line_no, mut counted_to, mut line_end) = (0, 0, 0);
        for at in directives().find_iter(src).map(|m| m.start()) {
            if at < line_end {
                continue;
            }
            let start = src[..at].rfind('\n').map_or(0, |i| i + 1);
            line_no += src[counted_to..start]
                .bytes()
                .filter(|&b| b == b'\n')
                .count();
            counted_to = start;
            line_end = src[at..].find('\n').map_or(src.len(), |i| at + i);
            let line = src[start..line_end].trim_end_matches('\r');
            let pos = at - start;
            let before = &line[..pos];
            let Some(comment_start) = comment_start(before, lang) else {
                continue;
            };
            let body = line[pos + DIRECTIVE.len()..].trim();
            // A directive alone on its line applies to the next line; at the end of code, to its own.
            let alone = line[..comment_start].trim().is_empty();
            let applies_to = if alone { line_no + 1 } else { line_no };
            for word in body.split_whitespace() {
                let (key, value) = match word.split_once('=') {
                    Some((k, v)) => (k, Some(v)),
                    None => (word, None),
                };
                match key.to_ascii_lowercase().as_str() {
                    "target" if line_no < TARGET_DIRECTIVE_LINES && d.target.is_none() => {
                        d.target = value
                            .map(|v| v.trim_matches(['"', '\'']).to_string())
                            .filter(|v| !v.is_empty());
                    }
                    "disable-file" => d.disable_file = true,
                    "ignore" => {
                        // The value runs to the end of the comment: signatures have blanks and
                        // sometimes commas, so the whole text is one candidate and each
                        // comma-separated part is another.
                        let only = value.map(|_| {
                            let rest = body
                                [find_ignore_case(body, "ignore=").map_or(0, |i| i + 7)..]
                                .trim()
                                .trim_end_matches("#>")
                                .trim();
                            let mut items: Vec<String> = rest
                                .split(',')
                                .map(|s| s.trim().to_string())
                                .filter(|s| !s.is_empty())
                                .collect();
                            if rest.contains(',') {
                                items.push(rest.to_string());
                            }
                            items
                        });
                        let consumed_rest = only.is_some();
                        d.ignores.push(Ignore {
                            line: applies_to,
                            only,
                        });
                        if consumed_rest {
                            break;
                        }
                        if !alone {
                            continue;
                        }
                    }
                    _ => {}
                }
            }
        }
        if lang == Language::PowerShell {
            d.requires = crate::script::powershell::requires(src);
        }
        d
    }

    /// Whether a finding of `pattern_id` / `signature` on 0-based `line` is silenced.
    pub fn ignores(&self, line: usize, pattern_id: &str, signature: &str) -> bool {
        self.ignores.iter().any(|ig| {
            ig.line == line
                && match &ig.only {
                    None => true,
                    Some(list) => list.iter().any(|s| {
                        signature.eq_ignore_ascii_case(s)
                            || (s.len() >= 4
                                && pattern_id
                                    .to_ascii_lowercase()
                                    .starts_with(&s.to_ascii_lowercase()))
                    }),
                }
        })
    }
}

/// What opens a directive, in any case.
const DIRECTIVE: &str = "forewarn:";

/// Finds `forewarn:` in any case.
fn directives() -> &'static aho_corasick::AhoCorasick {
    static FINDER: std::sync::OnceLock<aho_corasick::AhoCorasick> = std::sync::OnceLock::new();
    FINDER.get_or_init(|| {
        aho_corasick::AhoCorasick::builder()
            .ascii_case_insensitive(true)
            .build([DIRECTIVE])
            .expect("one literal")
    })
}

/// `text` with every `forewarn:` (in any case) made into `forewarn -`: text that is put into a
/// script as a comment (a pattern's solution, by a quick fix) must never become a directive.
pub fn defused(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut last = 0;
    for m in directives().find_iter(text) {
        out.push_str(&text[last..m.start()]);
        out.push_str(&text[m.start()..m.end() - 1]);
        out.push_str(" -");
        last = m.end();
    }
    out.push_str(&text[last..]);
    out
}

/// Where the ASCII `needle` first occurs in the short `text`, ignoring ASCII case.
fn find_ignore_case(text: &str, needle: &str) -> Option<usize> {
    text.as_bytes()
        .windows(needle.len())
        .position(|w| w.eq_ignore_ascii_case(needle.as_bytes()))
}

/// The functions `src` defines, from the lines that open a definition: bash `name() {`,
/// `name () (`, `function name`; PowerShell `function name` and `filter name` (a scope prefix,
/// `global:`, dropped). Batch has none.
fn defined_functions(src: &str, lang: Language) -> Option<Functions> {
    let name_char = |c: char| c.is_alphanumeric() || matches!(c, '_' | '-' | '.' | ':' | '+');
    if lang == Language::Batch
        || !(src.contains("()") || src.contains("function") || src.contains("filter"))
    {
        return None;
    }
    let mut first = rustc_hash::FxHashMap::default();
    // Only the lines holding `()`, `function` or `filter` are read: every scan does this, and
    // walking all the lines of a large file cost more than the rest of the directives. A bash
    // heredoc's lines are text, not definitions: `<<` is looked for too, and its body skipped.
    static OPENERS: std::sync::OnceLock<aho_corasick::AhoCorasick> = std::sync::OnceLock::new();
    let openers = OPENERS.get_or_init(|| {
        aho_corasick::AhoCorasick::builder()
            .ascii_case_insensitive(true)
            .build(["()", "function", "filter", "<<"])
            .expect("four literals")
    });
    // Where the line read last ends: later matches on it are passed over before any search
    // back for a line start (a minified line holds thousands of `()`).
    let mut line_end = 0;
    for m in openers.find_iter(src) {
        if m.start() < line_end {
            continue;
        }
        let start = src[..m.start()].rfind('\n').map_or(0, |i| i + 1);
        line_end = src[m.start()..]
            .find('\n')
            .map_or(src.len(), |i| m.start() + i);
        let line = &src[start..line_end];
        if lang == Language::Bash {
            if let Some(body_end) = line
                .find("<<")
                .and_then(|i| heredoc_end(src, line_end, &line[i + 2..]))
            {
                line_end = body_end;
                if !line.trim_start().starts_with("function") && !line.contains("()") {
                    continue;
                }
            }
        }
        let text = line.trim_start();
        let at = start + (line.len() - text.len());
        let keyword = ["function", "filter"]
            .into_iter()
            .filter(|k| *k == "function" || lang == Language::PowerShell)
            .find_map(|k| {
                text.get(..k.len()).filter(|w| w.eq_ignore_ascii_case(k))?;
                text[k.len()..].strip_prefix([' ', '\t'])
            });
        let name = match keyword {
            Some(rest) => {
                let rest = rest.trim_start();
                let end = rest.find(|c: char| !name_char(c)).unwrap_or(rest.len());
                let name = &rest[..end];
                match lang {
                    Language::PowerShell => name.rsplit(':').next().unwrap_or(name),
                    _ => name,
                }
            }
            None if lang == Language::Bash => {
                let end = text.find(|c: char| !name_char(c)).unwrap_or(text.len());
                let after = text[end..].trim_start();
                match after.strip_prefix('(').map(str::trim_start) {
                    Some(rest) if rest.starts_with(')') && end > 0 => &text[..end],
                    _ => continue,
                }
            }
            None => continue,
        };
        if !name.is_empty() {
            let key = match lang.case_insensitive() {
                true => name.to_lowercase(),
                false => name.to_string(),
            };
            first.entry(key).or_insert(at);
        }
    }
    (!first.is_empty()).then_some(Functions { lang, first })
}

/// Where the body of a heredoc whose operator is followed by `after` (`EOF`, `-'EOF'`, …) on a
/// line ending at `line_end` ends: just past its delimiter line, or the end of the text. `None`
/// for a here-string (`<<<`) or no delimiter.
fn heredoc_end(src: &str, line_end: usize, after: &str) -> Option<usize> {
    let tabs = after.starts_with('-');
    let word = after.trim_start_matches('-').trim_start();
    let word = word
        .split(|c: char| c.is_whitespace() || matches!(c, ';' | '|' | '&' | '<' | '>' | ')'))
        .next()?
        .replace(['\'', '"', '\\'], "");
    if word.is_empty() {
        return None;
    }
    let mut at = line_end;
    while at < src.len() {
        let start = at + 1;
        let end = src[start.min(src.len())..]
            .find('\n')
            .map_or(src.len(), |i| start + i);
        let line = src.get(start..end).unwrap_or("").trim_end_matches('\r');
        let line = if tabs {
            line.trim_start_matches('\t')
        } else {
            line
        };
        if line == word {
            return Some(end);
        }
        at = end;
    }
    Some(src.len())
}

/// Whether the command named at `at` in `src` is called by its bare name as the first word of
/// a statement, the only way a shell runs a function of that name: not after a path
/// (`/usr/bin/nproc`), a wrapper or another word (`command nproc`, `sudo nproc`, `xargs nproc`,
/// `ssh web nproc`), nor inside quotes (`bash -c 'nproc'`, which a new shell runs).
fn called_bare(src: &str, at: usize, lang: Language) -> bool {
    let before = src.get(..at).unwrap_or("").trim_end_matches([' ', '\t']);
    let Some(last) = before.chars().next_back() else {
        return true;
    };
    if matches!(last, '\n' | ';' | '&' | '|' | '(' | '{' | '`' | '!') {
        return true;
    }
    if lang == Language::PowerShell && last == '=' {
        return true;
    }
    // A keyword that a statement follows.
    let word_start = before
        .rfind(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .map_or(0, |i| i + 1);
    let word = &before[word_start..];
    let keywords: &[&str] = match lang {
        Language::PowerShell => &[],
        _ => &["then", "do", "else", "elif", "if", "while", "until", "time"],
    };
    keywords.contains(&word)
        && before[..word_start]
            .trim_end_matches([' ', '\t'])
            .chars()
            .next_back()
            .is_none_or(|c| matches!(c, '\n' | ';' | '&' | '|' | '(' | '{' | '!'))
}

/// Where the comment holding the directive starts in `before` (the text before `forewarn:`),
/// or `None` when the directive is not in a comment.
fn comment_start(before: &str, lang: Language) -> Option<usize> {
    let trimmed = before.trim_end();
    match lang {
        Language::Batch => {
            let t = trimmed.trim_start();
            let lead = before.len() - before.trim_start().len();
            let upper = t.to_ascii_uppercase();
            if upper == "REM" || upper == "::" || upper == "@REM" {
                return Some(lead);
            }
            // `command & REM forewarn: …` / `command & :: forewarn: …`
            for marker in ["& REM", "&REM", "& ::", "&::"] {
                if upper.ends_with(marker) {
                    return Some(before.len() - marker.len());
                }
            }
            None
        }
        _ => {
            let hash = trimmed.rfind('#')?;
            // `#` must start the comment: `#` or ` #`, and `<#` for PowerShell block comments.
            let ok = hash == 0
                || before[..hash].ends_with(char::is_whitespace)
                || (lang == Language::PowerShell && before[..hash].ends_with('<'));
            (ok && trimmed[hash + 1..].trim().is_empty()).then_some(hash)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn target_and_ignores() {
        let src = "#!/bin/sh\n# forewarn: target=D2TESTNAS\nsed -i x f # forewarn: ignore\n# forewarn: ignore=gnu-sed,abcd1234\nreadlink -f x\necho '# forewarn: ignore'\n";
        let d = Directives::parse(src, Language::Bash);
        assert_eq!(d.target.as_deref(), Some("D2TESTNAS"));
        assert!(!d.disable_file);
        assert!(d.ignores(2, "x", "y"));
        assert!(d.ignores(4, "abcd1234-0000", "other"));
        assert!(d.ignores(4, "0000", "GNU-sed"));
        assert!(!d.ignores(4, "0000", "other"));
        let d = Directives::parse(
            "apt-get install x # forewarn: ignore=Alpine uses apk, not apt-get / yum\n",
            Language::Bash,
        );
        assert!(
            d.ignores(0, "0000", "Alpine uses apk, not apt-get / yum"),
            "{d:?}"
        );
        assert!(!d.ignores(0, "0000", "Debian uses apt"));
        assert!(
            !d.ignores(5, "0000", "other"),
            "a directive inside a string is data"
        );
    }

    #[test]
    fn functions_are_known_from_where_they_are_defined() {
        let src = "nproc\nnproc() { sysctl -n hw.ncpu; }\n  function tac {\n:\n}\nmy_fn () (\n  x\n)\necho '()'\nnproc\n";
        let d = Directives::parse(src, Language::Bash);
        let at = |needle: &str| src.rfind(needle).unwrap();
        assert!(
            !d.defines(src, "nproc", Language::Bash, 0),
            "called before its definition"
        );
        assert!(d.defines(src, "nproc", Language::Bash, at("nproc\n")));
        assert!(d.defines(src, "tac", Language::Bash, src.len()));
        assert!(d.defines(src, "my_fn", Language::Bash, src.len()));
        assert!(
            !d.defines(src, "NPROC", Language::Bash, src.len()),
            "bash names are exact"
        );
        assert!(!d.defines(src, "echo", Language::Bash, src.len()));
        assert!(
            !d.defines(src, "nproc", Language::PowerShell, src.len()),
            "bash functions only"
        );
        let ps = "function global:Get-LocalUser { }\nFilter Get-Thing { $_ }\nget-localuser\n";
        let d = Directives::parse(ps, Language::PowerShell);
        assert!(d.defines(ps, "Get-LocalUser", Language::PowerShell, ps.len()));
        assert!(d.defines(ps, "GET-THING", Language::PowerShell, ps.len()));
        // A heredoc's text defines nothing; a minified line of `()` is read in linear time.
        let doc = "cat <<-'EOF'\n\tnproc() { :; }\n\tEOF\ntac() { :; }\ntac\nnproc\n";
        let d = Directives::parse(doc, Language::Bash);
        assert!(!d.defines(doc, "nproc", Language::Bash, doc.len()));
        assert!(d.defines(doc, "tac", Language::Bash, doc.len()));
        let minified = format!("nproc; echo \"{}\"\nnproc\n", "()".repeat(500_000));
        let d = Directives::parse(&minified, Language::Bash);
        assert!(!d.defines(&minified, "nproc", Language::Bash, minified.len()));
        let bat = "function f { }";
        assert!(!Directives::parse(bat, Language::Batch).defines(bat, "f", Language::Batch, 99));
    }

    #[test]
    fn keywords_are_read_in_any_case_and_values_as_written() {
        let src = "# Forewarn: Target=Acme-DC01\nsed -i x # FOREWARN: IGNORE\n# ForeWarn: Ignore=GNU-Sed\nreadlink -f x\nx # FOREWARN: DISABLE-FILE\n";
        let d = Directives::parse(src, Language::Bash);
        assert_eq!(d.target.as_deref(), Some("Acme-DC01"), "{d:?}");
        assert!(d.ignores(1, "id", "sig"));
        assert!(d.ignores(3, "0000", "gnu-sed"));
        assert!(!d.ignores(3, "0000", "other"), "the list is still a list");
        assert!(d.disable_file);
        let bat =
            "@echo off\r\nrem FOREWARN: target=OLDSRV\r\nwmic os get x & Rem Forewarn: Ignore\r\n";
        let d = Directives::parse(bat, Language::Batch);
        assert_eq!(d.target.as_deref(), Some("OLDSRV"));
        assert!(d.ignores(2, "a", "b"));
        // Lines are counted over a text with many directives and CRLF, and across lines
        // without one.
        let many = "x\r\n\r\ny # forewarn: ignore\r\nz\r\n# forewarn: ignore=abcd # forewarn: ignore\r\nw\r\n";
        let d = Directives::parse(many, Language::Bash);
        let lines: Vec<usize> = d.ignores.iter().map(|i| i.line).collect();
        assert_eq!(lines, [2, 5]);
        assert!(
            !Directives::parse("# forewarnings: ignore\nx\n", Language::Bash).ignores(1, "a", "b")
        );
        // Text written into a script as a comment cannot become one, in any case.
        let defused = defused("Use X. # FOREWARN: ignore, forewarn: disable-file");
        assert_eq!(
            defused,
            "Use X. # FOREWARN - ignore, forewarn - disable-file"
        );
        assert_eq!(
            Directives::parse(&format!("# {defused}\n"), Language::Bash),
            Directives::parse("", Language::Bash)
        );
    }

    #[test]
    fn batch_comments() {
        let d = Directives::parse("@echo off\r\nREM forewarn: target=OLDSRV\r\nwmic os get x & REM forewarn: ignore\r\n:: forewarn: disable-file\r\n", Language::Batch);
        assert_eq!(d.target.as_deref(), Some("OLDSRV"));
        assert!(d.ignores(2, "a", "b"));
        assert!(d.disable_file);
    }
}
