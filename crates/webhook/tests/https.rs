//! The webhook over real HTTPS on loopback, with AdmissionReview bodies in the format the API
//! server sends (`tests/data/*.json`: compact JSON, defaulted objects with managedFields and the
//! last-applied annotation, `options`, `userInfo.extra`).

mod common;

use common::{Client, fixture, get_plain, h2_review, start, start_with, tls};
use hyper::StatusCode;
use kubeharden_webhook::Policy;
use std::path::Path;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

fn warnings(v: &serde_json::Value) -> Vec<String> {
    v["response"]["warnings"]
        .as_array()
        .map(|a| a.iter().map(|w| w.as_str().unwrap().to_owned()).collect())
        .unwrap_or_default()
}

#[tokio::test]
async fn allowed_denied_warned() {
    let s = start().await;
    let mut c = Client::connect(s.running.addr, &s.ca.der).await;

    // A hardened Deployment: allowed, nothing to say.
    let (_, v) = c.review(fixture("deployment-hardened.json")).await;
    assert_eq!(v["apiVersion"], "admission.k8s.io/v1");
    assert_eq!(v["kind"], "AdmissionReview");
    assert_eq!(v["response"]["uid"], "b7c8d9e0-6393-11e8-b7cc-42010a800003");
    assert_eq!(v["response"]["allowed"], true);
    assert!(v["response"].get("status").is_none());
    assert!(warnings(&v).is_empty());

    // A typical Deployment: medium and low findings warn (built-in policy), allowed.
    let (_, v) = c.review(fixture("deployment-typical.json")).await;
    assert_eq!(v["response"]["allowed"], true);
    let w = warnings(&v);
    assert!(
        w.iter().any(|w| w.contains("[container-may-run-as-root]")),
        "{w:?}"
    );
    assert!(
        w.iter().any(|w| w.contains("[image-not-pinned-by-digest]")),
        "{w:?}"
    );
    assert!(w.iter().all(|w| w.len() <= 256));
    assert!(
        v["response"]["auditAnnotations"]["warn-findings"]
            .as_str()
            .unwrap()
            .contains("container-may-run-as-root")
    );

    // Privileged: denied with 403, each deny finding with its remedy; warnings still given.
    let (_, v) = c.review(fixture("deployment-privileged.json")).await;
    let r = &v["response"];
    assert_eq!(r["allowed"], false);
    assert_eq!(r["status"]["code"], 403);
    let m = r["status"]["message"].as_str().unwrap();
    assert!(
        m.starts_with("kubeharden denied Deployment \"web\" in namespace \"shop\": 1 finding"),
        "{m}"
    );
    assert!(m.contains("[container-privileged] (critical) /spec/template/spec/containers/0/securityContext/privileged (container \"web\")"), "{m}");
    let remedy = kubeharden_engine::rules::find("container-privileged")
        .unwrap()
        .remedy;
    assert!(m.contains(&format!("Fix: {remedy}")), "{m}");
    assert!(!warnings(&v).is_empty());
    assert_eq!(
        r["auditAnnotations"]["deny-findings"],
        "container-privileged"
    );

    // A Secret holds its values in the API: not a finding at admission (it is one in git).
    let secret = br#"{"kind":"AdmissionReview","apiVersion":"admission.k8s.io/v1","request":{"uid":"s1","kind":{"group":"","version":"v1","kind":"Secret"},"resource":{"group":"","version":"v1","resource":"secrets"},"name":"db","namespace":"shop","operation":"CREATE","userInfo":{"username":"alice"},"object":{"apiVersion":"v1","kind":"Secret","metadata":{"name":"db","namespace":"shop","creationTimestamp":"2026-11-27T09:12:44Z"},"type":"Opaque","data":{"password":"aHVudGVyMg=="}},"oldObject":null,"dryRun":false}}"#;
    let (_, v) = c.review(secret.to_vec()).await;
    assert_eq!(v["response"]["allowed"], true);
    assert!(warnings(&v).is_empty(), "{v}");

    // A Namespace that does not enforce the restricted Pod Security Standard: denied (high).
    let ns = br#"{"kind":"AdmissionReview","apiVersion":"admission.k8s.io/v1","request":{"uid":"n1","kind":{"group":"","version":"v1","kind":"Namespace"},"resource":{"group":"","version":"v1","resource":"namespaces"},"name":"team-a","namespace":"team-a","operation":"CREATE","userInfo":{"username":"alice"},"object":{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"team-a","labels":{"kubernetes.io/metadata.name":"team-a"}},"spec":{"finalizers":["kubernetes"]},"status":{"phase":"Active"}},"oldObject":null,"dryRun":false}}"#;
    let (_, v) = c.review(ns.to_vec()).await;
    assert_eq!(v["response"]["allowed"], false);
    let m = v["response"]["status"]["message"].as_str().unwrap();
    assert!(m.contains("[namespace-pss-not-restricted]"), "{m}");

    // The same connection served them all (keep-alive).
    s.running.shutdown().await.unwrap();
}

#[tokio::test]
async fn dry_run_update_delete_and_exemptions() {
    let s = start_with(
        Policy::parse(
            "exemptUsers: ['system:serviceaccount:kube-system:*']\nexemptNamespaces: [kube-system]\n",
            "test",
            Path::new("."),
        )
        .unwrap(),
        |_| {},
    )
    .await;
    let mut c = Client::connect(s.running.addr, &s.ca.der).await;

    // Dry run: judged like the real request (so `kubectl apply --dry-run=server` shows the
    // denial), counted apart.
    let (_, v) = c.review(fixture("deployment-privileged-dryrun.json")).await;
    assert_eq!(v["response"]["allowed"], false);

    // UPDATE of an object that was already privileged: ratcheted to a warning.
    let (_, v) = c.review(fixture("deployment-privileged-update.json")).await;
    assert_eq!(v["response"]["allowed"], true);
    assert!(warnings(&v).iter().any(
        |w| w.contains("[container-privileged]") && w.contains("already so before this update")
    ));
    // UPDATE that introduces it: denied.
    let (_, v) = c
        .review(fixture("deployment-becomes-privileged.json"))
        .await;
    assert_eq!(v["response"]["allowed"], false);

    // DELETE: nothing to judge.
    let (_, v) = c.review(fixture("deployment-delete.json")).await;
    assert_eq!(v["response"]["allowed"], true);
    assert!(warnings(&v).is_empty());

    // An exempt user (the deployment controller): allowed without evaluation.
    let (_, v) = c
        .review(fixture("deployment-privileged-by-controller.json"))
        .await;
    assert_eq!(v["response"]["allowed"], true);
    assert!(warnings(&v).is_empty());

    // An exempt namespace.
    let body = String::from_utf8(fixture("deployment-privileged.json"))
        .unwrap()
        .replace("\"namespace\":\"shop\"", "\"namespace\":\"kube-system\"");
    let (_, v) = c.review(body.into_bytes()).await;
    assert_eq!(v["response"]["allowed"], true);

    let (code, metrics) = get_plain(s.running.metrics_addr.unwrap(), "/metrics").await;
    assert_eq!(code, 200);
    for line in [
        "kubeharden_webhook_reviews_total{decision=\"denied\",operation=\"CREATE\",kind=\"Deployment\",dry_run=\"true\"} 1",
        "kubeharden_webhook_reviews_total{decision=\"denied\",operation=\"UPDATE\",kind=\"Deployment\",dry_run=\"false\"} 1",
        "kubeharden_webhook_reviews_total{decision=\"allowed\",operation=\"UPDATE\",kind=\"Deployment\",dry_run=\"false\"} 1",
        "kubeharden_webhook_reviews_total{decision=\"skipped\",operation=\"DELETE\",kind=\"Deployment\",dry_run=\"false\"} 1",
        "kubeharden_webhook_reviews_total{decision=\"exempt\",operation=\"CREATE\",kind=\"Deployment\",dry_run=\"false\"} 2",
        "kubeharden_webhook_findings_total{rule=\"container-privileged\",mode=\"ratchet\"} 1",
        "kubeharden_webhook_findings_total{rule=\"container-privileged\",mode=\"deny\"} 2",
        "kubeharden_webhook_review_duration_seconds_count 6",
    ] {
        assert!(metrics.contains(line), "missing `{line}` in\n{metrics}");
    }
    s.running.shutdown().await.unwrap();
}

#[tokio::test]
async fn audit_mode_allows_and_annotates() {
    let s = start_with(
        Policy::parse("defaultMode: audit\n", "test", Path::new(".")).unwrap(),
        |_| {},
    )
    .await;
    let mut c = Client::connect(s.running.addr, &s.ca.der).await;
    let (_, v) = c.review(fixture("deployment-privileged.json")).await;
    assert_eq!(v["response"]["allowed"], true);
    assert!(warnings(&v).is_empty());
    assert!(
        v["response"]["auditAnnotations"]["audit-findings"]
            .as_str()
            .unwrap()
            .contains("container-privileged")
    );
    let (_, metrics) = get_plain(s.running.metrics_addr.unwrap(), "/metrics").await;
    assert!(metrics.contains(
        "kubeharden_webhook_findings_total{rule=\"container-privileged\",mode=\"audit\"} 1"
    ));
    s.running.shutdown().await.unwrap();
}

#[tokio::test]
async fn bad_requests_get_a_status_and_a_message() {
    let s = start_with(Policy::default(), |o| {
        o.max_body_bytes = 64 * 1024;
    })
    .await;
    let mut c = Client::connect(s.running.addr, &s.ca.der).await;
    let text = |b: &bytes::Bytes| String::from_utf8_lossy(b).into_owned();

    // Wrong content type.
    let (code, body) = c
        .send(
            "POST",
            "/validate",
            Some("application/yaml"),
            fixture("deployment-typical.json"),
        )
        .await;
    assert_eq!(code, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert!(
        text(&body).contains("Content-Type must be application/json"),
        "{}",
        text(&body)
    );
    let (code, _) = c
        .send(
            "POST",
            "/validate",
            None,
            fixture("deployment-typical.json"),
        )
        .await;
    assert_eq!(code, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    // With parameters it is fine.
    let (code, _) = c
        .send(
            "POST",
            "/validate",
            Some("application/json; charset=utf-8"),
            fixture("deployment-typical.json"),
        )
        .await;
    assert_eq!(code, StatusCode::OK);

    // Malformed JSON, truncated review, wrong kind, no request, no uid.
    let typical = fixture("deployment-typical.json");
    for (body, expect) in [
        (b"{not json".to_vec(), "malformed AdmissionReview"),
        (typical[..typical.len() / 2].to_vec(), "malformed AdmissionReview"),
        (b"{\"apiVersion\":\"v1\",\"kind\":\"Pod\"}".to_vec(), "expected an AdmissionReview"),
        (b"{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":\"AdmissionReview\"}".to_vec(), "no `request`"),
        (b"{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":\"AdmissionReview\",\"request\":{\"uid\":\"\",\"operation\":\"CREATE\"}}".to_vec(), "no `uid`"),
        (Vec::new(), "malformed AdmissionReview"),
    ] {
        let (code, resp) = c.send("POST", "/validate", Some("application/json"), body).await;
        assert_eq!(code, StatusCode::BAD_REQUEST, "{}", text(&resp));
        assert!(text(&resp).contains(expect), "{} lacks {expect}", text(&resp));
    }
    // An object the engine cannot read is a 500, so the API server applies failurePolicy.
    let (code, resp) = c
        .send(
            "POST",
            "/validate",
            Some("application/json"),
            br#"{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"u1","operation":"CREATE","kind":{"group":"","version":"v1","kind":"Pod"},"object":{"spec":{}}}}"#.to_vec(),
        )
        .await;
    assert_eq!(code, StatusCode::INTERNAL_SERVER_ERROR);
    assert!(
        text(&resp).contains("could not evaluate"),
        "{}",
        text(&resp)
    );

    // Oversized, declared by Content-Length: 413 before reading.
    let big = vec![b' '; 65 * 1024];
    let (code, resp) = c
        .send("POST", "/validate", Some("application/json"), big)
        .await;
    assert_eq!(code, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(
        text(&resp).contains("exceeds the limit of 65536 bytes"),
        "{}",
        text(&resp)
    );

    // Wrong method and path.
    let mut c = Client::connect(s.running.addr, &s.ca.der).await;
    let (code, _) = c.send("GET", "/validate", None, Vec::new()).await;
    assert_eq!(code, StatusCode::METHOD_NOT_ALLOWED);
    let (code, _) = c
        .send("POST", "/nope", Some("application/json"), Vec::new())
        .await;
    assert_eq!(code, StatusCode::NOT_FOUND);

    // Oversized and chunked (no Content-Length): 413 once the limit is crossed.
    let mut stream = tls(s.running.addr, &s.ca.der, &[b"http/1.1"]).await;
    let mut req = b"POST /validate HTTP/1.1\r\nhost: localhost\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n".to_vec();
    for _ in 0..3 {
        req.extend_from_slice(format!("{:x}\r\n", 32 * 1024).as_bytes());
        req.extend(std::iter::repeat_n(b' ', 32 * 1024));
        req.extend_from_slice(b"\r\n");
    }
    req.extend_from_slice(b"0\r\n\r\n");
    let (mut rd, mut wr) = tokio::io::split(&mut stream);
    let (_, head) = tokio::join!(async { wr.write_all(&req).await }, async {
        let mut buf = vec![0u8; 4096];
        let n = rd.read(&mut buf).await.unwrap();
        String::from_utf8_lossy(&buf[..n]).into_owned()
    });
    assert!(head.starts_with("HTTP/1.1 413"), "{head}");
    assert!(head.contains("exceeds the limit"), "{head}");

    // Every error was counted; the server is still healthy.
    let (_, metrics) = get_plain(s.running.metrics_addr.unwrap(), "/metrics").await;
    for line in [
        "kubeharden_webhook_errors_total{reason=\"content_type\"} 2",
        "kubeharden_webhook_errors_total{reason=\"malformed\"} 6",
        "kubeharden_webhook_errors_total{reason=\"evaluation\"} 1",
        "kubeharden_webhook_errors_total{reason=\"too_large\"} 2",
    ] {
        assert!(metrics.contains(line), "missing `{line}` in\n{metrics}");
    }
    let mut c = Client::connect(s.running.addr, &s.ca.der).await;
    let (code, _) = c.send("GET", "/healthz", None, Vec::new()).await;
    assert_eq!(code, StatusCode::OK);
    s.running.shutdown().await.unwrap();
}

#[tokio::test]
async fn slow_body_times_out_with_408() {
    let s = start_with(Policy::default(), |o| {
        o.request_timeout = Duration::from_millis(300);
    })
    .await;
    let mut stream = tls(s.running.addr, &s.ca.der, &[b"http/1.1"]).await;
    stream
        .write_all(b"POST /validate HTTP/1.1\r\nhost: localhost\r\ncontent-type: application/json\r\ncontent-length: 1000\r\n\r\n{\"apiVersion\"")
        .await
        .unwrap();
    let mut buf = vec![0u8; 4096];
    let n = tokio::time::timeout(Duration::from_secs(5), stream.read(&mut buf))
        .await
        .expect("answered before the client gave up")
        .unwrap();
    let head = String::from_utf8_lossy(&buf[..n]);
    assert!(head.starts_with("HTTP/1.1 408"), "{head}");
    assert!(head.contains("not received within"), "{head}");
    s.running.shutdown().await.unwrap();
}

#[tokio::test]
async fn http2_health_and_metrics() {
    let s = start().await;
    let (code, v) = h2_review(
        s.running.addr,
        &s.ca.der,
        fixture("deployment-privileged.json"),
    )
    .await;
    assert_eq!(code, StatusCode::OK);
    assert_eq!(v["response"]["allowed"], false);

    let mut c = Client::connect(s.running.addr, &s.ca.der).await;
    for path in ["/healthz", "/readyz"] {
        let (code, body) = c.send("GET", path, None, Vec::new()).await;
        assert_eq!((code, &body[..]), (StatusCode::OK, &b"ok\n"[..]));
    }
    let (code, body) = c.send("GET", "/metrics", None, Vec::new()).await;
    assert_eq!(code, StatusCode::OK);
    let body = String::from_utf8(body.to_vec()).unwrap();
    assert!(body.contains("# TYPE kubeharden_webhook_review_duration_seconds histogram"));
    assert!(
        body.contains("kubeharden_webhook_http_requests_total{path=\"/validate\",code=\"200\"} 1"),
        "{body}"
    );
    assert!(body.ends_with("# EOF\n"));
    let maddr = s.running.metrics_addr.unwrap();
    assert_eq!(get_plain(maddr, "/readyz").await, (200, "ok\n".to_owned()));
    // The plain listener has no admission endpoint.
    let (code, _) = get_plain(maddr, "/validate").await;
    assert_eq!(code, 404);
    s.running.shutdown().await.unwrap();
}

#[tokio::test]
async fn certificate_reload_keeps_open_connections() {
    let s = start().await;
    let mut old = Client::connect(s.running.addr, &s.ca.der).await;
    assert_eq!(old.peer_cert, s.cert_der);
    let (code, _) = old.send("GET", "/healthz", None, Vec::new()).await;
    assert_eq!(code, StatusCode::OK);

    // A half-rotated pair (new certificate, old key) is refused: the old one stays in use.
    let (cert2, key2, der2) = s.ca.server_cert("kubeharden-webhook 2");
    std::fs::write(&s.cert_path, &cert2).unwrap();
    tokio::time::sleep(Duration::from_millis(400)).await;
    let c = Client::connect(s.running.addr, &s.ca.der).await;
    assert_eq!(
        c.peer_cert, s.cert_der,
        "a mismatched pair must not be loaded"
    );

    // The key follows: the new pair is served to new connections.
    std::fs::write(&s.key_path, &key2).unwrap();
    let mut served = Vec::new();
    for _ in 0..50 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        served = Client::connect(s.running.addr, &s.ca.der).await.peer_cert;
        if served == der2 {
            break;
        }
    }
    assert_eq!(served, der2, "the renewed certificate was not loaded");

    // The connection opened before the rotation still works.
    let (code, v) = old
        .send(
            "POST",
            "/validate",
            Some("application/json"),
            fixture("deployment-hardened.json"),
        )
        .await;
    assert_eq!(code, StatusCode::OK);
    assert!(String::from_utf8_lossy(&v).contains("\"allowed\":true"));

    let (_, metrics) = get_plain(s.running.metrics_addr.unwrap(), "/metrics").await;
    assert!(
        metrics.contains("kubeharden_webhook_tls_reloads_total{result=\"error\"} 1"),
        "{metrics}"
    );
    assert!(
        metrics.contains("kubeharden_webhook_tls_reloads_total{result=\"ok\"} 1"),
        "{metrics}"
    );
    s.running.shutdown().await.unwrap();
}

#[tokio::test]
async fn graceful_shutdown_finishes_in_flight_requests() {
    let s = start_with(Policy::default(), |o| {
        o.shutdown_delay = Duration::from_millis(500);
    })
    .await;
    let addr = s.running.addr;
    let maddr = s.running.metrics_addr.unwrap();
    // A request in flight: headers and half the body sent.
    let body = fixture("deployment-privileged.json");
    let (first, rest) = body.split_at(body.len() / 2);
    let mut stream = tls(addr, &s.ca.der, &[b"http/1.1"]).await;
    stream
        .write_all(
            format!(
                "POST /validate HTTP/1.1\r\nhost: localhost\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
                body.len()
            )
            .as_bytes(),
        )
        .await
        .unwrap();
    stream.write_all(first).await.unwrap();
    stream.flush().await.unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;

    let shutdown = tokio::spawn(s.running.shutdown());
    // During the delay: not ready, still serving new connections.
    tokio::time::sleep(Duration::from_millis(150)).await;
    assert_eq!(get_plain(maddr, "/readyz").await.0, 503);
    let mut c = Client::connect(addr, &s.ca.der).await;
    let (_, v) = c.review(fixture("deployment-hardened.json")).await;
    assert_eq!(v["response"]["allowed"], true);
    drop(c);

    // After the delay the in-flight request still completes.
    tokio::time::sleep(Duration::from_millis(600)).await;
    stream.write_all(rest).await.unwrap();
    let mut out = Vec::new();
    stream.read_to_end(&mut out).await.ok();
    let text = String::from_utf8_lossy(&out);
    assert!(text.starts_with("HTTP/1.1 200"), "{text}");
    assert!(text.contains("\"allowed\":false"), "{text}");

    tokio::time::timeout(Duration::from_secs(10), shutdown)
        .await
        .expect("shutdown finished")
        .unwrap()
        .unwrap();
    // Nothing listens any more.
    assert!(tokio::net::TcpStream::connect(addr).await.is_err());
}

/// Applies an RFC 6902 patch (add, remove, replace) to a JSON value.
fn apply_patch(doc: &mut serde_json::Value, patch: &[serde_json::Value]) {
    for op in patch {
        let path = op["path"].as_str().unwrap();
        let (parent, last) = path.rsplit_once('/').unwrap();
        let last = last.replace("~1", "/").replace("~0", "~");
        let target = doc
            .pointer_mut(parent)
            .unwrap_or_else(|| panic!("no {parent}"));
        match (op["op"].as_str().unwrap(), target) {
            ("add" | "replace", serde_json::Value::Object(m)) => {
                m.insert(last, op["value"].clone());
            }
            ("remove", serde_json::Value::Object(m)) => {
                m.remove(&last).unwrap();
            }
            ("add", serde_json::Value::Array(a)) if last == "-" => a.push(op["value"].clone()),
            ("add", serde_json::Value::Array(a)) => {
                a.insert(last.parse().unwrap(), op["value"].clone())
            }
            ("replace", serde_json::Value::Array(a)) => {
                a[last.parse::<usize>().unwrap()] = op["value"].clone()
            }
            ("remove", serde_json::Value::Array(a)) => {
                a.remove(last.parse().unwrap());
            }
            (o, t) => panic!("cannot {o} at {path} in {t}"),
        }
    }
}

#[tokio::test]
async fn mutate_returns_the_safe_fixes_as_a_json_patch() {
    use base64::Engine as _;
    let s = start().await;
    let mut c = Client::connect(s.running.addr, &s.ca.der).await;
    let review = fixture("deployment-typical.json");
    let (code, body) = c
        .send("POST", "/mutate", Some("application/json"), review.clone())
        .await;
    assert_eq!(code, StatusCode::OK, "{}", String::from_utf8_lossy(&body));
    let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
    let r = &v["response"];
    assert_eq!(r["uid"], "705ab4f5-6393-11e8-b7cc-42010a800002");
    assert_eq!(r["allowed"], true);
    assert_eq!(r["patchType"], "JSONPatch");
    let patch: Vec<serde_json::Value> = serde_json::from_slice(
        &base64::engine::general_purpose::STANDARD
            .decode(r["patch"].as_str().unwrap())
            .unwrap(),
    )
    .unwrap();
    assert!(!patch.is_empty());
    assert!(
        warnings(&v)
            .iter()
            .all(|w| w.starts_with("kubeharden fixed ["))
    );

    // The patched object, judged again: the fixed findings are gone, nothing else changed.
    let mut full: serde_json::Value = serde_json::from_slice(&review).unwrap();
    let before = full["request"]["object"].clone();
    apply_patch(&mut full["request"]["object"], &patch);
    let after = full["request"]["object"].clone();
    assert_eq!(before["metadata"], after["metadata"]);
    assert_eq!(
        before["spec"]["template"]["spec"]["containers"][0]["image"],
        after["spec"]["template"]["spec"]["containers"][0]["image"]
    );
    let (_, v) = c.review(serde_json::to_vec(&full).unwrap()).await;
    let left = warnings(&v);
    for fixed in [
        "container-capabilities-not-dropped",
        "container-privilege-escalation-allowed",
        "container-seccomp-unconfined",
    ] {
        assert!(
            !left.iter().any(|w| w.contains(fixed)),
            "{fixed} still reported: {left:?}"
        );
    }
    // Not fixable without changing the image: still reported.
    assert!(
        left.iter()
            .any(|w| w.contains("[image-not-pinned-by-digest]"))
    );

    // Nothing to fix: no patch. Exempt or DELETE: no patch.
    for f in ["deployment-hardened.json", "deployment-delete.json"] {
        let (code, body) = c
            .send("POST", "/mutate", Some("application/json"), fixture(f))
            .await;
        assert_eq!(code, StatusCode::OK);
        let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(v["response"]["allowed"], true);
        assert!(v["response"].get("patch").is_none(), "{f}: {v}");
    }
    let (_, metrics) = get_plain(s.running.metrics_addr.unwrap(), "/metrics").await;
    assert!(metrics.contains("kubeharden_webhook_reviews_total{decision=\"mutated\",operation=\"CREATE\",kind=\"Deployment\",dry_run=\"false\"} 1"), "{metrics}");
    assert!(metrics.contains("kubeharden_webhook_findings_total{rule=\"container-seccomp-unconfined\",mode=\"fixed\"} 1"), "{metrics}");
    s.running.shutdown().await.unwrap();
}
