//! PromQL syntax checks with the `promql-parser` crate, working around the places where it
//! rejects expressions that Prometheus accepts (a valid rule must never be rejected):
//! - backtick strings are raw in PromQL, but the parser rejects a backslash inside one (e.g. the
//!   regex `` `(.*):\d+` `` in `label_replace`): they are rewritten as the equivalent
//!   double-quoted string before parsing;
//! - `holt_winters` (Prometheus 2) is not known: it is registered with the arguments of its
//!   Prometheus 3 name, `double_exponential_smoothing`. Whether the deployed version has a
//!   function is [`super::promql_version`]'s question, not the parser's;
//! - `anchored` and `smoothed` are keywords to the parser and plain names to Prometheus (a metric
//!   or label may be called that): they are renamed before parsing;
//! - `x @ start() [5m]` (the `@` before the range) is refused by the parser only: on that error
//!   the expression is parsed again with the range first.
//!
//! Speed: the parser compiles every regex matcher (`=~`, `!~`) into a full `regex::Regex`, which
//! was 80% of the time of checking a large rule set, although rule sets repeat the same few
//! patterns. A [`Checker`] judges each distinct regex literal once, with the parser itself, and
//! then parses the expression with the matcher turned into an equality matcher that keeps what the
//! parser checks about it (whether it matches the empty string). Any expression that fails that
//! way is parsed again as written, so the answer and the message are always the parser's own.

use std::collections::HashMap;
use std::sync::Once;

use promql_parser::parser::value::ValueType;
use promql_parser::parser::{Expr, Function};

/// Parses `expr` as PromQL; the parser's message if it is not valid.
pub fn check(expr: &str) -> Result<(), String> {
    Checker::default().check(expr)
}

/// Checks many expressions, remembering what it learnt about each regex literal.
#[derive(Debug, Default)]
pub struct Checker {
    /// Regex literal as written (quotes included) -> `None` when the parser rejects it, else
    /// whether it matches the empty string.
    regexes: HashMap<String, Option<bool>>,
}

impl Checker {
    /// Parses `expr` as PromQL; the parser's message if it is not valid.
    pub fn check(&mut self, expr: &str) -> Result<(), String> {
        self.parse(expr).map(|_| ())
    }

    /// Parses `expr` as PromQL. The tree keeps every function, aggregation, modifier and name as
    /// written; only the values of regex matchers may differ (see the module's comment).
    pub fn parse(&mut self, expr: &str) -> Result<Expr, String> {
        super::nesting::check(expr)?;
        register_prometheus2_functions();
        let fast = rewrite(expr, Some(&mut self.regexes));
        if let Ok(ast) = promql_parser::parser::parse(&fast) {
            return Ok(ast);
        }
        // Parsed again as written (only prepared), for the parser's own answer and message.
        let error = match parse(&prepare(expr)) {
            Ok(ast) => return Ok(ast),
            Err(e) => e,
        };
        if error.contains("no @ modifiers allowed before range") {
            if let Some(ast) = range_before_at(expr).and_then(|moved| parse(&prepare(&moved)).ok()) {
                return Ok(ast);
            }
        }
        Err(error)
    }
}

fn parse(expr: &str) -> Result<Expr, String> {
    register_prometheus2_functions();
    promql_parser::parser::parse(expr).map_err(|e| e.trim().to_string())
}

/// Teaches the parser the functions Prometheus 2 has and 3 dropped.
fn register_prometheus2_functions() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let holt_winters = Function::new(
            "holt_winters",
            vec![ValueType::Matrix, ValueType::Scalar, ValueType::Scalar],
            0,
            ValueType::Vector,
            false,
        );
        promql_parser::parser::register_extra_functions(vec![holt_winters]).expect("holt_winters is not built in");
    });
}

/// What the parser makes of `literal` as a regex matcher: `None` if it rejects it, else whether
/// the compiled matcher matches the empty string.
fn judge_regex(literal: &str) -> Option<bool> {
    match promql_parser::parser::parse(&format!("m{{a=~{literal}}}")).ok()? {
        Expr::VectorSelector(vs) => vs.matchers.matchers.iter().find(|m| m.name == "a").map(|m| m.is_match("")),
        _ => None,
    }
}

/// `expr` with backtick strings as double-quoted strings; string contents and comments are
/// otherwise untouched.
pub fn prepare(expr: &str) -> String {
    if !expr.contains('`') && !KEYWORDS_THAT_ARE_NAMES.iter().any(|k| expr.contains(k)) {
        return expr.to_string();
    }
    rewrite(expr, None)
}

/// Words the parser takes for keywords (range selector modifiers of Prometheus 3.7+) that
/// Prometheus reads as names wherever a name can stand.
const KEYWORDS_THAT_ARE_NAMES: [&str; 2] = ["anchored", "smoothed"];

/// [`prepare`], and with `regexes` also every regex matcher whose literal the parser accepts
/// turned into an equality matcher: `a=~"re"` into `a=""` when `re` matches the empty string,
/// else `a="x"`; `a!~"re"` into `a!=""` or `a!="x"` by the same rule. Both keep whether the
/// matcher matches the empty string, the one thing the parser checks about a matcher's value.
fn rewrite(expr: &str, mut regexes: Option<&mut HashMap<String, Option<bool>>>) -> String {
    let chars: Vec<char> = expr.chars().collect();
    let mut out = String::with_capacity(expr.len() + 16);
    // Where in `out` the `~` of a `=~`/`!~` just written is, while only whitespace follows it.
    let mut regex_op: Option<usize> = None;
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let op = regex_op.take();
        match c {
            '"' | '\'' | '`' => {
                let start = out.len();
                i = copy_string(&chars, i, &mut out);
                if let (Some(op), Some(cache)) = (op, regexes.as_deref_mut()) {
                    let literal = &out[start..];
                    let verdict = match cache.get(literal) {
                        Some(v) => *v,
                        None => {
                            let v = judge_regex(literal);
                            cache.insert(literal.to_string(), v);
                            v
                        }
                    };
                    if let Some(matches_empty) = verdict {
                        out.truncate(start);
                        out.push_str(if matches_empty { "\"\"" } else { "\"x\"" });
                        // `=~` -> `=`, `!~` -> `!=`.
                        if out[..op].ends_with('=') {
                            out.remove(op);
                        } else {
                            out.replace_range(op..op + 1, "=");
                        }
                    }
                }
            }
            '#' => {
                // A comment runs to the end of the line.
                while i < chars.len() && chars[i] != '\n' {
                    out.push(chars[i]);
                    i += 1;
                }
            }
            '~' if out.ends_with('=') || out.ends_with('!') => {
                regex_op = Some(out.len());
                out.push(c);
                i += 1;
            }
            _ if c.is_whitespace() => {
                regex_op = op;
                out.push(c);
                i += 1;
            }
            _ if is_name_char(c) && !c.is_ascii_digit() => {
                let start = i;
                while i < chars.len() && is_name_char(chars[i]) {
                    i += 1;
                }
                let word: String = chars[start..i].iter().collect();
                out.push_str(&word);
                if KEYWORDS_THAT_ARE_NAMES.contains(&word.as_str()) {
                    out.push('_');
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

/// Copies the string literal starting at `chars[i]` to `out`, a backtick (raw) string as the
/// equivalent double-quoted one; returns the index after it. An unterminated string is copied
/// as it is, for the parser to report.
fn copy_string(chars: &[char], mut i: usize, out: &mut String) -> usize {
    let quote = chars[i];
    if quote == '`' {
        let Some(len) = chars[i + 1..].iter().position(|&ch| ch == '`') else {
            out.extend(&chars[i..]);
            return chars.len();
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
        return i + len + 2;
    }
    // A quoted string, copied as it is (escapes included).
    out.push(quote);
    i += 1;
    while i < chars.len() {
        out.push(chars[i]);
        if chars[i] == '\\' && i + 1 < chars.len() {
            out.push(chars[i + 1]);
            i += 2;
            continue;
        }
        i += 1;
        if chars[i - 1] == quote {
            break;
        }
    }
    i
}

/// `expr` with the `@` modifier that stands before a range moved after it
/// (`x @ start() [5m]` -> `x [5m] @ start()`); `None` if there is no such modifier.
fn range_before_at(expr: &str) -> Option<String> {
    let mut rest = expr;
    let mut out = String::with_capacity(expr.len());
    let mut moved = false;
    while let Some(c) = rest.chars().next() {
        match c {
            '"' | '\'' | '`' | '#' => {
                let end = skip_string_or_comment(rest);
                out.push_str(&rest[..end]);
                rest = &rest[end..];
            }
            '@' => {
                let after = rest[1..].trim_start();
                // Only `start()` and `end()`: `x @ 1234 [5m]` is refused by Prometheus too.
                let word = ["start", "end"].iter().find(|w| after.starts_with(**w)).map(|w| w.len());
                let time_len = word.and_then(|word| {
                    let parens = after[word..].trim_start();
                    let close = parens.strip_prefix('(').map(str::trim_start).filter(|p| p.starts_with(')'));
                    close.map(|p| after.len() - p.len() + 1)
                });
                let range = time_len.and_then(|len| {
                    let tail = after[len..].trim_start();
                    let close = tail.starts_with('[').then(|| tail.find(']')).flatten()?;
                    Some((len, &tail[..close + 1], &tail[close + 1..]))
                });
                match range {
                    Some((len, brackets, tail)) => {
                        out.truncate(out.trim_end().len());
                        out.push_str(brackets);
                        out.push_str(" @ ");
                        out.push_str(&after[..len]);
                        rest = tail;
                        moved = true;
                    }
                    None => {
                        out.push(c);
                        rest = &rest[1..];
                    }
                }
            }
            _ => {
                out.push(c);
                rest = &rest[c.len_utf8()..];
            }
        }
    }
    moved.then_some(out)
}

/// `expr` with every duration expression (`[5m+1m]`, `[2*5m:(30s)]`, `offset (1h*2)`; Prometheus
/// 3.4 behind `--enable-feature=promql-duration-expr`, always from 3.14) written as the plain
/// duration `1s`, which the parser knows; and the first such expression as written. `None` when
/// there is none. Only ranges, subquery steps and parenthesised offsets are read this way, and
/// only when they are made of numbers, durations, `+ - * / % ^` and parentheses.
pub fn without_duration_expressions(expr: &str) -> Option<(String, String)> {
    let mut out = String::with_capacity(expr.len());
    let mut first = None;
    let mut rest = expr;
    while let Some(c) = rest.chars().next() {
        match c {
            '"' | '\'' | '`' | '#' => {
                let end = skip_string_or_comment(rest);
                out.push_str(&rest[..end]);
                rest = &rest[end..];
            }
            '[' => {
                let Some(close) = rest.find(']') else { break };
                let inner = &rest[1..close];
                let parts: Vec<&str> = inner.splitn(2, ':').collect();
                let mut written: Vec<String> = Vec::new();
                for part in &parts {
                    let trimmed = part.trim();
                    if trimmed.is_empty() || is_plain_duration(trimmed) || !is_duration_expression(trimmed) {
                        written.push(part.to_string());
                    } else {
                        first.get_or_insert_with(|| trimmed.to_string());
                        written.push("1s".into());
                    }
                }
                out.push('[');
                out.push_str(&written.join(":"));
                out.push(']');
                rest = &rest[close + 1..];
            }
            _ if rest.get(..6).is_some_and(|w| w.eq_ignore_ascii_case("offset"))
                && !rest[6..].starts_with(is_name_char)
                && !out.ends_with(is_name_char) =>
            {
                out.push_str(&rest[..6]);
                rest = &rest[6..];
                let after = rest.trim_start();
                let sign = after.strip_prefix(['-', '+']).map_or(0, |_| 1);
                let body = after[sign..].trim_start();
                if let Some(len) = body.starts_with('(').then(|| balanced_parens(body)).flatten() {
                    // An operator after `offset (...)` continues the duration for Prometheus
                    // (`offset (1h) + x` is refused): such offsets are left to the parser.
                    let operator_follows = body[len..].trim_start().starts_with(|c: char| "+-*/%^".contains(c));
                    if is_duration_expression(&body[..len]) && !operator_follows {
                        first.get_or_insert_with(|| body[..len].to_string());
                        out.push(' ');
                        out.push_str(&after[..sign]);
                        out.push_str("1s");
                        rest = &body[len..];
                    }
                }
            }
            _ => {
                out.push(c);
                rest = &rest[c.len_utf8()..];
            }
        }
    }
    out.push_str(rest);
    first.map(|f| (out, f))
}

fn is_name_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_' || c == ':'
}

/// The length of the string literal or comment at the start of `s`.
fn skip_string_or_comment(s: &str) -> usize {
    let mut chars = s.char_indices();
    let Some((_, open)) = chars.next() else { return 0 };
    let close = if open == '#' { '\n' } else { open };
    while let Some((i, c)) = chars.next() {
        if c == '\\' && open != '`' && open != '#' {
            chars.next();
        } else if c == close {
            return i + c.len_utf8();
        }
    }
    s.len()
}

/// The length of `(...)` at the start of `s`, with the parentheses nested in it.
fn balanced_parens(s: &str) -> Option<usize> {
    let mut depth = 0;
    for (i, c) in s.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => {
                depth -= 1;
                if depth == 0 {
                    return Some(i + 1);
                }
            }
            _ => {}
        }
    }
    None
}

/// A number or a duration (`300`, `1.5`, `1h30m`, `500ms`).
fn is_plain_duration(s: &str) -> bool {
    is_number(s) || duration_literal_len(s) == Some(s.len())
}

fn is_number(s: &str) -> bool {
    let mut parts = s.splitn(2, '.');
    let whole = parts.next().unwrap_or_default();
    let fraction = parts.next();
    !whole.is_empty()
        && whole.bytes().all(|b| b.is_ascii_digit())
        && fraction.is_none_or(|f| f.bytes().all(|b| b.is_ascii_digit()))
}

/// The length of the duration literal (`1h30m`) at the start of `s`, if one is there.
fn duration_literal_len(s: &str) -> Option<usize> {
    let bytes = s.as_bytes();
    let mut i = 0;
    let mut units = 0;
    while i < bytes.len() && bytes[i].is_ascii_digit() {
        while i < bytes.len() && bytes[i].is_ascii_digit() {
            i += 1;
        }
        let unit = ["ms", "y", "w", "d", "h", "m", "s"].iter().find(|u| s[i..].starts_with(**u))?;
        i += unit.len();
        units += 1;
    }
    (units > 0).then_some(i)
}

/// Whether `s` is arithmetic over numbers and durations, with at least one operator or
/// parenthesis (else it is a plain duration, or not a duration at all).
fn is_duration_expression(s: &str) -> bool {
    let mut rest = s.trim();
    let mut operators = 0;
    let mut operands = 0;
    while let Some(c) = rest.chars().next() {
        if c.is_whitespace() {
            rest = &rest[c.len_utf8()..];
        } else if "+-*/%^()".contains(c) {
            operators += 1;
            rest = &rest[1..];
        } else if let Some(len) = duration_literal_len(rest) {
            operands += 1;
            rest = &rest[len..];
        } else {
            let len = rest.find(|ch: char| !(ch.is_ascii_digit() || ch == '.')).unwrap_or(rest.len());
            if len == 0 || !is_number(&rest[..len]) {
                return false;
            }
            operands += 1;
            rest = &rest[len..];
        }
    }
    operators > 0 && operands > 0
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

    /// The fast form of `expr` (regex matchers judged once, then rewritten).
    fn fast(expr: &str) -> String {
        rewrite(expr, Some(&mut HashMap::new()))
    }

    #[test]
    fn regex_matchers_become_equality_matchers_that_keep_empty_matching() {
        assert_eq!(fast(r#"up{code=~"5..", job!~"a|b"}"#), r#"up{code="x", job!="x"}"#);
        assert_eq!(fast(r#"{job=~".*", env =~ `.+`}"#), r#"{job="", env = "x"}"#);
        assert_eq!(fast(r#"{a!~".*"}"#), r#"{a!=""}"#);
        // Invalid regexes stay, for the parser to report.
        assert_eq!(fast(r#"up{a=~"(", b=~"x"}"#), r#"up{a=~"(", b="x"}"#);
        // Not matcher values: strings elsewhere, equality matchers, comments.
        let expr = "label_replace(up{a=\"b\"}, \"x\", \"$1\", \"y\", \"(.*)\") # =~ \"z\"";
        assert_eq!(fast(expr), expr);
    }

    #[test]
    fn the_fast_path_gives_the_parsers_answer() {
        let mut checker = Checker::default();
        // Each of these twice, so the second answer comes from the remembered verdicts.
        for _ in 0..2 {
            for valid in [
                r#"up{code=~"5.."}"#,
                r#"{code=~"5.."}"#,
                r#"{job=~".+"}"#,
                r#"{job!~".*", code=~"5.."}"#,
                r#"up{instance=~`.+\.example\.com:\d+`}"#,
                r#"{__name__=~"http_.*_total", job="a"}"#,
                r#"up{a=~"x{2}"}"#,
                // Go accepts a brace that is not a repeat; the parser escapes it.
                r#"up{a=~"a{b}c"}"#,
            ] {
                checker.check(valid).unwrap_or_else(|e| panic!("{valid}: {e}"));
                check_slow(valid).unwrap_or_else(|e| panic!("{valid}: {e}"));
                // Answered by the fast form itself, not by the fallback.
                promql_parser::parser::parse(&fast(valid)).unwrap_or_else(|e| panic!("{valid}: fast form: {e}"));
            }
            for invalid in [
                // Matches the empty string only: rejected by the parser, and so here.
                r#"{job=~".*"}"#,
                r#"{job!~".+"}"#,
                r#"{job=~".*", env!~".+"}"#,
                r#"up{a=~"("}"#,
                r#"up{a=~"x" "#,
                r#"foo{__name__=~"bar"}"#,
            ] {
                let err = checker.check(invalid).unwrap_err();
                assert_eq!(Err(err), check_slow(invalid), "{invalid}");
            }
        }
    }

    /// The parser alone, on the prepared expression.
    fn check_slow(expr: &str) -> Result<(), String> {
        parse(&prepare(expr)).map(|_| ())
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

    #[test]
    fn duration_expressions_are_read_as_plain_durations() {
        let plain = |e: &str| without_duration_expressions(e);
        assert_eq!(plain("rate(x[5m+1m])"), Some(("rate(x[1s])".into(), "5m+1m".into())));
        assert_eq!(plain("max_over_time(x[2*5m:(30s)])").unwrap().0, "max_over_time(x[1s:1s])");
        assert_eq!(plain("x[1h-5m:1m] offset (2^3 * 1s)").unwrap().0, "x[1s:1m] offset 1s");
        assert_eq!(plain("x offset -(1h)").unwrap().0, "x offset -1s");
        // Plain durations, names that contain "offset", strings and comments stay.
        for none in [
            "rate(x[5m]) offset 1h",
            "x[5m:] offset -5m",
            "my_offset (1h*2)",
            "x{a=\"[1h+1m]\"} # [1h+1m] offset (1h*2)",
            "x[foo+1m]",
            // Prometheus reads the `+ y` as part of the offset and refuses it.
            "x offset (1h*2) + y",
        ] {
            assert_eq!(plain(none), None, "{none}");
        }
    }

    #[test]
    fn anchored_and_smoothed_are_names() {
        for expr in
            ["anchored", "smoothed{a=\"b\"}", "sum by (anchored) (x)", "x * on (smoothed) y", "rate(anchored[5m])"]
        {
            check(expr).unwrap_or_else(|e| panic!("{expr}: {e}"));
        }
        assert_eq!(prepare("anchored_total + x{a=\"anchored\"}"), "anchored_total + x{a=\"anchored\"}");
        // As modifiers they are not known before Prometheus 3.7 (and this check does not know them).
        assert!(check("rate(x[5m] anchored)").is_err());
    }

    #[test]
    fn the_at_modifier_may_stand_before_the_range() {
        assert_eq!(range_before_at("some_metric @ start() [5m]").as_deref(), Some("some_metric[5m] @ start()"));
        assert_eq!(range_before_at("x @ end ( ) [1h:5m]").as_deref(), Some("x[1h:5m] @ end ( )"));
        assert_eq!(range_before_at("x @ 1609746000 [1h:5m]"), None);
        assert_eq!(range_before_at("x @ end() + y{a=\"@ start() [5m]\"}"), None);
        for expr in ["some_metric @ start() [5m]", "rate(some_metric @ end()[5m])"] {
            check(expr).unwrap_or_else(|e| panic!("{expr}: {e}"));
        }
        // A timestamp or an offset before the range stays refused, as Prometheus refuses it.
        assert!(check("some_metric @ 1234 [5m]").is_err());
        assert!(check("x offset 5m [10m]").is_err());
    }
}
