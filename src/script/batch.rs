//! Commands and code regions of batch scripts. (Being written: see issue 2.)

use super::{OffsetMap, Parsed};

/// The commands and code regions of a whole batch document.
pub fn parse(src: &str) -> Parsed {
    let mut out = Parsed::default();
    parse_into(src, &OffsetMap::starting_at(0), None, &mut out, 0);
    out
}

/// See [`super::parse_embedded`].
pub(crate) fn parse_into(
    _src: &str,
    _base: &OffsetMap,
    _host: Option<&str>,
    _out: &mut Parsed,
    _depth: u8,
) {
}
