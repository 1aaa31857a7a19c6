//! The properties the `admission` fuzz target checks (`fuzz/fuzz_targets/admission.rs` includes
//! this file), shared with `tests/fuzz_regressions.rs`. Panics when a property fails.

use kubeharden_webhook::admission::ReviewIn;
use kubeharden_webhook::{Policy, Reviewer, mutate, server};
use serde_json::Value;
use std::path::Path;
use std::sync::OnceLock;

fn reviewer() -> &'static Reviewer {
    static REVIEWER: OnceLock<Reviewer> = OnceLock::new();
    REVIEWER.get_or_init(|| Reviewer::new(Policy::default()))
}

/// `admission`: an AdmissionReview body through `POST /validate`'s handler, and its request
/// through `/mutate`'s fixes. A body is answered with an AdmissionReview for its `uid`, or
/// refused with 400 (malformed) or 500 (an object the engine cannot read), never a panic; a
/// mutation's patch is well-formed.
pub fn admission(data: &[u8], tmp: &Path) {
    match server::validate_body(reviewer(), data) {
        Ok(body) => {
            let out: Value = serde_json::from_slice(&body).expect("the response is JSON");
            assert_eq!(out["kind"], "AdmissionReview", "{out}");
            let review: ReviewIn<'_> = serde_json::from_slice(data).expect("a parsed body");
            let uid = review.request.map(|r| r.uid).unwrap_or_default();
            assert_eq!(out["response"]["uid"], uid.as_str(), "{out}");
            assert!(out["response"]["allowed"].is_boolean(), "{out}");
        }
        Err((code, message)) => {
            assert!(
                code.as_u16() == 400 || code.as_u16() == 500,
                "{code}: {message}"
            );
            assert!(!message.is_empty());
        }
    }
    let Ok(review) = serde_json::from_slice::<ReviewIn<'_>>(data) else {
        return;
    };
    let Some(request) = review.request else {
        return;
    };
    if let Ok(m) = mutate::mutate(reviewer(), &request, tmp) {
        for op in &m.patch {
            let kind = op["op"].as_str().unwrap_or_default();
            assert!(matches!(kind, "add" | "replace" | "remove"), "{op}");
            assert!(
                op["path"].as_str().is_some_and(|p| p.starts_with('/')),
                "{op}"
            );
        }
        let _ = m.patch_base64();
    }
}
