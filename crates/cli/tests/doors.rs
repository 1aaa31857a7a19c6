//! Every door, one answer: the same objects fed as files, on stdin, as a `kind: List` (YAML, and
//! JSON as `kubectl get -A -o json` prints it), through the cluster API double and as
//! AdmissionReviews to the webhook give the same findings (rule, kind, namespace, name,
//! container, pointer, message) for the rules each door can run, and the scorecard (section,
//! status, findings, assessed, missing) of every door that scans a whole inventory is the same.
//!
//! The objects: `tests/data/doors/*.yaml` (a `shop` namespace with Pod Security labels, a
//! Deployment, a privileged Pod, a ServiceAccount with a Role and RoleBinding, a NetworkPolicy, a
//! ConfigMap, a Secret; kube-system's CoreDNS Deployment and kube-proxy DaemonSet, so that every
//! door sees a whole cluster) and `examples/insecure-app/app.yaml`.
//!
//! What each door cannot run is left out of the comparison the same way in every door:
//! - [`SKIP`], in every door: the rules only a live cluster can judge (the API endpoint's
//!   address, anonymous answers), and the Secret age rule (the API double stamps every object
//!   with one creation time, manifests carry none);
//! - `secret-values-in-manifest` where the cluster door is compared: it reads Secrets as
//!   metadata only (`the_cluster_scores_secret_values_like_the_files`, ignored, shows what the
//!   engine makes of it);
//! - the webhook runs only per-object and per-pod-template rules, and of those
//!   [`NEEDS_ANOTHER_OBJECT`] never fire on a lone object.

#[path = "../../cluster/tests/apidouble/mod.rs"]
mod apidouble;

use apidouble::{Double, Faults};
use assert_cmd::Command;
use kubeharden_webhook::admission::ReviewIn;
use kubeharden_webhook::{Mode, Policy, Reviewer};
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};
use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Skipped in every door: live-cluster-only evidence, and Secret ages.
const SKIP: &[&str] = &[
    "apiserver-endpoint-public",
    "apiserver-answers-anonymous-requests",
    "secret-not-rotated",
];

fn kubeharden() -> Command {
    Command::cargo_bin("kubeharden").unwrap()
}

/// One object: its YAML document as written, and its JSON (Kubernetes' YAML 1.1 reading).
struct Doc {
    text: String,
    json: Value,
}

/// The YAML files the objects come from.
fn sources() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files: Vec<PathBuf> = std::fs::read_dir(root.join("tests/data/doors"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
    files.push(root.join("../../examples/insecure-app/app.yaml"));
    files
}

/// Every object of the sources, one YAML document each (comment-only documents dropped).
fn documents() -> Vec<Doc> {
    let mut out = Vec::new();
    for file in sources() {
        let text = std::fs::read_to_string(&file).unwrap();
        let mut docs = vec![String::new()];
        for line in text.lines() {
            if line.trim_end() == "---" {
                docs.push(String::new());
            } else {
                let doc = docs.last_mut().unwrap();
                doc.push_str(line);
                doc.push('\n');
            }
        }
        for doc in docs {
            let loaded = kubeharden_engine::load::load_bytes("doc.yaml", doc.clone().into_bytes());
            assert!(loaded.diagnostics.is_empty(), "{doc}");
            match loaded.objects.as_slice() {
                [] => {}
                [o] => out.push(Doc {
                    text: doc,
                    json: o.root.to_json(),
                }),
                _ => panic!("one object per document: {doc}"),
            }
        }
    }
    out
}

/// A finding as every door can report it: rule, kind, namespace, name, container, JSON pointer
/// (inside the object: without the `/items/N` of a List), message.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Norm {
    rule: String,
    kind: String,
    namespace: String,
    name: String,
    container: String,
    pointer: String,
    message: String,
}

impl std::fmt::Display for Norm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "[{}] {}/{}/{}",
            self.rule, self.kind, self.namespace, self.name
        )?;
        if !self.container.is_empty() {
            write!(f, " (container {})", self.container)?;
        }
        write!(f, " {:?}: {}", self.pointer, self.message)
    }
}

fn without_list_prefix(pointer: &str) -> String {
    if let Some(rest) = pointer.strip_prefix("/items/") {
        let (index, tail) = rest.split_once('/').unwrap_or((rest, ""));
        if !index.is_empty() && index.bytes().all(|b| b.is_ascii_digit()) {
            return if tail.is_empty() {
                String::new()
            } else {
                format!("/{tail}")
            };
        }
    }
    pointer.to_owned()
}

/// A finding of the JSON report (or a serialized engine `Finding`), normalised.
fn norm(f: &Value) -> Norm {
    let s = |v: &Value| v.as_str().unwrap_or("").to_owned();
    Norm {
        rule: s(&f["rule"]),
        kind: s(&f["subject"]["kind"]),
        namespace: s(&f["subject"]["namespace"]),
        name: s(&f["subject"]["name"]),
        container: s(&f["subject"]["container"]),
        pointer: without_list_prefix(f["location"]["pointer"].as_str().unwrap_or("")),
        message: s(&f["message"]),
    }
}

/// A scorecard section as every door can report it.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Section {
    section: String,
    status: String,
    findings: u64,
    assessed: Vec<String>,
    missing: Vec<String>,
}

impl std::fmt::Display for Section {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "section {}: {} ({} findings) assessed {:?} missing {:?}",
            self.section, self.status, self.findings, self.assessed, self.missing
        )
    }
}

fn scorecard(report: &Value) -> Vec<Section> {
    let strings = |v: &Value| -> Vec<String> {
        v.as_array()
            .into_iter()
            .flatten()
            .map(|s| s.as_str().unwrap_or("").to_owned())
            .collect()
    };
    report["scorecard"]
        .as_array()
        .expect("a scorecard")
        .iter()
        .map(|s| Section {
            section: match &s["seed"] {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            },
            status: s["status"].as_str().unwrap_or("").to_owned(),
            findings: s["findings"].as_u64().unwrap_or(0),
            assessed: strings(&s["assessed"]),
            missing: strings(&s["missing"]),
        })
        .collect()
}

/// What one door answered.
struct Answer {
    door: &'static str,
    findings: Vec<Norm>,
    scorecard: Vec<Section>,
    report: Value,
}

impl Answer {
    fn of(door: &'static str, out: std::process::Output) -> Answer {
        let stderr = String::from_utf8_lossy(&out.stderr);
        // Exit 1: findings at or above `--fail-on` (low); anything else is an error.
        assert_eq!(out.status.code(), Some(1), "{door}: {stderr}");
        let report: Value = serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("{door}: not a JSON report ({e}): {stderr}"));
        let mut findings: Vec<Norm> = report["findings"]
            .as_array()
            .expect("findings")
            .iter()
            .map(norm)
            .collect();
        findings.sort();
        Answer {
            door,
            findings,
            scorecard: scorecard(&report),
            report,
        }
    }

    fn rules(&self) -> BTreeSet<&str> {
        self.findings.iter().map(|f| f.rule.as_str()).collect()
    }
}

/// A readable difference of two sorted lists (as multisets), or None when equal.
fn diff<T: Ord + std::fmt::Display>(a: &str, xs: &[T], b: &str, ys: &[T]) -> Option<String> {
    fn count<T: Ord>(v: &[T]) -> BTreeMap<&T, usize> {
        let mut m = BTreeMap::new();
        for x in v {
            *m.entry(x).or_default() += 1;
        }
        m
    }
    let (ca, cb) = (count(xs), count(ys));
    let mut out = String::new();
    for (x, n) in &ca {
        let m = cb.get(x).copied().unwrap_or(0);
        for _ in m..*n {
            out.push_str(&format!("  only in {a}: {x}\n"));
        }
    }
    for (x, n) in &cb {
        let m = ca.get(x).copied().unwrap_or(0);
        for _ in m..*n {
            out.push_str(&format!("  only in {b}: {x}\n"));
        }
    }
    (!out.is_empty()).then(|| {
        format!(
            "{a} ({} items) and {b} ({} items) differ:\n{out}",
            xs.len(),
            ys.len()
        )
    })
}

/// `kubeharden scan --no-config --format json --skip-rules <skip> <args>`, with stdin.
fn scan(door: &'static str, skip: &[&str], args: &[&OsStr], stdin: Option<Vec<u8>>) -> Answer {
    let mut cmd = kubeharden();
    cmd.args(["scan", "--no-config", "--format", "json", "--skip-rules"])
        .arg(skip.join(","))
        .args(args);
    if let Some(input) = stdin {
        cmd.write_stdin(input);
    }
    Answer::of(door, cmd.output().unwrap())
}

/// Door "files": one object per YAML file, the directory scanned.
fn files(docs: &[Doc], skip: &[&str]) -> Answer {
    let dir = tempfile::tempdir().unwrap();
    for (i, d) in docs.iter().enumerate() {
        let name = format!(
            "{i:02}-{}-{}.yaml",
            d.json["kind"].as_str().unwrap().to_ascii_lowercase(),
            d.json["metadata"]["name"].as_str().unwrap()
        );
        std::fs::write(dir.path().join(name), &d.text).unwrap();
    }
    scan("files", skip, &[dir.path().as_os_str()], None)
}

/// Door "stdin": the same documents as one stream (`… | kubeharden scan -`).
fn stdin(docs: &[Doc], skip: &[&str]) -> Answer {
    let stream: Vec<&str> = docs.iter().map(|d| d.text.as_str()).collect();
    scan(
        "stdin",
        skip,
        &["-".as_ref()],
        Some(stream.join("---\n").into_bytes()),
    )
}

/// Door "YAML List": the manifests as one `kind: List`, each document indented under `items:`.
fn yaml_list(docs: &[Doc], skip: &[&str]) -> Answer {
    let mut list =
        String::from("apiVersion: v1\nkind: List\nmetadata:\n  resourceVersion: \"\"\nitems:\n");
    for d in docs {
        let lines = d
            .text
            .lines()
            .filter(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#'));
        for (i, line) in lines.enumerate() {
            list.push_str(if i == 0 { "- " } else { "  " });
            list.push_str(line);
            list.push('\n');
        }
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("list.yaml");
    std::fs::write(&path, list).unwrap();
    scan("YAML List", skip, &[path.as_os_str()], None)
}

/// The objects as the API server holds them: the API double's store (uid, resourceVersion,
/// creationTimestamp added), as `kubectl get -A -o json` prints them (a `List` of whole
/// objects, Secrets with their data).
fn get_all(docs: &[Doc]) -> Value {
    let double = Double::new(
        docs.iter().map(|d| d.json.clone()).collect(),
        Faults::default(),
    );
    assert_eq!(double.count(), docs.len());
    double.dump(|_, _| true)
}

/// Door "JSON List": `kubectl get -A -o json > get-all.json`, scanned.
fn json_list(docs: &[Doc], skip: &[&str]) -> Answer {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("get-all.json");
    std::fs::write(&path, serde_json::to_vec_pretty(&get_all(docs)).unwrap()).unwrap();
    scan("JSON List", skip, &[path.as_os_str()], None)
}

/// Door "cluster": the API double serves the objects on 127.0.0.1 (on a runtime of its own);
/// `kubeharden cluster` reads them with kube-rs through a kubeconfig.
fn cluster(docs: &[Doc], skip: &[&str]) -> Answer {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    // The server's `/version` is cluster-only evidence the other doors lack: a release newer
    // than the support table, so that it adds no finding of its own.
    let double = Arc::new(Double::new(
        docs.iter().map(|d| d.json.clone()).collect(),
        Faults {
            git_version: Some("v1.99.0".into()),
            ..Faults::default()
        },
    ));
    assert_eq!(double.count(), docs.len());
    let addr = rt.block_on(apidouble::serve(Arc::clone(&double)));
    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = dir.path().join("kubeconfig");
    std::fs::write(
        &kubeconfig,
        apidouble::kubeconfig(addr, &double.token, false),
    )
    .unwrap();
    let out = kubeharden()
        .args(["cluster", "--no-config", "--format", "json", "--skip-rules"])
        .arg(skip.join(","))
        .arg("--kubeconfig")
        .arg(&kubeconfig)
        .output()
        .unwrap();
    let answer = Answer::of("cluster", out);
    // Every object was read (and the ClusterConnection and the server's KubernetesVersion
    // records added).
    assert_eq!(
        answer.report["summary"]["objects"].as_u64(),
        Some(docs.len() as u64 + 2),
        "{}",
        answer.report["summary"]
    );
    answer
}

fn counts(a: &Answer) -> String {
    format!(
        "{}: {} findings of {} rules on {} objects; scorecard {}",
        a.door,
        a.findings.len(),
        a.rules().len(),
        a.report["summary"]["objects"],
        a.scorecard
            .iter()
            .map(|s| format!("{}={}({})", s.section, s.status, s.findings))
            .collect::<Vec<_>>()
            .join(" ")
    )
}

/// Not vacuous: the door reports enough findings, of enough rules, on the objects expected, with
/// failing sections, and sees a whole cluster.
fn assert_substantial(a: &Answer) {
    let rules = a.rules();
    assert!(a.findings.len() >= 40 && rules.len() >= 15, "{}", counts(a));
    for rule in [
        "container-privileged",
        "pod-host-namespaces",
        "pod-hostpath-volume",
        "service-account-risky-permissions",
        "namespace-missing-default-deny-egress",
        "credential-in-config-data",
        "hardcoded-credential-in-env",
        "anonymous-or-unauthenticated-binding",
        "workload-violates-namespace-pss",
        // A whole cluster: the absence of a runtime detector is a finding.
        "runtime-detection-missing",
    ] {
        assert!(
            rules.contains(rule),
            "{}: {rule} not reported: {rules:?}",
            a.door
        );
    }
    let privileged: BTreeSet<&str> = a
        .findings
        .iter()
        .filter(|f| f.rule == "container-privileged")
        .map(|f| f.name.as_str())
        .collect();
    assert_eq!(
        privileged,
        BTreeSet::from(["debug", "kube-proxy", "web"]),
        "{}",
        a.door
    );
    assert!(
        a.scorecard.iter().filter(|s| s.status == "fail").count() >= 5,
        "{}",
        counts(a)
    );
    assert!(
        a.report["summary"]["evidence"]["cluster-workloads"]
            .as_u64()
            .is_some_and(|n| n > 0),
        "{}: not seen as a whole cluster: {}",
        a.door,
        a.report["summary"]
    );
}

/// Exactly the same findings and scorecard, or the differences.
fn compare(a: &Answer, b: &Answer, problems: &mut Vec<String>) {
    if let Some(d) = diff(a.door, &a.findings, b.door, &b.findings) {
        problems.push(format!("findings: {d}"));
    }
    if let Some(d) = diff(a.door, &a.scorecard, b.door, &b.scorecard) {
        problems.push(format!("scorecard: {d}"));
    }
}

fn assert_one_answer(reference: &Answer, others: &[&Answer]) {
    println!("{}", counts(reference));
    let mut problems = Vec::new();
    for other in others {
        println!("{}", counts(other));
        compare(reference, other, &mut problems);
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn files_stdin_and_lists_give_one_answer() {
    let docs = documents();
    let files = files(&docs, SKIP);
    assert_substantial(&files);
    assert!(files.rules().contains("secret-values-in-manifest"));
    assert_one_answer(
        &files,
        &[
            &stdin(&docs, SKIP),
            &yaml_list(&docs, SKIP),
            &json_list(&docs, SKIP),
        ],
    );
}

/// The cluster door reads Secrets as metadata only (`crates/cluster/src/kinds.rs`,
/// `How::SecretMetadata`): it never sees a Secret's values, so `secret-values-in-manifest`,
/// which judges them, is skipped in every door here; see
/// `the_cluster_scores_secret_values_like_the_files` for what the engine does with it.
#[test]
fn the_cluster_gives_the_answer_of_the_files_and_lists() {
    let docs = documents();
    let skip = [SKIP, &["secret-values-in-manifest"]].concat();
    let files = files(&docs, &skip);
    let cluster = cluster(&docs, &skip);
    assert_substantial(&files);
    assert_substantial(&cluster);
    assert_one_answer(
        &files,
        &[&cluster, &json_list(&docs, &skip), &stdin(&docs, &skip)],
    );
}

/// With `secret-values-in-manifest` selected, the cluster door differs from the files in exactly
/// one honest way: it reads Secrets as metadata only, so it reports none of their values and says
/// so (section 14 does not count the rule as assessed, and names why), where the files report the
/// values of the two Secrets (`shop/web-db` `/data`, `webshop/db` `/stringData`). Everything
/// else is the same answer.
#[test]
fn the_cluster_says_it_did_not_read_secret_values() {
    let docs = documents();
    let files = files(&docs, SKIP);
    let cluster = cluster(&docs, SKIP);
    let values = |a: &Answer| -> Vec<String> {
        a.findings
            .iter()
            .filter(|f| f.rule == "secret-values-in-manifest")
            .map(|f| format!("{}/{}{}", f.namespace, f.name, f.pointer))
            .collect()
    };
    assert_eq!(
        values(&files),
        ["shop/web-db/data", "webshop/db/stringData"]
    );
    assert_eq!(values(&cluster), Vec::<String>::new());
    let others = |a: &Answer| -> Vec<Norm> {
        a.findings
            .iter()
            .filter(|f| f.rule != "secret-values-in-manifest")
            .cloned()
            .collect()
    };
    assert_eq!(
        diff("files", &others(&files), "cluster", &others(&cluster)),
        None
    );
    for (f, c) in files.scorecard.iter().zip(&cluster.scorecard) {
        if f.section != "14" {
            assert_eq!(f, c);
            continue;
        }
        assert!(
            f.assessed.iter().any(|r| r == "secret-values-in-manifest"),
            "{f}"
        );
        assert!(
            !c.assessed.iter().any(|r| r == "secret-values-in-manifest"),
            "{c}"
        );
        assert!(
            c.missing.iter().any(|m| m
                == "secret-values-in-manifest: Secret values are not read (metadata only, by design); scan the manifests for committed values"),
            "{c}"
        );
        assert_eq!(c.findings, f.findings - 2, "{f}\n{c}");
    }
}

/// An AdmissionReview (`admission.k8s.io/v1`, CREATE) of an object as the API server holds it.
fn admission_review(uid: &str, object: &Value) -> Value {
    let (group, version) = match object["apiVersion"].as_str().unwrap().rsplit_once('/') {
        Some((g, v)) => (g, v),
        None => ("", object["apiVersion"].as_str().unwrap()),
    };
    let kind = object["kind"].as_str().unwrap();
    let namespace = object["metadata"]["namespace"].as_str().unwrap_or("");
    // A resource name of the right shape; the webhook does not read it.
    let resource = format!("{}s", kind.to_ascii_lowercase());
    json!({
        "apiVersion": "admission.k8s.io/v1",
        "kind": "AdmissionReview",
        "request": {
            "uid": uid,
            "kind": {"group": group, "version": version, "kind": kind},
            "resource": {"group": group, "version": version, "resource": resource},
            "requestKind": {"group": group, "version": version, "kind": kind},
            "name": object["metadata"]["name"],
            "namespace": namespace,
            "operation": "CREATE",
            "userInfo": {"username": "alice@example.com", "groups": ["system:authenticated"]},
            "object": object,
            "oldObject": null,
            "dryRun": false,
            "options": {"apiVersion": "meta.k8s.io/v1", "kind": "CreateOptions"}
        }
    })
}

/// The webhook with its built-in modes (critical and high deny, medium and low warn, info
/// audits), the skipped rules that run at admission turned off.
fn webhook_policy() -> Policy {
    let off: Vec<String> = SKIP
        .iter()
        .filter(|id| {
            kubeharden_engine::rules::find(id)
                .is_some_and(kubeharden_webhook::policy::runs_at_admission)
        })
        .map(|id| format!("  {id}: \"off\"\n"))
        .collect();
    let text = if off.is_empty() {
        String::new()
    } else {
        format!("ruleModes:\n{}", off.concat())
    };
    Policy::parse(&text, "doors", Path::new(".")).unwrap()
}

/// Per-pod-template rules that judge a workload against another object: they run at admission
/// but never fire there, the other object not being in the request (crates/webhook/README.md:
/// "`workload-violates-namespace-pss` never fires at admission (the Namespace is not in the
/// request; the API server's own Pod Security admission does that check)").
const NEEDS_ANOTHER_OBJECT: &[&str] = &["workload-violates-namespace-pss"];

/// The webhook door: each object, as the API server holds it, in an AdmissionReview (CREATE)
/// through `POST /validate`'s processing (`validate_body`, the handler without HTTP and TLS):
/// the findings it judges are the findings of the files door for the rules it runs, and its
/// denial and warnings name them with their messages.
#[test]
fn the_webhook_gives_the_per_object_findings_of_a_scan() {
    let docs = documents();
    let files = files(&docs, SKIP);
    assert_substantial(&files);
    let stored: Vec<Value> = get_all(&docs)["items"].as_array().unwrap().clone();
    let policy = webhook_policy();
    for r in &policy.rules {
        assert!(
            matches!(
                r.check,
                kubeharden_engine::rules::Check::Object(_)
                    | kubeharden_engine::rules::Check::PodTemplate(_)
            ),
            "{} runs at admission",
            r.id
        );
    }
    let admitted: BTreeSet<&str> = policy
        .rules
        .iter()
        .map(|r| r.id)
        .filter(|id| !NEEDS_ANOTHER_OBJECT.contains(id))
        .collect();
    for id in NEEDS_ANOTHER_OBJECT {
        assert!(
            files.rules().contains(id),
            "{id} not reported by the files door"
        );
    }
    let reviewer = Reviewer::new(policy);

    // What the files door reports for the rules the webhook runs, per object.
    let key = |kind: &str, ns: &str, name: &str| (kind.to_owned(), ns.to_owned(), name.to_owned());
    let mut expected: BTreeMap<(String, String, String), Vec<Norm>> = BTreeMap::new();
    for f in files
        .findings
        .iter()
        .filter(|f| admitted.contains(f.rule.as_str()))
    {
        expected
            .entry(key(&f.kind, &f.namespace, &f.name))
            .or_default()
            .push(f.clone());
    }
    let severity: BTreeMap<&str, kubeharden_engine::finding::Severity> =
        kubeharden_engine::rules::all()
            .iter()
            .map(|r| (r.id, r.severity))
            .collect();

    let mut got_all = Vec::new();
    let mut want_all = Vec::new();
    let mut problems = Vec::new();
    let (mut denied, mut warned) = (0, 0);
    for (i, object) in stored.iter().enumerate() {
        let k = key(
            object["kind"].as_str().unwrap(),
            object["metadata"]["namespace"].as_str().unwrap_or(""),
            object["metadata"]["name"].as_str().unwrap(),
        );
        let label = format!("{}/{}/{}", k.0, k.1, k.2);
        let body = serde_json::to_vec(&admission_review(&format!("uid-{i}"), object)).unwrap();

        // The findings the webhook judged.
        let review: ReviewIn<'_> = serde_json::from_slice(&body).unwrap();
        let request = review.request.unwrap();
        let decision = reviewer.review(&request).unwrap();
        let mut got: Vec<Norm> = decision
            .judged
            .iter()
            .map(|j| norm(&serde_json::to_value(&j.finding).unwrap()))
            .collect();
        got.sort();
        let mut want = expected.remove(&k).unwrap_or_default();
        want.sort();
        if let Some(diff) = diff("scan (files)", &want, &format!("webhook {label}"), &got) {
            problems.push(diff);
            continue;
        }

        // The answer on the wire (`POST /validate` without HTTP): a denial listing each
        // critical and high finding, a warning for each medium and low one.
        let answer: Value = serde_json::from_slice(
            &kubeharden_webhook::server::validate_body(&reviewer, &body).unwrap(),
        )
        .unwrap();
        let response = &answer["response"];
        assert_eq!(response["uid"], format!("uid-{i}"));
        let mode = |f: &Norm| reviewer.policy.mode(&f.rule, severity[f.rule.as_str()]);
        let deny: Vec<&Norm> = want.iter().filter(|f| mode(f) == Mode::Deny).collect();
        assert_eq!(response["allowed"], deny.is_empty(), "{label}: {response}");
        let message = response["status"]["message"].as_str().unwrap_or("");
        let listed = message
            .lines()
            .filter(|l| {
                l.split_once(". [")
                    .is_some_and(|(n, _)| n.parse::<u32>().is_ok())
            })
            .count();
        assert_eq!(listed, deny.len(), "{label}: {message}");
        for f in &deny {
            let at = if f.container.is_empty() {
                f.pointer.clone()
            } else {
                format!("{} (container \"{}\")", f.pointer, f.container)
            };
            let line = format!(
                "[{}] ({}) {at}: {}",
                f.rule,
                severity[f.rule.as_str()],
                f.message
            );
            assert!(
                message.contains(&line),
                "{label}: {line}\nnot in\n{message}"
            );
        }
        denied += deny.len();
        let mut warnings: Vec<String> = response["warnings"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|w| w.as_str().unwrap().to_owned())
            .collect();
        warnings.sort();
        let mut want_warnings: Vec<String> = want
            .iter()
            .filter(|f| mode(f) == Mode::Warn)
            .map(|f| {
                let w = format!("kubeharden [{}] {}", f.rule, f.message);
                if w.len() > kubeharden_webhook::review::MAX_WARNING_BYTES {
                    let mut end = kubeharden_webhook::review::MAX_WARNING_BYTES - '…'.len_utf8();
                    while !w.is_char_boundary(end) {
                        end -= 1;
                    }
                    format!("{}…", &w[..end])
                } else {
                    w
                }
            })
            .collect();
        want_warnings.sort();
        assert_eq!(warnings, want_warnings, "{label}");
        warned += warnings.len();
        let audited: BTreeSet<&str> = response["auditAnnotations"]["audit-findings"]
            .as_str()
            .unwrap_or("")
            .split(',')
            .filter(|s| !s.is_empty())
            .collect();
        let want_audited: BTreeSet<&str> = want
            .iter()
            .filter(|f| mode(f) == Mode::Audit)
            .map(|f| f.rule.as_str())
            .collect();
        assert_eq!(audited, want_audited, "{label}");

        got_all.extend(got);
        want_all.extend(want);
    }
    // Every per-object finding of the scan belongs to an admitted object.
    for (k, fs) in &expected {
        problems.push(format!(
            "scan findings on {k:?}, an object the webhook never saw: {fs:?}"
        ));
    }
    println!(
        "webhook: {} findings over {} objects ({denied} denying, {warned} warnings), {} rules; scan (files) per-object subset: {}",
        got_all.len(),
        stored.len(),
        got_all
            .iter()
            .map(|f| &f.rule)
            .collect::<BTreeSet<_>>()
            .len(),
        want_all.len()
    );
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    assert!(
        got_all.len() >= 25 && denied >= 5 && warned >= 10,
        "{} findings, {denied} denying, {warned} warnings",
        got_all.len()
    );
    assert!(got_all.iter().any(|f| f.rule == "container-privileged"));
}
