//! One pass over the document text, before the parser sees it.
//!
//! The GraphQL grammar (pest) and the conversion of its output into values both
//! recurse once per nesting level of selections, arguments, object and list
//! values, variable defaults and list types. A few thousand `[` or `{` in a
//! small request would overflow the stack and abort the process, so nesting is
//! bounded here, on bytes, where nothing recurses.

use super::Rejection;

/// Fails when brackets (`{`, `[`, `(`) nest deeper than `limit` anywhere in
/// `source`. Brackets inside strings, block strings and comments do not count.
/// Unbalanced brackets are left for the parser to report.
pub(super) fn check_nesting(source: &str, limit: usize) -> Result<(), Rejection> {
    let bytes = source.as_bytes();
    let mut depth = 0usize;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'#' => i = skip_comment(bytes, i),
            b'"' if bytes[i..].starts_with(b"\"\"\"") => i = skip_block_string(bytes, i + 3),
            b'"' => i = skip_string(bytes, i + 1),
            b'{' | b'[' | b'(' => {
                depth += 1;
                if depth > limit {
                    return Err(Rejection::TooDeeplyNested { limit });
                }
                i += 1;
            }
            b'}' | b']' | b')' => {
                depth = depth.saturating_sub(1);
                i += 1;
            }
            _ => i += 1,
        }
    }
    Ok(())
}

/// Index just past a `#` comment (comments end at a line break).
fn skip_comment(bytes: &[u8], from: usize) -> usize {
    bytes[from..].iter().position(|b| *b == b'\n' || *b == b'\r').map_or(bytes.len(), |n| from + n)
}

/// Index just past a `"…"` string whose body starts at `from`. A line break
/// ends it too: the parser rejects such a string, and scanning on keeps the
/// count in step with what the parser would see.
fn skip_string(bytes: &[u8], mut i: usize) -> usize {
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 2,
            b'"' => return i + 1,
            b'\n' | b'\r' => return i,
            _ => i += 1,
        }
    }
    bytes.len()
}

/// Index just past a `"""…"""` block string whose body starts at `from`; `\"""`
/// is the only escape inside one.
fn skip_block_string(bytes: &[u8], mut i: usize) -> usize {
    while i < bytes.len() {
        if bytes[i..].starts_with(b"\\\"\"\"") {
            i += 4;
        } else if bytes[i..].starts_with(b"\"\"\"") {
            return i + 3;
        } else {
            i += 1;
        }
    }
    bytes.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn depth_ok(source: &str, limit: usize) -> bool {
        check_nesting(source, limit).is_ok()
    }

    #[test]
    fn counts_every_kind_of_bracket() {
        assert!(depth_ok("{ a(x: [{ y: 1 }]) }", 4));
        assert!(!depth_ok("{ a(x: [{ y: 1 }]) }", 3));
        assert!(!depth_ok("query($v: [[[[Int]]]]) { a }", 4));
    }

    #[test]
    fn ignores_brackets_in_strings_and_comments() {
        assert!(depth_ok(r#"{ a(x: "[[[[[[", y: """ {{{{ \""" {{{{ """) # ((((((
        }"#, 2));
        assert!(depth_ok(r#"{ a(x: "\"[[[[") }"#, 2));
    }

    #[test]
    fn an_unterminated_string_does_not_hide_what_follows() {
        assert!(!depth_ok("{ a(x: \"open\n [[[[[[[[ ) }", 4));
    }

    #[test]
    fn handles_thousands_of_levels_without_recursing() {
        let deep = "[".repeat(100_000);
        assert!(!depth_ok(&deep, 64));
        let balanced = "{ a } ".repeat(10_000);
        assert!(depth_ok(&balanced, 1));
    }
}
