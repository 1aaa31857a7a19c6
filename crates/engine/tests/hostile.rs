//! Hostile and malformed inputs: each must end in a precise diagnostic (level, message, file,
//! line), quickly, without a panic, a hang or a stack overflow.

use kubeharden_engine::finding::Finding;
use kubeharden_engine::load::Input;
use kubeharden_engine::report::Report;
use kubeharden_engine::scan::scan_all;
use kubeharden_engine::source::{DiagLevel, Diagnostic};
use kubeharden_engine::yaml::MAX_DEPTH;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Generous for unoptimised builds on a slow, shared machine; real times are far below.
const FAST: Duration = Duration::from_secs(20);

fn scan_bytes(name: &str, bytes: impl Into<Vec<u8>>) -> Report {
    scan_bytes_within(name, bytes, FAST)
}

fn scan_bytes_within(name: &str, bytes: impl Into<Vec<u8>>, limit: Duration) -> Report {
    let input = Input::Bytes {
        name: name.to_owned(),
        bytes: Arc::from(bytes.into()),
    };
    let started = Instant::now();
    let report = scan_all(&[input]);
    let took = started.elapsed();
    assert!(took < limit, "{name}: scan took {took:?}");
    report
}

fn scan(name: &str, text: &str) -> Report {
    scan_bytes(name, text.as_bytes())
}

fn diags(report: &Report, level: DiagLevel) -> Vec<&Diagnostic> {
    report
        .diagnostics
        .iter()
        .filter(|d| d.level == level)
        .collect()
}

/// The only diagnostic of `level`, checked for origin, line and a message fragment.
fn expect_one(report: &Report, level: DiagLevel, origin: &str, line: u32, fragment: &str) {
    let found = diags(report, level);
    assert_eq!(
        found.len(),
        1,
        "{level:?} diagnostics: {:#?}",
        report.diagnostics
    );
    let d = found[0];
    assert_eq!(d.origin, origin, "{d:?}");
    assert_eq!(d.line, Some(line), "{d:?}");
    assert!(d.message.contains(fragment), "`{fragment}` not in {d:?}");
}

fn findings<'a>(report: &'a Report, rule: &str) -> Vec<&'a Finding> {
    report.findings.iter().filter(|f| f.rule == rule).collect()
}

fn no_errors(report: &Report) {
    assert!(
        diags(report, DiagLevel::Error).is_empty(),
        "{:#?}",
        report.diagnostics
    );
}

fn pod(security_context: &str) -> String {
    format!(
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n  - name: app\n    \
         image: registry.example/app@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\n    \
         securityContext:\n{security_context}"
    )
}

#[test]
fn alias_bomb_is_an_error_not_a_hang() {
    // Billion laughs: 9 levels of 10 aliases each = 10^9 nodes once expanded.
    let mut text = String::from("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: lol}\ndata:\n");
    text.push_str("  a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n");
    let mut prev = 'a';
    for c in 'b'..='j' {
        let refs = vec![format!("*{prev}"); 10].join(",");
        text.push_str(&format!("  {c}: &{c} [{refs}]\n"));
        prev = c;
    }
    let report = scan("bomb.yaml", &text);
    // The limit is crossed in the line of `g` (10^6 nodes and more).
    let errors = diags(&report, DiagLevel::Error);
    assert_eq!(errors.len(), 1, "{:#?}", report.diagnostics);
    assert_eq!(errors[0].origin, "bomb.yaml");
    assert!(
        (9..=14).contains(&errors[0].line.unwrap()),
        "{:?}",
        errors[0]
    );
    assert!(errors[0].message.contains("alias"), "{:?}", errors[0]);
    assert_eq!(report.summary.objects, 0);
}

#[test]
fn ten_megabyte_single_line_scalar_is_read_quickly() {
    let big = "x".repeat(10 * 1024 * 1024);
    for (style, value) in [
        ("plain", big.clone()),
        ("double-quoted", format!("\"{big}\"")),
        ("single-quoted", format!("'{big}'")),
    ] {
        let text = format!(
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: big\ndata:\n  blob: {value}\n"
        );
        let started = Instant::now();
        let report = scan(&format!("big-{style}.yaml"), &text);
        assert_eq!(
            report.summary.objects, 1,
            "{style}: {:#?}",
            report.diagnostics
        );
        no_errors(&report);
        println!("10 MB {style} scalar: {:?}", started.elapsed());
    }
}

#[test]
fn deep_flow_nesting_names_the_depth_limit() {
    let limit = format!("deeper than {MAX_DEPTH} levels");
    for (name, text) in [
        ("seq.yaml", "[".repeat(100_000)),
        (
            "closed-seq.yaml",
            format!("{}{}", "[".repeat(100_000), "]".repeat(100_000)),
        ),
        ("map.json", "{\"a\": ".repeat(100_000)),
        ("block-seq.yaml", "- ".repeat(100_000) + "x\n"),
    ] {
        let report = scan(name, &text);
        expect_one(&report, DiagLevel::Error, name, 1, &limit);
    }
}

#[test]
fn deep_block_mapping_names_the_depth_limit() {
    // `a:\n  a:\n    a:\n…`: indentation makes the text quadratic in the depth, so 2,000 levels
    // (4 MB) stand for any depth: parsing stops at the limit.
    let mut text = String::new();
    for depth in 0..2_000 {
        text.push_str(&" ".repeat(2 * depth));
        text.push_str("a:\n");
    }
    let report = scan("deep.yaml", &text);
    expect_one(
        &report,
        DiagLevel::Error,
        "deep.yaml",
        MAX_DEPTH as u32 + 1,
        &format!("deeper than {MAX_DEPTH} levels"),
    );
}

#[test]
fn aliases_cannot_build_a_tree_deeper_than_the_limit() {
    // Each anchor nests the previous one 200 levels deeper: 160 anchors would make a tree 32,000
    // levels deep from 64 KB of text (well under the node limit), enough to overflow the stack
    // of whatever walks it recursively (clone, drop, rules).
    let mut text = format!("a0: &a0 {}x{}\n", "[".repeat(200), "]".repeat(200));
    for i in 1..160 {
        text.push_str(&format!(
            "a{i}: &a{i} {}*a{}{}\n",
            "[".repeat(200),
            i - 1,
            "]".repeat(200)
        ));
    }
    // Run on a thread with a small stack, as rayon's workers have.
    let report = std::thread::Builder::new()
        .stack_size(1 << 20)
        .spawn(move || scan("alias-deep.yaml", &text))
        .unwrap()
        .join()
        .expect("scan panicked or overflowed");
    expect_one(
        &report,
        DiagLevel::Error,
        "alias-deep.yaml",
        2,
        &format!("deeper than {MAX_DEPTH} levels"),
    );
}

#[test]
fn nul_bytes_and_invalid_utf8() {
    let nul = scan_bytes(
        "nul.yaml",
        b"apiVersion: v1\nkind: Pod\nmetadata:\n  name: a\0b\n".to_vec(),
    );
    expect_one(&nul, DiagLevel::Error, "nul.yaml", 4, "NUL");
    let binary = scan_bytes("bin.yaml", b"a: 1\n\xff\xfe\x00\x00".to_vec());
    expect_one(&binary, DiagLevel::Error, "bin.yaml", 2, "NUL");
    let latin1 = scan_bytes("latin1.yaml", b"a: 1\nb: caf\xe9\n".to_vec());
    expect_one(&latin1, DiagLevel::Error, "latin1.yaml", 2, "invalid UTF-8");
    assert_eq!(latin1.diagnostics[0].column, Some(7));
}

#[test]
fn tab_in_indentation() {
    let report = scan(
        "tab.yaml",
        "apiVersion: v1\nkind: Pod\nmetadata:\n\tname: p\n",
    );
    expect_one(
        &report,
        DiagLevel::Error,
        "tab.yaml",
        4,
        "tab in indentation",
    );
}

#[test]
fn helm_templates_are_reported_as_templates() {
    // Fails to parse as YAML (`{{-` at the start of a line).
    let control =
        "{{- if .Values.enabled }}\napiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n{{- end }}\n";
    let report = scan("templates/pod.yaml", control);
    expect_one(&report, DiagLevel::Error, "templates/pod.yaml", 1, "Helm");
    // Parses as YAML (`{{ x }}` is a flow mapping whose key is a flow mapping), but is no more a
    // Kubernetes object than the above.
    let values = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: {{ .Values.name }}\nspec:\n  containers:\n  - name: app\n    image: {{ .Values.image }}\n";
    let report = scan("templates/values.yaml", values);
    let errors = diags(&report, DiagLevel::Error);
    assert!(!errors.is_empty(), "{:#?}", report.diagnostics);
    assert_eq!(errors[0].origin, "templates/values.yaml");
    assert_eq!(errors[0].line, Some(4), "{:?}", errors[0]);
    assert!(errors[0].message.contains("Helm"), "{:?}", errors[0]);
    // Template actions inside strings (Prometheus alerts, Argo) are ordinary text.
    let quoted = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n  annotations:\n    a: '{{ .x }}'\n    b: \"{{ .y }}\"\n    c: Pod {{ $labels.pod }} is down\n";
    no_errors(&scan("rule.yaml", quoted));
}

#[test]
fn duplicate_keys_warn_and_the_last_wins() {
    let text = pod("      privileged: false\n      privileged: true\n");
    let report = scan("dup.yaml", &text);
    expect_one(
        &report,
        DiagLevel::Warning,
        "dup.yaml",
        11,
        "duplicate key `privileged` (first at line 10)",
    );
    let fired = findings(&report, "container-privileged");
    assert_eq!(fired.len(), 1, "{:#?}", report.findings);
    assert_eq!(&*fired[0].location.origin, "dup.yaml");
    assert_eq!(fired[0].location.line, 11);
}

#[test]
fn yaml_1_1_booleans_fire_and_quoted_true_is_a_type_error() {
    for word in ["on", "yes", "y", "Y", "YES", "On", "true", "True"] {
        let report = scan("b.yaml", &pod(&format!("      privileged: {word}\n")));
        no_errors(&report);
        assert_eq!(
            findings(&report, "container-privileged").len(),
            1,
            "privileged: {word}"
        );
        assert!(
            diags(&report, DiagLevel::Warning).is_empty(),
            "{word}: {:#?}",
            report.diagnostics
        );
    }
    for word in ["off", "no", "n", "false"] {
        let report = scan("b.yaml", &pod(&format!("      privileged: {word}\n")));
        assert!(
            findings(&report, "container-privileged").is_empty(),
            "privileged: {word}"
        );
    }
    for quoted in ["\"true\"", "'true'", "\"yes\"", "!!str true"] {
        let report = scan("q.yaml", &pod(&format!("      privileged: {quoted}\n")));
        no_errors(&report);
        assert!(
            findings(&report, "container-privileged").is_empty(),
            "privileged: {quoted}: {:#?}",
            report.findings
        );
        expect_one(
            &report,
            DiagLevel::Warning,
            "q.yaml",
            10,
            "Kubernetes expects a boolean",
        );
    }
}

#[test]
fn overflowing_numbers_are_type_errors() {
    let report = scan("big.yaml", &pod("      runAsUser: 99999999999999999999\n"));
    no_errors(&report);
    expect_one(
        &report,
        DiagLevel::Warning,
        "big.yaml",
        10,
        "`securityContext.runAsUser` is number `99999999999999999999`, but Kubernetes expects an integer",
    );
    let report = scan(
        "big.yaml",
        "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  securityContext:\n    runAsUser: -99999999999999999999999999999999999999999\n  containers: []\n",
    );
    expect_one(
        &report,
        DiagLevel::Warning,
        "big.yaml",
        6,
        "expects an integer",
    );
}

#[test]
fn containers_as_a_mapping_is_a_warning() {
    let report = scan(
        "map.yaml",
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\nspec:\n  template:\n    spec:\n      containers: {}\n",
    );
    no_errors(&report);
    expect_one(
        &report,
        DiagLevel::Warning,
        "map.yaml",
        7,
        "`containers` is mapping, but Kubernetes expects a list",
    );
    // Containers that are not mappings either.
    let report = scan(
        "odd.yaml",
        "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers: [1, [], ~, \"x\"]\n  initContainers: x\n",
    );
    no_errors(&report);
}

#[test]
fn empty_documents_are_not_errors() {
    for (name, text) in [
        ("empty.yaml", ""),
        ("dashes.yaml", "---\n"),
        ("many-dashes.yaml", "---\n---\n---\n"),
        ("dots.yaml", "---\n...\n---\n...\n"),
        ("comments.yaml", "# nothing\n---\n# here\n"),
        ("blank.yaml", "\n\n   \n"),
        ("null.yaml", "---\n~\n---\nnull\n"),
        ("crlf.yaml", "---\r\n---\r\n"),
    ] {
        let report = scan(name, text);
        no_errors(&report);
        assert_eq!(report.summary.objects, 0, "{name}");
    }
}

#[test]
fn files_over_the_size_limit_are_skipped_with_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("huge.yaml");
    // Sparse: no disk space used, and never read.
    let file = std::fs::File::create(&path).unwrap();
    file.set_len(kubeharden_engine::load::MAX_FILE_BYTES + 1)
        .unwrap();
    drop(file);
    let report = scan_all(&[Input::File(path.clone())]);
    let errors = diags(&report, DiagLevel::Error);
    assert_eq!(errors.len(), 1, "{:#?}", report.diagnostics);
    assert_eq!(errors[0].origin, path.display().to_string());
    assert_eq!(errors[0].line, None);
    assert!(
        errors[0].message.contains("byte limit; skipped"),
        "{:?}",
        errors[0]
    );
}

#[test]
fn nested_anchors_cannot_copy_a_collection_once_per_level() {
    // Each anchor keeps a copy of its node: 250 anchors around a list of 100,000 items would be
    // 25 million nodes (gigabytes) from 200 KB of text. The copies count towards the node limit.
    let mut text = String::from("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: m}\ndata: ");
    for i in 0..250 {
        text.push_str(&format!("&a{i} ["));
    }
    text.push_str(&"1,".repeat(100_000));
    text.push_str(&"]".repeat(250));
    text.push('\n');
    let report = scan("anchors.yaml", &text);
    expect_one(
        &report,
        DiagLevel::Error,
        "anchors.yaml",
        4,
        "nodes into anchors and aliases",
    );
    // A few anchors around the same list are fine.
    let text = format!(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: m}}\ndata: &a {{list: &b [{}]}}\n",
        "1,".repeat(100_000)
    );
    no_errors(&scan("two-anchors.yaml", &text));
}

#[test]
fn merging_a_large_mapping_takes_linear_time() {
    // `<<: *a` of a mapping with 100,000 keys: quadratic merging took minutes.
    let mut text = String::from("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: m}\nx: &a {");
    for i in 0..100_000 {
        text.push_str(&format!("k{i}: v{i}, "));
    }
    text.push_str("}\ndata:\n  k7: own\n  <<: *a\n");
    let report = scan("merge.yaml", &text);
    no_errors(&report);
    assert_eq!(report.summary.objects, 1);
    let loaded = kubeharden_engine::load::load_bytes("merge.yaml", text.into_bytes());
    let data = loaded.objects[0].root.get("data").unwrap();
    assert_eq!(data.entries().len(), 100_000);
    // Explicit keys win over merged ones, wherever they are written.
    assert_eq!(data.get("k7").unwrap().as_str(), Some("own"));
    assert_eq!(data.get("k99999").unwrap().as_str(), Some("v99999"));
}

#[test]
fn many_documents_are_read_in_linear_time() {
    // The document count is bounded only by the file size limit; each document costs the same.
    let text: String = (0..20_000)
        .map(|i| format!("---\napiVersion: v1\nkind: ConfigMap\nmetadata: {{name: c{i}}}\n"))
        .collect();
    let report = scan("many.yaml", &text);
    no_errors(&report);
    assert_eq!(report.summary.objects, 20_000);
}

#[test]
fn errors_at_the_end_of_the_input_name_its_last_line() {
    // Without a final line break the YAML scanner reports the line after the last one.
    for (text, line, col) in [
        ("a: 1\nb", 2, 2),
        ("a: 1\nb\n", 2, 2),
        ("apiVersion: v1\nkind: Pod\n...\u{1a}", 3, 5),
    ] {
        let report = scan("end.yaml", text);
        let errors = diags(&report, DiagLevel::Error);
        assert_eq!(errors.len(), 1, "{text:?}: {:#?}", report.diagnostics);
        assert_eq!(
            (errors[0].line, errors[0].column),
            (Some(line), Some(col)),
            "{text:?}: {:?}",
            errors[0]
        );
    }
}

#[test]
fn many_labels_and_annotations_are_read_in_linear_time() {
    // Reading them was quadratic (the effective entries of a mapping): 10 s for 80,000 labels.
    let mut text = String::from("apiVersion: v1\nkind: Pod\nmetadata:\n  name: many\n  labels:\n");
    for i in 0..80_000 {
        text.push_str(&format!("    l{i}: v\n"));
    }
    text.push_str("  annotations:\n");
    for i in 0..36_000 {
        text.push_str(&format!("    example.com/a{i}: v\n"));
    }
    text.push_str("  labels: {app: last}\n");
    text.push_str(
        "spec: {containers: [{name: c, image: x, securityContext: {privileged: true}}]}\n",
    );
    let report = scan("many.yaml", &text);
    // The second `labels` wins, as in Kubernetes, and is reported.
    expect_one(
        &report,
        DiagLevel::Warning,
        "many.yaml",
        116_007,
        "duplicate key `labels`",
    );
    no_errors(&report);
    assert_eq!(findings(&report, "container-privileged").len(), 1);
}

#[test]
fn a_document_of_millions_of_tiny_nodes_is_refused_by_the_memory_limit() {
    // Three documents of 1.9 million one-character items (each under a document's node limit):
    // 3.8 MB of text and 76 MB of nodes each (before the limit and the smaller nodes, one took
    // 789 MB). What an input may take is crossed while the third list is read, at its line; the
    // other documents of the file are scanned.
    let mut text = String::new();
    for name in ["big-1", "big-2", "big-3"] {
        text.push_str(&format!(
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: {name}}}\ndata: ["
        ));
        text.push_str(&"1,".repeat(1_900_000));
        text.push_str("]\n---\n");
    }
    text.push_str(&pod("      privileged: true\n"));
    // 11 MB: 14 s unoptimised here, 3 times the usual bound.
    let report = scan_bytes_within("big.yaml", text, 3 * FAST);
    expect_one(
        &report,
        DiagLevel::Error,
        "big.yaml",
        14,
        "document exceeds the memory limit: this input's documents would need more than 206 MiB \
         (16 bytes per byte of its 11",
    );
    assert_eq!(report.summary.objects, 3);
    assert_eq!(findings(&report, "container-privileged").len(), 1);
}

#[test]
fn aliases_of_a_long_string_count_its_length() {
    // 60 aliases of a 1 MB string are 60 nodes but 60 MB: refused, where the alias is.
    let text = format!(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: m}}\nx: &a {}\ndata:\n{}",
        "x".repeat(1 << 20),
        (0..60).map(|i| format!("  k{i}: *a\n")).collect::<String>()
    );
    let report = scan("aliases.yaml", &text);
    let errors = diags(&report, DiagLevel::Error);
    assert_eq!(errors.len(), 1, "{:#?}", report.diagnostics);
    assert_eq!(errors[0].origin, "aliases.yaml");
    assert!(
        (20..=65).contains(&errors[0].line.unwrap()),
        "{:?}",
        errors[0]
    );
    assert!(
        errors[0]
            .message
            .starts_with("document exceeds the memory limit through aliases (alias bomb?)"),
        "{:?}",
        errors[0]
    );
    // A few are fine.
    let text = format!(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: m}}\nx: &a {}\ndata: {{a: *a, b: *a}}\n",
        "x".repeat(1 << 20)
    );
    no_errors(&scan("two-aliases.yaml", &text));
}

#[test]
fn json_is_read_as_kubectl_reads_it() {
    const POD: &str = r#"{"apiVersion":"v1","kind":"Pod","metadata":{"name":"a","namespace":"ops"},"spec":{"containers":[{"name":"c","image":"x:1","securityContext":{"privileged":true}}]}}"#;
    const CM: &str =
        r#"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"b","namespace":"ops"}}"#;
    // Two objects one after the other, on one line or not.
    for text in [
        format!("{POD}{CM}\n"),
        format!("{CM}\n{POD}"),
        format!("{CM} {POD}"),
    ] {
        let report = scan("two.json", &text);
        no_errors(&report);
        assert_eq!(report.summary.objects, 2, "{text}");
        let f = findings(&report, "container-privileged");
        assert_eq!(f.len(), 1);
        let line = text.lines().position(|l| l.contains("\"Pod\"")).unwrap() as u32 + 1;
        let col = text
            .lines()
            .nth(line as usize - 1)
            .unwrap()
            .find("\"privileged\"")
            .unwrap()
            + 1;
        assert_eq!(
            (f[0].location.line, f[0].location.column),
            (line, col as u32),
            "{text}"
        );
    }
    // Tabs after colons and in indentation (YAML forbids tabs in indentation, JSON does not).
    let text = "{\n\t\"apiVersion\":\t\"v1\",\n\t\"kind\":\t\"Pod\",\n\t\"metadata\":\t{\"name\":\t\"a\"},\n\t\"spec\":\t{\n\t\t\"containers\":\t[{\"name\": \"c\", \"image\": \"x:1\",\n\t\t\t\"securityContext\":\t{\"privileged\":\ttrue}}]\n\t}\n}\n";
    let report = scan("tabs.json", text);
    no_errors(&report);
    let f = findings(&report, "container-privileged");
    assert_eq!(f.len(), 1);
    assert_eq!((f[0].location.line, f[0].location.column), (7, 24));
    // What is not JSON is read as YAML, as before (flow YAML, or broken JSON with its error).
    let report = scan(
        "flow.json",
        "{apiVersion: v1, kind: ConfigMap, metadata: {name: c}}",
    );
    no_errors(&report);
    assert_eq!(report.summary.objects, 1);
    let report = scan("broken.json", &format!("{POD}{{\"apiVersion\":"));
    expect_one(&report, DiagLevel::Error, "broken.json", 1, "invalid YAML");
}
