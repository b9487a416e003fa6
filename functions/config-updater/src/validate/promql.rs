//! PromQL syntax checks with the `promql-parser` crate, working around the two places where it
//! rejects expressions that Prometheus accepts (a valid rule must never be rejected):
//! - backtick strings are raw in PromQL, but the parser rejects a backslash inside one (e.g. the
//!   regex `` `(.*):\d+` `` in `label_replace`): they are rewritten as the equivalent
//!   double-quoted string before parsing;
//! - `holt_winters` (Prometheus 2) is not known: it is checked as its Prometheus 3 name,
//!   `double_exponential_smoothing`, which takes the same arguments.

/// Parses `expr` as PromQL; the parser's message if it is not valid.
pub fn check(expr: &str) -> Result<(), String> {
    let prepared = prepare(expr);
    promql_parser::parser::parse(&prepared).map(|_| ()).map_err(|e| e.trim().to_string())
}

/// `expr` with backtick strings as double-quoted strings and `holt_winters(` renamed; string
/// contents and comments are otherwise untouched.
pub fn prepare(expr: &str) -> String {
    if !expr.contains('`') && !expr.contains("holt_winters") {
        return expr.to_string();
    }
    let chars: Vec<char> = expr.chars().collect();
    let mut out = String::with_capacity(expr.len() + 16);
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            '"' | '\'' => {
                // A quoted string, copied as it is (escapes included).
                out.push(c);
                i += 1;
                while i < chars.len() {
                    out.push(chars[i]);
                    if chars[i] == '\\' && i + 1 < chars.len() {
                        out.push(chars[i + 1]);
                        i += 2;
                        continue;
                    }
                    i += 1;
                    if chars[i - 1] == c {
                        break;
                    }
                }
            }
            '`' => {
                let Some(len) = chars[i + 1..].iter().position(|&ch| ch == '`') else {
                    // Unterminated: leave it for the parser to report.
                    out.extend(&chars[i..]);
                    break;
                };
                out.push('"');
                for &ch in &chars[i + 1..i + 1 + len] {
                    match ch {
                        '\\' => out.push_str("\\\\"),
                        '"' => out.push_str("\\\""),
                        '\n' => out.push_str("\\n"),
                        other => out.push(other),
                    }
                }
                out.push('"');
                i += len + 2;
            }
            '#' => {
                // A comment runs to the end of the line.
                while i < chars.len() && chars[i] != '\n' {
                    out.push(chars[i]);
                    i += 1;
                }
            }
            _ if is_ident_start(c) => {
                let start = i;
                while i < chars.len() && is_ident_char(chars[i]) {
                    i += 1;
                }
                let word: String = chars[start..i].iter().collect();
                let mut j = i;
                while j < chars.len() && chars[j].is_whitespace() {
                    j += 1;
                }
                if word == "holt_winters" && chars.get(j) == Some(&'(') {
                    out.push_str("double_exponential_smoothing");
                } else {
                    out.push_str(&word);
                }
            }
            _ => {
                out.push(c);
                i += 1;
            }
        }
    }
    out
}

fn is_ident_start(c: char) -> bool {
    c.is_ascii_alphabetic() || c == '_' || c == ':'
}

fn is_ident_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == ':'
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backslash_in_backticks_is_valid() {
        let expr = r#"label_replace(up, "host", "$1", "instance", `(.*):\d+`)"#;
        check(expr).unwrap();
        assert_eq!(prepare(expr), r#"label_replace(up, "host", "$1", "instance", "(.*):\\d+")"#);
        check(r#"up{instance=~`.+\.example\.com:\d+`}"#).unwrap();
        check(r#"up{job=`say "hi"`}"#).unwrap();
    }

    #[test]
    fn holt_winters_is_valid() {
        check("holt_winters(rate(http_requests_total[5m])[30m:1m], 0.3, 0.3)").unwrap();
        check("holt_winters (node_load1[10m], 0.5, 0.5) > 2").unwrap();
        // A metric that happens to be called holt_winters stays a metric.
        assert_eq!(prepare("holt_winters{a=\"b\"}"), "holt_winters{a=\"b\"}");
    }

    #[test]
    fn strings_and_comments_are_not_rewritten() {
        let expr = "up{job=\"holt_winters(\"} # holt_winters( `x\\y`\n";
        assert_eq!(prepare(expr), expr);
    }

    #[test]
    fn invalid_expressions_are_reported() {
        assert!(check("sum(rate(x[5m])").is_err());
        assert!(check("rate(x)").is_err());
        assert!(check("up{job=`unterminated}").is_err());
        assert!(check("holt_winters(x[5m], 0.5)").is_err(), "wrong argument count");
    }

    #[test]
    fn common_valid_expressions() {
        for expr in [
            "up == 0",
            "sum by (job) (rate(http_requests_total{code=~\"5..\"}[5m])) / sum by (job) (rate(http_requests_total[5m])) > 0.05",
            "histogram_quantile(0.99, sum(rate(http_request_duration_seconds_bucket[5m])) by (le))",
            "absent(up{job=\"prometheus\"})",
            "predict_linear(node_filesystem_free_bytes[6h], 4 * 3600) < 0",
            "max_over_time(up[5m] offset 1h)",
            "count(up @ end()) without (instance)",
            "time() - process_start_time_seconds > 86400",
            "label_join(up, \"foo\", \",\", \"job\", \"instance\")",
            "rate(x[5m:30s])",
        ] {
            check(expr).unwrap_or_else(|e| panic!("{expr}: {e}"));
        }
    }
}
