//! The PowerShell reader of [`super`]: ordinary PowerShell statements without tree-sitter.

use std::ops::Range;

use crate::script::os::Passed;
use crate::script::Parsed;

/// Adds what the top-level statements of `span` of `src` hold to `out`, as the tree-sitter
/// walk would, and returns true; false when not sure of all of it (the caller undoes any
/// partial output). `pwsh`: the document declares PowerShell 6 or later.
pub(crate) fn read(
    _src: &str,
    _span: Range<usize>,
    _passed: &Passed,
    _pwsh: bool,
    _out: &mut Parsed,
) -> bool {
    false
}
