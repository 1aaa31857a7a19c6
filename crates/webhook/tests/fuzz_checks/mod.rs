//! The properties the `admission` and `webhook` fuzz targets check (`fuzz/fuzz_targets/*.rs`
//! include this file), shared with `tests/fuzz_regressions.rs`. Panics when a property fails.

#![allow(dead_code)]

use kubeharden_webhook::admission::ReviewIn;
use kubeharden_webhook::server::AppState;
use kubeharden_webhook::{Policy, Reviewer, ServeOptions, mutate, server};
use serde_json::Value;
use std::path::Path;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

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

/// A control character a terminal would obey: below U+0020 but tab and (when `newlines` are
/// allowed) line feed, DEL, C1.
fn control(text: &str, newlines: bool) -> Option<char> {
    text.chars().find(|&c| {
        (c < ' ' && c != '\t' && !(newlines && c == '\n')) || ('\u{7f}'..='\u{9f}').contains(&c)
    })
}

/// The handler's state (the built-in policy, no evaluation deadline in practice) and a runtime to
/// run it on.
fn handler() -> &'static (tokio::runtime::Runtime, Arc<AppState>) {
    static HANDLER: OnceLock<(tokio::runtime::Runtime, Arc<AppState>)> = OnceLock::new();
    HANDLER.get_or_init(|| {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .expect("a runtime");
        let mut opts = ServeOptions::new(
            "127.0.0.1:0".parse().unwrap(),
            "unused.crt".into(),
            "unused.key".into(),
        );
        opts.eval_timeout = Duration::from_secs(600);
        opts.tmp_dir = std::env::temp_dir();
        let state = Arc::new(AppState::new(Reviewer::new(Policy::default()), &opts));
        (rt, state)
    })
}

/// `webhook`: any bytes as the body of `POST /validate`, through the router's handler
/// ([`server::validate`]: body limits, the evaluation on the blocking pool under its deadline,
/// the answer). The answer is 200 with an AdmissionReview for the request's `uid` (the same bytes
/// as [`server::validate_body`]), or 400 or 500 with a one-line message; no message, warning or
/// error body carries a control character (but the denial's own line breaks).
pub fn webhook(data: &[u8]) {
    use axum::body::Body;
    use axum::extract::State;
    let (rt, state) = handler();
    let request = axum::http::Request::builder()
        .method("POST")
        .uri("/validate")
        .header("content-type", "application/json")
        .header("content-length", data.len())
        .body(Body::from(data.to_vec()))
        .unwrap();
    let (status, body) = rt.block_on(async {
        let response = server::validate(State(state.clone()), request).await;
        let status = response.status();
        let body = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .expect("the response body");
        (status, body)
    });
    let direct = server::validate_body(&state.reviewer, data);
    match status.as_u16() {
        200 => {
            let out: Value = serde_json::from_slice(&body).expect("the response is JSON");
            assert_eq!(out["kind"], "AdmissionReview", "{out}");
            let review: ReviewIn<'_> = serde_json::from_slice(data).expect("a parsed body");
            let uid = review.request.map(|r| r.uid).unwrap_or_default();
            let response = &out["response"];
            assert_eq!(response["uid"], uid.as_str(), "{out}");
            assert!(response["allowed"].is_boolean(), "{out}");
            if let Some(m) = response["status"]["message"].as_str() {
                assert_eq!(control(m, true), None, "{m:?}");
            }
            for w in response["warnings"].as_array().into_iter().flatten() {
                let w = w.as_str().expect("a warning is a string");
                assert_eq!(control(w, false), None, "{w:?}");
            }
            assert_eq!(
                direct.as_deref().ok(),
                Some(&body[..]),
                "the handler and validate_body differ"
            );
        }
        code @ (400 | 500) => {
            let text = std::str::from_utf8(&body).expect("an error body is text");
            assert!(!text.trim().is_empty(), "{code}: no message");
            assert_eq!(control(text, true), None, "{text:?}");
            let (direct_code, _) = direct.expect_err("validate_body refuses it too");
            assert_eq!(direct_code.as_u16(), code, "{text}");
        }
        code => panic!(
            "unexpected status {code}: {}",
            String::from_utf8_lossy(&body)
        ),
    }
}
