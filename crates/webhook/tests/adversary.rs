//! The webhook as a security boundary: whoever wrote the object wants it admitted.
//!
//! - Exemptions come only from what the requester cannot write (the policy, its
//!   `.kubeharden.yaml`); the object's own suppression annotations are ignored unless the policy
//!   sets `objectAnnotations: true`. Every exemption used is reported, logged and counted.
//! - Evaluation time is bounded (`--eval-timeout`): an evaluation that overruns is answered at
//!   once (a denial, or 503), abandoned, does not block other reviews nor the shutdown.
//! - A body over the limit is answered 413 even to a client that writes it all before reading.
//! - No control character from the object reaches a message or a warning.

mod common;

use common::{Client, get_plain, start_with, tls};
use kubeharden_engine::inventory::Object;
use kubeharden_engine::rules::{
    Check, Context, CustomPolicies, Emitter, References, Rule, Section, Severity,
};
use kubeharden_webhook::admission::ReviewIn;
use kubeharden_webhook::review::{Decision, OnTimeout, escape_controls};
use kubeharden_webhook::server::validate_body;
use kubeharden_webhook::{Policy, Reviewer};
use serde_json::{Value, json};
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

fn pod(name: &str, annotations: Value, labels: Value, image: &str) -> Value {
    json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "namespace": "team-a", "annotations": annotations, "labels": labels},
        "spec": {"containers": [{"name": "c", "image": image, "securityContext": {"privileged": true}}]}
    })
}

fn privileged(name: &str) -> Value {
    pod(name, json!({}), json!({}), "ghcr.io/example/tool:1.0")
}

fn review_of(object: &Value) -> Vec<u8> {
    let ns = object["metadata"]["namespace"].as_str().unwrap_or("");
    serde_json::to_vec(&json!({
        "apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview",
        "request": {
            "uid": "adv-1", "kind": {"group": "", "version": "v1", "kind": object["kind"]},
            "resource": {"group": "", "version": "v1", "resource": "pods"},
            "name": object["metadata"]["name"], "namespace": ns, "operation": "CREATE",
            "userInfo": {"username": "mallory", "groups": ["system:authenticated"]},
            "object": object, "oldObject": null, "dryRun": false
        }
    }))
    .unwrap()
}

fn decide(reviewer: &Reviewer, object: &Value) -> Decision {
    let body = review_of(object);
    let review: ReviewIn<'_> = serde_json::from_slice(&body).unwrap();
    reviewer.review(&review.request.unwrap()).unwrap()
}

fn policy(text: &str) -> Policy {
    Policy::parse(text, "webhook.yaml", Path::new(".")).unwrap()
}

fn denied_for_privileged(d: &Decision) -> bool {
    !d.allowed()
        && d.judged
            .iter()
            .any(|j| j.finding.rule == "container-privileged")
}

// --- who can exempt what ----------------------------------------------------------------------

#[test]
fn the_requesters_own_annotations_exempt_nothing() {
    let reviewer = Reviewer::new(Policy::default());
    for annotations in [
        json!({"kubeharden.io/ignore": "container-privileged"}),
        json!({"kubeharden.io/ignore": "all"}),
        json!({"ignore-check.kube-linter.io/privileged-container": "mine"}),
        json!({"kubeharden.io/ignore": "container-privileged",
               "ignore-check.kube-linter.io/privileged-container": "mine",
               "polaris.fairwinds.com/privilegedContainer-exempt": "true",
               "kubeharden.io/ignore.c": "container-privileged"}),
    ] {
        let object = pod(
            "p",
            annotations.clone(),
            json!({}),
            "ghcr.io/example/tool:1.0",
        );
        let d = decide(&reviewer, &object);
        assert!(denied_for_privileged(&d), "{annotations}: {d:?}");
        assert!(d.exemptions.is_empty(), "{:?}", d.exemptions);
        // On the wire too.
        let out: Value =
            serde_json::from_slice(&validate_body(&reviewer, &review_of(&object)).unwrap())
                .unwrap();
        assert_eq!(out["response"]["allowed"], false, "{out}");
    }
    // `scan` still honours them: the same object, as a file.
    let (findings, suppressed) = {
        let report = kubeharden_engine::scan::scan(
            &[kubeharden_engine::Input::Bytes {
                name: "p.json".into(),
                bytes: Arc::from(
                    pod(
                        "p",
                        json!({"kubeharden.io/ignore": "container-privileged"}),
                        json!({}),
                        "x:1",
                    )
                    .to_string()
                    .as_bytes(),
                ),
            }],
            kubeharden_engine::rules::all(),
        );
        (report.findings, report.suppressed)
    };
    assert!(
        !findings.iter().any(|f| f.rule == "container-privileged") && suppressed > 0,
        "scan ignores the annotation"
    );
}

#[test]
fn object_annotations_count_only_when_the_policy_says_so() {
    let reviewer = Reviewer::new(policy("objectAnnotations: true\n"));
    let object = pod(
        "p",
        json!({"kubeharden.io/ignore": "container-privileged"}),
        json!({}),
        "ghcr.io/example/tool:1.0",
    );
    let d = decide(&reviewer, &object);
    assert!(d.allowed(), "{d:?}");
    let used: Vec<(&str, &str)> = d.exemptions.iter().map(|e| (e.rule, e.source)).collect();
    assert_eq!(used, [("container-privileged", "annotation")]);
    assert_eq!(d.exemptions[0].by, "kubeharden.io/ignore");
}

#[test]
fn rule_exemptions_of_the_policy() {
    let text = "ruleExemptions:\n\
        - rules: [container-privileged]\n\
        \x20 namespaces: [team-a]\n\
        \x20 names: ['node-agent-*']\n\
        \x20 kinds: [Pod]\n\
        \x20 selector: {matchLabels: {app: node-agent}, matchExpressions: [{key: tier, operator: NotIn, values: [web]}]}\n\
        \x20 reason: reads the host's /proc\n\
        \x20 expires: 2999-12-31\n\
        - rule: container-privileged\n\
        \x20 namespaces: ['lab-*']\n\
        \x20 reason: the lab\n\
        \x20 expires: 2020-01-01\n";
    let reviewer = Reviewer::new(policy(text));
    let labelled =
        |name: &str, labels: Value| pod(name, json!({}), labels, "ghcr.io/example/tool:1.0");
    let d = decide(
        &reviewer,
        &labelled("node-agent-x1", json!({"app": "node-agent"})),
    );
    assert!(d.allowed(), "{d:?}");
    assert!(
        !d.judged
            .iter()
            .any(|j| j.finding.rule == "container-privileged")
    );
    assert_eq!(d.exemptions.len(), 1, "{:?}", d.exemptions);
    let e = &d.exemptions[0];
    assert_eq!(
        (e.rule, e.source, e.by.as_str(), e.reason.as_str()),
        (
            "container-privileged",
            "ruleExemptions",
            "ruleExemptions[0]",
            "reads the host's /proc"
        )
    );
    assert_eq!(e.expires.as_deref(), Some("2999-12-31"));
    assert!(d.suppressed >= 1);

    // Out of its scope: another name, a label missing or excluded, another namespace.
    for object in [
        labelled("web", json!({"app": "node-agent"})),
        labelled("node-agent-x1", json!({})),
        labelled("node-agent-x1", json!({"app": "node-agent", "tier": "web"})),
    ] {
        assert!(
            denied_for_privileged(&decide(&reviewer, &object)),
            "{object}"
        );
    }
    let mut elsewhere = labelled("node-agent-x1", json!({"app": "node-agent"}));
    elsewhere["metadata"]["namespace"] = json!("team-b");
    assert!(denied_for_privileged(&decide(&reviewer, &elsewhere)));
    // Expired: applies no more.
    let mut lab = privileged("p");
    lab["metadata"]["namespace"] = json!("lab-1");
    assert!(denied_for_privileged(&decide(&reviewer, &lab)));
}

#[test]
fn rule_exemptions_are_checked_at_load() {
    let err = |t: &str| {
        format!(
            "{:#}",
            Policy::parse(t, "w.yaml", Path::new(".")).unwrap_err()
        )
    };
    assert!(err("ruleExemptions: [{namespaces: [a], reason: r}]\n").contains("needs `rules`"));
    assert!(
        err("ruleExemptions: [{rules: [container-privileged], namespaces: [a]}]\n")
            .contains("needs a `reason`")
    );
    assert!(
        err("ruleExemptions: [{rules: [container-privileged], reason: r}]\n")
            .contains("needs a scope")
    );
    assert!(
        err("ruleExemptions: [{rules: [nope], namespaces: [a], reason: r}]\n")
            .contains("no rule `nope`")
    );
    assert!(
        err("ruleExemptions: [{rules: [namespace-missing-default-deny-ingress], namespaces: [a], reason: r}]\n")
            .contains("does not run at admission")
    );
    assert!(
        err("ruleExemptions: [{rules: [container-privileged], namespaces: [a], reason: r, expires: soon}]\n")
            .contains("`expires` must be a date")
    );
    assert!(
        err("ruleExemptions: [{rules: [container-privileged], selector: {matchExpressions: [{key: a, operator: In}]}, reason: r}]\n")
            .contains("needs values")
    );
    assert!(
        err("ruleExemptions: [{rules: [container-privileged], namespaces: [a], reason: r, labels: {}}]\n")
            .contains("unknown field `labels`")
    );
}

#[test]
fn exemptions_of_the_kubeharden_config() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("kubeharden.yaml"),
        "exemptions:\n\
         - rule: container-privileged\n\
         \x20 kind: Pod\n\
         \x20 namespace: team-a\n\
         \x20 name: agent\n\
         \x20 reason: a node agent\n\
         \x20 expires: 2999-01-01\n\
         - rule: container-privileged\n\
         \x20 name: old\n\
         \x20 reason: was fine\n\
         \x20 expires: 2020-01-01\n",
    )
    .unwrap();
    let reviewer = Reviewer::new(
        Policy::parse(
            "kubehardenConfig: kubeharden.yaml\n",
            "webhook.yaml",
            dir.path(),
        )
        .unwrap(),
    );
    let d = decide(&reviewer, &privileged("agent"));
    assert!(d.allowed(), "{d:?}");
    assert_eq!(d.exemptions.len(), 1);
    let e = &d.exemptions[0];
    assert_eq!(
        (e.rule, e.source),
        ("container-privileged", "kubehardenConfig")
    );
    assert!(e.by.ends_with("kubeharden.yaml:2"), "{}", e.by);
    assert_eq!(e.reason, "a node agent");

    // The expired exemption is reported on the object it names, not on every object admitted.
    let expired = |d: &Decision| {
        d.judged
            .iter()
            .any(|j| j.finding.rule == "exemption-expired")
    };
    let d = decide(&reviewer, &privileged("old"));
    assert!(denied_for_privileged(&d) && expired(&d), "{d:?}");
    let d = decide(&reviewer, &privileged("other"));
    assert!(denied_for_privileged(&d) && !expired(&d), "{d:?}");
}

// --- control characters -------------------------------------------------------------------------

fn no_control(text: &str, newlines: bool) -> bool {
    !text.chars().any(|c| {
        (c < ' ' && c != '\t' && !(newlines && c == '\n')) || ('\u{7f}'..='\u{9f}').contains(&c)
    })
}

#[test]
fn control_characters_are_escaped() {
    assert_eq!(escape_controls("plain\ttext", false), "plain\ttext");
    assert_eq!(
        escape_controls("a\x1b]0;OWNED\x07b\x7f\u{9b}c\r\nd", false),
        "a\\x1b]0;OWNED\\x07b\\x7f\\u{9b}c\\x0d\\x0ad"
    );
    assert_eq!(escape_controls("a\nb\x1b", true), "a\nb\\x1b");
    assert!(matches!(
        escape_controls("nothing to do", true),
        std::borrow::Cow::Borrowed(_)
    ));

    let reviewer = Reviewer::new(Policy::default());
    let mut object = pod(
        "p\x1b[2J",
        json!({}),
        json!({}),
        "ghcr.io/example/evil\x1b]0;OWNED\x07:1.0",
    );
    object["spec"]["containers"][0]["name"] = json!("c\x07\nFix: nothing");
    let out: Value =
        serde_json::from_slice(&validate_body(&reviewer, &review_of(&object)).unwrap()).unwrap();
    let response = &out["response"];
    assert_eq!(response["allowed"], false);
    let message = response["status"]["message"].as_str().unwrap();
    assert!(no_control(message, true), "{message:?}");
    assert!(message.contains("p\\x1b[2J"), "{message}");
    assert!(message.contains("c\\x07\\x0aFix: nothing"), "{message}");
    let warnings: Vec<&str> = response["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w.as_str().unwrap())
        .collect();
    assert!(!warnings.is_empty());
    assert!(
        warnings
            .iter()
            .any(|w| w.contains("evil\\x1b]0;OWNED\\x07")),
        "{warnings:?}"
    );
    for w in &warnings {
        assert!(no_control(w, false), "{w:?}");
    }
    // An error body too.
    let (code, message) = validate_body(
        &reviewer,
        br#"{"apiVersion":"v1","kind":"Evil\u001b[31m","request":{"uid":"x"}}"#,
    )
    .unwrap_err();
    assert_eq!(code.as_u16(), 400);
    assert!(
        no_control(&message, true) && message.contains("Evil\\x1b[31m"),
        "{message:?}"
    );
}

// --- over HTTPS: metrics, logs, time, size ------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exemptions_are_counted_by_rule_and_source() {
    let text = "exemptNamespaces: [kube-system]\n\
        ruleExemptions:\n\
        - rules: [container-privileged]\n\
        \x20 namespaces: [team-a]\n\
        \x20 names: [agent]\n\
        \x20 reason: a node agent\n";
    let s = start_with(policy(text), |_| {}).await;
    let mut c = Client::connect(s.running.addr, &s.ca.der).await;
    let (_, out) = c.review(review_of(&privileged("agent"))).await;
    assert_eq!(out["response"]["allowed"], true, "{out}");
    let (_, out) = c
        .review(review_of(&pod(
            "other",
            json!({"kubeharden.io/ignore": "container-privileged"}),
            json!({}),
            "x:1",
        )))
        .await;
    assert_eq!(out["response"]["allowed"], false, "{out}");
    let mut system = privileged("kube-proxy");
    system["metadata"]["namespace"] = json!("kube-system");
    let (_, out) = c.review(review_of(&system)).await;
    assert_eq!(out["response"]["allowed"], true, "{out}");

    let (_, metrics) = get_plain(s.running.metrics_addr.unwrap(), "/metrics").await;
    for line in [
        "kubeharden_webhook_exemptions_total{rule=\"container-privileged\",source=\"ruleExemptions\"} 1",
        "kubeharden_webhook_exemptions_total{rule=\"*\",source=\"exemptNamespaces\"} 1",
    ] {
        assert!(metrics.contains(line), "missing `{line}` in\n{metrics}");
    }
    assert!(
        !metrics.contains("source=\"annotation\""),
        "an annotation exempted something:\n{metrics}"
    );
    s.running.shutdown().await.unwrap();
}

/// A user policy that takes `delay` on objects named `slow…` (a slow evaluation, simulated).
#[derive(Debug)]
struct Slow {
    delay: Duration,
    rules: Vec<&'static Rule>,
}

static SLOW_RULE: Rule = Rule {
    id: "gatekeeper/slow",
    section: Section::Runtime,
    severity: Severity::Info,
    summary: "slow",
    rationale: "",
    remedy: "",
    references: References::NONE,
    evidence: &[],
    fix: None,
    check: Check::Custom,
};

impl CustomPolicies for Slow {
    fn rules(&self) -> &[&'static Rule] {
        &self.rules
    }
    fn check(&self, _: &Context, object: &Object, _: &[&Rule]) -> Vec<Emitter<'static>> {
        if object.name.starts_with("slow") {
            std::thread::sleep(self.delay);
        }
        Vec::new()
    }
}

fn slow_policy(delay: Duration) -> Policy {
    Policy::default().with_custom(Arc::new(Slow {
        delay,
        rules: vec![&SLOW_RULE],
    }))
}

fn metric(metrics: &str, name: &str) -> Option<f64> {
    metrics
        .lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.parse().ok())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_overrunning_evaluation_is_denied_at_its_deadline() {
    let s = start_with(slow_policy(Duration::from_secs(3)), |o| {
        o.eval_timeout = Duration::from_millis(300);
        o.eval_concurrency = Some(2);
    })
    .await;
    let addr = s.running.addr;
    let ca = s.ca.der.clone();
    let slow = tokio::spawn(async move {
        let mut c = Client::connect(addr, &ca).await;
        let t = Instant::now();
        let (_, out) = c.review(review_of(&privileged("slow-1"))).await;
        (t.elapsed(), out)
    });
    tokio::time::sleep(Duration::from_millis(50)).await;
    // Meanwhile, another review is answered at once: the slow one holds one slot of two.
    let mut c = Client::connect(s.running.addr, &s.ca.der).await;
    let t = Instant::now();
    // Judged (not the deadline's answer, which the message tells), well before the slow one ends.
    let (_, out) = c.review(review_of(&privileged("fast"))).await;
    assert!(t.elapsed() < Duration::from_secs(1), "{:?}", t.elapsed());
    assert_eq!(out["response"]["allowed"], false);
    assert!(
        out["response"]["status"]["message"]
            .as_str()
            .unwrap()
            .contains("container-privileged")
    );

    let (took, out) = slow.await.unwrap();
    assert!(
        took >= Duration::from_millis(300) && took < Duration::from_millis(2500),
        "{took:?}"
    );
    let response = &out["response"];
    assert_eq!(response["allowed"], false, "{out}");
    assert_eq!(response["uid"], "adv-1");
    assert_eq!(response["status"]["code"], 403);
    let message = response["status"]["message"].as_str().unwrap();
    assert!(
        message.contains("could not be judged within 300ms") && message.contains("--eval-timeout"),
        "{message}"
    );
    assert_eq!(response["auditAnnotations"]["eval-timeout"], "300ms");

    let metrics_addr = s.running.metrics_addr.unwrap();
    let (_, metrics) = get_plain(metrics_addr, "/metrics").await;
    assert_eq!(
        metric(&metrics, "kubeharden_webhook_evaluation_timeouts_total"),
        Some(1.0),
        "{metrics}"
    );
    assert_eq!(
        metric(&metrics, "kubeharden_webhook_abandoned_evaluations"),
        Some(1.0),
        "{metrics}"
    );
    assert!(metrics.contains("decision=\"timeout\""), "{metrics}");
    // The abandoned evaluation ends on its own, and gives its slot back.
    let t = Instant::now();
    loop {
        let (_, metrics) = get_plain(metrics_addr, "/metrics").await;
        if metric(&metrics, "kubeharden_webhook_abandoned_evaluations") == Some(0.0) {
            break;
        }
        assert!(t.elapsed() < Duration::from_secs(5), "{metrics}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    s.running.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_overrunning_evaluation_can_answer_503_for_the_failure_policy() {
    let s = start_with(slow_policy(Duration::from_secs(2)), |o| {
        o.eval_timeout = Duration::from_millis(200);
        o.on_eval_timeout = OnTimeout::Error;
    })
    .await;
    let mut c = Client::connect(s.running.addr, &s.ca.der).await;
    let (code, body) = c
        .send(
            "POST",
            "/validate",
            Some("application/json"),
            review_of(&privileged("slow-1")),
        )
        .await;
    assert_eq!(code.as_u16(), 503);
    assert!(
        String::from_utf8_lossy(&body).contains("did not finish within 200ms (--eval-timeout)"),
        "{}",
        String::from_utf8_lossy(&body)
    );
    s.running.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_every_slot_abandoned_a_review_waits_no_longer_than_its_deadline() {
    let s = start_with(slow_policy(Duration::from_secs(2)), |o| {
        o.eval_timeout = Duration::from_millis(300);
        o.eval_concurrency = Some(1);
    })
    .await;
    let mut c = Client::connect(s.running.addr, &s.ca.der).await;
    let (_, out) = c.review(review_of(&privileged("slow-1"))).await;
    assert_eq!(out["response"]["allowed"], false);
    // The only slot is held by the abandoned evaluation: the next review is not evaluated
    // beside it (no new thread), and is answered at its own deadline.
    let t = Instant::now();
    let (_, out) = c.review(review_of(&privileged("fast"))).await;
    assert!(
        t.elapsed() < Duration::from_millis(1800),
        "{:?}",
        t.elapsed()
    );
    assert_eq!(out["response"]["allowed"], false);
    assert!(
        out["response"]["status"]["message"]
            .as_str()
            .unwrap()
            .contains("--eval-timeout")
    );
    s.running.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_is_not_held_by_a_running_evaluation() {
    // The evaluation deadline beyond the grace period: the grace period ends it.
    let s = start_with(slow_policy(Duration::from_secs(4)), |o| {
        o.eval_timeout = Duration::from_secs(30);
        o.shutdown_grace = Duration::from_millis(500);
    })
    .await;
    let addr = s.running.addr;
    let ca = s.ca.der.clone();
    let slow = tokio::spawn(async move {
        let mut stream = tls(addr, &ca, &[b"http/1.1"]).await;
        let body = review_of(&privileged("slow-1"));
        let mut req = format!(
            "POST /validate HTTP/1.1\r\nhost: localhost\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
            body.len()
        )
        .into_bytes();
        req.extend(body);
        stream.write_all(&req).await.unwrap();
        let mut out = Vec::new();
        let _ = stream.read_to_end(&mut out).await;
        out
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    let t = Instant::now();
    tokio::time::timeout(Duration::from_secs(3), s.running.shutdown())
        .await
        .expect("shutdown within the grace period")
        .unwrap();
    assert!(t.elapsed() < Duration::from_secs(2), "{:?}", t.elapsed());
    // The connection was closed without an answer (the API server applies its failurePolicy).
    let out = slow.await.unwrap();
    assert!(!String::from_utf8_lossy(&out).contains("\"allowed\":true"));

    // The evaluation deadline within the grace period: the request gets its answer, then the
    // server stops.
    let s = start_with(slow_policy(Duration::from_secs(4)), |o| {
        o.eval_timeout = Duration::from_millis(400);
    })
    .await;
    let addr = s.running.addr;
    let ca = s.ca.der.clone();
    let slow = tokio::spawn(async move {
        let mut c = Client::connect(addr, &ca).await;
        c.review(review_of(&privileged("slow-1"))).await.1
    });
    tokio::time::sleep(Duration::from_millis(100)).await;
    let t = Instant::now();
    s.running.shutdown().await.unwrap();
    assert!(t.elapsed() < Duration::from_secs(2), "{:?}", t.elapsed());
    let out = slow.await.unwrap();
    assert_eq!(out["response"]["allowed"], false, "{out}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thirty_six_thousand_annotations_are_answered_in_bounded_time() {
    let s = start_with(Policy::default(), |o| {
        o.eval_timeout = Duration::from_secs(1);
    })
    .await;
    let annotations: serde_json::Map<String, Value> = (0..36_000)
        .map(|i| (format!("a{i:05}.example.com/k"), json!("v")))
        .collect();
    let object = pod(
        "p",
        Value::Object(annotations),
        json!({}),
        "ghcr.io/example/tool:1.0",
    );
    let body = review_of(&object);
    assert!(body.len() > 250_000, "{}", body.len());
    let mut c = Client::connect(s.running.addr, &s.ca.der).await;
    let t = Instant::now();
    let (_, out) = c.review(body).await;
    // Judged (denied: privileged), or not judged in time (denied too): never admitted, and
    // never later than the deadline (plus the transfer).
    assert_eq!(out["response"]["allowed"], false, "{}", out["response"]);
    assert!(t.elapsed() < Duration::from_secs(3), "{:?}", t.elapsed());
    let t = Instant::now();
    let (_, out) = c.review(review_of(&privileged("p"))).await;
    assert_eq!(out["response"]["allowed"], false);
    assert!(t.elapsed() < Duration::from_secs(3), "{:?}", t.elapsed());
    s.running.shutdown().await.unwrap();
}

/// Writes a whole request (head and body), then reads the answer, as simple clients (Python's
/// http.client, curl without `Expect`) do.
async fn write_then_read(
    addr: std::net::SocketAddr,
    ca: &rustls::pki_types::CertificateDer<'static>,
    head: &str,
    body: &[u8],
) -> String {
    let mut stream = tls(addr, ca, &[b"http/1.1"]).await;
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(body).await.unwrap();
    stream.flush().await.unwrap();
    let mut buf = vec![0u8; 4096];
    let n = stream.read(&mut buf).await.unwrap();
    String::from_utf8_lossy(&buf[..n]).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_ten_megabyte_review_is_answered_413() {
    let s = start_with(Policy::default(), |_| {}).await;
    let big = pod(
        "p",
        json!({"big": "x".repeat(10 * 1024 * 1024)}),
        json!({}),
        "x:1",
    );
    let body = review_of(&big);
    let head = format!(
        "POST /validate HTTP/1.1\r\nhost: localhost\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
        body.len()
    );
    let answer = write_then_read(s.running.addr, &s.ca.der, &head, &body).await;
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(
        answer.contains("exceeds the limit of 8388608 bytes"),
        "{answer}"
    );

    // Chunked, no Content-Length.
    let mut chunked = Vec::new();
    for part in body.chunks(1 << 20) {
        chunked.extend_from_slice(format!("{:x}\r\n", part.len()).as_bytes());
        chunked.extend_from_slice(part);
        chunked.extend_from_slice(b"\r\n");
    }
    chunked.extend_from_slice(b"0\r\n\r\n");
    let head = "POST /validate HTTP/1.1\r\nhost: localhost\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n";
    let answer = write_then_read(s.running.addr, &s.ca.der, head, &chunked).await;
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");

    // And the server goes on.
    let mut c = Client::connect(s.running.addr, &s.ca.der).await;
    let (_, out) = c.review(review_of(&privileged("p"))).await;
    assert_eq!(out["response"]["allowed"], false);
    s.running.shutdown().await.unwrap();
}

/// A user's policy keeps every evaluation on the blocking pool under its deadline: only the
/// built-in rules (linear in the body) may run on the connection's thread.
#[test]
fn only_the_builtin_rules_alone_may_be_evaluated_on_the_connections_thread() {
    assert!(Reviewer::new(Policy::default()).is_builtin_only());
    assert!(!Reviewer::new(slow_policy(Duration::from_millis(1))).is_builtin_only());
}
