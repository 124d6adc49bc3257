//! Reading ordinary statements without tree-sitter.
//!
//! tree-sitter is about two thirds of a large scan's instructions (it reads bash at ~5 MB/s
//! and PowerShell at ~4 MB/s on the reference machine, and walking its trees costs as much
//! again per node), and most statements a script holds are ordinary: a pipeline of plain
//! commands, an assignment from a substitution. For those the walk's answer is simple — each
//! command's name and text, the code between the quoted data — and a hand-written reader
//! gives it in a small fraction of the time.
//!
//! A reader per language accepts a stretch of top-level statements only when it is sure what
//! every byte of it is, and then gives *exactly* what a tree-sitter parse of that stretch gives
//! (commands, code regions, argument words); anything it is not sure of (a keyword, a wrapper,
//! a name that runs code, an escape, a heredoc) it declines, and the stretch goes to
//! tree-sitter as before. The tests in this module hold the two to the same output on every
//! stretch the reader accepts, over the example scripts, the synthetic workloads and the
//! walks' own test corpora.
//!
//! Used by the sparse path ([`super::sparse::parse_ranges_with`]) only: stretches there start
//! and end between top-level statements, which is what the readers assume.

pub(crate) mod bash;
pub(crate) mod powershell;

use std::ops::Range;

use super::os::{Ending, Passed};
use super::{Language, Parsed};

/// A reader for the stretches of one document, made once per thread of a sparse parse.
pub(crate) struct Reader<'d> {
    src: &'d str,
    lang: Language,
    /// What the checks that end the script prove for the code after each.
    passed: Passed,
    /// PowerShell: the document declares it runs on PowerShell 6 or later.
    pwsh: bool,
}

impl<'d> Reader<'d> {
    /// A reader for `src` in `lang`, whose checks that end the script are `endings` (read from
    /// the whole document, as the tree-sitter parse of a stretch is told them).
    pub(crate) fn new(src: &'d str, lang: Language, endings: &[Ending]) -> Reader<'d> {
        let mut endings = endings.to_vec();
        // As `bash::walk_tree` does: a piece parsed alone is told what the checks before it
        // proved.
        if lang == Language::Bash {
            if let Some(passed) = super::os::passed() {
                endings.push(Ending { from: 0, ..passed });
            }
        }
        Reader {
            src,
            lang,
            passed: Passed::new(endings),
            pwsh: lang == Language::PowerShell && super::powershell::declares_pwsh(src),
        }
    }

    /// Adds what the whole top-level statements of `span` hold to `out` and returns true; or,
    /// when this reader is not sure of all of it, returns false and leaves `out` as it was.
    pub(crate) fn read(&self, span: Range<usize>, out: &mut Parsed) -> bool {
        let Some(text) = self.src.get(span.clone()) else {
            return false;
        };
        // tree-sitter reads a rewrite of the text (`sparse::parse_ranges_with`); the readers
        // read the text. The PowerShell reader follows the grammar's reading of the rewrite
        // itself (see `powershell`): what it accepts, `patch_ps7` only renames or leaves in
        // data. bash's `patch_heredocs` rewrites only around a `<<`, which the bash reader
        // declines; a stretch holding one anywhere (even quoted) is left to tree-sitter.
        if self.lang == Language::Bash && memchr::memmem::find(text.as_bytes(), b"<<").is_some() {
            return false;
        }
        let before = (
            out.commands.len(),
            out.code.len(),
            out.words.len(),
            out.version_blocks.len(),
        );
        let read = match self.lang {
            Language::Bash => bash::read(self.src, span, &self.passed, out),
            Language::PowerShell => powershell::read(self.src, span, &self.passed, self.pwsh, out),
            Language::Batch => false,
        };
        if !read {
            out.commands.truncate(before.0);
            out.code.truncate(before.1);
            out.words.truncate(before.2);
            out.version_blocks.truncate(before.3);
        }
        read
    }
}

/// What a sparse parse of `src` is told holds for its stretches: the checks that end the
/// script, and what its `#Requires` lines declare.
#[cfg(test)]
pub(crate) fn document_endings(src: &str, lang: Language) -> Vec<Ending> {
    match lang {
        Language::Bash => super::bash::endings(src),
        Language::PowerShell => {
            let mut endings = super::powershell::endings(src);
            endings.extend(super::powershell::requires(src).ending());
            endings
        }
        Language::Batch => Vec::new(),
    }
}

/// Every stretch between the statement cuts of `src` that the reader accepts gives what a
/// tree-sitter parse of that stretch alone gives. Returns how many stretches there were and
/// how many the reader accepted, for tests that also hold it to reading the common ones.
#[cfg(test)]
pub(crate) fn assert_reads_as_tree_sitter(name: &str, src: &str, lang: Language) -> (usize, usize) {
    use super::sparse::{self, Cut};
    let Some(lexed) = sparse::lex(src, lang) else {
        return (0, 0);
    };
    let endings = document_endings(src, lang);
    // tree-sitter reads a same-length rewrite, as in a sparse parse.
    let patched = match lang {
        Language::PowerShell => super::powershell::patch_ps7(src),
        Language::Bash => super::bash::patch_heredocs(src),
        Language::Batch => None,
    };
    let text = patched.as_deref().unwrap_or(src);
    let reader = Reader::new(src, lang, &endings);
    let mut bounds = vec![Cut { offset: 0, row: 0 }];
    bounds.extend(lexed.cuts.iter().copied());
    let end_row = src.bytes().filter(|&b| b == b'\n').count();
    let mut accepted = 0;
    for (k, start) in bounds.iter().enumerate() {
        let end = bounds.get(k + 1).copied().unwrap_or(Cut {
            offset: src.len(),
            row: end_row,
        });
        let span = start.offset..end.offset;
        let mut quick = Parsed::default();
        if !reader.read(span.clone(), &mut quick) {
            continue;
        }
        accepted += 1;
        let mut walked = Parsed::default();
        assert!(
            sparse::tree_sitter_read(src, text, lang, &(*start..end), &endings, &mut walked),
            "{name}: tree-sitter does not confirm the stretch the reader read: {:?}",
            &src[span]
        );
        for p in [&mut quick, &mut walked] {
            p.commands.sort_by_key(|c| c.name_span.start);
            p.code.sort_by_key(|r| r.span.start);
            p.words.sort_by_key(|w| w.start);
        }
        let stretch = &src[span];
        assert_eq!(
            quick.commands, walked.commands,
            "{name}: commands of {stretch:?}"
        );
        assert_eq!(
            quick.code, walked.code,
            "{name}: code regions of {stretch:?}"
        );
        assert_eq!(quick.words, walked.words, "{name}: words of {stretch:?}");
        assert_eq!(
            quick.version_blocks, walked.version_blocks,
            "{name}: version blocks of {stretch:?}"
        );
    }
    (bounds.len(), accepted)
}
