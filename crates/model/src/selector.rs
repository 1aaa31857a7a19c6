//! Label selectors (`metav1.LabelSelector`) as the API server parses and matches them, shared by
//! NetworkPolicy, RBAC aggregation, admission policies and the user's policies, and the
//! [`Problem`]s (what the API server would reject) that parsing reports.

use crate::yaml::{Node, escape_token};
use std::collections::BTreeMap;
use std::fmt;

pub type Labels = BTreeMap<String, String>;

/// Something the API server would reject, at a JSON pointer relative to the object.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    pub pointer: String,
    pub message: String,
}

pub fn problem(problems: &mut Vec<Problem>, pointer: &str, message: impl Into<String>) {
    problems.push(Problem {
        pointer: pointer.to_owned(),
        message: message.into(),
    });
}

pub fn child(ptr: &str, key: &str) -> String {
    format!("{ptr}/{}", escape_token(key))
}

/// A node that is present and not null.
pub fn present<'a>(parent: &'a Node, key: &str) -> Option<&'a Node> {
    parent.get(key).filter(|n| !n.is_null())
}

/// Items of a list field; null or absent is empty; anything else is a problem.
pub fn list<'a>(parent: &'a Node, key: &str, ptr: &str, problems: &mut Vec<Problem>) -> &'a [Node] {
    match present(parent, key) {
        None => &[],
        Some(n) if n.is_seq() => n.items(),
        Some(n) => {
            problem(
                problems,
                &child(ptr, key),
                format!("`{key}` must be a list, not a {}", n.kind_name()),
            );
            &[]
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Label selectors
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Operator {
    In,
    NotIn,
    Exists,
    DoesNotExist,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Requirement {
    pub key: String,
    pub operator: Operator,
    pub values: Vec<String>,
}

impl Requirement {
    fn matches_with<'a>(&self, get: &impl Fn(&str) -> Option<&'a str>) -> bool {
        let value = get(&self.key);
        match self.operator {
            Operator::In => value.is_some_and(|v| self.values.iter().any(|x| x == v)),
            Operator::NotIn => value.is_none_or(|v| !self.values.iter().any(|x| x == v)),
            Operator::Exists => value.is_some(),
            Operator::DoesNotExist => value.is_none(),
        }
    }
}

/// A `metav1.LabelSelector`. The empty selector selects everything; an invalid one nothing.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LabelSelector {
    pub match_labels: Labels,
    pub match_expressions: Vec<Requirement>,
    /// Malformed (the API server rejects it): selects nothing.
    pub invalid: bool,
}

impl LabelSelector {
    /// No requirement at all: selects everything.
    pub fn is_empty(&self) -> bool {
        !self.invalid && self.match_labels.is_empty() && self.match_expressions.is_empty()
    }

    pub fn matches(&self, labels: &Labels) -> bool {
        self.matches_with(&|k: &str| labels.get(k).map(String::as_str))
    }

    /// Matches against labels looked up by `get` (for engines that map label keys).
    pub fn matches_with<'a>(&self, get: &impl Fn(&str) -> Option<&'a str>) -> bool {
        !self.invalid
            && self
                .match_labels
                .iter()
                .all(|(k, v)| get(k).is_some_and(|x| x == v))
            && self.match_expressions.iter().all(|r| r.matches_with(get))
    }

    /// Every key the selector tests.
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.match_labels
            .keys()
            .map(String::as_str)
            .chain(self.match_expressions.iter().map(|r| r.key.as_str()))
    }

    /// Parses a selector node (null is the empty selector).
    pub fn parse(node: &Node, ptr: &str, problems: &mut Vec<Problem>) -> LabelSelector {
        let mut sel = LabelSelector::default();
        if node.is_null() {
            return sel;
        }
        if !node.is_map() {
            problem(
                problems,
                ptr,
                format!(
                    "a label selector must be a mapping, not a {}",
                    node.kind_name()
                ),
            );
            sel.invalid = true;
            return sel;
        }
        if let Some(ml) = present(node, "matchLabels") {
            let mptr = child(ptr, "matchLabels");
            if !ml.is_map() {
                problem(problems, &mptr, "`matchLabels` must be a mapping");
                sel.invalid = true;
            }
            for e in ml.effective_entries() {
                match e.value.as_str() {
                    Some(v) => {
                        sel.match_labels.insert(e.key.to_string(), v.to_owned());
                    }
                    None => {
                        problem(
                            problems,
                            &child(&mptr, &e.key),
                            format!(
                                "label value `{}` is a {}, not a string: quote it",
                                e.value.text().unwrap_or("…"),
                                e.value.kind_name()
                            ),
                        );
                        sel.match_labels
                            .insert(e.key.to_string(), e.value.text().unwrap_or("").to_owned());
                    }
                }
            }
        }
        let mut ignored = Vec::new();
        let eptr = child(ptr, "matchExpressions");
        for (i, expr) in list(node, "matchExpressions", ptr, problems)
            .iter()
            .enumerate()
        {
            let xptr = format!("{eptr}/{i}");
            let Some(key) = expr.get("key").and_then(Node::as_str) else {
                problem(problems, &xptr, "a match expression needs a string `key`");
                sel.invalid = true;
                continue;
            };
            let operator = match expr.get("operator").and_then(Node::as_str) {
                Some("In") => Operator::In,
                Some("NotIn") => Operator::NotIn,
                Some("Exists") => Operator::Exists,
                Some("DoesNotExist") => Operator::DoesNotExist,
                other => {
                    problem(
                        problems,
                        &child(&xptr, "operator"),
                        format!(
                            "operator `{}` is not In, NotIn, Exists or DoesNotExist",
                            other.unwrap_or("")
                        ),
                    );
                    sel.invalid = true;
                    continue;
                }
            };
            let values: Vec<String> = list(expr, "values", &xptr, &mut ignored)
                .iter()
                .map(|v| v.text().unwrap_or("").to_owned())
                .collect();
            match operator {
                Operator::In | Operator::NotIn if values.is_empty() => {
                    problem(
                        problems,
                        &child(&xptr, "values"),
                        "must be specified when `operator` is 'In' or 'NotIn'",
                    );
                    sel.invalid = true;
                }
                Operator::Exists | Operator::DoesNotExist if !values.is_empty() => {
                    problem(
                        problems,
                        &child(&xptr, "values"),
                        "may not be specified when `operator` is 'Exists' or 'DoesNotExist'",
                    );
                    sel.invalid = true;
                }
                _ => {}
            }
            sel.match_expressions.push(Requirement {
                key: key.to_owned(),
                operator,
                values,
            });
        }
        problems.extend(ignored);
        sel
    }
}

impl fmt::Display for LabelSelector {
    /// `app=web,tier in (a,b),!legacy`; `{}` for the empty selector.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.invalid {
            return f.write_str("<invalid>");
        }
        let mut parts: Vec<String> = self
            .match_labels
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        for r in &self.match_expressions {
            parts.push(match r.operator {
                Operator::In => format!("{} in ({})", r.key, r.values.join(",")),
                Operator::NotIn => format!("{} notin ({})", r.key, r.values.join(",")),
                Operator::Exists => r.key.clone(),
                Operator::DoesNotExist => format!("!{}", r.key),
            });
        }
        if parts.is_empty() {
            f.write_str("{}")
        } else {
            f.write_str(&parts.join(","))
        }
    }
}
