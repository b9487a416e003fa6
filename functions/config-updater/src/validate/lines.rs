//! Where a key of a YAML document is, for messages: the parsed value carries no positions, so a
//! field's line is found in the text below the line of its parent. Block style is followed; in
//! flow style (`{a: 1}`, `[...]`) a lookup fails and the caller falls back to the parent's line.

/// The lines of one document, each with its indentation.
pub struct Lines<'a> {
    text: &'a str,
    lines: Vec<&'a str>,
}

fn indent(line: &str) -> usize {
    line.len() - line.trim_start_matches(' ').len()
}

fn is_blank(line: &str) -> bool {
    let t = line.trim();
    t.is_empty() || t.starts_with('#') || t == "---"
}

/// `- x` is an item; the returned column is where `x` starts.
fn item_content(line: &str) -> Option<usize> {
    let at = indent(line);
    let rest = &line[at..];
    if rest == "-" || rest.starts_with("- ") {
        Some(at + 1 + rest[1..].len() - rest[1..].trim_start_matches(' ').len())
    } else {
        None
    }
}

fn starts_with_key(content: &str, key: &str) -> bool {
    let unquoted = content.strip_prefix(key);
    let quoted = content.strip_prefix(&format!("\"{key}\"")).or_else(|| content.strip_prefix(&format!("'{key}'")));
    unquoted.or(quoted).is_some_and(|rest| rest.trim_start_matches(' ').starts_with(':'))
}

impl<'a> Lines<'a> {
    pub fn new(text: &'a str) -> Self {
        Lines { text, lines: text.lines().collect() }
    }

    /// The line of `key:` in the mapping that starts on `parent` (`None`: the document's root).
    pub fn child(&self, parent: Option<usize>, key: &str) -> Option<usize> {
        let (from, floor, child_indent) = match parent {
            None => {
                let first = self.lines.iter().position(|l| !is_blank(l))?;
                (first, None, indent(self.lines[first]))
            }
            Some(p) => {
                let line = *self.lines.get(p.checked_sub(1)?)?;
                if let Some(col) = item_content(line) {
                    if starts_with_key(&line[col..], key) {
                        return Some(p);
                    }
                    (p, Some(indent(line)), col)
                } else {
                    let next = (p..self.lines.len()).find(|&i| !is_blank(self.lines[i]))?;
                    (p, Some(indent(line)), indent(self.lines[next]))
                }
            }
        };
        for (i, line) in self.lines.iter().enumerate().skip(from) {
            if is_blank(line) {
                continue;
            }
            let at = indent(line);
            if floor.is_some_and(|f| at <= f) {
                return None;
            }
            if at == child_indent && starts_with_key(&line[at..], key) {
                return Some(i + 1);
            }
        }
        None
    }

    /// The line of item `n` (0-based) of the sequence under the key on line `parent`.
    pub fn item(&self, parent: Option<usize>, n: usize) -> Option<usize> {
        self.items(parent).get(n).copied()
    }

    /// The line of every item of the sequence under the key on line `parent`, in order (empty in
    /// flow style).
    pub fn items(&self, parent: Option<usize>) -> Vec<usize> {
        let mut found = Vec::new();
        let Some(key_indent) = parent.and_then(|p| self.lines.get(p.wrapping_sub(1))).map(|l| indent(l)) else {
            return found;
        };
        let mut item_indent = None;
        for i in parent.unwrap_or(0)..self.lines.len() {
            let line = self.lines[i];
            if is_blank(line) {
                continue;
            }
            let at = indent(line);
            let dash = item_content(line).is_some();
            let j = match item_indent {
                None if dash && at >= key_indent => *item_indent.insert(at),
                None => break,
                Some(j) => j,
            };
            if at < j || (at == j && !dash) {
                break;
            }
            if at == j {
                found.push(i + 1);
            }
        }
        found
    }

    /// The first line at or after `from` that contains `needle`.
    pub fn find(&self, from: Option<usize>, needle: &str) -> Option<usize> {
        let from = from.unwrap_or(1).max(1);
        self.lines.iter().enumerate().skip(from - 1).find(|(_, l)| l.contains(needle)).map(|(i, _)| i + 1)
    }

    /// The whole text.
    pub fn text(&self) -> &'a str {
        self.text
    }
}

#[cfg(test)]
mod tests {
    use super::Lines;

    const DOC: &str = "global:\n  scrape_interval: 15s\n\nscrape_configs:\n  - job_name: a\n    tls_config:\n      ca_file: x\n    static_configs: [{targets: ['h:1']}]\n  - metrics_path: /m\n    job_name: b\n    \"scheme\": https\nrule_files:\n- a.yml\n";

    #[test]
    fn keys_and_items_are_found_below_their_parent() {
        let lines = Lines::new(DOC);
        assert_eq!(lines.child(None, "global"), Some(1));
        assert_eq!(lines.child(Some(1), "scrape_interval"), Some(2));
        assert_eq!(lines.child(None, "scrape_configs"), Some(4));
        assert_eq!(lines.item(Some(4), 0), Some(5));
        assert_eq!(lines.item(Some(4), 1), Some(9));
        assert_eq!(lines.item(Some(4), 2), None);
        assert_eq!(lines.child(Some(5), "job_name"), Some(5));
        assert_eq!(lines.child(Some(5), "tls_config"), Some(6));
        assert_eq!(lines.child(Some(6), "ca_file"), Some(7));
        assert_eq!(lines.child(Some(9), "job_name"), Some(10));
        assert_eq!(lines.child(Some(9), "scheme"), Some(11));
        // Not a child of the second job, though the first has one.
        assert_eq!(lines.child(Some(9), "tls_config"), None);
        assert_eq!(lines.item(Some(12), 0), Some(13));
        // Flow style: no line of its own.
        assert_eq!(lines.item(lines.child(Some(5), "static_configs"), 0), None);
    }
}
