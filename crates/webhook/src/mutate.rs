//! `POST /mutate`: the safe fixes of the engine's fix module (`kubeharden_engine::fix`, the code
//! behind `kubeharden fix`), applied to the admitted object and returned as a JSONPatch.
//!
//! The fix module edits files: the object (JSON, as the API server sent it) is written to a
//! private temporary file, [`fix::plan`] proposes and verifies the edits (re-parsed, each object
//! equal to the original with exactly the planned operations applied), and the patch is the
//! difference between the original and the fixed object. Only `safe` fixes (setting unset fields
//! to their secure value) of rules the policy runs at admission are applied; unsafe ones (which
//! override what the author wrote) never are. What was changed is returned as warnings.

use crate::admission::Request;
use crate::review::{EvalError, Outcome, Reviewer, with_namespace};
use base64::Engine as _;
use kubeharden_engine::fix::{self, FixKind};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// The mutation of one request.
#[derive(Debug)]
pub struct Mutation {
    pub outcome: Outcome,
    /// RFC 6902 operations (empty: nothing to change).
    pub patch: Vec<Value>,
    /// `kubeharden fixed [rule] what` per applied fix.
    pub fixed: Vec<String>,
    pub rules: Vec<&'static str>,
}

impl Mutation {
    /// The base64 JSONPatch of the AdmissionResponse, if any.
    pub fn patch_base64(&self) -> Option<String> {
        (!self.patch.is_empty()).then(|| {
            base64::engine::general_purpose::STANDARD
                .encode(serde_json::to_vec(&self.patch).unwrap_or_default())
        })
    }
}

/// `~` and `/` escaped in a JSON pointer token.
fn token(k: &str) -> String {
    k.replace('~', "~0").replace('/', "~1")
}

/// RFC 6902 operations turning `a` into `b`.
pub fn diff(path: &str, a: &Value, b: &Value, out: &mut Vec<Value>) {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            for k in x.keys().filter(|k| !y.contains_key(*k)) {
                out.push(json!({"op": "remove", "path": format!("{path}/{}", token(k))}));
            }
            for (k, v) in y {
                let p = format!("{path}/{}", token(k));
                match x.get(k) {
                    Some(old) => diff(&p, old, v, out),
                    None => out.push(json!({"op": "add", "path": p, "value": v})),
                }
            }
        }
        (Value::Array(x), Value::Array(y)) => {
            let common = x.len().min(y.len());
            for i in 0..common {
                diff(&format!("{path}/{i}"), &x[i], &y[i], out);
            }
            for (i, v) in y.iter().enumerate().skip(common) {
                out.push(json!({"op": "add", "path": format!("{path}/{i}"), "value": v}));
            }
            for i in (common..x.len()).rev() {
                out.push(json!({"op": "remove", "path": format!("{path}/{i}")}));
            }
        }
        _ if a != b => out.push(json!({"op": "replace", "path": path, "value": b})),
        _ => {}
    }
}

/// Temporary files of `/mutate`, unique per request.
static SEQ: AtomicU64 = AtomicU64::new(0);

struct TempFile(PathBuf);

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// Plans the safe fixes of `reviewer`'s rules on one request's object.
pub fn mutate(reviewer: &Reviewer, req: &Request<'_>, tmp: &Path) -> Result<Mutation, EvalError> {
    let none = |outcome| Mutation {
        outcome,
        patch: Vec::new(),
        fixed: Vec::new(),
        rules: Vec::new(),
    };
    let object = match reviewer.applies(req) {
        Err(outcome) => return Ok(none(outcome)),
        Ok(o) => o,
    };
    let rules: Vec<String> = reviewer
        .policy
        .rules
        .iter()
        .filter(|r| fix::for_rule(r.id).is_some_and(|f| f.kind == FixKind::Safe))
        .map(|r| r.id.to_owned())
        .collect();
    if rules.is_empty() {
        return Ok(none(Outcome::Evaluated));
    }
    let bytes = with_namespace(object.get(), req);
    let original: Value = serde_json::from_slice(&bytes)
        .map_err(|e| EvalError(format!("the object is not JSON: {e}")))?;
    let path = tmp.join(format!(
        "kubeharden-mutate-{}-{}.json",
        std::process::id(),
        SEQ.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::write(&path, &bytes)
        .map_err(|e| EvalError(format!("cannot write {}: {e}", path.display())))?;
    let file = TempFile(path);
    let opts = fix::Options {
        rules: Some(rules),
        ..fix::Options::default()
    };
    let plan = fix::plan(std::slice::from_ref(&file.0), &opts).map_err(EvalError)?;
    let mut m = none(Outcome::Evaluated);
    let Some(f) = plan.files.into_iter().next() else {
        return Ok(m);
    };
    if let Some(e) = f.error {
        return Err(EvalError(format!("the fix was refused: {e}")));
    }
    let Some(after) = f.after else {
        return Ok(m);
    };
    let fixed: Value = serde_json::from_str(&after)
        .map_err(|e| EvalError(format!("the fixed object is not JSON: {e}")))?;
    diff("", &original, &fixed, &mut m.patch);
    for x in &f.fixed {
        m.fixed
            .push(format!("kubeharden fixed [{}] {}", x.rule, x.what));
        if !m.rules.contains(&x.rule) {
            m.rules.push(x.rule);
        }
    }
    Ok(m)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_patch_diff() {
        let a = json!({"a": 1, "b": {"c": [1, 2, 3]}, "x/y": 1, "gone": true});
        let b = json!({"a": 2, "b": {"c": [1, 5], "d": {"e": "f"}}, "x/y": 1});
        let mut out = Vec::new();
        diff("", &a, &b, &mut out);
        assert_eq!(
            out,
            vec![
                json!({"op": "remove", "path": "/gone"}),
                json!({"op": "replace", "path": "/a", "value": 2}),
                json!({"op": "replace", "path": "/b/c/1", "value": 5}),
                json!({"op": "remove", "path": "/b/c/2"}),
                json!({"op": "add", "path": "/b/d", "value": {"e": "f"}}),
            ]
        );
    }
}
