//! What the deployed Prometheus accepts of an expression that `promql-parser` parsed. The parser
//! follows the newest Prometheus (and a little more), so an expression it accepts can still be
//! refused by the version that loads it: functions that were added, renamed or are experimental
//! (refused unless `--enable-feature=promql-experimental-functions`), quoted UTF-8 names
//! (Prometheus 3), ranges without a unit (2.54), duration expressions (3.4, behind a flag until
//! 3.14), `fill` modifiers (3.10, behind a flag), `anchored`/`smoothed` range modifiers (3.7,
//! behind a flag, and refused by promstack even then: the parser does not know them), and
//! `info()`'s label-matcher argument. The
//! versions come from `promql/parser/functions.go`, `lex.go`, `parse.go` and `generated_parser.y`
//! of each Prometheus release, and `cmd/prometheus/main.go` for the flags.

use std::fmt;

use promql_parser::parser::Expr;

use super::{promql, Target};

/// The flag that enables experimental functions and aggregations.
pub const EXPERIMENTAL_FUNCTIONS: &str = "promql-experimental-functions";
/// The flag that enables `fill`, `fill_left` and `fill_right` on binary operators.
pub const FILL_MODIFIERS: &str = "promql-binop-fill-modifiers";

/// A function or aggregation that not every Prometheus 2.x/3.x has, as a stable feature.
struct Availability {
    name: &'static str,
    /// The first version that has it.
    added: (u32, u32),
    /// The first version that no longer has it.
    removed: Option<(u32, u32)>,
    /// It needs the experimental-functions flag from `added` until this version (`None`: still).
    experimental_until: Option<Option<(u32, u32)>>,
}

const fn stable(name: &'static str, added: (u32, u32)) -> Availability {
    Availability { name, added, removed: None, experimental_until: None }
}

const fn experimental(name: &'static str, added: (u32, u32)) -> Availability {
    Availability { name, added, removed: None, experimental_until: Some(None) }
}

/// Every function and aggregation the parser knows that is not in every 2.x and 3.x release
/// as a stable feature (the rest are). Read from each release's `functions.go` and `lex.go`.
const AVAILABILITY: &[Availability] = &[
    stable("acos", (2, 31)),
    stable("acosh", (2, 31)),
    stable("asin", (2, 31)),
    stable("asinh", (2, 31)),
    stable("atan", (2, 31)),
    stable("atanh", (2, 31)),
    stable("cos", (2, 31)),
    stable("cosh", (2, 31)),
    stable("deg", (2, 31)),
    stable("pi", (2, 31)),
    stable("rad", (2, 31)),
    stable("sin", (2, 31)),
    stable("sinh", (2, 31)),
    stable("tan", (2, 31)),
    stable("tanh", (2, 31)),
    stable("day_of_year", (2, 36)),
    stable("histogram_count", (2, 40)),
    stable("histogram_fraction", (2, 40)),
    stable("histogram_sum", (2, 40)),
    stable("histogram_stddev", (2, 47)),
    stable("histogram_stdvar", (2, 47)),
    stable("histogram_avg", (2, 51)),
    Availability { name: "holt_winters", added: (2, 0), removed: Some((3, 0)), experimental_until: None },
    experimental("mad_over_time", (2, 49)),
    experimental("sort_by_label", (2, 49)),
    experimental("sort_by_label_desc", (2, 49)),
    experimental("limitk", (2, 54)),
    experimental("limit_ratio", (2, 54)),
    experimental("info", (2, 55)),
    experimental("double_exponential_smoothing", (3, 0)),
    experimental("ts_of_last_over_time", (3, 5)),
    experimental("ts_of_max_over_time", (3, 5)),
    experimental("ts_of_min_over_time", (3, 5)),
    Availability { name: "first_over_time", added: (3, 7), removed: None, experimental_until: Some(Some((3, 14))) },
    experimental("ts_of_first_over_time", (3, 7)),
    experimental("histogram_quantiles", (3, 11)),
    experimental("end", (3, 12)),
    experimental("range", (3, 12)),
    experimental("start", (3, 12)),
    experimental("step", (3, 12)),
    experimental("max_of", (3, 13)),
    experimental("min_of", (3, 13)),
    experimental("start_timestamp", (3, 14)),
    // The parser's own extension; no Prometheus has it.
    Availability { name: "integral", added: (99, 0), removed: None, experimental_until: None },
];

/// The flag that enables duration expressions (`[5m+1m]`) from 3.4 until 3.14 (always on since).
pub const DURATION_EXPRESSIONS: &str = "promql-duration-expr";

/// The flag that enables the `anchored` and `smoothed` range modifiers (3.7).
pub const EXTENDED_RANGE_SELECTORS: &str = "promql-extended-range-selectors";

/// Why an expression is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// No Prometheus parses it (the parser's message).
    Syntax(String),
    /// The deployed version does not accept it, or not without a flag.
    Version(String),
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Refusal::Syntax(e) => write!(f, "expr does not parse as PromQL: {e}"),
            Refusal::Version(e) => write!(f, "expr: {e}"),
        }
    }
}

/// Parses `expr` and checks it against what `target` accepts.
pub fn check_expr(expr: &str, parser: &mut promql::Checker, target: &Target) -> Result<(), Refusal> {
    let ast = match parser.parse(expr) {
        Ok(ast) => ast,
        Err(_) if range_modifier(expr).is_some() => {
            return Err(Refusal::Version(range_modifier_refusal(&range_modifier(expr).unwrap_or_default(), target)));
        }
        // The parser has no duration expressions: read as plain durations, if that is all.
        Err(e) => {
            let Some((plain, first)) = promql::without_duration_expressions(expr) else {
                return Err(Refusal::Syntax(e));
            };
            let ast = parser.parse(&plain).map_err(|_| Refusal::Syntax(e))?;
            duration_expressions(&first, target).map_err(Refusal::Version)?;
            ast
        }
    };
    check(expr, &ast, target).map_err(Refusal::Version)
}

fn duration_expressions(first: &str, target: &Target) -> Result<(), String> {
    let version = target.version();
    if target.at_least(3, 14) || (target.at_least(3, 4) && target.feature(DURATION_EXPRESSIONS)) {
        Ok(())
    } else if !target.at_least(3, 4) {
        Err(format!("duration expressions ({first}) do not exist in {version} (added in Prometheus 3.4)"))
    } else {
        Err(format!(
            "duration expressions ({first}) need --enable-feature={DURATION_EXPRESSIONS} in {version} \
             (always on from 3.14)"
        ))
    }
}

/// Checks `ast` (parsed from `expr`) against what `target` accepts; the first refusal.
pub fn check(expr: &str, ast: &Expr, target: &Target) -> Result<(), String> {
    let version = target.version();
    if !target.is_v3() {
        if let Some(name) = first_quoted_name(expr) {
            return Err(format!(
                "the quoted name {name} needs Prometheus 3 (UTF-8 names); {version} accepts only \
                 [a-zA-Z_:][a-zA-Z0-9_:]* names, unquoted"
            ));
        }
    }
    if !target.at_least(2, 54) {
        if let Some(number) = first_unitless_duration(expr) {
            return Err(format!(
                "the duration {number} has no unit, which needs Prometheus 2.54; {version} needs one (e.g. {number}s)"
            ));
        }
    }
    walk(ast, target)
}

fn walk(ast: &Expr, target: &Target) -> Result<(), String> {
    match ast {
        Expr::Aggregate(agg) => {
            available(&agg.op.to_string(), target)?;
            if let Some(param) = &agg.param {
                walk(param, target)?;
            }
            walk(&agg.expr, target)
        }
        Expr::Unary(u) => walk(&u.expr, target),
        Expr::Binary(b) => {
            if let Some(modifier) = &b.modifier {
                let fill = &modifier.fill_values;
                if fill.lhs.is_some() || fill.rhs.is_some() {
                    fill_modifiers(target)?;
                }
            }
            walk(&b.lhs, target)?;
            walk(&b.rhs, target)
        }
        Expr::Paren(p) => walk(&p.expr, target),
        Expr::Subquery(s) => walk(&s.expr, target),
        Expr::VectorSelector(vs) => or_matchers(&vs.matchers),
        Expr::MatrixSelector(ms) => or_matchers(&ms.vs.matchers),
        Expr::Call(call) => {
            available(call.func.name, target)?;
            // Prometheus checks this in its parser (parse.go); promql-parser does not.
            if call.func.name == "info" {
                if let Some(selector) = call.args.args.get(1) {
                    if !matches!(selector.as_ref(), Expr::VectorSelector(vs) if vs.name.is_none()) {
                        let example = "{k8s_cluster_name=~\".+\"}";
                        return Err(format!("info()'s second argument must be label matchers only, e.g. {example}"));
                    }
                }
            }
            call.args.args.iter().try_for_each(|arg| walk(arg, target))
        }
        Expr::NumberLiteral(_) | Expr::StringLiteral(_) | Expr::Extension(_) => Ok(()),
    }
}

/// Whether `target` has the function or aggregation `name`, as the error Prometheus would give.
fn available(name: &str, target: &Target) -> Result<(), String> {
    let Some(a) = AVAILABILITY.iter().find(|a| a.name == name) else { return Ok(()) };
    let (major, minor) = (target.major, target.minor);
    let version = target.version();
    if name == "holt_winters" && target.is_v3() {
        let mut message = "holt_winters was renamed double_exponential_smoothing in Prometheus 3".to_string();
        if !target.feature(EXPERIMENTAL_FUNCTIONS) {
            message.push_str(&format!(", which needs --enable-feature={EXPERIMENTAL_FUNCTIONS}"));
        }
        return Err(message);
    }
    if a.added.0 == 99 {
        return Err(format!("{name}() is not a Prometheus function (no version has it)"));
    }
    if !target.at_least(a.added.0, a.added.1) {
        let mut message =
            format!("{name}() does not exist in {version} (added in Prometheus {}.{}", a.added.0, a.added.1);
        if name == "double_exponential_smoothing" {
            message.push_str("; Prometheus 2 calls it holt_winters");
        }
        return Err(message + ")");
    }
    if let Some((rmajor, rminor)) = a.removed {
        if (major, minor) >= (rmajor, rminor) {
            return Err(format!("{name}() does not exist in {version} (removed in Prometheus {rmajor}.{rminor})"));
        }
    }
    if let Some(until) = a.experimental_until {
        let still = until.is_none_or(|u| (major, minor) < u);
        if still && !target.feature(EXPERIMENTAL_FUNCTIONS) {
            return Err(format!(
                "{name}() is experimental in {version} and needs --enable-feature={EXPERIMENTAL_FUNCTIONS}"
            ));
        }
    }
    Ok(())
}

fn fill_modifiers(target: &Target) -> Result<(), String> {
    let version = target.version();
    if !target.at_least(3, 10) {
        return Err(format!("fill modifiers on binary operators do not exist in {version} (added in Prometheus 3.10)"));
    }
    if !target.feature(FILL_MODIFIERS) {
        return Err(format!("fill modifiers on binary operators need --enable-feature={FILL_MODIFIERS}"));
    }
    Ok(())
}

/// `{a="1" or b="2"}` is the parser's own extension.
fn or_matchers(matchers: &promql_parser::label::Matchers) -> Result<(), String> {
    if matchers.or_matchers.is_empty() {
        Ok(())
    } else {
        Err("`or` between label matchers is not PromQL (no Prometheus version accepts it)".into())
    }
}

fn range_modifier_refusal(word: &str, target: &Target) -> String {
    let version = target.version();
    let why = if !target.at_least(3, 7) {
        format!("does not exist in {version} (added in Prometheus 3.7)")
    } else if !target.feature(EXTENDED_RANGE_SELECTORS) {
        format!("needs --enable-feature={EXTENDED_RANGE_SELECTORS}")
    } else {
        // Deliberately stricter: the parser promstack uses does not know the modifiers.
        "is not supported by promstack's check (its PromQL parser does not know it), so the rule is refused".into()
    };
    format!("the {word} range modifier {why}")
}

/// `anchored` or `smoothed` written as a modifier (after a selector or a range), if it is.
fn range_modifier(expr: &str) -> Option<String> {
    let mut found = None;
    scan(expr, |token, _, previous| {
        if ["anchored", "smoothed"].contains(&token) && matches!(previous, "]" | "}") && found.is_none() {
            found = Some(token.to_string());
        }
    });
    found
}

/// Where a string stands in an expression: what decides whether it is a name.
#[derive(Clone, Copy, PartialEq)]
enum Context {
    /// `{...}`: a string is a name unless it follows a match operator.
    Braces,
    /// `by (...)`, `on (...)`, ...: every string is a label name.
    Grouping,
    /// `[...]`: ranges and subquery steps.
    Brackets,
    Parens,
}

/// The first quoted metric or label name (`{"my.metric"}`, `{"a.b"="x"}`, `by ("a.b")`), as
/// written; these are Prometheus 3 syntax.
fn first_quoted_name(expr: &str) -> Option<String> {
    let mut found = None;
    scan(expr, |token, context, previous| {
        let quoted = token.starts_with(['"', '\'', '`']);
        let is_name = match context {
            Some(Context::Grouping) => quoted,
            Some(Context::Braces) => quoted && !matches!(previous, "=" | "!=" | "=~" | "!~"),
            _ => false,
        };
        if is_name && found.is_none() {
            found = Some(token.to_string());
        }
    });
    found
}

/// The first range, subquery step or offset written as a bare number (`[300]`, `offset 60`).
fn first_unitless_duration(expr: &str) -> Option<String> {
    let mut found = None;
    scan(expr, |token, context, previous| {
        let number =
            token.starts_with(|c: char| c.is_ascii_digit()) && token.chars().all(|c| c.is_ascii_digit() || c == '.');
        let place = context == Some(Context::Brackets) || previous.eq_ignore_ascii_case("offset");
        if number && place && found.is_none() {
            found = Some(token.to_string());
        }
    });
    found
}

/// Calls `visit(token, context, previous token)` for each token of `expr` outside comments:
/// strings (quotes included), words, numbers with their unit, and operators.
fn scan(expr: &str, mut visit: impl FnMut(&str, Option<Context>, &str)) {
    let chars: Vec<(usize, char)> = expr.char_indices().collect();
    let end = |i: usize| chars.get(i).map_or(expr.len(), |(at, _)| *at);
    let mut stack: Vec<Context> = Vec::new();
    let mut previous = String::new();
    let mut i = 0;
    while i < chars.len() {
        let (start, c) = chars[i];
        let next = match c {
            '#' => {
                while i < chars.len() && chars[i].1 != '\n' {
                    i += 1;
                }
                continue;
            }
            _ if c.is_whitespace() => {
                i += 1;
                continue;
            }
            '"' | '\'' | '`' => {
                let mut j = i + 1;
                while j < chars.len() && chars[j].1 != c {
                    j += if chars[j].1 == '\\' && c != '`' { 2 } else { 1 };
                }
                (j + 1).min(chars.len())
            }
            // In `[5m:1m]` the colon separates; elsewhere it is part of a metric name.
            _ if word(c, stack.last() != Some(&Context::Brackets)) => {
                let colon = stack.last() != Some(&Context::Brackets);
                let mut j = i + 1;
                while j < chars.len() && word(chars[j].1, colon) {
                    j += 1;
                }
                j
            }
            '=' | '!' if matches!(chars.get(i + 1).map(|c| c.1), Some('=' | '~')) => i + 2,
            _ => i + 1,
        };
        let token = &expr[start..end(next)];
        match token {
            "{" => stack.push(Context::Braces),
            "[" => stack.push(Context::Brackets),
            "(" => {
                let grouping = ["by", "without", "on", "ignoring", "group_left", "group_right"]
                    .iter()
                    .any(|k| previous.eq_ignore_ascii_case(k));
                stack.push(if grouping { Context::Grouping } else { Context::Parens });
            }
            "}" | "]" | ")" => {
                stack.pop();
            }
            _ => visit(token, stack.last().copied(), &previous),
        }
        previous = token.to_string();
        i = next;
    }
}

fn word(c: char, colon: bool) -> bool {
    c.is_alphanumeric() || c == '_' || c == '.' || (colon && c == ':')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoted_names_are_found_only_where_names_stand() {
        assert_eq!(first_quoted_name(r#"{"my.metric"}"#).as_deref(), Some(r#""my.metric""#));
        assert_eq!(first_quoted_name(r#"up{job="a", "my.label"=~"x"}"#).as_deref(), Some(r#""my.label""#));
        assert_eq!(first_quoted_name(r#"sum by ("my.label") (up)"#).as_deref(), Some(r#""my.label""#));
        assert_eq!(first_quoted_name(r#"up * on ("a.b") group_left ("c") up"#).as_deref(), Some(r#""a.b""#));
        for plain in [
            r#"up{job="a", env!~"b|c"}"#,
            r#"label_replace(up, "a", "$1", "b", "(.*)")"#,
            r#"count_values("v", up) by (job)"#,
            r#"sum(up{job="by (\"x\")"}) # {"x"}"#,
            r#"{__name__="my.metric"}"#,
        ] {
            assert_eq!(first_quoted_name(plain), None, "{plain}");
        }
    }

    #[test]
    fn unitless_durations_are_found_in_ranges_and_offsets() {
        assert_eq!(first_unitless_duration("rate(x[300])").as_deref(), Some("300"));
        assert_eq!(first_unitless_duration("x[5m:30]").as_deref(), Some("30"));
        assert_eq!(first_unitless_duration("x offset 60").as_deref(), Some("60"));
        for fine in ["rate(x[5m])", "x[1h30m:1m] offset 5m", "x > 300", "topk(3, x)", r#"x{a="[1]"}"#] {
            assert_eq!(first_unitless_duration(fine), None, "{fine}");
        }
    }

    #[test]
    fn every_listed_function_is_known_to_the_parser() {
        super::super::promql::check("holt_winters(x[5m], 0.5, 0.5)").unwrap();
        for a in AVAILABILITY {
            let e = promql_parser::parser::parse(&format!("{}()", a.name)).err().unwrap_or_default();
            assert!(!e.contains("unknown function"), "{}: {e}", a.name);
        }
    }
}
