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

/// Everything the directives of one file say.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Directives {
    pub target: Option<String>,
    pub disable_file: bool,
    pub ignores: Vec<Ignore>,
}

impl Directives {
    /// The file's target: the in-file directive, else `default` (configuration, command line).
    pub fn target_or(&self, default: Option<&str>) -> Option<String> {
        self.target.clone().or_else(|| default.map(str::to_string))
    }

    pub fn parse(src: &str, lang: Language) -> Directives {
        let mut d = Directives::default();
        if !src.contains("forewarn:") {
            return d;
        }
        for (line_no, line) in src.lines().enumerate() {
            let Some(pos) = line.find("forewarn:") else {
                continue;
            };
            let before = &line[..pos];
            let Some(comment_start) = comment_start(before, lang) else {
                continue;
            };
            let body = line[pos + "forewarn:".len()..].trim();
            // A directive alone on its line applies to the next line; at the end of code, to its own.
            let alone = line[..comment_start].trim().is_empty();
            let applies_to = if alone { line_no + 1 } else { line_no };
            for word in body.split_whitespace() {
                let (key, value) = match word.split_once('=') {
                    Some((k, v)) => (k, Some(v)),
                    None => (word, None),
                };
                match key {
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
                            let rest = body[body.find("ignore=").map_or(0, |i| i + 7)..]
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
    fn batch_comments() {
        let d = Directives::parse("@echo off\r\nREM forewarn: target=OLDSRV\r\nwmic os get x & REM forewarn: ignore\r\n:: forewarn: disable-file\r\n", Language::Batch);
        assert_eq!(d.target.as_deref(), Some("OLDSRV"));
        assert!(d.ignores(2, "a", "b"));
        assert!(d.disable_file);
    }
}
