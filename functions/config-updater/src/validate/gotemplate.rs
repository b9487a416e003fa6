//! Go `text/template` checks for the labels and annotations of alerting rules, as `promtool check
//! rules` runs them: the text is parsed (never executed) after Prometheus' own definitions of
//! `$labels`, `$externalLabels`, `$externalURL` and `$value`, with Prometheus' template functions
//! and Go's builtins. Parsing rejects bad syntax, unknown functions and undefined variables; what
//! fails only when the alert fires (a missing label, `index` out of range) is not judged here.
//!
//! The lexer and parser follow Go's `text/template/parse` (lex.go, parse.go, node.go) step by
//! step, so the first error found is the one Go reports. The deployed version matters through the
//! function set (`now`, `toDuration` from 3.6, `urlQueryEscape` from 3.8, ...) and through the Go
//! release Prometheus was built with: `{{else with}}` needs Go 1.23 (Prometheus 2.55 and later),
//! `{{break}}`/`{{continue}}` Go 1.18 (2.35 and later), Go 1.20 reworded a stray `)` (2.44), and
//! recent Go releases (Go 1.27 built Debian's 3.5.3) stop at 10,000 nested parentheses, applied
//! here from Prometheus 3. Debian 12's 2.42 is built with Go 1.19.
//!
//! Not judged: a `{{define}}` of the alert's own template name (`__alert_<alert>`, which Go
//! rejects as a second definition; the name is not passed in), and letters and digits outside
//! ASCII are told apart by Rust's Unicode classes rather than Go's (the same for real scripts).

use std::collections::HashMap;

use super::Target;

/// What Prometheus runs before every label and annotation template (model/rulefmt).
const PROMETHEUS_DEFS: &str =
    "{{$labels := .Labels}}{{$externalLabels := .ExternalLabels}}{{$externalURL := .ExternalURL}}{{$value := .Value}}";

/// Go's builtin template functions (text/template funcs.go), the same from Go 1.13 on.
const GO_BUILTINS: &[&str] = &[
    "and", "call", "html", "index", "slice", "js", "len", "not", "or", "print", "printf", "println", "urlquery", "eq",
    "ge", "gt", "le", "lt", "ne",
];

/// Prometheus' template functions (template/template.go `NewTemplateExpander`) and the version
/// that added each. `tmpl` is not one: only console templates (`ExpandHTML`) have it.
const PROMETHEUS_FUNCTIONS: &[(&str, (u32, u32))] = &[
    ("query", (2, 0)),
    ("first", (2, 0)),
    ("label", (2, 0)),
    ("value", (2, 0)),
    ("strvalue", (2, 0)),
    ("args", (2, 0)),
    ("reReplaceAll", (2, 0)),
    ("safeHtml", (2, 0)),
    ("match", (2, 0)),
    ("title", (2, 0)),
    ("toUpper", (2, 0)),
    ("toLower", (2, 0)),
    ("graphLink", (2, 0)),
    ("tableLink", (2, 0)),
    ("sortByLabel", (2, 0)),
    ("stripPort", (2, 33)),
    ("stripDomain", (2, 36)),
    ("humanize", (2, 0)),
    ("humanize1024", (2, 0)),
    ("humanizeDuration", (2, 0)),
    ("humanizePercentage", (2, 11)),
    ("humanizeTimestamp", (2, 0)),
    ("toTime", (2, 38)),
    ("toDuration", (3, 6)),
    ("now", (3, 6)),
    ("pathPrefix", (2, 0)),
    ("externalURL", (2, 0)),
    ("parseDuration", (2, 32)),
    ("urlQueryEscape", (3, 8)),
];

/// Go's limit on nested parentheses (parse.go `maxStackDepth`).
const MAX_PAREN_DEPTH: usize = 10_000;

/// Nesting (of actions in actions and of parentheses) parsed on the calling thread's stack;
/// deeper templates are parsed again on a thread of their own with room for `MAX_NESTING`.
const SHALLOW_NESTING: usize = 100;
const MAX_NESTING: usize = 20_000;
/// Stack per nesting level, with room to spare (a debug build uses about 4 KiB).
const STACK_PER_LEVEL: usize = 8 << 10;

/// Ok when Prometheus of `target`'s version would accept `text` as a label or annotation of an
/// alerting rule; else the first error Go's parser reports, with its line when the text has several.
pub fn check(text: &str, target: &Target) -> Result<(), String> {
    if !text.contains("{{") {
        return Ok(());
    }
    let dialect = Dialect::of(target);
    let source = format!("{PROMETHEUS_DEFS}{text}");
    let mut result = Parser::new(&source, &dialect, SHALLOW_NESTING).parse();
    if result.as_ref().is_err_and(|f| f.too_deep) {
        result = std::thread::scope(|scope| {
            std::thread::Builder::new()
                .name("gotemplate".into())
                .stack_size((MAX_NESTING + 100) * STACK_PER_LEVEL)
                .spawn_scoped(scope, || Parser::new(&source, &dialect, MAX_NESTING).parse())
                .expect("a thread for a deeply nested template")
                .join()
                .expect("the template parser panicked")
        });
    }
    result.map_err(|failure| {
        if text.contains('\n') {
            format!("line {}: {}", failure.line, failure.message)
        } else {
            failure.message
        }
    })
}

/// What differs between the Prometheus versions: its functions and the Go release it was built with.
struct Dialect {
    prometheus: String,
    functions: Vec<&'static str>,
    /// Functions of later Prometheus versions, to say so when one is used.
    later: Vec<(&'static str, (u32, u32))>,
    else_with: bool,
    break_continue: bool,
    /// Built with Go 1.19 or older, whose lexer words some errors differently.
    old_go: bool,
    paren_limit: Option<usize>,
}

impl Dialect {
    fn of(target: &Target) -> Self {
        let (functions, later): (Vec<_>, Vec<_>) =
            PROMETHEUS_FUNCTIONS.iter().copied().partition(|(_, (major, minor))| target.at_least(*major, *minor));
        Dialect {
            prometheus: format!("Prometheus {}.{}", target.major, target.minor),
            functions: functions.into_iter().map(|(name, _)| name).collect(),
            later,
            else_with: target.at_least(2, 55),
            break_continue: target.at_least(2, 35),
            old_go: !target.at_least(2, 44),
            paren_limit: target.is_v3().then_some(MAX_PAREN_DEPTH),
        }
    }

    fn has_function(&self, name: &str) -> bool {
        self.functions.contains(&name) || GO_BUILTINS.contains(&name)
    }

    fn unknown_function(&self, name: &str) -> String {
        if let Some((_, (major, minor))) = self.later.iter().find(|(f, _)| *f == name) {
            return format!(
                "function {name:?} is not defined in {} (Prometheus has it from {major}.{minor})",
                self.prometheus
            );
        }
        format!(
            "function {name:?} is not defined ({}'s template functions: {}; Go's: {})",
            self.prometheus,
            self.functions.join(", "),
            GO_BUILTINS.join(", ")
        )
    }
}

/// A parse error: Go's message and the line it reports.
#[derive(Debug)]
struct Failure {
    line: usize,
    message: String,
    /// The nesting budget ran out: parse again with a larger one.
    too_deep: bool,
}

type Parsed<T> = Result<T, Failure>;

// ---------------------------------------------------------------------------------------------
// Lexer (Go's lex.go, Go 1.20 and later; earlier releases differ only in some messages).

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Error,
    Bool,
    Char,
    CharConstant,
    Complex,
    Assign,
    Declare,
    Eof,
    Field,
    Identifier,
    LeftDelim,
    LeftParen,
    Number,
    Pipe,
    RawString,
    RightDelim,
    RightParen,
    Space,
    String,
    Text,
    Variable,
    // Keywords.
    Block,
    Break,
    Continue,
    Dot,
    Define,
    Else,
    End,
    If,
    Nil,
    Range,
    Template,
    With,
}

impl Kind {
    fn is_keyword(self) -> bool {
        matches!(
            self,
            Kind::Block
                | Kind::Break
                | Kind::Continue
                | Kind::Dot
                | Kind::Define
                | Kind::Else
                | Kind::End
                | Kind::If
                | Kind::Nil
                | Kind::Range
                | Kind::Template
                | Kind::With
        )
    }
}

#[derive(Debug, Clone)]
struct Item<'a> {
    kind: Kind,
    /// The source text, or the message of an `Error` item.
    val: std::borrow::Cow<'a, str>,
    line: usize,
}

impl Item<'_> {
    fn eof(line: usize) -> Self {
        Item { kind: Kind::Eof, val: "EOF".into(), line }
    }
}

impl std::fmt::Display for Item<'_> {
    /// As Go prints a token in its messages.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.kind {
            Kind::Eof => write!(f, "EOF"),
            Kind::Error => write!(f, "{}", self.val),
            kind if kind.is_keyword() => write!(f, "<{}>", self.val),
            _ if self.val.len() > 10 => {
                let head: String = self.val.chars().take(10).collect();
                write!(f, "{}...", go_quote(&head))
            }
            _ => write!(f, "{}", go_quote(&self.val)),
        }
    }
}

fn is_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\r' | '\n')
}

/// Go's `unicode.IsLetter(r) || unicode.IsDigit(r)` plus `_` (Rust's classes are close enough
/// for identifiers: both cover every script's letters and decimal digits).
fn is_alphanumeric(c: char) -> bool {
    c == '_' || c.is_alphanumeric()
}

fn has_left_trim_marker(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() >= 2 && b[0] == b'-' && is_space(b[1] as char)
}

fn has_right_trim_marker(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() >= 2 && is_space(b[0] as char) && b[1] == b'-'
}

const LEFT_DELIM: &str = "{{";
const RIGHT_DELIM: &str = "}}";
const TRIM_MARKER_LEN: usize = 2;

struct Lexer<'a> {
    input: &'a str,
    pos: usize,
    start: usize,
    at_eof: bool,
    paren_depth: i64,
    line: usize,
    start_line: usize,
    inside_action: bool,
    /// An error was returned: Go empties the input, so only EOF follows.
    failed: bool,
    break_continue: bool,
    /// Lex as Go 1.19 did (Prometheus before 2.44), where messages differ.
    old_go: bool,
    stray_paren: bool,
}

impl<'a> Lexer<'a> {
    fn new(input: &'a str, dialect: &Dialect) -> Self {
        Lexer {
            input,
            pos: 0,
            start: 0,
            at_eof: false,
            paren_depth: 0,
            line: 1,
            start_line: 1,
            inside_action: false,
            failed: false,
            break_continue: dialect.break_continue,
            old_go: dialect.old_go,
            stray_paren: false,
        }
    }

    fn rest(&self) -> &'a str {
        &self.input[self.pos..]
    }

    fn next_char(&mut self) -> Option<char> {
        let Some(c) = self.rest().chars().next() else {
            self.at_eof = true;
            return None;
        };
        self.pos += c.len_utf8();
        if c == '\n' {
            self.line += 1;
        }
        Some(c)
    }

    fn peek_char(&mut self) -> Option<char> {
        let c = self.next_char();
        self.backup();
        c
    }

    fn backup(&mut self) {
        if !self.at_eof && self.pos > 0 {
            let c = self.input[..self.pos].chars().next_back().expect("a character before pos");
            self.pos -= c.len_utf8();
            if c == '\n' {
                self.line -= 1;
            }
        }
    }

    fn accept(&mut self, valid: &str) -> bool {
        match self.next_char() {
            Some(c) if valid.contains(c) => true,
            _ => {
                self.backup();
                false
            }
        }
    }

    fn accept_run(&mut self, valid: &str) {
        while matches!(self.next_char(), Some(c) if valid.contains(c)) {}
        self.backup();
    }

    fn item(&mut self, kind: Kind) -> Item<'a> {
        let item = Item { kind, val: self.input[self.start..self.pos].into(), line: self.start_line };
        self.start = self.pos;
        self.start_line = self.line;
        item
    }

    fn ignore(&mut self) {
        self.line += self.input[self.start..self.pos].matches('\n').count();
        self.start = self.pos;
        self.start_line = self.line;
    }

    fn error(&mut self, message: String) -> Item<'a> {
        self.failed = true;
        Item { kind: Kind::Error, val: message.into(), line: self.start_line }
    }

    fn next_item(&mut self) -> Item<'a> {
        if self.failed {
            return Item::eof(self.start_line);
        }
        if std::mem::take(&mut self.stray_paren) {
            return self.error("unexpected right paren U+0029 ')'".into());
        }
        if self.inside_action {
            self.inside_action_item()
        } else {
            self.text_item()
        }
    }

    /// lexText, lexLeftDelim and lexComment: text up to the next action.
    fn text_item(&mut self) -> Item<'a> {
        loop {
            let Some(x) = self.rest().find(LEFT_DELIM) else {
                self.pos = self.input.len();
                if self.pos > self.start {
                    self.line += self.input[self.start..self.pos].matches('\n').count();
                    return self.item(Kind::Text);
                }
                return self.item(Kind::Eof);
            };
            if x > 0 {
                self.pos += x;
                let mut trim = 0;
                if has_left_trim_marker(&self.input[self.pos + LEFT_DELIM.len()..]) {
                    let text = &self.input[self.start..self.pos];
                    trim = text.len() - text.trim_end_matches(is_space).len();
                }
                self.pos -= trim;
                self.line += self.input[self.start..self.pos].matches('\n').count();
                let text = self.item(Kind::Text);
                self.pos += trim;
                self.ignore();
                if !text.val.is_empty() {
                    return text;
                }
            }
            // lexLeftDelim
            self.pos += LEFT_DELIM.len();
            let after_marker = if has_left_trim_marker(self.rest()) { TRIM_MARKER_LEN } else { 0 };
            if self.input[self.pos + after_marker..].starts_with("/*") {
                self.pos += after_marker;
                self.ignore();
                if let Some(error) = self.skip_comment() {
                    return error;
                }
                continue;
            }
            let delim = self.item(Kind::LeftDelim);
            self.inside_action = true;
            self.pos += after_marker;
            self.ignore();
            self.paren_depth = 0;
            return delim;
        }
    }

    /// lexComment: the comment is dropped (Prometheus does not ask Go to keep comments).
    fn skip_comment(&mut self) -> Option<Item<'a>> {
        self.pos += 2;
        let Some(x) = self.rest().find("*/") else {
            return Some(self.error("unclosed comment".into()));
        };
        self.pos += x + 2;
        let (delim, trim) = self.at_right_delim();
        if !delim {
            return Some(self.error("comment ends before closing delimiter".into()));
        }
        self.line += self.input[self.start..self.pos].matches('\n').count();
        self.item(Kind::Text);
        if trim {
            self.pos += TRIM_MARKER_LEN;
        }
        self.pos += RIGHT_DELIM.len();
        if trim {
            self.pos += self.rest().len() - self.rest().trim_start_matches(is_space).len();
        }
        self.ignore();
        None
    }

    fn at_right_delim(&self) -> (bool, bool) {
        let rest = self.rest();
        if has_right_trim_marker(rest) && rest[TRIM_MARKER_LEN..].starts_with(RIGHT_DELIM) {
            return (true, true);
        }
        (rest.starts_with(RIGHT_DELIM), false)
    }

    fn right_delim(&mut self) -> Item<'a> {
        let (_, trim) = self.at_right_delim();
        if trim {
            self.pos += TRIM_MARKER_LEN;
            self.ignore();
        }
        self.pos += RIGHT_DELIM.len();
        let item = self.item(Kind::RightDelim);
        if trim {
            self.pos += self.rest().len() - self.rest().trim_start_matches(is_space).len();
            self.ignore();
        }
        self.inside_action = false;
        item
    }

    /// lexInsideAction: one token of an action.
    fn inside_action_item(&mut self) -> Item<'a> {
        if self.at_right_delim().0 {
            if self.paren_depth == 0 {
                return self.right_delim();
            }
            return self.error("unclosed left paren".into());
        }
        let Some(c) = self.next_char() else {
            return self.error("unclosed action".into());
        };
        match c {
            _ if is_space(c) => {
                self.backup();
                self.space()
            }
            '=' => self.item(Kind::Assign),
            ':' => {
                if self.next_char() != Some('=') {
                    return self.error("expected :=".into());
                }
                self.item(Kind::Declare)
            }
            '|' => self.item(Kind::Pipe),
            '"' => self.quote(),
            '`' => self.raw_quote(),
            '$' => {
                if self.at_terminator() {
                    return self.item(Kind::Variable);
                }
                self.field_or_variable(Kind::Variable)
            }
            '\'' => self.char_constant(),
            '.' if !self.rest().starts_with(|c: char| c.is_ascii_digit()) && !self.rest().is_empty() => {
                self.field_or_variable(Kind::Field)
            }
            '.' | '+' | '-' | '0'..='9' => {
                self.backup();
                self.number()
            }
            _ if is_alphanumeric(c) => {
                self.backup();
                self.identifier()
            }
            '(' => {
                self.paren_depth += 1;
                self.item(Kind::LeftParen)
            }
            ')' => {
                self.paren_depth -= 1;
                if self.paren_depth < 0 {
                    if self.old_go {
                        // Go 1.19 passes the `)` on first, so the parser reports it.
                        self.stray_paren = true;
                        return self.item(Kind::RightParen);
                    }
                    return self.error("unexpected right paren".into());
                }
                self.item(Kind::RightParen)
            }
            _ if c.is_ascii() && !c.is_ascii_control() => self.item(Kind::Char),
            _ => self.error(format!("unrecognized character in action: {}", go_rune(c))),
        }
    }

    /// lexSpace: a run of spaces, minding a ` -}}` that follows.
    fn space(&mut self) -> Item<'a> {
        let mut spaces = 0;
        while self.peek_char().is_some_and(is_space) {
            self.next_char();
            spaces += 1;
        }
        let before = &self.input[self.pos - 1..];
        if has_right_trim_marker(before) && before[TRIM_MARKER_LEN..].starts_with(RIGHT_DELIM) {
            self.backup();
            if spaces == 1 {
                return self.right_delim();
            }
        }
        self.item(Kind::Space)
    }

    fn identifier(&mut self) -> Item<'a> {
        while self.next_char().is_some_and(is_alphanumeric) {}
        self.backup();
        let stop = self.peek_char();
        if !self.at_terminator() {
            return self.error(format!("bad character {}", go_rune(stop.unwrap_or('\u{0}'))));
        }
        let kind = match &self.input[self.start..self.pos] {
            "block" => Kind::Block,
            "break" if self.break_continue => Kind::Break,
            "continue" if self.break_continue => Kind::Continue,
            "define" => Kind::Define,
            "else" => Kind::Else,
            "end" => Kind::End,
            "if" => Kind::If,
            "range" => Kind::Range,
            "nil" => Kind::Nil,
            "template" => Kind::Template,
            "with" => Kind::With,
            "true" | "false" => Kind::Bool,
            _ => Kind::Identifier,
        };
        self.item(kind)
    }

    /// lexFieldOrVariable: `.Name` or `$name`; the `.` or `$` is consumed.
    fn field_or_variable(&mut self, kind: Kind) -> Item<'a> {
        if self.at_terminator() {
            return self.item(if kind == Kind::Variable { Kind::Variable } else { Kind::Dot });
        }
        let stop = loop {
            match self.next_char() {
                Some(c) if is_alphanumeric(c) => {}
                other => {
                    self.backup();
                    break other;
                }
            }
        };
        if !self.at_terminator() {
            return self.error(format!("bad character {}", go_rune(stop.unwrap_or('\u{0}'))));
        }
        self.item(kind)
    }

    fn at_terminator(&mut self) -> bool {
        match self.peek_char() {
            None => true,
            Some(c) if is_space(c) || matches!(c, '.' | ',' | '|' | ':' | ')' | '(') => true,
            Some(_) => self.rest().starts_with(RIGHT_DELIM),
        }
    }

    fn char_constant(&mut self) -> Item<'a> {
        loop {
            match self.next_char() {
                Some('\\') => {
                    if !matches!(self.next_char(), None | Some('\n')) {
                        continue;
                    }
                    return self.error("unterminated character constant".into());
                }
                None | Some('\n') => return self.error("unterminated character constant".into()),
                Some('\'') => return self.item(Kind::CharConstant),
                Some(_) => {}
            }
        }
    }

    fn number(&mut self) -> Item<'a> {
        if !self.scan_number() {
            let text = go_quote(&self.input[self.start..self.pos]);
            return self.error(format!("bad number syntax: {text}"));
        }
        if matches!(self.peek_char(), Some('+' | '-')) {
            if !self.scan_number() || !self.input[..self.pos].ends_with('i') {
                let text = go_quote(&self.input[self.start..self.pos]);
                return self.error(format!("bad number syntax: {text}"));
            }
            return self.item(Kind::Complex);
        }
        self.item(Kind::Number)
    }

    fn scan_number(&mut self) -> bool {
        self.accept("+-");
        let mut digits = "0123456789_";
        if self.accept("0") {
            if self.accept("xX") {
                digits = "0123456789abcdefABCDEF_";
            } else if self.accept("oO") {
                digits = "01234567_";
            } else if self.accept("bB") {
                digits = "01_";
            }
        }
        self.accept_run(digits);
        if self.accept(".") {
            self.accept_run(digits);
        }
        if digits.len() == 11 && self.accept("eE") {
            self.accept("+-");
            self.accept_run("0123456789_");
        }
        if digits.len() == 23 && self.accept("pP") {
            self.accept("+-");
            self.accept_run("0123456789_");
        }
        self.accept("i");
        if self.peek_char().is_some_and(is_alphanumeric) {
            self.next_char();
            return false;
        }
        true
    }

    fn quote(&mut self) -> Item<'a> {
        loop {
            match self.next_char() {
                Some('\\') => {
                    if !matches!(self.next_char(), None | Some('\n')) {
                        continue;
                    }
                    return self.error("unterminated quoted string".into());
                }
                None | Some('\n') => return self.error("unterminated quoted string".into()),
                Some('"') => return self.item(Kind::String),
                Some(_) => {}
            }
        }
    }

    fn raw_quote(&mut self) -> Item<'a> {
        loop {
            match self.next_char() {
                None => return self.error("unterminated raw quoted string".into()),
                Some('`') => return self.item(Kind::RawString),
                Some(_) => {}
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Parser (Go's parse.go): builds no tree, keeps what later checks need of each node.

/// The kind of an operand, for the checks that depend on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Operand {
    Bool,
    Dot,
    Nil,
    Number,
    String,
    Field,
    Variable,
    Identifier,
    Pipe,
    Chain,
}

/// What `textOrAction` found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Node {
    /// Text, and whether it is blank.
    Text(bool),
    /// Any action that is not a text, an `{{end}}` or an `{{else}}`.
    Action,
    End,
    Else,
}

impl Node {
    fn describe(self) -> &'static str {
        match self {
            Node::End => "{{end}}",
            Node::Else => "{{else}}",
            Node::Text(_) | Node::Action => "action",
        }
    }
}

/// Parse state that belongs to one template (Go's `Tree`); `{{define}}` and `{{block}}` bodies
/// start afresh.
struct Scope<'a> {
    vars: Vec<std::borrow::Cow<'a, str>>,
    range_depth: usize,
    paren_depth: usize,
    action_line: usize,
}

impl Scope<'_> {
    fn new() -> Self {
        Scope { vars: vec!["$".into()], range_depth: 0, paren_depth: 0, action_line: 0 }
    }
}

struct Parser<'a, 'd> {
    lex: Lexer<'a>,
    dialect: &'d Dialect,
    token: [Item<'a>; 3],
    peek_count: usize,
    scope: Scope<'a>,
    /// Templates defined so far, and whether each is empty (Go's treeSet and IsEmptyTree).
    defined: HashMap<String, bool>,
    /// How deep actions and parentheses nest now, and how deep this thread's stack allows.
    nesting: usize,
    max_nesting: usize,
}

impl<'a, 'd> Parser<'a, 'd> {
    fn new(source: &'a str, dialect: &'d Dialect, max_nesting: usize) -> Self {
        Parser {
            lex: Lexer::new(source, dialect),
            dialect,
            token: [Item::eof(1), Item::eof(1), Item::eof(1)],
            peek_count: 0,
            scope: Scope::new(),
            defined: HashMap::new(),
            nesting: 0,
            max_nesting,
        }
    }

    /// Runs `inner` one nesting level deeper, within the stack's budget.
    fn nested<T>(&mut self, inner: impl FnOnce(&mut Self) -> Parsed<T>) -> Parsed<T> {
        if self.nesting >= self.max_nesting {
            let message = format!("the template nests more than {} levels deep", self.max_nesting);
            return Err(Failure { line: self.token[0].line, message, too_deep: true });
        }
        self.nesting += 1;
        let result = inner(self);
        self.nesting -= 1;
        result
    }

    fn next(&mut self) -> Item<'a> {
        if self.peek_count > 0 {
            self.peek_count -= 1;
        } else {
            self.token[0] = self.lex.next_item();
        }
        self.token[self.peek_count].clone()
    }

    fn backup(&mut self) {
        self.peek_count += 1;
    }

    fn backup2(&mut self, t1: Item<'a>) {
        self.token[1] = t1;
        self.peek_count = 2;
    }

    fn backup3(&mut self, t2: Item<'a>, t1: Item<'a>) {
        self.token[1] = t1;
        self.token[2] = t2;
        self.peek_count = 3;
    }

    fn peek(&mut self) -> Item<'a> {
        if self.peek_count > 0 {
            return self.token[self.peek_count - 1].clone();
        }
        self.peek_count = 1;
        self.token[0] = self.lex.next_item();
        self.token[0].clone()
    }

    fn next_non_space(&mut self) -> Item<'a> {
        loop {
            let token = self.next();
            if token.kind != Kind::Space {
                return token;
            }
        }
    }

    fn peek_non_space(&mut self) -> Item<'a> {
        let token = self.next_non_space();
        self.backup();
        token
    }

    fn fail<T>(&self, message: impl Into<String>) -> Parsed<T> {
        Err(Failure { line: self.token[0].line, message: message.into(), too_deep: false })
    }

    fn expect(&mut self, kind: Kind, context: &str) -> Parsed<Item<'a>> {
        let token = self.next_non_space();
        if token.kind != kind {
            return self.unexpected(&token, context);
        }
        Ok(token)
    }

    fn unexpected<T>(&self, token: &Item<'_>, context: &str) -> Parsed<T> {
        if token.kind == Kind::Error {
            let action_line = self.scope.action_line;
            if action_line != 0 && action_line != token.line {
                // Go: "unclosed action started at NAME:LINE", "... in action started at NAME:LINE".
                let joint = if token.val.ends_with(" action") { "" } else { " in action" };
                return self.fail(format!("{token}{joint} started at line {action_line}"));
            }
            return self.fail(token.to_string());
        }
        self.fail(format!("unexpected {token} in {context}"))
    }

    /// Runs `body` as a new template (a `{{define}}` or `{{block}}` body).
    fn in_new_template<T>(&mut self, body: impl FnOnce(&mut Self) -> Parsed<T>) -> Parsed<T> {
        let outer = std::mem::replace(&mut self.scope, Scope::new());
        let result = body(self);
        self.scope = outer;
        result
    }

    fn add_template(&mut self, name: &str, empty: bool) -> Parsed<()> {
        match self.defined.get(name) {
            Some(false) if !empty => self.fail(format!("template: multiple definition of template {name:?}")),
            Some(false) => Ok(()),
            _ => {
                self.defined.insert(name.to_string(), empty);
                Ok(())
            }
        }
    }

    /// parse: the top-level template, with its `{{define}}`s.
    fn parse(mut self) -> Parsed<()> {
        while self.peek().kind != Kind::Eof {
            if self.peek().kind == Kind::LeftDelim {
                let delim = self.next();
                if self.next_non_space().kind == Kind::Define {
                    self.in_new_template(Self::definition)?;
                    continue;
                }
                self.backup2(delim);
            }
            if let node @ (Node::End | Node::Else) = self.text_or_action()? {
                return self.fail(format!("unexpected {}", node.describe()));
            }
        }
        Ok(())
    }

    fn definition(&mut self) -> Parsed<()> {
        const CONTEXT: &str = "define clause";
        let token = self.next_non_space();
        if !matches!(token.kind, Kind::String | Kind::RawString) {
            return self.unexpected(&token, CONTEXT);
        }
        let name = self.unquote(&token.val)?;
        self.expect(Kind::RightDelim, CONTEXT)?;
        let (empty, end) = self.item_list()?;
        if end != Node::End {
            return self.fail(format!("unexpected {} in {CONTEXT}", end.describe()));
        }
        self.add_template(&name, empty)
    }

    /// itemList: up to an `{{end}}` or `{{else}}`, returned with whether the list is blank.
    fn item_list(&mut self) -> Parsed<(bool, Node)> {
        let mut empty = true;
        while self.peek_non_space().kind != Kind::Eof {
            match self.text_or_action()? {
                node @ (Node::End | Node::Else) => return Ok((empty, node)),
                Node::Text(blank) => empty &= blank,
                Node::Action => empty = false,
            }
        }
        self.fail("unexpected EOF")
    }

    fn text_or_action(&mut self) -> Parsed<Node> {
        let token = self.next_non_space();
        match token.kind {
            Kind::Text => Ok(Node::Text(token.val.trim().is_empty())),
            Kind::LeftDelim => {
                self.scope.action_line = token.line;
                let node = self.nested(Self::action);
                self.scope.action_line = 0;
                node
            }
            _ => self.unexpected(&token, "input"),
        }
    }

    fn action(&mut self) -> Parsed<Node> {
        let token = self.next_non_space();
        match token.kind {
            Kind::Block => return self.block_control().map(|()| Node::Action),
            Kind::Break | Kind::Continue => {
                let keyword = if token.kind == Kind::Break { "{{break}}" } else { "{{continue}}" };
                let next = self.next_non_space();
                if next.kind != Kind::RightDelim {
                    return self.unexpected(&next, keyword);
                }
                if self.scope.range_depth == 0 {
                    return self.fail(format!("{keyword} outside {{{{range}}}}"));
                }
                return Ok(Node::Action);
            }
            Kind::Else => {
                let peek = self.peek_non_space();
                if peek.kind == Kind::If || (peek.kind == Kind::With && self.dialect.else_with) {
                    return Ok(Node::Else);
                }
                self.expect(Kind::RightDelim, "else")?;
                return Ok(Node::Else);
            }
            Kind::End => {
                self.expect(Kind::RightDelim, "end")?;
                return Ok(Node::End);
            }
            Kind::If => return self.control("if").map(|()| Node::Action),
            Kind::Range => return self.control("range").map(|()| Node::Action),
            Kind::With => return self.control("with").map(|()| Node::Action),
            Kind::Template => return self.template_control().map(|()| Node::Action),
            _ => {}
        }
        self.backup();
        // Variables declared here persist until the enclosing `{{end}}`.
        self.pipeline("command", Kind::RightDelim)?;
        Ok(Node::Action)
    }

    /// parseControl: `if`, `range` and `with`, with their `{{else}}` and `{{else if}}`.
    fn control(&mut self, context: &'static str) -> Parsed<()> {
        let vars = self.scope.vars.len();
        self.pipeline(context, Kind::RightDelim)?;
        if context == "range" {
            self.scope.range_depth += 1;
        }
        let (_, next) = self.item_list()?;
        if context == "range" {
            self.scope.range_depth -= 1;
        }
        if next == Node::Else {
            if context == "if" && self.peek().kind == Kind::If {
                self.next();
                self.control("if")?;
            } else if context == "with" && self.dialect.else_with && self.peek().kind == Kind::With {
                self.next();
                self.control("with")?;
            } else {
                let (_, next) = self.item_list()?;
                if next != Node::End {
                    return self.fail(format!("expected end; found {}", next.describe()));
                }
            }
        }
        self.scope.vars.truncate(vars);
        Ok(())
    }

    fn block_control(&mut self) -> Parsed<()> {
        const CONTEXT: &str = "block clause";
        let token = self.next_non_space();
        let name = self.template_name(&token, CONTEXT)?;
        self.pipeline(CONTEXT, Kind::RightDelim)?;
        let (empty, end) = self.in_new_template(Self::item_list)?;
        if end != Node::End {
            return self.fail(format!("unexpected {} in {CONTEXT}", end.describe()));
        }
        self.add_template(&name, empty)
    }

    fn template_control(&mut self) -> Parsed<()> {
        const CONTEXT: &str = "template clause";
        let token = self.next_non_space();
        self.template_name(&token, CONTEXT)?;
        if self.next_non_space().kind != Kind::RightDelim {
            self.backup();
            self.pipeline(CONTEXT, Kind::RightDelim)?;
        }
        Ok(())
    }

    fn template_name(&mut self, token: &Item<'a>, context: &str) -> Parsed<String> {
        match token.kind {
            Kind::String | Kind::RawString => self.unquote(&token.val),
            _ => self.unexpected(token, context),
        }
    }

    /// pipeline: declarations? command ('|' command)*, up to `end`.
    fn pipeline(&mut self, context: &str, end: Kind) -> Parsed<()> {
        let mut decls = 0;
        loop {
            let v = self.peek_non_space();
            if v.kind != Kind::Variable {
                break;
            }
            self.next();
            // "$x foo" needs the token after "$x" to tell a use from a declaration.
            let after_variable = self.peek();
            let next = self.peek_non_space();
            match next.kind {
                Kind::Assign | Kind::Declare => {
                    self.next_non_space();
                    self.scope.vars.push(v.val);
                    break;
                }
                Kind::Char if next.val == "," => {
                    self.next_non_space();
                    decls += 1;
                    self.scope.vars.push(v.val);
                    if context == "range" && decls < 2 {
                        match self.peek_non_space().kind {
                            // The second variable of `range $i, $e := ...`.
                            Kind::Variable | Kind::RightDelim | Kind::RightParen => continue,
                            _ => return self.fail("range can only initialize variables"),
                        }
                    }
                    return self.fail(format!("too many declarations in {context}"));
                }
                _ if after_variable.kind == Kind::Space => {
                    self.backup3(v, after_variable);
                    break;
                }
                _ => {
                    self.backup2(v);
                    break;
                }
            }
        }
        let mut commands: Vec<Operand> = Vec::new();
        loop {
            let token = self.next_non_space();
            match token.kind {
                kind if kind == end => {
                    if commands.is_empty() {
                        return self.fail(format!("missing value for {context}"));
                    }
                    // Only the first command of a pipeline may start with a constant.
                    for (i, first) in commands.iter().enumerate().skip(1) {
                        if matches!(
                            first,
                            Operand::Bool | Operand::Dot | Operand::Nil | Operand::Number | Operand::String
                        ) {
                            return self.fail(format!("non executable command in pipeline stage {}", i + 1));
                        }
                    }
                    return Ok(());
                }
                Kind::Bool
                | Kind::CharConstant
                | Kind::Complex
                | Kind::Dot
                | Kind::Field
                | Kind::Identifier
                | Kind::Number
                | Kind::Nil
                | Kind::RawString
                | Kind::String
                | Kind::Variable
                | Kind::LeftParen => {
                    self.backup();
                    let first = self.command()?;
                    commands.push(first);
                }
                _ => return self.unexpected(&token, context),
            }
        }
    }

    /// command: space-separated operands up to a `|` or the end; returns the first's kind.
    fn command(&mut self) -> Parsed<Operand> {
        let mut first = None;
        loop {
            self.peek_non_space();
            if let Some(operand) = self.operand()? {
                first.get_or_insert(operand);
            }
            let token = self.next();
            match token.kind {
                Kind::Space => continue,
                Kind::RightDelim | Kind::RightParen => self.backup(),
                Kind::Pipe => {}
                _ => return self.unexpected(&token, "operand"),
            }
            break;
        }
        match first {
            Some(first) => Ok(first),
            None => self.fail("empty command"),
        }
    }

    /// operand: a term and the fields applied to it.
    fn operand(&mut self) -> Parsed<Option<Operand>> {
        let Some((node, text)) = self.term()? else { return Ok(None) };
        if self.peek().kind != Kind::Field {
            return Ok(Some(node));
        }
        while self.peek().kind == Kind::Field {
            self.next();
        }
        match node {
            Operand::Field | Operand::Variable => Ok(Some(node)),
            Operand::Bool | Operand::String | Operand::Number | Operand::Nil | Operand::Dot => {
                self.fail(format!("unexpected . after term {}", go_quote(&text)))
            }
            _ => Ok(Some(Operand::Chain)),
        }
    }

    /// term: a literal, a function, `.`, a field, a variable or a parenthesized pipeline; with its
    /// text as Go prints the node.
    fn term(&mut self) -> Parsed<Option<(Operand, String)>> {
        let token = self.next_non_space();
        let text = token.val.to_string();
        let operand = match token.kind {
            Kind::Identifier => {
                if !self.dialect.has_function(&token.val) {
                    return self.fail(self.dialect.unknown_function(&token.val));
                }
                Operand::Identifier
            }
            Kind::Dot => Operand::Dot,
            Kind::Nil => Operand::Nil,
            Kind::Variable => {
                if !self.scope.vars.contains(&token.val) {
                    return self.fail(format!("undefined variable {}", go_quote(&token.val)));
                }
                Operand::Variable
            }
            Kind::Field => Operand::Field,
            Kind::Bool => Operand::Bool,
            Kind::CharConstant | Kind::Complex | Kind::Number => {
                if let Err(message) = check_number(&token.val, token.kind) {
                    return self.fail(message);
                }
                Operand::Number
            }
            Kind::LeftParen => {
                if self.dialect.paren_limit.is_some_and(|limit| self.scope.paren_depth >= limit) {
                    return self.fail("max expression depth exceeded");
                }
                self.scope.paren_depth += 1;
                let pipe = self.nested(|p| p.pipeline("parenthesized pipeline", Kind::RightParen));
                self.scope.paren_depth -= 1;
                pipe?;
                Operand::Pipe
            }
            Kind::String | Kind::RawString => {
                self.unquote(&token.val)?;
                Operand::String
            }
            _ => {
                self.backup();
                return Ok(None);
            }
        };
        Ok(Some((operand, text)))
    }

    fn unquote(&self, quoted: &str) -> Parsed<String> {
        match go_unquote(quoted) {
            Some(s) => Ok(s),
            None => self.fail(format!("invalid syntax: {quoted} is not a valid Go string literal")),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Literals as Go's strconv reads them (node.go newNumber, strconv.Unquote).

/// `%q` of Go's fmt (strconv.Quote), for messages.
fn go_quote(s: &str) -> String {
    let mut out = String::from('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => out.push_str(&format!("\\x{:02x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// `%#U` of Go's fmt.
fn go_rune(c: char) -> String {
    if c.is_control() {
        format!("U+{:04X}", c as u32)
    } else {
        format!("U+{:04X} '{c}'", c as u32)
    }
}

/// strconv.Unquote of a `"..."` or `` `...` `` literal the lexer accepted.
fn go_unquote(quoted: &str) -> Option<String> {
    if let Some(raw) = quoted.strip_prefix('`') {
        return raw.strip_suffix('`').map(|s| s.replace('\r', ""));
    }
    let mut rest = quoted.strip_prefix('"')?.strip_suffix('"')?;
    let mut out = String::new();
    while !rest.is_empty() {
        let (c, tail) = unquote_char(rest, '"')?;
        out.push(c.unwrap_or(char::REPLACEMENT_CHARACTER));
        rest = tail;
    }
    Some(out)
}

/// strconv.UnquoteChar: the first character of `s` (a byte escape yields `None`) and the rest.
fn unquote_char(s: &str, quote: char) -> Option<(Option<char>, &str)> {
    let c = s.chars().next()?;
    if c == quote {
        return None;
    }
    if c != '\\' {
        return Some((Some(c), &s[c.len_utf8()..]));
    }
    let escape = s[1..].chars().next()?;
    let rest = &s[1 + escape.len_utf8()..];
    let simple = |c: char| Some((Some(c), rest));
    match escape {
        'a' => simple('\u{7}'),
        'b' => simple('\u{8}'),
        'f' => simple('\u{c}'),
        'n' => simple('\n'),
        'r' => simple('\r'),
        't' => simple('\t'),
        'v' => simple('\u{b}'),
        '\\' => simple('\\'),
        '\'' | '"' if escape == quote => simple(escape),
        'x' | 'u' | 'U' => {
            let n = match escape {
                'x' => 2,
                'u' => 4,
                _ => 8,
            };
            let digits = rest.get(..n)?;
            if !digits.bytes().all(|b| b.is_ascii_hexdigit()) {
                return None;
            }
            let value = u32::from_str_radix(digits, 16).ok()?;
            if escape == 'x' {
                return Some((char::from_u32(value).filter(|_| value < 0x80), &rest[n..]));
            }
            Some((Some(char::from_u32(value)?), &rest[n..]))
        }
        '0'..='7' => {
            let digits = s.get(1..4)?;
            if !digits.bytes().all(|b| (b'0'..=b'7').contains(&b)) {
                return None;
            }
            let value = u32::from_str_radix(digits, 8).ok()?;
            if value > 255 {
                return None;
            }
            Some((char::from_u32(value).filter(|_| value < 0x80), &s[4..]))
        }
        _ => None,
    }
}

/// newNumber: whether a number token is a valid Go constant, with Go's message when not.
fn check_number(text: &str, kind: Kind) -> Result<(), String> {
    match kind {
        Kind::CharConstant => {
            let (_, tail) = unquote_char(&text[1..], '\'').ok_or("invalid syntax")?;
            if tail != "'" {
                return Err(format!("malformed character constant: {text}"));
            }
            Ok(())
        }
        Kind::Complex => {
            // The lexer split it as number, sign, number ending in `i`.
            let body = text.strip_suffix('i').ok_or("expected complex number")?;
            let split = (1..body.len())
                .rev()
                .find(|&i| matches!(&body[i..=i], "+" | "-") && !matches!(&body[i - 1..i], "e" | "E" | "p" | "P"))
                .ok_or("expected complex number")?;
            if parse_float(&body[..split]).is_some() && parse_float(&body[split..]).is_some() {
                Ok(())
            } else {
                Err(format!("illegal number syntax: {}", go_quote(text)))
            }
        }
        _ => {
            if let Some(imaginary) = text.strip_suffix('i') {
                if parse_float(imaginary).is_some() {
                    return Ok(());
                }
            }
            if parse_integer(text) {
                return Ok(());
            }
            match parse_float(text) {
                Some(_) if !text.contains(['.', 'e', 'E', 'p', 'P']) => {
                    Err(format!("integer overflow: {}", go_quote(text)))
                }
                Some(_) => Ok(()),
                None => Err(format!("illegal number syntax: {}", go_quote(text))),
            }
        }
    }
}

/// strconv.ParseInt or ParseUint with base 0 succeeds (prefixes 0x, 0o, 0b, 0; underscores).
fn parse_integer(text: &str) -> bool {
    let (negative, unsigned) = match text.as_bytes().first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        _ => (false, text),
    };
    let lower = unsigned.to_ascii_lowercase();
    let (radix, digits) = if let Some(d) = lower.strip_prefix("0x") {
        (16, d)
    } else if let Some(d) = lower.strip_prefix("0o") {
        (8, d)
    } else if let Some(d) = lower.strip_prefix("0b") {
        (2, d)
    } else if lower.len() > 1 && lower.starts_with('0') {
        (8, &lower[1..])
    } else {
        (10, lower.as_str())
    };
    if lower.contains('_') && !underscores_ok(text) {
        return false;
    }
    let digits: String = digits.chars().filter(|&c| c != '_').collect();
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return false;
    }
    let Ok(value) = u64::from_str_radix(&digits, radix) else { return false };
    // ParseUint takes no sign; ParseInt takes one, within int64.
    if text.starts_with(['-', '+']) {
        if negative {
            value <= 1 << 63
        } else {
            value < 1 << 63
        }
    } else {
        true
    }
}

/// strconv.ParseFloat succeeds (decimal or hex with a `p` exponent; underscores; no overflow).
fn parse_float(text: &str) -> Option<f64> {
    if text.contains('_') && !underscores_ok(text) {
        return None;
    }
    let clean: String = text.chars().filter(|&c| c != '_').collect();
    let (sign, body) = match clean.as_bytes().first() {
        Some(b'-') => (-1.0, &clean[1..]),
        Some(b'+') => (1.0, &clean[1..]),
        _ => (1.0, clean.as_str()),
    };
    let value = if let Some(hex) = body.strip_prefix("0x").or_else(|| body.strip_prefix("0X")) {
        let (mantissa, exponent) = hex.split_once(['p', 'P'])?;
        let (whole, fraction) = mantissa.split_once('.').unwrap_or((mantissa, ""));
        if whole.is_empty() && fraction.is_empty() {
            return None;
        }
        let mut value = 0f64;
        for c in whole.chars().chain(fraction.chars()) {
            value = value * 16.0 + f64::from(c.to_digit(16)?);
        }
        let exponent: i32 = exponent.parse().ok()?;
        value * 2f64.powi(exponent - 4 * fraction.len() as i32)
    } else {
        // Rust's grammar is Go's for decimal floats, except that Go wants a digit somewhere.
        if !body.bytes().any(|b| b.is_ascii_digit())
            || body.contains(|c: char| c.is_ascii_alphabetic() && !"eE".contains(c))
        {
            return None;
        }
        body.parse::<f64>().ok()?
    };
    value.is_finite().then_some(sign * value)
}

/// strconv's underscoreOK: `_` only between digits, or between a base prefix and a digit.
fn underscores_ok(text: &str) -> bool {
    let s = text.strip_prefix(['+', '-']).unwrap_or(text).as_bytes();
    let mut saw = b'^';
    let mut i = 0;
    let mut hex = false;
    if s.len() >= 2 && s[0] == b'0' && matches!(s[1].to_ascii_lowercase(), b'b' | b'o' | b'x') {
        i = 2;
        saw = b'0';
        hex = s[1].eq_ignore_ascii_case(&b'x');
    }
    for &c in &s[i..] {
        if c.is_ascii_digit() || (hex && c.is_ascii_hexdigit()) {
            saw = b'0';
        } else if c == b'_' {
            if saw != b'0' {
                return false;
            }
            saw = b'_';
        } else {
            if saw == b'_' {
                return false;
            }
            saw = b'!';
        }
    }
    saw != b'_'
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What promtool printed for a template in an alert annotation: `None` when it accepted it,
    /// else its message after `template: __alert_X:` (Go's line, then Go's words).
    type Verdict = Option<&'static str>;

    fn v2_42() -> Target {
        Target::parse("2.42", "").unwrap()
    }

    fn v3_5() -> Target {
        Target::parse("3.5", "").unwrap()
    }

    /// Asserts that `check` gives promtool's verdict, in Go's words except where this module says
    /// more: the known functions of an unknown one, the literal of an `invalid syntax`.
    fn assert_agrees(name: &str, text: &str, target: &Target, promtool: Option<&str>) {
        let got = check(text, target);
        let Some(expected) = promtool else {
            assert!(got.is_ok(), "{name}: {text:?} on {target}: promtool accepts it, check says {got:?}");
            return;
        };
        let Err(message) = got else {
            panic!("{name}: {text:?} on {target}: promtool says {expected:?}, check accepts it")
        };
        let (line, words) = expected.split_once(": ").expect("promtool's message starts with the line");
        let words = words.replace("started at __alert_X:", "started at line ");
        let (prefix, mine) = match message.split_once(": ") {
            Some((prefix, rest)) if prefix.starts_with("line ") => (Some(prefix), rest),
            _ => (None, message.as_str()),
        };
        let same = if let Some(function) = words.strip_prefix("function ").and_then(|w| w.strip_suffix(" not defined"))
        {
            mine.starts_with(&format!("function {function} is not defined"))
        } else if words == "invalid syntax" {
            mine.starts_with("invalid syntax")
        } else {
            mine == words
        };
        assert!(same, "{name}: {text:?} on {target}: promtool says {words:?}, check says {mine:?}");
        let expected_prefix = text.contains('\n').then(|| format!("line {line}"));
        assert_eq!(prefix.map(str::to_string), expected_prefix, "{name}: {text:?} on {target}: {message}");
    }

    // Go's own parser tests, with Go's verdict (true: parses), each also run by promtool 2.42
    // (Debian 12, Go 1.19.8) and 3.5.3 (Debian, Go 1.27.1) as the annotation of an alert.
    // golang/go c674ce87c2e47699bb51e02885fb80519ecbfb27 src/text/template/parse/parse_test.go (parseTests)
    const GO_PARSE_TESTS: &[(&str, &str, bool, Verdict, Verdict)] = &[
        ("empty", "", true, None, None),
        ("comment", "{{/*\n\n\n*/}}", true, None, None),
        ("spaces", " \t\n", true, None, None),
        ("text", "some text", true, None, None),
        ("emptyAction", "{{}}", false, Some("1: missing value for command"), Some("1: missing value for command")),
        ("field", "{{.X}}", true, None, None),
        ("simple command", "{{printf}}", true, None, None),
        ("$ invocation", "{{$}}", true, None, None),
        ("variable invocation", "{{with $x := 3}}{{$x 23}}{{end}}", true, None, None),
        ("variable with fields", "{{$.I}}", true, None, None),
        ("multi-word command", "{{printf `%d` 23}}", true, None, None),
        ("pipeline", "{{.X|.Y}}", true, None, None),
        ("pipeline with decl", "{{$x := .X|.Y}}", true, None, None),
        ("nested pipeline", "{{.X (.Y .Z) (.A | .B .C) (.E)}}", true, None, None),
        ("field applied to parentheses", "{{(.Y .Z).Field}}", true, None, None),
        ("simple if", "{{if .X}}hello{{end}}", true, None, None),
        ("if with else", "{{if .X}}true{{else}}false{{end}}", true, None, None),
        ("if with else if", "{{if .X}}true{{else if .Y}}false{{end}}", true, None, None),
        ("if else chain", "+{{if .X}}X{{else if .Y}}Y{{else if .Z}}Z{{end}}+", true, None, None),
        ("simple range", "{{range .X}}hello{{end}}", true, None, None),
        ("chained field range", "{{range .X.Y.Z}}hello{{end}}", true, None, None),
        ("nested range", "{{range .X}}hello{{range .Y}}goodbye{{end}}{{end}}", true, None, None),
        ("range with else", "{{range .X}}true{{else}}false{{end}}", true, None, None),
        ("range over pipeline", "{{range .X|.M}}true{{else}}false{{end}}", true, None, None),
        ("range []int", "{{range .SI}}{{.}}{{end}}", true, None, None),
        ("range 1 var", "{{range $x := .SI}}{{.}}{{end}}", true, None, None),
        ("range 2 vars", "{{range $x, $y := .SI}}{{.}}{{end}}", true, None, None),
        ("range with break", "{{range .SI}}{{.}}{{break}}{{end}}", true, None, None),
        ("range with continue", "{{range .SI}}{{.}}{{continue}}{{end}}", true, None, None),
        ("constants", "{{range .SI 1 -3.2i true false 'a' nil}}{{end}}", true, None, None),
        ("template", "{{template `x`}}", true, None, None),
        ("template with arg", "{{template `x` .Y}}", true, None, None),
        ("with", "{{with .X}}hello{{end}}", true, None, None),
        ("with with else", "{{with .X}}hello{{else}}goodbye{{end}}", true, None, None),
        (
            "with with else with",
            "{{with .X}}hello{{else with .Y}}goodbye{{end}}",
            true,
            Some("1: unexpected <with> in else"),
            None,
        ),
        (
            "with else chain",
            "{{with .X}}X{{else with .Y}}Y{{else with .Z}}Z{{end}}",
            true,
            Some("1: unexpected <with> in else"),
            None,
        ),
        ("trim left", "x \r\n\t{{- 3}}", true, None, None),
        ("trim right", "{{3 -}}\n\n\ty", true, None, None),
        ("trim left and right", "x \r\n\t{{- 3 -}}\n\n\ty", true, None, None),
        ("trim with extra spaces", "x\n{{-  3   -}}\ny", true, None, None),
        ("comment trim left", "x \r\n\t{{- /* hi */}}", true, None, None),
        ("comment trim right", "{{/* hi */ -}}\n\n\ty", true, None, None),
        ("comment trim left and right", "x \r\n\t{{- /* */ -}}\n\n\ty", true, None, None),
        ("block definition", r#"{{block "foo" .}}hello{{end}}"#, true, None, None),
        ("newline in assignment", "{{ $x \n := \n 1 \n }}", true, None, None),
        (
            "newline in empty action",
            "{{\n}}",
            false,
            Some("2: missing value for command"),
            Some("2: missing value for command"),
        ),
        ("newline in pipeline", "{{\n\"x\"\n|\nprintf\n}}", true, None, None),
        ("newline in comment", "{{/*\nhello\n*/}}", true, None, None),
        ("newline in comment", "{{-\n/*\nhello\n*/\n-}}", true, None, None),
        ("spaces around continue", "{{range .SI}}{{.}}{{ continue }}{{end}}", true, None, None),
        ("spaces around break", "{{range .SI}}{{.}}{{ break }}{{end}}", true, None, None),
        ("unclosed action", "hello{{range", false, Some("1: unclosed action"), Some("1: unclosed action")),
        ("unmatched end", "{{end}}", false, Some("1: unexpected {{end}}"), Some("1: unexpected {{end}}")),
        ("unmatched else", "{{else}}", false, Some("1: unexpected {{else}}"), Some("1: unexpected {{else}}")),
        (
            "unmatched else after if",
            "{{if .X}}hello{{end}}{{else}}",
            false,
            Some("1: unexpected {{else}}"),
            Some("1: unexpected {{else}}"),
        ),
        (
            "multiple else",
            "{{if .X}}1{{else}}2{{else}}3{{end}}",
            false,
            Some("1: expected end; found {{else}}"),
            Some("1: expected end; found {{else}}"),
        ),
        ("missing end", "hello{{range .x}}", false, Some("1: unexpected EOF"), Some("1: unexpected EOF")),
        (
            "missing end after else",
            "hello{{range .x}}{{else}}",
            false,
            Some("1: unexpected EOF"),
            Some("1: unexpected EOF"),
        ),
        (
            "undefined function",
            "hello{{undefined}}",
            false,
            Some(r#"1: function "undefined" not defined"#),
            Some(r#"1: function "undefined" not defined"#),
        ),
        (
            "undefined variable",
            "{{$x}}",
            false,
            Some(r#"1: undefined variable "$x""#),
            Some(r#"1: undefined variable "$x""#),
        ),
        (
            "variable undefined after end",
            "{{with $x := 4}}{{end}}{{$x}}",
            false,
            Some(r#"1: undefined variable "$x""#),
            Some(r#"1: undefined variable "$x""#),
        ),
        (
            "variable undefined in template",
            "{{template $v}}",
            false,
            Some(r#"1: unexpected "$v" in template clause"#),
            Some(r#"1: unexpected "$v" in template clause"#),
        ),
        (
            "declare with field",
            "{{with $x.Y := 4}}{{end}}",
            false,
            Some(r#"1: undefined variable "$x""#),
            Some(r#"1: undefined variable "$x""#),
        ),
        (
            "template with field ref",
            "{{template .X}}",
            false,
            Some(r#"1: unexpected ".X" in template clause"#),
            Some(r#"1: unexpected ".X" in template clause"#),
        ),
        (
            "template with var",
            "{{template $v}}",
            false,
            Some(r#"1: unexpected "$v" in template clause"#),
            Some(r#"1: unexpected "$v" in template clause"#),
        ),
        (
            "invalid punctuation",
            "{{printf 3, 4}}",
            false,
            Some(r#"1: unexpected "," in operand"#),
            Some(r#"1: unexpected "," in operand"#),
        ),
        (
            "multidecl outside range",
            "{{with $v, $u := 3}}{{end}}",
            false,
            Some("1: too many declarations in with"),
            Some("1: too many declarations in with"),
        ),
        (
            "too many decls in range",
            "{{range $u, $v, $w := 3}}{{end}}",
            false,
            Some("1: too many declarations in range"),
            Some("1: too many declarations in range"),
        ),
        (
            "dot applied to parentheses",
            "{{printf (printf .).}}",
            false,
            Some("1: unexpected <.> in operand"),
            Some("1: unexpected <.> in operand"),
        ),
        (
            "adjacent args",
            "{{printf 3`x`}}",
            false,
            Some(r#"1: unexpected "`x`" in operand"#),
            Some(r#"1: unexpected "`x`" in operand"#),
        ),
        (
            "adjacent args with .",
            "{{printf `x`.}}",
            false,
            Some("1: unexpected <.> in operand"),
            Some("1: unexpected <.> in operand"),
        ),
        (
            "extra end after if",
            "{{if .X}}a{{else if .Y}}b{{end}}{{end}}",
            false,
            Some("1: unexpected {{end}}"),
            Some("1: unexpected {{end}}"),
        ),
        (
            "break outside range",
            "{{range .}}{{end}} {{break}}",
            false,
            Some("1: {{break}} outside {{range}}"),
            Some("1: {{break}} outside {{range}}"),
        ),
        (
            "continue outside range",
            "{{range .}}{{end}} {{continue}}",
            false,
            Some("1: {{continue}} outside {{range}}"),
            Some("1: {{continue}} outside {{range}}"),
        ),
        (
            "break in range else",
            "{{range .}}{{else}}{{break}}{{end}}",
            false,
            Some("1: {{break}} outside {{range}}"),
            Some("1: {{break}} outside {{range}}"),
        ),
        (
            "continue in range else",
            "{{range .}}{{else}}{{continue}}{{end}}",
            false,
            Some("1: {{continue}} outside {{range}}"),
            Some("1: {{continue}} outside {{range}}"),
        ),
        ("bug0a", "{{$x := 0}}{{$x}}", true, None, None),
        (
            "bug0b",
            "{{$x += 1}}{{$x}}",
            false,
            Some(r#"1: undefined variable "$x""#),
            Some(r#"1: undefined variable "$x""#),
        ),
        (
            "bug0c",
            "{{$x ! 2}}{{$x}}",
            false,
            Some(r#"1: undefined variable "$x""#),
            Some(r#"1: undefined variable "$x""#),
        ),
        (
            "bug0d",
            "{{$x % 3}}{{$x}}",
            false,
            Some(r#"1: undefined variable "$x""#),
            Some(r#"1: undefined variable "$x""#),
        ),
        (
            "bug0e",
            "{{range $x := $y := 3}}{{end}}",
            false,
            Some(r#"1: undefined variable "$y""#),
            Some(r#"1: undefined variable "$y""#),
        ),
        ("bug1a", "{{$x:=.}}{{$x!2}}", false, Some("1: bad character U+0021 '!'"), Some("1: bad character U+0021 '!'")),
        ("bug1b", "{{$x:=.}}{{$x+2}}", false, Some("1: bad character U+002B '+'"), Some("1: bad character U+002B '+'")),
        ("bug1c", "{{$x:=.}}{{$x +2}}", true, None, None),
        ("bug2a", "{{range $x := 0}}{{$x}}{{end}}", true, None, None),
        ("bug2b", "{{range $x = 0}}{{$x}}{{end}}", true, None, None),
        (
            "dot after integer",
            "{{1.E}}",
            false,
            Some(r#"1: illegal number syntax: "1.E""#),
            Some(r#"1: illegal number syntax: "1.E""#),
        ),
        (
            "dot after float",
            "{{0.1.E}}",
            false,
            Some(r#"1: unexpected . after term "0.1""#),
            Some(r#"1: unexpected . after term "0.1""#),
        ),
        (
            "dot after boolean",
            "{{true.E}}",
            false,
            Some(r#"1: unexpected . after term "true""#),
            Some(r#"1: unexpected . after term "true""#),
        ),
        (
            "dot after char",
            "{{'a'.any}}",
            false,
            Some(r#"1: unexpected . after term "'a'""#),
            Some(r#"1: unexpected . after term "'a'""#),
        ),
        (
            "dot after string",
            r#"{{"hello".guys}}"#,
            false,
            Some(r#"1: unexpected . after term "\"hello\"""#),
            Some(r#"1: unexpected . after term "\"hello\"""#),
        ),
        (
            "dot after dot",
            "{{..E}}",
            false,
            Some(r#"1: unexpected . after term ".""#),
            Some(r#"1: unexpected . after term ".""#),
        ),
        (
            "dot after nil",
            "{{nil.E}}",
            false,
            Some(r#"1: unexpected . after term "nil""#),
            Some(r#"1: unexpected . after term "nil""#),
        ),
        (
            "wrong pipeline dot",
            "{{12|.}}",
            false,
            Some("1: non executable command in pipeline stage 2"),
            Some("1: non executable command in pipeline stage 2"),
        ),
        (
            "wrong pipeline number",
            "{{.|12|printf}}",
            false,
            Some("1: non executable command in pipeline stage 2"),
            Some("1: non executable command in pipeline stage 2"),
        ),
        (
            "wrong pipeline string",
            r#"{{.|printf|"error"}}"#,
            false,
            Some("1: non executable command in pipeline stage 3"),
            Some("1: non executable command in pipeline stage 3"),
        ),
        (
            "wrong pipeline char",
            "{{12|printf|'e'}}",
            false,
            Some("1: non executable command in pipeline stage 3"),
            Some("1: non executable command in pipeline stage 3"),
        ),
        (
            "wrong pipeline boolean",
            "{{.|true}}",
            false,
            Some("1: non executable command in pipeline stage 2"),
            Some("1: non executable command in pipeline stage 2"),
        ),
        (
            "wrong pipeline nil",
            "{{'c'|nil}}",
            false,
            Some("1: non executable command in pipeline stage 2"),
            Some("1: non executable command in pipeline stage 2"),
        ),
        (
            "empty pipeline",
            r#"{{printf "%d" ( ) }}"#,
            false,
            Some("1: missing value for parenthesized pipeline"),
            Some("1: missing value for parenthesized pipeline"),
        ),
        (
            "block definition",
            r#"{{block "foo"}}hello{{end}}"#,
            false,
            Some("1: missing value for block clause"),
            Some("1: missing value for block clause"),
        ),
        ("paren nesting normal", "{{ (( 1 )) }}", true, None, None),
        ("paren nesting at limit", "{{ ((( 1 ))) }}", true, None, None),
        ("paren nesting exceeds limit", "{{ (((( 1 )))) }}", false, None, None),
        ("paren nesting in pipeline", "{{ ((( 1 ))) | printf }}", true, None, None),
        ("paren nesting in pipeline exceeds limit", "{{ (((( 1 )))) | printf }}", false, None, None),
        ("paren nesting with other constructs", "{{ if ((( true ))) }}YES{{ end }}", true, None, None),
        ("paren nesting with other constructs exceeds limit", "{{ if (((( true )))) }}YES{{ end }}", false, None, None),
    ];

    #[test]
    fn go_parse_tests_agree_with_promtool() {
        for &(name, text, _, on_2_42, on_3_5) in GO_PARSE_TESTS {
            assert_agrees(name, text, &v2_42(), on_2_42);
            assert_agrees(name, text, &v3_5(), on_3_5);
        }
    }

    #[test]
    fn go_verdicts_hold_where_prometheus_runs_go_as_it_is() {
        for &(name, text, go_ok, on_2_42, on_3_5) in GO_PARSE_TESTS {
            // Go's test lowers the nesting limit from 10,000 to 3 parentheses; see
            // `nested_parentheses_stop_at_go_s_limit` for the real one.
            if name.starts_with("paren nesting") {
                continue;
            }
            assert_eq!(on_3_5.is_none(), go_ok, "{name}: {text:?}");
            // Go 1.19, which built 2.42, has no `{{else with}}` (Go 1.23).
            if !text.contains("else with") {
                assert_eq!(on_2_42.is_none(), go_ok, "{name}: {text:?}");
            }
        }
    }

    // Go's number tests (numberTests), with Go's verdict; promtool ran each as `{{printf "%v" N}}`.
    // golang/go c674ce87c2e47699bb51e02885fb80519ecbfb27 src/text/template/parse/parse_test.go (numberTests)
    const GO_NUMBER_TESTS: &[(&str, bool, Verdict, Verdict)] = &[
        ("0", true, None, None),
        ("-0", true, None, None),
        ("73", true, None, None),
        ("7_3", true, None, None),
        ("0b10_010_01", true, None, None),
        ("0B10_010_01", true, None, None),
        ("073", true, None, None),
        ("0o73", true, None, None),
        ("0O73", true, None, None),
        ("0x73", true, None, None),
        ("0X73", true, None, None),
        ("0x7_3", true, None, None),
        ("-73", true, None, None),
        ("+73", true, None, None),
        ("100", true, None, None),
        ("1e9", true, None, None),
        ("-1e9", true, None, None),
        ("-1.2", true, None, None),
        ("1e19", true, None, None),
        ("1e1_9", true, None, None),
        ("1E19", true, None, None),
        ("-1e19", true, None, None),
        ("0x_1p4", true, None, None),
        ("0X_1P4", true, None, None),
        ("0x_1p-4", true, None, None),
        ("4i", true, None, None),
        ("-1.2+4.2i", true, None, None),
        ("073i", true, None, None),
        ("0i", true, None, None),
        ("-1.2+0i", true, None, None),
        ("-12+0i", true, None, None),
        ("13+0i", true, None, None),
        ("0123", true, None, None),
        ("-0x0", true, None, None),
        ("0xdeadbeef", true, None, None),
        ("'a'", true, None, None),
        (r#"'\n'"#, true, None, None),
        (r#"'\\'"#, true, None, None),
        (r#"'\''"#, true, None, None),
        (r#"'\xFF'"#, true, None, None),
        ("'パ'", true, None, None),
        (r#"'\u30d1'"#, true, None, None),
        (r#"'\U000030d1'"#, true, None, None),
        ("+-2", false, Some(r#"1: bad number syntax: "+-2""#), Some(r#"1: bad number syntax: "+-2""#)),
        ("0x123.", false, Some(r#"1: illegal number syntax: "0x123.""#), Some(r#"1: illegal number syntax: "0x123.""#)),
        ("1e.", false, Some(r#"1: illegal number syntax: "1e""#), Some(r#"1: illegal number syntax: "1e""#)),
        ("0xi.", false, Some(r#"1: illegal number syntax: "0xi""#), Some(r#"1: illegal number syntax: "0xi""#)),
        ("1+2.", false, Some(r#"1: bad number syntax: "1+2.""#), Some(r#"1: bad number syntax: "1+2.""#)),
        ("'x", false, Some("1: unterminated character constant"), Some("1: unterminated character constant")),
        ("'xx'", false, Some("1: malformed character constant: 'xx'"), Some("1: malformed character constant: 'xx'")),
        (
            "'433937734937734969526500969526500'",
            false,
            Some("1: malformed character constant: '433937734937734969526500969526500'"),
            Some("1: malformed character constant: '433937734937734969526500969526500'"),
        ),
        ("0xef", true, None, None),
    ];

    #[test]
    fn go_number_tests() {
        for &(number, go_ok, on_2_42, on_3_5) in GO_NUMBER_TESTS {
            // As Go's test calls newNumber: a quote makes a character, an inner sign a complex number.
            let kind = if number.starts_with('\'') {
                Kind::CharConstant
            } else if number.ends_with('i') && number[1..].contains(['+', '-']) {
                Kind::Complex
            } else {
                Kind::Number
            };
            assert_eq!(check_number(number, kind).is_ok(), go_ok, "{number}: {:?}", check_number(number, kind));
            let text = format!("{{{{printf \"%v\" {number}}}}}");
            assert_agrees(number, &text, &v2_42(), on_2_42);
            assert_agrees(number, &text, &v3_5(), on_3_5);
        }
    }

    // Templates from public rule files and docs, each run by promtool 2.42 and 3.5.3:
    // prometheus/prometheus docs/configuration/template_examples.md ("docs: ..."),
    // kubernetes-monitoring/kubernetes-mixin and prometheus-operator/kube-prometheus rendered rules
    // ("mixin: ..."), samber/awesome-prometheus-alerts ("awesome: ..."), and the shapes they use.
    const PUBLIC_TEMPLATES: &[(&str, &str, Verdict, Verdict)] = &[
        ("docs: summary", "Instance {{$labels.instance}} down", None, None),
        ("docs: description", "{{$labels.instance}} of job {{$labels.job}} has been down for more than 5 minutes.", None, None),
        ("docs: range query", "{{ range query \"up\" }}\n  {{ .Labels.instance }} {{ .Value }}\n{{ end }}", None, None),
        ("docs: with query", "{{ with query \"some_metric{instance='someinstance'}\" }}\n  {{ . | first | value | humanize }}\n{{ end }}", None, None),
        ("docs: printf into query", "{{ with printf \"node_memory_MemTotal{job='node',instance='%s'}\" .Labels.instance | query }}\n  {{ . | first | value | humanize1024 }}B\n{{ end }}", None, None),
        ("docs: range sortByLabel", "{{ range printf \"node_network_receive_bytes{job='node',instance='%s',device!='lo'}\" .Labels.instance | query | sortByLabel \"device\"}}\n  <tr><th colspan=2>{{ .Labels.device }}</th></tr>\n{{ end }}", None, None),
        ("docs: define and template", "{{/* Define the template */}}\n{{define \"myTemplate\"}}\n  do something\n{{end}}\n\n{{/* Use the template */}}\n{{template \"myTemplate\"}}", None, None),
        ("docs: args", "{{define \"myMultiArgTemplate\"}}\n  First argument: {{.arg0}}\n  Second argument: {{.arg1}}\n{{end}}\n{{template \"myMultiArgTemplate\" (args 1 2)}}", None, None),
        ("mixin: CPUThrottlingHigh", "{{ $value | humanizePercentage }} throttling of CPU in namespace {{ $labels.namespace }} for container {{ $labels.container }} in pod {{ $labels.pod }}.", None, None),
        ("mixin: KubePodCrashLooping", r#"Pod {{ $labels.namespace }}/{{ $labels.pod }} ({{ $labels.container }}) is in waiting state (reason: "CrashLoopBackOff")."#, None, None),
        ("mixin: folded YAML", "{{ $value | humanizePercentage }} throttling of CPU in namespace\n  {{ $labels.namespace }} for container {{ $labels.container }} in pod {{\n  $labels.pod }}.", None, None),
        ("mixin: printf %.2f", r#"Filesystem on {{ $labels.device }}, mounted on {{ $labels.mountpoint }}, at {{ $labels.instance }} has only {{ printf "%.2f" $value }}% available space left."#, None, None),
        ("mixin: printf %.4g", r#"{{ printf "%.4g" $value }}% of the {{ $labels.job }}/{{ $labels.service }} targets in {{ $labels.namespace }} namespace are down."#, None, None),
        ("mixin: printf %.0f", r#"Prometheus {{$labels.instance}} has failed to evaluate {{ printf "%.0f" $value }} rules in the last 5m."#, None, None),
        ("mixin: humanizeDuration", "Certificate expires in {{ $value | humanizeDuration }}.", None, None),
        ("awesome: VALUE LABELS", "A Prometheus target has disappeared. An exporter might be crashed.\n  VALUE = {{ $value }}\n  LABELS = {{ $labels }}", None, None),
        ("awesome: printf after pipe", r#"Session limit from backend {{ $labels.proxy }} to server {{ $labels.server }} reached 80% of limit - {{ $value | printf "%.2f"}}%"#, None, None),
        ("label: severity by value", "{{ if gt $value 90.0 }}critical{{ else }}warning{{ end }}", None, None),
        ("range over labels", "{{ range $k, $v := $labels }}{{ $k }}={{ $v }} {{ end }}", None, None),
        ("range with index", r#"{{ range $i, $s := query "up == 0" | sortByLabel "instance" }}{{ if $i }}, {{ end }}{{ label "instance" $s }}{{ end }}"#, None, None),
        ("eq and else if", r#"{{ if eq $labels.severity "critical" }}page{{ else if eq $labels.severity "warning" }}ticket{{ else }}log{{ end }}"#, None, None),
        ("reReplaceAll", r#"{{ reReplaceAll "(.+):(.+)" "$1" $labels.instance }}"#, None, None),
        ("externalURL and urlquery", r#"{{ $externalURL }}/graph?g0.expr={{ urlquery "up == 0" }}"#, None, None),
        ("index label with dash", r#"{{ index $labels "my-label" }}"#, None, None),
        ("data fields", "{{ .Labels.instance }} {{ .Value }} {{ .ExternalLabels.cluster }} {{ .ExternalURL }}", None, None),
        ("all 2.38 functions", r#"{{ query "up" | first | value }}{{ strvalue (query "up" | first) }}{{ args 1 2 }}{{ safeHtml "<b>" }}{{ match "a" "a" }}{{ title "x" }}{{ toUpper "x" }}{{ toLower "X" }}{{ graphLink "up" }}{{ tableLink "up" }}{{ stripPort "a:1" }}{{ stripDomain "a.b" }}{{ humanize 1 }}{{ humanize1024 1 }}{{ humanizeDuration 1 }}{{ humanizePercentage 1 }}{{ humanizeTimestamp 1 }}{{ toTime 1 }}{{ pathPrefix }}{{ externalURL }}{{ parseDuration "1h" }}"#, None, None),
        ("Go builtins", r#"{{ and 1 2 }}{{ or 1 2 }}{{ not 1 }}{{ len "a" }}{{ index $labels "a" }}{{ slice "abc" 1 }}{{ html "<" }}{{ js "'" }}{{ print 1 }}{{ println 1 }}{{ urlquery "a b" }}{{ eq 1 1 }}{{ ne 1 2 }}{{ lt 1 2 }}{{ le 1 2 }}{{ gt 2 1 }}{{ ge 2 1 }}{{ call .Fn }}"#, None, None),
        ("helm-escaped braces", r#"{{ "{{" }} $labels.instance {{ "}}" }}"#, None, None),
        ("trim and comment", "{{- /* why */ -}}\n  {{- $labels.instance -}}\n", None, None),
        ("unicode text and variable", "⚠️ {{ $größe := $value }}{{ $größe }} — {{ $labels.instance }}", None, None),
        ("redeclare and assign", "{{ $value := 1 }}{{ $value = 2 }}{{ $undefined = 3 }}{{ $value }}", None, None),
        ("with variable scope", "{{ with $x := $labels.instance }}{{ $x }}{{ end }}", None, None),
        ("break and continue", r#"{{ range $labels }}{{ if eq . "a" }}{{ continue }}{{ end }}{{ break }}{{ end }}"#, None, None),
        ("nested define use", r#"{{ define "a" }}{{ . }}{{ end }}{{ template "a" $labels.instance }}"#, None, None),
        ("block", r#"{{ block "b" $labels }}{{ .instance }}{{ end }}"#, None, None),
        ("empty define twice", r#"{{ define "a" }} {{ end }}{{ define "a" }}x{{ end }}"#, None, None),
        ("extra closing brace is text", "{{ $value | humanizePercentage }}}", None, None),
        ("no action", "just text with } and { braces", None, None),
        ("nil in pipe arg", r#"{{ printf "%v" nil }}"#, None, None),
        ("numbers", r#"{{ if gt $value 1e3 }}{{ printf "%x %o %b %v" 0xff 0o17 0b101 1_000 }}{{ end }}"#, None, None),
        ("char constant", r#"{{ printf "%c" 'x' }}"#, None, None),
    ];

    // Broken templates as people write them (typos, Alertmanager's or later versions' functions,
    // unbalanced actions), each run by promtool 2.42 and 3.5.3.
    const BROKEN_TEMPLATES: &[(&str, &str, Verdict, Verdict)] = &[
        (
            "typo: humanise",
            "{{ humanise $value }}",
            Some(r#"1: function "humanise" not defined"#),
            Some(r#"1: function "humanise" not defined"#),
        ),
        (
            "typo: $label",
            "{{ $label.instance }}",
            Some(r#"1: undefined variable "$label""#),
            Some(r#"1: undefined variable "$label""#),
        ),
        (
            "alertmanager function join",
            r#"{{ join ", " .Labels }}"#,
            Some(r#"1: function "join" not defined"#),
            Some(r#"1: function "join" not defined"#),
        ),
        (
            "alertmanager-only toJson",
            "{{ $labels | toJson }}",
            Some(r#"1: function "toJson" not defined"#),
            Some(r#"1: function "toJson" not defined"#),
        ),
        (
            "tmpl is console-only",
            r#"{{ tmpl "x" . }}"#,
            Some(r#"1: function "tmpl" not defined"#),
            Some(r#"1: function "tmpl" not defined"#),
        ),
        ("later: now", "{{ now }}", Some(r#"1: function "now" not defined"#), Some(r#"1: function "now" not defined"#)),
        (
            "later: toDuration",
            "{{ $value | toDuration }}",
            Some(r#"1: function "toDuration" not defined"#),
            Some(r#"1: function "toDuration" not defined"#),
        ),
        (
            "later: urlQueryEscape",
            "{{ urlQueryEscape $labels.instance }}",
            Some(r#"1: function "urlQueryEscape" not defined"#),
            Some(r#"1: function "urlQueryEscape" not defined"#),
        ),
        (
            "missing closing brace",
            "{{ $labels.instance }",
            Some(r#"1: unexpected "}" in operand"#),
            Some(r#"1: unexpected "}" in operand"#),
        ),
        ("unclosed action", "{{ $labels.instance ", Some("1: unclosed action"), Some("1: unclosed action")),
        (
            "unclosed multi-line action",
            "{{ $labels.instance\n\nmore text",
            Some(r#"3: function "more" not defined"#),
            Some(r#"3: function "more" not defined"#),
        ),
        (
            "dash in label name",
            "{{ $labels.my-label }}",
            Some("1: bad character U+002D '-'"),
            Some("1: bad character U+002D '-'"),
        ),
        (
            "quoted field",
            r#"{{ $labels."my-label" }}"#,
            Some(r#"1: bad character U+0022 '"'"#),
            Some(r#"1: bad character U+0022 '"'"#),
        ),
        (
            "comparison operator",
            "{{ if $value > 80 }}high{{ end }}",
            Some(r#"1: unexpected ">" in operand"#),
            Some(r#"1: unexpected ">" in operand"#),
        ),
        ("missing end", "{{ if gt $value 80.0 }}high", Some("1: unexpected EOF"), Some("1: unexpected EOF")),
        ("stray end", "{{ $labels.instance }} {{ end }}", Some("1: unexpected {{end}}"), Some("1: unexpected {{end}}")),
        ("stray else", "{{ else }}", Some("1: unexpected {{else}}"), Some("1: unexpected {{else}}")),
        (
            "unterminated string",
            r#"{{ printf "%.2f $value }}"#,
            Some("1: unterminated quoted string"),
            Some("1: unterminated quoted string"),
        ),
        (
            "unterminated raw string",
            "{{ printf `%.2f $value }}",
            Some("1: unterminated raw quoted string"),
            Some("1: unterminated raw quoted string"),
        ),
        ("bad escape", r#"{{ printf "\q" }}"#, Some("1: invalid syntax"), Some("1: invalid syntax")),
        (
            "bad char constant",
            r#"{{ printf "%c" 'ab' }}"#,
            Some("1: malformed character constant: 'ab'"),
            Some("1: malformed character constant: 'ab'"),
        ),
        (
            "unterminated char",
            r#"{{ printf "%c" 'a }}"#,
            Some("1: unterminated character constant"),
            Some("1: unterminated character constant"),
        ),
        (
            "leading zero is octal",
            r#"{{ printf "%v" 08 }}"#,
            Some(r#"1: integer overflow: "08""#),
            Some(r#"1: integer overflow: "08""#),
        ),
        (
            "huge integer",
            r#"{{ printf "%v" 99999999999999999999 }}"#,
            Some(r#"1: integer overflow: "99999999999999999999""#),
            Some(r#"1: integer overflow: "99999999999999999999""#),
        ),
        (
            "float out of range",
            r#"{{ printf "%v" 1e400 }}"#,
            Some(r#"1: illegal number syntax: "1e400""#),
            Some(r#"1: illegal number syntax: "1e400""#),
        ),
        (
            "empty parens",
            r#"{{ printf "%d" () }}"#,
            Some("1: missing value for parenthesized pipeline"),
            Some("1: missing value for parenthesized pipeline"),
        ),
        (
            "unclosed paren",
            r#"{{ printf "%d" (len "a" }}"#,
            Some("1: unclosed left paren"),
            Some("1: unclosed left paren"),
        ),
        (
            "extra paren",
            r#"{{ len "a") }}"#,
            Some(r#"1: unexpected ")" in command"#),
            Some("1: unexpected right paren"),
        ),
        ("unclosed comment", "{{/* never closed }}", Some("1: unclosed comment"), Some("1: unclosed comment")),
        (
            "comment then space",
            "{{/* a */ }}",
            Some("1: comment ends before closing delimiter"),
            Some("1: comment ends before closing delimiter"),
        ),
        (
            "variable after end",
            "{{ with $x := $labels.instance }}{{ end }}{{ $x }}",
            Some(r#"1: undefined variable "$x""#),
            Some(r#"1: undefined variable "$x""#),
        ),
        (
            "variable in define",
            r#"{{ define "a" }}{{ $labels.instance }}{{ end }}"#,
            Some(r#"1: undefined variable "$labels""#),
            Some(r#"1: undefined variable "$labels""#),
        ),
        (
            "variable in block",
            r#"{{ block "b" . }}{{ $value }}{{ end }}"#,
            Some(r#"1: undefined variable "$value""#),
            Some(r#"1: undefined variable "$value""#),
        ),
        (
            "template name not a string",
            "{{ template $labels.instance }}",
            Some(r#"1: unexpected "$labels" in template clause"#),
            Some(r#"1: unexpected "$labels" in template clause"#),
        ),
        (
            "define not at top",
            r#"{{ if true }}{{ define "a" }}{{ end }}{{ end }}"#,
            Some("1: unexpected <define> in command"),
            Some("1: unexpected <define> in command"),
        ),
        (
            "define twice",
            r#"{{ define "a" }}x{{ end }}{{ define "a" }}y{{ end }}"#,
            Some(r#"1: template: multiple definition of template "a""#),
            Some(r#"1: template: multiple definition of template "a""#),
        ),
        (
            "break outside range",
            "{{ if true }}{{ break }}{{ end }}",
            Some("1: {{break}} outside {{range}}"),
            Some("1: {{break}} outside {{range}}"),
        ),
        (
            "break in define in range",
            r#"{{ range $labels }}{{ block "b" . }}{{ break }}{{ end }}{{ end }}"#,
            Some("1: {{break}} outside {{range}}"),
            Some("1: {{break}} outside {{range}}"),
        ),
        (
            "else if in range",
            "{{ range $labels }}{{ else if true }}{{ end }}",
            Some("1: unexpected <if> in input"),
            Some("1: unexpected <if> in input"),
        ),
        (
            "else with in if",
            "{{ if .X }}{{ else with .Y }}{{ end }}",
            Some("1: unexpected <with> in else"),
            Some("1: unexpected <with> in input"),
        ),
        (
            "else with",
            "{{ with $labels.a }}{{ . }}{{ else with $labels.b }}{{ . }}{{ end }}",
            Some("1: unexpected <with> in else"),
            None,
        ),
        (
            "bad character in action",
            "{{ $value ; }}",
            Some(r#"1: unexpected ";" in operand"#),
            Some(r#"1: unexpected ";" in operand"#),
        ),
        (
            "non-ASCII in action",
            "{{ $value « }}",
            Some("1: unrecognized character in action: U+00AB '«'"),
            Some("1: unrecognized character in action: U+00AB '«'"),
        ),
        (
            "colon without equals",
            "{{ $x : 1 }}",
            Some(r#"1: undefined variable "$x""#),
            Some(r#"1: undefined variable "$x""#),
        ),
        (
            "pipe to constant",
            r#"{{ $value | "x" }}"#,
            Some("1: non executable command in pipeline stage 2"),
            Some("1: non executable command in pipeline stage 2"),
        ),
        ("missing pipeline", "{{ if }}x{{ end }}", Some("1: missing value for if"), Some("1: missing value for if")),
        (
            "keyword as function",
            r#"{{ printf "%s" range }}"#,
            Some("1: unexpected <range> in operand"),
            Some("1: unexpected <range> in operand"),
        ),
        (
            "error on line 3",
            "first line\nsecond line\n{{ humanise $value }}",
            Some(r#"3: function "humanise" not defined"#),
            Some(r#"3: function "humanise" not defined"#),
        ),
    ];

    #[test]
    fn public_templates_pass_and_broken_ones_fail_as_with_promtool() {
        for &(name, text, on_2_42, on_3_5) in PUBLIC_TEMPLATES {
            assert!(on_3_5.is_none() && on_2_42.is_none(), "{name} is a template promtool accepts");
            assert_agrees(name, text, &v2_42(), on_2_42);
            assert_agrees(name, text, &v3_5(), on_3_5);
        }
        for &(name, text, on_2_42, on_3_5) in BROKEN_TEMPLATES {
            assert_agrees(name, text, &v2_42(), on_2_42);
            assert_agrees(name, text, &v3_5(), on_3_5);
        }
    }

    #[test]
    fn functions_follow_the_version() {
        let at = |version: &str| Target::parse(version, "").unwrap();
        for (text, first) in [
            ("{{ $value | humanizePercentage }}", "2.11"),
            ("{{ parseDuration \"1h\" }}", "2.32"),
            ("{{ stripPort $labels.instance }}", "2.33"),
            ("{{ stripDomain $labels.instance }}", "2.36"),
            ("{{ $value | toTime }}", "2.38"),
            ("{{ $value | toDuration }}", "3.6"),
            ("{{ now }}", "3.6"),
            ("{{ urlQueryEscape $labels.job }}", "3.8"),
        ] {
            assert!(check(text, &at(first)).is_ok(), "{text} on {first}");
            assert!(check(text, &at("v3.16.0")).is_ok(), "{text} on 3.16");
            let (major, minor) = first.split_once('.').unwrap();
            let before = format!("{major}.{}", minor.parse::<u32>().unwrap() - 1);
            let message = check(text, &at(&before)).unwrap_err();
            assert!(message.contains(&format!("(Prometheus has it from {first})")), "{text} on {before}: {message}");
        }
        let message = check("{{ humanise $value }}", &at("3.16")).unwrap_err();
        assert!(
            message.starts_with("function \"humanise\" is not defined (Prometheus 3.16's template functions: query,")
        );
        assert!(
            message.contains("humanize, humanize1024,") && message.contains("urlQueryEscape; Go's: and,"),
            "{message}"
        );
    }

    #[test]
    fn else_with_and_break_follow_the_go_release_prometheus_was_built_with() {
        let at = |version: &str| Target::parse(version, "").unwrap();
        let else_with = "{{ with $labels.a }}{{ . }}{{ else with $labels.b }}{{ . }}{{ end }}";
        assert_eq!(check(else_with, &at("2.54")), Err("unexpected <with> in else".into()));
        assert_eq!(check(else_with, &at("2.55")), Ok(()));
        let break_ = "{{ range $labels }}{{ break }}{{ end }}";
        assert!(check(break_, &at("2.34")).unwrap_err().starts_with("function \"break\" is not defined"));
        assert_eq!(check(break_, &at("2.35")), Ok(()));
        assert_eq!(check("{{ len 1) }}", &at("2.43")), Err("unexpected \")\" in command".into()));
        assert_eq!(check("{{ len 1) }}", &at("2.44")), Err("unexpected right paren".into()));
    }

    #[test]
    fn nested_parentheses_stop_at_go_s_limit() {
        let nested = |depth: usize| format!("{{{{ {}1{} }}}}", "(".repeat(depth), ")".repeat(depth));
        assert_eq!(check(&nested(MAX_PAREN_DEPTH), &v3_5()), Ok(()));
        assert_eq!(check(&nested(MAX_PAREN_DEPTH + 1), &v3_5()), Err("max expression depth exceeded".into()));
        // Go 1.19 has no limit.
        assert_eq!(check(&nested(MAX_PAREN_DEPTH + 1), &v2_42()), Ok(()));
    }

    #[test]
    fn deep_nesting_is_parsed_on_a_stack_that_holds_it() {
        // Test threads have 2 MiB of stack; this nesting needs more in a debug build.
        let ifs = |depth: usize| "{{ if 1 }}".repeat(depth) + &"{{ end }}".repeat(depth);
        assert_eq!(check(&ifs(5_000), &v3_5()), Ok(()));
        assert_eq!(check(&ifs(5_000)[..ifs(5_000).len() - 2], &v3_5()), Err("unclosed action".into()));
        let message = check(&ifs(MAX_NESTING + 1), &v3_5()).unwrap_err();
        assert_eq!(message, format!("the template nests more than {MAX_NESTING} levels deep"));
    }

    /// promtool's verdict on each text as the annotation of an alert, in the form of the tables.
    fn promtool_verdicts(tool: &str, texts: &[String]) -> Vec<Option<String>> {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("rules.yml");
        let mut rules = String::from("groups:\n  - name: g\n    rules:\n");
        for (i, text) in texts.iter().enumerate() {
            let text = serde_json::to_string(text).unwrap();
            rules +=
                &format!("      - alert: A{i}\n        expr: up == 0\n        annotations:\n          t: {text}\n");
        }
        std::fs::write(&file, rules).unwrap();
        let output = std::process::Command::new(tool).arg("check").arg("rules").arg(&file).output();
        let output = output.unwrap_or_else(|e| panic!("{tool}: {e} (run make setup)"));
        let printed = String::from_utf8_lossy(&output.stdout).to_string() + &String::from_utf8_lossy(&output.stderr);
        let mut verdicts = vec![None; texts.len()];
        for line in printed.lines() {
            let Some((_, said)) = line.split_once("annotation \"t\": template: __alert_A") else { continue };
            let (i, message) = said.split_once(':').unwrap();
            let message = message.replace(&format!("__alert_A{i}:"), "__alert_X:");
            verdicts[i.parse::<usize>().unwrap()] = Some(message);
        }
        assert_eq!(output.status.success(), verdicts.iter().all(Option::is_none), "{tool}: {printed}");
        verdicts
    }

    fn promtools() -> [(String, Target); 2] {
        let home = std::env::var("HOME").expect("HOME");
        [
            ("/usr/bin/promtool".to_string(), v2_42()),
            (format!("{home}/.cache/promstack/prometheus-3.5.3/usr/bin/promtool"), v3_5()),
        ]
    }

    /// Runs every template of the tables through promtool 2.42 and 3.5.3, to show the verdicts
    /// recorded above are promtool's.
    #[test]
    #[ignore = "runs promtool 2.42 and 3.5.3 as installed by make setup"]
    fn tables_record_what_promtool_says() {
        let numbers = GO_NUMBER_TESTS.iter().map(|&(n, _, a, b)| (n, format!("{{{{printf \"%v\" {n}}}}}"), a, b));
        let rows: Vec<_> = GO_PARSE_TESTS
            .iter()
            .map(|&(name, text, _, a, b)| (name, text.to_string(), a, b))
            .chain(numbers)
            .chain(PUBLIC_TEMPLATES.iter().chain(BROKEN_TEMPLATES).map(|&(n, t, a, b)| (n, t.to_string(), a, b)))
            .collect();
        let texts: Vec<String> = rows.iter().map(|row| row.1.clone()).collect();
        for (column, (tool, target)) in promtools().iter().enumerate() {
            for ((name, text, on_2_42, on_3_5), said) in rows.iter().zip(promtool_verdicts(tool, &texts)) {
                let recorded = if column == 0 { on_2_42 } else { on_3_5 };
                assert_eq!(said.as_deref(), *recorded, "{name}: {text:?} on promtool {target}");
            }
        }
    }

    /// Generated templates, most of them broken in some way: check agrees with promtool on each,
    /// in verdict and in words.
    #[test]
    #[ignore = "runs promtool 2.42 and 3.5.3 as installed by make setup"]
    fn generated_templates_agree_with_promtool() {
        const WORDS: &[&str] = &[
            "$labels",
            "$value",
            "$labels.instance",
            "$x",
            "$",
            ".",
            ".Labels.job",
            "\"s\"",
            "`r`",
            "'c'",
            "1",
            "-1",
            "1.5",
            "0x1f",
            "1e3",
            "nil",
            "true",
            "printf \"%s\"",
            "humanize",
            "humanise",
            "query \"up\"",
            "first",
            "value",
            "len",
            "index $labels \"a\"",
            "eq 1 1",
            "now",
            "toTime",
            "(",
            ")",
            "|",
            ",",
            ":=",
            "=",
            "$y :=",
            "$i, $e :=",
            "\"\\q\"",
            "'ab'",
            "08",
            "1e400",
            "$labels.a-b",
            ".a.b",
            "..",
            "\"unterminated",
            "}",
            "{",
            "if",
            "else",
            "end",
            "range",
            "with",
            "define \"d\"",
            "template \"d\"",
            "block \"b\"",
            "break",
            "continue",
            "else if",
            "else with",
            "/* c */",
        ];
        const LEFT: &[&str] = &["{{", "{{ ", "{{- ", "{{-"];
        const RIGHT: &[&str] = &["}}", " }}", " -}}", "-}}", "}", ""];
        const GLUE: &[&str] = &[" ", " ", "", "\n"];
        let mut seed = 0x2545_f491_4f6c_dd1d_u64;
        let mut pick = |n: usize| {
            // xorshift64: the same templates on every run.
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed % n as u64) as usize
        };
        let texts: Vec<String> = (0..3_000)
            .map(|_| {
                (0..1 + pick(6))
                    .map(|_| match pick(5) {
                        0 => "x".to_string(),
                        1 => "\n".to_string(),
                        _ => {
                            let glue = GLUE[pick(GLUE.len())];
                            let words: Vec<&str> = (0..pick(5)).map(|_| WORDS[pick(WORDS.len())]).collect();
                            LEFT[pick(LEFT.len())].to_string() + &words.join(glue) + RIGHT[pick(RIGHT.len())]
                        }
                    })
                    .collect()
            })
            .collect();
        for (tool, target) in promtools() {
            let verdicts = promtool_verdicts(&tool, &texts);
            assert!(verdicts.iter().filter(|v| v.is_none()).count() > 300, "too few valid templates to mean much");
            for (text, said) in texts.iter().zip(&verdicts) {
                assert_agrees("generated", text, &target, said.as_deref());
            }
        }
    }
}
