//! A bound on how deeply a PromQL expression nests, checked before it is parsed.
//!
//! `promql-parser` parses and drops its tree recursively, one stack frame (or several) per level,
//! so an expression nested 100,000 levels deep (parentheses, or a chain of 100,000 operators,
//! which the parser turns into a tree as deep) overflows any thread's stack and aborts the
//! process: a pull request is enough to take the function down on every redelivery. Prometheus
//! itself has no such limit (its goyacc parser keeps its own stack on the heap and Go's stacks
//! grow to 1 GB), so this bound is deliberately stricter than Prometheus; it is set far above
//! what any real rule needs (of the 2,382 expressions in the public rule files of
//! `tests/promtool-corpus/`, the deepest nests 7 levels and the longest has 35 operators, counting
//! as [`check`] does: matchers' `=` included). The rule checks
//! then run on threads whose stack is sized for the bound ([`PARSE_STACK`]).

/// Deepest nesting of `(`, `[` and `{` accepted.
pub const MAX_DEPTH: usize = 256;
/// Most operators (binary, unary and set operators and their keywords) in one expression: each
/// one may add a level to the parser's tree.
pub const MAX_OPERATORS: usize = 2_048;
/// Stack for a thread that parses expressions within the bounds, with room to spare in a debug
/// build (a test parses the deepest and longest accepted expressions on such a thread).
pub const PARSE_STACK: usize = 64 << 20;

/// Why `expr` is refused before parsing, if it is.
pub fn check(expr: &str) -> Result<(), String> {
    let mut depth = 0usize;
    let mut deepest = 0usize;
    let mut operators = 0usize;
    let mut chars = expr.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' | '\'' | '`' => {
                // A string: skip to its closing quote (backslash escapes, except in backticks).
                while let Some(s) = chars.next() {
                    if s == '\\' && c != '`' {
                        chars.next();
                    } else if s == c {
                        break;
                    }
                }
            }
            '#' => {
                for s in chars.by_ref() {
                    if s == '\n' {
                        break;
                    }
                }
            }
            '(' | '[' | '{' => {
                depth += 1;
                deepest = deepest.max(depth);
            }
            ')' | ']' | '}' => depth = depth.saturating_sub(1),
            '+' | '-' | '*' | '/' | '%' | '^' | '=' | '!' | '<' | '>' => operators += 1,
            c if c.is_ascii_alphabetic() => {
                let mut word = String::from(c);
                while let Some(&n) = chars.peek() {
                    if n.is_ascii_alphanumeric() || n == '_' || n == ':' {
                        word.push(n);
                        chars.next();
                    } else {
                        break;
                    }
                }
                if matches!(word.as_str(), "and" | "or" | "unless" | "atan2") {
                    operators += 1;
                }
            }
            _ => {}
        }
    }
    if deepest > MAX_DEPTH {
        return Err(format!(
            "the expression nests {deepest} levels deep (parentheses, brackets, braces); promstack refuses more \
             than {MAX_DEPTH}, deliberately stricter than Prometheus, so a hostile rule cannot exhaust the stack"
        ));
    }
    if operators > MAX_OPERATORS {
        return Err(format!(
            "the expression has {operators} operators; promstack refuses more than {MAX_OPERATORS}, deliberately \
             stricter than Prometheus, so a hostile rule cannot exhaust the stack"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn real_expressions_pass_and_hostile_ones_are_refused_before_parsing() {
        check(r#"sum by (job) (rate(http_requests_total{code=~"5..", path!="/("}[5m])) / 2 > 0.1 and on() up"#)
            .unwrap();
        // Brackets and operators inside strings and comments do not count.
        check(&format!("up{{a=\"{}\"}} # {}", "(".repeat(1000), "-".repeat(5000))).unwrap();
        let deep = format!("{}1{}", "(".repeat(MAX_DEPTH + 1), ")".repeat(MAX_DEPTH + 1));
        assert!(check(&deep).unwrap_err().contains("nests 257 levels deep"));
        let chain = vec!["up"; MAX_OPERATORS + 2].join(" or ");
        assert!(check(&chain).unwrap_err().contains("2049 operators"));
        let unary = format!("{}1", "-".repeat(100_000));
        assert!(check(&unary).unwrap_err().contains("100000 operators"));
    }

    #[test]
    fn the_deepest_and_longest_accepted_expressions_parse_on_a_parse_thread() {
        let deep = format!("{}up{}", "(".repeat(MAX_DEPTH), ")".repeat(MAX_DEPTH));
        let nested_calls = format!("{}up{}", "abs(".repeat(MAX_DEPTH), ")".repeat(MAX_DEPTH));
        let chain = vec!["up"; MAX_OPERATORS + 1].join(" + ");
        let unary = format!("{}1", "-".repeat(MAX_OPERATORS));
        for expr in [deep, nested_calls, chain, unary] {
            check(&expr).unwrap();
            let parsed = std::thread::Builder::new()
                .stack_size(PARSE_STACK)
                .spawn(move || super::super::promql::check(&expr).map_err(|e| e.to_string()))
                .unwrap()
                .join()
                .expect("parsing within the bounds fits the parse thread's stack");
            parsed.unwrap();
        }
    }
}
