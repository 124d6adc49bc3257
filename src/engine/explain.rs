//! `explain`: which patterns recognise a piece of error output, and what to do about it.

use std::ops::Range;

use super::index::PatternIndex;
use super::target::Target;

/// A pattern whose error_pattern matched.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Explanation {
    pub pattern_id: String,
    /// Bytes of the error text that matched.
    pub span: Range<usize>,
}

/// The active patterns whose error_pattern matches `text` and that apply on `target` (every
/// active pattern when the target is unknown), most severe first.
pub fn explain(text: &str, target: Option<&Target>, index: &PatternIndex) -> Vec<Explanation> {
    let mut matches = index.error_matches(text);
    for (line, span) in restated(text) {
        for (pi, _) in index.error_matches(&line) {
            if !matches.iter().any(|(seen, _)| *seen == pi) {
                matches.push((pi, span.clone()));
            }
        }
    }
    let mut out: Vec<(Explanation, crate::engine::Severity)> = matches
        .into_iter()
        .filter_map(|(pi, span)| {
            let p = index.pattern(pi);
            let applies = p.is_active && target.is_none_or(|t| t.applies(p));
            applies.then(|| {
                (
                    Explanation {
                        pattern_id: p.id.clone(),
                        span,
                    },
                    p.severity,
                )
            })
        })
        .collect();
    out.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.span.start.cmp(&b.0.span.start)));
    out.into_iter().map(|(e, _)| e).collect()
}

/// The patterns word a missing command as bash and dash print it (`X: command not found`); zsh
/// (`zsh: command not found: X`, `zsh:3: command not found: X` in a script) and fish
/// (`fish: Unknown command: X`) say it otherwise. Each such line, restated in bash's words, with
/// the span of the line it restates.
pub(crate) fn restated(text: &str) -> Vec<(String, Range<usize>)> {
    static OTHER_SHELLS: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
    let re = OTHER_SHELLS.get_or_init(|| {
        regex::Regex::new(
            r"(?m)^[ \t]*(?:zsh(?::\d+)?: command not found: |fish: Unknown command:? )'?([^'\s]+)'?[ \t\r]*$",
        )
        .expect("a valid regex")
    });
    re.captures_iter(text)
        .filter_map(|c| {
            let (line, name) = (c.get(0)?, c.get(1)?);
            Some((
                format!("{}: command not found", name.as_str()),
                line.range(),
            ))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn other_shells_missing_commands_are_read_as_bash_words_them() {
        let text = "zsh: command not found: nproc\nzsh:12: command not found: tac\nfish: Unknown command: timeout\nbash: free: command not found\n";
        let got = restated(text);
        let names: Vec<&str> = got.iter().map(|(l, _)| l.as_str()).collect();
        assert_eq!(
            names,
            [
                "nproc: command not found",
                "tac: command not found",
                "timeout: command not found"
            ]
        );
        assert_eq!(&text[got[1].1.clone()], "zsh:12: command not found: tac");
        let index = PatternIndex::build(crate::store::default_patterns(), vec![], vec![]);
        for (zsh, bash) in [
            (
                "zsh: command not found: nproc",
                "bash: nproc: command not found",
            ),
            (
                "zsh: command not found: python",
                "bash: python: command not found",
            ),
            ("fish: Unknown command: tac", "tac: command not found"),
        ] {
            let ids = |t: &str| -> Vec<String> {
                explain(t, None, &index)
                    .into_iter()
                    .map(|e| e.pattern_id)
                    .collect()
            };
            let found = ids(zsh);
            assert!(!found.is_empty(), "{zsh}");
            assert_eq!(found, ids(bash), "{zsh}");
            assert_eq!(explain(zsh, None, &index)[0].span, 0..zsh.len());
        }
    }
}
