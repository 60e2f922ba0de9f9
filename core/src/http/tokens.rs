//! Small HTTP field-value helpers: comma lists, tokens, quoted strings.
//!
//! Header values come from the peer, so these never index past the end and
//! accept any input (an unterminated quote simply runs to the end).

/// Splits `value` on `sep` where it is not inside a quoted string, trimming
/// spaces and tabs and skipping empty elements (HTTP lists allow `a, , b`).
pub(crate) fn split_unquoted(value: &str, sep: char) -> Vec<&str> {
    let mut parts = Vec::new();
    let mut start = 0;
    let mut in_quotes = false;
    let mut escaped = false;
    for (i, c) in value.char_indices() {
        if in_quotes {
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_quotes = false;
            }
        } else if c == '"' {
            in_quotes = true;
        } else if c == sep {
            push_trimmed(&mut parts, &value[start..i]);
            start = i + c.len_utf8();
        }
    }
    push_trimmed(&mut parts, &value[start..]);
    parts
}

fn push_trimmed<'a>(parts: &mut Vec<&'a str>, part: &'a str) {
    let part = trim_ows(part);
    if !part.is_empty() {
        parts.push(part);
    }
}

/// Trims HTTP optional whitespace (space and tab) from both ends.
pub(crate) fn trim_ows(s: &str) -> &str {
    s.trim_matches(|c| c == ' ' || c == '\t')
}

/// True when any of the comma-list `values` contains `token`, compared
/// case-insensitively (as for `Upgrade` and `Connection`).
pub(crate) fn list_contains_token<'a>(
    values: impl IntoIterator<Item = &'a str>,
    token: &str,
) -> bool {
    values.into_iter().any(|value| {
        split_unquoted(value, ',')
            .iter()
            .any(|t| t.eq_ignore_ascii_case(token))
    })
}

/// Removes surrounding double quotes and backslash escapes; other text is
/// returned unchanged.
pub(crate) fn unquote(s: &str) -> String {
    let inner = match s.strip_prefix('"').and_then(|r| r.strip_suffix('"')) {
        Some(inner) => inner,
        None => return s.to_owned(),
    };
    let mut out = String::with_capacity(inner.len());
    let mut escaped = false;
    for c in inner.chars() {
        if escaped || c != '\\' {
            out.push(c);
            escaped = false;
        } else {
            escaped = true;
        }
    }
    out
}

/// True for a non-empty RFC 9110 token (header names, many header values).
pub(crate) fn is_token(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(is_tchar)
}

fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_lists_and_skips_empty_elements() {
        assert_eq!(split_unquoted(" a ,, b\t,c ", ','), vec!["a", "b", "c"]);
        assert_eq!(split_unquoted("", ','), Vec::<&str>::new());
    }

    #[test]
    fn separators_inside_quotes_do_not_split() {
        assert_eq!(
            split_unquoted(r#"a="x,y", b="q\",r""#, ','),
            vec![r#"a="x,y""#, r#"b="q\",r""#]
        );
        // Unterminated quote runs to the end instead of failing.
        assert_eq!(split_unquoted(r#"a="x, y"#, ','), vec![r#"a="x, y"#]);
    }

    #[test]
    fn token_lists_are_case_insensitive() {
        assert!(list_contains_token(["keep-alive, Upgrade"], "upgrade"));
        assert!(list_contains_token(["close", "UPGRADE"], "upgrade"));
        assert!(!list_contains_token(["upgrades"], "upgrade"));
    }

    #[test]
    fn unquotes_strings() {
        assert_eq!(unquote(r#""q""#), "q");
        assert_eq!(unquote(r#""a\"b\\""#), r#"a"b\"#);
        assert_eq!(unquote("plain"), "plain");
        assert_eq!(unquote("\""), "\"");
    }

    #[test]
    fn tokens() {
        assert!(is_token("Set-Cookie"));
        assert!(!is_token(""));
        assert!(!is_token("a b"));
        assert!(!is_token("a:b"));
    }
}
