//! Label selectors (`metav1.LabelSelector`) as the API server parses and matches them, shared by
//! NetworkPolicy, RBAC aggregation, admission policies and the user's policies, and the
//! [`Problem`]s (what the API server would reject) that parsing reports.

use crate::yaml::{Node, escape_token};
use std::collections::BTreeMap;
use std::fmt;

/// Labels by key, with a `BTreeMap`'s semantics (sorted by key, one value per key, the last one
/// inserted wins) in one allocation of their size: a `BTreeMap` takes a 544-byte node for a few
/// labels, and a scan keeps the pod labels of every workload and the labels of every Namespace
/// (10,000s of them) until its cross-object rules have run. `S` is the string they are kept as:
/// `String`, or [`Text`](crate::yaml::Text) (up to 15 bytes inline) where thousands are kept (the labels of RBAC
/// roles, which aggregation selects on).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Labels<S = String>(Vec<(S, S)>);

impl<S> Default for Labels<S> {
    fn default() -> Self {
        Labels(Vec::new())
    }
}

impl Labels {
    /// No labels (of another string: `Labels::default()`).
    pub const fn new() -> Labels {
        Labels(Vec::new())
    }
}

impl<S> Labels<S> {
    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// In key order.
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = (&S, &S)> + ExactSizeIterator + Clone {
        self.0.iter().map(|(k, v)| (k, v))
    }

    pub fn keys(&self) -> impl DoubleEndedIterator<Item = &S> + ExactSizeIterator + Clone {
        self.0.iter().map(|(k, _)| k)
    }

    pub fn values(&self) -> impl DoubleEndedIterator<Item = &S> + ExactSizeIterator + Clone {
        self.0.iter().map(|(_, v)| v)
    }
}

impl<S: AsRef<str>> Labels<S> {
    fn find(&self, key: &str) -> Result<usize, usize> {
        self.0.binary_search_by(|(k, _)| k.as_ref().cmp(key))
    }

    pub fn get(&self, key: &str) -> Option<&S> {
        self.find(key).ok().map(|i| &self.0[i].1)
    }

    pub fn contains_key(&self, key: &str) -> bool {
        self.find(key).is_ok()
    }

    /// Sets `key` to `value`, returning the value it replaced.
    pub fn insert(&mut self, key: S, value: S) -> Option<S> {
        match self.find(key.as_ref()) {
            Ok(i) => Some(std::mem::replace(&mut self.0[i].1, value)),
            Err(i) => {
                self.0.insert(i, (key, value));
                None
            }
        }
    }

    /// The value of `key`, inserted from `value` when there is none (`entry(key).or_insert_with`).
    pub fn get_or_insert_with(&mut self, key: S, value: impl FnOnce() -> S) -> &mut S {
        let i = match self.find(key.as_ref()) {
            Ok(i) => i,
            Err(i) => {
                self.0.insert(i, (key, value()));
                i
            }
        };
        &mut self.0[i].1
    }

    pub fn remove(&mut self, key: &str) -> Option<S> {
        self.find(key).ok().map(|i| self.0.remove(i).1)
    }

    /// The same labels kept as another string.
    pub fn to<T: for<'s> From<&'s str>>(&self) -> Labels<T> {
        // Already sorted, one value per key.
        Labels(
            self.0
                .iter()
                .map(|(k, v)| (T::from(k.as_ref()), T::from(v.as_ref())))
                .collect(),
        )
    }
}

impl<S: AsRef<str>> FromIterator<(S, S)> for Labels<S> {
    /// As `BTreeMap::from_iter`: of pairs with the same key, the last one.
    fn from_iter<I: IntoIterator<Item = (S, S)>>(pairs: I) -> Labels<S> {
        let mut v: Vec<(S, S)> = pairs.into_iter().collect();
        // Stable: pairs of one key stay in their order, and the last of each run is kept.
        v.sort_by(|a, b| a.0.as_ref().cmp(b.0.as_ref()));
        let mut out: Vec<(S, S)> = Vec::with_capacity(v.len());
        for pair in v {
            match out.last_mut() {
                Some(last) if last.0.as_ref() == pair.0.as_ref() => *last = pair,
                _ => out.push(pair),
            }
        }
        out.shrink_to_fit();
        Labels(out)
    }
}

impl<S: AsRef<str>> Extend<(S, S)> for Labels<S> {
    fn extend<I: IntoIterator<Item = (S, S)>>(&mut self, pairs: I) {
        for (k, v) in pairs {
            self.insert(k, v);
        }
    }
}

impl<S: Ord> From<BTreeMap<S, S>> for Labels<S> {
    fn from(map: BTreeMap<S, S>) -> Labels<S> {
        // Already sorted, one value per key.
        Labels(map.into_iter().collect())
    }
}

impl<S: AsRef<str>, const N: usize> From<[(S, S); N]> for Labels<S> {
    fn from(pairs: [(S, S); N]) -> Labels<S> {
        pairs.into_iter().collect()
    }
}

impl<S> IntoIterator for Labels<S> {
    type Item = (S, S);
    type IntoIter = std::vec::IntoIter<(S, S)>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

impl<'a, S> IntoIterator for &'a Labels<S> {
    type Item = (&'a S, &'a S);
    type IntoIter = std::iter::Map<std::slice::Iter<'a, (S, S)>, fn(&'a (S, S)) -> (&'a S, &'a S)>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.iter().map(|(k, v)| (k, v))
    }
}

impl<S: serde::Serialize> serde::Serialize for Labels<S> {
    fn serialize<Ser: serde::Serializer>(&self, s: Ser) -> Result<Ser::Ok, Ser::Error> {
        s.collect_map(self.iter())
    }
}

impl<'de> serde::Deserialize<'de> for Labels {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Labels, D::Error> {
        BTreeMap::<String, String>::deserialize(d).map(Labels::from)
    }
}

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

    pub fn matches<S: AsRef<str>>(&self, labels: &Labels<S>) -> bool {
        self.matches_with(&|k: &str| labels.get(k).map(S::as_ref))
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

#[cfg(test)]
mod tests {
    use super::Labels;
    use std::collections::BTreeMap;

    fn pairs(v: &[(&str, &str)]) -> Vec<(String, String)> {
        v.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    /// Every operation gives what a `BTreeMap` gives for the same pairs: key order, the last
    /// value of a repeated key, `insert`'s and `remove`'s return values.
    #[test]
    fn labels_behave_as_a_btreemap() {
        let input = pairs(&[
            ("tier", "web"),
            ("app", "a"),
            ("Zone", "z"),
            ("app", "b"),
            ("app.kubernetes.io/name", "n"),
            ("tier", "db"),
        ]);
        let labels: Labels = input.iter().cloned().collect();
        let map: BTreeMap<String, String> = input.iter().cloned().collect();
        assert!(labels.iter().eq(map.iter()));
        assert_eq!(labels.len(), map.len());
        assert_eq!(labels.get("app").map(String::as_str), Some("b"));
        assert_eq!(labels.get("tier").map(String::as_str), Some("db"));
        assert_eq!(labels.get("missing"), None);
        assert_eq!(Labels::from(map.clone()), labels);

        let (mut l, mut m) = (labels.clone(), map.clone());
        for (k, v) in pairs(&[("app", "c"), ("a", "1"), ("zz", "2")]) {
            assert_eq!(l.insert(k.clone(), v.clone()), m.insert(k, v));
        }
        assert_eq!(l.remove("tier"), m.remove("tier"));
        assert_eq!(l.remove("tier"), m.remove("tier"));
        l.extend(pairs(&[("b", "x"), ("a", "y")]));
        m.extend(pairs(&[("b", "x"), ("a", "y")]));
        assert!(l.iter().eq(m.iter()));
        assert!(l.keys().eq(m.keys()) && l.values().eq(m.values()));
        assert!(l.clone().into_iter().eq(m.clone()));

        let name = "kubernetes.io/metadata.name".to_owned();
        assert_eq!(l.get_or_insert_with(name.clone(), || "prod".into()), "prod");
        assert_eq!(
            l.get_or_insert_with(name.clone(), || "other".into()),
            "prod"
        );
        assert_eq!(l.get(&name).map(String::as_str), Some("prod"));
    }

    /// Kept as inline strings (`Labels<Text>`, a role's labels), the same pairs in the same
    /// order with the same answers; `to` converts either way.
    #[test]
    fn labels_of_text_answer_as_labels_of_strings() {
        use crate::yaml::Text;
        let input = pairs(&[
            ("tier", "web"),
            ("app", "a"),
            ("Zone", "z"),
            ("app", "b"),
            (
                "app.kubernetes.io/name",
                "a value longer than fifteen bytes",
            ),
        ]);
        let strings: Labels = input.iter().cloned().collect();
        let text: Labels<Text> = input
            .iter()
            .map(|(k, v)| (Text::from(k.as_str()), Text::from(v.as_str())))
            .collect();
        let as_str = |(k, v): (&str, &str)| (k.to_owned(), v.to_owned());
        assert!(
            text.iter()
                .map(|(k, v)| as_str((k, v)))
                .eq(strings.iter().map(|(k, v)| as_str((k, v))))
        );
        assert_eq!(strings.to::<Text>(), text);
        assert_eq!(text.to::<String>(), strings);
        assert_eq!(text.get("app").map(Text::as_str), Some("b"));
        let mut t = text.clone();
        t.get_or_insert_with("app".into(), || "other".into());
        assert_eq!(t, text, "an existing key keeps its value");
        let selector = super::LabelSelector {
            match_labels: Labels::from([("app".to_owned(), "b".to_owned())]),
            ..super::LabelSelector::default()
        };
        assert!(selector.matches(&text) && selector.matches(&strings));
    }

    #[test]
    fn labels_serialize_as_a_map_in_key_order_and_read_the_last_duplicate() {
        let labels = Labels::from(
            pairs(&[("b", "2"), ("a", "1")])
                .into_iter()
                .collect::<BTreeMap<_, _>>(),
        );
        assert_eq!(
            serde_json::to_string(&labels).unwrap(),
            r#"{"a":"1","b":"2"}"#
        );
        let read: Labels = serde_json::from_str(r#"{"b":"x","a":"1","b":"2"}"#).unwrap();
        assert_eq!(read, labels);
        assert!(serde_json::from_str::<Labels>(r#"{"a":1}"#).is_err());
    }
}
