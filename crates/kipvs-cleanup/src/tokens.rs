//! Splitting a rule into words the way `iptables-restore` does, and quoting
//! a word the way `iptables-save` does.

/// One word of a rule: the text as written and the value the tools see.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct Token {
    /// The word exactly as written, quotes and escapes included.
    pub raw: String,
    /// The word as `iptables-restore` passes it on (quotes removed).
    pub value: String,
}

/// Splits `line` into words like iptables-restore's `add_param_to_argv()`
/// (iptables/xshared.c): blanks separate words; a double quote opens a
/// quoted part in which a backslash takes the next character literally;
/// outside quotes a backslash is an ordinary character. Single quotes are
/// ordinary characters too: iptables-save never writes them as quotes.
///
/// Returns `None` when a quote is left open.
pub fn split(line: &str) -> Option<Vec<Token>> {
    let mut tokens = Vec::new();
    let mut value = String::new();
    let mut start: Option<usize> = None;
    let mut quoted = false;
    let mut escaped = false;
    for (i, c) in line.char_indices() {
        if quoted {
            if escaped {
                value.push(c);
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                quoted = false;
            } else {
                value.push(c);
            }
            continue;
        }
        match c {
            ' ' | '\t' => {
                if let Some(s) = start.take() {
                    tokens.push(Token {
                        raw: line[s..i].to_owned(),
                        value: std::mem::take(&mut value),
                    });
                }
            }
            '"' => {
                start.get_or_insert(i);
                quoted = true;
            }
            _ => {
                start.get_or_insert(i);
                value.push(c);
            }
        }
    }
    if quoted {
        return None;
    }
    if let Some(s) = start {
        tokens.push(Token {
            raw: line[s..].to_owned(),
            value,
        });
    }
    Some(tokens)
}

/// Writes `value` as iptables-save's `xtables_save_string()` does: bare when
/// it is made only of letters, digits, `_` and `-`; otherwise in double
/// quotes with `"`, `\` and `'` escaped by a backslash.
pub fn quote(value: &str) -> String {
    let bare = !value.is_empty()
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    if bare {
        return value.to_owned();
    }
    let mut out = String::with_capacity(value.len() + 2);
    out.push('"');
    for c in value.chars() {
        if matches!(c, '"' | '\\' | '\'') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(line: &str) -> Vec<String> {
        split(line).unwrap().into_iter().map(|t| t.value).collect()
    }

    #[test]
    fn splits_like_iptables_restore() {
        assert_eq!(
            values(r#"-A X -m comment --comment "default/kubernetes:https cluster IP" -j Y"#),
            [
                "-A",
                "X",
                "-m",
                "comment",
                "--comment",
                "default/kubernetes:https cluster IP",
                "-j",
                "Y"
            ]
        );
        // Escapes inside quotes; blanks collapse; a quote may open mid-word.
        assert_eq!(values(r#"a  "b \"c\" \\ d"	e"#), ["a", r#"b "c" \ d"#, "e"]);
        assert_eq!(values(r#"x"y z"w"#), ["xy zw"]);
        assert_eq!(values(r#"--comment """#), ["--comment", ""]);
        // Outside quotes a backslash is literal.
        assert_eq!(values(r"a\b"), [r"a\b"]);
        assert!(split(r#"-m comment --comment "open"#).is_none());
    }

    #[test]
    fn raw_keeps_the_text() {
        let t = split(r#"--comment "a \"b\"" x"#).unwrap();
        assert_eq!(t[1].raw, r#""a \"b\"""#);
        assert_eq!(t[2].raw, "x");
    }

    #[test]
    fn quote_round_trips() {
        for v in [
            "x",
            "KUBE-SVC-1",
            "a b",
            "ns/svc:port cluster IP",
            r#"q"\'"#,
            "",
            "a:b",
        ] {
            let q = quote(v);
            assert_eq!(values(&q), [v], "{q}");
        }
        assert_eq!(quote("x"), "x");
        assert_eq!(quote("a:b"), "\"a:b\"");
    }
}
