//! `$(VAR)` substitution in the config template, with the Thanos reloader's syntax: `$(NAME)`
//! where NAME is letters, digits and `_`, replaced by the variable's value. A referenced
//! variable that is not set stops the deploy; it never becomes an empty string.

use std::collections::BTreeMap;

/// A `$(VAR)` whose variable is not set, with the 1-based line it is on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnsetVariable {
    pub name: String,
    pub line: usize,
}

/// Renders `template`, or names every unset variable it references.
pub fn render(template: &str, vars: &BTreeMap<String, String>) -> Result<String, Vec<UnsetVariable>> {
    let mut out = String::with_capacity(template.len());
    let mut unset = Vec::new();
    let mut rest = template;
    let mut line = 1;
    while let Some(start) = rest.find("$(") {
        let (before, after) = rest.split_at(start);
        out.push_str(before);
        line += before.matches('\n').count();
        let name_len = after[2..].find(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).unwrap_or(after.len() - 2);
        let closes = after[2 + name_len..].starts_with(')');
        if name_len == 0 || !closes {
            // Not a reference (e.g. a literal "$(" in a regex): keep it as it is, like Thanos.
            out.push_str("$(");
            rest = &after[2..];
            continue;
        }
        let name = &after[2..2 + name_len];
        match vars.get(name) {
            Some(value) => out.push_str(value),
            None => unset.push(UnsetVariable { name: name.to_string(), line }),
        }
        rest = &after[3 + name_len..];
    }
    out.push_str(rest);
    if unset.is_empty() {
        Ok(out)
    } else {
        Err(unset)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn replaces_every_reference() {
        let out =
            render("a: $(CLUSTER)\nb: $(REGION)-$(CLUSTER)\n", &vars(&[("CLUSTER", "prod"), ("REGION", "eu-west-1")]));
        assert_eq!(out.unwrap(), "a: prod\nb: eu-west-1-prod\n");
    }

    #[test]
    fn unset_variables_are_errors_with_their_line() {
        let err = render("a: 1\nb: $(MISSING)\nc: $(ALSO_MISSING) $(SET)\n", &vars(&[("SET", "x")])).unwrap_err();
        assert_eq!(
            err,
            [UnsetVariable { name: "MISSING".into(), line: 2 }, UnsetVariable { name: "ALSO_MISSING".into(), line: 3 }]
        );
    }

    #[test]
    fn set_but_empty_is_allowed() {
        assert_eq!(render("x$(EMPTY)y", &vars(&[("EMPTY", "")])).unwrap(), "xy");
    }

    #[test]
    fn text_that_is_not_a_reference_is_kept() {
        let t = "regex: '$(foo bar'\nshell: $()\nend: $(";
        assert_eq!(render(t, &vars(&[])).unwrap(), t);
    }
}
