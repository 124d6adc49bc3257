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
    let mut out: Vec<(Explanation, crate::engine::Severity)> = index
        .error_matches(text)
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
