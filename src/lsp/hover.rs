//! Hover on a flagged command: everything the store knows about the pattern, as markdown
//! (DESIGN.md §8). Text from the store is escaped: it is data, not markup.

use tower_lsp_server::lsp_types::{Hover, HoverContents, MarkupContent, MarkupKind};

use crate::engine::{Finding, Pattern};
use crate::text::Encoding;

use super::analysis::Analysis;
use super::documents::range;

/// The hover for byte `offset` of the analyzed text, when a finding covers it.
pub fn hover(a: &Analysis, offset: usize, enc: Encoding) -> Option<Hover> {
    let found = a.findings_at(offset);
    let hits: Vec<(&Finding, &Pattern)> = found
        .iter()
        .filter_map(|f| Some((f, a.index.get(&f.pattern_id)?)))
        .collect();
    let (first, _) = hits.first()?;
    let value = hits
        .iter()
        .map(|(f, p)| markdown(f, p))
        .collect::<Vec<_>>()
        .join("\n\n---\n\n");
    Some(Hover {
        contents: HoverContents::Markup(MarkupContent {
            kind: MarkupKind::Markdown,
            value,
        }),
        range: Some(range(&a.line_index, &a.text, first.span.clone(), enc)),
    })
}

/// The markdown for one finding.
pub fn markdown(f: &Finding, p: &Pattern) -> String {
    let mut out = format!(
        "**{}** ({}",
        escape(&p.pattern_signature),
        f.severity.as_str()
    );
    match &f.target {
        Some(t) => out.push_str(&format!(", target {}", escape(t))),
        None => out.push_str(", no target set"),
    }
    out.push_str(")\n\n");
    out.push_str(&escape(&p.failure_description));
    let section = |out: &mut String, title: &str, body: &str| {
        if !body.trim().is_empty() {
            out.push_str(&format!("\n\n**{title}:** {}", escape(body.trim())));
        }
    };
    section(&mut out, "Root cause", &p.root_cause);
    section(&mut out, "Solution", &p.recommended_solution);
    if !p.alternative_approaches.is_empty() {
        out.push_str("\n\n**Alternatives:**\n");
        for a in &p.alternative_approaches {
            out.push_str(&format!("\n- {}", escape(a.trim())));
        }
    }
    if !p.affected_systems.is_empty() {
        let systems: Vec<String> = p.affected_systems.iter().map(|s| escape(s)).collect();
        out.push_str(&format!("\n\n**Affected systems:** {}", systems.join(", ")));
    }
    let times = match p.occurrence_count {
        n if n <= 0 => "not yet on record".to_string(),
        1 => "1 time".to_string(),
        n => format!("{n} times"),
    };
    out.push_str(&format!("\n\n**Seen:** {times}"));
    if let Some(last) = p
        .last_seen
        .as_deref()
        .filter(|s| !s.trim().is_empty() && p.occurrence_count > 0)
    {
        out.push_str(&format!(", last on {}", escape(last)));
    }
    out
}

/// Escapes every character CommonMark could read as markup (any ASCII punctuation may be
/// backslash-escaped); line breaks become hard breaks so the text keeps its lines.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    for ch in s.chars() {
        match ch {
            '\\' | '`' | '*' | '_' | '{' | '}' | '[' | ']' | '<' | '>' | '(' | ')' | '#' | '+'
            | '-' | '.' | '!' | '|' | '~' | '&' | '"' | '=' => {
                out.push('\\');
                out.push(ch);
            }
            '\r' => {}
            '\n' => out.push_str("  \n"),
            _ => out.push(ch),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn store_text_cannot_become_markup() {
        assert_eq!(
            escape("*bold* [x](http://e) <b>`c`</b> # h"),
            r"\*bold\* \[x\]\(http://e\) \<b\>\`c\`\</b\> \# h"
        );
        assert_eq!(escape("a\nb"), "a  \nb");
    }
}
