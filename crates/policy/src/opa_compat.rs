//! OPA's evaluation order for negated calls, which regorus does not follow.
//!
//! OPA's compiler moves the arguments of a call out of the expression before evaluating it
//! (`rewriteDynamics` binds every ref, and `expandExpr` every nested call, to a local variable
//! placed *before* the expression), also when the expression is negated. So in OPA
//! `not accept_value(rule, v, params.ranges)` with `params.ranges` undefined is
//! `__local0__ = params.ranges; not accept_value(rule, v, __local0__)`: the binding fails and the
//! rule body is undefined — no violation. regorus evaluates the call inside the negation: the
//! call is undefined, `not` makes it true, and the template reports a violation OPA (and
//! Gatekeeper) would not report.
//!
//! [`hoist_negated_arguments`] rewrites the Rego text the same way before regorus compiles it:
//! for every `not` literal whose expression is a call (`f(a, b)`, a builtin such as
//! `startswith(a, b)`, the operators `!=`, `<`, `<=`, `>`, `>=`, `+`, `-`, `*`, `/`, `%`, `&`,
//! `|`) each argument that is a reference, a variable or a nested call is bound before the `not`:
//! `__kh_arg0__ := params.ranges; not accept_value(rule, v, __kh_arg0__)`. As in OPA, the
//! operands of `==` are left in place unless they are calls (`not input.x == 1` with `input.x`
//! undefined is true in OPA, and stays true), and a bare reference (`not input.x`) is untouched.
//! Literals with a `with` modifier, and arguments holding the wildcard `_`, are left as written.
//! The semantics were read from OPA v1.22 (`ast/compile.go`) and checked against `opa eval` on
//! the cases of `tests/opa_semantics.rs`.

use regorus::unstable::{BoolOp, Expr, Literal, Parser, Query, Rule, RuleHead, Source};

/// The Rego text with the arguments of negated calls bound before the negation, or the text
/// unchanged when there is nothing to move (or when it does not parse: regorus then reports the
/// error on the original text).
pub fn hoist_negated_arguments(name: &str, rego: &str, rego_v1: bool) -> String {
    let Ok(source) = Source::from_contents(name.to_owned(), rego.to_owned()) else {
        return rego.to_owned();
    };
    let Ok(mut parser) = Parser::new(&source) else {
        return rego.to_owned();
    };
    if rego_v1 && parser.enable_rego_v1().is_err() {
        return rego.to_owned();
    }
    let Ok(module) = parser.parse() else {
        return rego.to_owned();
    };
    let mut edits = Edits::default();
    for rule in &module.policy {
        match rule.as_ref() {
            Rule::Spec { head, bodies, .. } => {
                match head {
                    RuleHead::Compr { assign, .. } | RuleHead::Func { assign, .. } => {
                        if let Some(a) = assign {
                            edits.expr(&a.value);
                        }
                    }
                    RuleHead::Set { key, .. } => {
                        if let Some(k) = key {
                            edits.expr(k);
                        }
                    }
                }
                for body in bodies {
                    if let Some(a) = &body.assign {
                        edits.expr(&a.value);
                    }
                    edits.query(&body.query);
                }
            }
            Rule::Default { value, .. } => edits.expr(value),
        }
    }
    if edits.list.is_empty() {
        return rego.to_owned();
    }
    edits.apply(source.contents())
}

#[derive(Default)]
struct Edits {
    /// `(start, end, replacement)`: an insertion has `start == end`.
    list: Vec<(usize, usize, String)>,
    next: usize,
}

impl Edits {
    fn query(&mut self, q: &Query) {
        for stmt in &q.stmts {
            match &stmt.literal {
                Literal::NotExpr { span, expr } => {
                    if stmt.with_mods.is_empty() {
                        self.negated(span.start as usize, expr);
                    }
                    // Comprehensions inside the negated expression have bodies of their own.
                    self.expr(expr);
                }
                Literal::Expr { expr, .. } => self.expr(expr),
                Literal::SomeIn {
                    key,
                    value,
                    collection,
                    ..
                } => {
                    if let Some(k) = key {
                        self.expr(k);
                    }
                    self.expr(value);
                    self.expr(collection);
                }
                Literal::Every { domain, query, .. } => {
                    self.expr(domain);
                    self.query(query);
                }
                Literal::SomeVars { .. } => {}
            }
        }
    }

    /// Finds the queries nested in an expression (comprehensions).
    fn expr(&mut self, e: &Expr) {
        match e {
            Expr::ArrayCompr { term, query, .. } | Expr::SetCompr { term, query, .. } => {
                self.expr(term);
                self.query(query);
            }
            Expr::ObjectCompr {
                key, value, query, ..
            } => {
                self.expr(key);
                self.expr(value);
                self.query(query);
            }
            Expr::Array { items, .. } | Expr::Set { items, .. } => {
                items.iter().for_each(|i| self.expr(i));
            }
            Expr::Object { fields, .. } => {
                for (_, k, v) in fields {
                    self.expr(k);
                    self.expr(v);
                }
            }
            Expr::Call { params, .. } => params.iter().for_each(|p| self.expr(p)),
            Expr::UnaryExpr { expr, .. } => self.expr(expr),
            Expr::RefDot { refr, .. } => self.expr(refr),
            Expr::RefBrack { refr, index, .. } => {
                self.expr(refr);
                self.expr(index);
            }
            Expr::BinExpr { lhs, rhs, .. }
            | Expr::BoolExpr { lhs, rhs, .. }
            | Expr::ArithExpr { lhs, rhs, .. }
            | Expr::AssignExpr { lhs, rhs, .. } => {
                self.expr(lhs);
                self.expr(rhs);
            }
            Expr::Membership {
                key,
                value,
                collection,
                ..
            } => {
                if let Some(k) = key {
                    self.expr(k);
                }
                self.expr(value);
                self.expr(collection);
            }
            _ => {}
        }
    }

    /// The expression of a `not` literal starting at byte `at`.
    fn negated(&mut self, at: usize, e: &Expr) {
        let mut moved = Vec::new();
        match e {
            Expr::Call { params, .. } => params.iter().for_each(|p| argument(p, &mut moved)),
            Expr::BoolExpr {
                op: BoolOp::Eq,
                lhs,
                rhs,
                ..
            } => {
                for side in [lhs, rhs] {
                    if is_call(side) {
                        moved.push(side.span().clone());
                    }
                }
            }
            Expr::BoolExpr { lhs, rhs, .. }
            | Expr::ArithExpr { lhs, rhs, .. }
            | Expr::BinExpr { lhs, rhs, .. } => {
                argument(lhs, &mut moved);
                argument(rhs, &mut moved);
            }
            _ => {}
        }
        let mut bindings = String::new();
        for span in moved {
            let var = format!("__kh_arg{}__", self.next);
            self.next += 1;
            bindings.push_str(&format!("{var} := {}; ", span.text()));
            self.list
                .push((span.start as usize, span.end as usize, var.clone()));
        }
        if !bindings.is_empty() {
            self.list.push((at, at, bindings));
        }
    }

    fn apply(mut self, text: &str) -> String {
        // In order of position; an edit inside a span already replaced (a `not` nested in an
        // argument that moved) is dropped, the moved text keeping its original form.
        self.list.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.cmp(&b.1)));
        let mut out = String::with_capacity(text.len() + 64 * self.list.len());
        let mut cursor = 0;
        for (start, end, with) in self.list {
            if start < cursor {
                continue;
            }
            out.push_str(&text[cursor..start]);
            out.push_str(&with);
            cursor = end;
        }
        out.push_str(&text[cursor..]);
        out
    }
}

fn is_call(e: &Expr) -> bool {
    matches!(
        e,
        Expr::Call { .. } | Expr::ArithExpr { .. } | Expr::BinExpr { .. }
    )
}

/// Collects the spans of an argument that OPA binds before the call.
fn argument(e: &Expr, moved: &mut Vec<regorus::unstable::Span>) {
    match e {
        Expr::RefDot { .. }
        | Expr::RefBrack { .. }
        | Expr::Var { .. }
        | Expr::Call { .. }
        | Expr::ArithExpr { .. }
        | Expr::BinExpr { .. }
            if !has_wildcard(e) =>
        {
            moved.push(e.span().clone());
        }
        Expr::RefDot { .. }
        | Expr::RefBrack { .. }
        | Expr::Var { .. }
        | Expr::Call { .. }
        | Expr::ArithExpr { .. }
        | Expr::BinExpr { .. } => {}
        Expr::Array { items, .. } | Expr::Set { items, .. } => {
            items.iter().for_each(|i| argument(i, moved));
        }
        Expr::Object { fields, .. } => {
            for (_, k, v) in fields {
                argument(k, moved);
                argument(v, moved);
            }
        }
        _ => {}
    }
}

fn has_wildcard(e: &Expr) -> bool {
    match e {
        Expr::Var { span, .. } => span.text() == "_",
        Expr::RefDot { refr, .. } => has_wildcard(refr),
        Expr::RefBrack { refr, index, .. } => has_wildcard(refr) || has_wildcard(index),
        Expr::Call { params, .. } => params.iter().any(|p| has_wildcard(p)),
        Expr::ArithExpr { lhs, rhs, .. } | Expr::BinExpr { lhs, rhs, .. } => {
            has_wildcard(lhs) || has_wildcard(rhs)
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::hoist_negated_arguments as hoist;

    #[test]
    fn binds_the_arguments_of_negated_calls_before_the_not() {
        let rego = "package p\nv { x := 1; not f(x, input.a.b, count(input.c)) }\n";
        assert_eq!(
            hoist("t", rego, false),
            "package p\nv { x := 1; __kh_arg0__ := x; __kh_arg1__ := input.a.b; __kh_arg2__ := count(input.c); not f(__kh_arg0__, __kh_arg1__, __kh_arg2__) }\n"
        );
    }

    #[test]
    fn leaves_equality_bare_references_with_and_wildcards_alone() {
        for rego in [
            "package p\nv { not input.a == 1 }\n",
            "package p\nv { not input.a }\n",
            "package p\nv { not f(input.a) with input as {} }\n",
            "package p\nv { not f(input.a[_]) }\n",
            "package p\nv { f(input.a) }\n",
        ] {
            assert_eq!(hoist("t", rego, false), rego);
        }
        assert_eq!(
            hoist("t", "package p\nv { not lower(input.a) == \"x\" }\n", false),
            "package p\nv { __kh_arg0__ := lower(input.a); not __kh_arg0__ == \"x\" }\n"
        );
    }

    #[test]
    fn rewrites_negations_inside_comprehensions_and_in_rego_v1() {
        assert_eq!(
            hoist(
                "t",
                "package p\nv contains m if {\n  s := {x | some x in input.xs; not startswith(x, input.p)}\n  m := count(s)\n}\n",
                true
            ),
            "package p\nv contains m if {\n  s := {x | some x in input.xs; __kh_arg0__ := x; __kh_arg1__ := input.p; not startswith(__kh_arg0__, __kh_arg1__)}\n  m := count(s)\n}\n"
        );
    }
}
