//! Report formats of `forewarn check`: human (rustc/ruff style), JSON (DESIGN.md §7), SARIF 2.1.0
//! and GitHub workflow annotations. Every format reads the same [`FileReport`]s.

use std::collections::BTreeMap;
use std::io::{self, Write};

use clap::ValueEnum;
use rustc_hash::FxHashMap;
use serde_json::{json, Value};
use unicode_width::UnicodeWidthChar;

use crate::engine::{Finding, Pattern, PatternIndex, Severity};
use crate::script::Language;
use crate::text::{floor_char_boundary, Encoding, LineCol, LineIndex};

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Human,
    Json,
    Sarif,
    Github,
}

/// The findings of one checked file, with what is needed to show them.
pub struct FileReport {
    /// As shown to the user (relative when given relative, `/` separators).
    pub path: String,
    pub text: String,
    pub lines: LineIndex,
    pub language: Language,
    pub findings: Vec<Finding>,
    /// Target names that matched no host or tag (see `engine::Scan::unknown_targets`), each
    /// with where it came from (a directive, the configuration, the command line, a remote host).
    pub unknown_targets: Vec<(String, String)>,
    /// Where the last positions asked for fell (see [`FileReport::position`]).
    pub positions: PositionCache,
    /// How many findings of each severity (`Severity as usize`) were left out below the
    /// lowest severity reported: the human summary says so.
    pub hidden: [usize; 4],
}

/// The last two positions a report asked for, so that the next one on the same line is counted
/// from there and not from the line's start: a thousand findings on one long line (generated or
/// minified code) made every format quadratic. Two, because a finding's start comes after the
/// previous finding's end, and several findings share a start.
#[derive(Debug, Default)]
pub struct PositionCache(std::cell::RefCell<[Option<(usize, LineCol)>; 2]>);

impl FileReport {
    /// The 0-based line and column (in characters) of byte `offset`, as
    /// [`LineIndex::position`] gives it.
    pub fn position(&self, offset: usize) -> LineCol {
        let offset = floor_char_boundary(&self.text, offset);
        let line = self.lines.line_of(offset) as u32;
        let mut last = self.positions.0.borrow_mut();
        let from = last
            .iter()
            .flatten()
            .filter(|(at, p)| p.line == line && *at <= offset)
            .max_by_key(|(at, _)| *at)
            .copied();
        let p = match from {
            Some((at, p)) => LineCol {
                line,
                col: p.col + self.text[at..offset].chars().count() as u32,
            },
            None => self.lines.position(&self.text, offset, Encoding::Chars),
        };
        if last[0].is_none_or(|(at, _)| at != offset) {
            last[1] = last[0];
            last[0] = Some((offset, p));
        }
        p
    }
}

/// What a report says besides its files' findings.
#[derive(Clone, Copy, Debug)]
pub struct Run<'a> {
    /// How many files were checked.
    pub files: usize,
    pub color: bool,
    /// The lowest severity reported.
    pub shown_from: Severity,
    /// Problems with the run itself (a target name that is neither a host nor a tag). They go
    /// to stderr in every format; GitHub annotations and SARIF carry them too, so that a CI
    /// run's summary shows them where the findings are.
    pub warnings: &'a [String],
}

/// Writes the report of a run.
pub fn write(
    out: &mut dyn Write,
    format: Format,
    reports: &[FileReport],
    index: &PatternIndex,
    run: Run<'_>,
) -> io::Result<()> {
    match format {
        Format::Human => human(out, reports, run.files, index, run.color, run.shown_from),
        Format::Json => json(out, reports, run.files, index),
        Format::Sarif => sarif(out, reports, index, run.warnings),
        Format::Github => github(out, reports, index, run.warnings),
    }
}

/// Each finding with its pattern; findings whose pattern vanished are dropped.
fn findings<'a>(
    reports: &'a [FileReport],
    index: &'a PatternIndex,
) -> impl Iterator<Item = (&'a FileReport, &'a Finding, &'a Pattern)> {
    reports.iter().flat_map(move |r| {
        r.findings
            .iter()
            .filter_map(move |f| index.get(&f.pattern_id).map(|p| (r, f, p)))
    })
}

fn by_severity(reports: &[FileReport]) -> BTreeMap<&'static str, usize> {
    let mut m = BTreeMap::new();
    for f in reports.iter().flat_map(|r| &r.findings) {
        *m.entry(f.severity.as_str()).or_insert(0) += 1;
    }
    m
}

/// The JSON report (DESIGN.md §7), pretty-printed to `out`: the layout serde_json's pretty
/// printer gives the same report (`tests::json_is_what_serde_json_would_write` compares them),
/// written by hand because a finding repeats its pattern's text. Serializing thousands of
/// findings field by field (escaping every key and every copy of a pattern's prose, formatting
/// one message per finding) was a fifth of a whole `check` process; here each pattern's fields
/// and each (pattern, target) message are escaped once and copied after.
fn json(
    out: &mut dyn Write,
    reports: &[FileReport],
    files: usize,
    index: &PatternIndex,
) -> io::Result<()> {
    let mut w = Pretty::new(out);
    w.open(b'{');
    w.key("version");
    w.json(&1u32);
    w.key("findings");
    w.open(b'[');
    // A pattern's fields, rendered once at the depth of a finding's fields: (before the
    // target, after the message). Keyed by address: the index outlives the report.
    let mut parts: FxHashMap<*const Pattern, (Vec<u8>, Vec<u8>)> = FxHashMap::default();
    // The message depends on the pattern and the finding's target only.
    let mut messages: FxHashMap<(*const Pattern, Option<&str>), Vec<u8>> = FxHashMap::default();
    let mut count = 0usize;
    // The last span's fields as written: the findings are sorted by span, and several patterns
    // often fire on one command (in the synthetic benchmark, 4,780 findings have 636 spans).
    let mut span_fields: (Option<std::ops::Range<usize>>, Vec<u8>) = (None, Vec::new());
    for r in reports {
        let path = escaped(&r.path);
        span_fields.0 = None;
        for (f, p) in r
            .findings
            .iter()
            .filter_map(|f| index.get(&f.pattern_id).map(|p| (f, p)))
        {
            count += 1;
            w.item();
            w.open(b'{');
            w.key("path");
            w.raw(&path);
            if span_fields.0.as_ref() == Some(&f.span) {
                w.raw(&span_fields.1);
            } else {
                let from = w.buf.len();
                w.key("start");
                w.position(r, f.span.start);
                w.key("end");
                w.position(r, f.span.end);
                w.key("matched");
                w.json(r.text.get(f.span.clone()).unwrap_or(""));
                span_fields.1.clear();
                span_fields.1.extend_from_slice(&w.buf[from..]);
                span_fields.0 = Some(f.span.clone());
            }
            w.key("severity");
            w.json(&f.severity);
            let depth = w.depth;
            let (before, after) = parts
                .entry(p as *const Pattern)
                .or_insert_with(|| pattern_parts(p, depth));
            w.raw(before);
            w.key("target");
            w.json(&f.target);
            w.key("message");
            let message = messages
                .entry((p as *const Pattern, f.target.as_deref()))
                .or_insert_with(|| escaped(&f.message(p)));
            w.raw(message);
            w.raw(after);
            w.key("fix");
            match &f.fix {
                None => w.raw(b"null"),
                Some(e) => {
                    w.open(b'{');
                    w.key("title");
                    w.json(&e.title);
                    w.key("replacement");
                    w.json(&e.replacement);
                    w.key("start");
                    w.position(r, e.span.start);
                    w.key("end");
                    w.position(r, e.span.end);
                    w.close(b'}');
                }
            }
            w.close(b'}');
            w.flush_full()?;
        }
    }
    w.close(b']');
    w.key("summary");
    w.open(b'{');
    w.key("files");
    w.json(&files);
    w.key("findings");
    w.json(&count);
    w.key("by_severity");
    w.json_pretty(&by_severity(reports));
    w.close(b'}');
    w.close(b'}');
    w.raw(b"\n");
    w.flush()
}

/// A pattern's fields of a JSON finding, rendered at `depth`: those between `severity` and
/// `target`, and those between `message` and `fix`.
fn pattern_parts(p: &Pattern, depth: usize) -> (Vec<u8>, Vec<u8>) {
    let mut sink = io::sink();
    let mut w = Pretty::new(&mut sink);
    (w.depth, w.first) = (depth, false);
    w.key("pattern_id");
    w.json(&p.id);
    w.key("signature");
    w.json(&p.pattern_signature);
    w.key("pattern_type");
    w.json(&p.pattern_type);
    let before = std::mem::take(&mut w.buf);
    w.key("root_cause");
    w.json(&p.root_cause);
    w.key("recommended_solution");
    w.json(&p.recommended_solution);
    w.key("alternatives");
    w.json_pretty(&p.alternative_approaches);
    (before, w.buf)
}

/// `s` as a JSON string.
fn escaped(s: &str) -> Vec<u8> {
    let mut v = Vec::with_capacity(s.len() + 2);
    // Writing to a Vec cannot fail; a str always serializes.
    let _ = serde_json::to_writer(&mut v, s);
    v
}

/// serde_json's pretty layout (two-space indent, `"key": value`, `[]` and `{}` when empty),
/// written into a buffer that is passed on to `out` in large pieces.
struct Pretty<'a> {
    buf: Vec<u8>,
    out: &'a mut dyn Write,
    depth: usize,
    /// Nothing written yet in the innermost open array or object.
    first: bool,
}

impl<'a> Pretty<'a> {
    const FLUSH_AT: usize = 1 << 16;

    fn new(out: &'a mut dyn Write) -> Pretty<'a> {
        Pretty {
            buf: Vec::with_capacity(Self::FLUSH_AT + 4096),
            out,
            depth: 0,
            first: true,
        }
    }

    fn newline(&mut self) {
        const LINE: &[u8] = b"\n                ";
        match LINE.get(..1 + 2 * self.depth) {
            Some(line) => self.buf.extend_from_slice(line),
            None => {
                self.buf.push(b'\n');
                self.buf.resize(self.buf.len() + 2 * self.depth, b' ');
            }
        }
    }

    fn open(&mut self, bracket: u8) {
        self.buf.push(bracket);
        self.depth += 1;
        self.first = true;
    }

    fn close(&mut self, bracket: u8) {
        self.depth -= 1;
        if !self.first {
            self.newline();
        }
        self.buf.push(bracket);
        self.first = false;
    }

    /// Starts an array element or an object entry.
    fn item(&mut self) {
        if !self.first {
            self.buf.push(b',');
        }
        self.newline();
        self.first = false;
    }

    /// Keys are field names: nothing in them needs escaping.
    fn key(&mut self, key: &str) {
        self.item();
        self.buf.push(b'"');
        self.buf.extend_from_slice(key.as_bytes());
        self.buf.extend_from_slice(b"\": ");
    }

    fn raw(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }

    /// A scalar (a string, number, enum or null), as serde_json writes it.
    fn json<T: serde::Serialize + ?Sized>(&mut self, value: &T) {
        // Writing to a Vec cannot fail, nor can serializing these types.
        let _ = serde_json::to_writer(&mut self.buf, value);
    }

    /// A value that may span lines, laid out at the current depth.
    fn json_pretty<T: serde::Serialize + ?Sized>(&mut self, value: &T) {
        let indent = vec![b' '; 2 * self.depth];
        let text = serde_json::to_vec_pretty(value).unwrap_or_default();
        for (i, line) in text.split(|&b| b == b'\n').enumerate() {
            if i > 0 {
                self.buf.push(b'\n');
                self.buf.extend_from_slice(&indent);
            }
            self.buf.extend_from_slice(line);
        }
    }

    /// A 1-based position: line and column (in characters), and the byte offset.
    fn position(&mut self, r: &FileReport, offset: usize) {
        let p = r.position(offset);
        self.open(b'{');
        self.key("line");
        self.json(&(p.line + 1));
        self.key("column");
        self.json(&(p.col + 1));
        self.key("offset");
        self.json(&offset);
        self.close(b'}');
    }

    fn flush_full(&mut self) -> io::Result<()> {
        if self.buf.len() >= Self::FLUSH_AT {
            self.out.write_all(&self.buf)?;
            self.buf.clear();
        }
        Ok(())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.out.write_all(&self.buf)?;
        self.buf.clear();
        self.out.flush()
    }
}

fn sarif_level(s: Severity) -> &'static str {
    match s {
        Severity::Blocking => "error",
        Severity::Major => "warning",
        Severity::Minor | Severity::Info => "note",
    }
}

/// SARIF 2.1.0 as GitHub code scanning accepts it: one rule per pattern that fired, with help
/// text. Laid out as serde_json's pretty printer lays out the whole document, but written one
/// result at a time: a document of tens of thousands of results held as one `Value` took
/// hundreds of megabytes.
fn sarif(
    out: &mut dyn Write,
    reports: &[FileReport],
    index: &PatternIndex,
    warnings: &[String],
) -> io::Result<()> {
    let mut rules = Vec::new();
    let mut rule_index: FxHashMap<&str, usize> = FxHashMap::default();
    for (_, _, p) in findings(reports, index) {
        if !rule_index.contains_key(p.id.as_str()) {
            rule_index.insert(&p.id, rules.len());
            rules.push(sarif_rule(p));
        }
    }
    let document = json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "forewarn",
                "version": env!("CARGO_PKG_VERSION"),
                "informationUri": "https://github.com/forewarn/forewarn",
                "rules": rules,
            }},
            "columnKind": "unicodeCodePoints",
            "invocations": [{
                "executionSuccessful": true,
                "toolExecutionNotifications": warnings
                    .iter()
                    .map(|w| json!({"level": "warning", "message": {"text": w}}))
                    .collect::<Vec<_>>(),
            }],
            "results": [],
        }],
    });
    // The document with its results left empty, split where they go (the last key written).
    let text = serde_json::to_string_pretty(&document).map_err(io::Error::other)?;
    const EMPTY: &str = "\"results\": []";
    let at = text.rfind(EMPTY).unwrap_or(text.len());
    let (head, tail) = (&text[..at], text.get(at + EMPTY.len()..).unwrap_or(""));
    let mut w = io::BufWriter::with_capacity(1 << 16, out);
    w.write_all(head.as_bytes())?;
    w.write_all(b"\"results\": [")?;
    // How often each (file, pattern, matched text) was seen so far: identical findings in one
    // file get distinct fingerprints, stable while the file's order of them stays.
    let mut seen: FxHashMap<(&str, &str, &str), usize> = FxHashMap::default();
    // A result is an item of `runs[0].results`: four levels deep.
    const INDENT: &str = "\n        ";
    let mut any = false;
    for (r, f, p) in findings(reports, index) {
        let matched = r.text.get(f.span.clone()).unwrap_or("");
        let nth = seen
            .entry((r.path.as_str(), p.id.as_str(), matched))
            .or_insert(0);
        *nth += 1;
        let result = sarif_result(r, f, p, rule_index[p.id.as_str()], *nth);
        w.write_all(if any { b"," } else { b"" })?;
        any = true;
        let pretty = serde_json::to_string_pretty(&result).map_err(io::Error::other)?;
        for line in pretty.split('\n') {
            w.write_all(INDENT.as_bytes())?;
            w.write_all(line.as_bytes())?;
        }
    }
    if any {
        w.write_all(b"\n      ")?;
    }
    w.write_all(b"]")?;
    w.write_all(tail.as_bytes())?;
    writeln!(w)?;
    w.flush()
}

/// The SARIF rule of a pattern, with its help text in plain text and markdown.
fn sarif_rule(p: &Pattern) -> Value {
    let mut help = format!(
        "{}\n\nRoot cause: {}\n\nSolution: {}",
        p.failure_description, p.root_cause, p.recommended_solution
    );
    let mut md = format!(
        "{}\n\n**Root cause:** {}\n\n**Solution:** {}",
        p.failure_description, p.root_cause, p.recommended_solution
    );
    if !p.alternative_approaches.is_empty() {
        help.push_str("\n\nAlternatives:");
        md.push_str("\n\n**Alternatives:**\n");
        for a in &p.alternative_approaches {
            help.push_str(&format!("\n- {a}"));
            md.push_str(&format!("\n- {a}"));
        }
    }
    if !p.references.is_empty() {
        md.push_str("\n\n**References:**\n");
        for link in &p.references {
            md.push_str(&format!("\n- <{link}>"));
        }
    }
    let mut rule = json!({
        "id": p.id,
        "name": rule_name(&p.pattern_signature),
        "shortDescription": {"text": p.pattern_signature},
        "fullDescription": {"text": p.failure_description},
        "help": {"text": help, "markdown": md},
        "defaultConfiguration": {"level": sarif_level(p.severity)},
        "properties": {
            "tags": p.affected_systems.iter().cloned().chain([p.pattern_type.to_string()]).collect::<Vec<_>>(),
            "problem.severity": sarif_level(p.severity),
        },
    });
    if let Some(link) = p.references.first() {
        rule["helpUri"] = json!(link);
    }
    rule
}

/// The SARIF result of a finding: the `nth` with its pattern and matched text in its file.
fn sarif_result(r: &FileReport, f: &Finding, p: &Pattern, rule_index: usize, nth: usize) -> Value {
    let start = r.position(f.span.start);
    let end = r.position(f.span.end);
    let matched = r.text.get(f.span.clone()).unwrap_or("");
    let mut result = json!({
        "ruleId": p.id,
        "ruleIndex": rule_index,
        "level": sarif_level(f.severity),
        "message": {"text": f.message(p)},
        "locations": [{"physicalLocation": {
            "artifactLocation": artifact_location(&r.path),
            "region": {
                "startLine": start.line + 1, "startColumn": start.col + 1,
                "endLine": end.line + 1, "endColumn": end.col + 1,
                "snippet": {"text": matched},
            },
        }}],
        "partialFingerprints": {"forewarn/v1": format!("{}:{}:{}", p.id, matched, nth)},
    });
    if let Some(edit) = &f.fix {
        let s = r.position(edit.span.start);
        let e = r.position(edit.span.end);
        result["fixes"] = json!([{
            "description": {"text": edit.title},
            "artifactChanges": [{
                "artifactLocation": artifact_location(&r.path),
                "replacements": [{
                    "deletedRegion": {"startLine": s.line + 1, "startColumn": s.col + 1, "endLine": e.line + 1, "endColumn": e.col + 1},
                    "insertedContent": {"text": edit.replacement},
                }],
            }],
        }]);
    }
    result
}

/// A SARIF artifact location: a relative path as a URI reference against `%SRCROOT%`, an
/// absolute one as a `file://` URI; both percent-encoded (a space or `#` in a file name would
/// otherwise make an invalid URI or a fragment).
fn artifact_location(path: &str) -> Value {
    let encoded: String = path
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b'/' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect();
    if path.starts_with('/') {
        json!({"uri": format!("file://{encoded}")})
    } else {
        json!({"uri": encoded, "uriBaseId": "%SRCROOT%"})
    }
}

/// A rule name in SARIF's PascalCase style, from the signature.
fn rule_name(signature: &str) -> String {
    signature
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|w| {
            let mut cs = w.chars();
            cs.next()
                .map(|c| c.to_uppercase().chain(cs).collect::<String>())
                .unwrap_or_default()
        })
        .collect()
}

/// `::error file=…,line=…::message` workflow commands.
fn github(
    out: &mut dyn Write,
    reports: &[FileReport],
    index: &PatternIndex,
    warnings: &[String],
) -> io::Result<()> {
    for w in warnings {
        writeln!(
            out,
            "::warning title={}::{}",
            gh_property("forewarn: configuration"),
            gh_data(w)
        )?;
    }
    for (r, f, p) in findings(reports, index) {
        let level = match f.severity {
            Severity::Blocking => "error",
            Severity::Major => "warning",
            Severity::Minor | Severity::Info => "notice",
        };
        let s = r.position(f.span.start);
        let e = r.position(f.span.end);
        let message = format!("{}\nSolution: {}", f.message(p), p.recommended_solution);
        writeln!(
            out,
            "::{level} file={},line={},col={},endLine={},endColumn={},title={}::{}",
            gh_property(&r.path),
            s.line + 1,
            s.col + 1,
            e.line + 1,
            e.col + 1,
            gh_property(&format!("forewarn: {}", p.pattern_signature)),
            gh_data(&message)
        )?;
    }
    Ok(())
}

fn gh_data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

fn gh_property(s: &str) -> String {
    gh_data(s).replace(':', "%3A").replace(',', "%2C")
}

struct Style {
    color: bool,
}

impl Style {
    fn paint(&self, code: &str, s: &str) -> String {
        if self.color {
            format!("\x1b[{code}m{s}\x1b[0m")
        } else {
            s.to_string()
        }
    }

    fn severity(&self, s: Severity) -> String {
        let code = match s {
            Severity::Blocking => "1;31",
            Severity::Major => "1;33",
            Severity::Minor => "1;36",
            Severity::Info => "1;34",
        };
        self.paint(code, s.as_str())
    }
}

/// How many characters of a line are shown before and after a finding's span (and of the span):
/// a generated or minified line may be megabytes long, and drawing all of it for each of its
/// findings made the report quadratic. As rustc does, what is cut is marked `…`.
const CONTEXT_CHARS: usize = 120;

/// The source line as displayed (tabs expanded, cut to [`CONTEXT_CHARS`] around the span) and
/// the display columns of a byte range in it.
fn display_line(line: &str, span: std::ops::Range<usize>) -> (String, usize, usize) {
    let floor = |at: usize| crate::text::floor_char_boundary(line, at);
    let span = floor(span.start)..floor(span.end).max(floor(span.start));
    let nth_char = |text: &str, n: usize| text.char_indices().nth(n).map(|(i, _)| i);
    let from = line[..span.start]
        .char_indices()
        .rev()
        .nth(CONTEXT_CHARS - 1)
        .map_or(0, |(i, _)| i);
    let span_end =
        nth_char(&line[span.start..span.end], CONTEXT_CHARS).map_or(span.end, |i| span.start + i);
    let to = nth_char(&line[span_end..], CONTEXT_CHARS).map_or(line.len(), |i| span_end + i);
    let mut shown = String::new();
    let mut col = 0usize;
    if from > 0 {
        shown.push('…');
        col += 1;
    }
    let (start, end) = display_window(
        &line[from..to],
        span.start - from..span_end - from,
        &mut shown,
        &mut col,
    );
    if to < line.len() {
        shown.push('…');
    }
    (shown, start, end)
}

/// [`display_line`] of the part of a line shown, which starts at display column `col`.
fn display_window(
    line: &str,
    span: std::ops::Range<usize>,
    shown: &mut String,
    col: &mut usize,
) -> (usize, usize) {
    let col0 = *col;
    let (mut col, mut start, mut end) = (col0, None, None);
    for (i, ch) in line.char_indices() {
        if i >= span.start && start.is_none() {
            start = Some(col);
        }
        if i >= span.end && end.is_none() {
            end = Some(col);
        }
        if ch == '\t' {
            let n = 4 - col % 4;
            shown.push_str(&" ".repeat(n));
            col += n;
        } else if ch.is_control() {
            shown.push(' ');
            col += 1;
        } else {
            shown.push(ch);
            col += ch.width().unwrap_or(0);
        }
    }
    let start = start.unwrap_or(col);
    let end = end.unwrap_or(col).max(start + 1);
    (start, end)
}

fn human(
    out: &mut dyn Write,
    reports: &[FileReport],
    files: usize,
    index: &PatternIndex,
    color: bool,
    shown_from: Severity,
) -> io::Result<()> {
    let st = Style { color };
    for (r, f, p) in findings(reports, index) {
        let start = r.position(f.span.start);
        let line_no = start.line as usize;
        let target = match &f.target {
            Some(t) => format!(" (target: {t})"),
            None if p.affected_systems.is_empty() => String::new(),
            None => format!(
                " (no target set; affects {})",
                p.affected_systems.join(", ")
            ),
        };
        writeln!(
            out,
            "{}: {}{}",
            st.paint(
                "1",
                &format!("{}:{}:{}", r.path, start.line + 1, start.col + 1)
            ),
            format_args!("{}: ", st.severity(f.severity)),
            format_args!("{}{}", st.paint("1", &p.pattern_signature), target)
        )?;
        let range = r.lines.line_range(&r.text, line_no);
        let line = &r.text[range.clone()];
        let span_end = f.span.end.min(range.end).max(f.span.start);
        let (shown, a, b) = display_line(line, f.span.start - range.start..span_end - range.start);
        let gutter = (line_no + 1).to_string();
        let pad = " ".repeat(gutter.len());
        writeln!(out, "{pad} {}", st.paint("1;34", "|"))?;
        writeln!(
            out,
            "{} {} {}",
            st.paint("1;34", &gutter),
            st.paint("1;34", "|"),
            shown.trim_end()
        )?;
        let sev_color = match f.severity {
            Severity::Blocking => "1;31",
            Severity::Major => "1;33",
            Severity::Minor => "1;36",
            Severity::Info => "1;34",
        };
        writeln!(
            out,
            "{pad} {} {}{} {}",
            st.paint("1;34", "|"),
            " ".repeat(a),
            st.paint(sev_color, &"^".repeat(b - a)),
            st.paint(sev_color, p.failure_description.trim())
        )?;
        writeln!(out, "{pad} {}", st.paint("1;34", "|"))?;
        if !p.root_cause.trim().is_empty() {
            writeln!(
                out,
                "{pad} {} {}",
                st.paint("1;34", "= cause:"),
                p.root_cause.trim()
            )?;
        }
        if !p.recommended_solution.trim().is_empty() {
            writeln!(
                out,
                "{pad} {} {}",
                st.paint("1;32", "= fix:"),
                p.recommended_solution.trim()
            )?;
        }
        if let Some(edit) = &f.fix {
            writeln!(
                out,
                "{pad} {} {} → `{}`",
                st.paint("1;32", "= autofix:"),
                edit.title,
                edit.replacement
            )?;
        }
        for alt in &p.alternative_approaches {
            writeln!(out, "{pad} {} {}", st.paint("1;34", "= also:"), alt.trim())?;
        }
        writeln!(out)?;
    }
    let counts = by_severity(reports);
    let total: usize = counts.values().sum();
    let hidden = hidden_note(reports, shown_from, &st);
    if files == 0 {
        // Nothing was read (a missing path, no script in a directory): no check mark for that.
        writeln!(out, "No scripts were checked.")
    } else if total == 0 {
        let above = match hidden.is_empty() {
            true => String::new(),
            false => format!(" at or above {}", shown_from.as_str()),
        };
        writeln!(
            out,
            "{} No known failures{above} in {files} file{}{hidden}.",
            st.paint("1;32", "✓"),
            plural(files)
        )
    } else {
        let parts: Vec<String> = Severity::ALL
            .iter()
            .filter_map(|s| {
                counts
                    .get(s.as_str())
                    .map(|n| format!("{n} {}", st.severity(*s)))
            })
            .collect();
        writeln!(
            out,
            "Found {total} finding{} in {files} file{} ({}){hidden}.",
            plural(total),
            plural(files),
            parts.join(", ")
        )
    }
}

/// `; 3 more below major not shown (2 minor, 1 info: --severity info shows them)`, or nothing
/// when the threshold hid nothing: a clean summary must not read as no findings at all.
fn hidden_note(reports: &[FileReport], shown_from: Severity, st: &Style) -> String {
    let mut by = [0usize; 4];
    for r in reports {
        for (n, h) in by.iter_mut().zip(r.hidden) {
            *n += h;
        }
    }
    let total: usize = by.iter().sum();
    if total == 0 {
        return String::new();
    }
    let parts: Vec<String> = Severity::ALL
        .iter()
        .filter(|s| by[**s as usize] > 0)
        .map(|s| format!("{} {}", by[*s as usize], st.severity(*s)))
        .collect();
    let lowest = Severity::ALL
        .iter()
        .rev()
        .find(|s| by[**s as usize] > 0)
        .map_or("info", |s| s.as_str());
    format!(
        "; {total} more below {} not shown ({}: --severity {lowest} shows them)",
        shown_from.as_str(),
        parts.join(", ")
    )
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The report as serde_json writes it from a `Value` built field by field: what the
    /// hand-written layout must reproduce byte for byte.
    fn json_by_serde(reports: &[FileReport], files: usize, index: &PatternIndex) -> String {
        let position = |r: &FileReport, offset: usize| {
            let p = r.position(offset);
            json!({"line": p.line + 1, "column": p.col + 1, "offset": offset})
        };
        let findings: Vec<Value> = findings(reports, index)
            .map(|(r, f, p)| {
                json!({
                    "path": r.path,
                    "start": position(r, f.span.start),
                    "end": position(r, f.span.end),
                    "matched": r.text.get(f.span.clone()).unwrap_or(""),
                    "severity": f.severity,
                    "pattern_id": p.id,
                    "signature": p.pattern_signature,
                    "pattern_type": p.pattern_type,
                    "target": f.target,
                    "message": f.message(p),
                    "root_cause": p.root_cause,
                    "recommended_solution": p.recommended_solution,
                    "alternatives": p.alternative_approaches,
                    "fix": f.fix.as_ref().map(|e| json!({
                        "title": e.title,
                        "replacement": e.replacement,
                        "start": position(r, e.span.start),
                        "end": position(r, e.span.end),
                    })),
                })
            })
            .collect();
        let report = json!({
            "version": 1,
            "summary": {
                "files": files,
                "findings": findings.len(),
                "by_severity": by_severity(reports),
            },
            "findings": findings,
        });
        // `preserve_order` keeps insertion order: put the keys in the contract's order.
        let report = json!({
            "version": report["version"],
            "findings": report["findings"],
            "summary": report["summary"],
        });
        serde_json::to_string_pretty(&report).unwrap() + "\n"
    }

    #[test]
    fn json_is_what_serde_json_would_write() {
        use crate::engine::scan::Edit;
        use crate::engine::PatternType;
        let pattern = |id: &str, systems: &[&str], alternatives: &[&str]| Pattern {
            affected_systems: systems.iter().map(|s| s.to_string()).collect(),
            alternative_approaches: alternatives.iter().map(|s| s.to_string()).collect(),
            root_cause: "Needs \"quotes\",\ttabs\nand \u{1}controls; ünïcode ✓".into(),
            recommended_solution: "Use `x` \\ y.".into(),
            triggering_commands: vec!["sed".into()],
            references: vec!["https://example.invalid/a?b=\"c\"".into()],
            ..Pattern::new(id, PatternType::CommandCompatibility, "sig \"q\"", "fails.")
        };
        let index = PatternIndex::build(
            vec![
                pattern("p1", &["debian-12"], &["one", "tw\"o"]),
                pattern("p2", &[], &[]),
            ],
            vec![],
            vec![],
        );
        // (The findings below are rendered only for patterns the index holds.)
        assert!(index.get("p1").is_some() && index.get("p2").is_some());
        let finding = |id: &str, span: std::ops::Range<usize>, target: Option<&str>| Finding {
            pattern_id: id.into(),
            span,
            severity: Severity::Major,
            target: target.map(str::to_string),
            fix: None,
        };
        let report = |path: &str, text: &str, findings: Vec<Finding>| FileReport {
            path: path.into(),
            lines: LineIndex::new(text),
            text: text.into(),
            language: Language::Bash,
            findings,
            unknown_targets: vec![],
            positions: Default::default(),
            hidden: [0; 4],
        };
        let text = "ls\n  日本 sed -i x\r\n\tsed \"a\\b\"\n";
        let sed = text.find("sed").unwrap();
        let reports = vec![
            report("a \"b\".sh", "", vec![]),
            report(
                "dir/c.sh",
                text,
                vec![
                    finding("p1", sed..sed + 6, Some("debian-12")),
                    Finding {
                        severity: Severity::Blocking,
                        fix: Some(Edit {
                            title: "Replace \"sed\"".into(),
                            span: sed..sed + 6,
                            replacement: "gsed\t-i".into(),
                        }),
                        ..finding("p2", sed..sed + 6, Some("web\\1"))
                    },
                    finding("p1", sed..sed + 3, None),
                    // A finding whose pattern vanished is left out.
                    finding("gone", 0..2, None),
                    finding("p1", text.len() - 9..text.len(), Some("debian-12")),
                    finding("p2", text.len() - 9..text.len(), Some("debian-12")),
                ],
            ),
            // The same span in another file is another text.
            report(
                "d.sh",
                &"x\n".repeat(text.len()),
                vec![finding("p2", text.len() - 9..text.len(), None)],
            ),
        ];
        let mut out = Vec::new();
        write(
            &mut out,
            Format::Json,
            &reports,
            &index,
            Run {
                files: 3,
                color: false,
                shown_from: Severity::Info,
                warnings: &[],
            },
        )
        .unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            json_by_serde(&reports, 3, &index)
        );
        // No findings at all: empty array and object.
        let mut out = Vec::new();
        write(
            &mut out,
            Format::Json,
            &reports[..1],
            &index,
            Run {
                files: 1,
                color: false,
                shown_from: Severity::Info,
                warnings: &[],
            },
        )
        .unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            json_by_serde(&reports[..1], 1, &index)
        );
        // SARIF, written result by result, is laid out as serde_json lays out the whole
        // document; each result names its rule by index.
        for (reports, warnings) in [
            (&reports[..], vec![]),
            (&reports[..1], vec!["unknown target \"x\"".to_string()]),
        ] {
            let mut out = Vec::new();
            let run = Run {
                files: reports.len(),
                color: false,
                shown_from: Severity::Info,
                warnings: &warnings,
            };
            write(&mut out, Format::Sarif, reports, &index, run).unwrap();
            let text = String::from_utf8(out).unwrap();
            let doc: Value = serde_json::from_str(&text).unwrap();
            assert_eq!(text, serde_json::to_string_pretty(&doc).unwrap() + "\n");
            let run = &doc["runs"][0];
            let results = run["results"].as_array().unwrap();
            let shown = reports.iter().flat_map(|r| &r.findings);
            assert_eq!(
                results.len(),
                shown.filter(|f| f.pattern_id != "gone").count()
            );
            for r in results {
                let rule =
                    &run["tool"]["driver"]["rules"][r["ruleIndex"].as_u64().unwrap() as usize];
                assert_eq!(rule["id"], r["ruleId"]);
            }
            assert_eq!(
                run["invocations"][0]["toolExecutionNotifications"]
                    .as_array()
                    .unwrap()
                    .len(),
                warnings.len()
            );
        }
    }

    #[test]
    fn the_human_summary_counts_what_the_threshold_hid() {
        let index = PatternIndex::build(vec![], vec![], vec![]);
        let report = |hidden: [usize; 4]| FileReport {
            path: "a.sh".into(),
            lines: LineIndex::new(""),
            text: String::new(),
            language: Language::Bash,
            findings: vec![],
            unknown_targets: vec![],
            positions: Default::default(),
            hidden,
        };
        let summary = |reports: &[FileReport], from: Severity, format: Format| {
            let mut out = Vec::new();
            write(
                &mut out,
                format,
                reports,
                &index,
                Run {
                    files: reports.len(),
                    color: false,
                    shown_from: from,
                    warnings: &[],
                },
            )
            .unwrap();
            String::from_utf8(out).unwrap()
        };
        // Info, minor, major, blocking: two files' counts add up.
        let reports = [report([2, 1, 0, 0]), report([1, 0, 3, 0])];
        assert_eq!(
            summary(&reports, Severity::Blocking, Format::Human),
            "✓ No known failures at or above blocking in 2 files; 7 more below blocking not shown (3 major, 1 minor, 3 info: --severity info shows them).\n"
        );
        assert_eq!(
            summary(&[report([0; 4])], Severity::Blocking, Format::Human),
            "✓ No known failures in 1 file.\n"
        );
        let json = summary(&reports, Severity::Blocking, Format::Json);
        assert!(!json.contains("shown"), "{json}");
    }

    #[test]
    fn underline_columns_follow_display_width() {
        let (shown, a, b) = display_line("\t日本 sed -i", 8..11);
        assert_eq!(shown, "    日本 sed -i");
        assert_eq!((a, b), (9, 12));
    }

    #[test]
    fn positions_counted_from_the_last_ones_are_the_line_index_positions() {
        let text = format!("ls\n{}\n日本 x\n", "tac f; 日本; ".repeat(2000));
        let r = FileReport {
            path: "a.sh".into(),
            lines: LineIndex::new(&text),
            text: text.clone(),
            language: Language::Bash,
            findings: vec![],
            unknown_targets: vec![],
            positions: Default::default(),
            hidden: [0; 4],
        };
        let tacs: Vec<usize> = text.match_indices("tac").map(|(i, _)| i).collect();
        // As a report asks: start, end, the same start again, forward, then back and elsewhere.
        let mut asked = Vec::new();
        for &t in &tacs {
            asked.extend([t, t + 3, t, t + 5]);
        }
        asked.extend([tacs[7], 1, text.len() - 2, tacs[3] + 1, text.len()]);
        for at in asked {
            assert_eq!(
                r.position(at),
                r.lines.position(&text, at, Encoding::Chars),
                "offset {at}"
            );
        }
    }

    #[test]
    fn a_long_line_is_shown_around_the_span() {
        let line = format!("{}sed -i{}", "a && ".repeat(10_000), " && b".repeat(10_000));
        let at = line.find("sed").unwrap();
        let (shown, a, b) = display_line(&line, at..at + 6);
        assert!(shown.starts_with('…') && shown.ends_with('…'), "{shown}");
        assert_eq!(shown.chars().count(), 1 + 120 + 6 + 120 + 1);
        assert_eq!(
            shown.chars().skip(a).take(b - a).collect::<String>(),
            "sed -i"
        );
        // A span longer than what is shown is cut too; a short line is shown whole.
        let (shown, a, b) = display_line(&line, 0..line.len());
        assert_eq!((shown.chars().count(), a, b), (241, 0, 120));
        assert_eq!(display_line("x sed -i y", 2..8).0, "x sed -i y");
        // Offsets inside a character count as its start.
        assert_eq!(display_line("é sed", 1..4), ("é sed".to_string(), 0, 3));
    }

    #[test]
    fn sarif_uris_are_encoded() {
        assert_eq!(
            artifact_location("nas/my script#1.sh"),
            json!({"uri": "nas/my%20script%231.sh", "uriBaseId": "%SRCROOT%"})
        );
        assert_eq!(
            artifact_location("/tmp/x y.sh"),
            json!({"uri": "file:///tmp/x%20y.sh"})
        );
        assert_eq!(artifact_location("<stdin>")["uri"], "%3Cstdin%3E");
    }

    #[test]
    fn github_escaping() {
        assert_eq!(gh_data("a%b\nc"), "a%25b%0Ac");
        assert_eq!(gh_property("a:b,c"), "a%3Ab%2Cc");
        assert_eq!(rule_name("GNU sed -i on BSD/macOS"), "GNUSedIOnBSDMacOS");
    }
}
