//! One relabel config (`relabel_configs`, `metric_relabel_configs`, `alert_relabel_configs`,
//! `write_relabel_configs`) as Prometheus' model/relabel `Config.Validate` judges it, per version:
//! the action's required and forbidden fields, label names (Prometheus 2: `[a-zA-Z_][a-zA-Z0-9_]*`;
//! 3: any non-empty UTF-8), and the regex, which Go compiles as RE2 anchored as `^(?s:regex)$`.

use serde_norway::{Mapping, Value};

use super::Target;

const ACTIONS: [&str; 11] = [
    "replace",
    "keep",
    "drop",
    "hashmod",
    "labelmap",
    "labeldrop",
    "labelkeep",
    "lowercase",
    "uppercase",
    "keepequal",
    "dropequal",
];

/// What is wrong with one relabel config, as `(field at fault, message)`; the fields' own shapes
/// (strings, lists) are checked by the section walk before this.
pub fn check(config: &Mapping, target: &Target) -> Vec<(&'static str, String)> {
    let mut problems = Vec::new();
    let text = |key: &str| config.get(key).and_then(scalar_text);
    let set = |key: &str| config.get(key).is_some_and(|v| !v.is_null());

    if let Some(regex) = text("regex") {
        if let Err(e) = re2_check(&regex, target) {
            problems.push(("regex", format!("regex {regex:?} does not compile in Go's RE2: {e}")));
        }
    }
    for label in config.get("source_labels").and_then(Value::as_sequence).into_iter().flatten() {
        let label = scalar_text(label).unwrap_or_default();
        if !is_label_name(&label, target) {
            problems.push(("source_labels", format!("{label:?} is not a valid label name{}", name_rule(target))));
        }
    }
    if config.get("action").is_some_and(|a| scalar_text(a).is_some_and(|a| a.is_empty())) {
        problems.push(("action", "relabel action cannot be empty".into()));
        return problems;
    }
    let action = text("action").unwrap_or_else(|| "replace".into()).to_lowercase();
    if !ACTIONS.contains(&action.as_str()) {
        problems.push(("action", format!("unknown relabel action {:?} (one of {})", text("action").unwrap_or_default(), ACTIONS.join(", "))));
        return problems;
    }
    let target_label = text("target_label").unwrap_or_default();
    let replacement = text("replacement");
    let modulus = config.get("modulus").and_then(Value::as_u64).unwrap_or(0);
    let a = action.as_str();

    if a == "hashmod" && modulus == 0 {
        problems.push(("modulus", "relabel configuration for hashmod requires non-zero modulus".into()));
    }
    let needs_target = ["replace", "hashmod", "lowercase", "uppercase", "keepequal", "dropequal"].contains(&a);
    if needs_target && target_label.is_empty() {
        problems.push(("action", format!("relabel configuration for {a} action requires 'target_label' value")));
        return problems;
    }
    let invalid_target = match a {
        // Prometheus 2 lets `${1}`-style references through in the name; 3 takes any UTF-8.
        "replace" => !is_target_with_refs(&target_label, target),
        "lowercase" | "uppercase" | "keepequal" | "dropequal" if !target.is_v3() => {
            !is_target_with_refs(&target_label, target)
        }
        "lowercase" | "uppercase" | "keepequal" | "dropequal" | "hashmod" => !is_label_name(&target_label, target),
        _ => false,
    };
    if invalid_target {
        problems.push(("target_label", format!("{target_label:?} is invalid 'target_label' for {a} action{}", name_rule(target))));
    }
    if ["lowercase", "uppercase", "keepequal", "dropequal"].contains(&a) && replacement.as_deref().is_some_and(|r| r != "$1") {
        problems.push(("replacement", format!("'replacement' can not be set for {a} action")));
    }
    if a == "labelmap" {
        let replacement = replacement.clone().unwrap_or_else(|| "$1".into());
        if !is_target_with_refs(&replacement, target) {
            problems.push(("replacement", format!("{replacement:?} is invalid 'replacement' for labelmap action")));
        }
    }
    let default_or = |key: &str, default: &str| text(key).is_none_or(|v| v == default);
    if (a == "keepequal" || a == "dropequal")
        && (set("regex") || modulus != 0 || !default_or("separator", ";") || !default_or("replacement", "$1"))
    {
        problems.push(("action", format!("{a} action requires only 'source_labels' and `target_label`, and no other fields")));
    }
    if (a == "labeldrop" || a == "labelkeep")
        && (config.get("source_labels").is_some()
            || !target_label.is_empty()
            || modulus != 0
            || !default_or("separator", ";")
            || !default_or("replacement", "$1"))
    {
        problems.push(("action", format!("{a} action requires only 'regex', and no other fields")));
    }
    problems
}

fn scalar_text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn name_rule(target: &Target) -> String {
    if target.is_v3() {
        String::new()
    } else {
        format!(" in {} (names match [a-zA-Z_][a-zA-Z0-9_]*; any UTF-8 from Prometheus 3.0)", version(target))
    }
}

fn version(target: &Target) -> String {
    format!("Prometheus {}.{}", target.major, target.minor)
}

/// `model.LabelName.IsValid` of the version: legacy names on 2.x, non-empty UTF-8 on 3.x.
pub fn is_label_name(name: &str, target: &Target) -> bool {
    if target.is_v3() {
        return !name.is_empty();
    }
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// A target label or labelmap replacement: on 2.x `relabelTarget`
/// (`^(?:(?:[a-zA-Z_]|\$(?:\{\w+\}|\w+))+\w*)+$`), on 3.x any non-empty UTF-8.
fn is_target_with_refs(name: &str, target: &Target) -> bool {
    if target.is_v3() {
        return !name.is_empty();
    }
    let word = |c: char| c.is_ascii_alphanumeric() || c == '_';
    let b = name.as_bytes();
    let mut i = 0;
    if b.is_empty() {
        return false;
    }
    while i < b.len() {
        let c = b[i] as char;
        if c.is_ascii_alphabetic() || c == '_' {
            i += 1;
        } else if c == '$' {
            if b.get(i + 1) == Some(&b'{') {
                let end = name[i + 2..].find('}').map(|e| i + 2 + e);
                match end {
                    Some(e) if e > i + 2 && name[i + 2..e].chars().all(word) => i = e + 1,
                    _ => return false,
                }
            } else {
                let n = name[i + 1..].chars().take_while(|&c| word(c)).count();
                if n == 0 {
                    return false;
                }
                i += 1 + n;
            }
        } else if word(c) && i > 0 {
            i += 1;
        } else {
            return false;
        }
    }
    true
}

/// Whether Go's `regexp.Compile("^(?s:" + regex + ")$")` accepts `regex`. The Rust `regex-syntax`
/// parser does the work; around it are the places where Go's RE2 syntax differs from it:
/// `\Q...\E` quoting, `\012` octal, `\1` refused (no backreferences in either), flags other than
/// `imsU` refused, repeat counts over 1000 and nested repetition (`a**`, `x{2}{3}`) refused, and
/// `(?<name>...)` accepted only from Go 1.22 (Prometheus 3). Unicode classes Go does not know
/// (`\p{Alphabetic}`: Go has only general categories and scripts) are not caught.
pub fn re2_check(regex: &str, target: &Target) -> Result<(), String> {
    let chars: Vec<char> = regex.chars().collect();
    let mut plain = String::new();
    let mut i = 0;
    let mut in_class = false;
    // After a repetition operator (and its optional lazy `?`): another one is Go's "nested repetition".
    let mut after_repeat = false;
    while i < chars.len() {
        let c = chars[i];
        let repeat_len = if in_class { 0 } else { repeat_at(&chars[i..]) };
        if repeat_len > 0 {
            if after_repeat {
                return Err(format!("invalid nested repetition operator at {:?}", chars[i..i + repeat_len].iter().collect::<String>()));
            }
            let op: String = chars[i..i + repeat_len].iter().collect();
            if op.starts_with('{') {
                let counts = op.trim_matches(['{', '}']);
                if counts.split(',').filter(|n| !n.is_empty()).any(|n| n.parse::<u32>().map_or(true, |n| n > 1000)) {
                    return Err(format!("invalid repeat count {op:?}"));
                }
            }
            plain.push_str(&op);
            i += repeat_len;
            if chars.get(i) == Some(&'?') {
                plain.push('?');
                i += 1;
            }
            after_repeat = true;
            continue;
        }
        after_repeat = false;
        match c {
            '\\' => {
                let Some(&next) = chars.get(i + 1) else { return Err("trailing backslash".into()) };
                if next == 'Q' {
                    let rest: String = chars[i + 2..].iter().collect();
                    let (quoted, after) = match rest.find("\\E") {
                        Some(end) => (&rest[..end], end + 2),
                        None => (rest.as_str(), rest.len()),
                    };
                    for q in quoted.chars() {
                        plain.push_str(&regex_syntax::escape(&q.to_string()));
                    }
                    i += 2 + rest[..after].chars().count();
                    continue;
                }
                if ('1'..='7').contains(&next) && !chars.get(i + 2).is_some_and(|d| ('0'..='7').contains(d)) {
                    return Err(format!("invalid escape sequence \\{next} (no backreferences)"));
                }
                if ['C', 'Z', 'e'].contains(&next) {
                    return Err(format!("invalid escape sequence \\{next}"));
                }
                if (next == 'b' || next == 'B') && chars.get(i + 2) == Some(&'{') && !in_class {
                    // Go reads `\b{start}` as `\b` and a literal; regex-syntax as a special boundary.
                    plain.push_str(&format!("\\{next}\\{{"));
                    i += 3;
                    continue;
                }
                if next == '<' || next == '>' {
                    plain.push_str(&format!("\\{next}"));
                    i += 2;
                    continue;
                }
                plain.push(c);
                plain.push(next);
                i += 2;
                continue;
            }
            '[' if !in_class => {
                in_class = true;
                plain.push(c);
                i += 1;
                // A `]` (after an optional `^`) right after `[` is a literal.
                if chars.get(i) == Some(&'^') {
                    plain.push('^');
                    i += 1;
                }
                if chars.get(i) == Some(&']') {
                    plain.push_str("\\]");
                    i += 1;
                }
                continue;
            }
            '[' if in_class && chars.get(i + 1) == Some(&':') => {
                // `[:alpha:]` inside a class.
                let rest: String = chars[i..].iter().collect();
                let end = rest.find(":]").map_or(1, |e| rest[..e + 2].chars().count());
                plain.push_str(&rest.chars().take(end).collect::<String>());
                i += end;
                continue;
            }
            ']' if in_class => in_class = false,
            '(' if !in_class && chars.get(i + 1) == Some(&'?') => {
                let rest: String = chars[i + 2..].iter().collect();
                if rest.starts_with('<') && !rest.starts_with("<=") && !rest.starts_with("<!") && !target.is_v3() {
                    return Err("invalid or unsupported Perl syntax `(?<` (named groups are written (?P<name>...) before Prometheus 3)".into());
                }
                if !rest.starts_with("P<") && !rest.starts_with('<') {
                    let flags: String = rest.chars().take_while(|&f| f != ':' && f != ')').collect();
                    if flags.is_empty() || !flags.chars().all(|f| "imsU-".contains(f)) {
                        return Err(format!("invalid or unsupported Perl syntax `(?{}`", rest.chars().next().unwrap_or(' ')));
                    }
                }
                plain.push_str("(?");
                i += 2;
                continue;
            }
            '{' if !in_class => {
                plain.push_str("\\{");
                i += 1;
                continue;
            }
            _ => {}
        }
        plain.push(c);
        i += 1;
    }
    let anchored = format!("^(?s:{plain})$");
    regex_syntax::ParserBuilder::new().octal(true).build().parse(&anchored).map(|_| ()).map_err(|e| {
        let text = e.to_string();
        text.lines().last().unwrap_or(&text).trim_start_matches("error: ").to_string()
    })
}

/// The length of the repetition operator at the start of `chars` (`*`, `+`, `?`, `{n}`, `{n,}`,
/// `{n,m}`), 0 when there is none. A `{` that is not a valid count is a literal in Go.
fn repeat_at(chars: &[char]) -> usize {
    match chars.first() {
        Some('*') | Some('+') | Some('?') => 1,
        Some('{') => {
            let Some(end) = chars.iter().position(|&c| c == '}') else { return 0 };
            let inner: String = chars[1..end].iter().collect();
            let mut parts = inner.splitn(2, ',');
            let min = parts.next().unwrap_or_default();
            let max = parts.next();
            let digits = |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_digit());
            if digits(min) && max.is_none_or(|m| m.is_empty() || digits(m)) {
                end + 1
            } else {
                0
            }
        }
        _ => 0,
    }
}
