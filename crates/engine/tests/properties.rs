//! Property: how a manifest is written never changes what the scan finds, only where.
//!
//! For every input (the repository's `examples/`, every rule's `fire.yaml`, and generated
//! workloads that spell values in many YAML 1.1 ways), many variants are scanned and must give
//! the same findings, compared as a multiset of (rule, severity, subject, pointer, message,
//! fingerprint, suppressed or not), and the same scorecard. Variants:
//!
//! - **reordered**: the documents in a random order;
//! - **reformatted**: every document re-emitted from the engine's own tree by a small emitter with
//!   random choices per node: indentation step (2 to 4), sequences indented or not, block or flow
//!   collections, plain, single- or double-quoted strings, literal block scalars, and non-string
//!   scalars as written (`on`, `0644`) or canonical (`true`, `420`). Comments and anchors are
//!   gone, aliases and merge keys expanded;
//! - **JSON**: each document as its own JSON input, or all of them as the items of a `v1 List`.
//!
//! Each variant is first checked to read as exactly the same values (`Node::to_json`, as
//! Kubernetes reads them), so a difference in findings is the scan's, not the emitter's.
//! Variations are drawn from a seeded generator (`fastrand`), so a failure names the seed and
//! reproduces; `KUBEHARDEN_PROPERTY_CASES` (default 6 per input) sets how many.

use fastrand::Rng;
use kubeharden_engine::finding::Finding;
use kubeharden_engine::load::Input;
use kubeharden_engine::packed;
use kubeharden_engine::report::Report;
use kubeharden_engine::scan::scan_all;
use kubeharden_engine::source::DiagLevel;
use kubeharden_engine::yaml::{self, Node, Resolved, Scalar, Style, Value};
use std::path::{Path, PathBuf};
use std::sync::Arc;

fn cases() -> u64 {
    std::env::var("KUBEHARDEN_PROPERTY_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(6)
}

// ---------------------------------------------------------------------------------------------
// Scanning and comparing.

fn scan_texts(texts: &[(String, String)]) -> Report {
    let inputs: Vec<Input> = texts
        .iter()
        .map(|(name, text)| Input::Bytes {
            name: name.clone(),
            bytes: Arc::from(text.as_bytes()),
        })
        .collect();
    scan_all(&inputs)
}

/// A finding without its location (origin, line, column, Helm source, snippet). `in_list`: the
/// variant wrapped the documents in a `List`, whose `/items/N` prefixes the pointers.
fn key(f: &Finding, in_list: bool) -> String {
    let s = &f.subject;
    let mut pointer: &str = &f.location.pointer;
    if in_list && let Some(rest) = pointer.strip_prefix("/items/") {
        pointer = rest.trim_start_matches(|c: char| c.is_ascii_digit());
    }
    // A finding about a file that is not an object (`kind: File`) is identified by the file's
    // name, which the JSON variant changes (`fire.yaml.json`): compare the rest.
    let file = s.kind == "File";
    format!(
        "{} {:?} {}/{}/{:?}/{}/{:?} {} | {} | {} | suppressed: {}",
        f.rule,
        f.severity,
        s.kind,
        s.api_version,
        s.namespace,
        if file { "" } else { &s.name },
        s.container,
        pointer,
        f.message,
        if file { "" } else { f.fingerprint.as_str() },
        f.suppressed_by.is_some()
    )
}

/// What must not change: findings (active and suppressed) and the scorecard.
fn outcome(report: &Report, in_list: bool) -> (Vec<String>, Vec<String>) {
    let mut findings: Vec<String> = report
        .findings
        .iter()
        .chain(&report.suppressed_findings)
        .map(|f| key(f, in_list))
        .collect();
    findings.sort();
    let scorecard = report
        .scorecard
        .iter()
        .map(|s| format!("{:?} {} {}", s.section, s.status.as_str(), s.findings))
        .collect();
    (findings, scorecard)
}

fn assert_same(
    what: &str,
    original: &Report,
    variant: &Report,
    in_list: bool,
    texts: &[(String, String)],
) {
    let (a, b) = (outcome(original, false), outcome(variant, in_list));
    if a == b {
        return;
    }
    let only = |x: &[String], y: &[String]| -> Vec<String> {
        x.iter().filter(|f| !y.contains(f)).cloned().collect()
    };
    let shown: String = texts
        .iter()
        .map(|(n, t)| format!("--- {n}\n{t}"))
        .collect::<Vec<_>>()
        .join("\n");
    panic!(
        "{what}: the findings changed.\nonly in the original: {:#?}\nonly in the variant: {:#?}\n\
         scorecard: {:?}\n      vs: {:?}\n{shown}",
        only(&a.0, &b.0),
        only(&b.0, &a.0),
        a.1,
        b.1
    );
}

// ---------------------------------------------------------------------------------------------
// A YAML emitter over the engine's tree.

struct Emitter<'r> {
    rng: &'r mut Rng,
    step: usize,
    seq_indented: bool,
    /// Percent of collections written in flow style.
    flow: u8,
}

/// Reads `text` as one document's root (None when it does not parse or is empty).
fn parse_one(text: &str) -> Option<Node> {
    let mut docs = yaml::parse_stream(text);
    if docs.len() != 1 {
        return None;
    }
    docs.pop()?.ok()?.root
}

/// A plain scalar `t` reads back as the string `t` (in flow or block context, as a value).
fn plain_reads_as(t: &str, flow: bool) -> bool {
    if t.is_empty() || t.trim() != t || t.contains(['\n', '\r', '\t', '#', '"', '\'']) {
        return false;
    }
    let doc = if flow {
        format!("k: [{t}]\n")
    } else {
        format!("k: {t}\n")
    };
    let Some(root) = parse_one(&doc) else {
        return false;
    };
    let v = if flow {
        root.get("k").and_then(|s| s.items().first())
    } else {
        root.get("k")
    };
    v.and_then(Node::scalar)
        .is_some_and(|s| s.style == Style::Plain && s.text == t && s.tag.is_none())
        && matches!(v.and_then(Node::resolve), Some(Resolved::Str(x)) if x == t)
}

fn double_quoted(t: &str) -> String {
    serde_json::to_string(t).unwrap()
}

/// A key: plain when it reads back as itself, else double-quoted. `<<` is always quoted (a plain
/// `<<` would merge).
fn key_text(k: &str, flow: bool) -> String {
    if k == "<<" {
        return double_quoted(k);
    }
    let doc = if flow {
        format!("{{{k}: x}}\n")
    } else {
        format!("{k}: x\n")
    };
    let plain_ok = !k.is_empty()
        && k.trim() == k
        && !k.contains(['\n', '\r', '\t', '#', '"', '\''])
        && parse_one(&doc).is_some_and(|r| r.entries().len() == 1 && r.entries()[0].key == k);
    if plain_ok {
        k.to_owned()
    } else {
        double_quoted(k)
    }
}

impl Emitter<'_> {
    fn string(&mut self, t: &str, flow: bool) -> String {
        match self.rng.u8(0..3) {
            0 if plain_reads_as(t, flow) => t.to_owned(),
            1 if !t.chars().any(char::is_control) => format!("'{}'", t.replace('\'', "''")),
            _ => double_quoted(t),
        }
    }

    /// A literal block scalar (`|`, `|-`, `|+`) for `t` at indentation `ind`, when `t` can be
    /// written as one.
    fn literal(&mut self, t: &str, ind: usize) -> Option<String> {
        let body = t.trim_end_matches('\n');
        let trailing = t.len() - body.len();
        if body.is_empty()
            || !body.contains('\n')
            || body.starts_with([' ', '\t'])
            || t.chars().any(|c| c.is_control() && c != '\n')
            || self.rng.bool()
        {
            return None;
        }
        let chomp = match trailing {
            0 => "-",
            1 => "",
            _ => "+",
        };
        let pad = " ".repeat(ind + self.step);
        let mut out = format!(" |{chomp}\n");
        for line in t.split_inclusive('\n') {
            let line = line.trim_end_matches('\n');
            if !line.is_empty() {
                out.push_str(&pad);
                out.push_str(line);
            }
            out.push('\n');
        }
        // `|-` drops the last line break, `|` keeps one, `|+` keeps the empty lines written above.
        Some(out)
    }

    fn scalar(&mut self, node: &Node, s: &Scalar, flow: bool) -> String {
        if let Some(tag) = &s.tag {
            let text = if s.style == Style::Plain && plain_reads_as(&s.text, flow) {
                s.text.to_string()
            } else {
                double_quoted(&s.text)
            };
            return format!("{tag} {text}");
        }
        match node.resolve() {
            Some(Resolved::Str(t)) => self.string(t, flow),
            // As written (`on`, `0644`, `~`) or canonical.
            _ if self.rng.bool() => s.text.to_string(),
            Some(Resolved::Null) | None => ["null", "~"][self.rng.usize(0..2)].to_owned(),
            Some(Resolved::Bool(b)) => b.to_string(),
            Some(Resolved::Int(i)) => i.to_string(),
            Some(Resolved::Float(_) | Resolved::Uint(_)) => s.text.to_string(),
        }
    }

    fn flow_node(&mut self, node: &Node) -> String {
        match &node.value {
            Value::Scalar(s) => self.scalar(node, s, true),
            Value::Seq(items) => {
                let parts: Vec<String> = items.iter().map(|i| self.flow_node(i)).collect();
                format!("[{}]", parts.join(", "))
            }
            Value::Map(entries) => {
                let parts: Vec<String> = entries
                    .iter()
                    .map(|e| format!("{}: {}", key_text(&e.key, true), self.flow_node(&e.value)))
                    .collect();
                format!("{{{}}}", parts.join(", "))
            }
        }
    }

    fn is_empty_collection(node: &Node) -> bool {
        match &node.value {
            Value::Seq(items) => items.is_empty(),
            Value::Map(entries) => entries.is_empty(),
            Value::Scalar(_) => false,
        }
    }

    /// What follows `key:` (or `-`) for `node`, whose parent is at indentation `ind`.
    fn after_key(&mut self, node: &Node, ind: usize) -> String {
        match &node.value {
            Value::Scalar(s) => {
                if s.tag.is_none()
                    && let Some(Resolved::Str(t)) = node.resolve()
                    && let Some(block) = self.literal(t, ind)
                {
                    return block;
                }
                format!(" {}\n", self.scalar(node, s, false))
            }
            _ if Self::is_empty_collection(node) || self.rng.u8(0..100) < self.flow => {
                format!(" {}\n", self.flow_node(node))
            }
            Value::Map(_) => format!("\n{}", self.block(node, ind + self.step)),
            Value::Seq(_) => {
                let at = if self.seq_indented {
                    ind + self.step
                } else {
                    ind
                };
                format!("\n{}", self.block(node, at))
            }
        }
    }

    /// A non-empty collection in block style at indentation `ind`.
    fn block(&mut self, node: &Node, ind: usize) -> String {
        let pad = " ".repeat(ind);
        let mut out = String::new();
        match &node.value {
            Value::Map(entries) => {
                for e in entries {
                    out.push_str(&pad);
                    out.push_str(&key_text(&e.key, false));
                    out.push(':');
                    let rest = self.after_key(&e.value, ind);
                    out.push_str(&rest);
                }
            }
            Value::Seq(items) => {
                for item in items {
                    out.push_str(&pad);
                    out.push('-');
                    let nested_block = !Self::is_empty_collection(item)
                        && !matches!(item.value, Value::Scalar(_))
                        && self.rng.u8(0..100) >= self.flow;
                    if nested_block {
                        // `- key: v` / `- - x`: the nested block's first line shares the dash's.
                        let inner = self.block(item, ind + 2);
                        out.push(' ');
                        out.push_str(&inner[ind + 2..]);
                    } else {
                        match &item.value {
                            Value::Scalar(_) => {
                                let rest = self.after_key(item, ind);
                                out.push_str(&rest);
                            }
                            _ => {
                                let flow = self.flow_node(item);
                                out.push_str(&format!(" {flow}\n"));
                            }
                        }
                    }
                }
            }
            Value::Scalar(_) => unreachable!(),
        }
        out
    }

    fn document(&mut self, root: &Node) -> String {
        match &root.value {
            Value::Scalar(s) => format!("{}\n", self.scalar(root, s, false)),
            _ if Self::is_empty_collection(root) || self.rng.u8(0..100) < self.flow => {
                format!("{}\n", self.flow_node(root))
            }
            _ => self.block(root, 0),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Inputs and variants.

/// The documents of an input that parse (roots only; empty documents dropped).
fn roots(text: &str) -> Vec<Node> {
    yaml::parse_stream(text)
        .into_iter()
        .filter_map(|d| d.ok()?.root)
        .collect()
}

fn json_of(roots: &[Node]) -> Vec<serde_json::Value> {
    roots.iter().map(Node::to_json).collect()
}

/// The variant must read as the same values, document for document.
fn assert_same_values(what: &str, original: &[serde_json::Value], texts: &[(String, String)]) {
    let mut reread: Vec<serde_json::Value> = Vec::new();
    for (_, t) in texts {
        reread.extend(json_of(&roots(t)));
    }
    let mut a: Vec<String> = original.iter().map(|v| v.to_string()).collect();
    let mut b: Vec<String> = reread.iter().map(|v| v.to_string()).collect();
    a.sort();
    b.sort();
    assert!(
        a == b,
        "{what}: the emitter changed values\n{}",
        texts
            .iter()
            .map(|(n, t)| format!("--- {n}\n{t}"))
            .collect::<String>()
    );
}

/// Scans `text` and its variants; every variant must give the same findings.
fn check_input(name: &str, text: &str, seed: u64) {
    let original = scan_texts(&[(name.to_owned(), text.to_owned())]);
    assert!(
        !original
            .diagnostics
            .iter()
            .any(|d| d.level == DiagLevel::Error),
        "{name}: {:#?}",
        original.diagnostics
    );
    let docs = roots(text);
    // A scan keeps some objects packed (`inventory::Retained`): every tree comes back as read.
    for doc in &docs {
        assert_eq!(&packed::unpack(&packed::pack(doc)), doc, "{name}");
    }
    let values = json_of(&docs);
    let mut rng = Rng::with_seed(seed);
    for case in 0..cases() {
        let what = |v: &str| format!("{name} (seed {seed}, case {case}): {v}");
        // Reordered.
        let mut order: Vec<usize> = (0..docs.len()).collect();
        rng.shuffle(&mut order);
        // Reordered and reformatted.
        let mut em = Emitter {
            step: rng.usize(2..=4),
            seq_indented: rng.bool(),
            flow: [0, 10, 40, 100][rng.usize(0..4)],
            rng: &mut rng,
        };
        let reformatted: String = order
            .iter()
            .map(|&i| format!("---\n{}", em.document(&docs[i])))
            .collect();
        let texts = vec![(format!("reformatted-{name}"), reformatted)];
        assert_same_values(&what("reformatted"), &values, &texts);
        assert_same(
            &what("reordered and reformatted"),
            &original,
            &scan_texts(&texts),
            false,
            &texts,
        );
        // JSON: one input per document, in a random order, or one List.
        let in_list = !rng.bool();
        let json: Vec<(String, String)> = if !in_list {
            order
                .iter()
                .map(|&i| {
                    (
                        format!("{name}-{i}.json"),
                        serde_json::to_string_pretty(&values[i]).unwrap(),
                    )
                })
                .collect()
        } else if values.iter().all(serde_json::Value::is_object) {
            let items: Vec<&serde_json::Value> = order.iter().map(|&i| &values[i]).collect();
            let list = serde_json::json!({"apiVersion": "v1", "kind": "List", "items": items});
            vec![(
                format!("{name}.json"),
                serde_json::to_string(&list).unwrap(),
            )]
        } else {
            continue;
        };
        assert_same(&what("JSON"), &original, &scan_texts(&json), in_list, &json);
    }
}

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn files_named(dir: &Path, file_name: &str, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            files_named(&p, file_name, out);
        } else if p.file_name().is_some_and(|n| n == file_name) {
            out.push(p);
        }
    }
}

fn seed_of(name: &str) -> u64 {
    kubeharden_engine::finding::fingerprint(&[name])
        .chars()
        .take(12)
        .fold(0u64, |h, c| h * 16 + u64::from(c.to_digit(16).unwrap()))
}

#[test]
fn examples_and_rule_fixtures_keep_their_findings_however_written() {
    let root = repo();
    let mut files = Vec::new();
    files_named(&root.join("examples"), "app.yaml", &mut files);
    files_named(
        &root.join("crates/engine/tests/fixtures/rules"),
        "fire.yaml",
        &mut files,
    );
    assert!(files.len() > 60, "{files:?}");
    for path in &files {
        let name = path.strip_prefix(&root).unwrap().display().to_string();
        let text = std::fs::read_to_string(path).unwrap();
        check_input(&name, &text, seed_of(&name));
    }
}

// ---------------------------------------------------------------------------------------------
// Generated workloads: the fields the rules read, spelled in many YAML 1.1 ways.

fn pick<'a>(rng: &mut Rng, options: &[&'a str]) -> &'a str {
    options[rng.usize(0..options.len())]
}

fn boolean(rng: &mut Rng) -> &'static str {
    pick(
        rng,
        &[
            "true", "false", "yes", "no", "on", "off", "True", "N", "\"true\"", "'false'",
        ],
    )
}

fn uid(rng: &mut Rng) -> &'static str {
    pick(rng, &["0", "1000", "00", "0x0", "10001", "\"0\"", "65534"])
}

fn security_context(rng: &mut Rng, ind: &str, container: bool) -> String {
    let mut out = String::new();
    if rng.bool() {
        out.push_str(&format!("{ind}runAsNonRoot: {}\n", boolean(rng)));
    }
    if rng.bool() {
        out.push_str(&format!("{ind}runAsUser: {}\n", uid(rng)));
    }
    if rng.bool() {
        let t = pick(
            rng,
            &[
                "RuntimeDefault",
                "Unconfined",
                "Localhost",
                "'RuntimeDefault'",
            ],
        );
        out.push_str(&format!("{ind}seccompProfile:\n{ind}  type: {t}\n"));
    }
    if container {
        for field in [
            "privileged",
            "allowPrivilegeEscalation",
            "readOnlyRootFilesystem",
        ] {
            if rng.bool() {
                out.push_str(&format!("{ind}{field}: {}\n", boolean(rng)));
            }
        }
        if rng.bool() {
            out.push_str(&format!("{ind}capabilities:\n"));
            if rng.bool() {
                let add = pick(
                    rng,
                    &["[SYS_ADMIN]", "[NET_ADMIN, NET_RAW]", "[]", "[CHOWN]"],
                );
                out.push_str(&format!("{ind}  add: {add}\n"));
            }
            if rng.bool() {
                let drop = pick(rng, &["[ALL]", "[all]", "[NET_RAW]", "[]", "['ALL']"]);
                out.push_str(&format!("{ind}  drop: {drop}\n"));
            }
        }
    }
    out
}

fn pod_spec(rng: &mut Rng, ind: &str) -> String {
    let mut out = String::new();
    for field in [
        "hostNetwork",
        "hostPID",
        "hostIPC",
        "automountServiceAccountToken",
    ] {
        if rng.u8(0..4) == 0 {
            out.push_str(&format!("{ind}{field}: {}\n", boolean(rng)));
        }
    }
    if rng.bool() {
        let sa = pick(rng, &["default", "app", "''"]);
        out.push_str(&format!("{ind}serviceAccountName: {sa}\n"));
    }
    if rng.bool() {
        let sc = security_context(rng, &format!("{ind}  "), false);
        if sc.is_empty() {
            out.push_str(&format!("{ind}securityContext: {{}}\n"));
        } else {
            out.push_str(&format!("{ind}securityContext:\n{sc}"));
        }
    }
    let host_path = rng.u8(0..3) == 0;
    if host_path {
        let path = pick(rng, &["/var/run/docker.sock", "/", "/etc", "/data"]);
        out.push_str(&format!(
            "{ind}volumes:\n{ind}- name: host\n{ind}  hostPath: {{path: {path}}}\n"
        ));
    }
    out.push_str(&format!("{ind}containers:\n"));
    for c in 0..rng.usize(1..=3) {
        let image = pick(
            rng,
            &[
                "nginx",
                "nginx:latest",
                "docker.io/library/nginx:1.27",
                "registry.example/app@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
            ],
        );
        out.push_str(&format!("{ind}- name: c{c}\n{ind}  image: {image}\n"));
        if rng.u8(0..4) == 0 {
            let port = pick(rng, &["80", "0x50", "'8080'"]);
            out.push_str(&format!(
                "{ind}  ports:\n{ind}  - containerPort: 80\n{ind}    hostPort: {port}\n"
            ));
        }
        if host_path && rng.bool() {
            out.push_str(&format!(
                "{ind}  volumeMounts:\n{ind}  - name: host\n{ind}    mountPath: /host\n"
            ));
        }
        if rng.bool() {
            let env = pick(rng, &["PASSWORD", "DB_PASSWORD", "MODE"]);
            let value = pick(rng, &["hunter2hunter2", "\"s3cr3t-Val!ue\"", "on"]);
            out.push_str(&format!(
                "{ind}  env:\n{ind}  - name: {env}\n{ind}    value: {value}\n"
            ));
        }
        if rng.u8(0..4) != 0 {
            let sc = security_context(rng, &format!("{ind}    "), true);
            if !sc.is_empty() {
                out.push_str(&format!("{ind}  securityContext:\n{sc}"));
            }
        }
    }
    out
}

/// A workload or a Namespace (each namespace declared at most once: of two Namespaces of one
/// name, the last applied wins, which does depend on the order).
fn workload(rng: &mut Rng, i: usize, declared: &mut Vec<&'static str>) -> String {
    let namespace = pick(rng, &["shop", "default", "kube-system"]);
    let mut annotations = String::new();
    if rng.u8(0..6) == 0 {
        let rule = pick(
            rng,
            &[
                "container-privileged",
                "pod-host-namespaces",
                "container-may-run-as-root",
            ],
        );
        annotations = format!("  annotations:\n    kubeharden.io/ignore: {rule}\n");
    }
    let head = |kind: &str, api: &str| {
        format!(
            "apiVersion: {api}\nkind: {kind}\nmetadata:\n  name: w{i}\n  namespace: {namespace}\n{annotations}"
        )
    };
    match rng.u8(0..4) {
        0 => format!("{}spec:\n{}", head("Pod", "v1"), pod_spec(rng, "  ")),
        1 => format!(
            "{}spec:\n  template:\n    spec:\n{}",
            head(
                pick(rng, &["Deployment", "DaemonSet", "StatefulSet"]),
                "apps/v1"
            ),
            pod_spec(rng, "      ")
        ),
        2 => format!(
            "{}spec:\n  schedule: '@daily'\n  jobTemplate:\n    spec:\n      template:\n        spec:\n{}",
            head("CronJob", "batch/v1"),
            pod_spec(rng, "          ")
        ),
        _ if declared.contains(&namespace) => {
            format!("{}spec:\n{}", head("Pod", "v1"), pod_spec(rng, "  "))
        }
        _ => {
            declared.push(namespace);
            let level = pick(rng, &["restricted", "baseline", "privileged"]);
            let version = pick(rng, &["latest", "v1.30", "'v1.33'"]);
            format!(
                "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {namespace}\n  labels:\n    \
                 pod-security.kubernetes.io/enforce: {level}\n    \
                 pod-security.kubernetes.io/enforce-version: {version}\n"
            )
        }
    }
}

#[test]
fn generated_workloads_keep_their_findings_however_written() {
    let mut rng = Rng::with_seed(0x6b75_6265);
    for n in 0..20 * cases() as usize {
        let seed = rng.u64(..);
        let mut gen_rng = Rng::with_seed(seed);
        let count = gen_rng.usize(1..=4);
        let mut declared = Vec::new();
        let text: String = (0..count)
            .map(|i| format!("---\n{}", workload(&mut gen_rng, n * 10 + i, &mut declared)))
            .collect();
        check_input(&format!("generated-{n}.yaml"), &text, seed);
    }
}
